//! binance_sbe: one SBE message per datagram (PIPELINE section 2).

use crate::message::{le_i64, le_u16, Msg, Quote};
use tickcross_core::price9::from_mantissa;

const SCHEMA_ID: u16 = 1;
const BEST_BID_ASK: u16 = 10001;
/// Defined by the schema, not used by the pipeline.
const SKIPPED: [u16; 3] = [10000, 10002, 10003];
/// Body length of BestBidAskStreamEvent up to (not including) the symbol.
const MIN_BLOCK: usize = 50;
/// bookUpdateId (i64): body offset 8, after the 8-byte header.
const BOOK_UPDATE_ID: usize = 16;

/// Decodes the datagram's message.
pub(crate) fn decode(p: &[u8]) -> Msg<'_> {
    let n = p.len();
    if n < 8 {
        return Msg::Truncated;
    }
    let bl = usize::from(le_u16(p, 0));
    let template = le_u16(p, 2);
    if le_u16(p, 4) != SCHEMA_ID {
        return Msg::UnknownTemplate;
    }
    if SKIPPED.contains(&template) {
        return Msg::Skipped;
    }
    if template != BEST_BID_ASK {
        return Msg::UnknownTemplate;
    }
    if bl < MIN_BLOCK || n < 9 + bl {
        return Msg::Truncated;
    }
    let sym_len = usize::from(p[8 + bl]);
    if n < 9 + bl + sym_len {
        return Msg::Truncated;
    }
    // Offsets are fixed (from the message start) whatever bl says beyond 50.
    let pe = p[24] as i8;
    let qe = p[25] as i8;
    let quote = (|| {
        Some(Quote {
            bid_price: from_mantissa(le_i64(p, 26), pe)?,
            bid_qty: from_mantissa(le_i64(p, 34), qe)?,
            ask_price: from_mantissa(le_i64(p, 42), pe)?,
            ask_qty: from_mantissa(le_i64(p, 50), qe)?,
        })
    })();
    match quote {
        Some(quote) => Msg::QuoteByName {
            name: &p[9 + bl..9 + bl + sym_len],
            quote,
            update_id: le_i64(p, BOOK_UPDATE_ID),
        },
        None => Msg::Conversion,
    }
}
