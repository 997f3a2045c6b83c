//! The input takes one beat every cycle: back-to-back minimum-size frames are all taken without a
//! stall and without a drop (DESIGN section 8, docs/PIPELINE.md section 8).

use tickcross_bindings::counter;
use tickcross_core::detect::Detector;
use tickcross_core::frame::Frame;
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_tests::gen::world_program;
use tickcross_tests::udp_frame;

#[test]
fn back_to_back_minimum_frames_never_stall() {
    let n = 20_000;
    // 60-byte frames (8 beats): 18 bytes of UDP payload, alternately to a Binance venue (one
    // truncated message each) and to the Deribit venue (a frame header and a truncated message)
    let mut hw = HwDetector::simulated(&world_program([0, 0, 0]), &SimOptions::default()).unwrap();
    for i in 0..n {
        let (dst, port) = if i % 2 == 0 {
            ([239, 1, 1, 1], 5000)
        } else {
            ([239, 111, 111, 3], 6100)
        };
        let mut payload = [(i % 251) as u8; 18];
        // the Deribit frames in sequence on one channel (a repeated header is a duplicate)
        payload[2..4].copy_from_slice(&1u16.to_le_bytes());
        payload[4..8].copy_from_slice(&(i as u32 / 2).to_le_bytes());
        let f = udp_frame(dst, port, &payload);
        assert_eq!(f.len(), 60);
        hw.push_frame(&Frame::new(i as u64, f)).unwrap();
    }
    hw.flush().unwrap();
    let c = hw.counters().unwrap();
    let s = hw.sim_stats();
    assert_eq!(c.get(counter::RX_FRAMES), n as u64);
    assert_eq!(
        c.get(counter::FRAMES_ACCEPTED),
        n as u64,
        "every frame taken"
    );
    // every datagram's message was walked and classified (truncated or an unknown template)
    assert_eq!(
        c.messages(0) + c.messages(2),
        n as u64,
        "every message seen"
    );
    assert_eq!(
        c.get(counter::MSG_TRUNCATED) + c.get(counter::MSG_UNKNOWN_TEMPLATE),
        n as u64
    );
    assert_eq!(c.get(counter::FRAME_DUPLICATES), 0);
    assert_eq!(c.get(counter::INPUT_STALL_CYCLES), 0, "tready never fell");
    assert_eq!(s.stall_cycles, 0);
    assert_eq!(s.beats, 8 * n as u64);
}
