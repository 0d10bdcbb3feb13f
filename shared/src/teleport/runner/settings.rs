//! Runner settings, their validation, and the private Teleport home directory.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Variables that are never passed: debug mode turns errors into stack reports (docs/teleport-output.md),
/// and the home variables are owned by the runner.
const FORBIDDEN_ENV: &[&str] = &["TELEPORT_DEBUG", "HOME", "TELEPORT_HOME"];

/// How to run the CLIs. Built from configuration by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSettings {
    /// `tctl` binary (a bare name is looked up in [`super::SAFE_PATH`] or `env["PATH"]`).
    pub tctl_path: PathBuf,
    /// `tsh` binary.
    pub tsh_path: PathBuf,
    /// Passed as `--auth-server` (tctl) / `--proxy` (tsh).
    pub proxy: Option<String>,
    /// Passed as `-i`.
    pub identity_file: Option<PathBuf>,
    /// A leaf cluster reached through `proxy`: tsh gets `--cluster <name>`; tctl, which cannot
    /// address a leaf, is not run.
    pub leaf_cluster: Option<String>,
    /// `HOME` and `TELEPORT_HOME` of the child, isolated per worker; created 0700 if missing.
    pub home_dir: PathBuf,
    /// Wall-clock limit per run.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL of the process group.
    pub kill_grace: Duration,
    /// Bytes kept per stream; the rest is drained and discarded.
    pub output_limit_bytes: usize,
    /// Extra variables for the child (e.g. `TELEPORT_SIM_STATE`).
    pub env: BTreeMap<String, String>,
    /// Names copied from the worker's environment when present.
    pub env_passthrough: Vec<String>,
}

impl RunnerSettings {
    /// Default timeout per run.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default SIGTERM → SIGKILL grace.
    pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);
    /// Default cap per stream (large enough for `tctl get nodes` on a few thousand nodes).
    pub const DEFAULT_OUTPUT_LIMIT_BYTES: usize = 8 * 1024 * 1024;

    /// Defaults: `tctl`/`tsh` from [`super::SAFE_PATH`], no proxy or identity, 30 s timeout.
    pub fn new(home_dir: impl Into<PathBuf>) -> RunnerSettings {
        RunnerSettings {
            tctl_path: PathBuf::from("tctl"),
            tsh_path: PathBuf::from("tsh"),
            proxy: None,
            identity_file: None,
            leaf_cluster: None,
            home_dir: home_dir.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            kill_grace: Self::DEFAULT_KILL_GRACE,
            output_limit_bytes: Self::DEFAULT_OUTPUT_LIMIT_BYTES,
            env: BTreeMap::new(),
            env_passthrough: Vec::new(),
        }
    }
}

/// Settings the runner cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// `home_dir` could not be created or inspected.
    #[error("cannot prepare the Teleport home directory {path}: {source}")]
    HomeDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A setting is out of range or asks for something the runner refuses to do.
    #[error("invalid runner setting {name}: {reason}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

impl RunnerSettings {
    /// Checks the settings and creates `home_dir` (mode 0700) if it is missing.
    pub(super) fn validate(&self) -> Result<(), RunnerError> {
        let invalid = |name, reason: &str| RunnerError::InvalidSetting { name, reason: reason.into() };
        if self.timeout.is_zero() {
            return Err(invalid("timeout", "must be greater than zero"));
        }
        if self.output_limit_bytes == 0 {
            return Err(invalid("output_limit_bytes", "must be greater than zero"));
        }
        for name in self.env.keys().chain(&self.env_passthrough) {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(invalid("env", "variable names must be non-empty, without '=' or NUL"));
            }
            if FORBIDDEN_ENV.contains(&name.as_str()) {
                return Err(RunnerError::InvalidSetting {
                    name: "env",
                    reason: format!("{name} is managed by the runner and cannot be set"),
                });
            }
        }
        prepare_home(&self.home_dir)
    }
}

fn prepare_home(path: &Path) -> Result<(), RunnerError> {
    let err = |source| RunnerError::HomeDir { path: path.to_owned(), source };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "Teleport home directory is accessible to other users");
            }
            Ok(())
        }
        Ok(_) => Err(err(io::Error::new(io::ErrorKind::AlreadyExists, "exists and is not a directory"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(err)
        }
        Err(e) => Err(err(e)),
    }
}
