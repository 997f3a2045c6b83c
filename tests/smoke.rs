//! The simulated card end to end on a handful of frames.

use tickcross_bindings::counter;
use tickcross_core::detect::Detector;
use tickcross_core::frame::Frame;
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_tests::*;

#[test]
fn two_venues_cross_once() {
    let program = binance_program(2);
    let mut hw = HwDetector::simulated(&program, &SimOptions::default()).expect("sim");
    // venue 0: bid 100 ask 101; venue 1: bid 102 ask 103 -> venue 1's bid crosses venue 0's ask
    let f0 = udp_frame(
        [239, 1, 1, 1],
        5000,
        &binance_bbo("BTCUSDT", -2, -3, 10000, 1500, 10100, 2000),
    );
    let f1 = udp_frame(
        [239, 1, 1, 2],
        5001,
        &binance_bbo("BTCUSDT", -2, -3, 10200, 700, 10300, 900),
    );
    hw.push_frame(&Frame::new(1000, f0)).unwrap();
    hw.push_frame(&Frame::new(2000, f1)).unwrap();
    hw.flush().unwrap();
    let c = hw.counters().unwrap();
    let mut ev = Vec::new();
    hw.drain_events(&mut ev).unwrap();
    for (n, v) in c.named() {
        if v != 0 {
            eprintln!("{n} = {v}");
        }
    }
    eprintln!("{ev:#?}");
    assert_eq!(c.get(counter::RX_FRAMES), 2);
    assert_eq!(c.get(counter::FRAMES_ACCEPTED), 2);
    assert_eq!(c.get(counter::QUOTE_UPDATES), 2);
    assert_eq!(ev.len(), 1);
    let e = ev[0];
    assert_eq!((e.buy_venue, e.sell_venue), (0, 1));
    assert_eq!(e.buy_price, 101_000_000_000);
    assert_eq!(e.sell_price, 102_000_000_000);
    assert_eq!(e.qty, 700_000_000);
    let q = hw.quotes().unwrap();
    assert_eq!(q.get(1, 0).bid_price, 102_000_000_000);
    assert!(q.get(1, 0).valid);
}

/// The host takes events from host memory only: during a whole replay through the simulated
/// card (thousands of events, the host ring wrapping, credits going back) no drain reads the BAR,
/// and the BAR reads of the whole replay (liveness checks while waiting for the simulator, at most
/// one every 10 ms) do not grow with the events.
#[test]
fn no_bar_read_on_the_event_path() {
    let program = binance_program(2);
    let mut hw = HwDetector::simulated(&program, &SimOptions::default()).expect("sim");
    let mut sw = tickcross_swpath::SwDetector::new(&program).unwrap();
    let start = std::time::Instant::now();
    let reads_at_start = hw.device().bar_reads();
    let mut ev = Vec::new();
    let mut drains = 0;
    for i in 0..6000u64 {
        // venue 0 asks 101, venue 1 bids 102: every venue-1 update crosses
        let (dst, port, bid, ask) = if i % 2 == 0 {
            ([239, 1, 1, 1], 5000, 10000, 10100)
        } else {
            ([239, 1, 1, 2], 5001, 10200, 10300)
        };
        let qty = 100 + (i as i64 % 1000);
        let f = Frame::new(
            1000 + i,
            udp_frame(
                dst,
                port,
                &binance_bbo("BTCUSDT", -2, -3, bid, qty, ask, qty),
            ),
        );
        sw.push_frame(&f).unwrap();
        hw.push_frame(&f).unwrap();
        if i % 64 == 63 {
            let before = hw.device().bar_reads();
            hw.drain_events(&mut ev).unwrap();
            assert_eq!(hw.device().bar_reads(), before, "a drain read the BAR");
            drains += 1;
        }
    }
    hw.flush().unwrap();
    let before = hw.device().bar_reads();
    hw.drain_events(&mut ev).unwrap();
    assert_eq!(hw.device().bar_reads(), before, "a drain read the BAR");
    let reads = hw.device().bar_reads() - reads_at_start;
    let ms = start.elapsed().as_millis() as u64;
    let mut want = Vec::new();
    sw.drain_events(&mut want).unwrap();
    eprintln!(
        "{} events, {drains} drains, {reads} BAR reads in {ms} ms of replay",
        ev.len()
    );
    assert!(want.len() >= 2900, "{} events", want.len());
    assert_eq!(ev.len(), want.len());
    for (a, b) in ev.iter().zip(&want) {
        assert!(a.contract_eq(b), "{a:?} != {b:?}");
    }
    let seq = hw.device().seq_check();
    assert_eq!((seq.lost, seq.out_of_order), (0, 0));
    // liveness only: the watchdog reads the cycle counter at most once per 10 ms
    assert!(reads <= ms / 10 + 8, "{reads} BAR reads in {ms} ms");
    assert!(
        reads < ev.len() as u64 / 4,
        "{reads} BAR reads for {} events",
        ev.len()
    );
    let c = hw.counters().unwrap();
    assert_eq!(c.get(counter::RING_OVERFLOWS), 0);
}

/// The modelled DMA: an isolated record reaches host memory one posted-write latency (500 ns by
/// default, configurable) plus the engine's two reads and two beats after its commit.
#[test]
fn an_isolated_record_arrives_one_write_latency_after_commit() {
    for (ns, cycles) in [(None, 161), (Some(2000), 645)] {
        let opts = SimOptions {
            dma_latency_ns: ns,
            ..SimOptions::default()
        };
        let mut hw = HwDetector::simulated(&binance_program(2), &opts).expect("sim");
        for (ts, v, bid, ask) in [(1000, 0u8, 10000, 10100), (2000, 1, 10200, 10300)] {
            let msg = binance_bbo("BTCUSDT", -2, -3, bid, 700, ask, 900);
            let f = udp_frame([239, 1, 1, v + 1], 5000 + u16::from(v), &msg);
            hw.push_frame(&Frame::new(ts, f)).unwrap();
        }
        hw.flush().unwrap();
        let mut ev = Vec::new();
        hw.drain_events(&mut ev).unwrap();
        assert_eq!(ev.len(), 1);
        let s = hw.sim_stats();
        eprintln!(
            "posted write {} cycles: record delivered {} cycles after commit",
            s.dma_write_latency, s.dma_latency_max
        );
        assert_eq!(
            (s.dma_write_latency, s.dma_records, s.dma_faults),
            (cycles, 1, 0)
        );
        assert_eq!(s.dma_latency_min, s.dma_latency_max);
        // two reads, a register, the FIFO, two 512-bit beats
        assert!(
            (cycles + 2..cycles + 12).contains(&s.dma_latency_max),
            "{}",
            s.dma_latency_max
        );
    }
}
