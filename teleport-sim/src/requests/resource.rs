//! Requested resources (`types.ResourceID`): the `/<cluster>/<kind>/<name>[/<sub_resource>]`
//! strings of `--resource`, their JSON form, and `types.ResourceIDsToString`.

use crate::error::SimError;
use crate::value::{Map, Value};

/// A requested resource (`types.ResourceID`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceId {
    pub cluster: String,
    pub kind: String,
    pub name: String,
    pub sub_resource: String,
}

/// `types.RequestableResourceKinds` (`api/types/constants.go`): the kinds one may request,
/// besides the `kube:` kinds of Teleport 18.
const REQUESTABLE: &[&str] = &["node", "kube_cluster", "db", "app", "windows_desktop", "user_group"];

/// `types.KubernetesResourcesKinds` with `KubernetesResourcesKindsPlurals` and
/// `KubernetesResourcesV7KindGroups` (the kind's Kubernetes API group, empty for the core group):
/// the legacy singular kinds and what Teleport 18 converts them to.
const LEGACY_KUBE: &[(&str, &str, &str)] = &[
    ("pod", "pods", ""),
    ("secret", "secrets", ""),
    ("configmap", "configmaps", ""),
    ("namespace", "namespaces", ""),
    ("service", "services", ""),
    ("serviceaccount", "serviceaccounts", ""),
    ("kube_node", "nodes", ""),
    ("persistentvolume", "persistentvolumes", ""),
    ("persistentvolumeclaim", "persistentvolumeclaims", ""),
    ("deployment", "deployments", "apps"),
    ("replicaset", "replicasets", "apps"),
    ("statefulset", "statefulsets", "apps"),
    ("daemonset", "daemonsets", "apps"),
    ("clusterrole", "clusterroles", "rbac.authorization.k8s.io"),
    ("kube_role", "roles", "rbac.authorization.k8s.io"),
    ("clusterrolebinding", "clusterrolebindings", "rbac.authorization.k8s.io"),
    ("rolebinding", "rolebindings", "rbac.authorization.k8s.io"),
    ("cronjob", "cronjobs", "batch"),
    ("job", "jobs", "batch"),
    ("certificatesigningrequest", "certificatesigningrequests", "certificates.k8s.io"),
    ("ingress", "ingresses", "networking.k8s.io"),
];

/// `types.KubernetesClusterWideResourceKinds`.
const LEGACY_CLUSTER_WIDE: &[&str] =
    &["namespace", "kube_node", "persistentvolume", "clusterrole", "clusterrolebinding", "certificatesigningrequest"];

/// `types.KindKubeNamespace`: a legacy kind 18 keeps as it is.
const NAMESPACE: &str = "namespace";
/// `AccessRequestPrefixKindKube`, `…Namespaced`, `…ClusterWide` (Teleport 18).
const KUBE_PREFIX: &str = "kube:";
const CLUSTER_WIDE_PREFIX: &str = "kube:cw:";
const NAMESPACED_PREFIX: &str = "kube:ns:";

fn legacy(kind: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    LEGACY_KUBE.iter().find(|(k, _, _)| *k == kind)
}

impl ResourceId {
    /// `types.ResourceIDFromString` of the release imitated (`api/types/resource_ids.go`):
    /// `/<cluster>/<kind>/<name>`, where for Kubernetes kinds the last two (namespaced) or last
    /// one (cluster-wide) segments of `<name>` are the sub-resource. From 18, `kube:ns:…` and
    /// `kube:cw:…` kinds exist and legacy kinds other than `namespace` are converted to them;
    /// 17 knows only the legacy kinds.
    pub fn parse(raw: &str, major: u32) -> Result<ResourceId, SimError> {
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(SimError::msg(format!("{raw} is not a valid ResourceID string")));
        };
        let parts: Vec<&str> = rest.splitn(3, '/').collect();
        let [cluster, kind, name] = parts[..] else {
            return Err(SimError::msg(format!("/{rest} is not a valid ResourceID string")));
        };
        let mut id =
            ResourceId { cluster: cluster.into(), kind: kind.into(), name: name.into(), sub_resource: String::new() };
        let kube_18 = major >= 18 && kind.starts_with(KUBE_PREFIX);
        if legacy(kind).is_some() || kube_18 {
            let splits: Vec<&str> = name.split('/').collect();
            let keep = if cluster_wide(kind) { 1 } else { 2 };
            if splits.len() > keep {
                let (head, tail) = splits.split_at(splits.len() - keep);
                id.name = head.join("/");
                id.sub_resource = tail.join("/");
            }
        }
        id.check(major)?;
        Ok(id)
    }

    /// `ResourceID.CheckAndSetDefaults`: converts legacy kinds (18) and validates.
    fn check(&mut self, major: u32) -> Result<(), SimError> {
        for (value, field) in [(&self.cluster, "ClusterName"), (&self.kind, "Kind"), (&self.name, "Name")] {
            if value.is_empty() {
                return Err(SimError::msg(format!("ResourceID must include {field}")));
            }
        }
        if major >= 18
            && self.kind != NAMESPACE
            && let Some((_, plural, group)) = legacy(&self.kind)
        {
            let prefix = if cluster_wide(&self.kind) { CLUSTER_WIDE_PREFIX } else { NAMESPACED_PREFIX };
            self.kind = format!("{prefix}{plural}");
            if !group.is_empty() {
                self.kind = format!("{}.{group}", self.kind);
            }
        }
        let kube = legacy(&self.kind).is_some() || (major >= 18 && self.kind.starts_with(KUBE_PREFIX));
        if !kube && !REQUESTABLE.contains(&self.kind.as_str()) {
            return Err(SimError::msg(format!("Resource kind {:?} is invalid or unsupported", self.kind)));
        }
        if kube {
            return self.check_kube_sub_resource();
        }
        if !self.sub_resource.is_empty() {
            return Err(SimError::msg(format!("resource kind {:?} doesn't allow sub resources", self.kind)));
        }
        Ok(())
    }

    /// `validateK8sSubResource`.
    fn check_kube_sub_resource(&self) -> Result<(), SimError> {
        let sub = &self.sub_resource;
        if sub.is_empty() {
            return Err(SimError::msg(format!("resource of kind {:?} must include a subresource name", self.kind)));
        }
        let split: Vec<&str> = sub.split('/').collect();
        let error = |what: &str| Err(SimError::msg(format!("subresource {sub:?} {what}")));
        if cluster_wide(&self.kind) {
            if split.len() != 1 {
                return error("must follow the following format: <name>");
            }
            if split[0].is_empty() {
                return error("must include a non-empty name: <name>");
            }
        } else if split.len() != 2 {
            return error("must follow the following format: <namespace>/<name>");
        } else if split[0].is_empty() {
            return error("must include a non-empty namespace: <namespace>/<name>");
        } else if split[1].is_empty() {
            return error("must include a non-empty name: <namespace>/<name>");
        }
        Ok(())
    }

    /// The JSON form (`resource_ids` items; `sub_resource` only when set).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("cluster", Value::from(&self.cluster));
        map.insert("kind", Value::from(&self.kind));
        map.insert("name", Value::from(&self.name));
        if !self.sub_resource.is_empty() {
            map.insert("sub_resource", Value::from(&self.sub_resource));
        }
        Value::Object(map)
    }
}

/// `types.ResourceIDsToString`: a compact JSON array of `/cluster/kind/name[/sub]`, or "".
pub fn resources_string(req: &Value) -> String {
    let ids: Vec<String> = req
        .array_at(&["spec", "resource_ids"])
        .iter()
        .map(|r| {
            let mut id = format!("/{}/{}/{}", r.str_at(&["cluster"]), r.str_at(&["kind"]), r.str_at(&["name"]));
            if let Some(sub) = r.at(&["sub_resource"]).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                id = format!("{id}/{sub}");
            }
            serde_json::to_string(&id).unwrap_or_default()
        })
        .collect();
    if ids.is_empty() { String::new() } else { format!("[{}]", ids.join(",")) }
}

/// A kind without a namespace: `namespace`, the legacy cluster-wide kinds, `kube:cw:…`.
fn cluster_wide(kind: &str) -> bool {
    LEGACY_CLUSTER_WIDE.contains(&kind) || kind.starts_with(CLUSTER_WIDE_PREFIX)
}
