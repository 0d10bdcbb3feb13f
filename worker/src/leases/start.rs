//! The `start_proxy` call (lane `leases`, at most once): take the lease,
//! start its process (or `proxy_ssh` listener), mark it active and hand it to a supervisor. The job
//! ends as soon as the lease is active or failed; the process never holds a job slot.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use chrono::Utc;
use mtcp_shared::db::leases::{LeaseEnd, LeaseRow, Take};
use mtcp_shared::db::operations::Outcome;
use mtcp_shared::db::queue::Claimed;
use mtcp_shared::db::{self, DbError};
use mtcp_shared::domain::{LeaseKind, LeaseStatus, LeaseTarget, OpId, OperationStatus, ToolJob, parse_listen_addr};
use mtcp_shared::leases::LeaseView;
use mtcp_shared::teleport::discovery::{self, TargetCheck};
use mtcp_shared::teleport::proxy::{self, StartError, Startup, proxy_args, stop_group};
use uuid::Uuid;

use super::{Ending, Lease, LeaseManager, Running, event};
use crate::lifecycle::Runner;
use crate::progress::Steps;

/// Handle one claimed start of the `leases` lane. Failures to start are outcomes on the operation
/// and the lease.
pub(crate) async fn handle(claimed: Claimed, mgr: Data<Arc<LeaseManager>>) -> Result<(), BoxDynError> {
    let mgr: Arc<LeaseManager> = (*mgr).clone();
    let runner = Runner { pool: &mgr.pool, worker_id: &mgr.worker_id, tracker: &mgr.starts };
    let body_mgr = mgr.clone();
    runner.run(claimed, move |claimed| run_job(claimed.job, body_mgr)).await
}

async fn run_job(job: ToolJob, mgr: Arc<LeaseManager>) -> Result<Outcome, DbError> {
    let mtcp_shared::tools::ToolCall::StartProxy(start_call) = &job.call else {
        return Ok(Outcome::failed("a call that is not a lease start reached the leases lane"));
    };
    let id = start_call.lease_id;
    tracing::Span::current().record("lease_id", tracing::field::display(id));
    match mgr.runners.get(job.cluster.as_deref()) {
        Ok((cluster, runner)) => start(&mgr, job.op_id, id, cluster, runner).await,
        Err(not_served) => Ok(Outcome::failed(not_served)),
    }
}

async fn start(
    mgr: &Arc<LeaseManager>,
    op_id: OpId,
    lease_id: Uuid,
    cluster: &str,
    runner: &mtcp_shared::teleport::Runner,
) -> Result<Outcome, DbError> {
    let mut steps = Steps::new(&mgr.pool, op_id, 3);
    let me = mgr.agent.id;
    let mut conn = mgr.pool.acquire().await?;
    let row = match db::leases::take(&mut conn, lease_id, op_id, me, &mgr.agent.host).await? {
        Take::Taken(row) => row,
        Take::NotStarting(row) => return stopped_before_start(mgr, &row).await,
        Take::Owned(row) => {
            let owner = row.agent_id.map(|a| a.to_string()).unwrap_or_default();
            return Ok(Outcome::failed(format!("lease {lease_id} is already being started by worker {owner}")));
        }
        Take::Missing => return Ok(Outcome::failed(format!("lease {lease_id} of this operation does not exist"))),
    };
    // The configured cluster it runs on (leases made before there were several have none yet).
    db::leases::set_cluster(&mut *conn, lease_id, cluster).await?;
    drop(conn);
    steps.step(&format!("lease taken by worker {me} on {}", mgr.agent.host)).await;
    let kind = match LeaseKind::from_str(&row.kind) {
        Ok(kind) => kind,
        // The table's CHECK makes this a worker older than the schema: do not leave the lease starting.
        Err(e) => {
            let mut conn = mgr.pool.acquire().await?;
            db::leases::end(&mut *conn, lease_id, LeaseEnd::Failed, "start_failed", None).await?;
            return Ok(Outcome::failed(e.to_string()));
        }
    };
    let lease = Lease { id: lease_id, kind };
    let spec = match LaunchSpec::of(&row, kind) {
        Ok(spec) => spec,
        Err(msg) => return Ok(start_failed(mgr, lease, &msg, None, "").await),
    };
    // A target no agent serves fails here, with the names the caller probably meant, rather than
    // with tsh's "not found" after a process start.
    match discovery::check_target(runner, &spec.target, &tokio_util::sync::CancellationToken::new()).await {
        TargetCheck::Known => {}
        TargetCheck::Unknown(msg) => return Ok(start_failed(mgr, lease, &msg, None, "").await),
        TargetCheck::Unavailable(why) => {
            tracing::warn!(lease_id = %lease_id, "cannot list the cluster's targets; tsh will check: {why}");
        }
    }
    let running = match launch(mgr, runner, kind, &spec).await {
        Ok(running) => running,
        Err(f) => return Ok(start_failed(mgr, lease, &f.msg, f.exit_code, &f.stderr).await),
    };
    let running_kubeconfig = match &running {
        Running::Process(s) => s.kubeconfig.clone(),
        Running::Listener { .. } => None,
    };
    let (pid, pid_start_time, listen_addr, early) = match &running {
        Running::Process(s) => {
            let listen = match s.startup {
                Some(Startup::Listening(addr)) => Some(addr.to_string()),
                _ => None,
            };
            let start_time = proxy::process_start_time(s.pgid).and_then(|t| i64::try_from(t).ok());
            steps.step(&format!("process started (pid {})", s.pgid)).await;
            (s.pgid, start_time, listen, s.early_lines.clone())
        }
        Running::Listener { listener, .. } => {
            let addr = listener.local_addr().map(|a| a.to_string()).ok();
            steps.step("listener bound; each connection gets its own tsh proxy ssh").await;
            // The worker itself serves the lease; no start time, so leftover cleanup never kills it.
            (i32::try_from(std::process::id()).unwrap_or_default(), None, addr, Vec::new())
        }
    };
    let mut conn = mgr.pool.acquire().await?;
    let active =
        db::leases::activate(&mut *conn, lease_id, me, &mgr.agent.host, pid, pid_start_time, listen_addr.as_deref())
            .await?;
    if !active {
        // Stopped or expired while it was starting.
        let row = db::leases::get(&mut *conn, lease_id).await?;
        drop(conn);
        return Ok(stopped_while_starting(mgr, lease, running, early, row.as_ref()).await);
    }
    drop(conn);
    let ready = match &listen_addr {
        Some(addr) => format!("listening on {addr}"),
        None => "ready (no address)".to_owned(),
    };
    steps.step(&ready).await;
    event(kind, "started");
    tracing::info!(kind = kind.as_str(), pid, listen_addr = ?listen_addr, "lease active");
    mgr.supervise(lease, running, with_system(early, format!("lease active: pid {pid}, {ready}"))).await;
    // A stop announced between the activation and the hand-over found no supervisor: look again.
    mgr.check(lease_id).await?;
    let mut conn = mgr.pool.acquire().await?;
    // The caller gave up while the proxy was starting (closed stream, cancellation): the lease it
    // can no longer learn about must not keep running.
    if db::cancel::is_requested(&mut *conn, op_id).await? {
        db::leases::request_stop(&mut *conn, lease_id, "cancelled").await?;
        tracing::info!(lease_id = %lease_id, "start cancelled by the caller; stopping the lease");
        return Ok(Outcome::cancelled(format!(
            "cancelled by the caller while the proxy started; lease {lease_id} is being stopped"
        )));
    }
    Ok(match db::leases::get(&mut *conn, lease_id).await? {
        Some(row) => success(LeaseView::of(row, Utc::now()), running_kubeconfig, &mgr.agent.host),
        None => Outcome::failed(format!("lease {lease_id} disappeared while it started")),
    })
}

/// What to start, from the lease row (the source of truth for kind, target and address).
struct LaunchSpec {
    target: LeaseTarget,
    listen: Option<SocketAddr>,
}

impl LaunchSpec {
    fn of(row: &LeaseRow, kind: LeaseKind) -> Result<Self, String> {
        let target: LeaseTarget = serde_json::from_value(row.target.clone())
            .map_err(|e| format!("the lease's target is not a {kind} target: {e}"))?;
        let listen = row.requested_listen_addr.as_deref().map(parse_listen_addr).transpose().map_err(|e| e.0)?;
        Ok(Self { target, listen })
    }
}

/// Why a lease did not come up, in Teleport's words where it had any.
struct Failure {
    msg: String,
    exit_code: Option<i32>,
    /// Teleport's error lines (redacted).
    stderr: String,
}

async fn launch(
    mgr: &LeaseManager,
    runner: &mtcp_shared::teleport::Runner,
    kind: LeaseKind,
    spec: &LaunchSpec,
) -> Result<Running, Failure> {
    // `tsh proxy` binds 127.0.0.1 with `--port`; the host part of a requested address is loopback anyway.
    let args = proxy_args(&spec.target, spec.listen.map(|a| a.port()));
    if kind == LeaseKind::ProxySsh {
        return match super::ssh::bind(spec.listen).await {
            Ok(listener) => Ok(Running::Listener { listener, args, runner: runner.clone() }),
            Err(e) => {
                let addr = spec.listen.map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string());
                Err(Failure { msg: format!("cannot listen on {addr}: {e}"), exit_code: None, stderr: String::new() })
            }
        };
    }
    match proxy::start(runner, kind, &args, mgr.config.start_timeout).await {
        Ok(started) => Ok(Running::Process(Box::new(started))),
        Err(StartError::Exited { exit_code, stderr }) => {
            let code = exit_code.map_or_else(|| "a signal".to_owned(), |c| format!("code {c}"));
            // tsh's words may quote the cluster (app names, messages): they go in a marked section.
            let mut msg = format!(
                "tsh exited with {code} before it was ready; its output:{}",
                mtcp_shared::tools::untrusted::text_section(&stderr)
            );
            let at = super::hints::Where { agent_id: mgr.agent.id.to_string(), host: &mgr.agent.host };
            if let Some(why) = super::hints::explain(kind, &stderr, &at) {
                msg = format!("{why}. {msg}");
            }
            Err(Failure { msg, exit_code, stderr })
        }
        Err(e) => Err(Failure { msg: e.to_string(), exit_code: None, stderr: String::new() }),
    }
}

fn with_system(mut early: Vec<(String, String)>, line: String) -> Vec<(String, String)> {
    early.push(("system".to_owned(), line));
    early
}

fn success(view: LeaseView, kubeconfig: Option<String>, host: &str) -> Outcome {
    let mut result = serde_json::to_value(view).expect("a lease view serializes");
    mtcp_shared::redact::redact_json(&mut result);
    // A kube proxy speaks TLS with the proxy's own client certificate, which only the kubeconfig
    // tsh wrote carries: consumers must run on the worker's host and use that file.
    if let (Some(path), Some(map)) = (kubeconfig, result.as_object_mut()) {
        map.insert("kubeconfig".to_owned(), serde_json::Value::String(path));
        map.insert(
            "usage".to_owned(),
            serde_json::Value::String(format!(
                "for consumers on {host} (the worker's host) only: run them with KUBECONFIG set to this file, \
                 e.g. KUBECONFIG=<kubeconfig> kubectl get pods; the file is removed when the lease ends"
            )),
        );
    }
    Outcome {
        status: OperationStatus::Succeeded,
        audit_refs: None,
        exit_code: None,
        stdout: None,
        stderr: None,
        result: Some(result),
        error: None,
    }
}

/// The process did not come up: Teleport's error lines go to the lease's logs and the operation.
async fn start_failed(mgr: &LeaseManager, lease: Lease, msg: &str, exit_code: Option<i32>, stderr: &str) -> Outcome {
    tracing::warn!(kind = lease.kind.as_str(), ?exit_code, error = msg, "lease start failed");
    let mut lines: Vec<(String, String)> =
        stderr.lines().filter(|l| !l.trim().is_empty()).map(|l| ("stderr".to_owned(), l.to_owned())).collect();
    lines.push(("system".to_owned(), mtcp_shared::redact::redact_text(&format!("start failed: {msg}"))));
    let ending = Ending::start_failed(msg);
    match mgr.pool.acquire().await {
        Ok(mut conn) => {
            let keep = i64::from(mgr.config.log_lines_kept);
            if let Err(e) = db::leases::append_logs(&mut conn, lease.id, &lines, keep).await {
                tracing::warn!(error = %e, "could not store the start failure's lines");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not store the start failure's lines"),
    }
    mgr.end(lease, &ending, exit_code).await;
    Outcome {
        exit_code,
        stderr: (!stderr.is_empty()).then(|| stderr.to_owned()),
        ..Outcome::failed(format!("the {} proxy did not start: {msg}", lease.kind))
    }
}

/// The lease was stopped (or expired) before any worker took it: nothing was started.
async fn stopped_before_start(mgr: &LeaseManager, row: &LeaseRow) -> Result<Outcome, DbError> {
    let reason = row.stop_reason.clone().unwrap_or_else(|| row.status.as_str().to_owned());
    if row.status == LeaseStatus::Stopping {
        let (how, name) =
            if reason == "expired" { (LeaseEnd::Expired, "expired") } else { (LeaseEnd::Stopped, "stopped") };
        let mut conn = mgr.pool.acquire().await?;
        if db::leases::end(&mut *conn, row.lease_id, how, &reason, None).await?
            && let Ok(kind) = LeaseKind::from_str(&row.kind)
        {
            event(kind, name);
        }
    }
    Ok(Outcome::failed(format!(
        "lease {} was stopped ({reason}) before it started; no process was started",
        row.lease_id
    )))
}

/// `activate` found the lease no longer `starting`: stop what was started and end the lease.
async fn stopped_while_starting(
    mgr: &LeaseManager,
    lease: Lease,
    running: Running,
    early: Vec<(String, String)>,
    row: Option<&LeaseRow>,
) -> Outcome {
    let ending =
        Ending::from_row(row, mgr.agent.id).unwrap_or_else(|| Ending::start_failed("it could not be activated"));
    let mut lines = early;
    lines.push(("system".to_owned(), format!("stopped before it became active: {}", ending.why)));
    match running {
        Running::Process(mut s) => {
            let status = stop_group(&mut s.child, s.pgid, mgr.config.stop_grace).await;
            lines.push(("system".to_owned(), format!("process {} {}", s.pgid, super::process::describe(status))));
        }
        Running::Listener { listener, .. } => drop(listener),
    }
    if let Ok(mut conn) = mgr.pool.acquire().await {
        let _ = db::leases::append_logs(&mut conn, lease.id, &lines, i64::from(mgr.config.log_lines_kept)).await;
    }
    mgr.end(lease, &ending, None).await;
    Outcome::failed(format!(
        "lease {} was stopped ({}) before it became active; its process was stopped",
        lease.id, ending.why
    ))
}
