//! The trading engine: detections in, orders out, every consequence booked.
//!
//! Every change of state is a journal record: the engine decides, writes the record, then
//! applies it to its state with [`State::apply`], and only then acts (sends the orders). A
//! restart applies the journal's records to a fresh state through the same function, so the
//! resumed engine holds exactly the balances, orders, trades, risk windows and P&L it had.
//!
//! Decision order for an event (the first failing check is the refusal counted):
//! 1. `not_traded` (a venue lacks the market), `unprofitable` (net of both legs' taker fees at
//!    the displayed size, capped by `max_trade_qty`, below `min_profit` or `min_profit_bps`).
//!    Events past these are *candidates*.
//! 2. `kill_switch`, `stale_quote`, `venue_down`, `venue_disabled`.
//! 3. Sizing by inventory: quote funds on the buy venue (fee included when charged in quote),
//!    base funds on the sell venue (likewise), the third fee asset if any, rounded to each
//!    venue's lot: `insufficient_inventory` or `below_min_size` when a leg falls below its
//!    minimum; then `below_min_profit` on the sized trade.
//! 4. `max_notional`, `max_position`, `max_open_legs`, `daily_loss`, `rate_limit`.
//!
//! Both legs then leave at once as IOC limit orders at the detected prices. When every order
//! of a trade is final and base is left over (a leg rejected, timed out, unfilled, or partly
//! filled), it is unwound at once on the venue that holds it (IOC at most
//! `unwind_slippage_bps` worse than its entry price), retried `unwind_retries` times after
//! `unwind_retry_ms`; what remains then is reported as open exposure (`gave_up`). Residuals
//! below a venue's minimum order are closed as dust and stay in inventory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_decimal::Decimal;

use super::config::{FeeAsset, Market, TradeConfig};
use super::journal::{
    self, Header, Journal, JournalContents, JournalError, OrderRecord, Purpose, Record, Refused,
    Snapshot, TradeOpen,
};
use super::ledger::{Ledger, Transfer};
use super::money::{
    base_of, bps, fill_deltas, price9_to_decimal, quote_of, round_amount, to_tick, units_for_base,
    FeeCharge,
};
use super::pnl::{ClosedTrade, Flows, PnlBook};
use super::risk::{utc_day, Refusal, VenueRisk};
use super::venue::{
    ExecKind, ExecReport, OrderId, OrderRequest, Side, Venue, VenueClock, VenueEvent,
};
use tickcross_core::event::Event;

/// Set from a signal handler (SIGUSR1) or a command: the kill switch, checked before every
/// order decision.
pub static KILL_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_kill_signal(_: libc::c_int) {
    KILL_REQUESTED.store(true, Ordering::SeqCst);
}

/// Makes SIGUSR1 turn the kill switch on (`tickcross kill --pid`).
pub fn install_kill_signal() {
    let handler = on_kill_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGUSR1, handler as libc::sighandler_t);
    }
}

/// What the engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    pub trade: TradeConfig,
    pub venue_names: Vec<String>,
    pub instrument_names: Vec<String>,
    /// Digest of the config and inputs; a journal resumes only with the same.
    pub digest: String,
    /// The kill switch is on while this file exists.
    pub kill_file: Option<PathBuf>,
}

impl EngineSetup {
    fn market(&self, venue: usize, instrument: usize) -> Option<&Market> {
        self.trade
            .venues
            .get(venue)
            .and_then(|v| v.markets.get(instrument))
            .and_then(Option::as_ref)
    }

    /// The journal header of a run with this setup.
    pub fn header(&self) -> Header {
        Header {
            version: journal::VERSION,
            digest: self.digest.clone(),
            venues: self.venue_names.clone(),
            instruments: self
                .instrument_names
                .iter()
                .zip(&self.trade.instruments)
                .map(|(n, a)| (n.clone(), a.base.clone(), a.quote.clone()))
                .collect(),
            inverse: self
                .trade
                .venues
                .iter()
                .map(|v| {
                    v.markets
                        .iter()
                        .map(|m| match m.as_ref().map(|m| m.contract) {
                            Some(super::config::Contract::Inverse { quote_per_contract }) => {
                                Some(quote_per_contract)
                            }
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
            initial_balances: self
                .trade
                .venues
                .iter()
                .map(|v| v.balances.clone())
                .collect(),
            fees: self
                .trade
                .venues
                .iter()
                .map(|v| journal::HeaderFees {
                    taker_bps: v.fees.taker_bps,
                    asset: match &v.fees.asset {
                        FeeAsset::Quote => journal::FeeIn::Quote,
                        FeeAsset::Base => journal::FeeIn::Base,
                        FeeAsset::Other { asset, price } => journal::FeeIn::Other {
                            asset: asset.clone(),
                            price: *price,
                        },
                    },
                    volume_30d: v.fees.volume_30d,
                    tiers: v
                        .fees
                        .tiers
                        .iter()
                        .map(|t| (t.volume, t.taker_bps))
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("journal does not belong to this run: {0}")]
    Mismatch(String),
    #[error("venue {venue}: {msg}")]
    Venue { venue: String, msg: String },
}

/// How an order ended, beyond its last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEnd {
    Report(ExecKind),
    /// Neither the order nor its cancel was answered in time.
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub rec: OrderRecord,
    pub cum_qty: Decimal,
    pub reports: usize,
    pub end: Option<OrderEnd>,
    /// Timeout of the order (or of its cancel, once sent).
    pub deadline: u64,
    pub cancel_sent: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeState {
    pub open: TradeOpen,
    pub flows: Flows,
    pub orders: Vec<OrderId>,
    pub unwind_orders: u32,
    pub missed_tries: u32,
    pub next_unwind: Option<u64>,
    pub legs_filled: u32,
    /// What the trade's fills changed the base asset's total by so far (fees in it included).
    pub base_delta: Decimal,
}

/// A candidate as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateLine {
    pub ts_ns: u64,
    pub event_seq: u64,
    pub instrument: usize,
    pub buy_venue: usize,
    pub sell_venue: usize,
    pub buy_price: Decimal,
    pub sell_price: Decimal,
    pub base_qty: Decimal,
    pub gross: Decimal,
    pub fees: Decimal,
    pub net: Decimal,
    /// "traded" or a refusal reason.
    pub outcome: String,
    pub trade_id: Option<u64>,
}

/// Counts that are not money.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub orders_sent: u64,
    pub unwind_orders: u64,
    pub fills: u64,
    pub partial_fills: u64,
    pub rejects: u64,
    pub expired: u64,
    pub canceled: u64,
    pub timeouts: u64,
    pub orders_lost: u64,
    pub venue_disables: u64,
    pub venue_outages: u64,
    pub gave_up: u64,
    pub dust_closes: u64,
    pub transfers: u64,
    pub transfer_fees: BTreeMap<String, Decimal>,
}

/// The engine's whole state, rebuilt from the journal on a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub ledger: Ledger,
    pub initial: Vec<BTreeMap<String, Decimal>>,
    pub orders: BTreeMap<OrderId, OrderState>,
    pub trades: BTreeMap<u64, TradeState>,
    pub risk: Vec<VenueRisk>,
    /// Per venue: 30-day volume (quote), for the fee tier.
    pub volume: Vec<Decimal>,
    pub next_order_id: OrderId,
    pub next_trade_id: u64,
    pub next_transfer_id: u64,
    pub last_event_seq: Option<u64>,
    pub events: u64,
    pub refused: BTreeMap<Refusal, u64>,
    pub candidates: Vec<CandidateLine>,
    pub killed: bool,
    pub pnl: PnlBook,
    pub transfers: Vec<Transfer>,
    pub stats: Stats,
    pub first_ts: Option<u64>,
    pub last_ts: u64,
    /// Orders not final (kept as a count: the risk check reads it on every candidate).
    open_count: usize,
}

impl State {
    fn new(setup: &EngineSetup) -> State {
        let initial: Vec<_> = setup
            .trade
            .venues
            .iter()
            .map(|v| v.balances.clone())
            .collect();
        State {
            ledger: Ledger::new(&initial),
            initial,
            orders: BTreeMap::new(),
            trades: BTreeMap::new(),
            risk: vec![VenueRisk::default(); setup.trade.venues.len()],
            volume: setup
                .trade
                .venues
                .iter()
                .map(|v| v.fees.volume_30d)
                .collect(),
            next_order_id: 1,
            next_trade_id: 1,
            next_transfer_id: 1,
            last_event_seq: None,
            events: 0,
            refused: BTreeMap::new(),
            candidates: Vec::new(),
            killed: false,
            pnl: PnlBook::default(),
            transfers: Vec::new(),
            stats: Stats::default(),
            first_ts: None,
            last_ts: 0,
            open_count: 0,
        }
    }

    fn saw_event(&mut self, seq: u64) {
        self.last_event_seq = Some(self.last_event_seq.map_or(seq, |s| s.max(seq)));
    }

    fn add_order(&mut self, o: &OrderRecord, timeout: u64) {
        self.ledger
            .reserve(o.id, o.venue, &o.reserve_asset, o.reserve);
        if let Some(r) = self.risk.get_mut(o.venue) {
            r.record_sent(o.sent_ns);
        }
        self.next_order_id = self.next_order_id.max(o.id + 1);
        self.stats.orders_sent += 1;
        self.open_count += 1;
        self.orders.insert(
            o.id,
            OrderState {
                rec: o.clone(),
                cum_qty: Decimal::ZERO,
                reports: 0,
                end: None,
                deadline: o.sent_ns + timeout,
                cancel_sent: None,
            },
        );
    }

    /// Net base position of an instrument's base asset across venues (in transit included),
    /// against the initial balances.
    pub fn position(&self, setup: &EngineSetup, instrument: usize) -> Decimal {
        let base = &setup.trade.instruments[instrument].base;
        let initial: Decimal = self
            .initial
            .iter()
            .map(|b| b.get(base).copied().unwrap_or_default())
            .sum();
        self.ledger.total(base) - initial
    }

    /// The range the position of an instrument's base asset can reach before every open trade
    /// is closed: the booked position without what open trades have done so far, plus each
    /// open trade's worst case either way (its buy leg's base filling alone; its sell leg's
    /// base, with a fee in base, filling alone). A trade never leaves that range: its legs fill
    /// at most their base size, and an unwind trades at most the residual, toward zero.
    pub fn position_range(&self, setup: &EngineSetup, instrument: usize) -> (Decimal, Decimal) {
        let pos = self.position(setup, instrument);
        let base = &setup.trade.instruments[instrument].base;
        let (mut lo, mut hi) = (pos, pos);
        for t in self
            .trades
            .values()
            .filter(|t| t.open.instrument == instrument)
        {
            hi += t.open.buy.base_qty - t.base_delta;
            let sell = if t.open.sell.reserve_asset == *base {
                t.open.sell.reserve.max(t.open.sell.base_qty)
            } else {
                t.open.sell.base_qty
            };
            lo -= sell + t.base_delta;
        }
        (lo, hi)
    }

    pub fn open_orders(&self) -> usize {
        self.open_count
    }

    pub fn snapshot(&self, setup: &EngineSetup, ts_ns: u64) -> Snapshot {
        let mut in_transit = BTreeMap::new();
        for t in self.ledger.in_transit() {
            *in_transit.entry(t.asset.clone()).or_insert(Decimal::ZERO) += t.amount;
        }
        Snapshot {
            ts_ns,
            balances: self.ledger.balances().to_vec(),
            in_transit,
            realized_pnl: self.pnl.realized,
            fees: self.pnl.fees,
            trades_closed: self.pnl.closed.len() as u64,
            positions: (0..setup.instrument_names.len())
                .map(|i| self.position(setup, i))
                .collect(),
        }
    }

    /// Applies one record. Records come from this engine (live) or its journal (restart).
    pub fn apply(&mut self, rec: &Record, setup: &EngineSetup) {
        let timeout = setup.trade.params.order_timeout_ns;
        let ts = record_ts(rec);
        if let Some(t) = ts {
            self.last_ts = self.last_ts.max(t);
            self.first_ts.get_or_insert(t);
        }
        match rec {
            Record::Header(_) | Record::Snapshot(_) => {}
            Record::Progress {
                last_event_seq,
                events,
                refused,
                ..
            } => {
                self.events += events;
                for (k, n) in refused {
                    if let Some(r) = Refusal::parse(k) {
                        *self.refused.entry(r).or_default() += n;
                    }
                }
                self.saw_event(*last_event_seq);
            }
            Record::Refused(r) => {
                self.events += 1;
                if let Some(x) = Refusal::parse(&r.reason) {
                    *self.refused.entry(x).or_default() += 1;
                }
                self.saw_event(r.event_seq);
                self.candidates.push(CandidateLine {
                    ts_ns: r.ts_ns,
                    event_seq: r.event_seq,
                    instrument: r.instrument,
                    buy_venue: r.buy_venue,
                    sell_venue: r.sell_venue,
                    buy_price: r.buy_price,
                    sell_price: r.sell_price,
                    base_qty: r.base_qty,
                    gross: r.gross,
                    fees: r.fees,
                    net: r.net,
                    outcome: r.reason.clone(),
                    trade_id: None,
                });
            }
            Record::TradeOpen(t) => {
                self.events += 1;
                self.saw_event(t.event_seq);
                self.add_order(&t.buy, timeout);
                self.add_order(&t.sell, timeout);
                self.next_trade_id = self.next_trade_id.max(t.trade_id + 1);
                self.candidates.push(CandidateLine {
                    ts_ns: t.ts_ns,
                    event_seq: t.event_seq,
                    instrument: t.instrument,
                    buy_venue: t.buy_venue,
                    sell_venue: t.sell_venue,
                    buy_price: t.buy.detected_price,
                    sell_price: t.sell.detected_price,
                    base_qty: t.base_qty,
                    gross: t.gross,
                    fees: t.fees,
                    net: t.net,
                    outcome: "traded".into(),
                    trade_id: Some(t.trade_id),
                });
                self.trades.insert(
                    t.trade_id,
                    TradeState {
                        open: t.clone(),
                        flows: Flows::default(),
                        orders: vec![t.buy.id, t.sell.id],
                        unwind_orders: 0,
                        missed_tries: 0,
                        next_unwind: None,
                        legs_filled: 0,
                        base_delta: Decimal::ZERO,
                    },
                );
            }
            Record::Order(o) => {
                self.add_order(o, timeout);
                self.stats.unwind_orders += 1;
                if let Some(t) = self.trades.get_mut(&o.trade_id) {
                    t.orders.push(o.id);
                    t.unwind_orders += 1;
                    t.next_unwind = None;
                }
            }
            Record::Exec {
                ts_ns,
                venue,
                report,
                fee,
            } => self.apply_exec(setup, *ts_ns, *venue, report, fee.as_ref()),
            Record::CancelSent {
                ts_ns,
                order_id,
                why,
            } => {
                let mut venue = None;
                if let Some(o) = self.orders.get_mut(order_id) {
                    o.cancel_sent = Some(*ts_ns);
                    o.deadline = ts_ns + timeout;
                    venue = Some(o.rec.venue);
                }
                if why == "timeout" {
                    self.stats.timeouts += 1;
                    if let Some(v) = venue {
                        if self.risk[v].record_failure(*ts_ns, &setup.trade.risk) {
                            self.stats.venue_disables += 1;
                        }
                    }
                }
            }
            Record::OrderLost { order_id, .. } => {
                if let Some(o) = self.orders.get_mut(order_id).filter(|o| o.end.is_none()) {
                    o.end = Some(OrderEnd::Lost);
                    self.open_count -= 1;
                    self.ledger.release(*order_id);
                    self.stats.orders_lost += 1;
                }
            }
            Record::VenueState { venue, up, .. } => {
                if let Some(r) = self.risk.get_mut(*venue) {
                    if !*up && !r.down {
                        self.stats.venue_outages += 1;
                    }
                    r.down = !*up;
                }
            }
            Record::UnwindWait {
                trade_id,
                until_ns,
                missed,
                ..
            } => {
                if let Some(t) = self.trades.get_mut(trade_id) {
                    t.next_unwind = Some(*until_ns);
                    if *missed {
                        t.missed_tries += 1;
                    }
                }
            }
            Record::TradeClosed {
                ts_ns,
                trade_id,
                gave_up,
            } => {
                if let Some(t) = self.trades.remove(trade_id) {
                    for id in &t.orders {
                        self.orders.remove(id);
                    }
                    let realized = t.flows.realize();
                    if *gave_up {
                        self.stats.gave_up += 1;
                    } else if !realized.residual.is_zero() {
                        self.stats.dust_closes += 1;
                    }
                    self.pnl.close(ClosedTrade {
                        trade_id: *trade_id,
                        event_seq: t.open.event_seq,
                        instrument: t.open.instrument,
                        buy_venue: t.open.buy_venue,
                        sell_venue: t.open.sell_venue,
                        opened_ns: t.open.ts_ns,
                        closed_ns: *ts_ns,
                        planned_base: t.open.base_qty,
                        expected_net: t.open.net,
                        flows: t.flows,
                        realized,
                        gave_up: *gave_up,
                        legs_sent: 2,
                        legs_filled: t.legs_filled,
                    });
                }
            }
            Record::TransferSent(t) => {
                self.ledger.send_transfer(t.clone());
                self.next_transfer_id = self.next_transfer_id.max(t.id + 1);
                self.stats.transfers += 1;
                *self.stats.transfer_fees.entry(t.asset.clone()).or_default() += t.fee;
            }
            Record::TransferArrived { id, .. } => {
                let t = self.ledger.in_transit().find(|t| t.id == *id).cloned();
                if let Some(t) = t {
                    self.ledger.complete_transfer(*id);
                    self.transfers.push(t);
                }
            }
            Record::Kill { .. } => self.killed = true,
        }
    }

    fn apply_exec(
        &mut self,
        setup: &EngineSetup,
        ts: u64,
        venue: usize,
        r: &ExecReport,
        fee: Option<&FeeCharge>,
    ) {
        let Some(o) = self.orders.get_mut(&r.order_id) else {
            return;
        };
        o.reports += 1;
        let rec = o.rec.clone();
        let Some(market) = setup.market(rec.venue, rec.instrument) else {
            return;
        };
        let assets = &setup.trade.instruments[rec.instrument];
        if r.last_qty > Decimal::ZERO {
            o.cum_qty += r.last_qty;
            let zero = FeeCharge {
                asset: assets.quote.clone(),
                amount: Decimal::ZERO,
                quote_value: Decimal::ZERO,
            };
            let fee = fee.unwrap_or(&zero);
            for (asset, delta) in
                fill_deltas(assets, market, rec.side, r.last_qty, r.last_price, fee)
            {
                if asset == assets.base {
                    if let Some(t) = self.trades.get_mut(&rec.trade_id) {
                        t.base_delta += delta;
                    }
                }
                self.ledger.add(venue, &asset, delta);
            }
            let base = base_of(market, r.last_qty, r.last_price);
            let quote = quote_of(market, r.last_qty, r.last_price);
            let used = match rec.side {
                Side::Buy => {
                    quote
                        + if fee.asset == assets.quote {
                            fee.amount
                        } else {
                            Decimal::ZERO
                        }
                }
                Side::Sell => {
                    base + if fee.asset == assets.base {
                        fee.amount
                    } else {
                        Decimal::ZERO
                    }
                }
            };
            self.ledger.consume(rec.id, used);
            self.volume[venue] += quote;
            if r.kind == ExecKind::PartialFill {
                self.stats.partial_fills += 1;
            }
            self.stats.fills += u64::from(r.kind == ExecKind::Fill);
            if let Some(t) = self.trades.get_mut(&rec.trade_id) {
                let flows = &mut t.flows;
                let side = match (rec.purpose, rec.side) {
                    (Purpose::Entry, Side::Buy) => &mut flows.entry_buy,
                    (Purpose::Entry, Side::Sell) => &mut flows.entry_sell,
                    (Purpose::Unwind, Side::Buy) => &mut flows.unwind_buy,
                    (Purpose::Unwind, Side::Sell) => &mut flows.unwind_sell,
                };
                side.add(base, quote);
                match rec.purpose {
                    Purpose::Entry => flows.entry_fees += fee.quote_value,
                    Purpose::Unwind => flows.unwind_fees += fee.quote_value,
                }
                let det = base * rec.detected_price;
                flows.slippage += round_amount(match rec.side {
                    Side::Buy => quote - det,
                    Side::Sell => det - quote,
                });
            }
        }
        let o = self
            .orders
            .get_mut(&r.order_id)
            .expect("order looked up above");
        if r.kind.is_final() && o.end.is_none() {
            o.end = Some(OrderEnd::Report(r.kind));
            self.open_count -= 1;
            self.ledger.release(rec.id);
            match r.kind {
                ExecKind::Rejected => {
                    self.stats.rejects += 1;
                    if self.risk[venue].record_failure(ts, &setup.trade.risk) {
                        self.stats.venue_disables += 1;
                    }
                }
                ExecKind::Expired => self.stats.expired += 1,
                ExecKind::Canceled => self.stats.canceled += 1,
                _ => {}
            }
            if rec.purpose == Purpose::Entry && o.cum_qty >= rec.qty {
                if let Some(t) = self.trades.get_mut(&rec.trade_id) {
                    t.legs_filled += 1;
                }
            }
        }
    }
}

fn record_ts(r: &Record) -> Option<u64> {
    Some(match r {
        Record::Header(_) => return None,
        Record::Progress { ts_ns, .. }
        | Record::Exec { ts_ns, .. }
        | Record::CancelSent { ts_ns, .. }
        | Record::OrderLost { ts_ns, .. }
        | Record::VenueState { ts_ns, .. }
        | Record::UnwindWait { ts_ns, .. }
        | Record::TradeClosed { ts_ns, .. }
        | Record::TransferArrived { ts_ns, .. }
        | Record::Kill { ts_ns, .. } => *ts_ns,
        Record::Refused(r) => r.ts_ns,
        Record::TradeOpen(t) => t.ts_ns,
        Record::Order(o) => o.sent_ns,
        Record::TransferSent(t) => t.sent_ns,
        Record::Snapshot(s) => s.ts_ns,
    })
}

/// Events handled since the last progress record.
#[derive(Debug, Default)]
struct PendingProgress {
    events: u64,
    last_seq: Option<u64>,
    refused: BTreeMap<String, u64>,
}

/// Progress records are written at least this often (in events), so that a restart repeats
/// little.
const PROGRESS_EVERY: u64 = 4096;

/// What a resumed journal held.
#[derive(Debug, Clone)]
pub struct ResumeInfo {
    pub records: usize,
    pub torn: Option<journal::TornTail>,
    pub last_event_seq: Option<u64>,
}

/// The sized trade a candidate turned into, before the final checks.
struct Sized {
    buy_units: Decimal,
    sell_units: Decimal,
    buy_quote: Decimal,
    buy_base: Decimal,
    sell_base: Decimal,
    base: Decimal,
    gross: Decimal,
    fees: Decimal,
    net: Decimal,
    buy_reserve: (String, Decimal),
    sell_reserve: (String, Decimal),
}

pub struct Engine {
    // shared so that a decision can hold the markets while it books
    setup: std::rc::Rc<EngineSetup>,
    st: State,
    journal: Option<Journal>,
    venues: Vec<Box<dyn Venue>>,
    pending: PendingProgress,
    scratch: Vec<VenueEvent>,
    tap: Option<Vec<Record>>,
    /// After a restart: what the journal's last step still owed when the process died.
    interrupted: Option<Interrupted>,
}

/// What a step that writes several records (a final report and the close or unwind it leads
/// to; a close and the transfers and snapshot that follow it; a transfer's arrival and the
/// transfers that follow it) had still to do when the process died between two of its
/// records. A restart does it at the step's time, before anything later, so that it ends in
/// the state of a run that was never interrupted.
#[derive(Debug)]
struct Interrupted {
    ts_ns: u64,
    /// Trades whose orders are all final with nothing decided yet (no close, unwind or wait).
    undecided: Vec<u64>,
    /// A rebalance cut short: the ledger it planned from, how many of its transfers were
    /// written, and whether a snapshot follows (after a close).
    rebalance: Option<(Ledger, usize, bool)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A fresh engine; with a journal path, the journal is created (it must not hold records).
    pub fn new(
        setup: EngineSetup,
        venues: Vec<Box<dyn Venue>>,
        journal: Option<&std::path::Path>,
    ) -> Result<Engine, EngineError> {
        let st = State::new(&setup);
        let journal = match journal {
            Some(p) => Some(Journal::create(p, setup.trade.journal.sync)?),
            None => None,
        };
        let mut e = Engine {
            setup: std::rc::Rc::new(setup),
            st,
            journal,
            venues,
            pending: PendingProgress::default(),
            scratch: Vec::new(),
            tap: None,
            interrupted: None,
        };
        let h = Record::Header(e.setup.header());
        e.commit(h)?;
        Ok(e)
    }

    /// An engine restarted from its journal: the state it had, with a torn last record cut.
    pub fn resume(
        setup: EngineSetup,
        venues: Vec<Box<dyn Venue>>,
        path: &std::path::Path,
        contents: JournalContents,
    ) -> Result<(Engine, ResumeInfo), EngineError> {
        let mut st = State::new(&setup);
        match contents.records.first() {
            Some(Record::Header(h)) => {
                if h.version != journal::VERSION {
                    return Err(EngineError::Mismatch(format!(
                        "journal version {} (this tickcross writes {})",
                        h.version,
                        journal::VERSION
                    )));
                }
                if h.digest != setup.digest {
                    return Err(EngineError::Mismatch(
                        "it was written for another configuration or other captures (digest differs)"
                            .into(),
                    ));
                }
                if *h != setup.header() {
                    return Err(EngineError::Mismatch(
                        "its header (venues, instruments, contract sizes, initial balances, fees) \
                         differs from this configuration's although the digest matches: the \
                         header was altered"
                            .into(),
                    ));
                }
            }
            _ => {
                return Err(EngineError::Mismatch(
                    "it does not start with a header record".into(),
                ))
            }
        }
        // a close, or a transfer's arrival, followed only by the transfers of its rebalance
        // (and, after a close, not yet by its snapshot): the ledger the rebalance planned from
        let mut tail: Option<(Ledger, usize, bool)> = None;
        for rec in &contents.records {
            st.apply(rec, &setup);
            tail = match (rec, tail) {
                (Record::TradeClosed { .. }, _) => Some((st.ledger.clone(), 0, true)),
                (Record::TransferArrived { .. }, _) => Some((st.ledger.clone(), 0, false)),
                (Record::TransferSent(_), Some((l, n, snap))) => Some((l, n + 1, snap)),
                _ => None,
            };
        }
        let undecided: Vec<u64> = st
            .trades
            .iter()
            .filter(|(_, t)| {
                t.next_unwind.is_none()
                    && t.orders
                        .iter()
                        .all(|id| st.orders.get(id).is_none_or(|o| o.end.is_some()))
            })
            .map(|(id, _)| *id)
            .collect();
        let interrupted = (!undecided.is_empty() || tail.is_some()).then(|| Interrupted {
            ts_ns: contents
                .records
                .iter()
                .rev()
                .find_map(record_ts)
                .unwrap_or(st.last_ts),
            undecided,
            rebalance: tail,
        });
        let journal = Journal::reopen(path, setup.trade.journal.sync, &contents)?;
        let info = ResumeInfo {
            records: contents.records.len(),
            torn: contents.torn,
            last_event_seq: st.last_event_seq,
        };
        Ok((
            Engine {
                setup: std::rc::Rc::new(setup),
                st,
                journal: Some(journal),
                venues,
                pending: PendingProgress::default(),
                scratch: Vec::new(),
                tap: None,
                interrupted,
            },
            info,
        ))
    }

    /// The time of the step a restart cut short, if one was (see `complete_interrupted`).
    pub fn interrupted_at(&self) -> Option<u64> {
        self.interrupted.as_ref().map(|i| i.ts_ns)
    }

    /// After a restart: finishes the step the process died in, at that step's time (call it
    /// once the replay reaches that time, before anything else happens at it). A final report
    /// whose consequence (close, unwind, wait) was not written is decided now; a rebalance cut
    /// short sends the rest of its plan (the plan from the ledger it started from, without the
    /// transfers already written), then the snapshot that follows a close.
    pub fn complete_interrupted(&mut self) -> Result<(), EngineError> {
        let Some(i) = self.interrupted.take() else {
            return Ok(());
        };
        tracing::info!(
            at = i.ts_ns,
            trades = ?i.undecided,
            rebalance = i.rebalance.is_some(),
            "finishing the step the journal was cut in"
        );
        for id in i.undecided {
            self.after_final(id, i.ts_ns)?;
        }
        if let Some((ledger, written, snapshot)) = i.rebalance {
            self.rebalance_from(&ledger, written, i.ts_ns)?;
            if snapshot {
                self.snapshot(i.ts_ns)?;
            }
        }
        Ok(())
    }

    pub fn state(&self) -> &State {
        &self.st
    }

    pub fn setup(&self) -> &EngineSetup {
        &self.setup
    }

    pub fn venue_mut(&mut self, v: usize) -> &mut dyn Venue {
        self.venues[v].as_mut()
    }

    pub fn venues(&self) -> &[Box<dyn Venue>] {
        &self.venues
    }

    fn commit(&mut self, rec: Record) -> Result<(), EngineError> {
        if let Some(j) = self.journal.as_mut() {
            j.append(&rec)?;
        }
        self.st.apply(&rec, &self.setup);
        if let Some(t) = self.tap.as_mut() {
            t.push(rec);
        }
        Ok(())
    }

    fn flush_progress(&mut self, now: u64) -> Result<(), EngineError> {
        if self.pending.events == 0 {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        self.commit(Record::Progress {
            ts_ns: now,
            last_event_seq: p.last_seq.unwrap_or(0),
            events: p.events,
            refused: p.refused,
        })
    }

    fn kill_requested(&self) -> bool {
        KILL_REQUESTED.load(Ordering::SeqCst)
            || self.setup.kill_file.as_ref().is_some_and(|p| p.exists())
    }

    /// Turns the kill switch on (journaled); no new trade is opened after this.
    pub fn kill(&mut self, source: &str, now: u64) -> Result<(), EngineError> {
        if self.st.killed {
            return Ok(());
        }
        tracing::warn!(source, "kill switch on: no new trades");
        self.flush_progress(now)?;
        self.commit(Record::Kill {
            ts_ns: now,
            source: source.to_string(),
        })
    }

    fn venue_unavailable(&self, v: usize, now: u64) -> Option<Refusal> {
        if !self.venues[v].connected() || self.st.risk[v].down {
            return Some(Refusal::VenueDown);
        }
        if self.st.risk[v].disabled(now) {
            return Some(Refusal::VenueDisabled);
        }
        None
    }

    fn taker_bps(&self, v: usize) -> Decimal {
        self.setup.trade.venues[v]
            .fees
            .taker_bps_at(self.st.volume[v])
    }

    /// Handles one detection at `now` (its timestamp, in replay).
    pub fn on_event(&mut self, ev: &Event, now: u64) -> Result<(), EngineError> {
        if self.st.last_event_seq.is_some_and(|s| ev.seq <= s) {
            return Ok(()); // handled before a restart
        }
        let inst = usize::from(ev.instrument);
        let (bv, sv) = (usize::from(ev.buy_venue), usize::from(ev.sell_venue));
        let non_candidate = |e: &mut Engine, r: Refusal| -> Result<(), EngineError> {
            e.pending.events += 1;
            e.pending.last_seq = Some(ev.seq);
            *e.pending.refused.entry(r.as_str().to_string()).or_default() += 1;
            if e.pending.events >= PROGRESS_EVERY {
                e.flush_progress(now)?;
            }
            Ok(())
        };
        let setup = self.setup.clone();
        let (Some(bm), Some(sm)) = (setup.market(bv, inst), setup.market(sv, inst)) else {
            return non_candidate(self, Refusal::NotTraded);
        };
        let pb = price9_to_decimal(ev.buy_price);
        let ps = price9_to_decimal(ev.sell_price);
        let (fb, fs) = (self.taker_bps(bv), self.taker_bps(sv));
        let p = &self.setup.trade.params;
        // the opportunity at the displayed size
        let shown = base_of(bm, price9_to_decimal(ev.buy_qty), pb).min(base_of(
            sm,
            price9_to_decimal(ev.sell_qty),
            ps,
        ));
        let q0 = p.max_trade_qty.map_or(shown, |m| shown.min(m));
        let economics = |q: Decimal| {
            let gross = q * (ps - pb);
            let fees = bps(q * pb, fb) + bps(q * ps, fs);
            (
                round_amount(gross),
                round_amount(fees),
                round_amount(gross - fees),
            )
        };
        let (g0, f0, n0) = economics(q0);
        let profitable = |net: Decimal, q: Decimal, p: &super::config::TradingParams| {
            net > Decimal::ZERO
                && net >= p.min_profit
                && q * pb > Decimal::ZERO
                && net * Decimal::from(10_000) >= p.min_profit_bps * q * pb
        };
        if !profitable(n0, q0, p) {
            return non_candidate(self, Refusal::Unprofitable);
        }

        // a candidate
        self.flush_progress(now)?;
        if !self.st.killed && self.kill_requested() {
            self.kill("kill switch (signal or file)", now)?;
        }
        let refuse = |e: &mut Engine, r: Refusal, q: Decimal, g, f, n| {
            let rec = Record::Refused(Refused {
                ts_ns: now,
                event_seq: ev.seq,
                instrument: inst,
                buy_venue: bv,
                sell_venue: sv,
                buy_price: pb,
                sell_price: ps,
                base_qty: q,
                gross: g,
                fees: f,
                net: n,
                reason: r.as_str().to_string(),
            });
            e.commit(rec)
        };
        if self.st.killed {
            return refuse(self, Refusal::KillSwitch, q0, g0, f0, n0);
        }
        let age = self.setup.trade.risk.max_quote_age_ns;
        if now.saturating_sub(ev.buy_ts_ns) > age || now.saturating_sub(ev.sell_ts_ns) > age {
            return refuse(self, Refusal::StaleQuote, q0, g0, f0, n0);
        }
        for v in [bv, sv] {
            if let Some(r) = self.venue_unavailable(v, now) {
                return refuse(self, r, q0, g0, f0, n0);
            }
        }
        let sized = match self.size(inst, bv, sv, bm, sm, pb, ps, q0, fb, fs) {
            Ok(s) => s,
            Err(r) => return refuse(self, r, q0, g0, f0, n0),
        };
        let p = &self.setup.trade.params;
        if !profitable(sized.net, sized.base, p) {
            return refuse(
                self,
                Refusal::BelowMinProfit,
                sized.base,
                sized.gross,
                sized.fees,
                sized.net,
            );
        }
        let risk = &self.setup.trade.risk;
        let buy_notional = sized.buy_quote;
        // the worst cases: every open trade's and this one's legs filling one-sided
        let (lo, hi) = self.st.position_range(&self.setup, inst);
        let (buy_base, sell_need) = (sized.buy_base, sized.sell_reserve.1.max(sized.sell_base));
        let day = utc_day(now);
        let check = if buy_notional > risk.max_notional {
            Some(Refusal::MaxNotional)
        } else if hi + buy_base > risk.max_position || lo - sell_need < -risk.max_position {
            Some(Refusal::MaxPosition)
        } else if self.st.open_orders() + 2 > risk.max_open_legs as usize {
            Some(Refusal::MaxOpenLegs)
        } else if self.st.pnl.day_net(day) <= -risk.daily_loss_limit {
            Some(Refusal::DailyLoss)
        } else {
            let (lb, ls) = (
                self.setup.trade.venues[bv].rate_limit,
                self.setup.trade.venues[sv].rate_limit,
            );
            let ok_b = self.st.risk[bv].rate_ok(now, &lb);
            let ok_s = self.st.risk[sv].rate_ok(now, &ls);
            // two legs on one venue need room for two
            let ok_pair = bv != sv || {
                let mut r = self.st.risk[bv].clone();
                r.record_sent(now);
                r.rate_ok(now, &lb)
            };
            (!(ok_b && ok_s && ok_pair)).then_some(Refusal::RateLimit)
        };
        if let Some(r) = check {
            return refuse(self, r, sized.base, sized.gross, sized.fees, sized.net);
        }

        let trade_id = self.st.next_trade_id;
        let buy_id = self.st.next_order_id;
        let leg = |id,
                   venue,
                   side,
                   price,
                   (qty, base_qty),
                   market: &Market,
                   reserve: (String, Decimal)| {
            OrderRecord {
                id,
                trade_id,
                purpose: Purpose::Entry,
                attempt: 0,
                venue,
                instrument: inst,
                symbol: market.symbol.clone(),
                side,
                price,
                base_qty,
                qty,
                detected_price: price,
                reserve_asset: reserve.0,
                reserve: reserve.1,
                sent_ns: now,
            }
        };
        let open = TradeOpen {
            trade_id,
            event_seq: ev.seq,
            ts_ns: now,
            instrument: inst,
            buy_venue: bv,
            sell_venue: sv,
            base_qty: sized.base,
            gross: sized.gross,
            fees: sized.fees,
            net: sized.net,
            buy: leg(
                buy_id,
                bv,
                Side::Buy,
                pb,
                (sized.buy_units, sized.buy_base),
                bm,
                sized.buy_reserve,
            ),
            sell: leg(
                buy_id + 1,
                sv,
                Side::Sell,
                ps,
                (sized.sell_units, sized.sell_base),
                sm,
                sized.sell_reserve,
            ),
        };
        let (b, s) = (request_of(&open.buy), request_of(&open.sell));
        self.commit(Record::TradeOpen(open))?;
        self.send(&b, now)?;
        self.send(&s, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn size(
        &self,
        inst: usize,
        bv: usize,
        sv: usize,
        bm: &Market,
        sm: &Market,
        pb: Decimal,
        ps: Decimal,
        q0: Decimal,
        fb: Decimal,
        fs: Decimal,
    ) -> Result<Sized, Refusal> {
        let assets = &self.setup.trade.instruments[inst];
        let one = Decimal::ONE;
        let bfee = &self.setup.trade.venues[bv].fees.asset;
        let sfee = &self.setup.trade.venues[sv].fees.asset;
        let rate = |r: Decimal| r * super::money::ONE_BP;
        // quote needed per base bought, base needed per base sold
        let buy_cost = pb
            * (one
                + if *bfee == FeeAsset::Quote {
                    rate(fb)
                } else {
                    Decimal::ZERO
                });
        let sell_need = one
            + if *sfee == FeeAsset::Base {
                rate(fs)
            } else {
                Decimal::ZERO
            };
        let mut q = q0;
        q = q.min(
            self.st
                .ledger
                .available(bv, &assets.quote)
                .max(Decimal::ZERO)
                / buy_cost,
        );
        q = q.min(
            self.st
                .ledger
                .available(sv, &assets.base)
                .max(Decimal::ZERO)
                / sell_need,
        );
        for (v, fee, price, r) in [(bv, bfee, pb, fb), (sv, sfee, ps, fs)] {
            if let FeeAsset::Other { asset, price: ap } = fee {
                let per_base = price * rate(r) / *ap;
                if per_base > Decimal::ZERO {
                    q = q.min(self.st.ledger.available(v, asset).max(Decimal::ZERO) / per_base);
                }
            }
        }
        let inventory_bound = q < q0;
        // whole lots on both venues, then both legs on the smaller base amount (only the leg
        // with the larger one is sized again)
        let mut buy_units = units_for_base(bm, q, pb);
        let mut sell_units = units_for_base(sm, q, ps);
        let mut buy_base = base_of(bm, buy_units, pb);
        let mut sell_base = base_of(sm, sell_units, ps);
        if buy_base > sell_base {
            buy_units = units_for_base(bm, sell_base, pb);
            buy_base = base_of(bm, buy_units, pb);
        } else if sell_base > buy_base {
            sell_units = units_for_base(sm, buy_base, ps);
            sell_base = base_of(sm, sell_units, ps);
        }
        if buy_units < bm.min_qty
            || sell_units < sm.min_qty
            || buy_units.is_zero()
            || sell_units.is_zero()
        {
            return Err(if inventory_bound {
                Refusal::InsufficientInventory
            } else {
                Refusal::BelowMinSize
            });
        }
        let buy_quote = quote_of(bm, buy_units, pb);
        let sell_quote = quote_of(sm, sell_units, ps);
        let fees = round_amount(bps(buy_quote, fb)) + round_amount(bps(sell_quote, fs));
        let gross = round_amount(sell_base.min(buy_base) * (ps - pb));
        let buy_reserve = match bfee {
            FeeAsset::Quote => round_amount(buy_quote * (one + rate(fb))),
            _ => buy_quote,
        };
        let sell_reserve = match sfee {
            FeeAsset::Base => round_amount(sell_base * (one + rate(fs))),
            _ => sell_base,
        };
        Ok(Sized {
            buy_units,
            sell_units,
            buy_quote,
            buy_base,
            sell_base,
            base: buy_base.min(sell_base),
            gross,
            fees,
            net: gross - fees,
            buy_reserve: (assets.quote.clone(), buy_reserve),
            sell_reserve: (assets.base.clone(), sell_reserve),
        })
    }

    /// Hands an order to its venue; a venue that refuses it at once is booked as a reject.
    fn send(&mut self, req: &OrderRequest, now: u64) -> Result<(), EngineError> {
        if let Err(e) = self.venues[req.venue].submit(req, now) {
            tracing::warn!(venue = %self.setup.venue_names[req.venue], order = req.id, "order not sent: {e}");
            let rep = ExecReport {
                order_id: req.id,
                kind: ExecKind::Rejected,
                last_qty: Decimal::ZERO,
                last_price: Decimal::ZERO,
                cum_qty: Decimal::ZERO,
                leaves_qty: Decimal::ZERO,
                text: Some(format!("not sent: {e}")),
                ts_ns: now,
            };
            self.on_report(req.venue, rep, now)?;
        }
        Ok(())
    }

    /// Collects and handles what every venue has for us by `now`.
    pub fn poll_venues(&mut self, now: u64) -> Result<(), EngineError> {
        for v in 0..self.venues.len() {
            self.poll_venue(v, now)?;
        }
        Ok(())
    }

    pub fn poll_venue(&mut self, v: usize, now: u64) -> Result<(), EngineError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        if let Err(e) = self.venues[v].poll(now, &mut buf) {
            tracing::warn!(venue = %self.setup.venue_names[v], "poll: {e}");
        }
        for ev in buf.drain(..) {
            self.on_venue_event(v, ev, now)?;
        }
        self.scratch = buf;
        Ok(())
    }

    pub fn on_venue_event(
        &mut self,
        v: usize,
        ev: VenueEvent,
        now: u64,
    ) -> Result<(), EngineError> {
        let name = self.setup.venue_names[v].clone();
        match ev {
            VenueEvent::Exec(r) => self.on_report(v, r, now),
            VenueEvent::CancelRejected { order_id, text } => {
                tracing::debug!(venue = %name, order = order_id, "cancel rejected: {text}");
                Ok(())
            }
            VenueEvent::BusinessReject { order_id, text } => {
                tracing::warn!(venue = %name, ?order_id, "business reject: {text}");
                match order_id {
                    Some(id) if self.st.orders.get(&id).is_some_and(|o| o.end.is_none()) => {
                        let rep = ExecReport {
                            order_id: id,
                            kind: ExecKind::Rejected,
                            last_qty: Decimal::ZERO,
                            last_price: Decimal::ZERO,
                            cum_qty: Decimal::ZERO,
                            leaves_qty: Decimal::ZERO,
                            text: Some(text),
                            ts_ns: now,
                        };
                        self.on_report(v, rep, now)
                    }
                    _ => Ok(()),
                }
            }
            VenueEvent::Connected | VenueEvent::Disconnected { .. } => {
                let up = matches!(ev, VenueEvent::Connected);
                if self.st.risk[v].down != up {
                    return Ok(()); // already known (a restart replays venue changes)
                }
                let reason = match ev {
                    VenueEvent::Disconnected { reason } => reason,
                    _ => "connected".into(),
                };
                if up {
                    tracing::info!(venue = %name, "venue back up");
                } else {
                    tracing::warn!(venue = %name, "venue down: {reason}");
                }
                self.commit(Record::VenueState {
                    ts_ns: now,
                    venue: v,
                    up,
                    reason,
                })
            }
        }
    }

    fn on_report(&mut self, v: usize, r: ExecReport, now: u64) -> Result<(), EngineError> {
        let name = &self.setup.venue_names[v];
        let Some(o) = self.st.orders.get(&r.order_id) else {
            tracing::warn!(venue = %name, order = r.order_id, "report for an unknown order ignored");
            return Ok(());
        };
        if o.end.is_some() {
            tracing::debug!(venue = %name, order = r.order_id, kind = ?r.kind, "report after the order ended ignored");
            return Ok(());
        }
        if o.rec.venue != v {
            tracing::warn!(venue = %name, order = r.order_id, "report from the wrong venue ignored");
            return Ok(());
        }
        if r.last_qty < Decimal::ZERO
            || (r.last_qty > Decimal::ZERO && r.last_price <= Decimal::ZERO)
        {
            tracing::warn!(venue = %name, order = r.order_id, "malformed report ignored: qty {} price {}", r.last_qty, r.last_price);
            return Ok(());
        }
        if o.cum_qty + r.last_qty > o.rec.qty {
            tracing::warn!(venue = %name, order = r.order_id, "venue filled more than ordered: {} of {}", o.cum_qty + r.last_qty, o.rec.qty);
        }
        let rec = o.rec.clone();
        let fee = (r.last_qty > Decimal::ZERO).then(|| {
            let market = self
                .setup
                .market(rec.venue, rec.instrument)
                .expect("orders are only sent on configured markets");
            let base = base_of(market, r.last_qty, r.last_price);
            let quote = quote_of(market, r.last_qty, r.last_price);
            self.setup.trade.venues[v].fees.charge(
                &self.setup.trade.instruments[rec.instrument],
                self.taker_bps(v),
                base,
                quote,
                r.last_price,
            )
        });
        let disables = self.st.stats.venue_disables;
        let is_final = r.kind.is_final();
        self.commit(Record::Exec {
            ts_ns: now,
            venue: v,
            report: r,
            fee,
        })?;
        if self.st.stats.venue_disables > disables {
            tracing::warn!(venue = %self.setup.venue_names[v], "venue disabled after repeated failures");
        }
        if is_final {
            self.after_final(rec.trade_id, now)?;
        }
        Ok(())
    }

    /// A trade's order ended: unwind what is left, or close the trade.
    fn after_final(&mut self, trade_id: u64, now: u64) -> Result<(), EngineError> {
        let Some(t) = self.st.trades.get(&trade_id) else {
            return Ok(());
        };
        if t.orders
            .iter()
            .any(|id| self.st.orders.get(id).is_some_and(|o| o.end.is_none()))
        {
            return Ok(());
        }
        let r = t.flows.realize().residual;
        if r.is_zero() || self.is_dust(t, r) {
            return self.close_trade(trade_id, false, now);
        }
        let attempts = t.unwind_orders + t.missed_tries;
        if attempts == 0 {
            return self.try_unwind(trade_id, now);
        }
        let p = &self.setup.trade.params;
        if attempts <= p.unwind_retries {
            let until = now + p.unwind_retry_ns;
            return self.commit(Record::UnwindWait {
                ts_ns: now,
                trade_id,
                until_ns: until,
                missed: false,
            });
        }
        self.give_up(trade_id, r, now)
    }

    fn give_up(&mut self, trade_id: u64, residual: Decimal, now: u64) -> Result<(), EngineError> {
        tracing::error!(trade = trade_id, %residual, "unwind gave up: residual exposure stays in inventory");
        self.close_trade(trade_id, true, now)
    }

    /// Closes a trade, then snapshots the books and lets the rebalancer look at them.
    fn close_trade(&mut self, trade_id: u64, gave_up: bool, now: u64) -> Result<(), EngineError> {
        self.commit(Record::TradeClosed {
            ts_ns: now,
            trade_id,
            gave_up,
        })?;
        self.rebalance(now)?;
        self.snapshot(now)
    }

    /// Carries out the planner's proposals when `[rebalance] apply` is on.
    fn rebalance(&mut self, now: u64) -> Result<(), EngineError> {
        let planned = self.planned_transfers(&self.st.ledger);
        self.send_planned(planned, 0, now)
    }

    /// The rest of a rebalance planned from `ledger`, past its first `skip` transfers.
    fn rebalance_from(
        &mut self,
        ledger: &Ledger,
        skip: usize,
        now: u64,
    ) -> Result<(), EngineError> {
        let planned = self.planned_transfers(ledger);
        self.send_planned(planned, skip, now)
    }

    fn planned_transfers(&self, ledger: &Ledger) -> Vec<super::rebalance::Proposal> {
        if !self.setup.trade.rebalance.as_ref().is_some_and(|r| r.apply) {
            return Vec::new();
        }
        super::rebalance::plan(&self.setup.trade, ledger)
    }

    fn send_planned(
        &mut self,
        planned: Vec<super::rebalance::Proposal>,
        skip: usize,
        now: u64,
    ) -> Result<(), EngineError> {
        for p in planned.into_iter().skip(skip) {
            self.send_transfer(
                &p.asset,
                p.from,
                p.to,
                p.amount,
                p.network_fee,
                p.transfer_ns,
                now,
            )?;
        }
        Ok(())
    }

    /// Residual below the smallest order on both venues of the trade.
    fn is_dust(&self, t: &TradeState, residual: Decimal) -> bool {
        let inst = t.open.instrument;
        [t.open.buy_venue, t.open.sell_venue].iter().all(|&v| {
            self.setup.market(v, inst).is_none_or(|m| {
                let px = if v == t.open.buy_venue {
                    t.open.buy.detected_price
                } else {
                    t.open.sell.detected_price
                };
                units_for_base(m, residual.abs(), px) < m.min_qty
            })
        })
    }

    fn try_unwind(&mut self, trade_id: u64, now: u64) -> Result<(), EngineError> {
        let Some(t) = self.st.trades.get(&trade_id).cloned() else {
            return Ok(());
        };
        let r = t.flows.realize().residual;
        let inst = t.open.instrument;
        let long = r > Decimal::ZERO;
        let side = if long { Side::Sell } else { Side::Buy };
        // the exposure's entry price: what we paid (long) or got (short)
        let entry = if long {
            t.flows.entry_buy.avg()
        } else {
            t.flows.entry_sell.avg()
        }
        .unwrap_or(if long {
            t.open.buy.detected_price
        } else {
            t.open.sell.detected_price
        });
        let slip = self.setup.trade.params.unwind_slippage_bps * super::money::ONE_BP;
        let bound = if long {
            entry * (Decimal::ONE - slip)
        } else {
            entry * (Decimal::ONE + slip)
        };
        let order_venues = if long {
            [t.open.buy_venue, t.open.sell_venue]
        } else {
            [t.open.sell_venue, t.open.buy_venue]
        };
        let assets = self.setup.trade.instruments[inst].clone();
        let mut chosen = None;
        for v in order_venues {
            let Some(m) = self.setup.market(v, inst) else {
                continue;
            };
            if self.venue_unavailable(v, now).is_some() {
                continue;
            }
            let lim = self.setup.trade.venues[v].rate_limit;
            if !self.st.risk[v].clone().rate_ok(now, &lim) {
                continue;
            }
            let price = to_tick(bound, m.tick_size, side);
            if price <= Decimal::ZERO {
                continue;
            }
            let fees = &self.setup.trade.venues[v].fees;
            let rate = self.taker_bps(v) * super::money::ONE_BP;
            let mut units = units_for_base(m, r.abs(), price);
            let (asset, reserve) = match side {
                Side::Sell => {
                    let need = Decimal::ONE
                        + if fees.asset == FeeAsset::Base {
                            rate
                        } else {
                            Decimal::ZERO
                        };
                    let avail = self.st.ledger.available(v, &assets.base).max(Decimal::ZERO) / need;
                    units = units.min(units_for_base(m, avail, price));
                    let b = base_of(m, units, price);
                    (assets.base.clone(), round_amount(b * need))
                }
                Side::Buy => {
                    let per = Decimal::ONE
                        + if fees.asset == FeeAsset::Quote {
                            rate
                        } else {
                            Decimal::ZERO
                        };
                    let avail = self
                        .st
                        .ledger
                        .available(v, &assets.quote)
                        .max(Decimal::ZERO);
                    // quote needed for the units at the limit price
                    while units > Decimal::ZERO && quote_of(m, units, price) * per > avail {
                        units -= m.lot_size;
                    }
                    (
                        assets.quote.clone(),
                        round_amount(quote_of(m, units, price) * per),
                    )
                }
            };
            if units < m.min_qty || units <= Decimal::ZERO {
                continue;
            }
            chosen = Some((
                v,
                m.symbol.clone(),
                price,
                (units, base_of(m, units, price)),
                asset,
                reserve,
            ));
            break;
        }
        let attempts = t.unwind_orders + t.missed_tries;
        let Some((v, symbol, price, (qty, base_qty), asset, reserve)) = chosen else {
            if attempts < self.setup.trade.params.unwind_retries {
                return self.commit(Record::UnwindWait {
                    ts_ns: now,
                    trade_id,
                    until_ns: now + self.setup.trade.params.unwind_retry_ns,
                    missed: true,
                });
            }
            return self.give_up(trade_id, r, now);
        };
        let rec = OrderRecord {
            id: self.st.next_order_id,
            trade_id,
            purpose: Purpose::Unwind,
            attempt: attempts + 1,
            venue: v,
            instrument: inst,
            symbol,
            side,
            price,
            base_qty,
            qty,
            detected_price: entry,
            reserve_asset: asset,
            reserve,
            sent_ns: now,
        };
        let req = request_of(&rec);
        tracing::info!(trade = trade_id, venue = %self.setup.venue_names[v], side = side.as_str(), %qty, %price, "unwinding residual {r}");
        self.commit(Record::Order(rec))?;
        self.send(&req, now)
    }

    /// The earliest time the engine or a simulated venue has something to do.
    pub fn next_due(&self) -> Option<u64> {
        let venues = self
            .venues
            .iter()
            .filter(|v| v.clock() == VenueClock::Simulated)
            .filter_map(|v| v.next_due_ns());
        let orders = self
            .st
            .orders
            .values()
            .filter(|o| o.end.is_none())
            .map(|o| o.deadline);
        let unwinds = self.st.trades.values().filter_map(|t| t.next_unwind);
        let transfers = self.st.ledger.next_arrival().map(|(t, _)| t);
        venues.chain(orders).chain(unwinds).chain(transfers).min()
    }

    /// Order timeouts, unwind retries and transfer arrivals due by `now`.
    pub fn on_timers(&mut self, now: u64) -> Result<(), EngineError> {
        let due: Vec<(OrderId, bool)> = self
            .st
            .orders
            .values()
            .filter(|o| o.end.is_none() && o.deadline <= now)
            .map(|o| (o.rec.id, o.cancel_sent.is_some()))
            .collect();
        for (id, cancelled) in due {
            let (venue, trade) = {
                let o = &self.st.orders[&id];
                (o.rec.venue, o.rec.trade_id)
            };
            if !cancelled {
                let disables = self.st.stats.venue_disables;
                tracing::warn!(venue = %self.setup.venue_names[venue], order = id, "order timed out: cancelling");
                self.commit(Record::CancelSent {
                    ts_ns: now,
                    order_id: id,
                    why: "timeout".into(),
                })?;
                if self.st.stats.venue_disables > disables {
                    tracing::warn!(venue = %self.setup.venue_names[venue], "venue disabled after repeated failures");
                }
                if let Err(e) = self.venues[venue].cancel(id, now) {
                    tracing::warn!(venue = %self.setup.venue_names[venue], order = id, "cancel not sent: {e}");
                }
            } else {
                tracing::error!(venue = %self.setup.venue_names[venue], order = id, "neither the order nor its cancel was answered: closed with what had filled");
                self.commit(Record::OrderLost {
                    ts_ns: now,
                    order_id: id,
                })?;
                self.after_final(trade, now)?;
            }
        }
        let unwinds: Vec<u64> = self
            .st
            .trades
            .iter()
            .filter(|(_, t)| t.next_unwind.is_some_and(|u| u <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in unwinds {
            self.try_unwind(id, now)?;
        }
        while let Some((at, id)) = self.st.ledger.next_arrival() {
            if at > now {
                break;
            }
            self.commit(Record::TransferArrived { ts_ns: now, id })?;
            self.rebalance(now)?;
        }
        Ok(())
    }

    /// Sends a transfer between venues (journaled); it arrives after `transfer_ns`.
    #[allow(clippy::too_many_arguments)]
    pub fn send_transfer(
        &mut self,
        asset: &str,
        from: usize,
        to: usize,
        amount: Decimal,
        fee: Decimal,
        transfer_ns: u64,
        now: u64,
    ) -> Result<(), EngineError> {
        let t = Transfer {
            id: self.st.next_transfer_id,
            asset: asset.to_string(),
            from,
            to,
            amount,
            fee,
            sent_ns: now,
            arrive_ns: now + transfer_ns,
        };
        tracing::info!(asset, from = %self.setup.venue_names[from], to = %self.setup.venue_names[to], %amount, "rebalancing transfer sent");
        self.commit(Record::TransferSent(t))
    }

    /// Writes a balance snapshot.
    pub fn snapshot(&mut self, now: u64) -> Result<(), EngineError> {
        let s = self.st.snapshot(&self.setup, now);
        self.commit(Record::Snapshot(s))
    }

    /// End of input: books the pending progress and a final snapshot, syncs the journal.
    pub fn finish(&mut self, now: u64) -> Result<(), EngineError> {
        self.flush_progress(now)?;
        self.snapshot(now)?;
        if let Some(j) = self.journal.as_mut() {
            j.sync()?;
        }
        for v in self.venues.iter_mut() {
            v.close();
        }
        Ok(())
    }

    /// Orders not final, or trades not closed (an unwind may follow).
    pub fn has_orders_out(&self) -> bool {
        self.st.open_orders() > 0 || !self.st.trades.is_empty()
    }

    /// Keeps a copy of every record committed from now on (tests, tools).
    pub fn keep_records(&mut self) {
        self.tap = Some(Vec::new());
    }

    /// Records kept since `keep_records`.
    pub fn take_records(&mut self) -> Vec<Record> {
        self.tap.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

pub fn request_of(o: &OrderRecord) -> OrderRequest {
    OrderRequest {
        id: o.id,
        venue: o.venue,
        instrument: o.instrument,
        symbol: o.symbol.clone(),
        side: o.side,
        price: o.price,
        qty: o.qty,
    }
}
