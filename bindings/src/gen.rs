//! Generates the Rust constants and the Verilog header from `contract.toml`.
//!
//! Used by `build.rs` (through `#[path]`) and by the library, so that the text the build writes
//! and the text a test compares against come from one function.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub params: BTreeMap<String, u64>,
    pub protocol: Vec<Named>,
    pub opcode: Vec<Named>,
    pub block: Vec<Block>,
    pub window: Vec<Window>,
    pub quote_word: Vec<Word>,
    pub counter: Vec<Counter>,
    pub record_word: Vec<Word>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    pub name: String,
    pub value: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub name: String,
    pub offset: u64,
    #[serde(rename = "type")]
    pub type_id: u32,
    pub version: u32,
    #[serde(default)]
    pub doc: String,
    pub reg: Vec<Reg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reg {
    pub name: String,
    pub access: String,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub doc: String,
    #[serde(default)]
    pub field: Vec<Field>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub lsb: u32,
    pub width: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub name: String,
    pub offset: u64,
    pub bytes: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word {
    pub name: String,
    #[serde(default)]
    pub field: Vec<Field>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counter {
    pub name: String,
    #[serde(default)]
    pub doc: String,
    #[serde(default)]
    pub count: Option<u64>,
}

/// Offset of a register's first word inside its block: two header words, then the registers
/// in order (arrays take `count` words).
pub fn reg_offsets(block: &Block) -> Vec<u64> {
    let mut off = 16;
    block
        .reg
        .iter()
        .map(|r| {
            let o = off;
            off += 8 * r.count.unwrap_or(1);
            o
        })
        .collect()
}

fn block_bytes(block: &Block) -> u64 {
    16 + block
        .reg
        .iter()
        .map(|r| 8 * r.count.unwrap_or(1))
        .sum::<u64>()
}

/// Counter name and index pairs, arrays expanded as `name0`, `name1`, ...
pub fn counter_indexes(c: &Contract) -> Vec<(String, u64, Option<u64>)> {
    let mut out = Vec::new();
    let mut idx = 0;
    for ctr in &c.counter {
        out.push((ctr.name.clone(), idx, ctr.count));
        idx += ctr.count.unwrap_or(1);
    }
    out
}

pub fn n_counters(c: &Contract) -> u64 {
    c.counter.iter().map(|x| x.count.unwrap_or(1)).sum()
}

/// splitmix64: a fixed, portable generator for the hash matrices.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Key width of the symbol hash: name bytes, then the length byte, then the venue byte.
pub fn sym_key_bytes(c: &Contract) -> usize {
    c.params["sym_name_bytes"] as usize + 2
}

/// Derived characters of the symbol hash: the first tabulation maps the key to this many bytes.
pub const SYM_HASH_CHARS: usize = 4;

/// The symbol hash's tables (double tabulation): `t1[x][b]` is the derived key's contribution
/// (SYM_HASH_CHARS bytes, little-endian in a u32) of byte value `b` at key position `x`;
/// `t2[way][j][b]` the slot contribution of derived byte `j` with value `b`. Both from splitmix64
/// seeded with `sym_hash_seed`, t1 first (two entries per draw), then t2 (four per draw).
pub struct SymHashTables {
    pub t1: Vec<[u32; 256]>,
    pub t2: Vec<Vec<[u16; 256]>>,
}

pub fn sym_hash_tables(c: &Contract) -> SymHashTables {
    let mut state = c.params["sym_hash_seed"];
    let slot_mask = ((1u64 << c.params["sym_hash_bits"]) - 1) as u16;
    let mut t1 = vec![[0u32; 256]; sym_key_bytes(c)];
    for row in t1.iter_mut() {
        for pair in row.chunks_mut(2) {
            let z = splitmix64(&mut state);
            pair[0] = z as u32;
            pair[1] = (z >> 32) as u32;
        }
    }
    let mut t2 = Vec::new();
    for _ in 0..c.params["sym_ways"] {
        let mut way = vec![[0u16; 256]; SYM_HASH_CHARS];
        for row in way.iter_mut() {
            for quad in row.chunks_mut(4) {
                let z = splitmix64(&mut state);
                for (j, e) in quad.iter_mut().enumerate() {
                    *e = (z >> (16 * j)) as u16 & slot_mask;
                }
            }
        }
        t2.push(way);
    }
    SymHashTables { t1, t2 }
}

pub fn parse(text: &str) -> Result<Contract, String> {
    let c: Contract = toml::from_str(text).map_err(|e| format!("contract.toml: {e}"))?;
    check(&c)?;
    Ok(c)
}

/// Structural checks: blocks and windows inside the BAR, no overlaps, fields inside 64 bits.
fn check(c: &Contract) -> Result<(), String> {
    let bar = c.params["bar_bytes"];
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for b in &c.block {
        spans.push((
            b.offset,
            b.offset + block_bytes(b),
            format!("block {}", b.name),
        ));
        for r in &b.reg {
            for f in &r.field {
                if f.lsb + f.width > 64 || f.width == 0 {
                    return Err(format!(
                        "{}.{}.{} does not fit 64 bits",
                        b.name, r.name, f.name
                    ));
                }
            }
            if !matches!(r.access.as_str(), "ro" | "rw") {
                return Err(format!("{}.{}: access must be ro or rw", b.name, r.name));
            }
        }
    }
    for w in &c.window {
        spans.push((w.offset, w.offset + w.bytes, format!("window {}", w.name)));
    }
    spans.sort();
    for pair in spans.windows(2) {
        if pair[0].1 > pair[1].0 {
            return Err(format!("{} overlaps {}", pair[0].2, pair[1].2));
        }
    }
    if let Some(last) = spans.last() {
        if last.1 > bar {
            return Err(format!("{} ends past the BAR", last.2));
        }
    }
    let ring = c.params["ring_records"] * c.params["record_words"] * 8;
    let quotes = c.params["n_venues"] * c.params["n_instruments"] * c.params["quote_entry_bytes"];
    for w in &c.window {
        let need = match w.name.as_str() {
            "ring" => ring,
            "quotes" => quotes,
            _ => continue,
        };
        if w.bytes != need {
            return Err(format!(
                "window {} is {} bytes, its contents need {}",
                w.name, w.bytes, need
            ));
        }
    }
    if c.record_word.len() as u64 > c.params["record_words"] {
        return Err("more record words than record_words".into());
    }
    if n_counters(c) > 64 {
        return Err("more than 64 counters".into());
    }
    Ok(())
}

fn up(s: &str) -> String {
    s.to_ascii_uppercase()
}

/// The Verilog header: `define macros only, so every tool reads it the same way.
pub fn verilog(c: &Contract) -> String {
    let mut v = String::new();
    let bits = c.params["bar_addr_bits"];
    let _ = writeln!(
        v,
        "// Generated from bindings/contract.toml by tickcross-bindings. Do not edit."
    );
    let _ = writeln!(
        v,
        "// Regenerate with scripts/gen-contract; a test fails when this copy is stale."
    );
    let _ = writeln!(v, "`ifndef TICKCROSS_CONTRACT_VH");
    let _ = writeln!(v, "`define TICKCROSS_CONTRACT_VH");
    let _ = writeln!(v);
    for (k, val) in &c.params {
        let _ = writeln!(v, "`define TC_{} {}", up(k), val);
    }
    let _ = writeln!(v);
    for p in &c.protocol {
        let _ = writeln!(v, "`define TC_PROTO_{} 2'd{}", up(&p.name), p.value);
    }
    for o in &c.opcode {
        let _ = writeln!(v, "`define TC_OP_{} 8'd{}", up(&o.name), o.value);
    }
    let _ = writeln!(v);
    for (i, b) in c.block.iter().enumerate() {
        let next = c.block.get(i + 1).map(|n| n.offset).unwrap_or(0);
        let bn = up(&b.name);
        let _ = writeln!(v, "// block {}: {}", b.name, b.doc);
        let _ = writeln!(v, "`define TC_BLK_{bn}_BASE {bits}'h{:05x}", b.offset);
        let _ = writeln!(v, "`define TC_BLK_{bn}_TYPE 32'h{:08x}", b.type_id);
        let _ = writeln!(v, "`define TC_BLK_{bn}_VERSION 32'd{}", b.version);
        let _ = writeln!(v, "`define TC_BLK_{bn}_NEXT {bits}'h{:05x}", next);
        for (r, off) in b.reg.iter().zip(reg_offsets(b)) {
            let rn = up(&r.name);
            let _ = writeln!(v, "`define TC_REG_{bn}_{rn} {bits}'h{:05x}", b.offset + off);
            if let Some(n) = r.count {
                let _ = writeln!(v, "`define TC_REG_{bn}_{rn}_COUNT {n}");
            }
            for f in &r.field {
                let fname = up(&f.name);
                let _ = writeln!(v, "`define TC_REG_{bn}_{rn}_{fname}_LSB {}", f.lsb);
                let _ = writeln!(v, "`define TC_REG_{bn}_{rn}_{fname}_W {}", f.width);
            }
        }
        let _ = writeln!(v);
    }
    for w in &c.window {
        let _ = writeln!(
            v,
            "`define TC_WIN_{}_BASE {bits}'h{:05x}",
            up(&w.name),
            w.offset
        );
        let _ = writeln!(v, "`define TC_WIN_{}_BYTES {}", up(&w.name), w.bytes);
    }
    let _ = writeln!(v);
    for (i, w) in c.quote_word.iter().enumerate() {
        let _ = writeln!(v, "`define TC_QW_{} {}", up(&w.name), i);
    }
    let _ = writeln!(v);
    for (name, idx, count) in counter_indexes(c) {
        let _ = writeln!(v, "`define TC_CNT_{} {}", up(&name), idx);
        if let Some(n) = count {
            let _ = writeln!(v, "`define TC_CNT_{}_COUNT {}", up(&name), n);
        }
    }
    let _ = writeln!(v, "`define TC_N_COUNTERS {}", n_counters(c));
    let _ = writeln!(v);
    for (i, w) in c.record_word.iter().enumerate() {
        let wn = up(&w.name);
        let _ = writeln!(v, "`define TC_REC_{wn} {i}");
        for f in &w.field {
            let _ = writeln!(v, "`define TC_REC_{wn}_{}_LSB {}", up(&f.name), f.lsb);
            let _ = writeln!(v, "`define TC_REC_{wn}_{}_W {}", up(&f.name), f.width);
        }
    }
    let _ = writeln!(v);
    // symbol hash tables, as case items `b: v = entry;` (a ROM per table in synthesis, a lookup
    // table in simulation)
    let tables = sym_hash_tables(c);
    let bits = c.params["sym_hash_bits"] as usize;
    let _ = writeln!(v, "`define TC_SYM_KEY_BYTES {}", sym_key_bytes(c));
    let _ = writeln!(v, "`define TC_SYM_HASH_CHARS {SYM_HASH_CHARS}");
    for (x, row) in tables.t1.iter().enumerate() {
        let mut items = String::new();
        for (b, e) in row.iter().enumerate() {
            let _ = write!(items, " 8'd{b}: v = 32'h{e:08x};");
        }
        let _ = writeln!(v, "`define TC_SYM_T1_CASES_{x}{items}");
    }
    for (way, t) in tables.t2.iter().enumerate() {
        for (j, row) in t.iter().enumerate() {
            let mut items = String::new();
            for (b, e) in row.iter().enumerate() {
                let _ = write!(items, " 8'd{b}: v = {bits}'h{e:x};");
            }
            let _ = writeln!(v, "`define TC_SYM_T2_CASES_{way}_{j}{items}");
        }
    }
    let _ = writeln!(v);
    let _ = writeln!(v, "`endif");
    v
}

fn rust_ident(s: &str) -> String {
    up(s)
}

/// The Rust constants, included by the library.
pub fn rust(c: &Contract) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "// Generated from bindings/contract.toml. Do not edit.");
    let _ = writeln!(
        r,
        "/// Sizing parameters shared by the hardware and the software path."
    );
    let _ = writeln!(r, "pub mod params {{");
    for (k, val) in &c.params {
        let _ = writeln!(r, "    pub const {}: u64 = {:#x};", rust_ident(k), val);
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(
        r,
        "/// Venue protocol codes, as programmed in the venue table."
    );
    let _ = writeln!(r, "pub mod protocol {{");
    for p in &c.protocol {
        let _ = writeln!(
            r,
            "    pub const {}: u64 = {};",
            rust_ident(&p.name),
            p.value
        );
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(r, "/// Command opcodes for the control block's mailbox.");
    let _ = writeln!(r, "pub mod opcode {{");
    for o in &c.opcode {
        let _ = writeln!(
            r,
            "    pub const {}: u64 = {};",
            rust_ident(&o.name),
            o.value
        );
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(
        r,
        "/// Register blocks: offsets of registers are relative to the block's base."
    );
    let _ = writeln!(r, "pub mod blocks {{");
    for (i, b) in c.block.iter().enumerate() {
        let next = c.block.get(i + 1).map(|n| n.offset).unwrap_or(0);
        let _ = writeln!(r, "    /// {}", b.doc);
        let _ = writeln!(r, "    pub mod {} {{", b.name);
        let _ = writeln!(r, "        pub const OFFSET: u64 = {:#x};", b.offset);
        let _ = writeln!(r, "        pub const TYPE: u32 = {:#x};", b.type_id);
        let _ = writeln!(r, "        pub const VERSION: u32 = {};", b.version);
        let _ = writeln!(r, "        pub const NEXT: u64 = {:#x};", next);
        for (reg, off) in b.reg.iter().zip(reg_offsets(b)) {
            if !reg.doc.is_empty() {
                let _ = writeln!(r, "        /// {}", reg.doc);
            }
            let rn = rust_ident(&reg.name);
            let _ = writeln!(r, "        pub const {rn}: u64 = {off:#x};");
            let _ = writeln!(
                r,
                "        pub const {rn}_RW: bool = {};",
                reg.access == "rw"
            );
            if let Some(n) = reg.count {
                let _ = writeln!(r, "        pub const {rn}_COUNT: u64 = {n};");
            }
            for f in &reg.field {
                let fname = rust_ident(&f.name);
                let _ = writeln!(r, "        pub const {rn}_{fname}_LSB: u32 = {};", f.lsb);
                let _ = writeln!(r, "        pub const {rn}_{fname}_W: u32 = {};", f.width);
            }
        }
        let _ = writeln!(r, "    }}");
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(
        r,
        "/// Every block as (name, offset, type, version), in chain order."
    );
    let _ = writeln!(r, "pub const BLOCKS: &[(&str, u64, u32, u32)] = &[");
    for b in &c.block {
        let _ = writeln!(
            r,
            "    (\"{}\", {:#x}, {:#x}, {}),",
            b.name, b.offset, b.type_id, b.version
        );
    }
    let _ = writeln!(r, "];");
    let _ = writeln!(
        r,
        "/// Registers the host writes, as absolute (offset, words) spans."
    );
    let _ = writeln!(r, "pub const RW_SPANS: &[(u64, u64)] = &[");
    for b in &c.block {
        for (reg, off) in b.reg.iter().zip(reg_offsets(b)) {
            if reg.access == "rw" {
                let _ = writeln!(
                    r,
                    "    ({:#x}, {}),",
                    b.offset + off,
                    reg.count.unwrap_or(1)
                );
            }
        }
    }
    let _ = writeln!(r, "];");
    let _ = writeln!(
        r,
        "/// Registers the device writes (headers included), as absolute (offset, words) spans."
    );
    let _ = writeln!(r, "pub const RO_SPANS: &[(u64, u64)] = &[");
    for b in &c.block {
        let _ = writeln!(r, "    ({:#x}, 2),", b.offset);
        for (reg, off) in b.reg.iter().zip(reg_offsets(b)) {
            if reg.access == "ro" {
                let _ = writeln!(
                    r,
                    "    ({:#x}, {}),",
                    b.offset + off,
                    reg.count.unwrap_or(1)
                );
            }
        }
    }
    let _ = writeln!(r, "];");
    let _ = writeln!(r, "/// Memory windows of the BAR.");
    let _ = writeln!(r, "pub mod windows {{");
    for w in &c.window {
        let _ = writeln!(
            r,
            "    pub const {}_OFFSET: u64 = {:#x};",
            rust_ident(&w.name),
            w.offset
        );
        let _ = writeln!(
            r,
            "    pub const {}_BYTES: u64 = {:#x};",
            rust_ident(&w.name),
            w.bytes
        );
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(
        r,
        "/// Word indexes of a quote-table entry in the quotes window."
    );
    let _ = writeln!(r, "pub mod quote_word {{");
    for (i, w) in c.quote_word.iter().enumerate() {
        let _ = writeln!(r, "    pub const {}: usize = {i};", rust_ident(&w.name));
    }
    let _ = writeln!(r, "}}");
    let _ = writeln!(r, "/// Counter indexes (arrays: first element).");
    let _ = writeln!(r, "pub mod counter {{");
    for (name, idx, count) in counter_indexes(c) {
        let _ = writeln!(r, "    pub const {}: usize = {idx};", rust_ident(&name));
        if let Some(n) = count {
            let _ = writeln!(r, "    pub const {}_COUNT: usize = {n};", rust_ident(&name));
        }
    }
    let _ = writeln!(r, "    pub const N: usize = {};", n_counters(c));
    let _ = writeln!(r, "}}");
    let _ = writeln!(
        r,
        "/// Counter names in index order (arrays expanded as name[i])."
    );
    let _ = writeln!(r, "pub const COUNTER_NAMES: &[&str] = &[");
    for ctr in &c.counter {
        match ctr.count {
            None => {
                let _ = writeln!(r, "    \"{}\",", ctr.name);
            }
            Some(n) => {
                for i in 0..n {
                    let _ = writeln!(r, "    \"{}[{i}]\",", ctr.name);
                }
            }
        }
    }
    let _ = writeln!(r, "];");
    let _ = writeln!(
        r,
        "/// Counter descriptions, one per [[counter]] entry: (name, doc)."
    );
    let _ = writeln!(r, "pub const COUNTER_DOCS: &[(&str, &str)] = &[");
    for ctr in &c.counter {
        let _ = writeln!(r, "    ({:?}, {:?}),", ctr.name, ctr.doc);
    }
    let _ = writeln!(r, "];");
    let _ = writeln!(r, "/// Event record word indexes and fields.");
    let _ = writeln!(r, "pub mod record {{");
    for (i, w) in c.record_word.iter().enumerate() {
        let wn = rust_ident(&w.name);
        let _ = writeln!(r, "    pub const {wn}: usize = {i};");
        for f in &w.field {
            let fname = rust_ident(&f.name);
            let _ = writeln!(r, "    pub const {wn}_{fname}_LSB: u32 = {};", f.lsb);
            let _ = writeln!(r, "    pub const {wn}_{fname}_W: u32 = {};", f.width);
        }
    }
    let _ = writeln!(r, "}}");
    let key = sym_key_bytes(c);
    let _ = writeln!(
        r,
        "/// Symbol hash key length: name bytes, length byte, venue byte."
    );
    let _ = writeln!(r, "pub const SYM_KEY_BYTES: usize = {key};");
    let _ = writeln!(
        r,
        "/// Derived characters of the symbol hash (bytes of the first tabulation's result)."
    );
    let _ = writeln!(r, "pub const SYM_HASH_CHARS: usize = {SYM_HASH_CHARS};");
    let tables = sym_hash_tables(c);
    let _ = writeln!(
        r,
        "/// First tabulation: derived key contribution of byte value b at key position x."
    );
    let _ = writeln!(
        r,
        "pub static SYM_T1: [[u32; 256]; {key}] = {:?};",
        tables.t1
    );
    let _ = writeln!(
        r,
        "/// Second tabulation, per way: slot contribution of derived byte j with value b."
    );
    let _ = writeln!(
        r,
        "pub static SYM_T2: [[[u16; 256]; {SYM_HASH_CHARS}]; {}] = {:?};",
        c.params["sym_ways"], tables.t2
    );
    r
}
