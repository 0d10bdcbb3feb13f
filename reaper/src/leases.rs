//! Lease sweeps: leases of offline owners, expiry (owners are told to stop), and leases no worker
//! ever took (never started, or stopped before a worker got to them).

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, lease_sweeps};
use sqlx::PgConnection;

use crate::SWEEP_LIMIT;
use crate::actions::{Action, count};

/// What the lease sweeps did.
#[derive(Debug, Default)]
pub(crate) struct Moved {
    pub owner_lost: usize,
    pub expired: usize,
    pub never_started: usize,
    pub ended_unstarted: usize,
}

/// Run the lease sweeps. Owner-lost runs first: a lease whose owner is gone cannot be stopped by
/// anyone, so it fails rather than waiting in `stopping` after expiry.
pub(crate) async fn sweep(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    start_deadline: Duration,
) -> Result<Moved, db::DbError> {
    let lost = lease_sweeps::fail_orphaned(&mut *conn, now, SWEEP_LIMIT).await?;
    for id in &lost {
        tracing::warn!(lease_id = %id, "lease failed: its owner is offline");
    }
    count(Action::LeaseOwnerLost, lost.len() as u64);

    let expired = lease_sweeps::expire_due(&mut *conn, now, SWEEP_LIMIT).await?;
    for id in &expired {
        tracing::info!(lease_id = %id, "lease expired; its owner is told to stop it");
    }
    count(Action::LeaseExpired, expired.len() as u64);

    let never = lease_sweeps::fail_never_started(&mut *conn, now, start_deadline, SWEEP_LIMIT).await?;
    for id in &never {
        tracing::warn!(lease_id = %id, deadline_secs = start_deadline.as_secs(), "lease failed: no worker started it");
    }
    count(Action::LeaseNeverStarted, never.len() as u64);

    let unstarted = lease_sweeps::end_unstarted(&mut *conn, now, start_deadline, SWEEP_LIMIT).await?;
    for id in &unstarted {
        tracing::info!(lease_id = %id, "lease ended: stopped before any worker started it");
    }
    count(Action::LeaseEndedUnstarted, unstarted.len() as u64);

    Ok(Moved {
        owner_lost: lost.len(),
        expired: expired.len(),
        never_started: never.len(),
        ended_unstarted: unstarted.len(),
    })
}
