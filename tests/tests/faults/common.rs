//! What the fault tests share: worker processes from the stack's own configuration, the
//! simulator's access-request store, operation rows, and the clean-up of orphaned simulators.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mtcp_tests::Stack;
use serde_json::Value;

/// A worker process; killed -9 when dropped.
pub struct WorkerProcess(pub Child);

impl WorkerProcess {
    /// kill -9, and reap it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Write the stack's configuration to a file the service binaries read. Secrets never serialize:
/// the database URL goes in by hand.
pub fn config_file(stack: &Stack) -> PathBuf {
    let path = stack.dir.path().join("services.yaml");
    let mut yaml = serde_yaml::to_value(&stack.config).unwrap();
    yaml["database"]["url"] = serde_yaml::Value::String(stack.db.url.clone());
    std::fs::write(&path, serde_yaml::to_string(&yaml).unwrap()).unwrap();
    path
}

/// Start `mtcp-worker --config <file>`.
pub fn worker(config: &Path) -> WorkerProcess {
    WorkerProcess(
        Command::new(mtcp_tests::process::binary("mtcp-worker"))
            .arg("--config")
            .arg(config)
            .env_remove("DATABASE_URL")
            .env("MTCP_WORKER__LISTEN", "127.0.0.1:0")
            .env("MTCP_SERVICE__LOG_LEVEL", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Kill every process whose environment names `marker` (a simulator a killed worker left behind;
/// they die with their worker, this is the safety net).
pub fn kill_marked(marker: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(marker)
            && let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>()
            && pid != std::process::id() as i32
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// The number of access requests in the simulator's store at `state_dir`.
pub fn requests_in_store(state_dir: &Path) -> usize {
    let out = Command::new(mtcp_cli::dev::simulator_binary().unwrap())
        .args(["tctl", "requests", "ls", "--format=json"])
        .env("TELEPORT_SIM_STATE_DIR", state_dir)
        .env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().len()
}

/// The operation id a tool result carries.
pub fn op_id(result: &rmcp::model::CallToolResult) -> Option<uuid::Uuid> {
    result.meta.as_ref()?.0.get("mtcp/op_id")?.as_str()?.parse().ok()
}

/// An operation as the fault tests look at it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Op {
    pub status: String,
    pub attempt: i32,
    pub worker_id: Option<String>,
    pub error: Option<String>,
}

impl Op {
    pub fn terminal(&self) -> bool {
        self.status != "queued" && self.status != "running"
    }
}

pub async fn op(pool: &sqlx::PgPool, id: uuid::Uuid) -> Op {
    sqlx::query_as("SELECT status, attempt, worker_id, error FROM operations WHERE op_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Poll until `done` holds for every operation, for at most `within`; returns when each one first
/// satisfied it (None: never did).
pub async fn wait_ops(
    pool: &sqlx::PgPool,
    ids: &[uuid::Uuid],
    within: Duration,
    done: impl Fn(&Op) -> bool,
) -> Vec<Option<Instant>> {
    let deadline = Instant::now() + within;
    let mut seen: Vec<Option<Instant>> = vec![None; ids.len()];
    while seen.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, id) in ids.iter().enumerate() {
            if seen[i].is_none() && done(&op(pool, *id).await) {
                seen[i] = Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    seen
}
