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
    let mask = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    (word >> lsb) & mask
}

pub const fn field_put(value: u64, lsb: u32, width: u32) -> u64 {
    let mask = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    (value & mask) << lsb
}

/// The symbol table's hash for one way: NH over the key's 16-bit little-endian words (pairs of
/// (word + key) multiplied, summed mod 2^32), then murmur3's fmix32 finaliser so that keys differing
/// in a few bits spread over the whole table; the low `sym_hash_bits` bits are the slot. The RTL
/// (tc_sym_stage.v) computes the same function.
pub fn sym_hash(way: usize, key: &[u8; SYM_KEY_BYTES]) -> u32 {
    let mut padded = [0u8; 2 * SYM_HASH_WORDS];
    padded[..SYM_KEY_BYTES].copy_from_slice(key);
    let k = &SYM_NH_KEYS[way];
    let mut h = 0u32;
    for p in 0..SYM_HASH_WORDS / 2 {
        let m0 = u16::from_le_bytes([padded[4 * p], padded[4 * p + 1]]);
        let m1 = u16::from_le_bytes([padded[4 * p + 2], padded[4 * p + 3]]);
        let a = m0.wrapping_add(k[2 * p]) as u32;
        let b = m1.wrapping_add(k[2 * p + 1]) as u32;
        h = h.wrapping_add(a * b);
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h & ((1u32 << params::SYM_HASH_BITS) - 1)
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
    fn hash_spreads_structured_names() {
        // names differing in a digit or two must not pile into a few slots
        let mut slots = std::collections::HashSet::new();
        for i in 0..600u32 {
            let name = format!("SYM{i}");
            let key = sym_key((i % 8) as u8, name.as_bytes()).unwrap();
            slots.insert(sym_hash(0, &key));
            assert!(sym_hash(1, &key) < params::SYM_SLOTS as u32);
        }
        assert!(slots.len() > 400, "only {} distinct slots", slots.len());
    }
}
