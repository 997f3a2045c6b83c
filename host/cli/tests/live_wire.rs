//! The simulated card on a live wire (issue 13): `tickcross sim --interface` inside a network
//! namespace takes the frames tcpreplay plays into a veth pair, a host `run` in another process
//! drains its events, and they are the events `replay` finds in the same capture. Skips, saying
//! so, where the machine forbids network namespaces.

use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

mod common;
use common::{bin, binance_capture, tempdir};
use tickcross_testkit::wire::{Wire, WireError};

/// A way out of every wait for the other processes (never reached when things work).
const WAIT: Duration = Duration::from_secs(300);

/// Events as JSON objects without what differs between a live wire and a replay: the hardware's
/// cycle stamps and the ingress timestamps (the kernel's receive time live, the capture's in
/// replay).
fn events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            for k in ["hw_cycles", "ts_ns", "buy_ts_ns", "sell_ts_ns"] {
                o.remove(k);
            }
            v
        })
        .collect()
}

/// Lines of a child's stderr, as they come.
fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            eprintln!("  card: {l}");
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &Receiver<String>, what: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(WAIT) {
            Ok(l) => {
                let hit = l.contains(what);
                seen.push(l);
                if hit {
                    return seen;
                }
            }
            Err(e) => panic!("waiting for the card to say {what:?}: {e}; it said {seen:#?}"),
        }
    }
}

#[test]
fn a_simulated_card_on_a_veth_wire_finds_the_events_replay_finds() {
    let wire = match Wire::new() {
        Ok(w) => w,
        Err(WireError::Unavailable(why)) => {
            eprintln!("SKIPPED (needs root for a network namespace): {why}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let dir = tempdir("veth");
    let (pcap, cfg) = binance_capture(&dir, Some(3000));
    let region = dir.join("card.bar");
    let mut card = wire
        .exec(env!("CARGO_BIN_EXE_tickcross"))
        .args(["sim", "--interface", &wire.b, "--region"])
        .arg(&region)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = lines(card.stderr.take().unwrap());
    wait_for(&said, "waiting for a host");
    let live = dir.join("live.jsonl");
    let host = bin()
        // --duration: a way out should no frame ever reach the card (--until-idle waits for one)
        .args(["run", "--until-idle", "3", "--duration", "600", "--config"])
        .arg(&cfg)
        .arg("--device")
        .arg(&region)
        .arg("--events")
        .arg(&live)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the card takes frames only once the host has programmed it
    wait_for(&said, "taking frames from interface");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    let host = host.wait_with_output().unwrap();
    // SIGTERM: the card stops serving and reports what its interface took
    // SAFETY: kill(2) on our own child
    unsafe { libc::kill(card.id() as i32, libc::SIGTERM) };
    let report = wait_for(&said, "sim: interface");
    let status = card.wait().unwrap();
    assert!(
        host.status.success(),
        "{}",
        String::from_utf8_lossy(&host.stderr)
    );
    assert!(status.success(), "the card exited with {status}");

    let (frames, _) = tickcross_capture::read_capture(&pcap).unwrap();
    let last = report.last().unwrap();
    assert!(
        last.contains(&format!("{} frames into the pipeline", frames.len()))
            && last.contains(" 0 dropped by the kernel, 0 by the full backlog, 0 too long"),
        "every frame of the capture reached the pipeline: {last}"
    );

    let reference = dir.join("sw.jsonl");
    let sw = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&cfg)
        .arg("--events")
        .arg(&reference)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(sw.status.success());
    let (a, b) = (events(&live), events(&reference));
    assert!(!b.is_empty());
    assert_eq!(a.len(), b.len(), "the host drained every event");
    assert_eq!(a, b, "the card on the wire finds replay's events");
    std::fs::remove_dir_all(&dir).ok();
}
