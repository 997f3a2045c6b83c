//! `tickcross bridge binance-ws` end to end: the binary against a local TLS WebSocket server
//! (tickcross_wsbridge's test server, a certificate only this test trusts), configured from a
//! tickcross config, forwarding recorded Binance frames to a UDP socket standing for the card.

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

mod common;
use common::{bin, repo, tempdir};
use tickcross_capture::bridge::{parse_line, Line};
use tickcross_wsbridge::test_server::{Cue, Server};

const WAIT: Duration = Duration::from_secs(120);
const KEY: &str = "cli-test-key";

fn config(port: u16) -> String {
    format!(
        r#"
[[instrument]]
name = "BTC-USDT"

[[venue]]
name = "spot"
protocol = "binance_sbe"
destination = "127.0.0.1:{port}"
symbols = {{ BTCUSDT = "BTC-USDT" }}

[[venue]]
name = "other"
protocol = "binance_sbe"
destination = "127.0.0.2:{port}"
symbols = {{ BTCUSDT = "BTC-USDT" }}
"#
    )
}

fn frames(n: usize) -> Vec<Vec<u8>> {
    let f = std::fs::File::open(repo().join("data/binance/spot_btcusdt_20240808.gz")).unwrap();
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
    use std::io::BufRead;
    r.lines()
        .filter_map(|l| match parse_line(&l.unwrap()) {
            Ok(Line::BookTicker { quote, .. }) => Some(quote.encode()),
            _ => None,
        })
        .take(n)
        .collect()
}

fn terminate(child: &mut Child) {
    // SAFETY: kill(2) with a pid this test spawned and a valid signal number.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_the_stream_to_the_venue_destination_of_the_config() {
    let dir = tempdir("bridge_ws");
    let port = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, config(port.local_addr().unwrap().port())).unwrap();
    let server = Server::start().await;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.cert_pem()).unwrap();
    let key = dir.join("key");
    std::fs::write(&key, format!("{KEY}\n")).unwrap();
    let url = server.url("/stream?streams=btcusdt@bestBidAsk");
    let mut child = bin()
        .args([
            "bridge",
            "binance-ws",
            "--venue",
            "spot",
            "--ca-only",
            "--url",
            &url,
        ])
        .arg("--config")
        .arg(&cfg)
        .arg("--ca")
        .arg(&ca)
        .arg("--api-key-file")
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::timeout(WAIT, server.next_connection())
        .await
        .expect("the bridge connects");
    assert_eq!(server.connections()[0].1.as_deref(), Some(KEY));
    let frames = frames(400);
    let mut buf = vec![0u8; 65536];
    for chunk in frames.chunks(100) {
        for f in chunk {
            assert_eq!(server.cue(Cue::Binary(f.clone())), 1);
        }
        for f in chunk {
            let (n, _) = tokio::time::timeout(WAIT, port.recv_from(&mut buf))
                .await
                .expect("a datagram")
                .unwrap();
            assert_eq!(&buf[..n], &f[..], "each frame unchanged, in order");
        }
    }
    terminate(&mut child);
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        (status, out)
    });
    let (status, out) = tokio::time::timeout(WAIT, status).await.unwrap().unwrap();
    assert!(status.success(), "{status}: {out}");
    assert!(
        out.contains("bridge: 400 messages forwarded"),
        "the figures on exit: {out}"
    );
    assert!(!out.contains(KEY), "the key is never printed");
}

#[test]
fn refuses_what_cannot_work_before_connecting() {
    let dir = tempdir("bridge_ws_errors");
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, config(30001)).unwrap();
    let run = |args: &[&str]| {
        let o = bin()
            .args(["bridge", "binance-ws", "--config"])
            .arg(&cfg)
            .args(args)
            .env_remove("BINANCE_API_KEY")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--venue", "spot"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("needs an API key"), "{err}");
    let (code, err) = run(&["--venue", "nope", "--json"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no venue \"nope\""), "{err}");
    let (code, err) = run(&["--venue", "spot", "--json", "--url", "ws://plain/ws"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("wss://"), "{err}");
    let (code, err) = run(&["--venue", "spot", "--json", "--stall", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--stall 0"), "{err}");
}
