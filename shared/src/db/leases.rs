//! The `leases` table. Creation enforces the per-actor concurrency cap where it cannot race: the
//! count and the insert run under a transaction-scoped advisory lock on the actor.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use crate::domain::{LeaseKind, OpId};

/// A lease to create (`starting`, no owner yet).
#[derive(Debug, Clone)]
pub struct NewLease<'a> {
    pub lease_id: Uuid,
    pub op_id: OpId,
    pub kind: LeaseKind,
    pub actor: &'a str,
    pub target: serde_json::Value,
    pub requested_listen_addr: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// How a creation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The actor already holds `live` live leases, the cap.
    CapReached {
        live: i64,
    },
}

/// Create a lease if the actor holds fewer than `cap` live ones. Call inside the transaction that
/// records the operation (and pushes the job): the advisory lock serialises concurrent creations
/// by the same actor until that transaction ends, so the cap holds under any concurrency.
pub async fn create_capped(conn: &mut PgConnection, lease: &NewLease<'_>, cap: u32) -> Result<Created, DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('mtcp-lease:' || $1, 0))")
        .bind(lease.actor)
        .execute(&mut *conn)
        .await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE actor = $1 AND status IN ('starting', 'active', 'stopping')",
    )
    .bind(lease.actor)
    .fetch_one(&mut *conn)
    .await?;
    if live >= i64::from(cap) {
        return Ok(Created::CapReached { live });
    }
    sqlx::query(
        "INSERT INTO leases (lease_id, op_id, kind, actor, target, requested_listen_addr, expires_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'starting')",
    )
    .bind(lease.lease_id)
    .bind(lease.op_id.0)
    .bind(lease.kind.as_str())
    .bind(lease.actor)
    .bind(&lease.target)
    .bind(lease.requested_listen_addr)
    .bind(lease.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(Created::Created)
}

/// Live leases of an actor (starting, active or stopping).
pub async fn count_live(conn: &mut PgConnection, actor: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE actor = $1 AND status IN ('starting', 'active', 'stopping')",
    )
    .bind(actor)
    .fetch_one(conn)
    .await?)
}
