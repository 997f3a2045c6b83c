//! The `tickcross` binary's library: what composes the subsystems. A configuration file's
//! sections are validated by the subsystems that own them and gathered here ([`config`]);
//! [`replay`] drives a detection path over captures, [`compare`] measures both paths, and
//! [`report`] prints a replay's summary. The subsystems themselves are crates of their own:
//! `tickcross-core`, `-swpath`, `-device`, `-capture`, `-trading` and `-fix`.

pub mod compare;
pub mod config;
pub mod config_doc;
pub mod replay;
pub mod report;
pub mod venues;
