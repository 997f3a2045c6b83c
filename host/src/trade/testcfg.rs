//! Configurations for the trading unit tests.

/// Three Binance-style venues trading BTC/USDT, 1 BTC and 60000 USDT each.
pub const THREE_VENUES: &str = r#"
[trading]
min_profit = "0"
order_timeout_ms = 100

[risk]
max_notional = "1000000"
max_position = "10"
max_open_legs = 8
daily_loss_limit = "100000"
max_quote_age_ms = 1000

[rebalance]
threshold = "0.5"
apply = true
assets = { BTC = { network_fee = "0.0001", transfer_s = 600 } }

[[instrument]]
name = "BTC"
base = "BTC"
quote = "USDT"

[[venue]]
name = "a"
protocol = "binance_sbe"
destination = "239.1.1.1:5000"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.001" } }

[[venue]]
name = "b"
protocol = "binance_sbe"
destination = "239.1.1.2:5001"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.001" } }

[[venue]]
name = "c"
protocol = "binance_sbe"
destination = "239.1.1.3:5002"
symbols = { BTCUSDT = "BTC" }
fees = { maker_bps = "0", taker_bps = "10" }
balances = { BTC = "1", USDT = "60000" }
markets = { BTCUSDT = { tick_size = "0.01", lot_size = "0.001" } }
"#;
