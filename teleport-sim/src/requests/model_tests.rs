//! Building, validating, reviewing and resolving access requests.

use chrono::{DateTime, Utc};

use super::review::{set_state, submit};
use super::*;
use crate::state::demo;

fn now() -> DateTime<Utc> {
    parse_time("2025-06-01T10:00:00.5Z").unwrap()
}

fn pending(roles: &[&str]) -> Value {
    NewRequest::new("alice", roles.iter().map(|r| (*r).to_owned()).collect()).to_value("id-1", now())
}

#[test]
fn new_requests_have_teleports_shape_and_times() {
    let req = pending(&["editor", "access"]);
    let keys: Vec<&str> = req.get("spec").unwrap().as_object().unwrap().iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        ["user", "roles", "state", "created", "expires", "thresholds", "rtm", "max_duration", "session_ttl"]
    );
    assert_eq!(state(&req), RequestState::Pending);
    assert_eq!(req.str_at(&["metadata", "expires"]), "2025-06-02T10:00:00.5Z");
    assert_eq!(req.str_at(&["spec", "expires"]), "2025-06-01T22:00:00.5Z");
    let rtm: Vec<&str> = req.at(&["spec", "rtm"]).unwrap().as_object().unwrap().iter().map(|(k, _)| k).collect();
    assert_eq!(rtm, ["access", "editor"], "map keys sorted");
}

#[test]
fn any_existing_role_except_the_deny_list_may_be_requested() {
    let state = demo::build(now());
    let ok = expand_roles(&state, "bot", &["editor".to_owned()]).unwrap();
    assert_eq!(ok, ["editor"]);
    let err = expand_roles(&state, "bot", &["cluster-admin".to_owned()]).unwrap_err();
    assert_eq!(err.to_string(), "user \"bot\" can not request role \"cluster-admin\"");
    let err = expand_roles(&state, "bot", &["nope".to_owned()]).unwrap_err();
    assert_eq!(err.to_string(), "user \"bot\" can not request role \"nope\"");
    let all = expand_roles(&state, "bot", &["*".to_owned()]).unwrap();
    assert!(all.contains(&"editor".to_owned()) && !all.contains(&"cluster-admin".to_owned()));
}

#[test]
fn one_approval_approves_and_later_reviews_are_ineffectual() {
    let mut req = pending(&["editor"]);
    let self_review = submit(&mut req, "alice", RequestState::Approved, "", now()).unwrap_err();
    assert!(self_review.to_string().starts_with("user \"alice\" cannot review request"));
    let reviewed = submit(&mut req, "bob", RequestState::Approved, "ok", now()).unwrap();
    assert_eq!(reviewed.state, RequestState::Approved);
    assert_eq!(req.str_at(&["spec", "resolve_reason"]), "ok");
    assert_eq!(req.str_at(&["metadata", "expires"]), req.str_at(&["spec", "expires"]), "expires with the access");
    let keys: Vec<&str> = req.get("spec").unwrap().as_object().unwrap().iter().map(|(k, _)| k).collect();
    assert_eq!(&keys[5..8], ["resolve_reason", "thresholds", "rtm"]);
    assert_eq!(&keys[8], &"reviews");

    let again = submit(&mut req, "bob", RequestState::Denied, "", now()).unwrap_err();
    assert_eq!(again.to_string(), "user \"bob\" has already reviewed this request");
    let late = submit(&mut req, "carol", RequestState::Denied, "", now()).unwrap();
    assert_eq!(late.state, RequestState::Approved);
    assert_eq!(req.array_at(&["spec", "reviews"]).len(), 2);
}

#[test]
fn thresholds_of_two_need_two_approvals() {
    let mut req = pending(&["editor"]);
    if let Some(Value::Object(spec)) = req.get_mut("spec") {
        spec.insert("thresholds", Value::Array(vec![obj! { "name" => "two", "approve" => 2, "deny" => 1 }]));
    }
    assert_eq!(submit(&mut req, "bob", RequestState::Approved, "", now()).unwrap().state, RequestState::Pending);
    assert_eq!(submit(&mut req, "carol", RequestState::Approved, "", now()).unwrap().state, RequestState::Approved);
}

#[test]
fn admins_set_state_but_denied_stays_denied() {
    let mut req = pending(&["editor"]);
    set_state(&mut req, RequestState::Denied, "no").unwrap();
    assert_eq!(state(&req), RequestState::Denied);
    let err = set_state(&mut req, RequestState::Approved, "").unwrap_err();
    assert_eq!(err.to_string(), "cannot set request-state \"APPROVED\" (already denied)");
}

#[test]
fn resource_ids_parse_like_teleport() {
    let id = ResourceId::parse("/c1/node/abc", 18).unwrap();
    assert_eq!((id.cluster.as_str(), id.kind.as_str(), id.name.as_str()), ("c1", "node", "abc"));
    assert_eq!(
        ResourceId::parse("c1/node/x", 18).unwrap_err().to_string(),
        "c1/node/x is not a valid ResourceID string"
    );
    assert_eq!(ResourceId::parse("/c1/node", 18).unwrap_err().to_string(), "/c1/node is not a valid ResourceID string");
    let err = |raw: &str, major: u32| ResourceId::parse(raw, major).unwrap_err().to_string();
    // Not a pod: a kube_cluster whose name has slashes (Teleport allows them in names).
    let not_a_pod = ResourceId::parse("/c1/kube_cluster/k1/ns/pod", 18).unwrap();
    assert_eq!((not_a_pod.name.as_str(), not_a_pod.sub_resource.as_str()), ("k1/ns/pod", ""));

    // 18: the kube:ns / kube:cw kinds, and legacy kinds converted to them (namespace stays).
    let pod = ResourceId::parse("/c1/kube:ns:pods/k1/default/api-0", 18).unwrap();
    assert_eq!(
        (pod.kind.as_str(), pod.name.as_str(), pod.sub_resource.as_str()),
        ("kube:ns:pods", "k1", "default/api-0")
    );
    let legacy = ResourceId::parse("/c1/deployment/k1/default/api", 18).unwrap();
    assert_eq!((legacy.kind.as_str(), legacy.sub_resource.as_str()), ("kube:ns:deployments.apps", "default/api"));
    let node = ResourceId::parse("/c1/kube_node/k1/node-1", 18).unwrap();
    assert_eq!((node.kind.as_str(), node.sub_resource.as_str()), ("kube:cw:nodes", "node-1"));
    let ns = ResourceId::parse("/c1/namespace/k1/prod", 18).unwrap();
    assert_eq!((ns.kind.as_str(), ns.sub_resource.as_str()), ("namespace", "prod"));
    let cw = ResourceId::parse("/c1/kube:cw:clusterroles.rbac.authorization.k8s.io/k1/admin", 18).unwrap();
    assert_eq!((cw.name.as_str(), cw.sub_resource.as_str()), ("k1", "admin"));
    assert_eq!(
        err("/c1/kube:ns:pods/k1/api-0", 18),
        "resource of kind \"kube:ns:pods\" must include a subresource name"
    );
    assert_eq!(
        err("/c1/kube:ns:pods/k1//api-0", 18),
        "subresource \"/api-0\" must include a non-empty namespace: <namespace>/<name>"
    );
    assert_eq!(
        err("/c1/kube:cw:namespaces/k1", 18),
        "resource of kind \"kube:cw:namespaces\" must include a subresource name"
    );
    assert_eq!(err("/c1/pod/k1/api-0", 18), "resource of kind \"kube:ns:pods\" must include a subresource name");

    // 17: only the legacy kinds, unconverted.
    let pod = ResourceId::parse("/c1/pod/k1/default/api-0", 17).unwrap();
    assert_eq!((pod.kind.as_str(), pod.sub_resource.as_str()), ("pod", "default/api-0"));
    assert_eq!(
        err("/c1/kube:ns:pods/k1/default/api-0", 17),
        "Resource kind \"kube:ns:pods\" is invalid or unsupported"
    );
    assert_eq!(err("/c1/pod/k1/api-0", 17), "resource of kind \"pod\" must include a subresource name");
}

#[test]
fn active_requests_are_own_approved_unexpired_and_not_dropped() {
    let mut mine = pending(&["editor"]);
    submit(&mut mine, "bob", RequestState::Approved, "", now()).unwrap();
    let mut book = Book { access_requests: vec![mine, pending(&["access"])], ..Book::default() };
    assert_eq!(active_for(&book, "alice", now()).len(), 1);
    assert!(active_for(&book, "bob", now()).is_empty());
    assert!(active_for(&book, "alice", now() + Duration::hours(13)).is_empty(), "expired");
    book.dropped.insert("alice".into(), vec!["id-1".into()]);
    assert!(active_for(&book, "alice", now()).is_empty());
}

#[test]
fn the_demo_has_a_pending_and_a_denied_request() {
    let cluster = demo::build(now());
    let states: Vec<RequestState> = cluster.access_requests.iter().map(state).collect();
    assert_eq!(states, [RequestState::Denied, RequestState::Pending]);
}
