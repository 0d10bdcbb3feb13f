//! The audit sections of the configuration: ingest credentials and limits, retention, and the
//! thresholds of `detect_audit_anomalies`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The audit plane: ingestion, retention and anomaly thresholds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Credentials of the ingest endpoint (`POST /audit/ingest`), as SHA-256 like API keys: a
    /// dedicated credential, never an MCP user's key.
    pub ingest_keys: Vec<IngestKey>,
    /// Largest accepted ingest body.
    pub max_body_bytes: usize,
    /// How long an authenticated sender may take to send its body once the headers are in; a
    /// sender that stalls is answered 408 and its connection closed.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Ingest bodies read at once. What senders can make the gateway hold is bounded by this times
    /// `max_body_bytes`; one over it is answered 503 with a retry hint (the plugin retries).
    pub max_concurrent_bodies: usize,
    /// Events older than this are deleted by the reaper.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    pub anomalies: AnomalyThresholds,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            ingest_keys: Vec::new(),
            max_body_bytes: 8 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            max_concurrent_bodies: 4,
            retention: Duration::from_secs(90 * 24 * 3600),
            anomalies: AnomalyThresholds::default(),
        }
    }
}

/// An ingest credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestKey {
    /// Who sends with it, e.g. `teleport-event-handler-prod`.
    pub name: String,
    pub sha256: String,
}

/// Thresholds of `detect_audit_anomalies`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyThresholds {
    /// An event type's rate in an hour at least this many times its baseline (the median hourly
    /// rate of the window) is a storm…
    pub storm_factor: f64,
    /// …when the hour also has at least this many events of that type.
    pub storm_min_events: u32,
    /// Failed logins of one user or from one address within `brute_force_window`.
    pub brute_force_failures: u32,
    #[serde(with = "humantime_serde")]
    pub brute_force_window: Duration,
    /// Role create/update/delete events within `role_change_window`.
    pub role_change_burst: u32,
    #[serde(with = "humantime_serde")]
    pub role_change_window: Duration,
    /// Business hours as `HH-HH` in UTC (e.g. `8-18`); approvals outside them are flagged. None: off.
    pub business_hours_utc: Option<String>,
    /// Refused MCP tool calls (`mcp.session.request`, `TMCP003E`, `tools/call`) of one user within
    /// `mcp_denied_window`.
    pub mcp_denied_calls: u32,
    #[serde(with = "humantime_serde")]
    pub mcp_denied_window: Duration,
    /// Distinct MCP servers (`app_name`) one user reaches in the analysed window.
    pub mcp_distinct_servers: u32,
    /// MCP session addresses of this long before the window are known; a session from another is new.
    #[serde(with = "humantime_serde")]
    pub mcp_address_baseline: Duration,
}

impl Default for AnomalyThresholds {
    fn default() -> Self {
        Self {
            storm_factor: 5.0,
            storm_min_events: 50,
            brute_force_failures: 10,
            brute_force_window: Duration::from_secs(600),
            role_change_burst: 5,
            role_change_window: Duration::from_secs(600),
            business_hours_utc: None,
            mcp_denied_calls: 5,
            mcp_denied_window: Duration::from_secs(600),
            mcp_distinct_servers: 5,
            mcp_address_baseline: Duration::from_secs(7 * 24 * 3600),
        }
    }
}
