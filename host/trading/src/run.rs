//! Trading on a replay: the detections of a capture (from either path) and the capture's own
//! frames, which set the simulated venues' books, on one simulated clock; and the same engine
//! stepped live, on the wall clock ([`Trader`], [`TimeMode::Wall`]).
//!
//! Order of things at one instant t ([`next_step`], shared by replay and live runs): first every
//! frame stamped t or earlier (the venues' books at t), then what the venues and the engine's
//! timers have due at t (reports, timeouts, unwind retries, transfer arrivals), then the
//! detections stamped t. An event is handled at its timestamp in a replay, at the wall clock
//! when it is handed over in a live run; its orders reach their venues one latency later.
//!
//! A venue whose orders leave the process (`order_entry`, started by the binary's
//! [`VenueAdapters`]; FIX 4.4 today) runs on wall time (`VenueClock::Wall`): its session is
//! logged on before the run starts (or the run fails, saying why). In a replay, whenever orders
//! to it are open the replay stops its simulated clock and polls that venue every 150 us until
//! they are final, for at most `order_timeout_ms` of wall time after the last order was sent;
//! then it goes on, and the engine's timers (at simulated time) cancel what is still open. A
//! live run never waits for a venue: its loop polls the wall-clock venues each time round
//! ([`Trader::poll_wall`]). Resuming a journal with such a venue first asks it what became of
//! the orders the journal has in flight there (FIX OrderStatusRequest, and OrderMassStatusRequest
//! where the dialect has it) and books the answers ([`reconcile`]); only then does the run trade.

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
    /// The live figures at the end.
    pub progress: TradeProgress,
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
    Ok(JournalStart::Resume {
        records: c.records.len(),
    })
}

/// How long a resume waits for the venues' answers on the orders in flight at the restart (the
/// config's `order_timeout_ms` when longer): only a venue that never answers runs into it.
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(10);

/// After a restart: asks every venue whose orders leave the process what became of the orders
/// the journal has in flight there (and, where the venue has it, a mass status of every order),
/// and books the answers (`engine::reconcile`), before the run trades again. A venue that
/// cannot be asked, refuses to answer, or does not answer within the timeout fails the run,
/// naming the orders: trading on with orders in an unknown state is not an option.
fn reconcile(
    engine: &mut Engine,
    wall: &[bool],
    now: &dyn Fn() -> u64,
    timeout: Duration,
) -> Result<(), TradeRunError> {
    let before = engine.state().stats.reconciled.clone();
    let names = engine.setup().venue_names.clone();
    let mut asked = 0;
    for (v, _) in wall.iter().enumerate().filter(|(_, w)| **w) {
        let ids: Vec<u64> = engine.in_flight(v).iter().map(|o| o.order.id).collect();
        asked += engine.request_status(v, now()).map_err(|e| {
            TradeRunError::Setup(format!(
                "venue {:?}: the journal has {} orders in flight there ({ids:?}) and the venue \
                 cannot be asked about them: {e}; resume again once it can, or settle them with \
                 the venue by hand and start with a new journal",
                names[v],
                ids.len()
            ))
        })?;
    }
    let t0 = Instant::now();
    loop {
        for (v, _) in wall.iter().enumerate().filter(|(_, w)| **w) {
            engine.poll_venue(v, now())?;
        }
        let refused = engine.status_refused();
        if !refused.is_empty() {
            let list: Vec<String> = refused
                .iter()
                .map(|(id, why)| format!("order {id}: {why}"))
                .collect();
            return Err(TradeRunError::Setup(format!(
                "a venue refused to say what became of orders in flight at the restart ({}); \
                 not trading with orders in an unknown state",
                list.join("; ")
            )));
        }
        let (orders, mass) = engine.reconcile_waiting();
        if orders.is_empty() && mass.is_empty() {
            break;
        }
        if t0.elapsed() >= timeout {
            let mass: Vec<&String> = mass.iter().map(|&v| &names[v]).collect();
            return Err(TradeRunError::Setup(format!(
                "no answer within {timeout:?} on the status of orders {orders:?} in flight at \
                 the restart{}; not trading with orders in an unknown state",
                if mass.is_empty() {
                    String::new()
                } else {
                    format!(" (mass status of {mass:?} incomplete)")
                }
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let after = &engine.state().stats.reconciled;
    let found: Vec<String> = after
        .iter()
        .map(|(o, n)| (o, n - before.get(o).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{o:?} {n}"))
        .collect();
    if asked > 0 || !found.is_empty() {
        tracing::info!(
            asked,
            found = %found.join(", "),
            "reconciled the orders in flight at the restart with their venues"
        );
    }
    Ok(())
}

/// The wall clock (CLOCK_REALTIME), ns since the epoch.
fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Simulated venues as the engine takes them.
pub fn boxed(sims: Vec<SimVenue>) -> Vec<Box<dyn Venue>> {
    sims.into_iter()
        .map(|s| Box::new(s) as Box<dyn Venue>)
        .collect()
}

fn progress_of(engine: &Engine, events: u64, started: Instant) -> TradeProgress {
    let st = engine.state();
    TradeProgress {
        events,
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

/// Whose clock a trading run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    /// A replay: time is the inputs' timestamps. While orders to wall-clock venues (FIX) are
    /// open, simulated time stands still and the run waits for them (module comment).
    Simulated,
    /// A live run: time is the wall clock (CLOCK_REALTIME ns, the clock of the kernel's
    /// ingress timestamps). Nothing waits for a venue: the caller polls the wall-clock venues
    /// ([`Trader::poll_wall`]) whenever it comes round, and the simulated venues run on wall
    /// time (what is due by now is done when the caller steps).
    Wall,
}

/// The next thing a trading run does, chosen among the inputs that are ready: at one instant,
/// first the frames stamped then or earlier (the venues' books), then what the venues and the
/// engine's timers have due, then the detections. Replay and live runs both step by this rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Apply the next frame to the venues' books.
    Frame,
    /// Run what is due at this time.
    Due(u64),
    /// Hand the next detection to the engine.
    Event,
}

/// The step for the next frame's time `tf`, the next detection's `te` and the next due time
/// `td` (each None when there is none); None when there is nothing to do.
pub fn next_step(tf: Option<u64>, te: Option<u64>, td: Option<u64>) -> Option<Step> {
    let rest = match (te, td) {
        (Some(e), Some(d)) => Some(e.min(d)),
        (e, None) => e,
        (None, d) => d,
    };
    if tf.is_some_and(|t| rest.is_none_or(|r| t <= r)) {
        return Some(Step::Frame);
    }
    if let Some(d) = td.filter(|&d| te.is_none_or(|e| d <= e)) {
        return Some(Step::Due(d));
    }
    te.map(|_| Step::Event)
}

/// A trading run in progress: the engine, its venues and the venues' market view, stepped by
/// its caller (the replay loop in [`run`], the live host's loop in the binary) with
/// [`next_step`]'s order.
pub struct Trader {
    engine: Engine,
    market: SharedMarket,
    mode: TimeMode,
    wall: Vec<bool>,
    wall_timeout: Duration,
    resume_ts: u64,
    first_ts: u64,
    now: u64,
    market_ts: u64,
    events: u64,
    started: Instant,
    resumed: Option<ResumeInfo>,
    torn_start: Option<journal::TornTail>,
}

impl std::fmt::Debug for Trader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trader")
            .field("mode", &self.mode)
            .field("now", &self.now)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Trader {
    /// Sets a run up: the engine (new, or resumed from the journal after the checks of `journal
    /// verify`, its orders replayed into the simulated venues), the simulated venues over a
    /// market view kept by decoding the frames the caller applies, and the venues whose orders
    /// leave the process, started by `adapters`. `origin_ns` is the run's first instant (the
    /// replay's first frame; the wall clock at the start of a live run): the simulated venues'
    /// fault windows count from it.
    pub fn start(
        cfg: TradingInputs<'_>,
        adapters: &dyn VenueAdapters,
        config_text: &str,
        opts: &TradeOptions,
        origin_ns: u64,
        mode: TimeMode,
    ) -> Result<Trader, TradeRunError> {
        let setup = setup_of(
            cfg,
            digest(config_text, &opts.inputs_id),
            opts.kill_file.clone(),
        )?;
        let feed = SwDetector::new(&cfg.detection.program())
            .map_err(|e| TradeRunError::Setup(e.to_string()))?;
        let market: SharedMarket = Rc::new(RefCell::new(MarketView::from_frames(feed)));
        let mut sims = SimVenue::for_config(&setup.trade, &market, origin_ns);

        // a journal with records is resumed, after the same checks as `journal verify`: its
        // orders are replayed into the simulated venues. One with only a torn start (the
        // process died while creating it) holds nothing and is started afresh.
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
        let (engine, resumed) = match (existing, &opts.journal) {
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
        let mut engine = engine;
        let resume_ts = engine.state().last_ts;
        let wall: Vec<bool> = engine
            .venues()
            .iter()
            .map(|v| v.clock() == VenueClock::Wall)
            .collect();
        let wall_timeout = Duration::from_nanos(engine.setup().trade.params.order_timeout_ns);
        if resumed.is_some() {
            // a replay books the answers at the journal's last instant, a live run at the wall
            // clock's
            let clock = move || match mode {
                TimeMode::Simulated => resume_ts,
                TimeMode::Wall => wall_clock_ns(),
            };
            reconcile(
                &mut engine,
                &wall,
                &clock,
                wall_timeout.max(RECONCILE_TIMEOUT),
            )?;
        }
        Ok(Trader {
            engine,
            market,
            mode,
            wall,
            wall_timeout,
            resume_ts,
            first_ts: origin_ns,
            now: origin_ns,
            market_ts: origin_ns,
            events: 0,
            started: Instant::now(),
            resumed,
            torn_start,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The P&L of the balances at the venues' current marks against the initial balances (as
    /// the report's `mark_to_market`).
    pub fn mark_to_market(&self) -> Decimal {
        let market = self.market.borrow();
        let marks = super::report::marks(self.engine.setup(), &market);
        super::report::mark_to_market(self.engine.state(), &marks).0
    }

    /// The journal this run resumed, if it did.
    pub fn resumed(&self) -> Option<&ResumeInfo> {
        self.resumed.as_ref()
    }

    /// The run's clock: the latest instant it has acted at.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A frame of the feed, applied to the venues' books.
    pub fn apply_frame(&mut self, f: &Frame) {
        self.market.borrow_mut().apply_frame(f);
        self.market_ts = self.market_ts.max(f.ts_ns);
    }

    /// The earliest time the engine or a simulated venue has something to do. With no input
    /// left (`input_left` false), only orders still out are waited for: a transfer still on
    /// its way stays in transit in the report.
    pub fn next_due(&self, input_left: bool) -> Option<u64> {
        self.engine
            .next_due()
            .filter(|_| input_left || self.engine.has_orders_out())
    }

    /// Runs what is due at `d` (at the run's clock, if that is later): the step a restart cut
    /// short, the venues' reports and connection changes, the engine's timers.
    pub fn on_due(&mut self, d: u64) -> Result<(), TradeRunError> {
        self.now = self.now.max(d);
        let now = self.now;
        complete_interrupted(&mut self.engine, now)?;
        poll_all(&mut self.engine, now, self.resume_ts)?;
        self.engine.on_timers(now)?;
        self.wait_for_wall_venues(now)?;
        Ok(())
    }

    /// Hands a detection to the engine at `at` (its timestamp in a replay; the wall clock when
    /// it is handled in a live run), or at the run's clock if that is later. The engine skips an
    /// event whose `seq` is not above the last one its journal holds (handled before a
    /// restart): a live run numbers its events on from a resumed journal's last.
    pub fn on_event(&mut self, ev: &Event, at: u64) -> Result<(), TradeRunError> {
        self.now = self.now.max(at);
        let now = self.now;
        complete_interrupted(&mut self.engine, now)?;
        poll_wall(&mut self.engine, now, &self.wall)?;
        self.engine.on_event(ev, now)?;
        self.wait_for_wall_venues(now)?;
        self.events += 1;
        Ok(())
    }

    /// Polls the wall-clock venues (FIX) at `now`, booking what they sent: a live run's loop
    /// calls this whenever it comes round. The run's clock moves to `now` only when there is a
    /// wall-clock venue.
    pub fn poll_wall(&mut self, now: u64) -> Result<(), TradeRunError> {
        if !self.wall.contains(&true) {
            // nothing to poll: the clock stays where the last step left it
            return Ok(());
        }
        self.now = self.now.max(now);
        poll_wall(&mut self.engine, self.now, &self.wall)?;
        Ok(())
    }

    fn wait_for_wall_venues(&mut self, now: u64) -> Result<(), EngineError> {
        match self.mode {
            TimeMode::Simulated => {
                wait_for_wall_venues(&mut self.engine, now, &self.wall, self.wall_timeout)
            }
            TimeMode::Wall => Ok(()),
        }
    }

    /// Orders not final, or trades not closed (an unwind may follow).
    pub fn has_orders_out(&self) -> bool {
        self.engine.has_orders_out()
    }

    /// The live figures: events handled, trades closed, open orders, realized P&L, fees.
    pub fn progress(&self) -> TradeProgress {
        progress_of(&self.engine, self.events, self.started)
    }

    /// Ends the run at `end_ns` (or at its clock, if later): finishes a step a restart cut
    /// short, books the pending progress and a final snapshot, syncs the journal and closes the
    /// venues' sessions.
    pub fn finish(mut self, end_ns: u64) -> Result<TradeOutcome, TradeRunError> {
        self.engine.complete_interrupted()?;
        let last_ts = self.now.max(self.market_ts).max(end_ns);
        self.engine.finish(last_ts)?;
        let progress = progress_of(&self.engine, self.events, self.started);
        Ok(TradeOutcome {
            progress,
            engine: self.engine,
            market: self.market,
            first_ts: self.first_ts,
            last_ts,
            resumed: self.resumed,
            torn_start: self.torn_start,
        })
    }
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
    let mut frames = frames.into_iter().peekable();
    let first_ts = match frames.peek() {
        Some(Ok(f)) => f.ts_ns,
        Some(Err(_)) | None => events.first().map_or(0, |e| e.ts_ns),
    };
    let mut t = Trader::start(
        cfg,
        adapters,
        config_text,
        opts,
        first_ts,
        TimeMode::Simulated,
    )?;
    let mut last_progress = Instant::now();
    let mut ei = 0usize;
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
        let td = t.next_due(tf.is_some() || te.is_some());
        match next_step(tf, te, td) {
            Some(Step::Frame) => {
                let Some(Ok(f)) = frames.next() else {
                    unreachable!()
                };
                t.apply_frame(&f);
            }
            Some(Step::Due(d)) => t.on_due(d)?,
            Some(Step::Event) => {
                let ev = &events[ei];
                t.on_event(ev, ev.ts_ns)?;
                ei += 1;
                if last_progress.elapsed() >= Duration::from_secs(1) {
                    last_progress = Instant::now();
                    progress(&t.progress());
                }
            }
            None => break,
        }
    }
    let last = t.now();
    let out = t.finish(last)?;
    progress(&out.progress);
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::{next_step, Step};

    #[test]
    fn at_one_instant_frames_come_first_then_what_is_due_then_events() {
        assert_eq!(next_step(Some(5), Some(5), Some(5)), Some(Step::Frame));
        assert_eq!(next_step(Some(6), Some(5), Some(5)), Some(Step::Due(5)));
        assert_eq!(next_step(Some(6), Some(5), Some(6)), Some(Step::Event));
        assert_eq!(next_step(Some(9), Some(3), None), Some(Step::Event));
        assert_eq!(next_step(None, Some(3), Some(2)), Some(Step::Due(2)));
        assert_eq!(next_step(None, None, Some(9)), Some(Step::Due(9)));
        assert_eq!(next_step(Some(7), None, None), Some(Step::Frame));
        assert_eq!(next_step(Some(7), None, Some(6)), Some(Step::Due(6)));
        assert_eq!(next_step(None, None, None), None);
    }
}
