//! `run --metrics ADDR`: what the live host publishes to its Prometheus endpoint
//! (tickcross_metrics), at most four times a second, off the event path: the detection path's
//! counters (the card's are BAR reads), its events, the trading engine's orders, fills, round
//! trips, balances, positions, P&L, refusals, reconcile outcomes, busts and corrections, and kill
//! switch. Detection latencies are observed as the events are taken (live.rs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tickcross_core::counters::Counters;
use tickcross_metrics::Metrics;
use tickcross_trading::run::Trader;

/// How often the figures are published.
const EVERY: Duration = Duration::from_millis(250);

pub struct Publisher {
    metrics: Arc<Metrics>,
    /// "hw" or "sw": the path in charge.
    path: &'static str,
    /// The paths of the run (both with a standby).
    paths: &'static [&'static str],
    /// Switches between them so far.
    switches: u64,
    last: Option<Instant>,
    events_seen: u64,
    round_trips_next: u64,
}

fn f(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl Publisher {
    pub fn new(metrics: Arc<Metrics>, path: &'static str, standby: bool) -> Publisher {
        let paths: &'static [&'static str] = match (standby, path) {
            (true, _) => &["hw", "sw"],
            (false, "hw") => &["hw"],
            (false, _) => &["sw"],
        };
        Publisher {
            metrics,
            path,
            paths,
            switches: 0,
            last: None,
            events_seen: 0,
            round_trips_next: 0,
        }
    }

    /// Detection switched (`run --fallback`): `to` is in charge after `switches` switches.
    pub fn switched(&mut self, to: &'static str, switches: u64) {
        self.path = to;
        self.switches = switches;
    }

    pub fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= EVERY)
    }

    pub fn publish(&mut self, counters: &Counters, events: u64, trader: Option<&Trader>) {
        self.last = Some(Instant::now());
        let m = &self.metrics;
        m.set_counters(self.path, counters.named());
        m.add_events(self.path, events.saturating_sub(self.events_seen));
        self.events_seen = events;
        m.set_detecting(self.paths, self.path, self.switches);
        let Some(t) = trader else { return };
        let engine = t.engine();
        let (setup, st) = (engine.setup(), engine.state());
        for (v, name) in setup.venue_names.iter().enumerate() {
            let c = st.venue_orders[v];
            m.set_order_totals(name, c.sent, c.filled);
            for (asset, bal) in &st.ledger.balances()[v] {
                m.set_balance(name, asset, f(*bal));
                let start = st.initial[v].get(asset).copied().unwrap_or_default();
                m.set_position(name, asset, f(*bal - start));
            }
        }
        let (samples, next) = st.round_trips.since(self.round_trips_next);
        for &(v, op, ns) in samples {
            m.observe_round_trip(&setup.venue_names[v], op.as_str(), ns);
        }
        self.round_trips_next = next;
        m.set_pnl(f(st.pnl.realized), f(t.mark_to_market()), f(st.pnl.fees));
        m.set_refusals(st.refused.iter().map(|(r, n)| (r.as_str(), *n)));
        m.set_reconciled(st.stats.reconciled.iter().map(|(o, n)| (o.as_str(), *n)));
        m.set_corrections([
            ("bust", st.stats.busts),
            ("correct", st.stats.corrections),
            ("refused", st.stats.corrections_refused),
        ]);
        m.set_kill_switch(st.killed);
    }
}
