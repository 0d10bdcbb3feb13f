//! Configuration: defaults → `config.yaml` → environment (`MTCP_SECTION__KEY`, plus the standard
//! variables `DATABASE_URL`, `TELEPORT_IDENTITY_FILE`, `OTEL_ENABLED`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! `OTEL_SERVICE_NAME`), unknown keys rejected, every value validated at start with errors that name
//! the key.

mod approvals;
mod audit;
mod clusters;
mod console;
mod edge;
mod sections;
mod validate;

pub use approvals::*;
pub use audit::*;
pub use clusters::*;
pub use console::*;
pub use edge::*;
pub use sections::*;

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};

/// Names a YAML file merged over the configuration file when that file exists (ignored when it
/// does not).
pub const OVERLAY_ENV: &str = "MTCP_CONFIG_OVERLAY";

/// Standard environment variables and the key each one sets (figment matches names
/// case-insensitively, so the key is looked up ignoring case too).
const STANDARD_ENV: [(&str, &str); 4] = [
    ("TELEPORT_IDENTITY_FILE", "teleport.identity_file"),
    ("OTEL_ENABLED", "telemetry.enabled"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
    ("OTEL_SERVICE_NAME", "telemetry.service_name"),
];

/// A configuration that could not be loaded or is invalid; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Load from an optional YAML file and the environment, then validate.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File { path: path.display().to_string(), message: "no such file".into() });
            }
            fig = fig.merge(Yaml::file_exact(path));
        }
        // An optional second file over the first, read only if it exists: docker-compose.yml
        // points it at the project's `./config.yaml`, which the quick start has you create (the
        // stack still starts from its own configuration when there is none).
        if let Some(overlay) = std::env::var_os(OVERLAY_ENV).map(std::path::PathBuf::from)
            && overlay.is_file()
        {
            fig = fig.merge(Yaml::file_exact(&overlay));
        }
        let fig = fig
            // The standard variables the seed's docs and OpenTelemetry name; an `MTCP_` variable,
            // being the more specific, overrides them.
            .merge(Env::raw().only(&STANDARD_ENV.map(|(var, _)| var)).map(|var| {
                let key =
                    STANDARD_ENV.iter().find(|(v, _)| var.as_str().eq_ignore_ascii_case(v)).map_or("", |(_, key)| *key);
                key.into()
            }))
            // Variables of the binaries' command lines, not keys: MTCP_CONFIG names the file (`--config`),
            // MTCP_CONFORMANCE_FIXTURES is the second key of the gateway's test-only switch.
            .merge(
                Env::prefixed("MTCP_")
                    .ignore(&["CONFIG", "CONFIG_OVERLAY", "CONFORMANCE_FIXTURES"])
                    .split("__")
                    .lowercase(true),
            )
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()));
        let mut config: Config = fig.extract().map_err(|e| describe(e, file))?;
        config.normalise();
        config.validate()?;
        Ok(config)
    }

    /// Parse a YAML document (no environment); used by tests and `mtcp up`.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Yaml::string(text))
            .extract()
            .map_err(|e| describe(e, None))?;
        config.normalise();
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    /// The policy switches of the configuration.
    pub fn policy_settings(&self) -> crate::policy::PolicySettings {
        let p = &self.policy;
        crate::policy::PolicySettings {
            allow_tsh_passthrough: p.allow_tsh_passthrough,
            allow_tctl_passthrough: p.allow_tctl_passthrough,
            default_proxy_ttl_seconds: p.default_proxy_ttl_seconds,
            max_concurrent_proxies_per_actor: p.max_concurrent_proxies_per_actor,
            max_in_flight_calls_per_actor: (p.max_in_flight_calls_per_actor > 0)
                .then_some(p.max_in_flight_calls_per_actor),
            rate_limit: (p.rate_limit_per_minute > 0)
                .then_some(crate::policy::RateLimit { requests: p.rate_limit_per_minute, per_seconds: 60 }),
        }
    }

    /// The effective policy: built-in roles, plus the policy file when `policy.path` is set.
    pub fn load_policy(&self) -> Result<crate::policy::Policy, crate::policy::PolicyError> {
        match &self.policy.path {
            None => Ok(crate::policy::Policy::builtin(self.policy_settings())),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| crate::policy::PolicyError(format!("{}: {e}", path.display())))?;
                crate::policy::Policy::from_file(self.policy_settings(), &text)
                    .map_err(|e| crate::policy::PolicyError(format!("{}: {}", path.display(), e.0)))
            }
        }
    }
}

/// Turn figment's error chain into one line per problem, each naming the key.
fn describe(err: figment::Error, file: Option<&Path>) -> ConfigError {
    let problems: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() { String::new() } else { format!("`{}`: ", e.path.join(".")) };
            format!("{key}{}", e.kind)
        })
        .collect();
    let message = problems.join("; ");
    match file {
        Some(path) => ConfigError::File { path: path.display().to_string(), message },
        None => ConfigError::Invalid(message),
    }
}

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod tests;
