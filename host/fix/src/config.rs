//! A venue's `order_entry` key: orders go over a FIX 4.4 session instead of the simulated venue.
//!
//! ```toml
//! [[venue]]
//! name = "spot"
//! # ... detection and trading keys (fees, balances, markets; no `sim`) ...
//! [venue.order_entry]              # or order_entry = { ... } on one line
//! protocol = "fix44"
//! host = "127.0.0.1"
//! port = 9880
//! sender_comp_id = "TICKCROSS"
//! target_comp_id = "VENUE"
//! auth = { kind = "plain", username = "alice", password_env = "VENUE_FIX_PASSWORD" }
//! dictionary = "fix44"             # or "binance_spot"
//! heartbeat_s = 30
//! seq_store = "fix-store/spot"     # directory: sequence numbers and sent messages
//! store_sync = "never"             # or "always" (fdatasync every store write)
//! reset_on_logon = false           # send ResetSeqNumFlag(141)=Y (binance_spot: always)
//! reconnect = { initial_ms = 100, max_ms = 10000 }   # doubling backoff between attempts
//! logon_timeout_s = 10
//! cl_ord_id_prefix = ""            # ClOrdID = prefix + the engine's order id
//! resend_max_age_ms = 5000         # orders older than this are gap-filled, not resent
//! ```
//!
//! `auth` is one of
//! * `{ kind = "plain", username = "..." | username_env = "VAR", password_env = "VAR" | password_file = "PATH" }`
//! * `{ kind = "binance_ed25519", api_key_env = "VAR" | api_key_file = "PATH", private_key_file = "PATH" | private_key_env = "VAR" }`
//!
//! Only names of variables and files are in the config; the secrets are read at start-up.

use std::path::PathBuf;

use serde::Deserialize;

use super::auth::{AuthSource, SecretSource, UsernameSource};
use super::dictionary::Dictionary;
use tickcross_core::config::DetectionConfig;
use tickcross_core::settings::{self, Key, Shape, I64, U64};

/// The shape of `order_entry`, checked (unknown keys, types, required keys) with the rest of the
/// file before [`FixOrderEntry`] is deserialised; keep the two in step.
pub const ORDER_ENTRY_KEYS: &[Key] = &[
    Key::req("protocol", Shape::Str).doc("Order-entry protocol: \"fix44\""),
    Key::req("host", Shape::Str).doc("Host of the venue's FIX acceptor"),
    Key::req("port", I64).doc("Its TCP port, 1..=65535"),
    Key::req("sender_comp_id", Shape::Str).doc("SenderCompID(49): who we are"),
    Key::req("target_comp_id", Shape::Str).doc("TargetCompID(56): the venue"),
    Key::req(
        "auth",
        Shape::Tagged {
            tag: "kind",
            variants: &[
                ("plain", PLAIN_AUTH_KEYS),
                ("binance_ed25519", ED25519_AUTH_KEYS),
            ],
        },
    )
    .doc("How the Logon authenticates, by `kind`; only names of variables and files, read at start-up"),
    Key::opt("dictionary", Shape::Str)
        .doc("FIX dialect: \"fix44\" or \"binance_spot\"")
        .default_lit("\"fix44\""),
    Key::opt("heartbeat_s", U64)
        .doc("HeartBtInt(108), seconds (the dictionary bounds it)")
        .default_num(HEARTBEAT_S),
    Key::opt("seq_store", Shape::Str)
        .doc("Directory of the session's sequence numbers and sent messages")
        .default_text("fix-store/<venue>-<sender_comp_id>-<target_comp_id>"),
    Key::opt("store_sync", Shape::Str)
        .doc("\"always\": fdatasync every store write; \"never\": survives a crash of the process, not of the machine")
        .default_lit("\"never\""),
    Key::opt("reset_on_logon", Shape::Bool)
        .doc("Send ResetSeqNumFlag(141)=Y on Logon (binance_spot: always)")
        .default_lit("false"),
    Key::opt("reconnect", Shape::Table(RECONNECT_KEYS))
        .doc("Doubling backoff between connection attempts")
        .default_text("initial_ms = 100, max_ms = 10000"),
    Key::opt("logon_timeout_s", U64)
        .doc("A Logon not answered within this fails (at least 1)")
        .default_num(LOGON_TIMEOUT_S),
    Key::opt("cl_ord_id_prefix", Shape::Str)
        .doc("ClOrdID(11) = this prefix (printable, no digits) + the engine's order id")
        .default_lit("\"\""),
    Key::opt("resend_max_age_ms", U64)
        .doc("On a resend request, orders older than this are gap-filled, not resent (at least 1)")
        .default_text("every order is resent"),
];

// Defaults of optional keys: stated in the tables (docs/CONFIG.md), used by `settings`.
const HEARTBEAT_S: u64 = 30;
const LOGON_TIMEOUT_S: u64 = 10;
const RECONNECT_INITIAL_MS: u64 = 100;
const RECONNECT_MAX_MS: u64 = 10_000;

const RECONNECT_KEYS: &[Key] = &[
    Key::req("initial_ms", U64).doc("First wait (at least 1)"),
    Key::req("max_ms", U64).doc("Longest wait (at least initial_ms)"),
];

const PLAIN_AUTH_KEYS: &[Key] = &[
    Key::opt("username", Shape::Str)
        .doc("Username(553) itself")
        .default_text("none; this or username_env"),
    Key::opt("username_env", Shape::Str)
        .doc("Environment variable holding the username")
        .default_text("none; this or username"),
    Key::opt("password_env", Shape::Str)
        .doc("Environment variable holding Password(554)")
        .default_text("none; this or password_file"),
    Key::opt("password_file", Shape::Str)
        .doc("File holding the password")
        .default_text("none; this or password_env"),
];

const ED25519_AUTH_KEYS: &[Key] = &[
    Key::opt("api_key_env", Shape::Str)
        .doc("Environment variable holding the API key")
        .default_text("none; this or api_key_file"),
    Key::opt("api_key_file", Shape::Str)
        .doc("File holding the API key")
        .default_text("none; this or api_key_env"),
    Key::opt("private_key_file", Shape::Str)
        .doc("PEM file of the Ed25519 key the Logon is signed with")
        .default_text("none; this or private_key_env"),
    Key::opt("private_key_env", Shape::Str)
        .doc("Environment variable holding that PEM")
        .default_text("none; this or private_key_file"),
];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixOrderEntry {
    pub protocol: String,
    pub host: String,
    pub port: i64,
    pub sender_comp_id: String,
    pub target_comp_id: String,
    pub auth: FixAuth,
    #[serde(default)]
    pub dictionary: Option<String>,
    #[serde(default)]
    pub heartbeat_s: Option<u64>,
    #[serde(default)]
    pub seq_store: Option<String>,
    #[serde(default)]
    pub store_sync: Option<String>,
    #[serde(default)]
    pub reset_on_logon: Option<bool>,
    #[serde(default)]
    pub reconnect: Option<FixReconnect>,
    #[serde(default)]
    pub logon_timeout_s: Option<u64>,
    #[serde(default)]
    pub cl_ord_id_prefix: Option<String>,
    #[serde(default)]
    pub resend_max_age_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixReconnect {
    pub initial_ms: u64,
    pub max_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FixAuth {
    Plain {
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        username_env: Option<String>,
        #[serde(default)]
        password_env: Option<String>,
        #[serde(default)]
        password_file: Option<String>,
    },
    BinanceEd25519 {
        #[serde(default)]
        api_key_env: Option<String>,
        #[serde(default)]
        api_key_file: Option<String>,
        #[serde(default)]
        private_key_file: Option<String>,
        #[serde(default)]
        private_key_env: Option<String>,
    },
}

/// Whether the store fdatasyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreSync {
    /// fdatasync after every write of the sequence numbers or a sent message (survives power
    /// loss; costs a disk flush per message).
    Always,
    /// write(2) only: survives a crash of the process, not of the machine.
    Never,
}

/// The validated settings of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixSettings {
    pub host: String,
    pub port: u16,
    pub sender_comp_id: String,
    pub target_comp_id: String,
    pub auth: AuthSource,
    pub dictionary: Dictionary,
    pub heartbeat_s: u64,
    pub seq_store: PathBuf,
    pub store_sync: StoreSync,
    pub reset_on_logon: bool,
    pub reconnect_initial_ms: u64,
    pub reconnect_max_ms: u64,
    pub logon_timeout_s: u64,
    pub cl_ord_id_prefix: String,
    pub resend_max_age_ms: Option<u64>,
}

/// The order-entry key of a `[[venue]]`: when given, the venue's orders go over FIX 4.4.
pub const VENUE_KEYS: &[Key] = &[Key::opt("order_entry", Shape::Table(ORDER_ENTRY_KEYS))
    .doc("Send this venue's orders over FIX 4.4 instead of the simulated venue")
    .default_text("the simulated venue")];

/// Each venue's `order_entry` of a shape-checked file (None: the venue has none, or one of the
/// wrong shape), validated, every problem added to `errors` and named by the venue as the
/// detection part names it. `shape_ok`: the shape check found nothing wrong in the file (an
/// `order_entry` that still does not deserialise is then a defect of [`ORDER_ENTRY_KEYS`]).
pub fn validate_file(
    value: &toml::Value,
    detection: &DetectionConfig,
    shape_ok: bool,
    errors: &mut Vec<String>,
) -> Vec<Option<FixOrderEntry>> {
    #[derive(Deserialize)]
    struct RawFile {
        #[serde(default)]
        venue: Vec<RawVenue>,
    }
    #[derive(Deserialize)]
    struct RawVenue {
        #[serde(default)]
        order_entry: Option<toml::Value>,
    }
    let Some(raw) = settings::take::<RawFile>(value, errors) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(raw.venue.len());
    for (k, v) in raw.venue.into_iter().enumerate() {
        let Some(table) = v.order_entry else {
            out.push(None);
            continue;
        };
        let here = match detection.venue_name(k) {
            Some(n) if !n.is_empty() => format!("venue {n:?}"),
            _ => format!("venue #{}", k + 1),
        };
        match table.try_into::<FixOrderEntry>() {
            Ok(oe) => {
                oe.validate(&here, errors);
                out.push(Some(oe));
            }
            Err(e) => {
                // a missing or wrongly shaped key was reported by the shape check
                if shape_ok {
                    errors.push(format!("{here}: order_entry: {}", e.message().trim_end()));
                }
                out.push(None);
            }
        }
    }
    out
}

fn valid_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// An `auth` key naming an environment variable must be a valid name.
fn check_env_name(h: &str, what: &str, v: &Option<String>, errors: &mut Vec<String>) {
    if let Some(v) = v {
        if !valid_env_name(v) {
            errors.push(format!(
                "{h}.auth.{what} {v:?} is not an environment variable name"
            ));
        }
    }
}

/// Exactly one of two `auth` keys (two sources of one secret).
fn one_source(
    h: &str,
    a: (&str, &Option<String>),
    b: (&str, &Option<String>),
    errors: &mut Vec<String>,
) {
    match (a.1, b.1) {
        (None, None) => errors.push(format!("{h}.auth: needs {} or {}", a.0, b.0)),
        (Some(_), Some(_)) => errors.push(format!("{h}.auth: {} and {} both given", a.0, b.0)),
        _ => {}
    }
}

impl FixOrderEntry {
    /// Checks every key, adding one message per problem to `errors` (prefixed by `here`).
    pub fn validate(&self, here: &str, errors: &mut Vec<String>) {
        let h = format!("{here}: order_entry");
        let dict = self.validate_connection(&h, errors);
        self.validate_store(&h, dict, errors);
        self.validate_timers(&h, errors);
        self.validate_cl_ord_id_prefix(&h, dict, errors);
        self.validate_auth(&h, dict, errors);
    }

    /// Where and how to connect: protocol, host, port, dictionary (returned when known), the
    /// CompIDs and the heartbeat.
    fn validate_connection(&self, h: &str, errors: &mut Vec<String>) -> Option<Dictionary> {
        if self.protocol != "fix44" {
            errors.push(format!(
                "{h}.protocol {:?}: expected \"fix44\"",
                self.protocol
            ));
        }
        if self.host.trim().is_empty() {
            errors.push(format!("{h}.host is empty"));
        }
        if !(1..=65535).contains(&self.port) {
            errors.push(format!("{h}.port {} is not in 1..=65535", self.port));
        }
        let dict = match self.dictionary.as_deref() {
            None => Some(Dictionary::Fix44),
            Some(d) => match Dictionary::from_name(d) {
                Some(d) => Some(d),
                None => {
                    errors.push(format!(
                        "{h}.dictionary {d:?}: expected \"fix44\" or \"binance_spot\""
                    ));
                    None
                }
            },
        };
        for (what, v) in [
            ("sender_comp_id", &self.sender_comp_id),
            ("target_comp_id", &self.target_comp_id),
        ] {
            if !printable(v) {
                errors.push(format!(
                    "{h}.{what} {v:?}: must be 1 or more printable ASCII characters, no spaces"
                ));
            } else if let Some(d) = dict {
                if let Err(e) = d.check_comp_id(what, v) {
                    errors.push(format!("{h}.{what} {v:?}: {e}"));
                }
            }
        }
        if let Some(hb) = self.heartbeat_s {
            let range = dict.map_or(1..=3600, |d| d.heartbeat_range());
            if !range.contains(&hb) {
                errors.push(format!(
                    "{h}.heartbeat_s {hb}: must be in {}..={} for this dictionary",
                    range.start(),
                    range.end()
                ));
            }
        }
        dict
    }

    /// The sequence number store and whether a Logon resets it.
    fn validate_store(&self, h: &str, dict: Option<Dictionary>, errors: &mut Vec<String>) {
        if self
            .seq_store
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            errors.push(format!("{h}.seq_store is empty"));
        }
        if let Some(s) = self.store_sync.as_deref() {
            if s != "always" && s != "never" {
                errors.push(format!(
                    "{h}.store_sync {s:?}: expected \"always\" or \"never\""
                ));
            }
        }
        if dict == Some(Dictionary::BinanceSpot) && self.reset_on_logon == Some(false) {
            errors.push(format!(
                "{h}.reset_on_logon = false: Binance requires ResetSeqNumFlag(141)=Y on every Logon"
            ));
        }
    }

    /// Reconnect backoff, logon timeout, resend age.
    fn validate_timers(&self, h: &str, errors: &mut Vec<String>) {
        if let Some(r) = &self.reconnect {
            if r.initial_ms == 0 || r.max_ms < r.initial_ms {
                errors.push(format!(
                    "{h}.reconnect: need 1 <= initial_ms <= max_ms (got {} and {})",
                    r.initial_ms, r.max_ms
                ));
            }
        }
        if self.logon_timeout_s == Some(0) {
            errors.push(format!("{h}.logon_timeout_s must be at least 1"));
        }
        if self.resend_max_age_ms == Some(0) {
            errors.push(format!(
                "{h}.resend_max_age_ms must be at least 1 (leave it out to resend every order)"
            ));
        }
    }

    /// The ClOrdID prefix: the order id follows it, and the whole obeys the dictionary.
    fn validate_cl_ord_id_prefix(
        &self,
        h: &str,
        dict: Option<Dictionary>,
        errors: &mut Vec<String>,
    ) {
        let Some(p) = &self.cl_ord_id_prefix else {
            return;
        };
        let ok = match dict {
            Some(d) => d.valid_cl_ord_id(&format!("{p}{}", u64::MAX)),
            None => true,
        };
        if !p.is_empty() && (!printable(p) || p.bytes().any(|b| b.is_ascii_digit())) {
            errors.push(format!(
                "{h}.cl_ord_id_prefix {p:?}: printable ASCII without digits (the order id follows it)"
            ));
        } else if !ok {
            errors.push(format!(
                "{h}.cl_ord_id_prefix {p:?}: with a 20-digit order id the ClOrdID breaks the dictionary's rule ({})",
                dict.map_or("", |d| d.cl_ord_id_rule())
            ));
        }
    }

    /// `auth`: each secret from exactly one source, environment variable names valid, the kind
    /// the dictionary needs.
    fn validate_auth(&self, h: &str, dict: Option<Dictionary>, errors: &mut Vec<String>) {
        match &self.auth {
            FixAuth::Plain {
                username,
                username_env,
                password_env,
                password_file,
            } => {
                one_source(
                    h,
                    ("username", username),
                    ("username_env", username_env),
                    errors,
                );
                one_source(
                    h,
                    ("password_env", password_env),
                    ("password_file", password_file),
                    errors,
                );
                check_env_name(h, "username_env", username_env, errors);
                check_env_name(h, "password_env", password_env, errors);
                if username.as_deref().is_some_and(|u| !printable(u)) {
                    errors.push(format!("{h}.auth.username must be printable ASCII"));
                }
                if dict == Some(Dictionary::BinanceSpot) {
                    errors.push(format!(
                        "{h}.auth: Binance needs kind = \"binance_ed25519\" (its Logon is signed)"
                    ));
                }
            }
            FixAuth::BinanceEd25519 {
                api_key_env,
                api_key_file,
                private_key_file,
                private_key_env,
            } => {
                one_source(
                    h,
                    ("api_key_env", api_key_env),
                    ("api_key_file", api_key_file),
                    errors,
                );
                one_source(
                    h,
                    ("private_key_file", private_key_file),
                    ("private_key_env", private_key_env),
                    errors,
                );
                check_env_name(h, "api_key_env", api_key_env, errors);
                check_env_name(h, "private_key_env", private_key_env, errors);
            }
        }
    }

    /// The settings, with defaults; call after `validate` found nothing wrong.
    pub fn settings(&self, venue_name: &str) -> FixSettings {
        let dictionary = self
            .dictionary
            .as_deref()
            .and_then(Dictionary::from_name)
            .unwrap_or(Dictionary::Fix44);
        let src = |env: &Option<String>, file: &Option<String>| match (env, file) {
            (Some(e), _) => SecretSource::Env(e.clone()),
            (None, Some(f)) => SecretSource::File(PathBuf::from(f)),
            (None, None) => SecretSource::Env(String::new()),
        };
        let auth = match &self.auth {
            FixAuth::Plain {
                username,
                username_env,
                password_env,
                password_file,
            } => AuthSource::Plain {
                username: match username {
                    Some(u) => UsernameSource::Literal(u.clone()),
                    None => UsernameSource::From(src(username_env, &None)),
                },
                password: src(password_env, password_file),
            },
            FixAuth::BinanceEd25519 {
                api_key_env,
                api_key_file,
                private_key_file,
                private_key_env,
            } => AuthSource::BinanceEd25519 {
                api_key: src(api_key_env, api_key_file),
                private_key: src(private_key_env, private_key_file),
            },
        };
        FixSettings {
            host: self.host.clone(),
            port: u16::try_from(self.port).unwrap_or(0),
            sender_comp_id: self.sender_comp_id.clone(),
            target_comp_id: self.target_comp_id.clone(),
            auth,
            dictionary,
            heartbeat_s: self.heartbeat_s.unwrap_or(HEARTBEAT_S),
            seq_store: PathBuf::from(self.seq_store.clone().unwrap_or_else(|| {
                format!(
                    "fix-store/{venue_name}-{}-{}",
                    self.sender_comp_id, self.target_comp_id
                )
            })),
            store_sync: match self.store_sync.as_deref() {
                Some("always") => StoreSync::Always,
                _ => StoreSync::Never,
            },
            reset_on_logon: dictionary.requires_reset_on_logon()
                || self.reset_on_logon.unwrap_or(false),
            reconnect_initial_ms: self
                .reconnect
                .as_ref()
                .map_or(RECONNECT_INITIAL_MS, |r| r.initial_ms),
            reconnect_max_ms: self
                .reconnect
                .as_ref()
                .map_or(RECONNECT_MAX_MS, |r| r.max_ms),
            logon_timeout_s: self.logon_timeout_s.unwrap_or(LOGON_TIMEOUT_S),
            cl_ord_id_prefix: self.cl_ord_id_prefix.clone().unwrap_or_default(),
            resend_max_age_ms: self.resend_max_age_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<FixOrderEntry, String> {
        #[derive(Deserialize)]
        struct W {
            order_entry: FixOrderEntry,
        }
        toml::from_str::<W>(s)
            .map(|w| w.order_entry)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn a_full_entry_parses_and_validates() {
        let oe = parse(
            r#"[order_entry]
               protocol = "fix44"
               host = "127.0.0.1"
               port = 9880
               sender_comp_id = "TC"
               target_comp_id = "ACC"
               auth = { kind = "plain", username = "alice", password_env = "PW" }
               heartbeat_s = 5
               seq_store = "/tmp/x"
               store_sync = "always"
               reconnect = { initial_ms = 50, max_ms = 1000 }
               cl_ord_id_prefix = "tc""#,
        )
        .unwrap();
        let mut errors = vec![];
        oe.validate("venue \"a\"", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let s = oe.settings("a");
        assert_eq!(s.port, 9880);
        assert_eq!(s.store_sync, StoreSync::Always);
        assert_eq!(s.dictionary, Dictionary::Fix44);
        assert_eq!(s.reconnect_initial_ms, 50);
        assert_eq!(s.cl_ord_id_prefix, "tc");
    }

    const BASE: &str = r#"[order_entry]
        protocol = "fix44"
        host = "h"
        port = 1
        sender_comp_id = "a"
        target_comp_id = "b"
        "#;

    #[test]
    fn unknown_keys_are_refused() {
        let e = parse(&format!(
            "{BASE}auth = {{ kind = \"plain\", username = \"u\", password_env = \"P\" }}\nhearbeat_s = 5"
        ))
        .unwrap_err();
        assert!(e.contains("hearbeat_s"), "{e}");
        let e = parse(&format!(
            "{BASE}auth = {{ kind = \"plain\", username = \"u\", password = \"oops\" }}"
        ))
        .unwrap_err();
        assert!(e.contains("password"), "{e}");
        let e = parse(&format!("{BASE}auth = {{ kind = \"kerberos\" }}")).unwrap_err();
        assert!(e.contains("kerberos"), "{e}");
    }

    #[test]
    fn every_problem_is_reported() {
        let oe = parse(
            r#"[order_entry]
               protocol = "fix42"
               host = ""
               port = 70000
               sender_comp_id = "TOO-LONG-FOR-BINANCE"
               target_comp_id = "NOTSPOT"
               auth = { kind = "plain", username = "u", username_env = "U", password_env = "1BAD" }
               dictionary = "binance_spot"
               heartbeat_s = 2
               store_sync = "sometimes"
               reset_on_logon = false
               reconnect = { initial_ms = 10, max_ms = 5 }
               logon_timeout_s = 0
               resend_max_age_ms = 0"#,
        )
        .unwrap();
        let mut errors = vec![];
        oe.validate("venue \"b\"", &mut errors);
        let all = errors.join("\n");
        for needle in [
            "protocol \"fix42\"",
            "host is empty",
            "port 70000",
            "sender_comp_id",
            "target_comp_id \"NOTSPOT\"",
            "heartbeat_s 2",
            "store_sync \"sometimes\"",
            "reset_on_logon = false",
            "reconnect",
            "logon_timeout_s",
            "resend_max_age_ms",
            "username and username_env both given",
            "\"1BAD\" is not an environment variable name",
            "Binance needs kind = \"binance_ed25519\"",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
        assert_eq!(errors.len(), 14, "{all}");
    }
}
