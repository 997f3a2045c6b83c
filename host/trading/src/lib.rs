//! Trading on the detections: fees, risk, inventory, execution, simulated venues, P&L, journal.
//!
//! Events from either detection path come in, orders go out through the [`venue::Venue`] trait,
//! and every consequence is booked exactly (`rust_decimal`, no floating point) and journaled.
//! docs/TRADING.md has the rules; this crate depends on `tickcross-core` and, for the simulated
//! venues' books, on the software decoder (`tickcross-swpath`), never on an order-entry adapter:
//! FIX (`tickcross-fix`) implements [`venue::Venue`] and the `tickcross` binary starts it.
//!
//! * [`config`]: the `[trading]`, `[risk]`, `[rebalance]` and `[journal]` sections and each
//!   venue's trading keys, with their validation.
//! * [`engine`]: decisions (candidate, risk, sizing) and booking; [`risk`], [`money`] (fees,
//!   rounding), [`ledger`] (inventory), [`pnl`], [`rebalance`].
//! * [`venue`]: the order-entry interface; [`simvenue`]: the simulated venue.
//! * [`run`]: a replay's trading loop on one simulated clock, with resume from a journal.
//! * [`journal`]: the append-only, checksummed journal; [`verify`]: `journal verify`, a second
//!   implementation of the booking rules; [`report`]: `summary.json`, `summary.txt` and the JSONL
//!   files.
//!
//! The `fault-injection` feature (tests only; never in a release build) lets the crash tests kill
//! the process between journal records.

// Every unsafe block says why it is sound (signal handlers, fault injection).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod config;
pub mod engine;
pub mod journal;
pub mod latency;
pub mod ledger;
pub mod money;
pub mod pnl;
pub mod rebalance;
pub mod report;
pub mod risk;
pub mod run;
pub mod simvenue;
#[cfg(test)]
pub(crate) mod testcfg;
pub mod venue;
pub mod verify;
