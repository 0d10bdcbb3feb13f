//! Views of what an agent can reach with `start_proxy`: databases, applications, MCP servers,
//! Kubernetes clusters and Windows desktops, one row per target name with the agents serving it.
//! URIs are redacted (they may carry credentials); names, labels and descriptions are written by
//! whoever may edit the cluster, so they are untrusted text.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::redact::redact_text;
use crate::teleport::models::{Metadata, TargetServer, WindowsDesktop};

/// Targets of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetList {
    /// Number of targets (distinct names).
    pub count: usize,
    /// The targets, sorted by name.
    pub targets: Vec<TargetView>,
}

/// One target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetView {
    /// The name `start_proxy` takes (untrusted text).
    pub name: String,
    /// Free-text description (untrusted text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Static labels (untrusted text); `env` says prod/staging/dev where set.
    pub labels: BTreeMap<String, String>,
    /// Database protocol (`postgres`, `mysql`, `mongodb`…), app type (`http`, `tcp`, `mcp`…),
    /// `kubernetes`, or `rdp`.
    pub protocol: String,
    /// Where the agent connects, credentials redacted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// The agents serving it (more than one: high availability).
    pub served_by: Vec<AgentRef>,
    /// MCP servers: `http` (streamable HTTP), `sse` or `stdio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// How it is reached: the `start_proxy` kind that works, or what to use instead.
    pub reach: String,
}

/// An agent serving a target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct AgentRef {
    /// Host name of the agent (empty when the resource does not say, e.g. Windows desktops).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// Host UUID of the agent.
    pub host_id: String,
}

/// The MCP transport an app URI names (`api/types/app.go` schemes).
pub fn mcp_transport(uri: &str) -> Option<&'static str> {
    let scheme = uri.split("://").next().unwrap_or_default().to_ascii_lowercase();
    match scheme.as_str() {
        "mcp+http" | "mcp+https" => Some("http"),
        "mcp+sse+http" | "mcp+sse+https" => Some("sse"),
        "mcp+stdio" => Some("stdio"),
        _ => None,
    }
}

/// Which kind of target a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `db_server` → `spec.database`.
    Database,
    /// `app_server` → `spec.app`, MCP servers left out.
    App,
    /// `app_server` → `spec.app`, MCP servers only.
    McpServer,
    /// `kube_server` → `spec.cluster`.
    Kube,
}

impl TargetList {
    /// One row per target name from the `*_server` wrappers, agents merged.
    pub fn from_servers(kind: TargetKind, servers: &[TargetServer]) -> TargetList {
        let mut rows: BTreeMap<String, TargetView> = BTreeMap::new();
        for server in servers {
            let Some(row) = row(kind, server) else { continue };
            let agent = AgentRef { hostname: server.spec.hostname.clone(), host_id: server.spec.host_id.clone() };
            let entry = rows.entry(row.name.clone()).or_insert(row);
            if !entry.served_by.contains(&agent) {
                entry.served_by.push(agent);
                entry.served_by.sort();
            }
        }
        let targets: Vec<TargetView> = rows.into_values().collect();
        TargetList { count: targets.len(), targets }
    }

    /// One row per desktop name; the serving agent is the desktop's `host_id`.
    pub fn from_desktops(desktops: &[WindowsDesktop]) -> TargetList {
        let mut rows: BTreeMap<String, TargetView> = BTreeMap::new();
        for d in desktops {
            let (name, description, labels) = basics(&d.metadata);
            let agent = AgentRef { hostname: String::new(), host_id: d.spec.host_id.clone() };
            let entry = rows.entry(name.clone()).or_insert_with(|| TargetView {
                name,
                description,
                labels,
                protocol: "rdp".to_owned(),
                uri: redact_text(&d.spec.addr),
                served_by: Vec::new(),
                transport: None,
                reach: "Teleport Web UI or Teleport Connect (no start_proxy kind)".to_owned(),
            });
            if !entry.served_by.contains(&agent) {
                entry.served_by.push(agent);
                entry.served_by.sort();
            }
        }
        let targets: Vec<TargetView> = rows.into_values().collect();
        TargetList { count: targets.len(), targets }
    }

    /// Whether a target of this name is listed.
    pub fn has(&self, name: &str) -> bool {
        self.targets.iter().any(|t| t.name == name)
    }
}

fn basics(m: &Metadata) -> (String, String, BTreeMap<String, String>) {
    (m.name.clone(), m.description.clone(), m.labels.clone())
}

fn row(kind: TargetKind, server: &TargetServer) -> Option<TargetView> {
    let (meta, protocol, uri, transport, reach) = match kind {
        TargetKind::Database => {
            let db = &server.spec.database;
            (&db.metadata, db.spec.protocol.clone(), db.spec.uri.clone(), None, "start_proxy kind proxy_db".to_owned())
        }
        TargetKind::App | TargetKind::McpServer => {
            let app = &server.spec.app;
            let mcp = app.sub_kind == "mcp" || mcp_transport(&app.spec.uri).is_some();
            if mcp != (kind == TargetKind::McpServer) {
                return None;
            }
            let transport = mcp.then(|| mcp_transport(&app.spec.uri).unwrap_or("unknown").to_owned());
            let reach = match transport.as_deref() {
                Some("http") => "start_proxy kind proxy_mcp (streamable HTTP)",
                Some("stdio") => "not through start_proxy: an MCP client runs `tsh mcp connect <name>` (stdio)",
                Some(_) => {
                    "not through start_proxy (tsh proxy mcp serves only streamable HTTP): `tsh mcp connect <name>`"
                }
                None => "start_proxy kind proxy_app",
            };
            let protocol = match (&transport, app.spec.uri.split("://").next()) {
                (Some(_), _) => "mcp".to_owned(),
                (None, Some(scheme)) if app.spec.uri.contains("://") => scheme.to_ascii_lowercase(),
                _ => "http".to_owned(),
            };
            (&app.metadata, protocol, app.spec.uri.clone(), transport, reach.to_owned())
        }
        TargetKind::Kube => {
            let c = &server.spec.cluster;
            (&c.metadata, "kubernetes".to_owned(), String::new(), None, "start_proxy kind proxy_kube".to_owned())
        }
    };
    let (name, description, labels) = basics(meta);
    let name = if name.is_empty() { server.metadata.name.clone() } else { name };
    if name.is_empty() {
        return None;
    }
    Some(TargetView {
        name,
        description,
        labels,
        protocol,
        uri: redact_text(&uri),
        served_by: Vec::new(),
        transport,
        reach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::teleport::parse::{parse_app_servers, parse_db_servers};

    #[test]
    fn agents_merge_and_uris_lose_their_password() {
        let json = r#"[
          {"kind":"db_server","metadata":{"name":"m"},"spec":{"hostname":"a1","host_id":"h1",
            "database":{"kind":"db","metadata":{"name":"m","labels":{"env":"dev"}},
              "spec":{"protocol":"mongodb","uri":"mongodb://u:hunter2pass@m:27017"}}}},
          {"kind":"db_server","metadata":{"name":"m"},"spec":{"hostname":"a2","host_id":"h2",
            "database":{"metadata":{"name":"m"},"spec":{"protocol":"mongodb","uri":"x"}}}},
          {"kind":"db_server","metadata":{"name":"m"},"spec":{"hostname":"a1","host_id":"h1","database":null}}
        ]"#;
        let list = TargetList::from_servers(TargetKind::Database, &parse_db_servers(json).unwrap());
        assert_eq!(list.count, 1);
        let m = &list.targets[0];
        assert_eq!(m.served_by.iter().map(|a| a.hostname.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
        assert!(!m.uri.contains("hunter2pass") && m.uri.contains("m:27017"), "{}", m.uri);
        assert_eq!(m.labels["env"], "dev");
    }

    #[test]
    fn mcp_servers_are_split_from_apps_with_their_transport() {
        let json = r#"[
          {"spec":{"hostname":"a","host_id":"h","app":{"metadata":{"name":"g"},"spec":{"uri":"http://g"}}}},
          {"spec":{"hostname":"a","host_id":"h","app":{"sub_kind":"mcp","metadata":{"name":"s"},"spec":{"uri":"mcp+stdio://"}}}},
          {"spec":{"hostname":"a","host_id":"h","app":{"sub_kind":"mcp","metadata":{"name":"e"},"spec":{"uri":"mcp+https://e/mcp"}}}}
        ]"#;
        let servers = parse_app_servers(json).unwrap();
        let apps = TargetList::from_servers(TargetKind::App, &servers);
        assert_eq!(apps.targets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["g"]);
        let mcp = TargetList::from_servers(TargetKind::McpServer, &servers);
        let transports: Vec<_> = mcp.targets.iter().map(|t| (t.name.as_str(), t.transport.as_deref())).collect();
        assert_eq!(transports, [("e", Some("http")), ("s", Some("stdio"))]);
        assert!(mcp.targets[0].reach.contains("proxy_mcp") && !mcp.targets[1].reach.contains("proxy_mcp"));
    }
}
