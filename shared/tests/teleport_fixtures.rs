//! Every Teleport fixture under tests/fixtures/teleport (copied from the public Teleport repository,
//! or composed from its structs: see each folder's SOURCES.txt) parses through the parsers, with
//! spot checks of the odd corners each one exercises and of the shapes Teleport really produces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mtcp_shared::teleport::models::{MfaRequirement, RequestState};
use mtcp_shared::teleport::parse::{
    parse_access_request, parse_audit_events, parse_auth_preference, parse_cert_authorities, parse_cluster_status,
    parse_mcp_apps, parse_nodes, parse_proxies, parse_roles, parse_tokens, parse_users,
};
use mtcp_shared::teleport::table::{parse_table, parse_tsh_ls_text};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/teleport")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Parses one fixture with the parser its name calls for; returns the number of items.
fn parse_fixture(rel: &str, text: &str) -> usize {
    let name = rel.rsplit('/').next().unwrap();
    let ok = |r: Result<usize, _>| r.unwrap_or_else(|e: mtcp_shared::teleport::ParseError| panic!("{rel}: {e}"));
    match name {
        n if n.ends_with(".yaml") => ok(parse_roles(text).map(|v| v.len())),
        n if n.contains("ProvisionToken") || n == "tctl-tokens-ls.json" => ok(parse_tokens(text).map(|v| v.len())),
        n if n.starts_with("audit-") => ok(parse_audit_events(text).map(|v| v.len())),
        "tsh-mcp-ls.JSON_format.golden" => ok(parse_mcp_apps(text).map(|v| v.len())),
        n if n.starts_with("tsh-ls.") => ok(parse_tsh_ls_text(text).map(|v| v.len())),
        n if n.starts_with("tsh-mcp-ls.text") => parse_table(text).expect(rel).rows.len(),
        "tctl-get-nodes.json" => ok(parse_nodes(text).map(|v| v.len())),
        "tctl-get-proxies.json" => ok(parse_proxies(text).map(|v| v.len())),
        "tctl-get-roles.json" => ok(parse_roles(text).map(|v| v.len())),
        "tctl-get-users.json" => ok(parse_users(text).map(|v| v.len())),
        "tctl-get-cert_authorities.json" => ok(parse_cert_authorities(text).map(|v| v.len())),
        "tctl-get-cluster_auth_preference.json" => ok(parse_auth_preference(text).map(|_| 1)),
        "tctl-status.json" => ok(parse_cluster_status(text).map(|s| s.authorities.len())),
        "tsh-request-show.json" => ok(parse_access_request(text).map(|_| 1)),
        other => panic!("fixture {other} has no parser: add one to this test"),
    }
}

#[test]
fn every_fixture_parses() {
    let root = fixtures();
    let mut parsed = 0;
    for path in files(&root) {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        if rel.ends_with("SOURCES.txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(parse_fixture(&rel, &text) > 0, "{rel} parsed to nothing");
        parsed += 1;
    }
    assert!(parsed >= 20, "only {parsed} fixtures found");
}

/// The fixtures show what Teleport produces, never what it refuses: no auth preference sets both
/// `second_factor` and `second_factors` (`AuthPreferenceV2.CheckAndSetDefaults` rejects it), and
/// no event whose message lacks `UserMetadata` carries a top-level `user` (reviews and state
/// changes of access requests, certificates).
#[test]
fn fixtures_hold_only_shapes_teleport_produces() {
    let mut events = 0;
    for path in files(&fixtures()) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let items = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            if let Some(spec) = item.get("spec").filter(|_| item["kind"] == "cluster_auth_preference") {
                assert!(
                    spec.get("second_factor").is_none() || spec.get("second_factors").is_none(),
                    "{}: both second_factor and second_factors",
                    path.display()
                );
            }
            let event = item.get("event").and_then(|e| e.as_str()).unwrap_or_default();
            if ["access_request.review", "access_request.update", "cert.create"].contains(&event) {
                events += 1;
                assert!(item.get("user").is_none(), "{}: {event} with a top-level user", path.display());
            }
        }
    }
    assert!(events >= 3, "the review, update and cert.create examples are checked");
}

#[test]
fn the_actor_of_events_without_user_metadata() {
    let review = parse_audit_events(&read("composed/audit-access_request.review.json")).unwrap();
    assert_eq!((review[0].event.as_str(), review[0].user.as_deref()), ("access_request.review", Some("bob")));
    let examples = parse_audit_events(&read("audit-events/audit-event-examples.json")).unwrap();
    let actor = |event: &str| examples.iter().find(|e| e.event == event).and_then(|e| e.user.clone());
    assert_eq!(actor("access_request.update").as_deref(), Some("Sam_Waters"));
    assert_eq!(actor("cert.create").as_deref(), Some("alice"));
    assert_eq!(actor("access_request.create").as_deref(), Some("Carrie_Sandoval"));
}

#[test]
fn yaml_roles_with_null_logins_and_wildcards() {
    let admin = &parse_roles(&read("resources/examples-resources-admin.yaml")).unwrap()[0];
    assert_eq!(admin.metadata.name, "admin");
    assert_eq!(admin.version, "v3");
    assert!(admin.spec.allow.logins.contains(&"root".to_owned()));
    assert_eq!(admin.spec.allow.node_labels["*"], vec!["*"]);
    assert_eq!(admin.spec.allow.rules[0].resources, vec!["*"]);
    assert!(admin.spec.deny.logins.is_empty(), "logins: null is an empty list");
    assert_eq!(admin.spec.options.max_session_ttl, Some(Duration::from_secs(30 * 3600)));
    assert!(admin.spec.options.forward_agent);
    assert_eq!(admin.spec.options.require_session_mfa, MfaRequirement::Off);

    let user = &parse_roles(&read("resources/examples-resources-user-role.yaml")).unwrap()[0];
    assert_eq!(user.spec.allow.node_labels["environment"], vec!["staging"]);
    assert_eq!(user.spec.deny.rules.len(), 3);

    let role = &parse_roles(&read("resources/examples-resources-role.yaml")).unwrap()[0];
    assert_eq!(role.spec.allow.logins, vec!["root", "{{internal.logins}}"]);
    assert_eq!(role.spec.allow.rules.len(), 4);
}

#[test]
fn multi_document_yaml_skips_empty_documents() {
    let roles =
        parse_roles(&read("resources/lib-services-testdata-roles-v8_kube_accessrequest_validate.yaml")).unwrap();
    assert_eq!(roles.len(), 19);
    assert_eq!(roles[0].metadata.name, "v8-kube-access-wildcard");
    assert_eq!(roles[0].spec.allow.kubernetes_resources[0].api_group, "*");
    let search = roles.iter().find(|r| r.metadata.name == "v8-kube-request-wildcard_search-wildcard");
    let request = search.unwrap().spec.allow.request.clone().unwrap();
    assert_eq!(request.search_as_roles.len(), 2);
}

#[test]
fn compact_token_golden_is_a_one_element_list() {
    let tokens =
        parse_tokens(&read("resources/lib-services-testdata-TestMarshalProvisionToken-v2.golden.json")).unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].metadata.name, "foo");
    assert!(tokens[0].name_is_secret());
    assert_eq!(tokens[0].metadata.expires.unwrap().to_rfc3339(), "1999-11-30T00:00:00+00:00");
}

#[test]
fn audit_events_keep_common_fields_and_raw() {
    let events = parse_audit_events(&read("audit-events/audit-event-examples.json")).unwrap();
    assert_eq!(events.len(), 16);
    let exec = events.iter().find(|e| e.code == "T3002I").unwrap();
    assert_eq!(exec.remote_addr.as_deref(), Some("151.181.228.114:51752"));
    assert_eq!(exec.user.as_deref(), Some("alex"));
    let failed = events.iter().find(|e| e.code == "T1000W").unwrap();
    assert_eq!(failed.success, Some(false));
    let role = events.iter().find(|e| e.event == "role.created").unwrap();
    assert_eq!(role.cluster_name.as_deref(), Some("teleport.example.com"));
    assert_eq!(role.raw["name"], "teleport-event-handler");
    // Trimmed examples have no uid; they still parse.
    assert!(events.iter().any(|e| e.uid.is_empty()));
}

#[test]
fn tsh_ls_tables_handle_the_tunnel_cell() {
    let rows = parse_tsh_ls_text(&read("cli-golden/tsh-ls.verbose_unscoped.golden")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].name, "unscoped-direct-name");
    assert_eq!(rows[0].id.as_deref(), Some("unscoped-direct-uuid"));
    assert_eq!(rows[0].address.as_deref(), Some("1.2.3.4:22"));
    assert_eq!(rows[0].labels["key"], "val");
    assert!(rows[1].tunnel);
    assert_eq!(rows[1].address, None);
    assert!(rows[1].labels.is_empty());

    let rows = parse_tsh_ls_text(&read("cli-golden/tsh-ls.non-verbose_unscoped.golden")).unwrap();
    assert_eq!(rows[1].id, None);
    assert!(rows[1].tunnel);
}

#[test]
fn mcp_tables_and_json() {
    let table = parse_table(&read("cli-golden/tsh-mcp-ls.text_format.golden")).unwrap();
    assert_eq!(table.headers, vec!["Name", "Description", "Type", "Allowed Tools", "Labels"]);
    assert_eq!(table.cell(1, "Allowed Tools"), Some("[*], except: [wr..."));
    assert_eq!(table.cell(1, "Labels"), Some("env=dev"));

    let warned = parse_table(&read("cli-golden/tsh-mcp-ls.text_format_with_rbac_warning.golden"));
    let warned = warned.unwrap();
    assert_eq!(warned.rows.len(), 1, "the footnote after the blank line is not a row");
    assert_eq!(warned.cell(0, "Allowed Tools"), Some("(none) [!]"));

    let apps = parse_mcp_apps(&read("cli-golden/tsh-mcp-ls.JSON_format.golden")).unwrap();
    assert_eq!(apps[1].metadata.name, "deny-write");
    assert_eq!(apps[1].tools().denied, vec!["write_*"]);
    assert_eq!(apps[0].spec.mcp.args, vec!["arg"]);
}

#[test]
fn composed_reference_shapes() {
    let nodes = parse_nodes(&read("composed/tctl-get-nodes.json")).unwrap();
    assert_eq!(nodes[0].spec.cmd_labels["arch"].period, Some(Duration::from_secs(3600)));
    assert!(nodes[1].spec.use_tunnel);
    assert_eq!(nodes[0].spec.rotation.as_ref().unwrap().started, None, "zero time is None");
    let expires = nodes[0].metadata.expires.unwrap();
    assert_eq!(expires.timestamp_subsec_nanos(), 123_456_789);

    let users = parse_users(&read("composed/tctl-get-users.json")).unwrap();
    assert_eq!(users[0].spec.expires, None);
    assert!(users[0].spec.traits["db_users"].is_empty());
    assert_eq!(users[0].status.password_state, "2");

    let roles = parse_roles(&read("composed/tctl-get-roles.json")).unwrap();
    assert_eq!(roles[0].spec.allow.mcp.as_ref().unwrap().tools.len(), 3);
    assert_eq!(roles[0].spec.allow.review_requests.as_ref().unwrap().roles, vec!["access"]);

    let request = parse_access_request(&read("composed/tsh-request-show.json")).unwrap();
    assert_eq!(request.spec.state, RequestState::Approved);
    assert_eq!(request.spec.reviews[0].proposed_state, RequestState::Approved);
    assert_eq!(
        request.spec.resource_ids[0].to_string(),
        "/teleport.example.com/node/5e5b5b4e-8c1a-4c8e-9a3e-0b7c1d2e3f40"
    );

    let status = parse_cluster_status(&read("composed/tctl-status.json")).unwrap();
    assert_eq!(status.cluster.name, "teleport.example.com");
    assert_eq!(status.authorities[0].keys[1].algorithm, "ECDSA P-256");

    let cas = parse_cert_authorities(&read("composed/tctl-get-cert_authorities.json")).unwrap();
    assert_eq!(cas[0].spec.active_keys.ssh.len(), 1);
    let rotation = cas[0].spec.rotation.as_ref().unwrap();
    assert_eq!(rotation.grace_period, Some(Duration::from_secs(30 * 3600)));

    let pref = parse_auth_preference(&read("composed/tctl-get-cluster_auth_preference.json"));
    let pref = pref.unwrap();
    assert_eq!(pref.spec.second_factors, vec!["otp", "webauthn"]);
    assert_eq!(pref.spec.second_factor, "", "Teleport refuses both second_factor and second_factors");
    assert_eq!(pref.spec.allow_local_auth, Some(true));
}
