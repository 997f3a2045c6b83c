//! The Verilator runtime as a static library. Models built by `tickcross-sim` link against it.
//! Nothing to call from Rust: depending on this crate is what links the runtime.
