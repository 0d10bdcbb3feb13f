//! What the agents serve: lookups over the `*_server` resources (a target exists iff some agent
//! heartbeats it), and the conversion of older state files' name lists into minimal resources.

use super::State;
use crate::value::{Map, Value, obj};

/// A kind of target `tsh proxy` reaches, with where its `*_server` wrapper embeds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Database,
    App,
    Kube,
}

impl TargetKind {
    /// The embedded resource's field in the server's `spec` (`types.proto`).
    pub fn field(self) -> &'static str {
        match self {
            TargetKind::Database => "database",
            TargetKind::App => "app",
            TargetKind::Kube => "cluster",
        }
    }

    /// The role's label selector that makes targets of this kind visible (`lib/services/role.go`).
    pub fn labels_field(self) -> &'static str {
        match self {
            TargetKind::Database => "db_labels",
            TargetKind::App => "app_labels",
            TargetKind::Kube => "kubernetes_labels",
        }
    }

    fn servers(self, state: &State) -> &[Value] {
        match self {
            TargetKind::Database => &state.db_servers,
            TargetKind::App => &state.app_servers,
            TargetKind::Kube => &state.kube_servers,
        }
    }
}

/// How an MCP application is reached, from its URI scheme (`api/types/app.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpTransport {
    /// `mcp+http://`, `mcp+https://`: streamable HTTP.
    Http,
    /// `mcp+sse+http://`, `mcp+sse+https://`.
    Sse,
    /// `mcp+stdio://`: a command the agent runs.
    Stdio,
}

impl McpTransport {
    /// The transport of an MCP URI; `None` for anything else.
    pub fn of_uri(uri: &str) -> Option<McpTransport> {
        let scheme = uri.split("://").next().unwrap_or_default().to_ascii_lowercase();
        match scheme.as_str() {
            "mcp+http" | "mcp+https" => Some(McpTransport::Http),
            "mcp+sse+http" | "mcp+sse+https" => Some(McpTransport::Sse),
            "mcp+stdio" => Some(McpTransport::Stdio),
            _ => None,
        }
    }

    /// The word `tsh` uses in its refusal.
    pub fn word(self) -> &'static str {
        match self {
            McpTransport::Http => "http",
            McpTransport::Sse => "sse",
            McpTransport::Stdio => "stdio",
        }
    }
}

impl State {
    /// The embedded target named `name` (the first agent's copy), if some agent serves it.
    pub fn target(&self, kind: TargetKind, name: &str) -> Option<&Value> {
        kind.servers(self)
            .iter()
            .filter_map(|s| s.at(&["spec", kind.field()]))
            .find(|t| t.str_at(&["metadata", "name"]) == name)
    }

    /// The embedded targets of a kind, one per name (`tctl get db|app|kube_cluster`).
    pub fn targets(&self, kind: TargetKind) -> Vec<Value> {
        let mut seen = std::collections::BTreeSet::new();
        kind.servers(self)
            .iter()
            .filter_map(|s| s.at(&["spec", kind.field()]))
            .filter(|t| seen.insert(t.str_at(&["metadata", "name"]).to_owned()))
            .cloned()
            .collect()
    }

    /// Turns older state files' name lists into minimal resources (those already present as
    /// resources are kept as they are), so that one notion decides what `tsh proxy` reaches.
    pub fn adopt_name_lists(&mut self) {
        let mcp = self.mcp_apps.take();
        for name in self.databases.take().unwrap_or_default() {
            if self.target(TargetKind::Database, &name).is_none() {
                let spec = obj! { "protocol" => "postgres", "uri" => format!("{name}.internal:5432") };
                self.db_servers.push(minimal_server("db_server", "database", "db", &name, None, spec));
            }
        }
        for name in self.apps.take().unwrap_or_default() {
            if self.target(TargetKind::App, &name).is_some() {
                continue;
            }
            // Without `mcp_apps`, older files meant every app to be an MCP app over streamable HTTP.
            let transport = match &mcp {
                None => Some("http"),
                Some(apps) => apps.get(&name).map(String::as_str),
            };
            let uri = match transport {
                None => format!("http://{name}.internal"),
                Some("stdio") => "mcp+stdio://".to_owned(),
                Some("sse") => format!("mcp+sse+http://{name}.internal/sse"),
                Some(_) => format!("mcp+http://{name}.internal/mcp"),
            };
            let sub_kind = transport.map(|_| "mcp");
            self.app_servers.push(minimal_server("app_server", "app", "app", &name, sub_kind, obj! { "uri" => uri }));
        }
        for name in self.kube_clusters.take().unwrap_or_default() {
            if self.target(TargetKind::Kube, &name).is_none() {
                self.kube_servers.push(minimal_server("kube_server", "cluster", "kube_cluster", &name, None, obj! {}));
            }
        }
    }
}

fn minimal_server(kind: &str, field: &str, inner: &str, name: &str, sub_kind: Option<&str>, spec: Value) -> Value {
    let mut target = Map::new();
    target.insert("kind", Value::from(inner));
    if let Some(sub_kind) = sub_kind {
        target.insert("sub_kind", Value::from(sub_kind));
    }
    target.insert("version", Value::from("v3"));
    target.insert("metadata", obj! { "name" => name });
    target.insert("spec", spec);
    let mut server_spec = Map::new();
    server_spec.insert("version", Value::from(super::DEFAULT_VERSION));
    server_spec.insert("hostname", Value::from("agent"));
    server_spec.insert("host_id", Value::from("00000000-0000-4000-8000-000000000000"));
    server_spec.insert(field, Value::Object(target));
    obj! { "kind" => kind, "version" => "v3", "metadata" => obj! { "name" => name }, "spec" => Value::Object(server_spec) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists_become_resources_with_their_transport() {
        let mut state: State = serde_yaml::from_str(
            "databases: [orders]\napps: [grafana, files]\nmcp_apps: {files: stdio}\nkube_clusters: [dev]\n",
        )
        .unwrap();
        state.adopt_name_lists();
        assert!(state.target(TargetKind::Database, "orders").is_some());
        assert!(state.target(TargetKind::Kube, "dev").is_some());
        let files = state.target(TargetKind::App, "files").unwrap();
        assert_eq!((files.str_at(&["sub_kind"]), files.str_at(&["spec", "uri"])), ("mcp", "mcp+stdio://"));
        assert_eq!(state.target(TargetKind::App, "grafana").unwrap().str_at(&["sub_kind"]), "");
        assert!(state.target(TargetKind::App, "nope").is_none());
        assert_eq!(McpTransport::of_uri("MCP+SSE+HTTPS://x/sse"), Some(McpTransport::Sse));
    }
}
