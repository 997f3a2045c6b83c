//! The deployed host trades live with one venue over FIX (issue 13, test 2): tcpreplay plays the
//! bridged Binance capture onto a veth wire in a network namespace the test makes and removes;
//! the simulated card on that wire (`sim --interface`) detects; `tickcross run --trade
//! --interface` trades on its events on wall-clock time, the USD-M venue's orders going over FIX
//! 4.4 to the QuickFIX test acceptor (`tests/fix/acceptor.cpp`, built on first use; needs
//! libquickfix-dev) and the two other venues simulated on wall time. The events are replay's,
//! trades happen with legs on the FIX venue, that venue's balances in the report are its initial
//! balances moved by exactly the acceptor's fill log (as `fix_replay.rs` checks for a replay),
//! and `journal verify --report` passes. Skips, saying so, where the machine forbids network
//! namespaces.
//!
//! The host captures the card's wire, so it runs inside the namespace; the acceptor runs there
//! too, on the namespace's own loopback (brought up by the test), so nothing leaves the
//! namespace.
//!
//! A host killed with orders to the FIX venue in flight (the acceptor holding the first one
//! unanswered, more queued behind it) resumes: it asks the acceptor about each and books the
//! answers before it trades again, and its report still matches the acceptor's fills.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rust_decimal::{Decimal, RoundingStrategy};
use tickcross_testkit::fix_acceptor::{Acceptor, AcceptorFill, AcceptorOptions};
use tickcross_testkit::wire::Wire;
use tickcross_trading::journal::{self, ReconcileOutcome, Record};

mod common;
mod live_common;
use common::{bin, binance_capture, ok, tempdir};
use live_common::{
    card, events, line, numbers, stop_card, succeeded, verify, wire_or_skip, Logged, TRADE_CONFIG,
};

/// Lines of each Binance recording: 5,595 frames, 6,577 events.
const LINES: usize = 3000;

/// The FIX venue's taker fee (bps), in the quote asset.
const FIX_TAKER_BPS: u32 = 1;

/// live_trade.rs's config (live_common's), with USD-M (a leg of most of the recordings' crosses)
/// sending its orders over FIX at `FIX_TAKER_BPS`. The order timeout only guards against a venue
/// that never answers: the acceptor and the simulated venues end their orders in milliseconds,
/// and a timeout that fired on a loaded machine would cancel an order the acceptor may still fill.
fn fix_config(port: u16, dir: &Path) -> String {
    let swap = |text: String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "live_common's TRADE_CONFIG has {from:?}"
        );
        text.replacen(from, to, 1)
    };
    let base = swap(
        TRADE_CONFIG.to_string(),
        "order_timeout_ms = 500",
        "order_timeout_ms = 8000",
    );
    let (head, usdm) = base
        .split_once("name = \"usdm\"")
        .expect("live_common's TRADE_CONFIG has a usdm venue");
    let (usdm, rest) = usdm.split_once("[[venue]]").expect("a venue follows usdm");
    let usdm = swap(
        usdm.to_string(),
        "taker_bps = \"0.1\"",
        &format!("taker_bps = \"{FIX_TAKER_BPS}\""),
    );
    let usdm = swap(
        usdm,
        "sim = { latency_us = [500, 1500] }\n",
        &format!(
            r#"
[venue.order_entry]
protocol = "fix44"
host = "127.0.0.1"
port = {port}
sender_comp_id = "TICKCROSS"
target_comp_id = "ACCEPTOR"
auth = {{ kind = "plain", username = "alice", password_file = "{dir}/password" }}
heartbeat_s = 30
logon_timeout_s = 60
seq_store = "{dir}/fix-store"

"#,
            dir = dir.display()
        ),
    );
    format!("{head}name = \"usdm\"{usdm}[[venue]]{rest}")
}

/// The FIX venue's index among the configured venues and its initial balances (BTC, USDT).
const FIX_VENUE: usize = 1;
const FIX_START: (&str, &str) = ("0.5", "30000");

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// `replay --path sw` of the capture: its events.
fn replayed_events(dir: &Path, config: &Path, pcap: &Path) -> Vec<serde_json::Value> {
    let out = dir.join("replay.jsonl");
    let o = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(config)
        .arg("--events")
        .arg(&out)
        .arg(pcap)
        .output()
        .unwrap();
    ok(&o, "replay");
    events(&out)
}

/// A test's directory, the bridged capture, the acceptor inside the wire's namespace (on its
/// loopback, brought up here) and the config trading USD-M through it.
fn fix_world(wire: &Wire, name: &str) -> (PathBuf, PathBuf, Acceptor, PathBuf) {
    let dir = tempdir(name);
    let (pcap, _) = binance_capture(&dir, Some(LINES));
    // the namespace's loopback, for the host's FIX session to the acceptor
    let lo = Command::new("ip")
        .args(["-n", &wire.netns, "link", "set", "lo", "up"])
        .output()
        .unwrap();
    assert!(lo.status.success(), "{lo:?}");
    // started from a thread inside the namespace: the acceptor listens on its loopback
    let opts = AcceptorOptions {
        credentials: Some(("alice".into(), "s3cret".into())),
        // IOC orders above 0.05 BTC fill partly, in two reports: the rest expires, and the
        // engine unwinds the other leg's excess while frames keep coming
        liquidity: Some("0.05".parse().unwrap()),
        partials: 2,
        ..AcceptorOptions::default()
    };
    let acc = wire
        .within(|| Acceptor::start(&dir.join("acceptor"), &opts))
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("password"), "s3cret\n").unwrap();
    let config = dir.join("trade.toml");
    std::fs::write(&config, fix_config(acc.port, &dir)).unwrap();
    (dir, pcap, acc, config)
}

/// The FIX venue's balances and volume in a report are its initial ones moved by exactly the
/// acceptor's fills, booked by hand: quote amounts and the taker fee rounded to 8 places, half
/// to even, fees in the quote asset.
fn assert_fix_venue_is_the_acceptors(s: &serde_json::Value, fills: &[AcceptorFill]) {
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let mut btc: Decimal = FIX_START.0.parse().unwrap();
    let mut usdt: Decimal = FIX_START.1.parse().unwrap();
    let mut volume = Decimal::ZERO;
    for f in fills {
        assert_eq!(f.symbol, "BTCUSDT", "{f:?}");
        let quote = r8(f.qty * f.price);
        volume += quote;
        let fee = r8(quote * Decimal::from(FIX_TAKER_BPS) / Decimal::from(10_000));
        match f.side.as_str() {
            "buy" => {
                btc += f.qty;
                usdt -= quote;
            }
            "sell" => {
                btc -= f.qty;
                usdt += quote;
            }
            other => panic!("side {other:?}: {f:?}"),
        }
        usdt -= fee;
    }
    let v = &s["venues"][FIX_VENUE];
    assert_eq!(v["name"], ["spot", "usdm", "cm"][FIX_VENUE]);
    assert_eq!(dec(&v["balances"]["BTC"]["end"]), btc, "{v:#}\n{fills:#?}");
    assert_eq!(
        dec(&v["balances"]["USDT"]["end"]),
        usdt,
        "{v:#}\n{fills:#?}"
    );
    assert_eq!(
        dec(&v["balances"]["USDT"]["reserved"]),
        Decimal::ZERO,
        "{v:#}"
    );
    assert_eq!(dec(&v["volume"]), volume, "{v:#}");
}

#[test]
fn the_host_trades_live_with_one_venue_over_fix_and_the_report_matches_the_acceptors_fills() {
    let Some(wire) = wire_or_skip() else { return };
    let (dir, pcap, acc, config) = fix_world(&wire, "live-fix");
    let reference = replayed_events(&dir, &config, &pcap);
    let n = reference.len();
    assert!(n > 0);

    let region = dir.join("card.bar");
    let card = card(&wire, &region);
    let live = dir.join("live.jsonl");
    let report = dir.join("report");
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    // --duration: a way out should the test's SIGTERM never come
    c.args(["run", "--duration", "600", "--trade", "--config"])
        .arg(&config)
        .args(["--interface", &wire.b, "--device"])
        .arg(&region)
        .arg("--events")
        .arg(&live)
        .arg("--report")
        .arg(&report);
    let h = Logged::spawn(c, "host");
    // the FIX session is logged on before the run starts capturing and programs the card
    let mut said = h.wait_for("capturing frames on");
    assert!(
        acc.fills().unwrap().is_empty(),
        "no order before the frames"
    );
    card.wait_for("taking frames from interface");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    // once the engine has had every event, the host is stopped as a person would: it waits for
    // its open orders (the FIX venue's reports come on wall time), then writes the report
    said.extend(h.wait_for(&format!("trade: {n} events")));
    h.terminate();
    // its last words: the FIX session closed once the report's figures are final
    said.extend(h.wait_for("FIX session stopped"));
    let o = h.finish();
    succeeded(&o, "run --trade with a FIX venue");
    let taken = stop_card(card);
    eprintln!("{taken}");
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("the host's stdout:\n{out}");

    // the host captured every frame, and the live events are replay's
    let (frames, _) = tickcross_capture::read_capture(&pcap).unwrap();
    let cap = line(&out, "host capture on");
    assert!(
        cap.contains(&format!(": {} frames", frames.len()))
            && cap.contains(" 0 dropped by the kernel, 0 dropped by the full hand-over channel"),
        "{cap}"
    );
    assert_eq!(events(&live), reference, "the live events are replay's");
    let handed = numbers(line(&out, "trading: "));
    assert_eq!(
        handed[0], n as u64,
        "every event reached the engine: {handed:?}"
    );

    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["events"], n as u64, "{s:#}");
    assert_eq!(s["trades_open"], 0, "every trade closed: {s:#}");
    // each trade was said as it closed, once
    let closed: Vec<&String> = said
        .iter()
        .filter(|l| l.contains(" closed: buy "))
        .collect();
    assert_eq!(
        Some(closed.len() as u64),
        s["trades_closed"].as_u64(),
        "{closed:#?}"
    );
    let trades: Vec<serde_json::Value> = std::fs::read_to_string(report.join("trades.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fix_name = ["spot", "usdm", "cm"][FIX_VENUE];
    let on_fix = trades
        .iter()
        .filter(|t| t["buy_venue"] == fix_name || t["sell_venue"] == fix_name)
        .count();
    assert!(
        on_fix > 0,
        "no trade with a leg on the FIX venue: {trades:#?}\n{s:#}"
    );

    let fills = acc.fills().unwrap();
    assert!(!fills.is_empty(), "the FIX venue filled nothing: {s:#}");
    assert_fix_venue_is_the_acceptors(&s, &fills);

    verify(&report);
    eprintln!(
        "live with FIX: {n} events, {} trades closed ({on_fix} with a leg on the FIX venue), {} FIX fills, realized net {}",
        s["trades_closed"],
        fills.len(),
        s["pnl"]["realized_net"]
    );
    drop(acc);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_host_killed_with_fix_orders_in_flight_resumes_once_the_venue_has_said_what_became_of_them() {
    let Some(wire) = wire_or_skip() else { return };
    let (dir, pcap, mut acc, config) = fix_world(&wire, "live-fix-resume");
    let report = dir.join("report");
    let host = |resume: bool, tag: &'static str| {
        let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
        c.args([
            "run",
            "--path",
            "sw",
            "--duration",
            "600",
            "--trade",
            "--config",
        ])
        .arg(&config)
        .args(["--interface", &wire.b, "--report"])
        .arg(&report);
        if resume {
            c.arg("--resume");
        }
        Logged::spawn(c, tag)
    };

    // the acceptor holds the first order unanswered; the host trades on meanwhile (it never
    // waits for a venue), more orders to the FIX venue queue behind it, and the host is killed
    acc.command("stall").unwrap();
    let mut h = host(false, "host");
    h.wait_for("capturing frames on");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    let stalled = acc
        .wait_for("the stalled order", Duration::from_secs(120), |l| {
            l.starts_with("STALL clordid=")
        })
        .unwrap();
    h.child.kill().unwrap();
    let killed = h.finish();
    assert!(!killed.status.success());
    acc.command("release").unwrap();
    acc.wait_for("the session's end", Duration::from_secs(60), |l| {
        l == "LOGOUT"
    })
    .unwrap();
    let in_flight: Vec<u64> = {
        let c = journal::read(&report.join("journal")).unwrap();
        let mut open = std::collections::BTreeMap::new();
        for r in &c.records {
            match r {
                Record::TradeOpen(t) => {
                    for o in [&t.buy, &t.sell] {
                        open.insert(o.id, o.venue);
                    }
                }
                Record::Order(o) => {
                    open.insert(o.id, o.venue);
                }
                Record::Exec { report, .. } if report.kind.is_final() => {
                    open.remove(&report.order_id);
                }
                _ => {}
            }
        }
        open.into_iter()
            .filter(|(_, v)| *v == FIX_VENUE)
            .map(|(id, _)| id)
            .collect()
    };
    let stalled_id: u64 = stalled
        .trim_start_matches("STALL clordid=")
        .parse()
        .unwrap();
    assert!(in_flight.contains(&stalled_id), "{in_flight:?}");

    // the resumed host asks the acceptor about each, books the answers, then trades: stopped
    // as a person would once it captures again
    let h = host(true, "resumed");
    h.wait_for("reconciled the orders in flight");
    h.wait_for("capturing frames on");
    h.terminate();
    let o = h.finish();
    succeeded(&o, "run --trade --resume with a FIX venue");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["trades_open"], 0, "{s:#}");
    let fills = acc.fills().unwrap();
    assert_fix_venue_is_the_acceptors(&s, &fills);
    verify(&report);
    // every order in flight at the kill has its reconcile record: filled at the acceptor (the
    // stalled one), or unknown to it (an order the kill's reset dropped from the acceptor's
    // socket) and settled as not sent
    let reconciled: Vec<(u64, ReconcileOutcome)> = journal::read(&report.join("journal"))
        .unwrap()
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Reconciled {
                status, outcome, ..
            } => Some((status.order_id, *outcome)),
            _ => None,
        })
        .collect();
    for id in &in_flight {
        assert!(
            reconciled.iter().any(|(o, k)| o == id
                && matches!(
                    k,
                    ReconcileOutcome::Agreed
                        | ReconcileOutcome::Recovered
                        | ReconcileOutcome::NotSent
                )),
            "order {id}: {reconciled:?}"
        );
    }
    assert!(
        reconciled.iter().any(|(o, k)| *o == stalled_id
            && matches!(k, ReconcileOutcome::Agreed | ReconcileOutcome::Recovered)),
        "{reconciled:?}"
    );
    eprintln!(
        "live resume: {} orders in flight on the FIX venue at the kill, reconciled {reconciled:?}; {} FIX fills",
        in_flight.len(),
        fills.len()
    );
    let said: Vec<String> = acc
        .lines()
        .iter()
        .filter(|l| !l.starts_with("IN type=0"))
        .cloned()
        .collect();
    eprintln!("the acceptor said:\n{}", said.join("\n"));
    drop(acc);
    std::fs::remove_dir_all(&dir).ok();
}
