//! Faults end in bounded time with a clear error (issue 9, classes 1, 2, 3 and 8): captures cut
//! short through the simulated hardware, VCD traces that cannot be written, a live host whose
//! device dies or was left behind by a killed host, and signals during a replay.
//!
//! Every child process runs under a deadline: a hang fails the test (the child is killed) instead
//! of blocking CI. Tests synchronise on the children's output lines, never on sleeps.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{bin, binance_capture, pcap_to_pcapng};

/// Longer than any of these runs takes on a loaded 2-core machine, short enough to fail a hang.
const DEADLINE: Duration = Duration::from_secs(180);

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Files in /dev/shm that a process with this pid created as its default BAR region.
fn regions_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("tickcross-{pid}-");
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// A child whose stdout and stderr are collected by threads; stderr also arrives line by line
/// for synchronisation. Killed if dropped while still running.
struct Proc {
    pid: u32,
    done: Receiver<ExitStatus>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (line_tx, lines) = mpsc::channel();
        let mut out = child.stdout.take().unwrap();
        let out_text = stdout.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            out_text.lock().unwrap().push_str(&s);
        });
        let err = child.stderr.take().unwrap();
        let err_text = stderr.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines() {
                let Ok(l) = l else { break };
                err_text.lock().unwrap().push_str(&(l.clone() + "\n"));
                let _ = line_tx.send(l);
            }
        });
        let pid = child.id();
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(s) = child.wait() {
                let _ = done_tx.send(s);
            }
        });
        Proc {
            pid,
            done,
            lines,
            stdout,
            stderr,
            status: None,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn signal(&self, sig: i32) {
        assert!(self.status.is_none());
        // SAFETY: kill(2) touches no memory of ours; the pid is our own child, not yet reaped
        // (`status` is None), so it cannot have been reused by another process.
        unsafe { libc::kill(self.pid as i32, sig) };
    }

    /// Waits for a stderr line that satisfies `pred`; fails the test after the deadline.
    fn wait_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {DEADLINE:?}; stderr:\n{}", self.stderr())
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "exited ({:?}) before {what}; stderr:\n{}",
                    self.finish(),
                    self.stderr()
                ),
            }
        }
    }

    /// Waits for the exit; kills the child and fails the test after the deadline.
    fn finish(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match self.done.recv_timeout(DEADLINE) {
            Ok(s) => {
                // stdout/stderr threads end at EOF, right after the exit
                let end = Instant::now() + Duration::from_secs(10);
                while (Arc::strong_count(&self.stdout) > 1 || Arc::strong_count(&self.stderr) > 1)
                    && Instant::now() < end
                {
                    std::thread::yield_now();
                }
                self.status = Some(s);
                s
            }
            Err(_) => {
                self.signal(libc::SIGKILL);
                panic!(
                    "still running after {DEADLINE:?} (a hang); killed. stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() && self.done.try_recv().is_err() {
            // SAFETY: our own child, still running.
            unsafe { libc::kill(self.pid as i32, libc::SIGKILL) };
        }
    }
}

/// Class 1: a capture cut short (mid-record, pcap and pcapng, and a gzip stream cut short) ends
/// every path with an error naming the file and the offset, in bounded time, and leaves no BAR
/// region behind. Through the hardware it used to hang: the simulator thread waited forever for
/// the ring to drain.
#[test]
fn captures_cut_short_end_every_path_with_the_file_and_offset() {
    let dir = tempdir("cut");
    let (pcap, cfg) = binance_capture(&dir, Some(6000));
    let bytes = std::fs::read(&pcap).unwrap();
    // cut well past the point where the simulator is thousands of frames behind the reader and
    // its ring fills (more than half of 1024 records undrained)
    let cut_pcap = dir.join("cut.pcap");
    std::fs::write(&cut_pcap, &bytes[..bytes.len() * 2 / 3 + 7]).unwrap();
    let ng = pcap_to_pcapng(&bytes);
    let cut_ng = dir.join("cut.pcapng");
    std::fs::write(&cut_ng, &ng[..ng.len() * 2 / 3 + 5]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let cut_gz = dir.join("cut.pcap.gz");
    std::fs::write(&cut_gz, &gz[..gz.len() * 2 / 3]).unwrap();

    for (file, what) in [
        (&cut_pcap, "truncated"),
        (&cut_ng, "truncated"),
        (&cut_gz, "gzip"),
    ] {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for path in ["sw", "hw", "both"] {
            let mut p = Proc::spawn(
                bin()
                    .args(["replay", "--path", path, "--config"])
                    .arg(&cfg)
                    .arg(file),
            );
            let status = p.finish();
            let err = p.stderr();
            assert_eq!(status.code(), Some(1), "{name} --path {path}: {err}");
            let line = err
                .lines()
                .find(|l| l.starts_with("error:"))
                .unwrap_or_else(|| panic!("{name} --path {path}: no error line: {err}"));
            assert!(
                line.contains(&name) && line.contains("offset") && line.contains(what),
                "{name} --path {path}: the error names neither file nor offset: {line}"
            );
            assert!(
                regions_of(p.pid).is_empty(),
                "{name} --path {path} left its region"
            );
        }
    }
}

/// Class 2: a VCD trace that cannot be written is an error that reaches the user, whether the
/// file cannot be created or the file system fills mid-run (Verilator's fatal path used to
/// deadlock there), and `--trace` without the hardware path is refused.
#[test]
fn trace_write_failures_are_errors() {
    let dir = tempdir("trace");
    let (pcap, cfg) = binance_capture(&dir, Some(1000));
    let replay = |path: &str, trace: &Path| {
        let mut c = bin();
        c.args(["replay", "--path", path, "--config"])
            .arg(&cfg)
            .arg("--trace")
            .arg(trace)
            .arg(&pcap);
        c
    };
    // the trace is of the RTL: with the software path alone it is a usage error
    let mut p = Proc::spawn(&mut replay("sw", &dir.join("sw.vcd")));
    assert_eq!(p.finish().code(), Some(2), "{}", p.stderr());
    assert!(p.stderr().contains("--trace"), "{}", p.stderr());
    assert!(!dir.join("sw.vcd").exists());

    // a directory that does not exist
    let missing = dir.join("no/such/dir/t.vcd");
    let mut p = Proc::spawn(&mut replay("hw", &missing));
    assert_eq!(p.finish().code(), Some(1), "{}", p.stderr());
    assert!(
        p.stderr().contains(&missing.display().to_string()) && p.stderr().contains("No such file"),
        "{}",
        p.stderr()
    );

    // every write fails
    let mut p = Proc::spawn(&mut replay("both", Path::new("/dev/full")));
    assert_eq!(p.finish().code(), Some(1), "{}", p.stderr());
    assert!(
        p.stderr().contains("/dev/full") && p.stderr().contains("No space left"),
        "{}",
        p.stderr()
    );

    // the file system fills mid-run: a file size limit above what start-up writes (about 16 MB)
    // and far below the whole trace, SIGXFSZ ignored so that the write fails with EFBIG
    let vcd = dir.join("big.vcd");
    let mut cmd = replay("both", &vcd);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 32 << 20,
                rlim_max: 32 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut p = Proc::spawn(&mut cmd);
    let status = p.finish();
    let err = p.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("VCD trace") && err.contains(&vcd.display().to_string()),
        "{err}"
    );
    assert!(
        !err.contains("starting the simulated device"),
        "the limit should be hit mid-run, not at start-up: {err}"
    );
    assert!(regions_of(p.pid).is_empty());
}

/// A simulated card serving `region` with `wire` on its wire, once a host has programmed it;
/// returned when it is waiting for that host.
fn card(region: &Path, wire: &[&Path]) -> Proc {
    let mut p = Proc::spawn(bin().arg("sim").arg("--region").arg(region).args(wire));
    p.wait_line("the card waiting for a host", |l| {
        l.contains("waiting for a host")
    });
    p
}

fn live_host(cfg: &Path, region: &Path, extra: &[&str], events: Option<&Path>) -> Proc {
    let mut c = bin();
    c.args(["run", "--config"])
        .arg(cfg)
        .arg("--device")
        .arg(region)
        .args(extra);
    if let Some(e) = events {
        c.arg("--events").arg(e);
    }
    let mut p = Proc::spawn(&mut c);
    p.wait_line("the host programming the card", |l| {
        l.contains("programmed")
    });
    p
}

/// Waits for a progress line of `run` that shows events drained.
fn wait_for_events(p: &mut Proc) {
    p.wait_line("events drained", |l| {
        l.starts_with("run: ")
            && l.split(", ")
                .nth(1)
                .and_then(|s| s.strip_suffix(" events"))
                .is_some_and(|n| n != "0")
    });
}

/// Class 3: the live host notices a simulator killed mid-run, with or without a stop condition:
/// it exits non-zero with a clear error once the device's cycle counter has stood still for
/// --dead-after seconds (default 5), instead of exiting 0 on partial data or running forever.
#[test]
fn the_live_host_notices_a_killed_simulator() {
    let dir = tempdir("dead");
    let (pcap, cfg) = binance_capture(&dir, None);
    for (name, extra) in [
        // a quiet period far longer than the dead-device threshold
        ("until-idle", &["--until-idle", "60"][..]),
        ("no stop condition", &["--dead-after", "2"][..]),
    ] {
        let region = dir.join("card.bar");
        let mut sim = card(&region, &[&pcap, &pcap]);
        let mut host = live_host(&cfg, &region, extra, None);
        wait_for_events(&mut host);
        sim.signal(libc::SIGKILL);
        sim.finish();
        let status = host.finish();
        let err = host.stderr();
        assert_eq!(status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("not responding") && err.contains("cycle counter"),
            "{name}: {err}"
        );
        // what was drained is still reported
        assert!(host.stdout().contains("events lost"), "{name}");
    }
}

/// Class 3: programming realigns the ring: a `run` after a killed `run` (or after a finished one)
/// gets only events committed after its own programming, numbered from 0 without gaps, never
/// the previous run's records again.
#[test]
fn a_second_run_replays_no_phantom_events() {
    let dir = tempdir("second");
    let (pcap, cfg) = binance_capture(&dir, None);
    let region = dir.join("card.bar");
    let mut sim = card(&region, &[&pcap]);
    let first = dir.join("first.jsonl");
    let mut host = live_host(&cfg, &region, &[], Some(&first));
    wait_for_events(&mut host);
    host.signal(libc::SIGKILL);
    host.finish();
    let stamps = |path: &Path| -> Vec<(u64, u64)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["seq"].as_u64().unwrap(),
                    v["hw_cycles"]["commit"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert!(
        !stamps(&first).is_empty(),
        "the killed host wrote no events"
    );

    // the first: after the killed host, until the rest of the wire has been played; the second:
    // after that one finished, with nothing left on the wire
    for (round, extra) in [["--until-idle", "2"], ["--duration", "1"]]
        .iter()
        .enumerate()
    {
        // the card's cycle counter before programming: every event this run gets must be newer
        let status = bin()
            .args(["status", "--device"])
            .arg(&region)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&status.stdout).to_string();
        let before: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("cycles ")?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no cycle count in status: {text}"));
        let events = dir.join(format!("next{round}.jsonl"));
        let mut host = live_host(&cfg, &region, &extra[..], Some(&events));
        let status = host.finish();
        assert!(status.success(), "round {round}: {}", host.stderr());
        let out = host.stdout();
        assert!(
            out.contains("0 events lost (gaps), 0 out of order or repeated"),
            "round {round}: {out}"
        );
        let got = stamps(&events);
        for (i, (seq, commit)) in got.iter().enumerate() {
            assert_eq!(*seq, i as u64, "round {round}: the sequence restarts at 0");
            assert!(
                *commit > before,
                "round {round}: event {i} (commit cycle {commit}) is from before this run \
                 programmed the card (cycle {before})"
            );
        }
        match round {
            0 => assert!(!got.is_empty(), "the rest of the wire made no events"),
            _ => assert!(
                got.is_empty(),
                "a run after the wire was done got {} events",
                got.len()
            ),
        }
    }
    sim.signal(libc::SIGTERM);
    assert!(sim.finish().success(), "{}", sim.stderr());
}

/// Class 8: SIGINT or SIGTERM during `replay` or `compare` stops the simulator, removes the BAR
/// region and exits with 128 + the signal, saying it was interrupted.
#[test]
fn signals_during_a_replay_remove_the_region() {
    let dir = tempdir("signals");
    let (pcap, cfg) = binance_capture(&dir, None);
    let long = [&pcap, &pcap, &pcap, &pcap];
    for (sig, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        for cmd in ["replay", "compare"] {
            let mut c = bin();
            c.arg(cmd).arg("--config").arg(&cfg);
            let progress = match cmd {
                "replay" => {
                    c.args(["--path", "both"]);
                    "replay: "
                }
                _ => {
                    c.arg("--out").arg(dir.join("compare"));
                    "compare: hw "
                }
            };
            c.args(long);
            let mut p = Proc::spawn(&mut c);
            // a progress line: the simulator is running, its region in place
            p.wait_line("replay progress", |l| l.starts_with(progress));
            assert!(!regions_of(p.pid).is_empty(), "{cmd}: no region to remove");
            p.signal(sig);
            let status = p.finish();
            assert_eq!(
                status.code(),
                Some(128 + sig),
                "{cmd} {name}: {:?} {}",
                status.signal(),
                p.stderr()
            );
            assert!(
                p.stderr().contains(&format!("interrupted by {name}")),
                "{cmd} {name}: {}",
                p.stderr()
            );
            assert!(
                regions_of(p.pid).is_empty(),
                "{cmd} {name}: region left behind"
            );
        }
    }
}

/// Class 8: `sim` ends on a signal too: interrupted before its wire is played (non-zero), or
/// stopped while serving (its documented end, exit 0). Its region is the user's and stays.
#[test]
fn signals_end_the_simulated_card() {
    let dir = tempdir("simsig");
    let (pcap, _) = binance_capture(&dir, Some(200));
    let region = dir.join("card.bar");
    let mut sim = card(&region, &[&pcap]);
    sim.signal(libc::SIGTERM);
    assert_eq!(sim.finish().code(), Some(128 + libc::SIGTERM));
    assert!(sim.stderr().contains("interrupted by SIGTERM"));
    assert!(region.exists());

    let mut sim = Proc::spawn(bin().arg("sim").arg("--region").arg(&region));
    sim.wait_line("the card serving", |l| l.contains("serving the BAR"));
    sim.signal(libc::SIGINT);
    assert!(sim.finish().success(), "{}", sim.stderr());
}
