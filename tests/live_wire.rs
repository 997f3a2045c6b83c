//! The live wire (issue 13): frames that tcpreplay plays into one end of a veth pair, in a network
//! namespace the test makes and removes, arrive at the other end's `LiveCapture` unchanged, in
//! order, none lost, with kernel timestamps. Skips, saying so, where the machine forbids network
//! namespaces.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tickcross_capture::live::{LiveCapture, LiveError, LiveStats};
use tickcross_capture::netgen::UdpFrameBuilder;
use tickcross_capture::{read_capture, PcapWriter};
use tickcross_core::frame::Frame;
use tickcross_testkit::wire::{Wire, WireError};
use tickcross_tests::shared_data;

const POLL: Duration = Duration::from_millis(50);
/// After tcpreplay has finished, this much silence ends the wait for frames still in flight.
const QUIET_AFTER_PLAY: Duration = Duration::from_secs(5);

fn wire_or_skip() -> Option<Wire> {
    match Wire::new() {
        Ok(w) => Some(w),
        Err(WireError::Unavailable(why)) => {
            eprintln!("SKIPPED (needs root for a network namespace): {why}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut w = PcapWriter::create(path).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(1_700_000_000_000_000_000 + i as u64 * 1_000, f)
            .unwrap();
    }
    w.finish().unwrap();
}

/// Plays `pcap` into the wire at top speed while taking frames off its other end; returns what
/// arrived. Stops once `expect` frames are in, or once tcpreplay is done and the wire has been
/// quiet for `QUIET_AFTER_PLAY` (so a lost frame fails the comparison instead of hanging).
fn play(wire: &Wire, pcap: &Path, expect: usize) -> (Vec<Frame>, LiveStats, String) {
    let b = wire.b.clone();
    let mut cap = wire
        .within(move || LiveCapture::open(&b, POLL))
        .unwrap()
        .unwrap();
    std::thread::scope(|s| {
        let player = s.spawn(|| wire.tcpreplay(pcap, true));
        let mut got = Vec::new();
        let mut quiet_since = None;
        let started = std::time::Instant::now();
        // the overall limit is a way out should tcpreplay hang (it is killed after 600 s)
        while got.len() < expect && started.elapsed() < Duration::from_secs(660) {
            match cap.next_frame().unwrap() {
                Some(f) => {
                    got.push(f);
                    quiet_since = None;
                }
                None if player.is_finished() => {
                    let since = *quiet_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= QUIET_AFTER_PLAY {
                        break;
                    }
                }
                None => {}
            }
        }
        let summary = player.join().unwrap().unwrap();
        (got, cap.stats(), summary)
    })
}

fn check_arrival(sent: &[Vec<u8>], got: &[Frame], stats: LiveStats, t0: u64, t1: u64) {
    assert_eq!(
        stats.kernel_drops, 0,
        "the kernel dropped frames: {stats:?}"
    );
    assert_eq!(stats.truncated, 0, "{stats:?}");
    assert_eq!(got.len(), sent.len(), "frames arrived: {stats:?}");
    for (i, (s, g)) in sent.iter().zip(got).enumerate() {
        assert_eq!(&g.data, s, "frame {i} differs");
        assert!(!g.bad);
        assert!(
            (t0..=t1).contains(&g.ts_ns),
            "frame {i}: timestamp {} outside the test's run {t0}..{t1}",
            g.ts_ns
        );
    }
    assert!(
        got.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns),
        "kernel timestamps go back"
    );
    assert_eq!(stats.frames, sent.len() as u64);
    assert_eq!(
        stats.bytes,
        sent.iter().map(|f| f.len() as u64).sum::<u64>()
    );
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", std::process::id()))
}

#[test]
fn generated_frames_of_every_size_cross_the_wire_unchanged_and_in_order() {
    let Some(wire) = wire_or_skip() else { return };
    // UDP payloads of 0..=8000 bytes (the veth MTU is 9000), to several destinations
    let frames: Vec<Vec<u8>> = (0..600u32)
        .map(|i| {
            let len = (i as usize * 37) % 8001;
            let payload: Vec<u8> = (0..len).map(|j| (i as usize + j * 7) as u8).collect();
            UdpFrameBuilder::new(
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000),
                SocketAddrV4::new(
                    Ipv4Addr::new(239, 1, (i % 3) as u8, 7),
                    6100 + (i % 5) as u16,
                ),
            )
            .build(&payload)
            .unwrap()
        })
        .collect();
    let pcap = tmp("generated.pcap");
    write_pcap(&pcap, &frames);
    let t0 = now_ns();
    let (got, stats, summary) = play(&wire, &pcap, frames.len());
    let t1 = now_ns();
    eprintln!("tcpreplay: {}", summary.trim());
    check_arrival(&frames, &got, stats, t0, t1);
    std::fs::remove_file(&pcap).ok();
}

#[test]
fn the_real_deribit_capture_crosses_the_wire_unchanged() {
    let Some(path) = shared_data("deribit/sample_capture_v1_6.pcapng") else {
        return;
    };
    let Some(wire) = wire_or_skip() else { return };
    let (frames, _) = read_capture(&path).unwrap();
    let sent: Vec<Vec<u8>> = frames.into_iter().map(|f| f.data).collect();
    assert_eq!(sent.len(), 5066);
    let pcap = tmp("deribit.pcap");
    write_pcap(&pcap, &sent);
    let t0 = now_ns();
    let (got, stats, summary) = play(&wire, &pcap, sent.len());
    let t1 = now_ns();
    eprintln!("tcpreplay: {}", summary.trim());
    check_arrival(&sent, &got, stats, t0, t1);
    std::fs::remove_file(&pcap).ok();
}

#[test]
fn an_interface_that_does_not_exist_is_named_in_the_error() {
    let e = LiveCapture::open("tcx-no-such0", POLL).unwrap_err();
    assert!(matches!(e, LiveError::NoSuchInterface { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "interface \"tcx-no-such0\": no such network interface"
    );
}
