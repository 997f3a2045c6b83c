//! etherparse as an independent oracle for our frame handling: every frame `UdpFrameBuilder`
//! builds, every frame of the real captures, and mutated frames get the same Ethernet/802.1Q/
//! IPv4/UDP fields and payload from etherparse as from `netgen::parse_udp` and the software
//! path's frame check; a frame etherparse does not take as unfragmented IPv4/UDP is rejected by
//! both of ours.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use etherparse::{LinkSlice, NetSlice, SlicedPacket, TransportSlice, VlanSlice};
use proptest::prelude::*;
use tickcross_capture::bridge::{bridge_binance_json, BridgeOptions};
use tickcross_capture::netgen::{self, parse_udp, UdpFrameBuilder, VlanTag};
use tickcross_capture::CaptureReader;
use tickcross_core::program::Filter;
use tickcross_swpath::frame_check::{self, VenueFilter, Verdict};

/// What etherparse finds in a frame, in `parse_udp`'s terms.
#[derive(Debug, PartialEq, Eq)]
struct Fields<'a> {
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    vlan: Option<VlanTag>,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    ttl: u8,
    identification: u16,
    ip_options: &'a [u8],
    payload: &'a [u8],
}

/// etherparse's reading of `frame`, if it is what our contract handles: Ethernet II, at most
/// one 802.1Q (0x8100) tag, IPv4 not fragmented, UDP. The second value: the UDP length field
/// agrees with the IPv4 payload length (etherparse tolerates a shorter or zero field; we do not).
fn theirs(frame: &[u8]) -> Option<(Fields<'_>, bool)> {
    let p = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(LinkSlice::Ethernet2(eth)) = &p.link else {
        return None;
    };
    let vlan = match &p.vlan {
        None => None,
        // etherparse also takes 0x88a8 and 0x9100 as tags; the contract knows only 0x8100
        Some(VlanSlice::SingleVlan(v)) if frame[12..14] == [0x81, 0x00] => Some(VlanTag {
            pcp: v.priority_code_point().value(),
            dei: v.drop_eligible_indicator(),
            vid: v.vlan_identifier().value(),
        }),
        Some(_) => return None,
    };
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        return None;
    };
    let Some(TransportSlice::Udp(udp)) = &p.transport else {
        return None;
    };
    if ip.is_payload_fragmented() {
        return None;
    }
    let h = ip.header();
    // header() borrows the slice: return the same bytes of the frame instead
    let l2 = if vlan.is_some() { 18 } else { 14 };
    let ip_options = &frame[l2 + 20..l2 + 4 * usize::from(h.ihl())];
    assert_eq!(ip_options, h.options());
    let fields = Fields {
        dst_mac: eth.destination(),
        src_mac: eth.source(),
        vlan,
        src: SocketAddrV4::new(h.source_addr(), udp.source_port()),
        dst: SocketAddrV4::new(h.destination_addr(), udp.destination_port()),
        ttl: h.ttl(),
        identification: h.identification(),
        ip_options,
        payload: udp.payload(),
    };
    let udp_len_agrees = usize::from(udp.length()) == ip.payload().payload.len();
    Some((fields, udp_len_agrees))
}

/// Checks one frame against the oracle; true if etherparse took it as IPv4/UDP.
fn agree(frame: &[u8]) -> bool {
    let them = theirs(frame);
    let ours = parse_udp(frame);
    let port = ours
        .as_ref()
        .map(|v| v.dst.port())
        .or(them.as_ref().map(|(f, _)| f.dst.port()))
        .unwrap_or(0);
    // Every destination address, this port: a frame that passes the checks is accepted.
    let any = [VenueFilter::new(&Filter {
        ip: [0; 4],
        prefix: 0,
        port,
        venue: 0,
    })];
    let verdict = frame_check::check(frame, false, &any);
    let Some((f, udp_len_agrees)) = them else {
        assert!(
            ours.is_none(),
            "etherparse rejects, parse_udp takes {frame:02x?}"
        );
        assert!(
            matches!(verdict, Verdict::Drop(_)),
            "etherparse rejects, the frame check takes {frame:02x?}"
        );
        return false;
    };
    match &ours {
        Some(v) => {
            let ours = Fields {
                dst_mac: v.dst_mac,
                src_mac: v.src_mac,
                vlan: v.vlan,
                src: v.src,
                dst: v.dst,
                ttl: v.ttl,
                identification: v.identification,
                ip_options: v.ip_options,
                payload: v.payload,
            };
            assert_eq!(ours, f, "{frame:02x?}");
        }
        // the only rule where parse_udp is stricter than etherparse
        None => assert!(!udp_len_agrees, "parse_udp rejects {f:?}"),
    }
    match verdict {
        Verdict::Accept { start, len, .. } => {
            assert_eq!(&frame[start..start + len], f.payload, "{frame:02x?}");
        }
        // stricter than etherparse: the IPv4 header checksum, the UDP length, the frame size
        Verdict::Drop(_) => {
            let l2 = if f.vlan.is_some() { 18 } else { 14 };
            let ihl = usize::from(frame[l2] & 0x0f) * 4;
            let checksum_ok = netgen::ipv4_checksum(&frame[l2..l2 + ihl]) == 0;
            let too_long = frame.len() > tickcross_bindings::params::MAX_FRAME_BYTES as usize;
            assert!(
                !checksum_ok || !udp_len_agrees || too_long,
                "the frame check drops {f:?}"
            );
        }
    }
    true
}

fn builder() -> impl Strategy<Value = (UdpFrameBuilder, Vec<u8>)> {
    (
        (
            any::<[u8; 4]>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<u16>(),
        ),
        (
            proptest::option::of((0u8..8, any::<bool>(), 0u16..4096)),
            proptest::option::of(any::<[u8; 6]>()),
            any::<[u8; 6]>(),
        ),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
        ),
        proptest::collection::vec(any::<u8>(), 0..=40),
        proptest::collection::vec(any::<u8>(), 0..1400),
    )
        .prop_map(
            |(
                (sip, sport, dip, dport),
                (vlan, dst_mac, src_mac),
                (ttl, id, tos, df, csum),
                opts,
                payload,
            )| {
                let mut b = UdpFrameBuilder::new(
                    SocketAddrV4::new(Ipv4Addr::from(sip), sport),
                    SocketAddrV4::new(Ipv4Addr::from(dip), dport),
                )
                .src_mac(src_mac)
                .ttl(ttl)
                .identification(id)
                .tos(tos)
                .dont_fragment(df)
                .ip_options(opts)
                .udp_checksum(csum);
                b.dst_mac = dst_mac;
                if let Some((pcp, dei, vid)) = vlan {
                    b = b.vlan(VlanTag { pcp, dei, vid });
                }
                (b, payload)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn built_frames_parse_alike((b, payload) in builder()) {
        let frame = b.build(&payload).unwrap();
        let (f, udp_len_agrees) = theirs(&frame).expect("etherparse rejects a built frame");
        prop_assert!(udp_len_agrees);
        prop_assert_eq!(f.payload, &payload[..]);
        prop_assert_eq!(f.src, b.src);
        prop_assert_eq!(f.dst, b.dst);
        prop_assert_eq!(f.dst_mac, b.resolved_dst_mac());
        prop_assert_eq!(f.vlan, b.vlan);
        prop_assert!(parse_udp(&frame).is_some());
        prop_assert!(agree(&frame));
    }

    /// Bytes of the headers overwritten (and the frame perhaps cut): whatever etherparse makes
    /// of the result, ours agree with it.
    #[test]
    fn mutated_headers_are_judged_alike(
        (b, payload) in builder(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut frame = b.build(&payload).unwrap();
        // Ethernet, tag, IPv4 with options and UDP headers: at most 14 + 4 + 60 + 8 bytes
        let headers = frame.len().min(86);
        for (at, byte) in edits {
            frame[at % headers] = byte;
        }
        if let Some(cut) = cut {
            frame.truncate(cut % (frame.len() + 1));
        }
        agree(&frame);
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn bridged_binance_frames_parse_alike() {
    let data = repo().join("data/binance");
    let inputs = [
        ("spot", data.join("spot_btcusdt_20240808.gz")),
        ("usdm", data.join("usdm_btcusdt_20240808.gz")),
        ("cm", data.join("cm_btcusd_perp_20240808.gz")),
    ];
    let bridge = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
    let mut n = 0;
    for f in bridge.frames() {
        let f = f.expect("frame");
        assert!(agree(&f.data), "etherparse rejects a bridged frame");
        n += 1;
    }
    assert!(n > 1000, "only {n} frames bridged");
}

/// The real captures in ../shared (not vendored here; see its data/README.md), when present.
#[test]
fn shared_captures_parse_alike() {
    let data = repo().join("../shared/data");
    let files = [
        "deribit/sample_capture_v1_6.pcapng",
        "coinbase-derivatives/OrderPutMessage.pcap",
        "coinbase-derivatives/OrderDeleteMessage.pcap",
    ];
    for rel in files {
        let path = data.join(rel);
        if !path.exists() {
            eprintln!("skipped: {} is not there", path.display());
            continue;
        }
        let (mut frames, mut udp) = (0, 0);
        for f in CaptureReader::open(&path).expect("open") {
            let f = f.expect("frame");
            frames += 1;
            udp += usize::from(agree(&f.data));
        }
        assert!(udp > 0, "{rel}: no IPv4/UDP frame among {frames}");
    }
}
