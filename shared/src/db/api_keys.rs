//! The `api_keys` table: keys created with `mtcp keys`, looked up by their SHA-256.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::DbError;

/// A stored key (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub key_id: Uuid,
    pub actor: String,
    pub role: String,
    pub kind: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new key's metadata.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub key_id: Uuid,
    pub actor: &'a str,
    pub role: &'a str,
    pub kind: &'a str,
    pub sha256: &'a [u8; 32],
    pub description: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Store a new key.
pub async fn insert(conn: impl PgExecutor<'_>, k: &NewApiKey<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, actor, role, kind, sha256, description, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(k.key_id)
    .bind(k.actor)
    .bind(k.role)
    .bind(k.kind)
    .bind(&k.sha256[..])
    .bind(k.description)
    .bind(k.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The key with this hash, whatever its state (the caller tells expired and revoked apart).
pub async fn find_by_hash(conn: impl PgExecutor<'_>, sha256: &[u8; 32]) -> Result<Option<ApiKeyRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT key_id, actor, role, kind, description, created_at, expires_at, revoked_at, last_used_at
         FROM api_keys WHERE sha256 = $1",
    )
    .bind(&sha256[..])
    .fetch_optional(conn)
    .await?)
}

/// Record a use, at most once a minute per key (so authentication does not write on every call).
pub async fn touch(conn: impl PgExecutor<'_>, key_id: Uuid) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now()
         WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')",
    )
    .bind(key_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// All keys, newest first.
pub async fn list(conn: impl PgExecutor<'_>) -> Result<Vec<ApiKeyRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT key_id, actor, role, kind, description, created_at, expires_at, revoked_at, last_used_at
         FROM api_keys ORDER BY created_at DESC",
    )
    .fetch_all(conn)
    .await?)
}

/// Revoke a key; false when it does not exist or was already revoked.
pub async fn revoke(conn: impl PgExecutor<'_>, key_id: Uuid) -> Result<bool, DbError> {
    let r = sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL")
        .bind(key_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
