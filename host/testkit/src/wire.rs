//! A private Ethernet wire for live tests: a Linux network namespace holding a veth pair, made
//! with `ip` (iproute2) and removed when the [`Wire`] is dropped. Frames sent into one end come
//! out of the other; nothing leaves the machine and nothing else is on the wire (IPv6, whose
//! address configuration would send frames of its own, is off in the namespace).
//!
//! Creating a namespace needs root (CAP_SYS_ADMIN). Where the machine forbids it, [`Wire::new`]
//! returns [`WireError::Unavailable`] and a test says so and skips; any other failure is an error.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Longest a tcpreplay may run (coreutils `timeout` syntax).
const TCPREPLAY_LIMIT: &str = "600s";

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The machine does not let this process make a network namespace.
    #[error("no private wire on this machine: {0}")]
    Unavailable(String),
    #[error("wire: {0}")]
    Failed(String),
}

/// A veth pair `a` <-> `b` inside network namespace `netns`.
#[derive(Debug)]
pub struct Wire {
    pub netns: String,
    /// The end frames are played into.
    pub a: String,
    /// The end a (simulated) card listens on.
    pub b: String,
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("{shown}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{shown}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Wire {
    /// A new namespace `tcw-<pid>-<n>` with the veth pair `wa` <-> `wb`, both up, MTU 9000.
    pub fn new() -> Result<Wire, WireError> {
        let netns = format!(
            "tcw-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &netns])).map_err(WireError::Unavailable)?;
        let wire = Wire {
            netns,
            a: "wa".into(),
            b: "wb".into(),
        };
        wire.setup().map_err(WireError::Failed)?;
        Ok(wire)
    }

    fn setup(&self) -> Result<(), String> {
        let n = self.netns.as_str();
        // before the links exist, so that they never send a router solicitation or MLD report
        run(self.exec("sh").args([
            "-c",
            "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && \
             echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6",
        ]))?;
        run(Command::new("ip").args([
            "-n", n, "link", "add", &self.a, "mtu", "9000", "type", "veth", "peer", "name",
            &self.b, "mtu", "9000",
        ]))?;
        // loopback too: services a test runs inside the namespace (a metrics endpoint and the
        // Prometheus scraping it) talk over it
        for end in [self.a.as_str(), self.b.as_str(), "lo"] {
            run(Command::new("ip").args(["-n", n, "link", "set", end, "up"]))?;
        }
        Ok(())
    }

    /// `program` run inside the namespace (`ip netns exec`).
    pub fn exec(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns, program]);
        c
    }

    /// Runs `f` on a thread that has entered the namespace (sockets it opens stay there).
    pub fn within<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R, WireError> {
        let path = format!("/run/netns/{}", self.netns);
        std::thread::scope(|s| {
            s.spawn(|| {
                let ns = std::fs::File::open(&path)
                    .map_err(|e| WireError::Failed(format!("{path}: {e}")))?;
                use std::os::fd::AsRawFd;
                // SAFETY: setns on a namespace file we hold open; it changes this thread only
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(WireError::Failed(format!(
                        "setns {path}: {}",
                        std::io::Error::last_os_error()
                    )));
                }
                Ok(f())
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Plays a pcap into end `a` with tcpreplay: as fast as it can (`topspeed`), or at the
    /// capture's recorded pace. Returns tcpreplay's summary. A tcpreplay still running after
    /// `TCPREPLAY_LIMIT` is killed (an error), so a caller never waits on it for ever.
    pub fn tcpreplay(&self, pcap: &Path, topspeed: bool) -> Result<String, WireError> {
        let mut c = self.exec("timeout");
        c.args([TCPREPLAY_LIMIT, "tcpreplay", "-i", &self.a]);
        if topspeed {
            c.arg("--topspeed");
        }
        c.arg(pcap);
        let out = run(&mut c).map_err(|e| {
            WireError::Failed(format!(
                "{e} (tcpreplay comes with scripts/setup: apt-get install tcpreplay)"
            ))
        })?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        // the veth pair goes with its namespace
        if let Err(e) = run(Command::new("ip").args(["netns", "del", &self.netns])) {
            eprintln!("wire: could not remove namespace {}: {e}", self.netns);
        }
    }
}
