//! `tickcross config`: the configuration reference (docs/CONFIG.md), generated from the key
//! tables every subsystem declares (so the reference is the shape check's own truth), and the
//! summary `config check` prints for a valid file.

use std::fmt::Write as _;

use tickcross_core::config as detection;
use tickcross_core::price9;
use tickcross_core::settings::{Key, KeyDefault, Shape};
use tickcross_fix::config as fix;
use tickcross_trading::config::{self as trading, OrderEntry};

use crate::config::{Config, ENTRY_KEYS, FILE_KEYS};

/// Which crate owns each key list the binary merges. A list absent here is a defect the
/// reference test reports (the generator would not know whom to name).
const OWNERS: &[(&str, &[Key])] = &[
    ("tickcross", ENTRY_KEYS),
    ("tickcross-trading", trading::FILE_KEYS),
    ("tickcross-core", detection::INSTRUMENT_KEYS),
    ("tickcross-trading", trading::INSTRUMENT_KEYS),
    ("tickcross-core", detection::VENUE_KEYS),
    ("tickcross-trading", trading::VENUE_KEYS),
    ("tickcross-fix", fix::VENUE_KEYS),
];

/// The owner of a merged list, found by its key names (consts have no stable address).
fn owner_of(list: &[Key]) -> Result<&'static str, String> {
    let names = |l: &[Key]| l.iter().map(|k| k.name).collect::<Vec<_>>();
    OWNERS
        .iter()
        .find(|(_, l)| names(l) == names(list))
        .map(|(o, _)| *o)
        .ok_or_else(|| {
            format!(
                "config_doc::OWNERS lacks the key list {:?}",
                names(list).join(", ")
            )
        })
}

/// One table of the file: where it is and its keys, each with the crate that owns it.
struct Section {
    title: String,
    /// The TOML path of its keys' parent: `venue.fees`, `venue.markets.<symbol>`.
    path: String,
    about: String,
    keys: Vec<(&'static Key, &'static str)>,
    /// For a `Shape::Tagged` variant: the tag and the variant's name.
    tag: Option<(&'static str, &'static str)>,
}

/// Every table of the file, depth first in key order, starting with the top level.
fn sections() -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    let mut top = Vec::new();
    for list in FILE_KEYS {
        let owner = owner_of(list)?;
        top.extend(list.iter().map(|k| (k, owner)));
    }
    out.push(Section {
        title: "Top level".into(),
        path: String::new(),
        about: "The file's sections.".into(),
        keys: top.clone(),
        tag: None,
    });
    for (key, owner) in top {
        walk_key(key, owner, "", &mut out)?;
    }
    Ok(out)
}

/// The sections below one key: its table(s), if its shape has any.
fn walk_key(
    key: &'static Key,
    owner: &'static str,
    parent: &str,
    out: &mut Vec<Section>,
) -> Result<(), String> {
    let top = parent.is_empty();
    let path = if top {
        key.name.to_string()
    } else {
        format!("{parent}.{}", key.name)
    };
    walk_shape(&key.shape, key, owner, &path, top, out)
}

fn walk_shape(
    shape: &'static Shape,
    key: &'static Key,
    owner: &'static str,
    path: &str,
    top: bool,
    out: &mut Vec<Section>,
) -> Result<(), String> {
    let lists: Vec<(&'static [Key], &'static str)> = match shape {
        Shape::Table(keys) => vec![(*keys, owner)],
        Shape::Merged(lists) => lists
            .iter()
            .map(|l| owner_of(l).map(|o| (*l, o)))
            .collect::<Result<_, _>>()?,
        Shape::Map(each) => {
            let p = format!("{path}.<{}>", key.each);
            return walk_shape(each, key, owner, &p, false, out);
        }
        Shape::Array(each) => {
            // an array of tables at the top is `[[name]]`; deeper, `path[]`
            let p = if top {
                path.to_string()
            } else {
                format!("{path}[]")
            };
            return walk_shape(each, key, owner, &p, top, out);
        }
        Shape::Tagged { tag, variants } => {
            for (name, keys) in *variants {
                let at = out.len();
                let title = format!("{path} ({tag} = \"{name}\")");
                table_at(&title, path, key, &[(*keys, owner)], out)?;
                out[at].tag = Some((tag, name));
            }
            return Ok(());
        }
        Shape::Str | Shape::Dec | Shape::Int { .. } | Shape::Bool | Shape::Any => return Ok(()),
    };
    let title = match (top, shape_is_array(&key.shape)) {
        (true, true) => format!("[[{path}]]"),
        (true, false) => format!("[{path}]"),
        (false, _) => path.to_string(),
    };
    // children are named by their TOML path: `venue.fees`, not `[[venue]].fees`
    table_at(&title, path, key, &lists, out)
}

fn shape_is_array(s: &Shape) -> bool {
    matches!(s, Shape::Array(_))
}

fn table_at(
    title: &str,
    path: &str,
    key: &'static Key,
    lists: &[(&'static [Key], &'static str)],
    out: &mut Vec<Section>,
) -> Result<(), String> {
    let keys: Vec<(&'static Key, &'static str)> = lists
        .iter()
        .flat_map(|(l, o)| l.iter().map(move |k| (k, *o)))
        .collect();
    out.push(Section {
        title: title.to_string(),
        path: path.to_string(),
        about: key.doc.to_string(),
        keys: keys.clone(),
        tag: None,
    });
    for (k, o) in keys {
        walk_key(k, o, path, out)?;
    }
    Ok(())
}

/// A shape's type as the reference names it.
fn type_name(key: &Key, shape: &Shape) -> String {
    if let Some(t) = key.ty {
        return t.to_string();
    }
    match shape {
        Shape::Str => "string".into(),
        Shape::Dec => "decimal string".into(),
        Shape::Int { min, max } => match (*min, *max) {
            (0, i64::MAX) => "integer ≥ 0".into(),
            (i64::MIN, i64::MAX) => "integer".into(),
            (min, max) => format!("integer {min}..={max}"),
        },
        Shape::Bool => "boolean".into(),
        Shape::Any => "any".into(),
        Shape::Table(_) | Shape::Merged(_) => "table".into(),
        Shape::Tagged { tag, .. } => format!("table, by `{tag}`"),
        Shape::Map(each) => format!("table: {} → {}", key.each, type_name_inner(each)),
        Shape::Array(each) => format!("array of {}", plural(each)),
    }
}

fn type_name_inner(shape: &Shape) -> String {
    match shape {
        Shape::Str => "string".into(),
        Shape::Dec => "decimal string".into(),
        Shape::Table(_) | Shape::Merged(_) | Shape::Tagged { .. } => "table".into(),
        other => format!("{other:?}"),
    }
}

fn plural(shape: &Shape) -> &'static str {
    match shape {
        Shape::Table(_) | Shape::Merged(_) | Shape::Tagged { .. } => "tables",
        Shape::Str => "strings",
        Shape::Dec => "decimal strings",
        _ => "values",
    }
}

/// The "required / default" cell.
fn default_cell(key: &Key) -> String {
    if key.required {
        return "**required**".into();
    }
    match key.default {
        KeyDefault::Unset => String::new(),
        // a decimal key's number is written as a string
        KeyDefault::Num(n) if matches!(key.shape, Shape::Dec) => format!("`\"{n}\"`"),
        KeyDefault::Num(n) => format!("`{n}`"),
        KeyDefault::Lit(v) => format!("`{v}`"),
        KeyDefault::Text(t) => cell(t),
    }
}

/// Prose in a table cell: Markdown's table and HTML characters escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The keys the reference omits a meaning or default for (a defect: each key states both).
pub fn undocumented() -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    for s in sections()? {
        for (k, _) in &s.keys {
            if k.doc.trim().is_empty() {
                missing.push(format!("{}: {} has no meaning", s.title, k.name));
            }
            if !k.required && k.default == KeyDefault::Unset {
                missing.push(format!("{}: {} has no default", s.title, k.name));
            }
        }
    }
    Ok(missing)
}

/// Every key of the merged tables as a dotted path (`venue.fees.tiers[].volume`), in the
/// reference's order.
pub fn key_paths() -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for s in sections()? {
        let join = |name: &str| {
            if s.path.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", s.path)
            }
        };
        if let Some((tag, _)) = s.tag {
            out.push(join(tag));
        }
        for (k, _) in &s.keys {
            out.push(join(k.name));
        }
    }
    // a tag appears once per variant
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// The configuration reference, Markdown (docs/CONFIG.md).
pub fn reference() -> Result<String, String> {
    let mut o = String::new();
    // writes to a String cannot fail
    let _ = writeln!(
        o,
        "<!-- Generated by `tickcross config reference > docs/CONFIG.md` from the key tables in \
         the source; do not edit. host/cli/tests/config_cmd.rs fails when it is stale. -->\n"
    );
    o.push_str(
        "# Configuration reference\n\n\
         One TOML file configures detection, trading and order entry; each crate owns its keys \
         and their validation, and the binary merges them. Money and prices are exact decimals \
         written as strings (`\"0.5\"`); times are integers in the unit the key names. Every \
         unknown key (with a \"did you mean\"), wrong type, out-of-range integer and missing \
         key is reported together with the validation's errors, each with its line and key \
         path. `tickcross config check FILE` checks a file without running anything.\n\n\
         A key marked \"required with [trading]\" may be left out of a detection-only file \
         (no `[trading]` section) and must be given when the file trades. Commented examples: \
         `examples/*.toml`, docs/TRADING.md.\n",
    );
    for s in sections()? {
        let _ = writeln!(o, "\n## `{}`\n", s.title);
        if !s.about.is_empty() {
            let _ = writeln!(o, "{}\n", cell(&s.about));
        }
        o.push_str("| Key | Type | Required / default | Owner | Meaning |\n");
        o.push_str("|---|---|---|---|---|\n");
        if let Some((tag, name)) = s.tag {
            let owner = s.keys.first().map_or("", |(_, o)| *o);
            let _ = writeln!(
                o,
                "| `{tag}` | string | **required** | {owner} | `\"{name}\"` selects these keys |"
            );
        }
        for (k, owner) in &s.keys {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} |",
                k.name,
                cell(&type_name(k, &k.shape)),
                default_cell(k),
                owner,
                cell(k.doc)
            );
        }
    }
    Ok(o)
}

/// What `tickcross config check` prints for a valid file: venues, instruments, trading on or
/// off and each venue's order entry.
pub fn summary(cfg: &Config) -> String {
    let d = cfg.detection();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ok: {} instrument(s), {} venue(s), trading {}",
        d.n_instruments(),
        d.n_venues(),
        if cfg.trading().is_some() { "on" } else { "off" }
    );
    for i in d.instruments() {
        let _ = writeln!(o, "instrument {}: edge {}", i.name, price9::format(i.edge));
    }
    for (k, v) in d.venues().iter().enumerate() {
        let dests: Vec<String> = v.destinations.iter().map(|d| d.to_string()).collect();
        let symbols: Vec<&str> = v.symbols.iter().map(|(s, _)| s.as_str()).collect();
        let entry = match (cfg.trading(), cfg.order_entry(k)) {
            (None, _) => "none (no trading)".to_string(),
            (Some(_), Some(fix)) => format!("{} {}:{}", fix.protocol, fix.host, fix.port),
            (Some(t), None) => match &t.venues[k].order_entry {
                OrderEntry::Simulated => "simulated".to_string(),
                OrderEntry::External { protocol } => protocol.clone(),
            },
        };
        let _ = writeln!(
            o,
            "venue {}: {} on {}; symbols {}; order entry {}",
            v.name,
            v.protocol.name(),
            dests.join(", "),
            if symbols.is_empty() {
                "none".to_string()
            } else {
                symbols.join(", ")
            },
            entry
        );
    }
    o
}
