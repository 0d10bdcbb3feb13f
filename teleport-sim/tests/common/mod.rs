//! Helpers shared by the integration tests: run the built binary with a clean environment.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_teleport-sim");
/// The clock every test pins, so outputs are comparable across runs.
pub const NOW: &str = "2025-06-01T10:00:00.123456789Z";
pub const ERROR_PREFIX: &str = "\x1b[31mERROR: \x1b[0m";

/// What one run printed.
#[derive(Debug)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Out {
    /// Parses stdout as JSON, failing the test with the output if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Asserts a successful run and returns its JSON array.
    pub fn array(&self) -> Vec<serde_json::Value> {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self.json().as_array().cloned().expect("a JSON array")
    }

    /// Asserts Teleport's error shape and returns the message.
    pub fn error(&self) -> String {
        assert_eq!(self.code, Some(1), "stdout: {}", self.stdout);
        assert!(self.stdout.is_empty(), "errors print nothing on stdout: {}", self.stdout);
        let block = self
            .stderr
            .rfind(ERROR_PREFIX)
            .map(|i| &self.stderr[i..])
            .unwrap_or_else(|| panic!("no ERROR prefix in stderr: {:?}", self.stderr));
        assert!(block.ends_with("\n\n"), "error block ends with an empty line: {block:?}");
        block[ERROR_PREFIX.len()..block.len() - 2].to_owned()
    }
}

/// A command line against the simulator.
pub struct Sim {
    cmd: Command,
}

impl Sim {
    /// `teleport-sim <args>` with only the simulator's own variables set: a pinned clock and
    /// permission to run without an identity.
    pub fn new(args: &[&str]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(args).env_clear().env("TELEPORT_SIM_NOW", NOW).env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1");
        Sim { cmd }
    }

    /// Runs a binary at another path (a symlink) with the same clean environment.
    pub fn program(path: &Path, args: &[&str]) -> Self {
        let mut sim = Self::new(args);
        let mut cmd = Command::new(path);
        cmd.args(args).env_clear().env("TELEPORT_SIM_NOW", NOW).env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1");
        sim.cmd = cmd;
        sim
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Drops the default permission to run without credentials.
    pub fn strict(mut self) -> Self {
        self.cmd.env_remove("TELEPORT_SIM_ALLOW_NO_IDENTITY");
        self
    }

    pub fn run(mut self) -> Out {
        let out = self.cmd.output().expect("the simulator runs");
        Out {
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
            code: out.status.code(),
        }
    }

    pub fn spawn(mut self) -> Child {
        self.cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the simulator starts")
    }

    /// Starts the process with stdin, stdout and stderr all piped to the test.
    pub fn spawn_stdio(mut self) -> Child {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the simulator starts")
    }

    /// Starts the process with stdout piped to the test.
    pub fn spawn_piped(mut self) -> Child {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the simulator starts")
    }
}

/// `teleport-sim tctl <args>`.
pub fn tctl(args: &[&str]) -> Sim {
    let mut all = vec!["tctl"];
    all.extend_from_slice(args);
    Sim::new(&all)
}

/// `teleport-sim tsh <args>`.
pub fn tsh(args: &[&str]) -> Sim {
    let mut all = vec!["tsh"];
    all.extend_from_slice(args);
    Sim::new(&all)
}

/// A directory removed when dropped (no extra dependency for a handful of files).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("teleport-sim-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// Writes a file into the directory and returns its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
