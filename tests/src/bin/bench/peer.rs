//! The Python peer of `bench compare` (`tests/peer/fastmcp_peer.py`): its virtualenv under the
//! target directory (made once per requirements file, reused while the file's hash is the same),
//! and the server process, started on a free loopback port and stopped by its pid.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use mtcp_shared::config::TeleportConfig;
use sha2::{Digest, Sha256};

/// `tests/peer` in the source tree.
fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// The cargo target directory of this binary (`target/<profile>/bench` → `target`).
fn target_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).context("the bench binary has no target directory")
}

/// The peer's interpreter: `target/bench-peer-venv/bin/python`, created with `python3 -m venv` and
/// `pip install -r tests/peer/requirements.txt` unless the marker holds this file's hash.
/// Blocking (pip).
pub fn venv() -> anyhow::Result<PathBuf> {
    let requirements = peer_dir().join("requirements.txt");
    let pins = std::fs::read(&requirements).with_context(|| format!("reading {}", requirements.display()))?;
    let hash = hex::encode(Sha256::digest(&pins));
    let dir = target_dir()?.join("bench-peer-venv");
    let marker = dir.join(".requirements-sha256");
    let python = dir.join("bin").join("python");
    if std::fs::read_to_string(&marker).is_ok_and(|h| h == hash) && python.is_file() {
        return Ok(python);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing the stale {}", dir.display()))?;
    }
    eprintln!("bench: creating {} from {}", dir.display(), requirements.display());
    let out = Command::new("python3").args(["-m", "venv"]).arg(&dir).output().context("running python3")?;
    check(&out, "`python3 -m venv` failed (Debian: apt-get install python3-venv)")?;
    let out = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet", "-r"])
        .arg(&requirements)
        .output()?;
    check(&out, "`pip install -r tests/peer/requirements.txt` failed (is PyPI reachable?)")?;
    std::fs::write(&marker, hash)?;
    Ok(python)
}

fn check(out: &std::process::Output, what: &str) -> anyhow::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    bail!("{what}: {}: {}", out.status, stderr.lines().rev().take(5).collect::<Vec<_>>().join(" / "))
}

/// A running peer; killed when dropped.
pub struct Peer {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Peer {
    /// Start the peer in `mode` ("inline" or "postgres", which needs `dsn`) with the simulator
    /// named by `t`, and wait until it answers on its port.
    pub async fn start(
        python: &Path,
        mode: &str,
        dsn: Option<&str>,
        t: &TeleportConfig,
        logs: &Path,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = logs.join(format!("peer-{mode}.log"));
        let mut cmd = Command::new(python);
        cmd.arg(peer_dir().join("fastmcp_peer.py"))
            .args(["--mode", mode, "--port", &port.to_string()])
            .arg("--tctl")
            .arg(&t.tctl_path)
            .args(["--auth-server", t.proxy.as_deref().unwrap_or_default()])
            .arg("--identity")
            .arg(t.identity_file.as_ref().context("the simulator has an identity file")?)
            .envs(&t.env)
            .env("PYTHONWARNINGS", "ignore")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        if let Some(dsn) = dsn {
            cmd.args(["--dsn", dsn]);
        }
        let child = cmd.spawn().context("starting the peer")?;
        let mut peer = Self { child, url: format!("http://127.0.0.1:{port}/mcp"), log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Some(status) = peer.child.try_wait()? {
                bail!("the peer exited with {status}: {}", peer.log_tail());
            }
            if Instant::now() > deadline {
                bail!("the peer did not listen within 60 s: {}", peer.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(peer)
    }

    /// The last lines of the peer's stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
