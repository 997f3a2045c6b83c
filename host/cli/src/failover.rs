//! `run --path hw --fallback sw`: the software path as the card's hot standby (DESIGN section
//! 10). The standby detects on every captured frame while the card is in charge, so its quote
//! table is always current; its events wait in a buffer until the card delivers the same ones.
//! When the card stops (its cycle counter stands still for `--dead-after`, reads all-ones, its
//! event sequence skips, or the device reports an error), detection switches to software at
//! once: the buffered events the card never delivered are handed over first. While software is
//! in charge the card's path is retried; a card that answers again is programmed, its events are
//! drained and set aside, and once its quote table equals the software path's it is in charge
//! again.
//!
//! An opportunity is acted on at most once across the switches: every event is keyed by the feed
//! (trigger venue, instrument, side, and the feed's own key: Binance's bookUpdateId, Deribit's
//! channel, sequence and message index), the same in both paths, and an event whose key was
//! already handed over is dropped (counted). The events handed over are numbered by the host, so
//! the stream written and traded on is one continuous sequence whichever path made each event.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use tickcross_core::event::Event;
use tickcross_core::program::Program;
use tickcross_core::quotes::QuoteTable;
use tickcross_device::device::{Device, DeviceError};

/// Keys remembered for deduplication: far more than the events of the lag between the two
/// paths (the simulated card's backlog holds 262,144 frames).
const KEYS_KEPT: usize = 1 << 21;

/// Standby events kept for a card that lags behind; beyond, the oldest are dropped (counted).
const STANDBY_KEPT: usize = 1 << 21;

/// The latest events of a card on probation kept for its take-back (see `poll`).
const PROBATION_KEPT: usize = 1 << 16;

/// While software is in charge, the card's path is tried this often.
const RETRY_EVERY: Duration = Duration::from_millis(50);

/// A card on probation is not in charge: it counts as stopped only after this long (at least),
/// not after the sub-millisecond bound of a card in charge, so a simulator descheduled for a
/// moment on a loaded machine is not thrown back to the start of its probation each time.
const PROBATION_DEAD_AFTER: Duration = Duration::from_millis(100);

/// A card just put in charge (programmed at the start, or taken back) is held to the
/// sub-millisecond bound only once its clock is seen advancing; until then, to this one.
pub const GRACE: Duration = Duration::from_millis(100);

/// A card on probation has its quote table compared with the software path's this often.
const COMPARE_EVERY: Duration = Duration::from_millis(20);

/// The feed's identity of an event: equal in both paths for the same opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKey {
    trigger_venue: u8,
    instrument: u16,
    trigger_sell: bool,
    feed_key: u64,
}

impl EventKey {
    pub fn of(e: &Event) -> EventKey {
        EventKey {
            trigger_venue: e.trigger_venue,
            instrument: e.instrument,
            trigger_sell: e.trigger_sell,
            feed_key: e.feed_key,
        }
    }
}

/// The keys handed over, the oldest forgotten first.
#[derive(Default)]
struct KeySet {
    set: HashSet<EventKey>,
    order: VecDeque<EventKey>,
}

impl KeySet {
    fn contains(&self, k: &EventKey) -> bool {
        self.set.contains(k)
    }

    /// True if `k` is new (and now remembered).
    fn insert(&mut self, k: EventKey) -> bool {
        if !self.set.insert(k) {
            return false;
        }
        if self.order.len() == KEYS_KEPT {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.order.push_back(k);
        true
    }
}

/// Which path detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InCharge {
    Card,
    Software,
}

/// One switch between the paths.
#[derive(Debug, Clone)]
pub struct Switch {
    pub to: InCharge,
    /// Wall clock of the switch (ns since the epoch, CLOCK_REALTIME).
    pub wall_ns: u64,
    /// Since the run began.
    pub at: Duration,
    /// Why (to software), or how the card came back (to the card).
    pub why: String,
    /// To software: from the last sign of life of the card to the switch (its cycle counter
    /// last seen advancing, or the error for a device that answered with one).
    pub after_last_alive: Option<Duration>,
    /// To software: standby events handed over at the switch (the card never delivered them).
    pub handed_from_standby: u64,
}

/// The card's path while software is in charge.
enum Retry {
    /// Not answering; tried again at `next`. `probe`: a device opened at the last try and its
    /// cycle counter then (a card is alive when the counter moved by the next try).
    Down {
        next: Instant,
        probe: Option<(Box<Device>, u64)>,
    },
    /// Being programmed on its own thread (a command waits for the device).
    Programming(Receiver<Result<Box<Device>, DeviceError>>),
    /// Programmed; its events are drained and set aside until its quote table agrees.
    Probation {
        dev: Box<Device>,
        watchdog: tickcross_device::device::Watchdog,
        next_compare: Instant,
        since: Instant,
        /// Events set aside and comparisons that differed in this probation.
        set_aside: u64,
        differed: u64,
    },
}

/// What the standby keeps while the card is in charge, and the card's retries.
pub struct Standby {
    path: PathBuf,
    program: Program,
    dead_after: Duration,
    started: Instant,
    /// Software events the card has not delivered yet (while the card is in charge).
    buffer: VecDeque<Event>,
    keys: KeySet,
    next_seq: u64,
    retry: Option<Retry>,
    pub switches: Vec<Switch>,
    /// Events dropped because their key was already handed over.
    pub duplicates: u64,
    /// Standby events dropped because the card lagged more than `STANDBY_KEPT` behind.
    pub standby_overflow: u64,
    /// Events of a card on probation, set aside.
    pub probation_events: u64,
    /// The latest of them (at most `PROBATION_KEPT`).
    probation_recent: VecDeque<Event>,
    /// The latest timestamp of the frames the software path has taken.
    sw_frame_ts: Option<u64>,
    /// Quote table comparisons of cards on probation that did not agree.
    pub disagreements: u64,
}

impl Standby {
    pub fn new(path: PathBuf, program: Program, dead_after: Duration) -> Standby {
        Standby {
            path,
            program,
            dead_after,
            started: Instant::now(),
            buffer: VecDeque::new(),
            keys: KeySet::default(),
            next_seq: 0,
            retry: None,
            switches: Vec::new(),
            duplicates: 0,
            standby_overflow: 0,
            probation_events: 0,
            probation_recent: VecDeque::new(),
            sw_frame_ts: None,
            disagreements: 0,
        }
    }

    pub fn dead_after(&self) -> Duration {
        self.dead_after
    }

    /// The software path has taken a frame stamped `ts_ns`.
    pub fn saw_frame(&mut self, ts_ns: u64) {
        self.sw_frame_ts = Some(self.sw_frame_ts.map_or(ts_ns, |t| t.max(ts_ns)));
    }

    /// Keeps only the events whose key is new, numbered on from the last handed over.
    pub fn admit(&mut self, batch: &mut Vec<Event>) {
        let before = batch.len();
        batch.retain_mut(|e| {
            if !self.keys.insert(EventKey::of(e)) {
                return false;
            }
            e.seq = self.next_seq;
            self.next_seq += 1;
            true
        });
        self.duplicates += (before - batch.len()) as u64;
    }

    /// The card delivered `batch` (before `admit`): the standby events up to them are done.
    /// Both paths see the same frames in the same order, so the card delivers every event the
    /// standby made, in its order: a standby event older than one the card delivers, whose key
    /// the card never delivered nor anyone handed over, means the card missed it (a frame it
    /// lost, a table that differs). That is said (the caller fails over, and the standby
    /// events, that one first, are handed over), never pruned silently.
    pub fn card_delivered(&mut self, batch: &[Event]) -> Option<String> {
        for e in batch {
            let k = EventKey::of(e);
            while let Some(b) = self.buffer.front() {
                let bk = EventKey::of(b);
                if bk == k || (b.ts_ns < e.ts_ns && self.keys.contains(&bk)) {
                    self.buffer.pop_front();
                } else if b.ts_ns < e.ts_ns {
                    return Some(format!(
                        "the card went past an event the software path made and it did not (feed key {} of the frame stamped {} ns, venue {} instrument {})",
                        b.feed_key, b.ts_ns, b.trigger_venue, b.instrument
                    ));
                } else {
                    break;
                }
            }
        }
        None
    }

    /// At the end of a run with the card in charge: the standby events the card never
    /// delivered (admitted: those already handed over are dropped by key).
    pub fn undelivered(&mut self) -> Vec<Event> {
        let mut events: Vec<Event> = self.buffer.drain(..).collect();
        self.admit(&mut events);
        events
    }

    /// The standby path's events while the card is in charge.
    pub fn hold(&mut self, events: Vec<Event>) {
        for e in events {
            if self.buffer.len() == STANDBY_KEPT {
                self.buffer.pop_front();
                self.standby_overflow += 1;
                if self.standby_overflow.is_power_of_two() {
                    tracing::warn!(
                        dropped = self.standby_overflow,
                        "the card is more than {STANDBY_KEPT} events behind the software path: the oldest standby event dropped"
                    );
                }
            }
            self.buffer.push_back(e);
        }
    }

    /// Switches to software: returns the standby events to hand over (admitted), and starts
    /// retrying the card's path.
    pub fn switch_to_software(
        &mut self,
        why: String,
        last_alive: Option<Instant>,
        wall_ns: u64,
    ) -> Vec<Event> {
        let now = Instant::now();
        let mut events: Vec<Event> = self.buffer.drain(..).collect();
        self.admit(&mut events);
        self.switches.push(Switch {
            to: InCharge::Software,
            wall_ns,
            at: now - self.started,
            why,
            after_last_alive: last_alive.map(|t| now.saturating_duration_since(t)),
            handed_from_standby: events.len() as u64,
        });
        self.retry = Some(Retry::Down {
            next: now + RETRY_EVERY,
            probe: None,
        });
        events
    }

    /// While software is in charge: tries the card's path, drains a card on probation and
    /// compares its table with `sw_quotes` (the software path's, after the frames `saw_frame`
    /// was told of) over the programmed venues and instruments. Returns the card once it
    /// agrees (the switch is recorded), with the events it made for frames the software path
    /// has not taken yet: the card may be ahead by frames its mirrored table does not show yet,
    /// and those events must not be lost with the ones set aside (they go to the engine, deduped
    /// by key like every other).
    pub fn poll(
        &mut self,
        sw_quotes: &QuoteTable,
        wall_ns: u64,
    ) -> Option<(Box<Device>, Vec<Event>)> {
        let sw_frame_ts = self.sw_frame_ts;
        let (n_venues, n_instruments) = (self.program.venues.len(), self.program.edges.len());
        let now = Instant::now();
        let retry = self.retry.take()?;
        let (next, agreed) = match retry {
            Retry::Down { next, probe } if now < next => (Retry::Down { next, probe }, None),
            Retry::Down { probe, .. } => (self.try_card(probe, now), None),
            Retry::Programming(rx) => match rx.try_recv() {
                Ok(Ok(dev)) => {
                    self.probation_recent.clear();
                    tracing::info!("the card answers again and is programmed: on probation until its quote table agrees with the software path's");
                    let watchdog = tickcross_device::device::Watchdog::with_period(
                        &dev,
                        self.dead_after.max(PROBATION_DEAD_AFTER),
                        crate::live::WATCH_PERIOD,
                    );
                    (
                        Retry::Probation {
                            dev,
                            watchdog,
                            next_compare: now,
                            since: now,
                            set_aside: 0,
                            differed: 0,
                        },
                        None,
                    )
                }
                Ok(Err(e)) => {
                    tracing::warn!("programming the card that came back: {e}; retrying");
                    (self.down(now), None)
                }
                Err(TryRecvError::Empty) => (Retry::Programming(rx), None),
                Err(TryRecvError::Disconnected) => {
                    tracing::warn!("the thread programming the card ended without a word");
                    (self.down(now), None)
                }
            },
            Retry::Probation {
                mut dev,
                mut watchdog,
                next_compare,
                since,
                mut set_aside,
                differed,
            } => {
                let mut aside = Vec::new();
                let drained = dev.drain(&mut aside);
                self.probation_events += aside.len() as u64;
                set_aside += aside.len() as u64;
                for e in aside {
                    if self.probation_recent.len() == PROBATION_KEPT {
                        self.probation_recent.pop_front();
                    }
                    self.probation_recent.push_back(e);
                }
                let lost = dev.seq_check().lost;
                match (drained, watchdog.check(&dev)) {
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::warn!("the card on probation failed again: {e}");
                        (self.down(now), None)
                    }
                    _ if lost > 0 => {
                        tracing::warn!(lost, "the card on probation lost events: programmed again");
                        (self.down(now), None)
                    }
                    _ if now < next_compare => (
                        Retry::Probation {
                            dev,
                            watchdog,
                            next_compare,
                            since,
                            set_aside,
                            differed,
                        },
                        None,
                    ),
                    _ => {
                        let card = dev.quotes();
                        if tables_agree(&card, sw_quotes, n_venues, n_instruments) {
                            let ahead: Vec<Event> = self
                                .probation_recent
                                .drain(..)
                                .filter(|e| sw_frame_ts.is_none_or(|t| e.ts_ns > t))
                                .collect();
                            let why = format!(
                                "its quote table agrees with the software path's after {:.1} s on probation ({} events set aside, {} comparisons that differed, {} events of frames the software path had not taken yet handed over)",
                                since.elapsed().as_secs_f64(),
                                set_aside,
                                differed,
                                ahead.len()
                            );
                            self.switches.push(Switch {
                                to: InCharge::Card,
                                wall_ns,
                                at: now - self.started,
                                why,
                                after_last_alive: None,
                                handed_from_standby: 0,
                            });
                            self.buffer.clear();
                            return Some((dev, ahead));
                        }
                        self.disagreements += 1;
                        (
                            Retry::Probation {
                                dev,
                                watchdog,
                                next_compare: now + COMPARE_EVERY,
                                since,
                                set_aside,
                                differed: differed + 1,
                            },
                            None,
                        )
                    }
                }
            }
        };
        self.retry = Some(next);
        agreed
    }

    fn down(&self, now: Instant) -> Retry {
        Retry::Down {
            next: now + RETRY_EVERY,
            probe: None,
        }
    }

    /// Opens the card's path afresh (a restarted simulator replaces its region; a card may
    /// come back on the bus): alive when its cycle counter moved since the last try, then
    /// programmed on a thread.
    fn try_card(&mut self, probe: Option<(Box<Device>, u64)>, now: Instant) -> Retry {
        let next = now + RETRY_EVERY;
        if let Some((dev, before)) = probe {
            let c = dev.cycles();
            if c != before && c != u64::MAX {
                let program = self.program.clone();
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                let spawned = std::thread::Builder::new()
                    .name("card-program".into())
                    .spawn(move || {
                        let mut dev = dev;
                        let r = dev.program(&program).map(|()| dev);
                        tx.send(r).ok();
                    });
                return match spawned {
                    Ok(_) => Retry::Programming(rx),
                    Err(e) => {
                        tracing::warn!("starting the thread to program the card: {e}");
                        Retry::Down { next, probe: None }
                    }
                };
            }
        }
        // a new mapping every try: the file at the path may be a new one
        let probe = Device::open(&self.path).ok().map(|d| {
            let c = d.cycles();
            (Box::new(d), c)
        });
        Retry::Down { next, probe }
    }
}

/// The card's quote table equals the software path's over the configured venues and
/// instruments: prices, quantities, timestamps, valid and stale flags.
pub fn tables_agree(card: &QuoteTable, sw: &QuoteTable, venues: usize, instruments: usize) -> bool {
    (0..venues).all(|v| {
        (0..instruments)
            .all(|i| card.get(v, i) == sw.get(v, i) && card.stale(v, i) == sw.stale(v, i))
    })
}

/// The switches in lines for the run's summary.
pub fn summary_lines(s: &Standby) -> Vec<String> {
    let mut l = Vec::new();
    let to_sw = s
        .switches
        .iter()
        .filter(|w| w.to == InCharge::Software)
        .count();
    l.push(format!(
        "failover: {} switches to software, {} back to the card; {} duplicate events dropped by key, {} card events set aside on probation, {} standby events dropped (card too far behind)",
        to_sw,
        s.switches.len() - to_sw,
        s.duplicates,
        s.probation_events,
        s.standby_overflow
    ));
    for w in &s.switches {
        l.push(switch_line(w));
    }
    l
}

/// One switch in one line (also said as it happens).
pub fn switch_line(w: &Switch) -> String {
    match w.to {
        InCharge::Software => format!(
            "failover: to software at {:.3} s (wall {} ns): {}; {} after the card was last seen alive; {} standby events handed over",
            w.at.as_secs_f64(),
            w.wall_ns,
            w.why,
            w.after_last_alive
                .map_or("unknown".to_string(), |d| format!("{} us", d.as_micros())),
            w.handed_from_standby
        ),
        InCharge::Card => format!(
            "failover: back to the card at {:.3} s (wall {} ns): {}",
            w.at.as_secs_f64(),
            w.wall_ns,
            w.why
        ),
    }
}

/// The switches as JSON (the report's failover.json).
pub fn switches_json(s: &Standby) -> serde_json::Value {
    serde_json::json!({
        "switches": s.switches.iter().map(|w| serde_json::json!({
            "to": match w.to { InCharge::Card => "card", InCharge::Software => "software" },
            "wall_ns": w.wall_ns,
            "at_s": w.at.as_secs_f64(),
            "why": w.why,
            "after_last_alive_us": w.after_last_alive.map(|d| d.as_micros() as u64),
            "handed_from_standby": w.handed_from_standby,
        })).collect::<Vec<_>>(),
        "duplicates_dropped": s.duplicates,
        "probation_events_set_aside": s.probation_events,
        "standby_overflow": s.standby_overflow,
        "probation_disagreements": s.disagreements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts_ns: u64, feed_key: u64, trigger_sell: bool) -> Event {
        Event {
            seq: 99,
            instrument: 0,
            buy_venue: 0,
            sell_venue: 1,
            trigger_venue: 0,
            trigger_sell,
            buy_price: 1,
            buy_qty: 1,
            sell_price: 2,
            sell_qty: 1,
            qty: 1,
            ts_ns,
            buy_ts_ns: ts_ns,
            sell_ts_ns: ts_ns,
            feed_key,
            cycles: None,
        }
    }

    fn standby() -> Standby {
        Standby::new(
            PathBuf::from("/nonexistent/card.bar"),
            Program::default(),
            Duration::from_micros(500),
        )
    }

    #[test]
    fn an_event_is_handed_over_once_whichever_path_made_it_and_numbered_on() {
        let mut s = standby();
        // the card delivers two events; the standby had them and a third the card never did
        s.hold(vec![
            event(10, 1, false),
            event(10, 1, true),
            event(20, 2, false),
        ]);
        let mut card = vec![event(10, 1, false), event(10, 1, true)];
        assert_eq!(s.card_delivered(&card), None);
        s.admit(&mut card);
        assert_eq!(card.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(
            s.buffer.len(),
            1,
            "the card's events leave the standby buffer"
        );
        let handed = s.switch_to_software("test".into(), None, 0);
        assert_eq!(handed.len(), 1);
        assert_eq!((handed[0].feed_key, handed[0].seq), (2, 2));
        // the software path, now in charge, makes the same event again: dropped by its key
        let mut again = vec![event(20, 2, false), event(30, 3, false)];
        s.admit(&mut again);
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].feed_key, again[0].seq), (3, 3));
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.switches.len(), 1);
        assert_eq!(s.switches[0].handed_from_standby, 1);
    }

    #[test]
    fn a_card_that_goes_past_a_standby_event_it_never_delivered_is_caught() {
        let mut s = standby();
        s.hold(vec![
            event(10, 1, false),
            event(20, 2, false),
            event(30, 3, false),
        ]);
        assert_eq!(s.card_delivered(&[event(10, 1, false)]), None);
        // the card skips the event of the frame stamped 20
        let why = s.card_delivered(&[event(30, 3, false)]).expect("caught");
        assert!(why.contains("feed key 2"), "{why}");
        // failing over hands it over (with the one after it)
        let handed = s.switch_to_software(why, None, 0);
        assert_eq!(
            handed.iter().map(|e| e.feed_key).collect::<Vec<_>>(),
            [2, 3]
        );
    }

    #[test]
    fn standby_events_already_handed_over_are_passed_without_alarm() {
        let mut s = standby();
        // handed over by the software path (or with a take-back) before the card delivered
        let mut early = vec![event(20, 2, false)];
        s.admit(&mut early);
        s.hold(vec![event(20, 2, false), event(30, 3, false)]);
        assert_eq!(s.card_delivered(&[event(30, 3, false)]), None);
        assert!(s.buffer.is_empty());
        // at the end, what the card never delivered is handed over once
        s.hold(vec![event(40, 4, false), event(20, 2, false)]);
        let left = s.undelivered();
        assert_eq!(left.iter().map(|e| e.feed_key).collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn the_two_sides_of_one_update_are_two_keys() {
        let mut s = standby();
        let mut b = vec![event(1, 7, false), event(1, 7, true), event(1, 7, true)];
        s.admit(&mut b);
        assert_eq!(b.len(), 2);
        assert_eq!(s.duplicates, 1);
    }

    #[test]
    fn tables_agree_only_when_every_configured_entry_and_flag_is_equal() {
        let mut a = QuoteTable::default();
        let b = QuoteTable::default();
        assert!(tables_agree(&a, &b, 2, 2));
        a.get_mut(1, 1).bid_price = 5;
        assert!(!tables_agree(&a, &b, 2, 2));
        assert!(
            tables_agree(&a, &b, 1, 2),
            "an entry outside the configured ones"
        );
        a.get_mut(1, 1).bid_price = 0;
        a.set_stale(0, 1, true);
        assert!(!tables_agree(&a, &b, 2, 2));
    }

    #[test]
    fn a_card_path_with_nothing_there_stays_down() {
        let mut s = standby();
        s.switch_to_software("test".into(), None, 0);
        let t = QuoteTable::default();
        assert!(s.poll(&t, 0).is_none());
        std::thread::sleep(RETRY_EVERY);
        assert!(s.poll(&t, 0).is_none());
        assert!(matches!(s.retry, Some(Retry::Down { probe: None, .. })));
    }
}
