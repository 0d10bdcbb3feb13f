//! The queue is the `operations` table: a call is enqueued by inserting its operation `queued` with
//! its payload (and a NOTIFY on its lane, delivered at commit), claimed by one UPDATE … FOR UPDATE
//! SKIP LOCKED, and finished by one UPDATE (`operations::finish`). Lanes keep lease starts, which
//! wait for a process to come up, from taking the slots of short tool calls.

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Row};

use super::DbError;
use super::operations::NewOperation;
use crate::domain::{OpId, ToolJob, ToolName};
use crate::policy::RateLimit;

/// Channel on which a lane announces new work (payload: the lane's name).
pub const QUEUE_CHANNEL: &str = "mtcp_queue";
/// Channel on which a lease start placed on an edge agent is announced to the gateways (payload:
/// the lane): kept apart from the workers' channel, which every enqueue rings.
pub const EDGE_CHANNEL: &str = "mtcp_edge";

/// A queue lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Short tool calls.
    Tools,
    /// Lease starts: each holds its slot only until its process is up (or failed).
    Leases,
    /// Lease starts placed on an edge agent: claimed by that agent only, never by a worker.
    Edge,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Tools, Lane::Leases, Lane::Edge];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Tools => "tools",
            Lane::Leases => "leases",
            Lane::Edge => "edge",
        }
    }

    /// The lane named `s`.
    pub fn parse(s: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Where a call queued on this lane is announced.
    pub fn channel(self) -> &'static str {
        if self == Lane::Edge { EDGE_CHANNEL } else { QUEUE_CHANNEL }
    }

    /// The lane of a job.
    pub fn of(job: &ToolJob) -> Lane {
        match &job.call {
            crate::tools::ToolCall::StartProxy(s) if s.args.edge_agent.is_some() => Lane::Edge,
            _ if job.tool() == ToolName::StartProxy => Lane::Leases,
            _ => Lane::Tools,
        }
    }
}

/// How many attempts a call gets: a read may be run again when its worker is lost, a mutation
/// never (at most once).
pub fn max_attempts(mutating: bool) -> i32 {
    if mutating { 1 } else { 3 }
}

/// What the enqueue also checks, in the same statement. Each is skipped when `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Admission<'a> {
    /// Take one call from the actor's allowance (see [`super::rate_limit`]).
    pub rate_limit: Option<RateLimit>,
    /// The actor's calls queued or running may not reach this (see [`super::in_flight`]).
    pub in_flight_cap: Option<u32>,
    /// Join a queued or running call with the same key instead of running again.
    pub coalesce_key: Option<&'a str>,
    /// Commit without waiting for the WAL flush, so the actor's lock is not held through it: for a
    /// caller answered only after a later synchronous commit (a mutation's claim, a read's finish,
    /// a follower's settle), which flushes this too. Never for a call answered at enqueue (a task).
    pub flush_later: bool,
}

/// What became of an enqueue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Enqueued {
    /// Queued to run.
    Queued,
    /// Recorded as a follower of `leader`, whose outcome it will share.
    Coalesced { leader: OpId },
    /// Over the rate limit: nothing recorded; the next call fits after `retry_after`.
    RateLimited { retry_after: Duration },
    /// The actor has `in_flight` calls queued or running, at or over the cap: nothing recorded.
    CapReached { in_flight: i64 },
}

/// Record a call `queued` with its job, announced on its lane at commit. Whether it changes
/// Teleport (at most one attempt) is its tool's.
pub async fn enqueue(conn: impl PgExecutor<'_>, op: &NewOperation<'_>, job: &ToolJob) -> Result<(), DbError> {
    match admit(conn, op, job, &Admission::default()).await? {
        Enqueued::Queued => Ok(()),
        other => Err(DbError::Queue(format!("an enqueue without admission checks was answered {other:?}"))),
    }
}

/// Admit a call and record it queued with its job, in one statement (`mtcp_enqueue`): the rate
/// limit, the in-flight cap under the actor's lock, the join of an identical run, the insert and
/// the lane's wake-up. A refused call writes nothing but the allowance it took.
pub async fn admit(
    conn: impl PgExecutor<'_>,
    op: &NewOperation<'_>,
    job: &ToolJob,
    admission: &Admission<'_>,
) -> Result<Enqueued, DbError> {
    let (lane, mutating) = (Lane::of(job), job.call.spec().mutating);
    let payload = serde_json::to_value(job).map_err(|e| DbError::Queue(e.to_string()))?;
    let r = super::operations::Record::of(op);
    let rate = admission.rate_limit.map(super::rate_limit::gcra);
    let q = sqlx::query(
        "SELECT outcome, retry_after, in_flight, leader
         FROM mtcp_enqueue($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    );
    let row = r
        .bind(q, op)
        .bind(lane.as_str())
        .bind(super::storable_json(&payload))
        .bind(mutating)
        .bind(max_attempts(mutating))
        .bind(rate.map(|r| r.0))
        .bind(rate.map(|r| r.1))
        .bind(admission.in_flight_cap.map(|c| i32::try_from(c).unwrap_or(i32::MAX)))
        .bind(admission.coalesce_key)
        .bind(lane.channel())
        .bind(admission.flush_later)
        .fetch_one(conn)
        .await?;
    let outcome: String = row.try_get("outcome")?;
    Ok(match outcome.as_str() {
        "queued" => Enqueued::Queued,
        "coalesced" => Enqueued::Coalesced { leader: OpId(row.try_get("leader")?) },
        "rate_limited" => {
            let wait: Option<f64> = row.try_get("retry_after")?;
            Enqueued::RateLimited { retry_after: Duration::from_secs_f64(wait.unwrap_or(0.0).max(0.001)) }
        }
        "cap_reached" => Enqueued::CapReached { in_flight: row.try_get::<Option<i64>, _>("in_flight")?.unwrap_or(0) },
        other => return Err(DbError::Queue(format!("mtcp_enqueue answered {other:?}"))),
    })
}

/// A claimed job: now `running` under the claiming worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub op_id: OpId,
    pub job: ToolJob,
    /// Counts from 1.
    pub attempt: i32,
    /// Since the call was recorded (the queue wait, on a first attempt).
    pub queued_for: Duration,
    /// Whether other calls were claimable when this one was taken: without them, the next claim
    /// waits for a wake-up instead of asking again.
    pub more: bool,
}

/// The clusters a worker claims calls of.
#[derive(Debug, Clone, Default)]
pub struct Serving {
    pub clusters: Vec<String>,
    /// One of them is the default cluster, which also runs calls that name none.
    pub default: bool,
}

impl Serving {
    /// The single cluster of a configuration without `clusters:` (`default`).
    pub fn legacy() -> Self {
        Self { clusters: vec![crate::config::LEGACY_CLUSTER.to_owned()], default: true }
    }
}

/// Claim the next call of `lane` among the clusters `serving` names for `worker_id`, fairly across actors: each queued call is ranked
/// by how many calls of its actor run or are queued before it, so one actor's burst waits behind
/// its own calls, not in front of everyone else's. `None`: nothing is claimable.
///
/// A call whose payload this worker cannot read (written by a newer release, or damaged) ends
/// `failed` saying so: it cannot run here and must not come back.
pub async fn claim(pool: &PgPool, lane: Lane, worker_id: &str, serving: &Serving) -> Result<Option<Claimed>, DbError> {
    loop {
        let row = sqlx::query(include_str!("sql/claim.sql"))
            .bind(lane.as_str())
            .bind(worker_id)
            .bind(&serving.clusters)
            .bind(serving.default)
            .fetch_optional(pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let op_id = OpId(row.try_get("op_id")?);
        let payload: Value = row.try_get("payload")?;
        let decoded = serde_json::from_value::<ToolJob>(payload).map_err(|e| e.to_string()).and_then(|job| {
            if job.op_id == op_id { Ok(job) } else { Err(format!("it names operation {}", job.op_id)) }
        });
        let job = match decoded {
            Ok(job) => job,
            Err(e) => {
                let error =
                    format!("this worker cannot read the queued call ({e}); upgrade the workers and call it again");
                tracing::error!(%op_id, %error, "unreadable queued call");
                let out = super::operations::Outcome::failed(error);
                super::operations::finish(pool, op_id, worker_id, &out, &[]).await?;
                continue;
            }
        };
        let waited: f64 = row.try_get("waited")?;
        return Ok(Some(Claimed {
            op_id,
            job,
            attempt: row.try_get("attempt")?,
            queued_for: Duration::from_secs_f64(waited.max(0.0)),
            more: row.try_get("more")?,
        }));
    }
}

/// Calls waiting on `lane`, for metrics and health checks.
pub async fn depth(conn: impl PgExecutor<'_>, lane: Lane) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM operations WHERE status = 'queued' AND coalesced_into IS NULL AND lane = $1",
    )
    .bind(lane.as_str())
    .fetch_one(conn)
    .await?)
}

/// What a scaler needs of one lane: calls waiting (queued, as [`depth`] counts them) and how long
/// the oldest claimable one (`run_after` passed) has waited for a worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneStats {
    pub lane: Lane,
    pub depth: i64,
    /// Seconds since the oldest claimable call became claimable (its enqueue, or its retry time);
    /// 0 when none is.
    pub oldest_seconds: f64,
}

/// [`LaneStats`] of every lane in one statement, each lane one range of the claimable partial
/// index (queued rows only, whatever the size of the trail).
pub async fn lane_stats(conn: impl PgExecutor<'_>) -> Result<Vec<LaneStats>, DbError> {
    let names: Vec<&str> = Lane::ALL.iter().map(|l| l.as_str()).collect();
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT l.lane, s.depth, s.oldest
         FROM unnest($1::text[]) AS l(lane)
         CROSS JOIN LATERAL (
             SELECT count(*) AS depth,
                    coalesce(extract(epoch FROM now() - min(o.run_after) FILTER (WHERE o.run_after <= now())), 0)::float8
                        AS oldest
             FROM operations o
             WHERE o.status = 'queued' AND o.coalesced_into IS NULL AND o.lane = l.lane) s",
    )
    .bind(&names)
    .fetch_all(conn)
    .await?;
    Ok(Lane::ALL
        .iter()
        .map(|&lane| {
            let row = rows.iter().find(|(name, ..)| name == lane.as_str());
            let (depth, oldest_seconds) = row.map(|&(_, d, o)| (d, o.max(0.0))).unwrap_or((0, 0.0));
            LaneStats { lane, depth, oldest_seconds }
        })
        .collect())
}
