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
            json!({
                "name": name,
                "balances": balances,
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

/// The readable summary.
pub fn summary_text(setup: &EngineSetup, v: &Value) -> String {
    let mut o = String::new();
    let g = |p: &str| v.pointer(p).cloned().unwrap_or(Value::Null);
    let t = |x: Value| match x {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let _ = writeln!(
        o,
        "trading: {} events, {} candidates, {} trades ({} closed, {} open){}",
        g("/events"),
        g("/candidates"),
        g("/trades"),
        g("/trades_closed"),
        g("/trades_open"),
        if g("/killed") == Value::Bool(true) {
            ", kill switch ON"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "  P&L realized net {} (gross {}, fees {}); slippage {}; unwind cost {}; max drawdown {}",
        t(g("/pnl/realized_net")),
        t(g("/pnl/gross")),
        t(g("/pnl/fees")),
        t(g("/pnl/slippage")),
        t(g("/pnl/unwind_cost")),
        t(g("/pnl/max_drawdown"))
    );
    let _ = writeln!(
        o,
        "  mark-to-market of inventory changes {} at marks {}",
        t(g("/pnl/mark_to_market/pnl")),
        g("/pnl/mark_to_market/marks")
    );
    match g("/pnl/sharpe") {
        Value::Null => {
            let _ = writeln!(
                o,
                "  Sharpe: n/a (fewer than two intervals or no variation)"
            );
        }
        sh => {
            let _ = writeln!(
                o,
                "  Sharpe {} annualised ({} per {}-s interval over {} intervals)",
                t(sh["annualised"].clone()),
                t(sh["per_interval"].clone()),
                sh["interval_s"],
                sh["intervals"]
            );
        }
    }
    let _ = writeln!(
        o,
        "  entry legs {} sent, {} filled (success rate {}); orders {}",
        g("/legs/entry_sent"),
        g("/legs/entry_filled"),
        t(g("/legs/success_rate")),
        g("/orders")
    );
    if let Some(pairs) = g("/pnl/by_pair").as_array() {
        for p in pairs {
            let _ = writeln!(
                o,
                "  buy {} / sell {} {}: {} trades, net {}, fees {}",
                t(p["buy_venue"].clone()),
                t(p["sell_venue"].clone()),
                t(p["instrument"].clone()),
                p["trades"],
                t(p["net"].clone()),
                t(p["fees"].clone())
            );
        }
    }
    let refused: Vec<String> = g("/refused")
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.as_u64() != Some(0))
                .map(|(k, n)| format!("{k} {n}"))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  refused: {}",
        if refused.is_empty() {
            "none".to_string()
        } else {
            refused.join(", ")
        }
    );
    if let Some(e) = g("/open_exposure").as_array().filter(|e| !e.is_empty()) {
        let _ = writeln!(
            o,
            "  OPEN EXPOSURE (unwind gave up): {}",
            Value::Array(e.clone())
        );
    }
    let _ = writeln!(o, "  positions {}", g("/positions"));
    for (k, name) in setup.venue_names.iter().enumerate() {
        let b = g(&format!("/venues/{k}/balances"));
        let line: Vec<String> = b
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(a, x)| {
                        format!("{a} {} -> {}", t(x["start"].clone()), t(x["end"].clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(o, "  {name}: {}", line.join(", "));
    }
    let _ = writeln!(
        o,
        "  transfers: {} sent, {} in transit, {} proposed now",
        g("/transfers/sent"),
        g("/transfers/in_transit").as_array().map_or(0, Vec::len),
        g("/transfers/proposed_now").as_array().map_or(0, Vec::len)
    );
    o
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
