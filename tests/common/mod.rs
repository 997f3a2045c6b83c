//! Helpers shared by the cross-crate tests of `tests/` (the `tickcross-tests` package): frame
//! building, programs, running both detection paths and comparing them, and where the data is:
//! the Binance recordings vendored in `data/binance` ([`binance_data`]) and the captures without
//! a licence to copy, read from `../shared/data` ([`shared`]). [`gen`] generates venue traffic
//! for the differential tests; [`trade`] is the trading-scenario harness.

pub mod gen;
pub mod trade;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Command;
use tickcross_capture::netgen::UdpFrameBuilder;
use tickcross_core::program::{Filter, Program, Protocol};

/// The repository root (the parent of `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Runs a tool (iverilog, vvp, yosys) to its end and returns its stdout and stderr together;
/// fails the test, with that output, when the tool cannot start or exits unsuccessfully.
pub fn run_tool(cmd: &mut Command, what: &str) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start (is it installed?): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{text}",
        output.status
    );
    text
}

/// `../shared` relative to the repository root.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// A file of `../shared/data` (captures without a licence for this repository): `None`, with a
/// note on stderr, only when `../shared/data` is absent altogether (a bare clone); a file missing
/// while `../shared/data` exists is returned as is, so the test reading it fails.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let dir = shared().join("data");
    if !dir.is_dir() {
        eprintln!("skipped: {rel} not present ({} is absent)", dir.display());
        return None;
    }
    Some(dir.join(rel))
}

/// The Binance recordings vendored in the repository (see data/README.md).
pub fn binance_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/binance")
}

/// A UDP frame to `dst:port` carrying `payload`.
pub fn udp_frame(dst: [u8; 4], port: u16, payload: &[u8]) -> Vec<u8> {
    UdpFrameBuilder::new(
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000),
        SocketAddrV4::new(Ipv4Addr::from(dst), port),
    )
    .build(payload)
    .expect("frame")
}

/// A UDP frame to `dst:port` carrying `payload`, with an 802.1Q tag when `vlan` and `options`
/// bytes of IPv4 options (a multiple of 4).
pub fn udp_frame_shaped(
    payload: &[u8],
    dst: [u8; 4],
    port: u16,
    vlan: bool,
    options: usize,
) -> Vec<u8> {
    let mut b = UdpFrameBuilder::new(
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000),
        SocketAddrV4::new(Ipv4Addr::from(dst), port),
    );
    if vlan {
        b = b.vlan(tickcross_capture::netgen::VlanTag::new(7));
    }
    if options > 0 {
        b = b.ip_options(vec![1; options]);
    }
    b.build(payload).expect("frame")
}

/// The Verilated per-module wrapper (sim/tb/tc_units_tb.v), out of reset.
pub fn units_model() -> tickcross_sim::model::Model {
    use tickcross_sim::ffi::tc_units_tb::inp;
    let mut m =
        tickcross_sim::model::Model::new(&tickcross_sim::model::UNITS, None).expect("model");
    m.inp[inp::RST] = 1;
    for _ in 0..4 {
        m.tick();
    }
    m.inp[inp::RST] = 0;
    m
}

/// Writes `filters` into the units wrapper's tc_frame_rx filter table (indexes 0..).
pub fn write_frame_rx_filters(m: &mut tickcross_sim::model::Model, filters: &[Filter]) {
    use tickcross_sim::ffi::tc_units_tb::inp;
    for (i, f) in filters.iter().enumerate() {
        m.inp[inp::FR_CFG_WR] = 1;
        m.inp[inp::FR_CFG_IDX] = i as u64;
        m.inp[inp::FR_CFG_DATA] =
            tickcross_device::device::filter_word(f).expect("the test's filters fit their fields");
        m.tick();
    }
}

thread_local! {
    // The bookUpdateId of the next `binance_bbo`: increasing, so quotes built in the order they
    // are sent are never out of order (PIPELINE section 6).
    static NEXT_UPDATE_ID: std::cell::Cell<i64> = const { std::cell::Cell::new(1) };
}

/// The bookUpdateId the next `binance_bbo` on this thread takes (and moves past it).
pub fn next_update_id() -> i64 {
    NEXT_UPDATE_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// A Binance SBE 10001 message (DESIGN section 2 layout), with the next bookUpdateId.
pub fn binance_bbo(
    symbol: &str,
    pexp: i8,
    qexp: i8,
    bid: i64,
    bid_qty: i64,
    ask: i64,
    ask_qty: i64,
) -> Vec<u8> {
    let q = [bid, bid_qty, ask, ask_qty];
    binance_bbo_id(symbol, pexp, qexp, q, next_update_id())
}

/// `binance_bbo` with bookUpdateId `id`; `q` is bid, bid qty, ask, ask qty.
pub fn binance_bbo_id(symbol: &str, pexp: i8, qexp: i8, q: [i64; 4], id: i64) -> Vec<u8> {
    let [bid, bid_qty, ask, ask_qty] = q;
    let mut m = Vec::new();
    for v in [50u16, 10001, 1, 0] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    m.extend_from_slice(&0i64.to_le_bytes());
    m.extend_from_slice(&id.to_le_bytes());
    m.push(pexp as u8);
    m.push(qexp as u8);
    for v in [bid, bid_qty, ask, ask_qty] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    m.push(symbol.len() as u8);
    m.extend_from_slice(symbol.as_bytes());
    m
}

/// Venues 0..n-1 speaking binance_sbe on 239.1.1.(v+1):(5000+v), symbol "BTCUSDT" -> instrument 0.
pub fn binance_program(n: u8) -> Program {
    let mut p = Program {
        edges: vec![0],
        ..Program::default()
    };
    for v in 0..n {
        p.venues.push(Some(Protocol::BinanceSbe));
        p.filters.push(Filter {
            ip: [239, 1, 1, v + 1],
            prefix: 32,
            port: 5000 + v as u16,
            venue: v,
        });
        p.symbols.push((v, b"BTCUSDT".to_vec(), 0));
    }
    p
}

use tickcross_core::counters::Counters;
use tickcross_core::detect::Detector;
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_core::quotes::QuoteTable;
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_swpath::SwDetector;

/// Everything a path produced for a stream.
pub struct Outcome {
    pub events: Vec<Event>,
    pub counters: Counters,
    pub quotes: QuoteTable,
}

fn collect(d: &mut dyn Detector, frames: &[Frame]) -> Result<Outcome, String> {
    let mut events = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        d.push_frame(f)
            .map_err(|e| format!("{} path, frame {i}: {e}", d.name()))?;
        if i % 64 == 63 {
            d.drain_events(&mut events).map_err(|e| e.to_string())?;
        }
    }
    d.flush()
        .map_err(|e| format!("{} path flush: {e}", d.name()))?;
    d.drain_events(&mut events).map_err(|e| e.to_string())?;
    Ok(Outcome {
        events,
        counters: d.counters().map_err(|e| e.to_string())?,
        quotes: d.quotes().map_err(|e| e.to_string())?,
    })
}

/// Runs the stream through the software path and the simulated hardware.
pub fn run_both(program: &Program, frames: &[Frame]) -> Result<(Outcome, Outcome), String> {
    let mut sw = SwDetector::new(program).map_err(|e| e.to_string())?;
    let mut hw =
        HwDetector::simulated(program, &SimOptions::default()).map_err(|e| e.to_string())?;
    let s = collect(&mut sw, frames)?;
    let h = collect(&mut hw, frames)?;
    Ok((h, s))
}

/// The first difference between two outcomes, if any (counters first: they name lost events).
pub fn difference(h: &Outcome, s: &Outcome) -> Option<String> {
    if let Some((n, a, b)) = h.counters.first_difference(&s.counters) {
        return Some(format!("counter {n}: hw {a}, sw {b}"));
    }
    for (i, (a, b)) in h.events.iter().zip(s.events.iter()).enumerate() {
        if !a.contract_eq(b) {
            return Some(format!("event {i}:\n  hw {a:?}\n  sw {b:?}"));
        }
    }
    if h.events.len() != s.events.len() {
        return Some(format!(
            "hw has {} events, sw {}",
            h.events.len(),
            s.events.len()
        ));
    }
    if let Some((v, i)) = h.quotes.first_difference(&s.quotes) {
        return Some(format!(
            "quote ({v}, {i}): hw {:?}, sw {:?}",
            h.quotes.get(v, i),
            s.quotes.get(v, i)
        ));
    }
    None
}
