//! Failover (issue 13, test 3): the simulated card on a veth wire is killed with SIGKILL while
//! tcpreplay plays the bridged Binance capture at its recorded pace; the host trading on its
//! events (`run --trade --fallback sw`) switches to the software path, which has detected on
//! every frame all along, and goes on trading; a restarted card is taken back once its quote
//! table agrees with the software path's. The events written are replay's, each once (no key
//! twice), no event traded twice, the journal agrees with the report, and the failover time
//! (SIGKILL to the switch, both on the wall clock) is measured and printed. Skips, saying so,
//! where the machine forbids network namespaces.

use std::collections::HashSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

mod common;
mod live_common;
use common::{bin, binance_capture, ok, tempdir};
use live_common::{
    card_with, events, line, numbers, succeeded, verify, wire_or_skip, Logged, TRADE_CONFIG,
};

/// Lines of each Binance recording: 5,595 frames, 6,577 events, 28.9 s at the recorded pace.
const LINES: usize = 3000;

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// The events in a trade-progress line ("trade: N events, ...").
fn handed(l: &str) -> Option<u64> {
    l.strip_prefix("trade: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
}

/// The wall-clock ns in a switch line ("... (wall N ns) ...").
fn switch_wall(l: &str) -> u64 {
    let at = l
        .find("(wall ")
        .expect("a switch line gives its wall clock")
        + 6;
    l[at..].split(' ').next().unwrap().parse().unwrap()
}

/// Each event's feed identity: the venue that moved, the instrument, the side, the feed's key.
fn keys(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {} {} {} {}",
                v["trigger_venue"], v["instrument"], v["buy_venue"], v["sell_venue"], v["feed_key"]
            )
        })
        .collect()
}

#[test]
fn a_killed_card_fails_over_to_software_and_a_restarted_one_is_taken_back() {
    let Some(wire) = wire_or_skip() else { return };
    let dir = tempdir("live-failover");
    let (pcap, _) = binance_capture(&dir, Some(LINES));
    let config = dir.join("trade.toml");
    std::fs::write(&config, TRADE_CONFIG).unwrap();
    let reference = dir.join("replay.jsonl");
    let o = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&config)
        .arg("--events")
        .arg(&reference)
        .arg(&pcap)
        .output()
        .unwrap();
    ok(&o, "replay");
    let n = events(&reference).len() as u64;
    assert!(n > 1000, "{n} events");

    let region = dir.join("card.bar");
    let first_card = card_with(&wire, &region, &["--realtime"]);
    let live = dir.join("live.jsonl");
    let report = dir.join("report");
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args(["run", "--duration", "600", "--until-idle", "3", "--config"])
        .arg(&config)
        .args([
            "--interface",
            &wire.b,
            "--trade",
            "--fallback",
            "sw",
            "--device",
        ])
        .arg(&region)
        .arg("--events")
        .arg(&live)
        .arg("--report")
        .arg(&report);
    let h = Logged::spawn(c, "host");
    h.wait_for("capturing frames on");
    first_card.wait_for("taking frames from interface");

    std::thread::scope(|s| {
        let player = s.spawn(|| wire.tcpreplay(&pcap, false).unwrap());
        // a third of the way through, with the card in charge, the card dies without a word.
        // A simulator descheduled past --dead-after on a loaded machine counts as stopped too,
        // so the host may be on software (and retrying the card) when the third is reached:
        // the kill waits for the card to be back in charge.
        let mut on_card = true;
        let mut last_switch = (0u64, true);
        let seen = |l: &str, on_card: &mut bool, last: &mut (u64, bool)| {
            if l.starts_with("failover: to software") {
                *on_card = false;
                *last = (switch_wall(l), false);
            } else if l.starts_with("failover: back to the card") {
                *on_card = true;
                *last = (switch_wall(l), true);
            }
        };
        let mut past_third = false;
        loop {
            let l = h
                .said
                .recv_timeout(live_common::WAIT)
                .expect("the host went quiet");
            seen(&l, &mut on_card, &mut last_switch);
            if let Some(e) = handed(&l) {
                past_third |= e >= n / 3;
                assert!(
                    e < n,
                    "the card was never in charge after a third of the events"
                );
            }
            if past_third && on_card {
                break;
            }
        }
        let mut first_card = first_card;
        let killed_at = wall_ns();
        first_card.child.kill().unwrap();
        first_card.child.wait().unwrap();
        // the first switch to software after the kill; if none comes within 5 s, the host had
        // switched just before the kill (a line not yet read), which the test says
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut measured = None;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(l) = h.said.recv_timeout(left) else {
                break;
            };
            seen(&l, &mut on_card, &mut last_switch);
            if l.starts_with("failover: to software") && switch_wall(&l) >= killed_at {
                measured = Some(switch_wall(&l) - killed_at);
                break;
            }
        }
        let us = match measured {
            Some(ns) => {
                let us = ns as f64 / 1e3;
                eprintln!(
                    "FAILOVER: SIGKILL of the card -> the software path in charge: {us:.0} us"
                );
                us
            }
            None => {
                assert!(
                    last_switch.0 < killed_at && !last_switch.1,
                    "the host did not fail over after the card was killed"
                );
                eprintln!(
                    "FAILOVER: not measured: the host had switched to software {} us before the kill",
                    (killed_at - last_switch.0) / 1000
                );
                f64::NAN
            }
        };
        // the card restarts on the same region (a new file renamed over it) and is taken back
        // once its quote table agrees with the software path's
        let second_card = card_with(&wire, &region, &["--realtime"]);
        second_card.wait_for("taking frames from interface");
        let back = h.wait_for("failover: back to the card").pop().unwrap();
        eprintln!("TAKEN BACK: {back}");
        let played = player.join().unwrap();
        eprintln!("tcpreplay: {}", played.trim());
        let o = h.finish();
        succeeded(&o, "host");
        let out = String::from_utf8_lossy(&o.stdout);
        eprintln!("the host's stdout:\n{out}");
        live_common::stop_card(second_card);

        // every event of the capture, each once, whichever path made it
        let (a, b) = (events(&live), events(&reference));
        assert_eq!(a.len(), b.len(), "every event detected and written once");
        assert_eq!(a, b, "the events across the switches are replay's");
        let k = keys(&live);
        assert_eq!(
            k.iter().collect::<HashSet<_>>().len(),
            k.len(),
            "no event key twice"
        );
        let fo = numbers(line(&out, "failover: "));
        assert!(
            fo[0] >= 1 && fo[1] >= 1,
            "switched to software and back: {fo:?}"
        );
        // the engine had every event once, traded, and its journal agrees with its report
        let trading = numbers(line(&out, "trading: "));
        assert_eq!(trading[0], n, "{trading:?}");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["events"], n, "{summary}");
        assert!(
            summary["trades_closed"].as_u64().unwrap() > 0,
            "no trade: {summary}"
        );
        verify(&report);
        // no opportunity traded twice: every trade's event is a different one
        let trades = std::fs::read_to_string(report.join("trades.jsonl")).unwrap();
        let seqs: Vec<u64> = trades
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["event_seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            seqs.iter().collect::<HashSet<_>>().len(),
            seqs.len(),
            "a trade per event at most"
        );
        let switches: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report.join("failover.json")).unwrap())
                .unwrap();
        assert!(
            switches["switches"].as_array().unwrap().len() >= 2,
            "{switches}"
        );
        eprintln!(
            "failover scenario: {n} events, {} trades closed, realized net {}, failover {us:.0} us",
            summary["trades_closed"], summary["pnl"]["realized_net"]
        );
    });
    std::fs::remove_dir_all(&dir).ok();
}
