//! The tickcross hardware/software contract.
//!
//! `contract.toml` is the single source of the register map, counters and event record layout.
//! The build script generates this crate's constants and the Verilog header the RTL includes
//! (`VERILOG_HEADER`); the simulator build writes that header for Verilator, and
//! `hdl/tickcross_contract.vh` is a checked-in copy for tools outside cargo.

#![allow(clippy::unreadable_literal)]

include!(concat!(env!("OUT_DIR"), "/contract.rs"));

pub mod gen;

/// The Verilog header generated from the same contract as the constants in this crate.
pub const VERILOG_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/tickcross_contract.vh"));

/// The contract source, for tools that want to print or re-check it.
pub const CONTRACT_TOML: &str = include_str!("../contract.toml");

/// Bit field helpers for 64-bit registers.
pub const fn field_get(word: u64, lsb: u32, width: u32) -> u64 {
    let mask = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
    (word >> lsb) & mask
}

pub const fn field_put(value: u64, lsb: u32, width: u32) -> u64 {
    let mask = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
    (value & mask) << lsb
}

/// The H3 hash of the symbol table: `way` selects the matrix; the key is the name zero-padded to
/// `sym_name_bytes`, then the name length, then the venue index.
pub fn sym_hash(way: usize, key: &[u8; SYM_KEY_BYTES]) -> u32 {
    let mut h = 0u32;
    for (bit, mask) in SYM_HASH_MASKS[way].iter().enumerate() {
        let mut parity = 0u8;
        for (k, m) in key.iter().zip(mask.iter()) {
            parity ^= k & m;
        }
        h |= ((parity.count_ones() & 1) as u32) << bit;
    }
    h
}

/// Builds the symbol hash key. Names longer than the table's name width cannot be stored.
pub fn sym_key(venue: u8, name: &[u8]) -> Option<[u8; SYM_KEY_BYTES]> {
    let n = params::SYM_NAME_BYTES as usize;
    if name.len() > n {
        return None;
    }
    let mut key = [0u8; SYM_KEY_BYTES];
    key[..name.len()].copy_from_slice(name);
    key[n] = name.len() as u8;
    key[n + 1] = venue;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_texts_come_from_the_checked_in_contract() {
        let c = gen::parse(CONTRACT_TOML).unwrap();
        assert_eq!(gen::verilog(&c), VERILOG_HEADER);
    }

    #[test]
    fn block_chain_is_ordered_and_terminated() {
        for pair in BLOCKS.windows(2) {
            assert!(pair[0].1 < pair[1].1);
        }
        assert_eq!(blocks::quotes::NEXT, 0);
        assert_eq!(blocks::control::NEXT, blocks::clock::OFFSET);
    }

    #[test]
    fn hash_is_linear_over_xor() {
        // H3 is linear: h(a ^ b) == h(a) ^ h(b). A property of the matrices, so it checks the
        // parity code as well as the generation.
        let a = sym_key(1, b"BTCUSDT").unwrap();
        let b = sym_key(2, b"ETH-PERPETUAL").unwrap();
        let mut x = [0u8; SYM_KEY_BYTES];
        for i in 0..SYM_KEY_BYTES {
            x[i] = a[i] ^ b[i];
        }
        for way in 0..2 {
            assert_eq!(sym_hash(way, &x), sym_hash(way, &a) ^ sym_hash(way, &b));
            assert!(sym_hash(way, &a) < params::SYM_SLOTS as u32);
        }
    }
}
