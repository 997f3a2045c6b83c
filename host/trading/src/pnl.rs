//! P&L: per-trade realized profit with fees, aggregates per venue pair and instrument,
//! drawdown, and the Sharpe ratio of realized P&L over fixed intervals.
//!
//! A trade's realized P&L is what its fills (entry legs and unwinds) turned into, in the quote
//! asset: sell proceeds - buy cost - fees (valued in quote at the fill price, or at the
//! configured price of a third fee asset). Base left over (a failed unwind, or less than a lot)
//! stays in inventory at its cost: long residual at the average buy price, short residual at the
//! average sell price, so it is not counted as profit or loss until it is traded.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, MathematicalOps};
use serde::Serialize;

use super::money::round_amount;

/// Fills of one side of a trade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideFlows {
    pub base: Decimal,
    pub quote: Decimal,
}

impl SideFlows {
    pub fn add(&mut self, base: Decimal, quote: Decimal) {
        self.base += base;
        self.quote += quote;
    }
    /// Average price (quote per base), if anything filled.
    pub fn avg(&self) -> Option<Decimal> {
        (!self.base.is_zero()).then(|| self.quote / self.base)
    }
}

/// Everything a trade's fills did, split into entry legs and unwind orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flows {
    pub entry_buy: SideFlows,
    pub entry_sell: SideFlows,
    pub unwind_buy: SideFlows,
    pub unwind_sell: SideFlows,
    pub entry_fees: Decimal,
    pub unwind_fees: Decimal,
    /// Against the detected prices, quote; positive is worse for us.
    pub slippage: Decimal,
}

/// A trade's result once closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Realized {
    pub gross: Decimal,
    pub fees: Decimal,
    pub net: Decimal,
    /// Base left over (positive long).
    pub residual: Decimal,
    /// What unwinding cost against the entry price of the exposure, fees included.
    pub unwind_cost: Decimal,
}

impl Flows {
    pub fn realize(&self) -> Realized {
        let buy_base = self.entry_buy.base + self.unwind_buy.base;
        let buy_quote = self.entry_buy.quote + self.unwind_buy.quote;
        let sell_base = self.entry_sell.base + self.unwind_sell.base;
        let sell_quote = self.entry_sell.quote + self.unwind_sell.quote;
        let residual = buy_base - sell_base;
        let carried = if residual > Decimal::ZERO {
            // long: carried at the average buy price
            residual * buy_quote / buy_base
        } else if residual < Decimal::ZERO {
            // short: carried at the average sell price (as a negative cost)
            residual * sell_quote / sell_base
        } else {
            Decimal::ZERO
        };
        let fees = self.entry_fees + self.unwind_fees;
        let gross = round_amount(sell_quote - buy_quote + carried);
        let unwind_cost = if self.unwind_buy.base.is_zero() && self.unwind_sell.base.is_zero() {
            Decimal::ZERO
        } else {
            // against the entry price of what was unwound
            let long = self.entry_buy.base - self.entry_sell.base;
            let entry_px = if long > Decimal::ZERO {
                self.entry_buy.avg()
            } else {
                self.entry_sell.avg()
            }
            .unwrap_or_default();
            let unwound_value = self.unwind_sell.quote - self.unwind_buy.quote;
            let unwound_base = self.unwind_sell.base - self.unwind_buy.base;
            round_amount(unwound_base * entry_px - unwound_value + self.unwind_fees)
        };
        Realized {
            gross,
            fees: round_amount(fees),
            net: round_amount(gross - fees),
            residual: residual.normalize(),
            unwind_cost,
        }
    }
}

/// A closed trade, for the report and the analytics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedTrade {
    pub trade_id: u64,
    pub event_seq: u64,
    pub instrument: usize,
    pub buy_venue: usize,
    pub sell_venue: usize,
    pub opened_ns: u64,
    pub closed_ns: u64,
    pub planned_base: Decimal,
    pub expected_net: Decimal,
    pub flows: Flows,
    pub realized: Realized,
    pub gave_up: bool,
    pub legs_sent: u32,
    pub legs_filled: u32,
    /// Fills of the trade busted, and corrected, by the venue (before or after the close).
    pub busts: u32,
    pub corrections: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PairStats {
    pub trades: u64,
    pub net: Decimal,
    pub fees: Decimal,
}

/// Running P&L.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PnlBook {
    pub closed: Vec<ClosedTrade>,
    pub realized: Decimal,
    pub fees: Decimal,
    pub gross: Decimal,
    pub slippage: Decimal,
    pub unwind_cost: Decimal,
    /// (buy venue, sell venue, instrument) -> stats.
    pub by_pair: BTreeMap<(usize, usize, usize), PairStats>,
    /// UTC day -> realized net.
    pub by_day: BTreeMap<u64, Decimal>,
    peak: Decimal,
    pub max_drawdown: Decimal,
    /// Entry legs sent and entry legs completely filled.
    pub entry_legs_sent: u64,
    pub entry_legs_filled: u64,
}

impl PnlBook {
    pub fn close(&mut self, t: ClosedTrade) {
        let r = &t.realized;
        self.realized += r.net;
        self.fees += r.fees;
        self.gross += r.gross;
        self.slippage += t.flows.slippage;
        self.unwind_cost += r.unwind_cost;
        let p = self
            .by_pair
            .entry((t.buy_venue, t.sell_venue, t.instrument))
            .or_default();
        p.trades += 1;
        p.net += r.net;
        p.fees += r.fees;
        *self
            .by_day
            .entry(super::risk::utc_day(t.closed_ns))
            .or_default() += r.net;
        self.peak = self.peak.max(self.realized);
        self.max_drawdown = self.max_drawdown.max(self.peak - self.realized);
        self.entry_legs_sent += u64::from(t.legs_sent);
        self.entry_legs_filled += u64::from(t.legs_filled);
        self.closed.push(t);
    }

    /// A closed trade's flows changed (a fill busted or corrected after the close): its
    /// realized figures are those of the new flows, and every total moves by the difference,
    /// the day's P&L on the day of the change (`at_ns`: it is when the money moved back).
    /// Returns the change of the realized net.
    pub fn amend(&mut self, k: usize, flows: Flows, at_ns: u64) -> Decimal {
        let Some(t) = self.closed.get_mut(k) else {
            return Decimal::ZERO;
        };
        let (old, old_slip) = (t.realized.clone(), t.flows.slippage);
        t.realized = flows.realize();
        t.flows = flows;
        let r = &t.realized;
        let d_net = r.net - old.net;
        let d_fees = r.fees - old.fees;
        self.realized += d_net;
        self.fees += d_fees;
        self.gross += r.gross - old.gross;
        self.slippage += t.flows.slippage - old_slip;
        self.unwind_cost += r.unwind_cost - old.unwind_cost;
        let p = self
            .by_pair
            .entry((t.buy_venue, t.sell_venue, t.instrument))
            .or_default();
        p.net += d_net;
        p.fees += d_fees;
        *self.by_day.entry(super::risk::utc_day(at_ns)).or_default() += d_net;
        self.peak = self.peak.max(self.realized);
        self.max_drawdown = self.max_drawdown.max(self.peak - self.realized);
        d_net
    }

    pub fn day_net(&self, day: u64) -> Decimal {
        self.by_day.get(&day).copied().unwrap_or_default()
    }
}

/// The Sharpe ratio of realized P&L: the P&L of each `interval_ns` from `start_ns` to `end_ns`
/// (closed trades by their close time), mean over sample standard deviation, annualised by
/// sqrt(intervals in a 365-day year); risk-free rate 0, no capital base (P&L changes, not
/// returns). None with fewer than two intervals or no variation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sharpe {
    pub intervals: u64,
    pub interval_s: u64,
    pub mean: Decimal,
    pub stdev: Decimal,
    pub per_interval: Decimal,
    pub annualised: Decimal,
}

pub fn sharpe(
    closed: &[ClosedTrade],
    start_ns: u64,
    end_ns: u64,
    interval_ns: u64,
) -> Option<Sharpe> {
    if interval_ns == 0 || end_ns <= start_ns {
        return None;
    }
    let n = (end_ns - start_ns).div_ceil(interval_ns);
    if n < 2 {
        return None;
    }
    let mut buckets = vec![Decimal::ZERO; n as usize];
    for t in closed {
        let k = (t.closed_ns.saturating_sub(start_ns) / interval_ns).min(n - 1);
        buckets[k as usize] += t.realized.net;
    }
    let count = Decimal::from(n);
    let mean = buckets.iter().sum::<Decimal>() / count;
    let var = buckets
        .iter()
        .map(|x| (*x - mean) * (*x - mean))
        .sum::<Decimal>()
        / (count - Decimal::ONE);
    let stdev = var.sqrt()?;
    if stdev.is_zero() {
        return None;
    }
    let per = mean / stdev;
    let year_ns = Decimal::from(365u64 * 86_400) * Decimal::from(1_000_000_000u64);
    let scale = (year_ns / Decimal::from(interval_ns)).sqrt()?;
    Some(Sharpe {
        intervals: n,
        interval_s: interval_ns / 1_000_000_000,
        mean: round_amount(mean),
        stdev: round_amount(stdev),
        per_interval: per.round_dp(6),
        annualised: (per * scale).round_dp(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn matched_trade() {
        let mut f = Flows::default();
        f.entry_buy.add(d("0.1"), d("6000"));
        f.entry_sell.add(d("0.1"), d("6010"));
        f.entry_fees = d("1.2");
        let r = f.realize();
        assert_eq!(
            (r.gross, r.fees, r.net, r.residual),
            (d("10"), d("1.2"), d("8.8"), d("0"))
        );
        assert_eq!(r.unwind_cost, d("0"));
    }

    #[test]
    fn residual_is_carried_at_cost() {
        // bought 0.1 at 60000, sold only 0.04 at 60100: 0.06 left long at 60000
        let mut f = Flows::default();
        f.entry_buy.add(d("0.1"), d("6000"));
        f.entry_sell.add(d("0.04"), d("2404"));
        let r = f.realize();
        assert_eq!(r.gross, d("4"));
        assert_eq!(r.residual, d("0.06"));
        // unwound at 59900: lost 6 on the 0.06, plus 0.5 of fees
        f.unwind_sell.add(d("0.06"), d("3594"));
        f.unwind_fees = d("0.5");
        let r = f.realize();
        assert_eq!((r.gross, r.net, r.residual), (d("-2"), d("-2.5"), d("0")));
        assert_eq!(r.unwind_cost, d("6.5"));
        // short residual: sold 0.1 at 60100, bought 0.04 at 60000
        let mut f = Flows::default();
        f.entry_buy.add(d("0.04"), d("2400"));
        f.entry_sell.add(d("0.1"), d("6010"));
        let r = f.realize();
        assert_eq!((r.gross, r.residual), (d("4"), d("-0.06")));
    }

    #[test]
    fn drawdown_and_sharpe() {
        let mut b = PnlBook::default();
        let t = |id, at, net: &str| ClosedTrade {
            trade_id: id,
            event_seq: id,
            instrument: 0,
            buy_venue: 0,
            sell_venue: 1,
            opened_ns: at,
            closed_ns: at,
            planned_base: d("1"),
            expected_net: d("1"),
            flows: Flows::default(),
            realized: Realized {
                gross: d(net),
                fees: d("0"),
                net: d(net),
                residual: d("0"),
                unwind_cost: d("0"),
            },
            gave_up: false,
            legs_sent: 2,
            legs_filled: 2,
            busts: 0,
            corrections: 0,
        };
        for (k, n) in ["5", "-3", "-4", "10"].iter().enumerate() {
            b.close(t(k as u64, k as u64 * 1_000_000_000, n));
        }
        assert_eq!(b.realized, d("8"));
        assert_eq!(b.max_drawdown, d("7"));
        let s = sharpe(&b.closed, 0, 4_000_000_000, 1_000_000_000).unwrap();
        assert_eq!(s.intervals, 4);
        assert_eq!(s.mean, d("2"));
        // sample stdev of 5,-3,-4,10 around 2: sqrt((9+25+36+64)/3) = 6.68331255...
        assert_eq!(s.stdev, d("6.68331255"));
        assert!(sharpe(&b.closed, 0, 1_000_000_000, 1_000_000_000).is_none());
    }
}
