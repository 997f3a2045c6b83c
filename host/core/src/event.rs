//! Crossed-market events (DESIGN section 5) and their JSONL form.

use crate::price9::Price9;

/// Hardware cycle stamps of an event (absent on the software path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HwCycles {
    /// Cycle of the triggering frame's first beat.
    pub frame: u64,
    /// Cycle of the beat carrying the triggering message's first byte.
    pub first: u64,
    /// Cycle of the beat carrying its last byte.
    pub last: u64,
    /// Cycle the record was committed to the ring.
    pub commit: u64,
}

/// One detected crossed market. Prices and quantities are Price9 integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub instrument: u16,
    pub buy_venue: u8,
    pub sell_venue: u8,
    /// The venue whose quote update triggered the event.
    pub trigger_venue: u8,
    /// false: the trigger venue's ask crossed (buy there); true: its bid crossed (sell there).
    pub trigger_sell: bool,
    pub buy_price: Price9,
    pub buy_qty: Price9,
    pub sell_price: Price9,
    pub sell_qty: Price9,
    /// min(buy_qty, sell_qty): the size the cross supports.
    pub qty: Price9,
    /// Ingress timestamp of the triggering frame (ns).
    pub ts_ns: u64,
    pub buy_ts_ns: u64,
    pub sell_ts_ns: u64,
    /// Hardware cycle stamps, when the event came from the hardware path.
    pub cycles: Option<HwCycles>,
    /// The triggering quote's key from the feed (docs/PIPELINE.md section 6): a binance_sbe
    /// quote's bookUpdateId (its i64 bits), a deribit_mcast Ticker's channelId << 48 |
    /// sequence << 16 | message index. With the trigger venue, instrument and side it names
    /// the opportunity in both paths.
    pub feed_key: u64,
}

impl Event {
    /// The fields both paths must agree on (everything but the hardware cycle stamps).
    pub fn contract_eq(&self, other: &Event) -> bool {
        let strip = |e: &Event| Event { cycles: None, ..*e };
        strip(self) == strip(other)
    }
}
