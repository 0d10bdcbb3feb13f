//! Health checks: version skew, stale heartbeats, CA rotation, second factor, join tokens, the
//! RBAC summary, and how a report orders and rolls up its checks.

mod analysis_support;

use analysis_support::*;
use chrono::TimeDelta;
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::health::{
    HealthCheck, HealthReport, HealthStatus, check_auth_preference, check_cas, check_stale_nodes, check_tokens,
    check_versions, summarize_rbac,
};
use mtcp_shared::analysis::rbac::scan;
use mtcp_shared::teleport::parse::{parse_cert_authorities, parse_tokens};
use serde_json::json;

fn fresh() -> chrono::DateTime<chrono::Utc> {
    now() + TimeDelta::minutes(8)
}

#[test]
fn version_skew_fails_on_major_and_warns_on_minor() {
    let proxies = [server("proxy", "proxy-0", "18.1.4", fresh())];
    let nodes = [
        server("node", "web-01", "18.1.2", fresh()),
        server("node", "legacy", "16.4.8", fresh()),
        server("node", "old-minor", "18.0.3", fresh()),
        server("node", "weird", "banana", fresh()),
    ];
    let c = check_versions(&nodes, &proxies, Some("18.1.4"));
    assert_eq!((c.id.as_str(), c.status, c.severity), ("teleport.versions", HealthStatus::Fail, Some(Severity::High)));
    assert_eq!(c.details["major_behind"][0]["hostname"], "legacy");
    assert_eq!(c.details["minor_behind"][0]["hostname"], "old-minor");
    assert_eq!(c.details["unparseable"][0]["hostname"], "weird");
    assert_eq!(c.details["reference"], json!({ "version": "18.1.4", "source": "cluster" }));

    let c = check_versions(&nodes[..1], &proxies, None);
    assert_eq!((c.status, &c.details["reference"]["source"]), (HealthStatus::Ok, &json!("newest proxy")));
    let c = check_versions(&[nodes[0].clone(), nodes[2].clone()], &proxies, Some("v18.1.0"));
    assert_eq!(c.status, HealthStatus::Warn, "{}", c.message);
    let c = check_versions(&nodes[3..], &[], Some("18.1.4"));
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Low)));
    // Newer than the cluster is unsupported too; agentless OpenSSH nodes run no Teleport.
    let ahead = server("node", "canary", "19.0.0", fresh());
    assert_eq!(check_versions(&[ahead], &[], Some("18.1.4")).status, HealthStatus::Fail);
    let mut openssh = server("node", "legacy-ssh", "", fresh());
    openssh.sub_kind = "openssh".into();
    assert_eq!(check_versions(&[openssh], &[], Some("18.1.4")).status, HealthStatus::Ok);
    assert_eq!(check_versions(&[], &[], None).status, HealthStatus::Skipped);
    // An unparseable cluster version is reported, and the newest proxy becomes the reference.
    let c = check_versions(&[], &proxies, Some("eighteen"));
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Low)));
    assert_eq!(c.details["unparseable"][0]["kind"], "cluster");
    assert_eq!(c.details["reference"]["source"], "newest proxy");
}

#[test]
fn stale_heartbeats_warn_then_fail_with_age() {
    let ok = server("node", "web-01", "18.1.4", fresh());
    let recent = server("node", "flapping", "18.1.4", now() - TimeDelta::minutes(10));
    let gone = server("node", "gone", "18.1.4", now() - TimeDelta::days(3));
    let c = check_stale_nodes(std::slice::from_ref(&ok), now());
    assert_eq!((c.status, &c.details["stale_count"]), (HealthStatus::Ok, &json!(0)));
    let c = check_stale_nodes(&[ok.clone(), recent.clone()], now());
    assert_eq!((c.status, &c.details["stale"][0]["stale_for_seconds"]), (HealthStatus::Warn, &json!(600)));
    let c = check_stale_nodes(&[ok, recent, gone], now());
    assert_eq!(c.status, HealthStatus::Fail);
    assert_eq!(c.details["stale"][0]["hostname"], "gone", "oldest first");
    assert!(c.message.starts_with("2 of 3 nodes stopped heartbeating"), "{}", c.message);
}

#[test]
fn ca_rotation_past_grace_fails_in_progress_and_never_rotated_warn() {
    let cas = parse_cert_authorities(&fixture("composed/tctl-get-cert_authorities.json")).unwrap();
    // Started 2025-06-01T10:00Z with a 30h grace period.
    let c = check_cas(&cas, at("2025-06-03T00:00:00Z"));
    assert_eq!((c.id.as_str(), c.status), ("teleport.cert_authorities", HealthStatus::Fail));
    assert_eq!(c.details["past_grace_period"][0]["ca"], "teleport.example.com/host");
    assert_eq!(c.details["past_grace_period"][0]["grace_ends"], "2025-06-02T16:00:00+00:00");
    let c = check_cas(&cas, now());
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Medium)));
    assert_eq!(c.details["in_progress"][0]["phase"], "update_clients");

    let rotated = json!({ "state": "standby", "phase": "standby", "last_rotated": "2025-05-01T00:00:00Z" });
    let never = json!({ "state": "standby", "phase": "standby", "last_rotated": "0001-01-01T00:00:00Z" });
    assert_eq!(check_cas(&[ca("user", rotated.clone())], now()).status, HealthStatus::Ok);
    let c = check_cas(&[ca("user", rotated), ca("db", never), ca("jwt", json!(null))], now());
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Low)));
    assert_eq!(c.details["never_rotated"], json!(["teleport.example.com/db", "teleport.example.com/jwt"]));
    assert_eq!(check_cas(&[], now()).status, HealthStatus::Skipped);
}

#[test]
fn weak_second_factor() {
    let status = |spec: serde_json::Value| {
        let c = check_auth_preference(&auth(spec));
        (c.status, c.severity)
    };
    assert_eq!(status(json!({ "second_factor": "off" })), (HealthStatus::Fail, Some(Severity::High)));
    assert_eq!(status(json!({ "second_factor": "optional" })), (HealthStatus::Warn, Some(Severity::Medium)));
    assert_eq!(status(json!({ "second_factors": ["otp"] })), (HealthStatus::Warn, Some(Severity::Low)));
    assert_eq!(
        status(json!({ "type": "saml", "second_factor": "off", "allow_local_auth": false })).0,
        HealthStatus::Warn
    );
    assert_eq!(status(json!({ "second_factor": "on" })), (HealthStatus::Ok, None));
    let c = check_auth_preference(&strong_auth());
    assert_eq!((c.status, &c.details["require_session_mfa"]), (HealthStatus::Ok, &json!("session")));
}

#[test]
fn join_tokens_expiring_long_lived_and_static() {
    let node = json!({ "roles": ["Node"], "join_method": "token" });
    let soon = token("aaaabbbbccccdddd1111", json!({ "expires": iso(now() + TimeDelta::hours(2)) }), node.clone());
    let later = token("aaaabbbbccccdddd2222", json!({ "expires": iso(now() + TimeDelta::hours(20)) }), node.clone());
    let c = check_tokens(&[soon.clone(), later], now());
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Low)));
    assert_eq!(c.details["expiring_within_24h"][0]["expires_in_seconds"], json!(7200));
    let static_token =
        token("aaaabbbbccccdddd3333", json!({ "labels": { "teleport.dev/origin": "config-file" } }), node);
    let c = check_tokens(&[soon, static_token], now());
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::Medium)));
    assert_eq!(c.details["static"][0]["name"], "***************d3333");
    let text = serde_json::to_string(&c).unwrap();
    assert!(!text.contains("aaaabbbb"), "secret leaked: {text}");
    // The composed fixture: one expired secret token and a GitHub token.
    let tokens = parse_tokens(&fixture("composed/tctl-tokens-ls.json")).unwrap();
    let c = check_tokens(&tokens, now());
    assert_eq!((c.status, &c.details["expired"]), (HealthStatus::Ok, &json!(1)));
}

#[test]
fn rbac_summary_fails_on_critical_and_warns_on_high() {
    let god = role("god", json!({ "allow": { "rules": [{ "resources": ["*"], "verbs": ["*"] }] } }));
    let long = role("long", json!({ "options": { "max_session_ttl": "48h" } }));
    let c = summarize_rbac(&scan(&[god], &[], &strong_auth(), &[], now()));
    assert_eq!((c.id.as_str(), c.status, c.severity), ("security.rbac", HealthStatus::Fail, Some(Severity::Critical)));
    assert_eq!(c.details["critical_and_high"][0]["id"], "RBAC-001");
    let c = summarize_rbac(&scan(&[long], &[], &strong_auth(), &[], now()));
    assert_eq!((c.status, c.severity), (HealthStatus::Warn, Some(Severity::High)));
    assert_eq!(summarize_rbac(&scan(&[], &[], &strong_auth(), &[], now())).status, HealthStatus::Ok);
}

#[test]
fn report_orders_failures_first_and_rolls_up_the_worst() {
    let checks = vec![
        HealthCheck::ok("control_plane.database", "Database", "reachable"),
        HealthCheck::skipped("control_plane.leases", "Leases", "no leases"),
        HealthCheck::warn("control_plane.queue", "Queue depth", "120 jobs waiting")
            .with_details(json!({ "depth": 120 })),
        HealthCheck::fail("b.second", "B", "down"),
        HealthCheck::fail("z.workers", "Workers", "no worker online").with_severity(Severity::Critical),
        HealthCheck::warn("a.low", "A", "meh").with_severity(Severity::Low),
    ];
    let r = HealthReport::from_checks(checks);
    let ids: Vec<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["z.workers", "b.second", "control_plane.queue", "a.low", "control_plane.database", "control_plane.leases"]
    );
    assert_eq!(r.status, HealthStatus::Fail);
    let s = r.summary;
    assert_eq!((s.fail, s.warn, s.ok, s.skipped, s.total), (2, 2, 1, 1, 6));
    assert_eq!(r.checks[2].details["depth"], 120);
    assert_eq!(HealthCheck::ok("x", "X", "fine").with_severity(Severity::High).severity, None);

    let healthy =
        HealthReport::from_checks(vec![HealthCheck::ok("a", "A", "fine"), HealthCheck::skipped("b", "B", "-")]);
    assert_eq!(healthy.status, HealthStatus::Ok);
    assert_eq!(HealthReport::from_checks(Vec::new()).status, HealthStatus::Skipped);
    let v = serde_json::to_value(&healthy).unwrap();
    assert_eq!((v["status"].as_str(), v["checks"][0]["details"].clone()), (Some("ok"), json!({})));
}

#[test]
fn report_schema_is_a_described_object() {
    let schema = schemars::schema_for!(HealthReport);
    let v = schema.as_value();
    assert_eq!(v["type"], "object", "{v}");
    for (name, prop) in v["properties"].as_object().unwrap() {
        assert!(prop.get("description").is_some(), "{name} has no description");
    }
}
