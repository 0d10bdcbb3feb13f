//! The simulated cluster: what the Auth Service would hold. It comes from the file named by
//! `TELEPORT_SIM_STATE`, or else from the built-in demo cluster.

pub mod demo;
mod load;
mod targets;

pub use targets::{McpTransport, TargetKind};

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
    /// `db_server` resources: the databases agents serve (`DatabaseServerV3`).
    #[serde(deserialize_with = "list")]
    pub db_servers: Vec<Value>,
    /// `app_server` resources: the applications (MCP servers among them) agents serve.
    #[serde(deserialize_with = "list")]
    pub app_servers: Vec<Value>,
    /// `kube_server` resources: the Kubernetes clusters agents serve.
    #[serde(deserialize_with = "list")]
    pub kube_servers: Vec<Value>,
    /// `windows_desktop` resources.
    #[serde(deserialize_with = "list")]
    pub windows_desktops: Vec<Value>,
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
    /// Older state files' database names: each becomes a minimal `db_server` when loaded.
    pub databases: Option<Vec<String>>,
    /// Older state files' application names: each becomes a minimal `app_server` (an MCP app
    /// when `mcp_apps` names it) when loaded.
    pub apps: Option<Vec<String>>,
    /// Older state files' Kubernetes cluster names: each becomes a minimal `kube_server`.
    pub kube_clusters: Option<Vec<String>>,
    /// Older state files' MCP applications among `apps`, with their transport (`http` for
    /// streamable HTTP, `sse`, `stdio`). Without the section every legacy app counts as an MCP
    /// app over streamable HTTP (what those files meant).
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
            db_servers: Vec::new(),
            app_servers: Vec::new(),
            kube_servers: Vec::new(),
            windows_desktops: Vec::new(),
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
            ("db_servers", &self.db_servers),
            ("app_servers", &self.app_servers),
            ("kube_servers", &self.kube_servers),
            ("windows_desktops", &self.windows_desktops),
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
