//! tickcross test kit, for tests, benchmarks and demos only: never a dependency of the release
//! binary. The QuickFIX acceptor harness ([`fix_acceptor`]) builds the C++ acceptor of
//! `tests/fix/` with g++ on first use.

pub mod fix_acceptor;
