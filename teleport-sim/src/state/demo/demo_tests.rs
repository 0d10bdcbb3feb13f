//! The demo cluster has what the brief and the control plane's analyses rely on.

use chrono::{DateTime, Duration, Utc};

use super::build;
use crate::timefmt::{parse_go_duration, parse_time};
use crate::value::Value;

fn now() -> DateTime<Utc> {
    parse_time("2025-06-01T10:00:00.5Z").unwrap()
}

fn named<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items.iter().find(|v| v.str_at(&["metadata", "name"]) == name).unwrap()
}

#[test]
fn nodes_have_version_skew_tunnels_openssh_and_silent_hosts() {
    let state = build(now());
    let nodes = &state.nodes;
    assert!(nodes.len() >= 20, "{} nodes", nodes.len());
    let version = |n: &Value| n.str_at(&["spec", "version"]).to_owned();
    let v18 = nodes.iter().filter(|n| version(n).starts_with("18.1.")).count();
    assert!(v18 * 2 > nodes.len(), "most nodes run 18.1.x");
    assert!(nodes.iter().filter(|n| version(n).starts_with("17.")).count() >= 2);
    assert_eq!(nodes.iter().filter(|n| version(n).starts_with("16.")).count(), 1);
    let tunnels: Vec<&Value> =
        nodes.iter().filter(|n| n.at(&["spec", "use_tunnel"]) == Some(&Value::Bool(true))).collect();
    assert!(tunnels.len() >= 3);
    assert!(tunnels.iter().all(|n| n.str_at(&["spec", "addr"]).is_empty()));
    assert_eq!(nodes.iter().filter(|n| n.str_at(&["sub_kind"]) == "openssh").count(), 1);

    let expires = |n: &Value| parse_time(n.str_at(&["metadata", "expires"])).unwrap();
    let silent = nodes.iter().filter(|n| expires(n) < now() - Duration::days(1)).count();
    assert!(silent >= 2, "{silent} silent nodes");
    let fresh = nodes.iter().filter(|n| expires(n) > now()).count();
    assert_eq!(fresh + silent, nodes.len(), "every live heartbeat is in the future");
    assert!(nodes.iter().all(|n| expires(n) <= now() + Duration::minutes(11)));
    assert_eq!(state.proxies.len(), 3);
}

#[test]
fn roles_include_presets_and_each_risky_pattern() {
    let roles = build(now()).roles;
    for preset in ["access", "editor", "auditor"] {
        assert_eq!(named(&roles, preset).str_at(&["version"]), "v8");
    }
    let allow = |r: &Value, key: &str| r.at(&["spec", "allow", key]).cloned();
    let star = Value::from(vec!["*"]);
    assert!(roles.iter().any(|r| {
        r.array_at(&["spec", "allow", "rules"])
            .iter()
            .any(|rule| rule.get("resources") == Some(&star) && rule.get("verbs") == Some(&star))
    }));
    assert!(roles.iter().any(|r| {
        allow(r, "node_labels").and_then(|l| l.get("*").cloned()) == Some(Value::from("*"))
            && r.array_at(&["spec", "allow", "logins"]).contains(&Value::from("root"))
    }));
    assert!(roles.iter().any(|r| allow(r, "impersonate").is_some()));
    assert!(roles.iter().any(|r| {
        let request = allow(r, "request").unwrap_or(Value::Null);
        request.array_at(&["roles"]).contains(&Value::from("editor")) && request.get("thresholds").is_none()
    }));
    assert!(roles.iter().any(|r| r.str_at(&["spec", "options", "max_session_ttl"]) == "720h0m0s"));
    let reviews = |r: &Value| r.array_at(&["spec", "allow", "review_requests", "roles"]).to_vec();
    assert!(roles.iter().any(|r| reviews(r).contains(&Value::from("editor"))));
}

#[test]
fn users_include_admins_a_locked_an_expired_and_an_sso_user() {
    let users = build(now()).users;
    let has_role = |u: &Value, role: &str| u.array_at(&["spec", "roles"]).contains(&Value::from(role));
    assert!(users.iter().filter(|u| has_role(u, "editor") || has_role(u, "cluster-admin")).count() >= 2);
    assert_eq!(users.iter().filter(|u| u.at(&["spec", "status", "is_locked"]) == Some(&Value::Bool(true))).count(), 1);
    let expired = |u: &Value| parse_time(u.str_at(&["spec", "expires"])).is_some_and(|t| t < now());
    assert_eq!(users.iter().filter(|u| expired(u)).count(), 1);
    let sso = users.iter().find(|u| !u.array_at(&["spec", "github_identities"]).is_empty()).unwrap();
    assert_eq!(sso.str_at(&["spec", "created_by", "connector", "type"]), "github");
    assert!(parse_time(sso.str_at(&["metadata", "expires"])).is_some());
}

#[test]
fn tokens_cover_static_short_lived_iam_and_github() {
    let tokens = build(now()).tokens;
    let method = |t: &Value| t.str_at(&["spec", "join_method"]).to_owned();
    let expiry = |t: &Value| parse_time(t.str_at(&["metadata", "expires"]));
    assert!(tokens.iter().any(|t| method(t) == "token" && expiry(t).is_none()));
    assert!(tokens.iter().any(|t| method(t) == "token" && expiry(t).is_some_and(|e| e < now() + Duration::hours(1))));
    assert!(tokens.iter().any(|t| method(t) == "iam"));
    let bot = tokens.iter().find(|t| method(t) == "github").unwrap();
    assert_eq!(bot.str_at(&["spec", "bot_name"]), "ci");
}

#[test]
fn host_ca_is_stuck_mid_rotation_and_others_never_rotated() {
    let state = build(now());
    let types: Vec<&str> = state.cert_authorities.iter().map(|c| c.str_at(&["spec", "type"])).collect();
    let expected = ["host", "user", "db", "db_client", "openssh", "jwt", "saml_idp", "oidc_idp", "spiffe"];
    assert_eq!(types, expected);
    let host = &state.cert_authorities[0];
    assert_eq!(host.str_at(&["spec", "rotation", "state"]), "in_progress");
    assert_eq!(host.str_at(&["spec", "rotation", "phase"]), "update_clients");
    let started = parse_time(host.str_at(&["spec", "rotation", "started"])).unwrap();
    let grace = parse_go_duration(host.str_at(&["spec", "rotation", "grace_period"])).unwrap();
    assert!(started + Duration::nanoseconds(grace as i64) < now(), "past its grace period");
    let never =
        state.cert_authorities.iter().filter(|c| parse_time(c.str_at(&["spec", "rotation", "last_rotated"])).is_none());
    assert!(never.count() >= 5);
    let pref = &state.auth_preference[0];
    assert_eq!(pref.str_at(&["spec", "second_factor"]), "optional");
}

#[test]
fn the_demo_is_deterministic_for_a_given_clock() {
    assert_eq!(build(now()), build(now()));
}

#[test]
fn targets_cover_every_kind_with_env_labels_agents_and_a_uri_password() {
    let state = build(now());
    let env = |t: &Value| t.str_at(&["metadata", "labels", "env"]).to_owned();
    let inner = |servers: &[Value], field: &str| -> Vec<Value> {
        servers.iter().map(|s| s.at(&["spec", field]).unwrap().clone()).collect()
    };
    let dbs = inner(&state.db_servers, "database");
    let apps = inner(&state.app_servers, "app");
    let kube = inner(&state.kube_servers, "cluster");
    for t in dbs.iter().chain(&apps).chain(&kube).chain(&state.windows_desktops) {
        assert!(["prod", "staging", "dev"].contains(&env(t).as_str()), "{t:?}");
    }
    for server in state.db_servers.iter().chain(&state.app_servers).chain(&state.kube_servers) {
        assert!(!server.str_at(&["spec", "hostname"]).is_empty() && !server.str_at(&["spec", "host_id"]).is_empty());
        let field = ["database", "app", "cluster"].iter().find(|f| server.at(&["spec", f]).is_some()).unwrap();
        assert_eq!(server.str_at(&["metadata", "name"]), server.str_at(&["spec", field, "metadata", "name"]));
    }
    let protocols: Vec<&str> = dbs.iter().map(|d| d.str_at(&["spec", "protocol"])).collect();
    for p in ["postgres", "mysql", "mongodb"] {
        assert!(protocols.contains(&p), "{protocols:?}");
    }
    assert!(dbs.iter().any(|d| d.str_at(&["spec", "uri"]).contains(":Sup3rS3cretMongo@")));
    let uris: Vec<&str> = apps.iter().map(|a| a.str_at(&["spec", "uri"])).collect();
    for scheme in ["http://", "tcp://", "mcp+http://", "mcp+sse+https://", "mcp+stdio://"] {
        assert!(uris.iter().any(|u| u.starts_with(scheme)), "{scheme}: {uris:?}");
    }
    let stdio = apps.iter().find(|a| a.str_at(&["spec", "uri"]) == "mcp+stdio://").unwrap();
    assert_eq!(stdio.str_at(&["sub_kind"]), "mcp");
    assert!(!stdio.str_at(&["spec", "mcp", "command"]).is_empty());
    // High availability: one database and one cluster are served by two agents.
    assert!(
        state.db_servers.len()
            > dbs.iter().map(|d| d.str_at(&["metadata", "name"])).collect::<std::collections::BTreeSet<_>>().len()
    );
    assert!(!state.windows_desktops.is_empty() && !kube.is_empty());
}
