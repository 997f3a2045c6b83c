use std::io::{Cursor, Write};
use std::path::PathBuf;

use proptest::prelude::*;

use super::pcapng::ts_to_ns;
use super::*;
use tickcross_core::frame::Frame;

/// A capture of ../shared/data (no licence for this repository, so not vendored): None, with a
/// note, only when ../shared/data is absent altogether (a bare clone); a missing file there fails.
fn shared(rel: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if !dir.is_dir() {
        eprintln!(
            "skipped: {} not present (../shared/data is absent)",
            dir.join(rel).display()
        );
        return None;
    }
    Some(dir.join(rel))
}

fn read_bytes(name: &str, bytes: Vec<u8>) -> Result<(Vec<Frame>, CaptureStats), CaptureError> {
    let mut r = CaptureReader::from_reader(name, Cursor::new(bytes))?;
    let frames = r.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok((frames, r.stats().clone()))
}

fn read_err(name: &str, bytes: Vec<u8>) -> String {
    match read_bytes(name, bytes) {
        Ok((frames, _)) => panic!("expected an error, read {} frames", frames.len()),
        Err(e) => e.to_string(),
    }
}

fn u16x(be: bool, v: u16) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u32x(be: bool, v: u32) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// A classic pcap: `ns` selects the nanosecond magic; records are (sec, frac, data, orig_len).
fn pcap_file(ns: bool, be: bool, linktype: u32, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&u32x(be, if ns { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    v.extend_from_slice(&u16x(be, 2));
    v.extend_from_slice(&u16x(be, 4));
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&u32x(be, 65535));
    v.extend_from_slice(&u32x(be, linktype));
    for &(sec, frac, data, orig) in records {
        v.extend_from_slice(&u32x(be, sec));
        v.extend_from_slice(&u32x(be, frac));
        v.extend_from_slice(&u32x(be, data.len() as u32));
        v.extend_from_slice(&u32x(be, orig));
        v.extend_from_slice(data);
    }
    v
}

/// A pcapng builder; each section picks its byte order.
#[derive(Default)]
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn block(&mut self, btype: u32, body: &[u8]) -> &mut Self {
        let mut b = body.to_vec();
        while b.len() & 3 != 0 {
            b.push(0);
        }
        let len = b.len() as u32 + 12;
        let be = self.be;
        self.out.extend_from_slice(&u32x(be, btype));
        self.out.extend_from_slice(&u32x(be, len));
        self.out.extend_from_slice(&b);
        self.out.extend_from_slice(&u32x(be, len));
        self
    }

    fn shb(&mut self, be: bool) -> &mut Self {
        self.be = be;
        let mut b = Vec::new();
        b.extend_from_slice(&u32x(be, 0x1a2b_3c4d));
        b.extend_from_slice(&u16x(be, 1));
        b.extend_from_slice(&u16x(be, 0));
        b.extend_from_slice(&(-1i64).to_le_bytes());
        self.block(0x0a0d_0d0a, &b)
    }

    fn idb(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, Vec<u8>)]) -> &mut Self {
        let be = self.be;
        let mut b = Vec::new();
        b.extend_from_slice(&u16x(be, linktype));
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&u32x(be, snaplen));
        for (code, val) in opts {
            b.extend_from_slice(&u16x(be, *code));
            b.extend_from_slice(&u16x(be, val.len() as u16));
            b.extend_from_slice(val);
            while b.len() & 3 != 0 {
                b.push(0);
            }
        }
        if !opts.is_empty() {
            b.extend_from_slice(&[0; 4]);
        }
        self.block(1, &b)
    }

    fn epb(&mut self, iface: u32, units: u64, data: &[u8], orig: u32) -> &mut Self {
        let be = self.be;
        let mut b = Vec::new();
        b.extend_from_slice(&u32x(be, iface));
        b.extend_from_slice(&u32x(be, (units >> 32) as u32));
        b.extend_from_slice(&u32x(be, units as u32));
        b.extend_from_slice(&u32x(be, data.len() as u32));
        b.extend_from_slice(&u32x(be, orig));
        b.extend_from_slice(data);
        self.block(6, &b)
    }

    fn pb(&mut self, iface: u16, units: u64, data: &[u8]) -> &mut Self {
        let be = self.be;
        let mut b = Vec::new();
        b.extend_from_slice(&u16x(be, iface));
        b.extend_from_slice(&u16x(be, 0));
        b.extend_from_slice(&u32x(be, (units >> 32) as u32));
        b.extend_from_slice(&u32x(be, units as u32));
        b.extend_from_slice(&u32x(be, data.len() as u32));
        b.extend_from_slice(&u32x(be, data.len() as u32));
        b.extend_from_slice(data);
        self.block(2, &b)
    }

    fn spb(&mut self, data: &[u8], orig: u32) -> &mut Self {
        let be = self.be;
        let mut b = Vec::new();
        b.extend_from_slice(&u32x(be, orig));
        b.extend_from_slice(data);
        self.block(3, &b)
    }

    fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

fn pkt(n: usize, tag: u8) -> Vec<u8> {
    (0..n).map(|i| tag.wrapping_add(i as u8)).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

// ---- real captures ----

#[test]
fn deribit_pcapng() {
    let Some(path) = shared("deribit/sample_capture_v1_6.pcapng") else {
        return;
    };
    let mut r = open_capture(&path).expect("open");
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert!(!r.compressed());
    let frames = r.by_ref().collect::<Result<Vec<_>, _>>().expect("read");
    assert_eq!(frames.len(), 5066);
    assert_eq!(frames[0].ts_ns, 1_686_858_149_957_011_749);
    for f in &frames {
        assert!(f.data.len() >= 42, "too short for Ethernet/IPv4/UDP");
        assert_eq!(&f.data[12..14], &[0x08, 0x00], "IPv4 ethertype");
        assert_eq!(f.data[23], 17, "UDP");
        assert!(!f.bad);
        // 2023-06-15 19:42:29 .. 19:43:51 UTC.
        assert!((1_686_858_149_000_000_000..1_686_858_231_000_000_000).contains(&f.ts_ns));
    }
    let s = r.stats();
    assert_eq!(s.records, 5066);
    assert_eq!(
        s.bytes,
        frames.iter().map(|f| f.data.len() as u64).sum::<u64>()
    );
    assert_eq!((s.sections, s.interfaces), (1, 1));
    assert_eq!((s.truncated_records, s.simple_packet_blocks), (0, 0));
}

#[test]
fn deribit_pcapng_gzip_equals_plain() {
    let Some(path) = shared("deribit/sample_capture_v1_6.pcapng") else {
        return;
    };
    let raw = std::fs::read(&path).expect("read");
    let (plain, _) = read_capture(&path).expect("plain");
    let mut r =
        CaptureReader::from_reader("deribit.pcapng.gz", Cursor::new(gzip(&raw))).expect("gz");
    assert!(r.compressed());
    let gz = r.by_ref().collect::<Result<Vec<_>, _>>().expect("read gz");
    assert_eq!(plain, gz);
}

#[test]
fn coinbase_pcaps() {
    let Some(dir) = shared("coinbase-derivatives") else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("pcap") {
            continue;
        }
        let raw = std::fs::read(&path).expect("read");
        let (frames, stats) = read_capture(&path).expect("pcap");
        assert_eq!(frames.len(), 1, "{}", path.display());
        assert_eq!(stats.records, 1);
        // One record right after the 24-byte header: check against the raw fields.
        let u32le = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
        let ts = u64::from(u32le(24)) * 1_000_000_000 + u64::from(u32le(28)) * 1000;
        assert_eq!(frames[0].ts_ns, ts);
        assert_eq!(frames[0].data, raw[40..40 + u32le(32) as usize]);
        assert_eq!(&frames[0].data[..3], &[0x01, 0x00, 0x5e], "multicast MAC");
        n += 1;
    }
    assert_eq!(n, 5);
}

// ---- classic pcap ----

#[rstest::rstest]
fn pcap_all_magics(#[values(false, true)] be: bool) {
    let a = pkt(60, 1);
    let b = pkt(70, 2);
    let us = pcap_file(false, be, 1, &[(10, 999_999, &a, 60), (11, 5, &b, 70)]);
    let (f, s) = read_bytes("us.pcap", us).expect("us");
    assert_eq!(f[0], Frame::new(10_999_999_000, a.clone()));
    assert_eq!(f[1], Frame::new(11_000_005_000, b.clone()));
    assert_eq!(
        (s.records, s.bytes, s.sections, s.interfaces),
        (2, 130, 1, 1)
    );
    let ns = pcap_file(true, be, 1, &[(u32::MAX, 999_999_999, &a, 60)]);
    let (f, _) = read_bytes("ns.pcap", ns).expect("ns");
    assert_eq!(
        f[0].ts_ns,
        u64::from(u32::MAX) * 1_000_000_000 + 999_999_999
    );
}

#[test]
fn pcap_truncated_record_kept_and_counted() {
    let a = pkt(60, 1);
    let (f, s) =
        read_bytes("t.pcap", pcap_file(true, false, 1, &[(1, 0, &a, 1500)])).expect("read");
    assert_eq!(f[0].data, a);
    assert_eq!(s.truncated_records, 1);
}

#[test]
fn pcap_fcs_stripped() {
    // F bit with 2 16-bit words of FCS.
    let linktype = 1 | (1 << 26) | (2 << 28);
    let a = pkt(64, 1);
    let (f, _) = read_bytes(
        "fcs.pcap",
        pcap_file(true, false, linktype, &[(1, 0, &a, 64)]),
    )
    .expect("read");
    assert_eq!(f[0].data, a[..60]);
}

#[test]
fn pcap_empty_has_no_frames() {
    let (f, s) = read_bytes("e.pcap", pcap_file(false, false, 1, &[])).expect("read");
    assert!(f.is_empty());
    assert_eq!(s.records, 0);
}

#[test]
fn pcap_errors() {
    let a = pkt(60, 1);
    let good = pcap_file(true, false, 1, &[(1, 0, &a, 60), (2, 0, &a, 60)]);

    let e = read_err("h.pcap", good[..20].to_vec());
    assert!(
        e.starts_with("h.pcap: file header at offset 0: truncated"),
        "{e}"
    );

    let e = read_err("r.pcap", good[..24 + 76 + 10].to_vec());
    assert_eq!(
        e,
        "r.pcap: record at offset 100: truncated record header (10 of 16 bytes)"
    );

    let e = read_err("d.pcap", good[..24 + 76 + 16 + 30].to_vec());
    assert_eq!(
        e,
        "d.pcap: record at offset 100: truncated record: 30 of 60 captured bytes present"
    );

    let mut huge = pcap_file(true, false, 1, &[]);
    huge.extend_from_slice(&[0; 8]);
    huge.extend_from_slice(&(300_000u32).to_le_bytes());
    huge.extend_from_slice(&(300_000u32).to_le_bytes());
    let e = read_err("big.pcap", huge);
    assert_eq!(
        e,
        "big.pcap: record at offset 24: captured length 300000 exceeds the 262144-byte limit"
    );

    let e = read_err("lt.pcap", pcap_file(false, false, 113, &[(1, 0, &a, 60)]));
    assert_eq!(
        e,
        "lt.pcap: at offset 20: interface 0: link type 113 is not supported (only 1, Ethernet)"
    );

    let e = read_err("m.pcap", b"GIF89a-not-a-capture".to_vec());
    assert_eq!(
        e,
        "m.pcap: not a pcap, pcapng or gzip file (magic 47 49 46 38)"
    );

    let e = read_err("z.pcap", Vec::new());
    assert!(e.starts_with("z.pcap: file header at offset 0:"), "{e}");

    let mut v1 = good.clone();
    v1[4] = 1;
    let e = read_err("v.pcap", v1);
    assert_eq!(
        e,
        "v.pcap: file header at offset 0: unsupported pcap version 1.4"
    );
}

#[test]
fn reader_stops_after_first_error() {
    let a = pkt(60, 1);
    let good = pcap_file(true, false, 1, &[(1, 0, &a, 60), (2, 0, &a, 60)]);
    let mut r = CaptureReader::from_reader("s.pcap", Cursor::new(good[..good.len() - 1].to_vec()))
        .expect("header");
    assert!(matches!(r.next(), Some(Ok(_))));
    assert!(matches!(r.next(), Some(Err(_))));
    assert!(r.next().is_none());
    assert!(r.next().is_none());
}

#[test]
fn open_missing_file_names_it() {
    let e = open_capture("/nonexistent/x.pcap")
        .expect_err("error")
        .to_string();
    assert!(e.starts_with("/nonexistent/x.pcap: cannot open"), "{e}");
}

// ---- pcapng ----

#[test]
fn pcapng_resolutions_sections_and_blocks() {
    let a = pkt(60, 1);
    let b = pkt(61, 2);
    let c = pkt(62, 3);
    let d = pkt(63, 4);
    let e = pkt(64, 5);
    let mut ng = Ng::default();
    // Section 1, little-endian: µs default, then ns with an offset, then 2^-10 s.
    ng.shb(false)
        .idb(1, 0, &[])
        .idb(1, 0, &[(9, vec![9]), (14, 100i64.to_le_bytes().to_vec())])
        .idb(1, 0, &[(9, vec![0x80 | 10])])
        .epb(0, 1_500_000, &a, 60)
        .block(0x0000_0bad, &[1, 2, 3]) // unknown: skipped
        .block(5, &[0; 12]) // interface statistics: skipped
        .epb(1, 7, &b, 61)
        .spb(&c, 62)
        .epb(2, 1024 * 3 + 512, &d, 1000)
        .pb(0, 2_000_000, &e);
    // Section 2, big-endian: interfaces start over.
    ng.shb(true).idb(1, 0, &[(9, vec![3])]).epb(0, 42, &a, 60);
    let (f, s) = read_bytes("m.pcapng", ng.bytes()).expect("read");
    let ts: Vec<u64> = f.iter().map(|f| f.ts_ns).collect();
    assert_eq!(
        ts,
        vec![
            1_500_000_000,
            100_000_000_007,
            100_000_000_007, // SPB: previous record's timestamp
            3_500_000_000,
            2_000_000_000,
            42_000_000,
        ]
    );
    assert_eq!(f[0].data, a);
    assert_eq!(f[1].data, b);
    assert_eq!(f[2].data, c);
    assert_eq!(f[3].data, d);
    assert_eq!(f[4].data, e);
    assert_eq!(f[5].data, a);
    assert_eq!(s.records, 6);
    assert_eq!(s.sections, 2);
    assert_eq!(s.interfaces, 4);
    assert_eq!(s.simple_packet_blocks, 1);
    assert_eq!(s.truncated_records, 1);
    assert_eq!(s.bytes, 60 + 61 + 62 + 63 + 64 + 60);
}

#[test]
fn pcapng_spb_uses_snaplen_and_first_spb_gets_zero() {
    let a = pkt(80, 1);
    let mut ng = Ng::default();
    ng.shb(false).idb(1, 64, &[]).spb(&a[..64], 80);
    let (f, s) = read_bytes("s.pcapng", ng.bytes()).expect("read");
    assert_eq!(f[0], Frame::new(0, a[..64].to_vec()));
    assert_eq!((s.simple_packet_blocks, s.truncated_records), (1, 1));
}

#[test]
fn pcapng_fcs_len_stripped() {
    let a = pkt(64, 1);
    let mut ng = Ng::default();
    ng.shb(false).idb(1, 0, &[(13, vec![4])]).epb(0, 1, &a, 64);
    let (f, _) = read_bytes("f.pcapng", ng.bytes()).expect("read");
    assert_eq!(f[0].data, a[..60]);
}

#[test]
fn pcapng_gzip() {
    let a = pkt(60, 1);
    let mut ng = Ng::default();
    ng.shb(true).idb(1, 0, &[(9, vec![9])]).epb(0, 123, &a, 60);
    let mut r =
        CaptureReader::from_reader("x.pcapng.gz", Cursor::new(gzip(&ng.bytes()))).expect("open");
    assert!(r.compressed());
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(r.next().expect("one").expect("ok"), Frame::new(123, a));
    assert!(r.next().is_none());
}

#[test]
fn ts_conversion_exact() {
    assert_eq!(ts_to_ns(1, 6, 0), Some(1000));
    assert_eq!(ts_to_ns(1, 9, 0), Some(1));
    assert_eq!(ts_to_ns(12_345, 12, 0), Some(12));
    assert_eq!(ts_to_ns(5, 0, 0), Some(5_000_000_000));
    assert_eq!(ts_to_ns(u64::MAX, 0, 0), None);
    assert_eq!(ts_to_ns(u64::MAX, 127, 0), Some(0));
    assert_eq!(ts_to_ns(1 << 30, 0x80 | 30, 0), Some(1_000_000_000));
    assert_eq!(ts_to_ns(1, 0x80 | 1, 0), Some(500_000_000));
    assert_eq!(ts_to_ns(3, 0x80 | 2, 0), Some(750_000_000));
    assert_eq!(ts_to_ns(u64::MAX, 0x80 | 127, 0), Some(0));
    assert_eq!(ts_to_ns(0, 9, -1), None);
    assert_eq!(ts_to_ns(2_000_000_000, 9, -1), Some(1_000_000_000));
    // The largest exact µs value: u64::MAX / 1000 µs.
    assert_eq!(
        ts_to_ns(u64::MAX / 1000, 6, 0),
        Some(u64::MAX / 1000 * 1000)
    );
}

#[test]
fn pcapng_errors() {
    let a = pkt(60, 1);
    let mut ng = Ng::default();
    ng.shb(false).idb(1, 0, &[]);
    let head = ng.bytes(); // 28 + 20 = 48 bytes
    assert_eq!(head.len(), 48);

    // Block length not a multiple of 4.
    let mut v = head.clone();
    v.extend_from_slice(&6u32.to_le_bytes());
    v.extend_from_slice(&10u32.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    assert_eq!(
        read_err("capture.pcapng", v),
        "capture.pcapng: block at offset 48: block length 10 is not a multiple of 4"
    );

    // Zero-length block.
    let mut v = head.clone();
    v.extend_from_slice(&6u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        read_err("z.pcapng", v),
        "z.pcapng: block at offset 48: block length 0 is less than 12"
    );

    // Truncated block (the file ends inside the EPB).
    let mut full = ng.clone_with(|n| {
        n.epb(0, 1, &a, 60);
    });
    full.truncate(full.len() - 6);
    let e = read_err("t.pcapng", full);
    assert!(
        e.starts_with("t.pcapng: enhanced packet block at offset 48: truncated"),
        "{e}"
    );

    // Truncated block header.
    let mut v = head.clone();
    v.extend_from_slice(&[6, 0, 0]);
    assert_eq!(
        read_err("h.pcapng", v),
        "h.pcapng: block at offset 48: truncated block header (3 of 8 bytes)"
    );

    // Trailer mismatch.
    let mut v = ng.clone_with(|n| {
        n.epb(0, 1, &a, 60);
    });
    let l = v.len();
    v[l - 4] ^= 0x40;
    let e = read_err("tr.pcapng", v);
    assert!(e.contains("does not match the leading 92"), "{e}");

    // Captured length past the block.
    let mut v = ng.clone_with(|n| {
        n.epb(0, 1, &a, 60);
    });
    v[48 + 8 + 12..48 + 8 + 16].copy_from_slice(&100u32.to_le_bytes());
    let e = read_err("c.pcapng", v);
    assert_eq!(
        e,
        "c.pcapng: enhanced packet block at offset 48: captured length 100 runs past the block (body of 80 bytes)"
    );

    // Unknown interface.
    let v = ng.clone_with(|n| {
        n.epb(3, 1, &a, 60);
    });
    let e = read_err("i.pcapng", v);
    assert!(
        e.contains("packet on interface 3, but the section describes 1 interface(s)"),
        "{e}"
    );

    // Unsupported link type, named with its interface.
    let mut bad = Ng::default();
    bad.shb(false)
        .idb(1, 0, &[])
        .idb(101, 0, &[])
        .epb(0, 1, &a, 60)
        .epb(1, 2, &a, 60);
    let mut r = CaptureReader::from_reader("lt.pcapng", Cursor::new(bad.bytes())).expect("open");
    assert!(matches!(r.next(), Some(Ok(_))));
    let e = r.next().expect("some").expect_err("err").to_string();
    assert_eq!(
        e,
        "lt.pcapng: at offset 160: interface 1: link type 101 is not supported (only 1, Ethernet)"
    );

    // Bad byte-order magic.
    let mut v = head.clone();
    v[8] = 0;
    let e = read_err("b.pcapng", v);
    assert_eq!(
        e,
        "b.pcapng: section header block at offset 0: bad byte-order magic 00 3c 2b 1a"
    );

    // Truncated section header.
    let e = read_err("s.pcapng", head[..10].to_vec());
    assert!(
        e.starts_with("s.pcapng: section header block at offset 0: truncated"),
        "{e}"
    );

    // Absurd block length for a packet block.
    let mut v = head.clone();
    v.extend_from_slice(&6u32.to_le_bytes());
    v.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    let e = read_err("a.pcapng", v);
    assert!(e.contains("exceeds the 1048576-byte limit"), "{e}");

    // Absurd length for an unknown block: skipped until the file ends.
    let mut v = head.clone();
    v.extend_from_slice(&0x99u32.to_le_bytes());
    v.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    v.extend_from_slice(&[0; 100]);
    let e = read_err("u.pcapng", v);
    assert!(
        e.starts_with("u.pcapng: block at offset 48: truncated"),
        "{e}"
    );

    // Packet before any interface.
    let mut v = Ng::default();
    v.shb(false).epb(0, 1, &a, 60);
    let e = read_err("n.pcapng", v.bytes());
    assert!(
        e.contains("but the section describes 0 interface(s)"),
        "{e}"
    );
}

impl Ng {
    fn clone_with(&self, f: impl FnOnce(&mut Ng)) -> Vec<u8> {
        let mut n = Ng {
            be: self.be,
            out: self.out.clone(),
        };
        f(&mut n);
        n.out
    }
}

// ---- merge ----

fn frames_iter(v: Vec<Frame>) -> std::vec::IntoIter<Result<Frame, CaptureError>> {
    v.into_iter().map(Ok).collect::<Vec<_>>().into_iter()
}

#[test]
fn merge_is_stable_and_keeps_file_order() {
    let f = |ts: u64, tag: u8| Frame::new(ts, vec![tag]);
    // Source 0 is itself out of order (30 before 10): its order must be kept.
    let s0 = vec![f(5, 0), f(30, 1), f(10, 2), f(40, 3)];
    let s1 = vec![f(5, 10), f(10, 11), f(30, 12)];
    let s2 = vec![f(1, 20), f(5, 21), f(50, 22)];
    let mut m = MergedCaptures::new(vec![frames_iter(s0), frames_iter(s1), frames_iter(s2)]);
    let mut got = Vec::new();
    while let Some(r) = m.next_with_source() {
        let (src, fr) = r.expect("ok");
        got.push((src, fr.ts_ns, fr.data[0]));
    }
    assert_eq!(
        got,
        vec![
            (2, 1, 20),
            (0, 5, 0),
            (1, 5, 10),
            (2, 5, 21),
            (1, 10, 11),
            // Tie at 30: source 0 first; its next record (10) then beats source 1's 30.
            (0, 30, 1),
            (0, 10, 2),
            (1, 30, 12),
            (0, 40, 3),
            (2, 50, 22),
        ]
    );
}

#[test]
fn merge_error_comes_in_order_and_ends() {
    let err = || CaptureError::Corrupt {
        file: "x".into(),
        what: "record",
        offset: 0,
        reason: "boom".into(),
    };
    let s0: Vec<Result<Frame, CaptureError>> = vec![
        Ok(Frame::new(1, vec![])),
        Ok(Frame::new(9, vec![])),
        Err(err()),
    ];
    let s1: Vec<Result<Frame, CaptureError>> =
        vec![Ok(Frame::new(2, vec![])), Ok(Frame::new(3, vec![]))];
    let m = MergedCaptures::new(vec![s0.into_iter(), s1.into_iter()]);
    let got: Vec<Result<u64, String>> = m
        .map(|r| r.map(|f| f.ts_ns).map_err(|e| e.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            Ok(1),
            Ok(2),
            Ok(3),
            Ok(9),
            Err("x: record at offset 0: boom".into())
        ]
    );
}

#[test]
fn merge_of_nothing() {
    let mut m = MergedCaptures::<std::vec::IntoIter<Result<Frame, CaptureError>>>::new(vec![]);
    assert!(m.next().is_none());
}

#[test]
fn merge_real_files_keeps_all_frames() {
    let (Some(a), Some(b), Some(c)) = (
        shared("coinbase-derivatives/OrderPutMessage.pcap"),
        shared("deribit/sample_capture_v1_6.pcapng"),
        shared("coinbase-derivatives/OrderDeleteMessage.pcap"),
    ) else {
        return;
    };
    let paths = [a, b, c];
    let mut m = open_merged(&paths).expect("open");
    let frames = m.by_ref().collect::<Result<Vec<_>, _>>().expect("merge");
    assert_eq!(frames.len(), 5068);
    // Coinbase 2021 sorts before Deribit 2023.
    assert!(frames[0].ts_ns < frames[2].ts_ns);
    assert_eq!(m.sources()[1].stats().records, 5066);
}

// ---- writer ----

#[test]
fn writer_layout_and_round_trip() {
    let frames = vec![
        Frame::new(1_723_161_254_087_891_268, pkt(60, 1)),
        Frame::new(1_723_161_254_087_891_268, pkt(100, 2)),
        Frame::new(5, pkt(1514, 3)),
    ];
    let mut w = PcapWriter::new(Vec::new()).expect("header");
    for f in &frames {
        w.write_frame(f).expect("write");
    }
    assert_eq!(w.records(), 3);
    let bytes = w.finish().expect("finish");
    assert_eq!(
        &bytes[..24],
        &[0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
    );
    // First record header: seconds, nanoseconds, caplen, origlen.
    assert_eq!(&bytes[24..28], &1_723_161_254u32.to_le_bytes());
    assert_eq!(&bytes[28..32], &87_891_268u32.to_le_bytes());
    assert_eq!(&bytes[32..36], &60u32.to_le_bytes());
    assert_eq!(&bytes[36..40], &60u32.to_le_bytes());
    let (back, stats) = read_bytes("w.pcap", bytes).expect("read back");
    assert_eq!(back, frames);
    assert_eq!(stats.truncated_records, 0);
}

#[test]
fn writer_refuses_what_it_cannot_represent() {
    let mut w = PcapWriter::new(Vec::new()).expect("header");
    assert!(w
        .write_packet(0, &vec![0; WRITER_SNAPLEN as usize + 1])
        .is_err());
    assert!(w
        .write_packet(
            u64::from(u32::MAX) * 1_000_000_000 + 1_000_000_000,
            &[0; 60]
        )
        .is_err());
    assert!(w
        .write_packet(u64::from(u32::MAX) * 1_000_000_000 + 999_999_999, &[0; 60])
        .is_ok());
}

#[test]
fn writer_to_file() {
    let dir = std::env::temp_dir().join(format!("tickcross-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("w.pcap");
    let mut w = PcapWriter::create(&path).expect("create");
    w.write_packet(42, &pkt(60, 9)).expect("write");
    w.finish().expect("finish");
    let (frames, _) = read_capture(&path).expect("read");
    assert_eq!(frames, vec![Frame::new(42, pkt(60, 9))]);
    std::fs::remove_dir_all(&dir).ok();
}

// ---- robustness ----

/// Reads every frame or error; bounded so a non-terminating reader fails the test.
fn drain(bytes: Vec<u8>) {
    let limit = bytes.len() + 2;
    if let Ok(r) = CaptureReader::from_reader("fuzz", Cursor::new(bytes)) {
        let mut n = 0;
        for item in r {
            n += 1;
            assert!(n <= limit, "reader did not terminate");
            if item.is_err() {
                break;
            }
        }
    }
}

fn sample_pcapng() -> Vec<u8> {
    let mut ng = Ng::default();
    ng.shb(false)
        .idb(1, 0, &[(9, vec![9]), (14, 5i64.to_le_bytes().to_vec())])
        .epb(0, 1, &pkt(60, 1), 60)
        .spb(&pkt(61, 2), 61)
        .block(0x77, &[1, 2, 3, 4])
        .pb(0, 9, &pkt(42, 3));
    ng.shb(true)
        .idb(1, 100, &[(9, vec![0x85])])
        .epb(0, 77, &pkt(64, 4), 64);
    ng.bytes()
}

fn sample_pcap() -> Vec<u8> {
    pcap_file(
        true,
        true,
        1,
        &[(1, 2, &pkt(60, 1), 60), (3, 4, &pkt(70, 2), 80)],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        drain(bytes);
    }

    #[test]
    fn random_bytes_after_a_magic_never_panic(
        which in 0usize..6,
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let magics: [&[u8]; 6] = [
            &[0x0a, 0x0d, 0x0d, 0x0a],
            &[0xd4, 0xc3, 0xb2, 0xa1],
            &[0xa1, 0xb2, 0xc3, 0xd4],
            &[0x4d, 0x3c, 0xb2, 0xa1],
            &[0xa1, 0xb2, 0x3c, 0x4d],
            &[0x1f, 0x8b],
        ];
        let mut v = magics[which].to_vec();
        v.extend_from_slice(&bytes);
        drain(v);
    }

    #[test]
    fn mutated_captures_never_panic(
        ng in any::<bool>(),
        gz in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut v = if ng { sample_pcapng() } else { sample_pcap() };
        for (at, byte) in edits {
            let i = at % v.len();
            v[i] = byte;
        }
        v.truncate(cut % (v.len() + 1));
        drain(if gz { gzip(&v) } else { v });
    }
}
