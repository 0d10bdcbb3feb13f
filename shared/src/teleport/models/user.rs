//! Users (`UserV2`), printed by `tctl get users`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Metadata, de};

/// A Teleport user (local or SSO).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct User {
    /// `user`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// `v2`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Name; SSO users carry a non-zero `expires`.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Roles, traits, lock status.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: UserSpec,
    /// Password and MFA state.
    #[serde(deserialize_with = "de::nullable")]
    pub status: UserStatus,
}

/// `UserSpecV2`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserSpec {
    /// Assigned roles.
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// Traits (`logins`, `db_users`, …); `null` values are empty lists.
    #[serde(deserialize_with = "de::label_map")]
    pub traits: BTreeMap<String, Vec<String>>,
    /// Lock status.
    #[serde(deserialize_with = "de::nullable")]
    pub status: LoginStatus,
    /// Account expiry (`None` when zero).
    #[serde(deserialize_with = "de::time")]
    pub expires: Option<DateTime<Utc>>,
    /// Who or what created the user.
    #[serde(deserialize_with = "de::nullable")]
    pub created_by: CreatedBy,
    /// OIDC identities.
    #[serde(deserialize_with = "de::nullable")]
    pub oidc_identities: Vec<ExternalIdentity>,
    /// SAML identities.
    #[serde(deserialize_with = "de::nullable")]
    pub saml_identities: Vec<ExternalIdentity>,
    /// GitHub identities.
    #[serde(deserialize_with = "de::nullable")]
    pub github_identities: Vec<ExternalIdentity>,
}

/// `LoginStatus`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LoginStatus {
    /// Locked after failed logins (or by an admin).
    #[serde(deserialize_with = "de::lenient_bool")]
    pub is_locked: bool,
    /// Why.
    #[serde(deserialize_with = "de::lenient_string")]
    pub locked_message: String,
    /// When.
    #[serde(deserialize_with = "de::time")]
    pub locked_time: Option<DateTime<Utc>>,
    /// Until when.
    #[serde(deserialize_with = "de::time")]
    pub lock_expires: Option<DateTime<Utc>>,
}

/// `CreatedBy`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CreatedBy {
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub time: Option<DateTime<Utc>>,
    /// Creating user.
    #[serde(deserialize_with = "de::nullable")]
    pub user: UserRef,
    /// SSO connector that created the user.
    #[serde(deserialize_with = "de::nullable")]
    pub connector: Option<ConnectorRef>,
}

/// A user reference (`{"name": …}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserRef {
    /// User name.
    #[serde(deserialize_with = "de::lenient_string")]
    pub name: String,
}

/// A connector reference.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnectorRef {
    /// `oidc`, `saml`, `github`.
    #[serde(rename = "type", deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// Connector name.
    #[serde(deserialize_with = "de::lenient_string")]
    pub id: String,
    /// External identity.
    #[serde(deserialize_with = "de::lenient_string")]
    pub identity: String,
}

/// An SSO identity.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ExternalIdentity {
    /// Connector name.
    #[serde(deserialize_with = "de::lenient_string")]
    pub connector_id: String,
    /// User name at the identity provider.
    #[serde(deserialize_with = "de::lenient_string")]
    pub username: String,
}

/// `UserStatusV2` (`api/types/user.go`); Teleport prints its enums as numbers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserStatus {
    /// `0` unspecified, `1` unset, `2` set.
    #[serde(deserialize_with = "de::lenient_string")]
    pub password_state: String,
    /// `0` unspecified, `1` unset, `2` TOTP, `3` WebAuthn.
    #[serde(deserialize_with = "de::lenient_string")]
    pub mfa_weakest_device: String,
}

impl User {
    /// The SSO connector kind (`github`, `oidc`, `saml`) the user comes from, if any.
    pub fn sso_kind(&self) -> Option<&str> {
        if let Some(c) = &self.spec.created_by.connector
            && !c.kind.is_empty()
        {
            return Some(c.kind.as_str());
        }
        let s = &self.spec;
        [("github", &s.github_identities), ("oidc", &s.oidc_identities), ("saml", &s.saml_identities)]
            .into_iter()
            .find(|(_, ids)| !ids.is_empty())
            .map(|(kind, _)| kind)
    }
}
