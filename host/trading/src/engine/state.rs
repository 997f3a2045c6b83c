//! The engine's state and the one function that changes it: [`State::apply`], called with every
//! record the engine writes and, on a restart, with every record of its journal.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::setup::EngineSetup;
use crate::journal::{OrderRecord, Purpose, ReconcileOutcome, Record, Snapshot, TradeOpen};
use crate::latency::{Operation, RoundTrips};
use crate::ledger::{Ledger, Transfer};
use crate::money::{base_of, fill_deltas, quote_of, round_amount, FeeCharge};
use crate::pnl::{ClosedTrade, Flows, PnlBook};
use crate::risk::{Refusal, VenueRisk};
use crate::venue::{CorrectionKind, ExecKind, ExecReport, OrderId, Side, TradeCorrection};

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
    /// A report came after the cancel was sent (its round trip is timed).
    pub cancel_answered: bool,
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
    /// Its fills busted, and corrected, so far.
    pub busts: u32,
    pub corrections: u32,
}

/// A fill as booked (a corrected one at its corrected figures), kept for a later bust or
/// correction by the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedFill {
    pub qty: Decimal,
    pub price: Decimal,
    pub fee: FeeCharge,
    pub busted: bool,
}

/// An order's booked fills, kept past the order's and its trade's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedOrder {
    pub rec: OrderRecord,
    pub fills: Vec<BookedFill>,
}

/// Orders whose booked fills are kept for busts and corrections (the last ones that filled; a
/// bust of an older order's fill is refused as unknown). As many as the FIX venue keeps.
pub const BOOKED_ORDERS: usize = 4096;

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
    /// Fills busted and fills corrected by a venue, and busts or corrections refused (naming
    /// no booked fill: unknown, or older than the kept orders' fills).
    pub busts: u64,
    pub corrections: u64,
    pub corrections_refused: u64,
    /// What busts and corrections changed the realized net P&L of closed trades by (those of
    /// a trade still open are in its result when it closes).
    pub correction_pnl: Decimal,
    pub transfers: u64,
    pub transfer_fees: BTreeMap<String, Decimal>,
    /// Reconciles after restarts ([`Record::Reconciled`]), by what they found.
    pub reconciled: BTreeMap<ReconcileOutcome, u64>,
}

/// A venue's order counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VenueOrders {
    pub sent: u64,
    /// Orders that filled wholly or in part.
    pub filled: u64,
}

/// The engine's whole state, rebuilt from the journal on a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub ledger: Ledger,
    pub initial: Vec<BTreeMap<String, Decimal>>,
    pub orders: BTreeMap<OrderId, OrderState>,
    pub trades: BTreeMap<u64, TradeState>,
    /// The fills of the last [`BOOKED_ORDERS`] orders that filled, by order.
    pub booked: BTreeMap<OrderId, BookedOrder>,
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
    /// Order round trips per venue.
    pub round_trips: RoundTrips,
    /// Per venue: orders sent, and those of them that filled wholly or in part.
    pub venue_orders: Vec<VenueOrders>,
    /// Orders not final (kept as a count: the risk check reads it on every candidate).
    open_count: usize,
}

impl State {
    pub(super) fn new(setup: &EngineSetup) -> State {
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
            booked: BTreeMap::new(),
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
            round_trips: RoundTrips::new(setup.trade.venues.len()),
            venue_orders: vec![VenueOrders::default(); setup.trade.venues.len()],
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
        if let Some(c) = self.venue_orders.get_mut(o.venue) {
            c.sent += 1;
        }
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
                cancel_answered: false,
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
                        busts: 0,
                        corrections: 0,
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
            Record::Correction {
                ts_ns,
                venue,
                correction,
                orig_fee,
                fee,
            } => self.apply_correction(setup, *ts_ns, *venue, correction, orig_fee, fee.as_ref()),
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
            Record::Reconciled { outcome, .. } => {
                *self.stats.reconciled.entry(*outcome).or_default() += 1;
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
                        busts: t.busts,
                        corrections: t.corrections,
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
        if o.reports == 0 {
            let rt = ts.saturating_sub(o.rec.sent_ns);
            self.round_trips.record(venue, Operation::New, rt);
        }
        if let Some(c) = o.cancel_sent.filter(|_| !o.cancel_answered) {
            o.cancel_answered = true;
            self.round_trips
                .record(venue, Operation::Cancel, ts.saturating_sub(c));
        }
        o.reports += 1;
        let rec = o.rec.clone();
        let Some(market) = setup.market(rec.venue, rec.instrument) else {
            return;
        };
        let assets = &setup.trade.instruments[rec.instrument];
        if r.last_qty > Decimal::ZERO {
            if o.cum_qty == Decimal::ZERO {
                if let Some(c) = self.venue_orders.get_mut(venue) {
                    c.filled += 1;
                }
            }
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
                book_flows(
                    &mut t.flows,
                    &rec,
                    base,
                    quote,
                    fee.quote_value,
                    Decimal::ONE,
                );
            }
            self.keep_fill(&rec, r.last_qty, r.last_price, fee);
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

impl State {
    /// Keeps a booked fill for a later bust or correction (the last [`BOOKED_ORDERS`] orders').
    fn keep_fill(&mut self, rec: &OrderRecord, qty: Decimal, price: Decimal, fee: &FeeCharge) {
        if !self.booked.contains_key(&rec.id) {
            while self.booked.len() >= BOOKED_ORDERS {
                // order ids grow: the first is the oldest
                self.booked.pop_first();
            }
        }
        self.booked
            .entry(rec.id)
            .or_insert_with(|| BookedOrder {
                rec: rec.clone(),
                fills: Vec::new(),
            })
            .fills
            .push(BookedFill {
                qty,
                price,
                fee: fee.clone(),
                busted: false,
            });
    }

    /// The booked fill a bust or correction names: the first of its order's fills not busted
    /// at its quantity and price (two such fills book the same amounts, so either is the one).
    pub fn booked_fill(&self, c: &TradeCorrection) -> Option<&BookedFill> {
        self.booked.get(&c.order_id).and_then(|b| {
            b.fills
                .iter()
                .find(|f| !f.busted && f.qty == c.orig_qty && f.price == c.orig_price)
        })
    }

    /// A bust or correction: the fill's amounts and fee reversed everywhere they were booked
    /// (balances, the venue's volume, the order's filled total, the trade's flows, and its
    /// realized P&L if it is closed), then, for a correction, booked again at the corrected
    /// quantity and price with the corrected fee.
    fn apply_correction(
        &mut self,
        setup: &EngineSetup,
        ts: u64,
        venue: usize,
        c: &TradeCorrection,
        orig_fee: &FeeCharge,
        fee: Option<&FeeCharge>,
    ) {
        let Some(rec) = self.booked.get(&c.order_id).map(|b| b.rec.clone()) else {
            return;
        };
        let Some(market) = setup.market(rec.venue, rec.instrument) else {
            return;
        };
        let assets = &setup.trade.instruments[rec.instrument];
        let new_fee = fee.cloned().unwrap_or_else(|| FeeCharge {
            asset: assets.quote.clone(),
            amount: Decimal::ZERO,
            quote_value: Decimal::ZERO,
        });
        let Some(f) = self.booked.get_mut(&c.order_id).and_then(|b| {
            b.fills
                .iter_mut()
                .find(|f| !f.busted && f.qty == c.orig_qty && f.price == c.orig_price)
        }) else {
            return;
        };
        match c.kind {
            CorrectionKind::Bust => f.busted = true,
            CorrectionKind::Correct => {
                (f.qty, f.price) = (c.new_qty, c.new_price);
                f.fee = new_fee.clone();
            }
        }
        let mut base_change = Decimal::ZERO;
        for (asset, delta) in
            fill_deltas(assets, market, rec.side, c.orig_qty, c.orig_price, orig_fee)
        {
            if asset == assets.base {
                base_change -= delta;
            }
            self.ledger.add(venue, &asset, -delta);
        }
        let (new_base, new_quote) = if c.new_qty > Decimal::ZERO {
            for (asset, delta) in
                fill_deltas(assets, market, rec.side, c.new_qty, c.new_price, &new_fee)
            {
                if asset == assets.base {
                    base_change += delta;
                }
                self.ledger.add(venue, &asset, delta);
            }
            (
                base_of(market, c.new_qty, c.new_price),
                quote_of(market, c.new_qty, c.new_price),
            )
        } else {
            (Decimal::ZERO, Decimal::ZERO)
        };
        let orig_base = base_of(market, c.orig_qty, c.orig_price);
        let orig_quote = quote_of(market, c.orig_qty, c.orig_price);
        self.volume[venue] += new_quote - orig_quote;
        if let Some(o) = self.orders.get_mut(&c.order_id) {
            o.cum_qty += c.new_qty - c.orig_qty;
        }
        let (busts, corrections) = match c.kind {
            CorrectionKind::Bust => (1, 0),
            CorrectionKind::Correct => (0, 1),
        };
        self.stats.busts += u64::from(busts);
        self.stats.corrections += u64::from(corrections);
        let rebook = |flows: &mut Flows| {
            book_flows(
                flows,
                &rec,
                orig_base,
                orig_quote,
                orig_fee.quote_value,
                -Decimal::ONE,
            );
            book_flows(
                flows,
                &rec,
                new_base,
                new_quote,
                new_fee.quote_value,
                Decimal::ONE,
            );
        };
        if let Some(t) = self.trades.get_mut(&rec.trade_id) {
            rebook(&mut t.flows);
            t.base_delta += base_change;
            t.busts += busts;
            t.corrections += corrections;
        } else if let Some(k) = self
            .pnl
            .closed
            .iter()
            .rposition(|t| t.trade_id == rec.trade_id)
        {
            let t = &mut self.pnl.closed[k];
            t.busts += busts;
            t.corrections += corrections;
            let mut flows = t.flows.clone();
            rebook(&mut flows);
            let d = self.pnl.amend(k, flows, ts);
            self.stats.correction_pnl += d;
        }
    }
}

/// Books a fill of `base` for `quote` (fee worth `fee_quote`) into a trade's flows, on the side
/// and purpose of its order; `sign` -1 takes a booked fill back out (exactly: every term is
/// negated, and the slippage's rounding is symmetric).
fn book_flows(
    flows: &mut Flows,
    rec: &OrderRecord,
    base: Decimal,
    quote: Decimal,
    fee_quote: Decimal,
    sign: Decimal,
) {
    let side = match (rec.purpose, rec.side) {
        (Purpose::Entry, Side::Buy) => &mut flows.entry_buy,
        (Purpose::Entry, Side::Sell) => &mut flows.entry_sell,
        (Purpose::Unwind, Side::Buy) => &mut flows.unwind_buy,
        (Purpose::Unwind, Side::Sell) => &mut flows.unwind_sell,
    };
    side.add(sign * base, sign * quote);
    match rec.purpose {
        Purpose::Entry => flows.entry_fees += sign * fee_quote,
        Purpose::Unwind => flows.unwind_fees += sign * fee_quote,
    }
    let det = base * rec.detected_price;
    flows.slippage += sign
        * round_amount(match rec.side {
            Side::Buy => quote - det,
            Side::Sell => det - quote,
        });
}

pub(super) fn record_ts(r: &Record) -> Option<u64> {
    Some(match r {
        Record::Header(_) => return None,
        Record::Progress { ts_ns, .. }
        | Record::Exec { ts_ns, .. }
        | Record::Correction { ts_ns, .. }
        | Record::CancelSent { ts_ns, .. }
        | Record::Reconciled { ts_ns, .. }
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
