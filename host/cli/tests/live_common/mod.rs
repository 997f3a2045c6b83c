//! What the live-wire tests share: a wire or a clear skip, child processes whose stderr lines
//! are followed as they come (the tests synchronise on them), and events compared without what
//! differs between a live wire and a replay.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use tickcross_testkit::wire::{Wire, WireError};

/// A way out of every wait for the other processes (never reached when things work).
pub const WAIT: Duration = Duration::from_secs(300);

/// A private wire, or None (said on stderr) where the machine forbids network namespaces.
pub fn wire_or_skip() -> Option<Wire> {
    match Wire::new() {
        Ok(w) => Some(w),
        Err(WireError::Unavailable(why)) => {
            eprintln!("SKIPPED (needs root for a network namespace): {why}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Events as JSON objects without what differs between a live wire and a replay: the hardware's
/// cycle stamps and the ingress timestamps (the kernel's receive time live, the capture's in
/// replay).
pub fn events(path: &Path) -> Vec<serde_json::Value> {
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

/// A child process whose stderr lines are echoed (prefixed with `tag`) and can be waited for.
pub struct Logged {
    pub child: Child,
    pub said: Receiver<String>,
    pub tag: &'static str,
}

impl Logged {
    /// Starts `cmd` with stdout piped (collected by `finish`) and stderr followed.
    pub fn spawn(mut cmd: Command, tag: &'static str) -> Logged {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("  {tag}: {l}");
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Logged {
            child,
            said: rx,
            tag,
        }
    }

    /// The lines up to and including the first that contains `what`; panics after `WAIT`, or
    /// when the process ends without saying it.
    pub fn wait_for(&self, what: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match self.said.recv_timeout(WAIT) {
                Ok(l) => {
                    let hit = l.contains(what);
                    seen.push(l);
                    if hit {
                        return seen;
                    }
                }
                Err(e) => panic!(
                    "waiting for {} to say {what:?}: {e}; it said {seen:#?}",
                    self.tag
                ),
            }
        }
    }

    /// SIGTERM: ask the process to finish cleanly.
    pub fn terminate(&self) {
        // SAFETY: kill(2) on our own child, with a fixed signal
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
    }

    /// Waits for the process to end (its own limits, --duration or a signal, end it) and
    /// returns its stdout and status; stderr was echoed as it came.
    pub fn finish(self) -> Output {
        self.child.wait_with_output().unwrap()
    }
}

/// Asserts that a child succeeded, showing its stdout when it did not (its stderr was echoed).
pub fn succeeded(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}); stdout:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout)
    );
}

/// The simulated card on the wire's end `b`, serving its BAR at `region`, once it waits for a
/// host to program it.
pub fn card(wire: &Wire, region: &Path) -> Logged {
    card_with(wire, region, &[])
}

/// `card` with more `sim` arguments (`--realtime`).
pub fn card_with(wire: &Wire, region: &Path, args: &[&str]) -> Logged {
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args(["sim", "--interface", &wire.b, "--region"])
        .arg(region)
        .args(args);
    let card = Logged::spawn(c, "card");
    card.wait_for("waiting for a host");
    card
}

/// Stops the card (SIGTERM) and returns its last line: what its interface took.
pub fn stop_card(card: Logged) -> String {
    card.terminate();
    let report = card.wait_for("sim: interface");
    let o = card.finish();
    assert!(o.status.success(), "the card exited with {}", o.status);
    report.last().unwrap().clone()
}

/// The summary lines of one detection path (`[name] ...`) that a live run and a replay of the
/// same frames must agree on, without the name: frames and bytes, drops by reason, messages
/// per venue and their outcomes, feed integrity, quote updates, events and events per pair.
pub fn counter_lines(stdout: &[u8], name: &str) -> Vec<String> {
    let prefix = format!("[{name}] ");
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        // the hardware's input stalls depend on the pace frames arrive at, not on the frames
        .map(|l| match l.find(", input stall cycles") {
            Some(k) => l[..k].to_string(),
            None => l.to_string(),
        })
        .filter(|l| !l.starts_with("simulated "))
        .collect()
}

/// The bridged capture's venues (the bridge's destinations) with trading sections: the fees
/// are low enough that the recordings' crosses pay, so that trades happen.
pub const TRADE_CONFIG: &str = r#"
[trading]
min_profit = "0.01"
max_trade_qty = "0.1"
order_timeout_ms = 500
unwind_slippage_bps = "15"
unwind_retries = 3
unwind_retry_ms = 20
sharpe_interval_s = 1
seed = 7

[risk]
max_notional = "20000"
max_position = "0.15"
max_open_legs = 8
daily_loss_limit = "500"
max_quote_age_ms = 2000
venue_max_failures = 5
venue_failure_window_ms = 60000
venue_cool_off_ms = 10000

[journal]
sync = "trade"

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "spot"
protocol = "binance_sbe"
destination = "239.255.10.1:30001"
symbols = { "BTCUSDT" = "BTC" }
fees = { maker_bps = "1", taker_bps = "0.1", asset = "quote" }
balances = { BTC = "0.5", USDT = "30000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001" } }
sim = { latency_us = [500, 1500] }

[[venue]]
name = "usdm"
protocol = "binance_sbe"
destination = "239.255.10.2:30002"
symbols = { "BTCUSDT" = "BTC" }
fees = { maker_bps = "1", taker_bps = "0.1", asset = "quote" }
balances = { BTC = "0.5", USDT = "30000" }
markets = { BTCUSDT = { tick_size = "0.1", lot_size = "0.001" } }
sim = { latency_us = [500, 1500] }

[[venue]]
name = "cm"
protocol = "binance_sbe"
destination = "239.255.10.3:30003"
symbols = { "BTCUSD_PERP" = "BTC" }
fees = { maker_bps = "1", taker_bps = "0.1", asset = "base" }
balances = { BTC = "0.5", USDT = "30000" }
markets = { BTCUSD_PERP = { tick_size = "0.1", lot_size = "1", contract = { inverse = "100" } } }
sim = { latency_us = [500, 1500] }
"#;

/// `journal verify` of a report's journal against the report passes.
pub fn verify(report: &Path) {
    let o = crate::common::bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(report)
        .output()
        .unwrap();
    crate::common::ok(&o, "journal verify");
}

/// The line of a run's stdout that starts with `start`.
pub fn line<'a>(stdout: &'a str, start: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line {start:?} in:\n{stdout}"))
}

/// The numbers in a line, in order.
pub fn numbers(l: &str) -> Vec<u64> {
    l.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}
