//! The software detection path: docs/PIPELINE.md, frame by frame, synchronously.
//!
//! Each pushed frame is checked (section 1), its payload decoded (sections 2-3) and every
//! message applied (sections 5-6) before `push_frame` returns. Frame-atomic commit (section 4)
//! needs no buffering here: the verdict is known before decoding starts, so every decoded frame
//! is an accepted one. Nothing on the per-frame path allocates (the event list grows only until
//! its capacity covers what the caller leaves undrained), and nothing uses floating point.

mod binance;
mod book;
mod deribit;
pub mod frame_check;
mod message;
mod resolve;
mod sequence;
#[cfg(test)]
mod tests;

use tickcross_bindings::{counter, params};

use tickcross_core::counters::Counters;
use tickcross_core::detect::{DetectError, Detector};
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_core::program::{Program, Protocol};
use tickcross_core::quotes::{QuoteTable, N_INSTRUMENTS, N_VENUES};

pub use message::{Msg, Quote};

use book::Book;
use frame_check::{VenueFilter, Verdict};
use resolve::{BindTable, SymbolMap};
pub use sequence::CHAN_BITS;
use sequence::{Channels, Seq, Source};

const N_FILTERS: usize = params::N_FILTERS as usize;
const SYM_NAME_BYTES: usize = params::SYM_NAME_BYTES as usize;
const SYM_CAPACITY: usize = (params::SYM_WAYS * params::SYM_SLOTS) as usize;
/// Width of the prefix field of a hardware filter register.
const MAX_PREFIX_FIELD: u8 = 63;

/// The software detection path.
#[derive(Debug, Clone)]
pub struct SwDetector {
    filters: Vec<VenueFilter>,
    protocols: [Option<Protocol>; N_VENUES],
    symbols: SymbolMap,
    binds: BindTable,
    channels: Channels,
    book: Book,
    counters: Counters,
    events: Vec<Event>,
}

fn config_error(msg: String) -> DetectError {
    DetectError::Config(msg)
}

impl SwDetector {
    /// Programs a detector; rejects what the hardware tables could not hold.
    pub fn new(program: &Program) -> Result<SwDetector, DetectError> {
        if program.venues.len() > N_VENUES {
            return Err(config_error(format!(
                "{} venues: at most {N_VENUES}",
                program.venues.len()
            )));
        }
        if program.filters.len() > N_FILTERS {
            return Err(config_error(format!(
                "{} filters: at most {N_FILTERS}",
                program.filters.len()
            )));
        }
        if program.edges.len() > N_INSTRUMENTS {
            return Err(config_error(format!(
                "{} instrument edges: at most {N_INSTRUMENTS}",
                program.edges.len()
            )));
        }
        if program.symbols.len() > SYM_CAPACITY {
            return Err(config_error(format!(
                "{} symbols: the symbol table holds at most {SYM_CAPACITY}",
                program.symbols.len()
            )));
        }

        let mut protocols = [None; N_VENUES];
        protocols[..program.venues.len()].copy_from_slice(&program.venues);

        let mut filters = Vec::with_capacity(program.filters.len());
        for (k, f) in program.filters.iter().enumerate() {
            if usize::from(f.venue) >= N_VENUES {
                return Err(config_error(format!(
                    "filter {k}: venue {} out of range",
                    f.venue
                )));
            }
            if f.prefix > MAX_PREFIX_FIELD {
                return Err(config_error(format!(
                    "filter {k}: prefix {} out of range",
                    f.prefix
                )));
            }
            // A filter whose venue has no protocol never matches.
            if protocols[usize::from(f.venue)].is_some() {
                filters.push(VenueFilter::new(f));
            }
        }

        let mut symbols = SymbolMap::default();
        for (venue, name, instrument) in &program.symbols {
            let shown = String::from_utf8_lossy(name);
            if usize::from(*venue) >= N_VENUES {
                return Err(config_error(format!(
                    "symbol {shown:?}: venue {venue} out of range"
                )));
            }
            if name.len() > SYM_NAME_BYTES {
                return Err(config_error(format!(
                    "symbol {shown:?}: {} bytes, at most {SYM_NAME_BYTES}",
                    name.len()
                )));
            }
            if usize::from(*instrument) >= N_INSTRUMENTS {
                return Err(config_error(format!(
                    "symbol {shown:?}: instrument {instrument} out of range"
                )));
            }
            // The length is checked above, so a refused insert is a duplicate.
            if !symbols.insert(usize::from(*venue), name, *instrument) {
                return Err(config_error(format!(
                    "symbol {shown:?}: duplicate on venue {venue}"
                )));
            }
        }

        Ok(SwDetector {
            filters,
            protocols,
            symbols,
            binds: BindTable::default(),
            channels: Channels::default(),
            book: Book::new(&program.edges, program.venues.len()),
            counters: Counters::default(),
            events: Vec::new(),
        })
    }

    /// Processes one frame completely: `push_frame` without needing an owned `Frame`.
    pub fn process(&mut self, ts_ns: u64, data: &[u8], bad: bool) {
        self.counters.add(counter::RX_FRAMES, 1);
        self.counters.add(counter::RX_BYTES, data.len() as u64);
        let (venue, start, len) = match frame_check::check(data, bad, &self.filters) {
            Verdict::Drop(reason) => {
                self.counters.add(reason, 1);
                return;
            }
            Verdict::Accept { venue, start, len } => (usize::from(venue), start, len),
        };
        self.counters.add(counter::FRAMES_ACCEPTED, 1);
        let payload = &data[start..start + len];
        match self.protocols[venue] {
            Some(Protocol::BinanceSbe) => {
                let msg = binance::decode(payload);
                self.apply(venue, msg, None, 0, ts_ns);
            }
            Some(Protocol::DeribitMcast) => {
                // a duplicate is dropped whole, before any of its messages counts; a frame
                // without a sequence (n < 8) carries no quote
                let mut source = None;
                if payload.len() >= 8 {
                    match self.channels.check(venue, payload, &mut self.counters) {
                        Seq::Duplicate => return,
                        Seq::Apply { source: s, gap } => {
                            if let (true, Some(s)) = (gap, s) {
                                self.book.gap(venue, s.slot, s.seq);
                            }
                            source = s;
                        }
                    }
                }
                // each message's feed key: channelId << 48 | sequence << 16 | its index (every
                // message counts, as `messages` does); a frame without a sequence has no quote
                let frame_key = if payload.len() >= 8 {
                    (u64::from(message::le_u16(payload, 2)) << 48)
                        | (u64::from(message::le_u32(payload, 4)) << 16)
                } else {
                    0
                };
                let mut index = 0u64;
                deribit::decode(payload, |msg| {
                    self.apply(venue, msg, source, frame_key | index, ts_ns);
                    index += 1;
                });
            }
            // Filters of venues without a protocol were left out in `new`.
            None => {}
        }
    }

    /// Counts one message and applies what it produced; a quote records `source` in its entry,
    /// and a quote by instrumentId's events carry `key` (a quote by name's: its bookUpdateId).
    fn apply(&mut self, venue: usize, msg: Msg<'_>, source: Option<Source>, key: u64, ts_ns: u64) {
        let c = &mut self.counters;
        c.add(counter::MESSAGES + venue, 1);
        match msg {
            Msg::Truncated => c.add(counter::MSG_TRUNCATED, 1),
            Msg::UnknownTemplate => c.add(counter::MSG_UNKNOWN_TEMPLATE, 1),
            Msg::Conversion => c.add(counter::MSG_CONVERSION, 1),
            Msg::Skipped => c.add(counter::MSG_SKIPPED, 1),
            Msg::QuoteByName {
                name,
                quote,
                update_id,
            } => match self.symbols.get(venue, name) {
                Some(i) => {
                    let i = usize::from(i);
                    if self.book.update_id_ok(venue, i, update_id) {
                        self.book.update(
                            venue,
                            i,
                            &quote,
                            Some(update_id),
                            None,
                            update_id as u64,
                            ts_ns,
                            c,
                            &mut self.events,
                        )
                    } else {
                        c.add(counter::MSG_OUT_OF_ORDER, 1);
                    }
                }
                None => c.add(counter::MSG_UNKNOWN_SYMBOL, 1),
            },
            Msg::QuoteById { id, quote } => match self.binds.lookup(venue, id) {
                Some(i) => self.book.update(
                    venue,
                    usize::from(i),
                    &quote,
                    None,
                    source,
                    key,
                    ts_ns,
                    c,
                    &mut self.events,
                ),
                None => c.add(counter::MSG_UNKNOWN_SYMBOL, 1),
            },
            Msg::Definition { id, name } => {
                let instrument = self.symbols.get(venue, name);
                self.binds.define(venue, id, instrument, c);
            }
        }
    }

    /// `clear_state`: empties the quote table and the bindings, restarts event sequence numbers
    /// and discards undrained events (the hardware resets its ring indexes).
    pub fn clear_state(&mut self) {
        self.book.clear();
        self.binds.clear();
        self.channels.clear();
        self.events.clear();
    }

    /// Drops undrained events (for a caller that only wants the quote table).
    pub fn discard_events(&mut self) {
        self.events.clear();
    }

    /// `reset_counters`.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// The quote table, without copying it.
    pub fn quote_table(&self) -> &QuoteTable {
        &self.book.quotes
    }

    /// The counters, without copying them.
    pub fn counter_values(&self) -> &Counters {
        &self.counters
    }
}

/// The software path's stages one at a time (frame checks, Binance decoding, symbol lookup, the
/// quote update, the cross check), exactly as `process` runs them: for benchmarks and profiles.
pub struct Stages {
    det: SwDetector,
}

impl Stages {
    pub fn new(program: &Program) -> Result<Stages, DetectError> {
        Ok(Stages {
            det: SwDetector::new(program)?,
        })
    }

    /// Frame checks: the venue and the UDP payload's range, or None for a dropped frame.
    pub fn check(&self, data: &[u8]) -> Option<(usize, std::ops::Range<usize>)> {
        match frame_check::check(data, false, &self.det.filters) {
            Verdict::Accept { venue, start, len } => Some((usize::from(venue), start..start + len)),
            Verdict::Drop(_) => None,
        }
    }

    /// Decodes a binance_sbe datagram: its symbol and quote, when it carries one.
    pub fn decode_binance(payload: &[u8]) -> Option<(&[u8], Quote)> {
        match binance::decode(payload) {
            Msg::QuoteByName { name, quote, .. } => Some((name, quote)),
            _ => None,
        }
    }

    /// The bookUpdateId of a binance_sbe datagram's quote by name, when it carries one.
    pub fn binance_update_id(payload: &[u8]) -> Option<i64> {
        match binance::decode(payload) {
            Msg::QuoteByName { update_id, .. } => Some(update_id),
            _ => None,
        }
    }

    /// What a binance_sbe datagram's message counts as when it is not a quote by name: the
    /// counter index (truncated, unknown template, skipped, conversion), or None for a quote.
    pub fn binance_counter(payload: &[u8]) -> Option<usize> {
        match binance::decode(payload) {
            Msg::Truncated => Some(counter::MSG_TRUNCATED),
            Msg::UnknownTemplate => Some(counter::MSG_UNKNOWN_TEMPLATE),
            Msg::Skipped => Some(counter::MSG_SKIPPED),
            Msg::Conversion => Some(counter::MSG_CONVERSION),
            _ => None,
        }
    }

    /// Decodes a deribit_mcast datagram: its messages in order, as `process` applies them (the RTL
    /// decoder's testbench compares its records with these).
    pub fn decode_deribit<'a>(payload: &'a [u8], emit: impl FnMut(Msg<'a>)) {
        deribit::decode(payload, emit)
    }

    /// The instrument a venue's symbol is bound to.
    pub fn lookup(&self, venue: usize, name: &[u8]) -> Option<usize> {
        self.det.symbols.get(venue, name).map(usize::from)
    }

    /// The quote update alone (a quote without a bookUpdateId).
    pub fn store(&mut self, venue: usize, instrument: usize, q: &Quote, ts_ns: u64) {
        self.store_from(venue, instrument, q, None, ts_ns);
    }

    /// The quote update of a deribit_mcast quote whose frame was checked by channel slot
    /// `source.0` with sequence `source.1` (None: untracked, or no sequence).
    pub fn store_from(
        &mut self,
        venue: usize,
        instrument: usize,
        q: &Quote,
        source: Option<(usize, u32)>,
        ts_ns: u64,
    ) {
        let source = source.map(|(slot, seq)| Source { slot, seq });
        self.det.book.store(
            venue,
            instrument,
            q,
            None,
            source,
            ts_ns,
            &mut self.det.counters,
        );
    }

    /// A gap frame of sequence `seq` on channel slot `slot` of `venue`: the entries that
    /// slot's earlier frames wrote become stale.
    pub fn gap(&mut self, venue: usize, slot: usize, seq: u32) {
        self.det.book.gap(venue, slot, seq);
    }

    /// The quote update with binance_sbe's bookUpdateId check (PIPELINE section 6): false for
    /// a quote dropped as out of order (nothing written); `update_id` None stores as `store`.
    pub fn store_checked(
        &mut self,
        venue: usize,
        instrument: usize,
        q: &Quote,
        update_id: Option<i64>,
        ts_ns: u64,
    ) -> bool {
        let book = &mut self.det.book;
        if update_id.is_some_and(|id| !book.update_id_ok(venue, instrument, id)) {
            return false;
        }
        book.store(
            venue,
            instrument,
            q,
            update_id,
            None,
            ts_ns,
            &mut self.det.counters,
        );
        true
    }

    /// The cross check of the entry just stored; returns the number of events (dropped).
    pub fn detect(&mut self, venue: usize, instrument: usize, ts_ns: u64) -> usize {
        self.detect_keyed(venue, instrument, ts_ns, 0)
    }

    /// `detect` with the update's feed key, which its events carry.
    pub fn detect_keyed(
        &mut self,
        venue: usize,
        instrument: usize,
        ts_ns: u64,
        feed_key: u64,
    ) -> usize {
        self.det.events.clear();
        self.det.book.detect(
            venue,
            instrument,
            ts_ns,
            feed_key,
            &mut self.det.counters,
            &mut self.det.events,
        );
        self.det.events.len()
    }

    /// The events of the last `detect`, in order (sequence numbers count from 0 per `Stages`).
    pub fn events(&self) -> &[Event] {
        &self.det.events
    }

    /// The quote table as the stages have left it.
    pub fn quote_table(&self) -> &QuoteTable {
        &self.det.book.quotes
    }

    /// `clear_state`: empties the quote table (and the bindings) and restarts sequence numbers.
    pub fn clear_state(&mut self) {
        self.det.clear_state();
    }
}

impl Detector for SwDetector {
    fn name(&self) -> &'static str {
        "sw"
    }

    fn push_frame(&mut self, frame: &Frame) -> Result<(), DetectError> {
        self.process(frame.ts_ns, &frame.data, frame.bad);
        Ok(())
    }

    fn drain_events(&mut self, out: &mut Vec<Event>) -> Result<(), DetectError> {
        // `append` keeps our buffer's capacity for the next frames.
        if !self.events.is_empty() {
            out.append(&mut self.events);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DetectError> {
        Ok(())
    }

    fn counters(&mut self) -> Result<Counters, DetectError> {
        Ok(self.counters.clone())
    }

    fn quotes(&mut self) -> Result<QuoteTable, DetectError> {
        Ok(self.book.quotes.clone())
    }
}
