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

/// The symbol table's hash for one way: double tabulation. The key's bytes index the first
/// tables (one per key position), whose XOR is a derived key of `SYM_HASH_CHARS` bytes; those
/// bytes index the way's second tables, whose XOR is the slot. Every step is a table lookup or an
/// XOR, so the RTL (tc_lookup.v) computes it in a few LUT levels; unlike a linear (H3) or a
/// simple tabulation hash, structured name sets (digits in a few positions, Deribit option names)
/// place as well as with a random hash. Tables: `gen::sym_hash_tables`, from `sym_hash_seed`.
pub fn sym_hash(way: usize, key: &[u8; SYM_KEY_BYTES]) -> u32 {
    let mut y = 0u32;
    for (x, &b) in key.iter().enumerate() {
        y ^= SYM_T1[x][b as usize];
    }
    let mut h = 0u16;
    for (j, t) in SYM_T2[way].iter().enumerate() {
        h ^= t[((y >> (8 * j)) & 0xff) as usize];
    }
    h as u32
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
