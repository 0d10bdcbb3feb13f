//! Certificate authorities (`CertAuthorityV2`), printed by `tctl get cert_authorities`. Private
//! key fields are never deserialized; public material is kept only to count keys.

use serde::Deserialize;

use super::{Metadata, Rotation, de};

/// A certificate authority of one type (`host`, `user`, `db`, …) of one cluster.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CertAuthority {
    /// `cert_authority`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// Equals `spec.type`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub sub_kind: String,
    /// `v2`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Name (the cluster name).
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Type, keys, rotation.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: CertAuthoritySpec,
}

/// `CertAuthoritySpecV2`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CertAuthoritySpec {
    /// CA type.
    #[serde(rename = "type", deserialize_with = "de::lenient_string")]
    pub ca_type: String,
    /// Owning cluster.
    #[serde(deserialize_with = "de::lenient_string")]
    pub cluster_name: String,
    /// Keys in use.
    #[serde(deserialize_with = "de::nullable")]
    pub active_keys: CaKeySet,
    /// Keys still trusted during a rotation.
    #[serde(deserialize_with = "de::nullable")]
    pub additional_trusted_keys: CaKeySet,
    /// Rotation state (may be absent).
    #[serde(deserialize_with = "de::nullable")]
    pub rotation: Option<Rotation>,
    /// Roles (user CAs of trusted clusters).
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// Role map (user CAs of trusted clusters).
    #[serde(deserialize_with = "de::nullable")]
    pub role_map: Vec<RoleMapping>,
}

/// `CAKeySet`: key entries by protocol. Only their presence is modelled.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CaKeySet {
    /// SSH key pairs.
    #[serde(deserialize_with = "de::nullable")]
    pub ssh: Vec<KeyEntry>,
    /// TLS key pairs.
    #[serde(deserialize_with = "de::nullable")]
    pub tls: Vec<KeyEntry>,
    /// JWT key pairs.
    #[serde(deserialize_with = "de::nullable")]
    pub jwt: Vec<KeyEntry>,
}

/// One key pair; every field (public key, certificate, private key) is deliberately ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KeyEntry {}

/// A trusted-cluster role mapping.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RoleMapping {
    /// Remote role (may be a pattern).
    #[serde(deserialize_with = "de::lenient_string")]
    pub remote: String,
    /// Local roles.
    #[serde(deserialize_with = "de::string_list")]
    pub local: Vec<String>,
}

impl CaKeySet {
    /// Number of key entries across protocols.
    pub fn total(&self) -> usize {
        self.ssh.len() + self.tls.len() + self.jwt.len()
    }
}

impl CertAuthority {
    /// CA type (`host`, `user`, …), from `spec.type` or, when empty, `sub_kind`.
    pub fn ca_type(&self) -> &str {
        if self.spec.ca_type.is_empty() { &self.sub_kind } else { &self.spec.ca_type }
    }

    /// Owning cluster, from `spec.cluster_name` or, when empty, the resource name.
    pub fn cluster(&self) -> &str {
        if self.spec.cluster_name.is_empty() { &self.metadata.name } else { &self.spec.cluster_name }
    }

    /// No rotation was ever completed: no rotation block, or no `last_rotated` time.
    pub fn never_rotated(&self) -> bool {
        self.spec.rotation.as_ref().is_none_or(|r| r.last_rotated.is_none())
    }
}
