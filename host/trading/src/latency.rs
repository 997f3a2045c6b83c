//! Per-venue order round trips: from an order's sending to the venue's first report on it
//! ("new"), and from a cancel's sending to the next report on the order ("cancel"). Derived from
//! the journal's records like everything else in the state (the times are the records'), so a
//! resumed run holds the same figures. Shown in the report and exported as metrics.
//!
//! Each distribution is kept in log-linear buckets (8 per power of two: a quantile is the lower
//! bound of its bucket, at most 12.5% below the true value), with the exact count, sum, least
//! and greatest.

use std::collections::VecDeque;

/// What was timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    New,
    Cancel,
}

impl Operation {
    pub const ALL: [Operation; 2] = [Operation::New, Operation::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::New => "new",
            Operation::Cancel => "cancel",
        }
    }
}

/// Sub-buckets per power of two (a power of two).
const SUB: u32 = 8;
const SUB_BITS: u32 = SUB.trailing_zeros();
const BUCKETS: usize = (64 * SUB) as usize;

/// One distribution of round trips (ns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    counts: Vec<u64>,
    pub count: u64,
    pub sum: u128,
    pub min: u64,
    pub max: u64,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution {
            counts: vec![0; BUCKETS],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < u64::from(SUB) {
        return ns as usize;
    }
    let msb = 63 - ns.leading_zeros();
    let sub = (ns >> (msb - SUB_BITS)) & u64::from(SUB - 1);
    ((msb - SUB_BITS + 1) * SUB) as usize + sub as usize
}

fn lower_bound(bucket: usize) -> u64 {
    let b = bucket as u64;
    let sub = u64::from(SUB);
    if b < sub {
        return b;
    }
    let octave = b / sub - 1;
    (sub + b % sub) << octave
}

impl Distribution {
    pub fn record(&mut self, ns: u64) {
        self.counts[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum += u128::from(ns);
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    /// The `q` quantile (0..=1), as its bucket's lower bound; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // the rank of the quantile, 1-based: at least the first sample
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(lower_bound(b).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// Samples kept for an exporter to read (the newest, at most this many).
const RECENT: usize = 4096;

/// Every venue's round trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundTrips {
    /// Per venue, per [`Operation`] (in `ALL`'s order).
    per_venue: Vec<[Distribution; 2]>,
    /// The newest samples (venue, operation, ns), numbered from `recent_first`.
    recent: VecDeque<(usize, Operation, u64)>,
    recent_first: u64,
}

impl RoundTrips {
    pub fn new(venues: usize) -> RoundTrips {
        RoundTrips {
            per_venue: vec![Default::default(); venues],
            recent: VecDeque::new(),
            recent_first: 0,
        }
    }

    pub fn record(&mut self, venue: usize, op: Operation, ns: u64) {
        let Some(d) = self.per_venue.get_mut(venue) else {
            return;
        };
        d[op as usize].record(ns);
        if self.recent.len() == RECENT {
            self.recent.pop_front();
            self.recent_first += 1;
        }
        self.recent.push_back((venue, op, ns));
    }

    pub fn get(&self, venue: usize, op: Operation) -> Option<&Distribution> {
        self.per_venue.get(venue).map(|d| &d[op as usize])
    }

    /// Samples numbered `from` on (those still kept), and the number to ask from next time.
    pub fn since(&self, from: u64) -> (impl Iterator<Item = &(usize, Operation, u64)>, u64) {
        let skip = from.saturating_sub(self.recent_first) as usize;
        let next = self.recent_first + self.recent.len() as u64;
        (self.recent.iter().skip(skip), next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_an_eighth_below() {
        for ns in (0..100_000u64).chain([u64::MAX / 3, 1 << 40, (1 << 40) + 12345]) {
            let lb = lower_bound(bucket_of(ns));
            assert!(lb <= ns, "{ns}: {lb}");
            assert!(ns - lb <= ns / 8, "{ns}: {lb}");
        }
    }

    #[test]
    fn quantiles() {
        let mut d = Distribution::default();
        assert_eq!(d.quantile(0.5), None);
        for ns in 1..=1000u64 {
            d.record(ns * 1000);
        }
        let p50 = d.quantile(0.5).unwrap();
        assert!((500_000 * 7 / 8..=500_000).contains(&p50), "{p50}");
        assert_eq!(
            d.quantile(1.0),
            Some(1_000_000).map(|m: u64| lower_bound(bucket_of(m)))
        );
        assert_eq!((d.count, d.min, d.max), (1000, 1000, 1_000_000));
    }

    #[test]
    fn recent_samples_are_read_from_a_cursor() {
        let mut r = RoundTrips::new(2);
        r.record(0, Operation::New, 5);
        r.record(1, Operation::Cancel, 7);
        let (it, next) = r.since(0);
        assert_eq!(it.count(), 2);
        r.record(0, Operation::New, 9);
        let (it, next2) = r.since(next);
        assert_eq!(
            it.copied().collect::<Vec<_>>(),
            vec![(0, Operation::New, 9)]
        );
        assert_eq!(next2, 3);
        assert_eq!(r.get(0, Operation::New).unwrap().count, 2);
    }
}
