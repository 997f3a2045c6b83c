//! The trading part of the configuration: `[trading]`, `[risk]`, `[rebalance]`, `[journal]`,
//! each instrument's assets and each venue's fees, balances, markets and simulated behaviour.
//! The binary checks the whole file's shape once (these key tables merged with the other
//! subsystems': [`FILE_KEYS`], [`INSTRUMENT_KEYS`], [`VENUE_KEYS`]) and then
//! [`validate_file`] checks this part with the others, so every error in the file is reported
//! at once. Money is exact decimal strings; times integers.
//!
//! ```toml
//! [trading]
//! min_profit = "0.5"            # quote asset, net of both legs' taker fees
//! min_profit_bps = "0.5"        # of the buy leg's notional
//! max_trade_qty = "0.5"         # base asset per trade (sizes are capped, not refused)
//! order_timeout_ms = 1000
//! unwind_slippage_bps = "20"    # unwind IOC limit: at most this much worse than the entry price
//! unwind_retries = 3
//! unwind_retry_ms = 50
//! sharpe_interval_s = 10
//! seed = 1                      # simulated venues' draws (latency, injected faults)
//!
//! [risk]
//! max_notional = "50000"        # quote, per trade (buy leg notional); refused above
//! max_position = "0.1"          # base, net across venues per instrument, worst case one leg fills
//! max_open_legs = 8
//! daily_loss_limit = "1000"     # quote, realized net P&L of the UTC day
//! max_quote_age_ms = 1000
//! venue_max_failures = 3        # rejects + timeouts in the window disable a venue...
//! venue_failure_window_ms = 60000
//! venue_cool_off_ms = 30000     # ...for this long
//! rate_limit = { orders = 10, window_ms = 1000 }   # per venue; a venue may set its own
//!
//! [rebalance]
//! threshold = "0.5"             # propose a transfer when a balance is below 0.5 x its target
//! apply = true                  # carry proposed transfers out in replay
//! assets = { BTC = { network_fee = "0.0001", transfer_s = 600 } }
//!
//! [journal]
//! sync = "trade"                # "always" | "trade" | "never"
//!
//! [[instrument]]
//! name = "BTC"
//! base = "BTC"
//! quote = "USDT"
//!
//! [[venue]]
//! name = "spot"
//! # ... detection keys ...
//! fees = { maker_bps = "10", taker_bps = "10", asset = "quote" }   # or "base", or "BNB" + asset_price
//! balances = { BTC = "1", USDT = "60000" }
//! targets = { BTC = "1", USDT = "60000" }   # rebalancing targets; default: the initial balances
//! markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.00001", min_qty = "0.00001" } }
//! sim = { latency_us = 500 }                # or latency_us = [min, max] (uniform), or choices
//! # instead of sim: the venue's orders leave the process (FIX 4.4: keys in `tickcross_fix::config`)
//! # order_entry = { protocol = "fix44", host = "127.0.0.1", port = 9880, sender_comp_id = "TC",
//! #                 target_comp_id = "VENUE", auth = { kind = "plain", username = "u", password_env = "PW" } }
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use tickcross_core::config::DetectionConfig;
use tickcross_core::settings::{self, Key, Shape, U32, U64};

/// Everything trading needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeConfig {
    pub params: TradingParams,
    pub risk: RiskLimits,
    pub rebalance: Option<RebalanceConfig>,
    pub journal: JournalConfig,
    /// Per instrument (config order).
    pub instruments: Vec<InstrumentAssets>,
    /// Per venue (config order).
    pub venues: Vec<VenueTrading>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentAssets {
    pub base: String,
    pub quote: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingParams {
    pub min_profit: Decimal,
    pub min_profit_bps: Decimal,
    pub max_trade_qty: Option<Decimal>,
    pub order_timeout_ns: u64,
    pub unwind_slippage_bps: Decimal,
    pub unwind_retries: u32,
    pub unwind_retry_ns: u64,
    pub sharpe_interval_ns: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub orders: u32,
    pub window_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskLimits {
    pub max_notional: Decimal,
    pub max_position: Decimal,
    pub max_open_legs: u32,
    pub daily_loss_limit: Decimal,
    pub max_quote_age_ns: u64,
    pub venue_max_failures: u32,
    pub venue_failure_window_ns: u64,
    pub venue_cool_off_ns: u64,
    pub rate_limit: RateLimit,
}

/// How a venue's order quantities relate to the base asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// Quantities are base-asset amounts.
    Linear,
    /// Quantities are contracts worth `quote_per_contract` of the quote asset each (an inverse
    /// contract such as Binance COIN-M's BTCUSD_PERP, 100 USD a contract): n contracts at price p
    /// are n x Q / p of the base asset.
    Inverse { quote_per_contract: Decimal },
}

/// One (venue, instrument) market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub symbol: String,
    pub tick_size: Decimal,
    pub lot_size: Decimal,
    pub min_qty: Decimal,
    pub contract: Contract,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeAsset {
    Quote,
    Base,
    /// A third asset (e.g. BNB), converted at a configured price in the quote asset.
    Other {
        asset: String,
        price: Decimal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeTier {
    /// 30-day volume (quote) from which the tier applies.
    pub volume: Decimal,
    pub maker_bps: Decimal,
    pub taker_bps: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSchedule {
    pub maker_bps: Decimal,
    pub taker_bps: Decimal,
    pub asset: FeeAsset,
    /// 30-day volume (quote) at the start; the replay's own volume adds to it.
    pub volume_30d: Decimal,
    /// Ascending by volume.
    pub tiers: Vec<FeeTier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Latency {
    Constant(u64),
    /// Uniform over [min, max] ns.
    Uniform(u64, u64),
    /// One of these ns values, equally likely (an empirical distribution).
    Choices(Vec<u64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Reject,
    Timeout,
    Disconnect,
}

/// An injected fault over a window of replay time (offsets from the first frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub start_ns: u64,
    pub duration_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimVenueConfig {
    /// Order latency: from sending to arrival at the venue's book. Reports come back after the
    /// same latency.
    pub latency: Latency,
    /// Orders rejected at random, per million.
    pub reject_ppm: u32,
    /// Orders the venue never answers, per million.
    pub timeout_ppm: u32,
    pub faults: Vec<Fault>,
}

/// How a venue's orders are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEntry {
    /// The simulated venue of replay.
    Simulated,
    /// Orders go out through an order-entry adapter (`order_entry = { protocol = "fix44", ... }`):
    /// its keys are the adapter's to validate, and the binary starts it (see
    /// [`crate::run::VenueAdapters`]). `protocol` as given.
    External { protocol: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueTrading {
    pub fees: FeeSchedule,
    pub balances: BTreeMap<String, Decimal>,
    pub targets: BTreeMap<String, Decimal>,
    /// Per instrument index: the market, when the venue trades it.
    pub markets: Vec<Option<Market>>,
    pub sim: SimVenueConfig,
    pub rate_limit: RateLimit,
    pub order_entry: OrderEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetTransfer {
    pub network_fee: Decimal,
    pub transfer_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceConfig {
    pub threshold: Decimal,
    pub apply: bool,
    pub assets: BTreeMap<String, AssetTransfer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fdatasync after every record.
    Always,
    /// fdatasync after each trade record (before its orders leave) and each snapshot.
    Trade,
    /// Never; the OS writes back when it likes.
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    pub sync: SyncPolicy,
}

// ---- raw (as parsed) ----
//
// The shapes below are checked first (`tickcross_core::settings::Shape`: unknown keys, types, required keys,
// all reported together); the serde structs follow them, with required keys as `Option`s (None:
// missing or of the wrong type, reported already) so that the rest is still validated.

// Defaults of optional keys: the key tables state them (docs/CONFIG.md) and the validation
// below uses the same constants.
const ORDER_TIMEOUT_MS: u64 = 1000;
const UNWIND_SLIPPAGE_BPS: u64 = 20;
const UNWIND_RETRIES: u32 = 3;
const UNWIND_RETRY_MS: u64 = 50;
const SHARPE_INTERVAL_S: u64 = 10;
const SEED: u64 = 1;
const VENUE_MAX_FAILURES: u32 = 3;
const VENUE_FAILURE_WINDOW_MS: u64 = 60_000;
const VENUE_COOL_OFF_MS: u64 = 30_000;
const RATE_LIMIT_ORDERS: u32 = 10;
const RATE_LIMIT_WINDOW_MS: u64 = 1000;
const SIM_LATENCY_US: u64 = 1000;

const WITH_TRADING: &str = "none; required with [trading]";

pub const TRADING_KEYS: &[Key] = &[
    Key::req("min_profit", Shape::Dec)
        .doc("Smallest net profit of a trade, quote asset, after both legs' taker fees"),
    Key::opt("min_profit_bps", Shape::Dec)
        .doc("Smallest net profit as basis points of the buy leg's notional")
        .default_lit("\"0\""),
    Key::opt("max_trade_qty", Shape::Dec)
        .doc("Largest trade, base asset: a larger crossing is traded at this size")
        .default_text("no cap"),
    Key::opt("order_timeout_ms", U64)
        .doc("An order not final after this long is cancelled (at least 1); a resume waits as long (at least 10 s) for the FIX venues' order statuses")
        .default_num(ORDER_TIMEOUT_MS),
    Key::opt("unwind_slippage_bps", Shape::Dec)
        .doc("An unwind's IOC limit is at most this much worse than the entry price (below 10000)")
        .default_num(UNWIND_SLIPPAGE_BPS),
    Key::opt("unwind_retries", U32)
        .doc("Unwind attempts after the first; what remains then is reported as open exposure")
        .default_num(UNWIND_RETRIES as u64),
    Key::opt("unwind_retry_ms", U64)
        .doc("Wait before each unwind retry")
        .default_num(UNWIND_RETRY_MS),
    Key::opt("sharpe_interval_s", U64)
        .doc("Interval of the P&L samples the report's Sharpe ratio is computed from (at least 1)")
        .default_num(SHARPE_INTERVAL_S),
    Key::opt("seed", U64)
        .doc("Seed of the simulated venues' random draws (latency, rejects, timeouts)")
        .default_num(SEED),
];

pub const RATE_LIMIT_KEYS: &[Key] = &[
    Key::req("orders", U32).doc("Most orders sent to the venue in a window (at least 1)"),
    Key::req("window_ms", U64).doc("The window's length (at least 1)"),
];

pub const RISK_KEYS: &[Key] = &[
    Key::req("max_notional", Shape::Dec)
        .doc("Largest buy-leg notional of a trade, quote asset; a larger trade is refused"),
    Key::req("max_position", Shape::Dec).doc(
        "Largest net base position per instrument across venues, if every open trade filled one leg alone",
    ),
    Key::req("max_open_legs", U32).doc("Most orders open at once (at least 2: a trade has two)"),
    Key::req("daily_loss_limit", Shape::Dec)
        .doc("Trades are refused once the UTC day's realized net loss reaches this, quote asset"),
    Key::req("max_quote_age_ms", U64)
        .doc("An event whose quotes are older than this is refused (stale_quote)"),
    Key::opt("venue_max_failures", U32)
        .doc("Rejects + timeouts within venue_failure_window_ms that disable a venue (at least 1)")
        .default_num(VENUE_MAX_FAILURES as u64),
    Key::opt("venue_failure_window_ms", U64)
        .doc("The window a venue's failures are counted over")
        .default_num(VENUE_FAILURE_WINDOW_MS),
    Key::opt("venue_cool_off_ms", U64)
        .doc("How long a disabled venue stays disabled")
        .default_num(VENUE_COOL_OFF_MS),
    Key::opt("rate_limit", Shape::Table(RATE_LIMIT_KEYS))
        .doc("Order rate limit of each venue (a venue's own rate_limit overrides it)")
        .default_text("orders = 10, window_ms = 1000"),
];

const ASSET_TRANSFER_KEYS: &[Key] = &[
    Key::req("network_fee", Shape::Dec)
        .doc("Fee of one transfer, in the asset, debited from the source on top of the amount"),
    Key::req("transfer_s", U64).doc("How long a transfer takes to arrive"),
];

pub const REBALANCE_KEYS: &[Key] = &[
    Key::req("threshold", Shape::Dec).doc(
        "Propose a transfer when a balance (with transfers in flight) is below threshold x its target (0..1]",
    ),
    Key::opt("apply", Shape::Bool)
        .doc("Carry the proposed transfers out in replay (else only propose them)")
        .default_lit("false"),
    Key::opt("assets", Shape::Map(&Shape::Table(ASSET_TRANSFER_KEYS)))
        .each("asset")
        .doc("The assets the planner moves between venues, with their transfer cost and time")
        .default_text("no asset is rebalanced"),
];

pub const JOURNAL_KEYS: &[Key] = &[Key::opt("sync", Shape::Str)
    .doc("When the journal fdatasyncs: \"always\" (every record), \"trade\" (each trade record before its orders leave, and each snapshot) or \"never\"")
    .default_lit("\"trade\"")];

const TIER_KEYS: &[Key] = &[
    Key::req("volume", Shape::Dec).doc("30-day volume (quote) from which the tier applies"),
    Key::req("maker_bps", Shape::Dec).doc("Maker fee in the tier, basis points"),
    Key::req("taker_bps", Shape::Dec).doc("Taker fee in the tier, basis points (0 or more)"),
];

pub const FEES_KEYS: &[Key] = &[
    Key::req("maker_bps", Shape::Dec).doc("Maker fee, basis points (negative: a rebate)"),
    Key::req("taker_bps", Shape::Dec).doc("Taker fee, basis points (0 or more)"),
    Key::opt("asset", Shape::Str)
        .doc("Asset fees are charged in: \"quote\", \"base\" or another asset's name (with asset_price)")
        .default_lit("\"quote\""),
    Key::opt("asset_price", Shape::Dec)
        .doc("Price of that other fee asset in the quote asset")
        .default_text("none; required with a third fee asset"),
    Key::opt("volume_30d", Shape::Dec)
        .doc("30-day volume (quote) at the start, for the tiers; the replay's own volume adds to it")
        .default_lit("\"0\""),
    Key::opt("tiers", Shape::Array(&Shape::Table(TIER_KEYS)))
        .doc("Volume tiers, ascending by volume: from a tier's volume on, its fees apply")
        .default_text("no tiers"),
];

const CONTRACT_KEYS: &[Key] = &[Key::req("inverse", Shape::Dec)
    .doc("Quote value of one contract (\"100\" for Binance COIN-M BTCUSD_PERP)")];

pub const MARKET_KEYS: &[Key] = &[
    Key::req("tick_size", Shape::Dec).doc("Price increment"),
    Key::req("lot_size", Shape::Dec)
        .doc("Quantity increment (in contracts for an inverse contract)"),
    Key::opt("min_qty", Shape::Dec)
        .doc("Smallest order quantity")
        .default_text("lot_size"),
    Key::opt("contract", Shape::Table(CONTRACT_KEYS))
        .doc(
            "An inverse contract: quantities are contracts worth `inverse` of the quote asset each",
        )
        .default_text("linear: quantities are base asset"),
];

const FAULT_KEYS: &[Key] = &[
    Key::req("kind", Shape::Str).doc("\"reject\", \"timeout\" or \"disconnect\""),
    Key::req("start_ms", U64).doc("Start, ms of replay time after the first frame"),
    Key::req("duration_ms", U64).doc("Length (at least 1)"),
];

pub const SIM_KEYS: &[Key] = &[
    Key::opt("latency_us", Shape::Any)
        .ty("integer, [min, max] or { choices = [...] }")
        .doc("Order latency each way, µs (1..=60000000): constant, uniform over [min, max], or one of choices")
        .default_num(SIM_LATENCY_US),
    Key::opt("reject_ppm", U32)
        .doc("Orders rejected at random, per million (at most 1000000)")
        .default_num(0),
    Key::opt("timeout_ppm", U32)
        .doc("Orders the venue never answers, per million (at most 1000000)")
        .default_num(0),
    Key::opt("faults", Shape::Array(&Shape::Table(FAULT_KEYS)))
        .doc("Faults injected over windows of replay time")
        .default_text("none"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrading {
    min_profit: Option<String>,
    #[serde(default)]
    min_profit_bps: Option<String>,
    #[serde(default)]
    max_trade_qty: Option<String>,
    #[serde(default)]
    order_timeout_ms: Option<u64>,
    #[serde(default)]
    unwind_slippage_bps: Option<String>,
    #[serde(default)]
    unwind_retries: Option<u32>,
    #[serde(default)]
    unwind_retry_ms: Option<u64>,
    #[serde(default)]
    sharpe_interval_s: Option<u64>,
    #[serde(default)]
    seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    orders: Option<u32>,
    window_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRisk {
    max_notional: Option<String>,
    max_position: Option<String>,
    max_open_legs: Option<u32>,
    daily_loss_limit: Option<String>,
    max_quote_age_ms: Option<u64>,
    #[serde(default)]
    venue_max_failures: Option<u32>,
    #[serde(default)]
    venue_failure_window_ms: Option<u64>,
    #[serde(default)]
    venue_cool_off_ms: Option<u64>,
    #[serde(default)]
    rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAssetTransfer {
    network_fee: Option<String>,
    transfer_s: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRebalance {
    threshold: Option<String>,
    #[serde(default)]
    apply: bool,
    #[serde(default)]
    assets: BTreeMap<String, RawAssetTransfer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJournal {
    #[serde(default)]
    sync: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    volume: Option<String>,
    maker_bps: Option<String>,
    taker_bps: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFees {
    maker_bps: Option<String>,
    taker_bps: Option<String>,
    #[serde(default)]
    asset: Option<String>,
    #[serde(default)]
    asset_price: Option<String>,
    #[serde(default)]
    volume_30d: Option<String>,
    #[serde(default)]
    tiers: Vec<RawTier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawContract {
    inverse: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMarket {
    tick_size: Option<String>,
    lot_size: Option<String>,
    #[serde(default)]
    min_qty: Option<String>,
    #[serde(default)]
    contract: Option<RawContract>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    kind: Option<String>,
    start_ms: Option<u64>,
    duration_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSim {
    #[serde(default)]
    latency_us: Option<toml::Value>,
    #[serde(default)]
    reject_ppm: Option<u32>,
    #[serde(default)]
    timeout_ppm: Option<u32>,
    #[serde(default)]
    faults: Vec<RawFault>,
}

/// The trading keys of an `[[instrument]]`: its assets.
pub const INSTRUMENT_KEYS: &[Key] = &[
    Key::opt("base", Shape::Str)
        .doc("Base asset (1-16 letters, digits, '_' or '-')")
        .default_text(WITH_TRADING),
    Key::opt("quote", Shape::Str)
        .doc("Quote asset, in which prices, fees and P&L are counted")
        .default_text(WITH_TRADING),
];

/// The trading keys of a `[[venue]]`. Its `order_entry` table belongs to the order-entry
/// adapter, which declares its keys.
pub const VENUE_KEYS: &[Key] = &[
    Key::opt("fees", Shape::Table(FEES_KEYS))
        .doc("The venue's fee schedule")
        .default_text(WITH_TRADING),
    Key::opt("balances", Shape::Map(&Shape::Dec))
        .each("asset")
        .doc("Initial balance per asset; every asset traded here needs one (\"0\" if empty)")
        .default_text(WITH_TRADING),
    Key::opt("targets", Shape::Map(&Shape::Dec))
        .each("asset")
        .doc("Rebalancing target per asset")
        .default_text("the initial balances"),
    Key::opt("markets", Shape::Map(&Shape::Table(MARKET_KEYS)))
        .each("symbol")
        .doc("Per venue symbol: its market; every symbol of the venue needs one to trade")
        .default_text(WITH_TRADING),
    Key::opt("sim", Shape::Table(SIM_KEYS))
        .doc("The simulated venue's behaviour (not with order_entry)")
        .default_text("latency_us = 1000, no rejects, timeouts or faults"),
    Key::opt("rate_limit", Shape::Table(RATE_LIMIT_KEYS))
        .doc("This venue's order rate limit")
        .default_text("[risk] rate_limit"),
];

/// The trading sections of the file.
pub const FILE_KEYS: &[Key] = &[
    Key::opt("trading", Shape::Table(TRADING_KEYS))
        .doc("Trading parameters; with it, `replay --trade` trades")
        .default_text("no trading"),
    Key::opt("risk", Shape::Table(RISK_KEYS))
        .doc("Risk limits")
        .default_text(WITH_TRADING),
    Key::opt("rebalance", Shape::Table(REBALANCE_KEYS))
        .doc("The rebalancing planner")
        .default_text("no rebalancing"),
    Key::opt("journal", Shape::Table(JOURNAL_KEYS))
        .doc("The trading journal")
        .default_text("sync = \"trade\""),
];

/// The trading keys of the whole (shape-checked) file; the other subsystems' are ignored.
#[derive(Debug, Default, Deserialize)]
struct RawTradingFile {
    #[serde(default)]
    trading: Option<RawTrading>,
    #[serde(default)]
    risk: Option<RawRisk>,
    #[serde(default)]
    rebalance: Option<RawRebalance>,
    #[serde(default)]
    journal: Option<RawJournal>,
    #[serde(default)]
    instrument: Vec<RawInstrumentAssets>,
    #[serde(default)]
    venue: Vec<RawVenueTrading>,
}

#[derive(Debug, Default, Deserialize)]
struct RawInstrumentAssets {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    quote: Option<String>,
}

/// Validates the trading part of a shape-checked file against its validated detection part,
/// adding every problem to `errors`. None when the file has no `[trading]` section (an error
/// too if it has trading keys elsewhere) or when anything is wrong.
pub fn validate_file(
    value: &toml::Value,
    detection: &DetectionConfig,
    errors: &mut Vec<String>,
) -> Option<TradeConfig> {
    let mut raw: RawTradingFile = settings::take(value, errors)?;
    let sections = RawTradeSections {
        trading: raw.trading.take(),
        risk: raw.risk.take(),
        rebalance: raw.rebalance.take(),
        journal: raw.journal.take(),
    };
    let view = DetectionView {
        instrument_names: detection
            .instruments()
            .iter()
            .map(|i| i.name.as_str())
            .collect(),
        venues: detection
            .venues()
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.symbols
                        .iter()
                        .map(|(s, i)| (s.as_str(), *i as usize))
                        .collect(),
                )
            })
            .collect(),
    };
    let assets: Vec<(Option<&str>, Option<&str>)> = raw
        .instrument
        .iter()
        .map(|i| (i.base.as_deref(), i.quote.as_deref()))
        .collect();
    validate(
        &sections,
        &assets,
        &raw.venue.iter().collect::<Vec<_>>(),
        &view,
        errors,
    )
}

/// The trading keys of one `[[venue]]` (parsed with the venue).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawVenueTrading {
    pub(crate) fees: Option<RawFees>,
    pub(crate) balances: Option<BTreeMap<String, String>>,
    pub(crate) targets: Option<BTreeMap<String, String>>,
    pub(crate) markets: Option<BTreeMap<String, RawMarket>>,
    pub(crate) sim: Option<RawSim>,
    pub(crate) rate_limit: Option<RawRateLimit>,
    /// The adapter's table, as given (its keys are the adapter's to check).
    pub(crate) order_entry: Option<toml::Value>,
}

impl RawVenueTrading {
    fn any(&self) -> bool {
        self.fees.is_some()
            || self.balances.is_some()
            || self.targets.is_some()
            || self.markets.is_some()
            || self.sim.is_some()
            || self.rate_limit.is_some()
            || self.order_entry.is_some()
    }
}

/// The trading sections of the file.
#[derive(Debug, Default)]
pub(crate) struct RawTradeSections {
    pub(crate) trading: Option<RawTrading>,
    pub(crate) risk: Option<RawRisk>,
    pub(crate) rebalance: Option<RawRebalance>,
    pub(crate) journal: Option<RawJournal>,
}

/// What validation needs to know of the detection part.
pub(crate) struct DetectionView<'a> {
    pub(crate) instrument_names: Vec<&'a str>,
    /// Per venue: name, (symbol, instrument index) pairs.
    pub(crate) venues: Vec<(&'a str, Vec<(&'a str, usize)>)>,
}

impl DetectionView<'_> {
    /// How messages name venue `k`: by name, by number when it has none (reported already).
    fn venue_here(&self, k: usize) -> String {
        match self.venues[k].0 {
            "" => format!("venue #{}", k + 1),
            name => format!("venue {name:?}"),
        }
    }

    fn instrument_here(&self, k: usize) -> String {
        match self.instrument_names[k] {
            n if n.trim().is_empty() => format!("instrument #{}", k + 1),
            name => format!("instrument {name:?}"),
        }
    }
}

fn dec(s: &str, here: &str, what: &str, errors: &mut Vec<String>) -> Decimal {
    match Decimal::from_str_exact(s.trim()) {
        Ok(d) if s.trim() == s && !s.is_empty() => d,
        _ => {
            errors.push(format!("{here}: {what} {s:?} is not a decimal number"));
            Decimal::ZERO
        }
    }
}

fn dec_nonneg(s: &str, here: &str, what: &str, errors: &mut Vec<String>) -> Decimal {
    let d = dec(s, here, what, errors);
    if d.is_sign_negative() && !d.is_zero() {
        errors.push(format!("{here}: {what} {s:?} is negative"));
    }
    d
}

fn dec_pos(s: &str, here: &str, what: &str, errors: &mut Vec<String>) -> Decimal {
    let d = dec(s, here, what, errors);
    if d <= Decimal::ZERO && Decimal::from_str_exact(s).is_ok() {
        errors.push(format!("{here}: {what} {s:?} must be above 0"));
    }
    d
}

/// A required decimal through `parse`; a missing one (reported by the shape check) is 0, which
/// only ever stands in while the errors are collected.
fn req(
    s: &Option<String>,
    parse: fn(&str, &str, &str, &mut Vec<String>) -> Decimal,
    here: &str,
    what: &str,
    errors: &mut Vec<String>,
) -> Decimal {
    s.as_deref()
        .map_or(Decimal::ZERO, |s| parse(s, here, what, errors))
}

const MS: u64 = 1_000_000;

fn valid_asset(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 16
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn rate_limit(r: &RawRateLimit, here: &str, errors: &mut Vec<String>) -> RateLimit {
    if r.orders == Some(0) {
        errors.push(format!("{here}: rate_limit.orders must be at least 1"));
    }
    if r.window_ms == Some(0) {
        errors.push(format!("{here}: rate_limit.window_ms must be at least 1"));
    }
    RateLimit {
        orders: r.orders.unwrap_or(1),
        window_ns: r.window_ms.unwrap_or(1).saturating_mul(MS),
    }
}

fn latency(v: &toml::Value, here: &str, errors: &mut Vec<String>) -> Latency {
    let us = |x: &toml::Value| -> Option<u64> {
        x.as_integer()
            .filter(|&i| i > 0 && i <= 60_000_000)
            .map(|i| i as u64 * 1000)
    };
    let bad = |errors: &mut Vec<String>| {
        errors.push(format!(
            "{here}: sim.latency_us {v}: expected microseconds (1..=60000000) as a number, [min, max] \
             (uniform) or {{ choices = [..] }}"
        ));
        Latency::Constant(1000)
    };
    match v {
        toml::Value::Integer(_) => match us(v) {
            Some(n) => Latency::Constant(n),
            None => bad(errors),
        },
        toml::Value::Array(a) if a.len() == 2 => match (us(&a[0]), us(&a[1])) {
            (Some(lo), Some(hi)) if lo <= hi => Latency::Uniform(lo, hi),
            _ => bad(errors),
        },
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("choices") => {
            match t["choices"].as_array() {
                Some(a) if !a.is_empty() => {
                    let c: Option<Vec<u64>> = a.iter().map(us).collect();
                    match c {
                        Some(c) => Latency::Choices(c),
                        None => bad(errors),
                    }
                }
                _ => bad(errors),
            }
        }
        _ => bad(errors),
    }
}

/// Validates the trading sections. Returns None (with errors added) when they are absent but
/// some venue has trading keys, or when anything is wrong. Each part reports into `errors`, so
/// that every problem of the file is reported at once.
fn validate(
    sections: &RawTradeSections,
    instruments: &[(Option<&str>, Option<&str>)],
    venues: &[&RawVenueTrading],
    view: &DetectionView<'_>,
    errors: &mut Vec<String>,
) -> Option<TradeConfig> {
    let n_before = errors.len();
    let Some(rt) = &sections.trading else {
        no_trading_section(sections, instruments, venues, view, errors);
        return None;
    };
    let params = trading_params(rt, errors);
    let risk = risk_limits(sections.risk.as_ref(), errors);
    let journal = journal_config(sections.journal.as_ref(), errors);
    let insts = instrument_assets(instruments, view, errors);
    let default_rate = risk.as_ref().map_or(default_rate_limit(), |r| r.rate_limit);
    let vts = venues
        .iter()
        .enumerate()
        .map(|(k, rv)| venue_trading(k, rv, view, &insts, default_rate, errors))
        .collect();
    let rebalance = sections
        .rebalance
        .as_ref()
        .map(|r| rebalance_config(r, errors));
    if errors.len() > n_before {
        return None;
    }
    Some(TradeConfig {
        params,
        risk: risk?,
        rebalance,
        journal,
        instruments: insts,
        venues: vts,
    })
}

/// Without `[trading]`: every trading key given elsewhere is an error.
fn no_trading_section(
    sections: &RawTradeSections,
    instruments: &[(Option<&str>, Option<&str>)],
    venues: &[&RawVenueTrading],
    view: &DetectionView<'_>,
    errors: &mut Vec<String>,
) {
    for (k, v) in venues.iter().enumerate() {
        if v.any() {
            errors.push(format!(
                "{}: has trading keys (fees, balances, markets, ...) but the file has no [trading] section",
                view.venue_here(k)
            ));
        }
    }
    for (what, present) in [
        ("[risk]", sections.risk.is_some()),
        ("[rebalance]", sections.rebalance.is_some()),
        ("[journal]", sections.journal.is_some()),
    ] {
        if present {
            errors.push(format!(
                "{what} given but the file has no [trading] section"
            ));
        }
    }
    for (k, (b, q)) in instruments.iter().enumerate() {
        if b.is_some() || q.is_some() {
            errors.push(format!(
                "{}: base/quote given but the file has no [trading] section",
                view.instrument_here(k)
            ));
        }
    }
}

/// `[trading]`: the decision and unwind parameters.
fn trading_params(rt: &RawTrading, errors: &mut Vec<String>) -> TradingParams {
    let here = "[trading]";
    let params = TradingParams {
        min_profit: req(&rt.min_profit, dec, here, "min_profit", errors),
        min_profit_bps: rt
            .min_profit_bps
            .as_deref()
            .map_or(Decimal::ZERO, |s| dec(s, here, "min_profit_bps", errors)),
        max_trade_qty: rt
            .max_trade_qty
            .as_deref()
            .map(|s| dec_pos(s, here, "max_trade_qty", errors)),
        order_timeout_ns: rt
            .order_timeout_ms
            .unwrap_or(ORDER_TIMEOUT_MS)
            .saturating_mul(MS),
        unwind_slippage_bps: rt
            .unwind_slippage_bps
            .as_deref()
            .map_or(Decimal::from(UNWIND_SLIPPAGE_BPS), |s| {
                dec_nonneg(s, here, "unwind_slippage_bps", errors)
            }),
        unwind_retries: rt.unwind_retries.unwrap_or(UNWIND_RETRIES),
        unwind_retry_ns: rt
            .unwind_retry_ms
            .unwrap_or(UNWIND_RETRY_MS)
            .saturating_mul(MS),
        sharpe_interval_ns: rt
            .sharpe_interval_s
            .unwrap_or(SHARPE_INTERVAL_S)
            .saturating_mul(1000 * MS),
        seed: rt.seed.unwrap_or(SEED),
    };
    if params.order_timeout_ns == 0 {
        errors.push(format!("{here}: order_timeout_ms must be at least 1"));
    }
    if params.sharpe_interval_ns == 0 {
        errors.push(format!("{here}: sharpe_interval_s must be at least 1"));
    }
    if params.unwind_slippage_bps >= Decimal::from(10_000) {
        errors.push(format!(
            "{here}: unwind_slippage_bps must be below 10000 (100%)"
        ));
    }
    params
}

/// The order rate limit when neither `[risk]` nor the venue sets one.
fn default_rate_limit() -> RateLimit {
    RateLimit {
        orders: RATE_LIMIT_ORDERS,
        window_ns: RATE_LIMIT_WINDOW_MS * MS,
    }
}

/// `[risk]`, which trading requires.
fn risk_limits(r: Option<&RawRisk>, errors: &mut Vec<String>) -> Option<RiskLimits> {
    let Some(r) = r else {
        errors.push(
            "[risk]: missing; trading needs max_notional, max_position, max_open_legs, \
             daily_loss_limit and max_quote_age_ms"
                .to_string(),
        );
        return None;
    };
    let here = "[risk]";
    let limits = RiskLimits {
        max_notional: req(&r.max_notional, dec_pos, here, "max_notional", errors),
        max_position: req(&r.max_position, dec_pos, here, "max_position", errors),
        // a missing one is reported; 2 keeps the check below quiet about it
        max_open_legs: r.max_open_legs.unwrap_or(2),
        daily_loss_limit: req(
            &r.daily_loss_limit,
            dec_pos,
            here,
            "daily_loss_limit",
            errors,
        ),
        max_quote_age_ns: r.max_quote_age_ms.unwrap_or(0).saturating_mul(MS),
        venue_max_failures: r.venue_max_failures.unwrap_or(VENUE_MAX_FAILURES),
        venue_failure_window_ns: r
            .venue_failure_window_ms
            .unwrap_or(VENUE_FAILURE_WINDOW_MS)
            .saturating_mul(MS),
        venue_cool_off_ns: r
            .venue_cool_off_ms
            .unwrap_or(VENUE_COOL_OFF_MS)
            .saturating_mul(MS),
        rate_limit: r
            .rate_limit
            .as_ref()
            .map_or(default_rate_limit(), |rl| rate_limit(rl, here, errors)),
    };
    if limits.max_open_legs < 2 {
        errors.push(format!(
            "{here}: max_open_legs must be at least 2 (a trade has two legs)"
        ));
    }
    if limits.venue_max_failures == 0 {
        errors.push(format!("{here}: venue_max_failures must be at least 1"));
    }
    Some(limits)
}

/// `[journal]`.
fn journal_config(j: Option<&RawJournal>, errors: &mut Vec<String>) -> JournalConfig {
    JournalConfig {
        sync: match j.and_then(|j| j.sync.as_deref()) {
            None | Some("trade") => SyncPolicy::Trade,
            Some("always") => SyncPolicy::Always,
            Some("never") => SyncPolicy::Never,
            Some(other) => {
                errors.push(format!(
                    "[journal]: sync {other:?}: expected \"always\", \"trade\" or \"never\""
                ));
                SyncPolicy::Trade
            }
        },
    }
}

/// Each `[[instrument]]`'s base and quote assets.
fn instrument_assets(
    instruments: &[(Option<&str>, Option<&str>)],
    view: &DetectionView<'_>,
    errors: &mut Vec<String>,
) -> Vec<InstrumentAssets> {
    let mut insts = Vec::with_capacity(instruments.len());
    for (k, (b, q)) in instruments.iter().enumerate() {
        let here = view.instrument_here(k);
        let mut asset = |a: Option<&str>, what: &str| match a {
            Some(a) if valid_asset(a) => a.to_string(),
            Some(a) => {
                errors.push(format!(
                    "{here}: {what} {a:?}: an asset name is 1-16 letters, digits, '_' or '-'"
                ));
                String::new()
            }
            None => {
                errors.push(format!("{here}: {what} asset missing (needed for trading)"));
                String::new()
            }
        };
        let base = asset(*b, "base");
        let quote = asset(*q, "quote");
        if !base.is_empty() && base == quote {
            errors.push(format!("{here}: base and quote are both {base:?}"));
        }
        insts.push(InstrumentAssets { base, quote });
    }
    insts
}

/// The trading part of `[[venue]]` number `k`; `default_rate` is `[risk]`'s rate limit.
fn venue_trading(
    k: usize,
    rv: &RawVenueTrading,
    view: &DetectionView<'_>,
    insts: &[InstrumentAssets],
    default_rate: RateLimit,
    errors: &mut Vec<String>,
) -> VenueTrading {
    let here = view.venue_here(k);
    let fees = fee_schedule(rv.fees.as_ref(), &here, errors);
    let balances = asset_amounts(&rv.balances, &here, "balances", errors);
    let targets = match &rv.targets {
        None => balances.clone(),
        Some(_) => asset_amounts(&rv.targets, &here, "targets", errors),
    };
    let markets = venue_markets(rv, &view.venues[k].1, view, &here, errors);
    check_balances(&markets, insts, &fees, &balances, view, &here, errors);
    let sim = sim_config(rv.sim.as_ref(), &here, errors);
    let rl = rv
        .rate_limit
        .as_ref()
        .map_or(default_rate, |r| rate_limit(r, &here, errors));
    if rv.order_entry.is_some() && rv.sim.is_some() {
        errors.push(format!(
            "{here}: sim is for the simulated venue, but order_entry sends this venue's orders out (FIX)"
        ));
    }
    let order_entry = match &rv.order_entry {
        None => OrderEntry::Simulated,
        Some(oe) => OrderEntry::External {
            protocol: oe
                .get("protocol")
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
    };
    VenueTrading {
        fees,
        balances,
        targets,
        markets,
        sim,
        rate_limit: rl,
        order_entry,
    }
}

/// A venue's `fees`, which trading requires.
fn fee_schedule(f: Option<&RawFees>, here: &str, errors: &mut Vec<String>) -> FeeSchedule {
    let Some(f) = f else {
        errors.push(format!(
            "{here}: fees missing (fees = {{ maker_bps, taker_bps, asset }})"
        ));
        return FeeSchedule {
            maker_bps: Decimal::ZERO,
            taker_bps: Decimal::ZERO,
            asset: FeeAsset::Quote,
            volume_30d: Decimal::ZERO,
            tiers: vec![],
        };
    };
    let asset = fee_asset(f, here, errors);
    let mut tiers = Vec::new();
    for (t, rt) in f.tiers.iter().enumerate() {
        let h = format!("{here}: fees.tiers[{t}]");
        tiers.push(FeeTier {
            volume: req(&rt.volume, dec_nonneg, &h, "volume", errors),
            maker_bps: req(&rt.maker_bps, dec, &h, "maker_bps", errors),
            taker_bps: req(&rt.taker_bps, dec_nonneg, &h, "taker_bps", errors),
        });
    }
    if tiers.windows(2).any(|w| w[0].volume >= w[1].volume) {
        errors.push(format!(
            "{here}: fees.tiers must be in ascending order of volume"
        ));
    }
    FeeSchedule {
        maker_bps: req(&f.maker_bps, dec, here, "fees.maker_bps", errors),
        taker_bps: req(&f.taker_bps, dec_nonneg, here, "fees.taker_bps", errors),
        asset,
        volume_30d: f.volume_30d.as_deref().map_or(Decimal::ZERO, |s| {
            dec_nonneg(s, here, "fees.volume_30d", errors)
        }),
        tiers,
    }
}

/// The asset fees are charged in: quote, base, or a third asset with its price.
fn fee_asset(f: &RawFees, here: &str, errors: &mut Vec<String>) -> FeeAsset {
    match (f.asset.as_deref().unwrap_or("quote"), &f.asset_price) {
        ("quote", None) => FeeAsset::Quote,
        ("base", None) => FeeAsset::Base,
        ("quote" | "base", Some(_)) => {
            errors.push(format!(
                "{here}: fees.asset_price is only for a third fee asset"
            ));
            FeeAsset::Quote
        }
        (a, Some(p)) if valid_asset(a) => FeeAsset::Other {
            asset: a.to_string(),
            price: dec_pos(p, here, "fees.asset_price", errors),
        },
        (a, None) if valid_asset(a) => {
            errors.push(format!(
                "{here}: fees.asset {a:?} needs fees.asset_price (its price in the quote asset)"
            ));
            FeeAsset::Quote
        }
        (a, _) => {
            errors.push(format!(
                "{here}: fees.asset {a:?}: expected \"quote\", \"base\" or an asset name"
            ));
            FeeAsset::Quote
        }
    }
}

/// A venue's `balances` or `targets`: amounts by asset name.
fn asset_amounts(
    m: &Option<BTreeMap<String, String>>,
    here: &str,
    what: &str,
    errors: &mut Vec<String>,
) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for (a, v) in m.iter().flatten() {
        if !valid_asset(a) {
            errors.push(format!(
                "{here}: {what}: {a:?} is not an asset name (1-16 letters, digits, '_' or '-')"
            ));
        }
        out.insert(
            a.clone(),
            dec_nonneg(v, here, &format!("{what}.{a}"), errors),
        );
    }
    out
}

/// A venue's `markets`, by instrument: one per symbol of the venue, each of the venue's symbols
/// needing one.
fn venue_markets(
    rv: &RawVenueTrading,
    symbols: &[(&str, usize)],
    view: &DetectionView<'_>,
    here: &str,
    errors: &mut Vec<String>,
) -> Vec<Option<Market>> {
    let mut markets: Vec<Option<Market>> = vec![None; view.instrument_names.len()];
    let raw_markets = rv.markets.as_ref();
    for (sym, m) in raw_markets.into_iter().flatten() {
        let Some(&(_, inst)) = symbols.iter().find(|(s, _)| s == sym) else {
            errors.push(format!(
                "{here}: markets.{sym}: not one of the venue's symbols"
            ));
            continue;
        };
        let h = format!("{here}: markets.{sym}");
        let lot_size = req(&m.lot_size, dec_pos, &h, "lot_size", errors);
        let contract = match &m.contract {
            None => Contract::Linear,
            Some(c) => Contract::Inverse {
                quote_per_contract: req(&c.inverse, dec_pos, &h, "contract.inverse", errors),
            },
        };
        if markets[inst].is_some() {
            errors.push(format!(
                "{h}: a second market for instrument {:?} (one symbol per instrument is traded)",
                view.instrument_names[inst]
            ));
        }
        markets[inst] = Some(Market {
            symbol: sym.clone(),
            tick_size: req(&m.tick_size, dec_pos, &h, "tick_size", errors),
            lot_size,
            min_qty: m
                .min_qty
                .as_deref()
                .map_or(lot_size, |s| dec_pos(s, &h, "min_qty", errors)),
            contract,
        });
    }
    for (sym, inst) in symbols {
        if markets[*inst].is_none() && !raw_markets.is_some_and(|m| m.contains_key(*sym)) {
            errors.push(format!(
                "{here}: symbol {sym:?} has no markets entry (tick_size, lot_size) for trading"
            ));
        }
    }
    markets
}

/// Every asset a venue trades (base, quote, a third fee asset) needs a balance, 0 or not.
fn check_balances(
    markets: &[Option<Market>],
    insts: &[InstrumentAssets],
    fees: &FeeSchedule,
    balances: &BTreeMap<String, Decimal>,
    view: &DetectionView<'_>,
    here: &str,
    errors: &mut Vec<String>,
) {
    for (inst, m) in markets.iter().enumerate() {
        if m.is_none() {
            continue;
        }
        let ia = &insts[inst];
        let mut needed = vec![ia.base.as_str(), ia.quote.as_str()];
        if let FeeAsset::Other { asset, .. } = &fees.asset {
            needed.push(asset);
        }
        for a in needed {
            if !a.is_empty() && !balances.contains_key(a) {
                errors.push(format!(
                    "{here}: balances has no {a:?} (traded on {:?}; write {a} = \"0\" if it starts empty)",
                    view.instrument_names[inst]
                ));
            }
        }
    }
}

/// A venue's `sim`: the simulated venue's latency, reject and timeout rates, faults.
fn sim_config(s: Option<&RawSim>, here: &str, errors: &mut Vec<String>) -> SimVenueConfig {
    let Some(s) = s else {
        return SimVenueConfig {
            latency: Latency::Constant(SIM_LATENCY_US * 1000),
            reject_ppm: 0,
            timeout_ppm: 0,
            faults: vec![],
        };
    };
    let latency = s
        .latency_us
        .as_ref()
        .map_or(Latency::Constant(SIM_LATENCY_US * 1000), |v| {
            latency(v, here, errors)
        });
    let mut faults = Vec::new();
    for (f, rf) in s.faults.iter().enumerate() {
        let kind = match rf.kind.as_deref() {
            None | Some("reject") => FaultKind::Reject,
            Some("timeout") => FaultKind::Timeout,
            Some("disconnect") => FaultKind::Disconnect,
            Some(other) => {
                errors.push(format!(
                    "{here}: sim.faults[{f}].kind {other:?}: expected \"reject\", \"timeout\" or \"disconnect\""
                ));
                FaultKind::Reject
            }
        };
        if rf.duration_ms == Some(0) {
            errors.push(format!(
                "{here}: sim.faults[{f}].duration_ms must be at least 1"
            ));
        }
        faults.push(Fault {
            kind,
            start_ns: rf.start_ms.unwrap_or(0).saturating_mul(MS),
            duration_ns: rf.duration_ms.unwrap_or(1).saturating_mul(MS),
        });
    }
    for (what, v) in [("reject_ppm", s.reject_ppm), ("timeout_ppm", s.timeout_ppm)] {
        if v.is_some_and(|p| p > 1_000_000) {
            errors.push(format!("{here}: sim.{what} is above 1000000"));
        }
    }
    SimVenueConfig {
        latency,
        reject_ppm: s.reject_ppm.unwrap_or(0),
        timeout_ppm: s.timeout_ppm.unwrap_or(0),
        faults,
    }
}

/// `[rebalance]`: the threshold and each asset's transfer cost and time.
fn rebalance_config(r: &RawRebalance, errors: &mut Vec<String>) -> RebalanceConfig {
    let here = "[rebalance]";
    let threshold = req(&r.threshold, dec_pos, here, "threshold", errors);
    if threshold > Decimal::ONE {
        errors.push(format!(
            "{here}: threshold is a fraction of the target, at most 1"
        ));
    }
    let mut assets = BTreeMap::new();
    for (a, t) in &r.assets {
        let h = format!("{here}: assets.{a}");
        assets.insert(
            a.clone(),
            AssetTransfer {
                network_fee: req(&t.network_fee, dec_nonneg, &h, "network_fee", errors),
                transfer_ns: t.transfer_s.unwrap_or(0).saturating_mul(1000 * MS),
            },
        );
    }
    RebalanceConfig {
        threshold,
        apply: r.apply,
        assets,
    }
}
