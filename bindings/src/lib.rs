//! The tickcross hardware/software contract.
//!
//! `contract.toml` is the single source of the register map, counters, event record layout and
//! the codes the RTL stages share. The build script generates this crate's constants and typed
//! access, and the Verilog headers the RTL includes (`VERILOG_HEADER`, `PIPELINE_HEADER`); the
//! simulator build writes those headers for Verilator, and `hdl/tickcross_contract.vh` and
//! `hdl/tc_pipeline.vh` are checked-in copies for tools outside cargo.
//!
//! Typed access, all generated:
//! - every register with fields is a struct in its block's module (`blocks::control::Cmd`,
//!   `blocks::venues::Filter`, ...) with `pack(&self) -> Result<u64, FieldError>` and
//!   `unpack(u64) -> Self`, and implements [`FieldRegister`]. `pack` refuses a value wider than
//!   its field instead of truncating it; `unpack` ignores bits outside every field.
//! - the event record is [`record::EventRecord`] (`decode(&[u64])`, `from_words`, `to_words`,
//!   `encode`), its word structs are in [`record`] (`record::Meta`), and
//!   [`RECORD_USED_WORDS`] is the number of words it carries, from the contract's word list.
//! - the pipeline codes are enums in [`pipeline`] (`pipeline::Kind`, `pipeline::Reason`) with
//!   `code`/`from_code`, and the per-frame count layout is `pipeline::counts`.

#![allow(clippy::unreadable_literal)]

include!(concat!(env!("OUT_DIR"), "/contract.rs"));

pub mod gen;

/// The Verilog header generated from the same contract as the constants in this crate.
pub const VERILOG_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/tickcross_contract.vh"));

/// The pipeline header (hdl/tc_pipeline.vh) generated from the same contract.
pub const PIPELINE_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/tc_pipeline.vh"));

/// The symbol hash tables as constants for tc_lookup (hdl/tc_sym_tables.vh).
pub const SYM_TABLES_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/tc_sym_tables.vh"));

/// Every generated Verilog header as (path in the repository, text). Builds that compile the RTL
/// write these over the checked-in copies, so the RTL always sees what this crate was built from.
pub const VERILOG_HEADERS: &[(&str, &str)] = &[
    ("hdl/tickcross_contract.vh", VERILOG_HEADER),
    ("hdl/tc_pipeline.vh", PIPELINE_HEADER),
    ("hdl/tc_sym_tables.vh", SYM_TABLES_HEADER),
];

/// The contract source, for tools that want to print or re-check it.
pub const CONTRACT_TOML: &str = include_str!("../contract.toml");

/// One field of a register: bits `lsb..lsb + width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub lsb: u32,
    pub width: u32,
}

/// A field value that does not fit its field's width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `block.register` (`record.meta` for a record word).
    pub register: &'static str,
    pub field: &'static str,
    pub value: u64,
    pub width: u32,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{} = {} does not fit its {}-bit field",
            self.register, self.field, self.value, self.width
        )
    }
}

impl std::error::Error for FieldError {}

/// An event record shorter than its used words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTooShort {
    pub words: usize,
}

impl std::fmt::Display for RecordTooShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an event record needs {RECORD_USED_WORDS} words, got {}",
            self.words
        )
    }
}

impl std::error::Error for RecordTooShort {}

/// A register made of fields, as generated from the contract: the same `pack`/`unpack` as the
/// type's own methods, plus its layout and field-by-field access for code that handles every
/// register alike (tests, dumps).
pub trait FieldRegister: Sized + Copy + PartialEq + std::fmt::Debug {
    /// `block.register`.
    const NAME: &'static str;
    /// The fields, in contract order.
    const FIELDS: &'static [FieldSpec];
    /// Bits that belong to a field.
    const MASK: u64;
    fn pack(&self) -> Result<u64, FieldError>;
    fn unpack(raw: u64) -> Self;
    /// Field values in `FIELDS` order (a bool as 0 or 1).
    fn values(&self) -> Vec<u64>;
    /// From field values in `FIELDS` order; refuses a value wider than its field.
    /// Panics when `values` does not have one value per field.
    fn from_values(values: &[u64]) -> Result<Self, FieldError>;
}

/// `from_values`' checks: one value per field, each within its width.
fn check_values<R: FieldRegister>(values: &[u64]) -> Result<(), FieldError> {
    assert_eq!(
        values.len(),
        R::FIELDS.len(),
        "{}: one value per field",
        R::NAME
    );
    for (f, &value) in R::FIELDS.iter().zip(values) {
        if f.width < 64 && value >> f.width != 0 {
            return Err(FieldError {
                register: R::NAME,
                field: f.name,
                value,
                width: f.width,
            });
        }
    }
    Ok(())
}

/// The symbol table's hash for one way: double tabulation over 4-bit characters. The key's
/// nibbles (byte x gives nibbles 2x, low, and 2x + 1, high) index the first tables (one per key
/// nibble), whose XOR is a 32-bit derived key; its `SYM_HASH_CHARS` nibbles index the way's
/// second tables, whose XOR is the slot. Every table bit is a function of one nibble (a LUT4), so
/// the RTL (tc_lookup.v) computes the hash in logic, in two register stages. Simple tabulation
/// alone (one level) would do with one stage less, and cuckoo hashing with it succeeds with
/// probability 1 - O(n^-1/3) for any key set (Patrascu and Thorup, "The power of simple
/// tabulation hashing", 2012), but that bound is not small at this size: with 640-900 keys in
/// 2 x 1024 slots, product-like name sets (coins x quotes x venues, option names, two-digit grids)
/// failed to place for 3 to 12 of 40 seeds each, against 0 or 1 of 40 with double tabulation (over
/// bytes or nibbles). Tables: `gen::sym_hash_tables`, from `sym_hash_seed`.
pub fn sym_hash(way: usize, key: &[u8; SYM_KEY_BYTES]) -> u32 {
    let mut y = 0u32;
    for (x, &b) in key.iter().enumerate() {
        y ^= SYM_T1[2 * x][(b & 0xf) as usize] ^ SYM_T1[2 * x + 1][(b >> 4) as usize];
    }
    let mut h = 0u16;
    for (j, t) in SYM_T2[way].iter().enumerate() {
        h ^= t[((y >> (SYM_CHAR_BITS * j)) & 0xf) as usize];
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
        assert_eq!(gen::pipeline_verilog(&c), PIPELINE_HEADER);
        assert_eq!(gen::sym_tables_verilog(&c), SYM_TABLES_HEADER);
    }

    /// The checked-in headers are what tools outside cargo (lint, Icarus, Yosys) compile.
    #[test]
    fn checked_in_headers_are_the_generated_ones() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (path, text) in VERILOG_HEADERS {
            let checked_in = std::fs::read_to_string(repo.join(path)).unwrap();
            assert!(
                checked_in == *text,
                "{path} is stale: run scripts/gen-contract (bindings/contract.toml changed)"
            );
        }
    }

    /// The generator refuses layouts the typed access could not represent.
    #[test]
    fn the_generator_refuses_inconsistent_layouts() {
        let cases = [
            (
                "    name = \"opcode\"\n    lsb = 16\n    width = 8",
                "    name = \"opcode\"\n    lsb = 12\n    width = 8",
                "control.cmd.opcode overlaps another field",
            ),
            (
                "  name = \"none\"\n  value = 0\n",
                "  name = \"none\"\n  value = 8\n",
                "pipeline kind.none: 8 does not fit 3 bits",
            ),
            (
                "  counter = \"drop_length\"",
                "  counter = \"messages\"",
                "pipeline reason.length: no single counter named messages",
            ),
            (
                "name = \"qty\"\nsigned = true\n",
                "name = \"qty\"\nsigned = true\n  [[record_word.field]]\n  name = \"x\"\n  lsb = 0\n  width = 1\n",
                "record.qty: a word with fields cannot be signed",
            ),
        ];
        for (from, to, want) in cases {
            assert_eq!(CONTRACT_TOML.matches(from).count(), 1, "{from}");
            let text = CONTRACT_TOML.replacen(from, to, 1);
            match gen::parse(&text) {
                Ok(_) => panic!("accepted: {want}"),
                Err(e) => assert_eq!(e, want),
            }
        }
    }

    #[test]
    fn the_used_record_words_are_the_listed_ones() {
        let c = gen::parse(CONTRACT_TOML).unwrap();
        assert_eq!(RECORD_USED_WORDS, c.record_word.len());
        assert!(RECORD_USED_WORDS as u64 <= params::RECORD_WORDS);
    }

    #[test]
    fn block_chain_is_ordered_and_terminated() {
        for pair in BLOCKS.windows(2) {
            assert!(pair[0].1 < pair[1].1);
        }
        // the last block ends the chain (dma, since the DMA ring's block was added)
        assert_eq!(BLOCKS.last().unwrap().0, "dma");
        assert_eq!(blocks::dma::NEXT, 0);
        assert_eq!(blocks::quotes::NEXT, blocks::dma::OFFSET);
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
