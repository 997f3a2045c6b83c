//! Verilated models of the tickcross RTL, and the simulated card built on them.
//!
//! The build script runs Verilator on `hdl/` (with the headers `tickcross-bindings` generates) for
//! `tickcross_top` and for the per-module test wrapper `sim/tb/tc_units_tb.v`, and generates
//! the Rust side of each model's ports ([`ffi`]). [`model`] drives a model one clock cycle per
//! call; [`device`] is the simulated card: the Verilated `tickcross_top` serving its BAR as a
//! shared region that the host maps exactly as it maps a card's BAR, and writing event records by
//! modelled DMA into the host's memory (a second shared file). The host reaches it through
//! `tickcross-device` (feature `sim`); `tickcross sim` runs it in its own process.

// Every unsafe block says why it is sound (FFI into the models, the shared BAR region).
#![deny(clippy::undocumented_unsafe_blocks)]

// Links the Verilator runtime the models call into (nothing in Rust names it).
extern crate tickcross_verilated;

pub mod device;
pub mod model;

#[allow(clippy::all)]
pub mod ffi {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}
