//! Hostile input at the command line (issue 9, classes 5, 6, 7 and 10): `kill --pid` signals only
//! a trading tickcross, a config's problems are reported all at once, the bridge writes nothing
//! that `replay` would refuse nor over its own inputs, and each exit status means one thing.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickcross"))
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-edges-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A child killed and reaped when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    assert!(std::fs::metadata(path).unwrap().file_type().is_fifo());
}

// ---- class 5: kill --pid ----

#[test]
fn kill_refuses_pid_zero_and_negative_pids_as_usage_errors() {
    for args in [
        &["kill", "--pid", "0"][..],
        &["kill", "--pid=-1"],
        &["kill", "--pid", "-1"],
        &["kill", "--pid", "-4242"],
    ] {
        let o = bin().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--pid"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn kill_refuses_a_process_that_is_not_tickcross() {
    let mut sleep = Reaped(Command::new("sleep").arg("30").spawn().unwrap());
    let o = bin()
        .args(["kill", "--pid", &sleep.0.id().to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not tickcross"), "{}", stderr(&o));
    assert!(stderr(&o).contains("sleep"), "{}", stderr(&o));
    // not signalled: still running
    assert!(sleep.0.try_wait().unwrap().is_none());
}

#[test]
fn kill_refuses_a_dead_pid() {
    let mut done = Command::new("true").spawn().unwrap();
    let pid = done.id();
    done.wait().unwrap();
    let o = bin()
        .args(["kill", "--pid", &pid.to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("no process {pid} is running")),
        "{}",
        stderr(&o)
    );
    // beyond pid_max
    let o = bin()
        .args(["kill", "--pid", "2147483647"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no process"), "{}", stderr(&o));
}

#[test]
fn kill_refuses_a_tickcross_that_has_no_kill_switch() {
    // a replay without --trade, held at start-up by its config being a FIFO nobody writes
    let dir = tempdir("nokillswitch");
    let fifo = dir.join("config.toml");
    mkfifo(&fifo);
    let mut replay = Reaped(
        bin()
            .args(["replay", "--path", "sw", "--config"])
            .arg(&fifo)
            .arg(dir.join("none.pcap"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // spawn() returns once the exec has happened: the process is tickcross from here on, and
    // without --trade it never catches SIGUSR1, wherever its start-up has got to
    let pid = replay.0.id();
    let o = bin()
        .args(["kill", "--pid", &pid.to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no kill switch"), "{}", stderr(&o));
    // SIGUSR1 would have terminated it
    assert!(replay.0.try_wait().unwrap().is_none());
}

// ---- class 6: every config error at once, through the binary ----

#[test]
fn replay_reports_every_config_problem_at_once() {
    let dir = tempdir("config");
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        r#"[[instrument]]
name = "BTC"
edge = 0.5

[[instrument]]
name = ""

[[venue]]
name = ""
protocol = "binance_sbe"
destination = "239.1.1.1:5000"
symbols = { BTCUSDT = "BTC" }

[[venue]]
name = "b"
protocol = "binance_sbe"
destination = "239.1.1.300:5001"
symbolz = { BTCUSDT = "BTC" }
"#,
    )
    .unwrap();
    let o = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&cfg)
        .arg(dir.join("none.pcap"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    for f in [
        "line 3: instrument[0].edge: expected a decimal number as a string",
        "line 18: venue[1].symbolz: unknown key; did you mean \"symbols\"?",
        "instrument #2: empty name",
        "venue #1: empty name",
        "venue \"b\": destination \"239.1.1.300:5001\": \"239.1.1.300\" is not an IPv4 address",
    ] {
        assert!(e.contains(f), "{e}\nlacks: {f}");
    }
}

// ---- class 7: the bridge ----

fn book_ticker(ts: u64, symbol: &str) -> String {
    format!(
        "{ts} {{\"stream\":\"x@bookTicker\",\"data\":{{\"u\":1,\"s\":\"{symbol}\",\"b\":\"100.5\",\"B\":\"1\",\"a\":\"100.6\",\"A\":\"2\"}}}}\n"
    )
}

/// One input per venue, each with one bookTicker of `symbol`.
fn inputs(dir: &Path, venues: usize, symbol: &str) -> Vec<String> {
    (0..venues)
        .map(|k| {
            let p = dir.join(format!("v{k}.txt"));
            std::fs::write(&p, book_ticker(1_000 + k as u64, symbol)).unwrap();
            format!("v{k}={}", p.display())
        })
        .collect()
}

fn bridge(out: &Path, config_out: Option<&Path>, inputs: &[String]) -> Output {
    let mut c = bin();
    c.args(["bridge", "binance-json", "--out"]).arg(out);
    if let Some(cfg) = config_out {
        c.arg("--config-out").arg(cfg);
    }
    c.args(["--instrument", "BTC"])
        .args(inputs)
        .output()
        .unwrap()
}

#[test]
fn bridge_refuses_a_config_that_replay_would_refuse_and_writes_nothing() {
    let long = "S".repeat(100);
    for (name, venues, symbol, why) in [
        ("nine", 9, "BTCUSDT", "9 venues: at most 8"),
        ("emptysym", 2, "", "symbol \"\": empty symbol name"),
        ("longsym", 2, long.as_str(), "100 bytes, at most 32"),
    ] {
        let dir = tempdir(&format!("bridge-{name}"));
        let ins = inputs(&dir, venues, symbol);
        let (out, cfg) = (dir.join("out.pcap"), dir.join("out.toml"));
        let o = bridge(&out, Some(&cfg), &ins);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: capture written");
        assert!(!cfg.exists(), "{name}: config written");
    }
    // the same inputs within the limits: what the bridge writes, replay loads
    let dir = tempdir("bridge-ok");
    let ins = inputs(&dir, 8, "BTCUSDT");
    let (out, cfg) = (dir.join("out.pcap"), dir.join("out.toml"));
    let o = bridge(&out, Some(&cfg), &ins);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&cfg)
        .arg(&out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
}

#[test]
fn bridge_refuses_an_output_that_is_an_input_or_the_other_output() {
    let dir = tempdir("bridge-paths");
    let ins = inputs(&dir, 2, "BTCUSDT");
    let input0 = dir.join("v0.txt");
    let before = std::fs::read(&input0).unwrap();
    let link = dir.join("hardlink.txt");
    std::fs::hard_link(&input0, &link).unwrap();
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let out = dir.join("out.pcap");
    let cases: Vec<(PathBuf, Option<PathBuf>, &str)> = vec![
        // --config-out over --out, spelt the same and differently
        (out.clone(), Some(out.clone()), "--config-out"),
        (out.clone(), Some(sub.join("../out.pcap")), "--config-out"),
        // an output over an input: the same path, through .., through a hard link
        (input0.clone(), None, "--out"),
        (sub.join("../v0.txt"), None, "--out"),
        (dir.join("o.pcap"), Some(link.clone()), "--config-out"),
    ];
    for (o_path, c_path, what) in cases {
        let o = bridge(&o_path, c_path.as_deref(), &ins);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{o_path:?} {c_path:?}: {}",
            stderr(&o)
        );
        let e = stderr(&o);
        assert!(e.contains(what) && e.contains("same file"), "{e}");
        assert_eq!(std::fs::read(&input0).unwrap(), before, "input overwritten");
        assert!(!out.exists(), "{o_path:?} {c_path:?}: written");
    }
}

// ---- class 10: exit statuses ----

#[test]
fn usage_errors_exit_2_and_are_not_a_difference() {
    for args in [
        &["replay"][..],
        &["no-such-command"],
        &["replay", "--path", "neither", "--config", "x", "y"],
        &[
            "bridge",
            "binance-json",
            "--out",
            "x.pcap",
            "no-equals-sign",
        ],
        &["bridge", "binance-json", "--out", "x.pcap", "=file"],
    ] {
        let o = bin().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = bin().arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
}
