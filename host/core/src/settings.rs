//! The configuration file's machinery, shared by every subsystem that owns a section of it: the
//! shape check (every unknown key with a "did you mean", wrong type, out-of-range integer and
//! missing key, by line and key path, reported together and before validation) and the error
//! type that carries every problem at once.
//!
//! Each subsystem declares its keys as [`Key`] tables; the binary merges them into the file's
//! shape ([`Shape::Merged`] for a table whose keys several subsystems own, such as `[[venue]]`),
//! checks the file once with [`check`], and hands the well-shaped value to each subsystem's
//! validation, gathering their errors into one [`ConfigError`].

use std::fmt;

use serde::Deserialize;

/// Every problem found in a configuration, one message each, naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub errors: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, e) in self.errors.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            f.write_str(e)?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub fn one(msg: String) -> ConfigError {
        ConfigError { errors: vec![msg] }
    }
}

// ---- the shape check: every unknown key, wrong type and missing key, before validation ----

/// What a key's value must look like. The shapes mirror the serde structs (`Raw*`), whose
/// required fields are `Option`s: a value of the wrong shape is reported here and dropped, so that
/// the rest of the file still parses and is validated, and every error is reported at once.
#[derive(Debug)]
pub enum Shape {
    /// A string.
    Str,
    /// An exact decimal, written as a string ("0.5").
    Dec,
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// Checked by the semantic validation (a destination, a latency): any value.
    Any,
    Table(&'static [Key]),
    /// A table whose keys several subsystems own (each its own list).
    Merged(&'static [&'static [Key]]),
    /// A table with any keys, each value of this shape (symbol maps, balances, markets).
    Map(&'static Shape),
    Array(&'static Shape),
    /// A table whose string key `tag` selects which keys it has.
    Tagged {
        tag: &'static str,
        variants: &'static [(&'static str, &'static [Key])],
    },
}

pub const U32: Shape = Shape::Int {
    min: 0,
    max: u32::MAX as i64,
};
pub const U64: Shape = Shape::Int {
    min: 0,
    max: i64::MAX,
};
pub const I64: Shape = Shape::Int {
    min: i64::MIN,
    max: i64::MAX,
};

/// One key of a table, with what the configuration reference (`tickcross config reference`,
/// docs/CONFIG.md) says about it.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// What the key means, one line.
    pub doc: &'static str,
    /// What an absent optional key stands for.
    pub default: KeyDefault,
    /// The type as the reference names it, when the shape alone does not say it (a [`Shape::Any`]
    /// the validation reads, or a map's values).
    pub ty: Option<&'static str>,
    /// What a [`Shape::Map`]'s keys are ("symbol", "asset"), for the reference's section names.
    pub each: &'static str,
}

/// What an absent optional key stands for, as the reference prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDefault {
    /// Not stated (a required key, or a key not documented yet: the reference test refuses it).
    Unset,
    /// A number, as written in the file.
    Num(u64),
    /// A value as written in the file (`"trade"`, `false`).
    Lit(&'static str),
    /// Prose: "the initial balances", "no cap".
    Text(&'static str),
}

impl Key {
    const fn new(name: &'static str, shape: Shape, required: bool) -> Key {
        Key {
            name,
            shape,
            required,
            doc: "",
            default: KeyDefault::Unset,
            ty: None,
            each: "name",
        }
    }
    pub const fn req(name: &'static str, shape: Shape) -> Key {
        Key::new(name, shape, true)
    }
    pub const fn opt(name: &'static str, shape: Shape) -> Key {
        Key::new(name, shape, false)
    }
    /// Its meaning, one line.
    pub const fn doc(self, doc: &'static str) -> Key {
        Key { doc, ..self }
    }
    /// Absent, it is this number.
    pub const fn default_num(self, n: u64) -> Key {
        Key {
            default: KeyDefault::Num(n),
            ..self
        }
    }
    /// Absent, it is this value (as written in TOML).
    pub const fn default_lit(self, v: &'static str) -> Key {
        Key {
            default: KeyDefault::Lit(v),
            ..self
        }
    }
    /// Absent, it means this (prose).
    pub const fn default_text(self, t: &'static str) -> Key {
        Key {
            default: KeyDefault::Text(t),
            ..self
        }
    }
    /// Its type as the reference names it, when the shape does not say.
    pub const fn ty(self, ty: &'static str) -> Key {
        Key {
            ty: Some(ty),
            ..self
        }
    }
    /// What the keys of this map are.
    pub const fn each(self, each: &'static str) -> Key {
        Key { each, ..self }
    }
}

/// A TOML value.
#[derive(Debug)]
enum Node {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<SNode>),
    Table(Vec<(String, SNode)>),
}

/// A TOML value and the bytes it came from. An implicit table (`a.b` of a `[a.b.c]` header) has no
/// span: it is located by its parent's.
#[derive(Debug)]
struct SNode {
    span: Option<std::ops::Range<usize>>,
    node: Node,
}

// toml hands a value's span to a struct of this name and fields (`toml::Spanned`'s protocol), and
// the bare value when it has none; `toml::Spanned` itself fails on the latter.
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const TOML_DATETIME: &str = "$__toml_private_datetime";

/// The value inside the span struct: deserialised without asking for a span again.
struct Unspanned(SNode);

impl<'de> Deserialize<'de> for Unspanned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unspanned, D::Error> {
        d.deserialize_any(SNodeVisitor).map(Unspanned)
    }
}

impl<'de> Deserialize<'de> for SNode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SNode, D::Error> {
        d.deserialize_struct(
            SPANNED,
            &[SPANNED_START, SPANNED_END, SPANNED_VALUE],
            SNodeVisitor,
        )
    }
}

fn bare(node: Node) -> SNode {
    SNode { span: None, node }
}

struct SNodeVisitor;

mod visit {
    use super::*;
    use serde::de::{self, MapAccess, SeqAccess, Visitor};
    impl<'de> Visitor<'de> for SNodeVisitor {
        type Value = SNode;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a TOML value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<SNode, E> {
            Ok(bare(Node::Str(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<SNode, E> {
            Ok(bare(Node::Str(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<SNode, E> {
            Ok(bare(Node::Int(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<SNode, E> {
            i64::try_from(v)
                .map(|v| bare(Node::Int(v)))
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<SNode, E> {
            Ok(bare(Node::Float(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<SNode, E> {
            Ok(bare(Node::Bool(v)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<SNode, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = a.next_element()? {
                v.push(x);
            }
            Ok(bare(Node::Array(v)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<SNode, A::Error> {
            let mut entries = Vec::new();
            let (mut start, mut end) = (None, None);
            while let Some(k) = a.next_key::<String>()? {
                match k.as_str() {
                    SPANNED_START => start = Some(a.next_value::<usize>()?),
                    SPANNED_END => end = Some(a.next_value::<usize>()?),
                    SPANNED_VALUE => {
                        let Unspanned(inner) = a.next_value()?;
                        let span = start.zip(end).map(|(s, e)| s..e);
                        return Ok(SNode {
                            span: span.or(inner.span),
                            node: inner.node,
                        });
                    }
                    TOML_DATETIME => return Ok(bare(Node::Datetime(a.next_value()?))),
                    _ => entries.push((k, a.next_value()?)),
                }
            }
            Ok(bare(Node::Table(entries)))
        }
    }
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Str(_) => "a string",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a float",
            Node::Bool(_) => "a boolean",
            Node::Datetime(_) => "a date-time",
            Node::Array(_) => "an array",
            Node::Table(_) => "a table",
        }
    }

    /// The value without spans.
    fn into_value(self) -> toml::Value {
        match self {
            Node::Str(s) => toml::Value::String(s),
            Node::Int(i) => toml::Value::Integer(i),
            Node::Float(f) => toml::Value::Float(f),
            Node::Bool(b) => toml::Value::Boolean(b),
            Node::Datetime(d) => d
                .parse()
                .map_or(toml::Value::String(d), toml::Value::Datetime),
            Node::Array(a) => {
                toml::Value::Array(a.into_iter().map(|n| n.node.into_value()).collect())
            }
            Node::Table(t) => toml::Value::Table(
                t.into_iter()
                    .map(|(k, n)| (k, n.node.into_value()))
                    .collect(),
            ),
        }
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Walks a parsed file against its shapes.
struct ShapeCheck<'a> {
    text: &'a str,
    errors: Vec<String>,
}

impl ShapeCheck<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, path: &str, msg: String) {
        let (line, _) = line_col(self.text, span.start);
        self.errors.push(format!("line {line}: {path}: {msg}"));
    }

    /// The value if it has the shape (with its parts that do not removed), else None. `at`:
    /// where the parent is, for a value without a span of its own.
    fn check(
        &mut self,
        node: SNode,
        shape: &Shape,
        path: &str,
        at: std::ops::Range<usize>,
    ) -> Option<Node> {
        let span = node.span.unwrap_or(at);
        let node = node.node;
        let expected = match (shape, node) {
            (Shape::Any, n) => return Some(n),
            (Shape::Str, n @ Node::Str(_)) | (Shape::Bool, n @ Node::Bool(_)) => return Some(n),
            (Shape::Dec, n @ Node::Str(_)) => return Some(n),
            (Shape::Int { min, max }, Node::Int(i)) => {
                if (*min..=*max).contains(&i) {
                    return Some(Node::Int(i));
                }
                let msg = if i < 0 && *min == 0 {
                    format!("{i} is negative")
                } else {
                    format!("{i} is out of range ({min}..={max})")
                };
                self.error(span, path, msg);
                return None;
            }
            (Shape::Table(keys), Node::Table(t)) => {
                return Some(Node::Table(self.table(t, &[keys], span, path)))
            }
            (Shape::Merged(lists), Node::Table(t)) => {
                return Some(Node::Table(self.table(t, lists, span, path)))
            }
            (Shape::Map(each), Node::Table(t)) => {
                let mut out = Vec::with_capacity(t.len());
                for (k, v) in t {
                    let p = format!("{path}.{}", toml_key(&k));
                    let inner = v.span.clone();
                    if let Some(v) = self.check(v, each, &p, span.clone()) {
                        out.push((
                            k,
                            SNode {
                                span: inner,
                                node: v,
                            },
                        ));
                    }
                }
                return Some(Node::Table(out));
            }
            (Shape::Array(each), Node::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (k, v) in a.into_iter().enumerate() {
                    let inner = v.span.clone();
                    // an element of the wrong shape is dropped (and reported)
                    if let Some(v) = self.check(v, each, &format!("{path}[{k}]"), span.clone()) {
                        out.push(SNode {
                            span: inner,
                            node: v,
                        });
                    }
                }
                return Some(Node::Array(out));
            }
            (Shape::Tagged { tag, variants }, Node::Table(t)) => {
                let names: Vec<String> = variants.iter().map(|(n, _)| format!("{n:?}")).collect();
                let names = names.join(" or ");
                let chosen = match t.iter().find(|(k, _)| k == tag).map(|(_, v)| &v.node) {
                    None => Err(format!("missing key \"{tag}\" ({names})")),
                    Some(Node::Str(s)) => variants
                        .iter()
                        .find(|(n, _)| n == s)
                        .map(|(_, keys)| *keys)
                        .ok_or_else(|| format!("{tag} {s:?}: expected {names}")),
                    Some(other) => Err(format!("{tag}: expected a string, found {}", other.kind())),
                };
                let keys = match chosen {
                    Ok(keys) => keys,
                    Err(msg) => {
                        self.error(span, path, msg);
                        return None;
                    }
                };
                let (tag_entry, rest): (Vec<_>, Vec<_>) =
                    t.into_iter().partition(|(k, _)| k == tag);
                let mut out = self.table(rest, &[keys], span, path);
                out.extend(tag_entry);
                return Some(Node::Table(out));
            }
            (Shape::Str, n) => ("a string", n),
            (Shape::Dec, n) => ("a decimal number as a string (such as \"0.5\")", n),
            (Shape::Int { .. }, n) => ("an integer", n),
            (Shape::Bool, n) => ("true or false", n),
            (Shape::Table(_) | Shape::Merged(_) | Shape::Map(_) | Shape::Tagged { .. }, n) => {
                ("a table", n)
            }
            (Shape::Array(_), n) => ("an array", n),
        };
        let (want, found) = expected;
        self.error(
            span,
            path,
            format!("expected {want}, found {}", found.kind()),
        );
        None
    }

    /// A table's keys: unknown ones reported and dropped, each known one checked, missing
    /// required ones reported.
    fn table(
        &mut self,
        entries: Vec<(String, SNode)>,
        lists: &[&[Key]],
        span: std::ops::Range<usize>,
        path: &str,
    ) -> Vec<(String, SNode)> {
        let join = |k: &str| {
            if path.is_empty() {
                toml_key(k)
            } else {
                format!("{path}.{}", toml_key(k))
            }
        };
        let keys: Vec<&Key> = lists.iter().flat_map(|l| l.iter()).collect();
        let mut out = Vec::with_capacity(entries.len());
        let mut seen = Vec::new();
        for (k, v) in entries {
            let Some(key) = keys.iter().find(|key| key.name == k) else {
                let near = keys
                    .iter()
                    .map(|key| (edit_distance(&k, key.name), key.name))
                    .min()
                    .filter(|&(d, _)| d <= 2 && d < k.len());
                let hint = match near {
                    Some((_, name)) => format!("; did you mean \"{name}\"?"),
                    None => format!(
                        " (expected {})",
                        keys.iter()
                            .map(|key| key.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let at = v.span.unwrap_or_else(|| span.clone());
                self.error(at, &join(&k), format!("unknown key{hint}"));
                continue;
            };
            seen.push(key.name);
            let inner = v.span.clone();
            if let Some(n) = self.check(v, &key.shape, &join(&k), span.clone()) {
                out.push((
                    k,
                    SNode {
                        span: inner,
                        node: n,
                    },
                ));
            }
        }
        for key in keys
            .iter()
            .filter(|k| k.required && !seen.contains(&k.name))
        {
            let at = if path.is_empty() { "the file" } else { path };
            self.error(span.clone(), at, format!("missing key \"{}\"", key.name));
        }
        out
    }
}

/// A key as a TOML path segment (quoted unless bare).
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// The outcome of [`check`]: the file's parts of the right shape, and what was wrong.
pub struct Checked {
    /// The file with every part of the wrong shape (reported) removed: each subsystem
    /// deserialises its keys from it, ignoring the others'.
    pub value: toml::Value,
    /// One message per problem, "line N: key.path: what", in file order.
    pub errors: Vec<String>,
}

/// Parses `text` and checks it against `shape`. A TOML syntax error is the only error then
/// (nothing after it can be read); otherwise every unknown key, wrong type and missing key is
/// in [`Checked::errors`].
pub fn check(text: &str, shape: &Shape) -> Result<Checked, ConfigError> {
    let root: SNode = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end().replace('\n', " ");
        ConfigError::one(match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                format!("parse error at line {line}, column {col}: {msg}")
            }
            None => format!("parse error: {msg}"),
        })
    })?;
    let mut check = ShapeCheck {
        text,
        errors: Vec::new(),
    };
    let value = check
        .check(root, shape, "", 0..0)
        .map_or_else(|| toml::Value::Table(toml::Table::new()), Node::into_value);
    Ok(Checked {
        value,
        errors: check.errors,
    })
}

/// Deserialises a subsystem's part of a checked file. The shape check has removed what has the
/// wrong shape, so this fails only when a subsystem's key table and its serde structs disagree:
/// then the message says so (a defect, not a user error).
pub fn take<T: serde::de::DeserializeOwned>(
    value: &toml::Value,
    errors: &mut Vec<String>,
) -> Option<T> {
    match value.clone().try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!(
                "internal: the key tables and the configuration structs disagree: {}",
                e.message().trim_end()
            ));
            None
        }
    }
}
