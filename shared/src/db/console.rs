//! The `console_sessions` table: sign-ins to the operations console, by the SHA-256 of their id.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

use super::DbError;

/// A stored sign-in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// The SHA-256 of the API key signed in with; none for an OIDC sign-in.
    pub key_sha256: Option<Vec<u8>>,
    /// The actor as signed in (re-derived from the key on each request of an API-key session).
    pub actor: Value,
    pub expires_at: DateTime<Utc>,
}

/// Record a sign-in, and forget the ones that have expired.
pub async fn create(
    conn: &mut sqlx::PgConnection,
    session_sha256: &[u8; 32],
    key_sha256: Option<&[u8; 32]>,
    actor: &Value,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM console_sessions WHERE expires_at < now()").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO console_sessions (session_sha256, key_sha256, actor, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&session_sha256[..])
        .bind(key_sha256.map(|k| k.to_vec()))
        .bind(actor)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The live sign-in with this id hash, if any.
pub async fn get(conn: impl PgExecutor<'_>, session_sha256: &[u8; 32]) -> Result<Option<SessionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT key_sha256, actor, expires_at FROM console_sessions WHERE session_sha256 = $1 AND expires_at > now()",
    )
    .bind(&session_sha256[..])
    .fetch_optional(conn)
    .await?)
}

/// End a sign-in (signing out).
pub async fn delete(conn: impl PgExecutor<'_>, session_sha256: &[u8; 32]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM console_sessions WHERE session_sha256 = $1")
        .bind(&session_sha256[..])
        .execute(conn)
        .await?;
    Ok(())
}
