//! tickcross test kit, for tests, benchmarks and demos only: never a dependency of the release
//! binary. The QuickFIX acceptor harness ([`fix_acceptor`]) builds the C++ acceptor of
//! `tests/fix/` with g++ on first use. [`wire`] makes a private Ethernet wire (a veth pair in a
//! network namespace) for the live tests.

pub mod fix_acceptor;
#[cfg(target_os = "linux")]
pub mod wire;
