//! Access targets as the agents serving them heartbeat them, printed by
//! `tctl get db_server|app_server|kube_server|windows_desktop --format=json`
//! (`tool/tctl/common/resources/database_server.go`, `app_server.go`, `kube_server.go`): the
//! wrappers `DatabaseServerV3`, `AppServerV3`, `KubernetesServerV3` name the agent
//! (`spec.hostname`, `spec.host_id`, `spec.version`) and embed the target (`spec.database`,
//! `spec.app`, `spec.cluster`); `metadata.name` is the target's name. A Windows desktop
//! (`WindowsDesktopV3`) carries the `windows_desktop_service` agent's `spec.host_id` itself.
//! Shapes from `api/proto/teleport/legacy/types/types.proto`.

use serde::Deserialize;

use super::mcp_app::McpCommand;
use super::{Metadata, de};

/// A `*_server` wrapper: the agent, and the target it serves (the field its kind uses is set).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TargetServer {
    /// `db_server`, `app_server`, `kube_server`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// Name (the target's), heartbeat expiry.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Agent and target.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: TargetServerSpec,
}

/// `spec` of a `*_server` wrapper.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TargetServerSpec {
    /// Teleport version of the agent.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Host name of the agent.
    #[serde(deserialize_with = "de::lenient_string")]
    pub hostname: String,
    /// Host UUID of the agent.
    #[serde(deserialize_with = "de::lenient_string")]
    pub host_id: String,
    /// `spec.database` of a `db_server`.
    #[serde(deserialize_with = "de::nullable")]
    pub database: Database,
    /// `spec.app` of an `app_server`.
    #[serde(deserialize_with = "de::nullable")]
    pub app: App,
    /// `spec.cluster` of a `kube_server`.
    #[serde(deserialize_with = "de::nullable")]
    pub cluster: KubeCluster,
}

/// A database (`DatabaseV3`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Database {
    /// Name, description, labels.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Protocol and URI.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: DatabaseSpec,
}

/// `DatabaseSpecV3` (the parts discovery shows).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DatabaseSpec {
    /// `postgres`, `mysql`, `mongodb`, …
    #[serde(deserialize_with = "de::lenient_string")]
    pub protocol: String,
    /// Where the agent connects; may carry credentials, so it is redacted before it is shown.
    #[serde(deserialize_with = "de::lenient_string")]
    pub uri: String,
}

/// An application (`AppV3`); MCP servers have `sub_kind: mcp`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct App {
    /// `mcp` for MCP servers, else empty.
    #[serde(deserialize_with = "de::lenient_string")]
    pub sub_kind: String,
    /// Name, description, labels.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// URI, public address, MCP launch settings.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: AppSpec,
}

/// `AppSpecV3` (the parts discovery shows).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AppSpec {
    /// `http(s)://`, `tcp://`, `mcp+http(s)://`, `mcp+sse+http(s)://`, `mcp+stdio://`, `cloud://`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub uri: String,
    /// Public address under the proxy.
    #[serde(deserialize_with = "de::lenient_string")]
    pub public_addr: String,
    /// `spec.mcp`: what a stdio MCP server runs.
    #[serde(deserialize_with = "de::nullable")]
    pub mcp: McpCommand,
}

/// A Kubernetes cluster (`KubernetesClusterV3`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct KubeCluster {
    /// Name, description, labels.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
}

/// A Windows desktop (`WindowsDesktopV3`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WindowsDesktop {
    /// Name, description, labels, heartbeat expiry.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Address, domain, serving agent.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: WindowsDesktopSpec,
}

/// `WindowsDesktopSpecV3`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WindowsDesktopSpec {
    /// `host:port` of RDP.
    #[serde(deserialize_with = "de::lenient_string")]
    pub addr: String,
    /// Active Directory domain (empty for non-AD hosts).
    #[serde(deserialize_with = "de::lenient_string")]
    pub domain: String,
    /// Host UUID of the `windows_desktop_service` agent that registered it.
    #[serde(deserialize_with = "de::lenient_string")]
    pub host_id: String,
    /// Not joined to a domain.
    #[serde(deserialize_with = "de::lenient_bool")]
    pub non_ad: bool,
}

/// `db_server`.
pub type DatabaseServer = TargetServer;
/// `app_server`.
pub type AppServer = TargetServer;
/// `kube_server`.
pub type KubeServer = TargetServer;
