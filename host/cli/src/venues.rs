//! The venue factory: a configured venue's `order_entry` becomes the adapter that sends its
//! orders (FIX 4.4 today). Trading knows only the `Venue` trait and its simulated venue; this is
//! the one place that knows which adapters exist.

use std::time::Duration;

use tickcross_fix::FixVenue;
use tickcross_trading::run::VenueAdapters;
use tickcross_trading::venue::Venue;

use crate::config::Config;

/// Starts the order-entry adapters a configuration names.
pub struct OrderEntryAdapters<'a> {
    pub config: &'a Config,
}

impl VenueAdapters for OrderEntryAdapters<'_> {
    fn start(&self, index: usize, name: &str) -> Result<Box<dyn Venue>, String> {
        let oe = self
            .config
            .order_entry(index)
            .ok_or_else(|| format!("venue {name:?}: no order_entry to start"))?;
        let settings = oe.settings(name);
        let fv = FixVenue::start(&settings, name).map_err(|e| e.to_string())?;
        fv.wait_connected(Duration::from_secs(settings.logon_timeout_s))?;
        tracing::info!(venue = %name, host = %settings.host, port = settings.port, "FIX order entry logged on");
        Ok(Box::new(fv))
    }
}
