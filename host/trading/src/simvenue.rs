//! The simulated venue of replay and tests. An order reaches the venue's book one latency after
//! it is sent and fills against that venue's replayed quote at that moment (the quote set by the
//! last frame stamped at or before the arrival), partially by the displayed quantity; what it
//! takes of the displayed quantity is gone until the venue's quote next changes. Reports come back
//! after the same latency. Rejects, silent orders (timeouts) and disconnects are injected by
//! config, at random (a deterministic draw per order) or over windows of replay time.
//! While disconnected the venue refuses orders and cancels every open one; the cancels are
//! reported when the session is back (cancel-on-disconnect).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::rc::Rc;

use rust_decimal::Decimal;

use super::config::{FaultKind, Latency, Market, SimVenueConfig};
use super::money::{price9_to_decimal, units_within_size};
use super::venue::{
    ExecKind, ExecReport, OrderId, OrderRequest, Side, Venue, VenueClock, VenueError, VenueEvent,
};
use tickcross_core::frame::Frame;
use tickcross_core::quotes::{QuoteEntry, QuoteTable};
use tickcross_swpath::SwDetector;

/// The venues' own books, as the replayed frames set them.
#[derive(Debug)]
pub struct MarketView {
    feed: Option<SwDetector>,
    manual: QuoteTable,
}

impl MarketView {
    /// Books kept by decoding frames (the software decoder: this is the venues' side of the
    /// world, not a detection path).
    pub fn from_frames(feed: SwDetector) -> MarketView {
        MarketView {
            feed: Some(feed),
            manual: QuoteTable::default(),
        }
    }

    /// Books set by hand (tests).
    pub fn manual() -> MarketView {
        MarketView {
            feed: None,
            manual: QuoteTable::default(),
        }
    }

    pub fn apply_frame(&mut self, frame: &Frame) {
        if let Some(f) = self.feed.as_mut() {
            f.process(frame.ts_ns, &frame.data, frame.bad);
            f.discard_events();
        }
    }

    pub fn set_quote(&mut self, venue: usize, instrument: usize, q: QuoteEntry) {
        *self.manual.get_mut(venue, instrument) = QuoteEntry { valid: true, ..q };
    }

    pub fn quote(&self, venue: usize, instrument: usize) -> QuoteEntry {
        match &self.feed {
            Some(f) => *f.quote_table().get(venue, instrument),
            None => *self.manual.get(venue, instrument),
        }
    }

    /// A mark price for an instrument: the mid of the lowest-index venue quoting both sides.
    pub fn mark(&self, instrument: usize, venues: usize) -> Option<Decimal> {
        (0..venues).find_map(|v| {
            let q = self.quote(v, instrument);
            (!q.bid_empty() && !q.ask_empty()).then(|| {
                ((price9_to_decimal(q.bid_price) + price9_to_decimal(q.ask_price)) / Decimal::TWO)
                    .normalize()
            })
        })
    }
}

pub type SharedMarket = Rc<RefCell<MarketView>>;

/// splitmix64: the per-order draws (latency, faults) depend only on the seed, venue and order.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[derive(Debug, Clone)]
enum Action {
    Arrive(OrderRequest),
    CancelArrive(OrderId),
    Deliver(VenueEvent),
    Disconnect,
    Reconnect,
}

/// One simulated venue.
pub struct SimVenue {
    index: usize,
    cfg: SimVenueConfig,
    seed: u64,
    market: SharedMarket,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    actions: BTreeMap<usize, Action>,
    next_action: usize,
    tiebreak: u64,
    connected: bool,
    origin_ns: Option<u64>,
    /// Orders at the venue that have not ended: never answered (an injected timeout), or lost
    /// in an outage.
    open: BTreeMap<OrderId, OrderRequest>,
    /// Orders sent but not yet arrived.
    in_flight: BTreeMap<OrderId, ()>,
    /// Per (instrument, side): the quote entry the consumption was measured against, and how
    /// much of its displayed quantity our fills took.
    consumed: BTreeMap<(usize, Side), (QuoteEntry, Decimal)>,
    /// Reports to hold back per order (already journaled before a restart).
    suppress: BTreeMap<OrderId, usize>,
    /// Cancels lost while disconnected, reported at reconnect.
    cancelled_in_outage: Vec<OrderId>,
    /// Per instrument: the venue's market (how its units relate to the base asset).
    markets: Vec<Option<Market>>,
}

impl std::fmt::Debug for SimVenue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimVenue")
            .field("index", &self.index)
            .field("connected", &self.connected)
            .finish()
    }
}

impl SimVenue {
    pub fn new(index: usize, cfg: SimVenueConfig, seed: u64, market: SharedMarket) -> SimVenue {
        SimVenue {
            index,
            cfg,
            seed,
            market,
            queue: BinaryHeap::new(),
            actions: BTreeMap::new(),
            next_action: 0,
            tiebreak: 0,
            connected: true,
            origin_ns: None,
            open: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            consumed: BTreeMap::new(),
            suppress: BTreeMap::new(),
            cancelled_in_outage: Vec::new(),
            markets: Vec::new(),
        }
    }

    /// The venue's markets, per instrument: an order on an inverse market never fills more
    /// base than its size at its limit price (see `SimVenue::fillable`).
    pub fn with_markets(mut self, markets: Vec<Option<Market>>) -> SimVenue {
        self.markets = markets;
        self
    }

    /// The most of `order` (venue units) that may fill at `px`. An order's size is a base
    /// amount; on an inverse market its contracts are that amount at the limit price, and a
    /// fill at a better price would be worth more base (a buy filled below its limit): it is
    /// cut to the contracts worth at most the order's base size at the fill price.
    fn fillable(&self, order: &OrderRequest, px: Decimal) -> Decimal {
        match self.markets.get(order.instrument).and_then(Option::as_ref) {
            Some(m) => units_within_size(m, order.qty, order.price, px),
            None => order.qty,
        }
    }

    /// One simulated venue per configured venue, over one market, fault windows from `origin_ns`.
    pub fn for_config(
        cfg: &crate::config::TradeConfig,
        market: &SharedMarket,
        origin_ns: u64,
    ) -> Vec<SimVenue> {
        cfg.venues
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let mut s = SimVenue::new(k, v.sim.clone(), cfg.params.seed, market.clone())
                    .with_markets(v.markets.clone());
                s.set_origin(origin_ns);
                s
            })
            .collect()
    }

    /// Fault windows count from here (the replay's first frame).
    pub fn set_origin(&mut self, origin_ns: u64) {
        if self.origin_ns.is_some() {
            return;
        }
        self.origin_ns = Some(origin_ns);
        let faults = self.cfg.faults.clone();
        for f in faults {
            if f.kind == FaultKind::Disconnect {
                let start = origin_ns + f.start_ns;
                self.schedule(start, Action::Disconnect);
                self.schedule(start + f.duration_ns, Action::Reconnect);
            }
        }
    }

    fn schedule(&mut self, at: u64, a: Action) {
        let k = self.next_action;
        self.next_action += 1;
        self.actions.insert(k, a);
        self.tiebreak += 1;
        self.queue.push(Reverse((at, self.tiebreak, k)));
    }

    fn draw(&self, order: OrderId, what: u64) -> u64 {
        mix(self.seed ^ mix((self.index as u64) << 56 ^ order) ^ mix(what))
    }

    pub fn latency_of(&self, order: OrderId) -> u64 {
        match &self.cfg.latency {
            Latency::Constant(ns) => *ns,
            Latency::Uniform(lo, hi) => lo + self.draw(order, 1) % (hi - lo + 1),
            Latency::Choices(c) => c[(self.draw(order, 1) % c.len() as u64) as usize],
        }
    }

    fn in_window(&self, kind: FaultKind, t: u64, origin: u64) -> bool {
        self.cfg.faults.iter().any(|f| {
            f.kind == kind && t >= origin + f.start_ns && t < origin + f.start_ns + f.duration_ns
        })
    }

    fn report(
        order: &OrderRequest,
        kind: ExecKind,
        last_qty: Decimal,
        last_price: Decimal,
        cum: Decimal,
        text: Option<&str>,
        ts: u64,
    ) -> VenueEvent {
        VenueEvent::Exec(ExecReport {
            order_id: order.id,
            kind,
            last_qty,
            last_price,
            cum_qty: cum,
            leaves_qty: if kind.is_final() {
                Decimal::ZERO
            } else {
                order.qty - cum
            },
            text: text.map(str::to_string),
            ts_ns: ts,
        })
    }

    fn deliver(&mut self, at: u64, ev: VenueEvent) {
        if let VenueEvent::Exec(r) = &ev {
            if let Some(n) = self.suppress.get_mut(&r.order_id) {
                if *n > 0 {
                    *n -= 1;
                    return;
                }
            }
        }
        self.schedule(at, Action::Deliver(ev));
    }

    fn arrive(&mut self, order: OrderRequest, t: u64, origin: u64) {
        self.in_flight.remove(&order.id);
        let back = t + self.latency_of(order.id);
        if !self.connected {
            // lost in the outage: cancelled by the venue, reported when the session is back
            self.cancelled_in_outage.push(order.id);
            self.open.insert(order.id, order);
            return;
        }
        let ppm = |d: u64| (d % 1_000_000) as u32;
        if self.in_window(FaultKind::Reject, t, origin)
            || ppm(self.draw(order.id, 2)) < self.cfg.reject_ppm
        {
            let ev = SimVenue::report(
                &order,
                ExecKind::Rejected,
                Decimal::ZERO,
                Decimal::ZERO,
                Decimal::ZERO,
                Some("simulated reject"),
                t,
            );
            self.deliver(back, ev);
            return;
        }
        if self.in_window(FaultKind::Timeout, t, origin)
            || ppm(self.draw(order.id, 3)) < self.cfg.timeout_ppm
        {
            self.open.insert(order.id, order);
            return;
        }
        let q = self.market.borrow().quote(self.index, order.instrument);
        let (price, shown, empty) = match order.side {
            Side::Buy => (q.ask_price, q.ask_qty, q.ask_empty()),
            Side::Sell => (q.bid_price, q.bid_qty, q.bid_empty()),
        };
        let px = price9_to_decimal(price);
        let crosses = !empty
            && match order.side {
                Side::Buy => px <= order.price,
                Side::Sell => px >= order.price,
            };
        let key = (order.instrument, order.side);
        let taken = match self.consumed.get(&key) {
            Some((entry, n)) if *entry == q => *n,
            _ => Decimal::ZERO,
        };
        let left = (price9_to_decimal(shown) - taken).max(Decimal::ZERO);
        let fill = if crosses {
            self.fillable(&order, px).min(left)
        } else {
            Decimal::ZERO
        };
        if fill > Decimal::ZERO {
            self.consumed.insert(key, (q, taken + fill));
        }
        if fill == order.qty {
            let ev = SimVenue::report(&order, ExecKind::Fill, fill, px, fill, None, t);
            self.deliver(back, ev);
        } else {
            if fill > Decimal::ZERO {
                let ev = SimVenue::report(&order, ExecKind::PartialFill, fill, px, fill, None, t);
                self.deliver(back, ev);
            }
            let ev = SimVenue::report(
                &order,
                ExecKind::Expired,
                Decimal::ZERO,
                Decimal::ZERO,
                fill,
                Some("IOC remainder cancelled"),
                t,
            );
            self.deliver(back, ev);
        }
    }

    /// After a restart: an order sent before it, replayed so that the venue's book (what earlier
    /// fills took) and the order's own outcome are as they were. The first `reports_seen`
    /// reports of the order are not delivered again.
    pub fn restore_order(&mut self, order: &OrderRequest, sent_ns: u64, reports_seen: usize) {
        self.suppress.insert(order.id, reports_seen);
        self.in_flight.insert(order.id, ());
        let at = sent_ns + self.latency_of(order.id);
        self.schedule(at, Action::Arrive(order.clone()));
    }

    /// After a restart: a cancel sent before it.
    pub fn restore_cancel(&mut self, order: OrderId, sent_ns: u64) {
        let at = sent_ns + self.latency_of(order);
        self.schedule(at, Action::CancelArrive(order));
    }

    fn run_due(&mut self, now: u64, out: &mut Vec<VenueEvent>) {
        let origin = self.origin();
        while let Some(&Reverse((t, _, k))) = self.queue.peek() {
            if t > now {
                break;
            }
            self.queue.pop();
            let Some(action) = self.actions.remove(&k) else {
                continue;
            };
            match action {
                Action::Arrive(o) => self.arrive(o, t, origin),
                Action::CancelArrive(id) => {
                    let back = t + self.latency_of(id);
                    if !self.connected {
                        continue;
                    }
                    match self.open.remove(&id) {
                        Some(r) => {
                            let ev = SimVenue::report(
                                &r,
                                ExecKind::Canceled,
                                Decimal::ZERO,
                                Decimal::ZERO,
                                Decimal::ZERO,
                                Some("cancelled on request"),
                                t,
                            );
                            self.deliver(back, ev);
                        }
                        None if self.in_flight.contains_key(&id) => {
                            // overtook its order: the venue does not know it yet
                            self.schedule(
                                back,
                                Action::Deliver(VenueEvent::CancelRejected {
                                    order_id: id,
                                    text: "unknown order".into(),
                                }),
                            );
                        }
                        None => self.schedule(
                            back,
                            Action::Deliver(VenueEvent::CancelRejected {
                                order_id: id,
                                text: "order already closed".into(),
                            }),
                        ),
                    }
                }
                Action::Deliver(ev) => out.push(ev),
                Action::Disconnect => {
                    if self.connected {
                        self.connected = false;
                        let ids: Vec<OrderId> = self.open.keys().copied().collect();
                        self.cancelled_in_outage.extend(ids);
                        out.push(VenueEvent::Disconnected {
                            reason: "simulated disconnect".into(),
                        });
                    }
                }
                Action::Reconnect => {
                    if !self.connected {
                        self.connected = true;
                        out.push(VenueEvent::Connected);
                        let ids = std::mem::take(&mut self.cancelled_in_outage);
                        for id in ids {
                            if let Some(r) = self.open.remove(&id) {
                                let ev = SimVenue::report(
                                    &r,
                                    ExecKind::Canceled,
                                    Decimal::ZERO,
                                    Decimal::ZERO,
                                    Decimal::ZERO,
                                    Some("cancelled on disconnect"),
                                    t,
                                );
                                // delivered now, in order, held back if journaled already
                                if let VenueEvent::Exec(rep) = &ev {
                                    if let Some(n) = self.suppress.get_mut(&rep.order_id) {
                                        if *n > 0 {
                                            *n -= 1;
                                            continue;
                                        }
                                    }
                                }
                                out.push(ev);
                            }
                        }
                    }
                }
            }
        }
    }

    fn origin(&self) -> u64 {
        self.origin_ns.unwrap_or(0)
    }
}

impl Venue for SimVenue {
    fn submit(&mut self, order: &OrderRequest, now_ns: u64) -> Result<(), VenueError> {
        if !self.connected {
            return Err(VenueError::Disconnected);
        }
        self.in_flight.insert(order.id, ());
        let at = now_ns + self.latency_of(order.id);
        self.schedule(at, Action::Arrive(order.clone()));
        Ok(())
    }

    fn cancel(&mut self, order_id: OrderId, now_ns: u64) -> Result<(), VenueError> {
        if !self.connected {
            return Err(VenueError::Disconnected);
        }
        let at = now_ns + self.latency_of(order_id);
        self.schedule(at, Action::CancelArrive(order_id));
        Ok(())
    }

    fn poll(&mut self, now_ns: u64, out: &mut Vec<VenueEvent>) -> Result<(), VenueError> {
        self.run_due(now_ns, out);
        Ok(())
    }

    fn connected(&self) -> bool {
        self.connected
    }

    fn clock(&self) -> VenueClock {
        VenueClock::Simulated
    }

    fn next_due_ns(&self) -> Option<u64> {
        self.queue.peek().map(|Reverse((t, _, _))| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Fault;

    fn order(id: OrderId, side: Side, price: &str, qty: &str) -> OrderRequest {
        OrderRequest {
            id,
            venue: 0,
            instrument: 0,
            symbol: "BTCUSDT".into(),
            side,
            price: price.parse().unwrap(),
            qty: qty.parse().unwrap(),
        }
    }

    fn venue(cfg: SimVenueConfig) -> (SimVenue, SharedMarket) {
        let m: SharedMarket = Rc::new(RefCell::new(MarketView::manual()));
        m.borrow_mut().set_quote(
            0,
            0,
            QuoteEntry {
                bid_price: 99_000_000_000,
                bid_qty: 1_000_000_000,
                ask_price: 100_000_000_000,
                ask_qty: 1_000_000_000,
                ts_ns: 0,
                valid: true,
            },
        );
        let mut v = SimVenue::new(0, cfg, 1, m.clone());
        v.set_origin(0);
        (v, m)
    }

    fn cfg(reject_ppm: u32, timeout_ppm: u32, faults: Vec<Fault>) -> SimVenueConfig {
        SimVenueConfig {
            latency: Latency::Uniform(1000, 3000),
            reject_ppm,
            timeout_ppm,
            faults,
        }
    }

    fn run(v: &mut SimVenue, until: u64) -> Vec<VenueEvent> {
        let mut out = Vec::new();
        v.poll(until, &mut out).unwrap();
        out
    }

    #[test]
    fn injected_rejects_and_timeouts_follow_their_rates() {
        let (mut v, _m) = venue(cfg(250_000, 250_000, vec![]));
        for id in 0..2000 {
            v.submit(&order(id, Side::Buy, "100", "0.0001"), 0).unwrap();
        }
        let out = run(&mut v, 1_000_000);
        let count = |k: ExecKind| {
            out.iter()
                .filter(|e| matches!(e, VenueEvent::Exec(r) if r.kind == k))
                .count()
        };
        let (rej, fill) = (count(ExecKind::Rejected), count(ExecKind::Fill));
        let silent = 2000 - rej - fill;
        assert!((400..600).contains(&rej), "{rej} rejects of 2000 at 25%");
        assert!(
            (300..450).contains(&silent),
            "{silent} silent of 2000 (25% of the rest)"
        );
        // the draws depend only on the seed, venue and order
        let (mut w, _m) = venue(cfg(250_000, 250_000, vec![]));
        for id in 0..2000 {
            w.submit(&order(id, Side::Buy, "100", "0.0001"), 0).unwrap();
        }
        assert_eq!(run(&mut w, 1_000_000), out);
    }

    #[test]
    fn fills_take_displayed_quantity_and_ioc_expires_the_rest() {
        let (mut v, m) = venue(cfg(0, 0, vec![]));
        v.submit(&order(1, Side::Buy, "100", "0.6"), 0).unwrap();
        v.submit(&order(2, Side::Buy, "100", "0.6"), 0).unwrap();
        v.submit(&order(3, Side::Sell, "99.5", "0.1"), 0).unwrap();
        let out = run(&mut v, 10_000);
        let kinds: Vec<(OrderId, ExecKind, Decimal)> = out
            .iter()
            .filter_map(|e| match e {
                VenueEvent::Exec(r) => Some((r.order_id, r.kind, r.last_qty)),
                _ => None,
            })
            .collect();
        assert!(
            kinds.contains(&(3, ExecKind::Expired, Decimal::ZERO)),
            "{kinds:?}"
        );
        let filled: Decimal = kinds.iter().filter(|k| k.0 != 3).map(|k| k.2).sum();
        assert_eq!(filled, Decimal::ONE, "{kinds:?}");
        assert_eq!(
            kinds
                .iter()
                .filter(|k| k.1 == ExecKind::PartialFill)
                .count(),
            1
        );
        // a new quote shows its full quantity again
        m.borrow_mut().set_quote(
            0,
            0,
            QuoteEntry {
                bid_price: 99_000_000_000,
                bid_qty: 1_000_000_000,
                ask_price: 100_000_000_000,
                ask_qty: 1_000_000_000,
                ts_ns: 5,
                valid: true,
            },
        );
        v.submit(&order(4, Side::Buy, "100", "0.6"), 20_000)
            .unwrap();
        let out = run(&mut v, 40_000);
        assert!(out.iter().any(
            |e| matches!(e, VenueEvent::Exec(r) if r.order_id == 4 && r.kind == ExecKind::Fill)
        ));
    }

    #[test]
    fn disconnect_refuses_orders_and_cancels_open_ones_at_reconnect() {
        let (mut v, _m) = venue(cfg(
            0,
            1_000_000,
            vec![Fault {
                kind: FaultKind::Disconnect,
                start_ns: 100_000,
                duration_ns: 100_000,
            }],
        ));
        v.submit(&order(1, Side::Buy, "100", "0.1"), 0).unwrap();
        let out = run(&mut v, 150_000);
        assert_eq!(
            out,
            vec![VenueEvent::Disconnected {
                reason: "simulated disconnect".into()
            }]
        );
        assert!(!v.connected());
        assert_eq!(
            v.submit(&order(2, Side::Buy, "100", "0.1"), 150_000),
            Err(VenueError::Disconnected)
        );
        let out = run(&mut v, 250_000);
        assert_eq!(out[0], VenueEvent::Connected);
        assert!(
            matches!(&out[1], VenueEvent::Exec(r) if r.order_id == 1 && r.kind == ExecKind::Canceled)
        );
    }
}
