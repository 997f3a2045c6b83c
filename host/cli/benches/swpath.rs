//! The software path stage by stage on the real Binance data, side by side with a peer
//! (hftbacktest's market depth fed the same quote updates), and the host reaction from an event
//! record in the ring to both order legs handed to their venues.
//!
//! `cargo bench -p tickcross --bench swpath`; prints the ratio of our quote update + cross check
//! to the peer's depth update + best-price check at the end.

use std::cell::RefCell;
use std::hint::black_box;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use hftbacktest::depth::{HashMapMarketDepth, L2MarketDepth, MarketDepth};
use tickcross::config::Config;
use tickcross_capture::bridge::{bridge_binance_json, BridgeOptions};
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_swpath::{Quote, Stages, SwDetector};
use tickcross_trading::engine::Engine;
use tickcross_trading::run::{boxed, setup_of};
use tickcross_trading::simvenue::{MarketView, SharedMarket, SimVenue};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn binance_frames() -> Vec<Frame> {
    let data = repo().join("data/binance");
    let inputs = [
        ("spot", data.join("spot_btcusdt_20240808.gz")),
        ("usdm", data.join("usdm_btcusdt_20240808.gz")),
        ("cm", data.join("cm_btcusd_perp_20240808.gz")),
    ];
    let bridge = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
    bridge
        .frames()
        .collect::<Result<Vec<_>, _>>()
        .expect("frames")
}

fn config() -> (Config, String) {
    let text = std::fs::read_to_string(repo().join("examples/binance-trading.toml")).unwrap();
    (Config::from_toml_str(&text).expect("config"), text)
}

/// Runs `f` over the items cyclically, `iters` times: the time per item.
fn cyclic<'a, T>(items: &'a [T], mut f: impl FnMut(&T) + 'a) -> impl FnMut(u64) -> Duration + 'a {
    let mut k = 0usize;
    move |iters| {
        let t0 = Instant::now();
        for _ in 0..iters {
            f(&items[k]);
            k += 1;
            if k == items.len() {
                k = 0;
            }
        }
        t0.elapsed()
    }
}

struct Update {
    venue: usize,
    instrument: usize,
    quote: Quote,
    ts: u64,
}

fn updates(stages: &Stages, frames: &[Frame]) -> Vec<Update> {
    frames
        .iter()
        .filter_map(|f| {
            let (venue, range) = stages.check(&f.data)?;
            let (name, quote) = Stages::decode_binance(&f.data[range])?;
            let instrument = stages.lookup(venue, name)?;
            Some(Update {
                venue,
                instrument,
                quote,
                ts: f.ts_ns,
            })
        })
        .collect()
}

fn software_path(c: &mut Criterion, frames: &[Frame], cfg: &Config) {
    let program = cfg.program();
    let stages = Stages::new(&program).unwrap();
    let payloads: Vec<Vec<u8>> = frames
        .iter()
        .filter_map(|f| stages.check(&f.data).map(|(_, r)| f.data[r].to_vec()))
        .collect();
    let ups = updates(&stages, frames);
    let mut g = c.benchmark_group("sw_path");
    g.bench_function("frame_check", |b| {
        b.iter_custom(cyclic(frames, |f| {
            black_box(stages.check(black_box(&f.data)));
        }))
    });
    g.bench_function("decode_binance", |b| {
        b.iter_custom(cyclic(&payloads, |p| {
            black_box(Stages::decode_binance(black_box(p)));
        }))
    });
    let st = RefCell::new(Stages::new(&program).unwrap());
    g.bench_function("quote_update", |b| {
        b.iter_custom(cyclic(&ups, |u| {
            st.borrow_mut().store(u.venue, u.instrument, &u.quote, u.ts);
        }))
    });
    g.bench_function("detection", |b| {
        b.iter_custom(cyclic(&ups, |u| {
            let mut s = st.borrow_mut();
            s.store(u.venue, u.instrument, &u.quote, u.ts);
            black_box(s.detect(u.venue, u.instrument, u.ts));
        }))
    });
    let det = RefCell::new(SwDetector::new(&program).unwrap());
    g.bench_function("per_message", |b| {
        b.iter_custom(cyclic(frames, |f| {
            let mut d = det.borrow_mut();
            d.process(f.ts_ns, &f.data, f.bad);
            d.discard_events();
        }))
    });
    g.finish();
}

fn peer(c: &mut Criterion, frames: &[Frame], cfg: &Config) {
    let program = cfg.program();
    let stages = Stages::new(&program).unwrap();
    let ups = updates(&stages, frames);
    let mut g = c.benchmark_group("peer_book");
    let ours = RefCell::new(Stages::new(&program).unwrap());
    g.bench_function("tickcross_update_and_cross_check", |b| {
        b.iter_custom(cyclic(&ups, |u| {
            let mut s = ours.borrow_mut();
            s.store(u.venue, u.instrument, &u.quote, u.ts);
            black_box(s.detect(u.venue, u.instrument, u.ts));
        }))
    });
    // the peer: one hftbacktest depth per venue, each bookTicker applied as its new best levels
    // (the previous best levels removed), then the best bid/ask of the other venues compared
    struct Peer {
        depth: Vec<HashMapMarketDepth>,
        last: Vec<(f64, f64)>,
    }
    let peer = RefCell::new(Peer {
        depth: (0..3)
            .map(|_| HashMapMarketDepth::new(0.01, 0.00001))
            .collect(),
        last: vec![(0.0, 0.0); 3],
    });
    let f = |p: i64| p as f64 / 1e9;
    g.bench_function("hftbacktest_depth_update_and_cross_check", |b| {
        b.iter_custom(cyclic(&ups, |u| {
            let mut p = peer.borrow_mut();
            let v = u.venue;
            let (bid, ask) = (f(u.quote.bid_price), f(u.quote.ask_price));
            let (old_bid, old_ask) = p.last[v];
            let ts = u.ts as i64;
            let d = &mut p.depth[v];
            if old_bid != bid && old_bid > 0.0 {
                d.update_bid_depth(old_bid, 0.0, ts);
            }
            if old_ask != ask && old_ask > 0.0 {
                d.update_ask_depth(old_ask, 0.0, ts);
            }
            d.update_bid_depth(bid, f(u.quote.bid_qty), ts);
            d.update_ask_depth(ask, f(u.quote.ask_qty), ts);
            p.last[v] = (bid, ask);
            let mut crosses = 0;
            for w in (0..3).filter(|&w| w != v) {
                let o = &p.depth[w];
                if o.best_bid() > ask {
                    crosses += 1;
                }
                if bid > o.best_ask() {
                    crosses += 1;
                }
            }
            black_box(crosses);
        }))
    });
    g.finish();
}

/// A candidate the example config trades: 100 USDT of edge on 0.05 BTC, buy usdm, sell cm.
fn candidate_record() -> [u64; tickcross_bindings::params::RECORD_WORDS as usize] {
    use tickcross_bindings::record::{EventRecord, Meta};
    let t = 1_723_161_500_000_000_000u64;
    EventRecord {
        seq: 1,
        meta: Meta {
            buy_venue: 1,
            sell_venue: 2,
            ..Meta::default()
        },
        buy_price: 61_600_000_000_000,
        buy_qty: 2_000_000_000,
        sell_price: 61_700_000_000_000,
        sell_qty: 80_000_000_000,
        qty: 2_000_000_000,
        ts: t,
        buy_ts: t,
        sell_ts: t - 1_000_000,
        ..EventRecord::default()
    }
    .encode()
    .expect("every field fits")
}

fn host_reaction(c: &mut Criterion) {
    // the record as the device leaves it in its ring, in a mapped shared region
    let dir = std::env::temp_dir().join(format!("tickcross-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ring");
    let bytes: Vec<u8> = candidate_record()
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    // SAFETY: the file was just created by this process in its own directory; nothing else
    // truncates or writes it while it is mapped (a mapping is unsound only if the file changes
    // under a reference), and removing it at the end leaves the mapped pages in place.
    let map = unsafe { memmap2::MmapOptions::new().len(128).map_mut(&file).unwrap() };
    let words = map.as_ptr() as *const u64;
    let read_record = || {
        let mut w = [0u64; tickcross_bindings::params::RECORD_WORDS as usize];
        for (i, x) in w
            .iter_mut()
            .enumerate()
            .take(tickcross_bindings::RECORD_USED_WORDS)
        {
            // SAFETY: the map is 128 bytes (16 words) of a file we wrote and keep open, page-aligned
            // so `words` is aligned for u64; i < RECORD_USED_WORDS <= 16 keeps the read inside it.
            *x = unsafe { std::ptr::read_volatile(words.add(i)) };
        }
        tickcross_device::device::decode_record(&w)
    };
    // a warm engine, as in a long run: limits wide enough that every event of a batch opens a
    // trade; a fresh engine every batch (untimed) keeps its books from growing without bound
    const BATCH: u64 = 1000;
    let text = std::fs::read_to_string(repo().join("examples/binance-trading.toml"))
        .unwrap()
        .replace("max_open_legs = 8", "max_open_legs = 1000000")
        .replace("max_position = \"0.15\"", "max_position = \"1000000\"")
        .replace(
            "rate_limit = { orders = 10, window_ms = 1000 }",
            "rate_limit = { orders = 1000000, window_ms = 1000 }",
        )
        .replace(
            "BTC = \"0.5\", USDT = \"30000\"",
            "BTC = \"1000000\", USDT = \"100000000000\"",
        );
    let wide = Config::from_toml_str(&text).unwrap();
    let make = || {
        let setup = setup_of(wide.trading_inputs(), "bench".into(), None).unwrap();
        let market: SharedMarket = Rc::new(RefCell::new(MarketView::manual()));
        let venues = boxed(SimVenue::for_config(&setup.trade, &market, 0));
        Engine::new(setup, venues, None).unwrap()
    };
    let mut g = c.benchmark_group("host_reaction");
    g.bench_function("ring_read", |b| b.iter(|| black_box(read_record())));
    g.bench_function("event_read_to_both_legs_handed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = BATCH.min(iters - done);
                let mut e = make();
                let t0 = Instant::now();
                for k in 0..n {
                    let mut ev: Event = read_record();
                    ev.seq = k;
                    e.on_event(&ev, ev.ts_ns).unwrap();
                }
                total += t0.elapsed();
                assert_eq!(
                    e.state().open_orders() as u64,
                    2 * n,
                    "every event must trade"
                );
                done += n;
            }
            total
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn median_ns(group: &str, name: &str) -> Option<f64> {
    let p = repo()
        .join("target/criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    let frames = binance_frames();
    let (cfg, _) = config();
    // check the candidate really trades (a bench that measured a refusal would mislead)
    {
        let setup = setup_of(cfg.trading_inputs(), "check".into(), None).unwrap();
        let market: SharedMarket = Rc::new(RefCell::new(MarketView::manual()));
        let venues = boxed(SimVenue::for_config(&setup.trade, &market, 0));
        let mut e = Engine::new(setup, venues, None).unwrap();
        let ev = tickcross_device::device::decode_record(&candidate_record());
        e.on_event(&ev, ev.ts_ns).unwrap();
        assert_eq!(
            e.state().open_orders(),
            2,
            "the bench candidate must open a trade"
        );
    }
    let mut c = Criterion::default().configure_from_args();
    software_path(&mut c, &frames, &cfg);
    peer(&mut c, &frames, &cfg);
    host_reaction(&mut c);
    c.final_summary();
    println!("medians (criterion's estimate of the median time per iteration):");
    for (g, n) in [
        ("sw_path", "frame_check"),
        ("sw_path", "decode_binance"),
        ("sw_path", "quote_update"),
        ("sw_path", "detection"),
        ("sw_path", "per_message"),
        ("peer_book", "tickcross_update_and_cross_check"),
        ("peer_book", "hftbacktest_depth_update_and_cross_check"),
        ("host_reaction", "ring_read"),
        ("host_reaction", "event_read_to_both_legs_handed"),
    ] {
        if let Some(m) = median_ns(g, n) {
            println!("  {g}/{n}: {m:.1} ns");
        }
    }
    if let (Some(a), Some(b)) = (
        median_ns("peer_book", "tickcross_update_and_cross_check"),
        median_ns("peer_book", "hftbacktest_depth_update_and_cross_check"),
    ) {
        println!(
            "peer_book: tickcross {a:.2} ns / hftbacktest {b:.2} ns per quote update = {:.3}",
            a / b
        );
    }
}
