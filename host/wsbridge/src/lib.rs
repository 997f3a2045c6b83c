//! The live Binance feed bridge (`tickcross bridge binance-ws`, DESIGN section 7): Binance streams
//! its market data over WebSocket with TLS, not multicast, so a host-side bridge terminates TLS and
//! forwards every binary message unchanged as one UDP datagram to the card's venue destination.
//! With [`Mode::Json`] it takes the JSON bookTicker stream instead and converts each message to
//! the SBE BestBidAskStreamEvent (10001) exactly as the offline bridge does.
//!
//! Connections end: the endpoint closes each after 24 hours, announces shutdowns, drops, stalls
//! or sends garbage. The bridge reconnects with exponential backoff after a failure, and renews a
//! connection before its age limit (or on a `serverShutdown` notice) make-before-break: the new
//! connection is opened while the old one still forwards, and the old one is closed once the new
//! one has delivered a message the old one already forwarded (or after [`Options::overlap`]).
//! While both are open, and on any connection until it has forwarded a message for the symbol, a
//! BestBidAsk whose `bookUpdateId` is not above the last one forwarded for its symbol is a copy
//! of what went out already: it is counted (`overlap_duplicates`) and not forwarded. Otherwise
//! every message goes out unchanged; the card applies its own `bookUpdateId` check
//! (docs/PIPELINE.md section 6).
//!
//! The API key goes in the `X-MBX-APIKEY` header of each connection request and is never logged.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use tickcross_capture::bridge::{parse_book_ticker, parse_combined, Line};

/// Binance's SBE market data endpoint.
pub const SBE_ENDPOINT: &str = "wss://stream-sbe.binance.com:9443";
/// Binance's JSON market data endpoint.
pub const JSON_ENDPOINT: &str = "wss://stream.binance.com:9443";
/// The endpoint closes a connection after 24 hours; the bridge renews it 10 minutes before.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600 - 600);
/// The endpoint pings every 20 s: a minute without any frame is a stalled connection.
pub const DEFAULT_STALL: Duration = Duration::from_secs(60);
/// A datagram must fit one Ethernet frame of the card's wire (1500-byte MTU).
pub const DEFAULT_MAX_DATAGRAM: usize = 1472;

/// SBE messageHeader of a BestBidAskStreamEvent (`specs/binance/stream_1_0.xml`).
const BBA_TEMPLATE: u16 = 10001;
/// Failures logged one by one per kind; after that every 1000th.
const LOGGED: u64 = 5;

/// What the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Binary SBE messages, forwarded unchanged.
    Sbe,
    /// JSON bookTicker messages, converted to BestBidAskStreamEvent.
    Json,
}

/// An API key: shown as `***` by `Debug` and `Display`, so that it cannot reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Trims surrounding whitespace (a key file's newline); an empty key is refused.
    pub fn new(key: &str) -> Result<ApiKey, WsBridgeError> {
        let k = key.trim();
        if k.is_empty() {
            return Err(WsBridgeError::Setup("the API key is empty".into()));
        }
        HeaderValue::from_str(k).map_err(|_| {
            WsBridgeError::Setup("the API key holds characters a header cannot carry".into())
        })?;
        Ok(ApiKey(k.to_string()))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Everything a bridge run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `wss://host[:port]/path?query`.
    pub url: String,
    pub mode: Mode,
    pub api_key: Option<ApiKey>,
    /// Trusted besides the public roots (a private endpoint's certificate authority).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Only `extra_roots` are trusted, not the public roots.
    pub only_extra_roots: bool,
    /// Where every datagram goes: the card's venue destination.
    pub destination: SocketAddr,
    /// The datagrams' source address (port 0: any).
    pub bind: SocketAddr,
    /// Multicast TTL, when the destination is a multicast group.
    pub multicast_ttl: u32,
    /// A connection is renewed (make-before-break) once this old.
    pub max_age: Duration,
    /// A connection that delivers no frame at all (data, ping, ...) for this long is dropped.
    pub stall: Duration,
    /// Connecting (TCP, TLS and the WebSocket handshake) gives up after this long.
    pub connect_timeout: Duration,
    /// First wait after a failed connection; doubled after each further failure ...
    pub backoff_min: Duration,
    /// ... up to this.
    pub backoff_max: Duration,
    /// A make-before-break overlap ends after this long even without a message seen on both.
    pub overlap: Duration,
    /// Longer messages are dropped (counted): they would not fit the card's wire.
    pub max_datagram: usize,
}

impl Options {
    /// Defaults for `url` and `destination`.
    pub fn new(url: String, mode: Mode, destination: SocketAddr) -> Options {
        let bind: SocketAddr = if destination.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        Options {
            url,
            mode,
            api_key: None,
            extra_roots: Vec::new(),
            only_extra_roots: false,
            destination,
            bind,
            multicast_ttl: 1,
            max_age: DEFAULT_MAX_AGE,
            stall: DEFAULT_STALL,
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            overlap: Duration::from_secs(5),
            max_datagram: DEFAULT_MAX_DATAGRAM,
        }
    }
}

/// The combined-stream URL for `symbols` on Binance's endpoint: best bid/ask (SBE) or bookTicker
/// (JSON). Symbols are lowercased, as stream names must be.
pub fn stream_url(mode: Mode, symbols: &[String]) -> String {
    let (base, stream) = match mode {
        Mode::Sbe => (SBE_ENDPOINT, "bestBidAsk"),
        Mode::Json => (JSON_ENDPOINT, "bookTicker"),
    };
    let streams: Vec<String> = symbols
        .iter()
        .map(|s| format!("{}@{stream}", s.to_lowercase()))
        .collect();
    format!("{base}/stream?streams={}", streams.join("/"))
}

#[derive(Debug, thiserror::Error)]
pub enum WsBridgeError {
    #[error("{0}")]
    Setup(String),
    #[error("UDP socket: {0}")]
    Socket(#[source] std::io::Error),
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    /// The server closed it (a close frame, or end of stream).
    Closed,
    /// A protocol, TLS or I/O error.
    Error,
    /// No frame for [`Options::stall`].
    Stalled,
    /// Renewed before its age limit, or after a `serverShutdown` notice (make-before-break).
    Renewed,
}

/// What a bridge run did. Every message received is either forwarded or counted in one of the
/// drop counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections opened (the first included).
    pub connects: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Attempts to connect that failed.
    pub connect_failures: u64,
    pub closed: u64,
    pub errors: u64,
    pub stalls: u64,
    pub renewals: u64,
    /// Datagrams sent, and their bytes.
    pub forwarded: u64,
    pub bytes: u64,
    /// Pings answered.
    pub pings: u64,
    /// Text frames that carry no market data (subscription answers, notices; in JSON mode,
    /// other channels).
    pub text_ignored: u64,
    /// Messages dropped: undecodable JSON, longer than `max_datagram`, binary in JSON mode, or a
    /// failed send.
    pub drop_malformed: u64,
    pub drop_oversize: u64,
    pub drop_unexpected: u64,
    pub drop_send: u64,
    /// Copies of what was forwarded already, delivered by the other connection of an overlap or
    /// at the start of a new connection: dropped.
    pub overlap_duplicates: u64,
    /// `serverShutdown` notices.
    pub shutdown_notices: u64,
}

impl Stats {
    pub fn dropped(&self) -> u64 {
        self.drop_malformed + self.drop_oversize + self.drop_unexpected + self.drop_send
    }

    fn count_end(&mut self, why: Ended) {
        match why {
            Ended::Closed => self.closed += 1,
            Ended::Error => self.errors += 1,
            Ended::Stalled => self.stalls += 1,
            Ended::Renewed => self.renewals += 1,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} messages forwarded ({} bytes), {} connections ({} reconnects, {} failed attempts; \
             ended: {} closed, {} errors, {} stalled, {} renewed), {} pings answered, \
             {} dropped ({} malformed, {} oversize, {} unexpected, {} send failures), \
             {} overlap duplicates, {} text frames without market data, {} shutdown notices",
            self.forwarded,
            self.bytes,
            self.connects,
            self.reconnects,
            self.connect_failures,
            self.closed,
            self.errors,
            self.stalls,
            self.renewals,
            self.pings,
            self.dropped(),
            self.drop_malformed,
            self.drop_oversize,
            self.drop_unexpected,
            self.drop_send,
            self.overlap_duplicates,
            self.text_ignored,
            self.shutdown_notices
        )
    }
}

type Ws = WebSocketStream<TlsStream<TcpStream>>;

struct Conn {
    ws: Ws,
    id: u64,
    /// Symbols for which this connection has forwarded a BestBidAsk: until it has, its copies
    /// of what another connection forwarded are dropped.
    caught_up: HashSet<Vec<u8>>,
    opened: Instant,
    last_rx: Instant,
}

/// The parsed endpoint.
struct Endpoint {
    host: String,
    port: u16,
}

fn endpoint_of(url: &str) -> Result<Endpoint, WsBridgeError> {
    let bad = |why: &str| WsBridgeError::Setup(format!("URL {url:?}: {why}"));
    let rest = url
        .strip_prefix("wss://")
        .ok_or_else(|| bad("must start with wss:// (the feed is always over TLS)"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains('@') {
        return Err(bad(
            "credentials in the URL are not supported (use the API key)",
        ));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            let port = p.parse().map_err(|_| bad("bad port"))?;
            (h, port)
        }
        _ => (authority, 443),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(Endpoint {
        host: host.to_string(),
        port,
    })
}

fn tls_connector(o: &Options) -> Result<TlsConnector, WsBridgeError> {
    let mut roots = RootCertStore::empty();
    if !o.only_extra_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for c in &o.extra_roots {
        roots
            .add(c.clone())
            .map_err(|e| WsBridgeError::Setup(format!("a trusted certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(WsBridgeError::Setup("no trusted certificate".into()));
    }
    // ring, not aws-lc-rs: no C/CMake toolchain to build it (the feed is public market data;
    // post-quantum key exchange is what this rustls deprecates ring's default provider over)
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WsBridgeError::Setup(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Reads the PEM certificates of a file (a private endpoint's certificate authority).
pub fn read_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// Runs the bridge until `stop` is set; `progress` gets the figures about once a second. An
/// error is returned only for a setup that cannot work (bad URL, no UDP socket): a connection
/// that fails is retried for as long as the run lasts, each failure logged and counted.
pub async fn run(
    o: &Options,
    stop: &AtomicBool,
    mut progress: impl FnMut(&Stats),
) -> Result<Stats, WsBridgeError> {
    let endpoint = endpoint_of(&o.url)?;
    let tls = tls_connector(o)?;
    let sock = UdpSocket::bind(o.bind)
        .await
        .map_err(WsBridgeError::Socket)?;
    if let SocketAddr::V4(d) = o.destination {
        if d.ip().is_multicast() {
            sock.set_multicast_ttl_v4(o.multicast_ttl)
                .map_err(WsBridgeError::Socket)?;
        }
    }
    let mut b = Bridge {
        o,
        endpoint,
        tls,
        sock,
        stats: Stats::default(),
        last_id: HashMap::new(),
        next_id: 0,
        pending_shutdown: false,
    };
    b.serve(stop, &mut progress).await;
    progress(&b.stats);
    Ok(b.stats)
}

/// [`run`] on a runtime of its own (one thread), for a caller without one.
pub fn run_blocking(
    o: &Options,
    stop: &AtomicBool,
    progress: impl FnMut(&Stats),
) -> Result<Stats, WsBridgeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| WsBridgeError::Setup(format!("starting the I/O runtime: {e}")))?;
    rt.block_on(run(o, stop, progress))
}

struct Bridge<'a> {
    o: &'a Options,
    endpoint: Endpoint,
    tls: TlsConnector,
    sock: UdpSocket,
    stats: Stats,
    /// The last bookUpdateId forwarded per symbol (BestBidAsk only).
    last_id: HashMap<Vec<u8>, i64>,
    next_id: u64,
    /// A `serverShutdown` notice not acted on yet.
    pending_shutdown: bool,
}

/// Which of the (at most two) connections a frame came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    Current,
    Next,
}

/// What became of a message.
enum Outcome {
    Forwarded,
    /// A copy of a message forwarded before (overlap).
    Duplicate,
    Other,
}

/// `now` as ns since the epoch (a converted JSON message's time when it carries none).
fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The symbol and bookUpdateId of an SBE BestBidAskStreamEvent, `None` for anything else.
fn best_bid_ask_key(m: &[u8]) -> Option<(&[u8], i64)> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(m.get(o..o + 2)?.try_into().ok()?));
    if u16_at(2)? != BBA_TEMPLATE {
        return None;
    }
    let block = usize::from(u16_at(0)?);
    let id = i64::from_le_bytes(m.get(16..24)?.try_into().ok()?);
    let at = 8 + block;
    let len = usize::from(*m.get(at)?);
    Some((m.get(at + 1..at + 1 + len)?, id))
}

/// The connection that remains after an overlap: the one that ended may have forwarded newer
/// messages than this one has delivered yet, so its copies are checked again until it forwards.
fn promoted(c: Option<Conn>) -> Option<Conn> {
    c.map(|mut c| {
        c.caught_up.clear();
        c
    })
}

/// The peer went away without a close frame (reset, end of stream): a closed connection, not
/// a protocol error.
fn dropped_by_peer(e: &tungstenite::Error) -> bool {
    use std::io::ErrorKind;
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => true,
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => true,
        tungstenite::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

/// Logs the first few occurrences of a failure kind, then every 1000th.
fn log_nth(n: u64) -> bool {
    n <= LOGGED || n.is_multiple_of(1000)
}

impl Bridge<'_> {
    async fn serve(&mut self, stop: &AtomicBool, progress: &mut impl FnMut(&Stats)) {
        let mut current: Option<Conn> = None;
        let mut next: Option<Conn> = None;
        let mut renew_due: Option<Instant> = None;
        let mut overlap_since: Option<Instant> = None;
        let mut backoff = self.o.backoff_min;
        let mut last_progress = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if last_progress.elapsed() >= Duration::from_secs(1) {
                last_progress = Instant::now();
                progress(&self.stats);
            }
            if current.is_none() {
                current = promoted(next.take());
                overlap_since = None;
            }
            let Some(cur) = current.as_mut() else {
                // nothing open: connect, waiting `backoff` after each failure
                match self.connect(stop).await {
                    Some(c) => {
                        renew_due = Some(c.opened + self.o.max_age);
                        current = Some(c);
                        backoff = self.o.backoff_min;
                    }
                    None if stop.load(Ordering::Relaxed) => break,
                    None => {
                        self.pause(backoff, stop).await;
                        backoff = (backoff * 2).min(self.o.backoff_max);
                    }
                }
                continue;
            };
            // renewal: a second connection opens while the first one still forwards
            if next.is_none() && renew_due.is_some_and(|t| Instant::now() >= t) {
                tracing::info!(
                    connection = cur.id,
                    "renewing the connection (make-before-break)"
                );
                match self.connect(stop).await {
                    Some(c) => {
                        renew_due = None;
                        overlap_since = Some(Instant::now());
                        next = Some(c);
                    }
                    None => {
                        // try again after a backoff, while the current one goes on
                        renew_due = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(self.o.backoff_max);
                    }
                }
                continue;
            }
            if overlap_since.is_some_and(|t| t.elapsed() >= self.o.overlap) {
                self.retire(&mut current, Ended::Renewed).await;
                continue;
            }
            let stall_at = tokio::time::Instant::from_std(cur.last_rx + self.o.stall);
            let next_stall_at = next
                .as_ref()
                .map(|n| tokio::time::Instant::from_std(n.last_rx + self.o.stall));
            let (got, from) = tokio::select! {
                m = cur.ws.next() => (Some(m), From::Current),
                m = async {
                    match next.as_mut() {
                        Some(n) => n.ws.next().await,
                        None => std::future::pending().await,
                    }
                } => (Some(m), From::Next),
                _ = tokio::time::sleep_until(stall_at) => {
                    tracing::warn!(connection = cur.id, "no frame for {:?}: the connection stalled", self.o.stall);
                    self.retire(&mut current, Ended::Stalled).await;
                    continue;
                }
                _ = async {
                    match next_stall_at {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::warn!("the renewing connection stalled");
                    self.retire(&mut next, Ended::Stalled).await;
                    renew_due = Some(Instant::now());
                    continue;
                }
                _ = tick.tick() => (None, From::Current),
            };
            let Some(got) = got else { continue };
            let overlap = next.is_some();
            let slot = match from {
                From::Current => &mut current,
                From::Next => &mut next,
            };
            let conn = slot
                .as_mut()
                .expect("the frame came from an open connection");
            conn.last_rx = Instant::now();
            let id = conn.id;
            match got {
                Some(Ok(Message::Close(f))) => {
                    tracing::warn!(
                        connection = id,
                        "the server closes the connection: {}",
                        f.map_or_else(
                            || "no reason given".to_string(),
                            |f| format!("{} {}", f.code, f.reason)
                        )
                    );
                    self.retire(slot, Ended::Closed).await;
                }
                Some(Ok(msg)) => {
                    let outcome = self.on_message(slot, msg, overlap).await;
                    if from == From::Next && matches!(outcome, Outcome::Duplicate) {
                        // the new connection delivered what the old one had: it has caught up
                        tracing::info!(connection = id, "renewed connection caught up");
                        self.retire(&mut current, Ended::Renewed).await;
                        current = promoted(next.take());
                        overlap_since = None;
                        renew_due = current.as_ref().map(|c| c.opened + self.o.max_age);
                    }
                    // a shutdown notice: renew now, make-before-break
                    if std::mem::take(&mut self.pending_shutdown) && next.is_none() {
                        renew_due = Some(Instant::now());
                    }
                }
                Some(Err(e)) if dropped_by_peer(&e) => {
                    tracing::warn!(connection = id, "the server dropped the connection: {e}");
                    self.retire(slot, Ended::Closed).await;
                }
                Some(Err(e)) => {
                    tracing::warn!(connection = id, "connection failed: {e}");
                    self.retire(slot, Ended::Error).await;
                }
                None => {
                    tracing::warn!(connection = id, "the server ended the connection");
                    self.retire(slot, Ended::Closed).await;
                }
            }
        }
        for c in [&mut current, &mut next] {
            if let Some(mut c) = c.take() {
                let _ = tokio::time::timeout(Duration::from_secs(1), c.ws.close(None)).await;
            }
        }
    }

    async fn pause(&self, d: Duration, stop: &AtomicBool) {
        let until = Instant::now() + d;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(50))).await;
        }
    }

    /// Ends a connection (counting why); the other one, if any, takes over.
    async fn retire(&mut self, slot: &mut Option<Conn>, why: Ended) {
        if let Some(mut c) = slot.take() {
            self.stats.count_end(why);
            if why == Ended::Renewed || why == Ended::Stalled {
                let _ = tokio::time::timeout(Duration::from_secs(1), c.ws.close(None)).await;
            }
            tracing::info!(connection = c.id, ?why, "connection ended");
        }
    }

    /// One attempt to open a connection; `None` when it failed (logged and counted).
    async fn connect(&mut self, stop: &AtomicBool) -> Option<Conn> {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match tokio::time::timeout(self.o.connect_timeout, self.open()).await {
            Ok(Ok(ws)) => {
                self.stats.connects += 1;
                if self.stats.connects > 1 {
                    self.stats.reconnects += 1;
                }
                self.next_id += 1;
                let now = Instant::now();
                tracing::info!(connection = self.next_id, url = %self.o.url, "connected");
                Some(Conn {
                    ws,
                    id: self.next_id,
                    caught_up: HashSet::new(),
                    opened: now,
                    last_rx: now,
                })
            }
            Ok(Err(why)) => {
                self.stats.connect_failures += 1;
                tracing::warn!(url = %self.o.url, "cannot connect: {why}");
                None
            }
            Err(_) => {
                self.stats.connect_failures += 1;
                tracing::warn!(url = %self.o.url, "cannot connect: no answer within {:?}", self.o.connect_timeout);
                None
            }
        }
    }

    async fn open(&self) -> Result<Ws, String> {
        let tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| format!("TCP: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("TCP: {e}"))?;
        let name = ServerName::try_from(self.endpoint.host.clone())
            .map_err(|e| format!("server name {:?}: {e}", self.endpoint.host))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        let mut req = self
            .o
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("request: {e}"))?;
        if let Some(k) = &self.o.api_key {
            let v = HeaderValue::from_str(&k.0).map_err(|_| "API key: not a header value")?;
            req.headers_mut().insert("X-MBX-APIKEY", v);
        }
        match tokio_tungstenite::client_async(req, tls).await {
            Ok((ws, _)) => Ok(ws),
            Err(tungstenite::Error::Http(resp)) => Err(format!(
                "the server refused the WebSocket upgrade: HTTP {}{}",
                resp.status(),
                match resp.status().as_u16() {
                    401 | 403 => " (is the API key valid, an Ed25519 key, allowed from this IP?)",
                    _ => "",
                }
            )),
            Err(e) => Err(format!("WebSocket handshake: {e}")),
        }
    }

    async fn on_message(
        &mut self,
        slot: &mut Option<Conn>,
        msg: Message,
        overlap: bool,
    ) -> Outcome {
        match msg {
            Message::Binary(b) => match self.o.mode {
                Mode::Sbe => self.forward(slot, &b, overlap).await,
                Mode::Json => {
                    self.stats.drop_unexpected += 1;
                    if log_nth(self.stats.drop_unexpected) {
                        tracing::warn!("a binary message on a JSON stream: dropped");
                    }
                    Outcome::Other
                }
            },
            Message::Text(t) => self.on_text(slot, t.as_str(), overlap).await,
            Message::Ping(_) => {
                // tungstenite queued the pong (with the ping's payload): send it now
                self.stats.pings += 1;
                if let Some(c) = slot.as_mut() {
                    if let Err(e) = c.ws.flush().await {
                        tracing::warn!(connection = c.id, "answering a ping: {e}");
                    }
                }
                Outcome::Other
            }
            // a close frame ends the connection before it gets here
            Message::Pong(_) | Message::Frame(_) | Message::Close(_) => Outcome::Other,
        }
    }

    async fn on_text(&mut self, slot: &mut Option<Conn>, text: &str, overlap: bool) -> Outcome {
        if text.contains("serverShutdown") {
            self.stats.shutdown_notices += 1;
            self.pending_shutdown = true;
            tracing::warn!("the server announces a shutdown: renewing the connection");
            return Outcome::Other;
        }
        if self.o.mode == Mode::Sbe {
            // subscription answers and notices come as text; market data never does
            self.stats.text_ignored += 1;
            tracing::debug!("text frame: {text}");
            return Outcome::Other;
        }
        let ts = wall_ns();
        let parsed = match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => Err(format!("bad JSON: {e}")),
            Ok(v) if v.get("stream").is_some() => parse_combined(ts, text).map(|l| match l {
                Line::BookTicker { quote, .. } => Some(quote),
                Line::Skipped(_) => None,
            }),
            Ok(v) if v.get("u").is_some() => parse_book_ticker(ts, text).map(Some),
            Ok(_) => Ok(None),
        };
        match parsed {
            Ok(Some(q)) => self.forward(slot, &q.encode(), overlap).await,
            Ok(None) => {
                self.stats.text_ignored += 1;
                tracing::debug!("text frame without a bookTicker: {text}");
                Outcome::Other
            }
            Err(why) => {
                self.stats.drop_malformed += 1;
                if log_nth(self.stats.drop_malformed) {
                    tracing::warn!(
                        "malformed message dropped ({} so far): {why}",
                        self.stats.drop_malformed
                    );
                }
                Outcome::Other
            }
        }
    }

    /// Sends one message, unless it is a copy: a BestBidAsk not newer than the last one forwarded
    /// for its symbol, from a connection in an overlap or one that has not forwarded that symbol
    /// yet (a renewed or reconnected stream may start with what was forwarded already).
    async fn forward(&mut self, slot: &mut Option<Conn>, m: &[u8], overlap: bool) -> Outcome {
        if m.len() > self.o.max_datagram {
            self.stats.drop_oversize += 1;
            if log_nth(self.stats.drop_oversize) {
                tracing::warn!(
                    "a message of {} bytes exceeds the datagram limit of {}: dropped",
                    m.len(),
                    self.o.max_datagram
                );
            }
            return Outcome::Other;
        }
        if let Some((sym, id)) = best_bid_ask_key(m) {
            let conn = slot
                .as_mut()
                .expect("a message comes from an open connection");
            let checked = overlap || !conn.caught_up.contains(sym);
            match self.last_id.get_mut(sym) {
                Some(last) if checked && id <= *last => {
                    self.stats.overlap_duplicates += 1;
                    return Outcome::Duplicate;
                }
                Some(last) => *last = (*last).max(id),
                None => {
                    self.last_id.insert(sym.to_vec(), id);
                }
            }
            if !conn.caught_up.contains(sym) {
                conn.caught_up.insert(sym.to_vec());
            }
        }
        match self.sock.send_to(m, self.o.destination).await {
            Ok(_) => {
                self.stats.forwarded += 1;
                self.stats.bytes += m.len() as u64;
            }
            Err(e) => {
                self.stats.drop_send += 1;
                if log_nth(self.stats.drop_send) {
                    tracing::warn!("sending to {}: {e}", self.o.destination);
                }
            }
        }
        Outcome::Forwarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = endpoint_of("wss://stream-sbe.binance.com:9443/stream?streams=a@b").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("stream-sbe.binance.com", 9443));
        let e = endpoint_of("wss://localhost/ws").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("localhost", 443));
        let e = endpoint_of("wss://[::1]:8443/ws").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 8443));
        assert!(endpoint_of("ws://localhost/ws").is_err());
        assert!(endpoint_of("wss://u:p@localhost/ws").is_err());
        assert!(endpoint_of("wss:///ws").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            stream_url(Mode::Sbe, &["BTCUSDT".into(), "ETHUSDT".into()]),
            "wss://stream-sbe.binance.com:9443/stream?streams=btcusdt@bestBidAsk/ethusdt@bestBidAsk"
        );
        assert_eq!(
            stream_url(Mode::Json, &["BTCUSDT".into()]),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker"
        );
    }

    #[test]
    fn api_key_never_shown() {
        let k = ApiKey::new("  secret-key\n").unwrap();
        assert_eq!(format!("{k:?}"), "ApiKey(***)");
        let mut o = Options::new("wss://x/".into(), Mode::Sbe, ([127, 0, 0, 1], 1).into());
        o.api_key = Some(k);
        assert!(!format!("{o:?}").contains("secret"));
        assert!(ApiKey::new(" \n").is_err());
        assert!(ApiKey::new("a\nb").is_err());
    }

    #[test]
    fn best_bid_ask_keys() {
        let q = tickcross_capture::bridge::BestBidAsk {
            event_time_us: 1,
            book_update_id: 77,
            price_exponent: -2,
            qty_exponent: -3,
            bid_price: 1,
            bid_qty: 2,
            ask_price: 3,
            ask_qty: 4,
            symbol: "BTCUSDT".into(),
        };
        let m = q.encode();
        assert_eq!(best_bid_ask_key(&m), Some((&b"BTCUSDT"[..], 77)));
        assert_eq!(best_bid_ask_key(&m[..m.len() - 1]), None);
        let mut other = m.clone();
        other[2] = 0x12;
        assert_eq!(best_bid_ask_key(&other), None);
    }
}

#[cfg(feature = "test-server")]
pub mod test_server;
