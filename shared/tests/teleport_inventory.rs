//! The seven inventory tools end to end through the runner, with a script printing the reference
//! outputs: compact views, failures an LLM can act on, and no secret in a view or a record.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::teleport::TeleportError;
use mtcp_shared::teleport::inventory::{
    ToolFailure, get_auth_preference, list_cas, list_nodes, list_proxies, list_roles, list_tokens, list_users,
};
use mtcp_shared::teleport::runner::{Runner, RunnerSettings};
use mtcp_shared::teleport::views::{AuthPreferenceView, CaList, NodeList, ProxyList, RoleList, TokenList, UserList};
use tokio_util::sync::CancellationToken;

const LONG_SECRET: &str = "8f7e6d5c4b3a29180716f5e4d3c2b1a0";
const SHORT_SECRET: &str = "shortsecret1";
const STATIC_SECRET: &str = "static-config-file-token-value";

fn composed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/teleport/composed").join(name)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A runner whose `tctl` is `body` (a shell script fragment).
fn runner(dir: &tempfile::TempDir, body: &str) -> Runner {
    let path = dir.path().join("tctl");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut s = RunnerSettings::new(dir.path().join("home"));
    s.tctl_path = path;
    s.timeout = Duration::from_secs(10);
    Runner::new(s).unwrap()
}

fn cat(name: &str) -> String {
    format!("cat '{}'", composed(name).display())
}

fn serialized<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

#[tokio::test]
async fn nodes_are_compact_with_staleness_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-nodes.json"));
    let run = list_nodes(&r, &CancellationToken::new(), at("2025-06-01T10:21:00Z")).await.unwrap();
    let v = &run.value;
    assert_eq!((v.count, v.stale_count), (2, 1));
    assert_eq!(v.versions["18.1.4"], 2);
    let tunnel = v.nodes.iter().find(|n| n.hostname == "db-tunnel-02").unwrap();
    assert!(tunnel.tunnel && tunnel.stale);
    assert_eq!(tunnel.addr, "tunnel");
    let web = v.nodes.iter().find(|n| n.hostname == "web-01").unwrap();
    assert_eq!(web.addr, "10.0.1.12:3022");
    assert_eq!(web.labels["arch"], "x86_64");
    assert_eq!(web.labels["env"], "prod");
    assert_eq!(web.sub_kind, "teleport");
    let json = serialized(v);
    assert!(json.contains(r#""expires":"2025-06-01T10:21:12Z""#), "{json}");
    assert!(!json.contains("0001-01-01"));
    assert_eq!(run.record.argv, ["tctl", "get", "nodes", "--format=json"]);
    assert_eq!(run.record.exit_code, Some(0));
    assert!(run.record.stdout.contains("web-01") && !run.record.truncated);
}

#[tokio::test]
async fn proxies_list_public_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-proxies.json"));
    let run = list_proxies(&r, &CancellationToken::new(), at("2025-06-01T10:00:00Z")).await.unwrap();
    assert_eq!(run.value.proxies[0].public_addrs, ["teleport.example.com:443"]);
    assert_eq!(run.value.stale_count, 0);
}

#[tokio::test]
async fn roles_summarise_allow_deny_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-roles.json"));
    let run = list_roles(&r, &CancellationToken::new(), Utc::now()).await.unwrap();
    let role = &run.value.roles[0];
    assert_eq!(role.name, "access");
    assert_eq!(role.description.as_deref(), Some("Access cluster resources"));
    assert_eq!(role.allow.node_labels, ["*=*"]);
    assert_eq!(
        role.allow.rules,
        ["event:list,read", "session:read,list where contains(session.participants, user.metadata.name)"]
    );
    assert_eq!(role.allow.request_roles, ["db-admin"]);
    assert_eq!(role.allow.review_roles, ["access"]);
    assert_eq!(role.deny.mcp_tools, ["slack_post_message"]);
    assert_eq!(role.options.max_session_ttl_seconds, Some(30 * 3600));
    assert_eq!(role.options.require_session_mfa, "off");
    let deny = serialized(&role.deny);
    assert_eq!(deny, r#"{"mcp_tools":["slack_post_message"]}"#, "empty fields are omitted");
}

#[tokio::test]
async fn users_show_roles_lock_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-users.json"));
    let run = list_users(&r, &CancellationToken::new(), Utc::now()).await.unwrap();
    let alice = &run.value.users[0];
    assert_eq!(alice.roles, ["access", "editor"]);
    assert!(!alice.locked);
    assert_eq!(alice.expires, None);
    assert_eq!(alice.sso_connector, None);
    assert_eq!(alice.created, Some(at("2025-06-01T10:00:00Z")));
    assert_eq!(alice.created_by.as_deref(), Some("admin"));
}

fn tokens_json() -> String {
    format!(
        r#"[
    {{"kind": "token", "version": "v2", "metadata": {{"name": "{LONG_SECRET}", "expires": "2025-06-01T11:00:00Z"}},
      "spec": {{"roles": ["Node"], "join_method": "token"}}}},
    {{"kind": "token", "version": "v2", "metadata": {{"name": "{SHORT_SECRET}"}}, "spec": {{"roles": ["Proxy"]}}}},
    {{"kind": "token", "version": "v2", "metadata": {{"name": "{STATIC_SECRET}", "expires": "1970-01-01T00:00:00Z"}},
      "spec": {{"roles": ["Node"], "join_method": "token"}}}},
    {{"kind": "token", "version": "v2", "metadata": {{"name": "github-ci-bot"}},
      "spec": {{"roles": ["Bot"], "join_method": "github", "bot_name": "ci", "github": {{"allow": [{{"repository": "acme/app"}}]}}}}}}
]"#
    )
}

fn assert_no_token_secret(text: &str) {
    for secret in [LONG_SECRET, SHORT_SECRET, STATIC_SECRET] {
        assert!(!text.contains(secret), "token secret {secret} leaked in {text}");
    }
}

#[tokio::test]
async fn token_secrets_never_leave_masked_or_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokens.json"), tokens_json()).unwrap();
    let body = format!("cat '{}'; echo 'note: {LONG_SECRET}' >&2", dir.path().join("tokens.json").display());
    let r = runner(&dir, &body);
    let run = list_tokens(&r, &CancellationToken::new(), at("2025-06-01T10:00:00Z")).await.unwrap();
    let v = &run.value;
    assert_no_token_secret(&serialized(v));
    assert_no_token_secret(&run.record.stdout);
    assert_no_token_secret(&run.record.stderr);
    let long = v.tokens.iter().find(|t| t.roles == ["Node"] && !t.is_static).unwrap();
    assert_eq!(long.name, format!("{}{}", "*".repeat(24), &LONG_SECRET[24..]));
    assert!(long.masked && !long.long_lived);
    let short = v.tokens.iter().find(|t| t.roles == ["Proxy"]).unwrap();
    assert_eq!(short.name, "*".repeat(SHORT_SECRET.len()));
    assert_eq!(short.join_method, "token");
    assert!(short.long_lived, "no expiry");
    let stat = v.tokens.iter().find(|t| t.is_static).unwrap();
    assert_eq!(stat.expires, None);
    let bot = v.tokens.iter().find(|t| t.join_method == "github").unwrap();
    assert_eq!((bot.name.as_str(), bot.masked, bot.bot_name.as_deref()), ("github-ci-bot", false, Some("ci")));
    assert!(serialized(v).contains(r#""static":true"#));
    assert_eq!(v.long_lived_count, 2);
    let stored: serde_json::Value = serde_json::from_str(&run.record.stdout).unwrap();
    assert_eq!(stored[0]["metadata"]["name"], long.name.as_str());
}

#[tokio::test]
async fn unparseable_token_output_is_withheld() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &format!("echo '[{{\"metadata\": {{\"name\": \"{LONG_SECRET}\"'"));
    let err = list_tokens(&r, &CancellationToken::new(), Utc::now()).await.unwrap_err();
    let ToolFailure::Parse { error, record } = &err else { panic!("{err:?}") };
    assert!(
        error
            .to_string()
            .starts_with(r#"could not parse the output of "tctl tokens ls --format=json"; the parser said:"#)
    );
    assert_no_token_secret(&record.stdout);
    assert!(record.stdout.starts_with("[withheld"));
}

#[tokio::test]
async fn yaml_token_output_is_masked_too() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "kind: token\nversion: v2\nmetadata:\n  name: {LONG_SECRET}\nspec:\n  roles: [Node]\n  join_method: token\n"
    );
    std::fs::write(dir.path().join("t.yaml"), yaml).unwrap();
    let r = runner(&dir, &format!("cat '{}'", dir.path().join("t.yaml").display()));
    let run = list_tokens(&r, &CancellationToken::new(), Utc::now()).await.unwrap();
    assert_no_token_secret(&run.record.stdout);
    assert!(run.record.stdout.contains(&run.value.tokens[0].name));
}

#[tokio::test]
async fn cas_count_keys_warn_on_rotation_and_drop_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-cert_authorities.json"));
    let run = list_cas(&r, &CancellationToken::new(), at("2025-06-03T00:00:00Z")).await.unwrap();
    let ca = &run.value.cas[0];
    assert_eq!((ca.ca_type.as_str(), ca.cluster.as_str()), ("host", "teleport.example.com"));
    assert_eq!((ca.active_keys.ssh, ca.active_keys.tls, ca.active_keys.jwt), (1, 1, 0));
    let rotation = ca.rotation.as_ref().unwrap();
    assert_eq!(rotation.grace_period_seconds, Some(30 * 3600));
    assert_eq!(rotation.last_rotated, Some(at("2025-01-15T08:00:00Z")));
    assert!(ca.warnings.iter().any(|w| w.starts_with("rotation in progress (phase update_clients")));
    assert!(ca.warnings.iter().any(|w| w.contains("past its grace period")), "{:?}", ca.warnings);
    for text in [serialized(&run.value), run.record.stdout.clone()] {
        assert!(!text.contains("c3NoLWVkMjU1MTk"), "SSH key material in {text}");
        assert!(!text.contains("LS0tLS1CRUdJTi"), "TLS key material in {text}");
    }
    let stored: serde_json::Value = serde_json::from_str(&run.record.stdout).unwrap();
    assert_eq!(stored[0]["spec"]["active_keys"]["ssh"][0], "[REDACTED]");

    // Within the grace period there is no overrun warning.
    let run = list_cas(&r, &CancellationToken::new(), at("2025-06-01T12:00:00Z")).await.unwrap();
    assert!(!run.value.cas[0].warnings.iter().any(|w| w.contains("grace")));
}

#[tokio::test]
async fn auth_preference_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &cat("tctl-get-cluster_auth_preference.json"));
    let run = get_auth_preference(&r, &CancellationToken::new(), Utc::now()).await.unwrap();
    let v = &run.value;
    assert_eq!(v.auth_type, "local");
    assert_eq!(v.second_factors, ["otp", "webauthn"]);
    assert_eq!(v.default_session_ttl_seconds, Some(12 * 3600));
    assert_eq!(v.origin.as_deref(), Some("defaults"));
    let warnings = v.warnings.join("\n");
    assert!(warnings.contains("per-session MFA is not required"));
    assert!(warnings.contains("device trust is off"));
    assert!(!warnings.contains("second factor is off"));

    let sso = r#"[{"kind":"cluster_auth_preference","metadata":{"name":"cluster-auth-preference"},
        "spec":{"type":"saml","second_factor":"off","require_session_mfa":"hardware_key_touch","locking_mode":"strict","disconnect_expired_cert":true}}]"#;
    let r = runner(&dir, &format!("echo '{sso}'"));
    let v = get_auth_preference(&r, &CancellationToken::new(), Utc::now()).await.unwrap().value;
    assert_eq!(v.require_session_mfa, "hardware_key_touch");
    assert!(v.allow_local_auth, "unset means allowed");
    assert_eq!(v.warnings.len(), 2, "{:?}", v.warnings);
    assert!(v.warnings[0].starts_with("second factor is off"));
    assert!(v.warnings[1].starts_with("local authentication is allowed alongside SSO (saml)"));
}

#[tokio::test]
async fn failures_read_well_and_keep_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let denied = runner(
        &dir,
        r#"printf '\033[31mERROR: \033[0maccess denied to perform action "list" on "node"\n\n' >&2; exit 1"#,
    );
    let err = list_nodes(&denied, &CancellationToken::new(), Utc::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Teleport refused; its message:\n<untrusted-data format=\"text\">\naccess denied to perform action \"list\" on \"node\"\n</untrusted-data>"
    );
    assert!(matches!(&err, ToolFailure::Teleport { error: TeleportError::AccessDenied { .. }, .. }));
    assert_eq!(err.record().unwrap().exit_code, Some(1));

    let garbage = runner(&dir, r#"printf '[\n  {"kind": "node",\n    oops\n'"#);
    let err = list_nodes(&garbage, &CancellationToken::new(), Utc::now()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(r#"could not parse the output of "tctl get nodes --format=json"; the parser said:"#),
        "{text}"
    );
    assert!(text.contains("line 3"), "{text}");

    let empty = runner(&dir, "printf '[]'");
    let run = list_users(&empty, &CancellationToken::new(), Utc::now()).await.unwrap();
    assert_eq!(run.value.count, 0);
    let err = get_auth_preference(&empty, &CancellationToken::new(), Utc::now()).await.unwrap_err();
    assert!(err.to_string().contains("expected one cluster_auth_preference, found nothing"));

    let dir2 = tempfile::tempdir().unwrap();
    let mut s = RunnerSettings::new(dir2.path().join("home"));
    s.tctl_path = dir2.path().join("missing-tctl");
    let err = list_roles(&Runner::new(s).unwrap(), &CancellationToken::new(), Utc::now()).await.unwrap_err();
    assert!(matches!(err, ToolFailure::Spawn { .. }));
    assert!(err.to_string().starts_with("could not start the Teleport CLI: "));
}

#[tokio::test]
async fn timeouts_become_tool_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tctl");
    std::fs::write(&path, "#!/bin/sh\nsleep 30\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut s = RunnerSettings::new(dir.path().join("home"));
    s.tctl_path = path;
    s.timeout = Duration::from_millis(200);
    let err = list_nodes(&Runner::new(s).unwrap(), &CancellationToken::new(), Utc::now()).await.unwrap_err();
    assert!(matches!(err, ToolFailure::TimedOut { .. }));
    assert!(err.to_string().contains("timed out after 0.2s"), "{err}");
}

#[test]
fn every_view_schema_is_a_described_object() {
    let schemas = [
        schemars::schema_for!(NodeList),
        schemars::schema_for!(ProxyList),
        schemars::schema_for!(RoleList),
        schemars::schema_for!(UserList),
        schemars::schema_for!(TokenList),
        schemars::schema_for!(CaList),
        schemars::schema_for!(AuthPreferenceView),
    ];
    for schema in schemas {
        let v = schema.as_value();
        assert_eq!(v["type"], "object", "{v}");
        let props = v["properties"].as_object().unwrap();
        assert!(!props.is_empty());
        for (name, prop) in props {
            assert!(prop.get("description").is_some(), "{name} has no description in {v}");
        }
    }
    let nodes = serde_json::to_string(&schemars::schema_for!(NodeList)).unwrap();
    assert!(nodes.contains(r#""format":"date-time""#));
}
