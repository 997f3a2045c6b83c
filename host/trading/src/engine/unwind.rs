//! After a trade's last order ends: closing it, or unwinding the residual base (retried, then
//! given up as open exposure; dust is closed and stays in inventory).

use rust_decimal::Decimal;

use super::setup::{request_of, EngineError};
use super::state::TradeState;
use super::Engine;
use crate::config::FeeAsset;
use crate::journal::{OrderRecord, Purpose, Record};
use crate::money::{base_of, quote_of, round_amount, to_tick, units_for_base};
use crate::venue::Side;

impl Engine {
    /// A trade's order ended: unwind what is left, or close the trade.
    pub(super) fn after_final(&mut self, trade_id: u64, now: u64) -> Result<(), EngineError> {
        let Some(t) = self.st.trades.get(&trade_id) else {
            return Ok(());
        };
        if t.orders
            .iter()
            .any(|id| self.st.orders.get(id).is_some_and(|o| o.end.is_none()))
        {
            return Ok(());
        }
        let r = t.flows.realize().residual;
        if r.is_zero() || self.is_dust(t, r) {
            return self.close_trade(trade_id, false, now);
        }
        let attempts = t.unwind_orders + t.missed_tries;
        if attempts == 0 {
            return self.try_unwind(trade_id, now);
        }
        let p = &self.setup.trade.params;
        if attempts <= p.unwind_retries {
            let until = now + p.unwind_retry_ns;
            return self.commit(Record::UnwindWait {
                ts_ns: now,
                trade_id,
                until_ns: until,
                missed: false,
            });
        }
        self.give_up(trade_id, r, now)
    }

    fn give_up(&mut self, trade_id: u64, residual: Decimal, now: u64) -> Result<(), EngineError> {
        tracing::error!(trade = trade_id, %residual, "unwind gave up: residual exposure stays in inventory");
        self.close_trade(trade_id, true, now)
    }

    /// Closes a trade, then snapshots the books and lets the rebalancer look at them.
    pub(super) fn close_trade(
        &mut self,
        trade_id: u64,
        gave_up: bool,
        now: u64,
    ) -> Result<(), EngineError> {
        self.commit(Record::TradeClosed {
            ts_ns: now,
            trade_id,
            gave_up,
        })?;
        self.rebalance(now)?;
        self.snapshot(now)
    }

    /// Residual below the smallest order on both venues of the trade.
    fn is_dust(&self, t: &TradeState, residual: Decimal) -> bool {
        let inst = t.open.instrument;
        [t.open.buy_venue, t.open.sell_venue].iter().all(|&v| {
            self.setup.market(v, inst).is_none_or(|m| {
                let px = if v == t.open.buy_venue {
                    t.open.buy.detected_price
                } else {
                    t.open.sell.detected_price
                };
                units_for_base(m, residual.abs(), px) < m.min_qty
            })
        })
    }

    pub(super) fn try_unwind(&mut self, trade_id: u64, now: u64) -> Result<(), EngineError> {
        let Some(t) = self.st.trades.get(&trade_id).cloned() else {
            return Ok(());
        };
        let r = t.flows.realize().residual;
        let inst = t.open.instrument;
        let long = r > Decimal::ZERO;
        let side = if long { Side::Sell } else { Side::Buy };
        // the exposure's entry price: what we paid (long) or got (short)
        let entry = if long {
            t.flows.entry_buy.avg()
        } else {
            t.flows.entry_sell.avg()
        }
        .unwrap_or(if long {
            t.open.buy.detected_price
        } else {
            t.open.sell.detected_price
        });
        let slip = self.setup.trade.params.unwind_slippage_bps * crate::money::ONE_BP;
        let bound = if long {
            entry * (Decimal::ONE - slip)
        } else {
            entry * (Decimal::ONE + slip)
        };
        let order_venues = if long {
            [t.open.buy_venue, t.open.sell_venue]
        } else {
            [t.open.sell_venue, t.open.buy_venue]
        };
        let assets = self.setup.trade.instruments[inst].clone();
        let mut chosen = None;
        for v in order_venues {
            let Some(m) = self.setup.market(v, inst) else {
                continue;
            };
            if self.venue_unavailable(v, now).is_some() {
                continue;
            }
            let lim = self.setup.trade.venues[v].rate_limit;
            if !self.st.risk[v].clone().rate_ok(now, &lim) {
                continue;
            }
            let price = to_tick(bound, m.tick_size, side);
            if price <= Decimal::ZERO {
                continue;
            }
            let fees = &self.setup.trade.venues[v].fees;
            let rate = self.taker_bps(v) * crate::money::ONE_BP;
            let mut units = units_for_base(m, r.abs(), price);
            let (asset, reserve) = match side {
                Side::Sell => {
                    let need = Decimal::ONE
                        + if fees.asset == FeeAsset::Base {
                            rate
                        } else {
                            Decimal::ZERO
                        };
                    let avail = self.st.ledger.available(v, &assets.base).max(Decimal::ZERO) / need;
                    units = units.min(units_for_base(m, avail, price));
                    let b = base_of(m, units, price);
                    (assets.base.clone(), round_amount(b * need))
                }
                Side::Buy => {
                    let per = Decimal::ONE
                        + if fees.asset == FeeAsset::Quote {
                            rate
                        } else {
                            Decimal::ZERO
                        };
                    let avail = self
                        .st
                        .ledger
                        .available(v, &assets.quote)
                        .max(Decimal::ZERO);
                    // quote needed for the units at the limit price
                    while units > Decimal::ZERO && quote_of(m, units, price) * per > avail {
                        units -= m.lot_size;
                    }
                    (
                        assets.quote.clone(),
                        round_amount(quote_of(m, units, price) * per),
                    )
                }
            };
            if units < m.min_qty || units <= Decimal::ZERO {
                continue;
            }
            chosen = Some((
                v,
                m.symbol.clone(),
                price,
                (units, base_of(m, units, price)),
                asset,
                reserve,
            ));
            break;
        }
        let attempts = t.unwind_orders + t.missed_tries;
        let Some((v, symbol, price, (qty, base_qty), asset, reserve)) = chosen else {
            if attempts < self.setup.trade.params.unwind_retries {
                return self.commit(Record::UnwindWait {
                    ts_ns: now,
                    trade_id,
                    until_ns: now + self.setup.trade.params.unwind_retry_ns,
                    missed: true,
                });
            }
            return self.give_up(trade_id, r, now);
        };
        let rec = OrderRecord {
            id: self.st.next_order_id,
            trade_id,
            purpose: Purpose::Unwind,
            attempt: attempts + 1,
            venue: v,
            instrument: inst,
            symbol,
            side,
            price,
            base_qty,
            qty,
            detected_price: entry,
            reserve_asset: asset,
            reserve,
            sent_ns: now,
        };
        let req = request_of(&rec);
        tracing::info!(trade = trade_id, venue = %self.setup.venue_names[v], side = side.as_str(), %qty, %price, "unwinding residual {r}");
        self.commit(Record::Order(rec))?;
        self.send(&req, now)
    }
}
