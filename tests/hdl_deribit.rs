//! The Deribit decoder (hdl/tc_deribit_dec.v) on its own, Verilated, against the software path's
//! decode of the same datagrams (`Stages::decode_deribit`): its records (kind, instrumentId, name,
//! the converter feeds of a Ticker) and each frame's END counts. Datagrams: generated, hostile
//! (random structure, truncated, mutated, random bytes) and the real Deribit capture in
//! ../shared/data (skipped with a note when ../shared is absent).

use proptest::prelude::*;
use tickcross_capture::read_capture;
use tickcross_core::price9;
use tickcross_core::program::Filter;
use tickcross_sim::ffi::tc_deribit_dec::{inp, out};
use tickcross_sim::model::{Model, ModelFns, DERIBIT, DERIBIT_MEM_REG};
use tickcross_swpath::frame_check::{self, VenueFilter, Verdict};
use tickcross_swpath::{Msg, Stages};
use tickcross_tests::gen::{deribit_datagram, Rng};
use tickcross_tests::shared_data;

const K_QID: u64 = 2;
const K_DEF: u64 = 3;
const K_END: u64 = 4;

/// A record, in the form both paths can give: a quote's id only when its four doubles convert
/// (the software path names no id for a conversion reject), a name cut to the 32 bytes kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rec {
    Quote {
        id: Option<u32>,
        feed: Option<[i64; 4]>,
    },
    Def {
        id: u32,
        len: usize,
        name: Vec<u8>,
    },
    End {
        msgs: u16,
        trunc: u16,
        unknown: u16,
        skipped: u16,
    },
}

/// What the software path makes of one datagram.
fn expected(payload: &[u8]) -> Vec<Rec> {
    let mut recs = Vec::new();
    let (mut msgs, mut trunc, mut unknown, mut skipped) = (0u16, 0u16, 0u16, 0u16);
    Stages::decode_deribit(payload, |m| {
        msgs += 1;
        match m {
            Msg::Truncated => trunc += 1,
            Msg::UnknownTemplate => unknown += 1,
            Msg::Skipped => skipped += 1,
            Msg::Conversion => recs.push(Rec::Quote {
                id: None,
                feed: None,
            }),
            Msg::QuoteById { id, quote } => recs.push(Rec::Quote {
                id: Some(id),
                feed: Some([
                    quote.bid_price,
                    quote.bid_qty,
                    quote.ask_price,
                    quote.ask_qty,
                ]),
            }),
            Msg::Definition { id, name } => recs.push(Rec::Def {
                id,
                len: name.len(),
                name: name[..name.len().min(32)].to_vec(),
            }),
            Msg::QuoteByName { .. } => panic!("a Deribit datagram gave a quote by name"),
        }
    });
    recs.push(Rec::End {
        msgs,
        trunc,
        unknown,
        skipped,
    });
    recs
}

/// The message index (headers walked before it, as `messages` counts) of each record the
/// software path's decode gives (Tickers, conversion rejects included, and Instruments).
fn record_indices(payload: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut k = 0u64;
    Stages::decode_deribit(payload, |m| {
        if matches!(
            m,
            Msg::Conversion | Msg::QuoteById { .. } | Msg::Definition { .. }
        ) {
            out.push(k);
        }
        k += 1;
    });
    out
}

/// Where each Ticker/Instrument record of a datagram starts and ends: `[c, e)` of every whole
/// message with templateId 1003 or 1000 and schemaId 1 that is not truncated by its own rules
/// (docs/PIPELINE.md section 2, walked here independently of the software path).
fn record_spans(p: &[u8]) -> Vec<(usize, usize)> {
    let n = p.len();
    let u16_at = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]) as usize;
    let mut spans = Vec::new();
    if n < 8 {
        return spans;
    }
    let mut c = 8;
    while c < n {
        if c + 12 > n {
            break;
        }
        let (bl, tid, sid, g, d) = (
            u16_at(c),
            u16_at(c + 2),
            u16_at(c + 4),
            u16_at(c + 8),
            u16_at(c + 10),
        );
        let mut e = c + 12 + bl;
        if e > n {
            break;
        }
        let mut ok = true;
        for _ in 0..g {
            if e + 8 > n {
                ok = false;
                break;
            }
            e += 8 + u16_at(e) * u16_at(e + 2);
            if e > n {
                ok = false;
                break;
            }
        }
        for _ in 0..if ok { d } else { 0 } {
            if e + 1 > n {
                ok = false;
                break;
            }
            e += 1 + p[e] as usize;
            if e > n {
                ok = false;
                break;
            }
        }
        if !ok {
            break;
        }
        if sid == 1 && ((tid == 1003 && bl >= 133) || (tid == 1000 && bl >= 4 && d > 0)) {
            spans.push((c, e));
        }
        c = e;
    }
    spans
}

/// The cycle stamps a payload beat carries: the bytes in lanes below `split` came with the
/// earlier input beat (`lo`), the rest with the later one (`hi`); all distinct per frame and beat.
fn stamps(frame: usize, beat: usize) -> (u64, u64, u64) {
    let lo = ((frame as u64) << 32) | ((beat as u64) << 1);
    let split = (frame as u64 * 7 + beat as u64 * 3) % 9;
    (lo, lo | 1, split)
}

/// The stamp of payload byte `b` of datagram `frame`.
fn byte_stamp(frame: usize, b: usize) -> u64 {
    let (lo, hi, split) = stamps(frame, b / 8);
    if ((b % 8) as u64) < split {
        lo
    } else {
        hi
    }
}

/// The frame-level stamps given with a datagram's beats (and expected in each of its records).
fn frame_ts(frame: usize) -> u64 {
    0x7500_0000_0000 + frame as u64
}
fn frame_cyc(frame: usize) -> u64 {
    0x00c0_0000_0000 + 3 * frame as u64
}

/// The payload beats of a datagram as the payload FIFO presents them: (data, sof, eof).
fn beats(payload: &[u8]) -> Vec<(u64, bool, bool)> {
    let mut b = Vec::new();
    for (i, c) in payload.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        b.push((u64::from_le_bytes(w), i == 0, false));
    }
    // an empty payload is one end-of-frame beat that is also the first
    b.push((0, payload.is_empty(), true));
    b
}

/// The decoder as the default build has it, and as the ECP5 build has it (MEM_REG = 1: the
/// channel read registered twice and the walker's element registered, two cycles an element).
/// Both must give the same records; the timing tests hold the default build to its cycles.
const BUILDS: [(&str, &ModelFns); 2] = [("default", &DERIBIT), ("MEM_REG = 1", &DERIBIT_MEM_REG)];

fn dut_of(build: &'static ModelFns) -> Model {
    let mut m = Model::new(build, None).expect("model");
    m.inp[inp::RST] = 1;
    for _ in 0..4 {
        m.tick();
    }
    m.inp[inp::RST] = 0;
    m
}

/// What a run saw besides the records.
#[derive(Debug, Default)]
struct RunStats {
    /// each END record's verdict and the sequence outcome shown with it: (ok, duplicate, gap,
    /// untracked)
    ends: Vec<[bool; 4]>,
    /// cycles a data beat was presented and held
    data_stalls: u64,
    /// for each Ticker record after the beat with its datagram's last byte was taken: cycles from
    /// taking that beat to the record (the converter feed is a cycle earlier)
    last_ticker_latency: Vec<u64>,
    /// for each datagram, the (first byte, last byte) stamps of its Ticker/Instrument records
    record_stamps: Vec<Vec<(u64, u64)>>,
    /// for each datagram, every record's feed key and its flag (r_key, r_kflag), END last
    keys: Vec<Vec<(u64, bool)>>,
}

/// Streams the datagrams back to back through the decoder (`gap(cycle)`: present nothing this
/// cycle) and returns each datagram's records in order.
fn run(
    m: &mut Model,
    datagrams: &[Vec<u8>],
    mut gap: impl FnMut(u64) -> bool,
) -> (Vec<Vec<Rec>>, RunStats) {
    let mut queue = Vec::new();
    for (f, d) in datagrams.iter().enumerate() {
        for b in beats(d) {
            queue.push((f, b));
        }
    }
    let mut out_recs: Vec<Vec<Rec>> = vec![Vec::new(); datagrams.len()];
    let mut stats = RunStats {
        record_stamps: vec![Vec::new(); datagrams.len()],
        keys: vec![Vec::new(); datagrams.len()],
        ..RunStats::default()
    };
    let mut beat_no = 0usize; // index of the presented beat in its datagram
    let mut frame_done = 0usize;
    let mut feed: Option<[u64; 4]> = None;
    let mut last_taken: Option<u64> = None; // cycle the current datagram's last data beat went in
    let mut i = 0usize;
    let mut cycle = 0u64;
    let limit = 40 * queue.len() as u64 + 1000;
    while frame_done < datagrams.len() {
        assert!(cycle < limit, "decoder hung: {frame_done} frames done");
        let present = i < queue.len() && !gap(cycle);
        if present {
            let (f, (data, sof, eof)) = queue[i];
            m.inp[inp::IN_VALID] = 1;
            m.inp[inp::IN_DATA] = data;
            m.inp[inp::IN_SOF] = sof as u64;
            m.inp[inp::IN_EOF] = eof as u64;
            m.inp[inp::IN_OK] = 1;
            m.inp[inp::IN_VENUE] = 2;
            m.inp[inp::IN_LEN] = datagrams[f].len() as u64;
            m.inp[inp::IN_TS] = frame_ts(f);
            m.inp[inp::IN_CYC_FRAME] = frame_cyc(f);
            let (lo, hi, split) = stamps(f, beat_no);
            m.inp[inp::IN_CYC_LO] = lo;
            m.inp[inp::IN_CYC_HI] = hi;
            m.inp[inp::IN_SPLIT] = split;
        } else {
            m.inp[inp::IN_VALID] = 0;
        }
        m.tick();
        let o = &m.out;
        if o[out::CV_VALID] != 0 {
            assert!(feed.is_none(), "two converter feeds without a record");
            feed = Some([o[out::CV_V0], o[out::CV_V1], o[out::CV_V2], o[out::CV_V3]]);
        }
        if o[out::R_VALID] != 0 {
            let f = frame_done;
            let rec = match o[out::R_KIND] {
                K_QID => {
                    let v = feed
                        .take()
                        .expect("a Ticker record without its converter feed");
                    let conv: Option<Vec<i64>> =
                        v.iter().map(|&x| price9::from_f64_bits(x)).collect();
                    match conv {
                        Some(c) => Rec::Quote {
                            id: Some(o[out::R_ID] as u32),
                            feed: Some([c[0], c[1], c[2], c[3]]),
                        },
                        None => Rec::Quote {
                            id: None,
                            feed: None,
                        },
                    }
                }
                K_DEF => {
                    let len = o[out::R_NAME_LEN] as usize;
                    let mut name = Vec::with_capacity(32);
                    for w in 0..4 {
                        name.extend_from_slice(&o[out::R_NAME + w].to_le_bytes());
                    }
                    let kept = len.min(32);
                    assert!(
                        name[kept..].iter().all(|&b| b == 0),
                        "name bytes past its length are not zero: {name:?} (len {len})"
                    );
                    name.truncate(kept);
                    Rec::Def {
                        id: o[out::R_ID] as u32,
                        len,
                        name,
                    }
                }
                K_END => {
                    stats.ends.push([
                        o[out::R_OK] != 0,
                        o[out::SQ_DUP] != 0,
                        o[out::SQ_GAP] != 0,
                        o[out::SQ_UNTRACKED] != 0,
                    ]);
                    let lo = o[out::R_CNT];
                    let hi = o[out::R_CNT + 1];
                    assert_eq!(
                        hi & 0xffff_ffff,
                        0,
                        "the decoder counts no conversions or symbols"
                    );
                    frame_done += 1;
                    Rec::End {
                        msgs: lo as u16,
                        trunc: (lo >> 16) as u16,
                        unknown: (lo >> 32) as u16,
                        skipped: (lo >> 48) as u16,
                    }
                }
                k => panic!("record kind {k}"),
            };
            assert_eq!(o[out::R_VENUE], 2);
            stats.keys[f].push((o[out::R_KEY], o[out::R_KFLAG] != 0));
            if !matches!(rec, Rec::End { .. }) {
                assert_eq!(o[out::R_TS], frame_ts(f), "record ts");
                assert_eq!(o[out::R_CYC_FRAME], frame_cyc(f), "record frame cycle");
                stats.record_stamps[f].push((o[out::R_CYC_FIRST], o[out::R_CYC_LAST]));
            }
            if let (Rec::Quote { .. }, Some(t)) = (&rec, last_taken) {
                stats.last_ticker_latency.push(cycle - t);
            }
            out_recs[f].push(rec);
        }
        if present {
            let (_, (_, _, eof)) = queue[i];
            let stalled = m.out[out::IN_STALL] != 0;
            if stalled && !eof {
                stats.data_stalls += 1;
            }
            if !stalled {
                beat_no += 1;
                if eof {
                    last_taken = None;
                    beat_no = 0;
                } else if queue.get(i + 1).is_some_and(|q| q.1 .2) {
                    last_taken = Some(cycle);
                }
                i += 1;
            }
        }
        cycle += 1;
    }
    // nothing left over
    for _ in 0..8 {
        m.inp[inp::IN_VALID] = 0;
        m.tick();
        assert_eq!(m.out[out::R_VALID], 0, "a record after the frame's END");
        assert_eq!(m.out[out::CV_VALID], 0);
    }
    assert_eq!(m.out[out::BUSY], 0);
    (out_recs, stats)
}

/// Checks both builds; returns the default build's stats.
fn check(datagrams: &[Vec<u8>], mut gap: impl FnMut(u64) -> bool) -> RunStats {
    let mut first = None;
    for (name, build) in BUILDS {
        let stats = check_build(name, build, datagrams, &mut gap);
        first.get_or_insert(stats);
    }
    first.expect("a build")
}

fn check_build(
    name: &str,
    build: &'static ModelFns,
    datagrams: &[Vec<u8>],
    gap: impl FnMut(u64) -> bool,
) -> RunStats {
    let mut m = dut_of(build);
    // clear_state held: every frame is its channel's first, never a duplicate (the walk is
    // checked here; frame_sequences_follow_the_model checks the sequences)
    m.inp[inp::CLEAR] = 1;
    let (got, stats) = run(&mut m, datagrams, gap);
    assert!(
        stats.ends.iter().all(|e| e == &[true, false, false, false]),
        "END records: {:?}",
        stats.ends
    );
    for (f, d) in datagrams.iter().enumerate() {
        let want = expected(d);
        assert_eq!(
            got[f],
            want,
            "{name}: datagram {f} ({} bytes): {:02x?}",
            d.len(),
            d
        );
        let spans: Vec<(u64, u64)> = record_spans(d)
            .iter()
            .map(|&(c, e)| (byte_stamp(f, c), byte_stamp(f, e - 1)))
            .collect();
        assert_eq!(
            stats.record_stamps[f], spans,
            "{name}: datagram {f}: cycle stamps of the first and last byte of each record"
        );
    }
    stats
}

/// One Deribit message with arbitrary structure.
fn message(
    tid: u16,
    sid: u16,
    bl: u16,
    body: &[u8],
    groups: &[(u16, u16)],
    vars: &[Vec<u8>],
    rng: &mut Rng,
) -> Vec<u8> {
    let mut m = Vec::new();
    for v in [bl, tid, sid, 1, groups.len() as u16, vars.len() as u16] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = body.to_vec();
    b.resize(bl as usize, 0);
    m.extend_from_slice(&b);
    for &(gb, gn) in groups {
        for v in [gb, gn, 0, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        let len = gb as usize * gn as usize;
        // entries too long for any datagram are left out: the walk stops there, truncated
        if len <= 600 {
            m.extend_from_slice(&rng.bytes(len));
        }
    }
    for v in vars {
        m.push(v.len() as u8);
        m.extend_from_slice(v);
    }
    m
}

/// A datagram of messages of random structure: every template class, group sizes across the
/// multiply's corners, names around 32 bytes; then perhaps cut short and mutated.
fn hostile(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut d = Vec::new();
    d.extend_from_slice(&rng.bytes(8));
    let n = rng.below(6);
    for _ in 0..n {
        let tid = *rng.pick(&[1000u16, 1003, 1003, 1001, 1005, 1010, 999, 1011, 0xffff]);
        let sid = if rng.pct(85) {
            1
        } else {
            rng.next_u64() as u16
        };
        let bl = match rng.below(6) {
            0 => rng.below(8) as u16,
            1 => 132,
            2 => 133,
            3 => 140,
            _ => rng.below(200) as u16,
        };
        let mut body = rng.bytes(bl as usize);
        if tid == 1003 && bl >= 133 && rng.pct(70) {
            for (k, off) in [61usize, 69, 77, 85].iter().enumerate() {
                let v = if rng.pct(10) {
                    f64::from_bits(rng.next_u64())
                } else {
                    (rng.below(1_000_000) as f64) / 8.0 + k as f64
                };
                body[*off..off + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
        let corners = [0u16, 1, 2, 3, 5, 7, 8, 29, 45, 2047, 2048, 0xffff];
        let mut groups = Vec::new();
        if rng.pct(30) {
            for _ in 0..1 + rng.below(3) {
                let gb = if rng.pct(80) {
                    *rng.pick(&corners)
                } else {
                    rng.next_u64() as u16
                };
                let gn = if rng.pct(80) {
                    *rng.pick(&corners)
                } else {
                    rng.next_u64() as u16
                };
                groups.push((gb, gn));
            }
        }
        let mut vars = Vec::new();
        if rng.pct(40) {
            for _ in 0..1 + rng.below(3) {
                let l = *rng.pick(&[0usize, 1, 6, 7, 13, 31, 32, 33, 40, 255]);
                vars.push(rng.bytes(l));
            }
        }
        d.extend_from_slice(&message(tid, sid, bl, &body, &groups, &vars, &mut rng));
    }
    mutate(&mut rng, &mut d);
    d
}

/// Cuts a datagram short and/or flips bytes, sometimes.
fn mutate(rng: &mut Rng, d: &mut Vec<u8>) {
    if rng.pct(30) && !d.is_empty() {
        let l = rng.below(d.len() as u64 + 1) as usize;
        d.truncate(l);
    }
    if rng.pct(25) && !d.is_empty() {
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(d.len() as u64) as usize;
            d[at] = rng.next_u64() as u8;
        }
    }
    d.truncate(2006);
}

#[test]
fn generated_datagrams_back_to_back() {
    let mut rng = Rng::new(11);
    let ids = [7u32, 210_760, 124_972, 0xdead_beef];
    let ds: Vec<Vec<u8>> = (0..400).map(|_| deribit_datagram(&mut rng, &ids)).collect();
    check(&ds, |_| false);
}

/// Frame sequences (PIPELINE section 4a) against a model written here: datagrams of every
/// shape with headers of a few channels (two sharing a slot) and sequences that repeat, skip
/// and go back; frames shorter than the header have none.
#[test]
fn frame_sequences_follow_the_model() {
    const SLOTS: u16 = 1 << tickcross_swpath::CHAN_BITS;
    let mut rng = Rng::new(0x5e9);
    let ids = [7u32, 210_760];
    let channels = [0u16, 1, 9, SLOTS + 9, 3 * SLOTS + 1];
    let mut ds: Vec<Vec<u8>> = Vec::new();
    let mut seq = [0u32; 5];
    for k in 0..600 {
        let mut d = if k % 7 == 0 {
            (0..(rng.below(12) as u8)).collect()
        } else {
            deribit_datagram(&mut rng, &ids)
        };
        if d.len() >= 8 {
            let c = rng.below(channels.len() as u64) as usize;
            seq[c] = match rng.below(6) {
                0 => seq[c].wrapping_sub(rng.below(3) as u32),
                1 => seq[c].wrapping_add(1 + rng.below(3) as u32),
                _ => seq[c].wrapping_add(1),
            };
            d[2..4].copy_from_slice(&channels[c].to_le_bytes());
            d[4..8].copy_from_slice(&seq[c].to_le_bytes());
        }
        ds.push(d);
    }
    // the end of the sequence space: after u32::MAX every sequence is a duplicate
    for s in [u32::MAX - 1, u32::MAX, 0, u32::MAX] {
        let mut d = deribit_datagram(&mut rng, &ids);
        d[2..4].copy_from_slice(&9u16.to_le_bytes());
        d[4..8].copy_from_slice(&s.to_le_bytes());
        ds.push(d);
    }
    // the model: per slot, (channel, last + 1)
    let mut slots: std::collections::HashMap<u16, (u16, u64)> = Default::default();
    let want: Vec<[bool; 4]> = ds
        .iter()
        .map(|d| {
            if d.len() < 8 {
                return [true, false, false, false];
            }
            let ch = u16::from_le_bytes([d[2], d[3]]);
            let s = u64::from(u32::from_le_bytes([d[4], d[5], d[6], d[7]]));
            match slots.get(&(ch % SLOTS)).copied() {
                None => {
                    slots.insert(ch % SLOTS, (ch, s + 1));
                    [true, false, false, false]
                }
                Some((other, _)) if other != ch => [true, false, false, true],
                Some((_, next)) if s < next => [false, true, false, false],
                Some((_, next)) => {
                    slots.insert(ch % SLOTS, (ch, s + 1));
                    [true, false, s > next, false]
                }
            }
        })
        .collect();
    assert!(want.iter().filter(|e| e[1]).count() > 20, "duplicates");
    assert!(want.iter().filter(|e| e[2]).count() > 20, "gaps");
    assert!(want.iter().filter(|e| e[3]).count() > 20, "untracked");
    for (name, build) in BUILDS {
        let mut m = dut_of(build);
        let (_, stats) = run(&mut m, &ds, |c| c % 5 == 3);
        for (f, (got, want)) in stats.ends.iter().zip(&want).enumerate() {
            assert_eq!(
                got,
                want,
                "{name}: frame {f}: {:02x?}",
                &ds[f][..ds[f].len().min(8)]
            );
        }
        // feed keys: {channelId, sequence, message index}; a record's flag says its channel owns
        // its slot (not untracked), the END's that the frame is a gap
        let mut keyed = 0;
        for (f, (d, keys)) in ds.iter().zip(&stats.keys).enumerate() {
            let (end_key, end_flag) = *keys.last().unwrap();
            assert_eq!(end_flag, want[f][0] && want[f][2], "frame {f}: END flag");
            if d.len() < 8 {
                assert_eq!(keys.len(), 1, "frame {f}: records without a header");
                continue;
            }
            let frame_key = (u64::from(u16::from_le_bytes([d[2], d[3]])) << 48)
                | (u64::from(u32::from_le_bytes([d[4], d[5], d[6], d[7]])) << 16);
            assert_eq!(end_key, frame_key, "frame {f}: END key");
            let idx = record_indices(d);
            assert_eq!(idx.len(), keys.len() - 1, "frame {f}: records");
            for (&(key, flag), k) in keys.iter().zip(idx) {
                assert_eq!(key, frame_key | k, "frame {f}: record key");
                assert_eq!(flag, !want[f][3], "frame {f}: record flag (tracked)");
                keyed += 1;
            }
        }
        assert!(keyed > 200, "{keyed} keyed records");
        assert_eq!(stats.ends.len(), ds.len());
        // clear_state: every channel starts again
        m.inp[inp::CLEAR] = 1;
        m.tick();
        m.inp[inp::CLEAR] = 0;
        let again: Vec<Vec<u8>> = ds
            .iter()
            .filter(|d| d.len() >= 8)
            .take(1)
            .cloned()
            .collect();
        let (_, stats) = run(&mut m, &again, |_| false);
        assert_eq!(stats.ends, [[true, false, false, false]]);
    }
}

#[test]
fn short_and_empty_payloads() {
    let ds: Vec<Vec<u8>> = (0..=24).map(|n| (0..n as u8).collect()).collect();
    check(&ds, |_| false);
}

/// Frames of Tickers only (every element longer than 8 bytes) never hold a data beat, and the
/// converter feed of a datagram's last Ticker comes the cycle after its last beat is taken (its
/// record is registered at the end of that cycle).
#[test]
fn ticker_frames_never_stall_and_fire_one_cycle_after_the_last_beat() {
    let mut rng = Rng::new(5);
    let mut ds = Vec::new();
    for _ in 0..50 {
        let mut d = rng.bytes(8);
        for _ in 0..1 + rng.below(8) {
            let mut body = rng.bytes(133);
            for off in [61usize, 69, 77, 85] {
                body[off..off + 8].copy_from_slice(&(rng.below(100_000) as f64).to_le_bytes());
            }
            d.extend_from_slice(&message(1003, 1, 133, &body, &[], &[], &mut rng));
        }
        ds.push(d);
    }
    let stats = check(&ds, |_| false);
    assert_eq!(stats.data_stalls, 0, "a Ticker-only frame held a data beat");
    assert_eq!(stats.last_ticker_latency.len(), ds.len());
    assert!(
        stats.last_ticker_latency.iter().all(|&c| c == 2),
        "last beat taken -> record: {:?}",
        stats.last_ticker_latency
    );
}

/// Frames of Instruments (names of 7 bytes or more: every element 8 bytes or longer) and Tickers,
/// without groups, never hold a data beat (docs/PIPELINE.md section 8).
#[test]
fn instrument_and_ticker_frames_never_stall() {
    let mut rng = Rng::new(17);
    let mut ds = Vec::new();
    for _ in 0..60 {
        let mut d = rng.bytes(8);
        while d.len() < 1400 {
            if rng.pct(70) {
                let bl = *rng.pick(&[4u16, 5, 8, 20]);
                let body = rng.bytes(bl as usize);
                let names: Vec<Vec<u8>> = (0..1 + rng.below(2))
                    .map(|_| {
                        let l = 7 + rng.below(30) as usize;
                        rng.bytes(l)
                    })
                    .collect();
                d.extend_from_slice(&message(1000, 1, bl, &body, &[], &names, &mut rng));
            } else {
                let body = rng.bytes(133);
                d.extend_from_slice(&message(1003, 1, 133, &body, &[], &[], &mut rng));
            }
        }
        ds.push(d);
    }
    let stats = check(&ds, |_| false);
    assert_eq!(
        stats.data_stalls, 0,
        "a frame without short elements held a data beat"
    );
}

/// Minimum frames (a frame header and one message header) back to back never hold a data beat.
#[test]
fn minimum_frames_back_to_back_never_stall() {
    let mut rng = Rng::new(9);
    let ds: Vec<Vec<u8>> = (0..200)
        .map(|_| {
            let mut d = rng.bytes(8);
            d.extend_from_slice(&message(1002, 1, 0, &[], &[], &[], &mut rng));
            d
        })
        .collect();
    let stats = check(&ds, |_| false);
    assert_eq!(stats.data_stalls, 0);
}

#[test]
fn real_deribit_capture() {
    let Some(path) = shared_data("deribit/sample_capture_v1_6.pcapng") else {
        return;
    };
    let (frames, _) = read_capture(&path).expect("capture");
    // incremental (port 6100) and snapshot (6101) channels, as examples/deribit.toml
    let filters: Vec<VenueFilter> = [6100, 6101]
        .iter()
        .map(|&port| {
            VenueFilter::new(&Filter {
                ip: [239, 111, 111, 0],
                prefix: 27,
                port,
                venue: 0,
            })
        })
        .collect();
    let ds: Vec<Vec<u8>> = frames
        .iter()
        .filter_map(|f| match frame_check::check(&f.data, false, &filters) {
            Verdict::Accept { start, len, .. } => Some(f.data[start..start + len].to_vec()),
            Verdict::Drop(_) => None,
        })
        .collect();
    assert_eq!(ds.len(), 5066, "every frame is a Deribit datagram");
    let stats = check(&ds, |_| false);
    eprintln!(
        "real capture: {} datagrams, {} cycles a data beat was held",
        ds.len(),
        stats.data_stalls
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Hostile datagrams, with idle cycles between beats.
    #[test]
    fn hostile_datagrams(seed in any::<u64>(), gaps in any::<u64>(), count in 1usize..12) {
        let ds: Vec<Vec<u8>> = (0..count as u64).map(|k| hostile(seed ^ (k << 40))).collect();
        let mut g = Rng::new(gaps);
        let idle = gaps % 3 != 0;
        check(&ds, |_| idle && g.pct(30));
    }

    /// Generated datagrams cut short and mutated, and random bytes.
    #[test]
    fn mutated_and_random_datagrams(seed in any::<u64>(), count in 1usize..10) {
        let mut rng = Rng::new(seed);
        let ids = [7u32, 210_760];
        let ds: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                if rng.pct(25) {
                    let l = rng.below(300) as usize;
                    rng.bytes(l)
                } else {
                    let mut d = deribit_datagram(&mut rng, &ids);
                    let mut r2 = Rng::new(rng.next_u64());
                    mutate(&mut r2, &mut d);
                    d
                }
            })
            .collect();
        check(&ds, |_| false);
    }
}
