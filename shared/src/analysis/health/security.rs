//! Security-posture checks: the second factor, join-token lifetimes, and a summary of the RBAC
//! scan. They reuse the inventory views so a check and `get_auth_preference`/`list_tokens` agree.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::HealthCheck;
use crate::analysis::Severity;
use crate::analysis::rbac::RbacReport;
use crate::teleport::models::{AuthPreference, ProvisionToken};
use crate::teleport::views::{AuthPreferenceView, TokenView};

/// Tokens expiring sooner than this are about to break agents that still need to join.
const EXPIRING_WITHIN: TimeDelta = TimeDelta::hours(24);

/// The second factor: off fails, optional warns, OTP alone (phishable) warns with low severity.
/// With SSO only (local logins disabled) the identity provider enforces MFA, so off only warns.
/// Id `teleport.auth_preference`.
pub fn check_auth_preference(auth: &AuthPreference) -> HealthCheck {
    const ID: &str = "teleport.auth_preference";
    const NAME: &str = "Authentication second factor";
    let view = AuthPreferenceView::build(auth);
    let local = view.auth_type == "local" || view.allow_local_auth;
    let factors = if view.second_factors.is_empty() { "none".to_owned() } else { view.second_factors.join(", ") };
    let check = if view.second_factor.as_deref() == Some("optional") {
        HealthCheck::warn(ID, NAME, "second factor is optional: users without a device log in with a password alone")
    } else if view.second_factors.is_empty() && local {
        HealthCheck::fail(ID, NAME, "second factor is off: local users log in with a password alone")
    } else if view.second_factors.is_empty() {
        HealthCheck::warn(
            ID,
            NAME,
            format!("second factor is off; only the {} identity provider's MFA applies", view.auth_type),
        )
    } else if view.second_factors.iter().all(|f| f == "otp") {
        HealthCheck::warn(ID, NAME, "only OTP is allowed as second factor (phishable); enable webauthn")
            .with_severity(Severity::Low)
    } else {
        HealthCheck::ok(ID, NAME, format!("second factor required ({factors})"))
    };
    check.with_details(json!({ "type": view.auth_type, "second_factor": view.second_factor,
        "second_factors": view.second_factors, "allow_local_auth": view.allow_local_auth,
        "require_session_mfa": view.require_session_mfa, "warnings": view.warnings }))
}

/// Join tokens: expiring within 24 h warns (low), and long-lived or static shared-secret tokens
/// warn. Secret names appear masked only. Id `teleport.join_tokens`.
pub fn check_tokens(tokens: &[ProvisionToken], now: DateTime<Utc>) -> HealthCheck {
    const ID: &str = "teleport.join_tokens";
    const NAME: &str = "Join tokens";
    let views: Vec<TokenView> = tokens.iter().map(|t| TokenView::build(t, now)).collect();
    let item = |v: &TokenView| {
        json!({ "name": v.name, "join_method": v.join_method, "roles": v.roles,
                "expires": v.expires.map(|t| t.to_rfc3339()) })
    };
    let expiring: Vec<_> = views
        .iter()
        .filter(|v| v.expires.is_some_and(|e| e > now && e - now <= EXPIRING_WITHIN))
        .map(|v| {
            let mut j = item(v);
            j["expires_in_seconds"] = json!(v.expires.map(|e| (e - now).num_seconds()));
            j
        })
        .collect();
    let statics: Vec<_> = views.iter().filter(|v| v.masked && v.is_static).map(item).collect();
    let long_lived: Vec<_> = views.iter().filter(|v| v.long_lived && !v.is_static).map(item).collect();
    let expired = views.iter().filter(|v| v.expires.is_some_and(|e| e <= now)).count();
    let message = format!(
        "{} static and {} long-lived shared-secret token(s); {} expiring within 24h",
        statics.len(),
        long_lived.len(),
        expiring.len()
    );
    let check = if !statics.is_empty() || !long_lived.is_empty() {
        HealthCheck::warn(ID, NAME, message)
    } else if !expiring.is_empty() {
        HealthCheck::warn(ID, NAME, message).with_severity(Severity::Low)
    } else {
        HealthCheck::ok(ID, NAME, format!("{} join token(s), none long-lived or about to expire", views.len()))
    };
    check.with_details(json!({ "total": views.len(), "static": statics, "long_lived": long_lived,
                               "expiring_within_24h": expiring, "expired": expired }))
}

/// Critical RBAC findings fail, high ones warn; the details list those findings (subjects are
/// already masked by the scan). Id `security.rbac`.
pub fn summarize_rbac(report: &RbacReport) -> HealthCheck {
    const ID: &str = "security.rbac";
    const NAME: &str = "RBAC scan";
    let s = &report.summary;
    let message = format!(
        "{} critical, {} high, {} medium, {} low finding(s) over {} roles and {} users",
        s.critical, s.high, s.medium, s.low, report.roles_scanned, report.users_scanned
    );
    let top: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity <= Severity::High)
        .map(|f| {
            json!({ "id": f.id, "severity": f.severity, "subject_kind": f.subject_kind,
                         "subject": f.subject, "title": f.title })
        })
        .collect();
    let check = if s.critical > 0 {
        HealthCheck::fail(ID, NAME, message).with_severity(Severity::Critical)
    } else if s.high > 0 {
        HealthCheck::warn(ID, NAME, message).with_severity(Severity::High)
    } else {
        HealthCheck::ok(ID, NAME, message)
    };
    check.with_details(json!({ "summary": s, "critical_and_high": top }))
}
