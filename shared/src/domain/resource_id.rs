//! Resource ids of access requests, checked the way Teleport 18 checks them
//! (`api/types/resource_ids.go`: `ResourceIDFromString`, `CheckAndSetDefaults`,
//! `validateK8sSubResource`), so a malformed id is refused before anything runs:
//!
//! - `/<cluster>/<kind>/<name>` for every kind that is not Kubernetes (`node`, `db`, `app`,
//!   `kube_cluster`, `windows_desktop`, …): no sub-resource;
//! - `/<cluster>/kube:ns:<plural>[.<group>]/<kube_cluster>/<namespace>/<name>` for a namespaced
//!   Kubernetes resource (`kube:ns:pods`, `kube:ns:deployments.apps`);
//! - `/<cluster>/kube:cw:<plural>[.<group>]/<kube_cluster>/<name>` for a cluster-wide one
//!   (`kube:cw:namespaces`, `kube:cw:clusterroles.rbac.authorization.k8s.io`);
//! - the legacy singular kinds (`pod`, `deployment`, `kube_node`, `namespace`, …) with the same
//!   sub-resource shapes: Teleport 17 knows only those, 18 converts them to the kinds above.

use std::fmt;

use super::quoted;

/// Printed characters of a kind or name echoed back in an error, quotes included.
const ECHO: usize = 42;

/// `types.KubernetesResourcesKinds` (`api/types/constants.go`), the legacy singular kinds.
const LEGACY_KUBE_KINDS: &[&str] = &[
    "pod",
    "secret",
    "configmap",
    "namespace",
    "service",
    "serviceaccount",
    "kube_node",
    "persistentvolume",
    "persistentvolumeclaim",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "clusterrole",
    "kube_role",
    "clusterrolebinding",
    "rolebinding",
    "cronjob",
    "job",
    "certificatesigningrequest",
    "ingress",
];

/// `types.KubernetesClusterWideResourceKinds`: the legacy kinds that have no namespace.
const LEGACY_CLUSTER_WIDE: &[&str] =
    &["namespace", "kube_node", "persistentvolume", "clusterrole", "clusterrolebinding", "certificatesigningrequest"];

/// `types.AccessRequestPrefixKindKubeNamespaced` and `…ClusterWide`.
const NAMESPACED: &str = "kube:ns:";
const CLUSTER_WIDE: &str = "kube:cw:";

/// Why a resource id was refused; the text says what the right shape is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceIdError(pub String);

impl fmt::Display for ResourceIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of thing a kind names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Not Kubernetes: no sub-resource.
    Plain,
    /// `<namespace>/<name>` after the Kubernetes cluster.
    Namespaced,
    /// `<name>` after the Kubernetes cluster.
    ClusterWide,
}

fn shape(kind: &str) -> Result<Shape, ResourceIdError> {
    if let Some(rest) = kind.strip_prefix(NAMESPACED).or_else(|| kind.strip_prefix(CLUSTER_WIDE)) {
        kube_resource_ok(rest).then_some(()).ok_or_else(|| {
            ResourceIdError(format!(
                "Kubernetes kind {} must be kube:ns:<plural>[.<api group>] or kube:cw:<plural>[.<api group>], \
                 e.g. kube:ns:pods, kube:ns:deployments.apps, kube:cw:namespaces",
                quoted(kind, ECHO)
            ))
        })?;
        return Ok(if kind.starts_with(NAMESPACED) { Shape::Namespaced } else { Shape::ClusterWide });
    }
    if kind.starts_with("kube:") {
        return Err(ResourceIdError(format!(
            "Kubernetes kind {} must start with kube:ns: (namespaced) or kube:cw: (cluster-wide)",
            quoted(kind, ECHO)
        )));
    }
    if LEGACY_CLUSTER_WIDE.contains(&kind) {
        return Ok(Shape::ClusterWide);
    }
    if LEGACY_KUBE_KINDS.contains(&kind) {
        return Ok(Shape::Namespaced);
    }
    if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Ok(Shape::Plain);
    }
    Err(ResourceIdError(format!("{} is not a resource kind", quoted(kind, ECHO))))
}

/// `<plural>[.<group>]`: a lowercase resource name and a DNS-style API group.
fn kube_resource_ok(s: &str) -> bool {
    let (plural, group) = s.split_once('.').unwrap_or((s, ""));
    let label = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    label(plural)
        && plural.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && (group.is_empty() || group.split('.').all(label))
}

/// Checks `/<cluster>/<kind>/<rest>`, splitting `<rest>` as Teleport does: for Kubernetes kinds
/// the last two (namespaced) or last one (cluster-wide) segments are the sub-resource.
/// `name_ok` checks each name segment.
pub fn check(raw: &str, name_ok: impl Fn(&str) -> bool) -> Result<(), ResourceIdError> {
    let shape_hint = "expected /<cluster>/<kind>/<name>, e.g. /teleport.example.com/node/web-01, or for Kubernetes \
                      /<cluster>/kube:ns:pods/<kube_cluster>/<namespace>/<pod>";
    let Some(path) = raw.strip_prefix('/') else {
        return Err(ResourceIdError(shape_hint.to_owned()));
    };
    let mut parts = path.splitn(3, '/');
    let (Some(cluster), Some(kind), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ResourceIdError(shape_hint.to_owned()));
    };
    if !name_ok(cluster) || rest.is_empty() {
        return Err(ResourceIdError(shape_hint.to_owned()));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let (name, sub): (&[&str], &[&str]) = match shape(kind)? {
        Shape::Plain if segments.len() > 1 => {
            return Err(ResourceIdError(format!(
                "resource kind {} doesn't allow sub resources; for a Kubernetes resource use \
                 /<cluster>/kube:ns:<plural>/<kube_cluster>/<namespace>/<name> or \
                 /<cluster>/kube:cw:<plural>/<kube_cluster>/<name>",
                quoted(kind, ECHO)
            )));
        }
        Shape::Plain => (&segments, &[]),
        Shape::Namespaced if segments.len() >= 3 => segments.split_at(segments.len() - 2),
        Shape::ClusterWide if segments.len() >= 2 => segments.split_at(segments.len() - 1),
        Shape::Namespaced => {
            return Err(ResourceIdError(format!(
                "resource of kind {} must name <kube_cluster>/<namespace>/<name>",
                quoted(kind, ECHO)
            )));
        }
        Shape::ClusterWide => {
            return Err(ResourceIdError(format!(
                "resource of kind {} must name <kube_cluster>/<name>",
                quoted(kind, ECHO)
            )));
        }
    };
    // Teleport allows slashes in a Kubernetes cluster's name; we do not (nor anywhere else).
    if name.len() != 1 || !name_ok(name[0]) {
        return Err(ResourceIdError(format!("{} is not a valid resource name", quoted(&name.join("/"), ECHO))));
    }
    if let Some(bad) = sub.iter().find(|s| !name_ok(s)) {
        return Err(ResourceIdError(format!(
            "{} is not a valid Kubernetes namespace or resource name",
            quoted(bad, ECHO)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@:*".contains(c))
    }

    #[test]
    fn kinds_and_sub_resources_as_teleport_18_checks_them() {
        for good in [
            "/c/node/web-01",
            "/c/kube_cluster/prod",
            "/c/kube:ns:pods/prod/default/pod-1",
            "/c/kube:ns:deployments.apps/prod/default/api",
            "/c/kube:cw:namespaces/prod/default",
            "/c/kube:cw:clusterroles.rbac.authorization.k8s.io/prod/admin",
            "/c/pod/prod/default/pod-1",
            "/c/namespace/prod/default",
            "/c/kube_node/prod/node-1",
        ] {
            assert_eq!(check(good, ok), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("/c/kube_cluster/prod/default/pod-1", "doesn't allow sub resources"),
            ("/c/kube:ns:pods/prod/pod-1", "<kube_cluster>/<namespace>/<name>"),
            ("/c/kube:ns:pods/prod", "<kube_cluster>/<namespace>/<name>"),
            ("/c/kube:cw:namespaces/prod", "<kube_cluster>/<name>"),
            ("/c/pod/prod/pod-1", "<kube_cluster>/<namespace>/<name>"),
            ("/c/kube:pods/prod/default/x", "kube:ns:"),
            ("/c/kube:ns:Pods/prod/default/x", "kube:ns:<plural>"),
            ("/c/kube:ns:pods/prod/default/", "not a valid"),
            ("/c/kube:ns:pods/a/b/default/x", "not a valid resource name"),
            ("/c/node", "expected /<cluster>/<kind>/<name>"),
            ("c/node/x", "expected /<cluster>/<kind>/<name>"),
        ] {
            let err = check(bad, ok).unwrap_err().0;
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
