//! FIX 4.4 order entry: the tag=value codec, the session layer (logon with pluggable
//! authentication, heartbeats, sequence numbers persisted on disk, resend and gap fill, reject,
//! logout, reconnect), venue dictionaries, and [`FixVenue`], the engine's `Venue` over FIX.
//!
//! * [`codec`]: messages, encoding, the stream decoder (garbage is dropped, never a panic).
//! * [`session`]: the session state machine, without I/O.
//! * [`store`]: sequence numbers and sent messages on disk (format and sync policy there).
//! * [`auth`]: plain Username/Password and Binance's Ed25519-signed Logon; secrets redacted.
//! * [`dictionary`]: what differs between the generic FIX 4.4 dialect and Binance spot's.
//! * [`config`]: the venue's `order_entry` key.
//! * [`venue`]: [`FixVenue`] (the session thread, ExecutionReport mapping).
//! * [`fills`]: the fills kept by ExecID for a later trade bust or correction.

// Every unsafe block says why it is sound (the sequence file lock).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod auth;
pub mod codec;
pub mod config;
pub mod dictionary;
pub mod fills;
pub mod session;
pub mod store;
pub mod venue;

pub use config::FixOrderEntry;
pub use venue::{FixError, FixVenue};
