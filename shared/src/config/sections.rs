//! The typed configuration sections and their defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::AuditConfig;
use crate::domain::{ActorKind, ToolName};

/// The whole configuration, shared by every binary (each reads the sections it needs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The single cluster of earlier releases (with `tsh`): cluster `default` when `clusters` is empty.
    pub teleport: TeleportConfig,
    pub tsh: TshConfig,
    /// Several Teleport clusters, each with its own identity; replaces `teleport`/`tsh`.
    pub clusters: Vec<super::ClusterConfig>,
    /// The cluster of a call that names none; default: the first of `clusters`.
    pub default_cluster: Option<String>,
    pub service: ServiceConfig,
    pub database: DatabaseConfig,
    pub policy: PolicyConfig,
    pub auth: AuthConfig,
    pub worker: WorkerConfig,
    pub coalescing: CoalescingConfig,
    pub reaper: ReaperConfig,
    pub leases: LeaseConfig,
    pub audit: AuditConfig,
    pub telemetry: TelemetryConfig,
    pub approvals: super::ApprovalsConfig,
    pub edge: super::EdgeConfig,
    pub console: super::ConsoleConfig,
}

/// How to reach Teleport and run `tctl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeleportConfig {
    /// Proxy (or auth) address, passed as `--proxy` to tsh and `--auth-server` to tctl.
    pub proxy: Option<String>,
    /// Identity file of the control plane's service identity (Machine ID output).
    pub identity_file: Option<PathBuf>,
    pub tctl_path: PathBuf,
    /// Longest time one CLI run may take before its process group is killed.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a run is stopped.
    #[serde(with = "humantime_serde")]
    pub kill_grace: Duration,
    /// Bytes kept per output stream of one run.
    pub output_limit_bytes: usize,
    /// Extra environment variables for the CLI (the environment is otherwise an allow-list).
    pub env: BTreeMap<String, String>,
    /// Names of worker environment variables passed through to the CLI.
    pub env_passthrough: Vec<String>,
}

impl Default for TeleportConfig {
    fn default() -> Self {
        Self {
            proxy: None,
            identity_file: None,
            tctl_path: "tctl".into(),
            timeout: Duration::from_secs(30),
            kill_grace: Duration::from_secs(3),
            output_limit_bytes: 4 * 1024 * 1024,
            env: BTreeMap::new(),
            env_passthrough: Vec::new(),
        }
    }
}

/// `tsh` location and the isolated profile directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TshConfig {
    pub tsh_path: PathBuf,
    /// Base of the isolated `TELEPORT_HOME`; each worker uses its own subdirectory.
    pub home: PathBuf,
}

impl Default for TshConfig {
    fn default() -> Self {
        Self { tsh_path: "tsh".into(), home: "/var/lib/mcp-teleport/home".into() }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

/// The gateway's HTTP listener and process-wide logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    pub host: String,
    pub port: u16,
    /// `error`, `warn`, `info`, `debug`, `trace` (case-insensitive), or a tracing filter.
    pub log_level: String,
    pub log_format: LogFormat,
    /// Host names clients use to reach the gateway (DNS-rebinding protection); loopback always allowed.
    pub allowed_hosts: Vec<String>,
    /// Public URL of the MCP endpoint, used in the OAuth protected-resource metadata.
    pub public_url: Option<String>,
    /// How long a tools/call waits for its operation before answering with the op id instead.
    #[serde(with = "humantime_serde")]
    pub call_budget: Duration,
    /// Interval of SSE keep-alive comments on a call's stream while it waits, so proxies and
    /// clients do not drop an idle stream.
    #[serde(with = "humantime_serde")]
    pub sse_keep_alive: Duration,
    /// Serve HTTPS instead of HTTP (and, with a client CA, accept client certificates).
    pub tls: Option<TlsConfig>,
    /// A connection must deliver each request's headers within this time (the first from when it
    /// connects, each next one from when the previous answer ends), else it is closed: a client
    /// that trickles a request line never holds a connection for long.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Connections the gateway holds open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Serve `/metrics` on this address instead of the MCP port (which then has no `/metrics`),
    /// e.g. to keep it off a public listener. Unset: `/metrics` on the MCP port.
    pub metrics_listen: Option<SocketAddr>,
}

/// The gateway's HTTPS: its certificate, and the CA whose client certificates authenticate the
/// audit ingest endpoint (Teleport's event-handler plugin authenticates only that way). A client
/// certificate never authenticates an MCP call: `/mcp` keeps its bearer credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain the gateway presents.
    pub cert: std::path::PathBuf,
    /// PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
    /// PEM CA certificate(s) that sign the ingest clients' certificates. Unset: no client
    /// certificate is asked for.
    pub client_ca: Option<std::path::PathBuf>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8000,
            log_level: "info".into(),
            log_format: LogFormat::Json,
            allowed_hosts: Vec::new(),
            public_url: None,
            call_budget: Duration::from_secs(60),
            sse_keep_alive: Duration::from_secs(15),
            tls: None,
            // Above the 60 s idle time of common proxies (ingress-nginx's upstream keep-alive, an AWS
            // ALB), which then close an idle connection first: the timer also ends idle keep-alives.
            header_read_timeout: Duration::from_secs(65),
            max_connections: 1024,
            metrics_listen: None,
        }
    }
}

/// OpenTelemetry trace export over OTLP/HTTP; off (no exporter at all) while `otlp_endpoint` is
/// unset and `enabled` is not true. Also read from `OTEL_ENABLED`, `OTEL_EXPORTER_OTLP_ENDPOINT` and
/// `OTEL_SERVICE_NAME`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// `true` exports (to `otlp_endpoint`, or OpenTelemetry's default `http://localhost:4318`),
    /// `false` never does even with an endpoint set; unset: export while `otlp_endpoint` is set.
    pub enabled: Option<bool>,
    /// Base URL of an OTLP/HTTP collector, e.g. `http://otel-collector:4318`; spans are posted to
    /// `<url>/v1/traces` (a URL that already ends in `/v1/traces` is used as it is).
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans; default: the binary's name (`mtcp-gateway`, …).
    pub service_name: Option<String>,
    /// Share of new traces that are recorded, 0.0 to 1.0. A call that arrives with a W3C
    /// `traceparent` follows its caller's sampling decision.
    pub sample_ratio: f64,
}

/// OpenTelemetry's default OTLP/HTTP endpoint, used when export is enabled without one.
pub const OTLP_DEFAULT_ENDPOINT: &str = "http://localhost:4318";

impl TelemetryConfig {
    /// The collector spans are exported to, or `None` when export is off.
    pub fn export_endpoint(&self) -> Option<&str> {
        match self.enabled {
            Some(false) => None,
            Some(true) => Some(self.otlp_endpoint.as_deref().unwrap_or(OTLP_DEFAULT_ENDPOINT)),
            None => self.otlp_endpoint.as_deref(),
        }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { enabled: None, otlp_endpoint: None, service_name: None, sample_ratio: 1.0 }
    }
}

/// Postgres connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user[:password]@host:port/db`; also read from `DATABASE_URL`. The seed's
    /// `postgresql+psycopg://…` (a SQLAlchemy driver URL) is accepted and read as `postgres://…`.
    #[serde(serialize_with = "ser_secret_opt")]
    pub url: Option<SecretString>,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: None, max_connections: 10, connect_timeout: Duration::from_secs(5) }
    }
}

// The defaults layer is serialized before the file is merged; a secret never has a default,
// so serializing it as absent is enough and keeps it out of any dump.
fn ser_secret_opt<S: serde::Serializer>(_: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// Policy switches and defaults (the seed's keys).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Policy file (YAML): custom roles, bindings, constraints. Reloaded on SIGHUP.
    pub path: Option<PathBuf>,
    pub allow_tsh_passthrough: bool,
    pub allow_tctl_passthrough: bool,
    pub default_proxy_ttl_seconds: u64,
    pub max_concurrent_proxies_per_actor: u32,
    /// Worker calls one actor may have queued or running at once, across all gateway replicas;
    /// 0: unlimited. The built-in `user` and `readonly` get a quarter (at least 1); a role's
    /// `constraints.max_in_flight_calls` overrides it.
    pub max_in_flight_calls_per_actor: u32,
    /// Calls per minute per actor for the built-in roles, across all gateway replicas; 0: unlimited.
    pub rate_limit_per_minute: u32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            path: None,
            allow_tsh_passthrough: false,
            allow_tctl_passthrough: false,
            default_proxy_ttl_seconds: 3600,
            max_concurrent_proxies_per_actor: 10,
            max_in_flight_calls_per_actor: 16,
            rate_limit_per_minute: 600,
        }
    }
}

/// Credentials accepted by the gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub api_keys: Vec<ApiKeyEntry>,
    /// Also accept keys managed with `mtcp keys` (table `api_keys`).
    pub database_keys: bool,
    /// OIDC/JWT bearer tokens; off when absent.
    pub oidc: Option<OidcConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { api_keys: Vec::new(), database_keys: true, oidc: None }
    }
}

/// JWT bearer tokens from an OIDC identity provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud` (one of, when the token carries several).
    pub audience: String,
    /// JWKS document URL (fetched at start and refreshed); or `jwks_file`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// JWKS document on disk; or `jwks_url`.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Accepted signature algorithms: RS256, ES256.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp`/`nbf`/`iat`.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: Duration,
    /// How often the JWKS is re-read; an unknown `kid` also triggers a (rate-limited) refresh.
    #[serde(default = "default_jwks_refresh", with = "humantime_serde")]
    pub jwks_refresh: Duration,
    /// Claim holding the actor id.
    #[serde(default = "default_actor_claim")]
    pub actor_claim: String,
    /// Claim holding a policy role name; when absent, policy bindings decide the role.
    #[serde(default)]
    pub role_claim: Option<String>,
    /// Claim holding the caller's groups (for policy bindings).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// A scope the token must carry (`scope` or `scp` claim); missing → 403.
    #[serde(default)]
    pub required_scope: Option<String>,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}
fn default_leeway() -> Duration {
    Duration::from_secs(60)
}
fn default_jwks_refresh() -> Duration {
    Duration::from_secs(600)
}
fn default_actor_claim() -> String {
    "sub".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}

/// An API key, stored as the hex SHA-256 of the key: the key itself is never in the config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    pub actor: String,
    /// The key's role; unset: the policy's bindings decide, then `operator` for a service key,
    /// then the policy file's `default_role`.
    #[serde(default)]
    pub role: Option<String>,
    pub sha256: String,
    #[serde(default = "default_kind")]
    pub kind: ActorKind,
}

fn default_kind() -> ActorKind {
    ActorKind::User
}

/// The worker pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Jobs one worker process runs at once.
    pub concurrency: usize,
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// Health and metrics listener.
    pub listen: SocketAddr,
    /// The clusters whose calls this worker runs (it must hold their identities); empty: all.
    pub clusters: Vec<String>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 8,
            heartbeat_interval: Duration::from_secs(5),
            listen: ([127, 0, 0, 1], 9101).into(),
            clusters: Vec::new(),
        }
    }
}

/// Identical concurrent reads share one run: a call of one of `tools` whose canonical arguments
/// match a call of the same tool already queued or running (under the same Teleport identity)
/// joins it instead of running the CLI again. Each caller keeps its own operation, decision and
/// rate-limit charge, and gets the same answer stamped with when it was produced (`as_of`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoalescingConfig {
    pub enabled: bool,
    /// Reads that may be coalesced; never a mutation, a passthrough, or a gateway-answered tool.
    pub tools: Vec<ToolName>,
}

impl Default for CoalescingConfig {
    fn default() -> Self {
        // The inventory reads: what an agent swarm polls, and what each costs the auth server.
        use ToolName::*;
        let tools = vec![
            ListNodes,
            ListUsers,
            ListRoles,
            ListCas,
            ListProxies,
            GetAuthPreference,
            ListDatabases,
            ListApps,
            ListMcpServers,
            ListKubeClusters,
            ListWindowsDesktops,
        ];
        Self { enabled: true, tools }
    }
}

impl CoalescingConfig {
    /// Whether calls of `tool` are coalesced.
    pub fn applies_to(&self, tool: ToolName) -> bool {
        self.enabled && self.tools.contains(&tool)
    }
}

/// The reaper.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReaperConfig {
    /// Time between sweeps.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// An agent silent for longer than this is marked offline.
    #[serde(with = "humantime_serde")]
    pub agent_offline_after: Duration,
    /// A lease no worker took within this time (no owner, still `starting`) is failed.
    #[serde(with = "humantime_serde")]
    pub lease_start_deadline: Duration,
    /// Finished operations and their events older than this are deleted.
    #[serde(with = "humantime_serde")]
    pub operations_retention: Duration,
    /// Ended leases and their logs older than this are deleted.
    #[serde(with = "humantime_serde")]
    pub leases_retention: Duration,
    /// Health and metrics listener.
    pub listen: SocketAddr,
}

impl Default for ReaperConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            agent_offline_after: Duration::from_secs(30),
            lease_start_deadline: Duration::from_secs(120),
            operations_retention: Duration::from_secs(90 * 24 * 3600),
            leases_retention: Duration::from_secs(30 * 24 * 3600),
            listen: ([127, 0, 0, 1], 9102).into(),
        }
    }
}

/// Proxy leases: how their processes are started, watched and stopped by the worker that owns them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaseConfig {
    /// How long a starting `tsh proxy`/`tsh vnet` may take to print its startup line.
    #[serde(with = "humantime_serde")]
    pub start_timeout: Duration,
    /// Time between SIGTERM and SIGKILL of a lease's process group when it is stopped.
    #[serde(with = "humantime_serde")]
    pub stop_grace: Duration,
    /// How often the owner records that each of its leases is alive.
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// How often the owner compares its processes with the `leases` table (the safety net behind
    /// the stop notifications).
    #[serde(with = "humantime_serde")]
    pub reconcile_interval: Duration,
    /// Log lines kept per lease (`get_proxy_logs`); older lines are deleted.
    pub log_lines_kept: u32,
    /// Simultaneous connections a `proxy_ssh` lease bridges (one `tsh proxy ssh` each).
    pub max_ssh_connections: u32,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        Self {
            start_timeout: Duration::from_secs(20),
            stop_grace: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(5),
            reconcile_interval: Duration::from_secs(5),
            log_lines_kept: 500,
            max_ssh_connections: 16,
        }
    }
}
