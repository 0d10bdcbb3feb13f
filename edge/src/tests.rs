//! The agent's side of a lease with real processes and no gateway: the simulator as `tsh`, the
//! reports and lines the gateway would get (read from the outbox), the state file, the processes.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::domain::{LeaseKind, LeaseTarget};
use mtcp_shared::edge::{EndReason, Registered, StartOrder};
use mtcp_shared::teleport::proxy::process_start_time;
use mtcp_shared::teleport::{Runner, RunnerSettings};
use uuid::Uuid;

use crate::client::Gateway;
use crate::credential::Credential;
use crate::outbox::Report;
use crate::session::{Session, Setup, Stop};
use crate::state::StateFile;

/// `target/debug/teleport-sim`, built by `cargo build --workspace --bins`.
fn simulator() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let sim = target.join("debug/teleport-sim");
    assert!(sim.exists(), "{} is missing: run `cargo build --workspace --bins` first", sim.display());
    sim
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    /// `tsh` as the simulator (it dispatches on its name).
    fn sim_tsh(&self) -> PathBuf {
        let tsh = self.dir.path().join("tsh");
        std::os::unix::fs::symlink(simulator(), &tsh).unwrap();
        tsh
    }

    /// `tsh` as a script that announces a proxy and exits.
    fn exiting_tsh(&self) -> PathBuf {
        let tsh = self.dir.path().join("tsh-exits");
        std::fs::write(&tsh, "#!/bin/sh\necho 'Started DB proxy on 127.0.0.1:45999'\nsleep 0.2\nexit 3\n").unwrap();
        std::fs::set_permissions(&tsh, std::fs::Permissions::from_mode(0o755)).unwrap();
        tsh
    }

    /// A run that has registered; the gateway URL leads nowhere (nothing here sends).
    fn session(&self, tsh: PathBuf) -> Arc<Session> {
        let cred = self.dir.path().join("credential");
        std::fs::write(&cred, "secret").unwrap();
        std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o600)).unwrap();
        let env = BTreeMap::from([
            ("TELEPORT_SIM_STATE_DIR".to_owned(), self.dir.path().join("sim").display().to_string()),
            ("TELEPORT_SIM_ALLOW_NO_IDENTITY".to_owned(), "1".to_owned()),
        ]);
        let runner =
            Runner::new(RunnerSettings { tsh_path: tsh, env, ..RunnerSettings::new(self.dir.path().join("home")) })
                .unwrap();
        let setup = Setup {
            gateway: Gateway::new("http://127.0.0.1:9", Credential::read(&cred).unwrap()).unwrap(),
            runner,
            state: Arc::new(StateFile::open(self.dir.path())),
            stop_grace: Duration::from_secs(2),
        };
        let rhythm = Registered {
            agent_id: Uuid::new_v4(),
            heartbeat_interval_ms: 1000,
            poll_wait_ms: 1000,
            fail_closed_after_ms: 10_000,
        };
        Session::new(rhythm, setup)
    }
}

fn order(kind: LeaseKind, target: LeaseTarget, expires_in: Duration) -> StartOrder {
    StartOrder {
        lease_id: Uuid::new_v4(),
        kind,
        target,
        listen_addr: None,
        expires_at: chrono::Utc::now() + chrono::Duration::from_std(expires_in).unwrap(),
    }
}

fn db() -> LeaseTarget {
    LeaseTarget::Db { db: "orders".into(), db_user: Some("ro".into()), db_name: None }
}

/// The next report the gateway would get (popped), waiting for it.
async fn next_report(s: &Session) -> (Uuid, Report) {
    for _ in 0..200 {
        if let Some(r) = s.outbox.next_report() {
            s.outbox.pop_report();
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no report within 10 s");
}

fn lines(s: &Session) -> Vec<String> {
    s.outbox.next_lines().0.into_iter().map(|l| format!("{}: {}", l.stream, l.line)).collect()
}

#[tokio::test]
async fn a_proxy_starts_listens_is_recorded_and_stops_when_ordered() {
    let f = Fixture::new();
    let s = f.session(f.sim_tsh());
    let o = order(LeaseKind::ProxyDb, db(), Duration::from_secs(3600));
    let id = o.lease_id;
    assert!(s.claim(id));
    assert!(!s.claim(id), "a repeated order starts nothing");
    let task = tokio::spawn(crate::lease::start(s.clone(), o));

    let (lease, report) = next_report(&s).await;
    let Report::Started { listen_addr, pid, pid_start_time, .. } = report else { panic!("{report:?}") };
    assert_eq!(lease, id);
    assert!(listen_addr.starts_with("127.0.0.1:"), "{listen_addr}");
    tokio::net::TcpStream::connect(&listen_addr).await.expect("the proxy listens where it said");
    assert_eq!(pid_start_time, process_start_time(pid));
    let recorded = s.setup.state.list();
    assert_eq!((recorded.len(), recorded[0].lease_id, recorded[0].pid), (1, id, pid));
    assert!(lines(&s).iter().any(|l| l.contains("Started authenticated tunnel")), "{:?}", lines(&s));
    assert_eq!(s.running(), [id]);

    let stop = Stop { report: Some(EndReason::Stopped), hard: false, why: "stop_proxy".into() };
    assert_eq!(s.stop(id, stop), Some(true));
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(next_report(&s).await, (id, Report::Ended { reason: EndReason::Stopped, exit_code: None }));
    assert_eq!(process_start_time(pid), None, "the process is gone");
    assert!(tokio::net::TcpStream::connect(&listen_addr).await.is_err(), "nothing listens any more");
    assert!(s.setup.state.list().is_empty() && s.running().is_empty());
}

#[tokio::test]
async fn a_proxy_is_stopped_at_its_expiry_without_a_word_from_the_gateway() {
    let f = Fixture::new();
    let s = f.session(f.sim_tsh());
    let o = order(LeaseKind::ProxyApp, LeaseTarget::App { app: "grafana".into() }, Duration::from_secs(2));
    let id = o.lease_id;
    assert!(s.claim(id));
    let task = tokio::spawn(crate::lease::start(s.clone(), o));
    assert!(matches!(next_report(&s).await.1, Report::Started { .. }));
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(next_report(&s).await, (id, Report::Ended { reason: EndReason::Expired, exit_code: None }));
    assert!(s.setup.state.list().is_empty());
}

#[tokio::test]
async fn a_proxy_that_exits_by_itself_is_reported_with_its_exit_code() {
    let f = Fixture::new();
    let s = f.session(f.exiting_tsh());
    let o = order(LeaseKind::ProxyDb, db(), Duration::from_secs(3600));
    let id = o.lease_id;
    assert!(s.claim(id));
    let task = tokio::spawn(crate::lease::start(s.clone(), o));
    assert!(
        matches!(next_report(&s).await.1, Report::Started { ref listen_addr, .. } if listen_addr == "127.0.0.1:45999")
    );
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(next_report(&s).await, (id, Report::Ended { reason: EndReason::Exited, exit_code: Some(3) }));
}

#[tokio::test]
async fn orders_the_agent_cannot_carry_out_are_reported_failed() {
    let f = Fixture::new();
    let s = f.session(PathBuf::from("/bin/false"));
    let failed = |r: (Uuid, Report)| match r.1 {
        Report::Failed { error } => error,
        other => panic!("{other:?}"),
    };
    let cases = [
        (
            order(
                LeaseKind::ProxySsh,
                LeaseTarget::Ssh { host: "h".into(), login: None, port: None },
                Duration::from_secs(60),
            ),
            "edge agents do not run proxy_ssh",
        ),
        (order(LeaseKind::Vnet, LeaseTarget::Vnet, Duration::from_secs(60)), "edge agents do not run vnet"),
        (order(LeaseKind::ProxyApp, db(), Duration::from_secs(60)), "not a proxy_app target"),
        (
            StartOrder {
                listen_addr: Some("0.0.0.0:5432".into()),
                ..order(LeaseKind::ProxyDb, db(), Duration::from_secs(60))
            },
            "not a loopback address",
        ),
        (order(LeaseKind::ProxyDb, db(), Duration::from_secs(60)), "tsh exited with code 1 before it was ready"),
    ];
    for (o, want) in cases {
        assert!(s.claim(o.lease_id));
        crate::lease::start(s.clone(), o).await;
        let error = failed(next_report(&s).await);
        assert!(error.contains(want), "{error}");
    }
    assert!(s.running().is_empty() && s.setup.state.list().is_empty());
}

#[test]
fn tsh_gets_teleport_and_network_settings_but_not_what_the_runner_owns() {
    let names = [
        "TELEPORT_PROXY",
        "TELEPORT_DEBUG",
        "TELEPORT_HOME",
        "HTTPS_PROXY",
        "no_proxy",
        "AWS_SECRET_ACCESS_KEY",
        "PATH",
    ];
    assert_eq!(crate::passthrough(names.iter().map(|n| n.to_string())), ["HTTPS_PROXY", "TELEPORT_PROXY", "no_proxy"]);
}

#[tokio::test]
async fn proxies_are_killed_when_the_gateway_stays_unreachable() {
    let f = Fixture::new();
    let mut s = f.session(f.sim_tsh());
    Arc::get_mut(&mut s).unwrap().rhythm.fail_closed_after_ms = 1500;
    let watchdog = tokio::spawn(crate::loops::watchdog(s.clone()));
    let o = order(LeaseKind::ProxyDb, db(), Duration::from_secs(3600));
    let id = o.lease_id;
    assert!(s.claim(id));
    let task = tokio::spawn(crate::lease::start(s.clone(), o));
    let Report::Started { pid, .. } = next_report(&s).await.1 else { panic!("not started") };
    // Nothing answers at the gateway's address: the watchdog kills the proxy; the report waits
    // in the outbox for the gateway to come back.
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert!(s.since_contact() >= Duration::from_millis(1500));
    assert_eq!(next_report(&s).await, (id, Report::Ended { reason: EndReason::FailClosed, exit_code: None }));
    assert_eq!(process_start_time(pid), None);
    s.over.cancel();
    watchdog.await.unwrap();
}

#[test]
fn the_credential_only_goes_over_tls_or_to_this_host() {
    use crate::client::check_gateway_url;
    for ok in [
        "https://mtcp.example.com",
        "https://10.0.0.5:8443/",
        "http://127.0.0.1:8080",
        "http://[::1]:80",
        "http://localhost",
    ] {
        assert!(check_gateway_url(ok).is_ok(), "{ok}");
    }
    for bad in ["http://mtcp.example.com", "http://10.0.0.5", "ftp://x", "mtcp.example.com", "https://"] {
        let err = check_gateway_url(bad).unwrap_err().to_string();
        assert!(err.contains("--gateway"), "{bad}: {err}");
    }
}
