//! Trading on the detections: fees, risk, inventory, execution, simulated venues, P&L, journal.

pub mod venue;
