//! Trading on a replay: the detections of a capture (from either path) and the capture's own
//! frames, which set the simulated venues' books, on one simulated clock.
//!
//! Order of things at one instant t: first every frame stamped t or earlier (the venues' books at
//! t), then what the venues and the engine's timers have due at t (reports, timeouts, unwind
//! retries, transfer arrivals), then the detections stamped t. An event is handled at its
//! timestamp; its orders reach their venues one latency later.
//!
//! A venue whose orders leave the process (`order_entry`, started by the binary's
//! [`VenueAdapters`]; FIX 4.4 today) runs on wall time (`VenueClock::Wall`): its session is
//! logged on before the replay starts (or the run fails, saying why), and whenever orders to it
//! are open the replay stops its simulated clock and polls that venue every 150 us until they
//! are final, for at most `order_timeout_ms` of wall time after the last order was sent; then it
//! goes on, and the engine's timers (at simulated time) cancel what is still open. Resuming a
//! journal with a FIX venue is refused: the orders in flight at the crash would need an
//! order-status reconcile with the venue (OrderStatusRequest, or the venue's drop copy), which
//! is not implemented.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::config::OrderEntry;
use super::config::TradeConfig;
use super::engine::{request_of, Engine, EngineError, EngineSetup, ResumeInfo};
use super::journal::{self, Record};
use super::simvenue::{MarketView, SharedMarket, SimVenue};
use super::venue::{OrderRequest, Venue, VenueClock};
use tickcross_core::config::DetectionConfig;
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_swpath::SwDetector;

#[derive(Debug, thiserror::Error)]
pub enum TradeRunError {
    #[error("the configuration has no [trading] section")]
    NoTrading,
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("input: {0}")]
    Input(String),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Verify(#[from] super::verify::VerifyError),
    #[error("journal {} holds {records} records of an earlier run, and resuming it was not asked for", .path.display())]
    ResumeNotAsked { path: PathBuf, records: usize },
    #[error("there is no journal at {} to resume", .path.display())]
    NothingToResume { path: PathBuf },
    #[error("journal {path} fails verification ({} mismatches), refusing to resume from it:\n{}\n(`tickcross journal verify` shows the same; start with a new journal)", .mismatches.len(), first_lines(.mismatches))]
    Inconsistent {
        path: PathBuf,
        mismatches: Vec<String>,
    },
}

/// The first few of many lines, indented, for an error message.
fn first_lines(lines: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut out: Vec<String> = lines.iter().take(SHOWN).map(|l| format!("  {l}")).collect();
    if lines.len() > SHOWN {
        out.push(format!("  ... and {} more", lines.len() - SHOWN));
    }
    out.join("\n")
}

#[derive(Debug, Clone, Default)]
pub struct TradeOptions {
    /// Journal file: created, or resumed from when it holds records (the binary asks for
    /// `--resume` first, through [`check_journal`]).
    pub journal: Option<PathBuf>,
    /// The kill switch is on while this file exists.
    pub kill_file: Option<PathBuf>,
    /// Identifies the inputs (captures) besides the config, for the journal's digest.
    pub inputs_id: String,
}

/// Live figures, about once a second.
#[derive(Debug, Clone)]
pub struct TradeProgress {
    pub events: u64,
    pub trades: u64,
    pub open_orders: usize,
    pub realized: Decimal,
    pub fees: Decimal,
    pub elapsed: Duration,
}

/// What a trading run ends with.
pub struct TradeOutcome {
    pub engine: Engine,
    pub market: SharedMarket,
    pub first_ts: u64,
    pub last_ts: u64,
    pub resumed: Option<ResumeInfo>,
    /// The journal held only a torn start (the process died while creating it): it was
    /// started afresh. The torn bytes, if any.
    pub torn_start: Option<journal::TornTail>,
}

/// A digest of the config text and the inputs (FNV-1a, hex): a journal resumes only with both.
pub fn digest(config_text: &str, inputs_id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in config_text.bytes().chain([0u8]).chain(inputs_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The validated configuration a trading run needs: the detection part (names, and the
/// program of the simulated venues' own view of the feed) and the trading part.
#[derive(Debug, Clone, Copy)]
pub struct TradingInputs<'a> {
    pub detection: &'a DetectionConfig,
    /// None: the file has no `[trading]` section (an error for a trading run).
    pub trade: Option<&'a TradeConfig>,
}

/// Starts the venues whose orders leave the process (`OrderEntry::External`). Trading knows
/// only its simulated venue; the binary implements this with its order-entry adapters (FIX).
pub trait VenueAdapters {
    /// Starts venue `index` (named `name`) and waits until it can take orders, or says why not.
    fn start(&self, index: usize, name: &str) -> Result<Box<dyn Venue>, String>;
}

/// For runs whose every venue is simulated: starting an external one is an error.
pub struct NoAdapters;

impl VenueAdapters for NoAdapters {
    fn start(&self, _index: usize, name: &str) -> Result<Box<dyn Venue>, String> {
        Err(format!(
            "venue {name:?} has an order_entry, but this run has no order-entry adapters"
        ))
    }
}

/// The engine's setup from a validated config.
pub fn setup_of(
    cfg: TradingInputs<'_>,
    digest: String,
    kill_file: Option<PathBuf>,
) -> Result<EngineSetup, TradeRunError> {
    let trade = cfg.trade.ok_or(TradeRunError::NoTrading)?.clone();
    Ok(EngineSetup {
        trade,
        venue_names: cfg
            .detection
            .venues()
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        instrument_names: cfg
            .detection
            .instruments()
            .iter()
            .map(|i| i.name.clone())
            .collect(),
        digest,
        kill_file,
    })
}

/// What a trading run will do with its journal, decided by [`check_journal`] before any work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalStart {
    /// No journal, or none at its path yet: a new one is created.
    New,
    /// The file holds only a torn start (the process died while creating it): started afresh.
    TornStart,
    /// The journal holds this many records and passed every check a resume makes.
    Resume { records: usize },
}

/// Resuming is an explicit choice, checked before any replay work: a journal holding records
/// is resumed only with `resume`, after the checks [`run`] makes (those of `journal verify`,
/// the digest and header of this config and these inputs, no venue with external order entry);
/// `resume` with no journal file at all is an error (a mistyped path would otherwise trade the
/// same captures again from the start). A torn start holds nothing and starts afresh either way.
pub fn check_journal(
    cfg: TradingInputs<'_>,
    config_text: &str,
    opts: &TradeOptions,
    resume: bool,
) -> Result<JournalStart, TradeRunError> {
    let Some(path) = &opts.journal else {
        return Ok(JournalStart::New);
    };
    if !path.exists() {
        return if resume {
            Err(TradeRunError::NothingToResume { path: path.clone() })
        } else {
            Ok(JournalStart::New)
        };
    }
    let c = journal::read(path)?;
    if c.is_empty() {
        return Ok(if c.torn.is_some() {
            JournalStart::TornStart
        } else {
            JournalStart::New
        });
    }
    if !resume {
        return Err(TradeRunError::ResumeNotAsked {
            path: path.clone(),
            records: c.records.len(),
        });
    }
    let v = super::verify::check(path, &c)?;
    if !v.mismatches.is_empty() {
        return Err(TradeRunError::Inconsistent {
            path: path.clone(),
            mismatches: v.mismatches,
        });
    }
    let setup = setup_of(cfg, digest(config_text, &opts.inputs_id), None)?;
    let mismatch = |why: &str| {
        Err(TradeRunError::Engine(EngineError::Mismatch(format!(
            "{}: {why}",
            path.display()
        ))))
    };
    match c.records.first() {
        Some(Record::Header(h)) if h.version != journal::VERSION => {
            return mismatch(&format!(
                "journal version {} (this tickcross writes {})",
                h.version,
                journal::VERSION
            ))
        }
        Some(Record::Header(h)) if h.digest != setup.digest => {
            return mismatch(
                "it was written for another configuration or other captures (digest differs)",
            )
        }
        Some(Record::Header(h)) if *h != setup.header() => {
            return mismatch(
                "its header (venues, instruments, contract sizes, initial balances, fees) \
                 differs from this configuration's although the digest matches: the header \
                 was altered",
            )
        }
        Some(Record::Header(_)) => {}
        _ => return mismatch("it does not start with a header record"),
    }
    if let Some(k) = setup
        .trade
        .venues
        .iter()
        .position(|v| matches!(v.order_entry, OrderEntry::External { .. }))
    {
        return Err(TradeRunError::Setup(format!(
            "journal {} holds records and venue {:?} sends its orders out (order_entry): \
             resuming would need an order-status reconcile with the venue for the orders in \
             flight at the crash, which is not implemented; start with a new journal",
            path.display(),
            setup.venue_names[k]
        )));
    }
    Ok(JournalStart::Resume {
        records: c.records.len(),
    })
}

/// Simulated venues as the engine takes them.
pub fn boxed(sims: Vec<SimVenue>) -> Vec<Box<dyn Venue>> {
    sims.into_iter()
        .map(|s| Box::new(s) as Box<dyn Venue>)
        .collect()
}

fn progress_of(engine: &Engine, events: usize, started: Instant) -> TradeProgress {
    let st = engine.state();
    TradeProgress {
        events: events as u64,
        trades: st.pnl.closed.len() as u64,
        open_orders: st.open_orders(),
        realized: st.pnl.realized,
        fees: st.pnl.fees,
        elapsed: started.elapsed(),
    }
}

/// Orders sent before a restart, from a journal's records: (request, sent, reports booked,
/// cancel sent).
fn sent_orders(records: &[Record]) -> Vec<(OrderRequest, u64, usize, Option<u64>)> {
    use std::collections::BTreeMap;
    let mut sent = BTreeMap::new();
    let mut reports: BTreeMap<u64, usize> = BTreeMap::new();
    let mut cancels = BTreeMap::new();
    for rec in records {
        match rec {
            Record::TradeOpen(t) => {
                for o in [&t.buy, &t.sell] {
                    sent.insert(o.id, (request_of(o), o.sent_ns));
                }
            }
            Record::Order(o) => {
                sent.insert(o.id, (request_of(o), o.sent_ns));
            }
            Record::Exec { report, .. } => *reports.entry(report.order_id).or_default() += 1,
            Record::CancelSent {
                ts_ns, order_id, ..
            } => {
                cancels.insert(*order_id, *ts_ns);
            }
            _ => {}
        }
    }
    sent.into_iter()
        .map(|(id, (req, at))| {
            (
                req,
                at,
                reports.get(&id).copied().unwrap_or(0),
                cancels.get(&id).copied(),
            )
        })
        .collect()
}

/// Runs the engine over a replay. `events` are the detections of the same frames, in order.
pub fn run<I, E>(
    cfg: TradingInputs<'_>,
    adapters: &dyn VenueAdapters,
    config_text: &str,
    events: &[Event],
    frames: I,
    opts: &TradeOptions,
    mut progress: impl FnMut(&TradeProgress),
) -> Result<TradeOutcome, TradeRunError>
where
    I: IntoIterator<Item = Result<Frame, E>>,
    E: std::fmt::Display,
{
    let setup = setup_of(
        cfg,
        digest(config_text, &opts.inputs_id),
        opts.kill_file.clone(),
    )?;
    let feed = SwDetector::new(&cfg.detection.program())
        .map_err(|e| TradeRunError::Setup(e.to_string()))?;
    let market: SharedMarket = Rc::new(RefCell::new(MarketView::from_frames(feed)));
    let mut frames = frames.into_iter().peekable();
    let first_ts = match frames.peek() {
        Some(Ok(f)) => f.ts_ns,
        Some(Err(_)) | None => events.first().map_or(0, |e| e.ts_ns),
    };

    let mut sims = SimVenue::for_config(&setup.trade, &market, first_ts);

    // a journal with records is resumed, after the same checks as `journal verify`: its
    // orders are replayed into the simulated venues. One with only a torn start (the process
    // died while creating it) holds nothing and is started afresh.
    let mut torn_start = None;
    let existing = match &opts.journal {
        Some(p) if p.exists() => {
            let c = journal::read(p)?;
            if c.is_empty() {
                if let Some(t) = c.torn {
                    tracing::warn!(
                        journal = %p.display(),
                        bytes = t.bytes,
                        "journal holds only a torn start (the process died while creating it): started afresh"
                    );
                    torn_start = Some(t);
                }
                None
            } else {
                let v = super::verify::check(p, &c)?;
                if !v.mismatches.is_empty() {
                    return Err(TradeRunError::Inconsistent {
                        path: p.clone(),
                        mismatches: v.mismatches,
                    });
                }
                Some(c)
            }
        }
        _ => None,
    };
    if let Some(c) = &existing {
        for (req, at, seen, cancel) in sent_orders(&c.records) {
            let v = req.venue;
            if let Some(s) = sims.get_mut(v) {
                s.restore_order(&req, at, seen);
                if let Some(c) = cancel {
                    s.restore_cancel(req.id, c);
                }
            }
        }
    }
    if let (Some(_), Some(path)) = (&existing, &opts.journal) {
        if let Some(k) = setup
            .trade
            .venues
            .iter()
            .position(|v| matches!(v.order_entry, OrderEntry::External { .. }))
        {
            return Err(TradeRunError::Setup(format!(
                "journal {} holds records and venue {:?} sends its orders out (order_entry): \
                 resuming would need an \
                 order-status reconcile with the venue for the orders in flight at the crash, \
                 which is not implemented; start with a new journal",
                path.display(),
                setup.venue_names[k]
            )));
        }
    }
    let mut venues: Vec<Box<dyn Venue>> = Vec::with_capacity(sims.len());
    for (k, s) in sims.into_iter().enumerate() {
        match &setup.trade.venues[k].order_entry {
            OrderEntry::Simulated => venues.push(Box::new(s)),
            OrderEntry::External { .. } => venues.push(
                adapters
                    .start(k, &setup.venue_names[k])
                    .map_err(TradeRunError::Setup)?,
            ),
        }
    }
    let (mut engine, resumed) = match (existing, &opts.journal) {
        (Some(contents), Some(path)) => {
            if let Some(t) = contents.torn {
                tracing::warn!(
                    journal = %path.display(),
                    offset = t.offset,
                    bytes = t.bytes,
                    "journal's last record was torn (the process died while writing it): cut"
                );
            }
            let (e, info) = Engine::resume(setup, venues, path, contents)?;
            tracing::info!(
                journal = %path.display(),
                records = info.records,
                last_event = ?info.last_event_seq,
                "resuming from the journal"
            );
            (e, Some(info))
        }
        (_, path) => (Engine::new(setup, venues, path.as_deref())?, None),
    };
    let resume_ts = engine.state().last_ts;
    let wall: Vec<bool> = engine
        .venues()
        .iter()
        .map(|v| v.clock() == VenueClock::Wall)
        .collect();
    let wall_timeout = Duration::from_nanos(engine.setup().trade.params.order_timeout_ns);

    let started = Instant::now();
    let mut last_progress = started;
    let mut now = first_ts;
    let mut ei = 0usize;
    let mut market_ts = first_ts;
    loop {
        let tf = match frames.peek() {
            Some(Ok(f)) => Some(f.ts_ns),
            Some(Err(_)) => {
                let Some(Err(e)) = frames.next() else {
                    unreachable!()
                };
                return Err(TradeRunError::Input(e.to_string()));
            }
            None => None,
        };
        let te = events.get(ei).map(|e| e.ts_ns);
        // once the input is done, only orders still out are waited for (a transfer still on
        // its way stays in transit in the report)
        let td = engine
            .next_due()
            .filter(|_| tf.is_some() || te.is_some() || engine.has_orders_out());
        let later = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
        let rest = later(te, td);
        if let Some(t) = tf.filter(|&t| rest.is_none_or(|r| t <= r)) {
            let Some(Ok(f)) = frames.next() else {
                unreachable!()
            };
            market.borrow_mut().apply_frame(&f);
            market_ts = market_ts.max(t);
            continue;
        }
        if let Some(d) = td.filter(|&d| te.is_none_or(|e| d <= e)) {
            now = now.max(d);
            complete_interrupted(&mut engine, now)?;
            poll_all(&mut engine, now, resume_ts)?;
            engine.on_timers(now)?;
            wait_for_wall_venues(&mut engine, now, &wall, wall_timeout)?;
            continue;
        }
        if let Some(ev) = events.get(ei) {
            now = now.max(ev.ts_ns);
            complete_interrupted(&mut engine, now)?;
            poll_wall(&mut engine, now, &wall)?;
            engine.on_event(ev, now)?;
            wait_for_wall_venues(&mut engine, now, &wall, wall_timeout)?;
            ei += 1;
            if last_progress.elapsed() >= Duration::from_secs(1) {
                last_progress = Instant::now();
                progress(&progress_of(&engine, ei, started));
            }
            continue;
        }
        break;
    }
    engine.complete_interrupted()?;
    let last_ts = now.max(market_ts);
    engine.finish(last_ts)?;
    progress(&progress_of(&engine, ei, started));
    Ok(TradeOutcome {
        engine,
        market,
        first_ts,
        last_ts,
        resumed,
        torn_start,
    })
}

/// After a restart: once the replay is back at the time of the step the journal was cut in,
/// that step is finished first (before what else happens at that time).
fn complete_interrupted(engine: &mut Engine, now: u64) -> Result<(), EngineError> {
    if engine.interrupted_at().is_some_and(|t| t <= now) {
        engine.complete_interrupted()?;
    }
    Ok(())
}

fn poll_wall(engine: &mut Engine, now: u64, wall: &[bool]) -> Result<(), EngineError> {
    for (v, _) in wall.iter().enumerate().filter(|(_, w)| **w) {
        engine.poll_venue(v, now)?;
    }
    Ok(())
}

fn open_on_wall(engine: &Engine, wall: &[bool]) -> bool {
    engine
        .state()
        .orders
        .values()
        .any(|o| o.end.is_none() && wall.get(o.rec.venue).copied().unwrap_or(false))
}

/// While orders to wall-clock venues are open, simulated time stands still: polls those venues
/// every 150 us until the orders are final (booking what comes back, which may send unwinds),
/// for at most `timeout` of wall time after the last order was sent.
fn wait_for_wall_venues(
    engine: &mut Engine,
    now: u64,
    wall: &[bool],
    timeout: Duration,
) -> Result<(), EngineError> {
    if !open_on_wall(engine, wall) {
        return Ok(());
    }
    let mut sent = engine.state().stats.orders_sent;
    let mut deadline = Instant::now() + timeout;
    loop {
        poll_wall(engine, now, wall)?;
        if !open_on_wall(engine, wall) {
            return Ok(());
        }
        let s = engine.state().stats.orders_sent;
        if s != sent {
            sent = s;
            deadline = Instant::now() + timeout;
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                "orders on a FIX venue not final after {timeout:?} of wall time: the engine's timeouts take over"
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_micros(150));
    }
}

/// Polls every venue at `now`. After a restart, connection changes from before the journal's
/// last record were booked already and are not booked again.
fn poll_all(engine: &mut Engine, now: u64, resume_ts: u64) -> Result<(), EngineError> {
    if now >= resume_ts {
        return engine.poll_venues(now);
    }
    let mut buf = Vec::new();
    for v in 0..engine.venues().len() {
        buf.clear();
        if let Err(e) = engine.venue_mut(v).poll(now, &mut buf) {
            tracing::warn!("poll: {e}");
        }
        for ev in buf.drain(..) {
            if matches!(
                ev,
                super::venue::VenueEvent::Connected | super::venue::VenueEvent::Disconnected { .. }
            ) {
                continue;
            }
            engine.on_venue_event(v, ev, now)?;
        }
    }
    Ok(())
}

/// The inputs' identity for the digest: each capture's name and size.
pub fn inputs_id(captures: &[PathBuf]) -> String {
    captures
        .iter()
        .map(|p| {
            let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            format!(
                "{}:{len}",
                Path::new(p).file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Host reaction, for `tickcross compare`: the engine over `events` (simulated venues, no
/// journal) with each `on_event` timed; returns the ns of the calls that opened a trade (both
/// legs decided, reserved and handed to their venues).
pub fn reaction_times(
    cfg: TradingInputs<'_>,
    config_text: &str,
    events: &[Event],
    frames: &[Frame],
) -> Result<Vec<u64>, TradeRunError> {
    let setup = setup_of(cfg, digest(config_text, "compare"), None)?;
    let feed = SwDetector::new(&cfg.detection.program())
        .map_err(|e| TradeRunError::Setup(e.to_string()))?;
    let market: SharedMarket = Rc::new(RefCell::new(MarketView::from_frames(feed)));
    let first_ts = frames.first().map_or(0, |f| f.ts_ns);
    let venues = boxed(SimVenue::for_config(&setup.trade, &market, first_ts));
    let mut engine = Engine::new(setup, venues, None)?;
    let mut out = Vec::new();
    let mut fi = 0;
    for ev in events {
        while fi < frames.len() && frames[fi].ts_ns <= ev.ts_ns {
            market.borrow_mut().apply_frame(&frames[fi]);
            fi += 1;
        }
        while let Some(d) = engine.next_due().filter(|&d| d <= ev.ts_ns) {
            engine.poll_venues(d)?;
            engine.on_timers(d)?;
        }
        let before = engine.state().next_trade_id;
        let t0 = Instant::now();
        engine.on_event(ev, ev.ts_ns)?;
        let ns = t0.elapsed().as_nanos() as u64;
        if engine.state().next_trade_id != before {
            out.push(ns);
        }
    }
    Ok(out)
}
