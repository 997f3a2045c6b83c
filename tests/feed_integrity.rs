//! Feed integrity on the real Deribit capture (../shared/data; each test is skipped with a message
//! when it is absent), in both paths (docs/PIPELINE.md section 4a): the capture with every 7th
//! packet delivered twice, and the capture split into an A and a B feed with different packets
//! lost from each, give the quotes and events of the whole capture.
//!
//! A Binance venue quoting BTC-PERPETUAL (a quote after every 250th packet, in every stream) and a
//! very negative edge make every BTC-PERPETUAL update cross: events flow. Feed B is every packet
//! sent to the same groups on ports 6200 and 6201 instead of 6100 and 6101.

use tickcross::config::Config;
use tickcross_bindings::{counter, COUNTER_NAMES};
use tickcross_capture::read_capture;
use tickcross_core::frame::Frame;
use tickcross_core::program::{Filter, Program, Protocol};
use tickcross_tests::{binance_bbo, difference, run_both, shared_data, udp_frame, Outcome};

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
