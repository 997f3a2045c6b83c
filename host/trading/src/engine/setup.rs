//! What the engine runs with: its configuration, its errors, the kill signal, and the order
//! request an order record is sent as.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{FeeAsset, Market, TradeConfig};
use crate::journal::{self, Header, JournalError, OrderRecord};
use crate::venue::OrderRequest;

/// Set from a signal handler (SIGUSR1) or a command: the kill switch, checked before every
/// order decision.
pub static KILL_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_kill_signal(_: libc::c_int) {
    KILL_REQUESTED.store(true, Ordering::SeqCst);
}

/// Makes SIGUSR1 turn the kill switch on (`tickcross kill --pid`).
pub fn install_kill_signal() {
    let handler = on_kill_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGUSR1, handler as libc::sighandler_t);
    }
}

/// What the engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    pub trade: TradeConfig,
    pub venue_names: Vec<String>,
    pub instrument_names: Vec<String>,
    /// Digest of the config and inputs; a journal resumes only with the same.
    pub digest: String,
    /// The kill switch is on while this file exists.
    pub kill_file: Option<PathBuf>,
}

impl EngineSetup {
    pub(super) fn market(&self, venue: usize, instrument: usize) -> Option<&Market> {
        self.trade
            .venues
            .get(venue)
            .and_then(|v| v.markets.get(instrument))
            .and_then(Option::as_ref)
    }

    /// The journal header of a run with this setup.
    pub fn header(&self) -> Header {
        Header {
            version: journal::VERSION,
            digest: self.digest.clone(),
            venues: self.venue_names.clone(),
            instruments: self
                .instrument_names
                .iter()
                .zip(&self.trade.instruments)
                .map(|(n, a)| (n.clone(), a.base.clone(), a.quote.clone()))
                .collect(),
            inverse: self
                .trade
                .venues
                .iter()
                .map(|v| {
                    v.markets
                        .iter()
                        .map(|m| match m.as_ref().map(|m| m.contract) {
                            Some(crate::config::Contract::Inverse { quote_per_contract }) => {
                                Some(quote_per_contract)
                            }
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
            initial_balances: self
                .trade
                .venues
                .iter()
                .map(|v| v.balances.clone())
                .collect(),
            fees: self
                .trade
                .venues
                .iter()
                .map(|v| journal::HeaderFees {
                    taker_bps: v.fees.taker_bps,
                    asset: match &v.fees.asset {
                        FeeAsset::Quote => journal::FeeIn::Quote,
                        FeeAsset::Base => journal::FeeIn::Base,
                        FeeAsset::Other { asset, price } => journal::FeeIn::Other {
                            asset: asset.clone(),
                            price: *price,
                        },
                    },
                    volume_30d: v.fees.volume_30d,
                    tiers: v
                        .fees
                        .tiers
                        .iter()
                        .map(|t| (t.volume, t.taker_bps))
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("journal does not belong to this run: {0}")]
    Mismatch(String),
    #[error("venue {venue}: {msg}")]
    Venue { venue: String, msg: String },
}

pub fn request_of(o: &OrderRecord) -> OrderRequest {
    OrderRequest {
        id: o.id,
        venue: o.venue,
        instrument: o.instrument,
        symbol: o.symbol.clone(),
        side: o.side,
        price: o.price,
        qty: o.qty,
    }
}
