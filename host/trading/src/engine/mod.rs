//! The trading engine: detections in, orders out, every consequence booked.
//!
//! Every change of state is a journal record: the engine decides, writes the record, then
//! applies it to its state with [`State::apply`], and only then acts (sends the orders). A
//! restart applies the journal's records to a fresh state through the same function, so the
//! resumed engine holds exactly the balances, orders, trades, risk windows and P&L it had.
//!
//! Decision order for an event (the first failing check is the refusal counted):
//! 1. `not_traded` (a venue lacks the market), `unprofitable` (net of both legs' taker fees at
//!    the displayed size, capped by `max_trade_qty`, below `min_profit` or `min_profit_bps`).
//!    Events past these are *candidates*.
//! 2. `kill_switch`, `stale_quote`, `venue_down`, `venue_disabled`.
//! 3. Sizing by inventory: quote funds on the buy venue (fee included when charged in quote),
//!    base funds on the sell venue (likewise), the third fee asset if any, rounded to each
//!    venue's lot: `insufficient_inventory` or `below_min_size` when a leg falls below its
//!    minimum; then `below_min_profit` on the sized trade.
//! 4. `max_notional`, `max_position`, `max_open_legs`, `daily_loss`, `rate_limit`.
//!
//! Both legs then leave at once as IOC limit orders at the detected prices. When every order
//! of a trade is final and base is left over (a leg rejected, timed out, unfilled, or partly
//! filled), it is unwound at once on the venue that holds it (IOC at most
//! `unwind_slippage_bps` worse than its entry price), retried `unwind_retries` times after
//! `unwind_retry_ms`; what remains then is reported as open exposure (`gave_up`). Residuals
//! below a venue's minimum order are closed as dust and stay in inventory.
//!
//! A trade bust or correction from a venue (`VenueEvent::Correction`) names an earlier fill; it
//! is journaled with the fill's booked fee and, for a correction, the schedule's fee of the
//! corrected fill, and applied like the fill in reverse (and again at the corrected figures):
//! balances, the venue's volume, the trade's flows and, if the trade is closed already, its
//! realized P&L and every total. Base a bust leaves over is a position like any other (the
//! risk checks count it; the report shows it). One that names no booked fill is refused,
//! logged and counted.

mod decide;
mod orders;
mod reconcile;
mod replay;
mod setup;
mod state;
#[cfg(test)]
mod tests;
mod timers;
mod transfers;
mod unwind;

pub use replay::ResumeInfo;
pub use setup::{install_kill_signal, request_of, EngineError, EngineSetup, KILL_REQUESTED};
pub use state::{
    BookedFill, BookedOrder, CandidateLine, OrderEnd, OrderState, State, Stats, TradeState,
    BOOKED_ORDERS,
};

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rust_decimal::Decimal;

use crate::journal::{Journal, JournalContents, Record};
use crate::risk::Refusal;
use crate::venue::{Venue, VenueClock, VenueEvent};
use replay::Interrupted;

/// Events handled since the last progress record.
#[derive(Debug, Default)]
struct PendingProgress {
    events: u64,
    last_seq: Option<u64>,
    refused: BTreeMap<String, u64>,
}

/// Progress records are written at least this often (in events), so that a restart repeats
/// little.
const PROGRESS_EVERY: u64 = 4096;

pub struct Engine {
    // shared so that a decision can hold the markets while it books
    setup: std::rc::Rc<EngineSetup>,
    st: State,
    journal: Option<Journal>,
    venues: Vec<Box<dyn Venue>>,
    pending: PendingProgress,
    scratch: Vec<VenueEvent>,
    tap: Option<Vec<Record>>,
    /// After a restart: what the journal's last step still owed when the process died.
    interrupted: Option<Interrupted>,
    /// After a restart: what each venue asked for order statuses has still to answer.
    reconciling: BTreeMap<usize, reconcile::Pending>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A fresh engine; with a journal path, the journal is created (it must not hold records).
    pub fn new(
        setup: EngineSetup,
        venues: Vec<Box<dyn Venue>>,
        journal: Option<&std::path::Path>,
    ) -> Result<Engine, EngineError> {
        let st = State::new(&setup);
        let journal = match journal {
            Some(p) => Some(Journal::create(p, setup.trade.journal.sync)?),
            None => None,
        };
        let mut e = Engine {
            setup: std::rc::Rc::new(setup),
            st,
            journal,
            venues,
            pending: PendingProgress::default(),
            scratch: Vec::new(),
            tap: None,
            interrupted: None,
            reconciling: BTreeMap::new(),
        };
        let h = Record::Header(e.setup.header());
        e.commit(h)?;
        Ok(e)
    }

    /// An engine restarted from its journal: the state it had, with a torn last record cut.
    pub fn resume(
        setup: EngineSetup,
        venues: Vec<Box<dyn Venue>>,
        path: &std::path::Path,
        contents: JournalContents,
    ) -> Result<(Engine, ResumeInfo), EngineError> {
        let (st, interrupted) = replay::replay(&setup, &contents)?;
        let journal = Journal::reopen(path, setup.trade.journal.sync, &contents)?;
        let info = ResumeInfo {
            records: contents.records.len(),
            torn: contents.torn,
            last_event_seq: st.last_event_seq,
        };
        Ok((
            Engine {
                setup: std::rc::Rc::new(setup),
                st,
                journal: Some(journal),
                venues,
                pending: PendingProgress::default(),
                scratch: Vec::new(),
                tap: None,
                interrupted,
                reconciling: BTreeMap::new(),
            },
            info,
        ))
    }

    /// The time of the step a restart cut short, if one was (see `complete_interrupted`).
    pub fn interrupted_at(&self) -> Option<u64> {
        self.interrupted.as_ref().map(|i| i.ts_ns)
    }

    /// After a restart: finishes the step the process died in, at that step's time (call it
    /// once the replay reaches that time, before anything else happens at it). A final report
    /// whose consequence (close, unwind, wait) was not written is decided now; a rebalance cut
    /// short sends the rest of its plan (the plan from the ledger it started from, without the
    /// transfers already written), then the snapshot that follows a close.
    pub fn complete_interrupted(&mut self) -> Result<(), EngineError> {
        let Some(i) = self.interrupted.take() else {
            return Ok(());
        };
        tracing::info!(
            at = i.ts_ns,
            trades = ?i.undecided,
            rebalance = i.rebalance.is_some(),
            "finishing the step the journal was cut in"
        );
        for id in i.undecided {
            self.after_final(id, i.ts_ns)?;
        }
        if let Some((ledger, written, snapshot)) = i.rebalance {
            self.rebalance_from(&ledger, written, i.ts_ns)?;
            if snapshot {
                self.snapshot(i.ts_ns)?;
            }
        }
        Ok(())
    }

    pub fn state(&self) -> &State {
        &self.st
    }

    pub fn setup(&self) -> &EngineSetup {
        &self.setup
    }

    pub fn venue_mut(&mut self, v: usize) -> &mut dyn Venue {
        self.venues[v].as_mut()
    }

    pub fn venues(&self) -> &[Box<dyn Venue>] {
        &self.venues
    }

    fn commit(&mut self, rec: Record) -> Result<(), EngineError> {
        if let Some(j) = self.journal.as_mut() {
            j.append(&rec)?;
        }
        self.st.apply(&rec, &self.setup);
        if let Some(t) = self.tap.as_mut() {
            t.push(rec);
        }
        Ok(())
    }

    fn flush_progress(&mut self, now: u64) -> Result<(), EngineError> {
        if self.pending.events == 0 {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        self.commit(Record::Progress {
            ts_ns: now,
            last_event_seq: p.last_seq.unwrap_or(0),
            events: p.events,
            refused: p.refused,
        })
    }

    fn kill_requested(&self) -> bool {
        KILL_REQUESTED.load(Ordering::SeqCst)
            || self.setup.kill_file.as_ref().is_some_and(|p| p.exists())
    }

    /// Turns the kill switch on (journaled); no new trade is opened after this.
    pub fn kill(&mut self, source: &str, now: u64) -> Result<(), EngineError> {
        if self.st.killed {
            return Ok(());
        }
        tracing::warn!(source, "kill switch on: no new trades");
        self.flush_progress(now)?;
        self.commit(Record::Kill {
            ts_ns: now,
            source: source.to_string(),
        })
    }

    fn venue_unavailable(&self, v: usize, now: u64) -> Option<Refusal> {
        if !self.venues[v].connected() || self.st.risk[v].down {
            return Some(Refusal::VenueDown);
        }
        if self.st.risk[v].disabled(now) {
            return Some(Refusal::VenueDisabled);
        }
        None
    }

    fn taker_bps(&self, v: usize) -> Decimal {
        self.setup.trade.venues[v]
            .fees
            .taker_bps_at(self.st.volume[v])
    }

    /// Writes a balance snapshot.
    pub fn snapshot(&mut self, now: u64) -> Result<(), EngineError> {
        let s = self.st.snapshot(&self.setup, now);
        self.commit(Record::Snapshot(s))
    }

    /// End of input: closes the venues' sessions, books what they said before their end (a
    /// bust or correction that followed an order's last report), then the pending progress and
    /// a final snapshot, and syncs the journal.
    pub fn finish(&mut self, now: u64) -> Result<(), EngineError> {
        for v in self.venues.iter_mut() {
            v.close();
        }
        let mut buf = Vec::new();
        for v in 0..self.venues.len() {
            // a simulated venue has nothing beyond what its clock made due
            if self.venues[v].clock() != VenueClock::Wall {
                continue;
            }
            buf.clear();
            if let Err(e) = self.venues[v].poll(now, &mut buf) {
                tracing::warn!(venue = %self.setup.venue_names[v], "poll: {e}");
            }
            for ev in buf.drain(..) {
                // the session's own end is not news to the run
                if matches!(
                    ev,
                    VenueEvent::Exec(_)
                        | VenueEvent::Correction(_)
                        | VenueEvent::CorrectionRefused { .. }
                ) {
                    self.on_venue_event(v, ev, now)?;
                }
            }
        }
        self.flush_progress(now)?;
        self.snapshot(now)?;
        if let Some(j) = self.journal.as_mut() {
            j.sync()?;
        }
        Ok(())
    }

    /// Orders not final, or trades not closed (an unwind may follow).
    pub fn has_orders_out(&self) -> bool {
        self.st.open_orders() > 0 || !self.st.trades.is_empty()
    }

    /// Keeps a copy of every record committed from now on (tests, tools).
    pub fn keep_records(&mut self) {
        self.tap = Some(Vec::new());
    }

    /// Records kept since `keep_records`.
    pub fn take_records(&mut self) -> Vec<Record> {
        self.tap.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
