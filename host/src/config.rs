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
    name: String,
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
    name: String,
    protocol: String,
    // A string or an array of strings; checked by hand so that a wrong shape is reported with
    // the other errors, and with a clearer message than an untagged enum gives.
    destination: toml::Value,
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
    #[serde(default)]
    order_entry: Option<crate::fix::FixOrderEntry>,
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

    /// Parses and validates a configuration; every problem is reported.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().replace('\n', " ");
            ConfigError::one(match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    format!("parse error at line {line}, column {col}: {msg}")
                }
                None => format!("parse error: {msg}"),
            })
        })?;
        Config::validate(raw)
    }

    fn validate(mut raw: RawConfig) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();

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
            let here = format!("instrument {:?}", ri.name);
            if ri.name.is_empty() {
                errors.push(format!("instrument #{}: empty name", k + 1));
            } else if instrument_index.insert(&ri.name, k).is_some() {
                errors.push(format!("{here}: duplicate name"));
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
                name: ri.name.clone(),
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
            let here = format!("venue {:?}", rv.name);
            if rv.name.is_empty() {
                errors.push(format!("venue #{}: empty name", k + 1));
            } else if rv.name.chars().any(char::is_whitespace) {
                errors.push(format!("{here}: name contains whitespace"));
            } else if venue_names.insert(&rv.name, k).is_some() {
                errors.push(format!("{here}: duplicate name"));
            }

            let protocol = match rv.protocol.as_str() {
                "binance_sbe" => Protocol::BinanceSbe,
                "deribit_mcast" => Protocol::DeribitMcast,
                other => {
                    errors.push(format!(
                        "{here}: protocol {other:?}: expected \"binance_sbe\" or \"deribit_mcast\""
                    ));
                    Protocol::BinanceSbe
                }
            };

            let texts: Vec<&str> = match &rv.destination {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(items) => {
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
                other => {
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
                name: rv.name.clone(),
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
                order_entry: rv.order_entry.take(),
            })
            .collect();
        let view = tc::DetectionView {
            instrument_names: raw.instrument.iter().map(|i| i.name.as_str()).collect(),
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
        one_error("[[instrument]]\nname = \"BTC\"\nname = 3\n", &["line 3"]);
        one_error(
            "[[instrument]]\nname = \"BTC\"\ncolour = \"red\"\n",
            &["line 3", "colour"],
        );
        one_error(
            "[[venue]]\nname = \"x\"\nprotocol = \"binance_sbe\"\n",
            &["destination"],
        );
        one_error("[[instrument]]\nname = \"BTC\"\nedge = 0.5\n", &["line 3"]);
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
