//! `tctl get --format=yaml`: Teleport converts each resource's JSON to YAML with `ghodss/yaml`,
//! which sorts keys, and separates documents with `---`.

use crate::value::Value;

/// One YAML document per resource; `[]` (no newline) for an empty list, as with JSON.
pub fn write_documents(items: &[Value]) -> String {
    if items.is_empty() {
        return "[]".to_owned();
    }
    items.iter().map(document).collect::<Vec<_>>().join("---\n")
}

/// One value as a YAML document with sorted keys.
pub fn document(value: &Value) -> String {
    // Serializing an in-memory tree cannot fail: every key is a string.
    serde_yaml::to_string(&value.sorted()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::obj;

    #[test]
    fn documents_are_sorted_and_separated() {
        let a = obj! { "version" => "v2", "kind" => "node" };
        let out = write_documents(&[a.clone(), a]);
        assert_eq!(out, "kind: node\nversion: v2\n---\nkind: node\nversion: v2\n");
        assert_eq!(write_documents(&[]), "[]");
    }
}
