//! The pipeline's counters, indexed as in bindings/contract.toml.

use tickcross_bindings::{counter, COUNTER_NAMES};

/// Counters only the hardware keeps (the software path leaves them at 0).
pub const HARDWARE_ONLY: &[usize] = &[counter::INPUT_STALL_CYCLES];

/// A snapshot of every counter, in contract index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters(pub [u64; counter::N]);

impl Default for Counters {
    fn default() -> Self {
        Counters([0; counter::N])
    }
}

impl Counters {
    pub fn get(&self, index: usize) -> u64 {
        self.0[index]
    }
    pub fn add(&mut self, index: usize, by: u64) {
        self.0[index] = self.0[index].wrapping_add(by);
    }
    /// Messages counted for one venue.
    pub fn messages(&self, venue: usize) -> u64 {
        self.0[counter::MESSAGES + venue]
    }
    /// Messages counted over every venue.
    pub fn messages_total(&self) -> u64 {
        (0..tickcross_bindings::params::N_VENUES as usize)
            .map(|v| self.messages(v))
            .sum()
    }
    /// (name, value) pairs in index order.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        COUNTER_NAMES.iter().copied().zip(self.0.iter().copied())
    }
    /// The first counter whose value differs, as (name, self, other), among those both paths
    /// keep: `input_stall_cycles` measures the hardware's input interface and has no software
    /// counterpart.
    pub fn first_difference(&self, other: &Counters) -> Option<(&'static str, u64, u64)> {
        COUNTER_NAMES
            .iter()
            .enumerate()
            .zip(self.0.iter().zip(other.0.iter()))
            .find(|((i, _), (a, b))| !HARDWARE_ONLY.contains(i) && a != b)
            .map(|((_, n), (a, b))| (*n, *a, *b))
    }
}
