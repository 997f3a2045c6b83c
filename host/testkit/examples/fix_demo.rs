//! `replay --trade` with one venue's orders over FIX 4.4 to the local QuickFIX acceptor
//! (`tests/fix/acceptor.cpp`, built on first use; needs libquickfix-dev), then the trading
//! report's balances for that venue checked against the acceptor's own fill log.
//!
//! cargo run --release -p tickcross --example fix_demo -- \
//!     --config examples/binance-trading.toml --venue spot --out out/fix [--liquidity 0.02] out/binance.pcap
//!
//! The venue's `sim` key is replaced by an `order_entry` to the acceptor, and `[rebalance]` is
//! dropped (transfers would move the balances too). Exit status 3 when the report and the fills
//! disagree (as for tickcross: 2 is a usage error). The `tickcross` binary is expected next to
//! this example's (`cargo build --release`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use rust_decimal::{Decimal, RoundingStrategy};
use tickcross_testkit::fix_acceptor::{Acceptor, AcceptorOptions};

fn arg_value(args: &mut Vec<String>, name: &str) -> Option<String> {
    let k = args.iter().position(|a| a == name)?;
    if k + 1 >= args.len() {
        return None;
    }
    let v = args.remove(k + 1);
    args.remove(k);
    Some(v)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("fix_demo: {e}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let config = arg_value(&mut args, "--config").ok_or("--config CFG is required")?;
    let venue = arg_value(&mut args, "--venue").ok_or("--venue NAME is required")?;
    let out = PathBuf::from(arg_value(&mut args, "--out").unwrap_or_else(|| "out/fix".into()));
    let liquidity = arg_value(&mut args, "--liquidity")
        .map(|s| {
            s.parse::<Decimal>()
                .map_err(|e| format!("--liquidity {s}: {e}"))
        })
        .transpose()?;
    if args.is_empty() {
        return Err("no capture given".into());
    }
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;

    let acc = Acceptor::start(
        &out.join("acceptor"),
        &AcceptorOptions {
            credentials: Some(("demo".into(), "demo-password".into())),
            liquidity,
            ..AcceptorOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(out.join("password"), "demo-password\n").map_err(|e| e.to_string())?;

    let text = std::fs::read_to_string(&config).map_err(|e| format!("{config}: {e}"))?;
    let mut doc: toml::Value = toml::from_str(&text).map_err(|e| format!("{config}: {e}"))?;
    let root = doc.as_table_mut().ok_or("config is not a table")?;
    root.remove("rebalance");
    let venues = root
        .get_mut("venue")
        .and_then(|v| v.as_array_mut())
        .ok_or("config has no [[venue]]")?;
    let abs = std::fs::canonicalize(&out).map_err(|e| e.to_string())?;
    let mut fees = None;
    for v in venues.iter_mut() {
        let t = v.as_table_mut().ok_or("a venue is not a table")?;
        if t.get("name").and_then(|n| n.as_str()) != Some(venue.as_str()) {
            continue;
        }
        t.remove("sim");
        fees = t.get("fees").cloned();
        let oe = format!(
            r#"protocol = "fix44"
host = "127.0.0.1"
port = {}
sender_comp_id = "TICKCROSS"
target_comp_id = "ACCEPTOR"
auth = {{ kind = "plain", username = "demo", password_file = "{}/password" }}
seq_store = "{}/fix-store""#,
            acc.port,
            abs.display(),
            abs.display()
        );
        t.insert(
            "order_entry".into(),
            toml::Value::Table(toml::from_str(&oe).map_err(|e| e.to_string())?),
        );
    }
    let fees = fees.ok_or_else(|| format!("no venue named {venue:?} with fees"))?;
    let taker: Decimal = fees
        .get("taker_bps")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or("the venue's fees.taker_bps is not a decimal string")?;
    let fee_asset = fees
        .get("asset")
        .and_then(|v| v.as_str())
        .unwrap_or("quote");
    if !matches!(fee_asset, "quote" | "base") {
        return Err("this check books fees in the quote or the base asset only".into());
    }
    let dec_of = |v: Option<&toml::Value>| -> Option<Decimal> { v?.as_str()?.parse().ok() };
    let mut volume = dec_of(fees.get("volume_30d")).unwrap_or_default();
    let mut tiers: Vec<(Decimal, Decimal)> = Vec::new();
    for t in fees
        .get("tiers")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
    {
        tiers.push((
            dec_of(t.get("volume")).ok_or("bad tier volume")?,
            dec_of(t.get("taker_bps")).ok_or("bad tier taker_bps")?,
        ));
    }
    let cfg_path = out.join("config.toml");
    std::fs::write(&cfg_path, toml::to_string(&doc).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let tc = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("tickcross"))
        .filter(|p| p.exists())
        .ok_or("the tickcross binary is not built (cargo build --release -p tickcross)")?;
    let report = out.join("report");
    let st = Command::new(&tc)
        .args(["replay", "--path", "sw", "--trade", "--config"])
        .arg(&cfg_path)
        .arg("--report")
        .arg(&report)
        .args(&args)
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err(format!("tickcross replay --trade: {st}"));
    }

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("summary.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let v = summary["venues"]
        .as_array()
        .and_then(|vs| vs.iter().find(|x| x["name"] == venue.as_str()))
        .ok_or("venue missing from the report")?;
    let bal = |asset: &str, what: &str| -> Option<Decimal> {
        v["balances"][asset][what].as_str()?.parse().ok()
    };
    let fills = acc.fills().map_err(|e| e.to_string())?;
    let (base, quote) = ("BTC", "USDT");
    let r8 = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven);
    let mut b = bal(base, "start").ok_or("no BTC balance")?;
    let mut q = bal(quote, "start").ok_or("no USDT balance")?;
    for f in &fills {
        let amount = r8(f.qty * f.price);
        let (db, dq) = if f.side == "buy" {
            (f.qty, -amount)
        } else {
            (-f.qty, amount)
        };
        b += db;
        q += dq;
        // the tier reached by the volume before this fill
        let taker = tiers
            .iter()
            .rev()
            .find(|(v, _)| *v <= volume)
            .map_or(taker, |t| t.1);
        volume += amount;
        if fee_asset == "quote" {
            q -= r8(amount * taker / Decimal::from(10_000));
        } else {
            b -= r8(f.qty * taker / Decimal::from(10_000));
        }
    }
    let (rb, rq) = (bal(base, "end"), bal(quote, "end"));
    println!();
    println!(
        "fix_demo: venue {venue:?} over FIX: {} fills in the acceptor's log ({})",
        fills.len(),
        acc.fills_path.display()
    );
    println!("  {base}: report {rb:?}, from the fills {b}");
    println!("  {quote}: report {rq:?}, from the fills {q}");
    let ok = rb == Some(b) && rq == Some(q);
    println!(
        "  {}",
        if ok {
            "the report matches the acceptor's fills"
        } else {
            "MISMATCH between the report and the acceptor's fills"
        }
    );
    Ok(ok)
}
