//! Feed integrity on the real Deribit capture (../shared/data; each test is skipped with a message
//! when it is absent), in both paths (docs/PIPELINE.md section 4a): the capture with every 7th
//! packet delivered twice, and the capture split into an A and a B feed with different packets
//! lost from each, give the quotes and events of the whole capture; the capture with every 11th
//! packet lost gives stale quotes (section 6), the same in both paths at every gap checked.
//!
//! Stale quotes on generated Deribit traffic (no capture needed): several channels and
//! instruments per channel, tickers that cross a Binance venue and each other, sequences with
//! gaps; both paths' events, feed keys included, must equal those of a model written here from
//! PIPELINE.md alone.
//!
//! A Binance venue quoting BTC-PERPETUAL (a quote after every 250th packet, in every stream) and a
//! very negative edge make every BTC-PERPETUAL update cross: events flow. Feed B is every packet
//! sent to the same groups on ports 6200 and 6201 instead of 6100 and 6101.

use tickcross::config::Config;
use tickcross_bindings::{counter, COUNTER_NAMES};
use tickcross_capture::read_capture;
use tickcross_core::detect::Detector;
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_core::program::{Filter, Program, Protocol};
use tickcross_core::quotes::QuoteTable;
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_swpath::SwDetector;
use tickcross_tests::gen::Rng;
use tickcross_tests::{
    binance_bbo, binance_bbo_id, difference, run_both, shared_data, udp_frame, Outcome,
};

const FEED_B_PORT_OFFSET: u16 = 100;
const BINANCE_DST: [u8; 4] = [239, 1, 1, 1];
const BINANCE_PORT: u16 = 5000;
/// A Binance quote follows every PERIOD-th packet.
const PERIOD: usize = 250;

fn capture() -> Option<Vec<Frame>> {
    let path = shared_data("deribit/sample_capture_v1_6.pcapng")?;
    let (frames, _) = read_capture(path).unwrap();
    assert_eq!(frames.len(), 5066);
    Some(frames)
}

/// examples/deribit.toml (venue 0) with feed B's destinations added, a Binance venue 1 quoting
/// BTC-PERPETUAL as BTCUSDT, and edges of -10^6 (every quote crosses the other venue's).
fn program() -> Program {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cfg = Config::load(repo.join("examples/deribit.toml")).unwrap();
    let mut p = cfg.program();
    assert_eq!(p.venues.len(), 1);
    for f in p.filters.clone() {
        p.filters.push(Filter {
            port: f.port + FEED_B_PORT_OFFSET,
            ..f
        });
    }
    p.venues.push(Some(Protocol::BinanceSbe));
    p.filters.push(Filter {
        ip: BINANCE_DST,
        prefix: 32,
        port: BINANCE_PORT,
        venue: 1,
    });
    let btc = cfg.instrument_index("BTC-PERPETUAL").unwrap() as u16;
    p.symbols.push((1, b"BTCUSDT".to_vec(), btc));
    p.edges = vec![-1_000_000_000_000_000; p.edges.len()];
    p
}

/// The streams' common Binance quotes, built once (each takes the next bookUpdateId): quote j
/// follows packet j * PERIOD.
struct Quotes(Vec<Frame>);

impl Quotes {
    fn new(frames: &[Frame]) -> Quotes {
        Quotes(
            (0..frames.len().div_ceil(PERIOD))
                .map(|j| {
                    let px = 26_000 + (j % 7) as i64;
                    let msg = binance_bbo("BTCUSDT", 0, 0, px, 1, px + 2, 1);
                    Frame::new(
                        frames[j * PERIOD].ts_ns,
                        udp_frame(BINANCE_DST, BINANCE_PORT, &msg),
                    )
                })
                .collect(),
        )
    }

    /// Appends the quote that follows packet k, if one does.
    fn after(&self, k: usize, out: &mut Vec<Frame>) {
        if k.is_multiple_of(PERIOD) {
            out.push(self.0[k / PERIOD].clone());
        }
    }

    /// The whole capture with the quotes.
    fn whole(&self, frames: &[Frame]) -> Vec<Frame> {
        let mut out = Vec::new();
        for (k, f) in frames.iter().enumerate() {
            out.push(f.clone());
            self.after(k, &mut out);
        }
        out
    }
}

/// Offset of the UDP destination port in an Ethernet/IPv4/UDP frame (optionally one VLAN tag).
fn udp_dport_at(f: &[u8]) -> usize {
    let l2 = if f[12..14] == [0x81, 0x00] { 18 } else { 14 };
    l2 + 4 * usize::from(f[l2] & 0x0f) + 2
}

/// The same packet as feed B sends it (the UDP checksum is not checked; the IPv4 header is
/// unchanged).
fn feed_b(f: &Frame) -> Frame {
    let mut g = f.clone();
    let at = udp_dport_at(&g.data);
    let port = u16::from_be_bytes([g.data[at], g.data[at + 1]]) + FEED_B_PORT_OFFSET;
    g.data[at..at + 2].copy_from_slice(&port.to_be_bytes());
    g
}

fn both(program: &Program, frames: &[Frame]) -> Outcome {
    let (hw, sw) = run_both(program, frames).unwrap();
    if let Some(d) = difference(&hw, &sw) {
        panic!("hw and sw differ: {d}");
    }
    hw
}

/// The outcome on a delivered stream equals the whole capture's: the quote table, the events
/// (the ingress timestamps are the original packets', whichever copy came first) and every
/// counter except those that count what was delivered.
fn assert_same(got: &Outcome, want: &Outcome, what: &str) {
    assert_eq!(
        got.quotes.first_difference(&want.quotes),
        None,
        "{what}: quotes"
    );
    assert_eq!(got.events.len(), want.events.len(), "{what}: events");
    for (k, (a, b)) in got.events.iter().zip(&want.events).enumerate() {
        assert!(a.contract_eq(b), "{what}: event {k}:\n  {a:?}\n  {b:?}");
    }
    let delivered = [
        counter::RX_FRAMES,
        counter::RX_BYTES,
        counter::FRAMES_ACCEPTED,
        counter::FRAME_DUPLICATES,
        counter::INPUT_STALL_CYCLES,
    ];
    for k in (0..counter::N).filter(|k| !delivered.contains(k)) {
        assert_eq!(
            got.counters.get(k),
            want.counters.get(k),
            "{what}: counter {}",
            COUNTER_NAMES[k]
        );
    }
}

/// The whole capture's outcome, checked to be clean and busy.
fn whole(program: &Program, quotes: &Quotes, frames: &[Frame]) -> Outcome {
    let whole = both(program, &quotes.whole(frames));
    assert!(whole.events.len() > 100, "{} events", whole.events.len());
    assert_eq!(whole.counters.get(counter::FRAME_DUPLICATES), 0);
    assert_eq!(whole.counters.get(counter::SEQ_UNTRACKED), 0);
    assert_eq!(
        whole.counters.get(counter::SEQ_GAPS),
        0,
        "gaps in the capture"
    );
    whole
}

#[test]
fn every_7th_packet_twice_gives_the_whole_capture() {
    let Some(frames) = capture() else { return };
    let program = program();
    let quotes = Quotes::new(&frames);
    let whole = whole(&program, &quotes, &frames);
    // every 7th packet again, right after it or two packets later
    let mut twice = Vec::new();
    let mut late: Vec<(usize, Frame)> = Vec::new();
    let mut copies = 0u64;
    for (k, f) in frames.iter().enumerate() {
        twice.push(f.clone());
        if k % 7 == 6 {
            copies += 1;
            if k % 2 == 0 {
                twice.push(f.clone());
            } else {
                late.push((k + 2, f.clone()));
            }
        }
        while late.first().is_some_and(|(at, _)| *at == k) {
            twice.push(late.remove(0).1);
        }
        quotes.after(k, &mut twice);
    }
    twice.extend(late.into_iter().map(|(_, f)| f));
    let got = both(&program, &twice);
    eprintln!(
        "every 7th packet twice: {} frames ({copies} copies), frame_duplicates {}, seq_gaps {}, quote updates {} (whole capture {}), events {} (whole {})",
        twice.len(),
        got.counters.get(counter::FRAME_DUPLICATES),
        got.counters.get(counter::SEQ_GAPS),
        got.counters.get(counter::QUOTE_UPDATES),
        whole.counters.get(counter::QUOTE_UPDATES),
        got.events.len(),
        whole.events.len()
    );
    assert_eq!(got.counters.get(counter::FRAME_DUPLICATES), copies);
    assert_eq!(
        got.counters.get(counter::FRAMES_ACCEPTED),
        whole.counters.get(counter::FRAMES_ACCEPTED) + copies
    );
    assert_same(&got, &whole, "every 7th packet twice");
}

#[test]
fn a_and_b_feeds_with_different_losses_give_the_whole_capture() {
    let Some(frames) = capture() else { return };
    let program = program();
    let quotes = Quotes::new(&frames);
    let whole = whole(&program, &quotes, &frames);
    // A loses every packet k with k % 5 == 1, B those with k % 5 == 3 and (of those A carries)
    // k % 11 == 0; a packet both carry comes on A first, except every 4th, which B brings first
    let mut ab = Vec::new();
    let mut a_only = Vec::new();
    let mut both_copies = 0u64;
    for (k, f) in frames.iter().enumerate() {
        let on_a = k % 5 != 1;
        let on_b = k % 5 != 3 && (k % 11 != 0 || !on_a);
        let b = feed_b(f);
        let pair: Vec<&Frame> = match (on_a, on_b, k % 4 == 0) {
            (true, true, false) => vec![f, &b],
            (true, true, true) => vec![&b, f],
            (true, false, _) => vec![f],
            (false, true, _) => vec![&b],
            (false, false, _) => unreachable!("no packet is lost on both feeds"),
        };
        both_copies += u64::from(on_a && on_b);
        ab.extend(pair.into_iter().cloned());
        quotes.after(k, &mut ab);
        if on_a {
            a_only.push(f.clone());
        }
        quotes.after(k, &mut a_only);
    }
    let got = both(&program, &ab);
    assert_eq!(got.counters.get(counter::FRAME_DUPLICATES), both_copies);
    assert_same(&got, &whole, "A and B");
    // feed A alone has gaps and misses quotes (the test is not vacuous)
    let a = both(&program, &a_only);
    eprintln!(
        "A and B: {} frames ({both_copies} on both feeds), frame_duplicates {}, seq_gaps {}, quote updates {} (whole {}); feed A alone: {} frames, seq_gaps {}, quote updates {}",
        ab.len(),
        got.counters.get(counter::FRAME_DUPLICATES),
        got.counters.get(counter::SEQ_GAPS),
        got.counters.get(counter::QUOTE_UPDATES),
        whole.counters.get(counter::QUOTE_UPDATES),
        a_only.len(),
        a.counters.get(counter::SEQ_GAPS),
        a.counters.get(counter::QUOTE_UPDATES)
    );
    assert!(
        a.counters.get(counter::SEQ_GAPS) > 100,
        "{} gaps on feed A alone",
        a.counters.get(counter::SEQ_GAPS)
    );
    assert!(a.counters.get(counter::QUOTE_UPDATES) < whole.counters.get(counter::QUOTE_UPDATES));
}

/// The UDP payload of an Ethernet/IPv4/UDP frame (optionally one VLAN tag).
fn udp_payload(f: &[u8]) -> &[u8] {
    let at = udp_dport_at(f) + 6;
    &f[at..]
}

/// Compares the two detectors' quote tables (stale flags included) and events so far.
fn check_now(hw: &mut HwDetector, sw: &mut SwDetector, what: &str) -> QuoteTable {
    hw.flush().unwrap();
    let (hq, sq) = (hw.quotes().unwrap(), sw.quotes().unwrap());
    if let Some((v, i)) = hq.first_difference(&sq) {
        panic!(
            "{what}: quote ({v}, {i}): hw {:?} stale {}, sw {:?} stale {}",
            hq.get(v, i),
            hq.stale(v, i),
            sq.get(v, i),
            sq.stale(v, i)
        );
    }
    sq
}

#[test]
fn every_11th_packet_lost_leaves_stale_quotes_alike() {
    let Some(frames) = capture() else { return };
    let program = program();
    let quotes = Quotes::new(&frames);
    // every 11th packet lost; the Binance quotes still come
    let mut lossy = Vec::new();
    for (k, f) in frames.iter().enumerate() {
        if k % 11 != 10 {
            lossy.push(f.clone());
        }
        quotes.after(k, &mut lossy);
    }
    // the quote tables of both paths right after the first gap frames of each channel (found
    // here from the frames' own channel and sequence fields) and at the end; channels 3 and 10
    // carry Tickers of two programmed instruments each, so a gap there can leave one stale
    let mut sw = SwDetector::new(&program).unwrap();
    let mut hw = HwDetector::simulated(&program, &SimOptions::default()).unwrap();
    let mut last: std::collections::HashMap<u16, u32> = Default::default();
    let mut checked: std::collections::HashMap<u16, u32> = Default::default();
    let (mut gaps_checked, mut stale_seen) = (0, 0u64);
    let (mut hw_events, mut sw_events) = (Vec::new(), Vec::new());
    for (k, f) in lossy.iter().enumerate() {
        hw.push_frame(f).unwrap();
        sw.push_frame(f).unwrap();
        if k % 64 == 63 {
            hw.drain_events(&mut hw_events).unwrap();
            sw.drain_events(&mut sw_events).unwrap();
        }
        let at = udp_dport_at(&f.data);
        let p = udp_payload(&f.data);
        if u16::from_be_bytes([f.data[at], f.data[at + 1]]) == BINANCE_PORT || p.len() < 8 {
            continue;
        }
        let ch = u16::from_le_bytes([p[2], p[3]]);
        let seq = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
        let gap = last.get(&ch).is_some_and(|&l| seq > l + 1);
        last.insert(ch, seq);
        let n = checked.entry(ch).or_insert(0);
        if gap && *n < 4 {
            *n += 1;
            gaps_checked += 1;
            let t = check_now(&mut hw, &mut sw, &format!("after gap frame {k}"));
            stale_seen = stale_seen.max(t.stale_count());
        }
    }
    let t = check_now(&mut hw, &mut sw, "at the end");
    hw.drain_events(&mut hw_events).unwrap();
    sw.drain_events(&mut sw_events).unwrap();
    assert_eq!(hw_events.len(), sw_events.len(), "events");
    for (k, (a, b)) in hw_events.iter().zip(&sw_events).enumerate() {
        assert!(a.contract_eq(b), "event {k}:\n  hw {a:?}\n  sw {b:?}");
    }
    let (hc, sc) = (hw.counters().unwrap(), sw.counters().unwrap());
    assert_eq!(hc.first_difference(&sc), None, "counters");
    eprintln!(
        "every 11th packet lost: {} frames, seq_gaps {}, events {}, stale entries at the end {} (hw {}), the most right after one of the {gaps_checked} gaps checked {stale_seen}",
        lossy.len(),
        sc.get(counter::SEQ_GAPS),
        sw_events.len(),
        t.stale_count(),
        hw.quotes().unwrap().stale_count(),
    );
    assert!(gaps_checked > 0 && sc.get(counter::SEQ_GAPS) > 100);
    assert!(stale_seen > 0, "no gap left a stale quote");
}

// ---------------------------------------------------------------- generated stale quotes

/// Venues of the generated world: 0 and 2 Deribit, 1 Binance.
const GEN_DERIBIT: [(usize, [u8; 4], u16); 2] =
    [(0, [239, 111, 111, 3], 6100), (2, [239, 111, 111, 9], 6101)];
const GEN_BINANCE: ([u8; 4], u16) = ([239, 1, 1, 1], 5000);
const GEN_INSTRUMENTS: usize = 6;
/// Channels of each Deribit venue and the instruments whose tickers each carries: 3 and 5 own
/// their slots; 67 (slot 3, after channel 3 took it) is untracked.
const GEN_CHANNELS: [(u16, [usize; 3]); 3] = [(3, [0, 1, 2]), (5, [3, 4, 5]), (67, [0, 3, 5])];

fn gen_name(i: usize) -> String {
    format!("GEN-{i}")
}

fn gen_program() -> Program {
    let mut p = Program {
        venues: vec![
            Some(Protocol::DeribitMcast),
            Some(Protocol::BinanceSbe),
            Some(Protocol::DeribitMcast),
        ],
        ..Program::default()
    };
    for (v, ip, port) in GEN_DERIBIT {
        p.filters.push(Filter {
            ip,
            prefix: 32,
            port,
            venue: v as u8,
        });
    }
    p.filters.push(Filter {
        ip: GEN_BINANCE.0,
        prefix: 32,
        port: GEN_BINANCE.1,
        venue: 1,
    });
    for i in 0..GEN_INSTRUMENTS {
        for v in 0..3u8 {
            p.symbols.push((v, gen_name(i).into_bytes(), i as u16));
        }
    }
    p.edges = vec![0; GEN_INSTRUMENTS];
    p
}

/// An SBE message header (schema 1) and its body and var-data fields.
fn sbe(template: u16, body: &[u8], vars: &[&[u8]]) -> Vec<u8> {
    let mut m = Vec::new();
    for x in [body.len() as u16, template, 1, 1, 0, vars.len() as u16] {
        m.extend_from_slice(&x.to_le_bytes());
    }
    m.extend_from_slice(body);
    for v in vars {
        m.push(v.len() as u8);
        m.extend_from_slice(v);
    }
    m
}

/// Deribit instrumentId of instrument i on venue v.
fn gen_id(v: usize, i: usize) -> u32 {
    1000 + 100 * v as u32 + i as u32
}

fn ticker(id: u32, bid: f64, bid_qty: f64, ask: f64, ask_qty: f64) -> Vec<u8> {
    let mut body = vec![0u8; 133];
    body[..4].copy_from_slice(&id.to_le_bytes());
    for (k, x) in [bid, bid_qty, ask, ask_qty].into_iter().enumerate() {
        body[61 + 8 * k..69 + 8 * k].copy_from_slice(&x.to_le_bytes());
    }
    sbe(1003, &body, &[])
}

fn datagram(channel: u16, seq: u32, msgs: &[Vec<u8>]) -> Vec<u8> {
    let n: usize = msgs.iter().map(Vec::len).sum();
    let mut d = Vec::new();
    d.extend_from_slice(&((8 + n) as u16).to_le_bytes());
    d.extend_from_slice(&channel.to_le_bytes());
    d.extend_from_slice(&seq.to_le_bytes());
    for m in msgs {
        d.extend_from_slice(m);
    }
    d
}

/// One quote-table entry of the model: prices and quantities in units of 10^-9, the frame's
/// timestamp, and where it came from (channel, sequence) when its channel owns its slot.
#[derive(Clone, Copy, Default)]
struct MEntry {
    q: [i64; 4],
    ts: u64,
    src: Option<(u16, u32)>,
}

/// The model: PIPELINE.md sections 4a and 6 for this world, written without the software path.
#[derive(Default)]
struct Model {
    book: std::collections::HashMap<(usize, usize), MEntry>,
    /// (venue, channel) -> (last sequence, last gap frame's sequence)
    chan: std::collections::HashMap<(usize, u16), (u32, u32)>,
    events: Vec<Event>,
    /// Updates whose events would differ were stale quotes taken as fresh.
    stale_mattered: u64,
}

impl Model {
    fn stale(&self, v: usize, e: &MEntry) -> bool {
        e.src
            .is_some_and(|(ch, seq)| seq < self.chan.get(&(v, ch)).map_or(0, |c| c.1))
    }

    /// A Deribit frame of `channel` with `seq` (its tickers already known): true if applied.
    fn frame(&mut self, v: usize, channel: u16, seq: u32) -> Option<Option<(u16, u32)>> {
        if channel == 67 {
            return Some(None); // untracked: slot 3 is channel 3's
        }
        let c = self.chan.entry((v, channel)).or_insert((seq, 0));
        if seq < c.0 {
            return None;
        }
        if seq > c.0 + 1 {
            c.1 = seq;
        }
        c.0 = seq;
        Some(Some((channel, seq)))
    }

    fn events_of(&self, v: usize, i: usize, ts: u64, key: u64, fresh_only: bool) -> Vec<Event> {
        let me = self.book[&(v, i)];
        let [bid, bid_q, ask, ask_q] = me.q;
        let mut best_bid: Option<(usize, MEntry)> = None;
        let mut best_ask: Option<(usize, MEntry)> = None;
        for w in 0..3 {
            let Some(o) = self.book.get(&(w, i)) else {
                continue;
            };
            if w == v || (fresh_only && self.stale(w, o)) {
                continue;
            }
            if o.q[0] != 0 && o.q[1] != 0 && best_bid.is_none_or(|(_, b)| o.q[0] > b.q[0]) {
                best_bid = Some((w, *o));
            }
            if o.q[2] != 0 && o.q[3] != 0 && best_ask.is_none_or(|(_, a)| o.q[2] < a.q[2]) {
                best_ask = Some((w, *o));
            }
        }
        let mut out = Vec::new();
        let mk = |bv: usize, b: MEntry, sv: usize, s: MEntry, sell: bool| Event {
            seq: 0,
            instrument: i as u16,
            buy_venue: bv as u8,
            sell_venue: sv as u8,
            trigger_venue: v as u8,
            trigger_sell: sell,
            buy_price: b.q[2],
            buy_qty: b.q[3],
            sell_price: s.q[0],
            sell_qty: s.q[1],
            qty: b.q[3].min(s.q[1]),
            ts_ns: ts,
            buy_ts_ns: b.ts,
            sell_ts_ns: s.ts,
            cycles: None,
            feed_key: key,
        };
        if let Some((w, b)) = best_bid {
            if ask != 0 && ask_q != 0 && b.q[0] > ask {
                out.push(mk(v, me, w, b, false));
            }
        }
        if let Some((w, a)) = best_ask {
            if bid != 0 && bid_q != 0 && bid > a.q[2] {
                out.push(mk(w, a, v, me, true));
            }
        }
        out
    }

    /// A quote of `(v, i)` with its feed key (PIPELINE section 6): a Binance quote's
    /// bookUpdateId, a Deribit Ticker's channel << 48 | sequence << 16 | message index.
    fn quote(
        &mut self,
        v: usize,
        i: usize,
        q: [i64; 4],
        ts: u64,
        src: Option<(u16, u32)>,
        key: u64,
    ) {
        self.book.insert((v, i), MEntry { q, ts, src });
        let fresh = self.events_of(v, i, ts, key, true);
        if fresh != self.events_of(v, i, ts, key, false) {
            self.stale_mattered += 1;
        }
        for mut e in fresh {
            e.seq = self.events.len() as u64;
            self.events.push(e);
        }
    }
}

/// A generated stream and the model's events: `n` frames, each a Deribit frame of 1-3 tickers
/// on a random (venue, channel) whose sequence skips ahead now and then (frames lost), or a
/// Binance quote.
fn gen_stream(seed: u64, n: usize) -> (Vec<Frame>, Model) {
    let mut rng = Rng::new(seed);
    let mut m = Model::default();
    let mut frames = Vec::new();
    let mut ts = 1_000_000u64;
    let mut next_seq: std::collections::HashMap<(usize, u16), u32> = Default::default();
    // the Instrument definitions first, on channel 3 (which thereby owns slot 3)
    for (v, ip, port) in GEN_DERIBIT {
        let defs: Vec<Vec<u8>> = (0..GEN_INSTRUMENTS)
            .map(|i| sbe(1000, &gen_id(v, i).to_le_bytes(), &[gen_name(i).as_bytes()]))
            .collect();
        frames.push(Frame::new(ts, udp_frame(ip, port, &datagram(3, 1, &defs))));
        m.frame(v, 3, 1);
        next_seq.insert((v, 3), 2);
        ts += 1000;
    }
    let px = |rng: &mut Rng| 95 + rng.below(11) as i64;
    for _ in 0..n {
        ts += 1000;
        if rng.pct(25) {
            let i = rng.below(GEN_INSTRUMENTS as u64) as usize;
            let (b, a) = (px(&mut rng), px(&mut rng));
            let q = [
                b,
                1 + rng.below(3) as i64,
                a.max(b),
                1 + rng.below(3) as i64,
            ];
            let msg = binance_bbo_id(&gen_name(i), 0, 0, q, ts as i64);
            frames.push(Frame::new(
                ts,
                udp_frame(GEN_BINANCE.0, GEN_BINANCE.1, &msg),
            ));
            m.quote(1, i, q.map(|x| x * 1_000_000_000), ts, None, ts);
            continue;
        }
        let (v, ip, port) = *rng.pick(&GEN_DERIBIT);
        let (channel, instruments) = *rng.pick(&GEN_CHANNELS);
        let s = next_seq.entry((v, channel)).or_insert(1);
        if rng.pct(15) {
            *s += 1 + rng.below(3) as u32; // frames lost on the way
        }
        let seq = *s;
        *s += 1;
        let mut msgs = Vec::new();
        let mut quotes = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let i = *rng.pick(&instruments);
            let (b, a) = (px(&mut rng), px(&mut rng));
            let q = [b, 1 + rng.below(3) as i64, a, 1 + rng.below(3) as i64];
            msgs.push(ticker(
                gen_id(v, i),
                q[0] as f64,
                q[1] as f64,
                q[2] as f64,
                q[3] as f64,
            ));
            quotes.push((i, q));
        }
        frames.push(Frame::new(
            ts,
            udp_frame(ip, port, &datagram(channel, seq, &msgs)),
        ));
        let src = m
            .frame(v, channel, seq)
            .expect("generated sequences only grow");
        let frame_key = u64::from(channel) << 48 | u64::from(seq) << 16;
        for (k, (i, q)) in quotes.into_iter().enumerate() {
            let key = frame_key | k as u64;
            m.quote(v, i, q.map(|x| x * 1_000_000_000), ts, src, key);
        }
    }
    (frames, m)
}

#[test]
fn a_stale_quote_never_appears_in_an_event() {
    let program = gen_program();
    let mut mattered = 0;
    for seed in 1..=4u64 {
        let (frames, model) = gen_stream(seed, 1500);
        let (hw, sw) = run_both(&program, &frames).unwrap();
        for (name, got) in [("hw", &hw), ("sw", &sw)] {
            assert_eq!(
                got.events.len(),
                model.events.len(),
                "seed {seed}: {name} events"
            );
            for (k, (a, b)) in got.events.iter().zip(&model.events).enumerate() {
                assert!(
                    a.contract_eq(b),
                    "seed {seed}: {name} event {k}:\n  got   {a:?}\n  model {b:?}"
                );
            }
        }
        if let Some(d) = difference(&hw, &sw) {
            panic!("seed {seed}: hw and sw differ: {d}");
        }
        // the model's stale entries are the dump's
        let stale = (0..3)
            .flat_map(|v| (0..GEN_INSTRUMENTS).map(move |i| (v, i)))
            .filter(|&(v, i)| model.book.get(&(v, i)).is_some_and(|e| model.stale(v, e)))
            .count() as u64;
        assert_eq!(sw.quotes.stale_count(), stale, "seed {seed}: stale entries");
        eprintln!(
            "seed {seed}: {} frames, {} events, seq_gaps {}, seq_untracked {}, {} updates whose events a stale quote would have changed, {stale} stale entries at the end",
            frames.len(),
            model.events.len(),
            sw.counters.get(counter::SEQ_GAPS),
            sw.counters.get(counter::SEQ_UNTRACKED),
            model.stale_mattered
        );
        mattered += model.stale_mattered;
    }
    assert!(mattered > 20, "stale quotes hardly mattered: {mattered}");
}
