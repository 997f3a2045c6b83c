//! Rebalancing: the planner's transfers sent between venues (when `[rebalance] apply` is on).

use rust_decimal::Decimal;

use super::setup::EngineError;
use super::Engine;
use crate::journal::Record;
use crate::ledger::{Ledger, Transfer};

impl Engine {
    /// Carries out the planner's proposals when `[rebalance] apply` is on.
    pub(super) fn rebalance(&mut self, now: u64) -> Result<(), EngineError> {
        let planned = self.planned_transfers(&self.st.ledger);
        self.send_planned(planned, 0, now)
    }

    /// The rest of a rebalance planned from `ledger`, past its first `skip` transfers.
    pub(super) fn rebalance_from(
        &mut self,
        ledger: &Ledger,
        skip: usize,
        now: u64,
    ) -> Result<(), EngineError> {
        let planned = self.planned_transfers(ledger);
        self.send_planned(planned, skip, now)
    }

    fn planned_transfers(&self, ledger: &Ledger) -> Vec<crate::rebalance::Proposal> {
        if !self.setup.trade.rebalance.as_ref().is_some_and(|r| r.apply) {
            return Vec::new();
        }
        crate::rebalance::plan(&self.setup.trade, ledger)
    }

    fn send_planned(
        &mut self,
        planned: Vec<crate::rebalance::Proposal>,
        skip: usize,
        now: u64,
    ) -> Result<(), EngineError> {
        for p in planned.into_iter().skip(skip) {
            self.send_transfer(
                &p.asset,
                p.from,
                p.to,
                p.amount,
                p.network_fee,
                p.transfer_ns,
                now,
            )?;
        }
        Ok(())
    }

    /// Sends a transfer between venues (journaled); it arrives after `transfer_ns`.
    #[allow(clippy::too_many_arguments)]
    pub fn send_transfer(
        &mut self,
        asset: &str,
        from: usize,
        to: usize,
        amount: Decimal,
        fee: Decimal,
        transfer_ns: u64,
        now: u64,
    ) -> Result<(), EngineError> {
        let t = Transfer {
            id: self.st.next_transfer_id,
            asset: asset.to_string(),
            from,
            to,
            amount,
            fee,
            sent_ns: now,
            arrive_ns: now + transfer_ns,
        };
        tracing::info!(asset, from = %self.setup.venue_names[from], to = %self.setup.venue_names[to], %amount, "rebalancing transfer sent");
        self.commit(Record::TransferSent(t))
    }
}
