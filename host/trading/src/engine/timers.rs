//! Time-driven work: order timeouts (cancel, then lost), unwind retries, transfer arrivals.

use super::setup::EngineError;
use super::Engine;
use crate::journal::Record;
use crate::venue::{OrderId, VenueClock};

impl Engine {
    /// The earliest time the engine or a simulated venue has something to do.
    pub fn next_due(&self) -> Option<u64> {
        let venues = self
            .venues
            .iter()
            .filter(|v| v.clock() == VenueClock::Simulated)
            .filter_map(|v| v.next_due_ns());
        let orders = self
            .st
            .orders
            .values()
            .filter(|o| o.end.is_none())
            .map(|o| o.deadline);
        let unwinds = self.st.trades.values().filter_map(|t| t.next_unwind);
        let transfers = self.st.ledger.next_arrival().map(|(t, _)| t);
        venues.chain(orders).chain(unwinds).chain(transfers).min()
    }

    /// Order timeouts, unwind retries and transfer arrivals due by `now`.
    pub fn on_timers(&mut self, now: u64) -> Result<(), EngineError> {
        let due: Vec<(OrderId, bool)> = self
            .st
            .orders
            .values()
            .filter(|o| o.end.is_none() && o.deadline <= now)
            .map(|o| (o.rec.id, o.cancel_sent.is_some()))
            .collect();
        for (id, cancelled) in due {
            let (venue, trade) = {
                let o = &self.st.orders[&id];
                (o.rec.venue, o.rec.trade_id)
            };
            if !cancelled {
                let disables = self.st.stats.venue_disables;
                tracing::warn!(venue = %self.setup.venue_names[venue], order = id, "order timed out: cancelling");
                self.commit(Record::CancelSent {
                    ts_ns: now,
                    order_id: id,
                    why: "timeout".into(),
                })?;
                if self.st.stats.venue_disables > disables {
                    tracing::warn!(venue = %self.setup.venue_names[venue], "venue disabled after repeated failures");
                }
                if let Err(e) = self.venues[venue].cancel(id, now) {
                    tracing::warn!(venue = %self.setup.venue_names[venue], order = id, "cancel not sent: {e}");
                }
            } else {
                tracing::error!(venue = %self.setup.venue_names[venue], order = id, "neither the order nor its cancel was answered: closed with what had filled");
                self.commit(Record::OrderLost {
                    ts_ns: now,
                    order_id: id,
                })?;
                self.after_final(trade, now)?;
            }
        }
        let unwinds: Vec<u64> = self
            .st
            .trades
            .iter()
            .filter(|(_, t)| t.next_unwind.is_some_and(|u| u <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in unwinds {
            self.try_unwind(id, now)?;
        }
        while let Some((at, id)) = self.st.ledger.next_arrival() {
            if at > now {
                break;
            }
            self.commit(Record::TransferArrived { ts_ns: now, id })?;
            self.rebalance(now)?;
        }
        Ok(())
    }
}
