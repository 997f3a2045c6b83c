//! Hardware vs software on generated traffic: well-formed, malformed, truncated, mutated and
//! back-to-back frames across Binance and Deribit venues must give identical events, counters and
//! quote tables, and the hardware must never hang.

use proptest::prelude::*;
use tickcross_bindings::counter;
use tickcross_tests::gen::{world_program, world_stream};
use tickcross_tests::{difference, run_both};

fn cases() -> u32 {
    std::env::var("TICKCROSS_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

fn check(seed: u64, n: usize, bad_pct: u64, edges: [i64; 3]) {
    let program = world_program(edges);
    let frames = world_stream(seed, n, bad_pct);
    let (hw, sw) = run_both(&program, &frames).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    if let Some(d) = difference(&hw, &sw) {
        panic!("seed {seed} ({n} frames, {bad_pct}% damaged): {d}");
    }
    // the stream must actually exercise the pipeline
    assert_eq!(hw.counters.get(counter::RX_FRAMES), n as u64);
    assert!(
        hw.counters.get(counter::FRAMES_ACCEPTED) > 0,
        "seed {seed}: nothing accepted"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn damaged_streams_agree(seed in any::<u64>()) {
        check(seed, 200, 35, [0, 0, 0]);
    }

    #[test]
    fn clean_streams_agree(seed in any::<u64>(), edge in -50_000_000_000i64..50_000_000_000) {
        check(seed, 300, 0, [edge, 0, -edge]);
    }
}

#[test]
fn a_long_mixed_stream_agrees() {
    let program = world_program([0, 0, 0]);
    let frames = world_stream(0x5eed, 3000, 10);
    let (hw, sw) = run_both(&program, &frames).unwrap();
    if let Some(d) = difference(&hw, &sw) {
        panic!("{d}");
    }
    let c = &hw.counters;
    // every kind of outcome occurs in this stream
    for idx in [
        counter::FRAMES_ACCEPTED,
        counter::DROP_BAD_FRAME,
        counter::DROP_CHECKSUM,
        counter::DROP_LENGTH,
        counter::MSG_TRUNCATED,
        counter::MSG_UNKNOWN_TEMPLATE,
        counter::MSG_CONVERSION,
        counter::MSG_UNKNOWN_SYMBOL,
        counter::MSG_SKIPPED,
        counter::BINDS,
        counter::QUOTE_UPDATES,
        counter::EVENTS,
    ] {
        assert!(
            c.get(idx) > 0,
            "{} never happened",
            tickcross_bindings::COUNTER_NAMES[idx]
        );
    }
}
