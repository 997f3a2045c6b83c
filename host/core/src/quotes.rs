//! The quote table: per (venue, instrument) top of book.

use crate::price9::Price9;
use tickcross_bindings::params;

pub const N_VENUES: usize = params::N_VENUES as usize;
pub const N_INSTRUMENTS: usize = params::N_INSTRUMENTS as usize;

/// One entry. A side whose price or quantity is 0 is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuoteEntry {
    pub bid_price: Price9,
    pub bid_qty: Price9,
    pub ask_price: Price9,
    pub ask_qty: Price9,
    /// Ingress timestamp (ns) of the frame that set the entry.
    pub ts_ns: u64,
    /// Written since the last clear.
    pub valid: bool,
}

impl QuoteEntry {
    pub fn bid_empty(&self) -> bool {
        self.bid_price == 0 || self.bid_qty == 0
    }
    pub fn ask_empty(&self) -> bool {
        self.ask_price == 0 || self.ask_qty == 0
    }
}

/// The whole table, venue-major, with each entry's stale flag (the quote window's flags word,
/// bit 1: docs/PIPELINE.md section 6) kept beside the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteTable {
    entries: Vec<QuoteEntry>,
    stale: Vec<bool>,
}

impl Default for QuoteTable {
    fn default() -> Self {
        QuoteTable {
            entries: vec![QuoteEntry::default(); N_VENUES * N_INSTRUMENTS],
            stale: vec![false; N_VENUES * N_INSTRUMENTS],
        }
    }
}

impl QuoteTable {
    pub fn get(&self, venue: usize, instrument: usize) -> &QuoteEntry {
        &self.entries[venue * N_INSTRUMENTS + instrument]
    }
    pub fn get_mut(&mut self, venue: usize, instrument: usize) -> &mut QuoteEntry {
        &mut self.entries[venue * N_INSTRUMENTS + instrument]
    }
    /// Entry `(venue, instrument)` is stale: written by a deribit_mcast frame of a channel that
    /// has had a gap since (docs/PIPELINE.md section 6); it takes no part in detection.
    pub fn stale(&self, venue: usize, instrument: usize) -> bool {
        self.stale[venue * N_INSTRUMENTS + instrument]
    }
    pub fn set_stale(&mut self, venue: usize, instrument: usize, stale: bool) {
        self.stale[venue * N_INSTRUMENTS + instrument] = stale;
    }
    /// How many entries are stale.
    pub fn stale_count(&self) -> u64 {
        self.stale.iter().filter(|&&s| s).count() as u64
    }
    /// Entries that have been written, as (venue, instrument, entry).
    pub fn written(&self) -> impl Iterator<Item = (usize, usize, &QuoteEntry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.valid)
            .map(|(i, e)| (i / N_INSTRUMENTS, i % N_INSTRUMENTS, e))
    }
    /// The first entry that differs (its quote or its stale flag), as (venue, instrument).
    pub fn first_difference(&self, other: &QuoteTable) -> Option<(usize, usize)> {
        (0..self.entries.len())
            .find(|&i| self.entries[i] != other.entries[i] || self.stale[i] != other.stale[i])
            .map(|i| (i / N_INSTRUMENTS, i % N_INSTRUMENTS))
    }
}
