//! tc_event_ring on its own (Verilated, default parameters: 1024 records), against a reference
//! ring written from docs/PIPELINE.md section 7 and the contract's record layout
//! (`EventRecord::encode`).
//!
//! Each cycle may carry no event, one, or two (the second shares the first's instrument, trigger
//! venue, timestamp and cycle stamps). Every event takes the next sequence number; it is written
//! at index producer mod 1024 unless producer - consumer has reached 1024, in which case it is
//! dropped and counted. The consumer (the host) lags behind for long stretches, so the ring
//! fills and overflows, including the case where only the first of two events fits. Records are
//! read back by index and word through the read port and must equal the reference's encoding,
//! stamped with the cycle they were committed in. `clear` restarts sequence and producer.
//!
//! Every test runs twice: at MEM_REG = 0 (the default build) and at MEM_REG = 1, where a read's
//! data comes a cycle later and the ring judges its room by the consumer of two cycles before.

use proptest::prelude::*;
use std::collections::VecDeque;
use tickcross_bindings::params;
use tickcross_bindings::record::{EventRecord, Meta};
use tickcross_sim::ffi::tc_event_ring::{inp, out};
use tickcross_sim::model::{Model, EVENT_RING, EVENT_RING_MEM_REG};

const DEPTH: u64 = params::RING_RECORDS;
const WORDS: usize = params::RECORD_WORDS as usize;

/// The per-event fields of one input port (the second port has no instrument, trigger venue,
/// ts or cycle stamps of its own).
#[derive(Debug, Clone, Copy)]
struct Ev {
    buy_venue: u8,
    sell_venue: u8,
    trigger_sell: bool,
    buy_px: i64,
    buy_qty: i64,
    sell_px: i64,
    sell_qty: i64,
    qty: i64,
    buy_ts: u64,
    sell_ts: u64,
}

/// What the first port carries besides its event.
#[derive(Debug, Clone, Copy)]
struct Shared {
    instrument: u16,
    trigger_venue: u8,
    ts: u64,
    cyc: [u64; 3],
    feed_key: u64,
}

#[derive(Debug, Clone, Copy)]
enum Consumer {
    /// The host does nothing this cycle.
    Keep,
    /// The host reads everything: consumer = producer.
    CatchUp,
    /// The host acknowledges this many more records (at most what is there).
    Advance(u64),
}

#[derive(Debug, Clone, Copy)]
struct Step {
    events: Option<(Shared, Ev, Option<Ev>)>,
    consumer: Consumer,
    /// A read of record `producer - 1 - back` (mod the depth), word `word`.
    read: Option<(u64, usize)>,
}

/// The reference ring.
struct RefRing {
    seq: u64,
    producer: u64,
    records: Vec<Option<[u64; WORDS]>>,
}

impl RefRing {
    fn new() -> RefRing {
        RefRing {
            seq: 0,
            producer: 0,
            records: vec![None; DEPTH as usize],
        }
    }

    fn record(seq: u64, s: &Shared, e: &Ev, cycle: u64) -> [u64; WORDS] {
        EventRecord {
            seq,
            meta: Meta {
                instrument: s.instrument,
                buy_venue: e.buy_venue,
                sell_venue: e.sell_venue,
                trigger_venue: s.trigger_venue,
                trigger_side: e.trigger_sell,
                valid: true,
            },
            buy_price: e.buy_px,
            buy_qty: e.buy_qty,
            sell_price: e.sell_px,
            sell_qty: e.sell_qty,
            qty: e.qty,
            ts: s.ts,
            buy_ts: e.buy_ts,
            sell_ts: e.sell_ts,
            cyc_frame: s.cyc[0],
            cyc_first: s.cyc[1],
            cyc_last: s.cyc[2],
            cyc_commit: cycle,
            feed_key: s.feed_key,
        }
        .encode()
        .expect("the event's fields fit the record")
    }

    /// One cycle's events; returns (events, of them dropped).
    fn push(&mut self, s: &Shared, events: &[Ev], consumer: u64, cycle: u64) -> (u64, u64) {
        let mut dropped = 0;
        for e in events {
            if self.producer - consumer < DEPTH {
                self.records[(self.producer % DEPTH) as usize] =
                    Some(Self::record(self.seq, s, e, cycle));
                self.producer += 1;
            } else {
                dropped += 1;
            }
            self.seq += 1;
        }
        (events.len() as u64, dropped)
    }
}

struct Bench {
    m: Model,
    r: RefRing,
    consumer: u64,
    /// The model's MEM_REG (1: reads a cycle later, the consumer counts two cycles later).
    mem_reg: u64,
    /// The consumer input of the last two cycles run, the last first (MEM_REG = 1 judges the
    /// room by the older).
    consumer_in: [u64; 2],
    /// Totals of inc_event / inc_overflow as the ring reported them.
    events: u64,
    overflows: u64,
    /// Totals the reference expects.
    want_events: u64,
    want_overflows: u64,
    /// Reads issued, with the model cycle count after which their data shows, and the expected
    /// word (None: the record was never written).
    pending: VecDeque<(u64, (u64, usize), Option<u64>)>,
    reads_checked: u64,
}

impl Bench {
    fn new(mem_reg: u64) -> Bench {
        let fns = if mem_reg == 0 {
            &EVENT_RING
        } else {
            &EVENT_RING_MEM_REG
        };
        let mut b = Bench {
            m: Model::new(fns, None).expect("model"),
            r: RefRing::new(),
            consumer: 0,
            mem_reg,
            consumer_in: [0; 2],
            events: 0,
            overflows: 0,
            want_events: 0,
            want_overflows: 0,
            pending: VecDeque::new(),
            reads_checked: 0,
        };
        b.m.inp[inp::RST] = 1;
        b.tick();
        b.tick();
        b.m.inp[inp::RST] = 0;
        b
    }

    /// The cycle number the ring is told (its commit stamp): something that changes every cycle
    /// and is not the model's own count.
    fn cycle_value(&self) -> u64 {
        self.m.cycles().wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x1234
    }

    fn set_ev(&mut self, s: &Shared, e: &Ev) {
        let i = &mut self.m.inp;
        i[inp::EV_VALID] = 1;
        i[inp::EV_INSTRUMENT] = u64::from(s.instrument);
        i[inp::EV_TRIGGER_VENUE] = u64::from(s.trigger_venue);
        i[inp::EV_TS] = s.ts;
        i[inp::EV_CYC_FRAME] = s.cyc[0];
        i[inp::EV_CYC_FIRST] = s.cyc[1];
        i[inp::EV_CYC_LAST] = s.cyc[2];
        i[inp::EV_FEED_KEY] = s.feed_key;
        i[inp::EV_BUY_VENUE] = u64::from(e.buy_venue);
        i[inp::EV_SELL_VENUE] = u64::from(e.sell_venue);
        i[inp::EV_TRIGGER_SELL] = u64::from(e.trigger_sell);
        i[inp::EV_BUY_PX] = e.buy_px as u64;
        i[inp::EV_BUY_QTY] = e.buy_qty as u64;
        i[inp::EV_SELL_PX] = e.sell_px as u64;
        i[inp::EV_SELL_QTY] = e.sell_qty as u64;
        i[inp::EV_QTY] = e.qty as u64;
        i[inp::EV_BUY_TS] = e.buy_ts;
        i[inp::EV_SELL_TS] = e.sell_ts;
    }

    fn set_ev2(&mut self, e: &Ev) {
        let i = &mut self.m.inp;
        i[inp::EV2_VALID] = 1;
        i[inp::EV2_BUY_VENUE] = u64::from(e.buy_venue);
        i[inp::EV2_SELL_VENUE] = u64::from(e.sell_venue);
        i[inp::EV2_TRIGGER_SELL] = u64::from(e.trigger_sell);
        i[inp::EV2_BUY_PX] = e.buy_px as u64;
        i[inp::EV2_BUY_QTY] = e.buy_qty as u64;
        i[inp::EV2_SELL_PX] = e.sell_px as u64;
        i[inp::EV2_SELL_QTY] = e.sell_qty as u64;
        i[inp::EV2_QTY] = e.qty as u64;
        i[inp::EV2_BUY_TS] = e.buy_ts;
        i[inp::EV2_SELL_TS] = e.sell_ts;
    }

    /// Runs one cycle, keeping the consumer it saw.
    fn tick(&mut self) {
        self.consumer_in = [self.m.inp[inp::CONSUMER], self.consumer_in[0]];
        self.m.tick();
    }

    /// One cycle.
    fn step(&mut self, st: &Step) {
        // the consumer register as the host leaves it before this cycle
        match st.consumer {
            Consumer::Keep => {}
            Consumer::CatchUp => self.consumer = self.r.producer,
            Consumer::Advance(n) => {
                self.consumer = (self.consumer + n).min(self.r.producer);
            }
        }
        let cycle = self.cycle_value();
        self.m.inp[inp::CONSUMER] = self.consumer;
        self.m.inp[inp::CYCLE] = cycle;
        self.m.inp[inp::EV_VALID] = 0;
        self.m.inp[inp::EV2_VALID] = 0;
        // the read sees the records written before this cycle
        self.m.inp[inp::RD_EN] = 0;
        let due = self.m.cycles() + 2 + self.mem_reg;
        let read = st.read.map(|(back, word)| {
            let index = (self.r.producer + 2 * DEPTH - 1 - back % DEPTH) % DEPTH;
            self.m.inp[inp::RD_EN] = 1;
            self.m.inp[inp::RD_INDEX] = index;
            self.m.inp[inp::RD_WORD] = word as u64;
            let want = self.r.records[index as usize].map(|w| w[word]);
            (due, (index, word), want)
        });
        if let Some((s, e, e2)) = &st.events {
            self.set_ev(s, e);
            let mut evs = vec![*e];
            if let Some(e2) = e2 {
                self.set_ev2(e2);
                evs.push(*e2);
            }
            let seen = if self.mem_reg == 0 {
                self.consumer
            } else {
                self.consumer_in[1]
            };
            let (n, dropped) = self.r.push(s, &evs, seen, cycle);
            self.want_events += n;
            self.want_overflows += dropped;
        }
        self.tick();
        self.collect();
        self.pending.extend(read);
    }

    /// Checks what the outputs show this cycle: last cycle's read and counts, and the producer.
    fn collect(&mut self) {
        let o = &self.m.out;
        // a read issued 1 + MEM_REG cycles before the one just run shows its data now
        if self
            .pending
            .front()
            .is_some_and(|&(due, _, _)| due == self.m.cycles())
        {
            if let Some((_, (index, word), Some(want))) = self.pending.pop_front() {
                assert_eq!(
                    o[out::RD_DATA],
                    want,
                    "record {index} word {word} (producer {})",
                    self.r.producer
                );
                self.reads_checked += 1;
            }
        }
        self.events += o[out::INC_EVENT];
        self.overflows += o[out::INC_OVERFLOW];
    }

    /// Lets the registered outputs catch up and compares the totals and the producer.
    fn check(&mut self) {
        self.step(&Step {
            events: None,
            consumer: Consumer::Keep,
            read: None,
        });
        self.tick();
        self.collect();
        assert_eq!(self.m.out[out::PRODUCER], self.r.producer, "producer");
        assert_eq!(
            (self.events, self.overflows),
            (self.want_events, self.want_overflows),
            "events and overflows counted"
        );
    }

    /// Reads every word of every record the reference holds and compares.
    fn read_all(&mut self) {
        for back in 0..DEPTH {
            for word in 0..WORDS {
                self.step(&Step {
                    events: None,
                    consumer: Consumer::Keep,
                    read: Some((back, word)),
                });
            }
        }
        self.check();
    }

    fn clear(&mut self) {
        self.m.inp[inp::CLEAR] = 1;
        self.m.inp[inp::EV_VALID] = 0;
        self.m.inp[inp::RD_EN] = 0;
        self.tick();
        self.m.inp[inp::CLEAR] = 0;
        self.collect();
        // the records stay; sequence and producer restart (the host's consumer too)
        self.r.seq = 0;
        self.r.producer = 0;
        self.consumer = 0;
        self.check();
    }
}

fn ev() -> impl Strategy<Value = Ev> {
    (
        0u8..8,
        0u8..8,
        any::<bool>(),
        any::<[i64; 5]>(),
        any::<[u64; 2]>(),
    )
        .prop_map(|(buy_venue, sell_venue, trigger_sell, n, t)| Ev {
            buy_venue,
            sell_venue,
            trigger_sell,
            buy_px: n[0],
            buy_qty: n[1],
            sell_px: n[2],
            sell_qty: n[3],
            qty: n[4],
            buy_ts: t[0],
            sell_ts: t[1],
        })
}

fn shared() -> impl Strategy<Value = Shared> {
    (
        0u16..256,
        0u8..8,
        any::<u64>(),
        any::<[u64; 3]>(),
        any::<u64>(),
    )
        .prop_map(|(instrument, trigger_venue, ts, cyc, feed_key)| Shared {
            instrument,
            trigger_venue,
            ts,
            cyc,
            feed_key,
        })
}

fn step() -> impl Strategy<Value = Step> {
    let events = prop_oneof![
        2 => Just(None),
        3 => (shared(), ev()).prop_map(|(s, e)| Some((s, e, None))),
        2 => (shared(), ev(), ev()).prop_map(|(s, e, e2)| Some((s, e, Some(e2)))),
    ];
    let consumer = prop_oneof![
        300 => Just(Consumer::Keep),
        1 => Just(Consumer::CatchUp),
        2 => (1u64..64).prop_map(Consumer::Advance),
    ];
    let read = prop_oneof![
        1 => Just(None),
        1 => (0u64..8, 0usize..WORDS).prop_map(Some),
        1 => (0u64..DEPTH, 0usize..WORDS).prop_map(Some),
    ];
    (events, consumer, read).prop_map(|(events, consumer, read)| Step {
        events,
        consumer,
        read,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn records_counts_and_overflow_match_the_reference(
        steps in proptest::collection::vec(step(), 1500..4000),
        clear_at in proptest::option::of(0usize..4000),
    ) {
        for mem_reg in [0, 1] {
            let mut b = Bench::new(mem_reg);
            for (k, st) in steps.iter().enumerate() {
                if clear_at == Some(k) {
                    b.check();
                    b.clear();
                }
                b.step(st);
            }
            b.check();
            b.read_all();
            prop_assert!(b.reads_checked > 0);
            prop_assert!(b.pending.is_empty());
        }
    }
}

fn plain(k: u64) -> (Shared, Ev) {
    let s = Shared {
        instrument: (k % 256) as u16,
        trigger_venue: (k % 8) as u8,
        ts: 1000 + k,
        cyc: [k, k + 1, k + 2],
        feed_key: k << 16 | 3,
    };
    let e = Ev {
        buy_venue: ((k + 1) % 8) as u8,
        sell_venue: ((k + 2) % 8) as u8,
        trigger_sell: k % 2 == 1,
        buy_px: -(k as i64),
        buy_qty: k as i64 * 3,
        sell_px: i64::MAX - k as i64,
        sell_qty: 7,
        qty: 1,
        buy_ts: k << 20,
        sell_ts: !k,
    };
    (s, e)
}

fn one(k: u64, second: bool) -> Step {
    let (s, e) = plain(k);
    let e2 = second.then_some(Ev {
        trigger_sell: !e.trigger_sell,
        qty: 2,
        ..e
    });
    Step {
        events: Some((s, e, e2)),
        consumer: Consumer::Keep,
        read: None,
    }
}

#[test]
fn a_full_ring_drops_and_counts_and_a_pair_can_split() {
    full_ring(0);
}

#[test]
fn a_full_ring_drops_and_counts_and_a_pair_can_split_mem_reg() {
    full_ring(1);
}

fn full_ring(mem_reg: u64) {
    let mut b = Bench::new(mem_reg);
    // fill all but one record (pairs, then a single), with the consumer at 0
    for k in 0..(DEPTH - 1) / 2 {
        b.step(&one(k, true));
    }
    b.step(&one(4000, false));
    b.check();
    assert_eq!(b.r.producer, DEPTH - 1);
    assert_eq!(b.overflows, 0);
    // a pair with one free record: the first is written, the second dropped (its seq is used)
    b.step(&one(5000, true));
    b.check();
    assert_eq!((b.r.producer, b.r.seq), (DEPTH, DEPTH + 1));
    assert_eq!(b.overflows, 1);
    // full: everything is dropped and counted, the input never waits
    for k in 0..10 {
        b.step(&one(6000 + k, k % 2 == 0));
    }
    b.check();
    assert_eq!(b.overflows, 1 + 15);
    assert_eq!(b.m.out[out::PRODUCER], DEPTH);
    // the host reads one record: exactly one more fits
    b.step(&Step {
        events: None,
        consumer: Consumer::Advance(1),
        read: None,
    });
    // (MEM_REG = 1: the ring sees the consumer two cycles late: in the next cycle still full)
    if mem_reg == 1 {
        b.step(&one(6500, false));
        assert_eq!((b.r.producer, b.want_overflows), (DEPTH, 17));
    }
    b.step(&one(7000, true));
    b.check();
    assert_eq!((b.r.producer, b.overflows), (DEPTH + 1, 17 + mem_reg));
    b.read_all();
    // the record written last went to index 0, over the oldest
    assert_eq!(b.r.records[0].unwrap()[0], b.r.seq - 2);
    b.clear();
    b.step(&one(8000, false));
    b.check();
    assert_eq!(b.m.out[out::PRODUCER], 1);
    b.read_all();
}
