//! Verilated models of the tickcross RTL.

pub mod model;

#[allow(clippy::all)]
pub mod ffi {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}
