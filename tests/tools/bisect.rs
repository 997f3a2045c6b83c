//! Bisects a failing differential seed to the first frame where the paths disagree.
//! `TICKCROSS_BISECT_SEED=<seed> [TICKCROSS_BISECT_N=<frames>] [TICKCROSS_BISECT_BAD=<pct>]
//! cargo run -p tickcross-tests --example bisect`

use tickcross_tests::gen::{world_program, world_stream};
use tickcross_tests::{difference, run_both};

fn main() {
    let seed: u64 = std::env::var("TICKCROSS_BISECT_SEED")
        .expect("set TICKCROSS_BISECT_SEED to the failing seed")
        .parse()
        .expect("TICKCROSS_BISECT_SEED: a number");
    let n: usize = std::env::var("TICKCROSS_BISECT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let bad: u64 = std::env::var("TICKCROSS_BISECT_BAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(35);
    let program = world_program([0, 0, 0]);
    let frames = world_stream(seed, n, bad);
    let fails = |k: usize| {
        let (h, s) = run_both(&program, &frames[..k]).unwrap();
        difference(&h, &s).map(|d| (d, h.counters.clone(), s.counters.clone()))
    };
    assert!(fails(n).is_some(), "seed does not fail with {n} frames");
    let (mut lo, mut hi) = (0, n);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fails(mid).is_some() {
            hi = mid
        } else {
            lo = mid
        }
    }
    let (d, hc, sc) = fails(hi).unwrap();
    let f = &frames[hi - 1];
    eprintln!(
        "first failing prefix: {hi} frames; last frame bad={} len={}",
        f.bad,
        f.data.len()
    );
    for chunk in f.data.chunks(16) {
        eprintln!(
            "  {}",
            chunk
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    eprintln!("{d}");
    for ((n, a), (_, b)) in hc.named().zip(sc.named()) {
        if a != b {
            eprintln!("  counter {n}: hw {a} sw {b}");
        }
    }
    std::process::exit(1);
}
