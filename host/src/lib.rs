//! tickcross host library: the software detection path, the hardware path over a mapped BAR,
//! capture replay, the feed bridge and configuration.

pub mod bridge;
pub mod capture;
pub mod compare;
pub mod config;
pub mod counters;
pub mod detect;
pub mod device;
pub mod event;
pub mod fix;
pub mod frame;
pub mod hwpath;
pub mod netgen;
pub mod price9;
pub mod program;
pub mod quotes;
pub mod replay;
pub mod report;
pub mod swpath;
pub mod trade;
