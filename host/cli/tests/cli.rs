//! The tickcross binary end to end: the two paths side by side, a live host and a simulated card
//! in separate processes sharing only the BAR region, and clear failures on bad input.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
use common::{bin, binance_capture};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Events as JSON objects without the hardware's cycle stamps.
fn events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("hw_cycles");
            v
        })
        .collect()
}

#[test]
fn replay_both_paths_agree_and_write_the_outputs() {
    let dir = tempdir("replay");
    let (pcap, cfg) = binance_capture(&dir, Some(3000));
    let ev = dir.join("events.jsonl");
    let q = dir.join("quotes.jsonl");
    let out = bin()
        .args(["replay", "--config"])
        .arg(&cfg)
        .arg("--events")
        .arg(&ev)
        .arg("--quotes")
        .arg(&q)
        .arg(&pcap)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("hw and sw agree"), "{stdout}");
    assert!(stdout.contains("messages per venue"), "{stdout}");
    let e = events(&ev);
    assert!(!e.is_empty());
    for k in [
        "seq",
        "ts_ns",
        "instrument",
        "buy_venue",
        "sell_venue",
        "buy_price",
        "buy_qty",
        "sell_price",
        "sell_qty",
    ] {
        assert!(e[0].get(k).is_some(), "event field {k} missing");
    }
    assert!(
        e[0]["buy_price"].is_string(),
        "prices are exact decimal strings"
    );
    let quotes = std::fs::read_to_string(&q).unwrap();
    assert_eq!(quotes.lines().count(), 3, "one entry per venue for BTC");
    for l in quotes.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        // Binance quotes have no channel sequence: never stale
        assert_eq!(v["stale"], serde_json::Value::Bool(false), "{l}");
    }
}

#[test]
fn a_live_host_and_a_simulated_card_in_separate_processes() {
    let dir = tempdir("processes");
    let (pcap, cfg) = binance_capture(&dir, Some(3000));
    let region = dir.join("card.bar");
    // the card: serves its BAR, waits for a host to program it, then plays the capture
    let mut card = bin()
        .args(["sim", "--linger", "30", "--region"])
        .arg(&region)
        .arg(&pcap)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the host: maps the region once the card says it is waiting for one (the region is then in
    // place), exactly as it would map resource0; the card's stderr is drained until it exits
    let stderr = card.stderr.take().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if l.contains("waiting for a host") {
                let _ = ready_tx.send(());
            }
        }
    });
    if ready
        .recv_timeout(std::time::Duration::from_secs(120))
        .is_err()
    {
        let _ = card.kill();
        panic!("the simulated card did not start");
    }
    let live = dir.join("live.jsonl");
    let host = bin()
        .args(["run", "--until-idle", "1.5", "--config"])
        .arg(&cfg)
        .arg("--device")
        .arg(&region)
        .arg("--events")
        .arg(&live)
        .output()
        .unwrap();
    let _ = card.kill();
    let _ = card.wait();
    assert!(
        host.status.success(),
        "{}",
        String::from_utf8_lossy(&host.stderr)
    );
    let status = bin()
        .args(["status", "--device"])
        .arg(&region)
        .output()
        .unwrap();
    assert!(status.status.success());
    check_status_text(&String::from_utf8_lossy(&status.stdout));

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
    assert_eq!(a.len(), b.len(), "the live host drained every event");
    assert_eq!(a, b, "the card's events equal the software path's");
}

/// `status` reads as "key  value" lines, not a debug dump: every counter under its contract
/// name (tickcross_bindings::COUNTER_NAMES), names in one column and values right-aligned in
/// the next, after the device's own fields and its blocks' offsets.
fn check_status_text(text: &str) {
    assert!(!text.contains('{') && !text.contains("BlockMap"), "{text}");
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ').map(str::trim))
            .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
    };
    assert!(value("cycles").parse::<u64>().unwrap() > 0, "{text}");
    assert!(["yes", "no"].contains(&value("idle")), "{text}");
    assert!(value("  control").starts_with("0x"), "{text}");
    let counters: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "counters")
        .skip(1)
        .collect();
    let names = tickcross_bindings::COUNTER_NAMES;
    assert_eq!(counters.len(), names.len(), "{text}");
    let value_end = counters[0].len();
    for (line, name) in counters.iter().zip(names) {
        let rest = line
            .strip_prefix("  ")
            .and_then(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("counter {name} not in its place: {line:?}"));
        assert!(rest.trim().parse::<u64>().is_ok(), "{line:?}");
        assert_eq!(line.len(), value_end, "values not aligned:\n{text}");
    }
    assert!(value("  rx_frames").parse::<u64>().unwrap() > 0, "{text}");
}

/// Log lines and progress go to stderr without colour escapes when stderr is not a terminal;
/// -q leaves only warnings and errors, -v adds debug, RUST_LOG overrides both; `bridge` says
/// its figures once (stdout), not again as log lines.
#[test]
fn logs_to_a_pipe_are_plain_and_q_v_choose_the_level() {
    let dir = tempdir("logs");
    let (pcap, _) = binance_capture(&dir, None);
    let data = repo().join("data/binance");
    let bridge = |flags: &[&str], env: &[(&str, &str)]| {
        let mut c = bin();
        c.args(flags)
            .args(["bridge", "binance-json", "--out"])
            .arg(dir.join("b.pcap"))
            .arg(format!(
                "spot={}",
                data.join("spot_btcusdt_20240808.gz").display()
            ))
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (out, err) = bridge(&[], &[]);
    assert!(out.contains("spot: 41249 lines, 28040 bookTicker"), "{out}");
    assert!(
        !err.contains("bridge input converted"),
        "said twice:\n{err}"
    );
    let (_, err) = bridge(&["-v"], &[]);
    assert!(
        err.contains("DEBUG") && err.contains("bridge input converted"),
        "{err}"
    );
    assert!(!err.contains("\x1b["), "colour escapes in a pipe:\n{err:?}");
    let (_, err) = bridge(&["-v"], &[("RUST_LOG", "warn")]);
    assert!(err.is_empty(), "RUST_LOG does not override -v:\n{err}");

    // a trading replay logs at INFO (an unwind) and prints progress lines
    let trade = |flags: &[&str]| {
        let o = bin()
            .args(flags)
            .args(["replay", "--path", "sw", "--trade", "--config"])
            .arg(repo().join("examples/binance-trading.toml"))
            .arg(&pcap)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let err = trade(&[]);
    assert!(err.contains(" INFO ") && err.contains("replay: "), "{err}");
    assert!(!err.contains("\x1b["), "colour escapes in a pipe:\n{err:?}");
    let err = trade(&["-q"]);
    assert!(
        !err.contains("INFO") && !err.contains("replay: ") && !err.contains("trade: "),
        "{err}"
    );

    let help = bin().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for says in ["--quiet", "--verbose", "RUST_LOG", "NO_COLOR"] {
        assert!(help.contains(says), "--help does not say {says}:\n{help}");
    }
}

/// The trading summary reads at a glance: aligned "key  value" lines (no JSON), the same in
/// summary.txt, and printed after every log line of the run, in one block.
#[test]
fn the_trading_summary_is_plain_aligned_text() {
    let dir = tempdir("tsummary");
    let (pcap, _) = binance_capture(&dir, None);
    let report = dir.join("report");
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--config"])
        .arg(repo().join("examples/binance-trading.toml"))
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let txt = std::fs::read_to_string(report.join("summary.txt")).unwrap();
    assert!(
        out.contains(&txt),
        "stdout and summary.txt differ:\n{out}\n{txt}"
    );
    assert!(
        !txt.contains('{') && !txt.contains('"'),
        "JSON in the summary:\n{txt}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    let o = &s["orders"];
    let orders = format!(
        "  orders            sent {} ({} unwind), filled in full {}, partial-fill reports {}, rejected {}, expired {}, canceled {}, timed out {}, lost {}",
        o["sent"], o["unwind"], o["fills"], o["partial_fills"], o["rejects"], o["expired"],
        o["canceled"], o["timeouts"], o["lost"]
    );
    assert!(
        txt.lines().any(|l| l == orders),
        "{orders:?} not in:\n{txt}"
    );
    // key lines: the value column starts at the same place on each
    for key in [
        "events",
        "candidates",
        "trades",
        "realized net P&L",
        "refused",
        "positions",
    ] {
        let l = txt
            .lines()
            .find(|l| l.strip_prefix("  ").is_some_and(|r| r.starts_with(key)))
            .unwrap_or_else(|| panic!("no {key} line:\n{txt}"));
        assert_eq!(l[..20].trim(), key, "{key}: value not in the column: {l:?}");
        assert!(
            !l[20..].starts_with(' '),
            "{key}: value not in the column: {l:?}"
        );
    }
    assert!(txt.contains(&format!(
        "  realized net P&L  {}",
        s["pnl"]["realized_net"].as_str().unwrap()
    )));
    // the detection summary and the trading summary form one block, in that order
    let at = |p: &str| out.find(p).unwrap_or_else(|| panic!("no {p:?} in:\n{out}"));
    assert!(at("[sw] frames") < at("trading summary"));
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempdir("bad");
    // a config with several mistakes: every one is reported
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        "[[instrument]]\nname = \"BTC\"\nedge = \"1.0000000001\"\n\n[[venue]]\nname = \"a\"\nprotocol = \"nyse\"\n\
         destination = \"1.2.3:5\"\nsymbols = { X = \"ETH\" }\n",
    )
    .unwrap();
    let out = bin()
        .args(["replay", "--config"])
        .arg(&cfg)
        .arg(dir.join("none.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["edge", "protocol", "1.2.3:5", "ETH"] {
        assert!(
            err.contains(needle),
            "error does not mention {needle}: {err}"
        );
    }
    // a corrupt capture
    let good = repo().join("examples/binance.toml");
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, [0xd4u8, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0]).unwrap();
    let out = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&good)
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.pcap"));
    // a missing capture
    let out = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&good)
        .arg(dir.join("missing.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pcap"));
    // a bridge argument without VENUE= (a usage error)
    let out = bin()
        .args(["bridge", "binance-json", "--out"])
        .arg(dir.join("x.pcap"))
        .arg("nofile")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VENUE=FILE"));
    // a device path that is not a tickcross BAR
    let fake = dir.join("fake.bar");
    std::fs::write(&fake, vec![0u8; 1 << 20]).unwrap();
    let out = bin()
        .args(["status", "--device"])
        .arg(&fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown block type"));
}

#[test]
fn replay_writes_a_vcd_trace_of_the_hardware() {
    let dir = tempdir("trace");
    let (pcap, cfg) = binance_capture(&dir, Some(40));
    let vcd = dir.join("trace.vcd");
    let out = bin()
        .args(["replay", "--path", "hw", "--config"])
        .arg(&cfg)
        .arg("--trace")
        .arg(&vcd)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("$timescale"), "not a VCD");
    for signal in ["s_axis_tdata", "s_axis_tready", "reg_rd_data", "ev_valid"] {
        assert!(text.contains(signal), "trace lacks {signal}");
    }
    // value changes, not just a header
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 1000);
}
