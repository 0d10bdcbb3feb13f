//! The execution engine: runs `tctl`/`tsh` with an argv (never a shell), an allow-listed
//! environment, an isolated `TELEPORT_HOME`, a timeout, output caps, and process-group kills.

mod args;
mod output;
mod process;

pub use args::{ArgError, safe_positional, subcommand};
pub use output::{RunError, RunOutput};

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::redact::redact_argv;
use process::{Exit, Supervised};

/// `PATH` of every child: fixed, so a worker's own `PATH` cannot redirect `tctl`.
pub const SAFE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Variables that are never passed: debug mode turns errors into stack reports (REFERENCE §3.1),
/// and the home variables are owned by the runner.
const FORBIDDEN_ENV: &[&str] = &["TELEPORT_DEBUG", "HOME", "TELEPORT_HOME"];

/// Which Teleport CLI to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Binary {
    /// The admin tool.
    Tctl,
    /// The client tool.
    Tsh,
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Binary::Tctl => "tctl",
            Binary::Tsh => "tsh",
        })
    }
}

/// How to run the CLIs. Built from configuration by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSettings {
    /// `tctl` binary (a bare name is looked up in [`SAFE_PATH`] or `env["PATH"]`).
    pub tctl_path: PathBuf,
    /// `tsh` binary.
    pub tsh_path: PathBuf,
    /// Passed as `--auth-server` (tctl) / `--proxy` (tsh).
    pub proxy: Option<String>,
    /// Passed as `-i`.
    pub identity_file: Option<PathBuf>,
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

    /// Defaults: `tctl`/`tsh` from [`SAFE_PATH`], no proxy or identity, 30 s timeout.
    pub fn new(home_dir: impl Into<PathBuf>) -> RunnerSettings {
        RunnerSettings {
            tctl_path: PathBuf::from("tctl"),
            tsh_path: PathBuf::from("tsh"),
            proxy: None,
            identity_file: None,
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

/// Runs the Teleport CLIs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Runner {
    settings: Arc<RunnerSettings>,
}

impl Runner {
    /// Checks the settings and creates `home_dir` (mode 0700) if it is missing.
    pub fn new(settings: RunnerSettings) -> Result<Runner, RunnerError> {
        let invalid = |name, reason: &str| RunnerError::InvalidSetting { name, reason: reason.into() };
        if settings.timeout.is_zero() {
            return Err(invalid("timeout", "must be greater than zero"));
        }
        if settings.output_limit_bytes == 0 {
            return Err(invalid("output_limit_bytes", "must be greater than zero"));
        }
        for name in settings.env.keys().chain(&settings.env_passthrough) {
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
        prepare_home(&settings.home_dir)?;
        Ok(Runner { settings: Arc::new(settings) })
    }

    /// The settings this runner was built with.
    pub fn settings(&self) -> &RunnerSettings {
        &self.settings
    }

    /// Runs `binary` with the global flags (identity, proxy/auth server) followed by `args`.
    /// A non-zero exit is `Ok` (see [`super::error::classify`]); `Err` means the process could not
    /// start, timed out, or was cancelled (then the process group has been killed and reaped).
    pub async fn run(
        &self,
        binary: Binary,
        args: &[String],
        cancel: &CancellationToken,
    ) -> Result<RunOutput, RunError> {
        let s = &*self.settings;
        let path = match binary {
            Binary::Tctl => &s.tctl_path,
            Binary::Tsh => &s.tsh_path,
        };
        let mut full_args = self.global_flags(binary);
        full_args.extend(args.iter().cloned());
        let mut argv = vec![program_name(path, binary)];
        argv.extend(redact_argv(&full_args));
        let started = Instant::now();
        if cancel.is_cancelled() {
            return Err(RunError::Cancelled { output: RunOutput::empty(argv) });
        }

        let mut command = Command::new(path);
        command
            .args(&full_args)
            .env_clear()
            .env("PATH", SAFE_PATH)
            .env("LANG", "C.UTF-8")
            .envs(self.passthrough_env())
            .envs(&s.env)
            .env("HOME", &s.home_dir)
            .env("TELEPORT_HOME", &s.home_dir)
            .current_dir(&s.home_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| RunError::Spawn { binary: path.display().to_string(), source })?;
        let supervised = Supervised::start(child, s.output_limit_bytes);
        let finished = supervised.finish(s.timeout, s.kill_grace, cancel).await;

        let output = RunOutput {
            argv,
            exit_code: finished.status.and_then(|st| st.code()),
            stdout: String::from_utf8_lossy(&finished.stdout.bytes).into_owned(),
            stderr: String::from_utf8_lossy(&finished.stderr.bytes).into_owned(),
            stdout_truncated: finished.stdout.truncated,
            stderr_truncated: finished.stderr.truncated,
            duration: started.elapsed(),
        };
        tracing::debug!(
            binary = %binary,
            subcommand = %subcommand(args),
            exit_code = ?output.exit_code,
            outcome = finished.exit.as_str(),
            duration_ms = u64::try_from(output.duration.as_millis()).unwrap_or(u64::MAX),
            truncated = output.stdout_truncated || output.stderr_truncated,
            argv = ?output.argv,
            "teleport cli run"
        );
        match finished.exit {
            Exit::Exited => Ok(output),
            Exit::TimedOut => Err(RunError::TimedOut { after: s.timeout, output }),
            Exit::Cancelled => Err(RunError::Cancelled { output }),
        }
    }

    fn global_flags(&self, binary: Binary) -> Vec<String> {
        let s = &*self.settings;
        let mut flags = Vec::new();
        if let Some(identity) = &s.identity_file {
            flags.push("-i".to_owned());
            flags.push(identity.display().to_string());
        }
        if let Some(proxy) = &s.proxy {
            flags.push(match binary {
                Binary::Tctl => "--auth-server".to_owned(),
                Binary::Tsh => "--proxy".to_owned(),
            });
            flags.push(proxy.clone());
        }
        flags
    }

    fn passthrough_env(&self) -> Vec<(String, std::ffi::OsString)> {
        self.settings
            .env_passthrough
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|v| (name.clone(), v)))
            .collect()
    }
}

fn program_name(path: &Path, binary: Binary) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| binary.to_string())
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
