//! Rules about one user: holding admin-equivalent roles, and locked or expired accounts that
//! still hold roles.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::privilege::Privileges;
use super::{Finding, RuleId, SubjectKind};
use crate::analysis::Severity;
use crate::teleport::models::User;

const ADMIN_USER: RuleId = RuleId::new("RBAC-006", "admin-equivalent-user");
const INACTIVE_USER: RuleId = RuleId::new("RBAC-011", "inactive-user-holding-roles");

/// Runs every user rule on one user.
pub(crate) fn scan_user(user: &User, p: &Privileges, now: DateTime<Utc>) -> Vec<Finding> {
    [admin_user(user, p), inactive_user(user, p, now)].into_iter().flatten().collect()
}

/// `status.mfa_weakest_device` in words (Teleport prints the enum as a number: 1 unset, 2 TOTP, 3 WebAuthn).
fn mfa_device(user: &User) -> &'static str {
    match user.status.mfa_weakest_device.as_str() {
        "1" | "MFA_DEVICE_TYPE_UNSET" => "none",
        "2" | "MFA_DEVICE_TYPE_TOTP" => "totp",
        "3" | "MFA_DEVICE_TYPE_WEBAUTHN" => "webauthn",
        _ => "unknown",
    }
}

fn admin_user(user: &User, p: &Privileges) -> Option<Finding> {
    let admin: BTreeMap<&str, Vec<String>> = user
        .spec
        .roles
        .iter()
        .map(|r| (r.as_str(), p.admin_reasons(r)))
        .filter(|(_, reasons)| !reasons.is_empty())
        .collect();
    if admin.is_empty() {
        return None;
    }
    let device = mfa_device(user);
    let sso = user.sso_kind();
    // A local account (or bot) with no MFA device holds admin behind a password or a bot token alone.
    let severity = if sso.is_none() && device == "none" { Severity::High } else { Severity::Medium };
    let name = user.metadata.name.as_str();
    Some(ADMIN_USER.finding(
        severity,
        (SubjectKind::User, name),
        format!("User {name} holds admin-equivalent roles: {}", admin.keys().copied().collect::<Vec<_>>().join(", ")),
        json!({ "admin_equivalent_roles": admin, "mfa_weakest_device": device, "sso_connector": sso }),
        "Keep standing admin to a break-glass few; grant admin through access requests with approval instead.",
    ))
}

fn inactive_user(user: &User, p: &Privileges, now: DateTime<Utc>) -> Option<Finding> {
    let status = &user.spec.status;
    // Same reading as the users view: a lock whose expiry has passed is lifted.
    let locked = status.is_locked && status.lock_expires.is_none_or(|until| until > now);
    let expires = user.spec.expires.or(user.metadata.expires);
    let expired = expires.is_some_and(|e| e <= now);
    if user.spec.roles.is_empty() || !(locked || expired) {
        return None;
    }
    let privileged: Vec<&str> =
        user.spec.roles.iter().map(String::as_str).filter(|r| !p.privileged_reasons(r).is_empty()).collect();
    let severity = if privileged.is_empty() { Severity::Low } else { Severity::Medium };
    let name = user.metadata.name.as_str();
    let state = match (locked, expired) {
        (true, true) => "locked and expired",
        (true, false) => "locked",
        _ => "expired",
    };
    Some(INACTIVE_USER.finding(
        severity,
        (SubjectKind::User, name),
        format!("User {name} is {state} but still holds roles"),
        json!({ "locked": locked, "locked_message": status.locked_message,
                "lock_expires": status.lock_expires.filter(|_| locked).map(|t| t.to_rfc3339()),
                "expired": expired, "expires": expires.map(|t| t.to_rfc3339()),
                "roles": user.spec.roles, "privileged_roles": privileged }),
        "Remove the roles (or delete the user) if the account is no longer used; investigate the lock if it came from failed logins.",
    ))
}
