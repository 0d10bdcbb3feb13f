//! Reading a state file: JSON or YAML, chosen by extension or, failing that, by sniffing.

use super::State;
use crate::error::SimError;

/// Reads and parses the state file at `path`.
pub fn from_file(path: &str) -> Result<State, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| SimError::msg(format!("teleport-sim: cannot read state file {path}: {err}")))?;
    parse(path, &text).map_err(|err| SimError::msg(format!("teleport-sim: invalid state file {path}: {err}")))
}

/// Parses state text (`path` only decides the syntax); older name lists become resources.
pub fn parse(path: &str, text: &str) -> Result<State, String> {
    parse_raw(path, text).map(|mut state| {
        state.adopt_name_lists();
        state
    })
}

fn parse_raw(path: &str, text: &str) -> Result<State, String> {
    let lower = path.to_ascii_lowercase();
    let json = if lower.ends_with(".json") {
        true
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        false
    } else {
        text.trim_start().starts_with('{')
    };
    if json {
        serde_json::from_str(text).map_err(|err| err.to_string())
    } else if text.trim().is_empty() {
        Ok(State::default())
    } else {
        serde_yaml::from_str(text).map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_are_sniffed_and_missing_sections_are_empty() {
        let yaml = "cluster_name: c1\nnodes:\n- kind: node\n  metadata: {name: n1}\n";
        let state = parse("state", yaml).unwrap();
        assert_eq!(state.cluster_name, "c1");
        assert_eq!(state.nodes.len(), 1);
        assert!(state.roles.is_empty() && state.tokens.is_empty());

        let json = r#"{"auth_preference": {"kind": "cluster_auth_preference"}, "roles": null}"#;
        let state = parse("state", json).unwrap();
        assert_eq!(state.auth_preference.len(), 1);
        assert_eq!(state.cluster_name, "teleport.example.com");
    }

    #[test]
    fn typos_in_section_names_are_rejected() {
        let err = parse("s.json", r#"{"node": []}"#).unwrap_err();
        assert!(err.contains("unknown field `node`"), "{err}");
    }

    #[test]
    fn key_order_and_extra_fields_survive() {
        let json = r#"{"nodes": [{"kind": "node", "zz_canary": "s3cr3t", "aa": {"b": 1, "a": 2}}]}"#;
        let state = parse("s.json", json).unwrap();
        let keys: Vec<&str> = state.nodes[0].as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["kind", "zz_canary", "aa"]);
    }
}
