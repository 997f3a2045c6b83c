//! Hardware against software detection latency on one capture (DESIGN section 6), for
//! `tickcross compare`: distributions in HdrHistogram, `compare.json` and a self-contained HTML
//! page with the plots.
//!
//! - Hardware: per event, cycles from the beat carrying the triggering message's last byte to the
//!   cycle the record is committed to the ring, and from the frame's first beat to commit, read
//!   from the event records the hardware stamped; ns at 322.265625 MHz.
//! - Software: per packet, ns from handing its bytes to the software path until it returns with
//!   its events emitted, on CLOCK_MONOTONIC (`Instant`), the thread pinned to one core when the
//!   system allows. Packets that produced an event make the "packet to event" distribution; all
//!   packets are reported apart. The clock's own cost (two reads back to back) is measured and
//!   reported, not subtracted.
//! - Software throughput: messages per second on one core, the whole capture processed in a tight
//!   loop without timing each packet (best of several runs).
//! - Host reaction (with a `[trading]` config): per event that opened a trade, ns from the event
//!   to both legs handed to their (simulated) venues, the engine's decisions and its journal
//!   write included (journal `sync = never` here, so no disk flush is timed).

use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::config::Config;
use tickcross_core::detect::{DetectError, Detector};
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_swpath::SwDetector;

/// The datapath clock of a 25GbE MAC, 64 bits wide.
pub const CLOCK_HZ: f64 = 322_265_625.0;

pub fn cycles_to_ns(c: u64) -> f64 {
    c as f64 * 1e9 / CLOCK_HZ
}

/// Summary of one distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub count: u64,
    pub min: u64,
    pub median: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("histogram bounds")
}

pub fn stats_of(values: &[u64]) -> Stats {
    let mut h = histogram();
    for &v in values {
        // values above the bound (an hour in ns) are clamped, not dropped
        h.saturating_record(v.max(1));
    }
    Stats {
        count: h.len(),
        min: if h.is_empty() { 0 } else { h.min() },
        median: h.value_at_quantile(0.5),
        p99: h.value_at_quantile(0.99),
        p99_9: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    }
}

fn stats_json(s: &Stats) -> Value {
    json!({"count": s.count, "min": s.min, "median": s.median, "p99": s.p99, "p99_9": s.p99_9, "max": s.max, "mean": (s.mean * 100.0).round() / 100.0})
}

fn stats_ns_json(s: &Stats) -> Value {
    let r = |c: u64| (cycles_to_ns(c) * 100.0).round() / 100.0;
    json!({"count": s.count, "min": r(s.min), "median": r(s.median), "p99": r(s.p99), "p99_9": r(s.p99_9), "max": r(s.max), "mean": (cycles_to_ns(1) * s.mean * 100.0).round() / 100.0})
}

/// What the software pass measured.
#[derive(Debug, Clone)]
pub struct SwMeasure {
    /// Per packet that produced an event: (capture ts, ns).
    pub event_packets: Vec<(u64, u64)>,
    /// Every packet, ns.
    pub all_packets: Vec<u64>,
    pub events: Vec<Event>,
    pub messages: u64,
    pub messages_per_second: f64,
    pub pinned_cpu: Option<usize>,
    pub timer_overhead_ns: u64,
    /// Quote-table entries flagged stale at the end (docs/PIPELINE.md section 6), counted by
    /// the host from the path's quote table.
    pub stale_quotes: u64,
}

/// Pins the calling thread to the last CPU it may run on; returns it.
pub fn pin_to_one_core() -> Option<usize> {
    // SAFETY: sched_getaffinity/sched_setaffinity on the calling thread with a zeroed set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        let cpu = (0..libc::CPU_SETSIZE as usize)
            .rev()
            .find(|&c| libc::CPU_ISSET(c, &set))?;
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        (libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one) == 0)
            .then_some(cpu)
    }
}

/// Restores the thread's affinity to every CPU it had.
fn unpin(saved: &libc::cpu_set_t) {
    // SAFETY: `saved` is a valid cpu_set_t (read by sched_getaffinity) that sched_setaffinity
    // only reads, for the size we pass.
    unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), saved);
    }
}

fn saved_affinity() -> Option<libc::cpu_set_t> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set, and sched_getaffinity writes at most
    // the size we pass into `set`, which we own for the call.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0)
            .then_some(set)
    }
}

/// Median cost of two back-to-back clock reads.
fn timer_overhead() -> u64 {
    let mut v: Vec<u64> = (0..20_001)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

/// The software path over `frames`, timed packet by packet, then its throughput.
pub fn measure_software(cfg: &Config, frames: &[Frame]) -> Result<SwMeasure, DetectError> {
    let saved = saved_affinity();
    let pinned = pin_to_one_core();
    let program = cfg.program();
    // warm the caches and the branch predictors on a first pass
    let mut warm = SwDetector::new(&program)?;
    for f in frames {
        warm.process(f.ts_ns, &f.data, f.bad);
        warm.discard_events();
    }
    let overhead = timer_overhead();
    let mut sw = SwDetector::new(&program)?;
    let mut events = Vec::new();
    let mut event_packets = Vec::new();
    let mut all = Vec::with_capacity(frames.len());
    for f in frames {
        let t0 = Instant::now();
        sw.process(f.ts_ns, &f.data, f.bad);
        let t1 = Instant::now();
        let ns = (t1 - t0).as_nanos() as u64;
        all.push(ns);
        let before = events.len();
        sw.drain_events(&mut events)?;
        if events.len() > before {
            event_packets.push((f.ts_ns, ns));
        }
    }
    let messages: u64 = sw.counter_values().messages_total();
    let stale_quotes = sw.quote_table().stale_count();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut d = SwDetector::new(&program)?;
        let t0 = Instant::now();
        for f in frames {
            d.process(f.ts_ns, &f.data, f.bad);
            d.discard_events();
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    if let (Some(_), Some(s)) = (pinned, saved.as_ref()) {
        unpin(s);
    }
    Ok(SwMeasure {
        event_packets,
        all_packets: all,
        events,
        messages,
        messages_per_second: if best > 0.0 {
            messages as f64 / best
        } else {
            0.0
        },
        pinned_cpu: pinned,
        timer_overhead_ns: overhead,
        stale_quotes,
    })
}

/// Log-spaced histogram bucket edges in ns: ten a decade from 1 ns to 1 ms.
pub fn bucket_edges() -> Vec<f64> {
    (0..=60).map(|k| 10f64.powf(k as f64 / 10.0)).collect()
}

fn bucket_counts(edges: &[f64], values_ns: impl Iterator<Item = f64>) -> Vec<u64> {
    let mut c = vec![0u64; edges.len() - 1];
    for v in values_ns {
        let k = edges
            .windows(2)
            .position(|w| v >= w[0] && v < w[1])
            .unwrap_or(if v < edges[0] { 0 } else { c.len() - 1 });
        c[k] += 1;
    }
    c
}

/// (time since start in s, median, max) per time bin.
fn over_time(points: &[(u64, f64)], start: u64, end: u64, bins: usize) -> Vec<(f64, f64, f64)> {
    if points.is_empty() || end <= start {
        return Vec::new();
    }
    let span = (end - start) as f64;
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); bins];
    for &(t, v) in points {
        let k = (((t.saturating_sub(start)) as f64 / span) * bins as f64) as usize;
        buckets[k.min(bins - 1)].push(v);
    }
    buckets
        .into_iter()
        .enumerate()
        .filter(|(_, b)| !b.is_empty())
        .map(|(k, mut b)| {
            b.sort_by(|a, c| a.partial_cmp(c).expect("no NaN"));
            let t = (k as f64 + 0.5) * span / bins as f64 / 1e9;
            (
                (t * 1000.0).round() / 1000.0,
                b[b.len() / 2],
                *b.last().expect("non-empty"),
            )
        })
        .collect()
}

/// The modelled card-to-host delivery of event records (the simulator's DMA model): from a
/// record's commit cycle to the cycle its stamp is visible in host memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    pub records: u64,
    pub min_cycles: u64,
    pub mean_cycles: f64,
    pub max_cycles: u64,
    /// The modelled latency of one posted write (part of the above).
    pub write_latency_cycles: u64,
}

impl Delivery {
    fn to_json(self) -> Value {
        let ns = |c: f64| (cycles_to_ns(1) * c * 100.0).round() / 100.0;
        json!({
            "records": self.records,
            "cycles": {"min": self.min_cycles, "mean": (self.mean_cycles * 100.0).round() / 100.0, "max": self.max_cycles},
            "ns": {"min": ns(self.min_cycles as f64), "mean": ns(self.mean_cycles), "max": ns(self.max_cycles as f64)},
            "posted_write_latency_cycles": self.write_latency_cycles,
            "posted_write_latency_ns": ns(self.write_latency_cycles as f64),
        })
    }
}

/// Everything `compare.json` holds.
pub struct Comparison {
    pub frames: u64,
    pub hw_events: Vec<Event>,
    pub sw: SwMeasure,
    /// Host reaction per traded event, ns.
    pub host_reaction: Option<Vec<u64>>,
    /// Model throughput while driving frames.
    pub verilator_cycles_per_second: f64,
    /// Commit -> host memory, as the simulator models the card's DMA.
    pub delivery: Delivery,
    /// Entries of the device's quote dump (quote window) flagged stale at the end, counted by
    /// the host.
    pub hw_stale_quotes: u64,
}

impl Comparison {
    pub fn hw_last_to_commit(&self) -> Vec<u64> {
        self.hw_events
            .iter()
            .filter_map(|e| e.cycles.map(|c| c.commit.saturating_sub(c.last)))
            .collect()
    }

    pub fn hw_frame_to_commit(&self) -> Vec<u64> {
        self.hw_events
            .iter()
            .filter_map(|e| e.cycles.map(|c| c.commit.saturating_sub(c.frame)))
            .collect()
    }

    /// The first event where the paths disagree, if any.
    pub fn disagreement(&self) -> Option<usize> {
        if self.hw_events.len() != self.sw.events.len() {
            return Some(self.hw_events.len().min(self.sw.events.len()));
        }
        self.hw_events
            .iter()
            .zip(&self.sw.events)
            .position(|(a, b)| !a.contract_eq(b))
    }

    pub fn to_json(&self) -> Value {
        let last = stats_of(&self.hw_last_to_commit());
        let frame = stats_of(&self.hw_frame_to_commit());
        let sw_ev: Vec<u64> = self.sw.event_packets.iter().map(|p| p.1).collect();
        let sw = stats_of(&sw_ev);
        let all = stats_of(&self.sw.all_packets);
        let ratio = |s: u64, h: u64| {
            let h = cycles_to_ns(h);
            if h > 0.0 {
                ((s as f64 / h) * 100.0).round() / 100.0
            } else {
                0.0
            }
        };
        let edges = bucket_edges();
        let hw_ns: Vec<f64> = self
            .hw_last_to_commit()
            .iter()
            .map(|&c| cycles_to_ns(c))
            .collect();
        let hist_hw = bucket_counts(&edges, hw_ns.iter().copied());
        let hist_sw = bucket_counts(&edges, sw_ev.iter().map(|&v| v as f64));
        let start = self
            .hw_events
            .first()
            .map(|e| e.ts_ns)
            .into_iter()
            .chain(self.sw.event_packets.first().map(|p| p.0))
            .min()
            .unwrap_or(0);
        let end = self
            .hw_events
            .last()
            .map(|e| e.ts_ns)
            .into_iter()
            .chain(self.sw.event_packets.last().map(|p| p.0))
            .max()
            .unwrap_or(0)
            + 1;
        let hw_pts: Vec<(u64, f64)> = self
            .hw_events
            .iter()
            .zip(&hw_ns)
            .map(|(e, &ns)| (e.ts_ns, ns))
            .collect();
        let sw_pts: Vec<(u64, f64)> = self
            .sw
            .event_packets
            .iter()
            .map(|&(t, ns)| (t, ns as f64))
            .collect();
        let series = |p: Vec<(f64, f64, f64)>| {
            json!({
                "t_s": p.iter().map(|x| x.0).collect::<Vec<_>>(),
                "median_ns": p.iter().map(|x| (x.1 * 100.0).round() / 100.0).collect::<Vec<_>>(),
                "max_ns": p.iter().map(|x| (x.2 * 100.0).round() / 100.0).collect::<Vec<_>>(),
            })
        };
        let reaction = self.host_reaction.as_ref().map(|v| stats_of(v));
        let mut targets = vec![
            json!({"what": "hardware: last byte of message to event committed", "target": "<= 8 cycles",
                   "measured": format!("median {} cycles, max {}", last.median, last.max), "met": last.max <= 8}),
            json!({"what": "software path: per-packet detection (packets with an event)", "target": "median <= 50 ns (DESIGN.md section 11)",
                   "measured": format!("median {} ns", sw.median), "met": sw.median <= 50}),
            json!({"what": "Verilator model of the full pipeline", "target": ">= 5 M cycles/s",
                   "measured": format!("{:.2} M cycles/s", self.verilator_cycles_per_second / 1e6),
                   "met": self.verilator_cycles_per_second >= 5e6}),
        ];
        if let Some(s) = reaction.as_ref().filter(|s| s.count > 0) {
            targets.push(
                json!({"what": "host: event read to both order legs handed to their venues",
                "target": "median <= 2 us",
                "measured": format!("median {} ns over {} trades", s.median, s.count),
                "met": s.median <= 2_000}),
            );
        }
        json!({
            "clock_hz": CLOCK_HZ,
            "frames": self.frames,
            "paths_agree": self.disagreement().is_none(),
            "hardware": {
                "events": self.hw_events.len(),
                "last_byte_to_commit_cycles": stats_json(&last),
                "last_byte_to_commit_ns": stats_ns_json(&last),
                "frame_first_beat_to_commit_cycles": stats_json(&frame),
                "frame_first_beat_to_commit_ns": stats_ns_json(&frame),
                "verilator_cycles_per_second": self.verilator_cycles_per_second.round() as u64,
                "commit_to_host_memory": self.delivery.to_json(),
                "stale_quotes_in_quote_dump": self.hw_stale_quotes,
            },
            "software": {
                "events": self.sw.events.len(),
                "packets": self.sw.all_packets.len(),
                "event_packets": sw_ev.len(),
                "pinned_cpu": self.sw.pinned_cpu,
                "timer_overhead_ns": self.sw.timer_overhead_ns,
                "packet_to_event_ns": stats_json(&sw),
                "all_packets_ns": stats_json(&all),
                "messages": self.sw.messages,
                "messages_per_second": self.sw.messages_per_second.round() as u64,
                "stale_quotes_in_quote_dump": self.sw.stale_quotes,
            },
            "ratio_sw_over_hw": {
                "median": ratio(sw.median, last.median),
                "p99": ratio(sw.p99, last.p99),
                "p99_9": ratio(sw.p99_9, last.p99_9),
                "max": ratio(sw.max, last.max),
            },
            "host_reaction_ns": reaction.as_ref().map(stats_json),
            "histogram": {
                "edges_ns": edges.iter().map(|e| (e * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
                "hardware": hist_hw,
                "software": hist_sw,
            },
            "over_time": {
                "hardware": series(over_time(&hw_pts, start, end, 300)),
                "software": series(over_time(&sw_pts, start, end, 300)),
            },
            "targets": targets,
        })
    }
}

/// The HTML page: the data inline, drawn by inline script into SVG (no network).
pub fn html(data: &Value) -> String {
    let json = data.to_string().replace("</", "<\\/");
    PAGE.replace("__DATA__", &json)
}

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tickcross: hardware vs software detection latency</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.hw { fill: #1f77b4; stroke: #1f77b4; } .sw { fill: #ff7f0e; stroke: #ff7f0e; }
.hwl { fill: none; stroke: #1f77b4; } .swl { fill: none; stroke: #ff7f0e; }
.axis { stroke: #444; } .grid { stroke: #ddd; } text { font-size: 11px; fill: #333; }
.met { color: #080; } .missed { color: #b00; }
</style></head>
<body>
<h1>tickcross: hardware vs software detection latency</h1>
<p id="summary"></p>
<h2>Latency table</h2>
<table id="table"><thead><tr><th>path, measure</th><th>count</th><th>median</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead><tbody></tbody></table>
<h2>Distributions (log axis; hardware: message's last byte to commit, software: packet to event)</h2>
<svg id="hist" width="900" height="320"></svg>
<h2>Latency over the capture (median and max per time bin)</h2>
<svg id="time" width="900" height="320"></svg>
<h2>Targets (DESIGN section 8)</h2>
<table id="targets"><thead><tr><th>what</th><th>target</th><th>measured</th><th>met</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e); return e;
}
function fmtNs(v) {
  const u = [[1e6, " ms"], [1e3, " us"], [1, " ns"]];
  for (const [d, n] of u) if (v >= d) return (v / d) + n;
  return v + " ns";
}
function row(tbody, cells) {
  const tr = document.createElement("tr");
  for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
  tbody.appendChild(tr); return tr;
}
const hw = D.hardware, sw = D.software;
document.getElementById("summary").textContent =
  `${D.frames} frames; ${hw.events} hardware events, ${sw.events} software events; paths agree: ${D.paths_agree}. ` +
  `Clock ${(D.clock_hz / 1e6).toFixed(6)} MHz. Software pinned to CPU ${sw.pinned_cpu === null ? "none (pinning refused)" : sw.pinned_cpu}, ` +
  `clock read cost ${sw.timer_overhead_ns} ns (not subtracted); ${(sw.messages_per_second / 1e6).toFixed(2)} M messages/s on one core. ` +
  `Software/hardware ratio: median ${D.ratio_sw_over_hw.median}x, p99 ${D.ratio_sw_over_hw.p99}x.`;
const tb = document.querySelector("#table tbody");
const s4 = (s, unit) => [s.count, s.median + unit, s.p99 + unit, s.p99_9 + unit, s.max + unit];
row(tb, ["hardware, last byte to commit (cycles)", ...s4(hw.last_byte_to_commit_cycles, "")]);
row(tb, ["hardware, last byte to commit (ns)", ...s4(hw.last_byte_to_commit_ns, " ns")]);
row(tb, ["hardware, frame's first beat to commit (cycles)", ...s4(hw.frame_first_beat_to_commit_cycles, "")]);
row(tb, ["hardware, frame's first beat to commit (ns)", ...s4(hw.frame_first_beat_to_commit_ns, " ns")]);
row(tb, ["software, packet to event (ns)", ...s4(sw.packet_to_event_ns, " ns")]);
row(tb, ["software, every packet (ns)", ...s4(sw.all_packets_ns, " ns")]);
if (D.host_reaction_ns) row(tb, ["host reaction, event to both legs handed (ns)", ...s4(D.host_reaction_ns, " ns")]);
const r = D.ratio_sw_over_hw;
row(tb, ["ratio software / hardware (last byte)", "", r.median + "x", r.p99 + "x", r.p99_9 + "x", r.max + "x"]);

const W = 900, H = 320, L = 60, R = 20, T = 20, B = 40;
let bars = 0;
{ // histogram
  const svg = document.getElementById("hist");
  const e = D.histogram.edges_ns, h = D.histogram.hardware, s = D.histogram.software;
  const lo = Math.log10(e[0]), hi = Math.log10(e[e.length - 1]);
  const x = v => L + (Math.log10(v) - lo) / (hi - lo) * (W - L - R);
  const ymax = Math.max(1, ...h, ...s);
  const y = c => H - B - c / ymax * (H - T - B);
  for (let d = 0; d <= 6; d++) {
    const xv = x(Math.pow(10, d));
    el("line", {x1: xv, x2: xv, y1: T, y2: H - B, class: "grid"}, svg);
    el("text", {x: xv, y: H - B + 16, "text-anchor": "middle"}, svg, ["1 ns", "10 ns", "100 ns", "1 us", "10 us", "100 us", "1 ms"][d]);
  }
  el("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}, svg);
  el("line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}, svg);
  el("text", {x: L - 6, y: T + 4, "text-anchor": "end"}, svg, String(ymax));
  el("text", {x: L - 6, y: H - B, "text-anchor": "end"}, svg, "0");
  for (let k = 0; k + 1 < e.length; k++) {
    const x0 = x(e[k]), x1 = x(e[k + 1]), w = (x1 - x0) / 2;
    if (h[k] > 0) { el("rect", {x: x0, y: y(h[k]), width: w, height: H - B - y(h[k]), class: "hw"}, svg); bars++; }
    if (s[k] > 0) { el("rect", {x: x0 + w, y: y(s[k]), width: w, height: H - B - y(s[k]), class: "sw"}, svg); bars++; }
  }
  el("rect", {x: W - 300, y: T, width: 10, height: 10, class: "hw"}, svg);
  el("text", {x: W - 285, y: T + 9}, svg, "hardware (message last byte to commit)");
  el("rect", {x: W - 300, y: T + 16, width: 10, height: 10, class: "sw"}, svg);
  el("text", {x: W - 285, y: T + 25}, svg, "software (packet to event)");
}
let points = 0;
{ // over time
  const svg = document.getElementById("time");
  const series = [["hwl", D.over_time.hardware], ["swl", D.over_time.software]];
  const all = series.flatMap(([, s]) => s.max_ns.concat(s.median_ns)).filter(v => v > 0);
  const ts = series.flatMap(([, s]) => s.t_s);
  const tmax = Math.max(1e-9, ...ts);
  const lo = Math.log10(Math.max(0.1, Math.min(...all, 1))), hi = Math.log10(Math.max(10, ...all)) + 0.1;
  const x = t => L + t / tmax * (W - L - R);
  const y = v => H - B - (Math.log10(Math.max(v, Math.pow(10, lo))) - lo) / (hi - lo) * (H - T - B);
  el("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}, svg);
  el("line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}, svg);
  for (let d = Math.ceil(lo); d <= hi; d++) {
    el("line", {x1: L, x2: W - R, y1: y(Math.pow(10, d)), y2: y(Math.pow(10, d)), class: "grid"}, svg);
    el("text", {x: L - 6, y: y(Math.pow(10, d)) + 4, "text-anchor": "end"}, svg, fmtNs(Math.pow(10, d)));
  }
  el("text", {x: W - R, y: H - B + 16, "text-anchor": "end"}, svg, tmax.toFixed(1) + " s");
  el("text", {x: L, y: H - B + 16}, svg, "0 s");
  for (const [cls, s] of series) {
    for (const [key, dash] of [["median_ns", ""], ["max_ns", "3,3"]]) {
      const pts = s.t_s.map((t, k) => `${x(t).toFixed(1)},${y(s[key][k]).toFixed(1)}`);
      points += pts.length;
      if (pts.length) el("polyline", {points: pts.join(" "), class: cls, "stroke-dasharray": dash, "stroke-width": 1.5}, svg);
    }
  }
  el("text", {x: W - R, y: T + 9, "text-anchor": "end"}, svg, "solid: median per bin, dashed: max; blue hardware, orange software");
}
const tt = document.querySelector("#targets tbody");
for (const t of D.targets) {
  const tr = row(tt, [t.what, t.target, t.measured, t.met ? "met" : "missed"]);
  tr.lastChild.className = t.met ? "met" : "missed";
}
document.body.dataset.rendered = "ok";
document.body.dataset.bars = String(bars);
document.body.dataset.points = String(points);
</script>
</body></html>
"##;

/// What a line-rate run measured.
#[derive(Debug, Clone, Copy)]
pub struct LineRate {
    pub frames: u64,
    pub frame_bytes: usize,
    pub accepted: u64,
    pub beats: u64,
    pub cycles: u64,
    pub stall_cycles: u64,
    pub input_stall_counter: u64,
    pub cycles_per_second: f64,
}

/// `frames` back-to-back minimum-size (60-byte) frames through the Verilated pipeline: one
/// binance_sbe venue, each frame a datagram with a truncated message (the decoder walks it and
/// counts it), so the stream exercises every stage without filling the event ring.
#[cfg(feature = "sim")]
pub fn line_rate(frames: u64, mut progress: impl FnMut(u64)) -> Result<LineRate, DetectError> {
    use std::net::{Ipv4Addr, SocketAddrV4};
    use tickcross_bindings::counter;
    use tickcross_capture::netgen::UdpFrameBuilder;
    use tickcross_core::program::{Filter, Program, Protocol};
    use tickcross_device::hwpath::{HwDetector, SimOptions};
    let program = Program {
        venues: vec![Some(Protocol::BinanceSbe)],
        filters: vec![Filter {
            ip: [239, 1, 1, 1],
            prefix: 32,
            port: 5000,
            venue: 0,
        }],
        symbols: vec![(0, b"BTCUSDT".to_vec(), 0)],
        edges: vec![0],
    };
    let mut hw = HwDetector::simulated(&program, &SimOptions::default())?;
    let builder = UdpFrameBuilder::new(
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 30000),
        SocketAddrV4::new(Ipv4Addr::new(239, 1, 1, 1), 5000),
    );
    let mut bytes = 0;
    for i in 0..frames {
        let payload = [(i % 251) as u8; 18];
        let f = builder
            .build(&payload)
            .map_err(|e| DetectError::Config(e.to_string()))?;
        bytes = f.len();
        hw.push_frame(&Frame::new(i, f))?;
        if i % 100_000 == 0 {
            progress(i);
        }
    }
    hw.flush()?;
    let c = hw.counters()?;
    let s = hw.sim_stats();
    Ok(LineRate {
        frames,
        frame_bytes: bytes,
        accepted: c.get(counter::FRAMES_ACCEPTED),
        beats: s.beats,
        cycles: s.beats + s.stall_cycles,
        stall_cycles: s.stall_cycles,
        input_stall_counter: c.get(counter::INPUT_STALL_CYCLES),
        cycles_per_second: s.cycles_per_second(),
    })
}
