//! Inventory across venues: per venue, the balance of every asset, what open orders have
//! reserved of it, and transfers in transit between venues.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::venue::OrderId;

/// A transfer between venues: debited from the source when sent, credited at arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: u64,
    pub asset: String,
    pub from: usize,
    pub to: usize,
    /// Credited to the destination.
    pub amount: Decimal,
    /// Network fee, debited from the source on top of the amount.
    pub fee: Decimal,
    pub sent_ns: u64,
    pub arrive_ns: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Per venue: asset -> balance.
    balances: Vec<BTreeMap<String, Decimal>>,
    /// Per open order: (venue, asset, reserved amount).
    reservations: BTreeMap<OrderId, (usize, String, Decimal)>,
    /// Per venue: asset -> reserved.
    reserved: Vec<BTreeMap<String, Decimal>>,
    in_transit: BTreeMap<u64, Transfer>,
}

impl Ledger {
    pub fn new(initial: &[BTreeMap<String, Decimal>]) -> Ledger {
        Ledger {
            balances: initial.to_vec(),
            reservations: BTreeMap::new(),
            reserved: vec![BTreeMap::new(); initial.len()],
            in_transit: BTreeMap::new(),
        }
    }

    pub fn balance(&self, venue: usize, asset: &str) -> Decimal {
        self.balances
            .get(venue)
            .and_then(|b| b.get(asset))
            .copied()
            .unwrap_or_default()
    }

    pub fn reserved(&self, venue: usize, asset: &str) -> Decimal {
        self.reserved
            .get(venue)
            .and_then(|b| b.get(asset))
            .copied()
            .unwrap_or_default()
    }

    /// Balance not held by open orders.
    pub fn available(&self, venue: usize, asset: &str) -> Decimal {
        self.balance(venue, asset) - self.reserved(venue, asset)
    }

    pub fn balances(&self) -> &[BTreeMap<String, Decimal>] {
        &self.balances
    }

    pub fn in_transit(&self) -> impl Iterator<Item = &Transfer> {
        self.in_transit.values()
    }

    /// Amount of `asset` in transit toward `venue` (or anywhere, with None).
    pub fn transit_amount(&self, asset: &str, to: Option<usize>) -> Decimal {
        self.in_transit
            .values()
            .filter(|t| t.asset == asset && to.is_none_or(|v| v == t.to))
            .map(|t| t.amount)
            .sum()
    }

    /// Total of an asset over every venue, in transit included.
    pub fn total(&self, asset: &str) -> Decimal {
        (0..self.balances.len())
            .map(|v| self.balance(v, asset))
            .sum::<Decimal>()
            + self.transit_amount(asset, None)
    }

    pub fn add(&mut self, venue: usize, asset: &str, delta: Decimal) {
        if let Some(b) = self.balances.get_mut(venue) {
            match b.get_mut(asset) {
                Some(e) => *e += delta,
                None => {
                    b.insert(asset.to_string(), delta);
                }
            }
        }
    }

    /// Holds `amount` of `asset` on `venue` for an order.
    pub fn reserve(&mut self, order: OrderId, venue: usize, asset: &str, amount: Decimal) {
        if amount <= Decimal::ZERO {
            return;
        }
        self.reservations
            .insert(order, (venue, asset.to_string(), amount));
        if let Some(r) = self.reserved.get_mut(venue) {
            match r.get_mut(asset) {
                Some(x) => *x += amount,
                None => {
                    r.insert(asset.to_string(), amount);
                }
            }
        }
    }

    /// Reduces an order's reservation by what a fill used (at most what is left of it).
    pub fn consume(&mut self, order: OrderId, used: Decimal) {
        let Some((venue, asset, left)) = self.reservations.get_mut(&order) else {
            return;
        };
        let take = used.max(Decimal::ZERO).min(*left);
        *left -= take;
        if let Some(r) = self.reserved.get_mut(*venue) {
            if let Some(x) = r.get_mut(asset.as_str()) {
                *x -= take;
            }
        }
    }

    /// Frees what is left of an order's reservation (the order is final).
    pub fn release(&mut self, order: OrderId) {
        if let Some((venue, asset, left)) = self.reservations.remove(&order) {
            if let Some(r) = self.reserved.get_mut(venue) {
                if let Some(x) = r.get_mut(asset.as_str()) {
                    *x -= left;
                    if x.is_zero() {
                        r.remove(asset.as_str());
                    }
                }
            }
        }
    }

    pub fn send_transfer(&mut self, t: Transfer) {
        self.add(t.from, &t.asset, -(t.amount + t.fee));
        self.in_transit.insert(t.id, t);
    }

    /// Credits an arrived transfer; false if it was not in transit.
    pub fn complete_transfer(&mut self, id: u64) -> bool {
        match self.in_transit.remove(&id) {
            Some(t) => {
                self.add(t.to, &t.asset, t.amount);
                true
            }
            None => false,
        }
    }

    pub fn next_arrival(&self) -> Option<(u64, u64)> {
        self.in_transit.values().map(|t| (t.arrive_ns, t.id)).min()
    }
}
