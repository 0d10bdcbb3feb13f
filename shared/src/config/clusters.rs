//! Several Teleport clusters: the `clusters:` list, `default_cluster`, and the legacy single
//! `teleport:`/`tsh:` sections read as one cluster named `default`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError, TeleportConfig, TshConfig};

/// The name the legacy `teleport:`/`tsh:` sections are known by.
pub const LEGACY_CLUSTER: &str = "default";

/// One Teleport cluster the control plane speaks to, with the identity it speaks as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// The control plane's name for it: what a tool's `cluster` argument, a policy rule and a
    /// worker's `worker.clusters` say. Lowercase letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// Proxy (or auth) address, passed as `--proxy` to tsh and `--auth-server` to tctl.
    pub proxy: Option<String>,
    /// Identity file of the control plane's identity in this cluster (Machine ID output).
    pub identity_file: Option<PathBuf>,
    pub tctl_path: PathBuf,
    pub tsh_path: PathBuf,
    /// Base of the isolated `TELEPORT_HOME`; each worker uses its own subdirectory.
    pub home: PathBuf,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub kill_grace: Duration,
    pub output_limit_bytes: usize,
    pub env: BTreeMap<String, String>,
    pub env_passthrough: Vec<String>,
    /// The cluster's own name in Teleport (`cluster_name` of its audit events); default: `name`.
    pub teleport_name: Option<String>,
    /// A leaf cluster reached through `proxy` with the root cluster's identity: tsh is given
    /// `--cluster <teleport_name>`. tctl has no such flag, so tctl-based tools refuse to run here.
    pub leaf: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig::from_legacy(&TeleportConfig::default(), &TshConfig::default())
    }
}

impl ClusterConfig {
    /// The legacy `teleport:` and `tsh:` sections as one cluster named [`LEGACY_CLUSTER`].
    pub fn from_legacy(t: &TeleportConfig, tsh: &TshConfig) -> Self {
        Self {
            name: LEGACY_CLUSTER.into(),
            proxy: t.proxy.clone(),
            identity_file: t.identity_file.clone(),
            tctl_path: t.tctl_path.clone(),
            tsh_path: tsh.tsh_path.clone(),
            home: tsh.home.clone(),
            timeout: t.timeout,
            kill_grace: t.kill_grace,
            output_limit_bytes: t.output_limit_bytes,
            env: t.env.clone(),
            env_passthrough: t.env_passthrough.clone(),
            teleport_name: None,
            leaf: false,
        }
    }

    /// The name Teleport itself uses for the cluster.
    pub fn teleport_name(&self) -> &str {
        self.teleport_name.as_deref().unwrap_or(&self.name)
    }

    /// The `cluster_name` its audit events carry, to tell them from other clusters' events; `None`
    /// for the one cluster of the single-cluster sections, whose events are all of it whatever
    /// name Teleport gave it.
    pub fn audit_name(&self) -> Option<&str> {
        let legacy = self.name == LEGACY_CLUSTER && self.teleport_name.is_none();
        (!legacy).then(|| self.teleport_name())
    }
}

/// Whether `name` may name a cluster: 1–63 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn cluster_name_problem(name: &str) -> Option<&'static str> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    (!ok).then_some("a cluster name is 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
}

impl Config {
    /// Every configured cluster, in the order given (the legacy sections: one, `default`).
    pub fn clusters(&self) -> Vec<ClusterConfig> {
        if self.clusters.is_empty() {
            vec![ClusterConfig::from_legacy(&self.teleport, &self.tsh)]
        } else {
            self.clusters.clone()
        }
    }

    /// The cluster a call that names none goes to.
    pub fn default_cluster(&self) -> String {
        match (&self.default_cluster, self.clusters.first()) {
            (Some(name), _) => name.clone(),
            (None, Some(first)) => first.name.clone(),
            (None, None) => LEGACY_CLUSTER.into(),
        }
    }

    /// Whether a cluster called `name` is configured.
    pub fn has_cluster(&self, name: &str) -> bool {
        if self.clusters.is_empty() { name == LEGACY_CLUSTER } else { self.clusters.iter().any(|c| c.name == name) }
    }

    /// The proxy and identity file a call on cluster `name` runs with (without copying the rest).
    pub fn identity_of(&self, name: &str) -> Option<(Option<&str>, Option<&std::path::Path>)> {
        if self.clusters.is_empty() {
            let t = &self.teleport;
            (name == LEGACY_CLUSTER).then_some((t.proxy.as_deref(), t.identity_file.as_deref()))
        } else {
            self.clusters.iter().find(|c| c.name == name).map(|c| (c.proxy.as_deref(), c.identity_file.as_deref()))
        }
    }

    /// The cluster called `name`.
    pub fn cluster(&self, name: &str) -> Option<ClusterConfig> {
        if self.clusters.is_empty() {
            (name == LEGACY_CLUSTER).then(|| ClusterConfig::from_legacy(&self.teleport, &self.tsh))
        } else {
            self.clusters.iter().find(|c| c.name == name).cloned()
        }
    }

    /// The clusters a worker of this configuration serves (`worker.clusters`; empty: all).
    pub fn worker_clusters(&self) -> Vec<ClusterConfig> {
        let all = self.clusters();
        if self.worker.clusters.is_empty() {
            return all;
        }
        all.into_iter().filter(|c| self.worker.clusters.contains(&c.name)).collect()
    }

    pub(super) fn validate_clusters(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String| ConfigError::Invalid(format!("`{key}`: {problem}"));
        if !self.clusters.is_empty() {
            // Both forms at once would leave one silently unused.
            let legacy = &self.teleport;
            if legacy.proxy.is_some() || legacy.identity_file.is_some() {
                return Err(invalid(
                    "teleport",
                    "`clusters:` is set, so `teleport.proxy` and `teleport.identity_file` (or TELEPORT_IDENTITY_FILE) \
                     would be ignored; move them into a `clusters:` entry"
                        .into(),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.clusters.iter().enumerate() {
            let key = format!("clusters[{i}]");
            if let Some(problem) = cluster_name_problem(&c.name) {
                return Err(invalid(&format!("{key}.name"), format!("{:?}: {problem}", c.name)));
            }
            if !seen.insert(c.name.as_str()) {
                return Err(invalid(&format!("{key}.name"), format!("{:?} is configured twice", c.name)));
            }
            if c.leaf && c.proxy.is_none() {
                return Err(invalid(
                    &format!("{key}.proxy"),
                    "a leaf cluster is reached through a root's proxy".into(),
                ));
            }
            if let Some(t) = &c.teleport_name
                && (t.is_empty() || t.starts_with('-') || t.chars().any(|ch| ch.is_whitespace() || ch.is_control()))
            {
                return Err(invalid(&format!("{key}.teleport_name"), format!("{t:?} is not a cluster name")));
            }
        }
        for (i, c) in self.clusters().iter().enumerate() {
            let key = if self.clusters.is_empty() { "teleport".to_owned() } else { format!("clusters[{i}]") };
            super::validate::validate_cli(&key, &c.proxy, c.timeout, c.output_limit_bytes, &c.env, &c.env_passthrough)?;
        }
        if let Some(name) = &self.default_cluster
            && !self.has_cluster(name)
        {
            return Err(invalid(
                "default_cluster",
                format!("{name:?} is not a configured cluster ({})", self.cluster_names()),
            ));
        }
        for name in &self.worker.clusters {
            if !self.has_cluster(name) {
                return Err(invalid(
                    "worker.clusters",
                    format!("{name:?} is not a configured cluster ({})", self.cluster_names()),
                ));
            }
        }
        Ok(())
    }

    /// The configured cluster names, for messages.
    pub fn cluster_names(&self) -> String {
        self.clusters().iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}
