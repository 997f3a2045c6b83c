//! The trading report: `summary.json` (counts, P&L, fees, refusals by reason, inventory per
//! venue), `summary.txt` (the same for a reader), `trades.jsonl` (every closed trade) and
//! `candidates.jsonl` (every candidate: gross, fees and net at its size, and what became of it).
//! Money is exact decimal strings throughout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::config::FeeAsset;
use super::engine::{EngineSetup, State};
use super::journal::ReconcileOutcome;
use super::latency::Operation;
use super::pnl::{sharpe, ClosedTrade};
use super::rebalance::{plan, Proposal};
use super::risk::Refusal;
use super::simvenue::MarketView;

fn s(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

/// Marks for valuing inventory: each instrument's base at the market's mark, quote assets at 1,
/// third fee assets at their configured price.
pub fn marks(setup: &EngineSetup, market: &MarketView) -> BTreeMap<String, Decimal> {
    let mut m = BTreeMap::new();
    for (i, a) in setup.trade.instruments.iter().enumerate() {
        m.entry(a.quote.clone()).or_insert(Decimal::ONE);
        if let Some(p) = market.mark(i, setup.venue_names.len()) {
            m.entry(a.base.clone()).or_insert(p);
        }
    }
    for v in &setup.trade.venues {
        if let FeeAsset::Other { asset, price } = &v.fees.asset {
            m.entry(asset.clone()).or_insert(*price);
        }
    }
    m
}

/// Change of every balance (final - initial, in transit included) valued at `marks`; assets
/// without a mark are listed apart.
pub fn mark_to_market(st: &State, marks: &BTreeMap<String, Decimal>) -> (Decimal, Vec<String>) {
    let mut assets: BTreeMap<String, Decimal> = BTreeMap::new();
    for (v, b) in st.ledger.balances().iter().enumerate() {
        for (a, x) in b {
            *assets.entry(a.clone()).or_default() += *x;
        }
        for (a, x) in &st.initial[v] {
            *assets.entry(a.clone()).or_default() -= *x;
        }
    }
    for t in st.ledger.in_transit() {
        *assets.entry(t.asset.clone()).or_default() += t.amount;
    }
    let mut total = Decimal::ZERO;
    let mut unmarked = Vec::new();
    for (a, d) in assets {
        match marks.get(&a) {
            Some(p) => total += d * *p,
            None if !d.is_zero() => unmarked.push(a),
            None => {}
        }
    }
    (super::money::round_amount(total), unmarked)
}

fn trade_json(t: &ClosedTrade, setup: &EngineSetup) -> Value {
    let r = &t.realized;
    json!({
        "trade_id": t.trade_id,
        "event_seq": t.event_seq,
        "instrument": setup.instrument_names[t.instrument],
        "buy_venue": setup.venue_names[t.buy_venue],
        "sell_venue": setup.venue_names[t.sell_venue],
        "opened_ns": t.opened_ns,
        "closed_ns": t.closed_ns,
        "planned_base": s(t.planned_base),
        "expected_net": s(t.expected_net),
        "bought_base": s(t.flows.entry_buy.base + t.flows.unwind_buy.base),
        "sold_base": s(t.flows.entry_sell.base + t.flows.unwind_sell.base),
        "gross": s(r.gross),
        "fees": s(r.fees),
        "net": s(r.net),
        "slippage": s(t.flows.slippage),
        "unwind_cost": s(r.unwind_cost),
        "residual": s(r.residual),
        "gave_up": t.gave_up,
        "legs_filled": t.legs_filled,
        "busts": t.busts,
        "corrections": t.corrections,
    })
}

/// The whole report as JSON.
pub fn summary_json(
    setup: &EngineSetup,
    st: &State,
    market: &MarketView,
    first_ts: u64,
    last_ts: u64,
) -> Value {
    let pnl = &st.pnl;
    let refused: serde_json::Map<String, Value> = Refusal::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                Value::from(st.refused.get(r).copied().unwrap_or(0)),
            )
        })
        .collect();
    let marks = marks(setup, market);
    let (mtm, unmarked) = mark_to_market(st, &marks);
    let sharpe = sharpe(
        &pnl.closed,
        first_ts,
        last_ts,
        setup.trade.params.sharpe_interval_ns,
    );
    let success = if pnl.entry_legs_sent == 0 {
        Value::Null
    } else {
        s((Decimal::from(pnl.entry_legs_filled) / Decimal::from(pnl.entry_legs_sent)).round_dp(4))
    };
    let venues: Vec<Value> = setup
        .venue_names
        .iter()
        .enumerate()
        .map(|(v, name)| {
            let mut assets: Vec<&String> = st.initial[v].keys().collect();
            for a in st.ledger.balances()[v].keys() {
                if !assets.contains(&a) {
                    assets.push(a);
                }
            }
            assets.sort();
            let balances: serde_json::Map<String, Value> = assets
                .iter()
                .map(|a| {
                    (
                        a.to_string(),
                        json!({
                            "start": s(st.initial[v].get(*a).copied().unwrap_or_default()),
                            "end": s(st.ledger.balance(v, a)),
                            "reserved": s(st.ledger.reserved(v, a)),
                        }),
                    )
                })
                .collect();
            let round_trips: serde_json::Map<String, Value> = Operation::ALL
                .iter()
                .map(|&op| {
                    let d = st.round_trips.get(v, op).filter(|d| d.count > 0);
                    (
                        op.as_str().to_string(),
                        d.map_or(Value::Null, |d| {
                            json!({
                                "count": d.count,
                                "median_ns": d.quantile(0.5),
                                "p99_ns": d.quantile(0.99),
                                "max_ns": d.max,
                            })
                        }),
                    )
                })
                .collect();
            json!({
                "name": name,
                "balances": balances,
                "round_trips": round_trips,
                "volume": s(st.volume[v]),
                "down_at_end": st.risk[v].down,
                "disabled_until_ns": st.risk[v].disabled_until,
            })
        })
        .collect();
    let by_pair: Vec<Value> = pnl
        .by_pair
        .iter()
        .map(|((b, sv, i), p)| {
            json!({
                "buy_venue": setup.venue_names[*b],
                "sell_venue": setup.venue_names[*sv],
                "instrument": setup.instrument_names[*i],
                "trades": p.trades,
                "net": s(p.net),
                "fees": s(p.fees),
            })
        })
        .collect();
    let positions: serde_json::Map<String, Value> = setup
        .instrument_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), s(st.position(setup, i))))
        .collect();
    let exposure: Vec<Value> = pnl
        .closed
        .iter()
        .filter(|t| t.gave_up)
        .map(|t| json!({"trade_id": t.trade_id, "residual": s(t.realized.residual)}))
        .collect();
    let proposal = |p: &Proposal| {
        json!({
            "asset": p.asset, "from": setup.venue_names[p.from], "to": setup.venue_names[p.to],
            "amount": s(p.amount), "network_fee": s(p.network_fee),
            "transfer_s": p.transfer_ns / 1_000_000_000,
            "balance": s(p.balance), "target": s(p.target),
        })
    };
    let transfer = |t: &super::ledger::Transfer| {
        json!({
            "id": t.id, "asset": t.asset, "from": setup.venue_names[t.from], "to": setup.venue_names[t.to],
            "amount": s(t.amount), "network_fee": s(t.fee), "sent_ns": t.sent_ns, "arrive_ns": t.arrive_ns,
        })
    };
    let stats = &st.stats;
    let rc = |o: ReconcileOutcome| stats.reconciled.get(&o).copied().unwrap_or(0);
    json!({
        "events": st.events,
        "candidates": st.candidates.len(),
        "trades": pnl.closed.len() + st.trades.len(),
        "trades_closed": pnl.closed.len(),
        "trades_open": st.trades.len(),
        "killed": st.killed,
        "refused": refused,
        "pnl": {
            "realized_net": s(pnl.realized),
            "gross": s(pnl.gross),
            "fees": s(pnl.fees),
            "slippage": s(pnl.slippage),
            "unwind_cost": s(pnl.unwind_cost),
            "max_drawdown": s(pnl.max_drawdown),
            "mark_to_market": {
                "pnl": s(mtm),
                "marks": marks.iter().map(|(a, p)| (a.clone(), s(*p))).collect::<serde_json::Map<_, _>>(),
                "unmarked_assets": unmarked,
            },
            "sharpe": sharpe.map(|x| json!({
                "intervals": x.intervals, "interval_s": x.interval_s,
                "mean": s(x.mean), "stdev": s(x.stdev),
                "per_interval": s(x.per_interval), "annualised": s(x.annualised),
            })),
            "by_pair": by_pair,
        },
        "legs": {
            "entry_sent": pnl.entry_legs_sent,
            "entry_filled": pnl.entry_legs_filled,
            "success_rate": success,
        },
        "orders": {
            "sent": stats.orders_sent, "unwind": stats.unwind_orders,
            "fills": stats.fills, "partial_fills": stats.partial_fills,
            "rejects": stats.rejects, "expired": stats.expired, "canceled": stats.canceled,
            "timeouts": stats.timeouts, "lost": stats.orders_lost,
        },
        "venue_health": {"disables": stats.venue_disables, "outages": stats.venue_outages},
        "unwinds": {"gave_up": stats.gave_up, "dust_closes": stats.dust_closes},
        "corrections": {
            "busts": stats.busts, "corrections": stats.corrections,
            "refused": stats.corrections_refused, "pnl_effect": s(stats.correction_pnl),
        },
        "reconciled": {
            "agreed": rc(ReconcileOutcome::Agreed), "recovered": rc(ReconcileOutcome::Recovered),
            "not_sent": rc(ReconcileOutcome::NotSent), "mismatch": rc(ReconcileOutcome::Mismatch),
            "unexpected": rc(ReconcileOutcome::Unexpected),
        },
        "open_exposure": exposure,
        "positions": positions,
        "venues": venues,
        "transfers": {
            "sent": stats.transfers,
            "arrived": st.transfers.iter().map(transfer).collect::<Vec<_>>(),
            "in_transit": st.ledger.in_transit().map(transfer).collect::<Vec<_>>(),
            "proposed_now": plan(&setup.trade, &st.ledger).iter().map(proposal).collect::<Vec<_>>(),
        },
        "time": {"first_ns": first_ts, "last_ns": last_ts},
    })
}

/// Width of the key column of the readable summary.
const KEY: usize = 18;

/// The readable summary (stdout and `summary.txt`): one "key  value" line per figure, the key
/// column aligned, counts as "sent 5, fills 4, ..." lines, and per-pair results and balances as
/// small tables. Built from [`summary_json`]'s value, so that both say the same.
pub fn summary_text(setup: &EngineSetup, v: &Value) -> String {
    let mut o = String::new();
    let g = |p: &str| v.pointer(p).cloned().unwrap_or(Value::Null);
    let kv = |o: &mut String, key: &str, value: String| {
        let _ = writeln!(o, "  {key:<KEY$}{value}");
    };
    let killed = g("/killed") == Value::Bool(true);
    let _ = writeln!(
        o,
        "trading summary{}",
        if killed { " (kill switch ON)" } else { "" }
    );
    kv(&mut o, "events", text(&g("/events")));
    kv(&mut o, "candidates", text(&g("/candidates")));
    kv(
        &mut o,
        "trades",
        format!(
            "{} ({} closed, {} open)",
            text(&g("/trades")),
            text(&g("/trades_closed")),
            text(&g("/trades_open"))
        ),
    );
    kv(&mut o, "realized net P&L", text(&g("/pnl/realized_net")));
    for (key, p) in [
        ("  gross", "/pnl/gross"),
        ("  fees", "/pnl/fees"),
        ("  slippage", "/pnl/slippage"),
        ("  unwind cost", "/pnl/unwind_cost"),
    ] {
        kv(&mut o, key, text(&g(p)));
    }
    kv(&mut o, "max drawdown", text(&g("/pnl/max_drawdown")));
    let marks = counts(&g("/pnl/mark_to_market/marks"), false);
    let unmarked = g("/pnl/mark_to_market/unmarked_assets");
    kv(
        &mut o,
        "mark-to-market",
        format!(
            "{} (inventory changes at {}{})",
            text(&g("/pnl/mark_to_market/pnl")),
            if marks.is_empty() {
                "no marks".to_string()
            } else {
                marks
            },
            match unmarked.as_array().filter(|a| !a.is_empty()) {
                Some(a) => format!(
                    "; without a mark: {}",
                    a.iter().map(text).collect::<Vec<_>>().join(", ")
                ),
                None => String::new(),
            }
        ),
    );
    let sharpe = match g("/pnl/sharpe") {
        Value::Null => "n/a (fewer than two intervals or no variation)".to_string(),
        sh => format!(
            "{} annualised ({} per {}-s interval, {} intervals)",
            text(&sh["annualised"]),
            text(&sh["per_interval"]),
            text(&sh["interval_s"]),
            text(&sh["intervals"])
        ),
    };
    kv(&mut o, "Sharpe", sharpe);
    kv(
        &mut o,
        "entry legs",
        format!(
            "sent {}, filled {} (success rate {})",
            text(&g("/legs/entry_sent")),
            text(&g("/legs/entry_filled")),
            match g("/legs/success_rate") {
                Value::Null => "n/a".to_string(),
                r => text(&r),
            }
        ),
    );
    kv(
        &mut o,
        "orders",
        format!(
            "sent {} ({} unwind), filled in full {}, partial-fill reports {}, rejected {}, expired {}, canceled {}, \
             timed out {}, lost {}",
            text(&g("/orders/sent")),
            text(&g("/orders/unwind")),
            text(&g("/orders/fills")),
            text(&g("/orders/partial_fills")),
            text(&g("/orders/rejects")),
            text(&g("/orders/expired")),
            text(&g("/orders/canceled")),
            text(&g("/orders/timeouts")),
            text(&g("/orders/lost"))
        ),
    );
    kv(
        &mut o,
        "unwinds",
        format!(
            "gave up {}, dust closes {}",
            text(&g("/unwinds/gave_up")),
            text(&g("/unwinds/dust_closes"))
        ),
    );
    kv(
        &mut o,
        "busts/corrections",
        format!(
            "busted {}, corrected {}, refused {} (realized net of closed trades changed by {})",
            text(&g("/corrections/busts")),
            text(&g("/corrections/corrections")),
            text(&g("/corrections/refused")),
            text(&g("/corrections/pnl_effect"))
        ),
    );
    kv(
        &mut o,
        "reconciled",
        format!(
            "after restarts: {} agreed, {} recovered, {} not sent, {} mismatched, {} unexpected",
            text(&g("/reconciled/agreed")),
            text(&g("/reconciled/recovered")),
            text(&g("/reconciled/not_sent")),
            text(&g("/reconciled/mismatch")),
            text(&g("/reconciled/unexpected"))
        ),
    );
    kv(
        &mut o,
        "venue health",
        format!(
            "disabled {} times, {} outages",
            text(&g("/venue_health/disables")),
            text(&g("/venue_health/outages"))
        ),
    );
    kv(&mut o, "refused", counts(&g("/refused"), true));
    if let Some(e) = g("/open_exposure").as_array().filter(|e| !e.is_empty()) {
        let trades: Vec<String> = e
            .iter()
            .map(|x| format!("trade {} {}", text(&x["trade_id"]), text(&x["residual"])))
            .collect();
        kv(
            &mut o,
            "OPEN EXPOSURE",
            format!("unwind gave up: {}", trades.join(", ")),
        );
    }
    kv(&mut o, "positions", counts(&g("/positions"), false));
    kv(
        &mut o,
        "transfers",
        format!(
            "{} sent, {} in transit, {} proposed now",
            text(&g("/transfers/sent")),
            g("/transfers/in_transit").as_array().map_or(0, Vec::len),
            g("/transfers/proposed_now").as_array().map_or(0, Vec::len)
        ),
    );

    if let Some(pairs) = g("/pnl/by_pair").as_array().filter(|p| !p.is_empty()) {
        let mut rows = vec![vec![
            "by pair".to_string(),
            "instrument".into(),
            "trades".into(),
            "net".into(),
            "fees".into(),
        ]];
        for p in pairs {
            rows.push(vec![
                format!(
                    "buy {} / sell {}",
                    text(&p["buy_venue"]),
                    text(&p["sell_venue"])
                ),
                text(&p["instrument"]),
                text(&p["trades"]),
                text(&p["net"]),
                text(&p["fees"]),
            ]);
        }
        let _ = writeln!(o);
        table(&mut o, &rows, 2);
    }

    let mut rows = vec![vec![
        "balances".to_string(),
        "asset".into(),
        "start".into(),
        "end".into(),
    ]];
    for (k, name) in setup.venue_names.iter().enumerate() {
        if let Some(m) = g(&format!("/venues/{k}/balances")).as_object() {
            for (i, (asset, x)) in m.iter().enumerate() {
                rows.push(vec![
                    if i == 0 { name.clone() } else { String::new() },
                    asset.clone(),
                    text(&x["start"]),
                    text(&x["end"]),
                ]);
            }
        }
    }
    let _ = writeln!(o);
    table(&mut o, &rows, 2);

    // order round trips per venue: sent to the venue's first report ("new"), cancel sent to the
    // next report ("cancel"); quantiles within 12.5% below (crate::latency)
    let mut rows = vec![vec![
        "round trips".to_string(),
        "operation".into(),
        "orders".into(),
        "median".into(),
        "p99".into(),
        "max".into(),
    ]];
    let us = |x: &Value| {
        x.as_u64()
            .map_or("-".to_string(), |ns| format!("{:.1} us", ns as f64 / 1e3))
    };
    for (k, name) in setup.venue_names.iter().enumerate() {
        for op in Operation::ALL {
            let d = g(&format!("/venues/{k}/round_trips/{}", op.as_str()));
            if d.is_null() {
                continue;
            }
            rows.push(vec![
                name.clone(),
                op.as_str().to_string(),
                text(&d["count"]),
                us(&d["median_ns"]),
                us(&d["p99_ns"]),
                us(&d["max_ns"]),
            ]);
        }
    }
    if rows.len() > 1 {
        let _ = writeln!(o);
        table(&mut o, &rows, 2);
    }
    o
}

/// A JSON scalar as a reader wants it: strings without quotes.
fn text(x: &Value) -> String {
    match x {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// An object of names to values as "a 1, b 2" ("none" when empty); with `skip_zero`, the
/// entries that are 0 are left out and the rest listed largest first.
fn counts(x: &Value, skip_zero: bool) -> String {
    let Some(m) = x.as_object() else {
        return "none".to_string();
    };
    let mut items: Vec<(&String, &Value)> = m
        .iter()
        .filter(|(_, n)| !(skip_zero && n.as_u64() == Some(0)))
        .collect();
    if skip_zero {
        items.sort_by_key(|(_, n)| std::cmp::Reverse(n.as_u64().unwrap_or(0)));
    }
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(|(k, n)| format!("{k} {}", text(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows as columns, indented: the first `text_cols` columns left-aligned, numbers right-aligned.
fn table(o: &mut String, rows: &[Vec<String>], text_cols: usize) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, x)| {
                if c < text_cols {
                    format!("{x:<w$}", w = widths[c])
                } else {
                    format!("{x:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(o, "  {}", cells.join("  ").trim_end());
    }
}

/// Writes the report files into `dir` (created if missing).
pub fn write(dir: &Path, setup: &EngineSetup, st: &State, summary: &Value) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(summary).expect("json") + "\n",
    )?;
    std::fs::write(dir.join("summary.txt"), summary_text(setup, summary))?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("trades.jsonl"))?);
    for t in &st.pnl.closed {
        writeln!(w, "{}", trade_json(t, setup))?;
    }
    w.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("candidates.jsonl"))?);
    for c in &st.candidates {
        writeln!(
            w,
            "{}",
            json!({
                "event_seq": c.event_seq, "ts_ns": c.ts_ns,
                "instrument": setup.instrument_names[c.instrument],
                "buy_venue": setup.venue_names[c.buy_venue], "sell_venue": setup.venue_names[c.sell_venue],
                "buy_price": s(c.buy_price), "sell_price": s(c.sell_price),
                "base_qty": s(c.base_qty), "gross": s(c.gross), "fees": s(c.fees), "net": s(c.net),
                "outcome": c.outcome, "trade_id": c.trade_id,
            })
        )?;
    }
    w.flush()
}
