//! What the decoders produce: a decoded message ([`Msg`]) and its quote ([`Quote`]), and the
//! little-endian field readers the decoders share.

use tickcross_core::price9::Price9;

/// Both sides of a decoded quote, converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub bid_price: Price9,
    pub bid_qty: Price9,
    pub ask_price: Price9,
    pub ask_qty: Price9,
}

/// What one message produced (PIPELINE section 2). Names borrow the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg<'a> {
    Truncated,
    UnknownTemplate,
    Conversion,
    Skipped,
    /// `update_id`: binance_sbe's bookUpdateId (PIPELINE section 6: an id not above the
    /// entry's last applied one drops the quote).
    QuoteByName {
        name: &'a [u8],
        quote: Quote,
        update_id: i64,
    },
    QuoteById {
        id: u32,
        quote: Quote,
    },
    Definition {
        id: u32,
        name: &'a [u8],
    },
}

// Little-endian readers; callers have checked the bounds.
pub(crate) fn le_u16(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([p[at], p[at + 1]])
}

pub(crate) fn le_u32(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

pub(crate) fn le_u64(p: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[at..at + 8]);
    u64::from_le_bytes(b)
}

pub(crate) fn le_i64(p: &[u8], at: usize) -> i64 {
    le_u64(p, at) as i64
}
