//! The quote table and cross detection (PIPELINE section 6).

use tickcross_bindings::counter;

use crate::message::Quote;
use crate::sequence::{Source, CHAN_SLOTS};
use tickcross_core::counters::Counters;
use tickcross_core::event::Event;
use tickcross_core::price9::Price9;
use tickcross_core::quotes::{QuoteEntry, QuoteTable, N_INSTRUMENTS, N_VENUES};

#[derive(Debug, Clone)]
pub(crate) struct Book {
    pub(crate) quotes: QuoteTable,
    edges: [Price9; N_INSTRUMENTS],
    /// Venues that can hold quotes; the others' entries stay empty, so they need no scan.
    n_venues: usize,
    next_seq: u64,
    /// binance_sbe: the bookUpdateId of the quote that last wrote each entry (venue-major),
    /// None for an entry no Binance quote has written since `clear_state`.
    update_ids: Vec<Option<i64>>,
    /// deribit_mcast: the channel slot and frame sequence that last wrote each entry
    /// (venue-major), None for an entry written otherwise (Binance, an untracked channel).
    sources: Vec<Option<Source>>,
    /// Per (venue, channel slot): the sequence of the channel's last gap frame (0 before any:
    /// no sequence is below it). Sequences never wrap (section 4a), so an entry is stale iff
    /// its source is that slot with a sequence below this.
    gap_seq: Vec<u32>,
}

impl Book {
    /// `edges` has at most N_INSTRUMENTS entries (missing ones are 0); `n_venues` at most
    /// N_VENUES.
    pub(crate) fn new(edges: &[Price9], n_venues: usize) -> Book {
        let mut e = [0; N_INSTRUMENTS];
        e[..edges.len()].copy_from_slice(edges);
        Book {
            quotes: QuoteTable::default(),
            edges: e,
            n_venues,
            next_seq: 0,
            update_ids: vec![None; N_VENUES * N_INSTRUMENTS],
            sources: vec![None; N_VENUES * N_INSTRUMENTS],
            gap_seq: vec![0; N_VENUES * CHAN_SLOTS],
        }
    }

    /// Empties the table and restarts sequence numbers (`clear_state`).
    pub(crate) fn clear(&mut self) {
        self.quotes = QuoteTable::default();
        self.next_seq = 0;
        self.update_ids.fill(None);
        self.sources.fill(None);
        self.gap_seq.fill(0);
    }

    /// A gap frame of sequence `seq` on channel slot `slot` of venue `v` (section 4a): every
    /// entry that slot's earlier frames wrote becomes stale (the table's flags are kept up to
    /// date here, so the dump and the detection read them as they are).
    pub(crate) fn gap(&mut self, v: usize, slot: usize, seq: u32) {
        self.gap_seq[v * CHAN_SLOTS + slot] = seq;
        for i in 0..N_INSTRUMENTS {
            if let Some(src) = self.sources[v * N_INSTRUMENTS + i] {
                if src.slot == slot && src.seq < seq {
                    self.quotes.set_stale(v, i, true);
                }
            }
        }
    }

    /// Whether an entry written from `source` on venue `v` is stale now (section 6).
    fn is_stale(&self, v: usize, source: Option<Source>) -> bool {
        source.is_some_and(|s| s.seq < self.gap_seq[v * CHAN_SLOTS + s.slot])
    }

    /// binance_sbe's bookUpdateId check (PIPELINE section 6): false for a quote of `(v, i)`
    /// that must be dropped as out of order (the entry holds an id not below `id`).
    pub(crate) fn update_id_ok(&self, v: usize, i: usize, id: i64) -> bool {
        match self.update_ids[v * N_INSTRUMENTS + i] {
            Some(last) => id > last,
            None => true,
        }
    }

    /// Writes `(v, i)` and checks it against the other venues.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn update(
        &mut self,
        v: usize,
        i: usize,
        q: &Quote,
        update_id: Option<i64>,
        source: Option<Source>,
        feed_key: u64,
        ts_ns: u64,
        counters: &mut Counters,
        events: &mut Vec<Event>,
    ) {
        self.store(v, i, q, update_id, source, ts_ns, counters);
        self.detect(v, i, ts_ns, feed_key, counters, events);
    }

    /// The quote update alone: writes `(v, i)`; the entry keeps `update_id` as its last
    /// applied bookUpdateId (a quote without one, Deribit's, leaves it without) and `source`
    /// as where it came from (a quote is never stale as it is written: its frame's sequence is
    /// not below its channel's last gap).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store(
        &mut self,
        v: usize,
        i: usize,
        q: &Quote,
        update_id: Option<i64>,
        source: Option<Source>,
        ts_ns: u64,
        counters: &mut Counters,
    ) {
        self.update_ids[v * N_INSTRUMENTS + i] = update_id;
        self.sources[v * N_INSTRUMENTS + i] = source;
        let stale = self.is_stale(v, source);
        self.quotes.set_stale(v, i, stale);
        let me = QuoteEntry {
            bid_price: q.bid_price,
            bid_qty: q.bid_qty,
            ask_price: q.ask_price,
            ask_qty: q.ask_qty,
            ts_ns,
            valid: true,
        };
        *self.quotes.get_mut(v, i) = me;
        counters.add(counter::QUOTE_UPDATES, 1);
    }

    /// The cross check of `(v, i)` against the other venues (PIPELINE section 6); its events
    /// carry the update's `feed_key`.
    pub(crate) fn detect(
        &mut self,
        v: usize,
        i: usize,
        ts_ns: u64,
        feed_key: u64,
        counters: &mut Counters,
        events: &mut Vec<Event>,
    ) {
        // A stale entry counts as if both its sides were empty.
        if self.quotes.stale(v, i) {
            return;
        }
        let me = *self.quotes.get(v, i);

        // Ascending venue order with strict comparisons: ties go to the lowest index.
        let mut best_bid: Option<(usize, &QuoteEntry)> = None;
        let mut best_ask: Option<(usize, &QuoteEntry)> = None;
        for w in (0..self.n_venues).filter(|&w| w != v && !self.quotes.stale(w, i)) {
            let o = self.quotes.get(w, i);
            let higher_bid = match best_bid {
                None => true,
                Some((_, b)) => o.bid_price > b.bid_price,
            };
            if !o.bid_empty() && higher_bid {
                best_bid = Some((w, o));
            }
            let lower_ask = match best_ask {
                None => true,
                Some((_, a)) => o.ask_price < a.ask_price,
            };
            if !o.ask_empty() && lower_ask {
                best_ask = Some((w, o));
            }
        }

        // Prices are never negative, so the differences cannot overflow.
        let edge = self.edges[i];
        let mut emit = |buy: (usize, &QuoteEntry), sell: (usize, &QuoteEntry), trigger_sell| {
            let (bv, b) = buy;
            let (sv, s) = sell;
            events.push(Event {
                seq: self.next_seq,
                instrument: i as u16,
                buy_venue: bv as u8,
                sell_venue: sv as u8,
                trigger_venue: v as u8,
                trigger_sell,
                buy_price: b.ask_price,
                buy_qty: b.ask_qty,
                sell_price: s.bid_price,
                sell_qty: s.bid_qty,
                qty: b.ask_qty.min(s.bid_qty),
                ts_ns,
                buy_ts_ns: b.ts_ns,
                sell_ts_ns: s.ts_ns,
                cycles: None,
                feed_key,
            });
            self.next_seq += 1;
            counters.add(counter::EVENTS, 1);
        };
        if let Some(b) = best_bid {
            if !me.ask_empty() && b.1.bid_price - me.ask_price > edge {
                emit((v, &me), b, false);
            }
        }
        if let Some(a) = best_ask {
            if !me.bid_empty() && me.bid_price - a.1.ask_price > edge {
                emit(a, (v, &me), true);
            }
        }
    }
}
