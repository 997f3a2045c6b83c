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
pub use crate::settings::ConfigError;
use crate::settings::{self, Key, Shape};

pub const MAX_VENUES: usize = params::N_VENUES as usize;
pub const MAX_INSTRUMENTS: usize = params::N_INSTRUMENTS as usize;
pub const MAX_FILTERS: usize = params::N_FILTERS as usize;
pub const MAX_SYMBOL_BYTES: usize = params::SYM_NAME_BYTES as usize;
/// Capacity of the hardware symbol table (two-way cuckoo hash).
pub const MAX_SYMBOLS: usize = (params::SYM_WAYS * params::SYM_SLOTS) as usize;

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

/// A validated detection configuration: what both detection paths are programmed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionConfig {
    instruments: Vec<Instrument>,
    venues: Vec<Venue>,
}

// The serde structs of the detection keys. The file's shape (unknown keys, types, required keys)
// is checked first, against the key tables, and parts of the wrong shape dropped: so required
// keys are `Option`s here (None: reported already). Other subsystems' keys in the same tables
// (a venue's fees, its order entry) are theirs to read and ignored here.
#[derive(Deserialize)]
struct RawDetection {
    #[serde(default)]
    instrument: Vec<RawInstrument>,
    #[serde(default)]
    venue: Vec<RawVenue>,
}

#[derive(Deserialize)]
struct RawInstrument {
    name: Option<String>,
    #[serde(default)]
    edge: Option<String>,
}

#[derive(Deserialize)]
struct RawVenue {
    name: Option<String>,
    protocol: Option<String>,
    // A string or an array of strings; checked by hand so that a wrong shape is reported with
    // the other errors, and with a clearer message than an untagged enum gives.
    destination: Option<toml::Value>,
    #[serde(default)]
    symbols: BTreeMap<String, String>,
}

/// The detection keys of an `[[instrument]]`.
pub const INSTRUMENT_KEYS: &[Key] = &[
    Key::req("name", Shape::Str)
        .doc("Unique name; venues' symbols map to it. Instrument indexes follow the file order"),
    Key::opt("edge", Shape::Dec)
        .doc("An event needs bid - ask above this (price units, exact decimal)")
        .default_lit("\"0\""),
];

/// The detection keys of a `[[venue]]`.
pub const VENUE_KEYS: &[Key] = &[
    Key::req("name", Shape::Str)
        .doc("Unique name, no whitespace. Venue indexes follow the file order"),
    Key::req("protocol", Shape::Str)
        .doc("Market-data protocol: \"binance_sbe\" or \"deribit_mcast\""),
    Key::req("destination", Shape::Any)
        .ty("string or array of strings")
        .doc(
            "UDP destination(s) of the venue's feed, \"A.B.C.D[/prefix]:port\"; list feed B's \
             too for A/B arbitration (docs/PIPELINE.md section 4a)",
        ),
    Key::opt("symbols", Shape::Map(&Shape::Str))
        .each("symbol")
        .doc("Venue symbol to instrument name: the symbols detection follows")
        .default_text("no symbols"),
];

/// A file with detection keys only.
pub const FILE_KEYS: &[Key] = &[
    Key::opt("instrument", Shape::Array(&Shape::Table(INSTRUMENT_KEYS)))
        .doc("The instruments (at least one)")
        .default_text("none; at least one is needed"),
    Key::opt("venue", Shape::Array(&Shape::Table(VENUE_KEYS)))
        .doc("The venues (at least one)")
        .default_text("none; at least one is needed"),
];

impl DetectionConfig {
    /// Reads and validates a file with detection keys only (as `tickcross bridge` writes).
    pub fn load(path: impl AsRef<Path>) -> Result<DetectionConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::one(format!("{}: {e}", path.display())))?;
        DetectionConfig::from_toml_str(&text)
    }

    /// Parses and validates a file with detection keys only; every problem is reported: a TOML
    /// syntax error alone (nothing after it can be read), else every unknown key, wrong type and
    /// missing key together with every error of the validation. A file with trading or order
    /// entry keys is read by the binary's configuration, which merges every subsystem's keys.
    pub fn from_toml_str(text: &str) -> Result<DetectionConfig, ConfigError> {
        let checked = settings::check(text, &Shape::Table(FILE_KEYS))?;
        let mut errors = checked.errors;
        let cfg = DetectionConfig::validate(&checked.value, &mut errors);
        match cfg {
            Some(cfg) if errors.is_empty() => Ok(cfg),
            _ => Err(ConfigError { errors }),
        }
    }

    /// Validates the detection keys of a shape-checked file, adding every problem to
    /// `errors`. The configuration as far as it could be read: check `errors` before use.
    pub fn validate(value: &toml::Value, errors: &mut Vec<String>) -> Option<DetectionConfig> {
        let raw: RawDetection = settings::take(value, errors)?;
        let (instruments, instrument_index) = Self::validate_instruments(&raw.instrument, errors);
        if raw.venue.is_empty() {
            errors.push("no [[venue]] entries".to_string());
        }
        if raw.venue.len() > MAX_VENUES {
            errors.push(format!(
                "{} venues: at most {MAX_VENUES} are supported",
                raw.venue.len()
            ));
        }
        let mut venue_names: HashMap<&str, usize> = HashMap::new();
        let venues: Vec<Venue> = raw
            .venue
            .iter()
            .enumerate()
            .map(|(k, rv)| Self::validate_venue(k, rv, &instrument_index, &mut venue_names, errors))
            .collect();
        let n_symbols = raw.venue.iter().map(|v| v.symbols.len()).sum();
        Self::check_capacity(&venues, n_symbols, errors);
        Self::check_overlaps(&venues, errors);
        Some(DetectionConfig {
            instruments,
            venues,
        })
    }

    /// The `[[instrument]]`s, and each valid name's index.
    fn validate_instruments<'a>(
        raw: &'a [RawInstrument],
        errors: &mut Vec<String>,
    ) -> (Vec<Instrument>, HashMap<&'a str, usize>) {
        if raw.is_empty() {
            errors.push("no [[instrument]] entries".to_string());
        }
        if raw.len() > MAX_INSTRUMENTS {
            errors.push(format!(
                "{} instruments: at most {MAX_INSTRUMENTS} are supported",
                raw.len()
            ));
        }
        let mut instruments = Vec::with_capacity(raw.len());
        let mut instrument_index: HashMap<&str, usize> = HashMap::new();
        for (k, ri) in raw.iter().enumerate() {
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
        (instruments, instrument_index)
    }

    /// `[[venue]]` number `k`: its name (recorded in `venue_names`), protocol, destinations and
    /// symbols.
    fn validate_venue<'a>(
        k: usize,
        rv: &'a RawVenue,
        instrument_index: &HashMap<&str, usize>,
        venue_names: &mut HashMap<&'a str, usize>,
        errors: &mut Vec<String>,
    ) -> Venue {
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
        let destinations = Self::validate_destinations(rv.destination.as_ref(), &here, errors);
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
        Venue {
            name: name.to_string(),
            protocol,
            destinations,
            symbols,
        }
    }

    /// A venue's `destination`: a string or an array of strings, each parsed.
    fn validate_destinations(
        value: Option<&toml::Value>,
        here: &str,
        errors: &mut Vec<String>,
    ) -> Vec<Destination> {
        let texts: Vec<&str> = match value {
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
        destinations
    }

    /// The card's tables: destination filters and symbols in total.
    fn check_capacity(venues: &[Venue], n_symbols: usize, errors: &mut Vec<String>) {
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
    }

    /// Overlapping destinations would make the venue of a frame depend on filter order.
    fn check_overlaps(venues: &[Venue], errors: &mut Vec<String>) {
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
        match DetectionConfig::from_toml_str(text) {
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
        let c = DetectionConfig::from_toml_str(GOOD).unwrap();
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
        assert_eq!(DetectionConfig::load(&path).unwrap().n_venues(), 2);
        std::fs::remove_file(&path).unwrap();
        let e = DetectionConfig::load(&path).unwrap_err();
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
        DetectionConfig::from_toml_str(&t).unwrap();
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
        DetectionConfig::from_toml_str(&t).unwrap();
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
        DetectionConfig::from_toml_str(&t).unwrap();
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
                Some(v) => assert_eq!(DetectionConfig::from_toml_str(&t).unwrap().edge(0), v),
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
        let e = DetectionConfig::from_toml_str(&t).unwrap_err();
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
