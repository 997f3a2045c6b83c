//! The TOML configuration: instruments (with edges) and venues (protocol, UDP destinations,
//! symbol map), validated as a whole, and the [`Program`] both detection paths are given.
//!
//! ```toml
//! [[instrument]]
//! name = "BTC"
//! edge = "0.5"                      # optional, Price units, exact decimal; default "0"
//!
//! [[venue]]
//! name = "binance-spot"
//! protocol = "binance_sbe"          # or "deribit_mcast"
//! destination = "239.255.10.1:30001" # or an array; "A.B.C.D[/prefix]:port"
//! symbols = { BTCUSDT = "BTC" }     # venue symbol -> instrument name
//! ```
//!
//! Venue indexes are the order of the `[[venue]]` entries, instrument indexes the order of the
//! `[[instrument]]` entries.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::Deserialize;
use tickcross_bindings::params;

use crate::price9::{self, Price9};
use crate::program::{Filter, Program, Protocol};
use crate::trade::config::{self as tc, TradeConfig};

pub const MAX_VENUES: usize = params::N_VENUES as usize;
pub const MAX_INSTRUMENTS: usize = params::N_INSTRUMENTS as usize;
pub const MAX_FILTERS: usize = params::N_FILTERS as usize;
pub const MAX_SYMBOL_BYTES: usize = params::SYM_NAME_BYTES as usize;
/// Capacity of the hardware symbol table (two-way cuckoo hash).
pub const MAX_SYMBOLS: usize = (params::SYM_WAYS * params::SYM_SLOTS) as usize;

/// Every problem found in a configuration, one message each, naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub errors: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, e) in self.errors.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            f.write_str(e)?;
        }
        Ok(())
    }
}

impl ConfigError {
    fn one(msg: String) -> ConfigError {
        ConfigError { errors: vec![msg] }
    }
}

/// One instrument: its name and its edge (Price9; an event needs `bid - ask > edge`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub name: String,
    pub edge: Price9,
}

/// A UDP destination filter: `ip/prefix:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    pub ip: Ipv4Addr,
    /// 0..=32; 32 is an exact address.
    pub prefix: u8,
    pub port: u16,
}

impl Destination {
    /// Parses `A.B.C.D[/prefix]:port`.
    pub fn parse(s: &str) -> Result<Destination, String> {
        let (addr, port) = s
            .rsplit_once(':')
            .ok_or_else(|| "expected A.B.C.D[/prefix]:port".to_string())?;
        let (ip, prefix) = match addr.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (addr, None),
        };
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("{ip:?} is not an IPv4 address (A.B.C.D)"))?;
        let prefix = match prefix {
            None => 32,
            Some(p) => {
                let v: u32 = p
                    .parse()
                    .map_err(|_| format!("prefix {p:?} is not a number"))?;
                if v > 32 {
                    return Err(format!("prefix {v} is above 32"));
                }
                v as u8
            }
        };
        let port: u16 = port
            .parse()
            .map_err(|_| format!("port {port:?} is not a number in 1..=65535"))?;
        if port == 0 {
            return Err("port 0 is not allowed".to_string());
        }
        Ok(Destination { ip, prefix, port })
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix.min(32)))
        }
    }

    /// Some address and port match both filters.
    pub fn overlaps(&self, other: &Destination) -> bool {
        let m = Destination::mask(self.prefix.min(other.prefix));
        self.port == other.port && u32::from(self.ip) & m == u32::from(other.ip) & m
    }

    /// Both filters match exactly the same addresses and port.
    pub fn same_as(&self, other: &Destination) -> bool {
        self.prefix == other.prefix && self.overlaps(other)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == 32 {
            write!(f, "{}:{}", self.ip, self.port)
        } else {
            write!(f, "{}/{}:{}", self.ip, self.prefix, self.port)
        }
    }
}

/// One venue, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub name: String,
    pub protocol: Protocol,
    pub destinations: Vec<Destination>,
    /// (venue symbol, instrument index), sorted by symbol.
    pub symbols: Vec<(String, u16)>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    instruments: Vec<Instrument>,
    venues: Vec<Venue>,
    trade: Option<TradeConfig>,
}

// The serde structs of the file. Its shape (unknown keys, types, required keys) is checked first,
// against `FILE_KEYS`, and parts of the wrong shape dropped: so required keys are `Option`s here
// (None: reported already), and `deny_unknown_fields` only guards against a shape table that has
// fallen behind these structs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    instrument: Vec<RawInstrument>,
    #[serde(default)]
    venue: Vec<RawVenue>,
    #[serde(default)]
    trading: Option<tc::RawTrading>,
    #[serde(default)]
    risk: Option<tc::RawRisk>,
    #[serde(default)]
    rebalance: Option<tc::RawRebalance>,
    #[serde(default)]
    journal: Option<tc::RawJournal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    name: Option<String>,
    #[serde(default)]
    edge: Option<String>,
    /// Trading: the instrument's base and quote assets.
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    quote: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVenue {
    name: Option<String>,
    protocol: Option<String>,
    // A string or an array of strings; checked by hand so that a wrong shape is reported with
    // the other errors, and with a clearer message than an untagged enum gives.
    destination: Option<toml::Value>,
    #[serde(default)]
    symbols: BTreeMap<String, String>,
    // Trading keys, validated by trade::config.
    #[serde(default)]
    fees: Option<tc::RawFees>,
    #[serde(default)]
    balances: Option<BTreeMap<String, String>>,
    #[serde(default)]
    targets: Option<BTreeMap<String, String>>,
    #[serde(default)]
    markets: Option<BTreeMap<String, tc::RawMarket>>,
    #[serde(default)]
    sim: Option<tc::RawSim>,
    #[serde(default)]
    rate_limit: Option<tc::RawRateLimit>,
    // Deserialised by hand: when its shape was wrong (reported already) it is still known to be
    // there.
    #[serde(default)]
    order_entry: Option<toml::Value>,
}

// ---- the shape check: every unknown key, wrong type and missing key, before validation ----

/// What a key's value must look like. The shapes mirror the serde structs (`Raw*`), whose
/// required fields are `Option`s: a value of the wrong shape is reported here and dropped, so that
/// the rest of the file still parses and is validated, and every error is reported at once.
#[derive(Debug)]
pub(crate) enum Shape {
    /// A string.
    Str,
    /// An exact decimal, written as a string ("0.5").
    Dec,
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// Checked by the semantic validation (a destination, a latency): any value.
    Any,
    Table(&'static [Key]),
    /// A table with any keys, each value of this shape (symbol maps, balances, markets).
    Map(&'static Shape),
    Array(&'static Shape),
    /// A table whose string key `tag` selects which keys it has.
    Tagged {
        tag: &'static str,
        variants: &'static [(&'static str, &'static [Key])],
    },
}

pub(crate) const U32: Shape = Shape::Int {
    min: 0,
    max: u32::MAX as i64,
};
pub(crate) const U64: Shape = Shape::Int {
    min: 0,
    max: i64::MAX,
};
pub(crate) const I64: Shape = Shape::Int {
    min: i64::MIN,
    max: i64::MAX,
};

/// One key of a table.
#[derive(Debug)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    pub(crate) required: bool,
}

impl Key {
    pub(crate) const fn req(name: &'static str, shape: Shape) -> Key {
        Key {
            name,
            shape,
            required: true,
        }
    }
    pub(crate) const fn opt(name: &'static str, shape: Shape) -> Key {
        Key {
            name,
            shape,
            required: false,
        }
    }
}

const INSTRUMENT_KEYS: &[Key] = &[
    Key::req("name", Shape::Str),
    Key::opt("edge", Shape::Dec),
    Key::opt("base", Shape::Str),
    Key::opt("quote", Shape::Str),
];

const VENUE_KEYS: &[Key] = &[
    Key::req("name", Shape::Str),
    Key::req("protocol", Shape::Str),
    Key::req("destination", Shape::Any),
    Key::opt("symbols", Shape::Map(&Shape::Str)),
    Key::opt("fees", Shape::Table(tc::FEES_KEYS)),
    Key::opt("balances", Shape::Map(&Shape::Dec)),
    Key::opt("targets", Shape::Map(&Shape::Dec)),
    Key::opt("markets", Shape::Map(&Shape::Table(tc::MARKET_KEYS))),
    Key::opt("sim", Shape::Table(tc::SIM_KEYS)),
    Key::opt("rate_limit", Shape::Table(tc::RATE_LIMIT_KEYS)),
    Key::opt(
        "order_entry",
        Shape::Table(crate::fix::config::ORDER_ENTRY_KEYS),
    ),
];

/// The whole file.
pub(crate) const FILE_KEYS: &[Key] = &[
    Key::opt("instrument", Shape::Array(&Shape::Table(INSTRUMENT_KEYS))),
    Key::opt("venue", Shape::Array(&Shape::Table(VENUE_KEYS))),
    Key::opt("trading", Shape::Table(tc::TRADING_KEYS)),
    Key::opt("risk", Shape::Table(tc::RISK_KEYS)),
    Key::opt("rebalance", Shape::Table(tc::REBALANCE_KEYS)),
    Key::opt("journal", Shape::Table(tc::JOURNAL_KEYS)),
];

/// A TOML value.
#[derive(Debug)]
enum Node {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<SNode>),
    Table(Vec<(String, SNode)>),
}

/// A TOML value and the bytes it came from. An implicit table (`a.b` of a `[a.b.c]` header) has no
/// span: it is located by its parent's.
#[derive(Debug)]
struct SNode {
    span: Option<std::ops::Range<usize>>,
    node: Node,
}

// toml hands a value's span to a struct of this name and fields (`toml::Spanned`'s protocol), and
// the bare value when it has none; `toml::Spanned` itself fails on the latter.
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const TOML_DATETIME: &str = "$__toml_private_datetime";

/// The value inside the span struct: deserialised without asking for a span again.
struct Unspanned(SNode);

impl<'de> Deserialize<'de> for Unspanned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unspanned, D::Error> {
        d.deserialize_any(SNodeVisitor).map(Unspanned)
    }
}

impl<'de> Deserialize<'de> for SNode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SNode, D::Error> {
        d.deserialize_struct(
            SPANNED,
            &[SPANNED_START, SPANNED_END, SPANNED_VALUE],
            SNodeVisitor,
        )
    }
}

fn bare(node: Node) -> SNode {
    SNode { span: None, node }
}

struct SNodeVisitor;

mod visit {
    use super::*;
    use serde::de::{self, MapAccess, SeqAccess, Visitor};
    impl<'de> Visitor<'de> for SNodeVisitor {
        type Value = SNode;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a TOML value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<SNode, E> {
            Ok(bare(Node::Str(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<SNode, E> {
            Ok(bare(Node::Str(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<SNode, E> {
            Ok(bare(Node::Int(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<SNode, E> {
            i64::try_from(v)
                .map(|v| bare(Node::Int(v)))
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<SNode, E> {
            Ok(bare(Node::Float(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<SNode, E> {
            Ok(bare(Node::Bool(v)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<SNode, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = a.next_element()? {
                v.push(x);
            }
            Ok(bare(Node::Array(v)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<SNode, A::Error> {
            let mut entries = Vec::new();
            let (mut start, mut end) = (None, None);
            while let Some(k) = a.next_key::<String>()? {
                match k.as_str() {
                    SPANNED_START => start = Some(a.next_value::<usize>()?),
                    SPANNED_END => end = Some(a.next_value::<usize>()?),
                    SPANNED_VALUE => {
                        let Unspanned(inner) = a.next_value()?;
                        let span = start.zip(end).map(|(s, e)| s..e);
                        return Ok(SNode {
                            span: span.or(inner.span),
                            node: inner.node,
                        });
                    }
                    TOML_DATETIME => return Ok(bare(Node::Datetime(a.next_value()?))),
                    _ => entries.push((k, a.next_value()?)),
                }
            }
            Ok(bare(Node::Table(entries)))
        }
    }
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Str(_) => "a string",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a float",
            Node::Bool(_) => "a boolean",
            Node::Datetime(_) => "a date-time",
            Node::Array(_) => "an array",
            Node::Table(_) => "a table",
        }
    }

    /// The value without spans.
    fn into_value(self) -> toml::Value {
        match self {
            Node::Str(s) => toml::Value::String(s),
            Node::Int(i) => toml::Value::Integer(i),
            Node::Float(f) => toml::Value::Float(f),
            Node::Bool(b) => toml::Value::Boolean(b),
            Node::Datetime(d) => d
                .parse()
                .map_or(toml::Value::String(d), toml::Value::Datetime),
            Node::Array(a) => {
                toml::Value::Array(a.into_iter().map(|n| n.node.into_value()).collect())
            }
            Node::Table(t) => toml::Value::Table(
                t.into_iter()
                    .map(|(k, n)| (k, n.node.into_value()))
                    .collect(),
            ),
        }
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Walks a parsed file against its shapes.
struct ShapeCheck<'a> {
    text: &'a str,
    errors: Vec<String>,
}

impl ShapeCheck<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, path: &str, msg: String) {
        let (line, _) = line_col(self.text, span.start);
        self.errors.push(format!("line {line}: {path}: {msg}"));
    }

    /// The value if it has the shape (with its parts that do not removed), else None. `at`:
    /// where the parent is, for a value without a span of its own.
    fn check(
        &mut self,
        node: SNode,
        shape: &Shape,
        path: &str,
        at: std::ops::Range<usize>,
    ) -> Option<Node> {
        let span = node.span.unwrap_or(at);
        let node = node.node;
        let expected = match (shape, node) {
            (Shape::Any, n) => return Some(n),
            (Shape::Str, n @ Node::Str(_)) | (Shape::Bool, n @ Node::Bool(_)) => return Some(n),
            (Shape::Dec, n @ Node::Str(_)) => return Some(n),
            (Shape::Int { min, max }, Node::Int(i)) => {
                if (*min..=*max).contains(&i) {
                    return Some(Node::Int(i));
                }
                let msg = if i < 0 && *min == 0 {
                    format!("{i} is negative")
                } else {
                    format!("{i} is out of range ({min}..={max})")
                };
                self.error(span, path, msg);
                return None;
            }
            (Shape::Table(keys), Node::Table(t)) => {
                return Some(Node::Table(self.table(t, keys, span, path)))
            }
            (Shape::Map(each), Node::Table(t)) => {
                let mut out = Vec::with_capacity(t.len());
                for (k, v) in t {
                    let p = format!("{path}.{}", toml_key(&k));
                    let inner = v.span.clone();
                    if let Some(v) = self.check(v, each, &p, span.clone()) {
                        out.push((
                            k,
                            SNode {
                                span: inner,
                                node: v,
                            },
                        ));
                    }
                }
                return Some(Node::Table(out));
            }
            (Shape::Array(each), Node::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (k, v) in a.into_iter().enumerate() {
                    let inner = v.span.clone();
                    // an element of the wrong shape is dropped (and reported)
                    if let Some(v) = self.check(v, each, &format!("{path}[{k}]"), span.clone()) {
                        out.push(SNode {
                            span: inner,
                            node: v,
                        });
                    }
                }
                return Some(Node::Array(out));
            }
            (Shape::Tagged { tag, variants }, Node::Table(t)) => {
                let names: Vec<String> = variants.iter().map(|(n, _)| format!("{n:?}")).collect();
                let names = names.join(" or ");
                let chosen = match t.iter().find(|(k, _)| k == tag).map(|(_, v)| &v.node) {
                    None => Err(format!("missing key \"{tag}\" ({names})")),
                    Some(Node::Str(s)) => variants
                        .iter()
                        .find(|(n, _)| n == s)
                        .map(|(_, keys)| *keys)
                        .ok_or_else(|| format!("{tag} {s:?}: expected {names}")),
                    Some(other) => Err(format!("{tag}: expected a string, found {}", other.kind())),
                };
                let keys = match chosen {
                    Ok(keys) => keys,
                    Err(msg) => {
                        self.error(span, path, msg);
                        return None;
                    }
                };
                let (tag_entry, rest): (Vec<_>, Vec<_>) =
                    t.into_iter().partition(|(k, _)| k == tag);
                let mut out = self.table(rest, keys, span, path);
                out.extend(tag_entry);
                return Some(Node::Table(out));
            }
            (Shape::Str, n) => ("a string", n),
            (Shape::Dec, n) => ("a decimal number as a string (such as \"0.5\")", n),
            (Shape::Int { .. }, n) => ("an integer", n),
            (Shape::Bool, n) => ("true or false", n),
            (Shape::Table(_) | Shape::Map(_) | Shape::Tagged { .. }, n) => ("a table", n),
            (Shape::Array(_), n) => ("an array", n),
        };
        let (want, found) = expected;
        self.error(
            span,
            path,
            format!("expected {want}, found {}", found.kind()),
        );
        None
    }

    /// A table's keys: unknown ones reported and dropped, each known one checked, missing
    /// required ones reported.
    fn table(
        &mut self,
        entries: Vec<(String, SNode)>,
        keys: &[Key],
        span: std::ops::Range<usize>,
        path: &str,
    ) -> Vec<(String, SNode)> {
        let join = |k: &str| {
            if path.is_empty() {
                toml_key(k)
            } else {
                format!("{path}.{}", toml_key(k))
            }
        };
        let mut out = Vec::with_capacity(entries.len());
        let mut seen = Vec::new();
        for (k, v) in entries {
            let Some(key) = keys.iter().find(|key| key.name == k) else {
                let near = keys
                    .iter()
                    .map(|key| (edit_distance(&k, key.name), key.name))
                    .min()
                    .filter(|&(d, _)| d <= 2 && d < k.len());
                let hint = match near {
                    Some((_, name)) => format!("; did you mean \"{name}\"?"),
                    None => format!(
                        " (expected {})",
                        keys.iter()
                            .map(|key| key.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let at = v.span.unwrap_or_else(|| span.clone());
                self.error(at, &join(&k), format!("unknown key{hint}"));
                continue;
            };
            seen.push(key.name);
            let inner = v.span.clone();
            if let Some(n) = self.check(v, &key.shape, &join(&k), span.clone()) {
                out.push((
                    k,
                    SNode {
                        span: inner,
                        node: n,
                    },
                ));
            }
        }
        for key in keys
            .iter()
            .filter(|k| k.required && !seen.contains(&k.name))
        {
            let at = if path.is_empty() { "the file" } else { path };
            self.error(span.clone(), at, format!("missing key \"{}\"", key.name));
        }
        out
    }
}

/// A key as a TOML path segment (quoted unless bare).
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::one(format!("{}: {e}", path.display())))?;
        Config::from_toml_str(&text)
    }

    /// Parses and validates a configuration; every problem is reported: a TOML syntax error
    /// alone (nothing after it can be read), else every unknown key, wrong type and missing key
    /// together with every error of the validation.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let root: SNode = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().replace('\n', " ");
            ConfigError::one(match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    format!("parse error at line {line}, column {col}: {msg}")
                }
                None => format!("parse error: {msg}"),
            })
        })?;
        let mut check = ShapeCheck {
            text,
            errors: Vec::new(),
        };
        let value = check
            .check(root, &Shape::Table(FILE_KEYS), "", 0..0)
            .map_or_else(|| toml::Value::Table(toml::Table::new()), Node::into_value);
        let mut errors = check.errors;
        match value.try_into::<RawConfig>() {
            Ok(raw) => Config::validate(raw, errors),
            Err(e) => {
                // only if FILE_KEYS and the Raw structs disagree
                errors.push(e.message().trim_end().to_string());
                Err(ConfigError { errors })
            }
        }
    }

    /// `errors`: the shape check's.
    fn validate(mut raw: RawConfig, mut errors: Vec<String>) -> Result<Config, ConfigError> {
        let shape_ok = errors.is_empty();

        if raw.instrument.is_empty() {
            errors.push("no [[instrument]] entries".to_string());
        }
        if raw.instrument.len() > MAX_INSTRUMENTS {
            errors.push(format!(
                "{} instruments: at most {MAX_INSTRUMENTS} are supported",
                raw.instrument.len()
            ));
        }
        let mut instruments = Vec::with_capacity(raw.instrument.len());
        let mut instrument_index: HashMap<&str, usize> = HashMap::new();
        for (k, ri) in raw.instrument.iter().enumerate() {
            // a missing name was reported by the shape check
            let name = ri.name.as_deref().unwrap_or("");
            let here = match &ri.name {
                Some(n) if !n.trim().is_empty() => format!("instrument {n:?}"),
                _ => format!("instrument #{}", k + 1),
            };
            match &ri.name {
                None => {}
                Some(n) if n.trim().is_empty() => {
                    errors.push(format!("{here}: empty name"));
                }
                Some(n) if n.chars().any(char::is_control) => {
                    errors.push(format!("{here}: name contains a control character"));
                }
                // the guard records the name as it checks it
                Some(n) if instrument_index.insert(n, k).is_some() => {
                    errors.push(format!("{here}: duplicate name"));
                }
                Some(_) => {}
            }
            let edge = match &ri.edge {
                None => 0,
                Some(s) => match price9::parse(s) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(format!("{here}: edge {s:?}: {e}"));
                        0
                    }
                },
            };
            instruments.push(Instrument {
                name: name.to_string(),
                edge,
            });
        }

        if raw.venue.is_empty() {
            errors.push("no [[venue]] entries".to_string());
        }
        if raw.venue.len() > MAX_VENUES {
            errors.push(format!(
                "{} venues: at most {MAX_VENUES} are supported",
                raw.venue.len()
            ));
        }
        let mut venues = Vec::with_capacity(raw.venue.len());
        let mut venue_names: HashMap<&str, usize> = HashMap::new();
        let mut n_symbols = 0usize;
        for (k, rv) in raw.venue.iter().enumerate() {
            let name = rv.name.as_deref().unwrap_or("");
            let here = match &rv.name {
                Some(n) if !n.is_empty() => format!("venue {n:?}"),
                _ => format!("venue #{}", k + 1),
            };
            match &rv.name {
                None => {}
                Some(n) if n.is_empty() => errors.push(format!("{here}: empty name")),
                Some(n) if n.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                    errors.push(format!("{here}: name contains whitespace"))
                }
                Some(n) if venue_names.insert(n, k).is_some() => {
                    errors.push(format!("{here}: duplicate name"));
                }
                Some(_) => {}
            }

            let protocol = match rv.protocol.as_deref() {
                None | Some("binance_sbe") => Protocol::BinanceSbe,
                Some("deribit_mcast") => Protocol::DeribitMcast,
                Some(other) => {
                    errors.push(format!(
                        "{here}: protocol {other:?}: expected \"binance_sbe\" or \"deribit_mcast\""
                    ));
                    Protocol::BinanceSbe
                }
            };

            let texts: Vec<&str> = match rv.destination.as_ref() {
                None => Vec::new(),
                Some(toml::Value::String(s)) => vec![s.as_str()],
                Some(toml::Value::Array(items)) => {
                    let mut v = Vec::with_capacity(items.len());
                    for item in items {
                        match item.as_str() {
                            Some(s) => v.push(s),
                            None => errors.push(format!(
                                "{here}: destination {item}: expected a string \"A.B.C.D[/prefix]:port\""
                            )),
                        }
                    }
                    if items.is_empty() {
                        errors.push(format!("{here}: no destination"));
                    }
                    v
                }
                Some(other) => {
                    errors.push(format!(
                        "{here}: destination {other}: expected a string or an array of strings"
                    ));
                    Vec::new()
                }
            };
            let mut destinations = Vec::with_capacity(texts.len());
            for t in texts {
                match Destination::parse(t) {
                    Ok(d) => destinations.push(d),
                    Err(e) => errors.push(format!("{here}: destination {t:?}: {e}")),
                }
            }

            let mut symbols = Vec::with_capacity(rv.symbols.len());
            for (sym, inst) in &rv.symbols {
                if sym.is_empty() {
                    errors.push(format!("{here}: symbol \"\": empty symbol name"));
                } else if sym.len() > MAX_SYMBOL_BYTES {
                    errors.push(format!(
                        "{here}: symbol {sym:?}: {} bytes, at most {MAX_SYMBOL_BYTES}",
                        sym.len()
                    ));
                }
                match instrument_index.get(inst.as_str()) {
                    Some(&i) => symbols.push((sym.clone(), i as u16)),
                    None => errors.push(format!(
                        "{here}: symbol {sym:?}: unknown instrument {inst:?}"
                    )),
                }
            }
            n_symbols += rv.symbols.len();
            venues.push(Venue {
                name: name.to_string(),
                protocol,
                destinations,
                symbols,
            });
        }

        let n_dest: usize = venues.iter().map(|v| v.destinations.len()).sum();
        if n_dest > MAX_FILTERS {
            errors.push(format!(
                "{n_dest} destinations in total: at most {MAX_FILTERS} are supported"
            ));
        }
        if n_symbols > MAX_SYMBOLS {
            errors.push(format!(
                "{n_symbols} symbols in total: at most {MAX_SYMBOLS} are supported"
            ));
        }

        // Overlapping destinations would make the venue of a frame depend on filter order.
        let all: Vec<(usize, &Destination)> = venues
            .iter()
            .enumerate()
            .flat_map(|(v, venue)| venue.destinations.iter().map(move |d| (v, d)))
            .collect();
        for (a, &(va, da)) in all.iter().enumerate() {
            for &(vb, db) in &all[a + 1..] {
                let here = format!("venue {:?}: destination \"{db}\"", venues[vb].name);
                if va != vb && da.overlaps(db) {
                    errors.push(format!(
                        "{here}: overlaps destination \"{da}\" of venue {:?}",
                        venues[va].name
                    ));
                } else if va == vb && da.same_as(db) {
                    errors.push(format!("{here}: duplicated (same as \"{da}\")"));
                }
            }
        }

        let sections = tc::RawTradeSections {
            trading: raw.trading.take(),
            risk: raw.risk.take(),
            rebalance: raw.rebalance.take(),
            journal: raw.journal.take(),
        };
        let venue_trading: Vec<tc::RawVenueTrading> = raw
            .venue
            .iter_mut()
            .map(|rv| tc::RawVenueTrading {
                fees: rv.fees.take(),
                balances: rv.balances.take(),
                targets: rv.targets.take(),
                markets: rv.markets.take(),
                sim: rv.sim.take(),
                rate_limit: rv.rate_limit.take(),
                // Some(None): given, but of the wrong shape (reported)
                order_entry: rv.order_entry.take().map(|v| {
                    match v.try_into::<crate::fix::FixOrderEntry>() {
                        Ok(oe) => Some(oe),
                        Err(e) => {
                            if shape_ok {
                                // only if ORDER_ENTRY_KEYS and FixOrderEntry disagree
                                errors.push(format!("order_entry: {}", e.message().trim_end()));
                            }
                            None
                        }
                    }
                }),
            })
            .collect();
        let view = tc::DetectionView {
            instrument_names: instruments.iter().map(|i| i.name.as_str()).collect(),
            venues: venues
                .iter()
                .map(|v| {
                    (
                        v.name.as_str(),
                        v.symbols
                            .iter()
                            .map(|(s, i)| (s.as_str(), *i as usize))
                            .collect(),
                    )
                })
                .collect(),
        };
        let assets: Vec<(Option<&str>, Option<&str>)> = raw
            .instrument
            .iter()
            .map(|i| (i.base.as_deref(), i.quote.as_deref()))
            .collect();
        let trade = tc::validate(
            &sections,
            &assets,
            &venue_trading.iter().collect::<Vec<_>>(),
            &view,
            &mut errors,
        );

        if errors.is_empty() {
            Ok(Config {
                instruments,
                venues,
                trade,
            })
        } else {
            Err(ConfigError { errors })
        }
    }

    /// The trading configuration, when the file has a `[trading]` section.
    pub fn trading(&self) -> Option<&TradeConfig> {
        self.trade.as_ref()
    }

    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    pub fn venues(&self) -> &[Venue] {
        &self.venues
    }

    pub fn n_venues(&self) -> usize {
        self.venues.len()
    }

    pub fn n_instruments(&self) -> usize {
        self.instruments.len()
    }

    pub fn venue_name(&self, index: usize) -> Option<&str> {
        self.venues.get(index).map(|v| v.name.as_str())
    }

    pub fn instrument_name(&self, index: usize) -> Option<&str> {
        self.instruments.get(index).map(|i| i.name.as_str())
    }

    pub fn venue_index(&self, name: &str) -> Option<usize> {
        self.venues.iter().position(|v| v.name == name)
    }

    pub fn instrument_index(&self, name: &str) -> Option<usize> {
        self.instruments.iter().position(|i| i.name == name)
    }

    /// Edge of an instrument (0 for an unknown index).
    pub fn edge(&self, instrument: usize) -> Price9 {
        self.instruments.get(instrument).map_or(0, |i| i.edge)
    }

    /// What both detection paths are programmed with: venues in config order, filters venue by
    /// venue (destinations in order), symbols, and one edge per instrument.
    pub fn program(&self) -> Program {
        // Indexes fit: validation bounds venues to 8 and instruments to 256.
        Program {
            venues: self.venues.iter().map(|v| Some(v.protocol)).collect(),
            filters: self
                .venues
                .iter()
                .enumerate()
                .flat_map(|(k, v)| {
                    v.destinations.iter().map(move |d| Filter {
                        ip: d.ip.octets(),
                        prefix: d.prefix,
                        port: d.port,
                        venue: k as u8,
                    })
                })
                .collect(),
            symbols: self
                .venues
                .iter()
                .enumerate()
                .flat_map(|(k, v)| {
                    v.symbols
                        .iter()
                        .map(move |(s, i)| (k as u8, s.as_bytes().to_vec(), *i))
                })
                .collect(),
            edges: self.instruments.iter().map(|i| i.edge).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[instrument]]
name = "BTC"

[[instrument]]
name = "ETH"
edge = "-0.5"

[[venue]]
name = "binance-spot"
protocol = "binance_sbe"
destination = "239.255.10.1:30001"
symbols = { BTCUSDT = "BTC", ETHUSDT = "ETH" }

[[venue]]
name = "deribit"
protocol = "deribit_mcast"
destination = ["239.111.111.0/24:6100", "239.111.112.1:6100"]
symbols = { BTC-PERPETUAL = "BTC" }
"#;

    fn errors(text: &str) -> Vec<String> {
        match Config::from_toml_str(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e.errors,
        }
    }

    /// Asserts exactly one error, containing every fragment.
    fn one_error(text: &str, fragments: &[&str]) {
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        for f in fragments {
            assert!(errs[0].contains(f), "{:?} lacks {f:?}", errs[0]);
        }
    }

    fn venue(name: &str, dest: &str, symbols: &str) -> String {
        format!(
            "[[venue]]\nname = \"{name}\"\nprotocol = \"binance_sbe\"\ndestination = {dest}\nsymbols = {{ {symbols} }}\n"
        )
    }

    const BTC: &str = "[[instrument]]\nname = \"BTC\"\n";

    #[test]
    fn good_config_and_program() {
        let c = Config::from_toml_str(GOOD).unwrap();
        assert_eq!(c.n_venues(), 2);
        assert_eq!(c.n_instruments(), 2);
        assert_eq!(c.venue_name(1), Some("deribit"));
        assert_eq!(c.venue_name(2), None);
        assert_eq!(c.instrument_name(0), Some("BTC"));
        assert_eq!(c.venue_index("binance-spot"), Some(0));
        assert_eq!(c.venue_index("nope"), None);
        assert_eq!(c.instrument_index("ETH"), Some(1));
        assert_eq!(c.edge(1), -500_000_000);
        assert_eq!(c.edge(0), 0);
        let p = c.program();
        assert_eq!(
            p.venues,
            vec![Some(Protocol::BinanceSbe), Some(Protocol::DeribitMcast)]
        );
        assert_eq!(
            p.filters,
            vec![
                Filter {
                    ip: [239, 255, 10, 1],
                    prefix: 32,
                    port: 30001,
                    venue: 0
                },
                Filter {
                    ip: [239, 111, 111, 0],
                    prefix: 24,
                    port: 6100,
                    venue: 1
                },
                Filter {
                    ip: [239, 111, 112, 1],
                    prefix: 32,
                    port: 6100,
                    venue: 1
                },
            ]
        );
        let mut syms = p.symbols.clone();
        syms.sort();
        assert_eq!(
            syms,
            vec![
                (0, b"BTCUSDT".to_vec(), 0),
                (0, b"ETHUSDT".to_vec(), 1),
                (1, b"BTC-PERPETUAL".to_vec(), 0)
            ]
        );
        assert_eq!(p.edges, vec![0, -500_000_000]);
    }

    #[test]
    fn load_reads_files_and_reports_missing_ones() {
        let dir = std::env::temp_dir().join(format!("tickcross-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, GOOD).unwrap();
        assert_eq!(Config::load(&path).unwrap().n_venues(), 2);
        std::fs::remove_file(&path).unwrap();
        let e = Config::load(&path).unwrap_err();
        assert_eq!(e.errors.len(), 1);
        assert!(e.errors[0].contains("c.toml"));
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn parse_error_has_line() {
        // TOML syntax: nothing after it can be read, so it is the one error
        one_error("[[instrument]]\nname = \"BTC\"\nname = 3\n", &["line 3"]);
        // shape errors come with the rest (here: no venue)
        let v = venue("v", "\"1.2.3.4:5\"", "");
        one_error(
            &format!("[[instrument]]\nname = \"BTC\"\ncolour = \"red\"\n{v}"),
            &["line 3: instrument[0].colour: unknown key"],
        );
        one_error(
            &format!("{BTC}[[venue]]\nname = \"x\"\nprotocol = \"binance_sbe\"\n"),
            &["line 3: venue[0]: missing key \"destination\""],
        );
        one_error(
            &format!("[[instrument]]\nname = \"BTC\"\nedge = 0.5\n{v}"),
            &["line 3: instrument[0].edge: expected a decimal number as a string (such as \"0.5\"), found a float"],
        );
    }

    /// Issue 9, class 6: unknown keys, wrong types, missing keys, empty names and the semantic
    /// errors, in every section, all in one report (the first parse error used to be all).
    #[test]
    fn every_kind_of_problem_in_every_section_is_reported_together() {
        let t = r#"
[trading]
min_profit = "x"
order_timeout_ms = -5

[risk]
max_notional = "1000"
max_position = 0.1
max_open_legs = 1
daily_loss_limit = "100"

[rebalance]
threshold = "2"
assets = { BTC = { network_fee = "0.1", transfer_s = "600" } }

[journal]
synk = "always"

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[instrument]]
name = ""

[[venue]]
name = ""
protocol = "binance_sbe"
destination = "239.1.1.1:5000"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10", tiers = [{ volume = "1", maker_bps = 1, taker_bps = "1" }] }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.001", contract = { inverse = "-1" } } }
sim = { latency_us = 500, faults = [{ kind = "reject", start_ms = 1 }] }

[[venue]]
name = "b"
protocol = "binance_sbe"
destination = "239.1.1.2:5001"
symbolz = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10" }
balances = { BTC = "1", USDT = "60000" }
rate_limit = { orders = 0, window_ms = true }

[venue.order_entry]
protocol = "fix44"
host = "127.0.0.1"
port = 99999
sender_comp_id = "TC"
target_comp_id = "ACC"
heartbeat = 30
auth = { kind = "plain", username = "u", password_env = "PW", pasword_file = "x" }
"#;
        let e = Config::from_toml_str(t).unwrap_err();
        let text = e.to_string();
        for f in [
            // unknown keys, with a suggestion
            "line 17: journal.synk: unknown key; did you mean \"sync\"?",
            "line 41: venue[1].symbolz: unknown key; did you mean \"symbols\"?",
            "line 52: venue[1].order_entry.heartbeat: unknown key; did you mean \"heartbeat_s\"?",
            "line 53: venue[1].order_entry.auth.pasword_file: unknown key; did you mean \"password_file\"?",
            // wrong types and ranges
            "line 4: trading.order_timeout_ms: -5 is negative",
            "line 8: risk.max_position: expected a decimal number as a string",
            "line 14: rebalance.assets.BTC.transfer_s: expected an integer, found a string",
            "line 32: venue[0].fees.tiers[0].maker_bps: expected a decimal number as a string",
            "line 44: venue[1].rate_limit.window_ms: expected an integer, found a boolean",
            // missing keys
            "line 6: risk: missing key \"max_quote_age_ms\"",
            "line 35: venue[0].sim.faults[0]: missing key \"duration_ms\"",
            // empty names
            "instrument #2: empty name",
            "venue #1: empty name",
            // the validation's own errors, with the others
            "[trading]: min_profit \"x\" is not a decimal number",
            "[risk]: max_open_legs must be at least 2",
            "[rebalance]: threshold is a fraction of the target, at most 1",
            "venue #1: markets.BTCUSDT: contract.inverse \"-1\" must be above 0",
            "venue \"b\": rate_limit.orders must be at least 1",
            // the FIX validation too: the unknown keys were dropped, the rest has its shape
            "venue \"b\": order_entry.port 99999 is not in 1..=65535",
        ] {
            assert!(text.contains(f), "{text}\n\nlacks: {f}");
        }
        assert_eq!(text.lines().count(), e.errors.len(), "{text}");
    }

    #[test]
    fn wrong_shapes_of_whole_sections_and_entries() {
        let v = venue("v", "\"1.2.3.4:5\"", "");
        let errs = errors(
            "trading = 5\nvenue = 3\n[[instrument]]\nname = 7\n[[instrument]]\nname = \"ETH\"\n",
        );
        let text = errs.join("\n");
        for f in [
            "line 1: trading: expected a table, found an integer",
            "line 2: venue: expected an array, found an integer",
            "line 4: instrument[0].name: expected a string, found an integer",
            "no [[venue]] entries",
        ] {
            assert!(text.contains(f), "{text}\nlacks {f}");
        }
        // a date-time where a decimal goes, an integer out of u32
        let errs = errors(&format!(
            "{BTC}edge = 1979-05-27T07:32:00Z\n{v}[trading]\nmin_profit = \"1\"\nunwind_retries = 4294967296\n"
        ));
        let text = errs.join("\n");
        assert!(text.contains("instrument[0].edge: expected a decimal number as a string (such as \"0.5\"), found a date-time"), "{text}");
        assert!(
            text.contains("trading.unwind_retries: 4294967296 is out of range (0..=4294967295)"),
            "{text}"
        );
        // far from every known key: the list of them
        let errs = errors(&format!("{BTC}zzzzzzzz = 1\n{v}"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].ends_with(
                "instrument[0].zzzzzzzz: unknown key (expected name, edge, base, quote)"
            ),
            "{errs:?}"
        );
        // an auth kind that does not exist
        let errs = errors(&crate::trade::testcfg::THREE_VENUES.replacen(
            "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }",
            "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }\n\
             order_entry = { protocol = \"fix44\", host = \"h\", port = 1, sender_comp_id = \"a\", \
             target_comp_id = \"b\", auth = { kind = \"kerberos\" } }",
            1,
        ));
        assert!(
            errs.iter().any(|e| e.ends_with("venue[0].order_entry.auth: kind \"kerberos\": expected \"plain\" or \"binance_ed25519\"")),
            "{errs:?}"
        );
    }

    #[test]
    fn empty_and_blank_names() {
        for name in ["", " ", "\\t"] {
            let t = format!(
                "[[instrument]]\nname = \"{name}\"\n{}",
                venue("v", "\"1.2.3.4:5\"", "")
            );
            one_error(&t, &["instrument #1: empty name"]);
        }
        let t = format!("{BTC}{}", venue("", "\"1.2.3.4:5\"", "BTCUSDT = \"BTC\""));
        one_error(&t, &["venue #1: empty name"]);
        let t = format!(
            "[[instrument]]\nname = \"A\\u0007\"\n{}",
            venue("v", "\"1.2.3.4:5\"", "")
        );
        one_error(&t, &["control character"]);
    }

    /// Every key of the shape tables, with a value of its shape, deserialises into the Raw
    /// structs: the tables and the structs are in step (a key the structs gained and the tables
    /// lack is refused as unknown by every test that uses it).
    #[test]
    fn shape_tables_match_the_serde_structs() {
        fn sample(shape: &Shape, variant: usize) -> toml::Value {
            match shape {
                Shape::Str | Shape::Dec => toml::Value::String("1".into()),
                Shape::Int { .. } => toml::Value::Integer(1),
                Shape::Bool => toml::Value::Boolean(true),
                Shape::Any => toml::Value::Integer(1),
                Shape::Table(keys) => table(keys, variant),
                Shape::Map(each) => toml::Value::Table(
                    [("K".to_string(), sample(each, variant))]
                        .into_iter()
                        .collect(),
                ),
                Shape::Array(each) => toml::Value::Array(vec![sample(each, variant)]),
                Shape::Tagged { tag, variants } => {
                    let (name, keys) = variants[variant % variants.len()];
                    let mut t = table(keys, variant);
                    t.as_table_mut()
                        .unwrap()
                        .insert(tag.to_string(), toml::Value::String(name.into()));
                    t
                }
            }
        }
        fn table(keys: &[Key], variant: usize) -> toml::Value {
            toml::Value::Table(
                keys.iter()
                    .map(|k| (k.name.to_string(), sample(&k.shape, variant)))
                    .collect(),
            )
        }
        for variant in 0..2 {
            let doc = table(FILE_KEYS, variant);
            let text = toml::to_string(&doc).unwrap();
            let root: SNode = toml::from_str(&text).unwrap();
            let mut check = ShapeCheck {
                text: &text,
                errors: Vec::new(),
            };
            let value = check
                .check(root, &Shape::Table(FILE_KEYS), "", 0..0)
                .unwrap()
                .into_value();
            assert_eq!(check.errors, Vec::<String>::new());
            let raw: RawConfig = value.try_into().unwrap_or_else(|e| panic!("{e}\n{text}"));
            let oe = raw.venue[0].order_entry.clone().unwrap();
            oe.try_into::<crate::fix::FixOrderEntry>()
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
    }

    #[test]
    fn no_instruments_or_venues() {
        let e = errors("");
        assert_eq!(e, vec!["no [[instrument]] entries", "no [[venue]] entries"]);
    }

    #[test]
    fn duplicate_instrument() {
        let t = format!("{BTC}{BTC}{}", venue("v", "\"1.2.3.4:5\"", ""));
        one_error(&t, &["instrument \"BTC\": duplicate name"]);
    }

    #[test]
    fn empty_instrument_name() {
        let t = format!(
            "[[instrument]]\nname = \"\"\n{}",
            venue("v", "\"1.2.3.4:5\"", "")
        );
        one_error(&t, &["instrument #1: empty name"]);
    }

    #[test]
    fn venue_names() {
        let t = format!(
            "{BTC}{}{}",
            venue("v", "\"1.2.3.4:5\"", ""),
            venue("v", "\"1.2.3.4:6\"", "")
        );
        one_error(&t, &["venue \"v\": duplicate name"]);
        let t = format!("{BTC}{}", venue("", "\"1.2.3.4:5\"", ""));
        one_error(&t, &["venue #1: empty name"]);
        let t = format!("{BTC}{}", venue("a b", "\"1.2.3.4:5\"", ""));
        one_error(&t, &["venue \"a b\": name contains whitespace"]);
    }

    #[test]
    fn unknown_protocol() {
        let t = format!("{BTC}{}", venue("v", "\"1.2.3.4:5\"", "")).replace("binance_sbe", "fix");
        one_error(&t, &["venue \"v\": protocol \"fix\""]);
    }

    #[test]
    fn too_many_venues() {
        let mut t = BTC.to_string();
        for k in 0..9 {
            t += &venue(&format!("v{k}"), &format!("\"1.2.3.4:{}\"", k + 1), "");
        }
        one_error(&t, &["9 venues"]);
    }

    #[test]
    fn too_many_instruments() {
        let mut t = String::new();
        for k in 0..257 {
            t += &format!("[[instrument]]\nname = \"I{k}\"\n");
        }
        t += &venue("v", "\"1.2.3.4:5\"", "");
        one_error(&t, &["257 instruments"]);
    }

    #[test]
    fn too_many_destinations() {
        let list: Vec<String> = (1..=17).map(|p| format!("\"1.2.3.4:{p}\"")).collect();
        let t = format!("{BTC}{}", venue("v", &format!("[{}]", list.join(", ")), ""));
        one_error(&t, &["17 destinations"]);
    }

    #[test]
    fn destination_syntax() {
        let bad = [
            (
                "\"1.2.3:5\"",
                "destination \"1.2.3:5\": \"1.2.3\" is not an IPv4 address",
            ),
            (
                "\"1.2.3.4\"",
                "destination \"1.2.3.4\": expected A.B.C.D[/prefix]:port",
            ),
            ("\"1.2.3.256:5\"", "is not an IPv4 address"),
            ("\"1.2.3.4/x:5\"", "prefix \"x\" is not a number"),
            ("\"1.2.3.4/33:5\"", "prefix 33 is above 32"),
            ("\"1.2.3.4:0\"", "port 0"),
            ("\"1.2.3.4:65536\"", "port \"65536\""),
            ("\"1.2.3.4:\"", "port \"\""),
            ("[]", "no destination"),
            ("[5]", "destination 5: expected a string"),
            ("5", "expected a string or an array"),
        ];
        for (d, msg) in bad {
            let t = format!("{BTC}{}", venue("x", d, ""));
            one_error(&t, &["venue \"x\":", msg]);
        }
    }

    #[test]
    fn destinations_overlapping_between_venues() {
        let t = format!(
            "{BTC}{}{}",
            venue("a", "\"239.1.0.0/16:100\"", ""),
            venue("b", "\"239.1.2.3:100\"", "")
        );
        one_error(
            &t,
            &["venue \"b\": destination \"239.1.2.3:100\": overlaps destination \"239.1.0.0/16:100\" of venue \"a\""],
        );
        // Prefix 0 overlaps everything on the port.
        let t = format!(
            "{BTC}{}{}",
            venue("a", "\"0.0.0.0/0:100\"", ""),
            venue("b", "\"10.0.0.1:100\"", "")
        );
        one_error(&t, &["overlaps"]);
        // Different ports or disjoint prefixes are fine.
        let t = format!(
            "{BTC}{}{}",
            venue("a", "[\"239.1.0.0/16:100\", \"239.2.0.1:101\"]", ""),
            venue("b", "[\"239.1.2.3:101\", \"239.2.0.0/24:100\"]", "")
        );
        Config::from_toml_str(&t).unwrap();
    }

    #[test]
    fn destinations_duplicated_in_a_venue() {
        let t = format!("{BTC}{}", venue("a", "[\"1.2.3.4:5\", \"1.2.3.4:5\"]", ""));
        one_error(&t, &["venue \"a\": destination \"1.2.3.4:5\": duplicated"]);
        let t = format!(
            "{BTC}{}",
            venue("a", "[\"1.2.3.0/24:5\", \"1.2.3.9/24:5\"]", "")
        );
        one_error(&t, &["duplicated"]);
        // Nested within one venue is harmless.
        let t = format!(
            "{BTC}{}",
            venue("a", "[\"1.2.3.0/24:5\", \"1.2.3.9:5\"]", "")
        );
        Config::from_toml_str(&t).unwrap();
    }

    #[test]
    fn symbol_names() {
        let t = format!("{BTC}{}", venue("v", "\"1.2.3.4:5\"", "\"\" = \"BTC\""));
        one_error(&t, &["venue \"v\": symbol \"\": empty"]);
        let long = "X".repeat(33);
        let t = format!(
            "{BTC}{}",
            venue("v", "\"1.2.3.4:5\"", &format!("{long} = \"BTC\""))
        );
        one_error(&t, &["33 bytes"]);
        let ok = "X".repeat(32);
        let t = format!(
            "{BTC}{}",
            venue("v", "\"1.2.3.4:5\"", &format!("{ok} = \"BTC\""))
        );
        Config::from_toml_str(&t).unwrap();
    }

    #[test]
    fn symbol_unknown_instrument() {
        let t = format!("{BTC}{}", venue("v", "\"1.2.3.4:5\"", "ETHUSDT = \"ETH\""));
        one_error(
            &t,
            &["venue \"v\": symbol \"ETHUSDT\": unknown instrument \"ETH\""],
        );
    }

    #[test]
    fn edges() {
        for (e, ok) in [
            ("\"0.5\"", Some(500_000_000)),
            ("\"-1\"", Some(-1_000_000_000)),
            ("\"0.000000001\"", Some(1)),
            ("\"0.0000000001\"", None),
            ("\"abc\"", None),
            ("\"99999999999\"", None),
        ] {
            let t = format!("{BTC}edge = {e}\n{}", venue("v", "\"1.2.3.4:5\"", ""));
            match ok {
                Some(v) => assert_eq!(Config::from_toml_str(&t).unwrap().edge(0), v),
                None => one_error(&t, &["instrument \"BTC\": edge"]),
            }
        }
    }

    #[test]
    fn every_error_is_reported_together() {
        let t = format!(
            "{BTC}{BTC}[[instrument]]\nname = \"ETH\"\nedge = \"x\"\n{}{}",
            venue("a", "[\"1.2.3:5\", \"10.0.0.0/8:7\"]", "BTCUSDT = \"DOGE\""),
            venue("b b", "\"10.1.1.1:7\"", "")
        );
        let e = Config::from_toml_str(&t).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.errors.len(), 6, "{text}");
        assert_eq!(text.lines().count(), 6);
        for f in [
            "instrument \"BTC\": duplicate name",
            "instrument \"ETH\": edge \"x\"",
            "venue \"a\": destination \"1.2.3:5\"",
            "venue \"a\": symbol \"BTCUSDT\": unknown instrument \"DOGE\"",
            "venue \"b b\": name contains whitespace",
            "venue \"b b\": destination \"10.1.1.1:7\": overlaps destination \"10.0.0.0/8:7\" of venue \"a\"",
        ] {
            assert!(text.contains(f), "{text}\nlacks {f}");
        }
    }
}
