//! `mtcp-edge`: runs the `tsh proxy` process of a lease on the host that needs the port (a laptop,
//! a jumpbox), while the control plane keeps the policy, the TTL, the logs and the kill switch. It
//! talks to the gateway over HTTP(S) only (`mtcp_shared::edge`), never to the database.

pub mod backoff;
pub mod client;
pub mod credential;
mod lease;
mod loops;
mod outbox;
mod session;
pub mod state;

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use mtcp_shared::edge::{EndReason, Register, Registered};
use mtcp_shared::teleport::{Runner, RunnerSettings};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::client::{CallError, Gateway};
use crate::credential::Credential;
use crate::session::{RunEnd, Session, Setup, Stop};
use crate::state::StateFile;

#[cfg(test)]
mod tests;

/// How long a shutdown waits to tell the gateway the leases ended.
const FINAL_REPORTS: Duration = Duration::from_secs(5);

/// The command line.
#[derive(Debug, Clone, Parser)]
#[command(name = "mtcp-edge", version, about = "MCP Teleport Control Plane edge agent: runs proxy leases on this host")]
pub struct Args {
    /// The gateway's base URL (https://mtcp.example.com).
    #[arg(long, value_name = "URL")]
    pub gateway: String,
    /// This agent's name (as in `mtcp edge create NAME` and `start_proxy`'s `edge_agent`).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// File holding the edge credential; readable by its owner only.
    #[arg(long, value_name = "FILE")]
    pub credential_file: PathBuf,
    /// The `tsh` binary.
    #[arg(long, value_name = "PATH")]
    pub tsh_path: PathBuf,
    /// Teleport identity file (`tbot`, `tctl auth sign`); without it, the `tsh login` profile of
    /// `$TELEPORT_HOME` or `~/.tsh` is used.
    #[arg(long, value_name = "FILE", requires = "proxy")]
    pub identity_file: Option<PathBuf>,
    /// Teleport proxy address (`teleport.example.com:443`).
    #[arg(long, value_name = "ADDR")]
    pub proxy: Option<String>,
    /// Where the agent keeps its state (default `$XDG_STATE_HOME/mtcp-edge/<name>` or
    /// `~/.local/state/mtcp-edge/<name>`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Time between SIGTERM and SIGKILL when a proxy is stopped.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub stop_grace: Duration,
    /// Log level or filter (`info`, `debug`, `mtcp_edge=debug`).
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

/// Log to stderr at `level` (the HTTP stack stays at warn unless named).
pub fn init_logs(level: &str) {
    let mut filter = mtcp_shared::telemetry::log_filter(level);
    for noisy in ["hyper", "reqwest", "rustls"] {
        if !filter.contains(noisy) {
            filter.push_str(&format!(",{noisy}=warn"));
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// The default state directory of agent `name`.
pub fn default_state_dir(name: &str) -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home()?.join(".local/state"),
    };
    Ok(base.join("mtcp-edge").join(name))
}

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME").filter(|v| !v.is_empty()).map(PathBuf::from).context("HOME is not set")
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the state directory {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %dir.display(), mode = format!("{:04o}", mode & 0o777), "the state directory is accessible to other users");
    }
    Ok(())
}

/// The runner's `HOME`/`TELEPORT_HOME`: private to the agent with an identity file; otherwise the
/// `tsh login` profile directory, so a user's own login serves.
fn tsh_home(args: &Args, state_dir: &Path) -> anyhow::Result<PathBuf> {
    if args.identity_file.is_some() {
        return Ok(state_dir.join("tsh"));
    }
    match std::env::var_os("TELEPORT_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(home()?.join(".tsh")),
    }
}

/// Variables of the agent's environment `tsh` gets (the runner starts it with an empty one): the
/// `TELEPORT_*` settings (but debug mode and the home, which the runner owns), the HTTP proxy
/// settings (an edge host often reaches Teleport through one) and the CA bundle overrides.
pub fn passthrough(names: impl Iterator<Item = String>) -> Vec<String> {
    const OWNED: &[&str] = &["TELEPORT_DEBUG", "TELEPORT_HOME", mtcp_shared::teleport::runner::TOOLS_VERSION_VAR];
    const NETWORK: &[&str] = &[
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ];
    let mut names: Vec<String> = names
        .filter(|n| (n.starts_with("TELEPORT_") && !OWNED.contains(&n.as_str())) || NETWORK.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

/// Run the agent until `shutdown` fires (exit 0) or the credential is refused (an error).
pub async fn run(args: Args, shutdown: CancellationToken) -> anyhow::Result<()> {
    mtcp_shared::edge::check_name(&args.name).map_err(anyhow::Error::msg)?;
    let credential = Credential::read(&args.credential_file)?;
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => default_state_dir(&args.name)?,
    };
    create_private_dir(&state_dir)?;
    let runner = Runner::new(RunnerSettings {
        tsh_path: args.tsh_path.clone(),
        proxy: args.proxy.clone(),
        identity_file: args.identity_file.clone(),
        kill_grace: args.stop_grace,
        env_passthrough: passthrough(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())),
        ..RunnerSettings::new(tsh_home(&args, &state_dir)?)
    })
    .context("preparing the tsh runner")?;
    let state = Arc::new(StateFile::open(&state_dir));
    let killed = state.kill_leftovers().context("clearing the state file")?;
    if !killed.is_empty() {
        tracing::warn!(killed = killed.len(), leases = ?killed, "killed proxies a previous run of this agent left behind");
    }
    let gateway = Gateway::new(&args.gateway, credential).context("preparing the HTTP client")?;
    let setup = Setup { gateway, runner, state, stop_grace: args.stop_grace };
    tracing::info!(name = %args.name, gateway = %args.gateway, state_dir = %state_dir.display(), "edge agent starting");
    loop {
        let Some(rhythm) = register(&setup.gateway, &shutdown).await? else { return Ok(()) };
        tracing::info!(agent_id = %rhythm.agent_id, "registered with the gateway");
        match serve(Session::new(rhythm, setup.clone()), &shutdown).await {
            RunEnd::Shutdown => return Ok(()),
            RunEnd::Superseded => tracing::warn!("this run was superseded (409): proxies killed; registering again"),
            RunEnd::Unauthorized => {
                tracing::error!("the gateway refused the edge credential (401; revoked?): proxies killed, exiting");
                bail!("the gateway refused the edge credential (revoked?)");
            }
        }
    }
}

/// `register`, again and again while the gateway cannot be reached. None: shutdown meanwhile.
async fn register(gateway: &Gateway, shutdown: &CancellationToken) -> anyhow::Result<Option<Registered>> {
    let body = Register {
        host: hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default(),
        boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default().trim().to_owned(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut backoff = Backoff::new();
    loop {
        let answer = tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            a = gateway.post::<_, Registered>("/register", &body) => a,
        };
        let wait = match answer {
            Ok(registered) => return Ok(Some(registered)),
            Err(CallError::Unauthorized) => bail!("the gateway refused the edge credential (401): is it revoked?"),
            Err(CallError::Rejected { status, body }) => {
                bail!("the gateway refused to register this agent ({status}): {body}")
            }
            Err(e) => {
                let wait = backoff.next_wait();
                tracing::warn!(error = %e, retry_in = ?wait, "could not register with the gateway");
                wait
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One run: the loops until shutdown or a 401/409, then every proxy stopped.
async fn serve(s: Arc<Session>, shutdown: &CancellationToken) -> RunEnd {
    let loops = [
        tokio::spawn(loops::poll(s.clone())),
        tokio::spawn(loops::heartbeat(s.clone())),
        tokio::spawn(loops::send(s.clone())),
        tokio::spawn(loops::watchdog(s.clone())),
    ];
    let end = tokio::select! {
        _ = shutdown.cancelled() => RunEnd::Shutdown,
        _ = s.over.cancelled() => s.end().unwrap_or(RunEnd::Superseded),
    };
    let wait = s.setup.stop_grace + Duration::from_secs(5);
    if end == RunEnd::Shutdown {
        // Stop the loops but keep the run, so the gateway hears that the leases ended.
        let stop = Stop { report: Some(EndReason::Stopped), hard: false, why: "the agent is shutting down".into() };
        let n = s.stop_all(&stop, true);
        tracing::info!(proxies = n, "shutting down: stopping every proxy");
        s.over.cancel();
        s.wait_idle(wait).await;
        if tokio::time::timeout(FINAL_REPORTS, loops::flush(&s)).await.map_or(true, |r| r.is_err()) {
            tracing::warn!("could not tell the gateway that the leases ended; it will find out");
        }
    } else {
        // The gateway no longer counts on this run: nothing to report, kill at once.
        let stop = Stop { report: None, hard: true, why: "the run is over".into() };
        s.stop_all(&stop, true);
        s.wait_idle(wait).await;
    }
    for l in loops {
        l.abort();
    }
    end
}
