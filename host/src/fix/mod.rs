//! FIX 4.4 order entry: the tag=value codec, the session layer (logon with pluggable
//! authentication, heartbeats, sequence numbers persisted on disk, resend and gap fill, reject,
//! logout, reconnect), venue dictionaries, and [`FixVenue`], the engine's `Venue` over FIX.

pub mod auth;
pub mod codec;
pub mod config;
pub mod dictionary;
pub mod session;
pub mod store;
pub mod venue;

pub use config::FixOrderEntry;
pub use venue::{FixError, FixVenue};
pub mod testkit;
