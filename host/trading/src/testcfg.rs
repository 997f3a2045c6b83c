//! Configurations for the trading unit tests.

/// Three Binance-style venues trading BTC/USDT, 1 BTC and 60000 USDT each.
pub const THREE_VENUES: &str = include_str!("testcfg_three_venues.toml");

/// A file with detection and trading keys (no order-entry adapter), validated as the binary
/// validates one; panics with every error.
pub fn load(
    text: &str,
) -> (
    tickcross_core::config::DetectionConfig,
    crate::config::TradeConfig,
) {
    use tickcross_core::config::{self as det, DetectionConfig};
    use tickcross_core::settings::{self, Key, Shape};
    const INSTRUMENT: &[&[Key]] = &[det::INSTRUMENT_KEYS, crate::config::INSTRUMENT_KEYS];
    const VENUE: &[&[Key]] = &[det::VENUE_KEYS, crate::config::VENUE_KEYS];
    const TOP: &[Key] = &[
        Key::opt("instrument", Shape::Array(&Shape::Merged(INSTRUMENT))),
        Key::opt("venue", Shape::Array(&Shape::Merged(VENUE))),
    ];
    const FILE: &[&[Key]] = &[TOP, crate::config::FILE_KEYS];
    let checked = settings::check(text, &Shape::Merged(FILE)).unwrap();
    let mut errors = checked.errors;
    let detection = DetectionConfig::validate(&checked.value, &mut errors).unwrap();
    let trade = crate::config::validate_file(&checked.value, &detection, &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    (detection, trade.expect("a [trading] section"))
}
