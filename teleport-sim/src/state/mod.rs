//! The simulated cluster: what the Auth Service would hold. It comes from the file named by
//! `TELEPORT_SIM_STATE`, or else from the built-in demo cluster.

pub mod demo;
mod load;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::env::SimEnv;
use crate::error::SimError;
use crate::faults::FaultSpec;
use crate::value::{Map, Value};

/// The demo cluster's name, also the default when a state file omits `cluster_name`.
pub const DEFAULT_CLUSTER: &str = "teleport.example.com";
/// The demo cluster's Teleport version, also the default when a state file omits `version`.
pub const DEFAULT_VERSION: &str = "18.1.4";
/// The user the simulator acts as when neither the state file nor `TELEPORT_SIM_USER` says.
pub const DEFAULT_IDENTITY: &str = "mcp-control-plane";

/// Every resource list holds resources in Teleport's own JSON shape; unknown fields are kept
/// and printed back unchanged.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct State {
    pub cluster_name: String,
    pub version: String,
    #[serde(deserialize_with = "list")]
    pub nodes: Vec<Value>,
    #[serde(deserialize_with = "list")]
    pub proxies: Vec<Value>,
    #[serde(deserialize_with = "list")]
    pub roles: Vec<Value>,
    #[serde(deserialize_with = "list")]
    pub users: Vec<Value>,
    #[serde(deserialize_with = "list")]
    pub tokens: Vec<Value>,
    #[serde(deserialize_with = "list")]
    pub cert_authorities: Vec<Value>,
    /// The `cluster_auth_preference` singleton (a list, or one object).
    #[serde(deserialize_with = "list")]
    pub auth_preference: Vec<Value>,
    /// Access requests (Teleport's JSON shape) that seed the state directory the first time it
    /// is used; from then on the state directory is the truth (see [`crate::store`]).
    #[serde(deserialize_with = "list")]
    pub access_requests: Vec<Value>,
    /// Resources the caller's identity may not read (`token`, `role`, …): access denied.
    pub deny: Vec<String>,
    /// Enforce Teleport's RBAC on the identity: its user's roles decide (see [`crate::rbac`]).
    pub rbac: bool,
    /// The user the simulator acts as (`TELEPORT_SIM_USER` overrides it).
    pub identity_user: String,
    /// Roles nobody may request; any other role of the cluster may be requested.
    pub deny_request_roles: Vec<String>,
    pub faults: FaultSpec,
    /// Database names `tsh proxy db` may reach; without the section any name is accepted.
    pub databases: Option<Vec<String>>,
    /// Application names `tsh proxy app|mcp` may reach; without the section any name is accepted.
    pub apps: Option<Vec<String>>,
    /// Kubernetes cluster names `tsh proxy kube` may reach; without the section any name is
    /// accepted (but naming none finds none).
    pub kube_clusters: Option<Vec<String>>,
    /// The MCP applications among the apps, by name, with their transport (`http` for streamable
    /// HTTP, `sse`, `stdio`): `tsh proxy mcp` serves only `http` ones. Without the section every
    /// app counts as an MCP app over streamable HTTP (what older state files meant).
    pub mcp_apps: Option<std::collections::BTreeMap<String, String>>,
}

impl Default for State {
    fn default() -> Self {
        State {
            cluster_name: DEFAULT_CLUSTER.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            nodes: Vec::new(),
            proxies: Vec::new(),
            roles: Vec::new(),
            users: Vec::new(),
            tokens: Vec::new(),
            cert_authorities: Vec::new(),
            auth_preference: Vec::new(),
            access_requests: Vec::new(),
            deny: Vec::new(),
            rbac: false,
            identity_user: DEFAULT_IDENTITY.to_owned(),
            deny_request_roles: Vec::new(),
            faults: FaultSpec::default(),
            databases: None,
            apps: None,
            kube_clusters: None,
            mcp_apps: None,
        }
    }
}

impl State {
    /// The state file if `TELEPORT_SIM_STATE` names one, else the demo cluster at `now`.
    pub fn load(env: &SimEnv, now: DateTime<Utc>) -> Result<State, SimError> {
        match &env.state_file {
            Some(path) => load::from_file(path),
            None => Ok(demo::build(now)),
        }
    }

    /// The state as a state-file document (what `teleport-sim demo-state` prints).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("cluster_name", Value::from(&self.cluster_name));
        map.insert("version", Value::from(&self.version));
        for (key, items) in [
            ("nodes", &self.nodes),
            ("proxies", &self.proxies),
            ("roles", &self.roles),
            ("users", &self.users),
            ("tokens", &self.tokens),
            ("cert_authorities", &self.cert_authorities),
            ("auth_preference", &self.auth_preference),
            ("access_requests", &self.access_requests),
        ] {
            map.insert(key, Value::Array(items.clone()));
        }
        let strings = |items: &[String]| Value::Array(items.iter().map(Value::from).collect());
        map.insert("deny", strings(&self.deny));
        if self.rbac {
            map.insert("rbac", Value::Bool(true));
        }
        map.insert("identity_user", Value::from(&self.identity_user));
        map.insert("deny_request_roles", strings(&self.deny_request_roles));
        map.insert("faults", self.faults.to_value());
        for (key, names) in
            [("databases", &self.databases), ("apps", &self.apps), ("kube_clusters", &self.kube_clusters)]
        {
            if let Some(names) = names {
                map.insert(key, strings(names));
            }
        }
        if let Some(mcp_apps) = &self.mcp_apps {
            let mut apps = Map::new();
            for (name, transport) in mcp_apps {
                apps.insert(name, Value::from(transport));
            }
            map.insert("mcp_apps", Value::Object(apps));
        }
        Value::Object(map)
    }

    /// Whether the identity is denied access to `resource` by the state's `deny` list.
    pub fn denies(&self, resource: &str) -> bool {
        self.deny.iter().any(|d| d == resource)
    }

    /// Whether a name section (`databases`, `apps`, `kube_clusters`) admits `name`: an absent
    /// section admits every name.
    pub fn admits(section: &Option<Vec<String>>, name: &str) -> bool {
        section.as_ref().is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// The role named `name`, if the cluster has it.
    pub fn role(&self, name: &str) -> Option<&Value> {
        self.roles.iter().find(|r| r.str_at(&["metadata", "name"]) == name)
    }

    /// The user named `name`, if the cluster has it.
    pub fn user(&self, name: &str) -> Option<&Value> {
        self.users.iter().find(|u| u.str_at(&["metadata", "name"]) == name)
    }
}

/// Accepts a list, a single object, or null (parsers of real output must be lenient too).
fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        other => vec![other],
    })
}
