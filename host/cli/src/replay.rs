//! Replay: frames from captures through one or two detection paths, with the comparison that
//! `--path both` makes and the JSONL outputs of DESIGN section 5.

use crate::config::Config;
use std::io::Write;
use std::time::{Duration, Instant};
use tickcross_core::counters::Counters;
use tickcross_core::detect::{DetectError, Detector};
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_core::price9;
use tickcross_core::quotes::QuoteTable;

/// What one path produced.
#[derive(Debug, Clone)]
pub struct PathResult {
    pub name: &'static str,
    pub events: Vec<Event>,
    pub counters: Counters,
    pub quotes: QuoteTable,
}

/// How far a replay got, reported periodically.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub frames: u64,
    pub events: u64,
    pub elapsed: Duration,
}

/// Drains every path's events every this many frames (keeps the device ring and memory small).
const DRAIN_EVERY: u64 = 256;

/// Pushes every frame to every path (in order), then flushes and collects the results.
/// `progress` is called about once a second.
pub fn run<I, E>(
    paths: &mut [&mut dyn Detector],
    frames: I,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<PathResult>, ReplayError>
where
    I: IntoIterator<Item = Result<Frame, E>>,
    E: std::fmt::Display,
{
    let start = Instant::now();
    let mut last = start;
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); paths.len()];
    let mut n = 0u64;
    for frame in frames {
        let frame = frame.map_err(|e| ReplayError::Input(e.to_string()))?;
        for p in paths.iter_mut() {
            p.push_frame(&frame)?;
        }
        n += 1;
        if n.is_multiple_of(DRAIN_EVERY) {
            for (p, ev) in paths.iter_mut().zip(events.iter_mut()) {
                p.drain_events(ev)?;
            }
            if last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                progress(Progress {
                    frames: n,
                    events: events[0].len() as u64,
                    elapsed: start.elapsed(),
                });
            }
        }
    }
    let mut out = Vec::with_capacity(paths.len());
    for (p, mut ev) in paths.iter_mut().zip(events) {
        p.flush()?;
        p.drain_events(&mut ev)?;
        out.push(PathResult {
            name: p.name(),
            events: ev,
            counters: p.counters()?,
            quotes: p.quotes()?,
        });
    }
    progress(Progress {
        frames: n,
        events: out.first().map_or(0, |r| r.events.len() as u64),
        elapsed: start.elapsed(),
    });
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error("input: {0}")]
    Input(String),
}

/// The first place two paths disagree, described for a human. Counters come first: a lost
/// event (ring overflow) or a dropped frame is named there, where a shifted event list is not.
pub fn first_difference(a: &PathResult, b: &PathResult, cfg: &Config) -> Option<String> {
    if let Some((name, x, y)) = a.counters.first_difference(&b.counters) {
        return Some(format!("counter {name}: {} {x}, {} {y}", a.name, b.name));
    }
    for (i, (x, y)) in a.events.iter().zip(b.events.iter()).enumerate() {
        if !x.contract_eq(y) {
            return Some(format!(
                "event {i} differs:\n  {}: {}\n  {}: {}",
                a.name,
                event_json(x, cfg),
                b.name,
                event_json(y, cfg)
            ));
        }
    }
    if a.events.len() != b.events.len() {
        let (longer, name) = if a.events.len() > b.events.len() {
            (a, a.name)
        } else {
            (b, b.name)
        };
        let i = a.events.len().min(b.events.len());
        return Some(format!(
            "{} has {} events, {} has {}; first extra event ({name}): {}",
            a.name,
            a.events.len(),
            b.name,
            b.events.len(),
            event_json(&longer.events[i], cfg)
        ));
    }
    if let Some((v, i)) = a.quotes.first_difference(&b.quotes) {
        return Some(format!(
            "quote of venue {} instrument {}:\n  {}: {}\n  {}: {}",
            cfg.venue_name(v).unwrap_or("?"),
            cfg.instrument_name(i).unwrap_or("?"),
            a.name,
            quote_json(v, i, a.quotes.get(v, i), a.quotes.stale(v, i), cfg),
            b.name,
            quote_json(v, i, b.quotes.get(v, i), b.quotes.stale(v, i), cfg)
        ));
    }
    None
}

fn name_or_index(name: Option<&str>, i: usize) -> serde_json::Value {
    match name {
        Some(n) => serde_json::Value::from(n),
        None => serde_json::Value::from(i),
    }
}

/// One event as a DESIGN section 5 JSON object (names from the config, exact decimal strings).
pub fn event_json(e: &Event, cfg: &Config) -> String {
    let mut o = serde_json::Map::new();
    o.insert("seq".into(), e.seq.into());
    o.insert("ts_ns".into(), e.ts_ns.into());
    o.insert(
        "instrument".into(),
        name_or_index(
            cfg.instrument_name(e.instrument as usize),
            e.instrument as usize,
        ),
    );
    o.insert(
        "buy_venue".into(),
        name_or_index(cfg.venue_name(e.buy_venue as usize), e.buy_venue as usize),
    );
    o.insert(
        "sell_venue".into(),
        name_or_index(cfg.venue_name(e.sell_venue as usize), e.sell_venue as usize),
    );
    o.insert("buy_price".into(), price9::format(e.buy_price).into());
    o.insert("buy_qty".into(), price9::format(e.buy_qty).into());
    o.insert("sell_price".into(), price9::format(e.sell_price).into());
    o.insert("sell_qty".into(), price9::format(e.sell_qty).into());
    o.insert("qty".into(), price9::format(e.qty).into());
    o.insert("buy_ts_ns".into(), e.buy_ts_ns.into());
    o.insert("sell_ts_ns".into(), e.sell_ts_ns.into());
    o.insert(
        "trigger_venue".into(),
        name_or_index(
            cfg.venue_name(e.trigger_venue as usize),
            e.trigger_venue as usize,
        ),
    );
    // a decimal string: JSON numbers lose u64 precision in many readers
    o.insert("feed_key".into(), e.feed_key.to_string().into());
    if let Some(c) = e.cycles {
        let mut h = serde_json::Map::new();
        h.insert("frame".into(), c.frame.into());
        h.insert("first".into(), c.first.into());
        h.insert("last".into(), c.last.into());
        h.insert("commit".into(), c.commit.into());
        o.insert("hw_cycles".into(), h.into());
    }
    serde_json::Value::Object(o).to_string()
}

/// One quote table entry as JSON; `stale`: it takes no part in detection (docs/PIPELINE.md
/// section 6).
pub fn quote_json(
    v: usize,
    i: usize,
    q: &tickcross_core::quotes::QuoteEntry,
    stale: bool,
    cfg: &Config,
) -> String {
    serde_json::json!({
        "venue": name_or_index(cfg.venue_name(v), v),
        "instrument": name_or_index(cfg.instrument_name(i), i),
        "bid_price": price9::format(q.bid_price),
        "bid_qty": price9::format(q.bid_qty),
        "ask_price": price9::format(q.ask_price),
        "ask_qty": price9::format(q.ask_qty),
        "ts_ns": q.ts_ns,
        "stale": stale,
    })
    .to_string()
}

/// Writes events as JSONL.
pub fn write_events(w: &mut impl Write, events: &[Event], cfg: &Config) -> std::io::Result<()> {
    for e in events {
        writeln!(w, "{}", event_json(e, cfg))?;
    }
    Ok(())
}

/// Writes every written quote-table entry as JSONL, venue by venue, instrument by instrument.
pub fn write_quotes(w: &mut impl Write, quotes: &QuoteTable, cfg: &Config) -> std::io::Result<()> {
    for (v, i, q) in quotes.written() {
        writeln!(w, "{}", quote_json(v, i, q, quotes.stale(v, i), cfg))?;
    }
    Ok(())
}
