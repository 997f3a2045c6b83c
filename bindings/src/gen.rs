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
    pub pipeline: Vec<Pipeline>,
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
    /// The word is an i64 in the typed record (record words only).
    #[serde(default)]
    pub signed: bool,
    #[serde(default)]
    pub field: Vec<Field>,
}

/// A set of codes or a packed layout shared by the pipeline stages (hdl/tc_pipeline.vh).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    pub name: String,
    /// Macro prefix: `TC_<prefix>_<NAME>`.
    pub prefix: String,
    /// Bits of a code (codes only).
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub doc: String,
    #[serde(default)]
    pub code: Vec<Code>,
    #[serde(default)]
    pub field: Vec<PipeField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub name: String,
    pub value: u64,
    #[serde(default)]
    pub doc: String,
    /// The counter (a [[counter]] name) this code adds one to.
    #[serde(default)]
    pub counter: Option<String>,
}

/// A field of a packed pipeline layout; fields follow each other from bit 0.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipeField {
    pub name: String,
    pub width: u32,
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

/// Bits of one character of the symbol hash: both tabulations index their tables with 4-bit
/// characters (nibbles), so that every table bit is one 4-input function (a LUT4) and the whole
/// hash is logic: no block RAM, two register stages in tc_lookup.
pub const SYM_CHAR_BITS: usize = 4;

/// Characters of the derived key (the first tabulation's 32-bit result).
pub const SYM_HASH_CHARS: usize = 8;

/// The symbol hash's tables (double tabulation over 4-bit characters): `t1[q][c]` is the derived
/// key's contribution (32 bits) of key nibble `q` (byte `q / 2`, low nibble first) with value
/// `c`; `t2[way][j][c]` the slot contribution of derived nibble `j` with value `c`. Both from
/// splitmix64 seeded with `sym_hash_seed`, t1 first (two entries per draw), then t2 (four per
/// draw).
pub struct SymHashTables {
    pub t1: Vec<[u32; 16]>,
    pub t2: Vec<Vec<[u16; 16]>>,
}

pub fn sym_hash_tables(c: &Contract) -> SymHashTables {
    let mut state = c.params["sym_hash_seed"];
    let slot_mask = ((1u64 << c.params["sym_hash_bits"]) - 1) as u16;
    let mut t1 = vec![[0u32; 16]; 2 * sym_key_bytes(c)];
    for row in t1.iter_mut() {
        for pair in row.chunks_mut(2) {
            let z = splitmix64(&mut state);
            pair[0] = z as u32;
            pair[1] = (z >> 32) as u32;
        }
    }
    let mut t2 = Vec::new();
    for _ in 0..c.params["sym_ways"] {
        let mut way = vec![[0u16; 16]; SYM_HASH_CHARS];
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
            check_fields(&format!("{}.{}", b.name, r.name), &r.field)?;
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
    for w in &c.record_word {
        check_fields(&format!("record.{}", w.name), &w.field)?;
        if w.signed && !w.field.is_empty() {
            return Err(format!(
                "record.{}: a word with fields cannot be signed",
                w.name
            ));
        }
    }
    check_pipeline(c)?;
    if n_counters(c) > 64 {
        return Err("more than 64 counters".into());
    }
    Ok(())
}

/// Fields of one register: inside 64 bits, not empty, not overlapping, names unique.
fn check_fields(what: &str, fields: &[Field]) -> Result<(), String> {
    let mut used = 0u64;
    for (i, f) in fields.iter().enumerate() {
        if f.width == 0 || f.lsb + f.width > 64 {
            return Err(format!("{what}.{} does not fit 64 bits", f.name));
        }
        let bits = mask(f.width) << f.lsb;
        if used & bits != 0 {
            return Err(format!("{what}.{} overlaps another field", f.name));
        }
        used |= bits;
        if fields[..i].iter().any(|g| g.name == f.name) {
            return Err(format!("{what}.{} is defined twice", f.name));
        }
    }
    Ok(())
}

/// Pipeline entries: each either codes that fit their width (unique names and values, counters
/// that exist, on every code or on none) or a layout of fields.
fn check_pipeline(c: &Contract) -> Result<(), String> {
    let counters = counter_indexes(c);
    for (i, p) in c.pipeline.iter().enumerate() {
        if c.pipeline[..i]
            .iter()
            .any(|q| q.name == p.name || q.prefix == p.prefix)
        {
            return Err(format!("pipeline {}: name or prefix used twice", p.name));
        }
        match (p.code.is_empty(), p.field.is_empty(), p.width) {
            (false, true, Some(w)) if (1..=8).contains(&w) => {
                for (j, k) in p.code.iter().enumerate() {
                    let what = format!("pipeline {}.{}", p.name, k.name);
                    if k.value > mask(w) {
                        return Err(format!("{what}: {} does not fit {w} bits", k.value));
                    }
                    if p.code[..j]
                        .iter()
                        .any(|o| o.name == k.name || o.value == k.value)
                    {
                        return Err(format!("{what}: name or value used twice"));
                    }
                    if k.counter.is_some() != p.code[0].counter.is_some() {
                        return Err(format!("{what}: give a counter for every code or none"));
                    }
                    if let Some(ctr) = &k.counter {
                        if !counters
                            .iter()
                            .any(|(n, _, count)| n == ctr && count.is_none())
                        {
                            return Err(format!("{what}: no single counter named {ctr}"));
                        }
                    }
                }
            }
            (true, false, None) => {
                if p.field.iter().any(|f| f.width == 0 || f.name == "bits") {
                    return Err(format!(
                        "pipeline {}: fields need a width and a name other than bits",
                        p.name
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "pipeline {}: give either codes and a width of 1..8 bits, or fields",
                    p.name
                ))
            }
        }
    }
    Ok(())
}

fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
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
    // the symbol hash's shape; its tables are in sym_tables_verilog
    let _ = writeln!(v, "`define TC_SYM_KEY_BYTES {}", sym_key_bytes(c));
    let _ = writeln!(v, "`define TC_SYM_HASH_CHARS {SYM_HASH_CHARS}");
    let _ = writeln!(v, "`define TC_SYM_CHAR_BITS {SYM_CHAR_BITS}");
    let _ = writeln!(v);
    let _ = writeln!(v, "`endif");
    v
}

/// The symbol hash tables (hdl/tc_sym_tables.vh) as two constants included in tc_lookup's body:
/// `SYM_T1` holds t1[q][c] at bits `32 * (16 * q + c)`, `SYM_T2` holds t2[way][j][c] at bits
/// `sym_hash_bits * (16 * (way * SYM_HASH_CHARS + j) + c)`. One sized literal per table row,
/// concatenated highest first.
pub fn sym_tables_verilog(c: &Contract) -> String {
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Generated from bindings/contract.toml by tickcross-bindings. Do not edit."
    );
    let _ = writeln!(
        v,
        "// Regenerate with scripts/gen-contract; a test fails when this copy is stale."
    );
    let _ = writeln!(
        v,
        "// The symbol hash tables (tickcross_bindings::sym_hash), included in tc_lookup's body:"
    );
    let _ = writeln!(
        v,
        "// SYM_T1 entry (q, c) at [32 * (16 * q + c) +: 32], SYM_T2 entry (way * {SYM_HASH_CHARS} + j, c) at"
    );
    let bits = c.params["sym_hash_bits"] as usize;
    let _ = writeln!(
        v,
        "// [{bits} * (16 * (way * {SYM_HASH_CHARS} + j) + c) +: {bits}]."
    );
    let tables = sym_hash_tables(c);
    let t1: Vec<String> = tables
        .t1
        .iter()
        .rev()
        .map(|row| {
            let hex: String = row.iter().rev().map(|e| format!("{e:08x}")).collect();
            format!("512'h{hex}")
        })
        .collect();
    let _ = writeln!(v, "localparam [{}:0] SYM_T1 = {{", 512 * t1.len() - 1);
    let _ = writeln!(v, "    {}\n}};", t1.join(",\n    "));
    let rows: Vec<&[u16; 16]> = tables.t2.iter().flatten().collect();
    let t2: Vec<String> = rows
        .iter()
        .rev()
        .map(|row| {
            let items: Vec<String> = row
                .iter()
                .rev()
                .map(|e| format!("{bits}'h{e:03x}"))
                .collect();
            format!("{{{}}}", items.join(", "))
        })
        .collect();
    let _ = writeln!(v, "localparam [{}:0] SYM_T2 = {{", 16 * bits * t2.len() - 1);
    let _ = writeln!(v, "    {}\n}};", t2.join(",\n    "));
    v
}

/// A code's comment: its doc, else the counter it adds to.
fn code_doc(k: &Code) -> String {
    match (&k.doc, &k.counter) {
        (d, _) if !d.is_empty() => d.clone(),
        (_, Some(ctr)) => format!("counts into {ctr}"),
        _ => String::new(),
    }
}

/// The pipeline header (hdl/tc_pipeline.vh): `define macros for the codes and layouts the RTL
/// stages share.
pub fn pipeline_verilog(c: &Contract) -> String {
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Generated from bindings/contract.toml ([[pipeline]]) by tickcross-bindings. Do not edit."
    );
    let _ = writeln!(
        v,
        "// Regenerate with scripts/gen-contract; a test fails when this copy is stale."
    );
    let _ = writeln!(
        v,
        "// Internal definitions shared by the pipeline stages (not part of the host contract)."
    );
    let _ = writeln!(v, "`ifndef TC_PIPELINE_VH");
    let _ = writeln!(v, "`define TC_PIPELINE_VH");
    for p in &c.pipeline {
        let _ = writeln!(v);
        let _ = writeln!(v, "// {}", p.doc);
        let pre = format!("TC_{}_", up(&p.prefix));
        let names: Vec<String> = p.code.iter().map(|k| k.name.clone()).collect();
        let names = if names.is_empty() {
            p.field.iter().map(|f| f.name.clone()).collect()
        } else {
            names
        };
        let pad = names.iter().map(|n| n.len()).max().unwrap_or(0).max(4);
        if let Some(w) = p.width {
            for k in &p.code {
                let value = format!("{w}'d{}", k.value);
                let mut line = format!("`define {pre}{:<pad$} {value}", up(&k.name));
                let doc = code_doc(k);
                if !doc.is_empty() {
                    line = format!("{line:<width$}   // {doc}", width = 10 + pre.len() + pad);
                }
                let _ = writeln!(v, "{line}");
            }
        } else {
            let mut lsb = 0;
            for f in &p.field {
                let _ = writeln!(v, "`define {pre}{:<pad$} {lsb}", up(&f.name));
                lsb += f.width;
            }
            let _ = writeln!(v, "`define {pre}{:<pad$} {lsb}", "BITS");
        }
    }
    let _ = writeln!(v);
    let _ = writeln!(v, "`endif");
    v
}

fn rust_ident(s: &str) -> String {
    up(s)
}

/// `stage_meta` -> `StageMeta`: the type name of a register or a code set.
fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The Rust type of a field: bool for one bit, else the narrowest unsigned integer.
fn field_type(width: u32) -> &'static str {
    match width {
        1 => "bool",
        2..=8 => "u8",
        9..=16 => "u16",
        17..=32 => "u32",
        _ => "u64",
    }
}

fn type_bits(ty: &str) -> u32 {
    match ty {
        "bool" => 1,
        "u8" => 8,
        "u16" => 16,
        "u32" => 32,
        _ => 64,
    }
}

/// A field register as a struct with `pack`/`unpack` and its `FieldRegister` impl.
/// `qualified` is the register's name in errors (`venues.filter`).
fn field_struct(r: &mut String, ind: &str, qualified: &str, doc: &str, fields: &[Field]) {
    let ty = camel(qualified.rsplit('.').next().unwrap_or(qualified));
    let mask_all = fields
        .iter()
        .fold(0u64, |m, f| m | (mask(f.width) << f.lsb));
    let _ = writeln!(
        r,
        "{ind}/// `{qualified}` as typed fields.{}",
        if doc.is_empty() {
            String::new()
        } else {
            format!(" {doc}")
        }
    );
    let _ = writeln!(
        r,
        "{ind}#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]"
    );
    let _ = writeln!(r, "{ind}pub struct {ty} {{");
    for f in fields {
        let bits = if f.width == 1 {
            format!("bit {}", f.lsb)
        } else {
            format!("bits {}..={}", f.lsb, f.lsb + f.width - 1)
        };
        let _ = writeln!(r, "{ind}    /// {bits}");
        let _ = writeln!(r, "{ind}    pub {}: {},", f.name, field_type(f.width));
    }
    let _ = writeln!(r, "{ind}}}");
    let _ = writeln!(r, "{ind}impl {ty} {{");
    let _ = writeln!(
        r,
        "{ind}    /// The register word. A value wider than its field is refused (the error names the\n\
         {ind}    /// field), never truncated."
    );
    let _ = writeln!(
        r,
        "{ind}    pub fn pack(&self) -> Result<u64, crate::FieldError> {{"
    );
    let _ = writeln!(r, "{ind}        let mut raw = 0u64;");
    for f in fields {
        let t = field_type(f.width);
        let v = if t == "u64" {
            format!("self.{}", f.name)
        } else {
            format!("self.{} as u64", f.name)
        };
        if f.width < type_bits(t) {
            let _ = writeln!(r, "{ind}        if {v} > {:#x} {{", mask(f.width));
            let _ = writeln!(
                r,
                "{ind}            return Err(crate::FieldError {{ register: {qualified:?}, field: {:?}, value: {v}, width: {} }});",
                f.name, f.width
            );
            let _ = writeln!(r, "{ind}        }}");
        }
        if f.lsb == 0 {
            let _ = writeln!(r, "{ind}        raw |= {v};");
        } else {
            let _ = writeln!(r, "{ind}        raw |= ({v}) << {};", f.lsb);
        }
    }
    let _ = writeln!(r, "{ind}        Ok(raw)");
    let _ = writeln!(r, "{ind}    }}");
    let _ = writeln!(
        r,
        "{ind}    /// The fields of a register word; bits outside every field are ignored."
    );
    let _ = writeln!(r, "{ind}    pub fn unpack(raw: u64) -> Self {{");
    let _ = writeln!(r, "{ind}        Self {{");
    for f in fields {
        let t = field_type(f.width);
        let shifted = if f.lsb == 0 {
            "raw".to_string()
        } else {
            format!("(raw >> {})", f.lsb)
        };
        let bits = if f.width == 64 {
            shifted
        } else {
            format!("({shifted} & {:#x})", mask(f.width))
        };
        let e = match t {
            "bool" => format!("{bits} != 0"),
            "u64" => bits,
            _ => format!("{bits} as {t}"),
        };
        let _ = writeln!(r, "{ind}            {}: {e},", f.name);
    }
    let _ = writeln!(r, "{ind}        }}");
    let _ = writeln!(r, "{ind}    }}");
    let _ = writeln!(r, "{ind}}}");
    let _ = writeln!(r, "{ind}impl crate::FieldRegister for {ty} {{");
    let _ = writeln!(r, "{ind}    const NAME: &'static str = {qualified:?};");
    let _ = writeln!(r, "{ind}    const FIELDS: &'static [crate::FieldSpec] = &[");
    for f in fields {
        let _ = writeln!(
            r,
            "{ind}        crate::FieldSpec {{ name: {:?}, lsb: {}, width: {} }},",
            f.name, f.lsb, f.width
        );
    }
    let _ = writeln!(r, "{ind}    ];");
    let _ = writeln!(r, "{ind}    const MASK: u64 = {mask_all:#x};");
    let _ = writeln!(
        r,
        "{ind}    fn pack(&self) -> Result<u64, crate::FieldError> {{ {ty}::pack(self) }}"
    );
    let _ = writeln!(
        r,
        "{ind}    fn unpack(raw: u64) -> Self {{ {ty}::unpack(raw) }}"
    );
    let _ = writeln!(r, "{ind}    fn values(&self) -> Vec<u64> {{");
    let vals: Vec<String> = fields
        .iter()
        .map(|f| {
            if field_type(f.width) == "u64" {
                format!("self.{}", f.name)
            } else {
                format!("self.{} as u64", f.name)
            }
        })
        .collect();
    let _ = writeln!(r, "{ind}        vec![{}]", vals.join(", "));
    let _ = writeln!(r, "{ind}    }}");
    let _ = writeln!(
        r,
        "{ind}    fn from_values(values: &[u64]) -> Result<Self, crate::FieldError> {{"
    );
    let _ = writeln!(r, "{ind}        crate::check_values::<Self>(values)?;");
    let _ = writeln!(r, "{ind}        Ok(Self {{");
    for (i, f) in fields.iter().enumerate() {
        let e = match field_type(f.width) {
            "bool" => format!("values[{i}] != 0"),
            "u64" => format!("values[{i}]"),
            t => format!("values[{i}] as {t}"),
        };
        let _ = writeln!(r, "{ind}            {}: {e},", f.name);
    }
    let _ = writeln!(r, "{ind}        }})");
    let _ = writeln!(r, "{ind}    }}");
    let _ = writeln!(r, "{ind}}}");
}

/// The typed event record: one field per [[record_word]], words with fields as their structs.
fn record_struct(r: &mut String, c: &Contract) {
    let _ = writeln!(
        r,
        "    /// An event record as typed fields, one per record word in contract order."
    );
    let _ = writeln!(
        r,
        "    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]"
    );
    let _ = writeln!(r, "    pub struct EventRecord {{");
    let ty = |w: &Word| {
        if !w.field.is_empty() {
            camel(&w.name)
        } else if w.signed {
            "i64".into()
        } else {
            "u64".into()
        }
    };
    for (i, w) in c.record_word.iter().enumerate() {
        let _ = writeln!(r, "        /// word {i}");
        let _ = writeln!(r, "        pub {}: {},", w.name, ty(w));
    }
    let _ = writeln!(r, "    }}");
    let _ = writeln!(r, "    impl EventRecord {{");
    let _ = writeln!(r, "        /// From the record's used words.");
    let _ = writeln!(
        r,
        "        pub fn from_words(w: &[u64; crate::RECORD_USED_WORDS]) -> Self {{"
    );
    let _ = writeln!(r, "            Self {{");
    for w in &c.record_word {
        let idx = rust_ident(&w.name);
        let e = if !w.field.is_empty() {
            format!("{}::unpack(w[{idx}])", camel(&w.name))
        } else if w.signed {
            format!("w[{idx}] as i64")
        } else {
            format!("w[{idx}]")
        };
        let _ = writeln!(r, "                {}: {e},", w.name);
    }
    let _ = writeln!(r, "            }}");
    let _ = writeln!(r, "        }}");
    let _ = writeln!(
        r,
        "        /// Decodes a record read from the ring: a whole record, or at least its\n\
         \x20       /// `RECORD_USED_WORDS` used words (later words are not looked at)."
    );
    let _ = writeln!(
        r,
        "        pub fn decode(words: &[u64]) -> Result<Self, crate::RecordTooShort> {{"
    );
    let _ = writeln!(
        r,
        "            match words.first_chunk::<{{ crate::RECORD_USED_WORDS }}>() {{"
    );
    let _ = writeln!(r, "                Some(w) => Ok(Self::from_words(w)),");
    let _ = writeln!(
        r,
        "                None => Err(crate::RecordTooShort {{ words: words.len() }}),"
    );
    let _ = writeln!(r, "            }}");
    let _ = writeln!(r, "        }}");
    let _ = writeln!(
        r,
        "        /// The used words. Fails when a field value is wider than its field."
    );
    let _ = writeln!(
        r,
        "        pub fn to_words(&self) -> Result<[u64; crate::RECORD_USED_WORDS], crate::FieldError> {{"
    );
    let _ = writeln!(r, "            Ok([");
    for w in &c.record_word {
        let e = if !w.field.is_empty() {
            format!("self.{}.pack()?", w.name)
        } else if w.signed {
            format!("self.{} as u64", w.name)
        } else {
            format!("self.{}", w.name)
        };
        let _ = writeln!(r, "                {e},");
    }
    let _ = writeln!(r, "            ])");
    let _ = writeln!(r, "        }}");
    let _ = writeln!(
        r,
        "        /// The whole record as the device writes it: the used words, then zeros."
    );
    let _ = writeln!(
        r,
        "        pub fn encode(&self) -> Result<[u64; crate::params::RECORD_WORDS as usize], crate::FieldError> {{"
    );
    let _ = writeln!(
        r,
        "            let mut words = [0u64; crate::params::RECORD_WORDS as usize];"
    );
    let _ = writeln!(
        r,
        "            words[..crate::RECORD_USED_WORDS].copy_from_slice(&self.to_words()?);"
    );
    let _ = writeln!(r, "            Ok(words)");
    let _ = writeln!(r, "        }}");
    let _ = writeln!(r, "    }}");
}

/// The pipeline codes as enums and the layouts as bit positions.
fn pipeline_rust(r: &mut String, c: &Contract) {
    let _ = writeln!(
        r,
        "/// Codes and layouts shared by the RTL stages (hdl/tc_pipeline.vh), for tests that read the\n\
         /// stages' outputs. Not part of the host interface."
    );
    let _ = writeln!(r, "pub mod pipeline {{");
    for p in &c.pipeline {
        let _ = writeln!(r, "    /// {}", p.doc);
        if let Some(width) = p.width {
            let ty = camel(&p.name);
            let _ = writeln!(r, "    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]");
            let _ = writeln!(r, "    pub enum {ty} {{");
            for k in &p.code {
                let doc = code_doc(k);
                if !doc.is_empty() {
                    let _ = writeln!(r, "        /// {doc}");
                }
                let _ = writeln!(r, "        {} = {},", camel(&k.name), k.value);
            }
            let _ = writeln!(r, "    }}");
            let _ = writeln!(r, "    impl {ty} {{");
            let _ = writeln!(
                r,
                "        /// Bits of the code (`TC_{}_*` are {width}-bit literals).",
                up(&p.prefix)
            );
            let _ = writeln!(r, "        pub const WIDTH: u32 = {width};");
            let _ = writeln!(r, "        /// Every code, in contract order.");
            let all: Vec<String> = p
                .code
                .iter()
                .map(|k| format!("Self::{}", camel(&k.name)))
                .collect();
            let _ = writeln!(
                r,
                "        pub const ALL: [Self; {}] = [{}];",
                all.len(),
                all.join(", ")
            );
            let _ = writeln!(r, "        /// The value the RTL carries.");
            let _ = writeln!(r, "        pub const fn code(self) -> u64 {{");
            let _ = writeln!(r, "            self as u64");
            let _ = writeln!(r, "        }}");
            let _ = writeln!(r, "        /// The code of a value, if it is one.");
            let _ = writeln!(
                r,
                "        pub const fn from_code(code: u64) -> Option<Self> {{"
            );
            let _ = writeln!(r, "            match code {{");
            for k in &p.code {
                let _ = writeln!(
                    r,
                    "                {} => Some(Self::{}),",
                    k.value,
                    camel(&k.name)
                );
            }
            let _ = writeln!(r, "                _ => None,");
            let _ = writeln!(r, "            }}");
            let _ = writeln!(r, "        }}");
            let _ = writeln!(r, "        /// The code's name in the contract.");
            let _ = writeln!(r, "        pub const fn name(self) -> &'static str {{");
            let _ = writeln!(r, "            match self {{");
            for k in &p.code {
                let _ = writeln!(
                    r,
                    "                Self::{} => {:?},",
                    camel(&k.name),
                    k.name
                );
            }
            let _ = writeln!(r, "            }}");
            let _ = writeln!(r, "        }}");
            if p.code.iter().all(|k| k.counter.is_some()) {
                let _ = writeln!(r, "        /// The counter (index) this code adds one to.");
                let _ = writeln!(r, "        pub const fn counter(self) -> usize {{");
                let _ = writeln!(r, "            match self {{");
                for k in &p.code {
                    let ctr = k.counter.as_deref().unwrap_or_default();
                    let _ = writeln!(
                        r,
                        "                Self::{} => crate::counter::{},",
                        camel(&k.name),
                        rust_ident(ctr)
                    );
                }
                let _ = writeln!(r, "            }}");
                let _ = writeln!(r, "        }}");
                let _ = writeln!(
                    r,
                    "        /// The code that adds one to this counter, if any."
                );
                let _ = writeln!(
                    r,
                    "        pub const fn from_counter(counter: usize) -> Option<Self> {{"
                );
                let _ = writeln!(r, "            match counter {{");
                for k in &p.code {
                    let ctr = k.counter.as_deref().unwrap_or_default();
                    let _ = writeln!(
                        r,
                        "                crate::counter::{} => Some(Self::{}),",
                        rust_ident(ctr),
                        camel(&k.name)
                    );
                }
                let _ = writeln!(r, "                _ => None,");
                let _ = writeln!(r, "            }}");
                let _ = writeln!(r, "        }}");
            }
            let _ = writeln!(r, "    }}");
        } else {
            let _ = writeln!(r, "    pub mod {} {{", p.name);
            let mut lsb = 0;
            for f in &p.field {
                let n = rust_ident(&f.name);
                let _ = writeln!(
                    r,
                    "        /// lsb of {} (`TC_{}_{n}`)",
                    f.name,
                    up(&p.prefix)
                );
                let _ = writeln!(r, "        pub const {n}: u32 = {lsb};");
                let _ = writeln!(r, "        pub const {n}_W: u32 = {};", f.width);
                lsb += f.width;
            }
            let _ = writeln!(
                r,
                "        /// Bits of the whole layout (`TC_{}_BITS`).",
                up(&p.prefix)
            );
            let _ = writeln!(r, "        pub const BITS: u32 = {lsb};");
            let _ = writeln!(r, "    }}");
        }
    }
    let _ = writeln!(r, "}}");
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
            if !reg.field.is_empty() {
                let q = format!("{}.{}", b.name, reg.name);
                field_struct(&mut r, "        ", &q, &reg.doc, &reg.field);
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
    let _ = writeln!(
        r,
        "/// Words of an event record that carry data: the [[record_word]] entries (the rest of the\n\
         /// record's `params::RECORD_WORDS` words read as zero)."
    );
    let _ = writeln!(
        r,
        "pub const RECORD_USED_WORDS: usize = {};",
        c.record_word.len()
    );
    let _ = writeln!(
        r,
        "/// Event record word indexes and fields, and the typed record."
    );
    let _ = writeln!(r, "pub mod record {{");
    for (i, w) in c.record_word.iter().enumerate() {
        let wn = rust_ident(&w.name);
        let _ = writeln!(r, "    pub const {wn}: usize = {i};");
        for f in &w.field {
            let fname = rust_ident(&f.name);
            let _ = writeln!(r, "    pub const {wn}_{fname}_LSB: u32 = {};", f.lsb);
            let _ = writeln!(r, "    pub const {wn}_{fname}_W: u32 = {};", f.width);
        }
        if !w.field.is_empty() {
            field_struct(&mut r, "    ", &format!("record.{}", w.name), "", &w.field);
        }
    }
    record_struct(&mut r, c);
    let _ = writeln!(r, "}}");
    pipeline_rust(&mut r, c);
    let key = sym_key_bytes(c);
    let _ = writeln!(
        r,
        "/// Symbol hash key length: name bytes, length byte, venue byte."
    );
    let _ = writeln!(r, "pub const SYM_KEY_BYTES: usize = {key};");
    let _ = writeln!(
        r,
        "/// Bits of one symbol hash character (both tabulations index by nibbles)."
    );
    let _ = writeln!(r, "pub const SYM_CHAR_BITS: usize = {SYM_CHAR_BITS};");
    let _ = writeln!(
        r,
        "/// Characters of the symbol hash's derived key (nibbles of the first tabulation's result)."
    );
    let _ = writeln!(r, "pub const SYM_HASH_CHARS: usize = {SYM_HASH_CHARS};");
    let tables = sym_hash_tables(c);
    let _ = writeln!(
        r,
        "/// First tabulation: derived key contribution of nibble value c at key nibble q."
    );
    let _ = writeln!(
        r,
        "pub static SYM_T1: [[u32; 16]; {}] = {:?};",
        2 * key,
        tables.t1
    );
    let _ = writeln!(
        r,
        "/// Second tabulation, per way: slot contribution of derived nibble j with value c."
    );
    let _ = writeln!(
        r,
        "pub static SYM_T2: [[[u16; 16]; {SYM_HASH_CHARS}]; {}] = {:?};",
        c.params["sym_ways"], tables.t2
    );
    r
}
