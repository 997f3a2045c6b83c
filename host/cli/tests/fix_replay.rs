//! `tickcross replay --trade` with one venue's orders over FIX 4.4 to the QuickFIX test acceptor
//! (`tests/fix/acceptor.cpp`, built on first use; needs libquickfix-dev): the trading report's
//! balances for that venue are its initial balances moved by exactly the fills in the acceptor's
//! fill log, and `journal verify` agrees with the report.

use rust_decimal::{Decimal, RoundingStrategy};
use tickcross_testkit::fix_acceptor::{Acceptor, AcceptorOptions};

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
    let opts = AcceptorOptions {
        credentials: Some(("alice".into(), "s3cret".into())),
        // IOC orders above 0.05 BTC fill partly: the rest expires, and the engine unwinds
        liquidity: Some("0.05".parse().unwrap()),
        partials: 2,
        ..AcceptorOptions::default()
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
    let report = dir.join("report");
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--config"])
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    ok(&o, "replay --trade");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();

    let fills = acc.fills().unwrap();
    assert!(
        fills.len() >= 4,
        "too few FIX fills to mean much: {fills:?}\n{s:#}"
    );
    assert!(
        fills.iter().any(|f| f.side == "buy") && fills.iter().any(|f| f.side == "sell"),
        "{fills:?}"
    );
    // the acceptor's fills, booked by hand: quote amounts and 10 bps fees rounded to 8 places,
    // half to even, fees in the quote asset
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let (mut btc, mut usdt, mut volume) = (Decimal::from(1), Decimal::from(60000), Decimal::ZERO);
    for f in &fills {
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

    // resuming that journal is refused with a FIX venue (no order-status reconcile)
    let o = bin()
        .args(["replay", "--path", "sw", "--trade", "--resume", "--config"])
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("order-status reconcile"), "{err}");
}
