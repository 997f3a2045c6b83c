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
