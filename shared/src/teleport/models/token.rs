//! Join tokens (`ProvisionTokenV2`), printed by `tctl tokens ls`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Metadata, de};

/// A join token. For `join_method: token` the **name is the secret**.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProvisionToken {
    /// `token`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// `v2`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Name (the secret for `token`-method tokens) and expiry.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Roles and join method.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: ProvisionTokenSpec,
}

/// `ProvisionTokenSpecV2` (method-specific blocks are kept as raw JSON).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProvisionTokenSpec {
    /// System roles the token grants (`Node`, `Proxy`, `Bot`, …).
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// `token`, `ec2`, `iam`, `github`, … (empty means `token`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub join_method: String,
    /// Bot the token is for (`roles: [Bot]`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub bot_name: String,
    /// `allow` rules of the `ec2`/`iam` methods.
    #[serde(deserialize_with = "de::nullable")]
    pub allow: Vec<serde_json::Value>,
    /// Labels suggested to joining agents.
    #[serde(deserialize_with = "de::label_map")]
    pub suggested_labels: BTreeMap<String, Vec<String>>,
}

impl ProvisionToken {
    /// Whether the name is the join secret (`join_method` `token`, or unset on old tokens).
    pub fn name_is_secret(&self) -> bool {
        matches!(self.spec.join_method.as_str(), "" | "token")
    }
}
