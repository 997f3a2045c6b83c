//! What an operator watches: the live host's figures as Prometheus metrics, served over HTTP at
//! `/metrics` (`--metrics ADDR`). Every device and software-path counter by name and path,
//! detection latency per path, which path detects and how often it switched, order round trips
//! per venue and operation, orders and fills per venue, positions and balances per venue and
//! asset, realized and mark-to-market P&L, risk refusals by reason, orders reconciled after a
//! restart by outcome, trade busts and corrections, the kill switch.
//!
//! The host publishes into [`Metrics`] from its own loop (counters as the totals it read; each
//! latency as it is measured); a scrape renders what was published last. Money and quantities
//! are exported as floating-point numbers because that is what the exposition format carries:
//! they are for watching, and no decision reads them back (the host decides on exact decimals).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Buckets of the detection latency (seconds): 10 ns to 1 ms, finer where the paths sit.
const DETECTION_BUCKETS: &[f64] = &[
    10e-9, 20e-9, 30e-9, 50e-9, 75e-9, 100e-9, 150e-9, 200e-9, 300e-9, 500e-9, 1e-6, 2e-6, 5e-6,
    10e-6, 100e-6, 1e-3,
];
/// Buckets of an order's round trip (seconds): 10 us to 10 s.
const ROUND_TRIP_BUCKETS: &[f64] = &[
    10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3,
    250e-3, 500e-3, 1.0, 2.5, 10.0,
];

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics endpoint {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The metric families, registered once.
pub struct Metrics {
    registry: Registry,
    counters: IntCounterVec,
    /// The totals last published per (path, counter), to turn totals into increments.
    last: Mutex<HashMap<(String, String), u64>>,
    events: IntCounterVec,
    detection: HistogramVec,
    detecting: IntGaugeVec,
    failovers: IntCounter,
    round_trip: HistogramVec,
    orders: IntCounterVec,
    fills: IntCounterVec,
    positions: GaugeVec,
    balances: GaugeVec,
    realized: Gauge,
    mark_to_market: Gauge,
    fees: Gauge,
    refusals: IntCounterVec,
    reconciled: IntCounterVec,
    corrections: IntCounterVec,
    kill_switch: IntGauge,
}

fn must<T>(r: Result<T, prometheus::Error>) -> T {
    // the names, labels and buckets below are constants: a failure is a bug here
    r.expect("a metric family defined in this file is valid")
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = must(IntCounterVec::new(Opts::new(name, help), labels));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let g = must(GaugeVec::new(Opts::new(name, help), labels));
            must(registry.register(Box::new(g.clone())));
            g
        };
        let histogram_vec = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let h = must(HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                labels,
            ));
            must(registry.register(Box::new(h.clone())));
            h
        };
        let gauge = |name: &str, help: &str| {
            let g = must(Gauge::new(name, help));
            must(registry.register(Box::new(g.clone())));
            g
        };
        let counters = counter_vec(
            "tickcross_counter_total",
            "Pipeline counters (docs/PIPELINE.md; bindings/contract.toml) by detection path",
            &["path", "counter"],
        );
        let events = counter_vec(
            "tickcross_events_total",
            "Crossed-market events taken from each detection path",
            &["path"],
        );
        let detection = histogram_vec(
            "tickcross_detection_latency_seconds",
            "Detection latency per path: hardware last byte to commit, software packet to event",
            &["path"],
            DETECTION_BUCKETS,
        );
        let detecting = {
            let g = must(IntGaugeVec::new(
                Opts::new(
                    "tickcross_detecting",
                    "1 for the path whose events the host acts on, 0 for the standby",
                ),
                &["path"],
            ));
            must(registry.register(Box::new(g.clone())));
            g
        };
        let failovers = must(IntCounter::new(
            "tickcross_failovers_total",
            "Switches of detection between the card and the software path",
        ));
        must(registry.register(Box::new(failovers.clone())));
        let round_trip = histogram_vec(
            "tickcross_order_round_trip_seconds",
            "Order round trip per venue and operation: sent to the venue's first report",
            &["venue", "operation"],
            ROUND_TRIP_BUCKETS,
        );
        let orders = counter_vec(
            "tickcross_orders_total",
            "Orders sent per venue",
            &["venue"],
        );
        let fills = counter_vec(
            "tickcross_fills_total",
            "Orders per venue that filled, wholly or in part",
            &["venue"],
        );
        let positions = gauge_vec(
            "tickcross_position",
            "Position per venue and asset against the initial balance (asset units)",
            &["venue", "asset"],
        );
        let balances = gauge_vec(
            "tickcross_balance",
            "Balance per venue and asset (asset units)",
            &["venue", "asset"],
        );
        let realized = gauge(
            "tickcross_pnl_realized",
            "Realized P&L of closed trades, net of fees (quote asset)",
        );
        let mark_to_market = gauge(
            "tickcross_pnl_mark_to_market",
            "P&L of the balances at the current marks, against the initial balances (quote asset)",
        );
        let fees = gauge("tickcross_fees", "Fees paid (quote asset)");
        let refusals = counter_vec(
            "tickcross_risk_refusals_total",
            "Opportunities the risk checks refused, by reason",
            &["reason"],
        );
        let reconciled = counter_vec(
            "tickcross_reconciled_total",
            "Orders a venue was asked about after a restart (and working orders it named), by \
             what the reconcile found: agreed, recovered, not_sent, mismatch, unexpected",
            &["outcome"],
        );
        let corrections = counter_vec(
            "tickcross_trade_corrections_total",
            "Fills busted or corrected by a venue, and busts or corrections refused (kind: bust, \
             correct, refused)",
            &["kind"],
        );
        let kill_switch = must(IntGauge::new(
            "tickcross_kill_switch",
            "1 while the kill switch is on",
        ));
        must(registry.register(Box::new(kill_switch.clone())));
        Metrics {
            registry,
            counters,
            last: Mutex::new(HashMap::new()),
            events,
            detection,
            detecting,
            failovers,
            round_trip,
            orders,
            fills,
            positions,
            balances,
            realized,
            mark_to_market,
            fees,
            refusals,
            reconciled,
            corrections,
            kill_switch,
        }
    }

    /// Publishes a path's counter totals (the device's or the software path's). A total below
    /// the last one published (the device's state was cleared) restarts the exported counter,
    /// which Prometheus reads as a counter reset.
    pub fn set_counters<'a>(&self, path: &str, totals: impl IntoIterator<Item = (&'a str, u64)>) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        for (name, total) in totals {
            let c = self.counters.with_label_values(&[path, name]);
            let seen = last
                .entry((path.to_string(), name.to_string()))
                .or_insert(0);
            if total < *seen {
                c.reset();
                c.inc_by(total);
            } else {
                c.inc_by(total - *seen);
            }
            *seen = total;
        }
    }

    /// Events taken from `path` since the last call.
    pub fn add_events(&self, path: &str, n: u64) {
        self.events.with_label_values(&[path]).inc_by(n);
    }

    /// One detection's latency on `path`, in ns.
    pub fn observe_detection(&self, path: &str, ns: u64) {
        self.detection
            .with_label_values(&[path])
            .observe(ns as f64 * 1e-9);
    }

    /// Which path detects (`active`) among `paths`, and the switches so far.
    pub fn set_detecting(&self, paths: &[&str], active: &str, switches: u64) {
        for p in paths {
            self.detecting
                .with_label_values(&[p])
                .set(i64::from(*p == active));
        }
        let seen = self.failovers.get();
        if switches > seen {
            self.failovers.inc_by(switches - seen);
        }
    }

    /// An order's round trip to `venue` for `operation` ("new", "cancel"), in ns.
    pub fn observe_round_trip(&self, venue: &str, operation: &str, ns: u64) {
        self.round_trip
            .with_label_values(&[venue, operation])
            .observe(ns as f64 * 1e-9);
    }

    /// Publishes a venue's totals: orders sent, and orders that filled wholly or in part.
    pub fn set_order_totals(&self, venue: &str, sent: u64, filled: u64) {
        for (family, total) in [(&self.orders, sent), (&self.fills, filled)] {
            let c = family.with_label_values(&[venue]);
            let seen = c.get();
            if total > seen {
                c.inc_by(total - seen);
            }
        }
    }

    pub fn set_position(&self, venue: &str, asset: &str, qty: f64) {
        self.positions.with_label_values(&[venue, asset]).set(qty);
    }

    pub fn set_balance(&self, venue: &str, asset: &str, qty: f64) {
        self.balances.with_label_values(&[venue, asset]).set(qty);
    }

    pub fn set_pnl(&self, realized: f64, mark_to_market: f64, fees: f64) {
        self.realized.set(realized);
        self.mark_to_market.set(mark_to_market);
        self.fees.set(fees);
    }

    /// Publishes the refusal totals by reason (monotonic, as [`Metrics::set_counters`]).
    pub fn set_refusals<'a>(&self, totals: impl IntoIterator<Item = (&'a str, u64)>) {
        raise(&self.refusals, totals);
    }

    /// Publishes the reconcile totals by outcome (monotonic, as [`Metrics::set_counters`]).
    pub fn set_reconciled<'a>(&self, totals: impl IntoIterator<Item = (&'a str, u64)>) {
        raise(&self.reconciled, totals);
    }

    /// Publishes the bust, correction and refused totals (monotonic).
    pub fn set_corrections<'a>(&self, totals: impl IntoIterator<Item = (&'a str, u64)>) {
        raise(&self.corrections, totals);
    }

    pub fn set_kill_switch(&self, on: bool) {
        self.kill_switch.set(i64::from(on));
    }

    /// The text exposition of everything published.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // encoding into memory cannot fail on I/O; a failure would be a bug in the families
        must(TextEncoder::new().encode(&self.registry.gather(), &mut out));
        String::from_utf8(out).expect("the text exposition is UTF-8")
    }
}

/// The HTTP endpoint: `GET /metrics` answers the text exposition; anything else 404 (or 405 for
/// another method). One thread; each request is read and answered within a few seconds or the
/// connection is dropped, so a stuck client cannot hold it.
pub struct Exporter {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<Exporter, MetricsError> {
        let bind = |source| MetricsError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&listener, &metrics, &s))
            .map_err(bind)?;
        tracing::info!(%addr, "metrics served at http://{addr}/metrics");
        Ok(Exporter {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, peer)) => {
                if let Err(e) = answer(conn, metrics) {
                    tracing::debug!(%peer, "metrics request: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                tracing::warn!("metrics endpoint: accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn answer(conn: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // the rest of the head, up to the blank line: at most 100 lines within 5 s in all, so that a
    // client sending a line now and then cannot hold the endpoint
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if std::time::Instant::now() >= deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request head not complete within 5 s",
            ));
        }
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "try /metrics\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        ),
    };
    let mut w = conn;
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

/// Raises each labelled counter to its total (a total below the counter, as after a restart
/// that counts from an older journal, leaves it).
fn raise<'a>(family: &IntCounterVec, totals: impl IntoIterator<Item = (&'a str, u64)>) {
    for (label, total) in totals {
        let c = family.with_label_values(&[label]);
        let seen = c.get();
        if total > seen {
            c.inc_by(total - seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_follow_the_totals_and_restart_with_them() {
        let m = Metrics::new();
        m.set_counters("hw", [("rx_frames", 10), ("events", 2)]);
        m.set_counters("hw", [("rx_frames", 25), ("events", 2)]);
        let c = |name: &str| m.counters.with_label_values(&["hw", name]).get();
        assert_eq!((c("rx_frames"), c("events")), (25, 2));
        // cleared device state: the exported counter restarts
        m.set_counters("hw", [("rx_frames", 3)]);
        assert_eq!(c("rx_frames"), 3);
        let text = m.render();
        assert!(
            text.contains("tickcross_counter_total{counter=\"rx_frames\",path=\"hw\"} 3"),
            "{text}"
        );
    }

    #[test]
    fn failovers_and_the_detecting_path() {
        let m = Metrics::new();
        m.set_detecting(&["hw", "sw"], "sw", 1);
        m.set_detecting(&["hw", "sw"], "sw", 1);
        let text = m.render();
        assert!(text.contains("tickcross_failovers_total 1"), "{text}");
        assert!(
            text.contains("tickcross_detecting{path=\"sw\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tickcross_detecting{path=\"hw\"} 0"),
            "{text}"
        );
    }
}

#[cfg(feature = "testing")]
pub mod testing;
