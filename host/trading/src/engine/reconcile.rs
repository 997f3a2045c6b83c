//! After a restart: what the venues whose orders leave the process say of the orders the
//! journal has in flight, booked before the run trades again.
//!
//! For each order the venue reports ([`StatusReport`]), a [`Record::Reconciled`] keeps its
//! figures and what the journal had booked, then Exec records settle the difference:
//!
//! | the venue says | booked |
//! |---|---|
//! | unknown order, journal booked nothing | `Rejected` ("not sent"): the order is settled as never sent |
//! | filled `cum` > booked | the missing quantity as one fill at the price that makes the order's average the venue's AvgPx (the limit price when the venue gives none), then the end if the order is final |
//! | filled `cum` = booked | the end, if the order is final (else nothing: the engine's timeout cancels it) |
//! | filled `cum` < booked, or unknown with fills booked | `Mismatch`: nothing filled is booked, only the end; logged as an error to reconcile by hand |
//! | an order asked about that the reports of a resend ended meanwhile | `Agreed` if the venue's total is the booked one, else `Mismatch` |
//! | a working order the journal has as final or never sent | `Unexpected`: nothing booked; logged as an error (cancel it by hand) |
//!
//! A venue that answers a ResendRequest sends the reports it had sent before the restart ahead
//! of the status answer (a FIX session handles messages in MsgSeqNum order), so what was resent
//! is booked first and the status answer books only what is still missing: no fill twice. A
//! resent report that ends the order has its fill booked and its end held until the status
//! answer: an earlier fill the process had and never journaled (no resend brings it: the session
//! had handled it) is booked before the order ends.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::setup::EngineError;
use super::Engine;
use crate::journal::{ReconcileOutcome, Record};
use crate::venue::{ExecKind, ExecReport, InFlight, OrderId, Side, StatusReport};

/// What the reconcile of one venue is still waiting for.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) orders: BTreeSet<OrderId>,
    mass: bool,
    refused: Vec<(OrderId, String)>,
}

impl Engine {
    /// The orders to venue `v` the journal has sent and not seen end.
    pub fn in_flight(&self, v: usize) -> Vec<InFlight> {
        self.st
            .orders
            .values()
            .filter(|o| o.rec.venue == v && o.end.is_none())
            .map(|o| InFlight {
                order: super::request_of(&o.rec),
                cancel_sent: o.cancel_sent.is_some(),
            })
            .collect()
    }

    /// Asks venue `v` what became of its orders in flight; their answers are booked as
    /// [`Engine::poll_venue`] brings them, until [`Engine::reconcile_waiting`] is empty.
    pub fn request_status(&mut self, v: usize, now: u64) -> Result<usize, String> {
        let orders = self.in_flight(v);
        let mass = self.venues[v]
            .request_status(&orders, now)
            .map_err(|e| e.to_string())?;
        let p = self.reconciling.entry(v).or_default();
        p.orders.extend(orders.iter().map(|o| o.order.id));
        p.mass |= mass;
        Ok(orders.len())
    }

    /// The order was asked about and its status has not come yet.
    pub(super) fn awaiting_status(&self, id: OrderId) -> bool {
        self.reconciling.values().any(|p| p.orders.contains(&id))
    }

    /// Orders asked about and not answered yet, and venues whose mass status is not complete.
    pub fn reconcile_waiting(&self) -> (Vec<OrderId>, Vec<usize>) {
        let orders = self
            .reconciling
            .values()
            .flat_map(|p| p.orders.iter().copied())
            .collect();
        let mass = self
            .reconciling
            .iter()
            .filter(|(_, p)| p.mass)
            .map(|(v, _)| *v)
            .collect();
        (orders, mass)
    }

    /// Orders whose status the venues refused to give, with their reasons.
    pub fn status_refused(&self) -> Vec<(OrderId, String)> {
        self.reconciling
            .values()
            .flat_map(|p| p.refused.iter().cloned())
            .collect()
    }

    pub(super) fn on_status_refused(&mut self, v: usize, order_id: OrderId, text: String) {
        tracing::error!(venue = %self.setup.venue_names[v], order = order_id, "the venue refused to give the order's status: {text}");
        let p = self.reconciling.entry(v).or_default();
        if p.orders.remove(&order_id) {
            p.refused.push((order_id, text));
        }
    }

    pub(super) fn on_mass_status_end(&mut self, v: usize, reports: u64) {
        tracing::info!(venue = %self.setup.venue_names[v], reports, "mass status complete");
        if let Some(p) = self.reconciling.get_mut(&v) {
            p.mass = false;
        }
    }

    /// What the journal booked as filled of an order, open or ended (its fills that stand).
    fn filled_total(&self, id: OrderId) -> Decimal {
        match (self.st.orders.get(&id), self.st.booked.get(&id)) {
            (Some(o), _) => o.cum_qty,
            (None, Some(b)) => b.fills.iter().filter(|f| !f.busted).map(|f| f.qty).sum(),
            (None, None) => Decimal::ZERO,
        }
    }

    /// Books what a venue says of an order (module comment).
    pub(super) fn on_status(
        &mut self,
        v: usize,
        s: StatusReport,
        now: u64,
    ) -> Result<(), EngineError> {
        let name = self.setup.venue_names[v].clone();
        // any answer settles the order (a mass status may name one asked about)
        if let Some(p) = self.reconciling.get_mut(&v) {
            p.orders.remove(&s.order_id);
        }
        let working = matches!(s.state, Some(ExecKind::New | ExecKind::PartialFill));
        let open = self
            .st
            .orders
            .get(&s.order_id)
            .filter(|o| o.end.is_none() && o.rec.venue == v);
        let Some(o) = open else {
            if s.requested {
                // asked about, and ended meanwhile by the reports a resend brought: the answer
                // checks them
                let booked = self.filled_total(s.order_id);
                let outcome = if booked == s.cum_qty {
                    ReconcileOutcome::Agreed
                } else {
                    tracing::error!(venue = %name, order = s.order_id, "the venue reports {} filled, the journal booked {booked}: reconcile by hand", s.cum_qty);
                    ReconcileOutcome::Mismatch
                };
                return self.commit(Record::Reconciled {
                    ts_ns: now,
                    venue: v,
                    booked_qty: booked,
                    status: s,
                    outcome,
                });
            }
            if working {
                tracing::error!(venue = %name, order = s.order_id, cum = %s.cum_qty, "the venue holds a working order of ours that the journal has as final or never sent: cancel it and reconcile by hand");
                return self.commit(Record::Reconciled {
                    ts_ns: now,
                    venue: v,
                    booked_qty: Decimal::ZERO,
                    status: s,
                    outcome: ReconcileOutcome::Unexpected,
                });
            }
            tracing::debug!(venue = %name, order = s.order_id, "status of an order not in flight: nothing to do");
            return Ok(());
        };
        let booked = o.cum_qty;
        let (limit, qty, side) = (o.rec.price, o.rec.qty, o.rec.side);
        let booked_value: Decimal = self
            .st
            .booked
            .get(&s.order_id)
            .map(|b| {
                b.fills
                    .iter()
                    .filter(|f| !f.busted)
                    .map(|f| f.qty * f.price)
                    .sum()
            })
            .unwrap_or_default();
        let missing = s.cum_qty - booked;
        let outcome = match s.state {
            None if booked.is_zero() => ReconcileOutcome::NotSent,
            None => ReconcileOutcome::Mismatch,
            Some(_) if missing < Decimal::ZERO => ReconcileOutcome::Mismatch,
            Some(k) if missing > Decimal::ZERO || k.is_final() => ReconcileOutcome::Recovered,
            Some(_) => ReconcileOutcome::Agreed,
        };
        let state = s.state;
        let text = format!(
            "reconciled after a restart: the venue reports {} with {} filled (average {}), the journal had {booked}",
            state.map_or("an unknown order".into(), |k| format!("{k:?}")),
            s.cum_qty,
            s.avg_price
        );
        match outcome {
            ReconcileOutcome::Mismatch => {
                tracing::error!(venue = %name, order = s.order_id, "{text}: reconcile by hand")
            }
            ReconcileOutcome::NotSent => {
                tracing::warn!(venue = %name, order = s.order_id, "the venue does not know the order: settled as not sent")
            }
            _ => tracing::info!(venue = %name, order = s.order_id, "{text}"),
        }
        let ts = s.ts_ns;
        self.commit(Record::Reconciled {
            ts_ns: now,
            venue: v,
            status: s.clone(),
            booked_qty: booked,
            outcome,
        })?;
        let report =
            |kind: ExecKind, last_qty: Decimal, last_price: Decimal, cum: Decimal| ExecReport {
                order_id: s.order_id,
                kind,
                last_qty,
                last_price,
                cum_qty: cum,
                leaves_qty: if kind.is_final() {
                    Decimal::ZERO
                } else {
                    (qty - cum).max(Decimal::ZERO)
                },
                text: Some(text.clone()),
                ts_ns: ts,
            };
        match (outcome, state) {
            (ReconcileOutcome::NotSent, _) => {
                let r = report(ExecKind::Rejected, Decimal::ZERO, Decimal::ZERO, booked);
                self.on_report(v, r, now)?;
            }
            (ReconcileOutcome::Mismatch, end) => {
                // the order ends if the venue says it has (or does not know it); a working one
                // stays open for the engine's timeout to cancel
                let end = match end {
                    None => Some(ExecKind::Expired),
                    Some(k) => Some(k).filter(|k| k.is_final()),
                };
                if let Some(end) = end {
                    let r = report(end, Decimal::ZERO, Decimal::ZERO, booked);
                    self.on_report(v, r, now)?;
                }
            }
            (ReconcileOutcome::Recovered, Some(k)) => {
                let final_ = k.is_final();
                if missing > Decimal::ZERO {
                    // the price that makes the order's average the venue's: exact when every
                    // fill was at one price (an IOC limit order filled at its limit)
                    let price = if s.avg_price > Decimal::ZERO {
                        (s.avg_price * s.cum_qty - booked_value) / missing
                    } else {
                        limit
                    };
                    let beyond = match side {
                        Side::Buy => price > limit,
                        Side::Sell => price < limit,
                    };
                    let price = if price > Decimal::ZERO && !beyond {
                        price.normalize()
                    } else {
                        tracing::error!(venue = %name, order = s.order_id, "the venue's average price {} puts the missing {missing} at {price}, beyond the limit {limit}: booked at the limit; reconcile by hand", s.avg_price);
                        limit
                    };
                    let kind = match k {
                        ExecKind::Fill => ExecKind::Fill,
                        _ => ExecKind::PartialFill,
                    };
                    self.on_report(v, report(kind, missing, price, s.cum_qty), now)?;
                    if kind == ExecKind::Fill {
                        return Ok(());
                    }
                }
                if final_ {
                    let r = report(k, Decimal::ZERO, Decimal::ZERO, s.cum_qty);
                    self.on_report(v, r, now)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
