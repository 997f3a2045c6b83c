//! The QuickFIX test counterparty (`tests/fix/acceptor.cpp`, an independent FIX engine): built
//! with g++ against Debian's `libquickfix-dev` on first use (cached under
//! `target/fix-acceptor/<hash of the sources>/`), run as a child process on 127.0.0.1. Used by
//! `tests/fix.rs`, the benchmark and `scripts/fix-demo`. See the source for the fill rule and
//! the test hooks.
//!
//! Every exchange with the acceptor waits for its acknowledgement, never for time to pass:
//! [`Acceptor::command`] returns once the acceptor has said the hook is in place, and a fill is
//! in [`Acceptor::fills`] before its trade report is sent. Timeouts are only ways out of a hang.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

const SOURCE: &str = include_str!("../../../tests/fix/acceptor.cpp");
const SETTINGS: &str = include_str!("../../../tests/fix/acceptor.cfg");
const DICTIONARY: &str = include_str!("../../../tests/fix/FIX44.xml");

#[derive(thiserror::Error)]
pub enum HarnessError {
    #[error("libquickfix-dev is not installed (/usr/include/quickfix/Application.h is missing): apt-get install -y libquickfix-dev (scripts/setup does)")]
    NoQuickFix,
    #[error("building the QuickFIX acceptor failed:\n{0}")]
    Build(String),
    #[error("acceptor: {0}")]
    Io(String),
    #[error("acceptor: no line matching {what} within {secs} s; its output so far:\n{seen}")]
    Timeout {
        what: String,
        secs: u64,
        seen: String,
    },
    #[error("acceptor exited early: {0}")]
    Exited(String),
}

// Debug as Display: a test's `unwrap()` then shows the acceptor's output line by line
impl std::fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Builds the acceptor (once per source version) and returns its directory: `acceptor`,
/// `acceptor.cfg` and `FIX44.xml`.
pub fn build() -> Result<PathBuf, HarnessError> {
    if !Path::new("/usr/include/quickfix/Application.h").exists() {
        return Err(HarnessError::NoQuickFix);
    }
    let dir = target_dir()
        .join("fix-acceptor")
        .join(format!("{:016x}", fnv(&[SOURCE, SETTINGS, DICTIONARY])));
    let bin = dir.join("acceptor");
    if bin.exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| HarnessError::Io(e.to_string()))?;
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id());
    let tag: String = tag.chars().filter(char::is_ascii_alphanumeric).collect();
    let src = dir.join(format!("acceptor-{tag}.cpp"));
    let write =
        |p: &Path, s: &str| std::fs::write(p, s).map_err(|e| HarnessError::Io(e.to_string()));
    write(&src, SOURCE)?;
    write(&dir.join("acceptor.cfg"), SETTINGS)?;
    write(&dir.join("FIX44.xml"), DICTIONARY)?;
    let tmp = dir.join(format!("acceptor-{tag}.tmp"));
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let out = Command::new(&cxx)
        .args([
            "-std=gnu++11",
            "-O2",
            "-DHAVE_STD_UNIQUE_PTR",
            "-Wno-deprecated",
            "-Wno-deprecated-declarations",
            "-o",
        ])
        .arg(&tmp)
        .arg(&src)
        .args(["-lquickfix", "-lpthread"])
        .output()
        .map_err(|e| HarnessError::Build(format!("{cxx}: {e}")))?;
    let _ = std::fs::remove_file(&src);
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(HarnessError::Build(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    std::fs::rename(&tmp, &bin).map_err(|e| HarnessError::Io(e.to_string()))?;
    Ok(dir)
}

/// How the acceptor behaves (see `tests/fix/acceptor.cpp`).
#[derive(Debug, Clone)]
pub struct AcceptorOptions {
    /// Its SenderCompID (our TargetCompID).
    pub sender: String,
    /// Its TargetCompID (our SenderCompID).
    pub target: String,
    /// Most filled per order (default: all).
    pub liquidity: Option<Decimal>,
    /// Orders above this quantity are rejected (default 1000).
    pub reject_above: Option<Decimal>,
    /// Orders below this quantity rest until cancelled.
    pub hold_below: Option<Decimal>,
    /// Trade reports per order.
    pub partials: u32,
    /// IOC remainders reported as ExecType=4 (else C).
    pub remainder_canceled: bool,
    /// Orders on these symbols get a BusinessMessageReject.
    pub bmr_symbols: Vec<String>,
    /// Logon credentials required (Username/Password).
    pub credentials: Option<(String, String)>,
    /// Every Nth fill of the run is busted (ExecType H) once its order is final (0: none).
    pub bust_every: u64,
    /// Every Nth fill not busted is corrected (ExecType G) once its order is final (0: none).
    pub correct_every: u64,
}

impl Default for AcceptorOptions {
    fn default() -> Self {
        AcceptorOptions {
            sender: "ACCEPTOR".into(),
            target: "TICKCROSS".into(),
            liquidity: None,
            reject_above: None,
            hold_below: None,
            partials: 1,
            remainder_canceled: false,
            bmr_symbols: vec![],
            credentials: None,
            bust_every: 0,
            correct_every: 0,
        }
    }
}

/// One line of the acceptor's fill log: a fill (`exec_type` "F"), or a bust ("H": `qty` and
/// `price` are the busted fill's) or correction ("G": the corrected ones) of the fill whose
/// ExecID is `exec_ref_id`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AcceptorFill {
    pub cl_ord_id: String,
    pub symbol: String,
    pub side: String,
    pub qty: Decimal,
    pub price: Decimal,
    pub exec_id: String,
    #[serde(default = "trade_exec_type")]
    pub exec_type: String,
    #[serde(default)]
    pub exec_ref_id: Option<String>,
}

fn trade_exec_type() -> String {
    "F".into()
}

/// The fills of a fill log as they stand after its busts and corrections, in the order they
/// were filled: busted fills left out, corrected ones at their corrected quantity and price.
/// Panics on a bust or correction of a fill not in the log, or of one already busted.
pub fn standing_fills(log: &[AcceptorFill]) -> Vec<AcceptorFill> {
    let mut out: Vec<Option<AcceptorFill>> = Vec::new();
    for f in log {
        if f.exec_type == "F" {
            out.push(Some(f.clone()));
            continue;
        }
        let r = f
            .exec_ref_id
            .as_deref()
            .expect("a bust or correction names its fill");
        let slot = out
            .iter_mut()
            .find(|x| x.as_ref().is_some_and(|x| x.exec_id == r))
            .unwrap_or_else(|| panic!("{f:?} names no standing fill"));
        match f.exec_type.as_str() {
            "H" => {
                let was = slot.take().expect("found above");
                assert_eq!((was.qty, was.price), (f.qty, f.price), "{f:?}");
            }
            "G" => {
                let was = slot.as_mut().expect("found above");
                (was.qty, was.price) = (f.qty, f.price);
            }
            other => panic!("fill log line of exec type {other:?}"),
        }
    }
    out.into_iter().flatten().collect()
}

/// How long the harness waits for the acceptor to start or to acknowledge a hook before it
/// fails: a way out of a hang on a loaded machine, not a synchronisation.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// A running acceptor.
pub struct Acceptor {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    seen: Vec<String>,
    /// Lines already matched by `wait_for` (a line is matched once).
    cursor: usize,
    pub port: u16,
    pub dir: PathBuf,
    pub fills_path: PathBuf,
}

fn free_port() -> Result<u16, HarnessError> {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| HarnessError::Io(e.to_string()))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError::Io(e.to_string()))
}

impl Acceptor {
    /// Builds if needed and starts an acceptor whose files (fills, QuickFIX log) go to `dir`.
    pub fn start(dir: &Path, opts: &AcceptorOptions) -> Result<Acceptor, HarnessError> {
        let bin_dir = build()?;
        std::fs::create_dir_all(dir).map_err(|e| HarnessError::Io(e.to_string()))?;
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(&bin_dir, dir, opts) {
                Ok(a) => return Ok(a),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::Io("not started".into())))
    }

    fn try_start(
        bin_dir: &Path,
        dir: &Path,
        opts: &AcceptorOptions,
    ) -> Result<Acceptor, HarnessError> {
        let port = free_port()?;
        let fills_path = dir.join("acceptor-fills.jsonl");
        let log = dir.join("quickfix-log");
        let mut c = Command::new(bin_dir.join("acceptor"));
        c.arg("--settings")
            .arg(bin_dir.join("acceptor.cfg"))
            .arg("--dict")
            .arg(bin_dir.join("FIX44.xml"))
            .args(["--port", &port.to_string()])
            .args(["--sender", &opts.sender, "--target", &opts.target])
            .arg("--fills")
            .arg(&fills_path)
            .arg("--log")
            .arg(&log)
            .arg("--store")
            .arg(dir.join("quickfix-store"))
            .args(["--partials", &opts.partials.to_string()]);
        if let Some(l) = opts.liquidity {
            c.args(["--liquidity", &l.to_string()]);
        }
        if let Some(r) = opts.reject_above {
            c.args(["--reject-above", &r.to_string()]);
        }
        if let Some(h) = opts.hold_below {
            c.args(["--hold-below", &h.to_string()]);
        }
        if opts.remainder_canceled {
            c.args(["--ioc-remainder", "canceled"]);
        }
        if !opts.bmr_symbols.is_empty() {
            c.args(["--bmr-symbols", &opts.bmr_symbols.join(",")]);
        }
        if let Some((u, p)) = &opts.credentials {
            c.args(["--username", u, "--password", p]);
        }
        if opts.bust_every > 0 {
            c.args(["--bust-every", &opts.bust_every.to_string()]);
        }
        if opts.correct_every > 0 {
            c.args(["--correct-every", &opts.correct_every.to_string()]);
        }
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().map_err(|e| HarnessError::Io(e.to_string()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or(HarnessError::Io("no stdout".into()))?;
        let stderr = child
            .stderr
            .take()
            .ok_or(HarnessError::Io("no stderr".into()))?;
        let (tx, rx) = channel();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx2.send(format!("STDERR {line}")).is_err() {
                    break;
                }
            }
        });
        let mut a = Acceptor {
            stdin: child.stdin.take(),
            child,
            rx,
            seen: Vec::new(),
            cursor: 0,
            port,
            dir: dir.to_path_buf(),
            fills_path,
        };
        a.wait_for("READY", ACK_TIMEOUT, |l| l == "READY")?;
        Ok(a)
    }

    /// Sends a hook line (see the acceptor's source) and returns once the acceptor has
    /// acknowledged it (`ACK <line>`): the hook then applies to the next order it receives.
    /// Lines the acceptor printed meanwhile stay for [`Acceptor::wait_for`].
    pub fn command(&mut self, line: &str) -> Result<(), HarnessError> {
        self.drain();
        let from = self.seen.len();
        self.write_line(line)?;
        let ack = format!("ACK {line}");
        self.find_from(from, &format!("{ack:?}"), ACK_TIMEOUT, |l| l == ack)
            .map(|_| ())
    }

    fn write_line(&mut self, line: &str) -> Result<(), HarnessError> {
        let w = self
            .stdin
            .as_mut()
            .ok_or(HarnessError::Io("stdin closed".into()))?;
        writeln!(w, "{line}")
            .and_then(|_| w.flush())
            .map_err(|e| HarnessError::Io(e.to_string()))
    }

    fn drain(&mut self) {
        self.seen.extend(self.rx.try_iter());
    }

    /// Every line so far.
    pub fn lines(&mut self) -> &[String] {
        self.drain();
        &self.seen
    }

    /// The next line after the previous match that satisfies `pred`; `timeout` only guards
    /// against a hang.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, HarnessError> {
        let k = self.find_from(self.cursor, what, timeout, pred)?;
        self.cursor = k + 1;
        Ok(self.seen[k].clone())
    }

    /// The index of the first line from `from` on that satisfies `pred`, waiting for it.
    fn find_from(
        &mut self,
        from: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<usize, HarnessError> {
        let t0 = Instant::now();
        loop {
            self.drain();
            if let Some(k) = (from..self.seen.len()).find(|&k| pred(&self.seen[k])) {
                return Ok(k);
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                self.drain();
                return Err(HarnessError::Exited(format!(
                    "{st}; output:\n{}",
                    self.seen.join("\n")
                )));
            }
            let left = timeout.saturating_sub(t0.elapsed());
            if left.is_zero() {
                return Err(HarnessError::Timeout {
                    what: what.into(),
                    secs: timeout.as_secs(),
                    seen: self.seen.join("\n"),
                });
            }
            match self.rx.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(l) => self.seen.push(l),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// The fills logged so far.
    pub fn fills(&self) -> Result<Vec<AcceptorFill>, HarnessError> {
        let text = match std::fs::read_to_string(&self.fills_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(HarnessError::Io(e.to_string())),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| HarnessError::Io(format!("{l}: {e}"))))
            .collect()
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        let _ = self.write_line("quit");
        self.stdin = None;
        // a clean stop lets QuickFIX close its files; a kill after the limit is as good for a test
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
