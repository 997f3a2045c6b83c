//! The live bridge against a real TLS WebSocket server started by the test (a self-signed
//! certificate that only this test trusts), serving recorded Binance frames and misbehaving on
//! cue: an abrupt close, a close frame, garbage on the wire, a stall, a shutdown notice. The
//! datagrams that reach a UDP socket standing for the card's port are compared with the frames
//! served. Every wait is on an event (a connection, a datagram), each with a limit.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use tickcross_capture::bridge::{parse_line, BestBidAsk, Line};
use tickcross_wsbridge::test_server::{Cue, Server};
use tickcross_wsbridge::{run, ApiKey, Mode, Options, Stats};

/// A way out of every wait (never reached when things work).
const WAIT: Duration = Duration::from_secs(60);
const URL_PATH: &str = "/stream?streams=btcusdt@bestBidAsk";
const KEY: &str = "test-api-key-ed25519";
/// Frames served before the test takes their datagrams: a UDP socket's receive buffer holds a
/// few hundred small datagrams, and what overflows it would be lost on the test's side.
const CHUNK: usize = 100;

/// Recorded bookTicker lines of the repository's Binance sample (MIT, from hftbacktest): each
/// line's JSON, and the SBE message the offline bridge makes of it.
fn recorded(n: usize) -> Vec<(String, Vec<u8>)> {
    recorded_quotes(n)
        .into_iter()
        .map(|(j, q)| (j, q.encode()))
        .collect()
}

fn recorded_quotes(n: usize) -> Vec<(String, BestBidAsk)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/binance/spot_btcusdt_20240808.gz");
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = std::io::BufReader::new(flate2_reader(f));
    use std::io::BufRead;
    let mut out = Vec::new();
    for line in r.lines() {
        let line = line.unwrap();
        if let Ok(Line::BookTicker { quote, .. }) = parse_line(&line) {
            let json = line.split_once(' ').unwrap().1.trim().to_string();
            out.push((json, quote));
            if out.len() == n {
                break;
            }
        }
    }
    assert_eq!(out.len(), n, "the sample holds fewer bookTickers");
    out
}

fn flate2_reader(f: std::fs::File) -> Box<dyn std::io::Read> {
    Box::new(flate2::read::GzDecoder::new(f))
}

/// The card's port.
struct Port {
    sock: UdpSocket,
}

impl Port {
    async fn bind() -> Port {
        Port {
            sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    async fn take(&self, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        let mut buf = vec![0u8; 65536];
        while out.len() < n {
            let (len, _) = tokio::time::timeout(WAIT, self.sock.recv_from(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("{} of {n} datagrams within the limit", out.len()))
                .unwrap();
            out.push(buf[..len].to_vec());
        }
        out
    }

    /// Takes datagrams until one equal to `last` arrives.
    async fn take_until(&self, last: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let (len, _) = tokio::time::timeout(WAIT, self.sock.recv_from(&mut buf))
                .await
                .expect("the awaited datagram within the limit")
                .unwrap();
            out.push(buf[..len].to_vec());
            if &buf[..len] == last {
                return out;
            }
        }
    }

    /// Nothing more is waiting (checked after the bridge stopped).
    fn is_drained(&self) -> bool {
        let mut buf = [0u8; 2048];
        matches!(self.sock.try_recv_from(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }
}

/// A bridge running on its own task; `stop` ends it and gives its figures.
struct Running {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Stats>,
}

impl Running {
    fn start(o: Options) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let task = tokio::spawn(async move { run(&o, &s, |_| {}).await.unwrap() });
        Running { stop, task }
    }

    async fn stop(self) -> Stats {
        self.stop.store(true, Ordering::Relaxed);
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the bridge stops within the limit")
            .unwrap()
    }
}

fn options(server: &Server, port: &Port, mode: Mode) -> Options {
    let mut o = Options::new(server.url(URL_PATH), mode, port.sock.local_addr().unwrap());
    o.api_key = Some(ApiKey::new(KEY).unwrap());
    o.extra_roots = vec![server.cert().clone()];
    o.only_extra_roots = true;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_every_frame_unchanged_in_order_and_answers_pings() {
    let frames = recorded(3000);
    let server = Server::start().await;
    let port = Port::bind().await;
    let bridge = Running::start(options(&server, &port, Mode::Sbe));
    assert_eq!(server.next_connection().await, 0);
    {
        let connections = server.connections();
        let (path, key) = &connections[0];
        assert_eq!(path, URL_PATH);
        assert_eq!(key.as_deref(), Some(KEY), "the API key header");
    }
    server.cue(Cue::Text(r#"{"result":null,"id":1}"#.into()));
    let mut got = Vec::new();
    for (k, chunk) in frames.chunks(CHUNK).enumerate() {
        if k == 15 {
            server.cue(Cue::Ping(b"ping-1500".to_vec()));
        }
        for (_, m) in chunk {
            assert_eq!(server.cue(Cue::Binary(m.clone())), 1);
        }
        got.extend(port.take(chunk.len()).await);
    }
    assert_eq!(
        server.next_pong().await,
        b"ping-1500",
        "the pong carries the ping's payload"
    );
    let stats = bridge.stop().await;
    assert!(port.is_drained(), "nothing but the frames served");
    let want: Vec<Vec<u8>> = frames.into_iter().map(|(_, m)| m).collect();
    assert!(
        got == want,
        "the datagrams are the frames served, unchanged and in order"
    );
    eprintln!("bridge: {stats}");
    assert_eq!(
        (
            stats.forwarded,
            stats.bytes,
            stats.pings,
            stats.text_ignored
        ),
        (
            want.len() as u64,
            want.iter().map(|m| m.len() as u64).sum(),
            1,
            1
        )
    );
    assert_eq!(
        (stats.connects, stats.reconnects, stats.dropped()),
        (1, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_a_drop_a_close_garbage_and_a_stall_losing_only_what_came_meanwhile() {
    let frames: Vec<Vec<u8>> = recorded(2500).into_iter().map(|(_, m)| m).collect();
    let server = Server::start().await;
    let port = Port::bind().await;
    let mut o = options(&server, &port, Mode::Sbe);
    o.stall = Duration::from_secs(3);
    let bridge = Running::start(o);
    let mut want = Vec::new();
    let mut conn = server.next_connection().await;
    // each misbehaviour, then what the stream carries while the bridge is away (lost), then
    // the next connection
    let cues = [Cue::Kill, Cue::Close, Cue::Garbage, Cue::Stall];
    let chunks: Vec<&[Vec<u8>]> = frames.chunks(500).collect();
    for (k, chunk) in chunks.iter().enumerate() {
        let mut got = Vec::new();
        for part in chunk.chunks(CHUNK) {
            for m in part {
                assert_eq!(server.cue(Cue::Binary(m.clone())), 1);
            }
            got.extend(port.take(part.len()).await);
        }
        assert!(got == *chunk, "chunk {k}: the frames served, in order");
        want.extend_from_slice(chunk);
        let Some(c) = cues.get(k) else { break };
        server.cue(c.clone());
        let next = server.next_connection().await;
        assert_eq!(next, conn + 1);
        server.wait_live(1).await;
        conn = next;
    }
    let stats = bridge.stop().await;
    eprintln!("bridge: {stats}");
    assert!(port.is_drained());
    assert_eq!(stats.forwarded, want.len() as u64);
    assert_eq!((stats.connects, stats.reconnects), (5, 4));
    assert_eq!(stats.closed, 2, "the abrupt drop and the close frame");
    assert_eq!(stats.errors, 1, "the garbage");
    assert_eq!(stats.stalls, 1);
    assert_eq!(stats.dropped(), 0);
}

/// Frames sent while the bridge is disconnected are lost (the stream goes on without it); the
/// loss is visible as the reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_stream_carries_during_a_disconnect_is_lost_and_the_disconnect_counted() {
    let frames: Vec<Vec<u8>> = recorded(300).into_iter().map(|(_, m)| m).collect();
    let server = Server::start().await;
    let port = Port::bind().await;
    let mut o = options(&server, &port, Mode::Sbe);
    // long enough that the frames below surely go out while the bridge is away
    o.backoff_min = Duration::from_secs(2);
    let bridge = Running::start(o);
    server.next_connection().await;
    for m in &frames[..100] {
        server.cue(Cue::Binary(m.clone()));
    }
    assert!(port.take(100).await == frames[..100]);
    server.cue(Cue::Kill);
    server.wait_live(0).await;
    for m in &frames[100..200] {
        assert_eq!(server.cue(Cue::Binary(m.clone())), 0, "nobody is connected");
    }
    server.next_connection().await;
    for m in &frames[200..] {
        server.cue(Cue::Binary(m.clone()));
    }
    assert!(port.take(100).await == frames[200..]);
    let stats = bridge.stop().await;
    assert_eq!(
        (stats.forwarded, stats.reconnects, stats.closed),
        (200, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_the_connection_before_its_age_limit_and_on_a_shutdown_notice_without_a_gap() {
    // the recorded quotes over and over, each with the next bookUpdateId: a stream as long as
    // the renewals below need
    let quotes = recorded_quotes(500);
    let first_id = quotes[0].1.book_update_id;
    let frame = |k: usize| {
        let mut q = quotes[k % quotes.len()].1.clone();
        q.book_update_id = first_id + k as i64;
        q.encode()
    };
    let server = Server::start().await;
    let port = Port::bind().await;
    let mut o = options(&server, &port, Mode::Sbe);
    o.max_age = Duration::from_millis(500);
    let bridge = Running::start(o);
    server.next_connection().await;
    let mut got = Vec::new();
    let mut sent = Vec::new();
    // batches until the bridge has renewed its connection twice by age, then once on a notice
    // (and maybe more by age meanwhile)
    let mut notice_at = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewals within the limit"
        );
        for _ in 0..25 {
            let m = frame(sent.len());
            assert!(server.cue(Cue::Binary(m.clone())) >= 1);
            sent.push(m);
        }
        got.extend(port.take_until(sent.last().unwrap()).await);
        let connections = server.connections().len();
        match notice_at {
            None if connections >= 3 => {
                server.cue(Cue::Text(r#"{"e":"serverShutdown","E":1}"#.into()));
                notice_at = Some(connections);
            }
            Some(n) if connections > n && server.live() == 1 => break,
            _ => {}
        }
    }
    let stats = bridge.stop().await;
    let connections = server.connections().len();
    eprintln!(
        "bridge: {stats}; {connections} connections, {} frames sent",
        sent.len()
    );
    // the notice went to every open connection (one or two)
    assert!(
        stats.renewals >= 3 && stats.shutdown_notices >= 1,
        "{stats}"
    );
    // what went out: the frames sent, in order, each once; a frame may be skipped only when
    // a newer one had already gone out from the other connection of an overlap
    let mut i = 0;
    for g in &got {
        let at = sent[i..]
            .iter()
            .position(|s| s == g)
            .expect("each datagram is a frame sent after the previous datagram's");
        i += at + 1;
    }
    assert_eq!(got.last(), sent.last());
    eprintln!(
        "{} frames superseded during overlaps, {} overlap duplicates",
        sent.len() - got.len(),
        stats.overlap_duplicates
    );
    assert!(
        stats.overlap_duplicates > 0,
        "the overlaps delivered copies, forwarded once"
    );
    assert_eq!(stats.forwarded, got.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_mode_converts_book_tickers_as_the_offline_bridge_does() {
    let frames = recorded(1000);
    let server = Server::start().await;
    let port = Port::bind().await;
    let bridge = Running::start(options(&server, &port, Mode::Json));
    server.next_connection().await;
    server.cue(Cue::Text(r#"{"result":null,"id":1}"#.into()));
    let mut got = Vec::new();
    for (k, chunk) in frames.chunks(CHUNK).enumerate() {
        if k == 1 {
            server.cue(Cue::Text("{not json".into()));
            server.cue(Cue::Binary(vec![1, 2, 3]));
        }
        for (json, _) in chunk {
            server.cue(Cue::Text(json.clone()));
        }
        got.extend(port.take(chunk.len()).await);
    }
    let stats = bridge.stop().await;
    // the event time of a spot bookTicker (no "E") is the receive time, which differs: compare
    // without it (bytes 8..16 of the message)
    let strip = |m: &[u8]| [&m[..8], &m[16..]].concat();
    for (k, (g, (_, want))) in got.iter().zip(&frames).enumerate() {
        assert_eq!(strip(g), strip(want), "message {k}");
    }
    assert_eq!(
        (
            stats.forwarded,
            stats.drop_malformed,
            stats.drop_unexpected,
            stats.text_ignored
        ),
        (1000, 1, 1, 1)
    );
}
