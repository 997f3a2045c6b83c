//! Trading on the detections: fees, risk, inventory, execution, simulated venues, P&L, journal.

pub mod config;
pub mod engine;
pub mod journal;
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
