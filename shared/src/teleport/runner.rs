//! The execution engine: runs `tctl`/`tsh` with an argv (never a shell), an allow-listed
//! environment, an isolated `TELEPORT_HOME`, a timeout, output caps, and process-group kills.

mod args;
mod observe;
mod output;
mod pdeathsig;
mod process;
mod runs;
mod settings;

pub use args::{ArgError, safe_positional, subcommand};
pub use observe::subcommand_label;
pub use output::{RunError, RunOutput};
pub use runs::{MAX_RUNS, RunEntry, RunLog};
pub use settings::{RunnerError, RunnerSettings};

use std::fmt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::redact::{argv_secrets, redact_argv, scrub_literals};
use process::{Exit, Supervised};

/// `PATH` of every child: fixed, so a worker's own `PATH` cannot redirect `tctl`.
pub const SAFE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The variable that controls client tools' self-update, and the value that turns it off; every
/// child gets it (see [`Runner::command`]).
pub const TOOLS_VERSION_VAR: &str = "TELEPORT_TOOLS_VERSION";
/// `off`: never download or re-execute another tctl/tsh.
pub const TOOLS_VERSION_OFF: &str = "off";

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

/// Runs the Teleport CLIs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Runner {
    settings: Arc<RunnerSettings>,
}

impl Runner {
    /// Checks the settings and creates `home_dir` (mode 0700) if it is missing.
    pub fn new(settings: RunnerSettings) -> Result<Runner, RunnerError> {
        settings.validate()?;
        Ok(Runner { settings: Arc::new(settings) })
    }

    /// The settings this runner was built with.
    pub fn settings(&self) -> &RunnerSettings {
        &self.settings
    }

    /// Runs `binary` with the global flags (identity, proxy/auth server) followed by `args`.
    /// A non-zero exit is `Ok` (see [`super::error::classify`]); `Err` means the process could not
    /// start, timed out, or was cancelled (then the process group has been killed and reaped).
    /// Each run has its own `cli_run` span (binary and subcommand, never argument values) and is
    /// counted in `mtcp_cli_runs_total`.
    pub async fn run(
        &self,
        binary: Binary,
        args: &[String],
        cancel: &CancellationToken,
    ) -> Result<RunOutput, RunError> {
        let label = subcommand_label(args);
        let span = tracing::info_span!("cli_run", binary = %binary, subcommand = label, exit = tracing::field::Empty);
        self.run_in_span(binary, args, label, cancel).instrument(span).await
    }

    async fn run_in_span(
        &self,
        binary: Binary,
        args: &[String],
        label: &'static str,
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
            runs::note(&argv, "cancelled", None, started.elapsed());
            return Err(RunError::Cancelled { output: RunOutput::empty(argv) });
        }

        if let (Binary::Tctl, Some(leaf)) = (binary, &s.leaf_cluster) {
            // tctl has no `--cluster`: run here, it would answer for the root cluster instead.
            runs::note(&argv, "spawn_failed", None, started.elapsed());
            let message = format!(
                "tctl cannot address the leaf cluster {leaf:?} through its root; this tool needs the leaf's own \
                 identity (configure it as a cluster of its own, without `leaf`)"
            );
            return Err(RunError::Spawn {
                binary: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::Unsupported, message),
            });
        }
        let mut command = self.command(path, &full_args);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(source) => {
                observe::record(binary, label, "spawn_failed", started.elapsed());
                runs::note(&argv, "spawn_failed", None, started.elapsed());
                return Err(RunError::Spawn { binary: path.display().to_string(), source });
            }
        };
        let supervised = Supervised::start(child, s.output_limit_bytes);
        let finished = supervised.finish(s.timeout, s.kill_grace, cancel).await;

        let (mut stdout, mut stderr) = (
            String::from_utf8_lossy(&finished.stdout.bytes).into_owned(),
            String::from_utf8_lossy(&finished.stderr.bytes).into_owned(),
        );
        // What the command line holds secret never comes back through its output: an error that
        // echoes a token name would otherwise carry it into results, records and logs.
        let secrets = argv_secrets(&full_args);
        scrub_literals(&mut stdout, &secrets);
        scrub_literals(&mut stderr, &secrets);
        let output = RunOutput {
            argv,
            exit_code: finished.status.and_then(|st| st.code()),
            stdout,
            stderr,
            stdout_truncated: finished.stdout.truncated,
            stderr_truncated: finished.stderr.truncated,
            duration: started.elapsed(),
        };
        let exit = match finished.exit {
            Exit::Exited => observe::exit_class(output.exit_code),
            other => other.as_str(),
        };
        observe::record(binary, label, exit, output.duration);
        runs::note(&output.argv, finished.exit.as_str(), output.exit_code, output.duration);
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

    /// The child's command: argv only, an allow-listed environment, the isolated home, its own
    /// process group (so a stop kills every process it started), killed if dropped.
    fn command(&self, path: &Path, full_args: &[String]) -> Command {
        let s = &*self.settings;
        let mut command = Command::new(path);
        command
            .args(full_args)
            .env_clear()
            .env("PATH", SAFE_PATH)
            .env("LANG", "C.UTF-8")
            .envs(self.passthrough_env())
            .envs(&s.env)
            // Client tools self-update (17.x+, `lib/autoupdate/tools`) when the cluster advertises
            // a version: tctl/tsh would download another release and re-execute it, so what runs
            // would no longer be the binary the operator installed. `off` disables it; set last so
            // no configured variable can turn it back on.
            .env(TOOLS_VERSION_VAR, TOOLS_VERSION_OFF)
            .env("HOME", &s.home_dir)
            .env("TELEPORT_HOME", &s.home_dir)
            .current_dir(&s.home_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        command
    }

    /// Start a long-running command (`tsh proxy …`, `tsh vnet`) the same way `run` starts a
    /// short one, but hand the child back: its owner supervises it and stops its process group.
    /// The child gets SIGKILL if the spawning thread dies, so call this from async context (see
    /// `pdeathsig::die_with_parent`).
    pub fn spawn_long(&self, binary: Binary, args: &[String]) -> Result<tokio::process::Child, RunError> {
        self.spawn_owned(binary, args, Stdio::null())
    }

    /// [`Runner::spawn_long`] for a stdio proxy (`tsh proxy ssh`): its stdin is piped too, for the
    /// owner to bridge a connection to it.
    pub fn spawn_stdio(&self, binary: Binary, args: &[String]) -> Result<tokio::process::Child, RunError> {
        self.spawn_owned(binary, args, Stdio::piped())
    }

    fn spawn_owned(&self, binary: Binary, args: &[String], stdin: Stdio) -> Result<tokio::process::Child, RunError> {
        let path = match binary {
            Binary::Tctl => &self.settings.tctl_path,
            Binary::Tsh => &self.settings.tsh_path,
        };
        let mut full_args = self.global_flags(binary);
        full_args.extend(args.iter().cloned());
        let mut command = self.command(path, &full_args);
        command.stdin(stdin);
        pdeathsig::die_with_parent(&mut command);
        let mut argv = vec![program_name(path, binary)];
        argv.extend(redact_argv(&full_args));
        let spawned = command.spawn();
        let outcome = if spawned.is_ok() { "started" } else { "spawn_failed" };
        runs::note(&argv, outcome, None, std::time::Duration::ZERO);
        spawned.map_err(|source| RunError::Spawn { binary: path.display().to_string(), source })
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
        if let (Binary::Tsh, Some(leaf)) = (binary, &s.leaf_cluster) {
            flags.push("--cluster".to_owned());
            flags.push(leaf.clone());
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
