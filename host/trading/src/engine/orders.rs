//! Orders to the venues and what comes back: sending, polling, venue events and execution
//! reports (each booked with its fee; a final one leads to the trade's next step).

use rust_decimal::Decimal;

use super::setup::EngineError;
use super::Engine;
use crate::journal::Record;
use crate::money::{base_of, quote_of};
use crate::venue::{
    CorrectionKind, ExecKind, ExecReport, OrderRequest, TradeCorrection, VenueEvent,
};

impl Engine {
    /// Hands an order to its venue; a venue that refuses it at once is booked as a reject.
    pub(super) fn send(&mut self, req: &OrderRequest, now: u64) -> Result<(), EngineError> {
        if let Err(e) = self.venues[req.venue].submit(req, now) {
            tracing::warn!(venue = %self.setup.venue_names[req.venue], order = req.id, "order not sent: {e}");
            let rep = ExecReport {
                order_id: req.id,
                kind: ExecKind::Rejected,
                last_qty: Decimal::ZERO,
                last_price: Decimal::ZERO,
                cum_qty: Decimal::ZERO,
                leaves_qty: Decimal::ZERO,
                text: Some(format!("not sent: {e}")),
                ts_ns: now,
            };
            self.on_report(req.venue, rep, now)?;
        }
        Ok(())
    }

    /// Collects and handles what every venue has for us by `now`.
    pub fn poll_venues(&mut self, now: u64) -> Result<(), EngineError> {
        for v in 0..self.venues.len() {
            self.poll_venue(v, now)?;
        }
        Ok(())
    }

    pub fn poll_venue(&mut self, v: usize, now: u64) -> Result<(), EngineError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        if let Err(e) = self.venues[v].poll(now, &mut buf) {
            tracing::warn!(venue = %self.setup.venue_names[v], "poll: {e}");
        }
        for ev in buf.drain(..) {
            self.on_venue_event(v, ev, now)?;
        }
        self.scratch = buf;
        Ok(())
    }

    pub fn on_venue_event(
        &mut self,
        v: usize,
        ev: VenueEvent,
        now: u64,
    ) -> Result<(), EngineError> {
        let name = self.setup.venue_names[v].clone();
        match ev {
            VenueEvent::Exec(r) => self.on_report(v, r, now),
            VenueEvent::Correction(c) => self.on_correction(v, c, now),
            VenueEvent::CorrectionRefused { order_id, text } => {
                tracing::error!(venue = %name, order = order_id, "trade bust or correction refused by the connector: {text}; reconcile by hand");
                self.st.stats.corrections_refused += 1;
                Ok(())
            }
            VenueEvent::Status(s) => self.on_status(v, s, now),
            VenueEvent::StatusRefused { order_id, text } => {
                self.on_status_refused(v, order_id, text);
                Ok(())
            }
            VenueEvent::MassStatusEnd { reports } => {
                self.on_mass_status_end(v, reports);
                Ok(())
            }
            VenueEvent::CancelRejected { order_id, text } => {
                tracing::debug!(venue = %name, order = order_id, "cancel rejected: {text}");
                Ok(())
            }
            VenueEvent::BusinessReject { order_id, text } => {
                tracing::warn!(venue = %name, ?order_id, "business reject: {text}");
                match order_id {
                    Some(id) if self.st.orders.get(&id).is_some_and(|o| o.end.is_none()) => {
                        let rep = ExecReport {
                            order_id: id,
                            kind: ExecKind::Rejected,
                            last_qty: Decimal::ZERO,
                            last_price: Decimal::ZERO,
                            cum_qty: Decimal::ZERO,
                            leaves_qty: Decimal::ZERO,
                            text: Some(text),
                            ts_ns: now,
                        };
                        self.on_report(v, rep, now)
                    }
                    _ => Ok(()),
                }
            }
            VenueEvent::Connected | VenueEvent::Disconnected { .. } => {
                let up = matches!(ev, VenueEvent::Connected);
                if self.st.risk[v].down != up {
                    return Ok(()); // already known (a restart replays venue changes)
                }
                let reason = match ev {
                    VenueEvent::Disconnected { reason } => reason,
                    _ => "connected".into(),
                };
                if up {
                    tracing::info!(venue = %name, "venue back up");
                } else {
                    tracing::warn!(venue = %name, "venue down: {reason}");
                }
                self.commit(Record::VenueState {
                    ts_ns: now,
                    venue: v,
                    up,
                    reason,
                })
            }
        }
    }

    pub(super) fn on_report(
        &mut self,
        v: usize,
        mut r: ExecReport,
        now: u64,
    ) -> Result<(), EngineError> {
        if self.awaiting_status(r.order_id) {
            // a report resent from before a restart, of an order whose status is asked: its
            // fill is booked, its end waits for the status answer, which books what the
            // journal still lacks (a fill the process had and never journaled) before it. Its
            // filled total is the journal's until then (the venue's, which counts the missing
            // fill, is in the reconcile record).
            if r.kind.is_final() {
                if r.last_qty.is_zero() {
                    return Ok(());
                }
                r.kind = ExecKind::PartialFill;
            }
            if let Some(o) = self.st.orders.get(&r.order_id) {
                r.cum_qty = o.cum_qty + r.last_qty;
            }
        }
        let name = &self.setup.venue_names[v];
        let Some(o) = self.st.orders.get(&r.order_id) else {
            tracing::warn!(venue = %name, order = r.order_id, "report for an unknown order ignored");
            return Ok(());
        };
        if o.end.is_some() {
            tracing::debug!(venue = %name, order = r.order_id, kind = ?r.kind, "report after the order ended ignored");
            return Ok(());
        }
        if o.rec.venue != v {
            tracing::warn!(venue = %name, order = r.order_id, "report from the wrong venue ignored");
            return Ok(());
        }
        if r.last_qty < Decimal::ZERO
            || (r.last_qty > Decimal::ZERO && r.last_price <= Decimal::ZERO)
        {
            tracing::warn!(venue = %name, order = r.order_id, "malformed report ignored: qty {} price {}", r.last_qty, r.last_price);
            return Ok(());
        }
        if o.cum_qty + r.last_qty > o.rec.qty {
            tracing::warn!(venue = %name, order = r.order_id, "venue filled more than ordered: {} of {}", o.cum_qty + r.last_qty, o.rec.qty);
        }
        let rec = o.rec.clone();
        let fee = (r.last_qty > Decimal::ZERO).then(|| {
            let market = self
                .setup
                .market(rec.venue, rec.instrument)
                .expect("orders are only sent on configured markets");
            let base = base_of(market, r.last_qty, r.last_price);
            let quote = quote_of(market, r.last_qty, r.last_price);
            self.setup.trade.venues[v].fees.charge(
                &self.setup.trade.instruments[rec.instrument],
                self.taker_bps(v),
                base,
                quote,
                r.last_price,
            )
        });
        let disables = self.st.stats.venue_disables;
        let is_final = r.kind.is_final();
        self.commit(Record::Exec {
            ts_ns: now,
            venue: v,
            report: r,
            fee,
        })?;
        if self.st.stats.venue_disables > disables {
            tracing::warn!(venue = %self.setup.venue_names[v], "venue disabled after repeated failures");
        }
        if is_final {
            self.after_final(rec.trade_id, now)?;
        }
        Ok(())
    }

    /// A bust or correction of an earlier fill: journaled with the fill's booked fee and the
    /// schedule's fee of the corrected fill (at the venue's volume without the original fill),
    /// then applied (`State::apply`). One naming no booked fill, from another venue, or with
    /// figures that are not a bust's or a correction's, is refused: logged, counted.
    pub(super) fn on_correction(
        &mut self,
        v: usize,
        c: TradeCorrection,
        now: u64,
    ) -> Result<(), EngineError> {
        let name = &self.setup.venue_names[v];
        let shape_ok = c.orig_qty > Decimal::ZERO
            && c.orig_price > Decimal::ZERO
            && match c.kind {
                CorrectionKind::Bust => c.new_qty.is_zero() && c.new_price.is_zero(),
                CorrectionKind::Correct => c.new_qty > Decimal::ZERO && c.new_price > Decimal::ZERO,
            };
        let why = match self.st.booked.get(&c.order_id) {
            None => {
                Some("no fill of that order is booked (unknown, or older than the kept orders)")
            }
            Some(b) if b.rec.venue != v => Some("the order is on another venue"),
            Some(_) if !shape_ok => Some("malformed figures"),
            Some(_) if self.st.booked_fill(&c).is_none() => {
                Some("the order has no booked fill, not busted, at that quantity and price")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            tracing::error!(venue = %name, order = c.order_id, exec_ref = %c.exec_ref_id, kind = ?c.kind, "trade bust or correction refused: {why}; reconcile by hand");
            self.st.stats.corrections_refused += 1;
            return Ok(());
        }
        let orig_fee = self
            .st
            .booked_fill(&c)
            .map(|f| f.fee.clone())
            .expect("checked above");
        let rec = self.st.booked[&c.order_id].rec.clone();
        let market = self
            .setup
            .market(rec.venue, rec.instrument)
            .expect("orders are only sent on configured markets");
        let fee = (c.new_qty > Decimal::ZERO).then(|| {
            let schedule = &self.setup.trade.venues[v].fees;
            let without = self.st.volume[v] - quote_of(market, c.orig_qty, c.orig_price);
            schedule.charge(
                &self.setup.trade.instruments[rec.instrument],
                schedule.taker_bps_at(without),
                base_of(market, c.new_qty, c.new_price),
                quote_of(market, c.new_qty, c.new_price),
                c.new_price,
            )
        });
        tracing::warn!(venue = %name, order = c.order_id, trade = rec.trade_id, kind = ?c.kind, "fill {} at {} busted or corrected to {} at {}", c.orig_qty, c.orig_price, c.new_qty, c.new_price);
        self.commit(Record::Correction {
            ts_ns: now,
            venue: v,
            correction: c,
            orig_fee,
            fee,
        })
    }
}
