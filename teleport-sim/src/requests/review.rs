//! Changing a request: reviews with Teleport's threshold arithmetic
//! (`lib/services/access_request.go`, `ApplyAccessReview`, `calculateReviewBasedResolution`)
//! and the admin's direct state change (`tctl requests approve|deny`, `SetAccessRequestState`).
//! Fields are written back in `AccessRequestSpecV3` order.

use chrono::{DateTime, Utc};

use super::{RequestState, access_expiry, id, state, user};
use crate::error::SimError;
use crate::timefmt::go_time;
use crate::value::{Map, Value};

/// `AccessRequestSpecV3` JSON keys in struct order; unknown keys keep their place after these.
const SPEC_ORDER: &[&str] = &[
    "user",
    "roles",
    "state",
    "created",
    "expires",
    "request_reason",
    "resolve_reason",
    "resolve_annotations",
    "system_annotations",
    "thresholds",
    "rtm",
    "reviews",
    "suggested_reviewers",
    "resource_ids",
    "login_hint",
    "dry_run",
    "max_duration",
    "session_ttl",
    "access_list",
    "assume_start_time",
];

/// What a review did to the request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reviewed {
    /// The request's state after the review.
    pub state: RequestState,
}

/// Submits `author`'s review proposing `proposed` (APPROVED or DENIED). Refuses reviews of
/// one's own request and second reviews by the same author; a review of an already resolved
/// request is recorded but changes nothing (`tsh` then prints "ineffectual review").
pub fn submit(
    req: &mut Value,
    author: &str,
    proposed: RequestState,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Reviewed, SimError> {
    // `ApplyAccessReview` (`lib/services/local/dynamic_access.go`): a `trace.AccessDenied` when
    // the review permission checker refuses; Teleport never lets a user review their own request.
    if user(req) == author {
        return Err(SimError::msg(format!("user {author:?} cannot review request {:?}", id(req))));
    }
    let thresholds = req.array_at(&["spec", "thresholds"]).to_vec();
    if thresholds.is_empty() {
        return Err(SimError::msg("request is uninitialized or does not support reviews"));
    }
    if req.array_at(&["spec", "reviews"]).iter().any(|r| r.str_at(&["author"]) == author) {
        return Err(SimError::msg(format!("user {author:?} has already reviewed this request")));
    }
    // Threshold filters are not evaluated: every threshold counts every review.
    let indexes: Vec<Value> = (0..thresholds.len()).map(|i| Value::from(i as u64)).collect();
    let mut review = Map::new();
    review.insert("author", Value::from(author));
    review.insert("proposed_state", Value::from(proposed.number()));
    if !reason.is_empty() {
        review.insert("reason", Value::from(reason));
    }
    review.insert("created", Value::from(go_time(now)));
    review.insert("i", Value::Array(indexes));
    let mut reviews = req.array_at(&["spec", "reviews"]).to_vec();
    reviews.push(Value::Object(review));
    set_spec(req, "reviews", Value::Array(reviews));

    if state(req) == RequestState::Pending
        && let Some((resolved, reason)) = resolution(req)
    {
        resolve(req, resolved, &reason);
    }
    Ok(Reviewed { state: state(req) })
}

/// `tctl requests approve|deny`: sets the state directly. A denied request stays denied
/// (`AccessRequestV3.SetState`).
pub fn set_state(req: &mut Value, new: RequestState, reason: &str) -> Result<(), SimError> {
    if state(req) == RequestState::Denied && new != RequestState::Denied {
        return Err(SimError::msg(format!("cannot set request-state {:?} (already denied)", new.name())));
    }
    resolve(req, new, reason);
    Ok(())
}

/// Moves the request to `new`; once resolved, the request object lives as long as the access.
fn resolve(req: &mut Value, new: RequestState, reason: &str) {
    set_spec(req, "state", Value::from(new.number()));
    if reason.is_empty() {
        remove_spec(req, "resolve_reason");
    } else {
        set_spec(req, "resolve_reason", Value::from(reason));
    }
    if let Some(expiry) = access_expiry(req)
        && let Some(Value::Object(meta)) = req.get_mut("metadata")
    {
        meta.insert("expires", Value::from(go_time(expiry)));
    }
}

/// `calculateReviewBasedResolution`: the state and reason the reviews so far lead to, if any.
fn resolution(req: &Value) -> Option<(RequestState, String)> {
    let thresholds = req.array_at(&["spec", "thresholds"]);
    let count = |t: &Value, key: &str| t.at(&[key]).and_then(number).unwrap_or(0);
    let rtm = req.at(&["spec", "rtm"]).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut approvals = vec![0u64; thresholds.len()];
    let mut denials = vec![0u64; thresholds.len()];
    for review in req.array_at(&["spec", "reviews"]) {
        let proposed = RequestState::from_number(review.at(&["proposed_state"]).and_then(number).unwrap_or(0));
        for idx in review.array_at(&["i"]).iter().filter_map(number) {
            let idx = idx as usize;
            match proposed {
                RequestState::Approved if idx < approvals.len() => approvals[idx] += 1,
                RequestState::Denied if idx < denials.len() => denials[idx] += 1,
                _ => {}
            }
        }
        let reason = review.str_at(&["reason"]).to_owned();
        let denied = thresholds.iter().zip(&denials).any(|(t, n)| count(t, "deny") != 0 && *n >= count(t, "deny"));
        if denied {
            return (proposed == RequestState::Denied).then_some((RequestState::Denied, reason));
        }
        // Every role needs every one of its threshold sets to hold a met approval threshold.
        let met = |i: u64| {
            let i = i as usize;
            thresholds.get(i).is_some_and(|t| count(t, "approve") != 0 && approvals[i] >= count(t, "approve"))
        };
        let approved = !rtm.is_empty()
            && rtm.iter().all(|(_, sets)| {
                sets.array_at(&["s"]).iter().all(|set| set.array_at(&["i"]).iter().filter_map(number).any(met))
            });
        if approved {
            return (proposed == RequestState::Approved).then_some((RequestState::Approved, reason));
        }
    }
    None
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Sets `spec.<key>` and puts the spec back in struct order.
fn set_spec(req: &mut Value, key: &str, value: Value) {
    if let Some(Value::Object(spec)) = req.get_mut("spec") {
        spec.insert(key, value);
        *spec = ordered(spec);
    }
}

fn remove_spec(req: &mut Value, key: &str) {
    if let Some(Value::Object(spec)) = req.get_mut("spec") {
        let mut kept = Map::new();
        for (k, v) in spec.iter().filter(|(k, _)| *k != key) {
            kept.insert(k, v.clone());
        }
        *spec = kept;
    }
}

fn ordered(spec: &Map) -> Map {
    let mut out = Map::new();
    for key in SPEC_ORDER {
        if let Some(v) = spec.get(key) {
            out.insert(*key, v.clone());
        }
    }
    for (k, v) in spec.iter().filter(|(k, _)| !SPEC_ORDER.contains(k)) {
        out.insert(k, v.clone());
    }
    out
}
