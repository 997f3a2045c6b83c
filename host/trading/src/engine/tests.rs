//! Busts and corrections through the engine, booked by hand in exact decimals; the journal
//! they write replays to the same books, and `journal verify` re-derives the same figures.

use std::path::Path;

use rust_decimal::Decimal;

use super::{replay, Engine, EngineSetup};
use crate::journal::{self, OrderRecord, Purpose, Record, TradeOpen};
use crate::run::{setup_of, TradingInputs};
use crate::venue::{
    CorrectionKind, ExecKind, ExecReport, OrderRequest, Side, TradeCorrection, Venue, VenueClock,
    VenueError, VenueEvent,
};
use crate::verify;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A venue that takes every order and says nothing: the test plays the venue's part.
struct Mute;

impl Venue for Mute {
    fn submit(&mut self, _: &OrderRequest, _: u64) -> Result<(), VenueError> {
        Ok(())
    }
    fn cancel(&mut self, _: u64, _: u64) -> Result<(), VenueError> {
        Ok(())
    }
    fn poll(&mut self, _: u64, _: &mut Vec<VenueEvent>) -> Result<(), VenueError> {
        Ok(())
    }
    fn connected(&self) -> bool {
        true
    }
    fn clock(&self) -> VenueClock {
        VenueClock::Simulated
    }
    fn next_due_ns(&self) -> Option<u64> {
        None
    }
}

fn setup() -> EngineSetup {
    let (det, trade) = crate::testcfg::load(crate::testcfg::THREE_VENUES);
    setup_of(
        TradingInputs {
            detection: &det,
            trade: Some(&trade),
        },
        "test".into(),
        None,
    )
    .unwrap()
}

fn order(id: u64, venue: usize, side: Side, price: &str, reserve: (&str, &str)) -> OrderRecord {
    OrderRecord {
        id,
        trade_id: 1,
        purpose: Purpose::Entry,
        attempt: 0,
        venue,
        instrument: 0,
        symbol: "BTCUSDT".into(),
        side,
        price: d(price),
        base_qty: d("0.1"),
        qty: d("0.1"),
        detected_price: d(price),
        reserve_asset: reserve.0.into(),
        reserve: d(reserve.1),
        sent_ns: 1_000,
    }
}

fn fill(order_id: u64, kind: ExecKind, qty: &str, price: &str, cum: &str) -> VenueEvent {
    VenueEvent::Exec(ExecReport {
        order_id,
        kind,
        last_qty: d(qty),
        last_price: d(price),
        cum_qty: d(cum),
        leaves_qty: Decimal::ZERO,
        text: None,
        ts_ns: 0,
    })
}

fn correction(order_id: u64, orig: (&str, &str), new: Option<(&str, &str)>) -> VenueEvent {
    let (nq, np) = new.unwrap_or(("0", "0"));
    VenueEvent::Correction(TradeCorrection {
        order_id,
        kind: if new.is_some() {
            CorrectionKind::Correct
        } else {
            CorrectionKind::Bust
        },
        exec_ref_id: "E".into(),
        orig_qty: d(orig.0),
        orig_price: d(orig.1),
        new_qty: d(nq),
        new_price: d(np),
        ts_ns: 0,
    })
}

/// Buys 0.1 BTC at 60000 on venue a, sells it on b as 0.06 at 60200 and 0.04 at 60190 (every
/// fill 10 bps of its quote amount in USDT); the trade closes flat.
fn traded() -> Engine {
    let mut e = opened();
    e.on_venue_event(0, fill(1, ExecKind::Fill, "0.1", "60000", "0.1"), 2_000)
        .unwrap();
    e.on_venue_event(
        1,
        fill(2, ExecKind::PartialFill, "0.06", "60200", "0.06"),
        2_000,
    )
    .unwrap();
    e.on_venue_event(1, fill(2, ExecKind::Fill, "0.04", "60190", "0.1"), 3_000)
        .unwrap();
    e
}

fn figures(e: &Engine) -> (Decimal, Decimal, Decimal, Decimal, Decimal, Decimal) {
    let st = e.state();
    (
        st.ledger.balance(0, "USDT"),
        st.ledger.balance(0, "BTC"),
        st.ledger.balance(1, "USDT"),
        st.ledger.balance(1, "BTC"),
        st.pnl.realized,
        st.pnl.fees,
    )
}

#[test]
fn a_bust_and_a_correction_after_the_close_rebook_the_ledger_and_the_trades_pnl() {
    let mut e = traded();
    assert!(e.state().trades.is_empty(), "the trade closed");
    // a: 60000 - 6000 - 6 USDT, 1.1 BTC; b: 60000 + 3612 + 2407.6 - 3.612 - 2.4076 USDT, 0.9
    // BTC; realized 6019.6 - 6000 - 12.0196 = 7.5804
    assert_eq!(
        figures(&e),
        (
            d("53994"),
            d("1.1"),
            d("66013.5804"),
            d("0.9"),
            d("7.5804"),
            d("12.0196")
        )
    );

    // the venue busts the sell of 0.04 at 60190: its 2407.6 USDT, 0.04 BTC and 2.4076 fee go
    // back; the trade is now long 0.04 BTC, carried at its buy price (0.04 x 60000 = 2400):
    // gross 3612 - 6000 + 2400 = 12, fees 9.612, net 2.388
    e.on_venue_event(1, correction(2, ("0.04", "60190"), None), 4_000)
        .unwrap();
    assert_eq!(
        figures(&e),
        (
            d("53994"),
            d("1.1"),
            d("63608.388"),
            d("0.94"),
            d("2.388"),
            d("9.612")
        )
    );
    let st = e.state();
    let t = &st.pnl.closed[0];
    assert_eq!((t.busts, t.corrections), (1, 0));
    assert_eq!(t.realized.residual, d("0.04"));
    assert_eq!(
        st.position(e.setup(), 0),
        d("0.04"),
        "a residual is a position"
    );
    assert_eq!(st.stats.correction_pnl, d("-5.1924"));
    assert_eq!(st.volume[1], d("3612"));

    // the same fill again: refused (nothing booked), counted
    let before = figures(&e);
    e.on_venue_event(1, correction(2, ("0.04", "60190"), None), 4_500)
        .unwrap();
    // a fill of that order reported by another venue: refused too
    e.on_venue_event(0, correction(2, ("0.06", "60200"), None), 4_600)
        .unwrap();
    assert_eq!(figures(&e), before);
    assert_eq!(e.state().stats.corrections_refused, 2);

    // the buy corrected to 59990: 5999 + 5.999 USDT instead of 6000 + 6 (a: 60000 - 6004.999);
    // slippage against the detected 60000 now -1 (and -0.6 on the sell); long 0.04 carried at
    // 59990: gross 3612 - 5999 + 2399.6 = 12.6, fees 9.611, net 2.989
    e.on_venue_event(
        0,
        correction(1, ("0.1", "60000"), Some(("0.1", "59990"))),
        5_000,
    )
    .unwrap();
    assert_eq!(
        figures(&e),
        (
            d("53995.001"),
            d("1.1"),
            d("63608.388"),
            d("0.94"),
            d("2.989"),
            d("9.611")
        )
    );
    let st = e.state();
    assert_eq!((st.stats.busts, st.stats.corrections), (1, 1));
    assert_eq!(st.stats.correction_pnl, d("2.989") - d("7.5804"));
    assert_eq!(st.pnl.gross, d("12.6"));
    assert_eq!(st.volume[0], d("5999"));
    assert_eq!(st.pnl.closed[0].flows.slippage, d("-1.6"));
}

#[test]
fn the_journal_of_busts_replays_to_the_same_books_and_verifies() {
    let mut e = traded();
    e.on_venue_event(1, correction(2, ("0.04", "60190"), None), 4_000)
        .unwrap();
    e.on_venue_event(
        0,
        correction(1, ("0.1", "60000"), Some(("0.1", "59990"))),
        5_000,
    )
    .unwrap();
    e.snapshot(6_000).unwrap();
    let mut records = vec![Record::Header(e.setup().header())];
    records.extend(e.take_records());
    assert_eq!(
        records
            .iter()
            .filter(|r| matches!(r, Record::Correction { .. }))
            .count(),
        2
    );
    let path = Path::new("busts.journal");
    let contents = journal::parse(path, &journal::encode_all(&records)).unwrap();

    // a restart's state is the live one
    let (st, _) = replay::replay(e.setup(), &contents).unwrap();
    let live = e.state();
    assert_eq!(st.ledger, live.ledger);
    assert_eq!(st.pnl, live.pnl);
    assert_eq!(st.volume, live.volume);
    assert_eq!(st.stats, live.stats);
    assert_eq!(st.booked, live.booked);

    // the independent re-derivation agrees with the engine, snapshot included
    let v = verify::check(path, &contents).unwrap();
    assert!(v.mismatches.is_empty(), "{:#?}", v.mismatches);
    assert_eq!(v.snapshots_checked, 2);
    assert_eq!((v.busts, v.corrections), (1, 1));
    assert_eq!(v.realized, d("2.989"));
    assert_eq!(v.fees, d("9.611"));
    assert_eq!(v.correction_pnl, live.stats.correction_pnl);
    assert_eq!(v.balances, live.ledger.balances());

    // a bust whose fee is not the fill's, or a correction charged another fee, is caught
    for tamper in 0..2 {
        let mut bad = records.clone();
        let k = bad
            .iter()
            .position(|r| matches!(r, Record::Correction { .. }))
            .unwrap()
            + tamper;
        match &mut bad[k] {
            Record::Correction { orig_fee, fee, .. } => match fee {
                Some(f) if tamper == 1 => f.amount += d("0.00000001"),
                _ => orig_fee.amount += d("0.00000001"),
            },
            other => panic!("record {k} is {other:?}"),
        }
        let c = journal::parse(path, &journal::encode_all(&bad)).unwrap();
        let v = verify::check(path, &c).unwrap();
        assert!(!v.mismatches.is_empty(), "tamper {tamper} went unseen");
    }
    // the bust written twice: the second names a fill busted already
    let mut twice = records.clone();
    let k = twice
        .iter()
        .position(|r| matches!(r, Record::Correction { .. }))
        .unwrap();
    twice.insert(k + 1, twice[k].clone());
    let c = journal::parse(path, &journal::encode_all(&twice)).unwrap();
    let v = verify::check(path, &c).unwrap();
    assert!(
        v.mismatches
            .iter()
            .any(|m| m.contains("left to bust or correct")),
        "{:#?}",
        v.mismatches
    );
}

#[test]
fn a_refusal_from_the_connector_is_counted_and_books_nothing() {
    let mut e = traded();
    let before = figures(&e);
    e.on_venue_event(
        0,
        VenueEvent::CorrectionRefused {
            order_id: 1,
            text: "unknown ExecRefID".into(),
        },
        4_000,
    )
    .unwrap();
    assert_eq!(figures(&e), before);
    assert_eq!(e.state().stats.corrections_refused, 1);
    assert!(e
        .take_records()
        .iter()
        .all(|r| !matches!(r, Record::Correction { .. })));
}

#[test]
fn a_bust_while_the_trade_is_open_leaves_a_residual_that_is_unwound() {
    let mut e = opened();
    e.on_venue_event(0, fill(1, ExecKind::Fill, "0.1", "60000", "0.1"), 2_000)
        .unwrap();
    // the buy busted before the sell filled: the trade will be short what the sell sells
    e.on_venue_event(0, correction(1, ("0.1", "60000"), None), 2_500)
        .unwrap();
    assert_eq!(e.state().trades[&1].base_delta, Decimal::ZERO);
    assert_eq!(e.state().orders[&1].cum_qty, Decimal::ZERO);
    assert_eq!(e.state().ledger.balance(0, "USDT"), d("60000"));
    e.on_venue_event(1, fill(2, ExecKind::Fill, "0.1", "60200", "0.1"), 3_000)
        .unwrap();
    // no close: an unwind buy of the 0.1 short went out
    let st = e.state();
    assert!(st.pnl.closed.is_empty());
    assert_eq!(st.trades[&1].busts, 1);
    assert_eq!(st.stats.unwind_orders, 1);
    let unwind = st
        .orders
        .values()
        .find(|o| o.rec.purpose == Purpose::Unwind)
        .unwrap();
    assert_eq!(
        (unwind.rec.side, unwind.rec.base_qty),
        (Side::Buy, d("0.1"))
    );
}

fn status(order_id: u64, state: Option<ExecKind>, cum: &str, avg: &str) -> VenueEvent {
    VenueEvent::Status(crate::venue::StatusReport {
        order_id,
        state,
        cum_qty: d(cum),
        avg_price: d(avg),
        requested: true,
        text: None,
        ts_ns: 0,
    })
}

/// `traded()`'s trade opened, with only the sell's first fill booked before a restart.
fn opened_then_restarted() -> Engine {
    let mut e = opened();
    e.on_venue_event(
        1,
        fill(2, ExecKind::PartialFill, "0.06", "60200", "0.06"),
        2_000,
    )
    .unwrap();
    e
}

/// `traded()`'s trade opened, nothing filled yet.
fn opened() -> Engine {
    let venues: Vec<Box<dyn Venue>> = vec![Box::new(Mute), Box::new(Mute), Box::new(Mute)];
    let mut e = Engine::new(setup(), venues, None).unwrap();
    e.keep_records();
    e.commit(Record::TradeOpen(TradeOpen {
        trade_id: 1,
        event_seq: 1,
        ts_ns: 1_000,
        instrument: 0,
        buy_venue: 0,
        sell_venue: 1,
        base_qty: d("0.1"),
        gross: d("20"),
        fees: d("12.02"),
        net: d("7.98"),
        buy: order(1, 0, Side::Buy, "60000", ("USDT", "6006")),
        sell: order(2, 1, Side::Sell, "60190", ("BTC", "0.1")),
    }))
    .unwrap();
    e
}

#[test]
fn statuses_after_a_restart_book_what_the_journal_lacked_to_the_uninterrupted_figures() {
    let mut e = opened_then_restarted();
    assert_eq!(e.in_flight(0).len(), 1);
    assert_eq!(e.in_flight(1).len(), 1);
    // the buy filled wholly at 60000; the sell filled 0.1 in all at an average of 60196, its
    // missing 0.04 at (0.1 x 60196 - 0.06 x 60200) / 0.04 = 60190, and the rest expired
    e.on_venue_event(0, status(1, Some(ExecKind::Fill), "0.1", "60000"), 3_000)
        .unwrap();
    e.on_venue_event(1, status(2, Some(ExecKind::Fill), "0.1", "60196"), 3_000)
        .unwrap();
    assert!(e.state().trades.is_empty(), "the trade closed");
    assert_eq!(figures(&e), figures(&traded()));
    let recs = e.take_records();
    let fills: Vec<(u64, Decimal, Decimal)> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Exec { report, .. } if report.last_qty > Decimal::ZERO => {
                Some((report.order_id, report.last_qty, report.last_price))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        fills,
        vec![
            (2, d("0.06"), d("60200")),
            (1, d("0.1"), d("60000")),
            (2, d("0.04"), d("60190"))
        ]
    );
    assert_eq!(
        e.state()
            .stats
            .reconciled
            .get(&journal::ReconcileOutcome::Recovered),
        Some(&2)
    );
    // a second answer for an order now ended agrees with the books
    e.on_venue_event(1, status(2, Some(ExecKind::Fill), "0.1", "60196"), 4_000)
        .unwrap();
    assert_eq!(
        e.state()
            .stats
            .reconciled
            .get(&journal::ReconcileOutcome::Agreed),
        Some(&1)
    );
}

#[test]
fn an_unknown_order_is_settled_as_not_sent_and_disagreements_book_nothing() {
    // the buy unknown to its venue: settled as never sent (a reject); the sell's venue reports
    // less filled than booked: a mismatch, the order ends with what was booked
    let mut e = opened_then_restarted();
    let before = figures(&e);
    e.on_venue_event(0, status(1, None, "0", "0"), 3_000)
        .unwrap();
    e.on_venue_event(
        1,
        status(2, Some(ExecKind::Expired), "0.05", "60200"),
        3_000,
    )
    .unwrap();
    let st = e.state();
    let n = |o| st.stats.reconciled.get(&o).copied().unwrap_or(0);
    assert_eq!(n(journal::ReconcileOutcome::NotSent), 1);
    assert_eq!(n(journal::ReconcileOutcome::Mismatch), 1);
    assert_eq!(st.stats.rejects, 1);
    assert_eq!(
        st.open_orders(),
        1,
        "only the unwind of the 0.06 sold is open"
    );
    assert_eq!(
        (figures(&e).0, figures(&e).2, figures(&e).3),
        (before.0, before.2, before.3)
    );
    // a working order of ours the journal does not have in flight: on record, nothing booked
    let mut unexpected = status(77, Some(ExecKind::New), "0", "0");
    if let VenueEvent::Status(s) = &mut unexpected {
        s.requested = false;
    }
    e.on_venue_event(2, unexpected, 3_500).unwrap();
    assert_eq!(
        e.state()
            .stats
            .reconciled
            .get(&journal::ReconcileOutcome::Unexpected),
        Some(&1)
    );
}

#[test]
fn a_resent_final_report_waits_for_the_status_answer_before_the_order_ends() {
    // the sell's first fill (0.06 at 60200) reached the process and never the journal; its
    // second, final one (0.04 at 60190) is resent after the restart, ahead of the status answer
    let mut e = opened();
    e.reconciling.entry(1).or_default().orders.insert(2);
    e.on_venue_event(0, fill(1, ExecKind::Fill, "0.1", "60000", "0.1"), 3_000)
        .unwrap();
    e.on_venue_event(1, fill(2, ExecKind::Fill, "0.04", "60190", "0.1"), 3_000)
        .unwrap();
    assert!(e.state().orders[&2].end.is_none(), "the end waits");
    assert_eq!(e.state().orders[&2].cum_qty, d("0.04"));
    assert!(e.awaiting_status(2));
    // 0.1 filled at 60196 on average: the missing 0.06 at (6019.6 - 2407.6) / 0.06 = 60200
    e.on_venue_event(1, status(2, Some(ExecKind::Fill), "0.1", "60196"), 3_000)
        .unwrap();
    assert!(!e.awaiting_status(2));
    assert!(e.state().trades.is_empty(), "the trade closed");
    assert_eq!(figures(&e), figures(&traded()));
}

/// Every crash point of the sell's reports, every way the venue can split it: the journal held
/// the first `a` reports, the process had handled `k >= a` of them (the rest of those are lost:
/// the session had stored their sequence numbers), a resend brings the reports after `k`, then
/// the status answer. The books end as an uninterrupted run's, exactly, the sell booked once,
/// and the journal replays to the same state and passes `journal verify`.
#[test]
fn any_crash_point_reconciles_to_the_uninterrupted_books() {
    // (fills of the sell at its limit, in order; whether they fill it whole)
    let splits: [(&[&str], bool); 5] = [
        (&["0.1"], true),
        (&["0.06", "0.04"], true),
        (&["0.05", "0.03", "0.02"], true),
        (&["0.07"], false),
        (&["0.02", "0.03"], false),
    ];
    let mut cases = 0;
    for (parts, whole) in splits {
        // the sell's reports as the venue sent them
        let mut reports = Vec::new();
        let mut cum = Decimal::ZERO;
        for (i, q) in parts.iter().enumerate() {
            cum += d(q);
            let last = i + 1 == parts.len();
            let kind = if last && whole {
                ExecKind::Fill
            } else {
                ExecKind::PartialFill
            };
            reports.push(fill(2, kind, q, "60190", &cum.to_string()));
        }
        if !whole {
            reports.push(fill(2, ExecKind::Expired, "0", "0", &cum.to_string()));
        }
        let end = if whole {
            ExecKind::Fill
        } else {
            ExecKind::Expired
        };
        let uninterrupted = {
            let mut e = opened();
            e.on_venue_event(0, fill(1, ExecKind::Fill, "0.1", "60000", "0.1"), 2_000)
                .unwrap();
            for r in &reports {
                e.on_venue_event(1, r.clone(), 3_000).unwrap();
            }
            e
        };
        let n = reports.len();
        for a in 0..n {
            for k in a..=n {
                cases += 1;
                let mut e = opened();
                e.on_venue_event(0, fill(1, ExecKind::Fill, "0.1", "60000", "0.1"), 2_000)
                    .unwrap();
                for r in &reports[..a] {
                    e.on_venue_event(1, r.clone(), 2_500).unwrap();
                }
                // the restart: the sell asked about, the resend, the answer
                e.reconciling.entry(1).or_default().orders.insert(2);
                for r in &reports[k..] {
                    e.on_venue_event(1, r.clone(), 3_000).unwrap();
                }
                let avg = if cum.is_zero() { "0" } else { "60190" };
                e.on_venue_event(1, status(2, Some(end), &cum.to_string(), avg), 3_000)
                    .unwrap();
                let why = format!("{parts:?} journal {a} handled {k}");
                assert!(!e.awaiting_status(2), "{why}");
                assert!(
                    e.state().trades.is_empty() == uninterrupted.state().trades.is_empty(),
                    "{why}"
                );
                assert_eq!(figures(&e), figures(&uninterrupted), "{why}");
                assert_eq!(e.state().volume, uninterrupted.state().volume, "{why}");
                e.snapshot(4_000).unwrap();
                let mut records = vec![Record::Header(e.setup().header())];
                records.extend(e.take_records());
                let path = Path::new("reconcile.journal");
                let contents = journal::parse(path, &journal::encode_all(&records)).unwrap();
                let (st, _) = replay::replay(e.setup(), &contents).unwrap();
                assert_eq!(st.ledger, e.state().ledger, "{why}");
                let v = verify::check(path, &contents).unwrap();
                assert!(v.mismatches.is_empty(), "{why}: {:#?}", v.mismatches);
            }
        }
    }
    assert_eq!(cases, 2 + 5 + 9 + 5 + 9);
}
