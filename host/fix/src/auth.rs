//! Logon authentication, pluggable per venue.
//!
//! * `Plain`: Username(553) and Password(554) in the Logon.
//! * `BinanceEd25519`: Binance's signed Logon (`../shared/specs/binance/fix-api.md`, "How to sign
//!   Logon <A> request"): Username(553) is the API key; RawData(96) is the base64 Ed25519
//!   signature of `MsgType SOH SenderCompID SOH TargetCompID SOH MsgSeqNum SOH SendingTime`
//!   (the Logon's own values), RawDataLength(95) its length.
//!
//! Secrets are read from environment variables or files at start-up ([`AuthSource::load`]); a
//! missing or malformed one is an [`AuthError`] naming the variable or file, never its value.
//! `Debug` of [`Credentials`] prints `***` for them, and the codec redacts Password(554) and
//! RawData(96) whenever a message is logged.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};

use super::codec::{Message, SOH};

/// Where a secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Env(v) => write!(f, "env ${v}"),
            SecretSource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

/// How to authenticate, as configured (names of variables and files, no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    Plain {
        /// The username itself (not a secret) or where to read it.
        username: UsernameSource,
        password: SecretSource,
    },
    BinanceEd25519 {
        api_key: SecretSource,
        /// A PKCS#8 PEM Ed25519 private key (`-----BEGIN PRIVATE KEY-----`).
        private_key: SecretSource,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameSource {
    Literal(String),
    From(SecretSource),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{what}: environment variable {var} is not set")]
    EnvMissing { what: &'static str, var: String },
    #[error("{what}: environment variable {var} is empty or not valid UTF-8")]
    EnvEmpty { what: &'static str, var: String },
    #[error("{what}: cannot read {path}: {err}")]
    File {
        what: &'static str,
        path: String,
        err: String,
    },
    #[error("{what} from {source_name} is empty")]
    Empty {
        what: &'static str,
        source_name: String,
    },
    #[error("{what} from {source_name} holds characters not allowed in a FIX field (SOH or non-printable)")]
    Unprintable {
        what: &'static str,
        source_name: String,
    },
    #[error("private key from {source_name} is not an Ed25519 PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----): {err}")]
    BadKey { source_name: String, err: String },
}

fn read_secret(src: &SecretSource, what: &'static str) -> Result<String, AuthError> {
    let (text, name) = match src {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) => (v, format!("${var}")),
            Err(std::env::VarError::NotPresent) => {
                return Err(AuthError::EnvMissing {
                    what,
                    var: var.clone(),
                })
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(AuthError::EnvEmpty {
                    what,
                    var: var.clone(),
                })
            }
        },
        SecretSource::File(p) => match std::fs::read_to_string(p) {
            Ok(v) => (v, p.display().to_string()),
            Err(e) => {
                return Err(AuthError::File {
                    what,
                    path: p.display().to_string(),
                    err: e.kind().to_string(),
                })
            }
        },
    };
    // a file's trailing newline is not part of the secret
    let t = text.trim_end_matches(['\n', '\r']).to_string();
    if t.is_empty() {
        return Err(match src {
            SecretSource::Env(var) => AuthError::EnvEmpty {
                what,
                var: var.clone(),
            },
            SecretSource::File(_) => AuthError::Empty {
                what,
                source_name: name,
            },
        });
    }
    Ok(t)
}

fn field_safe(s: String, src: &SecretSource, what: &'static str) -> Result<String, AuthError> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(s)
    } else {
        Err(AuthError::Unprintable {
            what,
            source_name: format!("{src:?}"),
        })
    }
}

impl AuthSource {
    /// Reads the secrets.
    pub fn load(&self) -> Result<Credentials, AuthError> {
        match self {
            AuthSource::Plain { username, password } => {
                let username = match username {
                    UsernameSource::Literal(u) => u.clone(),
                    UsernameSource::From(src) => {
                        field_safe(read_secret(src, "username")?, src, "username")?
                    }
                };
                let pw = field_safe(read_secret(password, "password")?, password, "password")?;
                Ok(Credentials::Plain {
                    username,
                    password: Secret(pw),
                })
            }
            AuthSource::BinanceEd25519 {
                api_key,
                private_key,
            } => {
                let key = field_safe(read_secret(api_key, "API key")?, api_key, "API key")?;
                let pem = read_secret(private_key, "private key")?;
                let signing = parse_private_key(&pem).map_err(|err| AuthError::BadKey {
                    source_name: format!("{private_key:?}"),
                    err,
                })?;
                Ok(Credentials::BinanceEd25519 {
                    api_key: Secret(key),
                    key: Box::new(signing),
                })
            }
        }
    }
}

/// An Ed25519 private key from PKCS#8 PEM.
pub fn parse_private_key(pem: &str) -> Result<SigningKey, String> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| e.to_string())
}

/// A secret string: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Loaded credentials.
pub enum Credentials {
    Plain {
        username: String,
        password: Secret,
    },
    BinanceEd25519 {
        api_key: Secret,
        key: Box<SigningKey>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Plain { username, .. } => f
                .debug_struct("Plain")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            Credentials::BinanceEd25519 { .. } => f
                .debug_struct("BinanceEd25519")
                .field("api_key", &"***")
                .field("key", &"***")
                .finish(),
        }
    }
}

/// The header values a Logon is signed over.
pub struct LogonHeader<'a> {
    pub sender_comp_id: &'a str,
    pub target_comp_id: &'a str,
    pub msg_seq_num: u64,
    pub sending_time: &'a str,
}

/// Binance's RawData(96): base64 of the Ed25519 signature of the SOH-joined header values.
pub fn binance_signature(key: &SigningKey, h: &LogonHeader<'_>) -> String {
    let mut payload = Vec::with_capacity(64);
    for (k, part) in [
        "A",
        h.sender_comp_id,
        h.target_comp_id,
        &h.msg_seq_num.to_string(),
        h.sending_time,
    ]
    .iter()
    .enumerate()
    {
        if k > 0 {
            payload.push(SOH);
        }
        payload.extend_from_slice(part.as_bytes());
    }
    let sig = key.sign(&payload);
    base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
}

impl Credentials {
    /// Appends the authentication fields to a Logon being built.
    pub fn logon_fields(&self, msg: &mut Message, h: &LogonHeader<'_>) {
        match self {
            Credentials::Plain { username, password } => {
                msg.push(553, username).push(554, password.expose());
            }
            Credentials::BinanceEd25519 { api_key, key } => {
                let sig = binance_signature(key, h);
                msg.push_u64(95, sig.len() as u64).push(96, sig);
                msg.push(553, api_key.expose());
            }
        }
    }
}

/// Checks a private key file at start-up without keeping it (config validation's helper).
pub fn check_key_file(path: &Path) -> Result<(), AuthError> {
    let src = SecretSource::File(path.to_path_buf());
    let pem = read_secret(&src, "private key")?;
    parse_private_key(&pem)
        .map(|_| ())
        .map_err(|err| AuthError::BadKey {
            source_name: format!("{src:?}"),
            err,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key of fix-api.md ("for illustrative purposes").
    const SPEC_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

    #[test]
    fn binance_signature_matches_the_spec_example() {
        let key = parse_private_key(SPEC_KEY).unwrap();
        let sig = binance_signature(
            &key,
            &LogonHeader {
                sender_comp_id: "EXAMPLE",
                target_comp_id: "SPOT",
                msg_seq_num: 1,
                sending_time: "20240627-11:17:25.223",
            },
        );
        assert_eq!(
            sig,
            "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
        );
    }

    #[test]
    fn binance_logon_fields_reproduce_the_spec_message() {
        let creds = Credentials::BinanceEd25519 {
            api_key: Secret(
                "sBRXrJx2DsOraMXOaUovEhgVRcjOvCtQwnWj8VxkOh1xqboS02SPGfKi2h8spZJb".into(),
            ),
            key: Box::new(parse_private_key(SPEC_KEY).unwrap()),
        };
        let mut m = Message::new("A");
        m.push(34, "1")
            .push(49, "EXAMPLE")
            .push(52, "20240627-11:17:25.223")
            .push(56, "SPOT");
        creds.logon_fields(
            &mut m,
            &LogonHeader {
                sender_comp_id: "EXAMPLE",
                target_comp_id: "SPOT",
                msg_seq_num: 1,
                sending_time: "20240627-11:17:25.223",
            },
        );
        // the spec's order puts 98, 108, 141 between 96 and 553; field order within the body
        // is free in FIX, so compare as the spec's message re-ordered the same way
        let mut spec = Message::new("A");
        spec.push(34, "1")
            .push(49, "EXAMPLE")
            .push(52, "20240627-11:17:25.223")
            .push(56, "SPOT")
            .push(95, "88")
            .push(
                96,
                "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA==",
            )
            .push(
                553,
                "sBRXrJx2DsOraMXOaUovEhgVRcjOvCtQwnWj8VxkOh1xqboS02SPGfKi2h8spZJb",
            );
        assert_eq!(m, spec);
    }

    #[test]
    fn missing_and_malformed_credentials_are_clear_errors_without_the_secret() {
        let src = AuthSource::Plain {
            username: UsernameSource::Literal("u".into()),
            password: SecretSource::Env("TICKCROSS_TEST_NO_SUCH_VAR_9431".into()),
        };
        let e = src.load().unwrap_err();
        assert_eq!(
            e.to_string(),
            "password: environment variable TICKCROSS_TEST_NO_SUCH_VAR_9431 is not set"
        );
        let dir = std::env::temp_dir().join(format!("tickcross-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = check_key_file(&bad).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("not an Ed25519 PKCS#8 PEM"), "{msg}");
        assert!(!msg.contains("c2VjcmV0"), "{msg}");
        let e = check_key_file(&dir.join("absent.pem")).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
        let pw = dir.join("pw");
        std::fs::write(&pw, "hunter2\n").unwrap();
        let c = AuthSource::Plain {
            username: UsernameSource::Literal("alice".into()),
            password: SecretSource::File(pw),
        }
        .load()
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2") && dbg.contains("alice"), "{dbg}");
        let mut m = Message::new("A");
        c.logon_fields(
            &mut m,
            &LogonHeader {
                sender_comp_id: "a",
                target_comp_id: "b",
                msg_seq_num: 1,
                sending_time: "x",
            },
        );
        assert_eq!(m.get(554), Some("hunter2"));
        assert!(!format!("{m:?}").contains("hunter2"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
