//! `journal verify`: re-derives balances and P&L from a journal's records alone (its header
//! carries the initial balances and contract sizes) and checks them against the engine's own
//! snapshots in the journal and, optionally, against a report's `summary.json`.
//!
//! This is a second, deliberately plain implementation of the booking rules (DESIGN: amounts of
//! a fill, fees, transfers, the realized P&L of a closed trade); it shares only the rounding
//! function with the engine.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde_json::Value;

use super::journal::{self, Record, TornTail};
use super::money::round_amount;
use super::venue::Side;

#[derive(Debug, Clone, Default)]
struct TradeFlows {
    buy_base: Decimal,
    buy_quote: Decimal,
    sell_base: Decimal,
    sell_quote: Decimal,
    fees: Decimal,
}

/// What the journal adds up to.
#[derive(Debug, Clone)]
pub struct Verified {
    pub records: usize,
    pub torn: Option<TornTail>,
    pub venues: Vec<String>,
    pub balances: Vec<BTreeMap<String, Decimal>>,
    pub in_transit: BTreeMap<String, Decimal>,
    pub realized: Decimal,
    pub fees: Decimal,
    pub trades_closed: u64,
    pub fills: u64,
    pub snapshots_checked: usize,
    /// Every disagreement found (empty: the journal is consistent).
    pub mismatches: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("journal {0}: no header record")]
    NoHeader(String),
    #[error("report {path}: {msg}")]
    Report { path: String, msg: String },
}

fn same_maps(a: &BTreeMap<String, Decimal>, b: &BTreeMap<String, Decimal>) -> bool {
    a.keys()
        .chain(b.keys())
        .all(|k| a.get(k).copied().unwrap_or_default() == b.get(k).copied().unwrap_or_default())
}

pub fn verify(path: &Path, report: Option<&Path>) -> Result<Verified, VerifyError> {
    let contents = journal::read(path)?;
    let Some(Record::Header(h)) = contents.records.first() else {
        return Err(VerifyError::NoHeader(path.display().to_string()));
    };
    let mut balances = h.initial_balances.clone();
    let mut transit: BTreeMap<u64, (String, usize, Decimal)> = BTreeMap::new();
    // order id -> (venue, instrument, side, trade, purpose)
    let mut orders: BTreeMap<u64, (usize, usize, Side, u64)> = BTreeMap::new();
    let mut flows: BTreeMap<u64, TradeFlows> = BTreeMap::new();
    let mut realized = Decimal::ZERO;
    let mut fees = Decimal::ZERO;
    let mut closed = 0u64;
    let mut fills = 0u64;
    let mut snapshots = 0usize;
    let mut mismatches = Vec::new();
    let add = |b: &mut Vec<BTreeMap<String, Decimal>>, v: usize, a: &str, d: Decimal| {
        if let Some(m) = b.get_mut(v) {
            let e = m.entry(a.to_string()).or_default();
            *e = (*e + d).normalize();
        }
    };
    for (k, rec) in contents.records.iter().enumerate() {
        match rec {
            Record::TradeOpen(t) => {
                for o in [&t.buy, &t.sell] {
                    orders.insert(o.id, (o.venue, o.instrument, o.side, o.trade_id));
                }
                flows.insert(t.trade_id, TradeFlows::default());
            }
            Record::Order(o) => {
                orders.insert(o.id, (o.venue, o.instrument, o.side, o.trade_id));
            }
            Record::Exec {
                venue, report, fee, ..
            } => {
                if report.last_qty <= Decimal::ZERO {
                    continue;
                }
                let Some(&(ov, inst, side, trade)) = orders.get(&report.order_id) else {
                    mismatches.push(format!(
                        "record {k}: fill for unknown order {}",
                        report.order_id
                    ));
                    continue;
                };
                if ov != *venue {
                    mismatches.push(format!(
                        "record {k}: fill from venue {venue} for an order on venue {ov}"
                    ));
                }
                fills += 1;
                let (_, base_asset, quote_asset) = &h.instruments[inst];
                let (qty, px) = (report.last_qty, report.last_price);
                let (base, quote) = match h
                    .inverse
                    .get(ov)
                    .and_then(|v| v.get(inst))
                    .copied()
                    .flatten()
                {
                    None => (qty, round_amount(qty * px)),
                    Some(q) => (round_amount(qty * q / px), qty * q),
                };
                let f = flows.entry(trade).or_default();
                match side {
                    Side::Buy => {
                        add(&mut balances, ov, base_asset, base);
                        add(&mut balances, ov, quote_asset, -quote);
                        f.buy_base += base;
                        f.buy_quote += quote;
                    }
                    Side::Sell => {
                        add(&mut balances, ov, base_asset, -base);
                        add(&mut balances, ov, quote_asset, quote);
                        f.sell_base += base;
                        f.sell_quote += quote;
                    }
                }
                if let Some(fee) = fee {
                    add(&mut balances, ov, &fee.asset, -fee.amount);
                    f.fees += fee.quote_value;
                }
            }
            Record::TransferSent(t) => {
                add(&mut balances, t.from, &t.asset, -(t.amount + t.fee));
                transit.insert(t.id, (t.asset.clone(), t.to, t.amount));
            }
            Record::TransferArrived { id, .. } => match transit.remove(id) {
                Some((asset, to, amount)) => add(&mut balances, to, &asset, amount),
                None => mismatches.push(format!("record {k}: arrival of unknown transfer {id}")),
            },
            Record::TradeClosed { trade_id, .. } => {
                let f = flows.remove(trade_id).unwrap_or_default();
                let residual = f.buy_base - f.sell_base;
                let carried = if residual > Decimal::ZERO {
                    residual * f.buy_quote / f.buy_base
                } else if residual < Decimal::ZERO {
                    residual * f.sell_quote / f.sell_base
                } else {
                    Decimal::ZERO
                };
                let gross = round_amount(f.sell_quote - f.buy_quote + carried);
                realized += round_amount(gross - f.fees);
                fees += round_amount(f.fees);
                closed += 1;
            }
            Record::Snapshot(s) => {
                snapshots += 1;
                let mut tr: BTreeMap<String, Decimal> = BTreeMap::new();
                for (a, _, x) in transit.values() {
                    *tr.entry(a.clone()).or_default() += *x;
                }
                for (v, b) in balances.iter().enumerate() {
                    match s.balances.get(v) {
                        Some(sb) if same_maps(b, sb) => {}
                        other => mismatches.push(format!(
                            "snapshot at record {k}: venue {} balances: journal gives {b:?}, engine had {other:?}",
                            h.venues.get(v).map_or("?", String::as_str)
                        )),
                    }
                }
                if !same_maps(&tr, &s.in_transit) {
                    mismatches.push(format!(
                        "snapshot at record {k}: in transit: journal gives {tr:?}, engine had {:?}",
                        s.in_transit
                    ));
                }
                if s.realized_pnl != realized || s.fees != fees || s.trades_closed != closed {
                    mismatches.push(format!(
                        "snapshot at record {k}: realized {} fees {} closed {} from the journal, engine had {} / {} / {}",
                        realized, fees, closed, s.realized_pnl, s.fees, s.trades_closed
                    ));
                }
            }
            _ => {}
        }
    }
    let mut in_transit: BTreeMap<String, Decimal> = BTreeMap::new();
    for (a, _, x) in transit.values() {
        *in_transit.entry(a.clone()).or_default() += *x;
    }
    let v = Verified {
        records: contents.records.len(),
        torn: contents.torn,
        venues: h.venues.clone(),
        balances,
        in_transit,
        realized,
        fees,
        trades_closed: closed,
        fills,
        snapshots_checked: snapshots,
        mismatches,
    };
    match report {
        None => Ok(v),
        Some(dir) => check_report(v, dir),
    }
}

fn dec_at(v: &Value, p: &str) -> Option<Decimal> {
    v.pointer(p)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn check_report(mut v: Verified, dir: &Path) -> Result<Verified, VerifyError> {
    let path = dir.join("summary.json");
    let err = |msg: String| VerifyError::Report {
        path: path.display().to_string(),
        msg,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    let s: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    for (what, p, ours) in [
        ("realized net P&L", "/pnl/realized_net", v.realized),
        ("fees", "/pnl/fees", v.fees),
    ] {
        match dec_at(&s, p) {
            Some(x) if x == ours => {}
            other => v.mismatches.push(format!(
                "report {what}: {other:?}, the journal gives {ours}"
            )),
        }
    }
    if s.pointer("/trades_closed").and_then(Value::as_u64) != Some(v.trades_closed) {
        v.mismatches.push(format!(
            "report trades_closed {:?}, the journal gives {}",
            s.pointer("/trades_closed"),
            v.trades_closed
        ));
    }
    for (k, name) in v.venues.clone().iter().enumerate() {
        let Some(b) = s
            .pointer(&format!("/venues/{k}/balances"))
            .and_then(Value::as_object)
        else {
            v.mismatches
                .push(format!("report has no balances for venue {name}"));
            continue;
        };
        let mut theirs = BTreeMap::new();
        for (a, x) in b {
            if let Some(d) = x
                .get("end")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
            {
                theirs.insert(a.clone(), d);
            }
        }
        if !same_maps(&v.balances[k], &theirs) {
            v.mismatches.push(format!(
                "report venue {name} balances {theirs:?}, the journal gives {:?}",
                v.balances[k]
            ));
        }
    }
    Ok(v)
}
