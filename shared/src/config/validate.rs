//! Checks that serde cannot express, each failing with the key's name.

use std::collections::HashSet;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Config, ConfigError};
use crate::policy::BUILTIN_ROLES;

fn invalid(key: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("`{key}`: {problem}"))
}

/// Driver-qualified schemes (SQLAlchemy's `dialect+driver://`, as in the seed's example) that name
/// plain PostgreSQL; they are read as `postgres://`.
const DRIVER_SCHEMES: [&str; 4] =
    ["postgresql+psycopg://", "postgresql+psycopg2://", "postgresql+asyncpg://", "postgres+psycopg://"];

impl Config {
    /// Rewrite values that have an equivalent canonical form: a `postgresql+<driver>://` URL becomes
    /// `postgres://`, the only form the database driver reads.
    pub(super) fn normalise(&mut self) {
        if let Some(url) = &self.database.url {
            let url = url.expose_secret();
            if let Some(rest) = DRIVER_SCHEMES.iter().find_map(|s| url.strip_prefix(s)) {
                self.database.url = Some(secrecy::SecretString::from(format!("postgres://{rest}")));
            }
        }
    }

    /// Validate values that parsed but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_coalescing()?;
        self.validate_edge()?;
        self.validate_console()?;
        if self.audit.body_read_timeout.is_zero() {
            return Err(invalid("audit.body_read_timeout", "must be greater than zero, e.g. \"30s\""));
        }
        if self.audit.max_concurrent_bodies == 0 {
            return Err(invalid("audit.max_concurrent_bodies", "must be at least 1"));
        }
        self.validate_clusters()?;
        let s = &self.service;
        tracing_subscriber::EnvFilter::try_new(&s.log_level)
            .map_err(|e| invalid("service.log_level", format!("{:?}: {e}", s.log_level)))?;
        if s.call_budget.is_zero() {
            return Err(invalid("service.call_budget", "must be greater than zero"));
        }
        if s.sse_keep_alive.is_zero() {
            return Err(invalid("service.sse_keep_alive", "must be greater than zero, e.g. \"15s\""));
        }
        if s.header_read_timeout.is_zero() {
            return Err(invalid("service.header_read_timeout", "must be greater than zero, e.g. \"10s\""));
        }
        if s.max_connections == 0 {
            return Err(invalid("service.max_connections", "must be at least 1, e.g. 1024"));
        }
        // The same port on an overlapping address would fail to bind with a less clear error.
        let overlaps = |ip: std::net::IpAddr| {
            ip.is_unspecified() || ip.to_string() == s.host || matches!(s.host.as_str(), "0.0.0.0" | "::")
        };
        if let Some(listen) = s.metrics_listen
            && listen.port() != 0
            && listen.port() == s.port
            && overlaps(listen.ip())
        {
            return Err(invalid(
                "service.metrics_listen",
                format!("{listen} is the MCP listener's own address; name another port, or leave it unset"),
            ));
        }
        if let Some(url) = &self.database.url {
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "database.url",
                    "must start with postgres://, postgresql:// or postgresql+psycopg://",
                ));
            }
        }
        if self.database.max_connections < 2 {
            return Err(invalid("database.max_connections", "must be at least 2 (one is held for LISTEN)"));
        }
        let l = &self.leases;
        for (key, d) in [
            ("leases.start_timeout", l.start_timeout),
            ("leases.heartbeat_interval", l.heartbeat_interval),
            ("leases.reconcile_interval", l.reconcile_interval),
        ] {
            if d.is_zero() {
                return Err(invalid(key, "must be greater than zero"));
            }
        }
        if l.heartbeat_interval * 2 >= self.reaper.agent_offline_after {
            return Err(invalid(
                "leases.heartbeat_interval",
                "must be less than half of reaper.agent_offline_after, or live leases look orphaned",
            ));
        }
        if l.log_lines_kept == 0 || l.log_lines_kept > 100_000 {
            return Err(invalid("leases.log_lines_kept", "must be between 1 and 100000"));
        }
        if l.max_ssh_connections == 0 {
            return Err(invalid("leases.max_ssh_connections", "must be at least 1"));
        }
        if self.reaper.lease_start_deadline <= l.start_timeout {
            return Err(invalid("reaper.lease_start_deadline", "must be longer than leases.start_timeout"));
        }
        if self.policy.default_proxy_ttl_seconds == 0 {
            return Err(invalid("policy.default_proxy_ttl_seconds", "must be greater than zero"));
        }
        self.validate_keys()?;
        self.validate_oidc()?;
        if self.worker.concurrency == 0 {
            return Err(invalid("worker.concurrency", "must be at least 1"));
        }
        if self.worker.heartbeat_interval.is_zero() {
            return Err(invalid("worker.heartbeat_interval", "must be greater than zero"));
        }
        if self.reaper.agent_offline_after <= self.worker.heartbeat_interval * 2 {
            return Err(invalid(
                "reaper.agent_offline_after",
                "must be more than twice worker.heartbeat_interval, or healthy workers are marked offline",
            ));
        }
        if self.reaper.interval.is_zero() {
            return Err(invalid("reaper.interval", "must be greater than zero"));
        }
        self.validate_telemetry()?;
        self.validate_approvals()
    }

    fn validate_approvals(&self) -> Result<(), ConfigError> {
        let a = &self.approvals;
        if let Some(hook) = &a.webhook {
            // The URL is a secret (Slack's carry their token): no message may quote it.
            let parsed = url::Url::parse(hook.url.expose_secret()).ok();
            let loopback = |u: &url::Url| match u.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            let acceptable = parsed.as_ref().is_some_and(|u| {
                u.host().is_some() && (u.scheme() == "https" || (u.scheme() == "http" && loopback(u)))
            });
            if !acceptable {
                return Err(invalid(
                    "approvals.webhook.url",
                    "must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost); \
                     its value is not shown, as it may carry a secret",
                ));
            }
            let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
            if !(min..=max).contains(&hook.timeout) {
                return Err(invalid("approvals.webhook.timeout", "must be between 1s and 60s"));
            }
            if !(1..=50).contains(&hook.max_attempts) {
                return Err(invalid("approvals.webhook.max_attempts", "must be between 1 and 50"));
            }
            if !(Duration::from_millis(100)..=max).contains(&hook.retry_backoff) {
                return Err(invalid("approvals.webhook.retry_backoff", "must be between 100ms and 60s"));
            }
        }
        if let Some(approve) = &a.approve_url {
            let http =
                url::Url::parse(approve).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !http {
                return Err(invalid(
                    "approvals.approve_url",
                    format!("{approve:?} is not an http(s) URL, e.g. https://mtcp.example.com/approvals/{{op_id}}"),
                ));
            }
        }
        Ok(())
    }

    fn validate_console(&self) -> Result<(), ConfigError> {
        let c = &self.console;
        if !(Duration::from_secs(60)..=Duration::from_secs(7 * 24 * 3600)).contains(&c.session_ttl) {
            return Err(invalid("console.session_ttl", "must be between 1m and 7d, e.g. \"8h\""));
        }
        if let Some(decoded) = c.cookie_key_bytes()
            && decoded.map_or(true, |k| k.len() < 32)
        {
            return Err(invalid(
                "console.cookie_key",
                "must be at least 32 random bytes in base64 (e.g. `openssl rand -base64 48`); its value is not shown",
            ));
        }
        if let Some(oidc) = &c.oidc {
            if self.auth.oidc.is_none() {
                return Err(invalid(
                    "console.oidc",
                    "needs `auth.oidc`: the console checks the access token it gets like a bearer JWT",
                ));
            }
            if oidc.client_id.trim().is_empty() {
                return Err(invalid("console.oidc.client_id", "must not be empty"));
            }
            for (key, value) in [
                ("console.oidc.authorization_endpoint", &oidc.authorization_endpoint),
                ("console.oidc.token_endpoint", &oidc.token_endpoint),
                ("console.oidc.redirect_url", &oidc.redirect_url),
            ] {
                let ok = url::Url::parse(value).is_ok_and(|u| {
                    u.host().is_some() && (u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)))
                });
                if !ok {
                    return Err(invalid(
                        key,
                        format!("{value:?} must be an https:// URL (http:// only to a loopback address)"),
                    ));
                }
            }
            if !oidc.redirect_url.ends_with("/console/oidc/callback") {
                return Err(invalid("console.oidc.redirect_url", "must be this gateway's `/console/oidc/callback`"));
            }
        }
        Ok(())
    }

    fn validate_edge(&self) -> Result<(), ConfigError> {
        let e = &self.edge;
        if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&e.poll_wait) {
            return Err(invalid("edge.poll_wait", "must be between 1s and 5m (below your proxies' idle timeout)"));
        }
        // Heartbeats must come well within the reaper's silence threshold, or healthy agents'
        // leases would be failed as lost.
        if let Some(h) = e.heartbeat_interval
            && (h.is_zero() || h * 2 > self.reaper.agent_offline_after)
        {
            return Err(invalid(
                "edge.heartbeat_interval",
                "must be above zero and at most half of `reaper.agent_offline_after`",
            ));
        }
        if e.fail_closed_after < e.heartbeat(self.reaper.agent_offline_after) * 2 {
            return Err(invalid("edge.fail_closed_after", "must be at least two `edge.heartbeat_interval`s"));
        }
        Ok(())
    }

    fn validate_coalescing(&self) -> Result<(), ConfigError> {
        use crate::domain::{Capability, Execution};
        for tool in &self.coalescing.tools {
            let spec = tool.spec();
            let why = if matches!(spec.capability, Capability::PassthroughTctl | Capability::PassthroughTsh) {
                "is a passthrough: its commands are the caller's own"
            } else if spec.mutating {
                "changes Teleport: every call of it must run"
            } else if spec.execution != Execution::Worker {
                "is answered by the gateway, which runs no CLI for it"
            } else {
                continue;
            };
            return Err(invalid("coalescing.tools", format!("{tool} cannot be coalesced: it {why}")));
        }
        Ok(())
    }

    fn validate_telemetry(&self) -> Result<(), ConfigError> {
        let t = &self.telemetry;
        if let Some(url) = &t.otlp_endpoint {
            let host = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
            if host.is_none_or(|h| h.is_empty() || h.starts_with('/') || h.chars().any(char::is_whitespace)) {
                return Err(invalid(
                    "telemetry.otlp_endpoint",
                    format!("{url:?} is not an http(s) URL of an OTLP/HTTP collector, e.g. http://otel-collector:4318"),
                ));
            }
        }
        if t.service_name.as_ref().is_some_and(|n| n.trim().is_empty()) {
            return Err(invalid("telemetry.service_name", "must not be empty (leave it unset for the binary's name)"));
        }
        if !(0.0..=1.0).contains(&t.sample_ratio) {
            return Err(invalid("telemetry.sample_ratio", "must be between 0.0 and 1.0"));
        }
        Ok(())
    }

    fn validate_keys(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        for (i, key) in self.auth.api_keys.iter().enumerate() {
            let at = |field: &str| format!("auth.api_keys[{i}].{field}");
            // A plain, unreserved name: JWT subjects and the control plane's own records live in
            // other namespaces, so no other credential can ever act as this key's actor.
            if let Some(problem) = crate::domain::api_key_actor_problem(&key.actor) {
                return Err(invalid(&at("actor"), problem));
            }
            // Whether the role exists is checked against the effective policy (built-in roles plus
            // the policy file) when the gateway starts.
            let well_formed = |role: &str| {
                !role.is_empty()
                    && role.len() <= 64
                    && role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            };
            if let Some(role) = key.role.as_deref().filter(|r| !well_formed(r)) {
                return Err(invalid(
                    &at("role"),
                    format!("{role:?} is not a role name; built-in roles are {}", BUILTIN_ROLES.join(", ")),
                ));
            }
            let hash = key.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(
                    &at("sha256"),
                    "must be the 64 hex digits of sha256(key), e.g. `printf %s \"$KEY\" | sha256sum`",
                ));
            }
            if !seen.insert(hash) {
                return Err(invalid(&at("sha256"), "the same key is listed twice"));
            }
        }
        Ok(())
    }

    fn validate_oidc(&self) -> Result<(), ConfigError> {
        let Some(o) = &self.auth.oidc else { return Ok(()) };
        if o.issuer.trim().is_empty() {
            return Err(invalid("auth.oidc.issuer", "must be the issuer URL your identity provider puts in `iss`"));
        }
        if o.audience.trim().is_empty() {
            return Err(invalid("auth.oidc.audience", "must be the audience tokens are issued for"));
        }
        match (&o.jwks_url, &o.jwks_file) {
            (Some(_), Some(_)) => return Err(invalid("auth.oidc.jwks_url", "set jwks_url or jwks_file, not both")),
            (None, None) => return Err(invalid("auth.oidc.jwks_url", "set jwks_url or jwks_file")),
            (Some(url), None) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                return Err(invalid("auth.oidc.jwks_url", format!("{url:?} is not an http(s) URL")));
            }
            _ => {}
        }
        if o.algorithms.is_empty() {
            return Err(invalid("auth.oidc.algorithms", "list at least one of RS256, ES256"));
        }
        if let Some(bad) = o.algorithms.iter().find(|a| !matches!(a.as_str(), "RS256" | "ES256")) {
            return Err(invalid("auth.oidc.algorithms", format!("{bad:?} is not supported; use RS256 or ES256")));
        }
        if o.jwks_refresh < std::time::Duration::from_secs(10) {
            return Err(invalid("auth.oidc.jwks_refresh", "must be at least 10s"));
        }
        if o.actor_claim.trim().is_empty() {
            return Err(invalid("auth.oidc.actor_claim", "must name a claim, e.g. sub or email"));
        }
        Ok(())
    }

    /// The database URL, or an error saying where to set it.
    pub fn database_url(&self) -> Result<&str, ConfigError> {
        self.database
            .url
            .as_ref()
            .map(|u| u.expose_secret())
            .ok_or_else(|| invalid("database.url", "is not set (set it in config.yaml or DATABASE_URL)"))
    }
}

/// Whether a URL's host is a loopback address (plain http is accepted only there).
fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The checks of one cluster's CLI settings (`key`: the section they came from).
pub(super) fn validate_cli(
    key: &str,
    proxy: &Option<String>,
    timeout: Duration,
    output_limit_bytes: usize,
    env: &std::collections::BTreeMap<String, String>,
    env_passthrough: &[String],
) -> Result<(), ConfigError> {
    if timeout.is_zero() {
        return Err(invalid(&format!("{key}.timeout"), "must be greater than zero, e.g. \"30s\""));
    }
    if output_limit_bytes < 1024 {
        return Err(invalid(&format!("{key}.output_limit_bytes"), "must be at least 1024"));
    }
    for name in env.keys().chain(env_passthrough.iter()) {
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(invalid(&format!("{key}.env"), format!("{name:?} is not an environment variable name")));
        }
        // Debug output turns errors into stack traces with internals; never let it reach a run.
        if name == "TELEPORT_DEBUG" {
            return Err(invalid(&format!("{key}.env"), "TELEPORT_DEBUG may not be set for the CLI"));
        }
    }
    if let Some(proxy) = proxy
        && (proxy.is_empty() || proxy.starts_with('-') || proxy.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(invalid(&format!("{key}.proxy"), format!("{proxy:?} is not a host:port address")));
    }
    Ok(())
}
