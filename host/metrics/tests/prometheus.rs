//! The endpoint scraped by a real Prometheus server (Debian's `prometheus`, which scripts/setup
//! installs; the test skips, saying so, where it is missing): its HTTP API returns the series
//! and values published. And the Grafana dashboard in the repository asks only for series the
//! endpoint exports.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickcross_metrics::testing::{value, Prometheus};
use tickcross_metrics::{Exporter, Metrics};

/// A way out of every wait (never reached when things work).
const WAIT: Duration = Duration::from_secs(120);

/// Every family with a sample, as a live run publishes them.
fn published() -> Arc<Metrics> {
    let m = Arc::new(Metrics::new());
    m.set_counters(
        "hw",
        [("rx_frames", 5595), ("drop_checksum", 3), ("events", 6577)],
    );
    m.set_counters(
        "sw",
        [("rx_frames", 5595), ("drop_checksum", 3), ("events", 6577)],
    );
    m.add_events("hw", 6577);
    for ns in [21, 22, 25] {
        m.observe_detection("hw", ns);
    }
    m.observe_detection("sw", 80);
    m.set_detecting(&["hw", "sw"], "hw", 2);
    m.observe_round_trip("spot", "new", 1_200_000);
    m.observe_round_trip("spot", "cancel", 900_000);
    m.set_order_totals("spot", 2, 1);
    m.set_position("spot", "BTC", -0.25);
    m.set_balance("spot", "USDT", 100_000.5);
    m.set_pnl(12.5, 11.75, 3.25);
    m.set_refusals([("stale_quote", 4), ("balance", 1)]);
    m.set_reconciled([("recovered", 4), ("not_sent", 1)]);
    m.set_corrections([("bust", 2), ("correct", 1), ("refused", 0)]);
    m.set_kill_switch(false);
    m
}

fn http_get(addr: SocketAddr, target: &str) -> (String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn a_real_prometheus_scrapes_the_series_and_values() {
    let m = published();
    let exporter = Exporter::start(([127, 0, 0, 1], 0).into(), m.clone()).unwrap();
    let (head, body) = http_get(exporter.addr(), "/metrics");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("tickcross_kill_switch 0"), "{body}");
    let (head, _) = http_get(exporter.addr(), "/other");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    let Some(mut prom) = Prometheus::start(Command::new("prometheus"), exporter.addr(), None)
    else {
        return;
    };
    let r = prom.query(r#"tickcross_counter_total{counter="drop_checksum"}"#, 2);
    assert_eq!(r.len(), 2, "one series per path: {r:?}");
    assert!(r.iter().all(|s| value(s) == 3.0), "{r:?}");
    let r = prom.query("tickcross_failovers_total", 1);
    assert_eq!(value(&r[0]), 2.0);
    let r = prom.query(r#"tickcross_detecting{path="hw"}"#, 1);
    assert_eq!(value(&r[0]), 1.0);
    let r = prom.query(r#"tickcross_detection_latency_seconds_count{path="hw"}"#, 1);
    assert_eq!(value(&r[0]), 3.0);
    let r = prom.query(r#"tickcross_position{venue="spot",asset="BTC"}"#, 1);
    assert_eq!(value(&r[0]), -0.25);
    let r = prom.query("tickcross_pnl_realized", 1);
    assert_eq!(value(&r[0]), 12.5);
    let r = prom.query(r#"tickcross_risk_refusals_total{reason="stale_quote"}"#, 1);
    assert_eq!(value(&r[0]), 4.0);
    // a later publication reaches it too
    m.set_kill_switch(true);
    let started = Instant::now();
    while value(&prom.query("tickcross_kill_switch", 1)[0]) != 1.0 {
        assert!(
            started.elapsed() < WAIT,
            "the kill switch reaches prometheus"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Metric names in a PromQL expression: the identifiers that start with `tickcross_`.
fn names_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("tickcross_") {
        let start = i + at;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        out.push(expr[start..end].to_string());
        i = end;
    }
    out
}

fn exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => exprs(x, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| exprs(x, out)),
        _ => {}
    }
}

#[test]
fn the_grafana_dashboard_asks_only_for_exported_series() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/tickcross.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut all = Vec::new();
    exprs(&dashboard, &mut all);
    assert!(all.len() >= 10, "the dashboard's queries: {all:?}");
    let exported = published().render();
    let families: Vec<&str> = exported
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for e in &all {
        let names = names_in(e);
        assert!(!names.is_empty(), "a query without a tickcross series: {e}");
        for n in names {
            let known = families.iter().any(|f| {
                n == *f
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| n.strip_suffix(s) == Some(f))
            });
            assert!(
                known,
                "{n} (in {e}) is not exported; families: {families:?}"
            );
        }
    }
    // and every family is on the dashboard
    for f in &families {
        assert!(
            all.iter()
                .any(|e| names_in(e).iter().any(|n| n.starts_with(f))),
            "{f} is on no panel"
        );
    }
}
