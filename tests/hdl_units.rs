//! Per-module RTL tests, driven from Rust through the Verilated units wrapper (sim/tb/tc_units_tb.v).

use proptest::prelude::*;
use tickcross::price9;
use tickcross_sim::ffi::tc_units_tb::{inp, out};
use tickcross_sim::model::{Model, UNITS};

fn units() -> Model {
    let mut m = Model::new(&UNITS, None).expect("model");
    m.inp[inp::RST] = 1;
    for _ in 0..4 {
        m.tick();
    }
    m.inp[inp::RST] = 0;
    m
}

/// Streams (value, exp, fmt) through tc_price9_conv one per cycle and returns the hardware's
/// (value, rejected) for each, in order.
fn convert(m: &mut Model, inputs: &[(u64, i8, bool)]) -> Vec<(u64, bool)> {
    const LAT: usize = 3;
    let mut outs = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() + LAT {
        if let Some(&(v, e, f)) = inputs.get(i) {
            m.inp[inp::CV_VALID] = 1;
            m.inp[inp::CV_VALUE] = v;
            m.inp[inp::CV_EXP] = e as u8 as u64;
            m.inp[inp::CV_FMT] = f as u64;
        } else {
            m.inp[inp::CV_VALID] = 0;
        }
        m.tick();
        // outputs sampled before this cycle's edge hold the result of the input LAT cycles ago
        if i >= LAT {
            outs.push((m.out[out::CV_OUT], m.out[out::CV_REJECT] != 0));
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
    let mut m = units();
    let got = convert(&mut m, inputs);
    assert_eq!(got.len(), inputs.len());
    for (&(v, e, f), (hv, hrej)) in inputs.iter().zip(got) {
        match reference(v, e, f) {
            Some(want) => assert!(
                !hrej && hv as i64 == want,
                "{} {v:#x} e={e}: hw {} {hv}, sw {want}",
                if f { "f64" } else { "dec" },
                if hrej { "rejects" } else { "gives" }
            ),
            None => assert!(
                hrej,
                "{} {v:#x} e={e}: hw gives {hv}, sw rejects",
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
    // exponents that put the binary point at every shift the hardware distinguishes
    for exp in 1000u64..1100 {
        for frac in [0u64, 1, 0x8000000000000, 0xfffffffffffff] {
            cases.push(((exp << 52) | frac, 0, true));
        }
    }
    check(&cases);
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
