//! Views of certificate authorities: key counts and rotation state with warnings. No key
//! material, public or private, is ever part of a view.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{seconds, to_second};
use crate::teleport::duration::format_go_duration;
use crate::teleport::models::{CaKeySet, CertAuthority};

/// The certificate authorities of the cluster (and of trusted clusters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaList {
    /// Number of CAs.
    pub count: usize,
    /// CAs with at least one warning.
    pub with_warnings: usize,
    /// The CAs, by cluster then type.
    pub cas: Vec<CaView>,
}

/// One certificate authority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaView {
    /// CA type: `host`, `user`, `db`, `db_client`, `openssh`, `jwt`, `saml_idp`, `oidc_idp`, `spiffe`, ….
    #[serde(rename = "type")]
    pub ca_type: String,
    /// Cluster the CA belongs to.
    pub cluster: String,
    /// Number of keys in use.
    pub active_keys: KeyCounts,
    /// Number of extra keys trusted during a rotation.
    pub additional_trusted_keys: KeyCounts,
    /// Rotation state; absent when Teleport reports none.
    pub rotation: Option<RotationView>,
    /// Problems worth attention (rotation stuck or in progress, never rotated).
    pub warnings: Vec<String>,
}

/// Key counts per protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyCounts {
    /// SSH keys.
    pub ssh: usize,
    /// TLS keys.
    pub tls: usize,
    /// JWT keys.
    pub jwt: usize,
}

/// Rotation state of a CA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RotationView {
    /// `standby` or `in_progress`.
    pub state: String,
    /// `init`, `standby`, `update_clients`, `update_servers`, `rollback`.
    pub phase: String,
    /// `auto` or `manual`.
    pub mode: String,
    /// When the current or last rotation started.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub started: Option<DateTime<Utc>>,
    /// How long old credentials stay valid during a rotation, in seconds.
    pub grace_period_seconds: Option<u64>,
    /// When the CA was last rotated; absent if never.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub last_rotated: Option<DateTime<Utc>>,
    /// Seconds since the running rotation started (absent when none is in progress).
    pub age_seconds: Option<u64>,
    /// A rotation in progress has outlived its grace period.
    pub past_grace_period: bool,
}

impl CaList {
    /// Builds the view; `now` decides whether a rotation overran its grace period.
    pub fn build(cas: &[CertAuthority], now: DateTime<Utc>) -> CaList {
        let mut cas: Vec<CaView> = cas.iter().map(|ca| CaView::build(ca, now)).collect();
        cas.sort_by(|a, b| a.cluster.cmp(&b.cluster).then_with(|| a.ca_type.cmp(&b.ca_type)));
        CaList { count: cas.len(), with_warnings: cas.iter().filter(|c| !c.warnings.is_empty()).count(), cas }
    }
}

impl CaView {
    fn build(ca: &CertAuthority, now: DateTime<Utc>) -> CaView {
        let spec = &ca.spec;
        CaView {
            warnings: rotation_warnings(ca, now),
            ca_type: ca.ca_type().to_owned(),
            cluster: ca.cluster().to_owned(),
            active_keys: counts(&spec.active_keys),
            additional_trusted_keys: counts(&spec.additional_trusted_keys),
            rotation: spec.rotation.as_ref().map(|r| RotationView {
                state: r.state.clone(),
                phase: r.phase.clone(),
                mode: r.mode.clone(),
                started: to_second(r.started),
                grace_period_seconds: seconds(r.grace_period),
                last_rotated: to_second(r.last_rotated),
                age_seconds: r
                    .started
                    .filter(|_| r.in_progress())
                    .and_then(|s| (now - s).to_std().ok())
                    .map(|d| d.as_secs()),
                past_grace_period: r.overran_grace(now),
            }),
        }
    }
}

fn counts(keys: &CaKeySet) -> KeyCounts {
    KeyCounts { ssh: keys.ssh.len(), tls: keys.tls.len(), jwt: keys.jwt.len() }
}

fn rotation_warnings(ca: &CertAuthority, now: DateTime<Utc>) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(r) = ca.spec.rotation.as_ref().filter(|r| r.in_progress()) {
        let started = r.started.map(|s| format!(", started {}", s.to_rfc3339())).unwrap_or_default();
        warnings.push(format!(
            "rotation in progress (phase {}, mode {}{started})",
            or_unknown(&r.phase),
            or_unknown(&r.mode)
        ));
        if let (true, Some(started), Some(grace)) = (r.overran_grace(now), r.started, r.grace_period) {
            warnings.push(format!(
                "rotation in progress past its grace period ({} since {}): complete or roll it back",
                format_go_duration(grace),
                started.to_rfc3339()
            ));
        }
    }
    if ca.never_rotated() {
        warnings.push("never rotated".to_owned());
    }
    warnings
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "unknown" } else { s }
}
