//! Retention: ended leases (and their logs), finished operations (and their events) and old
//! audit events are deleted in bounded batches; idle actors' rate-limit rows go.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, retention};
use sqlx::PgConnection;

use crate::SWEEP_LIMIT;
use crate::actions::{Action, count};

/// How old rows may get.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ages {
    pub leases: Duration,
    pub operations: Duration,
    pub audit_events: Duration,
}

/// What retention deleted.
#[derive(Debug, Default)]
pub(crate) struct Deleted {
    pub leases: u64,
    pub operations: u64,
    pub audit_events: u64,
    pub rate_limits: u64,
}

/// Delete what is past retention, at most `SWEEP_LIMIT` rows of each table per sweep. Leases go
/// before operations: an operation a lease still references is kept until the lease goes.
pub(crate) async fn sweep(conn: &mut PgConnection, now: DateTime<Utc>, ages: Ages) -> Result<Deleted, db::DbError> {
    let deleted = Deleted {
        leases: retention::delete_ended_leases(&mut *conn, db::before(now, ages.leases), SWEEP_LIMIT).await?,
        operations: retention::delete_ended_operations(&mut *conn, db::before(now, ages.operations), SWEEP_LIMIT)
            .await?,
        audit_events: db::audit::delete_older_than(&mut *conn, db::before(now, ages.audit_events), SWEEP_LIMIT).await?,
        // An hour past its TAT an actor's row decides nothing (it allows a full burst, as no row).
        rate_limits: db::rate_limit::prune(&mut *conn, now - chrono::Duration::hours(1)).await?,
    };
    for (action, n) in [
        (Action::RetentionLeases, deleted.leases),
        (Action::RetentionOperations, deleted.operations),
        (Action::RetentionAuditEvents, deleted.audit_events),
        (Action::RetentionRateLimits, deleted.rate_limits),
    ] {
        if n > 0 {
            tracing::info!(deleted = n, what = action.as_str(), "rows past retention deleted");
        }
        count(action, n);
    }
    Ok(deleted)
}
