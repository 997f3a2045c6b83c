//! The real captures through both paths: the Binance recordings vendored in data/binance and the
//! Deribit capture in ../shared/data.
//!
//! Binance: the three recordings bridged into one stream (about 113,000 quote updates) must give
//! identical events and quote tables on the simulated hardware and in software, and the events
//! must equal an independent, straightforward implementation of DESIGN section 4 written here from
//! the JSON. Deribit: the real multicast capture decodes without a conversion or truncation drop,
//! both paths agree, and the final BTC-PERPETUAL quote is the one in the capture.

use std::io::{BufRead, BufReader};
use tickcross::config::Config;
use tickcross_bindings::counter;
use tickcross_capture::bridge::{bridge_binance_json, BridgeOptions};
use tickcross_capture::read_capture;
use tickcross_core::frame::Frame;
use tickcross_tests::{binance_data, difference, run_both, shared_data};

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const BINANCE: [(&str, &str); 3] = [
    ("spot", "spot_btcusdt_20240808.gz"),
    ("usdm", "usdm_btcusdt_20240808.gz"),
    ("cm", "cm_btcusd_perp_20240808.gz"),
];

/// A decimal string as value x 10^9, written independently of the library's parser.
fn p9(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = frac.to_string();
    while frac.len() < 9 {
        frac.push('0');
    }
    assert!(
        frac[9..].bytes().all(|b| b == b'0'),
        "{s} has more than 9 decimals"
    );
    int.parse::<i64>().unwrap() * 1_000_000_000 + frac[..9].parse::<i64>().unwrap()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct RefEvent {
    ts: u64,
    buy: usize,
    sell: usize,
    buy_px: i64,
    buy_qty: i64,
    sell_px: i64,
    sell_qty: i64,
}

/// DESIGN section 4 over the bookTicker records, in bridge order (timestamp, then input order,
/// then line order), one instrument, edge 0.
fn reference_events() -> Vec<RefEvent> {
    let mut updates = Vec::new();
    for (v, (_, file)) in BINANCE.iter().enumerate() {
        let f = std::fs::File::open(binance_data().join(file)).unwrap();
        let r = BufReader::new(flate2::read::GzDecoder::new(f));
        for (line_no, line) in r.lines().enumerate() {
            let line = line.unwrap();
            let Some((ts, json)) = line.split_once(' ') else {
                continue;
            };
            let j: serde_json::Value = serde_json::from_str(json).unwrap();
            if !j["stream"].as_str().unwrap_or("").ends_with("@bookTicker") {
                continue;
            }
            let d = &j["data"];
            let q = |k: &str| p9(d[k].as_str().unwrap());
            updates.push((
                ts.parse::<u64>().unwrap(),
                v,
                line_no,
                [q("b"), q("B"), q("a"), q("A")],
            ));
        }
    }
    updates.sort_by_key(|u| (u.0, u.1, u.2));
    assert_eq!(updates.len(), 113_265);

    // per venue: [bid px, bid qty, ask px, ask qty]
    let mut book: Vec<Option<([i64; 4], u64)>> = vec![None; 3];
    let mut events = Vec::new();
    for (ts, v, _, q) in updates {
        book[v] = Some((q, ts));
        let empty_bid = |x: &[i64; 4]| x[0] == 0 || x[1] == 0;
        let empty_ask = |x: &[i64; 4]| x[2] == 0 || x[3] == 0;
        // best bid and ask among the other venues, ties to the lowest index
        let mut best_bid: Option<(usize, [i64; 4])> = None;
        let mut best_ask: Option<(usize, [i64; 4])> = None;
        for (w, entry) in book.iter().enumerate() {
            if w == v {
                continue;
            }
            let Some((x, _)) = entry else { continue };
            if !empty_bid(x) && best_bid.is_none_or(|(_, b)| x[0] > b[0]) {
                best_bid = Some((w, *x));
            }
            if !empty_ask(x) && best_ask.is_none_or(|(_, a)| x[2] < a[2]) {
                best_ask = Some((w, *x));
            }
        }
        if let Some((w, b)) = best_bid {
            if !empty_ask(&q) && b[0] - q[2] > 0 {
                events.push(RefEvent {
                    ts,
                    buy: v,
                    sell: w,
                    buy_px: q[2],
                    buy_qty: q[3],
                    sell_px: b[0],
                    sell_qty: b[1],
                });
            }
        }
        if let Some((w, a)) = best_ask {
            if !empty_bid(&q) && q[0] - a[2] > 0 {
                events.push(RefEvent {
                    ts,
                    buy: w,
                    sell: v,
                    buy_px: a[2],
                    buy_qty: a[3],
                    sell_px: q[0],
                    sell_qty: q[1],
                });
            }
        }
    }
    events
}

fn binance_frames() -> Vec<Frame> {
    let inputs: Vec<(String, std::path::PathBuf)> = BINANCE
        .iter()
        .map(|(v, f)| (v.to_string(), binance_data().join(f)))
        .collect();
    let bridge = bridge_binance_json(&inputs, &BridgeOptions::default()).unwrap();
    bridge.frames().collect::<Result<Vec<_>, _>>().unwrap()
}

#[test]
fn binance_captures_agree_with_each_other_and_with_an_independent_model() {
    let cfg = Config::load(repo().join("examples/binance.toml")).unwrap();
    let frames = binance_frames();
    assert_eq!(frames.len(), 113_265);
    let (hw, sw) = run_both(&cfg.program(), &frames).unwrap();
    if let Some(d) = difference(&hw, &sw) {
        panic!("hw and sw differ: {d}");
    }
    let c = &hw.counters;
    assert_eq!(c.get(counter::FRAMES_ACCEPTED), 113_265);
    assert_eq!(c.get(counter::QUOTE_UPDATES), 113_265);
    assert_eq!(c.get(counter::RING_OVERFLOWS), 0);

    let reference = reference_events();
    assert_eq!(
        hw.events.len(),
        reference.len(),
        "event count differs from the reference model"
    );
    for (i, (e, r)) in hw.events.iter().zip(reference.iter()).enumerate() {
        let got = RefEvent {
            ts: e.ts_ns,
            buy: e.buy_venue as usize,
            sell: e.sell_venue as usize,
            buy_px: e.buy_price,
            buy_qty: e.buy_qty,
            sell_px: e.sell_price,
            sell_qty: e.sell_qty,
        };
        assert_eq!(&got, r, "event {i} differs from the reference model");
        assert_eq!(e.seq, i as u64);
        assert_eq!(e.qty, e.buy_qty.min(e.sell_qty));
    }
    eprintln!(
        "{} events on the shared Binance data, identical in hardware, software and the reference",
        reference.len()
    );
}

#[test]
fn deribit_capture_decodes_cleanly_in_both_paths() {
    let cfg = Config::load(repo().join("examples/deribit.toml")).unwrap();
    let Some(path) = shared_data("deribit/sample_capture_v1_6.pcapng") else {
        return;
    };
    let (frames, stats) = read_capture(path).unwrap();
    assert_eq!(stats.records, 5066);
    let (hw, sw) = run_both(&cfg.program(), &frames).unwrap();
    if let Some(d) = difference(&hw, &sw) {
        panic!("hw and sw differ: {d}");
    }
    let c = &hw.counters;
    assert_eq!(
        c.get(counter::FRAMES_ACCEPTED),
        5066,
        "every frame is a Deribit datagram"
    );
    assert_eq!(c.get(counter::MSG_CONVERSION), 0);
    assert_eq!(c.get(counter::MSG_TRUNCATED), 0);
    assert_eq!(c.get(counter::MSG_UNKNOWN_TEMPLATE), 0);
    // tickers before their Instrument message, and instruments not in the config
    assert!(c.get(counter::MSG_UNKNOWN_SYMBOL) > 0);
    assert!(c.get(counter::BINDS) >= 6);
    let btc = cfg.instrument_index("BTC-PERPETUAL").unwrap();
    let q = hw.quotes.get(0, btc);
    assert_eq!(
        (q.bid_price, q.bid_qty, q.ask_price, q.ask_qty),
        (
            25_474_740_000_000,
            10_000_000_000,
            26_204_730_000_000,
            20_000_000_000
        ),
        "final BTC-PERPETUAL quote"
    );
}

/// The example trading config on the bridged Binance data: it trades, and the journal re-derives
/// the report's balances and P&L exactly.
#[test]
fn binance_trading_example_trades_and_reconciles() {
    use tickcross_core::detect::Detector;
    use tickcross_trading::{report, run, verify};
    let path = repo().join("examples/binance-trading.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cfg = Config::from_toml_str(&text).unwrap();
    let frames = binance_frames();
    let mut sw = tickcross_swpath::SwDetector::new(&cfg.program()).unwrap();
    let mut events = Vec::new();
    for f in &frames {
        sw.push_frame(f).unwrap();
    }
    sw.drain_events(&mut events).unwrap();
    assert_eq!(events.len(), 133_632);
    let dir = std::env::temp_dir().join(format!("tickcross-real-trade-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = run::TradeOptions {
        journal: Some(dir.join("journal")),
        kill_file: None,
        inputs_id: "binance".into(),
    };
    let frames_iter = frames.into_iter().map(Ok::<_, String>);
    let out = run::run(
        cfg.trading_inputs(),
        &run::NoAdapters,
        &text,
        &events,
        frames_iter,
        &opts,
        |_| {},
    )
    .unwrap();
    let st = out.engine.state();
    let summary = report::summary_json(
        out.engine.setup(),
        st,
        &out.market.borrow(),
        out.first_ts,
        out.last_ts,
    );
    report::write(&dir, out.engine.setup(), st, &summary).unwrap();
    let closed = st.pnl.closed.len();
    assert!(closed > 0, "no trades on the example config");
    // every candidate is accounted for: traded or refused by a named reason
    let refused: u64 = st.refused.values().sum();
    assert_eq!(
        refused
            + st.candidates
                .iter()
                .filter(|c| c.outcome == "traded")
                .count() as u64,
        133_632
    );
    let v = verify::verify(&dir.join("journal"), Some(&dir)).unwrap();
    assert!(v.mismatches.is_empty(), "{:#?}", v.mismatches);
    assert_eq!(v.realized, st.pnl.realized);
    assert_eq!(v.trades_closed as usize, closed);
    eprintln!(
        "example config: {closed} trades, realized net {}, fees {}, refused {:?}",
        st.pnl.realized, st.pnl.fees, st.refused
    );
}
