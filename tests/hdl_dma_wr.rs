//! tc_dma_wr behind tc_event_ring (sim/tb/tc_dma_wr_tb.v, Verilated at MEM_REG = 0 and 1),
//! against a model of host memory and of a host that takes records and returns credits lazily.
//!
//! Every cycle may offer no event, one or two; the PCIe side holds tready low for stretches
//! (short and long); the BAR reads the ring window at random (it has priority on the ring's read
//! port; the words it reads must be the ring's, 1 + MEM_REG cycles later). The host model checks, for every posted write: the address (base + 128 * (index mod
//! size), + 64 for the second write), one 512-bit beat with tlast, and that the slot is free
//! (the host has credited the record that was there); for every record: its words equal the
//! contract encoding of the event committed, its stamp (word 15) is seq + 1, records arrive in
//! commit order, and none is missing. Events the ring drops (inc_overflow) use their sequence
//! numbers; an event is never dropped while both rings had room by the credits of a few cycles
//! before. Then clear_state with another host ring, and the same again from sequence 0.

use tickcross_bindings::params;
use tickcross_bindings::record::{EventRecord, Meta};
use tickcross_sim::ffi::tc_dma_wr_tb::{inp, out};
use tickcross_sim::model::{Model, DMA_WR, DMA_WR_MEM_REG};

const DEPTH: u64 = params::RING_RECORDS;
const WORDS: usize = params::RECORD_WORDS as usize;
const STAMP: usize = params::RECORD_STAMP_WORD as usize;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The record tc_dma_wr_tb.v wires from `px` (the first event's word `ev`, its shared fields
/// from `shared`), committed at `cycle`, as the host must see it.
fn record(seq: u64, shared: u64, px: u64, cycle: u64) -> [u64; WORDS] {
    let r = EventRecord {
        seq,
        meta: Meta {
            instrument: (shared & 0xff) as u16,
            buy_venue: ((px >> 8) & 7) as u8,
            sell_venue: ((px >> 11) & 7) as u8,
            trigger_venue: ((shared >> 14) & 7) as u8,
            trigger_side: (px >> 17) & 1 != 0,
            valid: true,
        },
        buy_price: px as i64,
        buy_qty: !px as i64,
        sell_price: px.rotate_left(32) as i64,
        sell_qty: (px ^ 0x5555_5555_5555_5555) as i64,
        qty: px.wrapping_add(7) as i64,
        ts: shared ^ 0x0f0f_0f0f_0f0f_0f0f,
        buy_ts: px ^ 0x1111_1111_1111_1111,
        sell_ts: px ^ 0x2222_2222_2222_2222,
        cyc_frame: shared ^ 0x3333_3333_3333_3333,
        cyc_first: shared ^ 0x4444_4444_4444_4444,
        cyc_last: shared ^ 0x6666_6666_6666_6666,
        cyc_commit: cycle,
        feed_key: shared ^ 0x7777_7777_7777_7777,
    };
    let mut w = r.encode().expect("fields fit");
    w[STAMP] = seq + 1;
    w
}

struct Bench {
    m: Model,
    rng: Rng,
    cycle: u64,
    base: u64,
    size: u64,
    /// Records committed (in order), as the host must receive them.
    committed: Vec<[u64; WORDS]>,
    seq: u64,
    overflows: u64,
    /// Records whose second write has landed, in order.
    landed: u64,
    /// Records the host has taken (<= landed), and the last it credited.
    taken: u64,
    credited: u64,
    /// Credits of the last cycles, newest last.
    credit_hist: Vec<u64>,
    /// The first write of the record being received.
    half: Option<[u64; 8]>,
    /// Host memory: slot -> what is there.
    mem: Vec<[u64; WORDS]>,
    tready_low: u64,
    host_pause: u64,
    bar_reads: u64,
    /// BAR reads whose data is checked: (model cycle the data shows, record, word).
    bar_pending: std::collections::VecDeque<(u64, u64, usize)>,
    bar_checked: u64,
    mem_reg: u64,
    /// Events offered on the last cycle: (count, px, px2, cycle).
    offered: Option<(u64, u64, u64, u64)>,
}

impl Bench {
    fn new(mem_reg: u64, seed: u64) -> Bench {
        let fns = if mem_reg == 0 {
            &DMA_WR
        } else {
            &DMA_WR_MEM_REG
        };
        let mut b = Bench {
            m: Model::new(fns, None).expect("model"),
            rng: Rng(seed | 1),
            cycle: 0,
            base: 0,
            size: 0,
            committed: Vec::new(),
            seq: 0,
            overflows: 0,
            landed: 0,
            taken: 0,
            credited: 0,
            credit_hist: vec![0; 8],
            half: None,
            mem: Vec::new(),
            tready_low: 0,
            host_pause: 0,
            bar_reads: 0,
            bar_pending: Default::default(),
            bar_checked: 0,
            mem_reg,
            offered: None,
        };
        b.m.inp[inp::RST] = 1;
        for _ in 0..3 {
            b.tick();
        }
        b.m.inp[inp::RST] = 0;
        b
    }

    /// clear_state with a host ring of `size` records at `addr` (low bits ignored by the engine).
    fn clear(&mut self, addr: u64, size: u64) {
        assert_eq!(self.m.out[out::BUSY], 0, "clear_state waits for the engine");
        self.m.inp[inp::BAR_RD_EN] = 0;
        self.bar_pending.clear();
        self.m.inp[inp::CFG_ADDR] = addr;
        self.m.inp[inp::CFG_RECORDS] = size;
        self.m.inp[inp::CONSUMER] = 0;
        self.m.inp[inp::CLEAR] = 1;
        self.tick();
        self.m.inp[inp::CLEAR] = 0;
        for _ in 0..4 {
            self.tick();
        }
        self.base = addr & !127;
        self.size = size;
        self.committed.clear();
        self.seq = 0;
        self.overflows = 0;
        self.landed = 0;
        self.taken = 0;
        self.credited = 0;
        self.credit_hist = vec![0; 8];
        self.mem = vec![[0; WORDS]; size as usize];
    }

    fn tick(&mut self) {
        self.m.inp[inp::CYCLE] = self.cycle;
        self.m.tick();
        self.cycle += 1;
    }

    /// One cycle of traffic: `p_event` percent chance of events, the PCIe side and the host
    /// per their modes.
    fn step(&mut self, p_event: u64, stalls: bool) {
        let n = if self.rng.below(100) < p_event {
            1 + self.rng.below(2)
        } else {
            0
        };
        let (px, px2) = (self.rng.next(), self.rng.next());
        self.m.inp[inp::EV_VALID] = u64::from(n >= 1);
        self.m.inp[inp::EV2_VALID] = u64::from(n == 2);
        self.m.inp[inp::EV_PX] = px;
        self.m.inp[inp::EV2_PX] = px2;
        // the PCIe side: stretches of backpressure
        if stalls && self.tready_low == 0 && self.rng.below(300) == 0 {
            self.tready_low = if self.rng.below(8) == 0 {
                1500
            } else {
                1 + self.rng.below(40)
            };
        }
        let ready = self.tready_low == 0 && (!stalls || self.rng.below(8) != 0);
        self.tready_low = self.tready_low.saturating_sub(1);
        self.m.inp[inp::M_AXIS_DMA_TREADY] = u64::from(ready);
        // the BAR's debug reads
        let bar = self.rng.below(5) == 0;
        let (index, word) = (self.rng.below(DEPTH), self.rng.below(16) as usize);
        self.m.inp[inp::BAR_RD_EN] = u64::from(bar);
        self.m.inp[inp::BAR_RD_INDEX] = index;
        self.m.inp[inp::BAR_RD_WORD] = word as u64;
        self.bar_reads += u64::from(bar);
        // the record at that index, if one is there and nothing can overwrite it before the
        // data comes (records of the last cycles are not in `committed` yet)
        let have = self.committed.len() as u64;
        if bar && index < have {
            let r = index + DEPTH * ((have - 1 - index) / DEPTH);
            if r + DEPTH > have + 4 {
                self.bar_pending
                    .push_back((self.cycle + 1 + self.mem_reg, r, word));
            }
        }
        // the host: takes landed records unless paused, credits now and then
        if stalls && self.host_pause == 0 && self.rng.below(4000) == 0 {
            self.host_pause = 200 + self.rng.below(2000);
        }
        if self.host_pause == 0 {
            self.taken = self.landed;
        }
        self.host_pause = self.host_pause.saturating_sub(1);
        if self.rng.below(32) == 0 || self.taken - self.credited >= self.size.min(DEPTH) / 2 {
            self.credited = self.taken;
        }
        self.m.inp[inp::CONSUMER] = self.credited;
        self.credit_hist.remove(0);
        self.credit_hist.push(self.credited);
        let cycle = self.cycle;
        self.tick();
        while self.bar_pending.front().is_some_and(|p| p.0 == cycle) {
            let (_, r, w) = self.bar_pending.pop_front().expect("checked");
            // the ring holds no stamp (the engine adds it)
            let want = if w == STAMP {
                0
            } else {
                self.committed[r as usize][w]
            };
            assert_eq!(
                self.m.out[out::RING_RD_DATA],
                want,
                "BAR read of record {r} word {w}"
            );
            self.bar_checked += 1;
        }
        // inc_overflow is registered: this tick shows what the ring did with the last cycle's
        // events (applied before any beat: a record is read a few cycles after its commit)
        if let Some((n, px, px2, at)) = self.offered.take() {
            self.resolve(n, px, px2, at, self.m.out[out::INC_OVERFLOW]);
        }
        if n > 0 {
            self.offered = Some((n, px, px2, cycle));
        }
        // the beat presented this cycle, accepted if tready was high
        if ready && self.m.out[out::M_AXIS_DMA_TVALID] != 0 {
            let mut data = [0u64; 8];
            data.copy_from_slice(&self.m.out[out::M_AXIS_DMA_TDATA..][..8]);
            self.beat(
                self.m.out[out::M_AXIS_DMA_ADDR],
                data,
                self.m.out[out::M_AXIS_DMA_TLAST] != 0,
            );
        }
    }

    /// The events offered at `cycle`, of which the ring dropped `ovf` (the last ones).
    fn resolve(&mut self, n: u64, px: u64, px2: u64, cycle: u64, ovf: u64) {
        let eff = self.size.min(DEPTH);
        let oldest = *self.credit_hist.iter().min().unwrap();
        for k in 0..n {
            let producer = self.committed.len() as u64;
            if k < n - ovf {
                let p = if k == 0 { px } else { px2 };
                self.committed.push(record(self.seq, px, p, cycle));
            } else {
                self.overflows += 1;
                // room by the credits of the last cycles means no drop
                assert!(
                    producer - oldest >= eff,
                    "event seq {} dropped with room: {producer} committed, credits >= {oldest}, ring {eff}",
                    self.seq
                );
            }
            self.seq += 1;
        }
    }

    fn beat(&mut self, addr: u64, beats: [u64; 8], last: bool) {
        assert!(last, "a 64-byte write is one beat, with tlast");
        let r = self.landed;
        let slot = r % self.size;
        let second = self.half.is_some();
        let want = self.base + 128 * slot + if second { 64 } else { 0 };
        assert_eq!(
            addr, want,
            "record {r}: write to {addr:#x}, expected {want:#x}"
        );
        assert!(
            r < self.credited + self.size,
            "record {r} written into slot {slot} before the host credited it (credits {})",
            self.credited
        );
        let Some(first) = self.half.take() else {
            self.half = Some(beats);
            return;
        };
        let mut rec = [0u64; WORDS];
        rec[..8].copy_from_slice(&first);
        rec[8..].copy_from_slice(&beats);
        let want = self
            .committed
            .get(r as usize)
            .unwrap_or_else(|| panic!("record {r} written but never committed"));
        assert_eq!(&rec, want, "record {r}");
        self.mem[slot as usize] = rec;
        self.landed += 1;
    }

    /// Runs quiet cycles with tready high and a host that keeps up, until the engine is idle and
    /// every committed record has landed.
    fn drain(&mut self) {
        self.tready_low = 0;
        self.host_pause = 0;
        for _ in 0..20 * (DEPTH + 64) {
            if self.offered.is_none()
                && self.m.out[out::BUSY] == 0
                && self.landed == self.committed.len() as u64
            {
                break;
            }
            self.step(0, false);
        }
        assert_eq!(
            self.landed,
            self.committed.len() as u64,
            "every record lands"
        );
        assert_eq!(self.m.out[out::BUSY], 0);
        self.tick();
        assert_eq!(self.m.out[out::WRITTEN], self.landed);
    }
}

fn run(mem_reg: u64, seed: u64, size: u64, cycles: u64, p_event: u64) -> (u64, u64) {
    let mut b = Bench::new(mem_reg, seed);
    b.clear(0x7e00_1234_5600 | 0x55, size);
    for _ in 0..cycles {
        b.step(p_event, true);
    }
    b.drain();
    let first = (b.committed.len() as u64, b.overflows);
    assert_eq!(first.0 + first.1, b.seq);
    // clear_state with another ring: everything again from sequence 0
    b.clear(0x1000_0000, 16);
    for _ in 0..cycles / 4 {
        b.step(p_event, true);
    }
    b.drain();
    assert!(b.bar_checked > 1000, "{} BAR reads checked", b.bar_checked);
    first
}

#[test]
fn records_land_whole_in_order_with_their_stamps() {
    for mem_reg in [0, 1] {
        // a host ring smaller than the card's, the same, larger
        for (seed, size) in [(1, 8), (2, 64), (3, DEPTH), (4, 4 * DEPTH)] {
            let (committed, overflows) = run(mem_reg, seed, size, 60_000, 3);
            eprintln!(
                "MEM_REG={mem_reg} host ring {size}: {committed} records, {overflows} dropped"
            );
            assert!(
                committed > 1000,
                "MEM_REG={mem_reg} size {size}: {committed}"
            );
            // a paused host and long backpressure make the small rings overflow
            if size <= 64 {
                assert!(overflows > 0, "MEM_REG={mem_reg} size {size}");
            }
        }
    }
}

#[test]
fn without_a_host_ring_nothing_is_written_and_the_card_ring_fills() {
    let mut b = Bench::new(0, 9);
    b.clear(0, 0);
    let mut beats = 0;
    for _ in 0..3000 {
        b.m.inp[inp::EV_VALID] = 1;
        b.m.inp[inp::EV2_VALID] = 0;
        b.m.inp[inp::M_AXIS_DMA_TREADY] = 1;
        b.tick();
        beats += b.m.out[out::M_AXIS_DMA_TVALID];
        assert_eq!(b.m.out[out::BUSY], 0);
    }
    assert_eq!(beats, 0);
    assert_eq!(
        b.m.out[out::PRODUCER],
        DEPTH,
        "the card ring holds DEPTH records, no more"
    );
}
