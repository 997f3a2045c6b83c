//! The order-entry interface the engine trades through: the simulated venue of replay and tests
//! implements it, and so does a real connector (FIX 4.4). Everything here is exact decimals.
//!
//! The engine sends IOC limit orders and a cancel now and then; the venue answers with execution
//! reports and connection changes, collected by `poll`. Nothing blocks: `submit` hands the order
//! to the venue (or fails at once, e.g. while disconnected) and returns.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The engine's client order id: unique over the journal's life, so it survives restarts.
pub type OrderId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// One IOC limit order. Quantities are in the venue's own units (base asset, or contracts for a
/// venue quoted in contracts); prices in the quote asset per base unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub id: OrderId,
    /// Venue index (config order).
    pub venue: usize,
    /// Instrument index (config order).
    pub instrument: usize,
    /// The venue's symbol for the instrument (what goes on the wire, e.g. "BTCUSDT").
    pub symbol: String,
    pub side: Side,
    /// Limit price.
    pub price: Decimal,
    /// Order quantity, venue units; positive.
    pub qty: Decimal,
}

/// What an execution report says happened. IOC orders end in `Fill`, `Expired` (the unfilled
/// rest was cancelled by the venue, possibly after partial fills), `Canceled` or `Rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecKind {
    /// Accepted, nothing filled yet.
    New,
    /// `last_qty` filled; more may follow.
    PartialFill,
    /// Completely filled (final).
    Fill,
    /// Cancelled on request (final).
    Canceled,
    /// Refused by the venue (final, nothing filled).
    Rejected,
    /// IOC remainder cancelled by the venue (final).
    Expired,
}

impl ExecKind {
    /// No further report will follow for the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ExecKind::Fill | ExecKind::Canceled | ExecKind::Rejected | ExecKind::Expired
        )
    }
}

/// One execution report, in the venue's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecReport {
    pub order_id: OrderId,
    pub kind: ExecKind,
    /// Quantity filled by this report (0 when it reports no fill).
    pub last_qty: Decimal,
    /// Price of this report's fill (0 when none).
    pub last_price: Decimal,
    /// Total filled so far.
    pub cum_qty: Decimal,
    /// Still open (0 once final).
    pub leaves_qty: Decimal,
    /// The venue's reason, for rejects and cancels.
    pub text: Option<String>,
    /// When the venue produced the report (ns; simulated or wall time, as the venue's clock).
    pub ts_ns: u64,
}

/// A trade bust or correction: what the venue now says of a fill it reported earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionKind {
    /// The fill never happened (FIX ExecType H, Trade Cancel).
    Bust,
    /// The fill happened at another quantity or price (FIX ExecType G, Trade Correct).
    Correct,
}

/// A bust or correction of one earlier fill of an order, in the venue's units. The original
/// figures are the fill as it stood before (a fill corrected earlier stands at its corrected
/// figures); the corrected ones are zero for a bust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeCorrection {
    pub order_id: OrderId,
    pub kind: CorrectionKind,
    /// The venue's id of the fill it busts or corrects (FIX ExecRefID(19)).
    pub exec_ref_id: String,
    pub orig_qty: Decimal,
    pub orig_price: Decimal,
    pub new_qty: Decimal,
    pub new_price: Decimal,
    pub ts_ns: u64,
}

/// An order sent before a restart and not final in the journal: what a venue is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub order: OrderRequest,
    /// A cancel of it was sent (an order the venue ended as cancelled was ended at our asking).
    pub cancel_sent: bool,
}

/// What a venue says of an order asked about after a restart ([`Venue::request_status`]), or of
/// one of ours it reported in a mass status: its state and what has filled in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub order_id: OrderId,
    /// The order's state: `New` (working, nothing filled), `PartialFill` (working, part filled),
    /// or a final kind. None: the venue does not know the order.
    pub state: Option<ExecKind>,
    /// Total filled.
    pub cum_qty: Decimal,
    /// Average price of what filled (0 when nothing did, or when the venue does not say).
    pub avg_price: Decimal,
    /// The answer to a request for this order (else the order came up in a mass status).
    pub requested: bool,
    pub text: Option<String>,
    pub ts_ns: u64,
}

/// What `poll` collects from a venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueEvent {
    Exec(ExecReport),
    /// An earlier fill busted or corrected (possibly after the order, or its trade, ended).
    Correction(TradeCorrection),
    /// A bust or correction the venue connector could not apply (it names a fill the connector
    /// does not know, or one already busted): nothing is booked; the engine counts it.
    CorrectionRefused {
        order_id: OrderId,
        text: String,
    },
    /// The venue refused to cancel (e.g. the order was already final or is unknown).
    CancelRejected {
        order_id: OrderId,
        text: String,
    },
    /// The venue refused a message at the business level (FIX BusinessMessageReject), naming
    /// the order when it could.
    BusinessReject {
        order_id: Option<OrderId>,
        text: String,
    },
    /// An order's status (after [`Venue::request_status`]).
    Status(StatusReport),
    /// The venue refused to say what became of an order it was asked about.
    StatusRefused {
        order_id: OrderId,
        text: String,
    },
    /// The mass status asked for by [`Venue::request_status`] is complete: `reports` orders
    /// were reported.
    MassStatusEnd {
        reports: u64,
    },
    /// The session is (again) up: orders may be sent.
    Connected,
    /// The session went down; orders in flight have unknown state until reconciled or timed out.
    Disconnected {
        reason: String,
    },
}

/// Whose time a venue runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueClock {
    /// The replay's simulated time: reports are due at times the venue can name in advance
    /// (`next_due_ns`), and `poll(now)` returns those due by `now`.
    Simulated,
    /// Wall time (a real connection): reports arrive when they arrive; replay waits for them.
    Wall,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    #[error("venue is disconnected")]
    Disconnected,
    #[error("order {0} is unknown to the venue")]
    UnknownOrder(OrderId),
    #[error("{0}")]
    Other(String),
}

/// An order-entry venue.
pub trait Venue {
    /// Sends an IOC limit order. `now_ns` is the engine's clock at sending.
    fn submit(&mut self, order: &OrderRequest, now_ns: u64) -> Result<(), VenueError>;
    /// Asks the venue to cancel an open order.
    fn cancel(&mut self, order_id: OrderId, now_ns: u64) -> Result<(), VenueError>;
    /// Appends what has happened by `now_ns` (reports, connection changes), in order.
    fn poll(&mut self, now_ns: u64, out: &mut Vec<VenueEvent>) -> Result<(), VenueError>;
    /// The session is up.
    fn connected(&self) -> bool;
    fn clock(&self) -> VenueClock;
    /// For a simulated venue: the earliest time something will be due (a report, a connection
    /// change), if any. Wall-clock venues return None.
    fn next_due_ns(&self) -> Option<u64>;
    /// Ends the session cleanly (logout), waiting at most a short while.
    fn close(&mut self) {}
    /// After a restart: asks the venue what became of `orders` (sent before the restart, not
    /// final in the journal). Each answer comes back through `poll` as a `Status` (or a
    /// `StatusRefused`). Ok(true) when a mass status of every order was asked for as well: a
    /// `MassStatusEnd` follows its reports. A venue that cannot say (the default) errs, naming
    /// why, whenever `orders` is not empty.
    fn request_status(&mut self, orders: &[InFlight], _now_ns: u64) -> Result<bool, VenueError> {
        if orders.is_empty() {
            Ok(false)
        } else {
            Err(VenueError::Other(
                "this venue cannot be asked for an order's status".into(),
            ))
        }
    }
}
