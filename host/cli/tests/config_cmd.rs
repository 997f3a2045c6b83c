//! `tickcross config reference` and `tickcross config check`: the committed docs/CONFIG.md is
//! the generator's output, every key of the merged tables is in it with a meaning and a default,
//! the defaults it states are what the validation does, and `check` passes the examples and
//! reports every problem of a broken file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tickcross::config::{Config, FILE_KEYS};
use tickcross::config_doc;
use tickcross_core::settings::{Key, KeyDefault, Shape};
use tickcross_trading::config::{self as trading, Latency, OrderEntry, SyncPolicy};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tickcross(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickcross"))
        .args(args)
        .output()
        .expect("run tickcross")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn committed_reference_is_the_generators_output() {
    let out = tickcross(&["config", "reference"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let committed = std::fs::read_to_string(repo().join("docs/CONFIG.md")).expect("docs/CONFIG.md");
    assert!(
        stdout(&out) == committed,
        "docs/CONFIG.md is stale: regenerate it with \
         `cargo run -p tickcross -- config reference > docs/CONFIG.md`"
    );
}

/// Every key reachable from the merged top-level tables, as (key, number of times its table is
/// listed): a tagged table's tag is counted once per variant, as the reference prints it.
fn walk<'a>(lists: &[&'a [Key]], out: &mut Vec<&'a Key>, tags: &mut usize) {
    fn shape<'a>(s: &'a Shape, out: &mut Vec<&'a Key>, tags: &mut usize) {
        match s {
            Shape::Table(keys) => walk(&[*keys], out, tags),
            Shape::Merged(lists) => walk(lists, out, tags),
            Shape::Map(each) | Shape::Array(each) => shape(each, out, tags),
            Shape::Tagged { variants, .. } => {
                for (_, keys) in *variants {
                    *tags += 1;
                    walk(&[*keys], out, tags);
                }
            }
            Shape::Str | Shape::Dec | Shape::Int { .. } | Shape::Bool | Shape::Any => {}
        }
    }
    for k in lists.iter().flat_map(|l| l.iter()) {
        out.push(k);
        shape(&k.shape, out, tags);
    }
}

#[test]
fn every_key_of_the_merged_tables_is_in_the_reference_with_a_meaning_and_a_default() {
    let text = config_doc::reference().unwrap();
    let (mut keys, mut tags) = (Vec::new(), 0);
    walk(FILE_KEYS, &mut keys, &mut tags);
    assert!(keys.len() > 50, "{} keys", keys.len());
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), keys.len() + tags, "one row per key and per tag");
    for k in &keys {
        let row = format!("| `{}` |", k.name);
        assert!(
            rows.iter().any(|r| r.starts_with(&row)),
            "no row for {}",
            k.name
        );
    }
    // a few by path, from each owner
    let paths = config_doc::key_paths().unwrap();
    for p in [
        "trading.order_timeout_ms",
        "risk.rate_limit.window_ms",
        "instrument.edge",
        "instrument.base",
        "venue.destination",
        "venue.fees.tiers[].taker_bps",
        "venue.markets.<symbol>.contract.inverse",
        "venue.sim.faults[].kind",
        "venue.order_entry.auth.kind",
        "venue.order_entry.auth.private_key_file",
        "rebalance.assets.<asset>.transfer_s",
        "journal.sync",
    ] {
        assert!(paths.iter().any(|q| q == p), "{p} not in {paths:#?}");
    }
    for section in [
        "## `Top level`",
        "## `[[instrument]]`",
        "## `[[venue]]`",
        "## `[trading]`",
        "## `[risk]`",
        "## `[rebalance]`",
        "## `[journal]`",
        "## `venue.fees`",
        "## `venue.markets.<symbol>`",
        "## `venue.sim`",
        "## `venue.order_entry`",
        "## `venue.order_entry.auth (kind = \"plain\")`",
        "## `venue.order_entry.auth (kind = \"binance_ed25519\")`",
    ] {
        assert!(text.contains(section), "no section {section}");
    }
    assert_eq!(config_doc::undocumented().unwrap(), Vec::<String>::new());
    // owners by crate
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.starts_with(&format!("| `{name}` |")))
            .unwrap()
            .to_string()
    };
    assert!(row("destination").contains("| tickcross-core |"));
    assert!(row("order_timeout_ms").contains("| `1000` | tickcross-trading |"));
    assert!(row("unwind_slippage_bps").contains("| `\"20\"` |"));
    assert!(row("order_entry").contains("| tickcross-fix |"));
    assert!(row("heartbeat_s").contains("| `30` | tickcross-fix |"));
    assert!(row("min_profit").contains("| **required** |"));
}

fn find<'a>(keys: &'a [Key], name: &str) -> &'a Key {
    keys.iter().find(|k| k.name == name).unwrap()
}

fn text_default(keys: &[Key], name: &str) -> &'static str {
    match find(keys, name).default {
        KeyDefault::Text(t) => t,
        other => panic!("{name}: {other:?}"),
    }
}

/// A trading file with every optional key left out.
const MINIMAL: &str = r#"
[trading]
min_profit = "0"

[risk]
max_notional = "1000"
max_position = "1"
max_open_legs = 2
daily_loss_limit = "10"
max_quote_age_ms = 100

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "a"
protocol = "binance_sbe"
destination = "239.1.1.1:5000"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10" }
balances = { BTC = "1", USDT = "1000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.001" } }
"#;

/// What the tables say an absent key stands for is what the validation makes of it.
#[test]
fn stated_defaults_are_the_validations() {
    let cfg = Config::from_toml_str(MINIMAL).unwrap();
    let t = cfg.trading().unwrap();
    const MS: u64 = 1_000_000;
    let num = |keys: &[Key], name: &str| match find(keys, name).default {
        KeyDefault::Num(n) => n,
        other => panic!("{name}: {other:?}"),
    };
    let p = &t.params;
    let tk = trading::TRADING_KEYS;
    assert_eq!(p.order_timeout_ns, num(tk, "order_timeout_ms") * MS);
    assert_eq!(p.unwind_slippage_bps, num(tk, "unwind_slippage_bps").into());
    assert_eq!(u64::from(p.unwind_retries), num(tk, "unwind_retries"));
    assert_eq!(p.unwind_retry_ns, num(tk, "unwind_retry_ms") * MS);
    assert_eq!(
        p.sharpe_interval_ns,
        num(tk, "sharpe_interval_s") * 1000 * MS
    );
    assert_eq!(p.seed, num(tk, "seed"));
    assert_eq!(p.max_trade_qty, None);
    assert!(p.min_profit_bps.is_zero());

    let r = &t.risk;
    let rk = trading::RISK_KEYS;
    assert_eq!(
        u64::from(r.venue_max_failures),
        num(rk, "venue_max_failures")
    );
    assert_eq!(
        r.venue_failure_window_ns,
        num(rk, "venue_failure_window_ms") * MS
    );
    assert_eq!(r.venue_cool_off_ns, num(rk, "venue_cool_off_ms") * MS);
    let rl = format!(
        "orders = {}, window_ms = {}",
        r.rate_limit.orders,
        r.rate_limit.window_ns / MS
    );
    assert_eq!(text_default(rk, "rate_limit"), rl);

    let v = &t.venues[0];
    assert_eq!(v.rate_limit, r.rate_limit, "[risk] rate_limit");
    assert_eq!(v.targets, v.balances, "targets: the initial balances");
    let m = v.markets[0].as_ref().unwrap();
    assert_eq!(m.min_qty, m.lot_size);
    assert_eq!(v.order_entry, OrderEntry::Simulated);
    let sk = trading::SIM_KEYS;
    assert_eq!(
        v.sim.latency,
        Latency::Constant(num(sk, "latency_us") * 1000)
    );
    assert_eq!((v.sim.reject_ppm, v.sim.timeout_ppm), (0, 0));
    assert!(v.sim.faults.is_empty());
    assert_eq!(
        text_default(trading::VENUE_KEYS, "sim"),
        format!(
            "latency_us = {}, no rejects, timeouts or faults",
            num(sk, "latency_us")
        )
    );
    assert_eq!(t.journal.sync, SyncPolicy::Trade);
    assert_eq!(
        find(trading::JOURNAL_KEYS, "sync").default,
        KeyDefault::Lit("\"trade\"")
    );
    assert!(t.rebalance.is_none());
}

#[test]
fn check_passes_every_example_with_a_summary() {
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("examples")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        n += 1;
        let out = tickcross(&["config", "check", path.to_str().unwrap()]);
        let text = stdout(&out);
        assert!(
            out.status.success(),
            "{}: {}\n{text}",
            path.display(),
            stderr(&out)
        );
        let cfg = Config::load(&path).unwrap();
        let trading = if cfg.trading().is_some() { "on" } else { "off" };
        assert!(
            text.starts_with(&format!(
                "ok: {} instrument(s), {} venue(s), trading {trading}\n",
                cfg.detection().n_instruments(),
                cfg.n_venues()
            )),
            "{text}"
        );
        for k in 0..cfg.n_venues() {
            let line = format!("venue {}: ", cfg.venue_name(k).unwrap());
            let line = text.lines().find(|l| l.starts_with(&line)).unwrap();
            let entry = if trading == "on" {
                "order entry simulated"
            } else {
                "order entry none (no trading)"
            };
            assert!(line.ends_with(entry), "{line}");
        }
    }
    assert!(n >= 3, "{n} examples");
}

#[test]
fn check_names_the_fix_order_entry() {
    let dir = std::env::temp_dir().join(format!("tickcross-config-fix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fix.toml");
    let text = MINIMAL.replace(
        "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }",
        "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }\n\
         order_entry = { protocol = \"fix44\", host = \"127.0.0.1\", port = 9880, \
         sender_comp_id = \"TC\", target_comp_id = \"ACC\", \
         auth = { kind = \"plain\", username = \"u\", password_env = \"PW\" } }",
    );
    std::fs::write(&path, text).unwrap();
    let out = tickcross(&["config", "check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("venue a: binance_sbe on 239.1.1.1:5000; symbols BTCUSDT; order entry fix44 127.0.0.1:9880\n"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_reports_every_problem_of_a_broken_file_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("tickcross-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    let bad = MINIMAL
        .replace(
            "max_open_legs = 2",
            "max_open_legs = 1\nmax_quote_agee_ms = 5",
        )
        .replace("max_quote_age_ms = 100\n", "")
        .replace("protocol = \"binance_sbe\"", "protocol = \"itch\"")
        .replace("taker_bps = \"10\"", "taker_bps = 10");
    std::fs::write(&path, bad).unwrap();
    let out = tickcross(&["config", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(stdout(&out), "", "no summary for a bad file");
    let err = stderr(&out);
    for needle in [
        &*path.display().to_string(),
        "risk.max_quote_agee_ms: unknown key; did you mean \"max_quote_age_ms\"?",
        "risk: missing key \"max_quote_age_ms\"",
        "venue[0].fees.taker_bps: expected a decimal number as a string",
        "venue \"a\": protocol \"itch\": expected \"binance_sbe\" or \"deribit_mcast\"",
        "[risk]: max_open_legs must be at least 2",
    ] {
        assert!(err.contains(needle), "{err}\nlacks: {needle}");
    }

    // a file that is not there, and one that is not TOML
    let out = tickcross(&["config", "check", dir.join("none.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("none.toml"), "{}", stderr(&out));
    std::fs::write(&path, "[trading\n").unwrap();
    let out = tickcross(&["config", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("parse error at line 1"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
