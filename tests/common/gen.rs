//! Deterministic generators of venue traffic for differential tests: well-formed and malformed
//! Binance SBE and Deribit multicast frames, and mutations of them. Everything comes from a seed,
//! so a failing case is reproduced from the seed proptest prints.

use std::net::{Ipv4Addr, SocketAddrV4};
use tickcross_capture::netgen::{UdpFrameBuilder, VlanTag};
use tickcross_core::frame::Frame;
use tickcross_core::program::{Filter, Program, Protocol};

/// xorshift64*: small, fast, good enough to drive generators.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability p/100.
    pub fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Venues of the test world: 0 and 1 Binance, 2 Deribit (two destinations), 3 Binance on a
/// /24 prefix.
pub const BINANCE_A: ([u8; 4], u16) = ([239, 1, 1, 1], 5000);
pub const BINANCE_B: ([u8; 4], u16) = ([239, 1, 1, 2], 5001);
pub const DERIBIT_A: ([u8; 4], u16) = ([239, 111, 111, 3], 6100);
pub const DERIBIT_B: ([u8; 4], u16) = ([239, 111, 111, 9], 6101);
pub const BINANCE_C: ([u8; 4], u16) = ([239, 2, 3, 77], 5003);

pub const BINANCE_SYMBOLS: &[&str] = &["BTCUSDT", "ETHUSDT", "SOLUSDT"];
pub const DERIBIT_NAMES: &[&str] = &["BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-27DEC24"];

/// The program of the test world. Instruments: 0 BTC, 1 ETH, 2 SOL (Binance) / dated BTC (Deribit).
pub fn world_program(edges: [i64; 3]) -> Program {
    let mut p = Program {
        venues: vec![
            Some(Protocol::BinanceSbe),
            Some(Protocol::BinanceSbe),
            Some(Protocol::DeribitMcast),
            Some(Protocol::BinanceSbe),
        ],
        ..Program::default()
    };
    p.filters = vec![
        Filter {
            ip: BINANCE_A.0,
            prefix: 32,
            port: BINANCE_A.1,
            venue: 0,
        },
        Filter {
            ip: BINANCE_B.0,
            prefix: 32,
            port: BINANCE_B.1,
            venue: 1,
        },
        Filter {
            ip: [239, 111, 111, 0],
            prefix: 27,
            port: 6100,
            venue: 2,
        },
        Filter {
            ip: [239, 111, 111, 0],
            prefix: 27,
            port: 6101,
            venue: 2,
        },
        Filter {
            ip: [239, 2, 3, 0],
            prefix: 24,
            port: BINANCE_C.1,
            venue: 3,
        },
    ];
    for v in [0u8, 1, 3] {
        for (i, s) in BINANCE_SYMBOLS.iter().enumerate() {
            p.symbols.push((v, s.as_bytes().to_vec(), i as u16));
        }
    }
    for (i, s) in DERIBIT_NAMES.iter().enumerate() {
        p.symbols.push((2, s.as_bytes().to_vec(), i as u16));
    }
    p.edges = edges.to_vec();
    p
}

/// A price-like mantissa and exponent; mostly realistic, sometimes extreme.
fn decimal(rng: &mut Rng, base: i64) -> (i64, i8) {
    match rng.below(20) {
        0 => (rng.next_u64() as i64, (rng.below(60) as i8) - 30),
        1 => (0, rng.below(256) as u8 as i8),
        2 => (-(rng.below(1000) as i64) - 1, -2),
        _ => {
            let e = -(rng.below(10) as i8);
            let scale = 10i64.pow((-e) as u32);
            (base * scale + rng.below(scale.max(1) as u64 * 50) as i64, e)
        }
    }
}

/// A Binance SBE 10001 message with a common exponent per pair, as the bridge writes them, with
/// bookUpdateId `id`.
pub fn binance_message(rng: &mut Rng, symbol: &[u8], base: i64, id: i64) -> Vec<u8> {
    let (bid, pe) = decimal(rng, base);
    let spread = rng.below(2000) as i64 - 300;
    let ask = bid.wrapping_add(spread);
    let (bq, qe) = decimal(rng, 3);
    let (aq, _) = decimal(rng, 2);
    let bl: u16 = if rng.pct(5) {
        rng.below(60) as u16
    } else if rng.pct(5) {
        50 + rng.below(20) as u16
    } else {
        50
    };
    let tid: u16 = match rng.below(40) {
        0 => 10000,
        1 => 10003,
        2 => rng.below(65536) as u16,
        _ => 10001,
    };
    let sid: u16 = if rng.pct(3) { 2 } else { 1 };
    let mut m = Vec::new();
    for v in [bl, tid, sid, 0] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    let mut body = vec![0u8; bl as usize];
    let fields: [(usize, &[u8]); 7] = [
        (8, &id.to_le_bytes()),
        (16, &[pe as u8]),
        (17, &[qe as u8]),
        (18, &bid.to_le_bytes()),
        (26, &bq.to_le_bytes()),
        (34, &ask.to_le_bytes()),
        (42, &aq.to_le_bytes()),
    ];
    for (off, bytes) in fields {
        for (i, b) in bytes.iter().enumerate() {
            if off + i < body.len() {
                body[off + i] = *b;
            }
        }
    }
    m.extend_from_slice(&body);
    m.push(symbol.len() as u8);
    m.extend_from_slice(symbol);
    if rng.pct(5) {
        let extra = rng.below(12) as usize;
        m.extend(rng.bytes(extra));
    }
    m
}

fn f64_value(rng: &mut Rng, base: f64) -> f64 {
    match rng.below(25) {
        0 => f64::NAN,
        1 => -1.5,
        2 => 1e12,
        3 => 0.0,
        4 => f64::from_bits(rng.next_u64()),
        5 => f64::INFINITY,
        _ => {
            let cents = rng.below(100_000) as f64 / 100.0;
            base + cents
        }
    }
}

/// One Deribit message: header, body, groups and var-data fields.
fn deribit_message(
    rng: &mut Rng,
    tid: u16,
    bl: u16,
    body: &[u8],
    groups: &[(u16, u16, Vec<u8>)],
    vars: &[Vec<u8>],
) -> Vec<u8> {
    let mut m = Vec::new();
    let sid: u16 = if rng.pct(2) { 7 } else { 1 };
    for v in [bl, tid, sid, 2, groups.len() as u16, vars.len() as u16] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = body.to_vec();
    b.resize(bl as usize, 0);
    m.extend_from_slice(&b);
    for (gb, gn, data) in groups {
        for v in [*gb, *gn, 0, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        m.extend_from_slice(data);
    }
    for v in vars {
        m.push(v.len() as u8);
        m.extend_from_slice(v);
    }
    m
}

/// A Deribit datagram: frame header then several messages (instruments, tickers, others).
pub fn deribit_datagram(rng: &mut Rng, ids: &[u32]) -> Vec<u8> {
    let mut msgs = Vec::new();
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let id = *rng.pick(ids);
        match rng.below(10) {
            0..=2 => {
                // Instrument: id, name as the last var-data field
                let name: Vec<u8> = if rng.pct(80) {
                    rng.pick(DERIBIT_NAMES).as_bytes().to_vec()
                } else if rng.pct(50) {
                    b"XRP-PERPETUAL".to_vec()
                } else {
                    let l = rng.below(40) as usize;
                    rng.bytes(l)
                };
                let mut body = id.to_le_bytes().to_vec();
                body.resize(140, 0);
                let bl = if rng.pct(5) { rng.below(8) as u16 } else { 140 };
                let mut vars = Vec::new();
                if rng.pct(20) {
                    let l = rng.below(6) as usize;
                    vars.push(rng.bytes(l));
                }
                if !rng.pct(5) {
                    vars.push(name);
                }
                let groups = if rng.pct(20) {
                    vec![(4u16, 2u16, rng.bytes(8))]
                } else {
                    vec![]
                };
                msgs.push(deribit_message(rng, 1000, bl, &body, &groups, &vars));
            }
            3..=7 => {
                // Ticker
                let mut body = id.to_le_bytes().to_vec();
                body.push(1);
                body.extend_from_slice(&(rng.next_u64() >> 20).to_le_bytes());
                let base = 20000.0 + (id % 7) as f64 * 1000.0;
                let mut doubles = vec![0f64; 15];
                for d in doubles.iter_mut() {
                    *d = rng.below(1000) as f64;
                }
                doubles[6] = f64_value(rng, base);
                doubles[7] = if rng.pct(10) {
                    0.0
                } else {
                    rng.below(500) as f64
                };
                doubles[8] = f64_value(rng, base + 30.0);
                doubles[9] = if rng.pct(10) {
                    0.0
                } else {
                    rng.below(500) as f64 + 0.5
                };
                for d in doubles {
                    body.extend_from_slice(&d.to_le_bytes());
                }
                let bl = if rng.pct(5) {
                    100 + rng.below(33) as u16
                } else {
                    133
                };
                msgs.push(deribit_message(rng, 1003, bl, &body, &[], &[]));
            }
            8 => {
                // Book with a group
                let gn = rng.below(4) as u16;
                let data = rng.bytes(29 * gn as usize);
                let body = rng.bytes(22);
                msgs.push(deribit_message(
                    rng,
                    1001,
                    22,
                    &body,
                    &[(29, gn, data)],
                    &[],
                ));
            }
            _ => {
                let tid = *rng.pick(&[1008u16, 1002, 1999, 5]);
                let l = rng.below(40) as u16;
                let body = rng.bytes(l as usize);
                msgs.push(deribit_message(rng, tid, l, &body, &[], &[]));
            }
        }
    }
    let payload_len: usize = msgs.iter().map(Vec::len).sum();
    let mut d = Vec::with_capacity(8 + payload_len);
    d.extend_from_slice(&(payload_len as u16).to_le_bytes());
    d.extend_from_slice(&(rng.below(30) as u16).to_le_bytes());
    d.extend_from_slice(&(rng.next_u64() as u32).to_le_bytes());
    for m in msgs {
        d.extend_from_slice(&m);
    }
    d
}

/// A UDP frame to `dst`, sometimes VLAN-tagged or with IPv4 options.
pub fn frame_to(rng: &mut Rng, dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    let mut b = UdpFrameBuilder::new(
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000),
        SocketAddrV4::new(Ipv4Addr::from(dst.0), dst.1),
    );
    if rng.pct(15) {
        b = b.vlan(VlanTag::new(rng.below(4095) as u16 + 1));
    }
    if rng.pct(15) {
        let l = 4 * (1 + rng.below(10)) as usize;
        b = b.ip_options(vec![1u8; l]);
    }
    if rng.pct(50) {
        b = b.udp_checksum(false);
    }
    b.build(payload).unwrap_or_else(|_| vec![0u8; 60])
}

/// Damages a frame in one of the ways a wire or a capture can.
pub fn mutate(rng: &mut Rng, mut f: Vec<u8>) -> (Vec<u8>, bool) {
    let mut bad = false;
    match rng.below(9) {
        0 => {
            // flip a few bytes anywhere
            for _ in 0..1 + rng.below(4) {
                if !f.is_empty() {
                    let i = rng.below(f.len() as u64) as usize;
                    f[i] ^= 1 << rng.below(8);
                }
            }
        }
        1 => {
            let keep = rng.below(f.len() as u64 + 1) as usize;
            f.truncate(keep);
        }
        2 => bad = true,
        3 => {
            // a byte in the payload region only (keeps the headers valid)
            if f.len() > 50 {
                let i = 42 + rng.below((f.len() - 42) as u64) as usize;
                f[i] = rng.next_u64() as u8;
            }
        }
        4 => {
            // extra trailing bytes
            let n = rng.below(30) as usize;
            f.extend(rng.bytes(n));
        }
        5 => {
            // oversize
            let n = 2100 - f.len().min(2100);
            f.extend(rng.bytes(n));
        }
        6 => {
            // random garbage frame
            let n = rng.below(200) as usize;
            f = rng.bytes(n);
        }
        7 => {
            // a length field off by a little (IPv4 total length or UDP length)
            let off = if rng.pct(50) { 16 } else { 38 };
            if f.len() > off + 1 {
                f[off + 1] = f[off + 1].wrapping_add(rng.below(5) as u8 + 1);
            }
        }
        _ => {
            // checksum broken
            if f.len() > 25 {
                f[24] ^= 0x55;
            }
        }
    }
    (f, bad)
}

/// A stream of `n` frames of the test world, with `bad_pct` percent of them damaged.
pub fn world_stream(seed: u64, n: usize, bad_pct: u64) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    let ids: Vec<u32> = (0..6)
        .map(|_| 1 + rng.below(3000) as u32)
        .chain([1024 + 7, 7])
        .collect();
    let mut ts = 1_700_000_000_000_000_000u64;
    let mut out = Vec::with_capacity(n);
    let mut seqs = [0u32; 30];
    for k in 0..n {
        ts += rng.below(5000);
        // increasing bookUpdateIds, even (a test may put quotes between: odd ids), the loss,
        // duplication and reordering tests make repeats
        let id = 2 * (k as i64 + 1);
        let (dst, payload) = match rng.below(10) {
            0..=2 => {
                let sym = rng.pick(BINANCE_SYMBOLS).as_bytes();
                (BINANCE_A, binance_message(&mut rng, sym, 60000, id))
            }
            3..=4 => {
                let sym = rng.pick(BINANCE_SYMBOLS).as_bytes();
                (BINANCE_B, binance_message(&mut rng, sym, 60010, id))
            }
            5 => {
                let sym: Vec<u8> = if rng.pct(80) {
                    rng.pick(BINANCE_SYMBOLS).as_bytes().to_vec()
                } else {
                    let l = rng.below(40) as usize;
                    rng.bytes(l)
                };
                (BINANCE_C, binance_message(&mut rng, &sym, 59990, id))
            }
            _ => {
                let dst = if rng.pct(50) { DERIBIT_A } else { DERIBIT_B };
                let mut d = deribit_datagram(&mut rng, &ids);
                // each channel in sequence (both destinations are venue 2's; the loss,
                // duplication and reordering tests make gaps and duplicates)
                let ch = usize::from(u16::from_le_bytes([d[2], d[3]]));
                seqs[ch] += 1;
                d[4..8].copy_from_slice(&seqs[ch].to_le_bytes());
                (dst, d)
            }
        };
        let mut f = frame_to(&mut rng, dst, &payload);
        let mut bad = false;
        if rng.pct(bad_pct) {
            (f, bad) = mutate(&mut rng, f);
        }
        out.push(Frame {
            ts_ns: ts,
            data: f,
            bad,
        });
    }
    out
}

/// A feed as a lossy network delivers it: each frame is lost with `loss_pct` %, delivered twice
/// with `dup_pct` % (the copy 1..4 frames later), and swapped with the next with `swap_pct` %;
/// the frames are then restamped in delivery order (1 µs apart from the first's timestamp).
pub fn faulty(
    frames: &[Frame],
    seed: u64,
    loss_pct: u64,
    dup_pct: u64,
    swap_pct: u64,
) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<Frame> = Vec::with_capacity(frames.len() * 2);
    // copies waiting to be delivered: (frames still to pass before it, frame)
    let mut late: Vec<(u64, Frame)> = Vec::new();
    for f in frames {
        for (wait, _) in late.iter_mut() {
            *wait = wait.saturating_sub(1);
        }
        while let Some(k) = late.iter().position(|(w, _)| *w == 0) {
            out.push(late.remove(k).1);
        }
        if rng.pct(loss_pct) {
            continue;
        }
        if rng.pct(dup_pct) {
            late.push((1 + rng.below(4), f.clone()));
        }
        out.push(f.clone());
    }
    out.extend(late.into_iter().map(|(_, f)| f));
    let mut k = 0;
    while k + 1 < out.len() {
        if rng.pct(swap_pct) {
            out.swap(k, k + 1);
            k += 1;
        }
        k += 1;
    }
    let t0 = frames.first().map_or(0, |f| f.ts_ns);
    for (k, f) in out.iter_mut().enumerate() {
        f.ts_ns = t0 + 1000 * k as u64;
    }
    out
}
