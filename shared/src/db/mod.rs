//! The only SQL in the workspace: connection, migrations, operations (which are the jobs), agents, leases, audit
//! events, notifications, and the reaper's sweeps (lease sweeps, recovery, retention).
//! Functions take an executor so callers can combine them in one transaction.

pub mod agents;
pub mod api_keys;
pub mod approvals;
pub mod audit;
pub mod cancel;
pub mod clusters;
pub mod console;
pub mod edge;
pub mod health;
mod history;
pub mod in_flight;
pub mod leader;
pub mod lease_sweeps;
pub mod leases;
pub mod operation_detail;
pub mod operations;
pub mod queue;
pub mod rate_limit;
pub mod recovery;
pub mod retention;
pub mod retry;
pub mod webhooks;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Channel on which a finished operation's id is announced.
pub const OPS_CHANNEL: &str = "mtcp_ops";

/// Our migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Database errors in domain words.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("the database is not migrated ({missing}); run `mtcp migrate` first")]
    NotMigrated { missing: String },
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("job queue: {0}")]
    Queue(String),
}

impl DbError {
    /// Whether the error is the database being unreachable for a while (a restart, a failover, a
    /// broken connection) rather than a problem with the statement: worth retrying the same work.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Connect(e) | DbError::Sql(e) => is_transient(e),
            _ => false,
        }
    }
}

/// See [`DbError::is_transient`]: I/O errors, a pool that found no connection in time, and the
/// server's connection-exception (08…) and shutdown (57P01–57P03) codes.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(d) => {
            d.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// Open a pool. The URL must carry a user (sqlx 0.9 would log in as `anonymous` otherwise).
pub async fn connect(url: &str, max_connections: u32, connect_timeout: Duration) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(connect_timeout)
        .connect(url)
        .await
        .map_err(DbError::Connect)
}

/// Apply our migrations (a database of an earlier release is upgraded in place: see
/// [`history::prepare`]).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    history::prepare(pool).await?;
    MIGRATOR.run(pool).await.map_err(|e| DbError::Migrate(e.to_string()))?;
    Ok(())
}

/// Refuse to run on a database that lacks any of our migrations.
pub async fn ensure_migrated(pool: &PgPool) -> Result<(), DbError> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM public._sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
    let missing: Vec<String> = MIGRATOR
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    if !missing.is_empty() {
        return Err(DbError::NotMigrated { missing: format!("missing migrations: {}", missing.join(", ")) });
    }
    Ok(())
}

/// Postgres text and jsonb cannot hold U+0000: a caller's NUL must not make a record vanish, so it
/// is stored as U+FFFD.
pub(crate) fn storable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') { std::borrow::Cow::Owned(s.replace('\0', "\u{fffd}")) } else { std::borrow::Cow::Borrowed(s) }
}

/// [`storable`] for every string (and key) of a JSON value.
pub(crate) fn storable_json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(storable(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(storable_json).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (storable(k).into_owned(), storable_json(v))).collect())
        }
        other => other.clone(),
    }
}

/// `now - age`, saturating: a configured age too large to subtract means "before any time".
pub fn before(now: chrono::DateTime<chrono::Utc>, age: Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

/// A cheap round trip for readiness probes.
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
