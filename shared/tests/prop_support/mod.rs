//! Input generators shared by the property tests: hostile text (unicode, control characters, very
//! long), JSON values of any shape, and the reference fixtures to mutate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// The proptest configuration: `PROPTEST_CASES` (default 256) times `scale` for the cheap
/// properties. No regression files: a failure found here becomes a unit test next to its fix.
pub fn config(scale: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig { cases: base.cases.saturating_mul(scale), failure_persistence: None, ..base }
}

/// Text a caller or a CLI could hand us: any unicode, control characters, characters that mean
/// something to a command line or a parser, and runs long enough to hit length limits.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => any::<String>(),
        3 => "[-@:./=_a-zA-Z0-9 ]{0,24}",
        2 => "[-\\\\\"'`$(){}\\[\\]<>|&;,*!~#%^+=@:./ \t\r\n\u{0}\u{1b}\u{7f}\u{200b}\u{202e}\u{feff}a-z0-9]{0,32}",
        1 => "[\u{80}-\u{10ffff}]{0,16}",
        1 => "[a\\-]{0,3000}",
        1 => "[\u{0}-\u{1f}\u{e0001}\u{10fffd}]{200,600}",
    ]
    .boxed()
}

/// A JSON value of any shape, nesting up to a few levels; strings from [`text`].
pub fn json() -> BoxedStrategy<Value> {
    json_with_keys(text())
}

/// Like [`json`], with object keys drawn from `keys` (e.g. the field names a parser looks for).
pub fn json_with_keys(keys: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
    .boxed()
}

/// A JSON object (the shape of tool arguments and lease targets).
pub fn json_object(keys: BoxedStrategy<String>) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((keys, json_with_keys(text())), 0..6).prop_map(|entries| entries.into_iter().collect())
}

/// The reference Teleport outputs copied into `tests/fixtures/teleport`, as `(relative path, text)`.
pub fn fixtures() -> &'static [(String, String)] {
    static FIXTURES: LazyLock<Vec<(String, String)>> = LazyLock::new(read_fixtures);
    &FIXTURES
}

fn read_fixtures() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/teleport");
    let mut out = Vec::new();
    for path in files(&root) {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        if !rel.ends_with("SOURCES.txt") {
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(out.len() >= 20, "fixtures missing under {}", root.display());
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
    }
    out.sort();
    out
}

/// One edit of a document: what a truncated, corrupted or version-skewed output looks like.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Cut at this fraction (per mille) of the length.
    Truncate(u16),
    /// Overwrite the byte at this fraction with this byte.
    Flip(u16, u8),
    /// Insert text at this fraction.
    Insert(u16, String),
    /// Remove a span starting at this fraction.
    Delete(u16, u16),
    /// Replace every occurrence of one JSON scalar spelling with another.
    Swap(&'static str, &'static str),
}

/// Up to `n` mutations.
pub fn mutations(n: usize) -> impl Strategy<Value = Vec<Mutation>> {
    let swaps = prop::sample::select(vec![
        ("\"", ""),
        ("[", "{"),
        ("]", "}"),
        (":", ""),
        ("null", "[]"),
        ("true", "\"yes\""),
        ("false", "{}"),
        ("0", "-1"),
        ("1", "1e400"),
        ("\"2", "\"0001-01-01T00:00:00Z"),
        ("0s", "-5h"),
        ("s\"", "x\""),
        ("\n", ""),
        ("  ", "\t"),
        ("- ", ""),
        (",", ",null,"),
    ]);
    let one = prop_oneof![
        any::<u16>().prop_map(|p| Mutation::Truncate(p % 1000)),
        (any::<u16>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p % 1000, b)),
        (any::<u16>(), text()).prop_map(|(p, s)| Mutation::Insert(p % 1000, s)),
        (any::<u16>(), 1u16..64).prop_map(|(p, len)| Mutation::Delete(p % 1000, len)),
        swaps.prop_map(|(from, to)| Mutation::Swap(from, to)),
    ];
    prop::collection::vec(one, 1..=n)
}

/// Applies `edits` to `doc` at the byte level; the result may not be UTF-8 (the caller decides
/// whether to decode lossily or to skip).
pub fn mutate(doc: &str, edits: &[Mutation]) -> Vec<u8> {
    let mut bytes = doc.as_bytes().to_vec();
    let at = |len: usize, per_mille: u16| len * usize::from(per_mille) / 1000;
    for edit in edits {
        match edit {
            Mutation::Truncate(p) => bytes.truncate(at(bytes.len(), *p)),
            Mutation::Flip(p, b) => {
                let i = at(bytes.len(), *p);
                if let Some(slot) = bytes.get_mut(i) {
                    *slot = *b;
                }
            }
            Mutation::Insert(p, s) => {
                let i = at(bytes.len(), *p);
                bytes.splice(i..i, s.bytes());
            }
            Mutation::Delete(p, len) => {
                let i = at(bytes.len(), *p);
                let end = (i + usize::from(*len)).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Swap(from, to) => {
                let s = String::from_utf8_lossy(&bytes).replace(from, to);
                bytes = s.into_bytes();
            }
        }
    }
    bytes
}

/// Characters of `s` (errors are measured in what a reader sees, not in bytes).
pub fn chars(s: &str) -> usize {
    s.chars().count()
}
