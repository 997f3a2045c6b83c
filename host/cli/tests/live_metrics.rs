//! What an operator watches (issue 14): a live `run --trade --metrics` on a veth wire, scraped by
//! a real Prometheus server (Debian's `prometheus`, started by the test in the wire's network
//! namespace); its HTTP API returns the run's series with the values the run reached. Skips,
//! saying so, without network namespaces or without `prometheus`.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
mod live_common;
use common::{bin, binance_capture, ok, tempdir};
use live_common::{succeeded, wire_or_skip, Logged, TRADE_CONFIG, WAIT};
use tickcross_metrics::testing::{value, Prometheus};

/// Lines of each Binance recording: 5,595 frames.
const LINES: usize = 3000;
/// Inside the wire's namespace: nothing else listens there.
const METRICS: &str = "127.0.0.1:9464";
const API: &str = "127.0.0.1:9090";

#[test]
fn prometheus_scrapes_a_live_trading_run() {
    let Some(wire) = wire_or_skip() else { return };
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no `prometheus` on PATH (Debian package prometheus; scripts/setup installs it)");
        return;
    }
    let dir = tempdir("live-metrics");
    let (pcap, _) = binance_capture(&dir, Some(LINES));
    let config = dir.join("trade.toml");
    std::fs::write(&config, TRADE_CONFIG).unwrap();
    let replayed = dir.join("replay.jsonl");
    let o = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&config)
        .arg("--events")
        .arg(&replayed)
        .arg(&pcap)
        .output()
        .unwrap();
    ok(&o, "replay");
    let n = std::fs::read_to_string(&replayed).unwrap().lines().count();
    let report = dir.join("report");

    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args([
        "run",
        "--duration",
        "600",
        "--path",
        "sw",
        "--trade",
        "--config",
    ])
    .arg(&config)
    .args(["--interface", &wire.b, "--metrics", METRICS, "--report"])
    .arg(&report);
    let host = Logged::spawn(c, "host");
    host.wait_for("capturing frames on");
    let metrics: SocketAddr = METRICS.parse().unwrap();
    let mut prom = Prometheus::start(wire.exec("prometheus"), metrics, Some(API.parse().unwrap()))
        .expect("prometheus runs");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    host.wait_for(&format!("trade: {n} events"));

    // every figure as the run published it (Prometheus scrapes every second)
    let mut at_least = |query: &str, want: f64| -> f64 {
        let started = Instant::now();
        loop {
            let v = wire
                .within(|| prom.query(query, 1).iter().map(value).sum::<f64>())
                .unwrap();
            if v >= want {
                return v;
            }
            assert!(
                started.elapsed() < WAIT,
                "{query}: {v}, not {want}, within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let events = at_least(r#"tickcross_events_total{path="sw"}"#, n as f64);
    assert_eq!(events, n as f64, "the events the run took");
    let frames = at_least(
        r#"tickcross_counter_total{path="sw",counter="rx_frames"}"#,
        5595.0,
    );
    assert_eq!(frames, 5595.0);
    let orders = at_least("sum(tickcross_orders_total)", 1.0);
    let round_trips = at_least(
        r#"sum(tickcross_order_round_trip_seconds_count{operation="new"})"#,
        1.0,
    );
    at_least(
        r#"tickcross_detection_latency_seconds_count{path="sw"}"#,
        1.0,
    );
    at_least(r#"tickcross_detecting{path="sw"}"#, 1.0);
    at_least(r#"count(tickcross_balance{asset="USDT"})"#, 3.0);
    at_least("count(tickcross_pnl_mark_to_market)", 1.0);
    at_least("count(tickcross_kill_switch == 0)", 1.0);
    // no bust, correction or refusal on the simulated venues: three series at 0
    at_least("count(tickcross_trade_corrections_total == 0)", 3.0);
    eprintln!("prometheus saw {events} events, {frames} frames, {orders} orders, {round_trips} round trips");

    host.terminate();
    let o = host.finish();
    succeeded(&o, "host");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    // the run went on after the last scrape read: at least what Prometheus saw
    assert!(summary["orders"]["sent"].as_f64().unwrap() >= orders);
    drop(prom);
}
