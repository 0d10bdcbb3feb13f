//! Python MCP clients for the end-to-end tests: a virtualenv per requirements file (created once,
//! reused while the file and the interpreter are unchanged) and a runner for the client scripts in
//! `tests/python`, each of which prints one JSON summary line.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The interpreter the virtualenvs are made from.
const PYTHON: &str = "python3";
/// One client script's run, connection included.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// The client scripts' directory (`tests/python`).
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// A virtualenv with the packages of one requirements file.
#[derive(Debug, Clone)]
pub struct Venv {
    python: PathBuf,
}

impl Venv {
    /// The virtualenv for `requirements` under `root` (`root/py-venv-<hash>`, the hash covering the
    /// file and the interpreter's version), created with `python3 -m venv` and `pip install -r` if
    /// it is not there yet. A lock file next to it makes concurrent tests, in this process or
    /// another, wait for one creation instead of racing. Blocking: call it from `spawn_blocking`.
    pub fn ensure(requirements: &Path, root: &Path) -> anyhow::Result<Self> {
        let version = python_version()?;
        let pins = fs::read(requirements).with_context(|| format!("reading {}", requirements.display()))?;
        let hash = hex::encode(&Sha256::new().chain_update(&pins).chain_update(version.as_bytes()).finalize()[..8]);
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let dir = root.join(format!("py-venv-{hash}"));
        let lock = File::create(root.join(format!("py-venv-{hash}.lock")))?;
        lock.lock().context("locking the virtualenv")?;
        let ready = dir.join(".mtcp-ready");
        if !ready.exists() {
            create(&dir, requirements, &version)?;
            fs::write(&ready, &version)?;
        }
        Ok(Self { python: dir.join("bin").join("python") })
    }

    /// Run `tests/python/<script>` with `args`, the endpoint in MCP_URL and the bearer key in
    /// MCP_TOKEN; returns the JSON summary on its last line. A non-zero exit is an error carrying
    /// the script's stderr.
    pub async fn run(&self, script: &str, args: &[&str], url: &str, key: &str) -> anyhow::Result<Value> {
        let mut cmd = tokio::process::Command::new(&self.python);
        cmd.arg(scripts_dir().join(script))
            .args(args)
            .env("MCP_URL", url)
            .env("MCP_TOKEN", key)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONPATH")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(SCRIPT_TIMEOUT, cmd.output())
            .await
            .with_context(|| format!("{script} {args:?} did not finish in {SCRIPT_TIMEOUT:?}"))??;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!("{script} {args:?} exited with {}:\n{stderr}", out.status);
        }
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        serde_json::from_str(last).with_context(|| format!("{script} {args:?} printed no JSON summary:\n{stdout}"))
    }
}

/// `Python 3.x.y` of the interpreter on PATH, or what to install.
fn python_version() -> anyhow::Result<String> {
    let out = Command::new(PYTHON).arg("--version").output().with_context(|| {
        format!(
            "`{PYTHON}` is not on PATH: the Python client tests need Python 3.10 or newer with the venv \
             module (Debian: apt-get install python3 python3-venv)"
        )
    })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let minor = version.strip_prefix("Python 3.").and_then(|r| r.split('.').next()?.parse::<u32>().ok());
    if !out.status.success() || minor.is_none_or(|m| m < 10) {
        bail!("the Python client tests need Python 3.10 or newer; `{PYTHON} --version` says {version:?}");
    }
    Ok(version)
}

/// Make the virtualenv from scratch (a half-made one from an interrupted run is removed first).
fn create(dir: &Path, requirements: &Path, version: &str) -> anyhow::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing the unfinished {}", dir.display()))?;
    }
    eprintln!("python_clients: creating {} ({version}) from {}", dir.display(), requirements.display());
    let out = Command::new(PYTHON).args(["-m", "venv"]).arg(dir).output()?;
    check(&out, &format!("`{PYTHON} -m venv` failed (Debian: apt-get install python3-venv)"))?;
    let out = Command::new(dir.join("bin").join("python"))
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet", "-r"])
        .arg(requirements)
        .output()?;
    check(&out, &format!("`pip install -r {}` failed (is PyPI reachable?)", requirements.display()))
}

fn check(out: &Output, what: &str) -> anyhow::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!("{what}: {}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
