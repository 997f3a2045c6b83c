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
    /// The bust or correction itself was applied before (its ExecID seen): a resend.
    #[error("bust or correction {exec_id:?} of order {order} applied already (a resend)")]
    Duplicate { order: OrderId, exec_id: String },
}

#[derive(Debug, Default)]
struct KeptOrder {
    fills: Vec<Kept>,
    /// ExecIDs of the busts and corrections applied.
    amends: Vec<String>,
}

/// The kept fills.
#[derive(Debug, Default)]
pub struct FillMemory {
    fills: HashMap<OrderId, KeptOrder>,
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
        self.fills.entry(order).or_default().fills.push(Kept {
            exec_id: exec_id.to_string(),
            qty,
            price,
            busted: false,
        });
    }

    /// Busts (`new` None) or corrects a kept fill by the report `exec_id` (its own ExecID, if
    /// it has one); returns the fill's figures before (quantity, price). A corrected fill stands
    /// at its corrected figures afterwards; a busted one can be neither busted nor corrected
    /// again. A report whose ExecID was applied before is a resend: `Duplicate`.
    pub fn apply(
        &mut self,
        order: OrderId,
        exec_id: Option<&str>,
        exec_ref: &str,
        new: Option<(Decimal, Decimal)>,
    ) -> Result<(Decimal, Decimal), CorrectionRefused> {
        let kept = self.fills.get_mut(&order);
        if let (Some(k), Some(id)) = (kept.as_ref(), exec_id) {
            if k.amends.iter().any(|a| a == id) {
                return Err(CorrectionRefused::Duplicate {
                    order,
                    exec_id: id.to_string(),
                });
            }
        }
        let Some(k) = kept else {
            return Err(CorrectionRefused::Unknown {
                order,
                exec_ref: exec_ref.to_string(),
            });
        };
        let Some(f) = k.fills.iter_mut().find(|f| f.exec_id == exec_ref) else {
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
        if let Some(id) = exec_id {
            k.amends.push(id.to_string());
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
            m.apply(1, None, "E2", Some((d("0.2"), d("100.5")))),
            Ok((d("0.25"), d("101")))
        );
        assert_eq!(m.apply(1, None, "E2", None), Ok((d("0.2"), d("100.5"))));
        assert!(matches!(
            m.apply(1, None, "E2", None),
            Err(CorrectionRefused::AlreadyBusted { .. })
        ));
        assert!(matches!(
            m.apply(1, None, "E2", Some((d("1"), d("1")))),
            Err(CorrectionRefused::AlreadyBusted { .. })
        ));
        // the other fill is untouched; an id of another order is unknown for this one
        assert_eq!(m.apply(1, None, "E1", None), Ok((d("0.5"), d("100"))));
        assert!(matches!(
            m.apply(2, None, "E1", None),
            Err(CorrectionRefused::Unknown { .. })
        ));
    }

    #[test]
    fn a_resent_bust_is_a_duplicate_not_a_second_bust() {
        let mut m = FillMemory::new();
        m.keep(1, "E1", d("0.5"), d("100"));
        assert_eq!(m.apply(1, Some("B1"), "E1", None), Ok((d("0.5"), d("100"))));
        assert!(matches!(
            m.apply(1, Some("B1"), "E1", None),
            Err(CorrectionRefused::Duplicate { .. })
        ));
        // another report busting it again is a second bust
        assert!(matches!(
            m.apply(1, Some("B2"), "E1", None),
            Err(CorrectionRefused::AlreadyBusted { .. })
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
            m.apply(1, None, "E1", None),
            Err(CorrectionRefused::Unknown { .. })
        ));
        assert_eq!(m.apply(2, None, "E2b", None), Ok((d("1"), d("10"))));
        assert_eq!(m.apply(3, None, "E3", None), Ok((d("1"), d("10"))));
    }
}
