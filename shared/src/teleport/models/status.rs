//! `tctl status`: cluster name, version, CA pins and per-authority key status (the JSON of 19.x's
//! `--format=json`, and what [`crate::teleport::status_text`] reads from the text of every release).

use serde::Deserialize;

use super::{Rotation, de};

/// The whole `tctl status` object.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ClusterStatus {
    /// Cluster identity.
    #[serde(deserialize_with = "de::nullable")]
    pub cluster: ClusterInfo,
    /// One entry per CA type.
    #[serde(deserialize_with = "de::nullable")]
    pub authorities: Vec<AuthorityStatus>,
}

/// `cluster`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    /// Cluster name.
    #[serde(deserialize_with = "de::lenient_string")]
    pub name: String,
    /// Auth Service version.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// `sha256:…` CA pins.
    #[serde(deserialize_with = "de::string_list")]
    pub ca_pins: Vec<String>,
}

/// One authority.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthorityStatus {
    /// Owning cluster.
    #[serde(deserialize_with = "de::lenient_string")]
    pub cluster_name: String,
    /// CA type.
    #[serde(rename = "type", deserialize_with = "de::lenient_string")]
    pub ca_type: String,
    /// Rotation state.
    #[serde(deserialize_with = "de::nullable")]
    pub rotation: Option<Rotation>,
    /// Keys.
    #[serde(deserialize_with = "de::nullable")]
    pub keys: Vec<AuthorityKey>,
}

/// One key of an authority.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthorityKey {
    /// `SSH`, `TLS`, `JWT`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub protocol: String,
    /// `active` or `trusted`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub status: String,
    /// e.g. `Ed25519`, `ECDSA P-256`, `RSA 2048`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub algorithm: String,
    /// `software`, `PKCS#11 HSM`, `GCP KMS`, `AWS KMS`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub storage: String,
}
