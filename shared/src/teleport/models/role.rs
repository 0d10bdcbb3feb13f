//! Roles (`RoleV6` spec, versions v3–v8), printed by `tctl get roles`. Enough of the spec for an
//! RBAC scanner: options, and allow/deny conditions including rules, impersonation and requests.

use std::time::Duration;

use serde::Deserialize;

use super::{Metadata, MfaRequirement, RoleConditions, de};

/// A role.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Role {
    /// `role`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// `v3` … `v8`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Name and description.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Options and conditions.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: RoleSpec,
}

/// `RoleSpecV6`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RoleSpec {
    /// Session and certificate options.
    #[serde(deserialize_with = "de::nullable")]
    pub options: RoleOptions,
    /// What the role grants.
    #[serde(deserialize_with = "de::nullable")]
    pub allow: RoleConditions,
    /// What the role forbids (always wins over allow).
    #[serde(deserialize_with = "de::nullable")]
    pub deny: RoleConditions,
}

/// `RoleOptions` (the fields that matter for security review).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RoleOptions {
    /// SSH agent forwarding.
    #[serde(deserialize_with = "de::lenient_bool")]
    pub forward_agent: bool,
    /// Longest certificate TTL for users of the role.
    #[serde(deserialize_with = "de::go_duration")]
    pub max_session_ttl: Option<Duration>,
    /// Per-session MFA requirement.
    pub require_session_mfa: MfaRequirement,
    /// Idle sessions are closed after this long.
    #[serde(deserialize_with = "de::go_duration")]
    pub client_idle_timeout: Option<Duration>,
    /// Sessions end when the certificate expires.
    #[serde(deserialize_with = "de::lenient_bool")]
    pub disconnect_expired_cert: bool,
    /// Legacy port-forwarding switch (`None` = not set).
    #[serde(deserialize_with = "de::lenient_opt_bool")]
    pub port_forwarding: Option<bool>,
    /// Certificate format (`standard`, `oldssh`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub cert_format: String,
    /// Enhanced session recording events.
    #[serde(deserialize_with = "de::string_list")]
    pub enhanced_recording: Vec<String>,
    /// Locking mode override (`strict`/`best_effort`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub lock: String,
    /// Pin certificates to the client's source IP.
    #[serde(deserialize_with = "de::lenient_bool")]
    pub pin_source_ip: bool,
    /// Concurrent session cap (0 = unlimited).
    #[serde(deserialize_with = "de::nullable")]
    pub max_sessions: i64,
    /// Concurrent connection cap (0 = unlimited).
    #[serde(deserialize_with = "de::nullable")]
    pub max_connections: i64,
    /// Host user creation mode (`off`, `keep`, `insecure-drop`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub create_host_user_mode: String,
    /// Device trust requirement (`off`, `optional`, `required`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub device_trust_mode: String,
    /// Session recording modes (`default`, `ssh`, `desktop`), raw.
    #[serde(deserialize_with = "de::nullable")]
    pub record_session: serde_json::Value,
}
