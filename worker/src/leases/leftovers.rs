//! At start, kill the lease processes this host's previous worker incarnations left behind (a
//! worker killed with SIGKILL cannot stop them; `PR_SET_PDEATHSIG` should already have, this is
//! the second line). A process is killed only if its pid still has the recorded start time.

use mtcp_shared::db::{self, DbError, leases::LeaseEnd};
use mtcp_shared::teleport::proxy::kill_leftover;
use nix::unistd::Pid;

use super::LeaseManager;

/// Leases that ended longer ago than this are not looked at: their processes are long gone.
const LOOK_BACK: chrono::Duration = chrono::Duration::days(1);

/// Kill the leftovers; returns how many processes were killed.
pub(super) async fn kill(mgr: &LeaseManager) -> Result<usize, DbError> {
    let since = chrono::Utc::now() - LOOK_BACK;
    let candidates = db::leases::leftovers(&mgr.pool, &mgr.agent.host, &mgr.agent.boot_id, mgr.agent.id, since).await?;
    let mut killed = 0;
    for l in candidates {
        // Another worker on this host that is still running owns its processes.
        if l.agent_status == "online" && alive(l.agent_pid) {
            continue;
        }
        let Ok(start_time) = u64::try_from(l.pid_start_time) else { continue };
        if kill_leftover(l.pid, start_time) {
            killed += 1;
            metrics::counter!("mtcp_lease_leftovers_killed_total").increment(1);
            tracing::warn!(lease_id = %l.lease_id, pid = l.pid, previous_agent = %l.agent_id,
                           "killed a lease process left by a previous worker incarnation");
        }
        if l.status.is_live() && db::leases::end(&mgr.pool, l.lease_id, LeaseEnd::Failed, "owner_lost", None).await? {
            tracing::warn!(lease_id = %l.lease_id, "lease of a dead worker incarnation ended failed (owner_lost)");
            if let Ok(kind) = l.kind.parse() {
                super::event(kind, "owner_lost");
            }
        }
    }
    Ok(killed)
}

/// Whether a process with this pid exists (EPERM: it does, owned by someone else).
fn alive(pid: i32) -> bool {
    !matches!(nix::sys::signal::kill(Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
}
