//! `scan_rbac` and `run_health_check`: fetch the inventory (one `tctl` run per kind, each reported
//! as a progress step), then run the pure analysis over the typed models.

use chrono::Utc;
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::health::{self, HealthCheck, HealthReport};
use mtcp_shared::analysis::rbac::{self, RbacReport};
use mtcp_shared::db::{self, operations::Outcome};
use mtcp_shared::domain::OpId;
use mtcp_shared::teleport::identity::{self, Expiry, IdentityError, IdentityInfo};
use mtcp_shared::teleport::models::Role;
use mtcp_shared::teleport::rights_coverage::{coverage, offered};
use mtcp_shared::teleport::{ToolFailure, fetch};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::outcome::{report, status_of};
use crate::JobContext;
use crate::progress::Steps;

fn failed(step: &str, f: ToolFailure) -> Outcome {
    Outcome { status: status_of(&f), ..Outcome::failed(format!("{step}: {f}")) }
}

/// The RBAC scan, and the roles it read (the health check checks its own identity against them).
async fn scan(
    ctx: &JobContext,
    steps: &mut Steps<'_>,
    cancel: &CancellationToken,
) -> Result<(RbacReport, Vec<Role>), Outcome> {
    let roles = fetch::roles(&ctx.runner, cancel).await.map_err(|f| failed("reading roles", f))?;
    steps.step("read roles").await;
    let users = fetch::users(&ctx.runner, cancel).await.map_err(|f| failed("reading users", f))?;
    steps.step("read users").await;
    let auth =
        fetch::auth_preference(&ctx.runner, cancel).await.map_err(|f| failed("reading the auth preference", f))?;
    steps.step("read the auth preference").await;
    let tokens = fetch::tokens(&ctx.runner, cancel).await.map_err(|f| failed("reading join tokens", f))?;
    steps.step("read join tokens").await;
    let report = rbac::scan(&roles, &users, &auth, &tokens, Utc::now());
    steps.step("analysed").await;
    Ok((report, roles))
}

/// A check for an inventory read that failed: the health check goes on without it.
fn unreadable(id: &str, what: &str, f: &ToolFailure) -> HealthCheck {
    HealthCheck::fail(id, format!("read {what}"), format!("could not read {what}: {f}"))
}

async fn health_check(ctx: &JobContext, steps: &mut Steps<'_>, cancel: &CancellationToken) -> HealthReport {
    let now = Utc::now();
    let r = &ctx.runner;
    let mut checks = Vec::new();
    let version = match fetch::status(r, cancel).await {
        Ok(s) => Some(s.cluster.version),
        Err(f) => {
            checks.push(unreadable("HC-STATUS", "the cluster status", &f));
            None
        }
    };
    steps.step("read the cluster status").await;
    let nodes = fetch::nodes(r, cancel).await;
    let proxies = fetch::proxies(r, cancel).await;
    steps.step("read nodes and proxies").await;
    match (&nodes, &proxies) {
        (Ok(n), Ok(p)) => {
            checks.push(health::check_versions(n, p, version.as_deref().filter(|v| !v.is_empty())));
            checks.push(health::check_stale_nodes(n, now));
        }
        (Err(f), _) | (_, Err(f)) => checks.push(unreadable("HC-NODES", "nodes and proxies", f)),
    }
    match fetch::cert_authorities(r, cancel).await {
        Ok(cas) => checks.push(health::check_cas(&cas, now)),
        Err(f) => checks.push(unreadable("HC-CAS", "certificate authorities", &f)),
    }
    steps.step("checked certificate authorities").await;
    match fetch::tokens(r, cancel).await {
        Ok(t) => checks.push(health::check_tokens(&t, now)),
        Err(f) => checks.push(unreadable("HC-TOKENS", "join tokens", &f)),
    }
    steps.step("checked join tokens").await;
    let mut rbac_steps = Steps::silent(&ctx.pool, steps.op_id());
    let mut cluster_roles = None;
    match scan(ctx, &mut rbac_steps, cancel).await {
        Ok((report, roles)) => {
            cluster_roles = Some(roles);
            checks.push(health::summarize_rbac(&report));
            if let Ok(auth) = fetch::auth_preference(r, cancel).await {
                checks.push(health::check_auth_preference(&auth));
            }
        }
        Err(o) => checks.push(HealthCheck::fail("HC-RBAC", "RBAC scan", o.error.unwrap_or_default())),
    }
    steps.step("scanned RBAC and the auth preference").await;
    let identity = ctx.runner.settings().identity_file.as_deref().map(identity::inspect);
    checks.push(identity_check(identity.as_ref(), Utc::now()));
    let roles = identity.and_then(Result::ok).map(|i| i.cert.roles);
    checks.push(rights_check(ctx, roles, cluster_roles, cancel).await);
    checks.extend(self_checks(ctx).await);
    steps.step("checked the control plane").await;
    HealthReport::from_checks(checks)
}

/// The control plane's Teleport identity: who it is, its roles, how long it has left. Every tool
/// fails once it expires, so this says so before an agent finds out.
fn identity_check(identity: Option<&Result<IdentityInfo, IdentityError>>, now: chrono::DateTime<Utc>) -> HealthCheck {
    const ID: &str = "CP-IDENTITY";
    const NAME: &str = "Teleport identity";
    let info = match identity {
        None => return HealthCheck::skipped(ID, NAME, "no identity file is configured (teleport.identity_file)"),
        Some(Err(e)) => return HealthCheck::fail(ID, NAME, e.to_string()),
        Some(Ok(info)) => info,
    };
    let c = &info.cert;
    let details = json!({
        "user": c.user, "cluster": c.cluster, "roles": c.roles, "logins": c.logins,
        "expires_at": c.not_after, "seconds_left": (c.not_after - now).num_seconds(),
    });
    let at = c.not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let who = format!("{} of {}", c.user.as_deref().unwrap_or("?"), c.cluster.as_deref().unwrap_or("?"));
    let check = match c.expiry(now) {
        Expiry::Expired => HealthCheck::fail(ID, NAME, format!("{who} expired at {at}: every tctl/tsh run fails"))
            .with_severity(Severity::Critical),
        Expiry::Soon => HealthCheck::warn(
            ID,
            NAME,
            format!("{who} expires at {at}, in {} min; is tbot renewing it?", (c.not_after - now).num_minutes()),
        ),
        Expiry::Valid => HealthCheck::ok(ID, NAME, format!("{who} valid until {at}")),
    };
    check.with_details(details)
}

/// Which tools the identity's roles do not cover: the roles its certificate names, read with `tctl
/// get roles` (the RBAC scan's read when it had one), against the rights table. Passthrough is
/// left out: whether it is switched on is the gateway's configuration, which a worker does not read
/// (`mtcp doctor` checks it).
async fn rights_check(
    ctx: &JobContext,
    roles: Option<Vec<String>>,
    cluster_roles: Option<Vec<Role>>,
    cancel: &CancellationToken,
) -> HealthCheck {
    const ID: &str = "CP-RIGHTS";
    const NAME: &str = "Teleport rights of the identity";
    let roles = match roles {
        Some(roles) if !roles.is_empty() => roles,
        Some(_) => return HealthCheck::skipped(ID, NAME, "the identity certificate names no roles"),
        None => return HealthCheck::skipped(ID, NAME, "no readable identity certificate"),
    };
    let fetched = match cluster_roles {
        Some(r) => Ok(r),
        None => fetch::roles(&ctx.runner, cancel).await,
    };
    let cluster_roles = match fetched {
        Ok(r) => r,
        Err(f) => {
            return HealthCheck::warn(
                ID,
                NAME,
                format!("the roles cannot be read ({f}); mcp-inventory grants role list/read"),
            );
        }
    };
    let found = coverage(&cluster_roles, &roles, |t| offered(t, false, false));
    let gaps: Vec<_> = found.gaps.iter().map(|g| json!({ "tool": g.tool, "missing": g.missing })).collect();
    let details = json!({ "roles": roles, "missing_roles": found.missing_roles, "uncovered": gaps });
    let check = if found.gaps.is_empty() && found.missing_roles.is_empty() {
        HealthCheck::ok(ID, NAME, "the identity's roles cover every tool")
    } else if found.gaps.is_empty() {
        HealthCheck::warn(ID, NAME, format!("roles not found in the cluster: {}", found.missing_roles.join(", ")))
    } else {
        let tools: Vec<&str> = found.gaps.iter().map(|g| g.tool).collect();
        HealthCheck::warn(ID, NAME, format!("{} tool(s) not covered: {}", tools.len(), tools.join(", ")))
    };
    check.with_details(details)
}

/// The control plane's own health: database, queue, workers, leases.
async fn self_checks(ctx: &JobContext) -> Vec<HealthCheck> {
    match db::health::self_facts(&ctx.pool).await {
        Err(e) => vec![HealthCheck::fail("CP-DB", "control-plane database", format!("unreachable: {e}"))],
        Ok(f) => {
            let mut v = vec![HealthCheck::ok("CP-DB", "control-plane database", "reachable and migrated")];
            let queue = format!("{} job(s) waiting", f.queue_depth);
            v.push(if f.queue_depth > 100 {
                HealthCheck::warn("CP-QUEUE", "job queue", queue)
            } else {
                HealthCheck::ok("CP-QUEUE", "job queue", queue)
            });
            let workers = format!("{} worker(s) online", f.workers_online);
            v.push(if f.workers_online < 1 {
                HealthCheck::fail("CP-WORKERS", "workers", workers)
            } else {
                HealthCheck::ok("CP-WORKERS", "workers", workers)
            });
            let leases = format!("{} lease(s) live past their expiry", f.overdue_leases);
            v.push(if f.overdue_leases > 0 {
                HealthCheck::warn("CP-LEASES", "proxy leases", leases)
            } else {
                HealthCheck::ok("CP-LEASES", "proxy leases", leases)
            });
            v
        }
    }
}

/// `scan_rbac`.
pub(super) async fn scan_rbac(ctx: &JobContext, op_id: OpId, cancel: &CancellationToken) -> Outcome {
    let mut steps = Steps::new(&ctx.pool, op_id, 5);
    match scan(ctx, &mut steps, cancel).await {
        Ok((rbac, _)) => report(&rbac),
        Err(o) => o,
    }
}

/// `run_health_check`.
pub(super) async fn run_health_check(ctx: &JobContext, op_id: OpId, cancel: &CancellationToken) -> Outcome {
    let mut steps = Steps::new(&ctx.pool, op_id, 6);
    report(&health_check(ctx, &mut steps, cancel).await)
}
