//! The detector interface that the hardware path and the software path both implement.

use crate::counters::Counters;
use crate::event::Event;
use crate::frame::Frame;
use crate::quotes::QuoteTable;

/// Errors of a detection path.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("device: {0}")]
    Device(String),
    #[error("simulator: {0}")]
    Sim(String),
    #[error("configuration: {0}")]
    Config(String),
}

/// A detection path: frames in (in order), events, counters and the quote table out.
pub trait Detector {
    /// A short name for reports ("hw", "sw").
    fn name(&self) -> &'static str;
    /// Offers the next frame of the stream.
    fn push_frame(&mut self, frame: &Frame) -> Result<(), DetectError>;
    /// Appends the events detected so far (in sequence order) to `out`.
    fn drain_events(&mut self, out: &mut Vec<Event>) -> Result<(), DetectError>;
    /// Returns once every pushed frame has been completely processed.
    fn flush(&mut self) -> Result<(), DetectError>;
    /// The counters, after `flush` exact.
    fn counters(&mut self) -> Result<Counters, DetectError>;
    /// The quote table, after `flush` exact.
    fn quotes(&mut self) -> Result<QuoteTable, DetectError>;
}
