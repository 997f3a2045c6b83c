//! Trading scenarios on simulated venues: every leg outcome, every risk refusal, a venue failing
//! mid-run, and conservation of balances after every step (the harness checks it on each).

use proptest::prelude::*;
use rust_decimal::Decimal;
use tickcross_tests::trade::{config, d, inverse_venue, Harness, MS, T0};
use tickcross_trading::journal::Record;

/// a asks 60000, b bids 60200: 200 per BTC against 120.2 of fees (10 bps each side).
fn crossed(h: &mut Harness) {
    h.quote(0, "59990", "1", "60000", "0.5");
    h.quote(1, "60200", "0.5", "60210", "1");
    h.quote(2, "59000", "1", "61000", "1");
}

fn only_trade(h: &Harness) -> &tickcross_trading::pnl::ClosedTrade {
    let c = &h.state().pnl.closed;
    assert_eq!(c.len(), 1, "{c:#?}");
    &c[0]
}

#[test]
fn both_legs_fill() {
    let mut h = Harness::new(&config(&[], &[]));
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    let t = only_trade(&h);
    assert_eq!(t.legs_filled, 2);
    assert_eq!(t.realized.gross, d("20"));
    assert_eq!(t.realized.fees, d("12.02"));
    assert_eq!(t.realized.net, d("7.98"));
    assert_eq!(t.realized.residual, d("0"));
    assert_eq!(h.balance(0, "BTC"), d("1.1"));
    assert_eq!(h.balance(0, "USDT"), d("53994"));
    assert_eq!(h.balance(1, "BTC"), d("0.9"));
    assert_eq!(h.balance(1, "USDT"), d("66013.98"));
    assert_eq!(h.state().pnl.realized, d("7.98"));
    assert_eq!(h.state().stats.unwind_orders, 0);
    // reservations are all released
    for v in 0..3 {
        assert_eq!(h.state().ledger.reserved(v, "USDT"), Decimal::ZERO);
        assert_eq!(h.state().ledger.reserved(v, "BTC"), Decimal::ZERO);
    }
}

#[test]
fn partial_fill_is_unwound() {
    let mut h = Harness::new(&config(&[], &[]));
    crossed(&mut h);
    h.event(0, 1);
    // before the buy reaches a, a's ask shrinks to 0.04; b's ask comes within the unwind bound
    h.wait(0);
    h.now += MS / 2;
    h.quote(0, "59990", "1", "60000", "0.04");
    h.quote(1, "60200", "0.5", "60250", "1");
    h.settle();
    let t = only_trade(&h);
    assert_eq!(h.state().stats.partial_fills, 1);
    assert_eq!(t.legs_filled, 1);
    // short 0.06 after the legs, bought back on b at 60250
    assert_eq!(t.flows.unwind_buy.base, d("0.06"));
    assert_eq!(t.flows.unwind_buy.quote, d("3615"));
    assert_eq!(t.realized.residual, d("0"));
    // 0.06 x (60250 - 60200) + 3.615 fee
    assert_eq!(t.realized.unwind_cost, d("6.615"));
    assert!(!t.gave_up);
    assert_eq!(h.balance(0, "BTC") + h.balance(1, "BTC"), d("2"));
}

#[test]
fn rejected_leg_is_unwound() {
    let cfg = config(
        &[],
        &[("b", "sim = { latency_us = 1000, faults = [{ kind = \"reject\", start_ms = 0, duration_ms = 50 }] }")],
    );
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    let t = only_trade(&h);
    assert_eq!(h.state().stats.rejects, 1);
    // long 0.1 from a, sold back on a at its bid 59990 (the bound is 59910)
    assert_eq!(t.flows.unwind_sell.base, d("0.1"));
    assert_eq!(t.flows.unwind_sell.quote, d("5999"));
    assert_eq!(t.realized.unwind_cost, d("6.999"));
    assert_eq!(t.realized.net, d("-12.999"));
    assert_eq!(h.balance(0, "BTC"), d("1"));
}

#[test]
fn timed_out_leg_is_cancelled_and_unwound() {
    let cfg = config(
        &[],
        &[("b", "sim = { latency_us = 1000, faults = [{ kind = \"timeout\", start_ms = 0, duration_ms = 50 }] }")],
    );
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    let t = only_trade(&h);
    let s = &h.state().stats;
    assert_eq!((s.timeouts, s.canceled), (1, 1));
    assert!(h
        .records
        .iter()
        .any(|r| matches!(r, Record::CancelSent { why, .. } if why == "timeout")));
    assert_eq!(t.flows.unwind_sell.base, d("0.1"));
    assert_eq!(t.realized.residual, d("0"));
    // the cancel went out at the 100 ms deadline
    assert!(t.closed_ns >= T0 + 100 * MS);
}

#[test]
fn unfilled_leg_is_unwound() {
    let mut h = Harness::new(&config(&[], &[]));
    crossed(&mut h);
    h.event(0, 1);
    h.now += MS / 2;
    // b's bid drops below the sell limit before the order arrives
    h.quote(1, "60100", "0.5", "60210", "1");
    h.settle();
    let t = only_trade(&h);
    assert_eq!(h.state().stats.expired, 1);
    assert_eq!(t.flows.entry_sell.base, d("0"));
    assert_eq!(t.flows.unwind_sell.base, d("0.1"));
    assert_eq!(t.realized.residual, d("0"));
}

#[test]
fn unwind_gives_up_after_its_retries_and_reports_the_exposure() {
    let mut h = Harness::new(&config(&[], &[]));
    crossed(&mut h);
    h.event(0, 1);
    h.now += MS / 2;
    // the sell never fills, and a's bid is far below the unwind bound (59910)
    h.quote(1, "60100", "0.5", "60210", "1");
    h.quote(0, "59000", "1", "60000", "0.5");
    h.settle();
    let t = only_trade(&h);
    assert!(t.gave_up);
    assert_eq!(t.realized.residual, d("0.1"));
    // one unwind at once, then the two retries
    assert_eq!(h.state().stats.unwind_orders, 3);
    assert_eq!(h.state().stats.gave_up, 1);
    assert_eq!(h.state().position(h.engine.setup(), 0), d("0.1"));
}

#[test]
fn refusals_unprofitable_and_not_traded() {
    let mut h = Harness::new(&config(&[], &[]));
    h.quote(0, "59990", "1", "60000", "0.5");
    h.quote(1, "60050", "0.5", "60210", "1");
    h.event(0, 1);
    h.event(0, 3);
    h.engine.finish(h.now).unwrap();
    assert_eq!(h.refused("unprofitable"), 1);
    assert_eq!(h.refused("not_traded"), 1);
    assert_eq!(h.state().stats.orders_sent, 0);
}

#[test]
fn refusal_kill_switch_file() {
    let dir = std::env::temp_dir().join(format!("tickcross-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kill = dir.join("kill");
    let _ = std::fs::remove_file(&kill);
    let mut h = Harness::with_kill_file(&config(&[], &[]), Some(kill.clone()));
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 1);
    std::fs::write(&kill, b"").unwrap();
    h.wait(10);
    h.event(0, 1);
    assert_eq!(h.refused("kill_switch"), 1);
    assert!(h.state().killed);
    assert!(h.records.iter().any(|r| matches!(r, Record::Kill { .. })));
    // stays on once journaled, even when the file goes
    std::fs::remove_file(&kill).unwrap();
    h.event(0, 1);
    assert_eq!(h.refused("kill_switch"), 2);
    assert_eq!(h.state().stats.orders_sent, 2);
}

#[test]
fn refusal_stale_quote() {
    let mut h = Harness::new(&config(&[], &[]));
    crossed(&mut h);
    h.wait(1500);
    h.quote(0, "59990", "1", "60000", "0.5");
    // b's quote is 1.5 s old, the limit 1 s
    h.event(0, 1);
    assert_eq!(h.refused("stale_quote"), 1);
}

#[test]
fn refusal_venue_down_and_trading_goes_on_elsewhere() {
    let cfg = config(
        &[],
        &[("c", "sim = { latency_us = 1000, faults = [{ kind = \"disconnect\", start_ms = 1000, duration_ms = 1000 }] }")],
    );
    let mut h = Harness::new(&cfg);
    let cross_all = |h: &mut Harness| {
        h.quote(0, "59990", "1", "60000", "0.5");
        h.quote(1, "60200", "0.5", "60210", "1");
        h.quote(2, "60200", "0.5", "60210", "1");
    };
    cross_all(&mut h);
    h.event(0, 2);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 1);
    // c goes down at 1 s
    h.run_until(T0 + 1500 * MS);
    cross_all(&mut h);
    h.event(0, 2);
    assert_eq!(h.refused("venue_down"), 1);
    h.event(0, 1);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 2, "a/b trades while c is down");
    // c is back at 2 s
    h.run_until(T0 + 2500 * MS);
    cross_all(&mut h);
    h.event(0, 2);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 3, "c trades again once back");
    assert_eq!(h.state().stats.venue_outages, 1);
    let ups: Vec<bool> = h
        .records
        .iter()
        .filter_map(|r| match r {
            Record::VenueState { venue: 2, up, .. } => Some(*up),
            _ => None,
        })
        .collect();
    assert_eq!(ups, vec![false, true]);
}

#[test]
fn venue_disconnect_with_orders_in_flight_cancels_them() {
    let cfg = config(
        &[],
        &[("b", "sim = { latency_us = 1000, faults = [{ kind = \"disconnect\", start_ms = 0, duration_ms = 20 }] }")],
    );
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    // b went down at T0; the engine learns it at its first poll
    h.wait(0);
    h.event(0, 1);
    assert_eq!(h.refused("venue_down"), 1);
    h.run_until(T0 + 30 * MS);
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 1);
}

#[test]
fn refusal_venue_disabled_after_failures_then_cool_off() {
    let cfg = config(
        &[("venue_max_failures", "2")],
        &[("b", "sim = { latency_us = 1000, reject_ppm = 1000000 }")],
    );
    let mut h = Harness::new(&cfg);
    for _ in 0..2 {
        crossed(&mut h);
        h.event(0, 1);
        h.settle();
        h.wait(1);
    }
    assert_eq!(h.state().stats.rejects, 2);
    assert_eq!(h.state().stats.venue_disables, 1);
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("venue_disabled"), 1);
    // cool-off is 1 s
    h.wait(1100);
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 2 * 3 + 2);
}

#[test]
fn refusal_insufficient_inventory_and_below_min_size() {
    let cfg = config(&[], &[("a", "balances = { BTC = \"1\", USDT = \"10\" }")]);
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("insufficient_inventory"), 1);
    // displayed size below a lot
    h.quote(1, "60200", "0.5", "60210", "1");
    h.quote(2, "59990", "1", "60000", "0.0005");
    h.event(2, 1);
    assert_eq!(h.refused("below_min_size"), 1);
}

#[test]
fn refusal_below_min_profit_after_sizing() {
    // 0.1 BTC would net 7.98; 1210 USDT on a buys 0.02, netting 1.596
    let cfg = config(
        &[("min_profit", "\"5\"")],
        &[("a", "balances = { BTC = \"1\", USDT = \"1210\" }")],
    );
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("below_min_profit"), 1);
    let c = &h.state().candidates[0];
    assert_eq!((c.base_qty, c.net), (d("0.02"), d("1.596")));
}

#[test]
fn refusal_min_profit_bps_is_not_a_candidate() {
    // 7.98 on 6000 is 13.3 bps
    let mut h = Harness::new(&config(&[("min_profit_bps", "\"14\"")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    h.engine.finish(h.now).unwrap();
    assert_eq!(h.refused("unprofitable"), 1);
    let mut h = Harness::new(&config(&[("min_profit_bps", "\"13\"")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 2);
}

#[test]
fn refusal_max_notional_and_max_position() {
    let mut h = Harness::new(&config(&[("max_notional", "\"5999\"")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("max_notional"), 1);
    let mut h = Harness::new(&config(&[("max_position", "\"0.05\"")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("max_position"), 1);
}

#[test]
fn refusal_max_open_legs() {
    let mut h = Harness::new(&config(&[("max_open_legs", "2")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    h.event(0, 1);
    assert_eq!(h.refused("max_open_legs"), 1);
    h.settle();
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 4);
}

#[test]
fn refusal_daily_loss() {
    // a rejected leg and its unwind lose 12.999; the limit is 10
    let cfg = config(
        &[("daily_loss_limit", "\"10\"")],
        &[("b", "sim = { latency_us = 1000, faults = [{ kind = \"reject\", start_ms = 0, duration_ms = 50 }] }")],
    );
    let mut h = Harness::new(&cfg);
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    assert_eq!(h.state().pnl.realized, d("-12.999"));
    h.wait(100);
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.refused("daily_loss"), 1);
}

#[test]
fn refusal_rate_limit() {
    let cfg = config(
        &[],
        &[("a", "rate_limit = { orders = 2, window_ms = 1000 }")],
    );
    let mut h = Harness::new(&cfg);
    for _ in 0..3 {
        crossed(&mut h);
        h.event(0, 1);
        h.settle();
        h.wait(10);
    }
    assert_eq!(h.refused("rate_limit"), 1);
    assert_eq!(h.state().pnl.closed.len(), 2);
    // the window slides
    h.wait(1000);
    crossed(&mut h);
    h.event(0, 1);
    h.settle();
    assert_eq!(h.state().pnl.closed.len(), 3);
}

#[test]
fn displayed_quantity_is_consumed_until_the_quote_changes() {
    let mut h = Harness::new(&config(&[("max_trade_qty", "\"0.3\"")], &[]));
    crossed(&mut h);
    // two trades on the same quotes: b shows 0.5 on the bid, a 0.5 on the ask
    h.event(0, 1);
    h.event(0, 1);
    h.settle();
    let s = &h.state().stats;
    // the second buy and sell find 0.2 left: partial fills, then unwound
    assert_eq!(s.partial_fills, 2);
    let bought: Decimal = h
        .state()
        .pnl
        .closed
        .iter()
        .map(|t| t.flows.entry_buy.base)
        .sum();
    assert_eq!(bought, d("0.5"));
}

#[test]
fn rebalancing_moves_funds_when_a_venue_runs_low() {
    let mut cfg = config(&[("max_trade_qty", "\"0.6\"")], &[]);
    cfg.push_str(
        "\n[rebalance]\nthreshold = \"0.5\"\napply = true\n\
         assets = { BTC = { network_fee = \"0.0001\", transfer_s = 60 } }\n",
    );
    let mut h = Harness::new(&cfg);
    // b sells 0.6 of its 1 BTC: below half its target
    h.quote(0, "59990", "1", "60000", "1");
    h.quote(1, "60200", "1", "60210", "1");
    h.quote(2, "59000", "1", "61000", "1");
    h.event(0, 1);
    h.settle();
    let st = h.state();
    assert_eq!(st.stats.transfers, 1);
    let t = st.ledger.in_transit().next().unwrap().clone();
    // to b, from a (which bought 0.6 and has the largest surplus, 0.6 less the network fee)
    assert_eq!((t.from, t.to, t.amount), (0, 1, d("0.5999")));
    h.run_until(T0 + 61_000 * MS);
    assert_eq!(h.balance(1, "BTC"), d("0.9999"));
    assert_eq!(h.balance(0, "BTC"), d("1"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TICKCROSS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
    ))]

    /// Random books, events, faults and latencies: after every step the harness re-derives every
    /// balance from the records (initial + fills - fees + transfers) and compares; at the end
    /// everything is settled and nothing is reserved.
    #[test]
    fn balances_are_conserved(seed in any::<u64>(), steps in 20usize..120) {
        let mut rng = tickcross_tests::gen::Rng::new(seed);
        let mut cfg = config(
            &[("max_trade_qty", "\"0.4\""), ("max_open_legs", "6"), ("venue_max_failures", "4")],
            &[
                ("a", "sim = { latency_us = [200, 3000], reject_ppm = 100000, timeout_ppm = 30000 }"),
                ("b", "sim = { latency_us = [200, 3000], reject_ppm = 50000, faults = [{ kind = \"disconnect\", start_ms = 300, duration_ms = 200 }] }"),
                ("c", "sim = { latency_us = { choices = [500, 900, 4000] }, timeout_ppm = 50000 }"),
            ],
        );
        cfg.push_str(
            "\n[rebalance]\nthreshold = \"0.7\"\napply = true\n\
             assets = { BTC = { network_fee = \"0.0001\", transfer_s = 1 }, USDT = { network_fee = \"1\", transfer_s = 1 } }\n",
        );
        let mut h = Harness::new(&cfg);
        for _ in 0..steps {
            let v = rng.below(3) as usize;
            let mid = 60000 + rng.below(1200) as i64 - 600;
            let half = 1 + rng.below(60) as i64;
            let q = |r: &mut tickcross_tests::gen::Rng| format!("0.{:03}", 1 + r.below(600));
            let (bq, aq) = (q(&mut rng), q(&mut rng));
            h.quote(v, &(mid - half).to_string(), &bq, &(mid + half).to_string(), &aq);
            match rng.below(4) {
                0 | 1 => {
                    let b = rng.below(3) as usize;
                    let s = (b + 1 + rng.below(2) as usize) % 3;
                    h.event(b, s);
                }
                _ => {}
            }
            h.wait(rng.below(40));
        }
        h.settle();
        let st = h.state();
        prop_assert_eq!(st.open_orders(), 0);
        for v in 0..3 {
            for a in ["BTC", "USDT"] {
                prop_assert_eq!(st.ledger.reserved(v, a), Decimal::ZERO);
            }
        }
        // P&L adds up trade by trade
        let sum: Decimal = st.pnl.closed.iter().map(|t| t.realized.net).sum();
        prop_assert_eq!(sum, st.pnl.realized);
    }
}

/// Checks the orders in `h`'s records against what they did: every order's venue quantity is
/// its base size at its limit price (the one conversion); no order filled more base than its
/// size; every unwind traded toward zero and at most the residual it was sent for. Also runs
/// the journal's verification over the records, framed as a journal file.
fn orders_within_their_sizes(h: &Harness) -> Result<(), String> {
    use std::collections::BTreeMap;
    use tickcross_trading::journal::{self, Purpose};
    use tickcross_trading::money;
    use tickcross_trading::venue::Side;
    let setup = h.engine.setup();
    let market = |v: usize, i: usize| setup.trade.venues[v].markets[i].as_ref().unwrap();
    // per order: (record, residual of its trade when sent, base filled)
    let mut orders: BTreeMap<u64, (journal::OrderRecord, Decimal, Decimal)> = BTreeMap::new();
    let mut net: BTreeMap<u64, Decimal> = BTreeMap::new();
    for r in &h.records {
        let sent: Vec<&journal::OrderRecord> = match r {
            Record::TradeOpen(t) => vec![&t.buy, &t.sell],
            Record::Order(o) => vec![o],
            _ => vec![],
        };
        for o in sent {
            let m = market(o.venue, o.instrument);
            let lots = o.qty / m.lot_size;
            if money::base_of(m, o.qty, o.price) != o.base_qty || lots != lots.trunc() {
                return Err(format!(
                    "order {}: {} units at {} are not {} base",
                    o.id, o.qty, o.price, o.base_qty
                ));
            }
            let residual = net.get(&o.trade_id).copied().unwrap_or_default();
            orders.insert(o.id, (o.clone(), residual, Decimal::ZERO));
        }
        if let Record::Exec { report, .. } = r {
            if report.last_qty > Decimal::ZERO {
                let (o, _, filled) = orders.get_mut(&report.order_id).unwrap();
                let base = money::base_of(
                    market(o.venue, o.instrument),
                    report.last_qty,
                    report.last_price,
                );
                *filled += base;
                *net.entry(o.trade_id).or_default() += match o.side {
                    Side::Buy => base,
                    Side::Sell => -base,
                };
            }
        }
    }
    for (id, (o, residual, filled)) in &orders {
        if *filled > o.base_qty {
            return Err(format!(
                "order {id} filled {filled} base, more than its size {}",
                o.base_qty
            ));
        }
        if o.purpose == Purpose::Unwind {
            let toward_zero = match o.side {
                Side::Sell => *residual > Decimal::ZERO,
                Side::Buy => *residual < Decimal::ZERO,
            };
            if !toward_zero || *filled > residual.abs() {
                return Err(format!(
                    "unwind {id} ({}) filled {filled} base for a residual of {residual}",
                    o.side.as_str()
                ));
            }
        }
    }
    let mut all = vec![Record::Header(setup.header())];
    all.extend(h.records.iter().cloned());
    let bytes = journal::encode_all(&all);
    let path = std::path::Path::new("harness-journal");
    let contents = journal::parse(path, &bytes).map_err(|e| e.to_string())?;
    let v = tickcross_trading::verify::check(path, &contents).map_err(|e| e.to_string())?;
    if !v.mismatches.is_empty() {
        return Err(format!("journal verification: {:#?}", v.mismatches));
    }
    Ok(())
}

/// Issue 9, class 9: a short residual of a COIN-M leg bought back on that venue. The unwind's
/// limit is 15 bps above the entry, but the venue's ask is far below it: the contracts sized at
/// the limit price were worth five times the residual at the fill price, and the unwind left a
/// long position above `max_position`. An order's size is a base amount; it fills at most that.
#[test]
fn inverse_unwind_never_buys_more_base_than_the_residual() {
    let cfg = inverse_venue(
        &config(&[("max_position", "\"0.12\"")], &[]),
        "b",
        "100",
        "base",
    );
    let mut h = Harness::new(&cfg);
    h.quote(0, "49990", "1", "50000", "1");
    // b: 50 contracts bid at 50100; its ask (what an unwind buys at) far below
    h.quote(1, "50100", "50", "10000", "1000");
    h.quote(2, "40000", "1", "70000", "1");
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 2, "the trade opens");
    // a's ask moves away before the buy leg arrives: only the COIN-M sell fills
    h.quote(0, "49990", "1", "50200", "1");
    h.settle();
    assert!(h.state().stats.unwind_orders >= 1, "{:?}", h.state().stats);
    orders_within_their_sizes(&h).unwrap();
    assert!(
        h.max_abs_position <= d("0.12"),
        "position reached {} (max_position 0.12)",
        h.max_abs_position
    );
}

/// An entry buy on an inverse market filled below its limit takes at most its base size.
#[test]
fn inverse_entry_filled_below_its_limit_takes_at_most_its_size() {
    let cfg = inverse_venue(&config(&[], &[]), "a", "100", "quote");
    let mut h = Harness::new(&cfg);
    h.quote(0, "49990", "1000", "50000", "1000");
    h.quote(1, "50200", "0.1", "50210", "1");
    h.quote(2, "40000", "1", "70000", "1");
    h.event(0, 1);
    // a's ask drops to half before the buy leg arrives
    h.quote(0, "24990", "1000", "25000", "1000");
    h.settle();
    orders_within_their_sizes(&h).unwrap();
    let t = only_trade(&h);
    assert!(
        t.flows.entry_buy.base <= t.flows.entry_sell.base,
        "{:#?}",
        t.flows
    );
}

/// `max_position` holds whatever mix of legs fills: trades still open count at their worst
/// case (a leg filling alone), so a second trade that could take the position past the limit
/// with the first is refused.
#[test]
fn max_position_counts_the_worst_case_of_open_trades() {
    let mut h = Harness::new(&config(&[("max_position", "\"0.15\"")], &[]));
    crossed(&mut h);
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 2);
    // 0.1 each way is open: another 0.1 could make 0.2
    h.event(0, 1);
    assert_eq!(h.refused("max_position"), 1);
    h.settle();
    // once the first is closed (both legs filled, flat), the next one fits again
    h.event(0, 1);
    assert_eq!(h.state().stats.orders_sent, 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TICKCROSS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
    ))]

    /// Issue 9, class 9: random books at wild prices (as random frames give) on a linear venue
    /// and two inverse ones (100 and 10 USDT a contract, fees in base and in quote), random
    /// events, rejects, timeouts and latencies. After every step |position| stays within
    /// `max_position`; at the end every order's venue units are its base size at its limit
    /// price, no order filled more base than its size, every unwind traded toward zero and at
    /// most its residual, and the records pass the journal's verification.
    #[test]
    fn position_limits_hold_through_unwinds_on_inverse_venues(seed in any::<u64>(), steps in 20usize..120) {
        let mut rng = tickcross_tests::gen::Rng::new(seed);
        let cfg = config(
            &[("max_trade_qty", "\"0.1\""), ("max_position", "\"0.15\""), ("unwind_retries", "3")],
            &[
                ("a", "sim = { latency_us = [200, 3000], reject_ppm = 100000, timeout_ppm = 30000 }"),
                ("b", "sim = { latency_us = [200, 3000], reject_ppm = 50000 }"),
                ("c", "sim = { latency_us = { choices = [500, 900, 4000] }, timeout_ppm = 50000 }"),
            ],
        );
        let cfg = inverse_venue(&inverse_venue(&cfg, "b", "100", "base"), "c", "10", "quote");
        let mut h = Harness::new(&cfg);
        for _ in 0..steps {
            let v = rng.below(3) as usize;
            let mid = if rng.below(2) == 0 {
                60000 + rng.below(1200) as i64 - 600
            } else {
                1000 + rng.below(200_000) as i64
            };
            let half = 1 + rng.below(60) as i64;
            // BTC on the linear venue, contracts on the inverse ones
            let q = |r: &mut tickcross_tests::gen::Rng| {
                if v == 0 {
                    format!("0.{:03}", 1 + r.below(600))
                } else {
                    (1 + r.below(3000)).to_string()
                }
            };
            let (bq, aq) = (q(&mut rng), q(&mut rng));
            h.quote(v, &(mid - half).to_string(), &bq, &(mid + half).to_string(), &aq);
            if rng.below(2) == 0 {
                let b = rng.below(3) as usize;
                let s = (b + 1 + rng.below(2) as usize) % 3;
                h.event(b, s);
            }
            h.wait(rng.below(40));
        }
        h.settle();
        prop_assert!(
            h.max_abs_position <= d("0.15"),
            "position reached {} (max_position 0.15)",
            h.max_abs_position
        );
        orders_within_their_sizes(&h).map_err(TestCaseError::fail)?;
    }
}
