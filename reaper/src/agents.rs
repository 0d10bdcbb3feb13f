//! Stale agents: an online agent silent past the threshold is marked offline.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db;
use sqlx::PgConnection;

use crate::SWEEP_LIMIT;
use crate::actions::{Action, count};

/// Mark stale agents offline; returns how many.
pub(crate) async fn sweep(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    threshold: Duration,
) -> Result<usize, db::DbError> {
    let gone = db::agents::mark_stale_offline(&mut *conn, now, threshold, SWEEP_LIMIT).await?;
    for a in &gone {
        tracing::warn!(
            agent_id = %a.agent_id,
            host = %a.host,
            silent_secs = (now - a.last_heartbeat_at).num_seconds(),
            threshold_secs = threshold.as_secs(),
            "agent marked offline: missed heartbeats"
        );
    }
    count(Action::AgentOffline, gone.len() as u64);
    Ok(gone.len())
}
