//! The fills a venue reported, by ExecID, kept after their order is final so that a trade bust
//! (ExecType H) or correction (G) that names one by ExecRefID(19) can say what it undoes.
//!
//! Memory is bounded: the fills of the last [`KEPT_ORDERS`] orders that filled are kept; a bust
//! naming a fill of an order older than that is refused as unknown (and counted), like one
//! naming a fill that never was. A venue busts within minutes, while a few thousand orders
//! take far longer at the engine's rate.

use std::collections::{HashMap, VecDeque};

use rust_decimal::Decimal;

use tickcross_trading::venue::OrderId;

/// Orders whose fills are kept.
pub const KEPT_ORDERS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    exec_id: String,
    qty: Decimal,
    price: Decimal,
    busted: bool,
}

/// Why a bust or correction was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionRefused {
    #[error("ExecRefID {exec_ref:?} names no fill of order {order} kept here (unknown, or older than the last {KEPT_ORDERS} orders' fills)")]
    Unknown { order: OrderId, exec_ref: String },
    #[error("ExecRefID {exec_ref:?} of order {order} names a fill already busted")]
    AlreadyBusted { order: OrderId, exec_ref: String },
}

/// The kept fills.
#[derive(Debug, Default)]
pub struct FillMemory {
    fills: HashMap<OrderId, Vec<Kept>>,
    /// Orders in `fills`, oldest first (the first to be forgotten).
    order: VecDeque<OrderId>,
    cap: usize,
}

impl FillMemory {
    pub fn new() -> FillMemory {
        FillMemory::with_capacity(KEPT_ORDERS)
    }

    /// Keeps the fills of at most `orders` orders.
    pub fn with_capacity(orders: usize) -> FillMemory {
        FillMemory {
            fills: HashMap::new(),
            order: VecDeque::new(),
            cap: orders.max(1),
        }
    }

    /// Keeps a fill (a trade report already de-duplicated by ExecID).
    pub fn keep(&mut self, order: OrderId, exec_id: &str, qty: Decimal, price: Decimal) {
        if !self.fills.contains_key(&order) {
            while self.order.len() >= self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.fills.remove(&old);
                }
            }
            self.order.push_back(order);
        }
        self.fills.entry(order).or_default().push(Kept {
            exec_id: exec_id.to_string(),
            qty,
            price,
            busted: false,
        });
    }

    /// Busts (`new` None) or corrects a kept fill; returns its figures before (quantity, price).
    /// A corrected fill stands at its corrected figures afterwards; a busted one can be neither
    /// busted nor corrected again.
    pub fn apply(
        &mut self,
        order: OrderId,
        exec_ref: &str,
        new: Option<(Decimal, Decimal)>,
    ) -> Result<(Decimal, Decimal), CorrectionRefused> {
        let Some(f) = self
            .fills
            .get_mut(&order)
            .and_then(|v| v.iter_mut().find(|f| f.exec_id == exec_ref))
        else {
            return Err(CorrectionRefused::Unknown {
                order,
                exec_ref: exec_ref.to_string(),
            });
        };
        if f.busted {
            return Err(CorrectionRefused::AlreadyBusted {
                order,
                exec_ref: exec_ref.to_string(),
            });
        }
        let before = (f.qty, f.price);
        match new {
            None => f.busted = true,
            Some((q, p)) => (f.qty, f.price) = (q, p),
        }
        Ok(before)
    }

    /// Orders whose fills are kept.
    pub fn orders(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn bust_correct_and_refusals() {
        let mut m = FillMemory::new();
        m.keep(1, "E1", d("0.5"), d("100"));
        m.keep(1, "E2", d("0.25"), d("101"));
        // a correction, then a bust of the corrected fill undoes the corrected figures
        assert_eq!(
            m.apply(1, "E2", Some((d("0.2"), d("100.5")))),
            Ok((d("0.25"), d("101")))
        );
        assert_eq!(m.apply(1, "E2", None), Ok((d("0.2"), d("100.5"))));
        assert!(matches!(
            m.apply(1, "E2", None),
            Err(CorrectionRefused::AlreadyBusted { .. })
        ));
        assert!(matches!(
            m.apply(1, "E2", Some((d("1"), d("1")))),
            Err(CorrectionRefused::AlreadyBusted { .. })
        ));
        // the other fill is untouched; an id of another order is unknown for this one
        assert_eq!(m.apply(1, "E1", None), Ok((d("0.5"), d("100"))));
        assert!(matches!(
            m.apply(2, "E1", None),
            Err(CorrectionRefused::Unknown { .. })
        ));
    }

    #[test]
    fn only_the_last_orders_are_kept() {
        let mut m = FillMemory::with_capacity(2);
        for o in 1..=3u64 {
            m.keep(o, &format!("E{o}"), d("1"), d("10"));
            m.keep(o, &format!("E{o}b"), d("1"), d("10"));
        }
        assert_eq!(m.orders(), 2);
        assert!(matches!(
            m.apply(1, "E1", None),
            Err(CorrectionRefused::Unknown { .. })
        ));
        assert_eq!(m.apply(2, "E2b", None), Ok((d("1"), d("10"))));
        assert_eq!(m.apply(3, "E3", None), Ok((d("1"), d("10"))));
    }
}
