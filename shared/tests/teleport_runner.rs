//! The execution engine against tiny shell scripts standing in for `tctl`/`tsh`: argv and global
//! flags, the environment allow-list, caps, timeouts, SIGKILL after the grace period, process-group
//! kills, cancellation.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mtcp_shared::teleport::runner::{Binary, RunError, Runner, RunnerError, RunnerSettings, SAFE_PATH};
use mtcp_shared::teleport::{TeleportError, classify};
use tokio_util::sync::CancellationToken;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture { dir: tempfile::tempdir().unwrap() }
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn settings(&self, tctl_body: &str) -> RunnerSettings {
        let mut s = RunnerSettings::new(self.dir.path().join("home"));
        s.tctl_path = self.script("tctl", tctl_body);
        s.tsh_path = self.script("tsh", tctl_body);
        s.timeout = Duration::from_secs(10);
        s.kill_grace = Duration::from_millis(500);
        s
    }

    fn runner(&self, tctl_body: &str) -> Runner {
        Runner::new(self.settings(tctl_body)).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Dead means gone, or a zombie waiting for a reaper that is not ours.
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
    }
}

async fn wait_dead(pid_file: &Path) -> bool {
    let pid = std::fs::read_to_string(pid_file).unwrap().trim().to_owned();
    for _ in 0..40 {
        if is_dead(&pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn global_flags_precede_caller_args_and_env_is_allow_listed() {
    let f = Fixture::new();
    let mut settings = f.settings(r#"for a in "$@"; do echo "arg:$a"; done; env | sort"#);
    settings.proxy = Some("teleport.example.com:443".into());
    settings.identity_file = Some("/etc/mtcp/identity".into());
    settings.env = BTreeMap::from([
        ("TELEPORT_SIM_STATE".to_owned(), "/tmp/sim.json".to_owned()),
        // A configured value cannot turn client tools' self-update back on.
        ("TELEPORT_TOOLS_VERSION".to_owned(), "19.0.0".to_owned()),
    ]);
    let runner = Runner::new(settings).unwrap();
    let cancel = CancellationToken::new();

    let out = runner.run(Binary::Tctl, &args(&["get", "nodes", "--format=json"]), &cancel).await.unwrap();
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(
        out.argv,
        args(&[
            "tctl",
            "-i",
            "/etc/mtcp/identity",
            "--auth-server",
            "teleport.example.com:443",
            "get",
            "nodes",
            "--format=json"
        ])
    );
    let arg_lines: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("arg:")).collect();
    assert_eq!(
        arg_lines[..5],
        ["arg:-i", "arg:/etc/mtcp/identity", "arg:--auth-server", "arg:teleport.example.com:443", "arg:get"]
    );
    let home = f.path("home");
    let env: BTreeMap<&str, &str> =
        out.stdout.lines().filter(|l| !l.starts_with("arg:")).filter_map(|l| l.split_once('=')).collect();
    assert_eq!(env["PATH"], SAFE_PATH);
    assert_eq!(env["HOME"], home.to_str().unwrap());
    assert_eq!(env["TELEPORT_HOME"], home.to_str().unwrap());
    assert_eq!(env["LANG"], "C.UTF-8");
    assert_eq!(env["TELEPORT_SIM_STATE"], "/tmp/sim.json");
    assert_eq!(env["TELEPORT_TOOLS_VERSION"], "off", "no client tools self-update");
    let allowed =
        ["PATH", "HOME", "TELEPORT_HOME", "LANG", "TELEPORT_SIM_STATE", "TELEPORT_TOOLS_VERSION", "PWD", "SHLVL", "_"];
    for name in env.keys() {
        assert!(allowed.contains(name), "unexpected variable {name} in the child");
    }

    let out = runner.run(Binary::Tsh, &args(&["request", "ls"]), &cancel).await.unwrap();
    assert!(out.stdout.contains("arg:--proxy\narg:teleport.example.com:443\narg:request"));
    assert!(out.stdout.contains("\nTELEPORT_TOOLS_VERSION=off\n"), "tsh too: {}", out.stdout);
}

#[tokio::test]
async fn a_bare_binary_name_is_found_on_the_safe_path() {
    let f = Fixture::new();
    let mut s = f.settings("true");
    s.tctl_path = "sh".into();
    let runner = Runner::new(s).unwrap();
    let out = runner.run(Binary::Tctl, &args(&["-c", "echo $PATH"]), &CancellationToken::new()).await.unwrap();
    assert_eq!(out.stdout.trim(), SAFE_PATH);
    assert_eq!(out.argv[0], "sh");
}

#[tokio::test]
async fn home_dir_is_created_private() {
    let f = Fixture::new();
    let _runner = f.runner("true");
    let mode = std::fs::metadata(f.path("home")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[tokio::test]
async fn settings_that_would_leak_or_break_are_refused() {
    let f = Fixture::new();
    let mut s = f.settings("true");
    s.env.insert("TELEPORT_DEBUG".into(), "1".into());
    assert!(matches!(Runner::new(s), Err(RunnerError::InvalidSetting { .. })));
    let mut s = f.settings("true");
    s.env_passthrough.push("HOME".into());
    assert!(Runner::new(s).is_err());
    let mut s = f.settings("true");
    s.timeout = Duration::ZERO;
    assert!(Runner::new(s).is_err());
}

#[tokio::test]
async fn failure_is_an_outcome_and_classified() {
    let f = Fixture::new();
    let runner = f.runner(
        r#"printf 'usage: tctl get\n\n\033[31mERROR: \033[0maccess denied to perform action "list" on "node"\n\n' >&2; exit 1"#,
    );
    let out = runner.run(Binary::Tctl, &args(&["get", "nodes"]), &CancellationToken::new()).await.unwrap();
    assert_eq!(out.exit_code, Some(1));
    let err = classify(&out).unwrap();
    assert_eq!(
        err,
        TeleportError::AccessDenied { message: r#"access denied to perform action "list" on "node""#.into() }
    );
    assert_eq!(
        err.to_string(),
        "Teleport refused; its message:\n<untrusted-data format=\"text\">\naccess denied to perform action \"list\" on \"node\"\n</untrusted-data>"
    );
}

#[tokio::test]
async fn timeout_kills_and_reports() {
    let f = Fixture::new();
    let mut s = f.settings("echo started; sleep 30");
    s.timeout = Duration::from_millis(300);
    let runner = Runner::new(s).unwrap();
    let started = Instant::now();
    let err = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let RunError::TimedOut { after, output } = err else { panic!("expected a timeout, got {err:?}") };
    assert_eq!(after, Duration::from_millis(300));
    assert_eq!(output.stdout, "started\n");
    assert_eq!(output.exit_code, None, "killed by a signal");
}

#[tokio::test]
async fn sigkill_follows_an_ignored_sigterm_after_the_grace_period() {
    let f = Fixture::new();
    // A shell loop with no child process: only the leader can delay the kill.
    let mut s = f.settings("trap '' TERM; echo ready; while :; do :; done");
    s.timeout = Duration::from_millis(200);
    s.kill_grace = Duration::from_millis(700);
    let runner = Runner::new(s).unwrap();
    let started = Instant::now();
    let err = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap_err();
    let elapsed = started.elapsed();
    let RunError::TimedOut { output, .. } = err else { panic!("expected a timeout") };
    assert!(elapsed >= Duration::from_millis(900), "SIGKILL came before the grace period: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(output.stdout, "ready\n");
    assert_eq!(output.exit_code, None, "ended by SIGKILL");
}

#[tokio::test]
async fn the_whole_process_group_is_killed_on_timeout() {
    let f = Fixture::new();
    let pid_file = f.path("grandchild.pid");
    let mut s = f.settings(&format!("sleep 300 & echo $! > {}; wait", pid_file.display()));
    s.timeout = Duration::from_millis(300);
    let runner = Runner::new(s).unwrap();
    let err = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, RunError::TimedOut { .. }));
    assert!(wait_dead(&pid_file).await, "the grandchild sleep survived");
}

#[tokio::test]
async fn a_background_grandchild_holding_stdout_does_not_stall_a_clean_exit() {
    let f = Fixture::new();
    let pid_file = f.path("bg.pid");
    let runner = f.runner(&format!("sleep 300 & echo $! > {}; echo done", pid_file.display()));
    let started = Instant::now();
    let out = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.stdout, "done\n");
    assert!(wait_dead(&pid_file).await, "the background sleep survived");
}

#[tokio::test]
async fn cancellation_stops_the_run() {
    let f = Fixture::new();
    let pid_file = f.path("c.pid");
    let runner = f.runner(&format!("echo $$ > {}; sleep 30", pid_file.display()));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = runner.run(Binary::Tctl, &[], &cancel).await.unwrap_err();
    assert!(matches!(err, RunError::Cancelled { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(wait_dead(&pid_file).await);

    // Already cancelled: nothing is started.
    let err = runner.run(Binary::Tctl, &[], &cancel).await.unwrap_err();
    let RunError::Cancelled { output } = err else { panic!() };
    assert_eq!(output.duration, Duration::ZERO);
}

#[tokio::test]
async fn output_beyond_the_cap_is_drained_and_flagged() {
    let f = Fixture::new();
    let mut s =
        f.settings("head -c 1000000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2; echo end >&2");
    s.output_limit_bytes = 1000;
    let runner = Runner::new(s).unwrap();
    let out = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap();
    assert_eq!(out.exit_code, Some(0), "the child finished: the pipe kept draining");
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.stdout.bytes().all(|b| b == b'a'));
    assert!(out.stdout_truncated && out.stderr_truncated);
    assert_eq!(out.stderr.len(), 1000);

    let small = f.runner("echo small");
    let out = small.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap();
    assert!(!out.stdout_truncated);
}

#[tokio::test]
async fn invalid_utf8_is_replaced() {
    let f = Fixture::new();
    let runner = f.runner(r"printf 'ok \377\n'");
    let out = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap();
    assert_eq!(out.stdout, "ok \u{fffd}\n");
}

#[tokio::test]
async fn missing_binary_is_a_spawn_error() {
    let f = Fixture::new();
    let mut s = f.settings("true");
    s.tctl_path = f.path("does-not-exist");
    let runner = Runner::new(s).unwrap();
    let err = runner.run(Binary::Tctl, &[], &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, RunError::Spawn { .. }), "{err:?}");
}

#[tokio::test]
async fn secrets_in_args_are_redacted_in_argv_and_output() {
    let f = Fixture::new();
    let runner = f.runner(r#"echo "$@""#);
    let out = runner
        .run(Binary::Tctl, &args(&["tokens", "rm", "8f7e6d5c4b3a29180716"]), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.argv, args(&["tctl", "tokens", "rm", "[REDACTED]"]));
    // The output is raw for parsers, but what the command line holds secret never comes back
    // through it (a CLI echoes its arguments in errors: `token "…" not found`).
    assert_eq!(out.stdout, "tokens rm [REDACTED]\n");
    let stored = out.redacted();
    assert_eq!(stored.argv, out.argv);
}

/// Re-runs this test binary with secrets in its environment; the child half checks that the
/// CLI sees only the allow-listed variables (setting variables in-process would need `unsafe`).
#[test]
fn parent_environment_does_not_reach_the_cli() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "env_probe_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("MTCP_ENV_PROBE", "1")
        .env("SECRET_X", "hunter2")
        .env("TELEPORT_DEBUG", "1")
        .env("MTCP_PASSED", "visible")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PROBE_OK"), "{stdout}");
}

#[test]
#[ignore = "run by parent_environment_does_not_reach_the_cli"]
fn env_probe_child() {
    if std::env::var_os("MTCP_ENV_PROBE").is_none() {
        return;
    }
    let f = Fixture::new();
    let mut s = f.settings("env");
    s.env_passthrough = vec!["MTCP_PASSED".into(), "NOT_SET_ANYWHERE".into()];
    let runner = Runner::new(s).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = rt.block_on(runner.run(Binary::Tctl, &[], &CancellationToken::new())).unwrap();
    assert!(!out.stdout.contains("SECRET_X"), "{}", out.stdout);
    assert!(!out.stdout.contains("hunter2"));
    assert!(!out.stdout.contains("TELEPORT_DEBUG"));
    assert!(!out.stdout.contains("NOT_SET_ANYWHERE"));
    assert!(out.stdout.contains("MTCP_PASSED=visible"));
    println!("PROBE_OK");
}

#[tokio::test]
async fn a_leaf_cluster_gives_tsh_its_name_and_never_runs_tctl() {
    let f = Fixture::new();
    let mut settings = f.settings(r#"for a in "$@"; do echo "arg:$a"; done"#);
    settings.proxy = Some("root.example.com:443".into());
    settings.leaf_cluster = Some("eu-leaf.example.com".into());
    let runner = Runner::new(settings).unwrap();
    let cancel = CancellationToken::new();
    let out = runner.run(Binary::Tsh, &args(&["ls", "--format=json"]), &cancel).await.unwrap();
    let seen: Vec<&str> = out.stdout.lines().map(|l| l.trim_start_matches("arg:")).collect();
    assert_eq!(seen, ["--proxy", "root.example.com:443", "--cluster", "eu-leaf.example.com", "ls", "--format=json"]);
    // tctl has no `--cluster`: it would answer for the root. It is refused, and never started.
    let witness = f.path("tctl-ran");
    let mut settings = f.settings(&format!("touch {}", witness.display()));
    settings.leaf_cluster = Some("eu-leaf.example.com".into());
    let runner = Runner::new(settings).unwrap();
    let err = runner.run(Binary::Tctl, &args(&["get", "nodes"]), &cancel).await.unwrap_err();
    assert!(matches!(err, RunError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("tctl cannot address the leaf cluster \"eu-leaf.example.com\""), "{err}");
    assert!(!witness.exists(), "tctl ran");
}
