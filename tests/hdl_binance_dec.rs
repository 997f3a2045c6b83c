//! tc_binance_dec on its own, driven from Rust through sim/tb/tc_lookup_tb.v: binance_sbe
//! payloads (generated ones around every boundary, and the recorded bookTickers of data/binance
//! as the bridge encodes them) go in as realigned payload beats, and what the decoder emits is
//! compared with the software path's decoder (tickcross_swpath::Stages): the symbol, the numbers
//! (converted by the software path's price9 from the mantissas the decoder hands over), the
//! message counts of the frame's END record, and the cycle of each output.

use tickcross_bindings::counter;
use tickcross_bindings::pipeline::{counts, Kind};
use tickcross_capture::bridge::{bridge_binance_json, BridgeOptions};
use tickcross_core::price9;
use tickcross_sim::ffi::tc_lookup_tb::{inp, out};
use tickcross_sim::model::{Model, LOOKUP};
use tickcross_swpath::Stages;
use tickcross_tests::{binance_bbo, binance_data};

const VENUE: u64 = 5;
const SPLIT: u64 = 3;
const TS: u64 = 0x1234_5678;

fn model() -> Model {
    let mut m = Model::new(&LOOKUP, None).expect("model");
    m.inp[inp::RST] = 1;
    for _ in 0..4 {
        m.tick();
    }
    m.inp[inp::RST] = 0;
    m.tick();
    m
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// One beat per cycle.
    BackToBack,
    /// An idle cycle after every beat.
    Gaps,
    /// One beat per cycle, the final payload beat also shown a cycle early (in_la_*).
    Early,
}

/// The cycle stamps the test gives beat `b`'s low and high lanes, and an early final beat.
fn cyc_lo(b: usize) -> u64 {
    10_000 + 2 * b as u64
}
fn cyc_hi(b: usize) -> u64 {
    10_001 + 2 * b as u64
}
const LA_CYC: u64 = 77_777;

#[derive(Debug, Default)]
struct Out {
    /// (tick, name bytes, name length, cyc_first, cyc_last)
    quote: Vec<(usize, Vec<u8>, u64, u64, u64)>,
    /// (tick, msgs, trunc, unknown, skipped, ok)
    end: Vec<(usize, [u64; 4], bool)>,
    /// (tick, [v0..v3], pexp, qexp)
    cv: Vec<(usize, [u64; 4], i8, i8)>,
    /// bookUpdateId of each quote record
    uid: Vec<i64>,
    /// tick of each payload beat, and whether it was shown early
    beat_tick: Vec<usize>,
    early: bool,
}

fn beat(p: &[u8], b: usize) -> u64 {
    let mut w = [0u8; 8];
    for (k, x) in w.iter_mut().enumerate() {
        *x = p.get(8 * b + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(w)
}

/// Feeds one frame's payload and its END beat; collects what came out.
fn feed(m: &mut Model, p: &[u8], mode: Mode) -> Out {
    let nb = p.len().div_ceil(8);
    let mut o = Out::default();
    let mut t = 0usize;
    let sample = |m: &mut Model, t: usize, o: &mut Out| {
        m.tick();
        if m.out[out::BD_CV_VALID] != 0 {
            o.cv.push((
                t,
                [
                    m.out[out::BD_CV_V0],
                    m.out[out::BD_CV_V1],
                    m.out[out::BD_CV_V2],
                    m.out[out::BD_CV_V3],
                ],
                m.out[out::BD_CV_PEXP] as u8 as i8,
                m.out[out::BD_CV_QEXP] as u8 as i8,
            ));
        }
        if m.out[out::BD_R_VALID] != 0 {
            assert_eq!(m.out[out::BD_R_VENUE], VENUE);
            let kind = m.out[out::BD_R_KIND];
            if kind == Kind::Qname.code() {
                let mut name = Vec::new();
                for w in 0..4 {
                    name.extend_from_slice(&m.out[out::BD_R_NAME + w].to_le_bytes());
                }
                assert_eq!(m.out[out::BD_R_TS], TS);
                assert_eq!(m.out[out::BD_R_OK], 0);
                o.quote.push((
                    t,
                    name,
                    m.out[out::BD_R_NAME_LEN],
                    m.out[out::BD_R_CYC_FIRST],
                    m.out[out::BD_R_CYC_LAST],
                ));
                o.uid.push(m.out[out::BD_R_UID] as i64);
            } else {
                assert_eq!(kind, Kind::End.code(), "record kind");
                let c = m.out[out::BD_R_CNT];
                let f = |lsb: u32| (c >> lsb) & 0xffff;
                o.end.push((
                    t,
                    [
                        f(counts::MSGS),
                        f(counts::TRUNC),
                        f(counts::UNKNOWN),
                        f(counts::SKIPPED),
                    ],
                    m.out[out::BD_R_OK] != 0,
                ));
            }
        }
    };
    let set_common = |m: &mut Model| {
        m.inp[inp::BD_IN_VENUE] = VENUE;
        m.inp[inp::BD_IN_LEN] = p.len() as u64;
        m.inp[inp::BD_IN_TS] = TS;
        m.inp[inp::BD_IN_CYC_FRAME] = 9_999;
        m.inp[inp::BD_IN_SPLIT] = SPLIT;
        m.inp[inp::BD_IN_OK] = 1;
    };
    for b in 0..nb {
        set_common(m);
        m.inp[inp::BD_IN_VALID] = 1;
        m.inp[inp::BD_IN_DATA] = beat(p, b);
        m.inp[inp::BD_IN_SOF] = u64::from(b == 0);
        m.inp[inp::BD_IN_EOF] = 0;
        m.inp[inp::BD_IN_CYC_LO] = cyc_lo(b);
        m.inp[inp::BD_IN_CYC_HI] = cyc_hi(b);
        let early = mode == Mode::Early && nb >= 2 && b == nb - 2;
        m.inp[inp::BD_IN_LA_VALID] = u64::from(early);
        m.inp[inp::BD_IN_LA_DATA] = if early { beat(p, nb - 1) } else { 0 };
        m.inp[inp::BD_IN_LA_CYC] = if early { LA_CYC } else { 0 };
        o.early |= early;
        o.beat_tick.push(t);
        sample(m, t, &mut o);
        t += 1;
        m.inp[inp::BD_IN_VALID] = 0;
        m.inp[inp::BD_IN_LA_VALID] = 0;
        if mode == Mode::Gaps {
            sample(m, t, &mut o);
            t += 1;
        }
    }
    set_common(m);
    m.inp[inp::BD_IN_VALID] = 1;
    m.inp[inp::BD_IN_SOF] = u64::from(nb == 0);
    m.inp[inp::BD_IN_EOF] = 1;
    m.inp[inp::BD_IN_DATA] = 0;
    sample(m, t, &mut o);
    t += 1;
    m.inp[inp::BD_IN_VALID] = 0;
    m.inp[inp::BD_IN_EOF] = 0;
    for _ in 0..2 {
        sample(m, t, &mut o);
        t += 1;
    }
    o
}

/// The decoder's output for payload `p` against the software path's decode.
fn check(m: &mut Model, p: &[u8], mode: Mode) {
    let o = feed(m, p, mode);
    let what = format!("{mode:?} payload {:02x?}", &p[..p.len().min(80)]);
    // every frame ends with one END record, the cycle after its END beat
    assert_eq!(o.end.len(), 1, "{what}: END records");
    let (end_t, c, ok) = o.end[0];
    assert!(ok, "{what}: END ok");
    assert_eq!(c[0], 1, "{what}: messages");
    let sw = Stages::decode_binance(p);
    let class = Stages::binance_counter(p);
    let want_c = [
        class == Some(counter::MSG_TRUNCATED),
        class == Some(counter::MSG_UNKNOWN_TEMPLATE),
        class == Some(counter::MSG_SKIPPED),
    ];
    assert_eq!(
        [c[1] == 1, c[2] == 1, c[3] == 1],
        want_c,
        "{what}: END counts {c:?}, software {class:?}"
    );
    let is_quote = sw.is_some() || class == Some(counter::MSG_CONVERSION);
    if !is_quote {
        assert!(o.quote.is_empty(), "{what}: a record for a dropped message");
        return;
    }
    assert_eq!(o.quote.len(), 1, "{what}: quote records");
    let (qt, name, len, first, last) = o.quote[0].clone();
    if let Some(id) = Stages::binance_update_id(p) {
        assert_eq!(o.uid, [id], "{what}: bookUpdateId");
    }
    assert!(qt < end_t, "{what}: the quote after its END");
    // the numbers went to the converters once, no later than the message's last byte
    assert_eq!(o.cv.len(), 1, "{what}: converter feeds");
    let (cvt, v, pe, qe) = o.cv[0];
    assert!(cvt < qt, "{what}: numbers fed at {cvt}, the record at {qt}");
    let conv = [
        price9::from_mantissa(v[0] as i64, pe),
        price9::from_mantissa(v[1] as i64, qe),
        price9::from_mantissa(v[2] as i64, pe),
        price9::from_mantissa(v[3] as i64, qe),
    ];
    // the symbol and its place
    let bl = usize::from(u16::from_le_bytes([p[0], p[1]]));
    let sym_len = usize::from(p[8 + bl]);
    let last_byte = 8 + bl + sym_len; // offset of the message's last byte
    assert_eq!(len as usize, sym_len, "{what}: name length");
    match sw {
        Some((sw_name, q)) => {
            let mut want = sw_name[..sw_name.len().min(32)].to_vec();
            want.resize(32, 0);
            assert_eq!(name, want, "{what}: name (masked past its length)");
            assert_eq!(
                conv,
                [
                    Some(q.bid_price),
                    Some(q.bid_qty),
                    Some(q.ask_price),
                    Some(q.ask_qty)
                ],
                "{what}: numbers"
            );
        }
        None => assert!(
            conv.iter().any(Option::is_none),
            "{what}: software rejects a number, the hardware's all convert: {conv:?}"
        ),
    }
    // timing: the cycle after the beat with the last byte, or after its predecessor when the
    // final beat (holding the last byte, not the length byte) was shown early
    let b = last_byte / 8;
    let nb = p.len().div_ceil(8);
    let early = o.early && b == nb - 1 && (8 + bl) / 8 < b;
    let (want_t, want_last) = if early {
        (o.beat_tick[b - 1] + 1, LA_CYC)
    } else {
        let lane = (last_byte % 8) as u64;
        (
            o.beat_tick[b] + 1,
            if lane < SPLIT { cyc_lo(b) } else { cyc_hi(b) },
        )
    };
    assert_eq!(qt, want_t, "{what}: record cycle");
    assert_eq!(last, want_last, "{what}: cyc_last");
    assert_eq!(first, cyc_lo(0), "{what}: cyc_first");
}

/// A 10001 message with block length `bl` (>= 50; the bytes past 50 are padding).
fn message(bl: usize, name: &[u8], m: [i64; 4], pe: i8, qe: i8) -> Vec<u8> {
    let base = binance_bbo("", pe, qe, m[0], m[1], m[2], m[3]);
    let mut p = base[..58].to_vec();
    p[0..2].copy_from_slice(&(bl as u16).to_le_bytes());
    p.extend((58..8 + bl).map(|k| k as u8 ^ 0x5a));
    p.push(name.len() as u8);
    p.extend_from_slice(name);
    p
}

fn generated() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for bl in [50usize, 51, 52, 53, 54, 55, 56, 57, 63, 64, 100] {
        for len in 0..=40usize {
            let name: Vec<u8> = (0..len).map(|k| b'A' + ((k + len) % 26) as u8).collect();
            let k = (bl + len) as i64;
            let neg = len % 11 == 7; // a negative quantity: conversion
            let m = [
                100_000 + k,
                if neg { -3 } else { 7 * k + 1 },
                100_010 + k,
                k,
            ];
            let mut p = message(bl, &name, m, -2, -(len as i8 % 9));
            // a bookUpdateId using every byte, negative for some
            let uid = (k * 0x0123_4567_89ab_cdef_i64.wrapping_div(97)) ^ -((len % 2) as i64);
            p[16..24].copy_from_slice(&uid.to_le_bytes());
            // trailing bytes after the message (the datagram is longer)
            p.extend(std::iter::repeat_n(0xee, len % 3 * 4));
            out.push(p);
        }
    }
    // every truncation of a few messages
    for (bl, len) in [(50usize, 7usize), (53, 20), (57, 32), (50, 0)] {
        let name: Vec<u8> = (0..len).map(|k| b'a' + k as u8).collect();
        let p = message(bl, &name, [1, 2, 3, 4], -8, -8);
        for n in 0..p.len() {
            out.push(p[..n].to_vec());
        }
    }
    // headers: other schema, skipped and unknown templates, a short block
    let good = message(50, b"BTCUSDT", [1, 2, 3, 4], 0, 0);
    for (tid, sid, bl) in [
        (10001u16, 2u16, 50u16),
        (10000, 1, 50),
        (10002, 1, 50),
        (10003, 1, 50),
        (9999, 1, 50),
        (10001, 1, 49),
        (10001, 1, 0),
    ] {
        let mut p = good.clone();
        p[0..2].copy_from_slice(&bl.to_le_bytes());
        p[2..4].copy_from_slice(&tid.to_le_bytes());
        p[4..6].copy_from_slice(&sid.to_le_bytes());
        out.push(p);
    }
    out
}

#[test]
fn generated_payloads_decode_as_the_software_path_does() {
    let mut m = model();
    for p in generated() {
        for mode in [Mode::BackToBack, Mode::Gaps, Mode::Early] {
            check(&mut m, &p, mode);
        }
    }
}

#[test]
fn recorded_book_tickers_decode_as_the_software_path_does() {
    let inputs: Vec<(String, std::path::PathBuf)> = [
        "spot_btcusdt_20240808.gz",
        "usdm_btcusdt_20240808.gz",
        "cm_btcusd_perp_20240808.gz",
    ]
    .iter()
    .map(|f| (f.to_string(), binance_data().join(f)))
    .collect();
    let bridge = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
    assert!(bridge.messages.len() > 100_000);
    let mut m = model();
    let modes = [Mode::BackToBack, Mode::Early, Mode::Gaps];
    for (k, msg) in bridge.messages.iter().enumerate() {
        check(&mut m, &msg.payload, modes[k % 3]);
    }
}
