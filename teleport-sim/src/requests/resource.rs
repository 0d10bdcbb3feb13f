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

impl ResourceId {
    /// `types.ResourceIDFromString`: `/<cluster>/<kind>/<name>[/<sub_resource>]`.
    pub fn parse(raw: &str) -> Result<ResourceId, SimError> {
        let invalid = || SimError::msg(format!("{raw} is not a valid ResourceID string"));
        let rest = raw.strip_prefix('/').ok_or_else(invalid)?;
        let parts: Vec<&str> = rest.splitn(3, '/').collect();
        let [cluster, kind, name] = parts[..] else { return Err(invalid()) };
        if cluster.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(invalid());
        }
        // Only Kubernetes kinds have sub-resources; their name is the cluster before the slash.
        let (name, sub_resource) = match name.split_once('/') {
            Some((n, sub)) if kind.starts_with("kube") => (n, sub),
            _ => (name, ""),
        };
        Ok(ResourceId {
            cluster: cluster.into(),
            kind: kind.into(),
            name: name.into(),
            sub_resource: sub_resource.into(),
        })
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
