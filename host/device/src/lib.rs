//! tickcross device layer: the card as the host sees it, over a mapped BAR (a real card's, or
//! the Verilated model's shared-memory region): the capability chain, programming, the event
//! ring in host memory that the card fills by DMA ([`dma`]) and the counters, and [`hwpath::HwDetector`], the hardware detection path behind the
//! same [`tickcross_core::detect::Detector`] trait as the software path.

// Every unsafe block says why it is sound (the BAR and host-ring accessors are the only ones).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bar;
pub mod device;
pub mod dma;
pub mod hwpath;
