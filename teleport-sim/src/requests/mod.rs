//! Access requests as the Auth Service keeps them: `access_request` resources in Teleport's JSON
//! shape (`api/types/access_request.go`, `AccessRequestV3`), how new ones are built and validated, and what is active for a
//! user. Reviews and state changes are in [`review`], text renderings in [`text`].
//!
//! Who may request what (the simulator's stand-in for `allow.request` rules): any role the
//! cluster has, except the roles listed in the state's `deny_request_roles`; `*` means all of
//! those. A request for resources only (`--resource`) gets the `access` role, as if it were the
//! requester's `search_as_roles`.

mod resource;
pub mod review;
pub mod text;

pub use resource::{ResourceId, resources_string};

use chrono::{DateTime, Duration, Utc};

use crate::error::SimError;
use crate::state::State;
use crate::store::Book;
use crate::timefmt::{go_time, parse_time};
use crate::value::{Map, Value, obj};

/// How long a new request waits for review (`metadata.expires`).
pub const REQUEST_TTL: Duration = Duration::hours(24);
/// How long approved access lasts (`spec.expires`, `max_duration`, `session_ttl`).
pub const SESSION_TTL: Duration = Duration::hours(12);
/// The role a resource-only request is given.
pub const SEARCH_AS_ROLE: &str = "access";

/// `types.RequestState`; JSON carries the number, text the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    None,
    Pending,
    Approved,
    Denied,
    Promoted,
}

impl RequestState {
    /// From the JSON number (unknown numbers read as `NONE`).
    pub fn from_number(n: u64) -> Self {
        match n {
            1 => RequestState::Pending,
            2 => RequestState::Approved,
            3 => RequestState::Denied,
            4 => RequestState::Promoted,
            _ => RequestState::None,
        }
    }

    /// The JSON number.
    pub fn number(self) -> i64 {
        match self {
            RequestState::None => 0,
            RequestState::Pending => 1,
            RequestState::Approved => 2,
            RequestState::Denied => 3,
            RequestState::Promoted => 4,
        }
    }

    /// The name text output and audit events use.
    pub fn name(self) -> &'static str {
        match self {
            RequestState::None => "NONE",
            RequestState::Pending => "PENDING",
            RequestState::Approved => "APPROVED",
            RequestState::Denied => "DENIED",
            RequestState::Promoted => "PROMOTED",
        }
    }
}

/// What a caller asks for.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub user: String,
    pub roles: Vec<String>,
    pub resources: Vec<ResourceId>,
    pub reason: String,
    pub reviewers: Vec<String>,
    pub request_ttl: Duration,
    pub session_ttl: Duration,
}

impl NewRequest {
    /// A role request for `user` with the default TTLs.
    pub fn new(user: &str, roles: Vec<String>) -> Self {
        NewRequest {
            user: user.to_owned(),
            roles,
            resources: Vec::new(),
            reason: String::new(),
            reviewers: Vec::new(),
            request_ttl: REQUEST_TTL,
            session_ttl: SESSION_TTL,
        }
    }

    /// Validates against the cluster (see the module docs) and builds the `PENDING` resource.
    pub fn build(mut self, state: &State, id: &str, now: DateTime<Utc>) -> Result<Value, SimError> {
        if self.roles.is_empty() && !self.resources.is_empty() {
            if !requestable(state, SEARCH_AS_ROLE) {
                return Err(SimError::msg(format!(
                    "Resource Access Requests require usable \"search_as_roles\", none found for user {:?}",
                    self.user
                )));
            }
            self.roles = vec![SEARCH_AS_ROLE.to_owned()];
        }
        self.roles = expand_roles(state, &self.user, &self.roles)?;
        Ok(self.to_value(id, now))
    }

    /// The `PENDING` resource as asked, without validation (seeding and demo data).
    pub fn to_value(&self, id: &str, now: DateTime<Utc>) -> Value {
        let access_expiry = go_time(now + self.session_ttl);
        let mut spec = Map::new();
        spec.insert("user", Value::from(&self.user));
        spec.insert("roles", strings(&self.roles));
        spec.insert("state", Value::from(RequestState::Pending.number()));
        spec.insert("created", Value::from(go_time(now)));
        spec.insert("expires", Value::from(access_expiry.clone()));
        if !self.reason.is_empty() {
            spec.insert("request_reason", Value::from(&self.reason));
        }
        spec.insert("thresholds", Value::Array(vec![obj! { "name" => "default", "approve" => 1, "deny" => 1 }]));
        let mut rtm = Map::new();
        let mut sorted = self.roles.clone();
        sorted.sort();
        for role in sorted {
            rtm.insert(role, obj! { "s" => vec![obj! { "i" => vec![Value::from(0)] }] });
        }
        spec.insert("rtm", Value::Object(rtm));
        if !self.reviewers.is_empty() {
            spec.insert("suggested_reviewers", strings(&self.reviewers));
        }
        if !self.resources.is_empty() {
            spec.insert("resource_ids", Value::Array(self.resources.iter().map(ResourceId::to_value).collect()));
        }
        spec.insert("max_duration", Value::from(access_expiry.clone()));
        spec.insert("session_ttl", Value::from(access_expiry));
        obj! {
            "kind" => "access_request",
            "version" => "v3",
            "metadata" => obj! { "name" => id, "expires" => go_time(now + self.request_ttl) },
            "spec" => Value::Object(spec),
        }
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(Value::from).collect())
}

/// Whether anyone may request `role`: it exists and is not in `deny_request_roles`.
pub fn requestable(state: &State, role: &str) -> bool {
    state.role(role).is_some() && !state.deny_request_roles.iter().any(|d| d == role)
}

/// Checks every role against [`requestable`], expanding `*` to all requestable roles.
pub fn expand_roles(state: &State, user: &str, roles: &[String]) -> Result<Vec<String>, SimError> {
    if roles.iter().any(|r| r == "*") {
        let all: Vec<String> = state
            .roles
            .iter()
            .map(|r| r.str_at(&["metadata", "name"]).to_owned())
            .filter(|name| requestable(state, name))
            .collect();
        if all.is_empty() {
            return Err(SimError::msg("no requestable roles, please verify static RBAC configuration"));
        }
        return Ok(all);
    }
    match roles.iter().find(|r| !requestable(state, r)) {
        Some(role) => Err(SimError::msg(format!("user {user:?} can not request role {role:?}"))),
        None => Ok(roles.to_vec()),
    }
}

/// `utils.SplitIdentifiers`: comma- or space-separated, empty items dropped.
pub fn split_identifiers(text: &str) -> Vec<String> {
    text.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The request ID (`metadata.name`).
pub fn id(req: &Value) -> &str {
    req.str_at(&["metadata", "name"])
}

/// The requester.
pub fn user(req: &Value) -> &str {
    req.str_at(&["spec", "user"])
}

/// The state from its JSON number.
pub fn state(req: &Value) -> RequestState {
    let n = req.at(&["spec", "state"]).and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        _ => None,
    });
    RequestState::from_number(n.unwrap_or(0))
}

/// The requested roles.
pub fn roles(req: &Value) -> Vec<&str> {
    req.array_at(&["spec", "roles"]).iter().filter_map(Value::as_str).collect()
}

/// `spec.created`, None when zero.
pub fn created(req: &Value) -> Option<DateTime<Utc>> {
    parse_time(req.str_at(&["spec", "created"]))
}

/// `spec.expires`: when approved access ends (None when zero).
pub fn access_expiry(req: &Value) -> Option<DateTime<Utc>> {
    parse_time(req.str_at(&["spec", "expires"]))
}

/// `metadata.expires`: when the request object itself expires.
pub fn request_expiry(req: &Value) -> Option<DateTime<Utc>> {
    parse_time(req.str_at(&["metadata", "expires"]))
}

/// The request with ID `id`.
pub fn find<'a>(book: &'a Book, id: &str) -> Option<&'a Value> {
    book.access_requests.iter().find(|r| self::id(r) == id)
}

/// Whether access has not expired at `now` (`now.Before(GetAccessExpiry())`).
pub fn unexpired(req: &Value, now: DateTime<Utc>) -> bool {
    access_expiry(req).is_some_and(|t| now < t)
}

/// The requests whose roles `user`'s certificates carry: their own, approved, unexpired and
/// not dropped. (The simulator has no `tsh login --request-id`; approval stands in for it.)
pub fn active_for<'a>(book: &'a Book, user: &str, now: DateTime<Utc>) -> Vec<&'a Value> {
    let dropped = book.dropped.get(user).map(Vec::as_slice).unwrap_or_default();
    book.access_requests
        .iter()
        .filter(|r| self::user(r) == user && state(r) == RequestState::Approved && unexpired(r, now))
        .filter(|r| !dropped.iter().any(|d| d == id(r)))
        .collect()
}

/// Newest first, as the text tables show them.
pub fn newest_first(mut reqs: Vec<Value>) -> Vec<Value> {
    reqs.sort_by_key(|r| std::cmp::Reverse(created(r)));
    reqs
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
