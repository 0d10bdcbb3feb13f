//! Access requests (`AccessRequestV3`), printed by `tsh request ls|show --format=json`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{Metadata, de as lenient};

/// An access request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessRequest {
    /// `access_request`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub kind: String,
    /// `v3`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub version: String,
    /// `name` is the request id; `expires` is when the pending request object expires.
    #[serde(deserialize_with = "lenient::nullable")]
    pub metadata: Metadata,
    /// The request.
    #[serde(deserialize_with = "lenient::nullable")]
    pub spec: AccessRequestSpec,
}

/// `AccessRequestSpecV3`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessRequestSpec {
    /// Requester.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub user: String,
    /// Requested (or, for resource requests, search-as) roles.
    #[serde(deserialize_with = "lenient::string_list")]
    pub roles: Vec<String>,
    /// State.
    pub state: RequestState,
    /// Creation time.
    #[serde(deserialize_with = "lenient::time")]
    pub created: Option<DateTime<Utc>>,
    /// When granted access expires.
    #[serde(deserialize_with = "lenient::time")]
    pub expires: Option<DateTime<Utc>>,
    /// Longest access.
    #[serde(deserialize_with = "lenient::time")]
    pub max_duration: Option<DateTime<Utc>>,
    /// Session TTL.
    #[serde(deserialize_with = "lenient::time")]
    pub session_ttl: Option<DateTime<Utc>>,
    /// Requested start of access.
    #[serde(deserialize_with = "lenient::time")]
    pub assume_start_time: Option<DateTime<Utc>>,
    /// Requester's reason.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub request_reason: String,
    /// Resolver's reason.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub resolve_reason: String,
    /// Reviews so far.
    #[serde(deserialize_with = "lenient::nullable")]
    pub reviews: Vec<AccessReview>,
    /// Suggested reviewers.
    #[serde(deserialize_with = "lenient::string_list")]
    pub suggested_reviewers: Vec<String>,
    /// Requested resources.
    #[serde(deserialize_with = "lenient::nullable")]
    pub resource_ids: Vec<ResourceId>,
    /// Dry run only.
    #[serde(deserialize_with = "lenient::lenient_bool")]
    pub dry_run: bool,
}

/// A review.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessReview {
    /// Reviewer.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub author: String,
    /// Roles the reviewer acted as.
    #[serde(deserialize_with = "lenient::string_list")]
    pub roles: Vec<String>,
    /// Proposed state.
    pub proposed_state: RequestState,
    /// Reason.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub reason: String,
    /// When.
    #[serde(deserialize_with = "lenient::time")]
    pub created: Option<DateTime<Utc>>,
}

/// A requested resource; string form `/<cluster>/<kind>/<name>[/<sub_resource>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResourceId {
    /// Cluster.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub cluster: String,
    /// Kind (`node`, `db`, …).
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub kind: String,
    /// Name.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub name: String,
    /// Sub-resource (Kubernetes namespace/pod).
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub sub_resource: String,
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/{}/{}", self.cluster, self.kind, self.name)?;
        if !self.sub_resource.is_empty() {
            write!(f, "/{}", self.sub_resource)?;
        }
        Ok(())
    }
}

/// `RequestState`: a number in resource JSON, a name in audit events and text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequestState {
    /// `0` / omitted.
    #[default]
    None,
    /// `1`.
    Pending,
    /// `2`.
    Approved,
    /// `3`.
    Denied,
    /// `4`.
    Promoted,
}

impl RequestState {
    /// The upper-case name Teleport prints in text and audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::None => "NONE",
            RequestState::Pending => "PENDING",
            RequestState::Approved => "APPROVED",
            RequestState::Denied => "DENIED",
            RequestState::Promoted => "PROMOTED",
        }
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RequestState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => return Ok(RequestState::None),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.to_ascii_uppercase(),
            other => return Err(de::Error::custom(format!("invalid request state {other}"))),
        };
        Ok(match text.as_str() {
            "0" | "NONE" | "" => RequestState::None,
            "1" | "PENDING" => RequestState::Pending,
            "2" | "APPROVED" => RequestState::Approved,
            "3" | "DENIED" => RequestState::Denied,
            "4" | "PROMOTED" => RequestState::Promoted,
            other => {
                return Err(de::Error::custom(format!("unknown request state {other:?}")));
            }
        })
    }
}
