//! Compact, typed views of access requests: states as words, times without Go zero values.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::teleport::models::{AccessRequest, RequestState};

/// The state of a request, as a word.
pub fn state_word(s: RequestState) -> &'static str {
    match s {
        RequestState::None => "none",
        RequestState::Pending => "pending",
        RequestState::Approved => "approved",
        RequestState::Denied => "denied",
        RequestState::Promoted => "promoted",
    }
}

/// A review of a request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReviewView {
    pub author: String,
    /// `approved` or `denied`.
    pub proposed: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
}

/// One access request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AccessRequestView {
    /// Request id.
    pub id: String,
    /// The Teleport user that asked (for requests made through the control plane: its identity).
    pub user: String,
    /// pending, approved, denied or promoted.
    pub state: String,
    pub roles: Vec<String>,
    /// Requested resources as `/<cluster>/<kind>/<name>`.
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// When granted access would end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_expires: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resolve_reason: String,
    pub reviews: Vec<ReviewView>,
    pub suggested_reviewers: Vec<String>,
}

impl From<&AccessRequest> for AccessRequestView {
    fn from(r: &AccessRequest) -> Self {
        let s = &r.spec;
        Self {
            id: r.metadata.name.clone(),
            user: s.user.clone(),
            state: state_word(s.state).to_owned(),
            roles: s.roles.clone(),
            resources: s.resource_ids.iter().map(ToString::to_string).collect(),
            created: s.created,
            access_expires: s.expires,
            reason: s.request_reason.clone(),
            resolve_reason: s.resolve_reason.clone(),
            reviews: s
                .reviews
                .iter()
                .map(|v| ReviewView {
                    author: v.author.clone(),
                    proposed: state_word(v.proposed_state).to_owned(),
                    reason: v.reason.clone(),
                    created: v.created,
                })
                .collect(),
            suggested_reviewers: s.suggested_reviewers.clone(),
        }
    }
}

/// Result of `list_access_requests`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AccessRequestList {
    /// Requests returned (at most `limit`).
    pub count: usize,
    /// Requests Teleport listed in all.
    pub total: usize,
    /// Count by state over all listed requests.
    pub by_state: std::collections::BTreeMap<String, usize>,
    pub requests: Vec<AccessRequestView>,
}

/// Result of `create_access_request`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CreatedRequest {
    pub request_id: String,
    /// Always `pending`: a human reviewer decides in Teleport.
    pub state: String,
    pub roles: Vec<String>,
    pub resources: Vec<String>,
    /// The reason as written into the Teleport request (it names the MCP actor and ticket).
    pub teleport_reason: String,
}

/// Result of `review_access_request`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReviewResult {
    pub request_id: String,
    /// `approve` or `deny`.
    pub review: String,
    /// The request's state after the review.
    pub state: String,
    /// False when the request was already resolved and the review changed nothing.
    pub effective: bool,
}

/// Result of `drop_access_request`: what Teleport really did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DropResult {
    pub request_id: String,
    /// `deleted`: Teleport confirmed the request object is gone (`tctl requests rm`).
    pub action: String,
    /// The state it had.
    pub previous_state: String,
    /// True only when Teleport printed its confirmation of the delete.
    pub deleted: bool,
    /// The lock placed on the access granted through the request, when `revoke` asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockView>,
    /// One sentence: what happened, and what still holds (certificates already issued keep
    /// working until they expire unless locked).
    pub summary: String,
}

/// A Teleport lock (`tctl lock --access-request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LockView {
    /// The lock's name (a UUID Teleport chose).
    pub name: String,
    /// When the lock ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}
