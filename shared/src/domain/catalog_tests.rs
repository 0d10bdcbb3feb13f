//! The catalog's invariants: sorted, unique, consistent names.

use super::*;

#[test]
fn catalog_is_sorted_and_unique() {
    let names: Vec<_> = CATALOG.iter().map(|t| t.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
}

#[test]
fn tool_names_serialize_as_their_mcp_names() {
    for spec in CATALOG {
        assert_eq!(serde_json::to_value(spec.tool).unwrap(), spec.name);
        assert_eq!(spec.tool.spec().name, spec.name);
    }
}
