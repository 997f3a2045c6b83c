//! `journal verify`: re-derives balances and P&L from a journal's records alone (its header
//! carries the initial balances, contract sizes and fee schedules) and checks them against the
//! engine's own snapshots in the journal and, optionally, against a report's `summary.json`.
//!
//! This is a second, deliberately plain implementation of the booking rules (DESIGN: amounts of
//! a fill, fees, transfers, the realized P&L of a closed trade); it shares only the rounding
//! function with the engine. Besides the snapshots it rejects every state the engine cannot
//! produce: a fill of an unknown order or from another venue, a report after the order's final
//! one, a fill whose running total disagrees with the venue's (a duplicated or missing fill),
//! fills beyond an order's quantity or outside its limit price, a fee that is not the
//! schedule's, a negative balance, a transfer larger than the balance open orders leave, a trade
//! closed with orders open, ids used twice. A resume runs exactly these checks ([`check`]) and
//! refuses a journal with any mismatch.
//!
//! A trade bust or correction must name a fill of the order, not busted, at the quantity,
//! price and fee the journal booked it with (a fill corrected before stands at its corrected
//! figures), and carry the schedule's fee for the corrected fill at the venue's volume without
//! the original; the fill is then taken back out of the balances, the volume, the order's
//! filled total and its trade's flows, and booked again at the corrected figures. A closed
//! trade's realized P&L is computed again from its new flows, and the totals move by the
//! difference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rust_decimal::Decimal;
use serde_json::Value;

use super::journal::{
    self, FeeIn, Header, JournalContents, OrderRecord, Purpose, Record, TornTail,
};
use super::money::{round_amount, ONE_BP};
use super::venue::{CorrectionKind, ExecReport, Side, TradeCorrection};

#[derive(Debug, Clone, Default)]
struct TradeFlows {
    buy_base: Decimal,
    buy_quote: Decimal,
    sell_base: Decimal,
    sell_quote: Decimal,
    fees: Decimal,
}

/// What the journal adds up to.
#[derive(Debug, Clone)]
pub struct Verified {
    pub records: usize,
    pub torn: Option<TornTail>,
    /// Not one complete record (an empty file, or the process died while creating it).
    pub torn_start: bool,
    pub venues: Vec<String>,
    pub balances: Vec<BTreeMap<String, Decimal>>,
    pub in_transit: BTreeMap<String, Decimal>,
    pub realized: Decimal,
    pub fees: Decimal,
    pub trades_closed: u64,
    pub fills: u64,
    /// Fills busted and corrected, and what that changed the realized net of closed trades by.
    pub busts: u64,
    pub corrections: u64,
    pub correction_pnl: Decimal,
    pub snapshots_checked: usize,
    /// Every disagreement found (empty: the journal is consistent).
    pub mismatches: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("journal {0}: its first record is not a header")]
    NoHeader(String),
    #[error("report {path}: {msg}")]
    Report { path: String, msg: String },
}

fn same_maps(a: &BTreeMap<String, Decimal>, b: &BTreeMap<String, Decimal>) -> bool {
    a.keys()
        .chain(b.keys())
        .all(|k| a.get(k).copied().unwrap_or_default() == b.get(k).copied().unwrap_or_default())
}

/// Reads a journal and checks it; with `report`, checks the report's summary against it too.
pub fn verify(path: &Path, report: Option<&Path>) -> Result<Verified, VerifyError> {
    let contents = journal::read(path)?;
    let v = check(path, &contents)?;
    match report {
        None => Ok(v),
        Some(dir) => check_report(v, dir),
    }
}

/// One order as the records made it.
#[derive(Debug, Clone)]
struct OrderV {
    rec: OrderRecord,
    cum: Decimal,
    done: bool,
    /// What is left of its reservation.
    reserved: Decimal,
    /// Its fills as booked: quantity, price, fee (asset, amount, quote value), busted.
    fills: Vec<FillV>,
}

#[derive(Debug, Clone)]
struct FillV {
    qty: Decimal,
    price: Decimal,
    fee: Option<super::money::FeeCharge>,
    busted: bool,
}

#[derive(Debug, Clone, Default)]
struct TradeV {
    closed: bool,
    orders: Vec<u64>,
    flows: TradeFlows,
    /// Once closed: the realized net and fees it was booked with.
    net: Decimal,
    fees: Decimal,
}

/// A trade's realized (net, fees) from its flows: base left over carried at its side's
/// average price.
fn realized_of(f: &TradeFlows) -> (Decimal, Decimal) {
    let residual = f.buy_base - f.sell_base;
    let carried = if residual > Decimal::ZERO {
        residual * f.buy_quote / f.buy_base
    } else if residual < Decimal::ZERO {
        residual * f.sell_quote / f.sell_base
    } else {
        Decimal::ZERO
    };
    let gross = round_amount(f.sell_quote - f.buy_quote + carried);
    (round_amount(gross - f.fees), round_amount(f.fees))
}

/// The books re-derived record by record.
struct Books<'h> {
    h: &'h Header,
    balances: Vec<BTreeMap<String, Decimal>>,
    reserved: Vec<BTreeMap<String, Decimal>>,
    orders: BTreeMap<u64, OrderV>,
    trades: BTreeMap<u64, TradeV>,
    transit: BTreeMap<u64, (String, usize, Decimal)>,
    transfers_seen: BTreeSet<u64>,
    volume: Vec<Decimal>,
    realized: Decimal,
    fees: Decimal,
    closed: u64,
    fills: u64,
    busts: u64,
    corrections: u64,
    correction_pnl: Decimal,
    snapshots: usize,
    negative_seen: BTreeSet<(usize, String)>,
    mismatches: Vec<String>,
}

fn add_to(b: &mut [BTreeMap<String, Decimal>], v: usize, a: &str, d: Decimal) {
    if let Some(m) = b.get_mut(v) {
        let e = m.entry(a.to_string()).or_default();
        *e = (*e + d).normalize();
    }
}

impl<'h> Books<'h> {
    fn new(h: &'h Header) -> Books<'h> {
        let n = h.venues.len();
        Books {
            h,
            balances: h.initial_balances.clone(),
            reserved: vec![BTreeMap::new(); n],
            orders: BTreeMap::new(),
            trades: BTreeMap::new(),
            transit: BTreeMap::new(),
            transfers_seen: BTreeSet::new(),
            volume: (0..n)
                .map(|v| h.fees.get(v).map_or(Decimal::ZERO, |f| f.volume_30d))
                .collect(),
            realized: Decimal::ZERO,
            fees: Decimal::ZERO,
            closed: 0,
            fills: 0,
            busts: 0,
            corrections: 0,
            correction_pnl: Decimal::ZERO,
            snapshots: 0,
            negative_seen: BTreeSet::new(),
            mismatches: Vec::new(),
        }
    }

    fn bad(&mut self, k: usize, msg: String) {
        self.mismatches.push(format!("record {k}: {msg}"));
    }

    fn venue_name(&self, v: usize) -> &str {
        self.h.venues.get(v).map_or("?", String::as_str)
    }

    fn available(&self, v: usize, asset: &str) -> Decimal {
        let get = |b: &[BTreeMap<String, Decimal>]| {
            b.get(v)
                .and_then(|m| m.get(asset))
                .copied()
                .unwrap_or_default()
        };
        get(&self.balances) - get(&self.reserved)
    }

    /// Flags a balance of venue `v` that went below zero (once per venue and asset).
    fn check_negative(&mut self, k: usize, v: usize) {
        let Some(b) = self.balances.get(v) else {
            return;
        };
        let neg: Vec<(String, Decimal)> = b
            .iter()
            .filter(|(_, x)| **x < Decimal::ZERO)
            .map(|(a, x)| (a.clone(), *x))
            .collect();
        for (a, x) in neg {
            if self.negative_seen.insert((v, a.clone())) {
                let name = self.venue_name(v).to_string();
                self.bad(k, format!("venue {name} {a} balance is negative ({x})"));
            }
        }
    }

    fn check_header(&mut self) {
        let h = self.h;
        let n = h.venues.len();
        if h.version != journal::VERSION {
            self.bad(
                0,
                format!(
                    "header version {} in a version {} journal",
                    h.version,
                    journal::VERSION
                ),
            );
        }
        if h.initial_balances.len() != n || h.inverse.len() != n || h.fees.len() != n {
            self.bad(
                0,
                format!(
                    "header: {n} venues but {} balance sheets, {} contract lists, {} fee schedules",
                    h.initial_balances.len(),
                    h.inverse.len(),
                    h.fees.len()
                ),
            );
        }
        for (v, b) in h.initial_balances.iter().enumerate() {
            for (a, x) in b {
                if *x < Decimal::ZERO {
                    let name = self.venue_name(v).to_string();
                    self.bad(
                        0,
                        format!("header: venue {name} starts with a negative {a} balance ({x})"),
                    );
                }
            }
        }
    }

    fn add_order(&mut self, k: usize, o: &OrderRecord) -> bool {
        if self.orders.contains_key(&o.id) {
            self.bad(k, format!("order id {} used twice", o.id));
            return false;
        }
        if o.venue >= self.h.venues.len() || o.instrument >= self.h.instruments.len() {
            self.bad(
                k,
                format!(
                    "order {} on venue {} instrument {}, which the header does not have",
                    o.id, o.venue, o.instrument
                ),
            );
            return false;
        }
        if o.qty <= Decimal::ZERO || o.price <= Decimal::ZERO || o.reserve < Decimal::ZERO {
            self.bad(
                k,
                format!(
                    "order {}: quantity {}, price {}, reserve {}",
                    o.id, o.qty, o.price, o.reserve
                ),
            );
        }
        let reserve = o.reserve.max(Decimal::ZERO);
        add_to(&mut self.reserved, o.venue, &o.reserve_asset, reserve);
        self.orders.insert(
            o.id,
            OrderV {
                rec: o.clone(),
                cum: Decimal::ZERO,
                done: false,
                reserved: reserve,
                fills: Vec::new(),
            },
        );
        true
    }

    fn release(&mut self, id: u64) {
        if let Some(o) = self.orders.get_mut(&id) {
            let left = std::mem::take(&mut o.reserved);
            let (v, a) = (o.rec.venue, o.rec.reserve_asset.clone());
            add_to(&mut self.reserved, v, &a, -left);
        }
    }

    /// (base, quote) of `qty` venue units at `px` on (venue, instrument).
    fn amounts(&self, v: usize, inst: usize, qty: Decimal, px: Decimal) -> (Decimal, Decimal) {
        match self
            .h
            .inverse
            .get(v)
            .and_then(|x| x.get(inst))
            .copied()
            .flatten()
        {
            None => (qty, round_amount(qty * px)),
            Some(q) => (round_amount(qty * q / px), qty * q),
        }
    }

    fn exec(
        &mut self,
        k: usize,
        venue: usize,
        r: &ExecReport,
        fee: Option<&super::money::FeeCharge>,
    ) {
        let Some(o) = self.orders.get(&r.order_id).cloned() else {
            self.bad(k, format!("report for unknown order {}", r.order_id));
            return;
        };
        let name = self.venue_name(o.rec.venue).to_string();
        if o.rec.venue != venue {
            self.bad(
                k,
                format!(
                    "report from venue {venue} for order {} on venue {name}",
                    r.order_id
                ),
            );
            return;
        }
        if o.done {
            self.bad(
                k,
                format!("report for order {} after its final report", r.order_id),
            );
            return;
        }
        if r.last_qty < Decimal::ZERO
            || (r.last_qty > Decimal::ZERO && r.last_price <= Decimal::ZERO)
        {
            self.bad(
                k,
                format!(
                    "malformed report for order {}: quantity {} at {}",
                    r.order_id, r.last_qty, r.last_price
                ),
            );
            return;
        }
        let (id, inst, side, trade) = (o.rec.id, o.rec.instrument, o.rec.side, o.rec.trade_id);
        if r.last_qty > Decimal::ZERO {
            self.fills += 1;
            let cum = o.cum + r.last_qty;
            if r.cum_qty != cum {
                self.bad(
                    k,
                    format!(
                        "order {id}: the venue's filled total {} disagrees with its fills {cum} (a duplicated or missing fill)",
                        r.cum_qty
                    ),
                );
            }
            if cum > o.rec.qty {
                self.bad(
                    k,
                    format!(
                        "order {id}: filled {cum}, beyond its quantity {}",
                        o.rec.qty
                    ),
                );
            }
            let outside = match side {
                Side::Buy => r.last_price > o.rec.price,
                Side::Sell => r.last_price < o.rec.price,
            };
            if outside {
                self.bad(
                    k,
                    format!(
                        "order {id}: {} filled at {}, beyond its limit {}",
                        side.as_str(),
                        r.last_price,
                        o.rec.price
                    ),
                );
            }
            let (base_asset, quote_asset) = {
                let (_, b, q) = &self.h.instruments[inst];
                (b.clone(), q.clone())
            };
            let (base, quote) = self.amounts(venue, inst, r.last_qty, r.last_price);
            // the schedule's fee at the venue's volume before this fill
            let expect =
                self.schedule_fee(venue, inst, self.volume[venue], base, quote, r.last_price);
            let fee_ok = match (fee, &expect) {
                (Some(f), Some((a, x, qv))) => {
                    f.asset == *a && f.amount == *x && f.quote_value == *qv
                }
                _ => false,
            };
            if !fee_ok {
                self.bad(
                    k,
                    format!(
                        "order {id}: fee {fee:?}, the venue's schedule charges {:?}",
                        expect.map(|(a, x, qv)| format!("{x} {a} (worth {qv})"))
                    ),
                );
            }
            let fee_amount = fee.map_or(Decimal::ZERO, |f| f.amount);
            let fee_asset = fee.map(|f| f.asset.clone());
            match side {
                Side::Buy => {
                    add_to(&mut self.balances, venue, &base_asset, base);
                    add_to(&mut self.balances, venue, &quote_asset, -quote);
                }
                Side::Sell => {
                    add_to(&mut self.balances, venue, &base_asset, -base);
                    add_to(&mut self.balances, venue, &quote_asset, quote);
                }
            }
            if let Some(a) = &fee_asset {
                add_to(&mut self.balances, venue, a, -fee_amount);
            }
            // what the fill used of the order's reservation (as the engine books it)
            let held = match side {
                Side::Buy => quote,
                Side::Sell => base,
            };
            let fee_held = if fee_asset.as_deref() == Some(o.rec.reserve_asset.as_str()) {
                fee_amount
            } else {
                Decimal::ZERO
            };
            let o = self.orders.get_mut(&id).expect("order looked up above");
            o.cum = cum;
            o.fills.push(FillV {
                qty: r.last_qty,
                price: r.last_price,
                fee: fee.cloned(),
                busted: false,
            });
            let take = (held + fee_held).max(Decimal::ZERO).min(o.reserved);
            o.reserved -= take;
            let reserve_asset = o.rec.reserve_asset.clone();
            add_to(&mut self.reserved, venue, &reserve_asset, -take);
            self.volume[venue] += quote;
            let f = &mut self.trades.entry(trade).or_default().flows;
            match side {
                Side::Buy => {
                    f.buy_base += base;
                    f.buy_quote += quote;
                }
                Side::Sell => {
                    f.sell_base += base;
                    f.sell_quote += quote;
                }
            }
            if let Some(fee) = fee {
                f.fees += fee.quote_value;
            }
            self.check_negative(k, venue);
        }
        if r.kind.is_final() {
            self.release(id);
            if let Some(o) = self.orders.get_mut(&id) {
                o.done = true;
            }
        }
    }

    /// The schedule's taker fee of a fill of `base` for `quote` at `price` on (venue,
    /// instrument) at the venue's 30-day `volume`: (asset, amount, quote value).
    fn schedule_fee(
        &self,
        venue: usize,
        inst: usize,
        volume: Decimal,
        base: Decimal,
        quote: Decimal,
        price: Decimal,
    ) -> Option<(String, Decimal, Decimal)> {
        let (_, base_asset, quote_asset) = self.h.instruments.get(inst)?;
        let f = self.h.fees.get(venue)?;
        let rate = f
            .tiers
            .iter()
            .rev()
            .find(|t| volume >= t.0)
            .map_or(f.taker_bps, |t| t.1);
        Some(match &f.asset {
            FeeIn::Quote => {
                let a = round_amount(quote * rate * ONE_BP);
                (quote_asset.clone(), a, a)
            }
            FeeIn::Base => {
                let a = round_amount(base * rate * ONE_BP);
                (base_asset.clone(), a, round_amount(a * price))
            }
            FeeIn::Other { asset, price: p } => {
                let a = round_amount(quote * rate * ONE_BP / *p);
                (asset.clone(), a, round_amount(a * *p))
            }
        })
    }

    /// Books (`sign` 1) or takes back (-1) a fill's amounts and fee: balances, volume, the
    /// trade's flows.
    #[allow(clippy::too_many_arguments)]
    fn book(
        &mut self,
        venue: usize,
        inst: usize,
        side: Side,
        trade: u64,
        qty: Decimal,
        price: Decimal,
        fee: Option<&super::money::FeeCharge>,
        sign: Decimal,
    ) {
        let (base_asset, quote_asset) = {
            let (_, b, q) = &self.h.instruments[inst];
            (b.clone(), q.clone())
        };
        let (base, quote) = self.amounts(venue, inst, qty, price);
        let (db, dq) = match side {
            Side::Buy => (base, -quote),
            Side::Sell => (-base, quote),
        };
        add_to(&mut self.balances, venue, &base_asset, sign * db);
        add_to(&mut self.balances, venue, &quote_asset, sign * dq);
        if let Some(f) = fee {
            add_to(&mut self.balances, venue, &f.asset, -sign * f.amount);
        }
        self.volume[venue] += sign * quote;
        let f = &mut self.trades.entry(trade).or_default().flows;
        match side {
            Side::Buy => {
                f.buy_base += sign * base;
                f.buy_quote += sign * quote;
            }
            Side::Sell => {
                f.sell_base += sign * base;
                f.sell_quote += sign * quote;
            }
        }
        if let Some(fee) = fee {
            f.fees += sign * fee.quote_value;
        }
    }

    fn correction(
        &mut self,
        k: usize,
        venue: usize,
        c: &TradeCorrection,
        orig_fee: &super::money::FeeCharge,
        fee: Option<&super::money::FeeCharge>,
    ) {
        let id = c.order_id;
        let Some(o) = self.orders.get(&id).cloned() else {
            self.bad(k, format!("bust or correction of unknown order {id}"));
            return;
        };
        if o.rec.venue != venue {
            self.bad(
                k,
                format!("bust or correction from venue {venue} of order {id} on another venue"),
            );
            return;
        }
        let shape = match c.kind {
            CorrectionKind::Bust => c.new_qty.is_zero() && c.new_price.is_zero() && fee.is_none(),
            CorrectionKind::Correct => {
                c.new_qty > Decimal::ZERO && c.new_price > Decimal::ZERO && fee.is_some()
            }
        };
        if !shape {
            self.bad(
                k,
                format!(
                    "order {id}: a {:?} to {} at {} with fee {fee:?}",
                    c.kind, c.new_qty, c.new_price
                ),
            );
            return;
        }
        let Some(n) = o.fills.iter().position(|f| {
            !f.busted
                && f.qty == c.orig_qty
                && f.price == c.orig_price
                && f.fee.as_ref() == Some(orig_fee)
        }) else {
            self.bad(
                k,
                format!(
                    "order {id}: no fill of {} at {} with fee {orig_fee:?} left to bust or correct",
                    c.orig_qty, c.orig_price
                ),
            );
            return;
        };
        let (inst, side, trade) = (o.rec.instrument, o.rec.side, o.rec.trade_id);
        self.book(
            venue,
            inst,
            side,
            trade,
            c.orig_qty,
            c.orig_price,
            Some(orig_fee),
            -Decimal::ONE,
        );
        if c.kind == CorrectionKind::Correct {
            let (base, quote) = self.amounts(venue, inst, c.new_qty, c.new_price);
            let expect =
                self.schedule_fee(venue, inst, self.volume[venue], base, quote, c.new_price);
            let ok = matches!((fee, &expect), (Some(f), Some((a, x, qv)))
                if f.asset == *a && f.amount == *x && f.quote_value == *qv);
            if !ok {
                self.bad(
                    k,
                    format!(
                        "order {id}: corrected fill's fee {fee:?}, the schedule charges {expect:?}"
                    ),
                );
            }
            self.book(
                venue,
                inst,
                side,
                trade,
                c.new_qty,
                c.new_price,
                fee,
                Decimal::ONE,
            );
            self.corrections += 1;
        } else {
            self.busts += 1;
        }
        if let Some(o) = self.orders.get_mut(&id) {
            o.cum += c.new_qty - c.orig_qty;
            let f = &mut o.fills[n];
            match c.kind {
                CorrectionKind::Bust => f.busted = true,
                CorrectionKind::Correct => {
                    (f.qty, f.price, f.fee) = (c.new_qty, c.new_price, fee.cloned());
                }
            }
        }
        if let Some(t) = self.trades.get_mut(&trade).filter(|t| t.closed) {
            let (net, fees) = realized_of(&t.flows);
            self.realized += net - t.net;
            self.fees += fees - t.fees;
            self.correction_pnl += net - t.net;
            (t.net, t.fees) = (net, fees);
        }
    }

    fn record(&mut self, k: usize, rec: &Record) {
        match rec {
            Record::Header(_) => {
                if k > 0 {
                    self.bad(k, "a second header".into());
                }
            }
            Record::TradeOpen(t) => {
                if self.trades.contains_key(&t.trade_id) {
                    self.bad(k, format!("trade id {} used twice", t.trade_id));
                    return;
                }
                let mut tv = TradeV::default();
                for (o, side, venue) in [
                    (&t.buy, Side::Buy, t.buy_venue),
                    (&t.sell, Side::Sell, t.sell_venue),
                ] {
                    if o.side != side
                        || o.trade_id != t.trade_id
                        || o.purpose != Purpose::Entry
                        || o.venue != venue
                        || o.instrument != t.instrument
                    {
                        self.bad(
                            k,
                            format!(
                                "trade {}: its {} leg does not match the trade",
                                t.trade_id,
                                side.as_str()
                            ),
                        );
                    }
                    if self.add_order(k, o) {
                        tv.orders.push(o.id);
                    }
                }
                self.trades.insert(t.trade_id, tv);
            }
            Record::Order(o) => {
                if self.trades.get(&o.trade_id).is_none_or(|t| t.closed) {
                    self.bad(
                        k,
                        format!(
                            "unwind order {} for trade {}, which is not open",
                            o.id, o.trade_id
                        ),
                    );
                }
                if o.purpose != Purpose::Unwind {
                    self.bad(
                        k,
                        format!("order {} outside a trade record is not an unwind", o.id),
                    );
                }
                if self.add_order(k, o) {
                    if let Some(t) = self.trades.get_mut(&o.trade_id) {
                        t.orders.push(o.id);
                    }
                }
            }
            Record::Exec {
                venue, report, fee, ..
            } => self.exec(k, *venue, report, fee.as_ref()),
            Record::Correction {
                venue,
                correction,
                orig_fee,
                fee,
                ..
            } => self.correction(k, *venue, correction, orig_fee, fee.as_ref()),
            Record::Reconciled {
                status, outcome, ..
            } => {
                // what a venue said after a restart: of an order sent (an unexpected one: of
                // one not in flight)
                let order = self.orders.get(&status.order_id);
                let unexpected = *outcome == super::journal::ReconcileOutcome::Unexpected;
                let wrong = if unexpected {
                    order.is_some_and(|o| !o.done)
                } else {
                    order.is_none()
                };
                if wrong {
                    self.bad(
                        k,
                        format!(
                            "reconcile ({outcome:?}) of order {}, which is {}",
                            status.order_id,
                            if unexpected { "in flight" } else { "unknown" }
                        ),
                    );
                }
            }
            Record::CancelSent { order_id, .. } => {
                if self.orders.get(order_id).is_none_or(|o| o.done) {
                    self.bad(k, format!("cancel of order {order_id}, which is not open"));
                }
            }
            Record::OrderLost { order_id, .. } => {
                if self.orders.get(order_id).is_none_or(|o| o.done) {
                    self.bad(k, format!("order {order_id} lost, but it is not open"));
                    return;
                }
                self.release(*order_id);
                if let Some(o) = self.orders.get_mut(order_id) {
                    o.done = true;
                }
            }
            Record::UnwindWait { trade_id, .. } => {
                if self.trades.get(trade_id).is_none_or(|t| t.closed) {
                    self.bad(
                        k,
                        format!("unwind wait for trade {trade_id}, which is not open"),
                    );
                }
            }
            Record::TradeClosed { trade_id, .. } => {
                let Some(t) = self.trades.get(trade_id).filter(|t| !t.closed).cloned() else {
                    self.bad(k, format!("trade {trade_id} closed, but it is not open"));
                    return;
                };
                if let Some(id) = t
                    .orders
                    .iter()
                    .find(|id| self.orders.get(id).is_some_and(|o| !o.done))
                {
                    self.bad(
                        k,
                        format!("trade {trade_id} closed while its order {id} is open"),
                    );
                }
                let (net, fees) = realized_of(&t.flows);
                self.realized += net;
                self.fees += fees;
                self.closed += 1;
                if let Some(t) = self.trades.get_mut(trade_id) {
                    (t.closed, t.net, t.fees) = (true, net, fees);
                }
            }
            Record::TransferSent(t) => {
                let n = self.h.venues.len();
                if !self.transfers_seen.insert(t.id) {
                    self.bad(k, format!("transfer id {} used twice", t.id));
                    return;
                }
                if t.from >= n || t.to >= n || t.from == t.to {
                    self.bad(
                        k,
                        format!("transfer {} from venue {} to venue {}", t.id, t.from, t.to),
                    );
                    return;
                }
                if t.amount <= Decimal::ZERO || t.fee < Decimal::ZERO {
                    self.bad(
                        k,
                        format!("transfer {} of {} with fee {}", t.id, t.amount, t.fee),
                    );
                }
                let avail = self.available(t.from, &t.asset);
                if t.amount + t.fee > avail {
                    let name = self.venue_name(t.from).to_string();
                    self.bad(
                        k,
                        format!(
                            "transfer {} of {} {} (fee {}) from venue {name}, which has {} available",
                            t.id, t.amount, t.asset, t.fee, avail
                        ),
                    );
                }
                add_to(&mut self.balances, t.from, &t.asset, -(t.amount + t.fee));
                self.transit.insert(t.id, (t.asset.clone(), t.to, t.amount));
                self.check_negative(k, t.from);
            }
            Record::TransferArrived { id, .. } => match self.transit.remove(id) {
                Some((asset, to, amount)) => add_to(&mut self.balances, to, &asset, amount),
                None => self.bad(
                    k,
                    format!("arrival of transfer {id}, which is not in transit"),
                ),
            },
            Record::Snapshot(s) => self.snapshot(k, s),
            Record::Progress { .. }
            | Record::Refused(_)
            | Record::VenueState { .. }
            | Record::Kill { .. } => {}
        }
    }

    fn in_transit(&self) -> BTreeMap<String, Decimal> {
        let mut tr: BTreeMap<String, Decimal> = BTreeMap::new();
        for (a, _, x) in self.transit.values() {
            *tr.entry(a.clone()).or_default() += *x;
        }
        tr
    }

    fn snapshot(&mut self, k: usize, s: &journal::Snapshot) {
        self.snapshots += 1;
        let tr = self.in_transit();
        for v in 0..self.balances.len() {
            let b = &self.balances[v];
            match s.balances.get(v) {
                Some(sb) if same_maps(b, sb) => {}
                other => {
                    let msg = format!(
                        "snapshot at record {k}: venue {} balances: journal gives {b:?}, engine had {other:?}",
                        self.venue_name(v)
                    );
                    self.mismatches.push(msg);
                }
            }
        }
        if !same_maps(&tr, &s.in_transit) {
            self.mismatches.push(format!(
                "snapshot at record {k}: in transit: journal gives {tr:?}, engine had {:?}",
                s.in_transit
            ));
        }
        if s.realized_pnl != self.realized || s.fees != self.fees || s.trades_closed != self.closed
        {
            self.mismatches.push(format!(
                "snapshot at record {k}: realized {} fees {} closed {} from the journal, engine had {} / {} / {}",
                self.realized, self.fees, self.closed, s.realized_pnl, s.fees, s.trades_closed
            ));
        }
        for (i, (_, base, _)) in self.h.instruments.iter().enumerate() {
            let sum = |b: &[BTreeMap<String, Decimal>]| -> Decimal {
                b.iter()
                    .map(|m| m.get(base).copied().unwrap_or_default())
                    .sum()
            };
            let pos = sum(&self.balances) + tr.get(base).copied().unwrap_or_default()
                - sum(&self.h.initial_balances);
            if s.positions.get(i) != Some(&pos) {
                self.mismatches.push(format!(
                    "snapshot at record {k}: {base} position: journal gives {pos}, engine had {:?}",
                    s.positions.get(i)
                ));
            }
        }
    }
}

/// Checks a journal's records (as `journal::read` found them): the same checks whether run by
/// `journal verify` or before a resume.
pub fn check(path: &Path, contents: &JournalContents) -> Result<Verified, VerifyError> {
    if contents.is_empty() {
        return Ok(Verified {
            records: 0,
            torn: contents.torn,
            torn_start: true,
            venues: Vec::new(),
            balances: Vec::new(),
            in_transit: BTreeMap::new(),
            realized: Decimal::ZERO,
            fees: Decimal::ZERO,
            trades_closed: 0,
            fills: 0,
            busts: 0,
            corrections: 0,
            correction_pnl: Decimal::ZERO,
            snapshots_checked: 0,
            mismatches: Vec::new(),
        });
    }
    let Some(Record::Header(h)) = contents.records.first() else {
        return Err(VerifyError::NoHeader(path.display().to_string()));
    };
    let mut b = Books::new(h);
    b.check_header();
    for (k, rec) in contents.records.iter().enumerate() {
        b.record(k, rec);
    }
    let in_transit = b.in_transit();
    Ok(Verified {
        records: contents.records.len(),
        torn: contents.torn,
        torn_start: false,
        venues: h.venues.clone(),
        balances: b.balances,
        in_transit,
        realized: b.realized,
        fees: b.fees,
        trades_closed: b.closed,
        fills: b.fills,
        busts: b.busts,
        corrections: b.corrections,
        correction_pnl: b.correction_pnl,
        snapshots_checked: b.snapshots,
        mismatches: b.mismatches,
    })
}

fn dec_at(v: &Value, p: &str) -> Option<Decimal> {
    v.pointer(p)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn check_report(mut v: Verified, dir: &Path) -> Result<Verified, VerifyError> {
    let path = dir.join("summary.json");
    let err = |msg: String| VerifyError::Report {
        path: path.display().to_string(),
        msg,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    let s: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    for (what, p, ours) in [
        ("realized net P&L", "/pnl/realized_net", v.realized),
        ("fees", "/pnl/fees", v.fees),
        (
            "busts' and corrections' P&L effect",
            "/corrections/pnl_effect",
            v.correction_pnl,
        ),
    ] {
        match dec_at(&s, p) {
            Some(x) if x == ours => {}
            other => v.mismatches.push(format!(
                "report {what}: {other:?}, the journal gives {ours}"
            )),
        }
    }
    for (what, p, ours) in [
        ("busts", "/corrections/busts", v.busts),
        ("corrections", "/corrections/corrections", v.corrections),
    ] {
        if s.pointer(p).and_then(Value::as_u64) != Some(ours) {
            v.mismatches.push(format!(
                "report {what} {:?}, the journal gives {ours}",
                s.pointer(p)
            ));
        }
    }
    if s.pointer("/trades_closed").and_then(Value::as_u64) != Some(v.trades_closed) {
        v.mismatches.push(format!(
            "report trades_closed {:?}, the journal gives {}",
            s.pointer("/trades_closed"),
            v.trades_closed
        ));
    }
    for (k, name) in v.venues.clone().iter().enumerate() {
        let Some(b) = s
            .pointer(&format!("/venues/{k}/balances"))
            .and_then(Value::as_object)
        else {
            v.mismatches
                .push(format!("report has no balances for venue {name}"));
            continue;
        };
        let mut theirs = BTreeMap::new();
        for (a, x) in b {
            if let Some(d) = x
                .get("end")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
            {
                theirs.insert(a.clone(), d);
            }
        }
        if !same_maps(&v.balances[k], &theirs) {
            v.mismatches.push(format!(
                "report venue {name} balances {theirs:?}, the journal gives {:?}",
                v.balances[k]
            ));
        }
    }
    Ok(v)
}
