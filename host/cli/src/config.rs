//! The configuration file as the binary reads it: every subsystem's section in one file, checked
//! and validated together so that every problem is reported at once.
//!
//! Each subsystem owns its keys and their validation: detection ([`tickcross_core::config`]:
//! `[[instrument]]` name and edge, `[[venue]]` name, protocol, destination, symbols), trading
//! ([`tickcross_trading::config`]: `[trading]`, `[risk]`, `[rebalance]`, `[journal]`, an
//! instrument's assets, a venue's fees, balances, markets, sim) and FIX order entry
//! ([`tickcross_fix::config`]: a venue's `order_entry`). This module only merges their key
//! tables for the shape check and gathers their errors; `docs/CONFIG.md` lists every key.

use std::path::Path;

use tickcross_core::config::{self as detection, DetectionConfig};
use tickcross_core::program::Program;
use tickcross_core::settings::{self, Key, Shape};
use tickcross_fix::FixOrderEntry;
use tickcross_trading::config::{self as trading, TradeConfig};
use tickcross_trading::run::TradingInputs;

pub use tickcross_core::settings::ConfigError;

/// The keys of an `[[instrument]]`, by owner.
pub const INSTRUMENT_KEYS: &[&[Key]] = &[detection::INSTRUMENT_KEYS, trading::INSTRUMENT_KEYS];

/// The keys of a `[[venue]]`, by owner.
pub const VENUE_KEYS: &[&[Key]] = &[
    detection::VENUE_KEYS,
    trading::VENUE_KEYS,
    tickcross_fix::config::VENUE_KEYS,
];

/// The binary's own top-level keys: the entries whose keys several subsystems own.
pub(crate) const ENTRY_KEYS: &[Key] = &[
    Key::opt("instrument", Shape::Array(&Shape::Merged(INSTRUMENT_KEYS)))
        .doc("The instruments, in index order")
        .default_text("none; at least one is needed"),
    Key::opt("venue", Shape::Array(&Shape::Merged(VENUE_KEYS)))
        .doc("The venues, in index order")
        .default_text("none; at least one is needed"),
];

/// The top level of the file, by owner.
pub const FILE_KEYS: &[&[Key]] = &[ENTRY_KEYS, trading::FILE_KEYS];

/// A validated configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    detection: DetectionConfig,
    trade: Option<TradeConfig>,
    /// Per venue: its FIX order entry, when it has one.
    order_entry: Vec<Option<FixOrderEntry>>,
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
    /// together with every error of every subsystem's validation.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let checked = settings::check(text, &Shape::Merged(FILE_KEYS))?;
        let mut errors = checked.errors;
        let shape_ok = errors.is_empty();
        let detection = DetectionConfig::validate(&checked.value, &mut errors);
        let (trade, order_entry) = match &detection {
            Some(d) => (
                trading::validate_file(&checked.value, d, &mut errors),
                tickcross_fix::config::validate_file(&checked.value, d, shape_ok, &mut errors),
            ),
            None => (None, Vec::new()),
        };
        match detection {
            Some(detection) if errors.is_empty() => Ok(Config {
                detection,
                trade,
                order_entry,
            }),
            _ => Err(ConfigError { errors }),
        }
    }

    /// The detection part: instruments, venues and what both paths are programmed with.
    pub fn detection(&self) -> &DetectionConfig {
        &self.detection
    }

    /// The trading configuration, when the file has a `[trading]` section.
    pub fn trading(&self) -> Option<&TradeConfig> {
        self.trade.as_ref()
    }

    /// What a trading run is given.
    pub fn trading_inputs(&self) -> TradingInputs<'_> {
        TradingInputs {
            detection: &self.detection,
            trade: self.trade.as_ref(),
        }
    }

    /// Venue `k`'s FIX order entry, when it has one.
    pub fn order_entry(&self, k: usize) -> Option<&FixOrderEntry> {
        self.order_entry.get(k).and_then(Option::as_ref)
    }

    /// What both detection paths are programmed with.
    pub fn program(&self) -> Program {
        self.detection.program()
    }

    pub fn n_venues(&self) -> usize {
        self.detection.n_venues()
    }

    pub fn venue_name(&self, index: usize) -> Option<&str> {
        self.detection.venue_name(index)
    }

    pub fn instrument_name(&self, index: usize) -> Option<&str> {
        self.detection.instrument_name(index)
    }

    pub fn instrument_index(&self, name: &str) -> Option<usize> {
        self.detection.instrument_index(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Config::from_toml_str(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e.errors,
        }
    }

    fn venue(name: &str, dest: &str, symbols: &str) -> String {
        format!(
            "[[venue]]\nname = \"{name}\"\nprotocol = \"binance_sbe\"\ndestination = {dest}\nsymbols = {{ {symbols} }}\n"
        )
    }

    const BTC: &str = "[[instrument]]\nname = \"BTC\"\n";

    /// Three Binance-style venues trading BTC/USDT (as the trading crate's unit tests use).
    const THREE_VENUES: &str = include_str!("../../trading/src/testcfg_three_venues.toml");

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
        let errs = errors(&THREE_VENUES.replacen(
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

    /// Every key of the merged shape tables, with a value of its shape, passes the shape check
    /// and deserialises into every subsystem's structs: the tables and the structs are in step
    /// (a key the structs gained and the tables lack is refused as unknown by every test that
    /// uses it; one the tables have and a structure refuses is an "internal:" error here).
    #[test]
    fn shape_tables_match_the_serde_structs() {
        fn sample(shape: &Shape, variant: usize) -> toml::Value {
            match shape {
                Shape::Str | Shape::Dec => toml::Value::String("1".into()),
                Shape::Int { .. } => toml::Value::Integer(1),
                Shape::Bool => toml::Value::Boolean(true),
                Shape::Any => toml::Value::Integer(1),
                Shape::Table(keys) => table(&[keys], variant),
                Shape::Merged(lists) => table(lists, variant),
                Shape::Map(each) => toml::Value::Table(
                    [("K".to_string(), sample(each, variant))]
                        .into_iter()
                        .collect(),
                ),
                Shape::Array(each) => toml::Value::Array(vec![sample(each, variant)]),
                Shape::Tagged { tag, variants } => {
                    let (name, keys) = variants[variant % variants.len()];
                    let mut t = table(&[keys], variant);
                    t.as_table_mut()
                        .unwrap()
                        .insert(tag.to_string(), toml::Value::String(name.into()));
                    t
                }
            }
        }
        fn table(lists: &[&[Key]], variant: usize) -> toml::Value {
            toml::Value::Table(
                lists
                    .iter()
                    .flat_map(|l| l.iter())
                    .map(|k| (k.name.to_string(), sample(&k.shape, variant)))
                    .collect(),
            )
        }
        for variant in 0..2 {
            let text = toml::to_string(&table(FILE_KEYS, variant)).unwrap();
            let checked = settings::check(&text, &Shape::Merged(FILE_KEYS)).unwrap();
            assert_eq!(checked.errors, Vec::<String>::new());
            let mut errors = Vec::new();
            let d = DetectionConfig::validate(&checked.value, &mut errors).unwrap();
            trading::validate_file(&checked.value, &d, &mut errors);
            let oe = tickcross_fix::config::validate_file(&checked.value, &d, true, &mut errors);
            assert!(oe[0].is_some(), "{errors:#?}\n{text}");
            let defects: Vec<&String> = errors
                .iter()
                .filter(|e| e.starts_with("internal:") || e.contains(": order_entry: "))
                .collect();
            assert!(defects.is_empty(), "{defects:#?}\n{text}");
        }
    }

    #[test]
    fn the_venue_key_is_wired_into_the_config_and_validated_with_the_rest() {
        use tickcross_trading::config::OrderEntry;
        let base = THREE_VENUES;
        let fix = base.replacen(
            "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }",
            "markets = { BTCUSDT = { tick_size = \"0.01\", lot_size = \"0.001\" } }\n\
             order_entry = { protocol = \"fix44\", host = \"127.0.0.1\", port = 9880, \
             sender_comp_id = \"TC\", target_comp_id = \"ACC\", \
             auth = { kind = \"plain\", username = \"u\", password_env = \"PW\" } }",
            1,
        );
        let cfg = Config::from_toml_str(&fix).unwrap();
        let t = cfg.trading().unwrap();
        assert!(
            matches!(&t.venues[0].order_entry, OrderEntry::External { protocol } if protocol == "fix44")
        );
        assert_eq!(cfg.order_entry(0).map(|oe| oe.port), Some(9880));
        assert!(cfg.order_entry(1).is_none());
        assert_eq!(t.venues[1].order_entry, OrderEntry::Simulated);

        let bad = fix
            .replace("port = 9880", "port = 0")
            .replacen(
                "fees = { maker_bps = \"0\", taker_bps = \"10\" }",
                "fees = { maker_bps = \"0\", taker_bps = \"10\" }\nsim = { latency_us = 5 }",
                1,
            )
            .replace("min_profit = \"0\"", "min_profit = \"zero\"");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        for needle in [
            "venue \"a\": order_entry.port 0",
            "venue \"a\": sim is for the simulated venue",
            "min_profit \"zero\"",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in {e}");
        }
    }
}
