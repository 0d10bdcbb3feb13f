//! The whole control plane in-process: gateway on port 0, a worker and a reaper, the simulator as
//! Teleport, one API key per built-in role.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use mtcp_shared::config::Config;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::{McpClient, TestDb};

/// A change to the stack's configuration before it starts.
pub type Tweak = std::sync::Arc<dyn Fn(&mut Config) + Send + Sync>;

/// Knobs for one stack.
#[derive(Clone)]
pub struct StackOptions {
    /// Timeout of one CLI run.
    pub cli_timeout: Duration,
    /// Extra environment for the simulator (fault knobs, state file).
    pub sim_env: BTreeMap<String, String>,
    /// Cluster state file for the simulator.
    pub sim_state: Option<PathBuf>,
    /// Start workers (false: calls stay queued).
    pub worker: bool,
    /// How many workers (each its own incarnation, with its own id and database pool) when
    /// `worker` is set.
    pub workers: usize,
    pub call_budget: Duration,
    /// Jobs the worker runs at once.
    pub worker_concurrency: usize,
    /// Applied to the configuration last (policy file, passthrough switches, OIDC…).
    pub tweak: Option<Tweak>,
    /// The PostgreSQL server to create the database on (default: `DATABASE_URL`'s).
    pub server: Option<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            cli_timeout: Duration::from_secs(10),
            sim_env: BTreeMap::new(),
            sim_state: None,
            worker: true,
            workers: 1,
            call_budget: Duration::from_secs(30),
            worker_concurrency: 8,
            tweak: None,
            server: None,
        }
    }
}

/// A running stack; stops when dropped.
pub struct Stack {
    pub url: String,
    pub base: String,
    /// API key per built-in role.
    pub keys: HashMap<String, String>,
    pub config: Config,
    pub db: TestDb,
    pub shutdown: CancellationToken,
    pub dir: tempfile::TempDir,
    /// Reloads the gateway's policy file (what SIGHUP does).
    pub reloader: mtcp_gateway::PolicyReloader,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Stack {
    /// Start gateway + worker + reaper on a fresh database.
    pub async fn start(opts: StackOptions) -> anyhow::Result<Self> {
        let db = match &opts.server {
            Some(server) => TestDb::on_server(server).await?,
            None => TestDb::new().await?,
        };
        Self::start_on(db, opts).await
    }

    /// Start gateway + worker + reaper on `db` (migrated by the caller).
    pub async fn start_on(db: TestDb, opts: StackOptions) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::default();
        config.database.url = Some(SecretString::from(db.url.clone()));
        config.service.port = 0;
        config.service.call_budget = opts.call_budget;
        config.worker.listen = ([127, 0, 0, 1], 0).into();
        config.worker.heartbeat_interval = Duration::from_secs(1);
        config.worker.concurrency = opts.worker_concurrency;
        config.database.max_connections = (opts.worker_concurrency as u32 + 8).max(8);
        config.reaper.listen = ([127, 0, 0, 1], 0).into();
        config.reaper.interval = Duration::from_millis(500);
        config.reaper.agent_offline_after = Duration::from_secs(5);
        // Edge agents: well within that silence threshold, and quick to fail closed.
        config.edge.heartbeat_interval = Some(Duration::from_secs(1));
        config.edge.poll_wait = Duration::from_secs(5);
        config.edge.fail_closed_after = Duration::from_secs(4);
        config.reaper.lease_start_deadline = Duration::from_secs(30);
        // Below half of `agent_offline_after` (5 s), as validation requires.
        config.leases.heartbeat_interval = Duration::from_secs(1);
        config.leases.reconcile_interval = Duration::from_secs(1);
        config.leases.stop_grace = Duration::from_secs(1);
        config.leases.start_timeout = Duration::from_secs(10);
        config.tsh.home = dir.path().join("home");
        config.teleport.timeout = opts.cli_timeout;
        config.teleport.kill_grace = Duration::from_millis(500);
        mtcp_cli::dev::use_simulator(&mut config, &dir.path().join("sim"), opts.sim_state.as_deref())?;
        config.teleport.env.extend(opts.sim_env.clone());
        let keys = mtcp_cli::dev::add_dev_keys(&mut config).into_iter().map(|k| (k.role, k.key)).collect();
        if let Some(tweak) = &opts.tweak {
            tweak(&mut config);
        }
        config.validate()?;

        let shutdown = CancellationToken::new();
        let gateway = mtcp_gateway::Application::build(config.clone(), shutdown.clone()).await?;
        let base = format!("{}://{}", gateway.scheme(), gateway.local_addr());
        let reloader = gateway.reloader();
        let mut tasks = vec![tokio::spawn(gateway.run_until_stopped())];
        if opts.worker {
            for _ in 0..opts.workers.max(1) {
                tasks.push(tokio::spawn(mtcp_worker::run(config.clone(), shutdown.clone())));
            }
        }
        tasks.push(tokio::spawn(mtcp_reaper::run(config.clone(), shutdown.clone())));
        Ok(Self { url: format!("{base}/mcp"), base, keys, config, db, shutdown, dir, tasks, reloader })
    }

    /// The key of a built-in role.
    pub fn key(&self, role: &str) -> &str {
        &self.keys[role]
    }

    /// An MCP client authenticated as `role`.
    pub async fn client(&self, role: &str) -> anyhow::Result<McpClient> {
        McpClient::connect(&self.url, Some(self.key(role))).await
    }

    /// A separate `mtcp-worker` process on this stack's configuration and database (for tests that
    /// kill it). Started with `worker: false`, it is the stack's only worker.
    pub fn worker_process(&self) -> std::process::Child {
        self.worker_process_serving(&[])
    }

    /// [`Stack::worker_process`] serving only the clusters named (`worker.clusters`; none: all).
    pub fn worker_process_serving(&self, clusters: &[&str]) -> std::process::Child {
        let config = self.dir.path().join(format!("worker-{}.yaml", clusters.join("-")));
        // Secrets are dumped as a placeholder: the database URL comes from the environment, and the
        // webhook (which only gateways use) is left out, its placeholder not being a URL.
        let mut dump = self.config.clone();
        dump.approvals.webhook = None;
        dump.worker.clusters = clusters.iter().map(|c| (*c).to_owned()).collect();
        std::fs::write(&config, serde_yaml::to_string(&dump).expect("config serializes"))
            .expect("writing the worker's config");
        std::process::Command::new(crate::process::binary("mtcp-worker"))
            .arg("--config")
            .arg(&config)
            .env("DATABASE_URL", &self.db.url)
            .env("MTCP_WORKER__LISTEN", "127.0.0.1:0")
            .env("MTCP_SERVICE__LOG_LEVEL", "warn")
            .spawn()
            .expect("starting mtcp-worker")
    }

    /// Stop every service and wait for them.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
