//! A lease's process started the way the worker will: `tsh proxy …` through the runner (global
//! flags, allow-listed environment, own process group), ready when its startup line names the
//! address; it serves there and stops with its group.

use std::time::Duration;

use mtcp_shared::config::Config;
use mtcp_shared::domain::{LeaseKind, LeaseTarget};
use mtcp_shared::teleport::Runner;
use mtcp_shared::teleport::proxy::{StartError, Startup, proxy_args, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn runner(dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Runner {
    let mut config = Config::default();
    config.tsh.home = dir.join("home");
    mtcp_cli::dev::use_simulator(&mut config, &dir.join("sim"), None).unwrap();
    for (k, v) in extra_env {
        config.teleport.env.insert((*k).into(), (*v).into());
    }
    Runner::new(mtcp_worker::runner_settings(&config, "test")).unwrap()
}

#[tokio::test]
async fn each_listening_kind_starts_serves_and_stops_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    // The simulated tsh has VNet only where Teleport does (macOS, Windows).
    let r = runner(dir.path(), &[("TELEPORT_SIM_OS", "darwin")]);
    for (kind, target) in [
        (LeaseKind::ProxyDb, serde_json::json!({ "db": "orders" })),
        (LeaseKind::ProxyApp, serde_json::json!({ "app": "grafana" })),
        (LeaseKind::ProxyMcp, serde_json::json!({ "app": "mcp-fs" })),
        (LeaseKind::ProxyKube, serde_json::json!({ "kube_cluster": "prod-eks" })),
    ] {
        let target = LeaseTarget::parse(kind, Some(&target)).unwrap();
        let mut started = start(&r, kind, &proxy_args(&target, None), Duration::from_secs(5)).await.unwrap();
        let Some(Startup::Listening(addr)) = started.startup else { panic!("{kind}: no address") };
        // Ready for a kube lease means its kubeconfig is known too.
        let kubeconfig = started.kubeconfig.clone();
        assert_eq!(kubeconfig.is_some(), kind == LeaseKind::ProxyKube, "{kind}: {kubeconfig:?}");
        if let Some(path) = kubeconfig {
            assert!(path.ends_with(&format!("localproxy-{}-kubeconfig", addr.port())), "{path}");
            assert!(std::path::Path::new(&path).exists(), "{path}");
        }
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping", "{kind} serves on {addr}");
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(started.pgid), nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(5), started.child.wait()).await.unwrap().unwrap();
        assert_eq!(status.code(), Some(0), "{kind} exits 0 on SIGTERM");
    }
    let vnet = start(&r, LeaseKind::Vnet, &proxy_args(&LeaseTarget::Vnet, None), Duration::from_secs(5)).await.unwrap();
    assert_eq!(vnet.startup, Some(Startup::Ready));
}

#[tokio::test]
async fn a_proxy_that_fails_at_start_reports_teleports_message() {
    let dir = tempfile::tempdir().unwrap();
    let r = runner(dir.path(), &[("TELEPORT_SIM_PROXY_FAIL", "1")]);
    let target = LeaseTarget::parse(LeaseKind::ProxyDb, Some(&serde_json::json!({ "db": "orders" }))).unwrap();
    let err = start(&r, LeaseKind::ProxyDb, &proxy_args(&target, None), Duration::from_secs(5)).await.unwrap_err();
    match err {
        StartError::Exited { exit_code, stderr } => {
            assert_eq!(exit_code, Some(1));
            assert!(stderr.contains("connection refused"), "{stderr}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_proxy_ignoring_sigterm_is_killed_after_the_grace_period_and_leftovers_by_start_time() {
    use mtcp_shared::teleport::proxy::{kill_leftover, process_start_time, stop_group};
    let dir = tempfile::tempdir().unwrap();
    let r = runner(dir.path(), &[("TELEPORT_SIM_IGNORE_SIGTERM", "1")]);
    let target = LeaseTarget::parse(LeaseKind::ProxyApp, Some(&serde_json::json!({ "app": "grafana" }))).unwrap();
    let args = proxy_args(&target, None);
    let mut stubborn = start(&r, LeaseKind::ProxyApp, &args, Duration::from_secs(5)).await.unwrap();
    let t = std::time::Instant::now();
    let status = stop_group(&mut stubborn.child, stubborn.pgid, Duration::from_millis(300)).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300), "SIGTERM was ignored, so the grace period ran out");
    assert_eq!(status.code(), None, "killed by SIGKILL");

    // A leftover is killed only while its pid still has the recorded start time.
    let mut left = start(&r, LeaseKind::ProxyApp, &args, Duration::from_secs(5)).await.unwrap();
    let started = process_start_time(left.pgid).unwrap();
    assert!(!kill_leftover(left.pgid, started + 1), "another process with this pid is left alone");
    assert!(kill_leftover(left.pgid, started));
    let status = tokio::time::timeout(Duration::from_secs(5), left.child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), None);
}
