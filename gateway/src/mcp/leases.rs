//! The lease tools: `start_proxy`'s policy checks and its capped creation (in the transaction that
//! records the call and pushes the job), and the reads and stop the gateway answers itself.
//! Callers limited to their own objects (the policy's `own_objects_only`) see and act on their own
//! leases; others on all. Another actor's lease is reported
//! exactly like a missing one, so lease ids cannot be probed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, leases::Created, leases::LeaseRow, leases::NewLease, operations::NewOperation};
use mtcp_shared::domain::{Actor, LeaseTarget, ToolJob};
use mtcp_shared::leases::{LeaseList, LeaseLogLine, LeaseLogs, LeaseView};
use mtcp_shared::notifier::Note;
use mtcp_shared::policy::Decision;
use mtcp_shared::tools::{LeaseIdArgs, ListLeasesArgs, ProxyLogsArgs, StartProxy, StopProxyArgs};
use uuid::Uuid;

use super::args;
use crate::state::AppState;

/// A lease `start_proxy` may create, once the policy's limits are applied.
#[derive(Debug)]
pub struct StartPlan {
    pub lease_id: Uuid,
    target: LeaseTarget,
    kind: mtcp_shared::domain::LeaseKind,
    listen_addr: Option<String>,
    expires_at: DateTime<Utc>,
    ttl_seconds: u64,
    cap: u32,
    edge_agent: Option<String>,
}

impl StartPlan {
    /// The lease as an approval keeps it until the call is approved (its TTL counts from then).
    pub fn for_approval(&self) -> db::approvals::LeasePlan {
        db::approvals::LeasePlan {
            lease_id: self.lease_id,
            kind: self.kind,
            target: serde_json::to_value(&self.target).expect("target serializes"),
            listen_addr: self.listen_addr.clone(),
            ttl_seconds: self.ttl_seconds,
            cap: self.cap,
            edge_agent: self.edge_agent.clone(),
        }
    }
}

/// Apply the caller's constraints to validated `start_proxy` arguments. Err: the denial reason.
pub fn plan_start(actor: &Actor, decision: &Decision, start: &StartProxy) -> Result<StartPlan, String> {
    let a = &start.args;
    let Some(c) = decision.constraints.as_ref() else {
        return Err("no proxy constraints apply to your role; nothing may be started".into());
    };
    if !c.allowed_proxy_kinds.iter().any(|k| k == a.kind.as_str()) {
        let allowed = if c.allowed_proxy_kinds.is_empty() { "none".into() } else { c.allowed_proxy_kinds.join(", ") };
        return Err(format!("role '{}' may not start {} leases (allowed kinds: {allowed})", actor.role, a.kind));
    }
    let target = LeaseTarget::parse(a.kind, a.target.as_ref()).expect("validated before");
    if let LeaseTarget::Ssh { login, .. } = &target
        && !c.allows_ssh_login(login.as_deref())
    {
        let logins = if c.ssh_logins.is_empty() { "none".into() } else { c.ssh_logins.join(", ") };
        return Err(match login {
            Some(login) => format!("role '{}' may not log in as {login:?} (ssh_logins: {logins})", actor.role),
            None => {
                format!("role '{}' must name the login (`target.host`: login@host); ssh_logins: {logins}", actor.role)
            }
        });
    }
    if c.max_concurrent_proxies == 0 {
        return Err(format!("role '{}' may not hold proxy leases (max_concurrent_proxies is 0)", actor.role));
    }
    let ttl = a.ttl_seconds.unwrap_or(c.max_ttl_seconds);
    if ttl > c.max_ttl_seconds {
        return Err(format!(
            "`ttl_seconds` {ttl} exceeds the {} s maximum of role '{}'; ask for {} or less",
            c.max_ttl_seconds, actor.role, c.max_ttl_seconds
        ));
    }
    Ok(StartPlan {
        lease_id: start.lease_id,
        target,
        kind: a.kind,
        listen_addr: a.listen_addr.clone(),
        expires_at: Utc::now() + chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 1000)),
        ttl_seconds: ttl,
        cap: c.max_concurrent_proxies,
        edge_agent: a.edge_agent.clone(),
    })
}

/// Record the call queued with its start job and create the lease under the actor's cap, all in
/// one transaction. `Ok(Err(reason))`: the cap is reached; nothing was written.
pub async fn create_and_enqueue(
    st: &AppState,
    op: &NewOperation<'_>,
    job: &ToolJob,
    plan: &StartPlan,
) -> Result<Result<(), String>, db::DbError> {
    let mut tx = st.pool.begin().await?;
    // The start is a call in flight like any other (the lease, once live, is not: it has its own
    // cap below).
    if let Some(reason) = super::in_flight::admit(&mut tx, op).await? {
        tx.rollback().await?;
        return Ok(Err(reason));
    }
    db::queue::enqueue(&mut *tx, op, job).await?;
    let lease = NewLease {
        lease_id: plan.lease_id,
        op_id: op.op_id,
        kind: plan.kind,
        actor: &op.actor.id,
        target: serde_json::to_value(&plan.target).expect("target serializes"),
        requested_listen_addr: plan.listen_addr.as_deref(),
        expires_at: plan.expires_at,
        edge_agent: plan.edge_agent.as_deref(),
    };
    if let Created::CapReached { live } = db::leases::create_capped(&mut tx, &lease, plan.cap).await? {
        tx.rollback().await?;
        return Ok(Err(format!(
            "you hold {live} live proxy leases, the maximum for role '{}' is {}; stop one with stop_proxy \
             (list_proxies_leases shows them)",
            op.actor.role, plan.cap
        )));
    }
    tx.commit().await?;
    Ok(Ok(()))
}

fn unavailable(e: db::DbError) -> String {
    tracing::error!(error = %e, "reading leases");
    "the lease store is unavailable; try again".to_owned()
}

/// What a caller is told of a lease it may not see, or that does not exist: the same words.
pub fn not_visible(lease_id: Uuid) -> String {
    format!("no lease {lease_id} is visible to you (list_proxies_leases shows yours)")
}

/// Whose leases a caller sees: its own (`own_only`, the policy's `own_objects_only`) or all.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub actor: &'a Actor,
    pub own_only: bool,
}

/// The lease if the caller may see it.
async fn visible_lease(st: &AppState, scope: Scope<'_>, lease_id: Uuid) -> Result<LeaseRow, String> {
    match db::leases::get(&st.pool, lease_id).await.map_err(unavailable)? {
        Some(row) if row.actor == scope.actor.id || !scope.own_only => Ok(row),
        _ => Err(not_visible(lease_id)),
    }
}

/// `get_proxy_status`.
pub async fn status(st: &AppState, scope: Scope<'_>, a: &LeaseIdArgs) -> Result<LeaseView, String> {
    let row = visible_lease(st, scope, args::lease_id(&a.lease_id)?).await?;
    Ok(LeaseView::of(row, Utc::now()))
}

/// `get_proxy_logs`.
pub async fn logs(st: &AppState, scope: Scope<'_>, a: &ProxyLogsArgs) -> Result<LeaseLogs, String> {
    let row = visible_lease(st, scope, args::lease_id(&a.lease_id)?).await?;
    let lines = db::leases::tail_logs(&st.pool, row.lease_id, i64::from(a.tail.unwrap_or(200)))
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|(at, stream, line)| LeaseLogLine { at, stream, line })
        .collect::<Vec<_>>();
    Ok(LeaseLogs {
        lease_id: row.lease_id.to_string(),
        status: row.status.as_str().to_owned(),
        count: lines.len(),
        lines,
    })
}

/// `list_proxies_leases`: the caller's leases (everyone's when it is not limited to its own),
/// newest first.
pub async fn list(st: &AppState, scope: Scope<'_>, a: &ListLeasesArgs) -> Result<LeaseList, String> {
    let whose = scope.own_only.then_some(scope.actor.id.as_str());
    let rows = db::leases::list(&st.pool, whose, a.active_only.unwrap_or(true), 500).await.map_err(unavailable)?;
    let now = Utc::now();
    let leases: Vec<LeaseView> = rows.into_iter().map(|r| LeaseView::of(r, now)).collect();
    Ok(LeaseList { count: leases.len(), leases })
}

/// How long `stop_proxy` waits for an announcement before it looks anyway.
const STOP_FALLBACK: Duration = Duration::from_secs(2);

/// The leases a `stop_proxy` of this process is waiting on: one waiter per lease, so thirty
/// concurrent stops of one slow lease cost one poll, not thirty.
#[derive(Debug, Default)]
pub struct StopWaiters(std::sync::Mutex<std::collections::HashSet<Uuid>>);

/// Holds a lease's waiting slot until dropped.
struct StopWaiter<'a>(&'a StopWaiters, Uuid);

impl StopWaiters {
    fn claim(&self, lease_id: Uuid) -> Option<StopWaiter<'_>> {
        let inserted = self.0.lock().expect("stop waiters poisoned").insert(lease_id);
        // Lazily: a slot built and dropped here would free the waiter's own entry.
        inserted.then(|| StopWaiter(self, lease_id))
    }
}

impl Drop for StopWaiter<'_> {
    fn drop(&mut self) {
        self.0.0.lock().expect("stop waiters poisoned").remove(&self.1);
    }
}

/// Why a lease stops when `stop_proxy` stops it (its `stop_reason`).
const STOP: &str = mtcp_shared::domain::ToolName::StopProxy.as_str();

/// `stop_proxy`: mark the lease `stopping` (its owner hears at once), then wait for the owner to
/// end it, up to the stop grace plus a reconcile period. An ended lease is reported as it is; a
/// caller that finds another stop already waiting on the lease gets its current state at once.
/// No pooled connection is held while waiting: each look takes one for a single statement, and a
/// look happens when the owner announces the end (not on a timer).
pub async fn stop(st: &AppState, scope: Scope<'_>, a: &StopProxyArgs) -> Result<LeaseView, String> {
    let row = visible_lease(st, scope, args::lease_id(&a.lease_id)?).await?;
    {
        let mut conn = st.pool.acquire().await.map_err(|e| unavailable(e.into()))?;
        if db::leases::request_stop(&mut *conn, row.lease_id, STOP).await.map_err(unavailable)? {
            let why = a.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            let line = mtcp_shared::redact::redact_text(&format!("{} by {}{why}", STOP, scope.actor.id));
            let keep = i64::from(st.config.leases.log_lines_kept);
            if let Err(e) = db::leases::append_logs(&mut conn, row.lease_id, &[("system".into(), line)], keep).await {
                tracing::warn!(error = %e, lease_id = %row.lease_id, "recording a stop request in the lease's logs");
            }
        }
    }
    let waiter = st.stop_waiters.claim(row.lease_id);
    // Subscribed before the first look, so an end announced after it is not missed.
    let mut ended = st.notifier.subscribe(db::leases::LEASE_ENDED_CHANNEL);
    let wait = st.config.leases.stop_grace + st.config.leases.reconcile_interval + Duration::from_secs(2);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let current = db::leases::get(&st.pool, row.lease_id).await.map_err(unavailable)?;
        let current = current.ok_or_else(|| format!("lease {} disappeared", row.lease_id))?;
        let live = current.status.is_live();
        if !live || waiter.is_none() || tokio::time::Instant::now() >= deadline {
            return Ok(LeaseView::of(current, Utc::now()));
        }
        // Look again when this lease's end is announced (or anything may have been missed), or
        // at the deadline; the slow fallback covers an owner that died without announcing.
        let lease = row.lease_id.to_string();
        let _ = tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + STOP_FALLBACK), async {
            loop {
                match ended.recv().await {
                    Some(Note::Notified(id)) if id != lease => {}
                    _ => return,
                }
            }
        })
        .await;
    }
}

/// `list_edge_agents`: the caller's own agents (every one for an admin), revoked ones left out.
pub async fn edge_agents(st: &AppState, actor: &Actor) -> Result<mtcp_shared::leases::EdgeAgentList, String> {
    let owner = (actor.role != "admin").then_some(actor.id.as_str());
    let rows = db::edge::list(&st.pool, owner).await.map_err(unavailable)?;
    let agents: Vec<_> = rows
        .into_iter()
        .filter(|r| r.revoked_at.is_none())
        .map(|r| mtcp_shared::leases::EdgeAgentView {
            name: r.name,
            owner: r.owner,
            description: r.description,
            online: r.online,
            host: r.host,
            last_heartbeat_at: r.last_heartbeat_at,
            live_leases: r.live_leases,
        })
        .collect();
    Ok(mtcp_shared::leases::EdgeAgentList { count: agents.len(), agents })
}
