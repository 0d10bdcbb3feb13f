//! Builders for the analysis tests: models from small JSON snippets, parsed by the real parsers.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use mtcp_shared::analysis::rbac::{Finding, RbacReport};
use mtcp_shared::teleport::models::{AuthPreference, CertAuthority, ProvisionToken, Role, Server, User};
use mtcp_shared::teleport::parse::parse_resources;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The clock of every test.
pub fn now() -> DateTime<Utc> {
    at("2025-06-01T12:00:00Z")
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub fn fixture(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/teleport").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn one<T: DeserializeOwned>(v: Value) -> T {
    parse_resources::<T>("test", &v.to_string()).unwrap().remove(0)
}

pub fn role(name: &str, spec: Value) -> Role {
    one(json!({ "kind": "role", "version": "v8", "metadata": { "name": name }, "spec": spec }))
}

/// A user; `spec` is merged over `{"roles": roles}`.
pub fn user(name: &str, roles: &[&str], spec: Value) -> User {
    let mut s = json!({ "roles": roles });
    s.as_object_mut().unwrap().extend(spec.as_object().cloned().unwrap_or_default());
    one(json!({ "kind": "user", "version": "v2", "metadata": { "name": name }, "spec": s,
                "status": { "password_state": 2, "mfa_weakest_device": 3 } }))
}

pub fn auth(spec: Value) -> AuthPreference {
    one(json!({ "kind": "cluster_auth_preference", "metadata": { "name": "cluster-auth-preference" }, "spec": spec }))
}

/// Local logins, WebAuthn required, per-session MFA required cluster-wide.
pub fn strong_auth() -> AuthPreference {
    auth(json!({ "type": "local", "second_factors": ["webauthn"], "require_session_mfa": true }))
}

pub fn token(name: &str, metadata: Value, spec: Value) -> ProvisionToken {
    let mut m = json!({ "name": name });
    m.as_object_mut().unwrap().extend(metadata.as_object().cloned().unwrap_or_default());
    one(json!({ "kind": "token", "version": "v2", "metadata": m, "spec": spec }))
}

pub fn server(kind: &str, hostname: &str, version: &str, expires: DateTime<Utc>) -> Server {
    one(json!({ "kind": kind, "version": "v2",
                "metadata": { "name": format!("uuid-{hostname}"), "expires": iso(expires) },
                "spec": { "hostname": hostname, "addr": "10.0.0.1:3022", "version": version } }))
}

pub fn ca(ca_type: &str, rotation: Value) -> CertAuthority {
    one(json!({ "kind": "cert_authority", "sub_kind": ca_type, "version": "v2",
                "metadata": { "name": "teleport.example.com" },
                "spec": { "type": ca_type, "cluster_name": "teleport.example.com", "rotation": rotation } }))
}

/// `(id, subject, severity)` of every finding, in report order.
pub fn summary(report: &RbacReport) -> Vec<(String, String, String)> {
    report.findings.iter().map(|f| (f.id.clone(), f.subject.clone(), f.severity.to_string())).collect()
}

/// The findings of one rule.
pub fn of<'a>(report: &'a RbacReport, id: &str) -> Vec<&'a Finding> {
    report.findings.iter().filter(|f| f.id == id).collect()
}

/// The only finding of `id` on `subject`.
pub fn the<'a>(report: &'a RbacReport, id: &str, subject: &str) -> &'a Finding {
    let hits: Vec<_> = report.findings.iter().filter(|f| f.id == id && f.subject == subject).collect();
    assert_eq!(hits.len(), 1, "{id} on {subject}: {:#?}", summary(report));
    hits[0]
}
