//! `tickcross run`: the deployed host (DESIGN section 10). It detects with a card (`--path hw`:
//! programs it, drains its events from the DMA ring in host memory, watches it) or with the
//! software path on the frames it captures itself (`--path sw --interface`), writes the events,
//! and with `--trade` runs the trading engine of replay on wall-clock time.
//!
//! Threads: the interface capture runs on its own thread and hands frames over a bounded channel
//! (a full channel drops the frame, counted and logged: the capture never blocks); this thread
//! drains the ring, runs the software path, steps the engine and watches the device. Every wait
//! is bounded (200 us for a frame when there is nothing to do, `FRAME_WAIT` for a late frame,
//! `WIND_DOWN` for open orders at the end); SIGINT / SIGTERM end the run cleanly (the last
//! events drained, open orders waited for, report and journal written); a dead card ends it
//! with an error once the report and the journal are written.
//!
//! Trading live: the engine's clock is the wall clock (CLOCK_REALTIME ns, the clock of the
//! kernel's ingress timestamps, so an event's quotes are aged against it). The simulated venues'
//! books come from the frames this host captures off the card's wire (as replay takes them from
//! the capture), stepped in replay's order ([`tickcross_trading::run::next_step`]): before an
//! event is handed over, every captured frame stamped at or before it is applied. The card and
//! this host take the same frame off the same interface (one skb, one kernel timestamp: the
//! summary counts the events whose triggering frame the host holds under the same timestamp, and
//! the live tests require all of them); a frame the card has seen may not have reached this host
//! yet, so an event whose timestamp is later than every frame captured so far waits for one at
//! most `FRAME_WAIT`, then goes on (counted).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use tickcross::compare::CLOCK_HZ;
use tickcross::config::Config;
use tickcross::replay;
use tickcross_bindings::counter;
use tickcross_core::counters::Counters;
use tickcross_core::detect::Detector;
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_device::device::{Device, DeviceError, SeqCheck, SeqStep, Watchdog};
use tickcross_metrics::Metrics;
use tickcross_swpath::SwDetector;
use tickcross_trading::engine::EngineSetup;
use tickcross_trading::run::{self as trun, next_step, Step, TimeMode, TradeOutcome, Trader};

use crate::failover::{self, Standby};
use crate::live_metrics::Publisher;
use crate::{stopping, UsageError};

/// How long an event waits for the host's capture to deliver the frames stamped at or before
/// it. The card and the host take the same skb off the same interface; the host's copy is one
/// socket read and one channel hand-over behind (tens of microseconds), so 2 ms covers a
/// capture thread descheduled on a loaded machine while staying below the venues' order
/// latencies (1.5-4 ms in examples/binance-trading.toml) and far below any quote-age limit.
/// An event that waited this long is handed over with the books as they are (counted).
pub const FRAME_WAIT: Duration = Duration::from_millis(2);

/// Frames the capture thread may hold for this one before it drops (counted): about 6 ms of
/// minimum-size frames at 10 Gb/s.
const CHANNEL_FRAMES: usize = 1 << 16;

/// After the run is told to stop, open orders are waited for (their timeouts, cancels and
/// unwinds run on the wall clock) at most this long; what is still open then is reported open.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// Device registers (liveness, counters, status) are read at most this often.
const CHECK_EVERY: Duration = Duration::from_millis(10);

/// With `--fallback sw`, the card's cycle counter is read at most this often (one PCIe round
/// trip per 100 us), and an idle loop waits at most this long for a frame.
pub const WATCH_PERIOD: Duration = Duration::from_micros(100);

/// With `--fallback sw`, a card in charge whose frame counter stays still this long while the
/// host captures frames off its wire counts as stopped (its clock may run with its wire dead).
const FRAME_STALL: Duration = Duration::from_millis(200);

/// Follows a card's frame counter against the host's captured frames (`FRAME_STALL`).
struct FrameWatch {
    card: u64,
    host: u64,
    since: Instant,
}

impl FrameWatch {
    /// Why the card counts as stopped, if it does.
    fn check(w: &mut Option<FrameWatch>, card: u64, host: u64) -> Option<String> {
        let f = w.get_or_insert(FrameWatch {
            card,
            host,
            since: Instant::now(),
        });
        if card != f.card {
            *f = FrameWatch {
                card,
                host,
                since: Instant::now(),
            };
            return None;
        }
        let elapsed = f.since.elapsed();
        (host > f.host && elapsed >= FRAME_STALL).then(|| {
            format!(
                "its frame counter has stayed at {card} for {} ms while the host captured {} frames off its wire",
                elapsed.as_millis(),
                host - f.host
            )
        })
    }
}

/// Recent captured frames' timestamps kept for the same-timestamp check.
const RECENT_TS: usize = 1 << 16;

/// The trading run's figures once a second (replay's and the live host's).
pub fn progress_line(p: &trun::TradeProgress) -> String {
    format!(
        "trade: {} events, {} trades closed, {} open orders, realized net {} (fees {}), {:.1} s",
        p.events,
        p.trades,
        p.open_orders,
        p.realized,
        p.fees,
        p.elapsed.as_secs_f64()
    )
}

/// The wall clock, ns since the Unix epoch (CLOCK_REALTIME, as the kernel's frame timestamps).
pub fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What the live host has taken from its detection path so far.
#[derive(Default)]
pub struct Drained {
    pub events: u64,
    pub per_pair: BTreeMap<(u8, u8), u64>,
    pub seq: SeqCheck,
    /// `--metrics`: each event's detection latency is observed here.
    metrics: Option<Arc<Metrics>>,
}

impl Drained {
    fn take(
        &mut self,
        batch: &[Event],
        out: &mut Option<BufWriter<File>>,
        cfg: &Config,
    ) -> Result<()> {
        for e in batch {
            if let (Some(m), Some(c)) = (&self.metrics, &e.cycles) {
                // the card's own count: last byte of the message to commit, at its clock
                let ns = c.commit.saturating_sub(c.last) as f64 * 1e9 / CLOCK_HZ;
                m.observe_detection("hw", ns.round() as u64);
            }
            match self.seq.see(e.seq) {
                SeqStep::Next => {}
                SeqStep::Gap { missing } => {
                    tracing::warn!(missing, "events lost before seq {}", e.seq)
                }
                SeqStep::Back { prev } => {
                    tracing::warn!(
                        "event sequence went back or repeated: {} after {prev}",
                        e.seq
                    )
                }
            }
            *self
                .per_pair
                .entry((e.buy_venue, e.sell_venue))
                .or_insert(0) += 1;
            if let Some(w) = out.as_mut() {
                writeln!(w, "{}", replay::event_json(e, cfg))?;
            }
        }
        self.events += batch.len() as u64;
        Ok(())
    }
}

/// Where the events come from.
pub enum Detection {
    /// A card (or the simulated card process) by its BAR, events from its DMA ring.
    Card {
        dev: Box<Device>,
        dead_after: Duration,
    },
    /// The software path on the captured frames.
    Software(Box<SwDetector>),
}

/// Trading on the live events.
pub struct LiveTrading<'a> {
    pub config_text: &'a str,
    pub opts: trun::TradeOptions,
}

/// What `run` is asked to do.
pub struct LivePlan<'a> {
    pub cfg: &'a Config,
    pub detection: Detection,
    pub interface: Option<String>,
    pub events: Option<PathBuf>,
    pub duration: Option<f64>,
    pub until_idle: Option<f64>,
    pub trading: Option<LiveTrading<'a>>,
    /// `--metrics`: published to while the run goes on.
    pub metrics: Option<Arc<Metrics>>,
    /// `--fallback sw`: the software path as the card's hot standby (on the frames of
    /// `interface`).
    pub fallback: Option<Box<SwDetector>>,
}

/// How a live run ended.
pub struct LiveOutcome {
    /// "device" or "sw": the summary's name for the detection path.
    pub name: &'static str,
    pub counters: Counters,
    /// Stale entries of the detection path's quote table at the end (docs/PIPELINE.md section
    /// 6; counted from the quote dump), unless the device failed.
    pub stale: Option<u64>,
    pub drained: Drained,
    /// Lines about the host's capture and the hand-over to the engine.
    pub notes: Vec<String>,
    pub trade: Option<TradeOutcome>,
    /// The device failed (after the last events were traded and the trading run finished).
    pub failure: Option<anyhow::Error>,
    /// `--fallback sw`: the switches between the paths.
    pub failover: Option<Standby>,
}

/// The capture thread and its channel.
struct Capture {
    iface: String,
    rx: Receiver<Frame>,
    stop: Arc<AtomicBool>,
    drops: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<Result<tickcross_capture::live::LiveStats>>>,
}

impl Capture {
    #[cfg(target_os = "linux")]
    fn start(iface: &str) -> Result<Capture> {
        use std::sync::mpsc::{sync_channel, TrySendError};
        use tickcross_capture::live::LiveCapture;
        let mut cap = LiveCapture::open(iface, Duration::from_millis(20))
            .with_context(|| format!("capturing the card's wire {iface}"))?;
        let (tx, rx) = sync_channel(CHANNEL_FRAMES);
        let stop = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicU64::new(0));
        let (s, d) = (stop.clone(), drops.clone());
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || -> Result<tickcross_capture::live::LiveStats> {
                while !s.load(Ordering::Relaxed) {
                    let Some(f) = cap.next_frame()? else { continue };
                    match tx.try_send(f) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => {
                            let n = d.fetch_add(1, Ordering::Relaxed) + 1;
                            if n.is_power_of_two() {
                                tracing::warn!(
                                    drops = n,
                                    "the host is {CHANNEL_FRAMES} captured frames behind: frame dropped"
                                );
                            }
                        }
                        Err(TrySendError::Disconnected(_)) => break,
                    }
                }
                Ok(cap.stats())
            })
            .context("starting the capture thread")?;
        Ok(Capture {
            iface: iface.to_string(),
            rx,
            stop,
            drops,
            thread: Some(thread),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn start(_: &str) -> Result<Capture> {
        anyhow::bail!("--interface needs Linux (AF_PACKET)")
    }

    /// Stops the thread and says what it took and lost.
    fn finish(mut self) -> Result<String> {
        self.stop.store(true, Ordering::Relaxed);
        let st = self
            .thread
            .take()
            .map(|t| t.join())
            .transpose()
            .map_err(|_| anyhow::anyhow!("the capture thread panicked"))?
            .transpose()
            .context("the capture thread")?
            .unwrap_or_default();
        Ok(format!(
            "host capture on {}: {} frames ({} bytes), {} dropped by the kernel, {} dropped by the full hand-over channel, {} too long",
            self.iface,
            st.frames,
            st.bytes,
            st.kernel_drops,
            self.drops.load(Ordering::Relaxed),
            st.truncated
        ))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The engine's side of a live run: frames and events waiting for their turn.
struct Live {
    trader: Trader,
    frames: VecDeque<Frame>,
    events: VecDeque<Event>,
    /// The latest timestamp among the frames the capture delivered.
    captured_ts: Option<u64>,
    /// Since when the event at the head has waited for its frames.
    waiting_since: Option<Instant>,
    /// Event numbers go on from a resumed journal's last (the card counts from 0 again).
    seq_base: u64,
    recent: HashSet<u64>,
    recent_order: VecDeque<u64>,
    handed: u64,
    /// Per event handed over: the wall clock then minus the triggering frame's timestamp (ns).
    ages: hdrhistogram::Histogram<u64>,
    matched: u64,
    wait_timeouts: u64,
    /// The software path makes its events from the frames the host holds: always ready.
    own_frames: bool,
    /// How long an event waits for its frames (`FRAME_WAIT`).
    frame_wait: Duration,
    last_progress: Instant,
    /// Closed trades already shown (`show_closed`).
    shown_closed: usize,
}

impl Live {
    fn new(trader: Trader, own_frames: bool) -> Live {
        let seq_base = trader
            .resumed()
            .and_then(|r| r.last_event_seq)
            .map_or(0, |s| s + 1);
        Live {
            frames: VecDeque::new(),
            events: VecDeque::new(),
            captured_ts: None,
            waiting_since: None,
            seq_base,
            recent: HashSet::new(),
            recent_order: VecDeque::new(),
            handed: 0,
            ages: hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("constant, valid bounds"),
            matched: 0,
            wait_timeouts: 0,
            own_frames,
            frame_wait: FRAME_WAIT,
            last_progress: Instant::now(),
            shown_closed: trader.engine().state().pnl.closed.len(),
            trader,
        }
    }

    /// Says each trade closed since the last call, as it happens (one line each).
    fn show_closed(&mut self) {
        let e = self.trader.engine();
        let closed = &e.state().pnl.closed;
        for t in closed.iter().skip(self.shown_closed) {
            progress!("{}", closed_line(t, e.setup()));
        }
        self.shown_closed = closed.len();
    }

    fn push_frame(&mut self, f: Frame) {
        self.captured_ts = Some(self.captured_ts.map_or(f.ts_ns, |t| t.max(f.ts_ns)));
        self.frames.push_back(f);
    }

    /// Steps the engine through what is ready, in replay's order; returns whether it did
    /// anything.
    fn step(&mut self) -> Result<bool> {
        let mut did = false;
        let w = wall_ns();
        self.trader.poll_wall(w)?;
        loop {
            let tf = self.frames.front().map(|f| f.ts_ns);
            let te = self.events.front().map(|e| e.ts_ns);
            let td = self.trader.next_due(true).filter(|&d| d <= w);
            match next_step(tf, te, td) {
                Some(Step::Frame) => {
                    let f = self.frames.pop_front().expect("a frame is there");
                    self.trader.apply_frame(&f);
                    if self.recent_order.len() == RECENT_TS {
                        if let Some(old) = self.recent_order.pop_front() {
                            self.recent.remove(&old);
                        }
                    }
                    self.recent.insert(f.ts_ns);
                    self.recent_order.push_back(f.ts_ns);
                }
                Some(Step::Due(d)) => self.trader.on_due(d)?,
                Some(Step::Event) => {
                    let te = te.expect("an event is there");
                    let ready = self.own_frames || self.captured_ts.is_some_and(|t| t >= te);
                    if !ready {
                        let since = *self.waiting_since.get_or_insert_with(Instant::now);
                        if since.elapsed() < self.frame_wait {
                            return Ok(did);
                        }
                        self.wait_timeouts += 1;
                        if self.wait_timeouts.is_power_of_two() {
                            tracing::warn!(
                                waits = self.wait_timeouts,
                                "an event's frame had not reached the host's capture after {:?}: handed over with the books as they are",
                                self.frame_wait
                            );
                        }
                    }
                    self.waiting_since = None;
                    let mut ev = self.events.pop_front().expect("an event is there");
                    if self.recent.contains(&ev.ts_ns) {
                        self.matched += 1;
                    }
                    ev.seq += self.seq_base;
                    let now = wall_ns();
                    self.ages
                        .saturating_record(now.saturating_sub(ev.ts_ns).max(1));
                    self.trader.on_event(&ev, now)?;
                    self.handed += 1;
                }
                None => return Ok(did),
            }
            did = true;
        }
    }
}

/// Runs the live host until stopped, for `duration`, until the wire is idle, or until the card
/// dies.
pub fn run(plan: LivePlan<'_>) -> Result<LiveOutcome> {
    let LivePlan {
        cfg,
        mut detection,
        interface,
        events,
        duration,
        until_idle,
        trading,
        metrics,
        fallback,
    } = plan;
    // the capture first (an interface that cannot be opened fails the run before a journal is
    // created), then the venues (a FIX venue is logged on, or the run fails saying why; the
    // frames of that while wait in the channel), then the card: every frame the card sees, the
    // capture sees
    let mut capture = match &interface {
        Some(i) => Some(Capture::start(i)?),
        None => None,
    };
    let mut live = match &trading {
        Some(t) => {
            let adapters = tickcross::venues::OrderEntryAdapters { config: cfg };
            let trader = Trader::start(
                cfg.trading_inputs(),
                &adapters,
                t.config_text,
                &t.opts,
                wall_ns(),
                TimeMode::Wall,
            )
            .context("trading")?;
            progress!("run: trading on wall-clock time");
            Some(Live::new(
                trader,
                matches!(detection, Detection::Software(_)),
            ))
        }
        None => None,
    };
    let name = match &mut detection {
        Detection::Card { dev, .. } => {
            dev.program(&cfg.program())
                .context("programming the device")?;
            progress!(
                "run: {} programmed; draining events (Ctrl-C to stop)",
                dev.path().display()
            );
            "device"
        }
        Detection::Software(_) => {
            progress!(
                "run: software path on {}; detecting (Ctrl-C to stop)",
                interface.as_deref().unwrap_or("?")
            );
            "sw"
        }
    };
    // the standby: the software path on every captured frame while the card is in charge
    let mut spare = fallback;
    let mut standby = match (&detection, &spare) {
        (Detection::Card { dev, dead_after }, Some(_)) => {
            progress!(
                "run: the software path is the card's hot standby (failover after {} us without a sign of life)",
                dead_after.as_micros()
            );
            Some(Standby::new(
                dev.path().to_path_buf(),
                cfg.program(),
                *dead_after,
            ))
        }
        _ => None,
    };
    if let Some(i) = &interface {
        progress!("run: capturing frames on {i}");
    }
    let mut out = match &events {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };

    let started = Instant::now();
    let mut last_report = started;
    let mut last_frames = 0u64;
    let mut quiet_since = Instant::now();
    let mut drained = Drained {
        metrics: metrics.clone(),
        ..Drained::default()
    };
    let mut publisher = metrics.map(|m| {
        Publisher::new(
            m,
            match detection {
                Detection::Card { .. } => "hw",
                Detection::Software(_) => "sw",
            },
            standby.is_some(),
        )
    });
    let mut batch = Vec::new();
    let mut watchdog = match &detection {
        Detection::Card { dev, dead_after } if standby.is_some() => Some(Watchdog::with_grace(
            dev,
            *dead_after,
            WATCH_PERIOD,
            failover::GRACE,
        )),
        Detection::Card { dev, dead_after } => Some(Watchdog::new(dev, *dead_after)),
        Detection::Software(_) => None,
    };
    let mut last_check: Option<Instant> = None;
    let mut frames_in = 0u64;
    let mut frame_watch: Option<FrameWatch> = None;
    // a captured frame (`take_frame`) with the run's state as it stands
    macro_rules! take_frame {
        ($f:expr) => {
            take_frame(
                $f,
                &mut detection,
                &mut spare,
                &mut standby,
                &mut live,
                &mut drained,
                &mut out,
                cfg,
            )?
        };
    }
    // the software path takes over (`fail_over`) with the run's state as it stands
    macro_rules! fail_over {
        ($sb:expr, $why:expr) => {
            fail_over(
                $why,
                &mut detection,
                &mut spare,
                $sb,
                &mut watchdog,
                &mut drained,
                &mut out,
                cfg,
                &mut live,
            )?
        };
    }
    let failure: Option<anyhow::Error> = loop {
        let mut busy = false;
        // events from the card's ring in host memory (no BAR read)
        if let Detection::Card { dev, .. } = &mut detection {
            batch.clear();
            let mut drain = dev.drain(&mut batch).map(|_| ());
            busy |= !batch.is_empty();
            if let Some(sb) = standby.as_mut() {
                let missed = sb.card_delivered(&batch);
                sb.admit(&mut batch);
                let lost = dev.seq_check().lost;
                if drain.is_ok() && lost > 0 {
                    drain = Err(DeviceError::Dead {
                        path: dev.path().to_path_buf(),
                        why: format!("its event sequence skipped {lost} events"),
                    });
                }
                if let (true, Some(why)) = (drain.is_ok(), missed) {
                    drain = Err(DeviceError::Dead {
                        path: dev.path().to_path_buf(),
                        why,
                    });
                }
            }
            drained.take(&batch, &mut out, cfg)?;
            if let Some(l) = live.as_mut() {
                l.events.extend(batch.drain(..));
            }
            if let Err(e) = drain {
                let e = anyhow::Error::from(e).context("the device failed");
                match standby.as_mut() {
                    Some(sb) => fail_over!(sb, e),
                    None => break Some(e),
                }
            }
        }
        if let Some(sb) = standby.as_mut() {
            // the card watched every round (the watchdog reads it at most every WATCH_PERIOD),
            // or, with software in charge, the card's path retried
            match &detection {
                Detection::Card { dev, .. } => {
                    if let Some(Err(e)) = watchdog.as_mut().map(|w| w.check(dev)) {
                        fail_over!(sb, anyhow::Error::from(e).context("the device failed"));
                    }
                }
                Detection::Software(sw) => {
                    if let Some((dev, mut ahead)) = sb.poll(sw.quote_table(), wall_ns()) {
                        watchdog = Some(Watchdog::with_grace(
                            &dev,
                            sb.dead_after(),
                            WATCH_PERIOD,
                            failover::GRACE,
                        ));
                        let Detection::Software(sw) = std::mem::replace(
                            &mut detection,
                            Detection::Card {
                                dev,
                                dead_after: sb.dead_after(),
                            },
                        ) else {
                            unreachable!("matched above")
                        };
                        spare = Some(sw);
                        sb.admit(&mut ahead);
                        drained.take(&ahead, &mut out, cfg)?;
                        if let Some(l) = live.as_mut() {
                            l.events.extend(ahead);
                        }
                        if let Some(w) = sb.switches.last() {
                            progress!("{}", failover::switch_line(w));
                        }
                    }
                }
            }
        }
        // frames from the capture
        if let Some(c) = &capture {
            let mut gone = false;
            loop {
                match c.rx.try_recv() {
                    Ok(f) => {
                        frames_in += 1;
                        busy = true;
                        take_frame!(f);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        gone = true;
                        break;
                    }
                }
            }
            if gone {
                break Some(capture_ended(capture.take()));
            }
        }
        if let Some(l) = live.as_mut() {
            busy |= l.step()?;
            l.show_closed();
            if l.last_progress.elapsed() >= Duration::from_secs(1) {
                l.last_progress = Instant::now();
                progress!("{}", progress_line(&l.trader.progress()));
            }
        }
        if last_check.is_none_or(|t| t.elapsed() >= CHECK_EVERY) {
            last_check = Some(Instant::now());
            // a device that stopped (simulator killed, card hung or gone) ends the run, whatever
            // --duration or --until-idle say
            let (frames, idle) = match &detection {
                Detection::Card { dev, .. } => {
                    if standby.is_none() {
                        if let Some(Err(e)) = watchdog.as_mut().map(|w| w.check(dev)) {
                            break Some(anyhow::Error::from(e).context("the device failed"));
                        }
                    }
                    let (clearing, idle) = dev.status();
                    (dev.counters().get(counter::RX_FRAMES), idle && !clearing)
                }
                Detection::Software(_) => (frames_in, true),
            };
            match (&detection, standby.as_mut()) {
                (Detection::Card { dev, .. }, Some(sb)) => {
                    if let Some(why) = FrameWatch::check(&mut frame_watch, frames, frames_in) {
                        let e = anyhow::Error::from(DeviceError::Dead {
                            path: dev.path().to_path_buf(),
                            why,
                        });
                        frame_watch = None;
                        fail_over!(sb, e.context("the device failed"));
                    }
                }
                // a card taken back is followed afresh (its counters restart when programmed)
                _ => frame_watch = None,
            }
            if frames != last_frames {
                last_frames = frames;
                quiet_since = Instant::now();
            }
            if let (Some(p), Some(sb)) = (publisher.as_mut(), standby.as_ref()) {
                let to = match detection {
                    Detection::Card { .. } => "hw",
                    Detection::Software(_) => "sw",
                };
                p.switched(to, sb.switches.len() as u64);
            }
            if let Some(p) = publisher.as_mut().filter(|p| p.due()) {
                let counters = match &mut detection {
                    Detection::Card { dev, .. } => dev.counters(),
                    Detection::Software(sw) => sw.counters()?,
                };
                p.publish(&counters, drained.events, live.as_ref().map(|l| &l.trader));
            }
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                progress!(
                    "run: {frames} frames, {} events, {:.0} s",
                    drained.events,
                    started.elapsed().as_secs_f64()
                );
            }
            if stopping() {
                break None;
            }
            let mut done = duration.is_some_and(|d| started.elapsed().as_secs_f64() >= d);
            if let Some(quiet) = until_idle {
                done |= frames > 0 && idle && quiet_since.elapsed().as_secs_f64() >= quiet;
            }
            if done {
                if let Detection::Card { dev, .. } = &detection {
                    // a quiet wire is also what a dead device looks like: stop only once its
                    // cycle counter is seen moving (bounded by the watchdog)
                    let at = dev.cycles();
                    let alive = loop {
                        if dev.cycles() != at {
                            break Ok(());
                        }
                        if let Some(Err(e)) = watchdog.as_mut().map(|w| w.check(dev)) {
                            break Err(e);
                        }
                        std::thread::sleep(Duration::from_micros(100));
                    };
                    let failed = alive
                        .err()
                        .map(|e| anyhow::Error::from(e).context("the device failed"));
                    match (failed, standby.as_mut()) {
                        // the standby takes over what the card did not deliver; the run ends
                        (Some(e), Some(sb)) => fail_over!(sb, e),
                        (failed, _) => break failed,
                    }
                }
                break None;
            }
        }
        if !busy {
            let idle = match standby {
                Some(_) => WATCH_PERIOD,
                None => Duration::from_micros(200),
            };
            if let Some(f) = idle_wait(&capture, idle) {
                frames_in += 1;
                take_frame!(f);
            }
        }
    };
    let mut failure = failure;
    if failure.is_none() {
        if let Detection::Card { dev, .. } = &mut detection {
            batch.clear();
            let drain = dev.drain(&mut batch);
            if let Some(sb) = standby.as_mut() {
                if let Some(why) = sb.card_delivered(&batch) {
                    tracing::warn!("at the end of the run: {why}");
                }
                sb.admit(&mut batch);
                // what the card never delivered, the standby did: handed over, never dropped
                let left = sb.undelivered();
                if !left.is_empty() {
                    tracing::warn!(
                        "the card never delivered {} events the software path made: handed over from the standby",
                        left.len()
                    );
                }
                batch.extend(left);
            }
            drained.take(&batch, &mut out, cfg)?;
            if let Some(l) = live.as_mut() {
                l.events.extend(batch.drain(..));
            }
            if let Err(e) = drain {
                failure = Some(anyhow::Error::from(e).context("the device failed"));
            }
        }
    }
    if let Some(mut w) = out {
        w.flush()?;
    }
    let mut notes = Vec::new();
    let trade = match live {
        Some(l) => Some(wind_down(l, &capture, &mut notes)?),
        None => None,
    };
    if let Some(c) = capture {
        // the capture thread's own error, if it had one, is the run's failure (reported after
        // the trading run was finished and its report written)
        match c.finish() {
            Ok(note) => notes.insert(0, note),
            Err(e) if failure.is_none() => failure = Some(e),
            Err(e) => tracing::error!("the host's capture: {e:#}"),
        }
    }
    // with a standby, the software path saw every frame of the run: its counters are the
    // run's (the card's count only since it was last programmed)
    let (name, counters, stale) = match (&mut detection, spare.as_mut()) {
        (Detection::Software(sw), _) | (_, Some(sw)) if standby.is_some() => {
            ("sw", sw.counters()?, Some(sw.quote_table().stale_count()))
        }
        (Detection::Card { dev, .. }, _) => (
            name,
            dev.counters(),
            failure.is_none().then(|| dev.quotes().stale_count()),
        ),
        (Detection::Software(sw), _) => {
            (name, sw.counters()?, Some(sw.quote_table().stale_count()))
        }
    };
    Ok(LiveOutcome {
        name,
        counters,
        stale,
        drained,
        notes,
        trade,
        failure,
        failover: standby,
    })
}

/// One captured frame: to the software path (its events written and queued for the engine),
/// and to the engine's queue for the venues' books.
#[allow(clippy::too_many_arguments)]
fn take_frame(
    f: Frame,
    detection: &mut Detection,
    spare: &mut Option<Box<SwDetector>>,
    standby: &mut Option<Standby>,
    live: &mut Option<Live>,
    drained: &mut Drained,
    out: &mut Option<BufWriter<File>>,
    cfg: &Config,
) -> Result<()> {
    // the software path in charge, or as the card's hot standby (its table kept current)
    let (sw, in_charge) = match detection {
        Detection::Software(sw) => (Some(sw), true),
        Detection::Card { .. } => (spare.as_mut().filter(|_| standby.is_some()), false),
    };
    let mut evs = Vec::new();
    if let Some(sw) = sw {
        let t0 = Instant::now();
        sw.process(f.ts_ns, &f.data, f.bad);
        sw.drain_events(&mut evs)?;
        if let (Some(m), true, false) = (&drained.metrics, in_charge, evs.is_empty()) {
            // DESIGN section 6: the packet's bytes handed over to its events out
            m.observe_detection("sw", t0.elapsed().as_nanos() as u64);
        }
        if let Some(sb) = standby.as_mut() {
            sb.saw_frame(f.ts_ns);
            if in_charge {
                sb.admit(&mut evs);
            } else {
                // held until the card delivers the same events
                sb.hold(std::mem::take(&mut evs));
            }
        }
        drained.take(&evs, out, cfg)?;
    }
    if let Some(l) = live.as_mut() {
        l.push_frame(f);
        l.events.extend(evs);
    }
    Ok(())
}

/// The card failed: the software path takes over, first with the standby events the card never
/// delivered (after whatever the card had landed in host memory).
#[allow(clippy::too_many_arguments)]
fn fail_over(
    why: anyhow::Error,
    detection: &mut Detection,
    spare: &mut Option<Box<SwDetector>>,
    standby: &mut Standby,
    watchdog: &mut Option<Watchdog>,
    drained: &mut Drained,
    out: &mut Option<BufWriter<File>>,
    cfg: &Config,
    live: &mut Option<Live>,
) -> Result<()> {
    let last_alive = watchdog.take().map(|w| w.last_advance());
    let Some(sw) = spare.take() else {
        anyhow::bail!("failover without a standby software path (a bug): {why:#}")
    };
    if let Detection::Card { dev, .. } = detection {
        // records that landed before the card stopped (host memory only; a ring the card left
        // torn says so and is left there)
        let mut last = Vec::new();
        if let Err(e) = dev.drain(&mut last) {
            tracing::warn!("the failed card's last records: {e}");
        }
        // a card that went past a standby event is failing anyway: the event is handed below
        let _ = standby.card_delivered(&last);
        standby.admit(&mut last);
        drained.take(&last, out, cfg)?;
        if let Some(l) = live.as_mut() {
            l.events.extend(last);
        }
    }
    // the card's mapping goes with it: a restarted simulator's region is a new file
    *detection = Detection::Software(sw);
    let handed = standby.switch_to_software(format!("{why:#}"), last_alive, wall_ns());
    drained.take(&handed, out, cfg)?;
    if let Some(l) = live.as_mut() {
        l.events.extend(handed);
    }
    if let Some(w) = standby.switches.last() {
        progress!("{}", failover::switch_line(w));
    }
    Ok(())
}

/// Nothing to do: a frame if one comes within `idle` (or a sleep that long without a capture).
fn idle_wait(capture: &Option<Capture>, idle: Duration) -> Option<Frame> {
    match capture {
        // a capture that ended is noticed (and its error reported) on the next round
        Some(c) => c.rx.recv_timeout(idle).ok(),
        None => {
            std::thread::sleep(idle);
            None
        }
    }
}

/// The capture thread ended on its own: its error.
fn capture_ended(c: Option<Capture>) -> anyhow::Error {
    match c.map(Capture::finish) {
        Some(Err(e)) => e.context("the host's capture stopped"),
        Some(Ok(s)) => anyhow::anyhow!("the host's capture stopped ({s})"),
        None => anyhow::anyhow!("the host's capture stopped"),
    }
}

/// The end of a live trading run: the events still queued are handed over, open orders are
/// waited for (at most `WIND_DOWN`, frames still applied to the books), then the run finishes
/// at the wall clock (final snapshot, journal synced).
fn wind_down(
    mut l: Live,
    capture: &Option<Capture>,
    notes: &mut Vec<String>,
) -> Result<TradeOutcome> {
    let deadline = Instant::now() + WIND_DOWN;
    while (!l.events.is_empty() || l.trader.has_orders_out()) && Instant::now() < deadline {
        if let Some(c) = capture {
            while let Ok(f) = c.rx.try_recv() {
                l.push_frame(f);
            }
        }
        let did = l.step()?;
        l.show_closed();
        if !did {
            match capture {
                Some(c) => {
                    if let Ok(f) = c.rx.recv_timeout(Duration::from_micros(200)) {
                        l.push_frame(f);
                    }
                }
                None => std::thread::sleep(Duration::from_micros(200)),
            }
        }
    }
    let open = l.trader.engine().state().open_orders();
    if open > 0 || !l.events.is_empty() {
        tracing::warn!(
            open_orders = open,
            events_left = l.events.len(),
            "still open after waiting {WIND_DOWN:?}: reported open"
        );
    }
    notes.push(format!(
        "trading: {} events handed to the engine, {} of them with their triggering frame held by the host's capture under the same kernel timestamp, {} waited {FRAME_WAIT:?} for their frames in vain",
        l.handed, l.matched, l.wait_timeouts
    ));
    if l.handed > 0 {
        let us = |ns: u64| format!("{:.1}", ns as f64 / 1e3);
        notes.push(format!(
            "event age when handed to the engine (the wall clock minus the triggering frame's kernel timestamp): median {} us, p99 {} us, max {} us",
            us(l.ages.value_at_quantile(0.5)),
            us(l.ages.value_at_quantile(0.99)),
            us(l.ages.max())
        ));
    }
    l.trader.finish(wall_ns()).context("trading")
}

/// A closed trade in one line: its pair, size, realized net and fees, how long it was open, and
/// what its unwind left when it gave up.
fn closed_line(t: &tickcross_trading::pnl::ClosedTrade, s: &EngineSetup) -> String {
    let name = |v: usize| s.venue_names.get(v).map_or("?", String::as_str);
    let inst = s
        .instrument_names
        .get(t.instrument)
        .map_or("?", String::as_str);
    let mut l = format!(
        "trade {} closed: buy {} / sell {} {} {}, entry legs filled in full {}/{}, realized net {} (fees {}), {:.1} ms",
        t.trade_id,
        name(t.buy_venue),
        name(t.sell_venue),
        t.planned_base.normalize(),
        inst,
        t.legs_filled,
        t.legs_sent,
        t.realized.net,
        t.realized.fees,
        t.closed_ns.saturating_sub(t.opened_ns) as f64 / 1e6
    );
    if t.gave_up {
        l.push_str(&format!(
            ", unwind gave up: {} {inst} left",
            t.realized.residual
        ));
    }
    l
}

/// The checks of `run`'s options that clap cannot make.
pub fn check_options(
    path_sw: bool,
    device: bool,
    interface: bool,
    trade: bool,
) -> std::result::Result<(), UsageError> {
    let e = |s: &str| Err(UsageError(s.to_string()));
    match (path_sw, device) {
        (true, true) => {
            return e(
                "--path sw detects in software on the frames of --interface: it takes no --device",
            )
        }
        (false, false) => {
            return e(
                "--path hw (the default) needs --device: the card's BAR or a simulator region",
            )
        }
        _ => {}
    }
    if path_sw && !interface {
        return e("--path sw needs --interface: the wire the software path takes its frames from");
    }
    if trade && !interface {
        return e("--trade needs --interface: the card's wire, whose frames set the simulated venues' books");
    }
    if !path_sw && !trade && interface {
        return e("--interface with --path hw is for --trade (the card takes its frames itself)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickcross_trading::run::NoAdapters;

    const CONFIG: &str = r#"
[trading]
min_profit = "0.01"
order_timeout_ms = 500
seed = 1

[risk]
max_notional = "20000"
max_position = "1"
max_open_legs = 8
daily_loss_limit = "500"
max_quote_age_ms = 2000
venue_max_failures = 5
venue_failure_window_ms = 60000
venue_cool_off_ms = 10000

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "a"
protocol = "binance_sbe"
destination = "239.255.10.1:30001"
symbols = { "BTCUSDT" = "BTC" }
fees = { maker_bps = "1", taker_bps = "1", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001" } }

[[venue]]
name = "b"
protocol = "binance_sbe"
destination = "239.255.10.2:30002"
symbols = { "BTCUSDT" = "BTC" }
fees = { maker_bps = "1", taker_bps = "1", asset = "quote" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001" } }
"#;

    fn live(own_frames: bool) -> Live {
        let cfg = Config::from_toml_str(CONFIG).unwrap();
        let opts = trun::TradeOptions::default();
        let t = Trader::start(
            cfg.trading_inputs(),
            &NoAdapters,
            CONFIG,
            &opts,
            wall_ns(),
            TimeMode::Wall,
        )
        .unwrap();
        Live::new(t, own_frames)
    }

    fn frame(ts_ns: u64) -> Frame {
        Frame::new(ts_ns, vec![0; 60])
    }

    /// A cross far below the minimum profit: the engine refuses it, which is all these tests
    /// need of it (it was handed over).
    fn event(seq: u64, ts_ns: u64) -> Event {
        Event {
            seq,
            instrument: 0,
            buy_venue: 0,
            sell_venue: 1,
            trigger_venue: 0,
            trigger_sell: false,
            buy_price: 60_000_000_000_000,
            buy_qty: 1_000_000,
            sell_price: 60_000_000_000_001,
            sell_qty: 1_000_000,
            qty: 1_000_000,
            ts_ns,
            buy_ts_ns: ts_ns,
            sell_ts_ns: ts_ns,
            feed_key: seq,
            cycles: None,
        }
    }

    #[test]
    fn an_event_goes_to_the_engine_after_the_frames_stamped_at_or_before_it() {
        let now = wall_ns();
        let mut l = live(false);
        for t in [now - 30, now - 20, now - 10] {
            l.push_frame(frame(t));
        }
        l.events.push_back(event(0, now - 20));
        assert!(l.step().unwrap());
        assert_eq!(l.handed, 1);
        assert_eq!(l.matched, 1, "its triggering frame was captured");
        assert_eq!(l.wait_timeouts, 0);
        // the frame after it was applied next (next_step's order is tested in trading::run)
        assert!(l.frames.is_empty());
    }

    #[test]
    fn an_event_later_than_every_captured_frame_waits_for_it_then_goes_on_counted() {
        let now = wall_ns();
        let mut l = live(false);
        l.push_frame(frame(now - 30));
        l.events.push_back(event(0, now - 20));
        l.step().unwrap();
        assert_eq!(l.handed, 0, "waits for its frame");
        assert_eq!(l.events.len(), 1);
        assert!(l.frames.is_empty(), "the earlier frame was applied");
        // its frame comes: handed over
        l.push_frame(frame(now - 20));
        l.step().unwrap();
        assert_eq!((l.handed, l.matched, l.wait_timeouts), (1, 1, 0));
        // another whose frame never comes: with no time to wait, handed over and counted
        l.frame_wait = Duration::ZERO;
        l.events.push_back(event(1, now - 5));
        l.step().unwrap();
        assert_eq!((l.handed, l.matched, l.wait_timeouts), (2, 1, 1));
    }

    #[test]
    fn the_software_paths_events_never_wait() {
        let now = wall_ns();
        let mut l = live(true);
        l.events.push_back(event(0, now));
        l.step().unwrap();
        assert_eq!((l.handed, l.wait_timeouts), (1, 0));
    }

    #[test]
    fn a_closed_trade_is_said_in_one_line_with_its_pair_size_and_result() {
        use tickcross_trading::pnl::{ClosedTrade, Flows, Realized};
        let l = live(false);
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let mut t = ClosedTrade {
            trade_id: 4,
            event_seq: 17,
            instrument: 0,
            buy_venue: 1,
            sell_venue: 0,
            opened_ns: 1_000_000,
            closed_ns: 3_500_000,
            planned_base: d("0.100"),
            expected_net: d("1"),
            flows: Flows::default(),
            realized: Realized {
                gross: d("0.3"),
                fees: d("0.01"),
                net: d("0.29"),
                residual: d("0"),
                unwind_cost: d("0"),
            },
            gave_up: false,
            legs_sent: 2,
            legs_filled: 2,
            busts: 0,
            corrections: 0,
        };
        let setup = l.trader.engine().setup();
        assert_eq!(
            closed_line(&t, setup),
            "trade 4 closed: buy b / sell a 0.1 BTC, entry legs filled in full 2/2, realized net 0.29 (fees 0.01), 2.5 ms"
        );
        t.gave_up = true;
        t.realized.residual = d("-0.0009");
        assert!(
            closed_line(&t, setup).ends_with(", unwind gave up: -0.0009 BTC left"),
            "{}",
            closed_line(&t, setup)
        );
    }

    #[test]
    fn a_card_whose_frame_counter_stands_while_frames_arrive_counts_as_stopped() {
        let mut w = None;
        assert_eq!(FrameWatch::check(&mut w, 10, 100), None);
        // frames arrive, the card counts them: fine however long it takes
        assert_eq!(FrameWatch::check(&mut w, 12, 102), None);
        // the card's counter stands, but so does the wire: fine
        if let Some(f) = w.as_mut() {
            f.since -= FRAME_STALL;
        }
        assert_eq!(FrameWatch::check(&mut w, 12, 102), None);
        // frames arrive and the counter stands past the bound: stopped
        let why = FrameWatch::check(&mut w, 12, 105).expect("stopped");
        assert!(
            why.contains("stayed at 12") && why.contains("captured 3 frames"),
            "{why}"
        );
    }

    #[test]
    fn options_that_do_not_fit_together_are_refused() {
        // (path sw, device, interface, trade)
        assert!(check_options(false, true, false, false).is_ok());
        assert!(check_options(false, true, true, true).is_ok());
        assert!(check_options(true, false, true, false).is_ok());
        assert!(check_options(true, false, true, true).is_ok());
        for (sw, dev, iface, trade, says) in [
            (true, true, true, false, "takes no --device"),
            (false, false, false, false, "needs --device"),
            (true, false, false, false, "--path sw needs --interface"),
            (false, true, false, true, "--trade needs --interface"),
            (
                false,
                true,
                true,
                false,
                "--interface with --path hw is for --trade",
            ),
        ] {
            let e = check_options(sw, dev, iface, trade).unwrap_err();
            assert!(e.0.contains(says), "{}", e.0);
        }
    }
}
