//! The deployed host trades live (issue 13, tests 1 and 2 without FIX): tcpreplay plays the
//! bridged Binance capture onto a veth wire in a network namespace the test makes and removes;
//! `tickcross run --trade --interface` trades with simulated venues on wall-clock time, on the
//! events of the simulated card on that wire (`sim --interface`) or of the software path on the
//! frames it captures itself (`--path sw`). The events are replay's on the same capture, trades
//! happen, `journal verify` agrees with the report, a journal resumes (also after a crash, with
//! the fault-injection feature), and `tickcross kill --pid` stops new trades. Skips, saying so,
//! where the machine forbids network namespaces.

use std::path::{Path, PathBuf};

mod common;
mod live_common;
use common::{bin, binance_capture, ok, tempdir};
use live_common::{
    card, counter_lines, events, line, numbers, succeeded, verify, wire_or_skip, Logged,
    TRADE_CONFIG,
};
use tickcross_testkit::wire::Wire;

/// Lines of each Binance recording: 5,595 frames, 6,577 events.
const LINES: usize = 3000;

struct World {
    dir: PathBuf,
    pcap: PathBuf,
    config: PathBuf,
}

fn world(name: &str) -> World {
    let dir = tempdir(name);
    let (pcap, _) = binance_capture(&dir, Some(LINES));
    let config = dir.join("trade.toml");
    std::fs::write(&config, TRADE_CONFIG).unwrap();
    World { dir, pcap, config }
}

/// `replay --path sw` of the capture: its events (JSONL) and its stdout.
fn replay(w: &World) -> (PathBuf, Vec<u8>) {
    let events = w.dir.join("replay.jsonl");
    let o = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&w.config)
        .arg("--events")
        .arg(&events)
        .arg(&w.pcap)
        .output()
        .unwrap();
    ok(&o, "replay");
    (events, o.stdout)
}

/// A live host in the wire's namespace: `run` with `args` (--duration: a way out should the
/// way the test ends it never come). Returns once it captures frames.
fn host(wire: &Wire, w: &World, args: &[&std::ffi::OsStr], tag: &'static str) -> Logged {
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args(["run", "--duration", "600", "--config"])
        .arg(&w.config)
        .args(["--interface", &wire.b])
        .args(args);
    let h = Logged::spawn(c, tag);
    h.wait_for("capturing frames on");
    h
}

fn summary(report: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap()
}

/// What every live trading run must show: the host captured every frame, the events are
/// replay's, trades happened, and the journal agrees with the report.
fn check_trading_run(w: &World, o: &std::process::Output, live: &Path, report: &Path) -> u64 {
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("the host's stdout:\n{out}");
    let (frames, _) = tickcross_capture::read_capture(&w.pcap).unwrap();
    let cap = line(&out, "host capture on");
    assert!(
        cap.contains(&format!(": {} frames", frames.len()))
            && cap.contains(
                " 0 dropped by the kernel, 0 dropped by the full hand-over channel, 0 too long"
            ),
        "the host captured every frame of the capture: {cap}"
    );
    let (reference, _) = replay(w);
    let (a, b) = (events(live), events(&reference));
    assert!(!b.is_empty());
    assert_eq!(a.len(), b.len(), "every event detected and written");
    assert_eq!(a, b, "the live events are replay's");
    // every event reached the engine
    let handed = numbers(line(&out, "trading: "));
    assert_eq!(handed[0], b.len() as u64, "{handed:?}");
    let s = summary(report);
    assert_eq!(s["events"], b.len() as u64, "{s}");
    let trades = s["trades_closed"].as_u64().unwrap();
    let fills = s["orders"]["fills"].as_u64().unwrap();
    assert!(trades > 0 && fills > 0, "no trade happened: {s}");
    verify(report);
    trades
}

/// The number of events replay finds in the capture.
fn replayed_events(w: &World) -> usize {
    events(&replay(w).0).len()
}

#[test]
fn the_host_trades_live_on_the_events_of_a_simulated_card_on_a_veth_wire() {
    let Some(wire) = wire_or_skip() else { return };
    let w = world("live-card");
    let n = replayed_events(&w);
    let region = w.dir.join("card.bar");
    let card = card(&wire, &region);
    let live = w.dir.join("live.jsonl");
    let report = w.dir.join("report");
    let h = host(
        &wire,
        &w,
        &[
            "--trade".as_ref(),
            "--dead-after".as_ref(),
            "1".as_ref(),
            "--device".as_ref(),
            region.as_os_str(),
            "--events".as_ref(),
            live.as_os_str(),
            "--report".as_ref(),
            report.as_os_str(),
        ],
        "host",
    );
    // the card takes frames only once the host has programmed it
    card.wait_for("taking frames from interface");
    let played = wire.tcpreplay(&w.pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    // once the engine has had every event, the card dies: the host ends with an error, after
    // waiting for its open orders and writing the report and the journal
    h.wait_for(&format!("trade: {n} events"));
    let mut card = card;
    card.child.kill().unwrap();
    card.finish();
    h.wait_for("the device failed");
    let o = h.finish();
    assert_eq!(o.status.code(), Some(1), "a dead card is an error");
    let trades = check_trading_run(&w, &o, &live, &report);
    // The card and the host take the same frame off the same interface: one skb, one kernel
    // timestamp. Every event found its triggering frame among the host's under its timestamp.
    let out = String::from_utf8_lossy(&o.stdout);
    let handed = numbers(line(&out, "trading: "));
    assert_eq!(
        handed[1], handed[0],
        "events whose triggering frame the host holds under the same timestamp: {handed:?}"
    );
    eprintln!("live trading on the card's events: {trades} trades closed");
    std::fs::remove_dir_all(&w.dir).ok();
}

#[test]
fn the_software_path_detects_and_trades_live_and_a_journal_resumes() {
    let Some(wire) = wire_or_skip() else { return };
    let w = world("live-sw");
    let live = w.dir.join("live.jsonl");
    let report = w.dir.join("report");
    let n = replayed_events(&w);
    // the first run is stopped by SIGTERM once the engine has had every event, the second
    // once the wire has been quiet for 3 s
    let run = |extra: &[&str], tag: &'static str| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--path".as_ref(),
            "sw".as_ref(),
            "--trade".as_ref(),
            "--events".as_ref(),
            live.as_os_str(),
            "--report".as_ref(),
            report.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let h = host(&wire, &w, &args, tag);
        if !extra.is_empty() {
            // the resumed run's kill switch, turned on as a person would
            let k = bin()
                .args(["kill", "--pid", &h.child.id().to_string()])
                .output()
                .unwrap();
            ok(&k, "tickcross kill --pid");
        }
        let played = wire.tcpreplay(&w.pcap, true).unwrap();
        eprintln!("tcpreplay: {}", played.trim());
        if extra.is_empty() {
            h.wait_for(&format!("trade: {n} events"));
            h.terminate();
        }
        let o = h.finish();
        succeeded(&o, tag);
        o
    };
    let o = run(&[], "sw host");
    let trades = check_trading_run(&w, &o, &live, &report);
    let opened = |s: &serde_json::Value| {
        s["trades_closed"].as_u64().unwrap() + s["trades_open"].as_u64().unwrap()
    };
    let first = summary(&report);
    // the software path's counters are replay's
    let (_, replayed) = replay(&w);
    let counters = counter_lines(&o.stdout, "sw");
    assert!(!counters.is_empty());
    assert_eq!(counters, counter_lines(&replayed, "sw"));
    eprintln!("live trading on the software path: {trades} trades closed");

    // the journal holds records: a new run is refused unless it resumes
    let refused = bin()
        .args([
            "run",
            "--path",
            "sw",
            "--interface",
            &wire.b,
            "--trade",
            "--config",
        ])
        .arg(&w.config)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("pass --resume"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // resumed, the run goes on: the new events count (the journal's event numbers go on from
    // its last, although the detection numbers from 0 again), the books balance; its kill
    // switch (`tickcross kill --pid`) is on, so no trade opens
    let o = run(&["--resume", "--until-idle", "3"], "resumed sw host");
    assert!(String::from_utf8_lossy(&o.stdout).contains("resumed from the journal"));
    let s = summary(&report);
    assert_eq!(
        s["events"],
        2 * n as u64,
        "both runs' events were traded on: {s}"
    );
    assert_eq!(s["killed"], true, "{s}");
    assert_eq!(
        opened(&s),
        opened(&first),
        "no trade opened after the kill: {s}"
    );
    verify(&report);
    std::fs::remove_dir_all(&w.dir).ok();
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature: cargo test -p tickcross --features fault-injection --test live_trade"
)]
fn a_live_run_killed_in_the_middle_of_a_journal_write_resumes_from_its_journal() {
    use std::os::unix::process::ExitStatusExt;
    let Some(wire) = wire_or_skip() else { return };
    let w = world("live-crash");
    let n = replayed_events(&w);
    let report = w.dir.join("report");
    // the first run dies (SIGKILL, fault injection) having written half of its 1501st record
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args(["run", "--duration", "600", "--config"])
        .arg(&w.config)
        .args([
            "--interface",
            &wire.b,
            "--path",
            "sw",
            "--trade",
            "--report",
        ])
        .arg(&report)
        .env("TICKCROSS_FAULT_KILL_AFTER_RECORDS", "1500")
        .env("TICKCROSS_FAULT_TORN_WRITE", "1");
    let h = Logged::spawn(c, "crashing host");
    h.wait_for("capturing frames on");
    wire.tcpreplay(&w.pcap, true).unwrap();
    let o = h.finish();
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGKILL),
        "expected a SIGKILL after 1500 records: {:?}",
        o.status
    );
    // resumed: the torn record is cut, the journal's orders go back into the simulated venues,
    // and the run goes on on the wire's next frames
    let h = host(
        &wire,
        &w,
        &[
            "--path".as_ref(),
            "sw".as_ref(),
            "--trade".as_ref(),
            "--resume".as_ref(),
            "--until-idle".as_ref(),
            "3".as_ref(),
            "--report".as_ref(),
            report.as_os_str(),
        ],
        "resumed host",
    );
    wire.tcpreplay(&w.pcap, true).unwrap();
    let o = h.finish();
    succeeded(&o, "resumed run");
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("the resumed host's stdout:\n{out}");
    assert!(out.contains("resumed from the journal"), "{out}");
    assert!(out.contains("torn last record cut"), "{out}");
    verify(&report);
    let s = summary(&report);
    let events = s["events"].as_u64().unwrap();
    assert!(
        events > n as u64,
        "the events before the crash and the {n} after it: {s}"
    );
    std::fs::remove_dir_all(&w.dir).ok();
}
