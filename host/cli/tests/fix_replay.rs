//! `tickcross replay --trade` with one venue's orders over FIX 4.4 to the QuickFIX test acceptor
//! (`tests/fix/acceptor.cpp`, built on first use; needs libquickfix-dev): the trading report's
//! balances for that venue are its initial balances moved by exactly the fills in the acceptor's
//! fill log, and `journal verify` agrees with the report. With the acceptor busting and
//! correcting fills on cue (ExecType H and G, after the order is final), the balances are those
//! of the fills that stand, a journal rebuilt as `--resume` rebuilds it gives the same figures,
//! and the report counts the busts and corrections.

use rust_decimal::{Decimal, RoundingStrategy};
use tickcross_testkit::fix_acceptor::{standing_fills, Acceptor, AcceptorFill, AcceptorOptions};

mod common;
use common::{bin, ok, synthetic_capture, tempdir};

// order_timeout_ms is also how long the replay waits (wall time, simulated time standing still)
// for the FIX venue's reports: generous, so the run follows the acceptor's answers however busy
// the machine is, and only a hang runs into it (the simulated venues end their orders in
// milliseconds of simulated time, far below it); logon_timeout_s likewise
const CONFIG: &str = r#"
[trading]
min_profit = "0.5"
max_trade_qty = "0.2"
order_timeout_ms = 60000
unwind_retries = 2
unwind_retry_ms = 5
sharpe_interval_s = 1
seed = 3

[risk]
max_notional = "50000"
max_position = "0.5"
max_open_legs = 6
daily_loss_limit = "100000"
max_quote_age_ms = 400

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "v0"
protocol = "binance_sbe"
destination = "239.255.10.1:30001"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "1", taker_bps = "10", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001" } }

[venue.order_entry]
protocol = "fix44"
host = "127.0.0.1"
port = @PORT@
sender_comp_id = "TICKCROSS"
target_comp_id = "ACCEPTOR"
auth = { kind = "plain", username = "alice", password_file = "@DIR@/password" }
heartbeat_s = 30
logon_timeout_s = 60
seq_store = "@DIR@/fix-store"

[[venue]]
name = "v1"
protocol = "binance_sbe"
destination = "239.255.10.2:30002"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "2", taker_bps = "5", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.1", lot_size = "0.001" } }
sim = { latency_us = [300, 2500] }

[[venue]]
name = "v2"
protocol = "binance_sbe"
destination = "239.255.10.3:30003"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "2", taker_bps = "5", asset = "base" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.1", lot_size = "0.001" } }
sim = { latency_us = { choices = [400, 800, 3000] } }
"#;

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

#[test]
fn replay_trade_routes_one_venue_through_fix_and_the_report_matches_the_acceptors_fills() {
    let dir = tempdir("fix-replay");
    let pcap = synthetic_capture(&dir, 3000);
    let opts = AcceptorOptions {
        credentials: Some(("alice".into(), "s3cret".into())),
        // IOC orders above 0.05 BTC fill partly: the rest expires, and the engine unwinds
        liquidity: Some("0.05".parse().unwrap()),
        partials: 2,
        ..AcceptorOptions::default()
    };
    let acc = Acceptor::start(&dir.join("acceptor"), &opts).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("password"), "s3cret\n").unwrap();
    let config = dir.join("trade.toml");
    std::fs::write(
        &config,
        CONFIG
            .replace("@PORT@", &acc.port.to_string())
            .replace("@DIR@", &dir.display().to_string()),
    )
    .unwrap();
    let report = dir.join("report");
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--config"])
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    ok(&o, "replay --trade");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();

    let fills = acc.fills().unwrap();
    assert!(fills.iter().all(|f| f.exec_type == "F"), "{fills:?}");
    assert!(
        fills.len() >= 4,
        "too few FIX fills to mean much: {fills:?}\n{s:#}"
    );
    assert!(
        fills.iter().any(|f| f.side == "buy") && fills.iter().any(|f| f.side == "sell"),
        "{fills:?}"
    );
    // the acceptor's fills, booked by hand: quote amounts and 10 bps fees rounded to 8 places,
    // half to even, fees in the quote asset
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let (mut btc, mut usdt, mut volume) = (Decimal::from(1), Decimal::from(60000), Decimal::ZERO);
    for f in &fills {
        let quote = r8(f.qty * f.price);
        volume += quote;
        let fee = r8(quote * Decimal::from(10) / Decimal::from(10_000));
        match f.side.as_str() {
            "buy" => {
                btc += f.qty;
                usdt -= quote;
            }
            _ => {
                btc -= f.qty;
                usdt += quote;
            }
        }
        usdt -= fee;
    }
    let v0 = &s["venues"][0];
    assert_eq!(v0["name"], "v0");
    assert_eq!(dec(&v0["balances"]["BTC"]["end"]), btc, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["end"]), usdt, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["reserved"]), Decimal::ZERO);

    // the venue's traded volume (what fee tiers count) is the acceptor's fills' quote amounts
    assert_eq!(dec(&v0["volume"]), volume, "{v0:#}");
    // trades with a leg on v0 closed, some after an unwind of a partly filled IOC leg
    let trades: Vec<serde_json::Value> = std::fs::read_to_string(report.join("trades.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        trades
            .iter()
            .any(|t| t["buy_venue"] == "v0" || t["sell_venue"] == "v0"),
        "{trades:?}"
    );
    assert!(s["orders"]["expired"].as_u64().unwrap() > 0, "{s:#}");

    let o = bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    ok(&o, "journal verify");

    // resuming that journal is refused with a FIX venue (no order-status reconcile)
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--resume", "--config"])
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("order-status reconcile"), "{err}");
}

/// v0's balances (BTC, USDT) and traded volume from the acceptor's fills, booked by hand: quote
/// amounts and 10 bps fees in the quote asset rounded to 8 places, half to even.
fn book_by_hand(fills: &[AcceptorFill]) -> (Decimal, Decimal, Decimal) {
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let (mut btc, mut usdt, mut volume) = (Decimal::from(1), Decimal::from(60000), Decimal::ZERO);
    for f in fills {
        let quote = r8(f.qty * f.price);
        volume += quote;
        let fee = r8(quote * Decimal::from(10) / Decimal::from(10_000));
        match f.side.as_str() {
            "buy" => {
                btc += f.qty;
                usdt -= quote;
            }
            _ => {
                btc -= f.qty;
                usdt += quote;
            }
        }
        usdt -= fee;
    }
    (btc, usdt, volume)
}

/// A venue that takes nothing and says nothing: the journal is only replayed here.
struct Mute;

impl tickcross_trading::venue::Venue for Mute {
    fn submit(
        &mut self,
        _: &tickcross_trading::venue::OrderRequest,
        _: u64,
    ) -> Result<(), tickcross_trading::venue::VenueError> {
        Err(tickcross_trading::venue::VenueError::Disconnected)
    }
    fn cancel(&mut self, _: u64, _: u64) -> Result<(), tickcross_trading::venue::VenueError> {
        Err(tickcross_trading::venue::VenueError::Disconnected)
    }
    fn poll(
        &mut self,
        _: u64,
        _: &mut Vec<tickcross_trading::venue::VenueEvent>,
    ) -> Result<(), tickcross_trading::venue::VenueError> {
        Ok(())
    }
    fn connected(&self) -> bool {
        false
    }
    fn clock(&self) -> tickcross_trading::venue::VenueClock {
        tickcross_trading::venue::VenueClock::Simulated
    }
    fn next_due_ns(&self) -> Option<u64> {
        None
    }
}

#[test]
fn replay_trade_applies_the_acceptors_busts_and_corrections_to_the_books() {
    let dir = tempdir("fix-replay-busts");
    let pcap = synthetic_capture(&dir, 3000);
    let opts = AcceptorOptions {
        credentials: Some(("alice".into(), "s3cret".into())),
        liquidity: Some("0.05".parse().unwrap()),
        partials: 2,
        // every 3rd fill busted, every other one of the rest corrected, once the order is final
        bust_every: 3,
        correct_every: 2,
        ..AcceptorOptions::default()
    };
    let acc = Acceptor::start(&dir.join("acceptor"), &opts).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("password"), "s3cret\n").unwrap();
    let config = dir.join("trade.toml");
    std::fs::write(
        &config,
        CONFIG
            .replace("@PORT@", &acc.port.to_string())
            .replace("@DIR@", &dir.display().to_string()),
    )
    .unwrap();
    let report = dir.join("report");
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--config"])
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    ok(&o, "replay --trade");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();

    let log = acc.fills().unwrap();
    let count = |t: &str| log.iter().filter(|f| f.exec_type == t).count() as u64;
    let (trades, busts, corrections) = (count("F"), count("H"), count("G"));
    assert!(
        busts >= 1 && corrections >= 1,
        "the acceptor busted {busts} and corrected {corrections} of {trades} fills: {log:?}\n{s:#}"
    );
    let standing = standing_fills(&log);
    assert_eq!(standing.len() as u64, trades - busts);
    let (btc, usdt, volume) = book_by_hand(&standing);
    // the figures, for the record
    eprintln!(
        "acceptor: {trades} fills, {busts} busted, {corrections} corrected; v0 by hand: BTC {btc}, USDT {usdt}, volume {volume}; report: {:#}",
        s["corrections"]
    );
    let v0 = &s["venues"][0];
    assert_eq!(v0["name"], "v0");
    assert_eq!(dec(&v0["balances"]["BTC"]["end"]), btc, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["end"]), usdt, "{v0:#}");
    assert_eq!(dec(&v0["volume"]), volume, "{v0:#}");
    // the busted and corrected fills booked as they first were would not give these figures
    let as_filled: Vec<AcceptorFill> = log.iter().filter(|f| f.exec_type == "F").cloned().collect();
    assert_ne!(book_by_hand(&as_filled), (btc, usdt, volume));

    let c = &s["corrections"];
    assert_eq!(c["busts"].as_u64(), Some(busts), "{c:#}");
    assert_eq!(c["corrections"].as_u64(), Some(corrections), "{c:#}");
    assert_eq!(c["refused"].as_u64(), Some(0), "{c:#}");
    let text = std::fs::read_to_string(report.join("summary.txt")).unwrap();
    assert!(
        text.contains(&format!(
            "busted {busts}, corrected {corrections}, refused 0"
        )),
        "{text}"
    );
    // every closed trade says how many of its fills were busted and corrected
    let closed: Vec<serde_json::Value> = std::fs::read_to_string(report.join("trades.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    if s["trades_open"].as_u64() == Some(0) {
        let sum = |k: &str| closed.iter().map(|t| t[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!((sum("busts"), sum("corrections")), (busts, corrections));
    }

    // the independent re-derivation agrees (its balances, P&L, and the busts, corrections and
    // their P&L effect against the report)
    let o = bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    ok(&o, "journal verify");

    // the journal rebuilt as a restart rebuilds it (`--resume` itself is refused with a FIX
    // venue, for the orders in flight) holds the report's figures
    let copy = dir.join("journal-copy");
    std::fs::copy(report.join("journal"), &copy).unwrap();
    let contents = tickcross_trading::journal::read(&copy).unwrap();
    let Some(tickcross_trading::journal::Record::Header(h)) = contents.records.first() else {
        panic!("no header")
    };
    let cfg = tickcross::config::Config::load(&config).unwrap();
    let setup =
        tickcross_trading::run::setup_of(cfg.trading_inputs(), h.digest.clone(), None).unwrap();
    let venues: Vec<Box<dyn tickcross_trading::venue::Venue>> =
        vec![Box::new(Mute), Box::new(Mute), Box::new(Mute)];
    let (engine, _) =
        tickcross_trading::engine::Engine::resume(setup, venues, &copy, contents).unwrap();
    let st = engine.state();
    assert_eq!(st.ledger.balance(0, "BTC"), btc);
    assert_eq!(st.ledger.balance(0, "USDT"), usdt);
    assert_eq!(st.volume[0], volume);
    assert_eq!((st.stats.busts, st.stats.corrections), (busts, corrections));
    assert_eq!(st.pnl.realized, dec(&s["pnl"]["realized_net"]));
    assert_eq!(st.pnl.fees, dec(&s["pnl"]["fees"]));
    assert_eq!(st.stats.correction_pnl, dec(&c["pnl_effect"]));
    for v in 1..3 {
        for a in ["BTC", "USDT"] {
            assert_eq!(
                st.ledger.balance(v, a),
                dec(&s["venues"][v]["balances"][a]["end"])
            );
        }
    }
}
