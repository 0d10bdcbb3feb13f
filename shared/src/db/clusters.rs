//! What the trail and the agents say about each cluster: the workers online that serve it, its
//! calls waiting for one, and how its last call that ran ended (`list_clusters`, `run_health_check`).

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};

use super::DbError;

/// One cluster's state.
#[derive(Debug, Clone)]
pub struct ClusterStatus {
    pub name: String,
    pub workers_online: i64,
    pub queued: i64,
    pub last: Option<LastRun>,
}

/// The last call that ran on a cluster and ended.
#[derive(Debug, Clone)]
pub struct LastRun {
    pub tool: String,
    pub status: String,
    pub ended_at: DateTime<Utc>,
    pub error: Option<String>,
}

/// The state of the clusters `names`; `default` is the default cluster, which also serves the
/// calls and workers recorded before there were several (no cluster on their rows).
pub async fn status(conn: impl PgExecutor<'_>, names: &[String], default: &str) -> Result<Vec<ClusterStatus>, DbError> {
    let rows = sqlx::query(
        "SELECT c.name,
                (SELECT count(*) FROM agents a
                 WHERE a.kind = 'worker' AND a.status = 'online'
                   AND (c.name = ANY(a.clusters) OR (a.clusters IS NULL AND c.name = $2))) AS workers_online,
                (SELECT count(*) FROM operations o
                 WHERE o.status = 'queued' AND o.coalesced_into IS NULL
                   AND (o.cluster = c.name OR (o.cluster IS NULL AND c.name = $2))) AS queued,
                l.tool, l.status, l.ended_at, l.error
         FROM unnest($1::text[]) WITH ORDINALITY AS c(name, n)
         LEFT JOIN LATERAL (
             SELECT o.tool, o.status, o.ended_at, o.error FROM operations o
             WHERE o.cluster = c.name AND o.started_at IS NOT NULL AND o.ended_at IS NOT NULL
             ORDER BY o.ended_at DESC LIMIT 1) l ON true
         ORDER BY c.n",
    )
    .bind(names)
    .bind(default)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let ended_at: Option<DateTime<Utc>> = r.try_get("ended_at")?;
            let last = match ended_at {
                Some(ended_at) => Some(LastRun {
                    tool: r.try_get("tool")?,
                    status: r.try_get("status")?,
                    ended_at,
                    error: r.try_get("error")?,
                }),
                None => None,
            };
            Ok(ClusterStatus {
                name: r.try_get("name")?,
                workers_online: r.try_get("workers_online")?,
                queued: r.try_get("queued")?,
                last,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}
