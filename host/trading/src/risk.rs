//! Pre-trade risk: the reasons an event does not become orders, and the per-venue state the
//! checks need (order-rate windows, failure windows, cool-offs, connection).

use std::collections::VecDeque;

use super::config::{RateLimit, RiskLimits};

/// Why an event was not traded. The first check that fails is the one counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// The kill switch is on.
    KillSwitch,
    /// The instrument is not traded on one of the two venues.
    NotTraded,
    /// Net profit per unit after both legs' taker fees is not positive.
    Unprofitable,
    /// A side's quote is older than `max_quote_age` at the event.
    StaleQuote,
    /// A venue's session is down.
    VenueDown,
    /// A venue is disabled after failures, cooling off.
    VenueDisabled,
    /// Available funds (quote on the buy venue, base on the sell venue) allow less than a lot.
    InsufficientInventory,
    /// The displayed quantities are below a venue's minimum order.
    BelowMinSize,
    /// Net profit of the sized trade is below `min_profit` or `min_profit_bps`.
    BelowMinProfit,
    MaxNotional,
    MaxPosition,
    MaxOpenLegs,
    DailyLoss,
    RateLimit,
}

impl Refusal {
    pub const ALL: [Refusal; 14] = [
        Refusal::KillSwitch,
        Refusal::NotTraded,
        Refusal::Unprofitable,
        Refusal::StaleQuote,
        Refusal::VenueDown,
        Refusal::VenueDisabled,
        Refusal::InsufficientInventory,
        Refusal::BelowMinSize,
        Refusal::BelowMinProfit,
        Refusal::MaxNotional,
        Refusal::MaxPosition,
        Refusal::MaxOpenLegs,
        Refusal::DailyLoss,
        Refusal::RateLimit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::KillSwitch => "kill_switch",
            Refusal::NotTraded => "not_traded",
            Refusal::Unprofitable => "unprofitable",
            Refusal::StaleQuote => "stale_quote",
            Refusal::VenueDown => "venue_down",
            Refusal::VenueDisabled => "venue_disabled",
            Refusal::InsufficientInventory => "insufficient_inventory",
            Refusal::BelowMinSize => "below_min_size",
            Refusal::BelowMinProfit => "below_min_profit",
            Refusal::MaxNotional => "max_notional",
            Refusal::MaxPosition => "max_position",
            Refusal::MaxOpenLegs => "max_open_legs",
            Refusal::DailyLoss => "daily_loss",
            Refusal::RateLimit => "rate_limit",
        }
    }

    pub fn parse(s: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Per-venue risk state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueRisk {
    /// Send times of recent orders (for the rate limit).
    sent: VecDeque<u64>,
    /// Times of recent rejects and timeouts.
    failures: VecDeque<u64>,
    /// Disabled until this time (ns), after too many failures.
    pub disabled_until: Option<u64>,
    /// The session is down (as the venue last said).
    pub down: bool,
}

impl VenueRisk {
    fn trim(q: &mut VecDeque<u64>, now: u64, window: u64) {
        while q.front().is_some_and(|&t| t + window <= now) {
            q.pop_front();
        }
    }

    /// One more order fits the rate limit at `now`.
    pub fn rate_ok(&mut self, now: u64, limit: &RateLimit) -> bool {
        VenueRisk::trim(&mut self.sent, now, limit.window_ns);
        self.sent.len() < limit.orders as usize
    }

    pub fn record_sent(&mut self, now: u64) {
        self.sent.push_back(now);
    }

    pub fn disabled(&self, now: u64) -> bool {
        self.disabled_until.is_some_and(|t| now < t)
    }

    /// Counts a reject or timeout; true when this disables the venue.
    pub fn record_failure(&mut self, now: u64, limits: &RiskLimits) -> bool {
        VenueRisk::trim(&mut self.failures, now, limits.venue_failure_window_ns);
        self.failures.push_back(now);
        if self.failures.len() >= limits.venue_max_failures as usize && !self.disabled(now) {
            self.disabled_until = Some(now + limits.venue_cool_off_ns);
            self.failures.clear();
            return true;
        }
        false
    }
}

/// UTC day number of a timestamp (for the daily loss limit).
pub fn utc_day(ts_ns: u64) -> u64 {
    ts_ns / (86_400 * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn limits() -> RiskLimits {
        RiskLimits {
            max_notional: Decimal::ONE,
            max_position: Decimal::ONE,
            max_open_legs: 4,
            daily_loss_limit: Decimal::ONE,
            max_quote_age_ns: 1,
            venue_max_failures: 3,
            venue_failure_window_ns: 100,
            venue_cool_off_ns: 1000,
            rate_limit: RateLimit {
                orders: 2,
                window_ns: 10,
            },
        }
    }

    #[test]
    fn rate_window_slides() {
        let mut v = VenueRisk::default();
        let l = limits().rate_limit;
        assert!(v.rate_ok(0, &l));
        v.record_sent(0);
        v.record_sent(5);
        assert!(!v.rate_ok(9, &l));
        assert!(v.rate_ok(10, &l));
    }

    #[test]
    fn failures_disable_then_cool_off() {
        let mut v = VenueRisk::default();
        let l = limits();
        assert!(!v.record_failure(0, &l));
        assert!(!v.record_failure(10, &l));
        // the first failure left the window: still two
        assert!(!v.record_failure(100, &l));
        assert!(v.record_failure(105, &l));
        assert!(v.disabled(105));
        assert!(v.disabled(1104));
        assert!(!v.disabled(1105));
    }

    #[test]
    fn refusal_names_round_trip() {
        for r in Refusal::ALL {
            assert_eq!(Refusal::parse(r.as_str()), Some(r));
        }
    }
}
