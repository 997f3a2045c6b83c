//! A harness for trading scenarios: an engine with simulated venues over a book set by hand, a
//! clock moved by the test, events built from the book as the detector would report them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::str::FromStr;

use rust_decimal::Decimal;
use tickcross::config::Config;
use tickcross_core::event::Event;
use tickcross_core::quotes::QuoteEntry;
use tickcross_trading::engine::{Engine, State};
use tickcross_trading::journal::Record;
use tickcross_trading::money;
use tickcross_trading::run::{boxed, setup_of};
use tickcross_trading::simvenue::{MarketView, SharedMarket, SimVenue};
use tickcross_trading::venue::Side;

pub const MS: u64 = 1_000_000;
/// The harness clock starts here (fault windows count from it).
pub const T0: u64 = 1_700_000_000_000_000_000;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn p9(s: &str) -> i64 {
    tickcross_core::price9::parse(s).expect("price")
}

/// Three venues a, b, c trading BTC/USDT (taker 10 bps in quote, lot 0.001, 1 BTC and 60000
/// USDT each, latency 1 ms, order timeout 100 ms, unwind within 15 bps, 2 retries 10 ms apart),
/// and venue d with no market. `extra` is TOML appended to the `[trading]`/`[risk]` sections by
/// key replacement: each `key = value` line given replaces the same key of the base.
pub fn config(overrides: &[(&str, &str)], venue_extra: &[(&str, &str)]) -> String {
    let mut base = vec![
        ("min_profit", "\"0\""),
        ("min_profit_bps", "\"0\""),
        ("max_trade_qty", "\"0.1\""),
        ("order_timeout_ms", "100"),
        ("unwind_slippage_bps", "\"15\""),
        ("unwind_retries", "2"),
        ("unwind_retry_ms", "10"),
        ("sharpe_interval_s", "1"),
        ("max_notional", "\"1000000\""),
        ("max_position", "\"10\""),
        ("max_open_legs", "8"),
        ("daily_loss_limit", "\"100000\""),
        ("max_quote_age_ms", "1000"),
        ("venue_max_failures", "3"),
        ("venue_failure_window_ms", "60000"),
        ("venue_cool_off_ms", "1000"),
        ("rate_limit", "{ orders = 100, window_ms = 1000 }"),
    ];
    for (k, v) in overrides {
        match base.iter_mut().find(|(bk, _)| bk == k) {
            Some(e) => e.1 = v,
            None => panic!("unknown override {k}"),
        }
    }
    let get = |k: &str| base.iter().find(|(bk, _)| *bk == k).unwrap().1;
    let mut t = String::from("[trading]\n");
    for k in [
        "min_profit",
        "min_profit_bps",
        "max_trade_qty",
        "order_timeout_ms",
        "unwind_slippage_bps",
        "unwind_retries",
        "unwind_retry_ms",
        "sharpe_interval_s",
    ] {
        t += &format!("{k} = {}\n", get(k));
    }
    t += "\n[risk]\n";
    for k in [
        "max_notional",
        "max_position",
        "max_open_legs",
        "daily_loss_limit",
        "max_quote_age_ms",
        "venue_max_failures",
        "venue_failure_window_ms",
        "venue_cool_off_ms",
        "rate_limit",
    ] {
        t += &format!("{k} = {}\n", get(k));
    }
    t += "\n[[instrument]]\nname = \"BTC\"\nbase = \"BTC\"\nquote = \"USDT\"\n";
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        let mut v = format!(
            "\n[[venue]]\nname = \"{name}\"\nprotocol = \"binance_sbe\"\ndestination = \"239.1.1.{}:{}\"\n\
             symbols = {{ BTCUSDT = \"BTC\" }}\nfees = {{ maker_bps = \"0\", taker_bps = \"10\" }}\n\
             markets = {{ BTCUSDT = {{ tick_size = \"0.01\", lot_size = \"0.001\" }} }}\n",
            k + 1,
            5000 + k
        );
        let mut balances = "balances = { BTC = \"1\", USDT = \"60000\" }\n".to_string();
        let mut sim = "sim = { latency_us = 1000 }\n".to_string();
        for (vn, line) in venue_extra {
            if vn == name {
                if line.starts_with("balances") {
                    balances = format!("{line}\n");
                } else if line.starts_with("sim") {
                    sim = format!("{line}\n");
                } else {
                    v += &format!("{line}\n");
                }
            }
        }
        t += &v;
        t += &balances;
        t += &sim;
    }
    t += "\n[[venue]]\nname = \"d\"\nprotocol = \"binance_sbe\"\ndestination = \"239.1.1.4:5003\"\n\
          fees = { maker_bps = \"0\", taker_bps = \"10\" }\nbalances = { BTC = \"1\", USDT = \"60000\" }\n";
    t
}

/// Makes venue `name` of a [`config`] trade BTCUSD_PERP inverse contracts of `contract` USDT
/// each (lot 1 contract), with fees charged in `fee_asset` ("quote" or "base"), as Binance's
/// COIN-M market in examples/binance-trading.toml.
pub fn inverse_venue(cfg: &str, name: &str, contract: &str, fee_asset: &str) -> String {
    let start = cfg
        .find(&format!("name = \"{name}\""))
        .unwrap_or_else(|| panic!("no venue {name}"));
    let end = cfg[start..]
        .find("[[venue]]")
        .map_or(cfg.len(), |e| start + e);
    let block = cfg[start..end]
        .replace(
            "symbols = { BTCUSDT = \"BTC\" }",
            "symbols = { BTCUSD_PERP = \"BTC\" }",
        )
        .replace(
            "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }",
            &format!(
                "markets = {{ BTCUSD_PERP = {{ tick_size = \"0.1\", lot_size = \"1\", contract = {{ inverse = \"{contract}\" }} }} }}"
            ),
        )
        .replace(
            "fees = { maker_bps = \"0\", taker_bps = \"10\" }",
            &format!("fees = {{ maker_bps = \"0\", taker_bps = \"5\", asset = \"{fee_asset}\" }}"),
        );
    assert!(
        block.contains("BTCUSD_PERP"),
        "venue {name} not made inverse"
    );
    format!("{}{block}{}", &cfg[..start], &cfg[end..])
}

pub struct Harness {
    pub engine: Engine,
    pub market: SharedMarket,
    pub now: u64,
    seq: u64,
    pub records: Vec<Record>,
    pub initial: Vec<BTreeMap<String, Decimal>>,
    /// The largest |position| of instrument 0 seen after any step.
    pub max_abs_position: Decimal,
}

impl Harness {
    pub fn new(config_text: &str) -> Harness {
        Harness::with_kill_file(config_text, None)
    }

    pub fn with_kill_file(config_text: &str, kill_file: Option<std::path::PathBuf>) -> Harness {
        let cfg = Config::from_toml_str(config_text)
            .unwrap_or_else(|e| panic!("config:\n{e}\n{config_text}"));
        let setup = setup_of(cfg.trading_inputs(), "test".into(), kill_file).expect("setup");
        let market: SharedMarket = Rc::new(RefCell::new(MarketView::manual()));
        let venues = boxed(SimVenue::for_config(&setup.trade, &market, T0));
        let initial = setup
            .trade
            .venues
            .iter()
            .map(|v| v.balances.clone())
            .collect();
        let mut engine = Engine::new(setup, venues, None).expect("engine");
        engine.keep_records();
        Harness {
            engine,
            market,
            now: T0,
            seq: 0,
            records: Vec::new(),
            initial,
            max_abs_position: Decimal::ZERO,
        }
    }

    pub fn state(&self) -> &State {
        self.engine.state()
    }

    /// Sets venue `v`'s book (instrument 0) now.
    pub fn quote(&mut self, v: usize, bid: &str, bid_qty: &str, ask: &str, ask_qty: &str) {
        self.market.borrow_mut().set_quote(
            v,
            0,
            QuoteEntry {
                bid_price: p9(bid),
                bid_qty: p9(bid_qty),
                ask_price: p9(ask),
                ask_qty: p9(ask_qty),
                ts_ns: self.now,
                valid: true,
            },
        );
    }

    /// An event as the detector reports it: buy at `buy`'s ask, sell at `sell`'s bid, now.
    pub fn event(&mut self, buy: usize, sell: usize) {
        let m = self.market.borrow();
        let b = m.quote(buy, 0);
        let s = m.quote(sell, 0);
        drop(m);
        let ev = Event {
            seq: self.seq,
            instrument: 0,
            buy_venue: buy as u8,
            sell_venue: sell as u8,
            trigger_venue: buy as u8,
            trigger_sell: false,
            buy_price: b.ask_price,
            buy_qty: b.ask_qty,
            sell_price: s.bid_price,
            sell_qty: s.bid_qty,
            qty: b.ask_qty.min(s.bid_qty),
            ts_ns: self.now,
            buy_ts_ns: b.ts_ns,
            sell_ts_ns: s.ts_ns,
            cycles: None,
            feed_key: 0,
        };
        self.seq += 1;
        self.engine.on_event(&ev, self.now).expect("on_event");
        self.collect();
    }

    /// Runs venues and timers up to `t` (absolute).
    pub fn run_until(&mut self, t: u64) {
        while let Some(due) = self.engine.next_due() {
            if due > t {
                break;
            }
            self.now = self.now.max(due);
            self.engine.poll_venues(self.now).expect("poll");
            self.engine.on_timers(self.now).expect("timers");
            self.collect();
        }
        self.now = self.now.max(t);
    }

    /// Advances by `ms`.
    pub fn wait(&mut self, ms: u64) {
        let t = self.now + ms * MS;
        self.run_until(t);
    }

    /// Runs until no order is out and no trade open (a hang guard bounds it).
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.engine.has_orders_out() {
                return;
            }
            let Some(due) = self.engine.next_due() else {
                panic!("orders out but nothing due");
            };
            self.run_until(due);
        }
        panic!("did not settle");
    }

    fn collect(&mut self) {
        let r = self.engine.take_records();
        self.records.extend(r);
        self.check_conservation();
        let p = self.state().position(self.engine.setup(), 0).abs();
        self.max_abs_position = self.max_abs_position.max(p);
    }

    pub fn refused(&self, reason: &str) -> u64 {
        self.state()
            .refused
            .iter()
            .filter(|(r, _)| r.as_str() == reason)
            .map(|(_, n)| *n)
            .sum()
    }

    pub fn balance(&self, v: usize, asset: &str) -> Decimal {
        self.state().ledger.balance(v, asset)
    }

    /// Balances must equal the initial ones plus every fill and transfer in the records, fees
    /// taken: re-derived here from the records alone, after every step.
    pub fn check_conservation(&self) {
        let mut expect = self.initial.clone();
        let mut orders: BTreeMap<u64, (usize, Side, usize)> = BTreeMap::new();
        let setup = self.engine.setup();
        let add = |e: &mut Vec<BTreeMap<String, Decimal>>, v: usize, a: &str, x: Decimal| {
            *e[v].entry(a.to_string()).or_default() += x;
        };
        let mut transit: BTreeMap<u64, (usize, String, Decimal)> = BTreeMap::new();
        for r in &self.records {
            match r {
                Record::TradeOpen(t) => {
                    orders.insert(t.buy.id, (t.buy.venue, t.buy.side, t.instrument));
                    orders.insert(t.sell.id, (t.sell.venue, t.sell.side, t.instrument));
                }
                Record::Order(o) => {
                    orders.insert(o.id, (o.venue, o.side, o.instrument));
                }
                Record::Exec { report, fee, .. } if report.last_qty > Decimal::ZERO => {
                    let (v, side, inst) = orders[&report.order_id];
                    // venue units to base and quote: linear or inverse contracts
                    let m = setup.trade.venues[v].markets[inst]
                        .as_ref()
                        .expect("orders go to configured markets");
                    let (q, px) = (report.last_qty, report.last_price);
                    let (base, value) = (money::base_of(m, q, px), money::quote_of(m, q, px));
                    let (db, dq) = match side {
                        Side::Buy => (base, -value),
                        Side::Sell => (-base, value),
                    };
                    add(&mut expect, v, "BTC", db);
                    add(&mut expect, v, "USDT", dq);
                    if let Some(f) = fee {
                        add(&mut expect, v, &f.asset, -f.amount);
                    }
                }
                Record::TransferSent(t) => {
                    add(&mut expect, t.from, &t.asset, -(t.amount + t.fee));
                    transit.insert(t.id, (t.to, t.asset.clone(), t.amount));
                }
                Record::TransferArrived { id, .. } => {
                    let (to, a, x) = transit.remove(id).expect("known transfer");
                    add(&mut expect, to, &a, x);
                }
                _ => {}
            }
        }
        let st = self.state();
        for (v, e) in expect.iter().enumerate() {
            for (a, x) in e {
                assert_eq!(
                    st.ledger.balance(v, a),
                    *x,
                    "venue {v} {a}: ledger vs initial + fills - fees + transfers"
                );
                assert!(
                    st.ledger.reserved(v, a) >= Decimal::ZERO,
                    "negative reservation"
                );
            }
        }
    }
}
