//! `run_passthrough` through the real runner with scripted binaries: argv reaches the CLI after
//! the runner's global flags, output is redacted, failures map like the inventory tools', and
//! refused arguments never start a process.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use mtcp_shared::teleport::TeleportError;
use mtcp_shared::teleport::inventory::ToolFailure;
use mtcp_shared::teleport::passthrough::{PassthroughResult, run_passthrough};
use mtcp_shared::teleport::runner::{Binary, Runner, RunnerSettings};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "8f7e6d5c4b3a29180716f5e4d3c2b1a0";

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// A runner whose `tctl` and `tsh` are `body`; every start touches `<dir>/ran`.
fn runner(dir: &tempfile::TempDir, body: &str) -> Runner {
    let mut s = RunnerSettings::new(dir.path().join("home"));
    for name in ["tctl", "tsh"] {
        let path = dir.path().join(name);
        let ran = dir.path().join("ran");
        std::fs::write(&path, format!("#!/bin/sh\ntouch '{}'\n{body}\n", ran.display())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    s.tctl_path = dir.path().join("tctl");
    s.tsh_path = dir.path().join("tsh");
    s.identity_file = Some(PathBuf::from("/var/lib/mtcp/identity"));
    s.proxy = Some("teleport.example.com:443".to_owned());
    s.timeout = Duration::from_secs(10);
    Runner::new(s).unwrap()
}

#[tokio::test]
async fn arguments_follow_the_global_flags_and_output_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(&dir, &format!("printf '%s\\n' \"$@\"; echo 'password={SECRET}' >&2"));
    let cancel = CancellationToken::new();
    let run = run_passthrough(&r, Binary::Tsh, &args(&["ls", "--format=json"]), &cancel).await.unwrap();
    let PassthroughResult { exit_code, stdout, stderr, truncated } = &run.value;
    assert_eq!(*exit_code, 0);
    assert_eq!(stdout, "-i\n/var/lib/mtcp/identity\n--proxy\nteleport.example.com:443\nls\n--format=json\n");
    assert!(!stderr.contains(SECRET) && stderr.contains("[REDACTED]"), "{stderr}");
    assert!(!truncated);
    assert_eq!(run.record.argv[0], "tsh");
    assert_eq!(run.record.argv[5..], ["ls", "--format=json"]);
}

#[tokio::test]
async fn join_token_secrets_are_masked_in_tokens_ls() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = format!(
        r#"[{{"kind":"token","version":"v2","metadata":{{"name":"{SECRET}"}},"spec":{{"roles":["Node"],"join_method":"token"}}}}]"#
    );
    let r = runner(&dir, &format!("echo '{tokens}'"));
    let cancel = CancellationToken::new();
    let run = run_passthrough(&r, Binary::Tctl, &args(&["tokens", "ls", "--format=json"]), &cancel).await.unwrap();
    assert!(!run.value.stdout.contains(SECRET), "{}", run.value.stdout);
    assert!(run.value.stdout.contains(&SECRET[24..]), "masked, last characters kept: {}", run.value.stdout);
    assert!(!run.record.stdout.contains(SECRET));
}

#[tokio::test]
async fn teleport_errors_timeouts_and_refusals_are_tool_failures() {
    let dir = tempfile::tempdir().unwrap();
    let denied = runner(
        &dir,
        r#"printf '\033[31mERROR: \033[0maccess denied to perform action "list" on "node"\n\n' >&2; exit 1"#,
    );
    let cancel = CancellationToken::new();
    let err = run_passthrough(&denied, Binary::Tctl, &args(&["get", "nodes"]), &cancel).await.unwrap_err();
    assert!(matches!(&err, ToolFailure::Teleport { error: TeleportError::AccessDenied { .. }, .. }), "{err:?}");
    assert_eq!(err.record().unwrap().exit_code, Some(1));

    let dir = tempfile::tempdir().unwrap();
    let refused = runner(&dir, "exit 0");
    for bad in [&["get", "nodes", "--auth-server=evil:3025"][..], &["login"], &["get", "nodes", "-ievil"]] {
        let err = run_passthrough(&refused, Binary::Tctl, &args(bad), &cancel).await.unwrap_err();
        assert!(matches!(err, ToolFailure::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("is refused: "), "{err}");
        assert!(err.record().is_none());
    }
    assert!(!dir.path().join("ran").exists(), "a refused command never starts a process");

    let dir = tempfile::tempdir().unwrap();
    let mut s = RunnerSettings::new(dir.path().join("home"));
    let path = dir.path().join("tsh");
    std::fs::write(&path, "#!/bin/sh\nsleep 30\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.tsh_path = path;
    s.timeout = Duration::from_millis(200);
    let err = run_passthrough(&Runner::new(s).unwrap(), Binary::Tsh, &args(&["status"]), &cancel).await.unwrap_err();
    assert!(matches!(err, ToolFailure::TimedOut { .. }), "{err:?}");
}

#[test]
fn the_result_schema_is_a_described_object() {
    let schema = schemars::schema_for!(PassthroughResult);
    let v = schema.as_value();
    for name in ["exit_code", "stdout", "stderr", "truncated"] {
        assert!(v["properties"][name]["description"].is_string(), "{name} in {v}");
    }
}
