//! Exact money arithmetic: venue units to base and quote amounts, fees, rounding. The engine and
//! `journal verify` both use these definitions, so a fill means the same amounts to both.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::config::{Contract, FeeAsset, FeeSchedule, InstrumentAssets, Market};
use super::venue::Side;
use tickcross_core::price9::Price9;

/// Decimal places of every asset amount the engine books (Binance's 8).
pub const ASSET_DP: u32 = 8;

/// Rounds an asset amount to [`ASSET_DP`] places, half to even. (Trailing zeros are kept: values
/// compare equal whatever their scale; reports normalize what they print.)
pub fn round_amount(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(ASSET_DP, RoundingStrategy::MidpointNearestEven)
}

/// 1 bp as a factor, exactly: multiplying by it is cheaper than dividing by 10000.
pub const ONE_BP: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

pub fn price9_to_decimal(p: Price9) -> Decimal {
    Decimal::new(p, 9).normalize()
}

pub fn bps(x: Decimal, bps: Decimal) -> Decimal {
    x * bps * ONE_BP
}

/// Whole lots of `raw` (positive), rounded down.
fn floor_to_lot(raw: Decimal, lot: Decimal) -> Decimal {
    if lot.mantissa() == 1 {
        // a power of ten: truncating to its scale is the floor, without a division
        raw.round_dp_with_strategy(lot.scale(), RoundingStrategy::ToZero)
    } else {
        (raw / lot).floor() * lot
    }
}

/// Base-asset amount of `qty` venue units at `price`.
pub fn base_of(market: &Market, qty: Decimal, price: Decimal) -> Decimal {
    match market.contract {
        Contract::Linear => qty,
        Contract::Inverse { quote_per_contract } => {
            if price.is_zero() {
                Decimal::ZERO
            } else {
                round_amount(qty * quote_per_contract / price)
            }
        }
    }
}

/// Quote-asset amount of `qty` venue units at `price`.
pub fn quote_of(market: &Market, qty: Decimal, price: Decimal) -> Decimal {
    match market.contract {
        Contract::Linear => round_amount(qty * price),
        Contract::Inverse { quote_per_contract } => qty * quote_per_contract,
    }
}

/// The most venue units, a whole number of lots, whose base amount at `price` is at most `base`.
pub fn units_for_base(market: &Market, base: Decimal, price: Decimal) -> Decimal {
    if base <= Decimal::ZERO || price <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let raw = match market.contract {
        Contract::Linear => base,
        Contract::Inverse { quote_per_contract } => base * price / quote_per_contract,
    };
    let mut units = floor_to_lot(raw, market.lot_size);
    // rounding of the inverse base amount could put one lot over
    while units > Decimal::ZERO && base_of(market, units, price) > base {
        units -= market.lot_size;
    }
    units.max(Decimal::ZERO)
}

/// The most of an order of `qty` venue units at `limit` that may fill at `price` without
/// trading more base than the order's size (`base_of(qty, limit)`): all of it on a linear
/// market, or at a price no better in base terms; on an inverse market filled below its limit
/// (a buy), the whole lots worth at most that base at `price`.
pub fn units_within_size(market: &Market, qty: Decimal, limit: Decimal, price: Decimal) -> Decimal {
    match market.contract {
        Contract::Linear => qty,
        Contract::Inverse { .. } if price >= limit || limit <= Decimal::ZERO => qty,
        Contract::Inverse { .. } => {
            if price <= Decimal::ZERO {
                return Decimal::ZERO;
            }
            let size = base_of(market, qty, limit);
            let mut units = floor_to_lot(qty * price / limit, market.lot_size).min(qty);
            // the division is to 28 digits: make sure of the booked (rounded) amounts
            while units > Decimal::ZERO && base_of(market, units, price) > size {
                units -= market.lot_size;
            }
            units.max(Decimal::ZERO)
        }
    }
}

/// A limit price on the tick grid that stays within `price` as a bound: down for a buy (pay at
/// most it), up for a sell (take at least it).
pub fn to_tick(price: Decimal, tick: Decimal, side: Side) -> Decimal {
    let ticks = price / tick;
    let t = match side {
        Side::Buy => ticks.floor(),
        Side::Sell => ticks.ceil(),
    };
    (t * tick).normalize()
}

/// A fee as charged: in which asset, how much, and what it is worth in the quote asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeCharge {
    pub asset: String,
    pub amount: Decimal,
    pub quote_value: Decimal,
}

impl FeeSchedule {
    /// The taker rate at a 30-day volume (the highest tier reached; the base rate below all).
    pub fn taker_bps_at(&self, volume: Decimal) -> Decimal {
        self.tiers
            .iter()
            .rev()
            .find(|t| volume >= t.volume)
            .map_or(self.taker_bps, |t| t.taker_bps)
    }

    /// The fee for a fill of `base` at `price` worth `quote` of the quote asset, at `rate_bps`.
    pub fn charge(
        &self,
        assets: &InstrumentAssets,
        rate_bps: Decimal,
        base: Decimal,
        quote: Decimal,
        price: Decimal,
    ) -> FeeCharge {
        match &self.asset {
            FeeAsset::Quote => {
                let amount = round_amount(bps(quote, rate_bps));
                FeeCharge {
                    asset: assets.quote.clone(),
                    amount,
                    quote_value: amount,
                }
            }
            FeeAsset::Base => {
                let amount = round_amount(bps(base, rate_bps));
                FeeCharge {
                    asset: assets.base.clone(),
                    amount,
                    quote_value: round_amount(amount * price),
                }
            }
            FeeAsset::Other { asset, price: p } => {
                let amount = round_amount(bps(quote, rate_bps) / *p);
                FeeCharge {
                    asset: asset.clone(),
                    amount,
                    quote_value: round_amount(amount * *p),
                }
            }
        }
    }
}

/// The balance changes of one fill: (asset, delta) pairs, fee included.
pub fn fill_deltas(
    assets: &InstrumentAssets,
    market: &Market,
    side: Side,
    qty: Decimal,
    price: Decimal,
    fee: &FeeCharge,
) -> Vec<(String, Decimal)> {
    let base = base_of(market, qty, price);
    let quote = quote_of(market, qty, price);
    let (db, dq) = match side {
        Side::Buy => (base, -quote),
        Side::Sell => (-base, quote),
    };
    let mut out = vec![(assets.base.clone(), db), (assets.quote.clone(), dq)];
    if !fee.amount.is_zero() {
        match out.iter_mut().find(|(a, _)| *a == fee.asset) {
            Some((_, d)) => *d -= fee.amount,
            None => out.push((fee.asset.clone(), -fee.amount)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeeTier;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn linear(lot: &str) -> Market {
        Market {
            symbol: "BTCUSDT".into(),
            tick_size: d("0.01"),
            lot_size: d(lot),
            min_qty: d(lot),
            contract: Contract::Linear,
        }
    }

    fn inverse() -> Market {
        Market {
            symbol: "BTCUSD_PERP".into(),
            tick_size: d("0.1"),
            lot_size: d("1"),
            min_qty: d("1"),
            contract: Contract::Inverse {
                quote_per_contract: d("100"),
            },
        }
    }

    fn assets() -> InstrumentAssets {
        InstrumentAssets {
            base: "BTC".into(),
            quote: "USDT".into(),
        }
    }

    #[test]
    fn units_and_amounts() {
        let m = linear("0.001");
        assert_eq!(units_for_base(&m, d("0.12345"), d("60000")), d("0.123"));
        assert_eq!(quote_of(&m, d("0.123"), d("60000.5")), d("7380.0615"));
        let inv = inverse();
        // 0.05 BTC at 60000 is 3000 USD: 30 contracts
        assert_eq!(units_for_base(&inv, d("0.05"), d("60000")), d("30"));
        assert_eq!(base_of(&inv, d("30"), d("60000")), d("0.05"));
        assert_eq!(quote_of(&inv, d("30"), d("60000")), d("3000"));
        // 100/61804.7 = 0.00161800... rounded to 8 places
        assert_eq!(base_of(&inv, d("1"), d("61804.7")), d("0.00161800"));
        // never over the base asked for, even with rounding
        let u = units_for_base(&inv, d("0.0016180"), d("61804.7"));
        assert!(base_of(&inv, u, d("61804.7")) <= d("0.0016180"));
        assert_eq!(units_for_base(&m, d("0.0009"), d("60000")), Decimal::ZERO);
    }

    #[test]
    fn ticks_stay_within_the_bound() {
        assert_eq!(to_tick(d("100.123"), d("0.01"), Side::Buy), d("100.12"));
        assert_eq!(to_tick(d("100.123"), d("0.01"), Side::Sell), d("100.13"));
        assert_eq!(to_tick(d("100.12"), d("0.01"), Side::Buy), d("100.12"));
    }

    #[test]
    fn fees_in_each_asset_and_tiers() {
        let a = assets();
        let mut f = FeeSchedule {
            maker_bps: d("2"),
            taker_bps: d("10"),
            asset: FeeAsset::Quote,
            volume_30d: Decimal::ZERO,
            tiers: vec![
                FeeTier {
                    volume: d("1000000"),
                    maker_bps: d("1"),
                    taker_bps: d("8"),
                },
                FeeTier {
                    volume: d("5000000"),
                    maker_bps: d("0"),
                    taker_bps: d("6"),
                },
            ],
        };
        assert_eq!(f.taker_bps_at(d("999999")), d("10"));
        assert_eq!(f.taker_bps_at(d("1000000")), d("8"));
        assert_eq!(f.taker_bps_at(d("9000000")), d("6"));
        let c = f.charge(&a, d("10"), d("0.1"), d("6000"), d("60000"));
        assert_eq!(
            (c.asset.as_str(), c.amount, c.quote_value),
            ("USDT", d("6"), d("6"))
        );
        f.asset = FeeAsset::Base;
        let c = f.charge(&a, d("10"), d("0.1"), d("6000"), d("60000"));
        assert_eq!(
            (c.asset.as_str(), c.amount, c.quote_value),
            ("BTC", d("0.0001"), d("6"))
        );
        f.asset = FeeAsset::Other {
            asset: "BNB".into(),
            price: d("500"),
        };
        let c = f.charge(&a, d("7.5"), d("0.1"), d("6000"), d("60000"));
        assert_eq!(
            (c.asset.as_str(), c.amount, c.quote_value),
            ("BNB", d("0.009"), d("4.5"))
        );
    }

    #[test]
    fn fill_deltas_include_the_fee() {
        let a = assets();
        let fee = FeeCharge {
            asset: "USDT".into(),
            amount: d("6"),
            quote_value: d("6"),
        };
        let m = linear("0.001");
        assert_eq!(
            fill_deltas(&a, &m, Side::Buy, d("0.1"), d("60000"), &fee),
            vec![("BTC".into(), d("0.1")), ("USDT".into(), d("-6006"))]
        );
        let bnb = FeeCharge {
            asset: "BNB".into(),
            amount: d("0.01"),
            quote_value: d("5"),
        };
        assert_eq!(
            fill_deltas(&a, &inverse(), Side::Sell, d("30"), d("60000"), &bnb),
            vec![
                ("BTC".into(), d("-0.05")),
                ("USDT".into(), d("3000")),
                ("BNB".into(), d("-0.01"))
            ]
        );
    }
}
