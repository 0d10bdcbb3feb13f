//! Cluster-wide rules: the second factor and local authentication in the auth preference, and
//! long-lived or static shared-secret join tokens (reported under their masked names only).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Finding, RuleId, SubjectKind};
use crate::analysis::Severity;
use crate::teleport::models::{AuthPreference, ProvisionToken};
use crate::teleport::views::{AuthPreferenceView, TokenView};

const WEAK_SECOND_FACTOR: RuleId = RuleId::new("RBAC-007", "weak-second-factor");
const LONG_LIVED_TOKEN: RuleId = RuleId::new("RBAC-012", "long-lived-join-token");
const STATIC_TOKEN: RuleId = RuleId::new("RBAC-013", "static-join-token");
const LOCAL_AUTH_WITH_SSO: RuleId = RuleId::new("RBAC-014", "local-auth-alongside-sso");
/// Name of the singleton when the resource does not carry one.
const AUTH_PREFERENCE_NAME: &str = "cluster-auth-preference";

/// Rules on the cluster auth preference, read through its view so that both agree on the
/// effective second factors.
pub(crate) fn scan_auth_preference(auth: &AuthPreference) -> Vec<Finding> {
    let view = AuthPreferenceView::build(auth);
    let name = if auth.metadata.name.is_empty() { AUTH_PREFERENCE_NAME } else { auth.metadata.name.as_str() };
    let subject = (SubjectKind::AuthPreference, name);
    let local = view.auth_type == "local" || view.allow_local_auth;
    let mut out = Vec::new();
    let weak = if view.second_factor.as_deref() == Some("optional") {
        Some((Severity::High, "optional: users without a registered device log in with a password alone"))
    } else if view.second_factors.is_empty() {
        Some((Severity::Critical, "off: local users log in with a password alone"))
    } else {
        None
    };
    if let Some((severity, what)) = weak {
        // With local logins disabled the identity provider is the one enforcing MFA.
        let severity = if local { severity } else { Severity::Medium };
        out.push(WEAK_SECOND_FACTOR.finding(
            severity,
            subject,
            format!("The second factor is {what}"),
            json!({ "second_factor": view.second_factor, "second_factors": view.second_factors,
                    "type": view.auth_type, "allow_local_auth": view.allow_local_auth }),
            "Set second_factors: [webauthn] (or second_factor: on) in cluster_auth_preference and have users enrol a device.",
        ));
    }
    if view.auth_type != "local" && view.allow_local_auth {
        out.push(LOCAL_AUTH_WITH_SSO.finding(
            Severity::Medium,
            subject,
            format!("Local password logins are allowed alongside SSO ({})", view.auth_type),
            json!({ "type": view.auth_type, "allow_local_auth": true }),
            "Set allow_local_auth: false in cluster_auth_preference and keep one break-glass local admin with a hardware key.",
        ));
    }
    out
}

/// Rules on one join token. Only shared-secret (`token` method) tokens can fire, and they are
/// named by [`TokenView`]'s masked name: the secret never reaches a finding.
pub(crate) fn scan_token(token: &ProvisionToken, now: DateTime<Utc>) -> Option<Finding> {
    let view = TokenView::build(token, now);
    if !view.masked {
        return None;
    }
    let evidence = json!({ "join_method": view.join_method, "roles": view.roles,
                           "expires": view.expires.map(|t| t.to_rfc3339()), "static": view.is_static });
    if view.is_static {
        return Some(STATIC_TOKEN.finding(
            Severity::High,
            (SubjectKind::Token, &view.name),
            format!("Static join token {} (from the config file) never expires", view.name),
            evidence,
            "Remove the static token from auth_service.tokens in teleport.yaml; use short-lived tokens or a delegated join method (iam, ec2, github…).",
        ));
    }
    if !view.long_lived {
        return None;
    }
    let lifetime = match view.expires {
        None => "never expires".to_owned(),
        Some(e) if e - now < chrono::TimeDelta::hours(48) => {
            format!("is valid for {} more hours", (e - now).num_hours())
        }
        Some(e) => format!("is valid for {} more days", (e - now).num_days()),
    };
    Some(LONG_LIVED_TOKEN.finding(
        Severity::High,
        (SubjectKind::Token, &view.name),
        format!("Shared-secret join token {} {lifetime}", view.name),
        evidence,
        "Delete it (tctl tokens rm) and issue tokens with --ttl of at most 24h, or switch to a delegated join method.",
    ))
}
