//! The Binance JSON feed bridge (`tickcross bridge binance-json`, DESIGN section 7): recorded
//! combined-stream lines `<local_ts_ns> <json>` become one SBE `BestBidAskStreamEvent` (template
//! 10001) per UDP datagram, each venue on its own multicast destination, merged into one capture
//! by timestamp (ties: input order, then line order).
//!
//! Exponents come from the decimal strings exactly: the price exponent is minus the larger number
//! of fractional digits of `b` and `a`, and both mantissas are scaled to it (same for `B`/`A`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::netgen::{NetgenError, UdpFrameBuilder, DEFAULT_SRC_MAC};
use crate::reader::open_maybe_gzip;
use crate::writer::PcapWriter;
use tickcross_core::frame::Frame;

/// Source of every datagram unless overridden.
pub const DEFAULT_SOURCE: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000);
/// Venue i (0-based, input order) goes to this group plus i.
pub const DEFAULT_GROUP_BASE: Ipv4Addr = Ipv4Addr::new(239, 255, 10, 1);
/// Venue i goes to this port plus i.
pub const DEFAULT_PORT_BASE: u16 = 30001;

/// SBE messageHeader of a BestBidAskStreamEvent (`specs/binance/stream_1_0.xml`).
pub const BBA_BLOCK_LENGTH: u16 = 50;
pub const BBA_TEMPLATE_ID: u16 = 10001;
pub const BINANCE_SCHEMA_ID: u16 = 1;
pub const BINANCE_SCHEMA_VERSION: u16 = 0;

/// The channel that becomes frames; every other channel is counted as skipped.
const BOOK_TICKER: &str = "bookTicker";
/// Malformed lines logged individually per file; the rest are only counted.
const MALFORMED_LOGGED: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("{file}: cannot read: {source}")]
    Open {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}:{line}: read error: {source}")]
    Read {
        file: String,
        line: u64,
        #[source]
        source: io::Error,
    },
    #[error("venue {index} ({name}): no destination: base {base} + {index} is out of range")]
    Destination {
        index: usize,
        name: String,
        base: SocketAddrV4,
    },
    #[error("message for venue {0}, which has no stats entry")]
    UnknownVenue(usize),
    #[error("building a frame: {0}")]
    Frame(#[from] NetgenError),
    #[error("writing the capture: {0}")]
    Write(#[source] io::Error),
    /// An output would overwrite an input or the other output.
    #[error("{what} {path} is the same file as {other}: refusing to overwrite it")]
    SamePath {
        what: &'static str,
        path: String,
        other: String,
    },
    /// The config the bridge would write is one `replay` refuses.
    #[error("the config for these inputs would not load (nothing written):\n{0}")]
    Config(#[from] tickcross_core::config::ConfigError),
}

/// Addresses of the generated datagrams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeOptions {
    pub source: SocketAddrV4,
    pub src_mac: [u8; 6],
    /// Venue i is sent to `group_base + i` ...
    pub group_base: Ipv4Addr,
    /// ... port `port_base + i`.
    pub port_base: u16,
}

impl Default for BridgeOptions {
    fn default() -> Self {
        BridgeOptions {
            source: DEFAULT_SOURCE,
            src_mac: DEFAULT_SRC_MAC,
            group_base: DEFAULT_GROUP_BASE,
            port_base: DEFAULT_PORT_BASE,
        }
    }
}

impl BridgeOptions {
    /// The destination of venue `index`, `None` if the address or port would wrap.
    pub fn destination(&self, index: usize) -> Option<SocketAddrV4> {
        let i = u32::try_from(index).ok()?;
        let ip = u32::from(self.group_base).checked_add(i)?;
        let port = self.port_base.checked_add(u16::try_from(index).ok()?)?;
        Some(SocketAddrV4::new(Ipv4Addr::from(ip), port))
    }
}

/// Per-input counts. `lines` = `book_tickers` + skipped + `malformed` (blank lines are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueStats {
    pub name: String,
    pub path: PathBuf,
    pub destination: SocketAddrV4,
    pub lines: u64,
    /// bookTicker lines converted to messages.
    pub book_tickers: u64,
    /// Lines of other channels, by channel type ("depth", "trade", ...; [`NO_STREAM`] for JSON
    /// objects without a stream, like the recorded REST depth snapshot).
    pub skipped: BTreeMap<String, u64>,
    pub malformed: u64,
    /// Every symbol converted.
    pub symbols: BTreeSet<String>,
}

impl VenueStats {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// One SBE message, for venue `venue` (input index), at `ts_ns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeMessage {
    pub ts_ns: u64,
    pub venue: usize,
    pub payload: Vec<u8>,
}

/// The converted inputs: messages in output order and per-venue stats.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub options: BridgeOptions,
    pub venues: Vec<VenueStats>,
    /// Sorted by timestamp; ties in input order, then line order.
    pub messages: Vec<BridgeMessage>,
}

/// A bookTicker as the message carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestBidAsk {
    /// µs since the epoch.
    pub event_time_us: i64,
    pub book_update_id: i64,
    pub price_exponent: i8,
    pub qty_exponent: i8,
    pub bid_price: i64,
    pub bid_qty: i64,
    pub ask_price: i64,
    pub ask_qty: i64,
    /// At most 255 bytes (varString8).
    pub symbol: String,
}

impl BestBidAsk {
    /// The SBE message: header, 50-byte block, symbol as varString8. Symbols past 255 bytes are
    /// cut (never produced by [`parse_line`], which rejects them).
    pub fn encode(&self) -> Vec<u8> {
        let sym = &self.symbol.as_bytes()[..self.symbol.len().min(255)];
        let mut m = Vec::with_capacity(8 + usize::from(BBA_BLOCK_LENGTH) + 1 + sym.len());
        m.extend_from_slice(&BBA_BLOCK_LENGTH.to_le_bytes());
        m.extend_from_slice(&BBA_TEMPLATE_ID.to_le_bytes());
        m.extend_from_slice(&BINANCE_SCHEMA_ID.to_le_bytes());
        m.extend_from_slice(&BINANCE_SCHEMA_VERSION.to_le_bytes());
        m.extend_from_slice(&self.event_time_us.to_le_bytes());
        m.extend_from_slice(&self.book_update_id.to_le_bytes());
        m.extend_from_slice(&self.price_exponent.to_le_bytes());
        m.extend_from_slice(&self.qty_exponent.to_le_bytes());
        m.extend_from_slice(&self.bid_price.to_le_bytes());
        m.extend_from_slice(&self.bid_qty.to_le_bytes());
        m.extend_from_slice(&self.ask_price.to_le_bytes());
        m.extend_from_slice(&self.ask_qty.to_le_bytes());
        m.push(sym.len() as u8);
        m.extend_from_slice(sym);
        m
    }
}

/// What one non-blank line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    BookTicker {
        ts_ns: u64,
        quote: BestBidAsk,
    },
    /// Another channel; its type ("depth", "trade", ..., or [`NO_STREAM`]).
    Skipped(String),
}

#[derive(Deserialize)]
struct StreamOnly {
    /// Absent on the REST depth snapshot the recorder writes at the start of each file.
    stream: Option<String>,
}

/// Skip key of a JSON object without a `stream` field.
pub const NO_STREAM: &str = "(no stream)";

#[derive(Deserialize)]
struct BookTickerEnvelope {
    data: BookTickerData,
}

#[derive(Deserialize)]
struct BookTickerData {
    s: String,
    u: i64,
    b: String,
    #[serde(rename = "B")]
    bid_qty: String,
    a: String,
    #[serde(rename = "A")]
    ask_qty: String,
    /// Event time, ms; absent on spot.
    #[serde(rename = "E", default)]
    event_ms: Option<i64>,
}

/// The channel type of a combined-stream name: "btcusdt@depth@100ms" is "depth".
fn channel_type(stream: &str) -> &str {
    match stream.split_once('@') {
        Some((_, rest)) => rest.split('@').next().unwrap_or(rest),
        None => stream,
    }
}

/// An unsigned decimal `digits[.digits]`: (all digits as an integer, fractional digit count).
fn parse_decimal(s: &str) -> Option<(i64, u32)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut m: i64 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    Some((m, u32::try_from(frac.len()).ok()?))
}

fn scale(m: i64, k: u32) -> Option<i64> {
    if m == 0 {
        return Some(0);
    }
    10i64.checked_pow(k)?.checked_mul(m)
}

/// Two decimals on a common exponent: minus the larger fractional digit count.
fn decimal_pair(x: &str, y: &str) -> Result<(i8, i64, i64), String> {
    let (mx, fx) = parse_decimal(x).ok_or_else(|| format!("bad decimal {x:?}"))?;
    let (my, fy) = parse_decimal(y).ok_or_else(|| format!("bad decimal {y:?}"))?;
    let f = fx.max(fy);
    let e = i32::try_from(f)
        .ok()
        .and_then(|f| i8::try_from(-f).ok())
        .ok_or_else(|| format!("{f} fractional digits do not fit an i8 exponent"))?;
    let sx = scale(mx, f - fx).ok_or_else(|| format!("{x:?} at exponent {e} overflows i64"))?;
    let sy = scale(my, f - fy).ok_or_else(|| format!("{y:?} at exponent {e} overflows i64"))?;
    Ok((e, sx, sy))
}

/// Parses one line `<local_ts_ns> <json>`. `Err` gives the reason it is malformed.
pub fn parse_line(line: &str) -> Result<Line, String> {
    let line = line.trim();
    let (ts, json) = line
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or("no space between timestamp and JSON")?;
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad timestamp {ts:?}"));
    }
    let ts_ns: u64 = ts.parse().map_err(|_| format!("bad timestamp {ts:?}"))?;
    parse_combined(ts_ns, json)
}

/// Parses one combined-stream message `{"stream": .., "data": ..}` received at `ts_ns` (a
/// recorded line's JSON, or a live WebSocket text frame). `Err` gives the reason it is malformed.
pub fn parse_combined(ts_ns: u64, json: &str) -> Result<Line, String> {
    let head: StreamOnly = serde_json::from_str(json).map_err(|e| format!("bad JSON: {e}"))?;
    let Some(stream) = head.stream else {
        return Ok(Line::Skipped(NO_STREAM.to_string()));
    };
    let channel = channel_type(&stream);
    if channel != BOOK_TICKER {
        return Ok(Line::Skipped(channel.to_string()));
    }
    let env: BookTickerEnvelope =
        serde_json::from_str(json).map_err(|e| format!("bad bookTicker: {e}"))?;
    Ok(Line::BookTicker {
        ts_ns,
        quote: book_ticker(ts_ns, env.data)?,
    })
}

/// Parses a raw (single-stream) bookTicker object, `{"u": .., "s": .., "b": .., ...}`, received
/// at `ts_ns`.
pub fn parse_book_ticker(ts_ns: u64, json: &str) -> Result<BestBidAsk, String> {
    let d: BookTickerData =
        serde_json::from_str(json).map_err(|e| format!("bad bookTicker: {e}"))?;
    book_ticker(ts_ns, d)
}

fn book_ticker(ts_ns: u64, d: BookTickerData) -> Result<BestBidAsk, String> {
    if d.s.len() > 255 {
        return Err(format!("symbol of {} bytes exceeds 255", d.s.len()));
    }
    let (price_exponent, bid_price, ask_price) = decimal_pair(&d.b, &d.a)?;
    let (qty_exponent, bid_qty, ask_qty) = decimal_pair(&d.bid_qty, &d.ask_qty)?;
    let event_time_us = match d.event_ms {
        Some(ms) => ms
            .checked_mul(1000)
            .ok_or_else(|| format!("event time {ms} ms overflows µs"))?,
        // Cannot fail: u64::MAX / 1000 < i64::MAX.
        None => i64::try_from(ts_ns / 1000).map_err(|_| "timestamp out of range".to_string())?,
    };
    Ok(BestBidAsk {
        event_time_us,
        book_update_id: d.u,
        price_exponent,
        qty_exponent,
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
        symbol: d.s,
    })
}

/// Converts every input; see the module documentation. An input that cannot be opened or read
/// is an error; malformed lines are counted and logged.
pub fn bridge_binance_json<S: AsRef<str>, P: AsRef<Path>>(
    inputs: &[(S, P)],
    options: &BridgeOptions,
) -> Result<Bridge, BridgeError> {
    let mut venues = Vec::with_capacity(inputs.len());
    let mut messages = Vec::new();
    for (index, (name, path)) in inputs.iter().enumerate() {
        let (name, path) = (name.as_ref(), path.as_ref());
        let destination = options
            .destination(index)
            .ok_or_else(|| BridgeError::Destination {
                index,
                name: name.to_string(),
                base: SocketAddrV4::new(options.group_base, options.port_base),
            })?;
        let mut stats = VenueStats {
            name: name.to_string(),
            path: path.to_path_buf(),
            destination,
            lines: 0,
            book_tickers: 0,
            skipped: BTreeMap::new(),
            malformed: 0,
            symbols: BTreeSet::new(),
        };
        read_input(index, &mut stats, &mut messages)?;
        // debug: the binary prints the same figures as its summary
        tracing::debug!(
            venue = name,
            file = %path.display(),
            lines = stats.lines,
            book_tickers = stats.book_tickers,
            skipped = stats.skipped_total(),
            malformed = stats.malformed,
            "bridge input converted"
        );
        venues.push(stats);
    }
    // Stable: equal timestamps keep input order, then line order (the push order).
    messages.sort_by_key(|m: &BridgeMessage| m.ts_ns);
    Ok(Bridge {
        options: options.clone(),
        venues,
        messages,
    })
}

fn read_input(
    index: usize,
    stats: &mut VenueStats,
    messages: &mut Vec<BridgeMessage>,
) -> Result<(), BridgeError> {
    let file = stats.path.display().to_string();
    let reader = open_maybe_gzip(&stats.path).map_err(|source| BridgeError::Open {
        file: file.clone(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut line_no: u64 = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| BridgeError::Read {
                file: file.clone(),
                line: line_no + 1,
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.lines += 1;
        let parsed = std::str::from_utf8(&buf)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(parse_line);
        match parsed {
            Ok(Line::BookTicker { ts_ns, quote }) => {
                stats.book_tickers += 1;
                if !stats.symbols.contains(&quote.symbol) {
                    stats.symbols.insert(quote.symbol.clone());
                }
                messages.push(BridgeMessage {
                    ts_ns,
                    venue: index,
                    payload: quote.encode(),
                });
            }
            Ok(Line::Skipped(channel)) => *stats.skipped.entry(channel).or_insert(0) += 1,
            Err(reason) => {
                stats.malformed += 1;
                if stats.malformed <= MALFORMED_LOGGED {
                    tracing::warn!("{file}:{line_no}: malformed line skipped: {reason}");
                }
            }
        }
    }
    if stats.malformed > MALFORMED_LOGGED {
        tracing::warn!(
            "{file}: {} malformed lines skipped in all (only the first {MALFORMED_LOGGED} logged)",
            stats.malformed
        );
    }
    Ok(())
}

/// The frames of a [`Bridge`], in order; the IPv4 identification counts per venue.
pub struct BridgeFrames<'a> {
    messages: std::slice::Iter<'a, BridgeMessage>,
    builders: Vec<UdpFrameBuilder>,
}

impl Iterator for BridgeFrames<'_> {
    type Item = Result<Frame, BridgeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let m = self.messages.next()?;
        let Some(b) = self.builders.get_mut(m.venue) else {
            return Some(Err(BridgeError::UnknownVenue(m.venue)));
        };
        let r = b.build(&m.payload).map(|d| Frame::new(m.ts_ns, d));
        b.identification = b.identification.wrapping_add(1);
        Some(r.map_err(BridgeError::from))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.messages.size_hint()
    }
}

impl Bridge {
    /// Frames built one at a time (the messages are the only thing held in memory).
    pub fn frames(&self) -> BridgeFrames<'_> {
        let builders = self
            .venues
            .iter()
            .map(|v| {
                UdpFrameBuilder::new(self.options.source, v.destination)
                    .src_mac(self.options.src_mac)
            })
            .collect();
        BridgeFrames {
            messages: self.messages.iter(),
            builders,
        }
    }

    /// Writes every frame as a classic pcap; returns the number of records.
    pub fn write_pcap<W: Write>(&self, w: W) -> Result<u64, BridgeError> {
        let mut out = PcapWriter::new(w).map_err(BridgeError::Write)?;
        for f in self.frames() {
            out.write_frame(&f?).map_err(BridgeError::Write)?;
        }
        let n = out.records();
        out.finish().map_err(BridgeError::Write)?;
        Ok(n)
    }

    /// Writes the capture to `path` (created or truncated).
    pub fn write_pcap_file(&self, path: impl AsRef<Path>) -> Result<u64, BridgeError> {
        let path = path.as_ref();
        let file = std::fs::File::create(path).map_err(|e| {
            BridgeError::Write(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        })?;
        self.write_pcap(io::BufWriter::with_capacity(1 << 16, file))
    }

    /// See [`config_toml`].
    pub fn config_toml(&self, instrument: Option<&str>) -> String {
        config_toml(&self.venues, instrument)
    }

    /// The config text, checked by the same validation `replay` runs on it (too many venues or
    /// symbols, an empty or over-long symbol, a bad venue or instrument name, ...): a config is
    /// only handed out if it loads.
    pub fn checked_config(&self, instrument: Option<&str>) -> Result<String, BridgeError> {
        let text = self.config_toml(instrument);
        tickcross_core::config::DetectionConfig::from_toml_str(&text)?;
        Ok(text)
    }
}

/// Whether two paths name the same file: the same device and inode when both exist (hard and
/// symbolic links, `a/../b`), else the same absolute path with its directory resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return ma.dev() == mb.dev() && ma.ino() == mb.ino();
    }
    fn resolved(p: &Path) -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let name = p.file_name()?;
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        Some(dir.join(name))
    }
    match (resolved(a), resolved(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Refuses outputs that are one of the inputs or each other (`--out` equal to `--config-out`
/// would overwrite the capture with the config; an output equal to an input would truncate the
/// recording before it is read).
pub fn check_output_paths<P: AsRef<Path>>(
    inputs: &[P],
    out: &Path,
    config_out: Option<&Path>,
) -> Result<(), BridgeError> {
    let mut outputs = vec![("--out", out)];
    outputs.extend(config_out.map(|c| ("--config-out", c)));
    for (k, &(what, path)) in outputs.iter().enumerate() {
        for input in inputs {
            let input = input.as_ref();
            if same_file(path, input) {
                return Err(BridgeError::SamePath {
                    what,
                    path: path.display().to_string(),
                    other: format!("input {}", input.display()),
                });
            }
        }
        for &(other_what, other) in &outputs[k + 1..] {
            if same_file(path, other) {
                return Err(BridgeError::SamePath {
                    what: other_what,
                    path: other.display().to_string(),
                    other: format!("{what} {}", path.display()),
                });
            }
        }
    }
    Ok(())
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{:04X}", u32::from(c));
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A tickcross config for the bridged capture: the instruments, then one `binance_sbe` venue
/// per input with its destination and symbol map. With `instrument`, every symbol maps to that
/// one instrument; without, each distinct symbol (sorted) is its own instrument. Edges are 0.
pub fn config_toml(venues: &[VenueStats], instrument: Option<&str>) -> String {
    let instruments: Vec<String> = match instrument {
        Some(name) => vec![name.to_string()],
        None => venues
            .iter()
            .flat_map(|v| v.symbols.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let mut t = String::new();
    for name in &instruments {
        let _ = write!(
            t,
            "[[instrument]]\nname = {}\nedge = \"0\"\n\n",
            toml_str(name)
        );
    }
    for (i, v) in venues.iter().enumerate() {
        let map = v
            .symbols
            .iter()
            .map(|s| format!("{} = {}", toml_str(s), toml_str(instrument.unwrap_or(s))))
            .collect::<Vec<_>>()
            .join(", ");
        let map = if map.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {map} }}")
        };
        let _ = write!(
            t,
            "[[venue]]\nname = {}\nprotocol = \"binance_sbe\"\ndestination = \"{}\"\nsymbols = {}\n",
            toml_str(&v.name),
            v.destination,
            map
        );
        if i + 1 < venues.len() {
            t.push('\n');
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netgen::parse_udp;
    use crate::CaptureReader;
    use std::io::Cursor;

    /// A scratch directory, removed when dropped.
    struct TmpDir(PathBuf);

    impl Drop for TmpDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tmp_dir(tag: &str) -> TmpDir {
        let d = std::env::temp_dir().join(format!("tickcross-bridge-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&d).expect("tmp dir");
        TmpDir(d)
    }

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).expect("gzip");
        e.finish().expect("gzip")
    }

    /// The Binance recordings vendored in the repository (data/binance, MIT).
    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(rel)
    }

    const SPOT: &str = concat!(
        r#"100000 {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
        "\n",
        r#"100000 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","b":[["1.0","2.0"]]}}"#,
        "\n",
        "garbage\n",
        r#"300000 {"stream":"btcusdt@bookTicker","data":{"u":2,"s":"BTCUSDT","b":"1.5","B":"10","a":"1.25","A":"0.001"}}"#,
        "\n",
        r#"200000 {"stream":"btcusdt@bookTicker","data":{"u":3,"s":"BTCUSDT","b":"1e5","B":"1","a":"2","A":"1"}}"#,
        "\n",
        r#"400000 {"stream":"btcusdt@bookTicker","data":{"u":4,"s":"BTCUSDT","b":"1","B":"1","a":"2"}}"#,
        "\n",
        r#"x500 {"stream":"btcusdt@trade","data":{}}"#,
        "\n",
        "\n",
        r#"500000 {"stream":"btcusdt@trade","data":{"p":"1"}}"#,
        "\r\n",
        r#"600000 {"stream":"btcusdt@bookTicker","data":{"u":5,"s":"BTCUSDT","b":"1.","B":"1","a":"2","A":"1"}}"#,
        "\n",
        r#"700000 {"stream":"btcusdt@bookTicker","data":"#,
        "\n",
    );

    const PERP: &str = concat!(
        r#"100000 {"stream":"btcusd_perp@bookTicker","data":{"u":1007198632021,"e":"bookTicker","s":"BTCUSD_PERP","ps":"BTCUSD","b":"61804.7","B":"35","a":"61804.8","A":"1645","T":1723161257465,"E":1723161257476}}"#,
        "\n",
        r#"50000 {"stream":"btcusd_perp@bookTicker","data":{"u":7,"s":"BTCUSD_PERP","b":"0","B":"0","a":"61804.80","A":"0.5","E":1}}"#,
        "\n",
        r#"300000 {"stream":"btcusd_perp@bookTicker","data":{"u":8,"s":"BTCUSD_PERP","b":"2","B":"3","a":"4","A":"5"}}"#,
        "\n",
        r#"600000 {"stream":"x@bookTicker","data":{"u":1,"s":"X","b":"99999999999999999999","B":"1","a":"1","A":"1"}}"#,
        "\n",
        r#"600000 {"stream":"x@bookTicker","data":{"u":1,"s":"X","b":"9223372036854775807","B":"1","a":"0.1","A":"1"}}"#,
        "\n",
        r#"{"stream":"x@bookTicker","data":{}}"#,
        "\n",
        r#"650000 {"stream":"btcusd_perp@depth@0ms","data":{}}"#,
        "\n",
        r#"660000 {"lastUpdateId":1,"bids":[],"asks":[]}"#,
        "\n",
        "670000 [1,2]\n",
    );

    /// Writes SPOT as plain text and PERP gzip-compressed; returns the inputs.
    fn sample_inputs(tag: &str) -> (TmpDir, Vec<(String, PathBuf)>) {
        let d = tmp_dir(tag);
        let a = d.0.join("spot.txt");
        let b = d.0.join("perp.gz");
        std::fs::write(&a, SPOT).expect("write");
        std::fs::write(&b, gz(PERP)).expect("write");
        (d, vec![("spot".into(), a), ("perp".into(), b)])
    }

    fn msg(event_us: i64, id: i64, pe: i8, qe: i8, m: [i64; 4], sym: &str) -> Vec<u8> {
        BestBidAsk {
            event_time_us: event_us,
            book_update_id: id,
            price_exponent: pe,
            qty_exponent: qe,
            bid_price: m[0],
            bid_qty: m[1],
            ask_price: m[2],
            ask_qty: m[3],
            symbol: sym.into(),
        }
        .encode()
    }

    #[test]
    fn message_layout_exact() {
        let m = msg(300, 2, -2, -3, [150, 10_000, 125, 1], "BTCUSDT");
        let want: Vec<u8> = [
            &[0x32, 0x00, 0x11, 0x27, 0x01, 0x00, 0x00, 0x00][..],
            &[0x2c, 0x01, 0, 0, 0, 0, 0, 0],
            &[0x02, 0, 0, 0, 0, 0, 0, 0],
            &[0xfe, 0xfd],
            &[0x96, 0, 0, 0, 0, 0, 0, 0],
            &[0x10, 0x27, 0, 0, 0, 0, 0, 0],
            &[0x7d, 0, 0, 0, 0, 0, 0, 0],
            &[0x01, 0, 0, 0, 0, 0, 0, 0],
            &[7],
            b"BTCUSDT",
        ]
        .concat();
        assert_eq!(m, want);
        assert_eq!(m.len(), 8 + 50 + 1 + 7);
        // The decoder's offsets (PIPELINE.md section 2): exponents at 24/25, symbol length at 58.
        assert_eq!((m[24], m[25], m[58]), (0xfe, 0xfd, 7));
    }

    #[test]
    fn decimals_exact() {
        let p = |x: &str, y: &str| decimal_pair(x, y);
        assert_eq!(
            p("61837.63000000", "61837.64000000"),
            Ok((-8, 6_183_763_000_000, 6_183_764_000_000))
        );
        assert_eq!(p("61804.7", "61804.8"), Ok((-1, 618_047, 618_048)));
        assert_eq!(p("61800.20", "61800.3"), Ok((-2, 6_180_020, 6_180_030)));
        assert_eq!(p("35", "1645"), Ok((0, 35, 1645)));
        assert_eq!(p("0", "0.00000000"), Ok((-8, 0, 0)));
        assert_eq!(p("007.5", "1"), Ok((-1, 75, 10)));
        assert_eq!(p("9223372036854775807", "1"), Ok((0, i64::MAX, 1)));
        assert!(p("9223372036854775808", "1").is_err());
        assert!(p("9223372036854775807", "0.1").is_err());
        // Many fractional digits on a zero still give an exponent; the zero scales fine.
        assert_eq!(p("0", "0.0000000000000000000001"), Ok((-22, 0, 1)));
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e5", "1.2.3", " 1", "1,5", "0x10", "NaN",
        ] {
            assert!(p(bad, "1").is_err(), "{bad:?}");
        }
        let long = format!("0.{}1", "0".repeat(130));
        assert!(p(&long, "1").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_line_never_panics(s in "\\PC{0,200}") {
            let _ = parse_line(&s);
        }

        #[test]
        fn mutated_lines_never_panic(edits in proptest::collection::vec((0usize..400, 0u8..128), 1..6)) {
            let mut b = SPOT.lines().next().unwrap_or_default().as_bytes().to_vec();
            for (at, byte) in edits {
                let i = at % b.len();
                b[i] = byte;
            }
            if let Ok(line) = std::str::from_utf8(&b) {
                let _ = parse_line(line);
            }
        }

        #[test]
        fn decimals_match_integer_reference(
            xi in 0u64..10_000_000_000, xf in "[0-9]{0,10}",
            yi in 0u64..10_000_000_000, yf in "[0-9]{0,10}",
        ) {
            let dec = |i: u64, f: &str| if f.is_empty() { i.to_string() } else { format!("{i}.{f}") };
            let (x, y) = (dec(xi, &xf), dec(yi, &yf));
            let f = xf.len().max(yf.len()) as u32;
            let val = |i: u64, fs: &str| -> i128 {
                let frac: i128 = if fs.is_empty() { 0 } else { fs.parse().unwrap_or(0) };
                (i128::from(i) * 10i128.pow(fs.len() as u32) + frac) * 10i128.pow(f - fs.len() as u32)
            };
            let (vx, vy) = (val(xi, &xf), val(yi, &yf));
            match decimal_pair(&x, &y) {
                Ok((e, mx, my)) => {
                    proptest::prop_assert_eq!(i32::from(e), -(f as i32));
                    proptest::prop_assert_eq!((i128::from(mx), i128::from(my)), (vx, vy));
                }
                Err(_) => proptest::prop_assert!(vx > i128::from(i64::MAX) || vy > i128::from(i64::MAX)),
            }
        }
    }

    #[test]
    fn channel_types() {
        assert_eq!(channel_type("btcusdt@bookTicker"), "bookTicker");
        assert_eq!(channel_type("btcusdt@depth@100ms"), "depth");
        assert_eq!(channel_type("btcusdt@trade"), "trade");
        assert_eq!(channel_type("weird"), "weird");
    }

    #[test]
    fn hand_written_inputs_order_bytes_and_stats() {
        let (_dir, inputs) = sample_inputs("hand");
        let b = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");

        let spot = &b.venues[0];
        assert_eq!(spot.name, "spot");
        assert_eq!(
            spot.destination,
            "239.255.10.1:30001".parse().expect("addr")
        );
        assert_eq!(spot.lines, 10);
        assert_eq!(spot.book_tickers, 2);
        assert_eq!(
            spot.skipped,
            BTreeMap::from([("depth".to_string(), 1), ("trade".to_string(), 1)])
        );
        assert_eq!(spot.malformed, 6);
        assert_eq!(
            spot.lines,
            spot.book_tickers + spot.skipped_total() + spot.malformed
        );

        let perp = &b.venues[1];
        assert_eq!(
            perp.destination,
            "239.255.10.2:30002".parse().expect("addr")
        );
        assert_eq!(perp.lines, 9);
        assert_eq!(perp.book_tickers, 3);
        assert_eq!(
            perp.skipped,
            BTreeMap::from([("depth".to_string(), 1), (NO_STREAM.to_string(), 1)])
        );
        assert_eq!(perp.malformed, 4);
        assert_eq!(perp.symbols, BTreeSet::from(["BTCUSD_PERP".to_string()]));

        let got: Vec<(u64, usize, Vec<u8>)> = b
            .messages
            .iter()
            .map(|m| (m.ts_ns, m.venue, m.payload.clone()))
            .collect();
        let want = vec![
            // Out of order in its file: sorts first. E=1 ms is 1000 µs. Bid "0" on exponent -2.
            (
                50_000,
                1,
                msg(1000, 7, -2, -1, [0, 0, 6_180_480, 5], "BTCUSD_PERP"),
            ),
            // Tie at 100000: spot (input 0) before perp (input 1). No E: local ts / 1000.
            (
                100_000,
                0,
                msg(
                    100,
                    50_093_239_212,
                    -8,
                    -8,
                    [
                        6_183_763_000_000,
                        378_826_000,
                        6_183_764_000_000,
                        154_698_000,
                    ],
                    "BTCUSDT",
                ),
            ),
            (
                100_000,
                1,
                msg(
                    1_723_161_257_476_000,
                    1_007_198_632_021,
                    -1,
                    0,
                    [618_047, 35, 618_048, 1645],
                    "BTCUSD_PERP",
                ),
            ),
            (
                300_000,
                0,
                msg(300, 2, -2, -3, [150, 10_000, 125, 1], "BTCUSDT"),
            ),
            (300_000, 1, msg(300, 8, 0, 0, [2, 3, 4, 5], "BTCUSD_PERP")),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn round_trip_through_pcap() {
        let (_dir, inputs) = sample_inputs("pcap");
        let b = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
        let frames = b.frames().collect::<Result<Vec<_>, _>>().expect("frames");
        let mut bytes = Vec::new();
        assert_eq!(b.write_pcap(&mut bytes).expect("write"), 5);
        let back = CaptureReader::from_reader("bridge.pcap", Cursor::new(bytes))
            .expect("open")
            .collect::<Result<Vec<_>, _>>()
            .expect("read");
        assert_eq!(back, frames);
        let mut ids = Vec::new();
        for (f, m) in back.iter().zip(&b.messages) {
            assert_eq!(f.ts_ns, m.ts_ns);
            let v = parse_udp(&f.data).expect("udp");
            assert_eq!(v.payload, &m.payload[..]);
            assert_eq!(v.src, DEFAULT_SOURCE);
            assert_eq!(v.dst, b.venues[m.venue].destination);
            assert_eq!(&f.data[..6], &crate::netgen::multicast_mac(*v.dst.ip()));
            assert!(v.ip_checksum_ok && v.udp_checksum_ok);
            ids.push((m.venue, v.identification));
        }
        assert_eq!(ids, vec![(1, 0), (0, 0), (1, 1), (0, 1), (1, 2)]);
    }

    #[test]
    fn options_override_destinations() {
        let (_dir, inputs) = sample_inputs("opts");
        let opts = BridgeOptions {
            source: "192.168.1.5:4000".parse().expect("addr"),
            src_mac: [2, 0, 0, 0, 0, 9],
            group_base: Ipv4Addr::new(239, 1, 1, 255),
            port_base: 5000,
        };
        let b = bridge_binance_json(&inputs, &opts).expect("bridge");
        assert_eq!(
            b.venues[0].destination,
            "239.1.1.255:5000".parse().expect("addr")
        );
        assert_eq!(
            b.venues[1].destination,
            "239.1.2.0:5001".parse().expect("addr")
        );
        let f = b.frames().next().expect("one").expect("frame");
        let v = parse_udp(&f.data).expect("udp");
        assert_eq!(v.src, opts.source);
        assert_eq!(v.src_mac, opts.src_mac);

        let wrap = BridgeOptions {
            port_base: u16::MAX,
            ..BridgeOptions::default()
        };
        assert!(matches!(
            bridge_binance_json(&inputs, &wrap),
            Err(BridgeError::Destination { index: 1, .. })
        ));
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let e = bridge_binance_json(
            &[("x", "/nonexistent/binance.gz")],
            &BridgeOptions::default(),
        )
        .expect_err("error");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/binance.gz: cannot read"),
            "{e}"
        );

        // A gzip file cut short is a read error, not a silent end.
        let d = tmp_dir("cut");
        let p = d.0.join("cut.gz");
        let z = gz(&SPOT.repeat(50));
        std::fs::write(&p, &z[..z.len() / 2]).expect("write");
        let e = bridge_binance_json(&[("x", &p)], &BridgeOptions::default()).expect_err("error");
        assert!(matches!(e, BridgeError::Read { .. }), "{e}");
    }

    #[test]
    fn config_text() {
        let (_dir, inputs) = sample_inputs("cfg");
        let b = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
        let one = b.config_toml(Some("BTC"));
        assert_eq!(
            one,
            concat!(
                "[[instrument]]\nname = \"BTC\"\nedge = \"0\"\n\n",
                "[[venue]]\nname = \"spot\"\nprotocol = \"binance_sbe\"\n",
                "destination = \"239.255.10.1:30001\"\nsymbols = { \"BTCUSDT\" = \"BTC\" }\n\n",
                "[[venue]]\nname = \"perp\"\nprotocol = \"binance_sbe\"\n",
                "destination = \"239.255.10.2:30002\"\nsymbols = { \"BTCUSD_PERP\" = \"BTC\" }\n",
            )
        );
        let each = b.config_toml(None);
        assert!(each.starts_with(concat!(
            "[[instrument]]\nname = \"BTCUSDT\"\nedge = \"0\"\n\n",
            "[[instrument]]\nname = \"BTCUSD_PERP\"\nedge = \"0\"\n\n",
        )));
        assert!(each.contains("symbols = { \"BTCUSD_PERP\" = \"BTCUSD_PERP\" }"));
        for text in [&one, &each] {
            let v: toml::Value = toml::from_str(text).expect("valid TOML");
            assert_eq!(v["venue"].as_array().map(Vec::len), Some(2));
        }
        // Names are escaped.
        let mut odd = b.venues[0].clone();
        odd.name = "a\"b\\c".into();
        let t = config_toml(&[odd], Some("X"));
        let v: toml::Value = toml::from_str(&t).expect("valid TOML");
        assert_eq!(v["venue"][0]["name"].as_str(), Some("a\"b\\c"));
    }

    #[test]
    fn real_spot_file() {
        let path = shared("binance/spot_btcusdt_20240808.gz");
        let b = bridge_binance_json(&[("spot", &path)], &BridgeOptions::default()).expect("bridge");
        let v = &b.venues[0];
        assert_eq!(v.lines, 41_249);
        assert_eq!(v.book_tickers, 28_040);
        assert_eq!(v.malformed, 0);
        assert_eq!(v.lines, v.book_tickers + v.skipped_total());
        assert_eq!(
            v.skipped,
            BTreeMap::from([
                ("depth".to_string(), 3451),
                ("trade".to_string(), 9757),
                (NO_STREAM.to_string(), 1),
            ])
        );
        let mut n = 0;
        let mut last = 0;
        for f in b.frames() {
            let f = f.expect("frame");
            assert!(f.ts_ns >= last);
            last = f.ts_ns;
            n += 1;
        }
        assert_eq!(n, 28_040);
        // The first bookTicker line of the file.
        let first = &b.messages[0];
        assert_eq!(first.ts_ns, 1_723_161_254_087_891_268);
        assert_eq!(
            first.payload,
            msg(
                1_723_161_254_087_891,
                50_093_239_212,
                -8,
                -8,
                [
                    6_183_763_000_000,
                    378_826_000,
                    6_183_764_000_000,
                    154_698_000
                ],
                "BTCUSDT"
            )
        );
    }

    #[test]
    fn real_three_venues() {
        let inputs = [
            ("spot", shared("binance/spot_btcusdt_20240808.gz")),
            ("usdm", shared("binance/usdm_btcusdt_20240808.gz")),
            ("cm", shared("binance/cm_btcusd_perp_20240808.gz")),
        ];
        let b = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
        let counts: Vec<u64> = b.venues.iter().map(|v| v.book_tickers).collect();
        assert_eq!(counts, vec![28_040, 66_089, 19_136]);
        assert!(b.venues.iter().all(|v| v.malformed == 0));
        assert_eq!(b.messages.len(), 113_265);
        assert!(b
            .messages
            .windows(2)
            .all(|w| (w[0].ts_ns, w[0].venue) <= (w[1].ts_ns, w[1].venue)));
        let cfg = b.config_toml(Some("BTC"));
        assert!(cfg.contains("symbols = { \"BTCUSD_PERP\" = \"BTC\" }"));
        let v: toml::Value = toml::from_str(&cfg).expect("valid TOML");
        assert_eq!(v["venue"].as_array().map(Vec::len), Some(3));
    }
}
