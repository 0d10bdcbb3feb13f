//! `detect_audit_anomalies`' candidate queries: hourly counts per event type, failed logins of
//! subjects over the threshold, role and user changes, escalation and approval events, MCP session
//! starts and refused MCP tool calls, each capped,
//! and the uids of a storm. The pure detectors (outside `db`) then run over these rows.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::{AnomalyInput, AuditEventRow, EventHourCount, LoginBurst, LoginSubject, SOURCE_IP_SQL, count, event_row};
use crate::config::AnomalyThresholds;
use crate::db::DbError;

/// Most (event type, hour) counts read for storms.
const HOURLY_CAP: i64 = 200_000;
/// Most failed-login bursts read (one per user or source over the threshold).
const BURST_CAP: i64 = 10_000;
/// Most rows read per other candidate query.
const CANDIDATE_CAP: i64 = 10_000;

const COLS: &str = r#"uid, time, event, code, "user", remote_addr"#;

/// The cluster condition of the candidate queries [`rows`] runs: `$3` is the cluster's Teleport
/// name, or NULL for every cluster's events.
const IN_CLUSTER: &str = "($3::text IS NULL OR cluster = $3)";

/// The candidate rows of `[since, until)` of the cluster named `cluster` in Teleport (its events'
/// `cluster_name`; None: every cluster's), lookbacks before the window included; bursts carry at
/// most `evidence` uids. Run it in a [`super::read_snapshot`] so every query sees the same events.
pub async fn anomaly_input(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&str>,
    t: &AnomalyThresholds,
    evidence: usize,
) -> Result<AnomalyInput, DbError> {
    let mut input = AnomalyInput::default();
    let mut notes = Vec::new();

    let hourly = sqlx::query(
        "SELECT event, date_trunc('hour', time, 'UTC') AS hour, count(*) AS n FROM audit_events
         WHERE time >= $1 AND time < $2 AND ($4::text IS NULL OR cluster = $4) GROUP BY 1, 2 ORDER BY 2, 1 LIMIT $3",
    )
    .bind(since)
    .bind(until)
    .bind(HOURLY_CAP)
    .bind(cluster)
    .fetch_all(&mut *conn)
    .await?;
    cap_note(&mut notes, "hourly counts per event type", hourly.len(), HOURLY_CAP);
    for r in &hourly {
        input.hourly.push(EventHourCount {
            event: r.try_get("event")?,
            hour: r.try_get("hour")?,
            count: count(r, "n")?,
        });
    }

    input.login_bursts = login_bursts(conn, since, until, cluster, t, evidence).await?;
    cap_note(&mut notes, "subjects with failed-login bursts", input.login_bursts.len(), BURST_CAP);

    let roles = format!(
        "SELECT {COLS}, jsonb_build_object('name', raw->'name') AS raw FROM audit_events
         WHERE event IN ('role.created', 'role.updated', 'role.deleted') AND time >= $1 AND time < $2
           AND {IN_CLUSTER} ORDER BY time LIMIT $4"
    );
    input.role_changes = rows(conn, roles, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "role changes", input.role_changes.len(), CANDIDATE_CAP);

    let users = format!(
        "SELECT {COLS}, jsonb_build_object('name', raw->'name', 'roles', raw->'roles') AS raw FROM audit_events
         WHERE event IN ('user.create', 'user.update') AND time >= $1 AND time < $2 AND {IN_CLUSTER}
         ORDER BY time LIMIT $4"
    );
    input.user_changes = rows(conn, users, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "user changes", input.user_changes.len(), CANDIDATE_CAP);
    let users_changed = raw_values(&input.user_changes, "name");
    let prior = format!(
        "SELECT DISTINCT ON (raw->>'name') {COLS}, jsonb_build_object('name', raw->'name', 'roles', raw->'roles') AS raw
         FROM audit_events WHERE event IN ('user.create', 'user.update') AND time < $1 AND $2::timestamptz IS NOT NULL
           AND raw->>'name' = ANY($5) AND {IN_CLUSTER} ORDER BY raw->>'name', time DESC LIMIT $4"
    );
    input.prior_user_changes =
        rows(conn, prior, Params::Keys(&users_changed), (since, until, cluster), CANDIDATE_CAP).await?;

    let escalation = format!(
        "SELECT {COLS}, raw FROM audit_events WHERE time >= $1 AND time < $2 AND (
             (event = 'cert.create' AND coalesce(raw->>'impersonator', raw#>>'{{identity,impersonator}}', '') <> '')
             OR event IN ('auth_preference.update', 'cluster_auth_preference.update', 'join_token.create')
             OR code = 'TCAUTH001I') AND {IN_CLUSTER}
         ORDER BY time LIMIT $4"
    );
    input.escalation = rows(conn, escalation, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "escalation events", input.escalation.len(), CANDIDATE_CAP);

    let request_fields = "jsonb_build_object('id', raw->'id', 'state', raw->'state', 'proposed_state',
        raw->'proposed_state', 'reviewer', raw->'reviewer', 'updated_by', raw->'updated_by', 'roles', raw->'roles')";
    let approvals = format!(
        "SELECT {COLS}, {request_fields} AS raw FROM audit_events
         WHERE event IN ('access_request.update', 'access_request.review') AND time >= $1 AND time < $2
           AND (upper(raw->>'state') = 'APPROVED' OR raw->>'state' = '2'
                OR upper(raw->>'proposed_state') = 'APPROVED' OR raw->>'proposed_state' = '2')
           AND {IN_CLUSTER} ORDER BY time LIMIT $4"
    );
    input.approvals = rows(conn, approvals, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "approvals", input.approvals.len(), CANDIDATE_CAP);
    let ids = raw_values(&input.approvals, "id");
    let creates = format!(
        "SELECT {COLS}, {request_fields} AS raw FROM audit_events
         WHERE event = 'access_request.create' AND time < $2 AND $1::timestamptz IS NOT NULL AND raw->>'id' = ANY($5)
           AND {IN_CLUSTER} ORDER BY time LIMIT $4"
    );
    input.request_creates = rows(conn, creates, Params::Keys(&ids), (since, until, cluster), CANDIDATE_CAP).await?;

    let baseline = chrono::Duration::from_std(t.mcp_address_baseline).unwrap_or(chrono::Duration::days(7));
    let from = since.checked_sub_signed(baseline).unwrap_or(since);
    let sessions = format!(
        "SELECT {COLS}, jsonb_build_object('app_name', raw->'app_name') AS raw FROM audit_events
         WHERE event = 'mcp.session.start' AND time >= $1 AND time < $2 AND {IN_CLUSTER} ORDER BY time LIMIT $4"
    );
    let in_window = rows(conn, sessions, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "MCP session starts", in_window.len(), CANDIDATE_CAP);
    // Before the window only the addresses matter: the last start per (user, source IP) of the
    // users seen in the window, so a busy baseline cannot crowd the window's own sessions out.
    let mcp_users: Vec<String> = in_window
        .iter()
        .filter_map(|r| r.user.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let known = format!(
        r#"SELECT DISTINCT ON ("user", {SOURCE_IP_SQL}) {COLS}, jsonb_build_object('app_name', raw->'app_name') AS raw
         FROM audit_events WHERE event = 'mcp.session.start' AND time >= $1 AND time < $2 AND "user" = ANY($5)
           AND {IN_CLUSTER} ORDER BY "user", {SOURCE_IP_SQL}, time DESC LIMIT $4"#
    );
    input.mcp_sessions = rows(conn, known, Params::Keys(&mcp_users), (from, since, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "known MCP session addresses", input.mcp_sessions.len(), CANDIDATE_CAP);
    input.mcp_sessions.extend(in_window);
    let denied = format!(
        "SELECT {COLS}, jsonb_build_object('app_name', raw->'app_name', 'tool', raw#>'{{message,params,name}}',
             'error', raw->'error') AS raw FROM audit_events
         WHERE event = 'mcp.session.request' AND (code = 'TMCP003E' OR success = false)
           AND raw#>>'{{message,method}}' = 'tools/call' AND time >= $1 AND time < $2 AND {IN_CLUSTER}
         ORDER BY time LIMIT $4"
    );
    input.mcp_denied = rows(conn, denied, Params::Cap, (since, until, cluster), CANDIDATE_CAP).await?;
    cap_note(&mut notes, "refused MCP tool calls", input.mcp_denied.len(), CANDIDATE_CAP);

    input.notes = notes;
    Ok(input)
}

/// The first `limit` uids of `event` in `[since, until)` of `cluster` (its Teleport name; None:
/// every cluster's), oldest first (a storm's evidence).
pub async fn event_uids(
    conn: &mut PgConnection,
    event: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT uid FROM audit_events WHERE event = $1 AND time >= $2 AND time < $3
           AND ($5::text IS NULL OR cluster = $5) ORDER BY time, uid LIMIT $4",
    )
    .bind(event)
    .bind(since)
    .bind(until)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(cluster)
    .fetch_all(conn)
    .await?)
}

/// Each user's and source's densest `brute_force_window` of failed logins that reaches the
/// threshold, counted over every failed login of the window in SQL (reading the failures
/// themselves under a cap let early decoys hide a later attack). The rule is the one
/// the detectors' `login_bursts` applies to rows: a closed window `[start, start + width]`.
async fn login_bursts(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&str>,
    t: &AnomalyThresholds,
    evidence: usize,
) -> Result<Vec<LoginBurst>, DbError> {
    let sql = format!(
        r#"WITH f AS (
             SELECT uid, time, "user", {SOURCE_IP_SQL} AS ip FROM audit_events
             WHERE time >= $1 AND time < $2 AND ($7::text IS NULL OR cluster = $7) AND event IN ('user.login', 'auth')
               AND (success = false OR (success IS NULL AND code IN ('T1000W', 'T1001W', 'T3007W')))),
           k AS (
             SELECT 'user' AS by, "user" AS subject, uid, time FROM f WHERE coalesce("user", '') <> ''
             UNION ALL
             SELECT 'source', ip, uid, time FROM f WHERE coalesce(ip, '') <> ''),
           w AS (
             SELECT by, subject, time, count(*) OVER (
                 PARTITION BY by, subject ORDER BY time
                 RANGE BETWEEN CURRENT ROW AND $3::interval FOLLOWING) AS n
             FROM k),
           best AS (
             SELECT DISTINCT ON (by, subject) by, subject, time AS start, n FROM w WHERE n >= $4
             ORDER BY by, subject, n DESC, time)
         SELECT b.by, b.subject, b.n, min(k.time) AS first, max(k.time) AS last,
                (array_agg(k.uid ORDER BY k.time, k.uid))[1:$5] AS evidence
         FROM best b JOIN k ON k.by = b.by AND k.subject = b.subject
                           AND k.time >= b.start AND k.time <= b.start + $3::interval
         GROUP BY b.by, b.subject, b.n
         ORDER BY b.by DESC, b.subject LIMIT $6"#
    );
    let micros = i64::try_from(t.brute_force_window.as_micros()).unwrap_or(i64::MAX);
    let width = sqlx::postgres::types::PgInterval { months: 0, days: 0, microseconds: micros };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .bind(until)
        .bind(width)
        .bind(i64::from(t.brute_force_failures.max(1)))
        .bind(i32::try_from(evidence).unwrap_or(i32::MAX))
        .bind(BURST_CAP)
        .bind(cluster)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            let by: String = r.try_get("by")?;
            Ok(LoginBurst {
                by: if by == "user" { LoginSubject::User } else { LoginSubject::Source },
                subject: r.try_get("subject")?,
                count: count(r, "n")?,
                first: r.try_get("first")?,
                last: r.try_get("last")?,
                evidence: r.try_get("evidence")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Extra parameters of a candidate query after `$1` since, `$2` until and `$3` the cluster
/// ([`IN_CLUSTER`]).
enum Params<'a> {
    /// `$4` the cap.
    Cap,
    /// `$4` the cap, `$5` a text array; no query when it is empty.
    Keys(&'a [String]),
}

/// Run a candidate query built from this module's constants only, over `(since, until, cluster)`.
async fn rows(
    conn: &mut PgConnection,
    sql: String,
    params: Params<'_>,
    (since, until, cluster): (DateTime<Utc>, DateTime<Utc>, Option<&str>),
    cap: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).bind(until).bind(cluster);
    let query = match params {
        Params::Cap => query.bind(cap),
        Params::Keys([]) => return Ok(Vec::new()),
        Params::Keys(keys) => query.bind(cap).bind(keys),
    };
    let fetched = query.fetch_all(conn).await?;
    fetched.iter().map(event_row).collect::<Result<_, _>>().map_err(DbError::from)
}

/// Distinct non-empty values of a raw field.
fn raw_values(rows: &[AuditEventRow], key: &str) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r.raw.get(key)?.as_str()).filter(|s| !s.is_empty()).collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Say when a query hit its cap (the detectors then see its first rows only).
fn cap_note(notes: &mut Vec<String>, what: &str, got: usize, cap: i64) {
    if i64::try_from(got).unwrap_or(i64::MAX) >= cap {
        notes.push(format!("{what}: only the first {cap} rows of the window were analysed"));
    }
}
