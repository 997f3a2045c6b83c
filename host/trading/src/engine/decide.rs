//! Deciding on a detection: the checks in the order the module documentation gives, sizing by
//! inventory into two legs, and the trade's opening record.

use rust_decimal::Decimal;

use super::setup::{request_of, EngineError};
use super::{Engine, PROGRESS_EVERY};
use crate::config::{FeeAsset, Market};
use crate::journal::{OrderRecord, Purpose, Record, Refused, TradeOpen};
use crate::money::{base_of, bps, price9_to_decimal, quote_of, round_amount, units_for_base};
use crate::risk::{utc_day, Refusal};
use crate::venue::Side;
use tickcross_core::event::Event;

/// The sized trade a candidate turned into, before the final checks.
struct Sized {
    buy_units: Decimal,
    sell_units: Decimal,
    buy_quote: Decimal,
    buy_base: Decimal,
    sell_base: Decimal,
    base: Decimal,
    gross: Decimal,
    fees: Decimal,
    net: Decimal,
    buy_reserve: (String, Decimal),
    sell_reserve: (String, Decimal),
}

impl Engine {
    /// Handles one detection at `now` (its timestamp, in replay).
    pub fn on_event(&mut self, ev: &Event, now: u64) -> Result<(), EngineError> {
        if self.st.last_event_seq.is_some_and(|s| ev.seq <= s) {
            return Ok(()); // handled before a restart
        }
        let inst = usize::from(ev.instrument);
        let (bv, sv) = (usize::from(ev.buy_venue), usize::from(ev.sell_venue));
        let non_candidate = |e: &mut Engine, r: Refusal| -> Result<(), EngineError> {
            e.pending.events += 1;
            e.pending.last_seq = Some(ev.seq);
            *e.pending.refused.entry(r.as_str().to_string()).or_default() += 1;
            if e.pending.events >= PROGRESS_EVERY {
                e.flush_progress(now)?;
            }
            Ok(())
        };
        let setup = self.setup.clone();
        let (Some(bm), Some(sm)) = (setup.market(bv, inst), setup.market(sv, inst)) else {
            return non_candidate(self, Refusal::NotTraded);
        };
        let pb = price9_to_decimal(ev.buy_price);
        let ps = price9_to_decimal(ev.sell_price);
        let (fb, fs) = (self.taker_bps(bv), self.taker_bps(sv));
        let p = &self.setup.trade.params;
        // the opportunity at the displayed size
        let shown = base_of(bm, price9_to_decimal(ev.buy_qty), pb).min(base_of(
            sm,
            price9_to_decimal(ev.sell_qty),
            ps,
        ));
        let q0 = p.max_trade_qty.map_or(shown, |m| shown.min(m));
        let economics = |q: Decimal| {
            let gross = q * (ps - pb);
            let fees = bps(q * pb, fb) + bps(q * ps, fs);
            (
                round_amount(gross),
                round_amount(fees),
                round_amount(gross - fees),
            )
        };
        let (g0, f0, n0) = economics(q0);
        let profitable = |net: Decimal, q: Decimal, p: &crate::config::TradingParams| {
            net > Decimal::ZERO
                && net >= p.min_profit
                && q * pb > Decimal::ZERO
                && net * Decimal::from(10_000) >= p.min_profit_bps * q * pb
        };
        if !profitable(n0, q0, p) {
            return non_candidate(self, Refusal::Unprofitable);
        }

        // a candidate
        self.flush_progress(now)?;
        if !self.st.killed && self.kill_requested() {
            self.kill("kill switch (signal or file)", now)?;
        }
        let refuse = |e: &mut Engine, r: Refusal, q: Decimal, g, f, n| {
            let rec = Record::Refused(Refused {
                ts_ns: now,
                event_seq: ev.seq,
                instrument: inst,
                buy_venue: bv,
                sell_venue: sv,
                buy_price: pb,
                sell_price: ps,
                base_qty: q,
                gross: g,
                fees: f,
                net: n,
                reason: r.as_str().to_string(),
            });
            e.commit(rec)
        };
        if self.st.killed {
            return refuse(self, Refusal::KillSwitch, q0, g0, f0, n0);
        }
        let age = self.setup.trade.risk.max_quote_age_ns;
        if now.saturating_sub(ev.buy_ts_ns) > age || now.saturating_sub(ev.sell_ts_ns) > age {
            return refuse(self, Refusal::StaleQuote, q0, g0, f0, n0);
        }
        for v in [bv, sv] {
            if let Some(r) = self.venue_unavailable(v, now) {
                return refuse(self, r, q0, g0, f0, n0);
            }
        }
        let sized = match self.size(inst, bv, sv, bm, sm, pb, ps, q0, fb, fs) {
            Ok(s) => s,
            Err(r) => return refuse(self, r, q0, g0, f0, n0),
        };
        let p = &self.setup.trade.params;
        if !profitable(sized.net, sized.base, p) {
            return refuse(
                self,
                Refusal::BelowMinProfit,
                sized.base,
                sized.gross,
                sized.fees,
                sized.net,
            );
        }
        let risk = &self.setup.trade.risk;
        let buy_notional = sized.buy_quote;
        // the worst cases: every open trade's and this one's legs filling one-sided
        let (lo, hi) = self.st.position_range(&self.setup, inst);
        let (buy_base, sell_need) = (sized.buy_base, sized.sell_reserve.1.max(sized.sell_base));
        let day = utc_day(now);
        let check = if buy_notional > risk.max_notional {
            Some(Refusal::MaxNotional)
        } else if hi + buy_base > risk.max_position || lo - sell_need < -risk.max_position {
            Some(Refusal::MaxPosition)
        } else if self.st.open_orders() + 2 > risk.max_open_legs as usize {
            Some(Refusal::MaxOpenLegs)
        } else if self.st.pnl.day_net(day) <= -risk.daily_loss_limit {
            Some(Refusal::DailyLoss)
        } else {
            let (lb, ls) = (
                self.setup.trade.venues[bv].rate_limit,
                self.setup.trade.venues[sv].rate_limit,
            );
            let ok_b = self.st.risk[bv].rate_ok(now, &lb);
            let ok_s = self.st.risk[sv].rate_ok(now, &ls);
            // two legs on one venue need room for two
            let ok_pair = bv != sv || {
                let mut r = self.st.risk[bv].clone();
                r.record_sent(now);
                r.rate_ok(now, &lb)
            };
            (!(ok_b && ok_s && ok_pair)).then_some(Refusal::RateLimit)
        };
        if let Some(r) = check {
            return refuse(self, r, sized.base, sized.gross, sized.fees, sized.net);
        }

        let trade_id = self.st.next_trade_id;
        let buy_id = self.st.next_order_id;
        let leg = |id,
                   venue,
                   side,
                   price,
                   (qty, base_qty),
                   market: &Market,
                   reserve: (String, Decimal)| {
            OrderRecord {
                id,
                trade_id,
                purpose: Purpose::Entry,
                attempt: 0,
                venue,
                instrument: inst,
                symbol: market.symbol.clone(),
                side,
                price,
                base_qty,
                qty,
                detected_price: price,
                reserve_asset: reserve.0,
                reserve: reserve.1,
                sent_ns: now,
            }
        };
        let open = TradeOpen {
            trade_id,
            event_seq: ev.seq,
            ts_ns: now,
            instrument: inst,
            buy_venue: bv,
            sell_venue: sv,
            base_qty: sized.base,
            gross: sized.gross,
            fees: sized.fees,
            net: sized.net,
            buy: leg(
                buy_id,
                bv,
                Side::Buy,
                pb,
                (sized.buy_units, sized.buy_base),
                bm,
                sized.buy_reserve,
            ),
            sell: leg(
                buy_id + 1,
                sv,
                Side::Sell,
                ps,
                (sized.sell_units, sized.sell_base),
                sm,
                sized.sell_reserve,
            ),
        };
        let (b, s) = (request_of(&open.buy), request_of(&open.sell));
        self.commit(Record::TradeOpen(open))?;
        self.send(&b, now)?;
        self.send(&s, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn size(
        &self,
        inst: usize,
        bv: usize,
        sv: usize,
        bm: &Market,
        sm: &Market,
        pb: Decimal,
        ps: Decimal,
        q0: Decimal,
        fb: Decimal,
        fs: Decimal,
    ) -> Result<Sized, Refusal> {
        let assets = &self.setup.trade.instruments[inst];
        let one = Decimal::ONE;
        let bfee = &self.setup.trade.venues[bv].fees.asset;
        let sfee = &self.setup.trade.venues[sv].fees.asset;
        let rate = |r: Decimal| r * crate::money::ONE_BP;
        // quote needed per base bought, base needed per base sold
        let buy_cost = pb
            * (one
                + if *bfee == FeeAsset::Quote {
                    rate(fb)
                } else {
                    Decimal::ZERO
                });
        let sell_need = one
            + if *sfee == FeeAsset::Base {
                rate(fs)
            } else {
                Decimal::ZERO
            };
        let mut q = q0;
        q = q.min(
            self.st
                .ledger
                .available(bv, &assets.quote)
                .max(Decimal::ZERO)
                / buy_cost,
        );
        q = q.min(
            self.st
                .ledger
                .available(sv, &assets.base)
                .max(Decimal::ZERO)
                / sell_need,
        );
        for (v, fee, price, r) in [(bv, bfee, pb, fb), (sv, sfee, ps, fs)] {
            if let FeeAsset::Other { asset, price: ap } = fee {
                let per_base = price * rate(r) / *ap;
                if per_base > Decimal::ZERO {
                    q = q.min(self.st.ledger.available(v, asset).max(Decimal::ZERO) / per_base);
                }
            }
        }
        let inventory_bound = q < q0;
        // whole lots on both venues, then both legs on the smaller base amount (only the leg
        // with the larger one is sized again)
        let mut buy_units = units_for_base(bm, q, pb);
        let mut sell_units = units_for_base(sm, q, ps);
        let mut buy_base = base_of(bm, buy_units, pb);
        let mut sell_base = base_of(sm, sell_units, ps);
        if buy_base > sell_base {
            buy_units = units_for_base(bm, sell_base, pb);
            buy_base = base_of(bm, buy_units, pb);
        } else if sell_base > buy_base {
            sell_units = units_for_base(sm, buy_base, ps);
            sell_base = base_of(sm, sell_units, ps);
        }
        if buy_units < bm.min_qty
            || sell_units < sm.min_qty
            || buy_units.is_zero()
            || sell_units.is_zero()
        {
            return Err(if inventory_bound {
                Refusal::InsufficientInventory
            } else {
                Refusal::BelowMinSize
            });
        }
        let buy_quote = quote_of(bm, buy_units, pb);
        let sell_quote = quote_of(sm, sell_units, ps);
        let fees = round_amount(bps(buy_quote, fb)) + round_amount(bps(sell_quote, fs));
        let gross = round_amount(sell_base.min(buy_base) * (ps - pb));
        let buy_reserve = match bfee {
            FeeAsset::Quote => round_amount(buy_quote * (one + rate(fb))),
            _ => buy_quote,
        };
        let sell_reserve = match sfee {
            FeeAsset::Base => round_amount(sell_base * (one + rate(fs))),
            _ => sell_base,
        };
        Ok(Sized {
            buy_units,
            sell_units,
            buy_quote,
            buy_base,
            sell_base,
            base: buy_base.min(sell_base),
            gross,
            fees,
            net: gross - fees,
            buy_reserve: (assets.quote.clone(), buy_reserve),
            sell_reserve: (assets.base.clone(), sell_reserve),
        })
    }
}
