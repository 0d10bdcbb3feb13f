//! Views of users: roles, lock state, expiry and origin.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::to_second;
use crate::teleport::models::User;

/// The users of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserList {
    /// Number of users.
    pub count: usize,
    /// Users currently locked.
    pub locked_count: usize,
    /// The users, sorted by name.
    pub users: Vec<UserView>,
}

/// One user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserView {
    /// User name.
    pub name: String,
    /// Assigned roles.
    pub roles: Vec<String>,
    /// Locked right now (after failed logins or by an administrator).
    pub locked: bool,
    /// When the lock ends, if locked.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub lock_expires: Option<DateTime<Utc>>,
    /// When the account expires (SSO users); absent if it does not.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires: Option<DateTime<Utc>>,
    /// SSO connector kind the user comes from (`github`, `oidc`, `saml`); absent for local users.
    pub sso_connector: Option<String>,
    /// When the user was created.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub created: Option<DateTime<Utc>>,
    /// Who created the user.
    pub created_by: Option<String>,
}

impl UserList {
    /// Builds the view; `now` decides whether a lock is still in force.
    pub fn build(users: &[User], now: DateTime<Utc>) -> UserList {
        let mut users: Vec<UserView> = users.iter().map(|u| UserView::build(u, now)).collect();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        UserList { count: users.len(), locked_count: users.iter().filter(|u| u.locked).count(), users }
    }
}

impl UserView {
    fn build(u: &User, now: DateTime<Utc>) -> UserView {
        let status = &u.spec.status;
        // Teleport treats a lock whose expiry has passed as lifted.
        let locked = status.is_locked && status.lock_expires.is_none_or(|until| until > now);
        let created_by = &u.spec.created_by;
        UserView {
            name: u.metadata.name.clone(),
            roles: u.spec.roles.clone(),
            locked,
            lock_expires: if locked { to_second(status.lock_expires) } else { None },
            expires: to_second(u.spec.expires.or(u.metadata.expires)),
            sso_connector: u.sso_kind().map(str::to_owned),
            created: to_second(created_by.time),
            created_by: Some(created_by.user.name.clone()).filter(|n| !n.is_empty()),
        }
    }
}
