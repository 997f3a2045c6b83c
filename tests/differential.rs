//! Hardware vs software on generated traffic: well-formed, malformed, truncated, mutated and
//! back-to-back frames across Binance and Deribit venues must give identical events, counters and
//! quote tables, and the hardware must never hang.

use proptest::prelude::*;
use tickcross_bindings::counter;
use tickcross_tests::gen::{faulty, world_program, world_stream};
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
    if bad_pct == 0 {
        // undamaged, the world's feeds are in order: no duplicate, gap or out-of-order quote
        for k in [
            counter::FRAME_DUPLICATES,
            counter::SEQ_GAPS + 2,
            counter::MSG_OUT_OF_ORDER,
        ] {
            assert_eq!(hw.counters.get(k), 0, "seed {seed}: counter {k}");
        }
    }
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

/// Lost, duplicated and reordered frames on every feed: both paths drop the same Binance quotes as
/// out of order (their bookUpdateIds are not above the entry's) and agree on everything else.
fn check_faulty(seed: u64, n: usize) -> u64 {
    let program = world_program([0, 0, 0]);
    let frames = faulty(&world_stream(seed, n, 0), seed ^ 0xfa17, 5, 10, 10);
    let (hw, sw) = run_both(&program, &frames).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    if let Some(d) = difference(&hw, &sw) {
        panic!("seed {seed} ({} frames, faulty): {d}", frames.len());
    }
    hw.counters.get(counter::MSG_OUT_OF_ORDER)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn lost_duplicated_and_reordered_frames_agree(seed in any::<u64>()) {
        check_faulty(seed, 300);
    }
}

#[test]
fn out_of_order_quotes_are_dropped_alike() {
    // a longer stream certainly repeats and reorders Binance quotes of one entry
    let dropped = check_faulty(0x0dd5, 2000);
    assert!(dropped > 10, "only {dropped} quotes out of order");
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

/// The detector's rules on crafted quotes, where random streams rarely go: equal best prices on
/// several venues (lowest index wins), both events from one update, the edge as a strict bound,
/// a negative edge, and empty sides.
#[test]
fn detector_ties_edges_and_empty_sides() {
    use tickcross_core::frame::Frame;
    use tickcross_core::program::{Filter, Program, Protocol};
    use tickcross_tests::{binance_bbo, udp_frame};
    let mut p = Program {
        edges: vec![0, 2_000_000_000, -500_000_000],
        ..Program::default()
    };
    for v in 0..4u8 {
        p.venues.push(Some(Protocol::BinanceSbe));
        p.filters.push(Filter {
            ip: [239, 1, 1, v + 1],
            prefix: 32,
            port: 5000 + v as u16,
            venue: v,
        });
        for (i, s) in ["AAA", "BBB", "CCC"].iter().enumerate() {
            p.symbols.push((v, s.as_bytes().to_vec(), i as u16));
        }
    }
    // (venue, symbol, bid, bid qty, ask, ask qty), prices in whole units
    let quotes: &[(u8, &str, i64, i64, i64, i64)] = &[
        // AAA, edge 0: venues 1 and 2 both bid 100; venue 3's ask 99 crosses both: sell on venue 1
        (1, "AAA", 100, 5, 105, 5),
        (2, "AAA", 100, 7, 106, 5),
        (3, "AAA", 90, 1, 99, 3),
        // venue 0 quotes a crossed book of its own against the others: bid 107 over asks 105/106,
        // ask 98 under the bids of 100: both events from one update, buy side first
        (0, "AAA", 107, 2, 98, 4),
        // a zero bid quantity is an empty side: no sell event from venue 3 now
        (3, "AAA", 200, 0, 300, 1),
        // BBB, edge 2: a cross of exactly 2 is not an event, 2.000000001 is
        (0, "BBB", 100, 1, 110, 1),
        (1, "BBB", 50, 1, 98, 1),
        (2, "BBB", 50, 1, 97, 1),
        // CCC, edge -0.5: touching books (bid == ask) count, a 0.5 gap does not
        (0, "CCC", 100, 1, 101, 1),
        (1, "CCC", 99, 1, 100, 1),
        (2, "CCC", 99, 1, 101, 1),
    ];
    let mut frames = Vec::new();
    for (k, (v, sym, b, bq, a, aq)) in quotes.iter().enumerate() {
        let msg = binance_bbo(sym, 0, 0, *b, *bq, *a, *aq);
        frames.push(Frame::new(
            1000 + k as u64,
            udp_frame([239, 1, 1, v + 1], 5000 + *v as u16, &msg),
        ));
    }
    // BBB's "2.000000001" needs nine decimals: 97.999999999 from venue 3
    let msg = binance_bbo("BBB", -9, 0, 1, 1, 97_999_999_999, 1);
    frames.push(Frame::new(2000, udp_frame([239, 1, 1, 4], 5003, &msg)));
    let (hw, sw) = run_both(&p, &frames).unwrap();
    if let Some(d) = difference(&hw, &sw) {
        panic!("{d}");
    }
    let got: Vec<(u16, u8, u8, i64, i64)> = hw
        .events
        .iter()
        .map(|e| {
            (
                e.instrument,
                e.buy_venue,
                e.sell_venue,
                e.buy_price / 1_000_000_000,
                e.sell_price / 1_000_000_000,
            )
        })
        .collect();
    let want = vec![
        (0, 3, 1, 99, 100), // AAA: venue 3's ask 99 against the tied bids of 100: venue 1 (lowest index)
        (0, 0, 1, 98, 100), // venue 0's ask 98 against the tied bids: venue 1 again
        (0, 3, 0, 99, 107), // then venue 0's bid 107 against the lowest other ask (venue 3's 99)
        // (venue 3's next quote has an empty bid: no event, and its ask 300 crosses nothing)
        (1, 2, 0, 97, 100), // BBB, edge 2: venue 1's ask 98 crosses by exactly 2 (none), venue 2's 97 by 3
        (2, 1, 0, 100, 100), // CCC, edge -0.5: touching books; gaps of 1 (venue 2) are not events
        (1, 3, 0, 97, 100), // BBB: 100 - 97.999999999 = 2.000000001 > 2
    ];
    assert_eq!(
        got, want,
        "events: (instrument, buy venue, sell venue, buy px, sell px)"
    );
}
