//! tc_lookup on its own, driven from Rust through sim/tb/tc_lookup_tb.v: symbols programmed where
//! the host's cuckoo placement puts them (tickcross_bindings::sym_hash), names looked up one per
//! cycle, and every answer compared with the software path's symbol table; the stage timing
//! (MEM_REG = 0: sp_* two cycles after L0, m_* three, e_* one; MEM_REG = 1, a second instance
//! in the same testbench: one cycle later each; MEM_REG = 1 with two shared converters, a third:
//! two cycles later, the record registered in front; a fourth the same with the read address
//! registered instead; a fifth as the fourth with the key compare over two cycles, three cycles
//! later, as tickcross_top builds it at MEM_REG = 1) and the converters' alignment with their
//! records are checked cycle by cycle.

use std::collections::HashSet;

use tickcross_bindings::pipeline::{counts, Kind};
use tickcross_bindings::{params, sym_hash, sym_key};
use tickcross_core::price9;
use tickcross_core::program::{Program, Protocol};
use tickcross_device::device::place_symbols;
use tickcross_sim::ffi::tc_lookup_tb::{inp, out};
use tickcross_sim::model::{Model, LOOKUP};
use tickcross_swpath::Stages;

const NAME: usize = params::SYM_NAME_BYTES as usize;
const SLOTS: usize = params::SYM_SLOTS as usize;
/// One tc_lookup instance of the testbench: where its outputs sit and its stage timing. Each lk_
/// output of the testbench holds both instances' side by side, instance k's at bits
/// [k * width, (k + 1) * width).
struct Inst {
    k: usize,
    /// L0 -> sp_*, L0 -> m_*, L0 -> e_*, in cycles
    sp_at: usize,
    m_at: usize,
    e_at: usize,
}

impl Inst {
    /// `width` bits at `offset` within this instance's field of the output `port` (width <= 64).
    fn bits(&self, m: &Model, port: usize, field_width: usize, offset: usize, width: usize) -> u64 {
        let bit = self.k * field_width + offset;
        let (word, shift) = (port + bit / 64, bit % 64);
        let mut v = m.out[word] >> shift;
        if shift + width > 64 {
            v |= m.out[word + 1] << (64 - shift);
        }
        if width == 64 {
            v
        } else {
            v & ((1u64 << width) - 1)
        }
    }

    /// This instance's whole field of a `width`-bit output (width <= 64).
    fn get(&self, m: &Model, port: usize, width: usize) -> u64 {
        self.bits(m, port, width, 0, width)
    }
}

/// MEM_REG = 0; MEM_REG = 1 (CONV_LATENCY 5); MEM_REG = 1 with two shared converters and the
/// record registered on its way in (a cycle later); the same with each way's read address
/// registered instead (ADDR_REG: the same cycle later, in the middle); that with the compare over
/// two cycles (CMP_REG: a cycle more, the record's register in front no longer needed).
const INSTS: [Inst; 5] = [
    Inst {
        k: 0,
        sp_at: 2,
        m_at: 3,
        e_at: 1,
    },
    Inst {
        k: 1,
        sp_at: 3,
        m_at: 4,
        e_at: 2,
    },
    Inst {
        k: 2,
        sp_at: 4,
        m_at: 5,
        e_at: 3,
    },
    Inst {
        k: 3,
        sp_at: 4,
        m_at: 5,
        e_at: 3,
    },
    Inst {
        k: 4,
        sp_at: 5,
        m_at: 6,
        e_at: 4,
    },
];
/// Cycles until the slowest instance has let every record go.
const M_LAST: usize = 6;

fn model() -> Model {
    let mut m = Model::new(&LOOKUP, None).expect("model");
    m.inp[inp::RST] = 1;
    for _ in 0..4 {
        m.tick();
    }
    m.inp[inp::RST] = 0;
    // reset clears every slot, one per cycle
    let mut n = 0;
    loop {
        m.tick();
        if m.out[out::LK_CLEARING] == 0 {
            break;
        }
        n += 1;
        assert!(n <= SLOTS + 2, "clearing never ends");
    }
    m
}

fn set_wide(m: &mut Model, at: usize, bytes: &[u8]) {
    for w in 0..NAME / 8 {
        let mut word = [0u8; 8];
        for (k, b) in word.iter_mut().enumerate() {
            *b = bytes.get(8 * w + k).copied().unwrap_or(0);
        }
        m.inp[at + w] = u64::from_le_bytes(word);
    }
}

fn write(m: &mut Model, way: usize, slot: u32, venue: u8, name: &[u8], instrument: u16) {
    m.inp[inp::LK_WR_EN] = 1;
    m.inp[inp::LK_WR_WAY] = way as u64;
    m.inp[inp::LK_WR_SLOT] = u64::from(slot);
    m.inp[inp::LK_WR_VALID] = 1;
    m.inp[inp::LK_WR_VENUE] = u64::from(venue);
    m.inp[inp::LK_WR_LEN] = name.len() as u64;
    m.inp[inp::LK_WR_INSTRUMENT] = u64::from(instrument);
    set_wide(m, inp::LK_WR_NAME, name);
    m.tick();
    m.inp[inp::LK_WR_EN] = 0;
}

/// One record for L0.
#[derive(Clone, Debug)]
struct Rec {
    kind: Kind,
    venue: u8,
    name: Vec<u8>,
    id: u32,
}

/// What one record produced.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    sp: Option<(u8, u8)>,
    kind: u64,
    venue: u8,
    id: u32,
    hit: bool,
    instrument: u8,
    cnt: [u64; 2],
}

/// Puts a record on L0's inputs (valid), stamped `ts`.
fn present(m: &mut Model, r: &Rec, ts: u64) {
    m.inp[inp::LK_S_VALID] = 1;
    m.inp[inp::LK_S_KIND] = r.kind.code();
    m.inp[inp::LK_S_VENUE] = u64::from(r.venue);
    m.inp[inp::LK_S_ID] = u64::from(r.id);
    m.inp[inp::LK_S_NAME_LEN] = r.name.len() as u64;
    // the decoders mask the name past its length (and past 32 bytes)
    set_wide(m, inp::LK_S_NAME, &r.name[..r.name.len().min(NAME)]);
    m.inp[inp::LK_S_TS] = ts;
    m.inp[inp::LK_S_OK] = 1;
}

/// Streams records into L0 (None: an idle cycle) and collects what each produced, checking
/// that sp_*, e_* and m_* come exactly at their stages and at no other time, in both instances,
/// and that both produce the same.
fn run(m: &mut Model, stream: &[Option<Rec>]) -> Vec<Seen> {
    let mut seen: [Vec<Seen>; 5] = Default::default();
    // sp_* of every cycle (a record leaves on m_* the cycle after its sp_*)
    let mut sp_log: [Vec<Option<(u8, u8)>>; 5] = Default::default();
    let n = stream.len() + M_LAST + 1;
    for t in 0..n {
        match stream.get(t).cloned().flatten() {
            Some(r) => present(m, &r, 1000 + t as u64),
            None => m.inp[inp::LK_S_VALID] = 0,
        }
        m.tick();
        let at = |d: usize| {
            t.checked_sub(d)
                .and_then(|i| stream.get(i).cloned().flatten())
        };
        for (x, (i, seen)) in INSTS.iter().zip(seen.iter_mut()).enumerate() {
            // sp_*: only for a quote by name, sp_at cycles after L0
            if i.get(m, out::LK_SP_VALID, 1) != 0 {
                let r = at(i.sp_at).expect("sp_valid without a record at sp_at");
                assert_eq!(r.kind, Kind::Qname, "sp_valid for a {:?}", r.kind);
                assert_eq!(i.get(m, out::LK_SP_VENUE, 3), u64::from(r.venue));
            }
            // e_*: an END record, e_at cycles after L0
            let e_want = at(i.e_at).is_some_and(|r| r.kind == Kind::End);
            assert_eq!(
                i.get(m, out::LK_E_VALID, 1) != 0,
                e_want,
                "e_valid at cycle {t} ({x})"
            );
            let m_rec = at(i.m_at);
            assert_eq!(
                i.get(m, out::LK_M_VALID, 1) != 0,
                m_rec.is_some(),
                "m_valid at cycle {t} ({x})"
            );
            if let Some(r) = m_rec {
                assert_eq!(
                    i.get(m, out::LK_M_TS, 64),
                    1000 + (t - i.m_at) as u64,
                    "m_ts"
                );
                let sp = sp_log[x][t - 1];
                let cnt =
                    |at: u32| i.bits(m, out::LK_M_CNT, counts::BITS as usize, at as usize, 16);
                let hit = i.get(m, out::LK_M_HIT, 1) != 0;
                seen.push(Seen {
                    sp,
                    kind: i.get(m, out::LK_M_KIND, 3),
                    venue: i.get(m, out::LK_M_VENUE, 3) as u8,
                    id: i.get(m, out::LK_M_ID, 32) as u32,
                    hit,
                    // (only a hit carries an instrument: a miss's is whatever a way held)
                    instrument: if hit {
                        i.get(m, out::LK_M_INSTRUMENT, 8) as u8
                    } else {
                        0
                    },
                    cnt: [cnt(counts::CONV), cnt(counts::UNKSYM)],
                });
                assert_eq!(seen.last().unwrap().venue, r.venue);
            }
            sp_log[x].push((i.get(m, out::LK_SP_VALID, 1) != 0).then(|| {
                (
                    i.get(m, out::LK_SP_VENUE, 3) as u8,
                    i.get(m, out::LK_SP_INSTRUMENT, 8) as u8,
                )
            }));
        }
    }
    let [lk, lr, ls, la, lc] = seen;
    assert_eq!(lk, lr, "MEM_REG = 0 and MEM_REG = 1 disagree");
    assert_eq!(
        lk, ls,
        "MEM_REG = 0 and the shared converters' build disagree"
    );
    assert_eq!(
        lk, la,
        "MEM_REG = 0 and the registered read address's build disagree"
    );
    assert_eq!(
        lk, lc,
        "MEM_REG = 0 and the two-cycle compare's build disagree"
    );
    lk
}

fn program(symbols: &[(u8, Vec<u8>, u16)]) -> Program {
    Program {
        venues: vec![Some(Protocol::BinanceSbe); params::N_VENUES as usize],
        symbols: symbols.to_vec(),
        ..Program::default()
    }
}

/// Names that share way 0's slot with another (so both ways fill), names of every length 0..=32
/// on several venues, and a few hundred ordinary ones.
fn symbol_set() -> Vec<(u8, Vec<u8>, u16)> {
    let mut out: Vec<(u8, Vec<u8>, u16)> = Vec::new();
    let mut used = HashSet::new();
    let mut push = |v: u8, n: Vec<u8>, out: &mut Vec<(u8, Vec<u8>, u16)>| {
        if used.insert((v, n.clone())) {
            let i = (out.len() * 7 % params::N_INSTRUMENTS as usize) as u16;
            out.push((v, n, i));
        }
    };
    for len in 0..=NAME {
        let name: Vec<u8> = (0..len)
            .map(|k| b'A' + ((k * 5 + len) % 26) as u8)
            .collect();
        push((len % 8) as u8, name.clone(), &mut out);
        push(((len + 3) % 8) as u8, name, &mut out);
    }
    for i in 0..400u32 {
        push(
            (i % 8) as u8,
            format!("{}USDT", i * 37).into_bytes(),
            &mut out,
        );
    }
    // collisions in way 0 among short names
    let mut by_slot = std::collections::HashMap::new();
    let mut pairs = 0;
    for i in 0..20000u32 {
        let name = format!("C{i}").into_bytes();
        let key = sym_key(1, &name).unwrap();
        if let Some(other) = by_slot.insert(sym_hash(0, &key), name.clone()) {
            push(1, other, &mut out);
            push(1, name, &mut out);
            pairs += 1;
            if pairs == 40 {
                break;
            }
        }
    }
    assert_eq!(pairs, 40);
    out
}

/// Names to look up: every programmed one, and near misses of each kind.
fn queries(symbols: &[(u8, Vec<u8>, u16)]) -> Vec<(u8, Vec<u8>)> {
    let mut q = Vec::new();
    for (k, (v, n, _)) in symbols.iter().enumerate() {
        q.push((*v, n.clone()));
        if k % 3 == 0 {
            q.push(((*v + 1) % 8, n.clone())); // other venue
            let mut longer = n.clone();
            longer.push(b'X');
            q.push((*v, longer)); // one byte more (33 bytes for a 32-byte name)
            if let Some((last, head)) = n.split_last() {
                q.push((*v, head.to_vec())); // one byte less
                let mut changed = n.clone();
                *changed.last_mut().unwrap() = last ^ 0x20;
                q.push((*v, changed));
            }
        }
    }
    // a 40-byte name whose first 32 bytes are a programmed 32-byte name
    if let Some((v, n, _)) = symbols.iter().find(|s| s.1.len() == NAME) {
        let mut long = n.clone();
        long.extend_from_slice(b"TAILTAIL");
        q.push((*v, long));
    }
    q
}

#[test]
fn lookups_agree_with_the_software_symbol_table() {
    let symbols = symbol_set();
    let placed = place_symbols(&symbols).expect("placement");
    assert!(placed.iter().any(|p| p.0 == 0) && placed.iter().any(|p| p.0 == 1));
    let sw = Stages::new(&program(&symbols)).expect("program");
    let mut m = model();
    for (way, slot, venue, name, instrument) in &placed {
        write(&mut m, *way, *slot, *venue, name, *instrument);
    }
    let qs = queries(&symbols);
    // back to back, quotes by name and definitions alternating, with an END now and then
    let mut stream = Vec::new();
    let mut kinds = Vec::new();
    for (k, (v, n)) in qs.iter().enumerate() {
        let kind = if k % 2 == 0 { Kind::Qname } else { Kind::Def };
        stream.push(Some(Rec {
            kind,
            venue: *v,
            name: n.clone(),
            id: k as u32,
        }));
        kinds.push(Some((*v, n.clone(), kind)));
        if k % 17 == 16 {
            stream.push(Some(Rec {
                kind: Kind::End,
                venue: *v,
                name: Vec::new(),
                id: 0,
            }));
            kinds.push(None);
        }
        if k % 29 == 28 {
            stream.push(None);
        }
    }
    let seen = run(&mut m, &stream);
    assert_eq!(seen.len(), kinds.len());
    let (mut hits, mut misses, mut frame_misses) = (0, 0, 0u64);
    for (s, k) in seen.iter().zip(&kinds) {
        let Some((v, n, kind)) = k else {
            assert_eq!(s.kind, Kind::End.code());
            assert_eq!(s.cnt[1], frame_misses, "END's unknown-symbol count");
            assert_eq!(s.cnt[0], 0, "END's conversion count");
            frame_misses = 0;
            continue;
        };
        let want = sw.lookup(usize::from(*v), n);
        let what = format!("{kind:?} venue {v} {:?}", String::from_utf8_lossy(n));
        assert_eq!(s.hit, want.is_some(), "{what}: hit");
        if let Some(i) = want {
            hits += 1;
            assert_eq!(usize::from(s.instrument), i, "{what}: instrument");
        } else {
            misses += 1;
        }
        match kind {
            Kind::Qname => {
                assert_eq!(s.sp, want.map(|i| (*v, i as u8)), "{what}: sp_*");
                let k = if want.is_some() {
                    Kind::Quote
                } else {
                    Kind::None
                };
                assert_eq!(s.kind, k.code(), "{what}: kind");
                frame_misses += u64::from(want.is_none());
            }
            _ => {
                assert_eq!(s.sp, None, "{what}: sp_*");
                assert_eq!(s.kind, Kind::Def.code(), "{what}: kind");
            }
        }
    }
    assert!(
        hits >= symbols.len() && misses > 100,
        "{hits} hits, {misses} misses"
    );
}

#[test]
fn clearing_and_rewriting_slots() {
    let symbols = vec![
        (2u8, b"BTCUSDT".to_vec(), 7u16),
        (2, b"ETHUSDT".to_vec(), 9),
    ];
    let placed = place_symbols(&symbols).unwrap();
    let mut m = model();
    for (way, slot, venue, name, instrument) in &placed {
        write(&mut m, *way, *slot, *venue, name, *instrument);
    }
    let q = |name: &[u8]| {
        Some(Rec {
            kind: Kind::Def,
            venue: 2,
            name: name.to_vec(),
            id: 0,
        })
    };
    let seen = run(&mut m, &[q(b"BTCUSDT"), q(b"ETHUSDT")]);
    assert_eq!((seen[0].hit, seen[0].instrument), (true, 7));
    assert_eq!((seen[1].hit, seen[1].instrument), (true, 9));
    // the same slot, now another instrument; then written invalid
    let (way, slot, venue, name, _) = &placed[0];
    write(&mut m, *way, *slot, *venue, name, 200);
    let seen = run(&mut m, &[q(name)]);
    assert_eq!((seen[0].hit, seen[0].instrument), (true, 200));
    m.inp[inp::LK_WR_EN] = 1;
    m.inp[inp::LK_WR_VALID] = 0;
    m.inp[inp::LK_WR_WAY] = *way as u64;
    m.inp[inp::LK_WR_SLOT] = u64::from(*slot);
    m.tick();
    m.inp[inp::LK_WR_EN] = 0;
    let seen = run(&mut m, &[q(name)]);
    assert!(!seen[0].hit);
    // clear: every slot invalid after SLOTS cycles
    m.inp[inp::LK_CLEAR] = 1;
    m.tick();
    m.inp[inp::LK_CLEAR] = 0;
    let mut n = 0;
    while m.out[out::LK_CLEARING] != 0 || n == 0 {
        m.tick();
        n += 1;
        assert!(n <= SLOTS + 2);
    }
    assert!(n >= SLOTS - 1, "cleared in {n} cycles");
    let seen = run(&mut m, &[q(b"BTCUSDT"), q(b"ETHUSDT")]);
    assert!(!seen[0].hit && !seen[1].hit);
}

/// A table write (a symbol's, or a clear's slot) waits for a cycle without a lookup: a block RAM
/// read and a write of the same slot in one cycle read undefined data on the ECP5. `clearing`
/// stays up until it has landed; the tables never see a read and a write in one cycle (the RTL
/// checks that in simulation).
#[test]
fn table_writes_wait_for_a_cycle_without_a_lookup() {
    let symbols = vec![
        (1u8, b"SOLUSDT".to_vec(), 11u16),
        (1, b"XRPUSDT".to_vec(), 12),
    ];
    let placed = place_symbols(&symbols).unwrap();
    let mut m = model();
    let def = |name: &[u8]| Rec {
        kind: Kind::Def,
        venue: 1,
        name: name.to_vec(),
        id: 0,
    };
    // lookups every cycle for BUSY cycles, a write issued with the third of them (the first
    // reaches the table a cycle after L0)
    const BUSY: usize = 12;
    let (way, slot, venue, name, instrument) = &placed[0];
    let mut waited = 0;
    for t in 0..BUSY + 4 {
        if t < BUSY {
            present(&mut m, &def(b"XRPUSDT"), 0);
        } else {
            m.inp[inp::LK_S_VALID] = 0;
        }
        if t == 2 {
            m.inp[inp::LK_WR_EN] = 1;
            m.inp[inp::LK_WR_WAY] = *way as u64;
            m.inp[inp::LK_WR_SLOT] = u64::from(*slot);
            m.inp[inp::LK_WR_VALID] = 1;
            m.inp[inp::LK_WR_VENUE] = u64::from(*venue);
            m.inp[inp::LK_WR_LEN] = name.len() as u64;
            m.inp[inp::LK_WR_INSTRUMENT] = u64::from(*instrument);
            set_wide(&mut m, inp::LK_WR_NAME, name);
        }
        m.tick();
        m.inp[inp::LK_WR_EN] = 0;
        if m.out[out::LK_CLEARING] != 0 {
            waited += 1;
        }
    }
    // the write waited while lookups went on (in the builds with a register in front, a cycle
    // longer)
    assert!(
        (BUSY - 2..=BUSY).contains(&waited),
        "the write waited {waited} cycles"
    );
    assert_eq!(m.out[out::LK_CLEARING], 0, "the write never landed");
    // (the lookups' records leave before the next run)
    for _ in 0..2 * M_LAST {
        m.tick();
    }
    let seen = run(&mut m, &[Some(def(name))]);
    assert_eq!((seen[0].hit, seen[0].instrument), (true, *instrument as u8));

    // a clear under lookups takes a cycle more for each
    m.inp[inp::LK_CLEAR] = 1;
    m.tick();
    m.inp[inp::LK_CLEAR] = 0;
    let mut n = 0;
    while m.out[out::LK_CLEARING] != 0 || n == 0 {
        present(&mut m, &def(b"XRPUSDT"), 0);
        m.inp[inp::LK_S_VALID] = u64::from(n % 2 == 0);
        m.tick();
        n += 1;
        assert!(n <= 2 * SLOTS + 4, "clearing never ends");
    }
    m.inp[inp::LK_S_VALID] = 0;
    assert!(
        n >= 2 * SLOTS - 3,
        "cleared in {n} cycles under a lookup every other cycle"
    );
    for _ in 0..2 * M_LAST {
        m.tick();
    }
    let seen = run(&mut m, &[Some(def(name))]);
    assert!(!seen[0].hit, "a cleared table still finds {name:?}");
}

/// Numbers fed as the decoders feed them (a Deribit Ticker's the cycle before its record reaches
/// L0; a Binance message's several cycles before) come out with their own record, in all five
/// builds, with the next message's numbers close behind.
#[test]
fn converted_numbers_leave_with_their_records() {
    let symbols = vec![(0u8, b"BNBUSDT".to_vec(), 3u16)];
    let placed = place_symbols(&symbols).unwrap();
    let mut m = model();
    for (way, slot, venue, name, instrument) in &placed {
        write(&mut m, *way, *slot, *venue, name, *instrument);
    }
    // (lead: cycles from cv_* to the record at L0, kind, mantissas, exponents)
    let mut plan: Vec<(usize, Kind, [u64; 4], i8, i8)> = Vec::new();
    for k in 0..12u64 {
        let bad = k % 5 == 3; // a negative mantissa rejects
        let v0 = if bad { (-5i64) as u64 } else { 100 + k };
        plan.push((1, Kind::Qid, [v0, 2 * k + 1, 300 + k, 7], -2, -1));
    }
    for k in 0..4u64 {
        plan.push((
            1 + 2 * k as usize,
            Kind::Qname,
            [5000 + k, 1, 5001 + k, 2],
            -3,
            0,
        ));
    }
    // The next message's numbers follow as early as they may: as the record reaches L0, but not
    // in the next cycle; the shared converters' build needs them a cycle later still (see
    // tc_lookup's CONV_SHARE), and is checked only then.
    let plan: Vec<_> = plan
        .into_iter()
        .flat_map(|(lead, kind, v, pe, qe)| {
            let mut next = vec![lead.max(2)];
            if lead + 1 != lead.max(2) {
                next.push(lead + 1);
            }
            next.into_iter()
                .map(move |next| (lead, next, kind, v, pe, qe))
        })
        .collect();
    let mut conv = 0u64;
    for (lead, next, kind, v, pe, qe) in &plan {
        // the record at L0 at cycle lead, cv_* at cycle 0
        let mut stream: Vec<Option<Rec>> = vec![None; *lead];
        stream.push(Some(Rec {
            kind: *kind,
            venue: 0,
            name: b"BNBUSDT".to_vec(),
            id: 1,
        }));
        let n = stream.len() + M_LAST + 1;
        let mut got = [None; 5];
        for t in 0..n {
            let cv = t == 0;
            m.inp[inp::LK_CV_VALID] = u64::from(cv);
            m.inp[inp::LK_CV_FMT] = 0;
            m.inp[inp::LK_CV_V0] = v[0];
            m.inp[inp::LK_CV_V1] = v[1];
            m.inp[inp::LK_CV_V2] = v[2];
            m.inp[inp::LK_CV_V3] = v[3];
            m.inp[inp::LK_CV_PEXP] = *pe as u8 as u64;
            m.inp[inp::LK_CV_QEXP] = *qe as u8 as u64;
            match stream.get(t).cloned().flatten() {
                Some(r) => {
                    m.inp[inp::LK_S_VALID] = 1;
                    m.inp[inp::LK_S_KIND] = r.kind.code();
                    m.inp[inp::LK_S_VENUE] = 0;
                    m.inp[inp::LK_S_NAME_LEN] = r.name.len() as u64;
                    set_wide(&mut m, inp::LK_S_NAME, &r.name);
                }
                None => m.inp[inp::LK_S_VALID] = 0,
            }
            // the next message's numbers: they must not overtake
            if t == *next {
                m.inp[inp::LK_CV_VALID] = 1;
                m.inp[inp::LK_CV_V0] = 999_999;
                m.inp[inp::LK_CV_V1] = 999_999;
                m.inp[inp::LK_CV_V2] = 999_999;
                m.inp[inp::LK_CV_V3] = 999_999;
            }
            m.tick();
            for (i, got) in INSTS.iter().zip(got.iter_mut()) {
                if i.get(&m, out::LK_M_VALID, 1) != 0 {
                    *got = Some([
                        i.get(&m, out::LK_M_V0, 64),
                        i.get(&m, out::LK_M_V1, 64),
                        i.get(&m, out::LK_M_V2, 64),
                        i.get(&m, out::LK_M_V3, 64),
                        i.get(&m, out::LK_M_KIND, 3),
                    ]);
                }
            }
        }
        m.inp[inp::LK_CV_VALID] = 0;
        m.inp[inp::LK_S_VALID] = 0;
        assert_eq!(
            got[0], got[1],
            "MEM_REG = 0 and 1 disagree: {kind:?} lead {lead}"
        );
        if *next > *lead {
            assert_eq!(
                got[0], got[2],
                "MEM_REG = 0 and the shared converters disagree: {kind:?} lead {lead} next {next}"
            );
            assert_eq!(
                got[0], got[3],
                "MEM_REG = 0 and the registered read address disagree: {kind:?} lead {lead} next {next}"
            );
            assert_eq!(
                got[0], got[4],
                "MEM_REG = 0 and the two-cycle compare disagree: {kind:?} lead {lead} next {next}"
            );
        }
        let got = got[0].expect("record left");
        let want: Vec<Option<i64>> = [(v[0], *pe), (v[1], *qe), (v[2], *pe), (v[3], *qe)]
            .iter()
            .map(|&(x, e)| price9::from_mantissa(x as i64, e))
            .collect();
        if want.iter().all(Option::is_some) {
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(*g as i64, w.unwrap(), "{kind:?} lead {lead}: {v:?}");
            }
            let k = if *kind == Kind::Qname {
                Kind::Quote
            } else {
                Kind::Qid
            };
            assert_eq!(got[4], k.code());
        } else {
            assert_eq!(got[4], Kind::None.code(), "rejected {v:?}");
            conv += 1;
        }
    }
    // the frame's END carries the rejects
    let seen = run(
        &mut m,
        &[Some(Rec {
            kind: Kind::End,
            venue: 0,
            name: Vec::new(),
            id: 0,
        })],
    );
    assert!(conv > 0);
    assert_eq!(seen[0].cnt, [conv, 0]);
}
