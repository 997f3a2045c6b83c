//! The rebalancing planner: when a venue's balance of an asset (with what is already on its way
//! there) falls below `threshold` x its target, propose moving the shortfall from the venue with
//! the largest surplus over its own target, net of the asset's network fee.

use rust_decimal::Decimal;
use serde::Serialize;

use super::config::TradeConfig;
use super::ledger::Ledger;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub asset: String,
    pub from: usize,
    pub to: usize,
    /// Credited to `to`.
    pub amount: Decimal,
    /// Debited from `from` on top of the amount.
    pub network_fee: Decimal,
    pub transfer_ns: u64,
    /// The balance (with transfers in flight) and target that triggered it.
    pub balance: Decimal,
    pub target: Decimal,
}

/// The transfers the planner proposes for a ledger, at most one per (asset, destination).
pub fn plan(cfg: &TradeConfig, ledger: &Ledger) -> Vec<Proposal> {
    let Some(rb) = &cfg.rebalance else {
        return Vec::new();
    };
    let mut out: Vec<Proposal> = Vec::new();
    for (asset, net) in &rb.assets {
        for (v, vt) in cfg.venues.iter().enumerate() {
            let Some(&target) = vt.targets.get(asset) else {
                continue;
            };
            if target <= Decimal::ZERO {
                continue;
            }
            let have = ledger.balance(v, asset) + ledger.transit_amount(asset, Some(v));
            if have >= rb.threshold * target {
                continue;
            }
            let need = target - have;
            // the donor with the largest available surplus over its target, after what this
            // plan already takes from it
            let donor = cfg
                .venues
                .iter()
                .enumerate()
                .filter(|(w, _)| *w != v)
                .filter_map(|(w, wt)| {
                    let taken: Decimal = out
                        .iter()
                        .filter(|p| p.from == w && p.asset == *asset)
                        .map(|p| p.amount + p.network_fee)
                        .sum();
                    let surplus = ledger.available(w, asset)
                        - wt.targets.get(asset).copied().unwrap_or_default()
                        - taken;
                    (surplus > net.network_fee).then_some((w, surplus))
                })
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            let Some((w, surplus)) = donor else {
                continue;
            };
            let amount = need.min(surplus - net.network_fee).normalize();
            if amount > Decimal::ZERO {
                out.push(Proposal {
                    asset: asset.clone(),
                    from: w,
                    to: v,
                    amount,
                    network_fee: net.network_fee,
                    transfer_ns: net.transfer_ns,
                    balance: have,
                    target,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn shortfall_comes_from_the_largest_surplus() {
        let (_, tc) = crate::testcfg::load(crate::testcfg::THREE_VENUES);
        let mut balances: Vec<BTreeMap<String, Decimal>> =
            tc.venues.iter().map(|v| v.balances.clone()).collect();
        // venue 0 holds 0.2 BTC of a 1 BTC target; venue 2 has 1.5 over its target
        balances[0].insert("BTC".into(), Decimal::new(2, 1));
        balances[2].insert("BTC".into(), Decimal::new(25, 1));
        let ledger = Ledger::new(&balances);
        let p = plan(&tc, &ledger);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].from, p[0].to, p[0].asset.as_str()), (2, 0, "BTC"));
        // needs 0.8; the donor can give 1.5 - fee
        assert_eq!(p[0].amount, Decimal::new(8, 1));
        // in flight counts: nothing more is proposed once it is sent
        let mut l2 = ledger.clone();
        l2.send_transfer(crate::ledger::Transfer {
            id: 1,
            asset: "BTC".into(),
            from: 2,
            to: 0,
            amount: p[0].amount,
            fee: p[0].network_fee,
            sent_ns: 0,
            arrive_ns: 10,
        });
        assert!(plan(&tc, &l2).is_empty());
    }
}
