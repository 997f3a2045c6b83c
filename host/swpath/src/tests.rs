//! Tests of the software path, on frames built by hand.

use proptest::prelude::*;
use rstest::rstest;
use tickcross_bindings::counter as k;

use super::*;
use tickcross_core::price9::Price9;
use tickcross_core::program::Filter;

// ---------------------------------------------------------------------------------------------
// Frame building

/// Network framing of a test datagram.
#[derive(Clone)]
struct Net {
    vlan: bool,
    ihl: u8,
    dst: [u8; 4],
    port: u16,
    proto: u8,
    flags_frag: u16,
    /// Ethernet padding after the IPv4 datagram.
    pad: usize,
}

impl Net {
    fn to(dst: [u8; 4], port: u16) -> Net {
        Net {
            vlan: false,
            ihl: 5,
            dst,
            port,
            proto: 17,
            flags_frag: 0,
            pad: 0,
        }
    }

    fn l2(&self) -> usize {
        if self.vlan {
            18
        } else {
            14
        }
    }

    fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0, 0, 0, 0, 1];
        if self.vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let l2 = f.len();
        let ip_hdr = 4 * usize::from(self.ihl);
        let total = (ip_hdr + 8 + payload.len()) as u16;
        f.push(0x40 | self.ihl);
        f.push(0);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0x12, 0x34]);
        f.extend_from_slice(&self.flags_frag.to_be_bytes());
        f.extend_from_slice(&[64, self.proto, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1]);
        f.extend_from_slice(&self.dst);
        f.resize(l2 + ip_hdr, 1); // options: NOPs
        f.extend_from_slice(&5555u16.to_be_bytes());
        f.extend_from_slice(&self.port.to_be_bytes());
        f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f.resize(f.len() + self.pad, 0);
        fix_checksum(&mut f, l2);
        f
    }
}

/// Rewrites the IPv4 header checksum (at `l2 + 10`) after a change.
fn fix_checksum(f: &mut [u8], l2: usize) {
    let ip_hdr = 4 * usize::from(f[l2] & 0x0f);
    f[l2 + 10] = 0;
    f[l2 + 11] = 0;
    let mut sum: u32 = f[l2..l2 + ip_hdr]
        .chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(w[1]))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    f[l2 + 10..l2 + 12].copy_from_slice(&c.to_be_bytes());
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

thread_local! {
    // The bookUpdateId of the next `bba`: increasing, so quotes built in the order they are
    // pushed are never out of order.
    static NEXT_UPDATE_ID: std::cell::Cell<i64> = const { std::cell::Cell::new(1) };
}

fn next_update_id() -> i64 {
    NEXT_UPDATE_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// Binance BestBidAskStreamEvent with integer mantissas (and the next bookUpdateId).
fn bba(sym: &[u8], pe: i8, qe: i8, m: [i64; 4]) -> Vec<u8> {
    bba_block(50, sym, pe, qe, m)
}

fn bba_block(bl: u16, sym: &[u8], pe: i8, qe: i8, m: [i64; 4]) -> Vec<u8> {
    bba_id(bl, sym, pe, qe, m, next_update_id())
}

fn bba_id(bl: u16, sym: &[u8], pe: i8, qe: i8, m: [i64; 4], id: i64) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [bl, 10001, 1, 0] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&1_723_100_000_000_000i64.to_le_bytes());
    v.extend_from_slice(&id.to_le_bytes());
    v.push(pe as u8);
    v.push(qe as u8);
    for x in m {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.resize(8 + usize::from(bl), 0xee);
    v.push(sym.len() as u8);
    v.extend_from_slice(sym);
    v
}

/// A Binance quote in whole units.
fn bq(sym: &str, bid: i64, bid_qty: i64, ask: i64, ask_qty: i64) -> Vec<u8> {
    bba(sym.as_bytes(), 0, 0, [bid, bid_qty, ask, ask_qty])
}

/// A generic SBE message: header, body (`body` padded to `bl`), groups of zero bytes, var data.
fn sbe(bl: u16, tid: u16, sid: u16, body: &[u8], groups: &[(u16, u16)], vars: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [bl, tid, sid, 0, groups.len() as u16, vars.len() as u16] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    let start = v.len();
    v.extend_from_slice(body);
    v.resize(start + usize::from(bl), 0);
    for &(gb, gn) in groups {
        for x in [gb, gn, 0, 0] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.resize(v.len() + usize::from(gb) * usize::from(gn), 0xab);
    }
    for d in vars {
        v.push(d.len() as u8);
        v.extend_from_slice(d);
    }
    v
}

fn ticker_bits(id: u32, bits: [u64; 4]) -> Vec<u8> {
    let mut body = vec![0u8; 133];
    body[..4].copy_from_slice(&id.to_le_bytes());
    for (j, b) in bits.iter().enumerate() {
        body[61 + 8 * j..69 + 8 * j].copy_from_slice(&b.to_le_bytes());
    }
    sbe(133, 1003, 1, &body, &[], &[])
}

/// A Deribit Ticker (f64 only to build the test bytes).
fn ticker(id: u32, bid: f64, bid_qty: f64, ask: f64, ask_qty: f64) -> Vec<u8> {
    ticker_bits(
        id,
        [
            bid.to_bits(),
            bid_qty.to_bits(),
            ask.to_bits(),
            ask_qty.to_bits(),
        ],
    )
}

/// A Deribit Instrument shaped like the real ones: blockLength 140, one group, the name last.
fn instrument(id: u32, name: &str) -> Vec<u8> {
    sbe(
        140,
        1000,
        1,
        &id.to_le_bytes(),
        &[(16, 2)],
        &[b"x", name.as_bytes()],
    )
}

thread_local! {
    // The sequence of the next `packet` (channel 7): packets built in the order they are sent
    // are in sequence.
    static NEXT_SEQUENCE: std::cell::Cell<u32> = const { std::cell::Cell::new(99) };
}

/// A Deribit datagram: frame header (channel 7, the next sequence) then messages.
fn packet(msgs: &[Vec<u8>]) -> Vec<u8> {
    let seq = NEXT_SEQUENCE.with(|n| {
        let s = n.get();
        n.set(s + 1);
        s
    });
    packet_seq(msgs, 7, seq)
}

/// A deribit_mcast datagram of channel `channel` with sequence `seq`.
fn packet_seq(msgs: &[Vec<u8>], channel: u16, seq: u32) -> Vec<u8> {
    let body: Vec<u8> = msgs.concat();
    let mut v = Vec::new();
    v.extend_from_slice(&(body.len() as u16).to_le_bytes());
    v.extend_from_slice(&channel.to_le_bytes());
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&body);
    v
}

const P: i64 = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// The test program: venues 0, 1, 3 Binance; 2 Deribit.

const BTC: u16 = 0;
const ETH: u16 = 1;

fn filter(ip: [u8; 4], prefix: u8, port: u16, venue: u8) -> Filter {
    Filter {
        ip,
        prefix,
        port,
        venue,
    }
}

fn program() -> Program {
    let sym = |v: u8, s: &str, i: u16| (v, s.as_bytes().to_vec(), i);
    Program {
        venues: vec![
            Some(Protocol::BinanceSbe),
            Some(Protocol::BinanceSbe),
            Some(Protocol::DeribitMcast),
            Some(Protocol::BinanceSbe),
        ],
        filters: vec![
            filter([239, 1, 1, 1], 32, 1000, 0),
            filter([239, 1, 1, 2], 32, 1000, 1),
            filter([239, 2, 0, 0], 16, 2000, 2),
            filter([239, 1, 1, 3], 32, 1000, 3),
        ],
        symbols: vec![
            sym(0, "BTCUSDT", BTC),
            sym(1, "BTCUSDT", BTC),
            sym(3, "BTCUSDT", BTC),
            sym(0, "ETHUSDT", ETH),
            sym(1, "ETHUSDT", ETH),
            sym(3, "ETHUSDT", ETH),
            sym(2, "BTC-PERPETUAL", BTC),
            sym(2, "ETH-PERPETUAL", ETH),
        ],
        edges: vec![0, 0],
    }
}

fn dest(venue: usize) -> Net {
    match venue {
        0 => Net::to([239, 1, 1, 1], 1000),
        1 => Net::to([239, 1, 1, 2], 1000),
        2 => Net::to([239, 2, 7, 9], 2000),
        3 => Net::to([239, 1, 1, 3], 1000),
        _ => Net::to([239, 9, 9, 9], 1000),
    }
}

fn det() -> SwDetector {
    SwDetector::new(&program()).unwrap()
}

fn det_with_edges(edges: Vec<Price9>) -> SwDetector {
    SwDetector::new(&Program { edges, ..program() }).unwrap()
}

/// Sends `payload` to `venue` at time `ts`.
fn send(d: &mut SwDetector, venue: usize, ts: u64, payload: &[u8]) {
    d.push_frame(&Frame::new(ts, dest(venue).build(payload)))
        .unwrap();
}

fn events(d: &mut SwDetector) -> Vec<Event> {
    let mut v = Vec::new();
    d.drain_events(&mut v).unwrap();
    v
}

/// Counter deltas of one frame, by name, of every counter that moved.
fn moved(before: &Counters, after: &Counters) -> Vec<(&'static str, u64)> {
    before
        .named()
        .zip(after.0.iter())
        .filter(|((_, a), b)| *a != **b)
        .map(|((n, a), b)| (n, b - a))
        .collect()
}

/// Pushes a raw frame and returns the counters that moved, rx_frames and rx_bytes left out.
fn frame_moves(d: &mut SwDetector, data: Vec<u8>, bad: bool) -> Vec<(&'static str, u64)> {
    let before = d.counters().unwrap();
    let len = data.len() as u64;
    d.push_frame(&Frame {
        ts_ns: 1,
        data,
        bad,
    })
    .unwrap();
    let after = d.counters().unwrap();
    let mut m = moved(&before, &after);
    assert!(m.contains(&("rx_frames", 1)));
    if len > 0 {
        assert!(m.contains(&("rx_bytes", len)));
    }
    m.retain(|(n, _)| *n != "rx_frames" && *n != "rx_bytes");
    m
}

/// The single drop counter (or frames_accepted) a frame moved, ignoring message counters.
fn verdict(d: &mut SwDetector, data: Vec<u8>, bad: bool) -> &'static str {
    let m = frame_moves(d, data, bad);
    let v: Vec<_> = m
        .iter()
        .filter(|(n, _)| n.starts_with("drop_") || *n == "frames_accepted")
        .collect();
    assert_eq!(v.len(), 1, "{m:?}");
    assert_eq!(v[0].1, 1);
    if v[0].0 != "frames_accepted" {
        assert_eq!(m.len(), 1, "a dropped frame moved more: {m:?}");
    }
    v[0].0
}

fn good_frame(net: &Net) -> Vec<u8> {
    net.build(&bq("BTCUSDT", 100, 1, 101, 1))
}

// ---------------------------------------------------------------------------------------------
// Section 1: frame checks

#[test]
fn accepts_plain_vlan_options_and_padding() {
    let mut d = det();
    assert_eq!(
        verdict(&mut d, good_frame(&dest(0)), false),
        "frames_accepted"
    );
    let n = Net {
        vlan: true,
        ..dest(0)
    };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "frames_accepted");
    let n = Net { ihl: 15, ..dest(0) };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "frames_accepted");
    // Padding and trailers after the IPv4 total length are ignored (not part of the payload:
    // the Binance message stays whole, the quote lands).
    let n = Net {
        pad: 30,
        vlan: true,
        ihl: 6,
        ..dest(0)
    };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "frames_accepted");
    // Don't-fragment is fine.
    let n = Net {
        flags_frag: 0x4000,
        ..dest(0)
    };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "frames_accepted");
    let c = d.counters().unwrap();
    assert_eq!(c.get(k::QUOTE_UPDATES), 5);
    assert_eq!(c.messages(0), 5);
}

#[test]
fn rule1_bad_frame_first() {
    let mut d = det();
    assert_eq!(
        verdict(&mut d, good_frame(&dest(0)), true),
        "drop_bad_frame"
    );
    assert_eq!(verdict(&mut d, vec![0; 3000], true), "drop_bad_frame");
    assert_eq!(verdict(&mut d, vec![], true), "drop_bad_frame");
    assert_eq!(d.quote_table().written().count(), 0);
}

#[test]
fn rule2_too_long() {
    let mut d = det();
    let ok = dest(0).build(&vec![0u8; 2048 - 42]);
    assert_eq!(ok.len(), 2048);
    assert_eq!(verdict(&mut d, ok, false), "frames_accepted");
    let long = dest(0).build(&vec![0u8; 2049 - 42]);
    assert_eq!(verdict(&mut d, long, false), "drop_length");
    // Padding counts towards the frame length.
    let padded = Net { pad: 1, ..dest(0) }.build(&vec![0u8; 2048 - 42]);
    assert_eq!(verdict(&mut d, padded, false), "drop_length");
}

#[test]
fn rule3_shorter_than_ethernet() {
    let mut d = det();
    for n in [0, 1, 13] {
        assert_eq!(verdict(&mut d, vec![0x08; n], false), "drop_length");
    }
}

#[test]
fn rule4_short_vlan() {
    let mut d = det();
    let mut f = vec![0u8; 17];
    put16(&mut f, 12, 0x8100);
    assert_eq!(verdict(&mut d, f.clone(), false), "drop_length");
    f.extend_from_slice(&[0]);
    // 18 bytes with the tag: the inner type (0) decides.
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
}

#[test]
fn rule5_not_ipv4() {
    let mut d = det();
    let mut f = good_frame(&dest(0));
    put16(&mut f, 12, 0x86dd);
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    let mut f = good_frame(&Net {
        vlan: true,
        ..dest(0)
    });
    put16(&mut f, 16, 0x0806);
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    // Two tags: the type behind the first is 0x8100.
    let mut f = good_frame(&Net {
        vlan: true,
        ..dest(0)
    });
    put16(&mut f, 16, 0x8100);
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    // QinQ's 0x88a8 is not a tag.
    let mut f = good_frame(&Net {
        vlan: true,
        ..dest(0)
    });
    put16(&mut f, 12, 0x88a8);
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    // The type is checked before the IPv4 length: 14 bytes of not-IPv4.
    let mut f = vec![0u8; 14];
    put16(&mut f, 12, 0x86dd);
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
}

#[test]
fn rule6_short_ipv4_header() {
    let mut d = det();
    let f = good_frame(&dest(0));
    assert_eq!(verdict(&mut d, f[..33].to_vec(), false), "drop_length");
    assert_eq!(verdict(&mut d, f[..14].to_vec(), false), "drop_length");
    let f = good_frame(&Net {
        vlan: true,
        ..dest(0)
    });
    assert_eq!(verdict(&mut d, f[..37].to_vec(), false), "drop_length");
}

#[test]
fn rule7_version_and_ihl() {
    let mut d = det();
    let mut f = good_frame(&dest(0));
    f[14] = 0x65;
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    let mut f = good_frame(&dest(0));
    f[14] = 0x44;
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
    // Checked before rule 8: a bad version with IHL past the frame end.
    let mut f = good_frame(&dest(0))[..34].to_vec();
    f[14] = 0x6f;
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
}

#[test]
fn rule8_options_past_the_end() {
    let mut d = det();
    let mut f = good_frame(&dest(0))[..40].to_vec();
    f[14] = 0x4f; // 60-byte header, 26 bytes there
    assert_eq!(verdict(&mut d, f, false), "drop_length");
    // Rule 8 comes before rule 9: the protocol byte is wrong too.
    let mut f = good_frame(&dest(0))[..40].to_vec();
    f[14] = 0x4f;
    f[23] = 6;
    assert_eq!(verdict(&mut d, f, false), "drop_length");
}

#[test]
fn rule9_protocol_and_fragments() {
    let mut d = det();
    let n = Net {
        proto: 6,
        ..dest(0)
    };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "drop_not_ipv4_udp");
    let n = Net {
        flags_frag: 0x2000,
        ..dest(0)
    }; // MF
    assert_eq!(verdict(&mut d, good_frame(&n), false), "drop_not_ipv4_udp");
    let n = Net {
        flags_frag: 0x0001,
        ..dest(0)
    }; // offset 8 bytes
    assert_eq!(verdict(&mut d, good_frame(&n), false), "drop_not_ipv4_udp");
    let n = Net {
        flags_frag: 0x1fff,
        ..dest(0)
    };
    assert_eq!(verdict(&mut d, good_frame(&n), false), "drop_not_ipv4_udp");
    // Before the checksum.
    let mut f = good_frame(&Net {
        proto: 6,
        ..dest(0)
    });
    f[24] ^= 0xff;
    assert_eq!(verdict(&mut d, f, false), "drop_not_ipv4_udp");
}

/// One header byte changed (at 14 the TOS instead, keeping version/IHL valid).
#[rstest]
fn rule10_checksum_of_each_header_byte(#[values(14, 15, 18, 24, 25, 30, 33)] at: usize) {
    let mut d = det();
    let mut f = good_frame(&dest(0));
    f[at] ^= 0x01;
    if at == 14 {
        f[at] = 0x45;
        f[25] ^= 1;
    }
    assert_eq!(verdict(&mut d, f, false), "drop_checksum", "byte {at}");
}

#[test]
fn rule10_checksum() {
    let mut d = det();
    // With options, every header word is summed.
    let mut f = good_frame(&Net { ihl: 7, ..dest(0) });
    f[14 + 26] ^= 0x80;
    assert_eq!(verdict(&mut d, f, false), "drop_checksum");
    // The checksum is before the length rules.
    let mut f = good_frame(&dest(0));
    put16(&mut f, 16, 3);
    assert_eq!(verdict(&mut d, f, false), "drop_checksum");
}

#[test]
fn rule11_total_length() {
    let mut d = det();
    // total < 4*IHL + 8
    let mut f = good_frame(&dest(0));
    put16(&mut f, 16, 27);
    fix_checksum(&mut f, 14);
    assert_eq!(verdict(&mut d, f, false), "drop_length");
    let mut f = good_frame(&Net { ihl: 6, ..dest(0) });
    put16(&mut f, 16, 31);
    fix_checksum(&mut f, 14);
    assert_eq!(verdict(&mut d, f, false), "drop_length");
    // l2 + total > len: the frame lost its last byte.
    let mut f = good_frame(&Net {
        vlan: true,
        ..dest(0)
    });
    f.pop();
    assert_eq!(verdict(&mut d, f, false), "drop_length");
    // A shorter total with a matching UDP length is fine: the rest is padding.
    let mut f = good_frame(&dest(0));
    let total = (f.len() - 14 - 1) as u16;
    put16(&mut f, 16, total);
    fix_checksum(&mut f, 14);
    put16(&mut f, 38, total - 20);
    let m = frame_moves(&mut d, f, false);
    assert!(m.contains(&("frames_accepted", 1)));
    assert!(m.contains(&("msg_truncated", 1)), "{m:?}");
}

#[rstest]
fn rule12_udp_length_off_the_ipv4_payload(#[values(-1, 1, 100)] delta: i32) {
    let mut d = det();
    let mut f = good_frame(&dest(0));
    let ul = u16::from_be_bytes([f[38], f[39]]);
    put16(&mut f, 38, (i32::from(ul) + delta) as u16);
    assert_eq!(verdict(&mut d, f, false), "drop_length");
}

#[test]
fn rule12_udp_length() {
    let mut d = det();
    // UDP length 8 (empty payload) is consistent: one truncated Binance message.
    let f = dest(0).build(&[]);
    let m = frame_moves(&mut d, f, false);
    assert_eq!(
        m,
        vec![
            ("frames_accepted", 1),
            ("msg_truncated", 1),
            ("messages[0]", 1)
        ]
    );
}

#[test]
fn rule13_venue_filters() {
    let mut d = det();
    assert_eq!(
        verdict(&mut d, good_frame(&dest(9)), false),
        "drop_no_venue"
    );
    assert_eq!(
        verdict(&mut d, good_frame(&Net::to([239, 1, 1, 1], 1001)), false),
        "drop_no_venue"
    );
    // The /16 filter of venue 2.
    let m = frame_moves(
        &mut d,
        Net::to([239, 2, 255, 1], 2000).build(&packet(&[])),
        false,
    );
    assert_eq!(m, vec![("frames_accepted", 1)]);
    assert_eq!(
        verdict(&mut d, good_frame(&Net::to([239, 3, 0, 1], 2000)), false),
        "drop_no_venue"
    );

    // The lowest-numbered match wins; filters of venues without protocol never match;
    // prefix 0 matches any address; prefixes above 32 act as 32.
    let prog = Program {
        venues: vec![Some(Protocol::BinanceSbe), None, Some(Protocol::BinanceSbe)],
        filters: vec![
            filter([10, 0, 0, 1], 40, 1, 0),
            filter([10, 0, 0, 0], 8, 1, 1),
            filter([10, 0, 0, 0], 8, 1, 2),
            filter([10, 0, 0, 1], 32, 1, 0),
            filter([1, 2, 3, 4], 0, 2, 0),
        ],
        symbols: vec![],
        edges: vec![],
    };
    let mut d = SwDetector::new(&prog).unwrap();
    let venue_of = |d: &mut SwDetector, ip: [u8; 4], port: u16| {
        let m = frame_moves(d, good_frame(&Net::to(ip, port)), false);
        m.iter()
            .find_map(|(n, _)| n.strip_prefix("messages[").map(|s| s.to_string()))
    };
    assert_eq!(venue_of(&mut d, [10, 0, 0, 1], 1).as_deref(), Some("0]"));
    assert_eq!(venue_of(&mut d, [10, 0, 0, 2], 1).as_deref(), Some("2]"));
    assert_eq!(venue_of(&mut d, [99, 9, 9, 9], 2).as_deref(), Some("0]"));
    assert_eq!(venue_of(&mut d, [11, 0, 0, 1], 1), None);
}

#[test]
fn dropped_frames_leave_no_trace() {
    let mut d = det();
    send(&mut d, 1, 5, &bq("BTCUSDT", 101, 1, 102, 1));
    let crossing = bq("BTCUSDT", 99, 1, 100, 1);
    let mut f = dest(0).build(&crossing);
    f.pop(); // shorter than its IPv4 length
    d.push_frame(&Frame::new(6, f)).unwrap();
    d.push_frame(&Frame {
        ts_ns: 7,
        data: dest(0).build(&crossing),
        bad: true,
    })
    .unwrap();
    assert!(events(&mut d).is_empty());
    assert!(!d.quote_table().get(0, 0).valid);
    let c = d.counters().unwrap();
    assert_eq!(c.get(k::FRAMES_ACCEPTED), 1);
    assert_eq!(c.get(k::QUOTE_UPDATES), 1);
    assert_eq!(c.messages(0), 0);
}

// ---------------------------------------------------------------------------------------------
// Section 2, binance_sbe

/// Pushes a Binance payload to venue 0, returns the message counters that moved.
fn bin_moves(d: &mut SwDetector, payload: &[u8]) -> Vec<(&'static str, u64)> {
    let m = frame_moves(d, dest(0).build(payload), false);
    assert!(m.contains(&("frames_accepted", 1)), "{m:?}");
    assert!(m.contains(&("messages[0]", 1)), "{m:?}");
    m.into_iter()
        .filter(|(n, _)| *n != "frames_accepted" && *n != "messages[0]")
        .collect()
}

#[test]
fn binance_quote() {
    let mut d = det();
    // 61837.63 with exponent -2, qty 1.5 with exponent -3
    let msg = bba(b"BTCUSDT", -2, -3, [6_183_763, 1500, 6_183_764, 250]);
    assert_eq!(bin_moves(&mut d, &msg), vec![("quote_updates", 1)]);
    let e = d.quote_table().get(0, 0);
    assert_eq!(
        (
            e.bid_price,
            e.bid_qty,
            e.ask_price,
            e.ask_qty,
            e.ts_ns,
            e.valid
        ),
        (
            61_837_630_000_000,
            1_500_000_000,
            61_837_640_000_000,
            250_000_000,
            1,
            true
        )
    );
    // Bytes after the symbol are ignored; a block longer than 50 moves only the symbol.
    let mut msg = bba(b"ETHUSDT", 0, 0, [3, 1, 4, 1]);
    msg.extend_from_slice(b"trailing");
    assert_eq!(bin_moves(&mut d, &msg), vec![("quote_updates", 1)]);
    let msg = bba_block(60, b"ETHUSDT", 0, 0, [5, 1, 6, 1]);
    assert_eq!(bin_moves(&mut d, &msg), vec![("quote_updates", 1)]);
    assert_eq!(d.quote_table().get(0, 1).bid_price, 5 * P);
    // The version field is ignored.
    let mut msg = bba(b"ETHUSDT", 0, 0, [7, 1, 8, 1]);
    msg[6] = 9;
    assert_eq!(bin_moves(&mut d, &msg), vec![("quote_updates", 1)]);
}

#[test]
fn binance_book_update_id_order() {
    let mut d = det();
    let q = |id: i64, bid: i64| bba_id(50, b"BTCUSDT", 0, 0, [bid, 1, bid + 1, 1], id);
    let ooo = vec![("msg_out_of_order", 1)];
    let applied = vec![("quote_updates", 1)];
    // The first quote of an entry is applied whatever its id (negative too).
    assert_eq!(bin_moves(&mut d, &q(-5, 10)), applied);
    assert_eq!(bin_moves(&mut d, &q(-4, 11)), applied);
    // Not greater than the last applied one: dropped, the entry unchanged.
    assert_eq!(bin_moves(&mut d, &q(-4, 12)), ooo);
    assert_eq!(bin_moves(&mut d, &q(-9, 13)), ooo);
    assert_eq!(d.quote_table().get(0, BTC as usize).bid_price, 11 * P);
    assert_eq!(bin_moves(&mut d, &q(1 << 40, 14)), applied);
    assert_eq!(bin_moves(&mut d, &q(i64::MAX, 15)), applied);
    assert_eq!(bin_moves(&mut d, &q(i64::MAX, 16)), ooo);
    assert_eq!(d.quote_table().get(0, BTC as usize).bid_price, 15 * P);
    // Per (venue, instrument): another instrument, another venue keep their own.
    let eth = bba_id(50, b"ETHUSDT", 0, 0, [3, 1, 4, 1], 0);
    assert_eq!(bin_moves(&mut d, &eth), applied);
    send(&mut d, 1, 2, &q(0, 20));
    assert_eq!(d.quote_table().get(1, BTC as usize).bid_price, 20 * P);
    // Unknown symbols and rejected numbers count as such, and leave the id alone.
    let unknown = bba_id(50, b"XRPUSDT", 0, 0, [3, 1, 4, 1], 0);
    assert_eq!(bin_moves(&mut d, &unknown), vec![("msg_unknown_symbol", 1)]);
    let neg = bba_id(50, b"ETHUSDT", 0, 0, [-3, 1, 4, 1], 0);
    assert_eq!(bin_moves(&mut d, &neg), vec![("msg_conversion", 1)]);
    // clear_state forgets the ids.
    d.clear_state();
    assert_eq!(bin_moves(&mut d, &q(-9, 30)), applied);
}

#[test]
fn binance_truncated() {
    let mut d = det();
    let msg = bq("BTCUSDT", 1, 1, 2, 1);
    for n in [0, 1, 7] {
        assert_eq!(
            bin_moves(&mut d, &msg[..n]),
            vec![("msg_truncated", 1)],
            "n={n}"
        );
    }
    // n < 9 + bl: the symbol length byte is missing.
    assert_eq!(bin_moves(&mut d, &msg[..58]), vec![("msg_truncated", 1)]);
    // n < 9 + bl + L: the symbol is cut.
    assert_eq!(
        bin_moves(&mut d, &msg[..msg.len() - 1]),
        vec![("msg_truncated", 1)]
    );
    assert_eq!(bin_moves(&mut d, &msg[..59]), vec![("msg_truncated", 1)]);
    // bl < 50, whatever follows.
    let mut short = msg.clone();
    short[0] = 49;
    assert_eq!(bin_moves(&mut d, &short), vec![("msg_truncated", 1)]);
    // Empty symbol: whole, but names nothing.
    let mut empty = msg[..59].to_vec();
    empty[58] = 0;
    assert_eq!(bin_moves(&mut d, &empty), vec![("msg_unknown_symbol", 1)]);
    // 8..=58 bytes of a valid header: truncated, never a read past the end.
    for n in 8..=58 {
        assert_eq!(
            bin_moves(&mut d, &msg[..n]),
            vec![("msg_truncated", 1)],
            "n={n}"
        );
    }
}

#[test]
fn binance_templates() {
    let mut d = det();
    let msg = bq("BTCUSDT", 1, 1, 2, 1);
    let with = |tid: u16, sid: u16| {
        let mut m = msg.clone();
        m[2..4].copy_from_slice(&tid.to_le_bytes());
        m[4..6].copy_from_slice(&sid.to_le_bytes());
        m
    };
    for tid in [10000, 10002, 10003] {
        assert_eq!(bin_moves(&mut d, &with(tid, 1)), vec![("msg_skipped", 1)]);
    }
    for tid in [0, 9999, 10004, 1003] {
        assert_eq!(
            bin_moves(&mut d, &with(tid, 1)),
            vec![("msg_unknown_template", 1)]
        );
    }
    // The schema is checked first.
    for tid in [10000, 10001] {
        assert_eq!(
            bin_moves(&mut d, &with(tid, 2)),
            vec![("msg_unknown_template", 1)]
        );
    }
    // Skipped and unknown templates need only the 8-byte header.
    assert_eq!(
        bin_moves(&mut d, &with(10002, 1)[..8]),
        vec![("msg_skipped", 1)]
    );
    assert_eq!(
        bin_moves(&mut d, &with(7, 1)[..8]),
        vec![("msg_unknown_template", 1)]
    );
    // Schema and template are checked before the block length.
    let mut m = with(10003, 1)[..8].to_vec();
    m[0] = 0;
    assert_eq!(bin_moves(&mut d, &m), vec![("msg_skipped", 1)]);
}

#[test]
fn binance_conversion() {
    let mut d = det();
    let cases: [(i8, i8, [i64; 4]); 7] = [
        (0, 0, [-1, 1, 2, 1]),
        (0, 0, [1, 1, 2, -1]),
        (-11, 0, [123, 1, 200, 1]),         // remainder
        (0, -12, [1, 1_500, 2, 1]),         // remainder on a quantity
        (10, 0, [1, 1, 2, 1]),              // overflow
        (0, 9, [1, 10, 2, 1]),              // overflow on a quantity
        (-30, 0, [0, 1, 1_000_000_000, 1]), // -9-e >= 19: only 0 converts
    ];
    for (pe, qe, m) in cases {
        assert_eq!(
            bin_moves(&mut d, &bba(b"BTCUSDT", pe, qe, m)),
            vec![("msg_conversion", 1)],
            "{pe} {qe} {m:?}"
        );
    }
    // Exact divisions and zeros convert; a zero side is empty.
    let msg = bba(b"BTCUSDT", -11, 0, [12_300, 0, 0, 5]);
    assert_eq!(bin_moves(&mut d, &msg), vec![("quote_updates", 1)]);
    let e = d.quote_table().get(0, 0);
    assert_eq!(
        (e.bid_price, e.bid_qty, e.ask_price, e.ask_qty),
        (123, 0, 0, 5 * P)
    );
    assert!(e.bid_empty() && e.ask_empty());
}

#[test]
fn binance_unknown_symbol() {
    let mut d = det();
    for s in [&b"BTCUSD"[..], b"btcusdt", b"BTC-PERPETUAL", &[b'A'; 40]] {
        assert_eq!(
            bin_moves(&mut d, &bba(s, 0, 0, [1, 1, 2, 1])),
            vec![("msg_unknown_symbol", 1)]
        );
    }
    // Another venue's symbol table.
    let prog = Program {
        symbols: vec![(1, b"ONLYONE".to_vec(), 0), (0, vec![b'Z'; 32], 1)],
        ..program()
    };
    let mut d = SwDetector::new(&prog).unwrap();
    assert_eq!(
        bin_moves(&mut d, &bba(b"ONLYONE", 0, 0, [1, 1, 2, 1])),
        vec![("msg_unknown_symbol", 1)]
    );
    assert_eq!(
        bin_moves(&mut d, &bba(&[b'Z'; 32], 0, 0, [1, 1, 2, 1])),
        vec![("quote_updates", 1)]
    );
    assert!(d.quote_table().get(0, 1).valid);
}

// ---------------------------------------------------------------------------------------------
// Section 2, deribit_mcast

/// Pushes a Deribit payload, returns the message counters that moved (sorted by name).
fn der_moves(d: &mut SwDetector, payload: &[u8]) -> Vec<(&'static str, u64)> {
    let m = frame_moves(d, dest(2).build(payload), false);
    assert!(m.contains(&("frames_accepted", 1)), "{m:?}");
    let mut m: Vec<_> = m
        .into_iter()
        .filter(|(n, _)| *n != "frames_accepted")
        .collect();
    m.sort();
    m
}

#[test]
fn deribit_short_datagrams() {
    let mut d = det();
    let p = packet(&[]);
    for n in [0, 1, 7] {
        assert_eq!(
            der_moves(&mut d, &p[..n]),
            vec![("messages[2]", 1), ("msg_truncated", 1)],
            "n={n}"
        );
    }
    // Exactly the frame header: no message at all.
    assert_eq!(der_moves(&mut d, &p), vec![]);
}

#[test]
fn deribit_sequences() {
    let mut d = det();
    let def = instrument(77, "BTC-PERPETUAL");
    let t = |bid: f64| ticker(77, bid, 1.0, bid + 1.0, 1.0);
    let applied = vec![("messages[2]", 1), ("quote_updates", 1)];
    assert_eq!(
        der_moves(&mut d, &packet_seq(&[def], 5, 1000)),
        vec![("binds", 1), ("messages[2]", 1)]
    );
    // in sequence
    assert_eq!(der_moves(&mut d, &packet_seq(&[t(1.0)], 5, 1001)), applied);
    // not above the last: the whole frame is dropped, its messages uncounted
    for seq in [1001, 1000, 0] {
        assert_eq!(
            der_moves(&mut d, &packet_seq(&[t(2.0)], 5, seq)),
            vec![("frame_duplicates", 1)],
            "sequence {seq}"
        );
    }
    assert_eq!(d.quote_table().get(2, BTC as usize).bid_price, P);
    // a gap: counted on the venue, the frame applied, the sequence goes on from it
    let mut gap = applied.clone();
    gap.push(("seq_gaps[2]", 1));
    gap.sort();
    assert_eq!(der_moves(&mut d, &packet_seq(&[t(3.0)], 5, 1005)), gap);
    assert_eq!(der_moves(&mut d, &packet_seq(&[t(4.0)], 5, 1006)), applied);
    assert_eq!(
        der_moves(&mut d, &packet_seq(&[t(5.0)], 5, 1004)),
        vec![("frame_duplicates", 1)]
    );
    // another channel has its own sequence; one in a slot taken by another channel
    // (5 + 2^CHAN_BITS) is applied unchecked and counted
    assert_eq!(der_moves(&mut d, &packet_seq(&[t(6.0)], 6, 3)), applied);
    let taken = 5 + (1u16 << CHAN_BITS);
    let mut untracked = applied.clone();
    untracked.push(("seq_untracked", 1));
    untracked.sort();
    for seq in [0, 0, 7] {
        assert_eq!(
            der_moves(&mut d, &packet_seq(&[t(7.0)], taken, seq)),
            untracked
        );
    }
    // the last possible sequence: every later frame of the channel is a duplicate
    assert_eq!(der_moves(&mut d, &packet_seq(&[t(8.0)], 6, u32::MAX)), gap);
    assert_eq!(
        der_moves(&mut d, &packet_seq(&[t(9.0)], 6, 0)),
        vec![("frame_duplicates", 1)]
    );
    // a datagram shorter than its frame header has no sequence
    assert_eq!(
        der_moves(&mut d, &[1, 2, 3]),
        vec![("messages[2]", 1), ("msg_truncated", 1)]
    );
    // clear_state: every channel starts again
    d.clear_state();
    assert_eq!(
        der_moves(&mut d, &packet_seq(&[], 5, 0)),
        Vec::<(&str, u64)>::new()
    );
}

#[test]
fn deribit_stale_quotes_after_a_gap() {
    let mut d = det();
    let t = |id: u32, bid: f64, ask: f64| ticker(id, bid, 1.0, ask, 1.0);
    // BTC and ETH on channel 5, both bound in its first frame
    send(
        &mut d,
        2,
        1,
        &packet_seq(
            &[
                instrument(77, "BTC-PERPETUAL"),
                instrument(78, "ETH-PERPETUAL"),
                t(77, 105.0, 106.0),
                t(78, 105.0, 106.0),
            ],
            5,
            10,
        ),
    );
    let stale = |d: &SwDetector| {
        let q = d.quote_table();
        (q.stale(2, BTC as usize), q.stale(2, ETH as usize))
    };
    assert_eq!(stale(&d), (false, false));
    // a gap frame with an ETH ticker: BTC's entry (sequence 10) is stale, ETH's (12) is not
    send(&mut d, 2, 2, &packet_seq(&[t(78, 104.0, 106.0)], 5, 12));
    assert_eq!(stale(&d), (true, false));
    assert_eq!(d.quote_table().stale_count(), 1);
    // a Binance ask of 100 crosses the fresh ETH bid only: the stale BTC bid of 105 prices nothing
    send(&mut d, 0, 3, &bq("BTCUSDT", 90, 1, 100, 1));
    assert!(events(&mut d).is_empty(), "a stale quote priced an event");
    send(&mut d, 0, 4, &bq("ETHUSDT", 90, 1, 100, 1));
    let e = events(&mut d);
    assert_eq!((e.len(), e[0].sell_venue, e[0].sell_price), (1, 2, 104 * P));
    // the gap frame's own ticker triggers: ETH on Deribit asks 80 below Binance's bid of 90
    send(
        &mut d,
        2,
        5,
        &packet_seq(&[instrument(78, "ETH-PERPETUAL"), t(78, 70.0, 80.0)], 5, 15),
    );
    let e = events(&mut d);
    assert_eq!(e.len(), 1);
    // its feed key: channel 5, sequence 15, the second message of the frame
    assert_eq!(e[0].feed_key, 5 << 48 | 15 << 16 | 1);
    // a newer BTC ticker refreshes BTC; the gap at 15 left ETH's 70/80 (sequence 15) fresh
    send(&mut d, 2, 6, &packet_seq(&[t(77, 101.0, 102.0)], 5, 16));
    assert_eq!(stale(&d), (false, false));
    // an untracked channel's quotes (slot 5 is channel 5's) are never stale
    let taken = 5 + (1u16 << CHAN_BITS);
    send(&mut d, 2, 7, &packet_seq(&[t(77, 101.0, 102.0)], taken, 1));
    send(&mut d, 2, 8, &packet_seq(&[t(78, 70.0, 80.0)], 5, 30));
    assert_eq!(stale(&d), (false, false));
    // clear_state: nothing is stale
    send(&mut d, 2, 9, &packet_seq(&[t(77, 101.0, 102.0)], 5, 31));
    send(&mut d, 2, 10, &packet_seq(&[], 5, 40));
    assert_eq!(stale(&d), (true, true));
    d.clear_state();
    assert_eq!(d.quote_table().stale_count(), 0);
}

#[test]
fn deribit_instrument_then_ticker() {
    let mut d = det();
    // Before the Instrument message: unknown.
    let t = ticker(77, 61837.5, 1.25, 61838.0, 0.5);
    assert_eq!(
        der_moves(&mut d, &packet(std::slice::from_ref(&t))),
        vec![("messages[2]", 1), ("msg_unknown_symbol", 1)]
    );
    assert!(!d.quote_table().get(2, 0).valid);
    // Instrument then ticker in one datagram.
    let p = packet(&[instrument(77, "BTC-PERPETUAL"), t]);
    assert_eq!(
        der_moves(&mut d, &p),
        vec![("binds", 1), ("messages[2]", 2), ("quote_updates", 1)]
    );
    let e = d.quote_table().get(2, BTC as usize);
    assert_eq!(
        (e.bid_price, e.bid_qty, e.ask_price, e.ask_qty),
        (
            61_837_500_000_000,
            1_250_000_000,
            61_838_000_000_000,
            500_000_000
        )
    );
    // Later datagrams use the binding.
    let p = packet(&[
        ticker(77, 1.0, 2.0, 3.0, 4.0),
        ticker(78, 1.0, 2.0, 3.0, 4.0),
    ]);
    assert_eq!(
        der_moves(&mut d, &p),
        vec![
            ("messages[2]", 2),
            ("msg_unknown_symbol", 1),
            ("quote_updates", 1)
        ]
    );
    assert_eq!(d.quote_table().get(2, 0).ask_qty, 4 * P);
}

#[test]
fn deribit_many_messages_groups_and_var_data() {
    let mut d = det();
    let body_id = 5u32.to_le_bytes();
    let msgs = vec![
        sbe(20, 1001, 1, &[], &[(12, 3), (0, 9), (5, 0)], &[b"abc", b""]), // book: skipped
        sbe(0, 1010, 1, &[], &[], &[]),                                    // skipped
        sbe(4, 1011, 1, &[], &[], &[]),                                    // unknown
        sbe(4, 999, 1, &[], &[], &[]),                                     // unknown
        sbe(4, 1003, 2, &[], &[(1, 1)], &[b"z"]),                          // other schema
        sbe(
            140,
            1000,
            1,
            &body_id,
            &[(2, 2)],
            &[b"ETH-PERPETUAL", b"BTC-PERPETUAL"],
        ),
        ticker(5, 10.0, 1.0, 11.0, 2.0),
        sbe(
            140,
            1000,
            1,
            &body_id,
            &[],
            &[b"BTC-PERPETUAL", b"ETH-PERPETUAL"],
        ),
        ticker(5, 20.0, 1.0, 21.0, 2.0),
    ];
    let m = der_moves(&mut d, &packet(&msgs));
    assert_eq!(
        m,
        vec![
            ("binds", 2),
            ("messages[2]", 9),
            ("msg_skipped", 2),
            ("msg_unknown_template", 3),
            ("quote_updates", 2),
        ]
    );
    // The last var-data field is the name: 5 went BTC, then ETH.
    assert_eq!(d.quote_table().get(2, 0).bid_price, 10 * P);
    assert_eq!(d.quote_table().get(2, 1).bid_price, 20 * P);
}

#[test]
fn deribit_truncation_stops_the_walk() {
    let tail = ticker(5, 1.0, 1.0, 2.0, 1.0);
    let good = sbe(4, 1001, 1, &[], &[], &[]);
    // Each message runs past the datagram end at a different step.
    let cut = |m: Vec<u8>, keep: usize| m[..keep].to_vec();
    // numInGroup * blockLength = 65535^2, far past any frame.
    let mut huge_groups = sbe(4, 1001, 1, &[], &[(0, 0)], &[]);
    huge_groups[16..20].copy_from_slice(&[0xff; 4]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("header", cut(good.clone(), 11)),
        ("body", cut(sbe(30, 1001, 1, &[], &[], &[]), 41)),
        (
            "group header",
            cut(sbe(4, 1001, 1, &[], &[(1, 1)], &[]), 16 + 7),
        ),
        (
            "group entries",
            cut(sbe(4, 1001, 1, &[], &[(3, 2)], &[]), 16 + 8 + 5),
        ),
        (
            "var-data length",
            cut(sbe(4, 1000, 1, &[], &[], &[b"ab"]), 16),
        ),
        (
            "var-data bytes",
            cut(sbe(4, 1000, 1, &[], &[], &[b"ab"]), 18),
        ),
        ("huge groups", huge_groups),
        ("huge body", cut(sbe(0xffff, 1003, 1, &[], &[], &[]), 200)),
    ];
    for (what, broken) in cases {
        let mut d = det();
        // Bind 5 first so that a walk that went on would show as a quote.
        der_moves(&mut d, &packet(&[instrument(5, "BTC-PERPETUAL")]));
        // The cut message is last in the datagram; a message before it counts normally.
        let p = packet(&[good.clone(), broken]);
        assert_eq!(
            der_moves(&mut d, &p),
            vec![("messages[2]", 2), ("msg_skipped", 1), ("msg_truncated", 1)],
            "{what}"
        );
    }
    // Declared lengths that run past the end stop the walk even with bytes after them.
    let mut d = det();
    der_moves(&mut d, &packet(&[instrument(5, "BTC-PERPETUAL")]));
    let mut lying = sbe(4, 1001, 1, &[], &[(1, 1)], &[]);
    lying[16..18].copy_from_slice(&[0xff; 2]); // group blockLength 65535, one entry
    let p = packet(&[good.clone(), lying, tail.clone(), tail]);
    assert_eq!(
        der_moves(&mut d, &p),
        vec![("messages[2]", 2), ("msg_skipped", 1), ("msg_truncated", 1)]
    );
    // Huge counts of empty groups and var-data fields stop at the end, too.
    let mut many = sbe(0, 1001, 1, &[], &[], &[]);
    many[8..10].copy_from_slice(&0xffffu16.to_le_bytes());
    many.extend_from_slice(&[0u8; 64]);
    let mut vars = sbe(0, 1000, 1, &[], &[], &[]);
    vars[10..12].copy_from_slice(&0xffffu16.to_le_bytes());
    vars.extend_from_slice(&[0u8; 64]);
    for m in [many, vars] {
        assert_eq!(
            der_moves(&mut d, &packet(&[m])),
            vec![("messages[2]", 1), ("msg_truncated", 1)]
        );
    }
}

#[test]
fn deribit_short_templates_do_not_stop() {
    let mut d = det();
    let p = packet(&[
        sbe(132, 1003, 1, &[], &[], &[]),               // ticker too short
        sbe(3, 1000, 1, &[], &[], &[b"BTC-PERPETUAL"]), // instrument too short
        sbe(140, 1000, 1, &9u32.to_le_bytes(), &[(4, 1)], &[]), // instrument without name
        instrument(9, "BTC-PERPETUAL"),
        ticker(9, 1.0, 1.0, 2.0, 1.0),
    ]);
    assert_eq!(
        der_moves(&mut d, &p),
        vec![
            ("binds", 1),
            ("messages[2]", 5),
            ("msg_truncated", 3),
            ("quote_updates", 1)
        ]
    );
    // A longer block than 133 keeps the fields where they are.
    let mut body = vec![0u8; 200];
    body[..4].copy_from_slice(&9u32.to_le_bytes());
    body[61..69].copy_from_slice(&3.0f64.to_bits().to_le_bytes());
    body[69..77].copy_from_slice(&1.0f64.to_bits().to_le_bytes());
    let p = packet(&[sbe(200, 1003, 1, &body, &[(3, 3)], &[b"q"])]);
    assert_eq!(
        der_moves(&mut d, &p),
        vec![("messages[2]", 1), ("quote_updates", 1)]
    );
    let e = d.quote_table().get(2, 0);
    assert_eq!((e.bid_price, e.bid_qty, e.ask_price), (3 * P, P, 0));
}

/// A value that does not convert on any one of the four sides fails the whole update.
#[rstest]
fn deribit_conversion_refuses(
    #[values(f64::NAN, f64::INFINITY, -1.0, 1e10)] bad: f64,
    #[values(0, 1, 2, 3)] side: usize,
) {
    let mut d = det();
    der_moves(&mut d, &packet(&[instrument(1, "BTC-PERPETUAL")]));
    let mut bits = [1.0f64.to_bits(); 4];
    bits[side] = bad.to_bits();
    assert_eq!(
        der_moves(&mut d, &packet(&[ticker_bits(1, bits)])),
        vec![("messages[2]", 1), ("msg_conversion", 1)]
    );
}

#[test]
fn deribit_conversion() {
    let mut d = det();
    der_moves(&mut d, &packet(&[instrument(1, "BTC-PERPETUAL")]));
    let one = 1.0f64.to_bits();
    // -0.0 is 0 (an empty side); subnormals give 0; ties round away from zero.
    let bits = [
        (-0.0f64).to_bits(),
        one,
        5e-324f64.to_bits(),
        2.5e-9f64.to_bits(),
    ];
    assert_eq!(
        der_moves(&mut d, &packet(&[ticker_bits(1, bits)])),
        vec![("messages[2]", 1), ("quote_updates", 1)]
    );
    let e = d.quote_table().get(2, 0);
    assert_eq!((e.bid_price, e.bid_qty, e.ask_price), (0, P, 0));
    assert_eq!(
        e.ask_qty,
        tickcross_core::price9::from_f64_bits(2.5e-9f64.to_bits()).unwrap()
    );
}

#[test]
fn deribit_binding_eviction_and_unbinding() {
    let mut d = det();
    let t = |id| ticker(id, 1.0, 1.0, 2.0, 1.0);
    // 5 and 1029 share slot 5.
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(5, "BTC-PERPETUAL")])),
        vec![("binds", 1), ("messages[2]", 1)]
    );
    // Rebinding the same id is not an eviction.
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(5, "BTC-PERPETUAL")])),
        vec![("binds", 1), ("messages[2]", 1)]
    );
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(1029, "ETH-PERPETUAL")])),
        vec![("bind_evictions", 1), ("binds", 1), ("messages[2]", 1)]
    );
    assert_eq!(
        der_moves(&mut d, &packet(&[t(5), t(1029)])),
        vec![
            ("messages[2]", 2),
            ("msg_unknown_symbol", 1),
            ("quote_updates", 1)
        ]
    );
    assert!(d.quote_table().get(2, ETH as usize).valid);
    assert!(!d.quote_table().get(2, BTC as usize).valid);
    // An unknown name for another id in the slot leaves the binding alone...
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(5, "DOGE"), t(1029)])),
        vec![
            ("messages[2]", 2),
            ("msg_unknown_symbol", 1),
            ("quote_updates", 1)
        ]
    );
    // ...an unknown name for the bound id clears it.
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(1029, "DOGE"), t(1029)])),
        vec![("messages[2]", 2), ("msg_unknown_symbol", 2)]
    );
    // An empty slot takes a binding without eviction; names over 32 bytes match nothing.
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(2053, "ETH-PERPETUAL")])),
        vec![("binds", 1), ("messages[2]", 1)]
    );
    let long = "BTC-PERPETUAL".repeat(3);
    assert_eq!(
        der_moves(&mut d, &packet(&[instrument(0, &long)])),
        vec![("messages[2]", 1), ("msg_unknown_symbol", 1)]
    );
    // Ids above 2^31 are plain u32s.
    assert_eq!(
        der_moves(
            &mut d,
            &packet(&[instrument(u32::MAX, "BTC-PERPETUAL"), t(u32::MAX)])
        ),
        vec![("binds", 1), ("messages[2]", 2), ("quote_updates", 1)]
    );
    // clear_state forgets bindings.
    d.clear_state();
    assert_eq!(
        der_moves(&mut d, &packet(&[t(u32::MAX)])),
        vec![("messages[2]", 1), ("msg_unknown_symbol", 1)]
    );
}

#[test]
fn bindings_are_per_venue() {
    let mut prog = program();
    prog.venues[1] = Some(Protocol::DeribitMcast);
    prog.symbols.push((1, b"BTC-PERPETUAL".to_vec(), BTC));
    let mut d = SwDetector::new(&prog).unwrap();
    send(&mut d, 2, 1, &packet(&[instrument(5, "BTC-PERPETUAL")]));
    send(&mut d, 1, 2, &packet(&[ticker(5, 1.0, 1.0, 2.0, 1.0)]));
    let c = d.counters().unwrap();
    assert_eq!((c.get(k::BINDS), c.get(k::MSG_UNKNOWN_SYMBOL)), (1, 1));
}

// ---------------------------------------------------------------------------------------------
// Section 6: detection

fn quote(d: &mut SwDetector, venue: usize, ts: u64, bid: (i64, i64), ask: (i64, i64)) {
    send(d, venue, ts, &bq("BTCUSDT", bid.0, bid.1, ask.0, ask.1));
}

#[test]
fn cross_event_fields() {
    let mut d = det();
    quote(&mut d, 0, 100, (99, 3), (100, 2));
    assert!(events(&mut d).is_empty());
    // Venue 1 bids above venue 0's ask: sell on 1 (trigger), buy on 0.
    quote(&mut d, 1, 200, (101, 5), (102, 1));
    let ev = events(&mut d);
    assert_eq!(
        ev,
        vec![Event {
            seq: 0,
            instrument: BTC,
            buy_venue: 0,
            sell_venue: 1,
            trigger_venue: 1,
            trigger_sell: true,
            buy_price: 100 * P,
            buy_qty: 2 * P,
            sell_price: 101 * P,
            sell_qty: 5 * P,
            qty: 2 * P,
            ts_ns: 200,
            buy_ts_ns: 100,
            sell_ts_ns: 200,
            cycles: None,
            // the bookUpdateId of venue 1's quote (the helper numbers them)
            feed_key: ev[0].feed_key,
        }]
    );
    // Venue 0 asks below venue 1's bid: buy on 0 (trigger), sell on 1.
    quote(&mut d, 0, 300, (90, 1), (100, 7));
    let ev = events(&mut d);
    assert_eq!(ev.len(), 1);
    let e = ev[0];
    assert_eq!(
        (
            e.seq,
            e.buy_venue,
            e.sell_venue,
            e.trigger_venue,
            e.trigger_sell
        ),
        (1, 0, 1, 0, false)
    );
    assert_eq!(
        (e.buy_price, e.buy_qty, e.sell_price, e.sell_qty, e.qty),
        (100 * P, 7 * P, 101 * P, 5 * P, 5 * P)
    );
    assert_eq!((e.ts_ns, e.buy_ts_ns, e.sell_ts_ns), (300, 300, 200));
    let c = d.counters().unwrap();
    assert_eq!((c.get(k::EVENTS), c.get(k::QUOTE_UPDATES)), (2, 3));
}

#[test]
fn strict_cross_and_edges() {
    // Equal prices with edge 0: no event, whichever side triggers.
    let mut d = det();
    quote(&mut d, 0, 1, (0, 0), (100, 1));
    quote(&mut d, 1, 2, (100, 1), (0, 0));
    quote(&mut d, 0, 3, (0, 0), (100, 1));
    assert!(events(&mut d).is_empty());
    send(&mut d, 0, 4, &bba(b"BTCUSDT", -1, 0, [0, 0, 999, 1]));
    assert!(!events(&mut d)[0].trigger_sell);

    // Positive edge: the difference must exceed it.
    let mut d = det_with_edges(vec![P, 0]);
    quote(&mut d, 0, 1, (0, 0), (100, 1));
    quote(&mut d, 1, 2, (101, 1), (0, 0));
    assert!(events(&mut d).is_empty());
    quote(&mut d, 1, 3, (101, 1), (0, 0));
    assert!(events(&mut d).is_empty());
    send(&mut d, 1, 4, &bba(b"BTCUSDT", -1, 0, [1011, 1, 0, 0]));
    assert_eq!(events(&mut d).len(), 1);
    // The same on the buy side: venue 0's ask must be more than the edge below 101.1.
    send(&mut d, 0, 5, &bba(b"BTCUSDT", -1, 0, [0, 0, 1001, 1]));
    assert!(events(&mut d).is_empty());
    send(&mut d, 0, 5, &bba(b"BTCUSDT", -1, 0, [0, 0, 1000, 1]));
    assert!(!events(&mut d)[0].trigger_sell);
    // The edge is per instrument: ETH keeps 0.
    send(&mut d, 0, 5, &bq("ETHUSDT", 0, 0, 100, 1));
    send(&mut d, 1, 6, &bq("ETHUSDT", 101, 1, 0, 0));
    assert_eq!(events(&mut d)[0].instrument, ETH);

    // Negative edge: equal prices, and even a small gap, trigger.
    let mut d = det_with_edges(vec![-P, 0]);
    quote(&mut d, 0, 1, (0, 0), (100, 1));
    quote(&mut d, 1, 2, (100, 1), (0, 0));
    assert_eq!(events(&mut d).len(), 1);
    send(&mut d, 1, 3, &bba(b"BTCUSDT", -1, 0, [995, 1, 0, 0]));
    assert_eq!(events(&mut d).len(), 1);
    send(&mut d, 1, 4, &bq("BTCUSDT", 99, 1, 0, 0));
    assert!(events(&mut d).is_empty());
    send(&mut d, 0, 5, &bq("BTCUSDT", 0, 0, 100, 1));
    assert!(events(&mut d).is_empty());
    send(&mut d, 0, 6, &bba(b"BTCUSDT", -1, 0, [0, 0, 999, 1]));
    assert!(!events(&mut d)[0].trigger_sell);

    // The most negative edge: any two non-empty sides cross.
    let mut d = det_with_edges(vec![i64::MIN]);
    quote(&mut d, 0, 1, (0, 0), (i64::MAX / P, 1));
    quote(&mut d, 1, 2, (1, 1), (0, 0));
    assert_eq!(events(&mut d).len(), 1);
}

#[test]
fn ties_go_to_the_lowest_venue() {
    let mut d = det();
    // Equal best bids on venues 1 and 3; venue 0's ask crosses both.
    quote(&mut d, 3, 1, (105, 1), (0, 0));
    quote(&mut d, 1, 2, (105, 2), (0, 0));
    quote(&mut d, 0, 3, (0, 0), (100, 1));
    let ev = events(&mut d);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].buy_venue, ev[0].sell_venue, ev[0].sell_qty),
        (0, 1, 2 * P)
    );

    // A strictly higher bid wins over a lower index.
    quote(&mut d, 3, 4, (106, 4), (0, 0));
    let ev = events(&mut d);
    assert_eq!((ev[0].buy_venue, ev[0].sell_venue), (0, 3));
    quote(&mut d, 0, 5, (0, 0), (100, 1));
    assert_eq!(events(&mut d)[0].sell_venue, 3);

    // Equal best asks on venues 0 and 3 (3 updated last); venue 1's bid crosses both.
    let mut d = det();
    quote(&mut d, 0, 1, (0, 0), (100, 1));
    quote(&mut d, 3, 2, (0, 0), (100, 9));
    let ev = events(&mut d);
    assert!(ev.is_empty());
    quote(&mut d, 1, 3, (101, 1), (0, 0));
    let ev = events(&mut d);
    assert_eq!(
        (ev[0].buy_venue, ev[0].sell_venue, ev[0].buy_qty),
        (0, 1, P)
    );
}

#[test]
fn both_events_from_one_update() {
    let mut d = det();
    quote(&mut d, 0, 1, (105, 4), (0, 0)); // B
    quote(&mut d, 1, 2, (0, 0), (108, 6)); // A
    assert!(events(&mut d).is_empty());
    // Venue 3's own quote is crossed: ask 100 < B 105, bid 110 > A 108.
    quote(&mut d, 3, 3, (110, 1), (100, 2));
    let ev = events(&mut d);
    assert_eq!(ev.len(), 2);
    // Buy-on-v first, then sell-on-v.
    assert_eq!(
        (
            ev[0].seq,
            ev[0].buy_venue,
            ev[0].sell_venue,
            ev[0].trigger_sell
        ),
        (0, 3, 0, false)
    );
    assert_eq!(
        (ev[0].buy_price, ev[0].sell_price, ev[0].qty),
        (100 * P, 105 * P, 2 * P)
    );
    assert_eq!(
        (
            ev[1].seq,
            ev[1].buy_venue,
            ev[1].sell_venue,
            ev[1].trigger_sell
        ),
        (1, 1, 3, true)
    );
    assert_eq!(
        (ev[1].buy_price, ev[1].sell_price, ev[1].qty),
        (108 * P, 110 * P, P)
    );
    assert_eq!((ev[1].buy_ts_ns, ev[1].sell_ts_ns), (2, 3));
}

#[test]
fn empty_sides_and_other_instruments_do_not_cross() {
    let mut d = det();
    // Venue 0 bid with zero quantity: empty.
    quote(&mut d, 0, 1, (200, 0), (0, 0));
    quote(&mut d, 1, 2, (0, 0), (100, 1));
    // ETH on venue 3 does not cross BTC.
    send(&mut d, 3, 3, &bq("ETHUSDT", 300, 1, 0, 0));
    quote(&mut d, 3, 4, (0, 1), (50, 0));
    assert!(events(&mut d).is_empty());
    // The trigger's own empty side does not cross: venue 3 bid is empty.
    quote(&mut d, 3, 5, (0, 5), (150, 1));
    assert!(events(&mut d).is_empty());
    // A later update replaces both sides: venue 0's bid becomes non-empty and crosses 1's ask.
    quote(&mut d, 0, 6, (200, 1), (0, 0));
    let ev = events(&mut d);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].buy_venue, ev[0].sell_venue), (1, 0));
    // A venue's own quote is never the other side.
    quote(&mut d, 0, 8, (200, 1), (100, 1));
    let ev = events(&mut d);
    assert_eq!(ev.len(), 1, "{ev:?}");
}

#[test]
fn deribit_and_binance_cross() {
    let mut d = det();
    send(
        &mut d,
        2,
        10,
        &packet(&[
            instrument(7, "BTC-PERPETUAL"),
            ticker(7, 61_000.5, 0.1, 61_001.0, 2.0),
        ]),
    );
    send(
        &mut d,
        0,
        20,
        &bba(b"BTCUSDT", -2, -8, [6_100_150, 30_000_000, 6_100_200, 1]),
    );
    let ev = events(&mut d);
    assert_eq!(ev.len(), 1);
    let e = ev[0];
    assert_eq!((e.buy_venue, e.sell_venue, e.trigger_venue), (2, 0, 0));
    assert_eq!((e.buy_price, e.buy_qty), (61_001 * P, 2 * P));
    assert_eq!(
        (e.sell_price, e.sell_qty, e.qty),
        (61_001 * P + P / 2, 300_000_000, 300_000_000)
    );
}

#[test]
fn sequence_numbers_and_clear_state() {
    let mut d = det();
    for n in 0..5 {
        quote(&mut d, 0, 2 * n, (0, 0), (100, 1));
        quote(&mut d, 1, 2 * n + 1, (101, 1), (0, 0));
    }
    // Not drained between frames: events accumulate in order.
    let ev = events(&mut d);
    assert_eq!(
        ev.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (0..ev.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(ev.len(), 9);
    d.clear_state();
    assert_eq!(d.quote_table().written().count(), 0);
    quote(&mut d, 0, 50, (0, 0), (100, 1));
    quote(&mut d, 1, 51, (101, 1), (0, 0));
    assert_eq!(events(&mut d)[0].seq, 0);
    // Counters survive clear_state; reset_counters clears them.
    assert_eq!(d.counters().unwrap().get(k::EVENTS), 10);
    d.reset_counters();
    assert_eq!(d.counters().unwrap(), Counters::default());
    d.flush().unwrap();
    assert_eq!(d.name(), "sw");
}

// ---------------------------------------------------------------------------------------------
// Programs

#[test]
fn rejects_programs_the_hardware_cannot_hold() {
    let bad = |p: Program| match SwDetector::new(&p) {
        Err(DetectError::Config(m)) => m,
        other => panic!("accepted: {other:?}"),
    };
    let m = bad(Program {
        venues: vec![Some(Protocol::BinanceSbe); 9],
        ..program()
    });
    assert!(m.contains("9 venues"), "{m}");
    let m = bad(Program {
        filters: vec![filter([1, 1, 1, 1], 32, 1, 0); 17],
        ..program()
    });
    assert!(m.contains("17 filters"), "{m}");
    let m = bad(Program {
        edges: vec![0; 257],
        ..program()
    });
    assert!(m.contains("257"), "{m}");
    let mut p = program();
    p.symbols.push((0, vec![b'x'; 33], 0));
    assert!(bad(p).contains("33 bytes"));
    let mut p = program();
    p.symbols.push((0, b"BTCUSDT".to_vec(), 1));
    assert!(bad(p).contains("duplicate"));
    let mut p = program();
    p.symbols.push((8, b"X".to_vec(), 1));
    assert!(bad(p).contains("venue 8"));
    let mut p = program();
    p.symbols.push((0, b"X".to_vec(), 256));
    assert!(bad(p).contains("instrument 256"));
    let mut p = program();
    p.filters.push(filter([1, 1, 1, 1], 32, 1, 8));
    assert!(bad(p).contains("venue 8"));
    let mut p = program();
    p.filters.push(filter([1, 1, 1, 1], 64, 1, 0));
    assert!(bad(p).contains("prefix 64"));
    let mut p = program();
    p.symbols = (0..2049u32)
        .map(|n| (0, n.to_le_bytes().to_vec(), 0))
        .collect();
    assert!(bad(p).contains("2049 symbols"));
    // The limits themselves are fine.
    let p = Program {
        venues: vec![Some(Protocol::DeribitMcast); 8],
        filters: (0..16)
            .map(|n| filter([1, 1, 1, n], 32, 1, n % 8))
            .collect(),
        symbols: vec![(7, vec![b'x'; 32], 255)],
        edges: vec![0; 256],
    };
    SwDetector::new(&p).unwrap();
}

#[test]
fn program_from_config() {
    let c = tickcross_core::config::DetectionConfig::from_toml_str(
        r#"
[[instrument]]
name = "BTC"
edge = "0.5"
[[venue]]
name = "b"
protocol = "binance_sbe"
destination = "239.1.1.1:1000"
symbols = { BTCUSDT = "BTC" }
[[venue]]
name = "c"
protocol = "binance_sbe"
destination = "239.1.1.2:1000"
symbols = { BTCUSDT = "BTC" }
"#,
    )
    .unwrap();
    let mut d = SwDetector::new(&c.program()).unwrap();
    quote(&mut d, 0, 1, (0, 0), (100, 1));
    send(&mut d, 1, 2, &bba(b"BTCUSDT", -1, 0, [1005, 1, 0, 0]));
    assert!(events(&mut d).is_empty());
    send(&mut d, 1, 3, &bba(b"BTCUSDT", -1, 0, [1006, 1, 0, 0]));
    assert_eq!(events(&mut d).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Properties: no input panics, and the counters always add up.

const OUTCOMES: [usize; 8] = [
    k::MSG_TRUNCATED,
    k::MSG_UNKNOWN_TEMPLATE,
    k::MSG_CONVERSION,
    k::MSG_SKIPPED,
    k::MSG_UNKNOWN_SYMBOL,
    k::BINDS,
    k::QUOTE_UPDATES,
    k::MSG_OUT_OF_ORDER,
];
const VERDICTS: [usize; 7] = [
    k::FRAMES_ACCEPTED,
    k::DROP_DISABLED,
    k::DROP_BAD_FRAME,
    k::DROP_NOT_IPV4_UDP,
    k::DROP_CHECKSUM,
    k::DROP_LENGTH,
    k::DROP_NO_VENUE,
];

fn sum(c: &Counters, idx: &[usize]) -> u64 {
    idx.iter().map(|&i| c.get(i)).sum()
}

fn messages(c: &Counters) -> [u64; 8] {
    std::array::from_fn(|v| c.messages(v))
}

/// Pushes one frame and checks what it may change.
fn push_checked(
    d: &mut SwDetector,
    edges: &[Price9],
    ts: u64,
    data: Vec<u8>,
    bad: bool,
    next_seq: &mut u64,
) {
    let before = d.counters().unwrap();
    let len = data.len() as u64;
    d.push_frame(&Frame {
        ts_ns: ts,
        data,
        bad,
    })
    .unwrap();
    let after = d.counters().unwrap();
    let delta = |i: usize| after.get(i) - before.get(i);
    assert_eq!(delta(k::RX_FRAMES), 1);
    assert_eq!(delta(k::RX_BYTES), len);
    // Exactly one verdict.
    assert_eq!(VERDICTS.iter().map(|&i| delta(i)).sum::<u64>(), 1);
    assert_eq!(after.get(k::RX_FRAMES), sum(&after, &VERDICTS));
    for i in [k::DROP_DISABLED, k::RING_OVERFLOWS, k::INPUT_STALL_CYCLES] {
        assert_eq!(after.get(i), 0);
    }
    // Every message has exactly one outcome.
    let msgs: u64 = messages(&after).iter().sum();
    assert_eq!(msgs, sum(&after, &OUTCOMES));
    // Messages of one frame count on one venue; a Binance venue counts exactly one.
    let (mb, ma) = (messages(&before), messages(&after));
    let moved: Vec<usize> = (0..8).filter(|&v| ma[v] != mb[v]).collect();
    assert!(moved.len() <= 1);
    if let Some(&v) = moved.first() {
        assert_eq!(delta(k::FRAMES_ACCEPTED), 1);
        if v != 2 {
            assert_eq!(ma[v] - mb[v], 1);
        }
    }
    if delta(k::FRAMES_ACCEPTED) == 0 {
        let changed = moved_except(&before, &after);
        assert_eq!(changed.len(), 1, "a dropped frame changed {changed:?}");
    }
    assert!(after.get(k::BIND_EVICTIONS) <= after.get(k::BINDS));
    // Events: as many as counted, numbered on.
    let ev = events(d);
    assert_eq!(ev.len() as u64, delta(k::EVENTS));
    for e in ev {
        assert_eq!(e.seq, *next_seq);
        *next_seq += 1;
        assert_eq!(e.ts_ns, ts);
        assert!(e.buy_venue != e.sell_venue);
        let edge = edges.get(usize::from(e.instrument)).copied().unwrap_or(0);
        assert!(e.sell_price - e.buy_price > edge);
        assert_eq!(e.qty, e.buy_qty.min(e.sell_qty));
        assert!(e.qty > 0 && e.buy_price > 0 && e.sell_price > 0);
    }
}

fn moved_except(before: &Counters, after: &Counters) -> Vec<&'static str> {
    moved(before, after)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| *n != "rx_frames" && *n != "rx_bytes")
        .collect()
}

/// One plausible Deribit message (random enough to hit every walker branch).
fn deribit_msg() -> impl Strategy<Value = Vec<u8>> {
    let ids = prop_oneof![0u32..4, 1024u32..1028, any::<u32>()];
    let name = prop_oneof![
        Just(b"BTC-PERPETUAL".to_vec()),
        Just(b"ETH-PERPETUAL".to_vec()),
        Just(b"OTHER".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ];
    let price = prop_oneof![
        (1u32..200).prop_map(|x| f64::from(x).to_bits()),
        Just(0u64),
        any::<u64>(),
    ];
    prop_oneof![
        (ids.clone(), prop::array::uniform4(price)).prop_map(|(id, b)| ticker_bits(id, b)),
        (ids, name).prop_map(|(id, n)| sbe(140, 1000, 1, &id.to_le_bytes(), &[(16, 2)], &[&n])),
        (
            0u16..160,
            prop_oneof![Just(1000u16), Just(1003), 1001u16..1011, any::<u16>()],
            prop_oneof![Just(1u16), any::<u16>()],
            prop::collection::vec((0u16..20, 0u16..4), 0..3),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..3),
        )
            .prop_map(|(bl, tid, sid, groups, vars)| {
                let vars: Vec<&[u8]> = vars.iter().map(|v| v.as_slice()).collect();
                sbe(bl, tid, sid, &[], &groups, &vars)
            }),
    ]
}

fn binance_msg() -> impl Strategy<Value = Vec<u8>> {
    let sym = prop_oneof![
        Just(b"BTCUSDT".to_vec()),
        Just(b"ETHUSDT".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ];
    let mantissa = prop_oneof![1i64..300, Just(0), any::<i64>()];
    (
        sym,
        -12i8..3,
        -12i8..3,
        prop::array::uniform4(mantissa),
        0u16..80,
        // a bookUpdateId from a small range now and then: repeats and reorderings
        prop_oneof![4 => Just(None), 1 => (-2i64..3).prop_map(Some)],
    )
        .prop_map(|(s, pe, qe, m, bl, id)| {
            let bl = if bl < 45 { 50 } else { bl };
            bba_id(bl, &s, pe, qe, m, id.unwrap_or_else(next_update_id))
        })
}

/// A frame aimed at one of the test venues (or none), then possibly damaged.
fn structured_frame() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let payload = prop_oneof![
        binance_msg(),
        prop::collection::vec(deribit_msg(), 0..6).prop_map(|m| packet(&m)),
        // repeated, reordered and skipped sequences on a few channels
        (prop::collection::vec(deribit_msg(), 0..6), 0u16..3, 0u32..5)
            .prop_map(|(m, ch, seq)| packet_seq(&m, ch, seq)),
        prop::collection::vec(any::<u8>(), 0..100),
    ];
    (
        payload,
        0usize..6,
        any::<bool>(),
        5u8..8,
        0usize..4,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        prop_oneof![4 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
        any::<bool>(),
        prop_oneof![20 => Just(false), 1 => Just(true)],
    )
        .prop_map(|(payload, venue, vlan, ihl, pad, edits, cut, refix, bad)| {
            let net = Net {
                vlan,
                ihl,
                pad,
                ..dest(venue)
            };
            let mut f = net.build(&payload);
            for (at, byte) in edits {
                let i = at.index(f.len());
                f[i] = byte;
            }
            if let Some(c) = cut {
                f.truncate(c.index(f.len() + 1));
            }
            let h = net.l2();
            if refix && f.len() >= h + 20 && f.len() >= h + 4 * usize::from(f[h] & 0x0f) {
                fix_checksum(&mut f, h);
            }
            (f, bad)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(frames in prop::collection::vec(
        (prop::collection::vec(any::<u8>(), 0..2100), any::<bool>()), 1..20)) {
        let mut d = det();
        let mut seq = 0;
        for (ts, (data, bad)) in frames.into_iter().enumerate() {
            push_checked(&mut d, &[0, 0], ts as u64, data, bad, &mut seq);
        }
    }

    #[test]
    fn structured_frames_keep_counters_consistent(
        frames in prop::collection::vec(structured_frame(), 1..60),
        edge in prop_oneof![Just(0i64), -3 * P..3 * P],
    ) {
        let edges = vec![edge, -edge];
        let mut d = det_with_edges(edges.clone());
        let mut seq = 0;
        for (ts, (data, bad)) in frames.into_iter().enumerate() {
            push_checked(&mut d, &edges, ts as u64, data, bad, &mut seq);
        }
        // The table holds only written entries of programmed venues.
        for (v, _, e) in d.quote_table().written() {
            prop_assert!(v < 4 && e.valid);
        }
    }
}
