//! `tickcross bridge binance-ws`: Binance's live feed (SBE over WebSocket/TLS, or JSON) forwarded
//! as UDP datagrams to the card's venue destination (tickcross_wsbridge does the work).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use tickcross::config::Config;
use tickcross_core::program::Protocol;
use tickcross_wsbridge::{read_certificates, run_blocking, stream_url, ApiKey, Mode, Options};

/// The environment variable an API key may come from.
const API_KEY_ENV: &str = "BINANCE_API_KEY";

#[derive(Args)]
pub struct BinanceWsArgs {
    /// Configuration (TOML): the venue's destination and symbols.
    #[arg(long)]
    config: PathBuf,
    /// The venue (a binance_sbe venue of the config) whose feed this is.
    #[arg(long)]
    venue: String,
    /// Take the JSON bookTicker stream and convert it as `bridge binance-json` does (no API key
    /// needed), instead of the SBE stream.
    #[arg(long)]
    json: bool,
    /// Endpoint URL (default: Binance's combined stream of the venue's symbols).
    #[arg(long)]
    url: Option<String>,
    /// File holding the API key (an Ed25519 key; default: the BINANCE_API_KEY environment
    /// variable). Never logged.
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// Trust the certificates of this PEM file as well (a private endpoint's authority).
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Trust only --ca, not the public roots.
    #[arg(long, requires = "ca")]
    ca_only: bool,
    /// Send the datagrams here instead of the venue's first destination.
    #[arg(long, value_name = "ADDR:PORT")]
    to: Option<SocketAddr>,
    /// Send from this address (the interface towards the card).
    #[arg(long, value_name = "ADDR")]
    bind: Option<std::net::IpAddr>,
    /// Renew a connection (make-before-break) once this old; the endpoint closes it at 24 h.
    #[arg(long, value_name = "SECS", default_value_t = 85800.0)]
    max_age: f64,
    /// Drop a connection that delivers nothing (not even a ping) for this long.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    stall: f64,
    /// Stop after this many seconds (default: until Ctrl-C / SIGTERM).
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
}

fn seconds(name: &str, v: f64) -> Result<Duration> {
    if v.is_finite() && v > 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(crate::UsageError(format!("--{name} {v}: give a number of seconds above 0")).into())
    }
}

pub fn binance_ws_cmd(a: BinanceWsArgs) -> Result<()> {
    let usage = |m: String| anyhow::Error::from(crate::UsageError(m));
    let cfg =
        Config::load(&a.config).map_err(|e| anyhow::anyhow!("{}:\n{e}", a.config.display()))?;
    let det = cfg.detection();
    let venue = det
        .venues()
        .iter()
        .find(|v| v.name == a.venue)
        .ok_or_else(|| usage(format!("{}: no venue {:?}", a.config.display(), a.venue)))?;
    if venue.protocol != Protocol::BinanceSbe {
        return Err(usage(format!(
            "venue {:?} is not a binance_sbe venue: its feed does not come from Binance",
            a.venue
        )));
    }
    let destination = match a.to {
        Some(to) => to,
        None => {
            let d = venue.destinations.first().ok_or_else(|| {
                usage(format!("venue {:?} has no destination; give --to", a.venue))
            })?;
            if d.prefix != 32 {
                return Err(usage(format!(
                    "venue {:?}'s first destination is a range ({}/{}): give --to",
                    a.venue, d.ip, d.prefix
                )));
            }
            SocketAddr::from((d.ip, d.port))
        }
    };
    let mode = if a.json { Mode::Json } else { Mode::Sbe };
    let url = match a.url {
        Some(u) => u,
        None => {
            let symbols: Vec<String> = venue.symbols.iter().map(|(s, _)| s.clone()).collect();
            if symbols.is_empty() {
                return Err(usage(format!(
                    "venue {:?} lists no symbols to subscribe to; give --url",
                    a.venue
                )));
            }
            stream_url(mode, &symbols)
        }
    };
    let key_text = match &a.api_key_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("reading the API key file {}", f.display()))?,
        ),
        None => std::env::var(API_KEY_ENV).ok(),
    };
    let api_key = key_text.as_deref().map(ApiKey::new).transpose()?;
    if mode == Mode::Sbe && api_key.is_none() {
        return Err(usage(format!(
            "the SBE stream needs an API key: --api-key-file FILE or {API_KEY_ENV}"
        )));
    }
    let mut o = Options::new(url, mode, destination);
    o.api_key = api_key;
    if let Some(ca) = &a.ca {
        o.extra_roots = read_certificates(ca).map_err(anyhow::Error::msg)?;
        o.only_extra_roots = a.ca_only;
    }
    if let Some(ip) = a.bind {
        o.bind = SocketAddr::from((ip, 0));
    }
    o.max_age = seconds("max-age", a.max_age)?;
    o.stall = seconds("stall", a.stall)?;
    let duration = a.duration.map(|d| seconds("duration", d)).transpose()?;

    crate::catch_stop_signals();
    let stop = crate::stop_flag();
    let started = Instant::now();
    progress!(
        "bridge: {} -> {destination} ({}; Ctrl-C to stop)",
        o.url,
        if a.json {
            "JSON converted to SBE 10001"
        } else {
            "SBE, unchanged"
        }
    );
    let stats = run_blocking(&o, &stop, |s| {
        progress!(
            "bridge: {} forwarded, {} dropped, {} reconnects, {:.0} s",
            s.forwarded,
            s.dropped(),
            s.reconnects,
            started.elapsed().as_secs_f64()
        );
        if duration.is_some_and(|d| started.elapsed() >= d) {
            stop.store(true, Ordering::Relaxed);
        }
    })?;
    println!("bridge: {stats}");
    Ok(())
}
