//! deribit_mcast: the message walker (PIPELINE section 2).

use crate::message::{le_u16, le_u32, le_u64, Msg, Quote};
use tickcross_core::price9::from_f64_bits;

const FRAME_HEADER: usize = 8;
const MSG_HEADER: u64 = 12;
const GROUP_HEADER: u64 = 8;
const SCHEMA_ID: u16 = 1;
const INSTRUMENT: u16 = 1000;
const TICKER: u16 = 1003;
/// Templates 1001..=1010 other than the two above are defined but unused.
const DEFINED: std::ops::RangeInclusive<u16> = 1001..=1010;
/// Ticker body: up to and including bestAskAmount and the fields after it.
const TICKER_BLOCK: u16 = 133;
const TICKER_BEST_BID_PRICE: usize = 61;
const TICKER_BEST_BID_AMOUNT: usize = 69;
const TICKER_BEST_ASK_PRICE: usize = 77;
const TICKER_BEST_ASK_AMOUNT: usize = 85;
const INSTRUMENT_BLOCK: u16 = 4;

/// Walks the datagram, handing each message to `emit` in order.
pub(crate) fn decode<'a>(p: &'a [u8], mut emit: impl FnMut(Msg<'a>)) {
    if p.len() < FRAME_HEADER {
        emit(Msg::Truncated);
        return;
    }
    let mut c = FRAME_HEADER;
    while c < p.len() {
        match walk(p, c) {
            Some((msg, next)) => {
                emit(msg);
                c = next;
            }
            None => {
                emit(Msg::Truncated);
                return;
            }
        }
    }
}

/// The message at `c` and where the next starts, or `None` when it runs past the datagram
/// (truncated; the walk stops). Positions are u64 so that no header can overflow them; each one
/// is checked against `n` before it indexes anything.
fn walk(p: &[u8], c: usize) -> Option<(Msg<'_>, usize)> {
    let n = p.len() as u64;
    if c as u64 + MSG_HEADER > n {
        return None;
    }
    let bl = le_u16(p, c);
    let template = le_u16(p, c + 2);
    let schema = le_u16(p, c + 4);
    let groups = le_u16(p, c + 8);
    let var_fields = le_u16(p, c + 10);
    let body = c + MSG_HEADER as usize;
    let mut e = body as u64 + u64::from(bl);
    if e > n {
        return None;
    }
    for _ in 0..groups {
        if e + GROUP_HEADER > n {
            return None;
        }
        let g = e as usize;
        let block = u64::from(le_u16(p, g));
        let count = u64::from(le_u16(p, g + 2));
        e += GROUP_HEADER + block * count;
        if e > n {
            return None;
        }
    }
    let mut last: &[u8] = &[];
    for _ in 0..var_fields {
        if e + 1 > n {
            return None;
        }
        let start = e as usize + 1;
        e += 1 + u64::from(p[e as usize]);
        if e > n {
            return None;
        }
        last = &p[start..e as usize];
    }
    let msg = if schema != SCHEMA_ID {
        Msg::UnknownTemplate
    } else if template == TICKER {
        if bl < TICKER_BLOCK {
            Msg::Truncated
        } else {
            ticker(p, body)
        }
    } else if template == INSTRUMENT {
        if bl < INSTRUMENT_BLOCK || var_fields == 0 {
            Msg::Truncated
        } else {
            Msg::Definition {
                id: le_u32(p, body),
                name: last,
            }
        }
    } else if DEFINED.contains(&template) {
        Msg::Skipped
    } else {
        Msg::UnknownTemplate
    };
    Some((msg, e as usize))
}

/// A Ticker whose body (at `body`, at least 133 bytes) is in `p`.
fn ticker(p: &[u8], body: usize) -> Msg<'_> {
    let f = |off: usize| from_f64_bits(le_u64(p, body + off));
    let quote = (|| {
        Some(Quote {
            bid_price: f(TICKER_BEST_BID_PRICE)?,
            bid_qty: f(TICKER_BEST_BID_AMOUNT)?,
            ask_price: f(TICKER_BEST_ASK_PRICE)?,
            ask_qty: f(TICKER_BEST_ASK_AMOUNT)?,
        })
    })();
    match quote {
        Some(quote) => Msg::QuoteById {
            id: le_u32(p, body),
            quote,
        },
        None => Msg::Conversion,
    }
}
