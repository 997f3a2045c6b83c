//! A restart: the journal's records applied to a fresh state, and what the step the process
//! died in still owed.

use super::setup::{EngineError, EngineSetup};
use super::state::{record_ts, State};
use crate::journal::{self, JournalContents, Record, TornTail};
use crate::ledger::Ledger;

/// What a resumed journal held.
#[derive(Debug, Clone)]
pub struct ResumeInfo {
    pub records: usize,
    pub torn: Option<TornTail>,
    pub last_event_seq: Option<u64>,
}

/// What a step that writes several records (a final report and the close or unwind it leads
/// to; a close and the transfers and snapshot that follow it; a transfer's arrival and the
/// transfers that follow it) had still to do when the process died between two of its
/// records. A restart does it at the step's time, before anything later, so that it ends in
/// the state of a run that was never interrupted.
#[derive(Debug)]
pub(super) struct Interrupted {
    pub(super) ts_ns: u64,
    /// Trades whose orders are all final with nothing decided yet (no close, unwind or wait).
    pub(super) undecided: Vec<u64>,
    /// A rebalance cut short: the ledger it planned from, how many of its transfers were
    /// written, and whether a snapshot follows (after a close).
    pub(super) rebalance: Option<(Ledger, usize, bool)>,
}

/// The state a journal's records build, after checking that the journal belongs to this setup,
/// and the step its last records left unfinished, if any.
pub(super) fn replay(
    setup: &EngineSetup,
    contents: &JournalContents,
) -> Result<(State, Option<Interrupted>), EngineError> {
    let mut st = State::new(setup);
    match contents.records.first() {
        Some(Record::Header(h)) => {
            if h.version != journal::VERSION {
                return Err(EngineError::Mismatch(format!(
                    "journal version {} (this tickcross writes {})",
                    h.version,
                    journal::VERSION
                )));
            }
            if h.digest != setup.digest {
                return Err(EngineError::Mismatch(
                    "it was written for another configuration or other captures (digest differs)"
                        .into(),
                ));
            }
            if *h != setup.header() {
                return Err(EngineError::Mismatch(
                    "its header (venues, instruments, contract sizes, initial balances, fees) \
                     differs from this configuration's although the digest matches: the \
                     header was altered"
                        .into(),
                ));
            }
        }
        _ => {
            return Err(EngineError::Mismatch(
                "it does not start with a header record".into(),
            ))
        }
    }
    // a close, or a transfer's arrival, followed only by the transfers of its rebalance
    // (and, after a close, not yet by its snapshot): the ledger the rebalance planned from
    let mut tail: Option<(Ledger, usize, bool)> = None;
    for rec in &contents.records {
        st.apply(rec, setup);
        tail = match (rec, tail) {
            (Record::TradeClosed { .. }, _) => Some((st.ledger.clone(), 0, true)),
            (Record::TransferArrived { .. }, _) => Some((st.ledger.clone(), 0, false)),
            (Record::TransferSent(_), Some((l, n, snap))) => Some((l, n + 1, snap)),
            _ => None,
        };
    }
    let undecided: Vec<u64> = st
        .trades
        .iter()
        .filter(|(_, t)| {
            t.next_unwind.is_none()
                && t.orders
                    .iter()
                    .all(|id| st.orders.get(id).is_none_or(|o| o.end.is_some()))
        })
        .map(|(id, _)| *id)
        .collect();
    let interrupted = (!undecided.is_empty() || tail.is_some()).then(|| Interrupted {
        ts_ns: contents
            .records
            .iter()
            .rev()
            .find_map(record_ts)
            .unwrap_or(st.last_ts),
        undecided,
        rebalance: tail,
    });
    Ok((st, interrupted))
}
