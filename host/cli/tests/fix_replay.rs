//! `tickcross replay --trade` with one venue's orders over FIX 4.4 to the QuickFIX test acceptor
//! (`tests/fix/acceptor.cpp`, built on first use; needs libquickfix-dev): the trading report's
//! balances for that venue are its initial balances moved by exactly the fills in the acceptor's
//! fill log, and `journal verify` agrees with the report. With the acceptor busting and
//! correcting fills on cue (ExecType H and G, after the order is final), the balances are those
//! of the fills that stand, a journal rebuilt as `--resume` rebuilds it gives the same figures,
//! and the report counts the busts and corrections.
//!
//! A run killed with an order to the acceptor in flight (between the order's send and its fill;
//! between the fill's arrival and its journal record) is resumed: the resumed run asks the
//! acceptor for the order's status and books what the journal lacked, exactly once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::{Decimal, RoundingStrategy};
use tickcross_testkit::fix_acceptor::{standing_fills, Acceptor, AcceptorFill, AcceptorOptions};
use tickcross_trading::journal::{self, ReconcileOutcome, Record};

mod common;
use common::{bin, ok, synthetic_capture, tempdir};

// order_timeout_ms is also how long the replay waits (wall time, simulated time standing still)
// for the FIX venue's reports: generous, so the run follows the acceptor's answers however busy
// the machine is, and only a hang runs into it (the simulated venues end their orders in
// milliseconds of simulated time, far below it); logon_timeout_s likewise
const CONFIG: &str = r#"
[trading]
min_profit = "0.5"
max_trade_qty = "0.2"
order_timeout_ms = 60000
unwind_retries = 2
unwind_retry_ms = 5
sharpe_interval_s = 1
seed = 3

[risk]
max_notional = "50000"
max_position = "0.5"
max_open_legs = 6
daily_loss_limit = "100000"
max_quote_age_ms = 400

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "v0"
protocol = "binance_sbe"
destination = "239.255.10.1:30001"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "1", taker_bps = "10", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001" } }

[venue.order_entry]
protocol = "fix44"
host = "127.0.0.1"
port = @PORT@
sender_comp_id = "TICKCROSS"
target_comp_id = "ACCEPTOR"
auth = { kind = "plain", username = "alice", password_file = "@DIR@/password" }
heartbeat_s = 30
logon_timeout_s = 60
seq_store = "@DIR@/fix-store"

[[venue]]
name = "v1"
protocol = "binance_sbe"
destination = "239.255.10.2:30002"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "2", taker_bps = "5", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.1", lot_size = "0.001" } }
sim = { latency_us = [300, 2500] }

[[venue]]
name = "v2"
protocol = "binance_sbe"
destination = "239.255.10.3:30003"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "2", taker_bps = "5", asset = "base" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.1", lot_size = "0.001" } }
sim = { latency_us = { choices = [400, 800, 3000] } }
"#;

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

#[test]
fn replay_trade_routes_one_venue_through_fix_and_the_report_matches_the_acceptors_fills() {
    let dir = tempdir("fix-replay");
    let pcap = synthetic_capture(&dir, 3000);
    let (mut acc, config) = acceptor_and_config(&dir, partly_filling());
    let report = dir.join("report");
    let o = replay_trade(&config, &report, &pcap, false)
        .output()
        .unwrap();
    ok(&o, "replay --trade");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();

    let fills = acc.fills().unwrap();
    assert!(fills.iter().all(|f| f.exec_type == "F"), "{fills:?}");
    assert!(
        fills.len() >= 4,
        "too few FIX fills to mean much: {fills:?}\n{s:#}"
    );
    assert!(
        fills.iter().any(|f| f.side == "buy") && fills.iter().any(|f| f.side == "sell"),
        "{fills:?}"
    );
    // the acceptor's fills, booked by hand
    let (btc, usdt, volume) = book_by_hand(&fills);
    let v0 = &s["venues"][0];
    assert_eq!(v0["name"], "v0");
    assert_eq!(dec(&v0["balances"]["BTC"]["end"]), btc, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["end"]), usdt, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["reserved"]), Decimal::ZERO);

    // the venue's traded volume (what fee tiers count) is the acceptor's fills' quote amounts
    assert_eq!(dec(&v0["volume"]), volume, "{v0:#}");
    // trades with a leg on v0 closed, some after an unwind of a partly filled IOC leg
    let trades: Vec<serde_json::Value> = std::fs::read_to_string(report.join("trades.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        trades
            .iter()
            .any(|t| t["buy_venue"] == "v0" || t["sell_venue"] == "v0"),
        "{trades:?}"
    );
    assert!(s["orders"]["expired"].as_u64().unwrap() > 0, "{s:#}");

    let o = bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    ok(&o, "journal verify");

    // resuming the finished journal asks the venue for a mass status (nothing was in flight):
    // nothing to book, and the report is the same
    let o = replay_trade(&config, &report, &pcap, true)
        .output()
        .unwrap();
    ok(&o, "replay --trade --resume");
    acc.wait_for("the mass status", Duration::from_secs(60), |l| {
        l == "MASS reports=0"
    })
    .unwrap();
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(again["venues"], s["venues"]);
    assert_eq!(again["pnl"], s["pnl"]);
    let r = &again["reconciled"];
    for k in ["agreed", "recovered", "not_sent", "mismatch", "unexpected"] {
        assert_eq!(r[k].as_u64(), Some(0), "{r:#}");
    }
}

/// v0's balances (BTC, USDT) and traded volume from the acceptor's fills, booked by hand: quote
/// amounts and 10 bps fees in the quote asset rounded to 8 places, half to even.
fn book_by_hand(fills: &[AcceptorFill]) -> (Decimal, Decimal, Decimal) {
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let (mut btc, mut usdt, mut volume) = (Decimal::from(1), Decimal::from(60000), Decimal::ZERO);
    for f in fills {
        let quote = r8(f.qty * f.price);
        volume += quote;
        let fee = r8(quote * Decimal::from(10) / Decimal::from(10_000));
        match f.side.as_str() {
            "buy" => {
                btc += f.qty;
                usdt -= quote;
            }
            _ => {
                btc -= f.qty;
                usdt += quote;
            }
        }
        usdt -= fee;
    }
    (btc, usdt, volume)
}

/// A venue that takes nothing and says nothing: the journal is only replayed here.
struct Mute;

impl tickcross_trading::venue::Venue for Mute {
    fn submit(
        &mut self,
        _: &tickcross_trading::venue::OrderRequest,
        _: u64,
    ) -> Result<(), tickcross_trading::venue::VenueError> {
        Err(tickcross_trading::venue::VenueError::Disconnected)
    }
    fn cancel(&mut self, _: u64, _: u64) -> Result<(), tickcross_trading::venue::VenueError> {
        Err(tickcross_trading::venue::VenueError::Disconnected)
    }
    fn poll(
        &mut self,
        _: u64,
        _: &mut Vec<tickcross_trading::venue::VenueEvent>,
    ) -> Result<(), tickcross_trading::venue::VenueError> {
        Ok(())
    }
    fn connected(&self) -> bool {
        false
    }
    fn clock(&self) -> tickcross_trading::venue::VenueClock {
        tickcross_trading::venue::VenueClock::Simulated
    }
    fn next_due_ns(&self) -> Option<u64> {
        None
    }
}

#[test]
fn replay_trade_applies_the_acceptors_busts_and_corrections_to_the_books() {
    let dir = tempdir("fix-replay-busts");
    let pcap = synthetic_capture(&dir, 3000);
    let (acc, config) = acceptor_and_config(
        &dir,
        AcceptorOptions {
            liquidity: Some("0.05".parse().unwrap()),
            partials: 2,
            // every 3rd fill busted, every other one of the rest corrected, once the order is
            // final
            bust_every: 3,
            correct_every: 2,
            ..AcceptorOptions::default()
        },
    );
    let report = dir.join("report");
    let o = replay_trade(&config, &report, &pcap, false)
        .output()
        .unwrap();
    ok(&o, "replay --trade");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();

    let log = acc.fills().unwrap();
    let count = |t: &str| log.iter().filter(|f| f.exec_type == t).count() as u64;
    let (trades, busts, corrections) = (count("F"), count("H"), count("G"));
    assert!(
        busts >= 1 && corrections >= 1,
        "the acceptor busted {busts} and corrected {corrections} of {trades} fills: {log:?}\n{s:#}"
    );
    let standing = standing_fills(&log);
    assert_eq!(standing.len() as u64, trades - busts);
    let (btc, usdt, volume) = book_by_hand(&standing);
    // the figures, for the record
    eprintln!(
        "acceptor: {trades} fills, {busts} busted, {corrections} corrected; v0 by hand: BTC {btc}, USDT {usdt}, volume {volume}; report: {:#}",
        s["corrections"]
    );
    let v0 = &s["venues"][0];
    assert_eq!(v0["name"], "v0");
    assert_eq!(dec(&v0["balances"]["BTC"]["end"]), btc, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["end"]), usdt, "{v0:#}");
    assert_eq!(dec(&v0["volume"]), volume, "{v0:#}");
    // the busted and corrected fills booked as they first were would not give these figures
    let as_filled: Vec<AcceptorFill> = log.iter().filter(|f| f.exec_type == "F").cloned().collect();
    assert_ne!(book_by_hand(&as_filled), (btc, usdt, volume));

    let c = &s["corrections"];
    assert_eq!(c["busts"].as_u64(), Some(busts), "{c:#}");
    assert_eq!(c["corrections"].as_u64(), Some(corrections), "{c:#}");
    assert_eq!(c["refused"].as_u64(), Some(0), "{c:#}");
    let text = std::fs::read_to_string(report.join("summary.txt")).unwrap();
    assert!(
        text.contains(&format!(
            "busted {busts}, corrected {corrections}, refused 0"
        )),
        "{text}"
    );
    // every closed trade says how many of its fills were busted and corrected
    let closed: Vec<serde_json::Value> = std::fs::read_to_string(report.join("trades.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    if s["trades_open"].as_u64() == Some(0) {
        let sum = |k: &str| closed.iter().map(|t| t[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!((sum("busts"), sum("corrections")), (busts, corrections));
    }

    // the independent re-derivation agrees (its balances, P&L, and the busts, corrections and
    // their P&L effect against the report)
    let o = bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    ok(&o, "journal verify");

    // the journal rebuilt as a restart rebuilds it (its records applied to a fresh state, no
    // venue asked) holds the report's figures
    let copy = dir.join("journal-copy");
    std::fs::copy(report.join("journal"), &copy).unwrap();
    let contents = tickcross_trading::journal::read(&copy).unwrap();
    let Some(tickcross_trading::journal::Record::Header(h)) = contents.records.first() else {
        panic!("no header")
    };
    let cfg = tickcross::config::Config::load(&config).unwrap();
    let setup =
        tickcross_trading::run::setup_of(cfg.trading_inputs(), h.digest.clone(), None).unwrap();
    let venues: Vec<Box<dyn tickcross_trading::venue::Venue>> =
        vec![Box::new(Mute), Box::new(Mute), Box::new(Mute)];
    let (engine, _) =
        tickcross_trading::engine::Engine::resume(setup, venues, &copy, contents).unwrap();
    let st = engine.state();
    assert_eq!(st.ledger.balance(0, "BTC"), btc);
    assert_eq!(st.ledger.balance(0, "USDT"), usdt);
    assert_eq!(st.volume[0], volume);
    assert_eq!((st.stats.busts, st.stats.corrections), (busts, corrections));
    assert_eq!(st.pnl.realized, dec(&s["pnl"]["realized_net"]));
    assert_eq!(st.pnl.fees, dec(&s["pnl"]["fees"]));
    assert_eq!(st.stats.correction_pnl, dec(&c["pnl_effect"]));
    for v in 1..3 {
        for a in ["BTC", "USDT"] {
            assert_eq!(
                st.ledger.balance(v, a),
                dec(&s["venues"][v]["balances"][a]["end"])
            );
        }
    }
}

/// IOC orders above 0.05 BTC fill partly, in two trade reports: the rest expires, and the
/// engine unwinds.
fn partly_filling() -> AcceptorOptions {
    AcceptorOptions {
        liquidity: Some("0.05".parse().unwrap()),
        partials: 2,
        ..AcceptorOptions::default()
    }
}

/// The acceptor (with `opts` and the test's credentials) and the test's config for it.
fn acceptor_and_config(dir: &Path, opts: AcceptorOptions) -> (Acceptor, PathBuf) {
    let opts = AcceptorOptions {
        credentials: Some(("alice".into(), "s3cret".into())),
        ..opts
    };
    let acc = Acceptor::start(&dir.join("acceptor"), &opts).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("password"), "s3cret\n").unwrap();
    let config = dir.join("trade.toml");
    std::fs::write(
        &config,
        CONFIG
            .replace("@PORT@", &acc.port.to_string())
            .replace("@DIR@", &dir.display().to_string()),
    )
    .unwrap();
    (acc, config)
}

fn replay_trade(config: &Path, report: &Path, pcap: &Path, resume: bool) -> std::process::Command {
    let mut c = bin();
    c.args(["replay", "--path", "sw", "--trade"]);
    if resume {
        c.arg("--resume");
    }
    c.arg("--config")
        .arg(config)
        .arg("--report")
        .arg(report)
        .arg(pcap);
    c
}

/// The resumed run's report agrees with the acceptor's fills booked by hand, and with `journal
/// verify`; returns the journal's reconcile records (order id, outcome, booked before, the
/// venue's filled total).
fn check_resumed(acc: &Acceptor, report: &Path) -> Vec<(u64, ReconcileOutcome, Decimal, Decimal)> {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    let fills = acc.fills().unwrap();
    let (btc, usdt, volume) = book_by_hand(&fills);
    let v0 = &s["venues"][0];
    assert_eq!(dec(&v0["balances"]["BTC"]["end"]), btc, "{v0:#}\n{fills:?}");
    assert_eq!(dec(&v0["balances"]["USDT"]["end"]), usdt, "{v0:#}");
    assert_eq!(dec(&v0["volume"]), volume, "{v0:#}");
    assert_eq!(dec(&v0["balances"]["USDT"]["reserved"]), Decimal::ZERO);
    let o = bin()
        .args(["journal", "verify"])
        .arg(report.join("journal"))
        .arg("--report")
        .arg(report)
        .output()
        .unwrap();
    ok(&o, "journal verify");
    journal::read(&report.join("journal"))
        .unwrap()
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::Reconciled {
                status,
                outcome,
                booked_qty,
                ..
            } => Some((status.order_id, outcome, booked_qty, status.cum_qty)),
            _ => None,
        })
        .collect()
}

#[test]
fn resume_reconciles_an_order_killed_between_its_send_and_its_fill() {
    let dir = tempdir("fix-resume-send");
    let pcap = synthetic_capture(&dir, 3000);
    let (mut acc, config) = acceptor_and_config(&dir, AcceptorOptions::default());
    let report = dir.join("report");
    // the acceptor holds the first order unanswered while the run is killed
    acc.command("stall").unwrap();
    let mut child = replay_trade(&config, &report, &pcap, false)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("first.log")).unwrap())
        .spawn()
        .unwrap();
    let stalled = acc
        .wait_for("the stalled order", Duration::from_secs(300), |l| {
            l.starts_with("STALL clordid=")
        })
        .unwrap();
    let cl = stalled.trim_start_matches("STALL clordid=").to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    // the answers go out to a dead connection and are kept for a resend
    acc.command("release").unwrap();
    acc.wait_for("the fill", Duration::from_secs(60), |l| {
        l.starts_with(&format!("FILL clordid={cl} "))
    })
    .unwrap();
    acc.wait_for("the session's end", Duration::from_secs(60), |l| {
        l == "LOGOUT"
    })
    .unwrap();
    let records = journal::read(&report.join("journal")).unwrap().records;
    let id: u64 = cl.parse().unwrap();
    assert!(
        !records
            .iter()
            .any(|r| matches!(r, Record::Exec { report, .. } if report.order_id == id)),
        "the killed run booked a report of order {id}"
    );

    let o = replay_trade(&config, &report, &pcap, true)
        .output()
        .unwrap();
    ok(&o, "replay --trade --resume");
    acc.wait_for("the status request", Duration::from_secs(60), |l| {
        l == format!("STATUS clordid={cl} known=Y")
    })
    .unwrap();
    let reconciled = check_resumed(&acc, &report);
    // the reports the acceptor kept came back on the resend before the status answer, which
    // then agreed, or (had they not) the answer booked them: the order's fill is booked once
    let fill = acc
        .fills()
        .unwrap()
        .into_iter()
        .find(|f| f.cl_ord_id == cl)
        .expect("the stalled order filled");
    let booked: Decimal = journal::read(&report.join("journal"))
        .unwrap()
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Exec { report, .. } if report.order_id == id => Some(report.last_qty),
            _ => None,
        })
        .sum();
    assert_eq!(booked, fill.qty, "{reconciled:?}");
    // and the status answer is on record: in agreement with the resent reports (or recovering
    // them)
    assert!(
        reconciled.iter().any(|r| r.0 == id
            && matches!(r.1, ReconcileOutcome::Agreed | ReconcileOutcome::Recovered)
            && r.3 == fill.qty),
        "{reconciled:?}"
    );
    assert!(
        reconciled
            .iter()
            .all(|r| r.1 != ReconcileOutcome::Mismatch && r.1 != ReconcileOutcome::Unexpected),
        "{reconciled:?}"
    );
    eprintln!(
        "order {id}: filled {} at the acceptor, booked {booked}; reconcile records {reconciled:?}",
        fill.qty
    );
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature: cargo test -p tickcross --features fault-injection"
)]
fn resume_reconciles_a_fill_received_but_never_journaled() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempdir("fix-resume-fill");
    let pcap = synthetic_capture(&dir, 3000);
    let (acc, config) = acceptor_and_config(&dir, partly_filling());
    let report = dir.join("report");
    // the run dies as it is about to journal the first fill from the FIX venue (v0): the FIX
    // session has handled the report (its sequence number is stored), so no resend brings it
    // back; only the status request can
    let o = replay_trade(&config, &report, &pcap, false)
        .env(journal::ENV_KILL_BEFORE_FILL_ON, "0")
        .output()
        .unwrap();
    assert_eq!(
        o.status.signal(),
        Some(9),
        "the run was to die at its first fill from v0: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = replay_trade(&config, &report, &pcap, true)
        .output()
        .unwrap();
    ok(&o, "replay --trade --resume");
    eprintln!("resumed run:\n{}", String::from_utf8_lossy(&o.stderr));
    let reconciled = check_resumed(&acc, &report);
    let recovered: Vec<_> = reconciled
        .iter()
        .filter(|r| r.1 == ReconcileOutcome::Recovered && r.3 > r.2)
        .collect();
    assert_eq!(recovered.len(), 1, "{reconciled:?}");
    eprintln!("reconcile records {reconciled:?}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert!(s["reconciled"]["recovered"].as_u64() >= Some(1), "{s:#}");
}
