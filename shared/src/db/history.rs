//! Replaying our migration history on a new database. Releases before the operation row became
//! the job kept the queue in apalis-postgres' schema `apalis`, and one of their migrations indexes
//! `apalis.jobs`; an applied migration cannot change (sqlx checks its checksum), so a database that
//! has not reached it gets the few columns those statements name, and the migration that moves the
//! queue into `operations` drops the schema again. A database of an earlier release already has
//! the real table, whose queued jobs that migration carries over.

use sqlx::PgPool;

use super::DbError;

/// The migration that indexes `apalis.jobs`.
const INDEXES_APALIS_JOBS: i64 = 20261127000030;

/// Give a database that has not applied [`INDEXES_APALIS_JOBS`] what it reads.
pub(super) async fn prepare(pool: &PgPool) -> Result<(), DbError> {
    let applied: Option<bool> =
        match sqlx::query_scalar("SELECT success FROM public._sqlx_migrations WHERE version = $1")
            .bind(INDEXES_APALIS_JOBS)
            .fetch_optional(pool)
            .await
        {
            Ok(v) => v,
            // No migration ever ran here.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => None,
            Err(e) => return Err(e.into()),
        };
    if applied.is_some() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query("CREATE SCHEMA IF NOT EXISTS apalis").execute(&mut *tx).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS apalis.jobs (
            id text PRIMARY KEY, job bytea NOT NULL, job_type text NOT NULL, max_attempts integer NOT NULL,
            status text NOT NULL, lock_by text, done_at timestamptz)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
