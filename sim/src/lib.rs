//! Verilated models of the tickcross RTL.

// Links the Verilator runtime the models call into (nothing in Rust names it).
extern crate tickcross_verilated;

pub mod device;
pub mod model;

#[allow(clippy::all)]
pub mod ffi {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}
