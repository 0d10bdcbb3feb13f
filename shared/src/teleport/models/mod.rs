//! Typed, lenient models of the resources `tctl`/`tsh` print: unknown fields are ignored, missing
//! optional fields default, `null` lists are empty, zero timestamps are `None`.

mod access_request;
mod audit_event;
mod auth_preference;
mod cert_authority;
pub(crate) mod de;
mod mcp_app;
mod role;
mod role_conditions;
mod server;
mod status;
mod target;
mod token;
mod user;

pub use access_request::{AccessRequest, AccessRequestSpec, AccessReview, RequestState, ResourceId};
pub use audit_event::AuditEvent;
pub use auth_preference::{AuthPreference, AuthPreferenceSpec, DeviceTrust, MfaRequirement};
pub use cert_authority::{CaKeySet, CertAuthority, CertAuthoritySpec, KeyEntry, RoleMapping};
pub use mcp_app::{McpApp, McpAppSpec, McpCommand, McpToolPermissions};
pub use role::{Role, RoleOptions, RoleSpec};
pub use role_conditions::{
    AccessRequestConditions, AccessReviewConditions, ClaimMapping, ImpersonateConditions, KubernetesResource,
    McpConditions, RoleConditions, Rule,
};
pub use server::{CommandLabel, Server, ServerSpec};
pub use status::{AuthorityKey, AuthorityStatus, ClusterInfo, ClusterStatus};
pub use target::{
    App, AppServer, AppSpec, Database, DatabaseServer, DatabaseSpec, KubeCluster, KubeServer, TargetServer,
    TargetServerSpec, WindowsDesktop, WindowsDesktopSpec,
};
pub use token::{ProvisionToken, ProvisionTokenSpec};
pub use user::{CreatedBy, ExternalIdentity, LoginStatus, User, UserSpec, UserStatus};

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

/// `metadata` of every resource.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Metadata {
    /// Resource name (a UUID for servers, the secret for `token`-method join tokens).
    #[serde(deserialize_with = "de::lenient_string")]
    pub name: String,
    /// Free-text description.
    #[serde(deserialize_with = "de::lenient_string")]
    pub description: String,
    /// Static labels.
    #[serde(deserialize_with = "de::string_map")]
    pub labels: BTreeMap<String, String>,
    /// When the resource expires (heartbeat TTL for servers).
    #[serde(deserialize_with = "de::time")]
    pub expires: Option<DateTime<Utc>>,
    /// Backend revision.
    #[serde(deserialize_with = "de::lenient_string")]
    pub revision: String,
}

/// A CA rotation block (`types.Rotation`), also present, zeroed, on servers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Rotation {
    /// `standby` or `in_progress` (empty when never set).
    #[serde(deserialize_with = "de::lenient_string")]
    pub state: String,
    /// `init|standby|update_clients|update_servers|rollback`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub phase: String,
    /// `auto` or `manual`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub mode: String,
    /// Rotation id.
    #[serde(deserialize_with = "de::lenient_string")]
    pub current_id: String,
    /// When the current rotation started.
    #[serde(deserialize_with = "de::time")]
    pub started: Option<DateTime<Utc>>,
    /// How long old credentials stay valid.
    #[serde(deserialize_with = "de::go_duration")]
    pub grace_period: Option<Duration>,
    /// When the last rotation completed.
    #[serde(deserialize_with = "de::time")]
    pub last_rotated: Option<DateTime<Utc>>,
    /// Phase schedule of an automatic rotation.
    #[serde(deserialize_with = "de::nullable")]
    pub schedule: RotationSchedule,
}

/// `rotation.schedule`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RotationSchedule {
    /// Start of `update_clients`.
    #[serde(deserialize_with = "de::time")]
    pub update_clients: Option<DateTime<Utc>>,
    /// Start of `update_servers`.
    #[serde(deserialize_with = "de::time")]
    pub update_servers: Option<DateTime<Utc>>,
    /// Return to `standby`.
    #[serde(deserialize_with = "de::time")]
    pub standby: Option<DateTime<Utc>>,
}

impl Rotation {
    /// A rotation is under way (`state: in_progress`).
    pub fn in_progress(&self) -> bool {
        self.state == "in_progress"
    }

    /// When the grace period of the current rotation ends (`started + grace_period`), if both are known.
    pub fn grace_deadline(&self) -> Option<DateTime<Utc>> {
        let grace = TimeDelta::from_std(self.grace_period?).ok()?;
        self.started?.checked_add_signed(grace)
    }

    /// A rotation is in progress and its grace period ended before `now`: old credentials are
    /// still trusted longer than intended.
    pub fn overran_grace(&self, now: DateTime<Utc>) -> bool {
        self.in_progress() && self.grace_deadline().is_some_and(|d| d < now)
    }
}
