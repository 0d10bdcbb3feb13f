//! The `mtcp-edge` binary as an operator runs it, before any gateway answers: refusals at start,
//! the state directory, and a clean exit on SIGTERM while the gateway cannot be reached.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn credential(dir: &Path, mode: u32) -> std::path::PathBuf {
    let path = dir.join("credential");
    std::fs::write(&path, "mtcp_edge_s3cret\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn edge(dir: &Path, cred: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtcp-edge"));
    // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    cmd.args(["--gateway", "http://127.0.0.1:9", "--name", "laptop-1", "--tsh-path", "/usr/bin/tsh"])
        .arg("--credential-file")
        .arg(cred)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn a_credential_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = edge(dir.path(), &credential(dir.path(), 0o644)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("permissions 0644") && stderr.contains("too open") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn an_identity_file_needs_the_proxy_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = edge(dir.path(), &credential(dir.path(), 0o600)).args(["--identity-file", "/x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--proxy"));
}

#[test]
fn it_keeps_trying_an_unreachable_gateway_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let child = edge(dir.path(), &credential(dir.path(), 0o600)).spawn().unwrap();
    let state = dir.path().join("state/mtcp-edge/laptop-1");
    let until = Instant::now() + Duration::from_secs(10);
    while !state.join("leases.json").exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
    std::thread::sleep(Duration::from_millis(700));
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.contains("could not register with the gateway"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
