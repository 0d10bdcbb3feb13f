//! Property tests of every Teleport output parser: arbitrary text, arbitrary JSON, and mutations of
//! the reference fixtures (byte edits and whole subtrees swapped for arbitrary JSON) never panic;
//! a refusal is a `ParseError` that names the command.

mod prop_support;

use mtcp_shared::ingest::parse_batch;
use mtcp_shared::teleport::ParseError;
use mtcp_shared::teleport::parse::{
    parse_access_request, parse_access_requests, parse_audit_events, parse_auth_preference, parse_cert_authorities,
    parse_cluster_status, parse_mcp_apps, parse_nodes, parse_proxies, parse_roles, parse_tokens, parse_users,
};
use mtcp_shared::teleport::table::{parse_table, parse_tsh_ls_text};
use prop_support::{config, fixtures, json, json_with_keys, mutate, mutations, text};
use proptest::prelude::*;
use serde_json::Value;

/// A parser under test, its result reduced to accepted or refused.
type Parser = fn(&str) -> Result<(), ParseError>;

/// Runs every parser on `s`; panics (the property) only if a parser does. Returns how many accepted it.
fn parse_all(s: &str) -> Result<usize, TestCaseError> {
    let parsers: [(&str, Parser); 13] = [
        ("nodes", |s| parse_nodes(s).map(drop)),
        ("proxies", |s| parse_proxies(s).map(drop)),
        ("roles", |s| parse_roles(s).map(drop)),
        ("users", |s| parse_users(s).map(drop)),
        ("tokens", |s| parse_tokens(s).map(drop)),
        ("cert_authorities", |s| parse_cert_authorities(s).map(drop)),
        ("auth_preference", |s| parse_auth_preference(s).map(drop)),
        ("cluster_status", |s| parse_cluster_status(s).map(drop)),
        ("access_requests", |s| parse_access_requests(s).map(drop)),
        ("access_request", |s| parse_access_request(s).map(drop)),
        ("mcp_apps", |s| parse_mcp_apps(s).map(drop)),
        ("audit_events", |s| parse_audit_events(s).map(drop)),
        ("tsh_ls_text", |s| parse_tsh_ls_text(s).map(drop)),
    ];
    let mut accepted = 0;
    for (name, parse) in parsers {
        match parse(s) {
            Ok(()) => accepted += 1,
            Err(e) => {
                prop_assert!(!e.command().is_empty(), "{name}: {e}");
                prop_assert!(e.to_string().starts_with("could not parse the output of"), "{name}: {e}");
            }
        }
    }
    accepted += usize::from(parse_table(s).is_some()) + usize::from(parse_batch(s).is_ok());
    Ok(accepted)
}

/// Field names the models read, so that generated JSON reaches their deserializers.
fn model_key() -> BoxedStrategy<String> {
    let known = prop::sample::select(vec![
        "kind",
        "version",
        "metadata",
        "spec",
        "status",
        "name",
        "expires",
        "labels",
        "revision",
        "allow",
        "deny",
        "logins",
        "node_labels",
        "rules",
        "resources",
        "verbs",
        "options",
        "max_session_ttl",
        "roles",
        "traits",
        "created_by",
        "time",
        "request",
        "search_as_roles",
        "review_requests",
        "mcp",
        "tools",
        "hostname",
        "addr",
        "cmd_labels",
        "period",
        "result",
        "rotation",
        "started",
        "grace_period",
        "active_keys",
        "ssh",
        "tls",
        "jwt",
        "cluster_name",
        "type",
        "second_factors",
        "allow_local_auth",
        "require_session_mfa",
        "state",
        "reviews",
        "proposed_state",
        "resource_ids",
        "user",
        "uid",
        "event",
        "code",
        "success",
        "addr.remote",
        "join_method",
        "cluster",
        "authorities",
        "keys",
        "algorithm",
        "use_tunnel",
        "password_state",
        "uri",
        "args",
    ]);
    prop_oneof![6 => known.prop_map(String::from), 1 => text()].boxed()
}

/// The pre-order nodes of `v`.
fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Replaces the `n`th pre-order node of `v` with `with`; returns whether it was found.
fn replace_nth(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *v = with.clone();
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(items) => items.iter_mut().any(|item| replace_nth(item, n, with)),
        Value::Object(map) => map.values_mut().any(|item| replace_nth(item, n, with)),
        _ => false,
    }
}

/// The JSON fixtures, parsed (YAML and text fixtures are only mutated as bytes).
fn json_fixtures() -> Vec<(String, Value)> {
    fixtures().iter().filter_map(|(name, text)| Some((name.clone(), serde_json::from_str(text).ok()?))).collect()
}

proptest! {
    #![proptest_config(config(2))]

    #[test]
    fn any_text_never_panics(s in prop_oneof![
        text(),
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "[\\[\\]{}\":,0-9a-z\\- \n]{0,64}",
    ]) {
        parse_all(&s)?;
    }

    #[test]
    fn any_json_never_panics(v in prop_oneof![json(), json_with_keys(model_key())], pretty in any::<bool>()) {
        let s = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) };
        parse_all(&s.unwrap())?;
    }

    #[test]
    fn json_lines_and_concatenated_objects_never_panic(items in prop::collection::vec(json_with_keys(model_key()), 0..5)) {
        let lines: Vec<String> = items.iter().map(Value::to_string).collect();
        parse_all(&lines.join("\n"))?;
        parse_all(&lines.concat())?;
    }
}

proptest! {
    // Each case runs all 13 parsers over one fixture.
    #![proptest_config(config(4))]

    #[test]
    fn byte_mutations_of_the_fixtures_never_panic(fixture in any::<prop::sample::Index>(), edits in mutations(4)) {
        let (_, doc) = fixture.get(fixtures());
        let bytes = mutate(doc, &edits);
        parse_all(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn fixture_subtrees_swapped_for_any_json_never_panic(
        fixture in any::<prop::sample::Index>(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), json_with_keys(model_key())), 1..4),
    ) {
        let (name, mut doc) = fixture.get(&json_fixtures()).clone();
        for (at, with) in &picks {
            let mut n = at.index(count_nodes(&doc));
            prop_assert!(replace_nth(&mut doc, &mut n, with), "{name}: node {n} missing");
        }
        parse_all(&doc.to_string())?;
    }
}

/// The fixtures themselves are accepted by their parsers (so the mutations above start from
/// documents that reach deep into the models, not from ones refused at the first byte).
#[test]
fn every_fixture_is_accepted_by_at_least_one_parser() {
    for (name, doc) in fixtures() {
        let accepted = parse_all(doc).unwrap();
        assert!(accepted > 0, "{name}: no parser accepts it");
    }
}
