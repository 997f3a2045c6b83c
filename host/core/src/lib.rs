//! tickcross core: what every other part of the host shares and nothing in it depends on
//! trading, order entry or a detection path.
//!
//! * [`price9`]: prices and quantities as fixed-point integers (9 decimals), as on the card.
//! * [`event`]: a crossed market, as either detection path reports it.
//! * [`frame`]: an Ethernet frame with its capture timestamp.
//! * [`program`]: what a detection path is programmed with (filters, symbols, edges).
//! * [`quotes`], [`counters`]: the top-of-book table and the drop/accept counters both paths keep.
//! * [`detect`]: the [`detect::Detector`] trait, the seam between a replay and a detection path.
//! * [`config`]: the detection keys of the configuration file; [`settings`]: the shape check and
//!   error report every subsystem's section uses.

pub mod config;
pub mod counters;
pub mod detect;
pub mod event;
pub mod frame;
pub mod price9;
pub mod program;
pub mod quotes;
pub mod settings;
