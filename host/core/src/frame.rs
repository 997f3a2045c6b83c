//! A frame as both detection paths receive it.

/// One Ethernet frame (without FCS), with its ingress timestamp and the MAC's bad-frame flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Ingress timestamp, ns since the Unix epoch (from the capture record in replay).
    pub ts_ns: u64,
    /// The frame bytes, from the destination MAC up to the end (no FCS).
    pub data: Vec<u8>,
    /// The MAC flagged the frame bad (AXI-Stream `tuser`); never set by captures.
    pub bad: bool,
}

impl Frame {
    pub fn new(ts_ns: u64, data: Vec<u8>) -> Frame {
        Frame {
            ts_ns,
            data,
            bad: false,
        }
    }
}
