//! A real Prometheus server for tests (feature `testing`, never in a release build): Debian's
//! `prometheus` scraping one target every second, queried through its HTTP API.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A way out of every wait (never reached when things work).
const WAIT: Duration = Duration::from_secs(120);

/// A port free now (Prometheus must be told its listen address).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server; killed (and its files removed) on drop.
pub struct Prometheus {
    child: Child,
    api: SocketAddr,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    /// Starts `program` (the `prometheus` command, maybe behind `ip netns exec`) scraping
    /// `target`, listening on `listen` (default: a port free now on 127.0.0.1). `None`, said on
    /// stderr, when there is no `prometheus` to run.
    pub fn start(
        mut program: Command,
        target: SocketAddr,
        listen: Option<SocketAddr>,
    ) -> Option<Prometheus> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tickcross-prom-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("prometheus.yml");
        std::fs::write(
            &cfg,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: tickcross\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let api = listen.unwrap_or_else(|| ([127, 0, 0, 1], free_port()).into());
        let child = match program
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={api}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("SKIPPED: no `prometheus` on PATH (Debian package prometheus; scripts/setup installs it)");
                return None;
            }
            Err(e) => panic!("starting prometheus: {e}"),
        };
        Some(Prometheus { child, api, dir })
    }

    /// The instant vector of `query`, once it holds `want_series` series (Prometheus scrapes
    /// every second); panics after two minutes. From a thread in Prometheus's network namespace.
    pub fn query(&mut self, query: &str, want_series: usize) -> Vec<serde_json::Value> {
        let enc: String = query
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("prometheus exited: {status}");
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&self.api, Duration::from_secs(1)) {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ = write!(
                    s,
                    "GET /api/v1/query?query={enc} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.api
                );
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                if let Some((_, body)) = out.split_once("\r\n\r\n") {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
                        let r = v["data"]["result"].as_array().cloned().unwrap_or_default();
                        if r.len() >= want_series {
                            return r;
                        }
                    }
                }
            }
            assert!(
                started.elapsed() < WAIT,
                "prometheus has no {want_series} series for {query} within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A series' value (an instant vector's element).
pub fn value(series: &serde_json::Value) -> f64 {
    series["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}
