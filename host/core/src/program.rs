//! What a detection path is programmed with: the venue filters, venue protocols, symbol map and
//! edges, derived from the configuration. Both paths take exactly this.

use crate::price9::Price9;

/// A venue protocol, as coded in the venue table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    BinanceSbe,
    DeribitMcast,
}

impl Protocol {
    pub fn code(self) -> u64 {
        match self {
            Protocol::BinanceSbe => tickcross_bindings::protocol::BINANCE_SBE,
            Protocol::DeribitMcast => tickcross_bindings::protocol::DERIBIT_MCAST,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Protocol::BinanceSbe => "binance_sbe",
            Protocol::DeribitMcast => "deribit_mcast",
        }
    }
}

/// A (destination prefix, UDP port) -> venue filter entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub ip: [u8; 4],
    /// Prefix length 0..=32 (32: exact address).
    pub prefix: u8,
    pub port: u16,
    pub venue: u8,
}

/// The programmed state of a detection path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Program {
    /// Protocol of each venue index (None: venue slot unused).
    pub venues: Vec<Option<Protocol>>,
    /// Filters in priority order (the lowest index that matches wins).
    pub filters: Vec<Filter>,
    /// (venue, name, instrument) triples.
    pub symbols: Vec<(u8, Vec<u8>, u16)>,
    /// Edge per instrument index (missing: 0).
    pub edges: Vec<Price9>,
}
