//! Per-module RTL tests, driven from Rust through the Verilated units wrapper (sim/tb/tc_units_tb.v).

use proptest::prelude::*;
use tickcross_core::price9;
use tickcross_sim::ffi::tc_units_tb::{inp, out};
use tickcross_sim::model::Model;

/// The converters of the units wrapper: (latency, value output, reject output).
const CONVERTERS: [(usize, usize, usize); 3] = [
    (3, out::CV_OUT, out::CV_REJECT),
    (4, out::CV4_OUT, out::CV4_REJECT),
    (5, out::CV5_OUT, out::CV5_REJECT),
];

/// Streams (value, exp, fmt) through tc_price9_conv one per cycle and returns the hardware's
/// (value, rejected) for each, in order, from the converter of latency `lat` (3, 4 or 5).
fn convert(m: &mut Model, inputs: &[(u64, i8, bool)], lat: usize) -> Vec<(u64, bool)> {
    let (lat, o_value, o_reject) = CONVERTERS.into_iter().find(|c| c.0 == lat).unwrap();
    let mut outs = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() + lat {
        if let Some(&(v, e, f)) = inputs.get(i) {
            m.inp[inp::CV_VALID] = 1;
            m.inp[inp::CV_VALUE] = v;
            m.inp[inp::CV_EXP] = e as u8 as u64;
            m.inp[inp::CV_FMT] = f as u64;
        } else {
            m.inp[inp::CV_VALID] = 0;
        }
        m.tick();
        // outputs sampled before this cycle's edge hold the result of the input lat cycles ago
        if i >= lat {
            outs.push((m.out[o_value], m.out[o_reject] != 0));
        }
    }
    outs
}

fn reference(v: u64, e: i8, f: bool) -> Option<i64> {
    if f {
        price9::from_f64_bits(v)
    } else {
        price9::from_mantissa(v as i64, e)
    }
}

fn check(inputs: &[(u64, i8, bool)]) {
    for (lat, _, _) in CONVERTERS {
        let mut m = units_model();
        check_at(&mut m, inputs, lat);
    }
}

fn check_at(m: &mut Model, inputs: &[(u64, i8, bool)], lat: usize) {
    let got = convert(m, inputs, lat);
    assert_eq!(got.len(), inputs.len());
    for (&(v, e, f), (hv, hrej)) in inputs.iter().zip(got) {
        match reference(v, e, f) {
            Some(want) => assert!(
                !hrej && hv as i64 == want,
                "{} {v:#x} e={e}: hw (latency {lat}) {} {hv}, sw {want}",
                if f { "f64" } else { "dec" },
                if hrej { "rejects" } else { "gives" }
            ),
            None => assert!(
                hrej,
                "{} {v:#x} e={e}: hw (latency {lat}) gives {hv}, sw rejects",
                if f { "f64" } else { "dec" }
            ),
        }
    }
}

#[test]
fn conversion_edge_cases() {
    let mut cases = Vec::new();
    let mantissas: [i64; 14] = [
        0,
        1,
        5,
        9,
        10,
        99,
        100,
        6183763000000,
        1645,
        922337203,
        9223372036,
        i64::MAX,
        i64::MIN,
        -1,
    ];
    for &m in &mantissas {
        for e in [
            -128i8, -28, -27, -20, -19, -18, -10, -9, -8, -2, -1, 0, 1, 9, 10, 18, 127,
        ] {
            cases.push((m as u64, e, false));
        }
    }
    // multiples of powers of ten around the division boundaries
    for j in 1..=18u32 {
        let p = 10i64.pow(j);
        for k in [1i64, 3, 7, 922] {
            if let Some(m) = p.checked_mul(k) {
                cases.push((m as u64, -9 - j as i8, false));
                cases.push(((m + 1) as u64, -9 - j as i8, false));
            }
        }
    }
    let doubles = [
        0.0f64,
        -0.0,
        1.0,
        -1.0,
        0.5e-9,
        1.5e-9,
        2.5e-9,
        0.1,
        25474.74,
        26204.73,
        10.0,
        20.0,
        1e9,
        9.2e9,
        9.223372036854775e9,
        9.3e9,
        1e10,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        4.5e15,
        1.0 / 3.0,
        123456.789,
    ];
    for d in doubles {
        cases.push((d.to_bits(), 0, true));
    }
    // exponents that put the binary point at every shift the hardware distinguishes, and past
    // the last one (992: x * 10^9 rounds to 0 or 1; below it, to 0)
    for exp in 990u64..1100 {
        for frac in [0u64, 1, 0x8000000000000, 0xfffffffffffff] {
            cases.push(((exp << 52) | frac, 0, true));
        }
    }
    // the doubles on both sides of x * 10^9 = 0.5 (ceil(2^73 / 5^9) = 2^52 + 0x12e0be826d695)
    for frac in 0x12e0be826d695u64 - 3..0x12e0be826d695 + 3 {
        cases.push(((992 << 52) | frac, 0, true));
    }
    check(&cases);
}

/// The largest scale-ups, x10^16..x10^18 (e = 7..9), take their product from tables indexed by
/// the mantissa's low bits: every mantissa that fits (and the first ones that do not), and the
/// doubles on both sides of the overflow bound, whose fraction compare is made a stage early.
#[test]
fn conversion_of_the_largest_scale_ups_and_the_double_bound() {
    let mut cases = Vec::new();
    for e in 6i8..=10 {
        for m in 0u64..=1100 {
            cases.push((m, e, false));
        }
        for m in [
            1u64 << 10,
            (1 << 10) + 1,
            1 << 20,
            u32::MAX as u64,
            i64::MAX as u64,
        ] {
            cases.push((m, e, false));
        }
    }
    // i64::MAX / 10^9 as a double, and the doubles around it (same exponent, 2^33..2^34)
    let bound = (i64::MAX as f64 / 1e9).to_bits();
    for b in bound - 64..bound + 64 {
        cases.push((b, 0, true));
    }
    for frac_bits in [0u64, 1, 0x2000000000000, 0xfffffffffffff] {
        cases.push((((1023 + 33) << 52) | frac_bits, 0, true));
    }
    check(&cases);
}

/// tc_lookup reads a Binance message's results cycles after they arrive: each result must show up
/// exactly lat cycles (3, 4 or 5) after its input and stay until the next valid input's result replaces it,
/// whatever the inputs carry while `cv_valid` is low.
#[test]
fn conversion_results_appear_after_lat_cycles_and_hold() {
    for (lat, o_value, o_reject) in CONVERTERS {
        results_appear_after_lat_cycles_and_hold(lat, o_value, o_reject);
    }
}

fn results_appear_after_lat_cycles_and_hold(lat: usize, o_value: usize, o_reject: usize) {
    let first = (1645u64, -10i8, false); // rejected: not a multiple of 10
    let a = (6183763000000u64, -8i8, false);
    let b = (25474.74f64.to_bits(), 0i8, true);
    let want = |&(v, e, f): &(u64, i8, bool)| match reference(v, e, f) {
        Some(x) => (x as u64, false),
        None => (0, true),
    };
    // (cycle, input); every other cycle idles with garbage on the data inputs
    let feed = [(0usize, first), (4, a), (13, b)];
    let mut m = units_model();
    let mut seen = Vec::new();
    for i in 0..24usize {
        match feed.iter().find(|&&(c, _)| c == i) {
            Some(&(_, (v, e, f))) => {
                m.inp[inp::CV_VALID] = 1;
                m.inp[inp::CV_VALUE] = v;
                m.inp[inp::CV_EXP] = e as u8 as u64;
                m.inp[inp::CV_FMT] = f as u64;
            }
            None => {
                m.inp[inp::CV_VALID] = 0;
                m.inp[inp::CV_VALUE] = 0x7ff8_0000_dead_beef ^ i as u64;
                m.inp[inp::CV_EXP] = (i as u64 * 37) & 0xff;
                m.inp[inp::CV_FMT] = (i & 1) as u64;
            }
        }
        m.tick();
        let rej = m.out[o_reject] != 0;
        seen.push((if rej { 0 } else { m.out[o_value] }, rej));
    }
    assert_ne!(want(&first), want(&a));
    assert_ne!(want(&a), want(&b));
    for (i, got) in seen.iter().enumerate().skip(lat) {
        // the latest input at least lat cycles old
        let (_, input) = feed.iter().rev().find(|&&(c, _)| c + lat <= i).unwrap();
        assert_eq!(*got, want(input), "latency {lat}, cycle {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn conversion_matches_the_reference(
        dec in prop::collection::vec((any::<i64>(), -30i8..=20), 200),
        small in prop::collection::vec((0i64..10_000_000_000, -20i8..=10), 200),
        bits in prop::collection::vec(any::<u64>(), 200),
        prices in prop::collection::vec(0.0f64..1e7, 200),
    ) {
        let mut cases: Vec<(u64, i8, bool)> = Vec::new();
        cases.extend(dec.iter().map(|&(m, e)| (m as u64, e, false)));
        cases.extend(small.iter().map(|&(m, e)| (m as u64, e, false)));
        cases.extend(bits.iter().map(|&b| (b, 0, true)));
        cases.extend(prices.iter().map(|&p| (p.to_bits(), 0, true)));
        check(&cases);
    }
}

// ---------------------------------------------------------------------------------------------
// tc_frame_rx: verdicts, payload realignment and cycle stamps

use tickcross_bindings::pipeline::Reason;
use tickcross_bindings::{blocks, protocol};
use tickcross_core::program::{Filter, Protocol};
use tickcross_device::device::venue_word;
use tickcross_swpath::frame_check::{check as frame_check, VenueFilter, Verdict};
use tickcross_tests::gen::{mutate, Rng};
use tickcross_tests::{udp_frame_shaped, units_model, write_frame_rx_filters};

/// One forwarded payload stream as the hardware emitted it.
#[derive(Debug, Default)]
struct Stream {
    ts: u64,
    venue: u64,
    len: u64,
    bytes: Vec<u8>,
    stamps: Vec<u64>,
    ok: Option<bool>,
}

const FILTERS: &[Filter] = &[
    Filter {
        ip: [239, 1, 1, 1],
        prefix: 32,
        port: 5000,
        venue: 0,
    },
    Filter {
        ip: [239, 111, 111, 0],
        prefix: 27,
        port: 6100,
        venue: 2,
    },
    Filter {
        ip: [10, 0, 0, 0],
        prefix: 8,
        port: 7000,
        venue: 1,
    },
    Filter {
        ip: [0, 0, 0, 0],
        prefix: 0,
        port: 9999,
        venue: 3,
    }, // venue 3 has no protocol
];
const VENUES: &[Option<Protocol>] = &[
    Some(Protocol::BinanceSbe),
    Some(Protocol::BinanceSbe),
    Some(Protocol::DeribitMcast),
    None,
];

/// The verdict tc_frame_rx gives for the software path's: the one that counts into the same
/// counter (the contract's pipeline codes name each verdict's counter).
fn reason_of(v: Verdict) -> Reason {
    match v {
        Verdict::Accept { .. } => Reason::Ok,
        Verdict::Drop(i) => Reason::from_counter(i)
            .unwrap_or_else(|| panic!("no frame verdict counts into counter {i}")),
    }
}

/// What tc_frame_rx did with a run of frames: the done pulses (reason, bytes), the payload
/// streams, and for each frame the cycle at which each of its wire beats went in.
type FrameRxRun = (Vec<(u64, u64)>, Vec<Stream>, Vec<Vec<u64>>);

/// Drives frames back to back into tc_frame_rx.
fn run_frame_rx(frames: &[(Vec<u8>, bool)]) -> FrameRxRun {
    let mut m = units_model();
    write_frame_rx_filters(&mut m, FILTERS);
    for (v, p) in VENUES.iter().enumerate() {
        // a venue without a protocol is enabled with protocol "none": it must never match
        m.inp[inp::FR_CFG_WR] = 1;
        m.inp[inp::FR_CFG_IDX] = 16 + v as u64;
        m.inp[inp::FR_CFG_DATA] = match p {
            Some(_) => venue_word(*p),
            None => blocks::venues::Venue {
                protocol: protocol::NONE as u8,
                enable: true,
            }
            .pack()
            .unwrap(),
        };
        m.tick();
    }
    m.inp[inp::FR_CFG_WR] = 0;
    m.inp[inp::FR_ENABLE] = 1;

    let mut dones = Vec::new();
    let mut streams: Vec<Stream> = Vec::new();
    let mut beat_cycles = Vec::new();
    let observe = |m: &Model, dones: &mut Vec<(u64, u64)>, streams: &mut Vec<Stream>| {
        if m.out[out::FR_DONE_VALID] != 0 {
            dones.push((m.out[out::FR_DONE_REASON], m.out[out::FR_DONE_BYTES]));
        }
        if m.out[out::FR_M_VALID] != 0 {
            if m.out[out::FR_M_SOF] != 0 {
                streams.push(Stream {
                    ts: m.out[out::FR_M_TS],
                    venue: m.out[out::FR_M_VENUE],
                    len: m.out[out::FR_M_LEN],
                    ..Stream::default()
                });
            }
            let s = streams
                .last_mut()
                .expect("a payload beat before any start of frame");
            assert!(s.ok.is_none(), "payload beat after the end of frame");
            let keep = m.out[out::FR_M_KEEP];
            let data = m.out[out::FR_M_DATA].to_le_bytes();
            for (lane, byte) in data.iter().enumerate() {
                if keep >> lane & 1 == 1 {
                    s.bytes.push(*byte);
                    let stamp = if (lane as u64) < m.out[out::FR_M_SPLIT] {
                        m.out[out::FR_M_CYC_LO]
                    } else {
                        m.out[out::FR_M_CYC_HI]
                    };
                    s.stamps.push(stamp);
                }
            }
            if m.out[out::FR_M_EOF] != 0 {
                s.ok = Some(m.out[out::FR_M_OK] != 0);
            }
        }
    };
    for (i, (f, bad)) in frames.iter().enumerate() {
        let beats = f.len().div_ceil(8).max(1);
        let mut cycles = Vec::new();
        for b in 0..beats {
            let chunk = &f[(8 * b).min(f.len())..(8 * b + 8).min(f.len())];
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            m.inp[inp::FR_TDATA] = u64::from_le_bytes(w);
            m.inp[inp::FR_TKEEP] = if chunk.is_empty() {
                0
            } else {
                (1u64 << chunk.len()) - 1
            };
            m.inp[inp::FR_TLAST] = (b + 1 == beats) as u64;
            m.inp[inp::FR_TUSER] = (*bad && b + 1 == beats) as u64;
            m.inp[inp::FR_TS] = i as u64;
            m.inp[inp::FR_TVALID] = 1;
            m.tick();
            assert_eq!(m.out[out::FR_TREADY], 1, "tready low with hold low");
            cycles.push(m.out[out::CYCLE]);
            observe(&m, &mut dones, &mut streams);
        }
        beat_cycles.push(cycles);
    }
    m.inp[inp::FR_TVALID] = 0;
    for _ in 0..8 {
        m.tick();
        observe(&m, &mut dones, &mut streams);
    }
    (dones, streams, beat_cycles)
}

fn check_frame_rx(frames: &[(Vec<u8>, bool)]) {
    let filters: Vec<VenueFilter> = FILTERS
        .iter()
        .filter(|f| VENUES[f.venue as usize].is_some())
        .map(VenueFilter::new)
        .collect();
    let (dones, streams, beat_cycles) = run_frame_rx(frames);
    assert_eq!(dones.len(), frames.len(), "one verdict per frame");
    let mut streams = streams.into_iter().peekable();
    for (i, ((f, bad), (reason, bytes))) in frames.iter().zip(dones).enumerate() {
        let v = frame_check(f, *bad, &filters);
        assert_eq!(
            Reason::from_code(reason),
            Some(reason_of(v)),
            "frame {i} (len {}): verdict (code {reason})",
            f.len()
        );
        assert_eq!(bytes, f.len() as u64, "frame {i}: byte count");
        let s = if streams.peek().is_some_and(|s| s.ts == i as u64) {
            streams.next()
        } else {
            None
        };
        match v {
            Verdict::Accept { venue, start, len } => {
                let s = s.unwrap_or_else(|| panic!("frame {i}: accepted but not forwarded"));
                assert_eq!(s.ok, Some(true), "frame {i}: end of frame");
                assert_eq!(s.venue, venue as u64, "frame {i}: venue");
                assert_eq!(s.len, len as u64, "frame {i}: payload length");
                assert_eq!(s.bytes, f[start..start + len], "frame {i}: payload bytes");
                for (k, stamp) in s.stamps.iter().enumerate() {
                    assert_eq!(
                        *stamp,
                        beat_cycles[i][(start + k) / 8],
                        "frame {i}: cycle stamp of payload byte {k}"
                    );
                }
            }
            Verdict::Drop(_) => {
                if let Some(s) = s {
                    assert_eq!(
                        s.ok,
                        Some(false),
                        "frame {i}: dropped frame forwarded as good"
                    );
                }
            }
        }
    }
    assert!(streams.next().is_none(), "streams left over");
}

#[test]
fn frame_rx_realigns_every_payload_length_and_header_shape() {
    let mut frames = Vec::new();
    let mut rng = Rng::new(1);
    for len in 0..90 {
        for (vlan, options) in [(false, 0), (true, 0), (false, 4), (true, 12), (false, 40)] {
            let payload = rng.bytes(len);
            frames.push((
                udp_frame_shaped(&payload, [239, 1, 1, 1], 5000, vlan, options),
                false,
            ));
        }
    }
    check_frame_rx(&frames);
}

#[test]
fn frame_rx_matches_the_software_checks_on_damaged_frames() {
    let mut rng = Rng::new(7);
    let mut frames = Vec::new();
    for _ in 0..1500 {
        let (dst, port) = *rng.pick(&[
            ([239u8, 1, 1, 1], 5000u16),
            ([239, 111, 111, 17], 6100),
            ([10, 9, 8, 7], 7000),
            ([1, 2, 3, 4], 9999),
            ([239, 1, 1, 2], 5000),
        ]);
        let len = rng.below(200) as usize;
        let payload = rng.bytes(len);
        let vlan = rng.pct(20);
        let options = 4 * rng.below(11) as usize;
        let f = udp_frame_shaped(&payload, dst, port, vlan, options);
        frames.push(if rng.pct(60) {
            mutate(&mut rng, f)
        } else {
            (f, false)
        });
    }
    check_frame_rx(&frames);
}
