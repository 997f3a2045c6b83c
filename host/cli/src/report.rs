//! The replay summary: frames, drops by reason, messages per venue, updates, events per venue pair.

use crate::config::Config;
use crate::replay::PathResult;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tickcross_bindings::counter;
use tickcross_core::counters::Counters;

const DROPS: &[(&str, usize)] = &[
    ("disabled", counter::DROP_DISABLED),
    ("bad frame", counter::DROP_BAD_FRAME),
    ("not IPv4/UDP", counter::DROP_NOT_IPV4_UDP),
    ("checksum", counter::DROP_CHECKSUM),
    ("length", counter::DROP_LENGTH),
    ("no venue", counter::DROP_NO_VENUE),
];

const MESSAGE_OUTCOMES: &[(&str, usize)] = &[
    ("truncated", counter::MSG_TRUNCATED),
    ("unknown template", counter::MSG_UNKNOWN_TEMPLATE),
    ("conversion reject", counter::MSG_CONVERSION),
    ("unknown symbol", counter::MSG_UNKNOWN_SYMBOL),
    ("skipped (unused template)", counter::MSG_SKIPPED),
    ("out of order (bookUpdateId)", counter::MSG_OUT_OF_ORDER),
];

/// Events per (buy venue, sell venue).
pub fn events_per_pair(r: &PathResult) -> BTreeMap<(u8, u8), u64> {
    let mut m = BTreeMap::new();
    for e in &r.events {
        *m.entry((e.buy_venue, e.sell_venue)).or_insert(0) += 1;
    }
    m
}

/// A readable summary of one path's replay, with the stale entries of its quote table at the
/// end (docs/PIPELINE.md section 6; counted by the host from the quote dump, not a counter).
pub fn summary(r: &PathResult, cfg: &Config) -> String {
    let mut s = summary_of(
        r.name,
        &r.counters,
        r.events.len() as u64,
        &events_per_pair(r),
        cfg,
    );
    let _ = writeln!(
        s,
        "[{}] stale quotes at the end (from the quote dump): {}",
        r.name,
        r.quotes.stale_count()
    );
    s
}

/// The summary from its parts (for live runs that do not keep every event).
pub fn summary_of(
    name: &str,
    c: &Counters,
    n_events: u64,
    per_pair: &BTreeMap<(u8, u8), u64>,
    cfg: &Config,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "[{name}] frames {} ({} bytes), accepted {}",
        c.get(counter::RX_FRAMES),
        c.get(counter::RX_BYTES),
        c.get(counter::FRAMES_ACCEPTED)
    );
    let drops: Vec<String> = DROPS
        .iter()
        .filter(|(_, i)| c.get(*i) != 0)
        .map(|(n, i)| format!("{n} {}", c.get(*i)))
        .collect();
    let _ = writeln!(
        s,
        "[{name}] dropped frames: {}",
        if drops.is_empty() {
            "none".into()
        } else {
            drops.join(", ")
        }
    );
    let per_venue: Vec<String> = (0..cfg.n_venues())
        .map(|v| format!("{} {}", cfg.venue_name(v).unwrap_or("?"), c.messages(v)))
        .collect();
    let _ = writeln!(s, "[{name}] messages per venue: {}", per_venue.join(", "));
    let outcomes: Vec<String> = MESSAGE_OUTCOMES
        .iter()
        .filter(|(_, i)| c.get(*i) != 0)
        .map(|(n, i)| format!("{n} {}", c.get(*i)))
        .collect();
    let _ = writeln!(
        s,
        "[{name}] messages not applied: {}",
        if outcomes.is_empty() {
            "none".into()
        } else {
            outcomes.join(", ")
        }
    );
    // feed integrity (docs/PIPELINE.md section 4a)
    let gaps: Vec<String> = (0..cfg.n_venues())
        .filter(|&v| c.get(counter::SEQ_GAPS + v) != 0)
        .map(|v| {
            format!(
                "{} {}",
                cfg.venue_name(v).unwrap_or("?"),
                c.get(counter::SEQ_GAPS + v)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "[{name}] duplicate frames {}, sequence gaps: {}, untracked channel frames {}",
        c.get(counter::FRAME_DUPLICATES),
        if gaps.is_empty() {
            "none".into()
        } else {
            gaps.join(", ")
        },
        c.get(counter::SEQ_UNTRACKED)
    );
    let _ = writeln!(
        s,
        "[{name}] quote updates {}, instrument bindings {} (evictions {})",
        c.get(counter::QUOTE_UPDATES),
        c.get(counter::BINDS),
        c.get(counter::BIND_EVICTIONS)
    );
    let _ = writeln!(
        s,
        "[{name}] events {n_events} (ring overflows {}, input stall cycles {})",
        c.get(counter::RING_OVERFLOWS),
        c.get(counter::INPUT_STALL_CYCLES)
    );
    for ((b, sv), n) in per_pair {
        let _ = writeln!(
            s,
            "[{name}]   buy {} / sell {}: {n}",
            cfg.venue_name(*b as usize).unwrap_or("?"),
            cfg.venue_name(*sv as usize).unwrap_or("?")
        );
    }
    s
}
