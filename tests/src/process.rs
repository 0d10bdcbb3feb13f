//! Real service processes (the built binaries) with a generated config file, for tests that need
//! separate processes: signals, several gateways on one database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A built binary of this workspace (next to the simulator).
pub fn binary(name: &str) -> PathBuf {
    mtcp_cli::dev::simulator_binary().expect("binaries are built (scripts/test builds them)").with_file_name(name)
}

/// `mtcp-worker` on `config` (which names its database), quiet, with a listener port of its own.
pub fn worker_command(config: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(binary("mtcp-worker"));
    c.arg("--config")
        .arg(config)
        .env_remove("DATABASE_URL")
        .env("MTCP_WORKER__LISTEN", "127.0.0.1:0")
        .env("MTCP_SERVICE__LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null());
    c
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running service process; killed when dropped.
pub struct ServiceProcess {
    pub child: Child,
    pub base: String,
}

impl ServiceProcess {
    /// Start `mtcp-gateway --config <file>` on `port` and wait until `/health` answers.
    pub async fn gateway(config_file: &Path, port: u16) -> anyhow::Result<Self> {
        let child = Command::new(binary("mtcp-gateway"))
            .arg("--config")
            .arg(config_file)
            .env_remove("DATABASE_URL")
            .env("MTCP_SERVICE__PORT", port.to_string())
            .env("MTCP_SERVICE__LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let me = Self { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::Client::new();
        while Instant::now() < deadline {
            if http.get(format!("{}/health", me.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(me);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("mtcp-gateway did not become healthy on port {port}")
    }

    /// `mtcp-gateway` on `stack`'s configuration and database (a file in its directory), on a free
    /// port.
    pub async fn gateway_of(stack: &crate::Stack) -> anyhow::Result<Self> {
        let config = stack.dir.path().join("gateway.yaml");
        let mut yaml = serde_yaml::to_value(&stack.config)?;
        yaml["database"]["url"] = serde_yaml::Value::String(stack.db.url.clone());
        std::fs::write(&config, serde_yaml::to_string(&yaml)?)?;
        Self::gateway(&config, free_port()).await
    }

    /// The MCP endpoint.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// Send a signal (e.g. "HUP") to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
