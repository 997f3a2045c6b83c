//! tc_quote_detect on its own (Verilated, default parameters: 8 venues x 256 instruments),
//! against the software path's quote update and cross check (tickcross_swpath::Stages).
//!
//! Updates stream in on the committed port as fast as the stage takes them, with bus reads of
//! the quote table and of the edges interleaved at random (a read holds the next update back).
//! For every update the hardware's events (zero, one or two, in the cycle the update is applied)
//! must equal the software's for the same update, field for field; every bus read must return
//! the entry or edge as the software has it after the updates applied before the read. Prices
//! and quantities come from small sets so that ties, empty sides (a zero price or quantity) and
//! exact-edge differences are common; edges are negative, zero and positive. The speculative port
//! (a quote started before its frame's verdict) is checked for good, bad and rejected frames with
//! the verdict arriving before, with, and after the rows are read. Every test runs twice: at
//! MEM_REG = 0 (the default build) and at MEM_REG = 1 (every block RAM read registered: updates
//! applied and bus reads answered one cycle later).
//!
//! Stale quotes (PIPELINE section 6): deribit_mcast updates carry their source (channel,
//! sequence, tracked) and gap records (s_gap) set a channel slot's gap marker; the software's
//! `Stages::store_from` / `Stages::gap` are the reference, events and the quote window's flags
//! word (bit 1 = stale) included.

use proptest::prelude::*;
use std::collections::VecDeque;
use tickcross_bindings::quote_word;
use tickcross_core::event::Event;
use tickcross_core::program::{Program, Protocol};
use tickcross_core::quotes::{QuoteEntry, N_INSTRUMENTS, N_VENUES};
use tickcross_sim::ffi::tc_quote_detect::{inp, out};
use tickcross_sim::model::{Model, QUOTE_DETECT, QUOTE_DETECT_MEM_REG};
use tickcross_swpath::{Quote, Stages};

/// Record kinds on l2_kind (tc_pipeline.vh).
const K_QUOTE: u64 = 5;
const K_NONE: u64 = 0;

/// One update: venue, instrument, the quote, its frame's timestamp and cycle stamps.
#[derive(Debug, Clone, Copy)]
struct Upd {
    venue: usize,
    instrument: usize,
    q: Quote,
    ts: u64,
    cyc: [u64; 3],
    /// bookUpdateId (s_has_uid, s_key); a speculative update always has one (0 for None)
    uid: Option<i64>,
    /// deribit_mcast source: (channelId, sequence, tracked), s_key = channel << 48 | seq << 16
    src: Option<(u16, u32, bool)>,
    /// not a quote: a gap record for `src`'s channel and sequence (s_gap)
    gap: bool,
}

impl Upd {
    /// The feed key on s_key: the bookUpdateId, or {channel, sequence, index} (the index bits
    /// are whatever the decoder counted: the stage passes them to the events, and keeps the
    /// rest of the key as the entry's source), or a key made of the timestamp.
    fn key(&self) -> u64 {
        match (self.uid, self.src) {
            (Some(id), _) => id as u64,
            (None, Some((ch, seq, _))) => (u64::from(ch) << 48) | (u64::from(seq) << 16) | 0x1234,
            (None, None) => self.ts.rotate_left(13),
        }
    }

    /// The software's channel slot and sequence of a tracked source.
    fn sw_source(&self) -> Option<(usize, u32)> {
        self.src
            .filter(|s| s.2)
            .map(|(ch, seq, _)| (usize::from(ch) % (1 << tickcross_swpath::CHAN_BITS), seq))
    }
}

/// An event as the stage emits it (no sequence number: the ring assigns those; no commit cycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HwEvent {
    instrument: usize,
    buy_venue: u8,
    sell_venue: u8,
    trigger_venue: u8,
    trigger_sell: bool,
    buy_price: i64,
    buy_qty: i64,
    sell_price: i64,
    sell_qty: i64,
    qty: i64,
    ts: u64,
    buy_ts: u64,
    sell_ts: u64,
    cyc: [u64; 3],
    feed_key: u64,
}

impl HwEvent {
    /// The software's event with the update's cycle stamps (which the stage passes through).
    fn from_sw(e: &Event, cyc: [u64; 3]) -> HwEvent {
        HwEvent {
            instrument: usize::from(e.instrument),
            buy_venue: e.buy_venue,
            sell_venue: e.sell_venue,
            trigger_venue: e.trigger_venue,
            trigger_sell: e.trigger_sell,
            buy_price: e.buy_price,
            buy_qty: e.buy_qty,
            sell_price: e.sell_price,
            sell_qty: e.sell_qty,
            qty: e.qty,
            ts: e.ts_ns,
            buy_ts: e.buy_ts_ns,
            sell_ts: e.sell_ts_ns,
            cyc,
            feed_key: e.feed_key,
        }
    }
}

/// The events the outputs show this cycle (sampled before the edge).
fn events_now(m: &Model) -> Vec<HwEvent> {
    let o = &m.out;
    let mut v = Vec::new();
    if o[out::EV_VALID] != 0 {
        v.push(HwEvent {
            instrument: o[out::EV_INSTRUMENT] as usize,
            buy_venue: o[out::EV_BUY_VENUE] as u8,
            sell_venue: o[out::EV_SELL_VENUE] as u8,
            trigger_venue: o[out::EV_TRIGGER_VENUE] as u8,
            trigger_sell: o[out::EV_TRIGGER_SELL] != 0,
            buy_price: o[out::EV_BUY_PX] as i64,
            buy_qty: o[out::EV_BUY_QTY] as i64,
            sell_price: o[out::EV_SELL_PX] as i64,
            sell_qty: o[out::EV_SELL_QTY] as i64,
            qty: o[out::EV_QTY] as i64,
            ts: o[out::EV_TS],
            buy_ts: o[out::EV_BUY_TS],
            sell_ts: o[out::EV_SELL_TS],
            cyc: [
                o[out::EV_CYC_FRAME],
                o[out::EV_CYC_FIRST],
                o[out::EV_CYC_LAST],
            ],
            feed_key: o[out::EV_FEED_KEY],
        });
        if o[out::EV2_VALID] != 0 {
            // the second shares the first's instrument, trigger venue, ts and stamps
            v.push(HwEvent {
                buy_venue: o[out::EV2_BUY_VENUE] as u8,
                sell_venue: o[out::EV2_SELL_VENUE] as u8,
                trigger_sell: o[out::EV2_TRIGGER_SELL] != 0,
                buy_price: o[out::EV2_BUY_PX] as i64,
                buy_qty: o[out::EV2_BUY_QTY] as i64,
                sell_price: o[out::EV2_SELL_PX] as i64,
                sell_qty: o[out::EV2_SELL_QTY] as i64,
                qty: o[out::EV2_QTY] as i64,
                buy_ts: o[out::EV2_BUY_TS],
                sell_ts: o[out::EV2_SELL_TS],
                ..v[0]
            });
        }
    } else {
        assert_eq!(o[out::EV2_VALID], 0, "a second event without a first");
    }
    v
}

/// The stage under test and its software reference.
struct Bench {
    m: Model,
    sw: Stages,
    edges: Vec<i64>,
    /// Cycle (index of the next tick).
    now: u64,
    /// Updates the stage applied (inc_update pulses seen).
    applied: u64,
    /// Updates the stage dropped as out of order (inc_out_of_order pulses seen), and those the
    /// software dropped.
    out_of_order: u64,
    sw_out_of_order: u64,
    /// The model's MEM_REG: the cycles every block RAM read takes beyond the first.
    mem_reg: u64,
}

fn program(edges: &[i64]) -> Program {
    Program {
        // every venue index can hold quotes (the software scans venues 0..venues.len())
        venues: vec![Some(Protocol::BinanceSbe); N_VENUES],
        filters: Vec::new(),
        symbols: Vec::new(),
        edges: edges.to_vec(),
    }
}

impl Bench {
    fn new(edges: &[i64], mem_reg: u64) -> Bench {
        let fns = if mem_reg == 0 {
            &QUOTE_DETECT
        } else {
            &QUOTE_DETECT_MEM_REG
        };
        let mut b = Bench {
            m: Model::new(fns, None).expect("model"),
            sw: Stages::new(&program(edges)).expect("program"),
            edges: edges.to_vec(),
            now: 0,
            applied: 0,
            out_of_order: 0,
            sw_out_of_order: 0,
            mem_reg,
        };
        b.m.inp[inp::RST] = 1;
        b.tick();
        b.tick();
        b.m.inp[inp::RST] = 0;
        b.settle();
        for (i, &e) in edges.iter().enumerate() {
            b.m.inp[inp::EDGE_WR] = 1;
            b.m.inp[inp::EDGE_ADDR] = i as u64;
            b.m.inp[inp::EDGE_DATA] = e as u64;
            b.tick();
        }
        b.m.inp[inp::EDGE_WR] = 0;
        b
    }

    /// One cycle; returns the events the outputs showed.
    fn tick(&mut self) -> Vec<HwEvent> {
        self.m.tick();
        self.now += 1;
        self.applied += self.m.out[out::INC_UPDATE];
        self.out_of_order += self.m.out[out::INC_OUT_OF_ORDER];
        events_now(&self.m)
    }

    /// Waits out a table sweep (after reset or clear): `clearing` low, nothing in flight.
    fn settle(&mut self) {
        for _ in 0..(N_INSTRUMENTS + 8) {
            let ev = self.tick();
            assert!(ev.is_empty(), "an event while clearing");
            if self.m.out[out::CLEARING] == 0 && self.m.out[out::BUSY] == 0 {
                return;
            }
        }
        panic!("the table sweep did not finish");
    }

    fn set_update(&mut self, u: &Upd) {
        let i = &mut self.m.inp;
        i[inp::S_VENUE] = u.venue as u64;
        i[inp::S_INSTRUMENT] = u.instrument as u64;
        i[inp::S_BID_PX] = u.q.bid_price as u64;
        i[inp::S_BID_QTY] = u.q.bid_qty as u64;
        i[inp::S_ASK_PX] = u.q.ask_price as u64;
        i[inp::S_ASK_QTY] = u.q.ask_qty as u64;
        i[inp::S_TS] = u.ts;
        i[inp::S_CYC_FRAME] = u.cyc[0];
        i[inp::S_CYC_FIRST] = u.cyc[1];
        i[inp::S_CYC_LAST] = u.cyc[2];
        i[inp::S_HAS_UID] = u64::from(u.uid.is_some());
        i[inp::S_KEY] = u.key();
        i[inp::S_TRACKED] = u64::from(u.src.is_some_and(|s| s.2));
        i[inp::S_GAP] = u64::from(u.gap);
    }

    /// The software's side of applying `u`: its events with the update's stamps.
    fn sw_apply(&mut self, u: &Upd) -> Vec<HwEvent> {
        if u.gap {
            let (slot, seq) = u.sw_source().expect("a gap record has a tracked source");
            self.sw.gap(u.venue, slot, seq);
            return Vec::new();
        }
        if u.src.is_some() {
            self.sw
                .store_from(u.venue, u.instrument, &u.q, u.sw_source(), u.ts);
        } else if !self
            .sw
            .store_checked(u.venue, u.instrument, &u.q, u.uid, u.ts)
        {
            self.sw_out_of_order += 1;
            return Vec::new();
        }
        self.sw.detect_keyed(u.venue, u.instrument, u.ts, u.key());
        self.sw
            .events()
            .iter()
            .map(|e| HwEvent::from_sw(e, u.cyc))
            .collect()
    }

    /// The six words of entry `(v, i)` as the quote window shows them.
    fn sw_words(&self, v: usize, i: usize) -> [u64; 6] {
        let t = self.sw.quote_table();
        let e: &QuoteEntry = t.get(v, i);
        let mut w = [0u64; 6];
        w[quote_word::BID_PRICE] = e.bid_price as u64;
        w[quote_word::BID_QTY] = e.bid_qty as u64;
        w[quote_word::ASK_PRICE] = e.ask_price as u64;
        w[quote_word::ASK_QTY] = e.ask_qty as u64;
        w[quote_word::TS] = e.ts_ns;
        w[quote_word::FLAGS] = u64::from(e.valid) | (u64::from(t.stale(v, i)) << 1);
        w
    }

    /// Streams `updates` through the committed port with bus reads interleaved as `reads`
    /// says: before update k, `reads[k % reads.len()]` reads are issued (quote words and edges).
    fn stream(&mut self, updates: &[Upd], reads: &[Vec<Read>]) {
        // updates accepted, in order, with the cycle they will be applied in
        let mut in_flight: std::collections::VecDeque<(u64, Upd)> = Default::default();
        // reads issued, with the cycle their data shows and the data expected
        let mut pending: VecDeque<(u64, Read, u64)> = VecDeque::new();
        let mut next = 0usize;
        let mut reads_left: Vec<Read> = Vec::new();
        let mut read_round = 0usize;
        let applied0 = self.applied;
        let dropped0 = self.sw_out_of_order;
        let mut idle = 0;
        let mut gaps = 0u64;
        while next < updates.len() || !in_flight.is_empty() || !pending.is_empty() {
            // this cycle's inputs
            if reads_left.is_empty() && next < updates.len() && read_round == next {
                if !reads.is_empty() {
                    reads_left = reads[next % reads.len()].clone();
                }
                read_round = next + 1;
            }
            let read = reads_left.pop();
            self.m.inp[inp::Q_RD_EN] = 0;
            self.m.inp[inp::E_RD_EN] = 0;
            match read {
                Some(Read::Quote {
                    venue,
                    instrument,
                    word,
                }) => {
                    self.m.inp[inp::Q_RD_EN] = 1;
                    self.m.inp[inp::Q_RD_VENUE] = venue as u64;
                    self.m.inp[inp::Q_RD_INSTRUMENT] = instrument as u64;
                    self.m.inp[inp::Q_RD_WORD] = word as u64;
                }
                Some(Read::Edge { instrument }) => {
                    self.m.inp[inp::E_RD_EN] = 1;
                    self.m.inp[inp::E_RD_ADDR] = instrument as u64;
                }
                None => {}
            }
            let offer = next < updates.len();
            if offer {
                self.set_update(&updates[next]);
            }
            self.m.inp[inp::S_VALID] = u64::from(offer);
            let hw = self.tick();
            let cyc = self.now - 1;

            // a read issued 1 + MEM_REG cycles ago shows its data now
            if pending.front().is_some_and(|&(at, _, _)| at == cyc) {
                let (_, r, want) = pending.pop_front().unwrap();
                let got = match r {
                    Read::Quote { .. } => self.m.out[out::Q_RD_DATA],
                    Read::Edge { .. } => self.m.out[out::E_RD_DATA],
                };
                assert_eq!(got, want, "cycle {cyc}: bus read {r:?}");
            }
            // this cycle's read sees every write that landed before this cycle
            if let Some(r) = read {
                let want = match r {
                    Read::Quote {
                        venue,
                        instrument,
                        word,
                    } => self.sw_words(venue, instrument)[word],
                    Read::Edge { instrument } => {
                        self.edges.get(instrument).copied().unwrap_or(0) as u64
                    }
                };
                pending.push_back((cyc + 1 + self.mem_reg, r, want));
            }

            // the update applied this cycle (accepted 2 + MEM_REG cycles ago) shows its events now
            let due = in_flight.front().is_some_and(|&(at, _)| at == cyc);
            if due {
                let (_, u) = in_flight.pop_front().unwrap();
                let want = self.sw_apply(&u);
                assert_eq!(hw, want, "cycle {cyc}: update {u:?}");
            } else {
                assert!(
                    hw.is_empty(),
                    "cycle {cyc}: events without an update: {hw:?}"
                );
            }

            let accepted = offer && self.m.out[out::S_READY] != 0;
            if offer && read.is_some() {
                assert!(!accepted, "cycle {cyc}: an update taken during a bus read");
            }
            if accepted && updates[next].gap {
                // a gap record writes its marker as it is taken: no events, no update
                assert!(
                    in_flight.is_empty(),
                    "cycle {cyc}: a gap record beside an update"
                );
                self.sw_apply(&updates[next]);
                gaps += 1;
                next += 1;
                idle = 0;
            } else if accepted {
                in_flight.push_back((cyc + 2 + self.mem_reg, updates[next]));
                next += 1;
                idle = 0;
            } else {
                idle += 1;
                assert!(idle < 16, "cycle {cyc}: the stage stopped taking updates");
            }
        }
        self.m.inp[inp::S_VALID] = 0;
        self.tick();
        let dropped = self.sw_out_of_order - dropped0;
        assert_eq!(
            self.applied - applied0,
            updates.len() as u64 - dropped - gaps,
            "quote_updates"
        );
        assert_eq!(self.out_of_order, self.sw_out_of_order, "msg_out_of_order");
    }

    /// Reads every word of every entry of `instruments` through the bus port and compares the
    /// table with the software's.
    fn check_table(&mut self, instruments: &[usize]) {
        let mut reads = Vec::new();
        for &i in instruments {
            for v in 0..N_VENUES {
                for word in 0..6 {
                    reads.push(Read::Quote {
                        venue: v,
                        instrument: i,
                        word,
                    });
                }
            }
            reads.push(Read::Edge { instrument: i });
        }
        reads.reverse();
        // one read a cycle; each shows its data 1 + MEM_REG cycles after it was issued
        let mut pending: VecDeque<(u64, Read, u64)> = VecDeque::new();
        while !reads.is_empty() || !pending.is_empty() {
            let issued = reads.pop();
            match issued {
                Some(r) => self.issue(r),
                None => {
                    self.m.inp[inp::Q_RD_EN] = 0;
                    self.m.inp[inp::E_RD_EN] = 0;
                }
            }
            let cyc = self.now;
            self.tick();
            if pending.front().is_some_and(|&(at, _, _)| at == cyc) {
                let (_, p, want) = pending.pop_front().unwrap();
                self.compare(p, want);
            }
            if let Some(r) = issued {
                pending.push_back((cyc + 1 + self.mem_reg, r, self.expected(r)));
            }
        }
    }

    fn issue(&mut self, r: Read) {
        self.m.inp[inp::Q_RD_EN] = 0;
        self.m.inp[inp::E_RD_EN] = 0;
        match r {
            Read::Quote {
                venue,
                instrument,
                word,
            } => {
                self.m.inp[inp::Q_RD_EN] = 1;
                self.m.inp[inp::Q_RD_VENUE] = venue as u64;
                self.m.inp[inp::Q_RD_INSTRUMENT] = instrument as u64;
                self.m.inp[inp::Q_RD_WORD] = word as u64;
            }
            Read::Edge { instrument } => {
                self.m.inp[inp::E_RD_EN] = 1;
                self.m.inp[inp::E_RD_ADDR] = instrument as u64;
            }
        }
    }

    fn expected(&self, r: Read) -> u64 {
        match r {
            Read::Quote {
                venue,
                instrument,
                word,
            } => self.sw_words(venue, instrument)[word],
            Read::Edge { instrument } => self.edges.get(instrument).copied().unwrap_or(0) as u64,
        }
    }

    fn compare(&self, r: Read, want: u64) {
        let got = match r {
            Read::Quote { .. } => self.m.out[out::Q_RD_DATA],
            Read::Edge { .. } => self.m.out[out::E_RD_DATA],
        };
        assert_eq!(got, want, "bus read {r:?}");
    }

    /// clear: the sweep empties the table (the software's clear_state).
    fn clear(&mut self) {
        self.m.inp[inp::CLEAR] = 1;
        self.tick();
        self.m.inp[inp::CLEAR] = 0;
        self.tick();
        assert_ne!(self.m.out[out::CLEARING], 0, "clear started no sweep");
        assert_eq!(self.m.out[out::S_READY], 0, "updates taken while clearing");
        self.settle();
        self.sw.clear_state();
    }
}

/// A bus read: one word of a quote entry, or an edge.
#[derive(Debug, Clone, Copy)]
enum Read {
    Quote {
        venue: usize,
        instrument: usize,
        word: usize,
    },
    Edge {
        instrument: usize,
    },
}

// ---------------------------------------------------------------- generators

/// Prices from a small set (ties, zero = empty side) with a few extremes.
fn price() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 95i64..=105,
        2 => Just(0i64),
        1 => Just(i64::MAX / 4),
        1 => 1i64..=3,
    ]
}

fn qty() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 1i64..=4, 1 => Just(0i64), 1 => Just(1i64 << 40)]
}

fn edge() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        -3i64..=3,
        Just(-100),
        Just(100),
        Just(i64::MIN / 4)
    ]
}

/// bookUpdateIds either side of the compare's 32-bit halves: equal high words with low words
/// that differ in their top bit, high words one apart, both signs.
const UID_HALVES: &[i64] = &[
    (1 << 32) - 1,
    1 << 32,
    (1 << 32) + 1,
    (1 << 32) + (1 << 31),
    (1 << 31),
    -(1 << 32),
    -(1 << 32) - 1,
    -(1 << 31),
    i64::MAX,
];

fn upd(instruments: usize) -> impl Strategy<Value = Upd> {
    (
        0..N_VENUES,
        0..instruments,
        (price(), qty(), price(), qty()),
        any::<u64>(),
        any::<[u64; 3]>(),
        // bookUpdateIds from a small range: repeats and reorderings per entry; and about the
        // 32-bit boundary, where the RTL's compare joins its two halves
        prop_oneof![
            Just(None),
            (-3i64..6).prop_map(Some),
            Just(Some(i64::MIN)),
            prop::sample::select(UID_HALVES).prop_map(Some),
        ],
    )
        .prop_map(|(venue, instrument, (bp, bq, ap, aq), ts, cyc, uid)| Upd {
            venue,
            instrument,
            q: Quote {
                bid_price: bp,
                bid_qty: bq,
                ask_price: ap,
                ask_qty: aq,
            },
            ts,
            cyc,
            uid,
            src: None,
            gap: false,
        })
}

fn read(instruments: usize) -> impl Strategy<Value = Read> {
    prop_oneof![
        4 => (0..N_VENUES, 0..instruments, 0usize..6).prop_map(|(venue, instrument, word)| {
            Read::Quote { venue, instrument, word }
        }),
        1 => (0..instruments).prop_map(|instrument| Read::Edge { instrument }),
    ]
}

/// Instruments the generated updates use: a few, so that entries meet often; the last one is
/// the top index.
const HOT: usize = 4;

fn hot(i: usize) -> usize {
    if i == HOT - 1 {
        N_INSTRUMENTS - 1
    } else {
        i
    }
}

/// Generated edges of the hot instruments, placed at their instruments.
fn hot_edges(edges: &[i64]) -> Vec<i64> {
    let mut e = vec![0i64; N_INSTRUMENTS];
    for (i, x) in edges.iter().enumerate() {
        e[hot(i)] = *x;
    }
    e
}

/// Generated bus reads moved onto the hot instruments.
fn hot_reads(reads: Vec<Vec<Read>>) -> Vec<Vec<Read>> {
    reads
        .into_iter()
        .map(|rs| {
            rs.into_iter()
                .map(|r| match r {
                    Read::Quote {
                        venue,
                        instrument,
                        word,
                    } => Read::Quote {
                        venue,
                        instrument: hot(instrument),
                        word,
                    },
                    Read::Edge { instrument } => Read::Edge {
                        instrument: hot(instrument),
                    },
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn updates_and_reads_match_the_software_path(
        edges in proptest::collection::vec(edge(), HOT),
        updates in proptest::collection::vec(upd(HOT), 1..160),
        reads in proptest::collection::vec(proptest::collection::vec(read(HOT), 0..3), 1..8),
    ) {
        let e = hot_edges(&edges);
        let updates: Vec<Upd> = updates
            .into_iter()
            .map(|u| Upd { instrument: hot(u.instrument), ..u })
            .collect();
        let reads = hot_reads(reads);
        let all: Vec<usize> = (0..HOT).map(hot).collect();
        for mem_reg in [0, 1] {
            let mut b = Bench::new(&e, mem_reg);
            b.stream(&updates, &reads);
            b.check_table(&all);
        }
    }
}

fn q(bid_price: i64, bid_qty: i64, ask_price: i64, ask_qty: i64) -> Quote {
    Quote {
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
    }
}

fn u(venue: usize, instrument: usize, quote: Quote, ts: u64) -> Upd {
    Upd {
        venue,
        instrument,
        q: quote,
        ts,
        cyc: [ts + 1, ts + 2, ts + 3],
        uid: None,
        src: None,
        gap: false,
    }
}

#[test]
fn directed_crossings_ties_and_empty_sides() {
    directed(0);
}

#[test]
fn directed_crossings_ties_and_empty_sides_mem_reg() {
    directed(1);
}

fn directed(mem_reg: u64) {
    let mut edges = vec![0i64; N_INSTRUMENTS];
    edges[1] = 5;
    edges[2] = -2;
    let mut b = Bench::new(&edges, mem_reg);
    let ups = vec![
        // instrument 0, edge 0: venues 0 and 7 bid 100 (a tie: the lower index wins)
        u(7, 0, q(100, 2, 101, 2), 10),
        u(0, 0, q(100, 3, 102, 1), 11),
        // venue 3 asks 99 < B = 100: buy on 3, sell on venue 0 (tie), qty min(5, 3)
        u(3, 0, q(98, 1, 99, 5), 12),
        // venue 5 bids 103 > A = 99 (venue 3) and asks 97 < B = 100: both events
        u(5, 0, q(103, 4, 97, 9), 13),
        // an empty bid (zero qty) and an empty ask (zero price) on venue 6: no candidate, no event
        u(6, 0, q(200, 0, 0, 7), 14),
        // instrument 1, edge 5: a difference of exactly 5 is not enough, 6 is
        u(2, 1, q(100, 1, 110, 1), 20),
        u(4, 1, q(90, 1, 95, 1), 21),
        u(1, 1, q(90, 1, 94, 1), 22),
        // instrument 2, edge -2: a difference of -1 crosses
        u(0, 2, q(100, 1, 110, 1), 30),
        u(1, 2, q(90, 1, 101, 1), 31),
        // instrument 255: the top index, and an update replacing a quote that made a cross
        u(0, 255, q(50, 1, 60, 1), 40),
        u(1, 255, q(70, 1, 80, 1), 41),
        u(0, 255, q(0, 0, 0, 0), 42),
        u(1, 255, q(70, 1, 80, 1), 43),
    ];
    b.stream(&ups, &[]);
    b.check_table(&[0, 1, 2, 255]);
    // the software path found events here (the test is not vacuous)
    let mut sw = Stages::new(&program(&edges)).unwrap();
    let mut n = 0;
    for x in &ups {
        sw.store(x.venue, x.instrument, &x.q, x.ts);
        n += sw.detect(x.venue, x.instrument, x.ts);
    }
    assert_eq!(n, 6, "events in the directed sequence");
    b.clear();
    b.check_table(&[0, 1, 2, 255]);
    // after the clear the old quotes are gone: nothing to cross with
    b.stream(&[u(3, 0, q(98, 1, 99, 5), 50)], &[]);
}

/// Drives one speculative update: start at cycle 0 (sp_*), numbers at cycle 1 (l2_*), the
/// frame's END at cycle `end_at` with verdict `ok`; `kind` is what the L2 record says. Returns
/// the events seen.
fn speculate(b: &mut Bench, x: &Upd, kind: u64, end_at: u64, ok: bool) -> Vec<HwEvent> {
    let mut seen = Vec::new();
    let mut t = 0u64;
    loop {
        let i = &mut b.m.inp;
        i[inp::S_VALID] = 0;
        i[inp::SP_VALID] = u64::from(t == 0);
        i[inp::SP_ALLOW] = 1;
        i[inp::SP_VENUE] = x.venue as u64;
        i[inp::SP_INSTRUMENT] = x.instrument as u64;
        i[inp::L2_KIND] = if t == 1 { kind } else { K_NONE };
        i[inp::L2_BID_PX] = x.q.bid_price as u64;
        i[inp::L2_BID_QTY] = x.q.bid_qty as u64;
        i[inp::L2_ASK_PX] = x.q.ask_price as u64;
        i[inp::L2_ASK_QTY] = x.q.ask_qty as u64;
        i[inp::L2_TS] = x.ts;
        i[inp::L2_CYC_FRAME] = x.cyc[0];
        i[inp::L2_CYC_FIRST] = x.cyc[1];
        i[inp::L2_CYC_LAST] = x.cyc[2];
        i[inp::L2_KEY] = x.key();
        i[inp::X_END_VALID] = u64::from(t == end_at);
        i[inp::X_END_OK] = u64::from(ok);
        seen.extend(b.tick());
        if t == 0 {
            assert_ne!(
                b.m.out[out::SP_TAKE],
                0,
                "the speculative start was not taken"
            );
        }
        if t == 1 {
            assert_ne!(b.m.out[out::SP_CLAIM], 0, "the L2 record was not claimed");
        }
        t += 1;
        if t > end_at.max(1) && b.m.out[out::BUSY] == 0 {
            break;
        }
        assert!(t < 32, "the speculative update never finished");
    }
    b.m.inp[inp::SP_VALID] = 0;
    b.m.inp[inp::X_END_VALID] = 0;
    seen
}

#[test]
fn speculative_updates_wait_for_their_frame() {
    speculative(0);
}

#[test]
fn speculative_updates_wait_for_their_frame_mem_reg() {
    speculative(1);
}

fn speculative(mem_reg: u64) {
    let mut b = Bench::new(&[0i64; N_INSTRUMENTS], mem_reg);
    b.stream(&[u(0, 9, q(100, 1, 101, 1), 1)], &[]);
    let crossing = u(1, 9, q(98, 2, 99, 2), 7);
    for end_at in [0u64, 1, 2, 5] {
        // a bad frame: nothing written, no event
        let before = b.applied;
        assert!(speculate(&mut b, &crossing, K_QUOTE, end_at, false).is_empty());
        // a rejected number (the L2 record is no quote): dropped whatever the verdict
        assert!(speculate(&mut b, &crossing, K_NONE, end_at, true).is_empty());
        b.tick();
        assert_eq!(
            b.applied, before,
            "END at {end_at}: a dropped update was counted"
        );
        b.check_table(&[9]);
    }
    for end_at in [0u64, 1, 2, 5] {
        let x = Upd {
            ts: 100 + end_at,
            uid: Some(end_at as i64),
            ..crossing
        };
        let hw = speculate(&mut b, &x, K_QUOTE, end_at, true);
        let want = b.sw_apply(&x);
        assert_eq!(want.len(), 1, "the reference crosses");
        assert_eq!(hw, want, "END at {end_at}");
        b.check_table(&[9]);
    }
    // a bookUpdateId not above the entry's (5): dropped, counted, whatever the verdict's timing
    for (end_at, id) in [(0u64, 5i64), (2, 4), (5, i64::MIN)] {
        let x = Upd {
            ts: 200 + end_at,
            uid: Some(id),
            ..crossing
        };
        let (applied, ooo) = (b.applied, b.out_of_order);
        assert!(speculate(&mut b, &x, K_QUOTE, end_at, true).is_empty());
        assert!(b.sw_apply(&x).is_empty());
        b.tick();
        assert_eq!((b.applied, b.out_of_order), (applied, ooo + 1), "id {id}");
        b.check_table(&[9]);
    }
    // a committed update of the same entry with a lower id is dropped too; a higher one applies
    b.stream(
        &[
            Upd {
                uid: Some(3),
                ..crossing
            },
            Upd {
                ts: 300,
                uid: Some(6),
                ..crossing
            },
        ],
        &[],
    );
    b.check_table(&[9]);
    assert_eq!(b.out_of_order, b.sw_out_of_order);
}

// ---------------------------------------------------------------- stale quotes

/// Channels of the generated deribit_mcast updates: 0, 1 and 66 own the slots 0, 1 and 2; 65
/// shares slot 1 with channel 1, which owns it, so its quotes come untracked.
const CHANNELS: [(u16, bool); 4] = [(0, true), (1, true), (66, true), (65, false)];

/// One generated deribit_mcast item: a quote, or a gap on its channel (the next sequence
/// skips `skip` numbers and the gap record follows).
fn deribit_item(instruments: usize) -> impl Strategy<Value = (Upd, usize, bool, u32)> {
    (
        upd(instruments),
        0..CHANNELS.len(),
        prop::bool::weighted(0.2),
        1u32..4,
    )
}

/// Sequences per (venue, channel), as a channel's frames would carry them: quotes of a channel
/// share its current sequence until a gap moves it on by 1 + `skip` and emits a gap record (a
/// gap frame's own quotes come after its record here, so they compare against the new marker
/// as the hardware's do when the record follows them: either way they are fresh).
fn with_sequences(items: Vec<(Upd, usize, bool, u32)>) -> Vec<Upd> {
    let mut seq = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (x, c, gap, skip) in items {
        let (ch, tracked) = CHANNELS[c];
        let s: &mut u32 = seq.entry((x.venue, ch)).or_insert(1);
        if gap && tracked {
            *s += 1 + skip;
            out.push(Upd {
                uid: None,
                src: Some((ch, *s, true)),
                gap: true,
                ..x
            });
        }
        out.push(Upd {
            uid: None,
            src: Some((ch, *s, tracked)),
            ..x
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn stale_quotes_match_the_software_path(
        edges in proptest::collection::vec(edge(), HOT),
        items in proptest::collection::vec(deribit_item(HOT), 1..160),
        reads in proptest::collection::vec(proptest::collection::vec(read(HOT), 0..3), 1..8),
    ) {
        let e = hot_edges(&edges);
        let items = items
            .into_iter()
            .map(|(u, c, g, k)| (Upd { instrument: hot(u.instrument), ..u }, c, g, k))
            .collect();
        let updates = with_sequences(items);
        let reads = hot_reads(reads);
        let all: Vec<usize> = (0..HOT).map(hot).collect();
        for mem_reg in [0, 1] {
            let mut b = Bench::new(&e, mem_reg);
            b.stream(&updates, &reads);
            b.check_table(&all);
        }
    }
}

fn d(venue: usize, instrument: usize, quote: Quote, ts: u64, src: (u16, u32, bool)) -> Upd {
    Upd {
        src: Some(src),
        ..u(venue, instrument, quote, ts)
    }
}

fn gap(venue: usize, channel: u16, seq: u32) -> Upd {
    Upd {
        src: Some((channel, seq, true)),
        gap: true,
        ..u(venue, 0, q(0, 0, 0, 0), 0)
    }
}

#[test]
fn directed_stale_quotes() {
    directed_stale(0);
}

#[test]
fn directed_stale_quotes_mem_reg() {
    directed_stale(1);
}

fn directed_stale(mem_reg: u64) {
    let mut b = Bench::new(&[0i64; N_INSTRUMENTS], mem_reg);
    // venue 1 (Deribit) bids 105 on instrument 3 from channel 7 (slot 7) at sequence 10, and on
    // instrument 4 from channel 64 + 7, untracked (slot 7 is channel 7's)
    b.stream(
        &[
            d(1, 3, q(105, 1, 106, 1), 1, (7, 10, true)),
            d(1, 4, q(105, 1, 106, 1), 2, (71, 500, false)),
        ],
        &[],
    );
    // a gap on venue 1's channel 7 at sequence 12: instrument 3's entry is stale, 4's is not
    b.stream(&[gap(1, 7, 12)], &[]);
    assert!(b.sw.quote_table().stale(1, 3));
    assert!(!b.sw.quote_table().stale(1, 4));
    b.check_table(&[3, 4]);
    // venue 0 asks 100 on both: only instrument 4 crosses (3's bid of 105 is stale)
    let n_before = b.applied;
    b.stream(
        &[u(0, 3, q(90, 1, 100, 1), 3), u(0, 4, q(90, 1, 100, 1), 4)],
        &[],
    );
    assert_eq!(b.applied, n_before + 2);
    let mut sw = Stages::new(&program(&[0; N_INSTRUMENTS])).unwrap();
    sw.store_from(1, 3, &q(105, 1, 106, 1), Some((7, 10)), 1);
    sw.store_from(1, 4, &q(105, 1, 106, 1), None, 2);
    sw.gap(1, 7, 12);
    sw.store(0, 3, &q(90, 1, 100, 1), 3);
    assert_eq!(sw.detect(0, 3, 3), 0, "a stale bid priced an event");
    sw.store(0, 4, &q(90, 1, 100, 1), 4);
    assert_eq!(sw.detect(0, 4, 4), 1, "the untracked bid did not cross");
    // the gap frame's own quote (sequence 12) is fresh and triggers: sell on 1 at 101 > 100
    b.stream(&[d(1, 3, q(101, 1, 106, 1), 5, (7, 12, true))], &[]);
    assert!(!b.sw.quote_table().stale(1, 3));
    // a later gap makes it stale again; a quote of sequence 20 after the gap at 15 refreshes
    b.stream(&[gap(1, 7, 15), u(0, 3, q(90, 1, 99, 1), 6)], &[]);
    assert!(b.sw.quote_table().stale(1, 3));
    b.check_table(&[3]);
    b.stream(
        &[
            d(1, 3, q(104, 1, 106, 1), 7, (7, 20, true)),
            u(0, 3, q(90, 1, 98, 1), 8),
        ],
        &[],
    );
    assert!(!b.sw.quote_table().stale(1, 3));
    b.check_table(&[3, 4]);
    // clear: every marker and entry is empty again
    b.stream(&[gap(1, 7, 40)], &[]);
    b.check_table(&[3]);
    b.clear();
    b.check_table(&[3, 4]);
    b.stream(
        &[
            d(1, 3, q(105, 1, 106, 1), 9, (7, 1, true)),
            u(0, 3, q(90, 1, 100, 1), 10),
        ],
        &[],
    );
    b.check_table(&[3]);
}
