//! `POST /audit/ingest[/{tag}]`: Teleport's event-handler plugin (fluentd-style HTTP output) sends
//! audit events here with a dedicated ingest credential. Events are validated, redacted and stored
//! idempotently by uid; malformed ones are rejected with their reason without stopping the batch.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mtcp_shared::config::AuditConfig;
use mtcp_shared::db;
use mtcp_shared::ingest::parse_batch;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Ingest credentials by SHA-256 (only hashes are kept).
#[derive(Default)]
pub struct IngestKeys(HashMap<[u8; 32], String>);

impl IngestKeys {
    pub fn from_config(audit: &AuditConfig) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        for (i, k) in audit.ingest_keys.iter().enumerate() {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(k.sha256.to_ascii_lowercase(), &mut hash).map_err(|_| {
                anyhow::anyhow!("invalid configuration: `audit.ingest_keys[{i}].sha256` is not 64 hex digits")
            })?;
            map.insert(hash, k.name.clone());
        }
        Ok(Self(map))
    }

    fn sender(&self, headers: &HeaderMap) -> Option<&str> {
        let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.0.get(&hash).map(String::as_str)
    }
}

fn refuse(status: StatusCode, reason: &str, message: String) -> Response {
    metrics::counter!("mtcp_audit_ingest_refused_total", "reason" => reason.to_owned()).increment(1);
    (status, axum::Json(json!({ "error": reason, "message": message }))).into_response()
}

/// The handler.
pub async fn ingest(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(sender) = st.ingest_keys.sender(&headers) else {
        let mut r =
            refuse(StatusCode::UNAUTHORIZED, "unauthorized", "send `Authorization: Bearer <ingest key>`".into());
        r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return r;
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "not_utf8", "the body is not UTF-8".into());
    };
    let batch = match parse_batch(text) {
        Ok(b) => b,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "no_events", e),
    };
    let inserted = match db::audit::insert_batch(&st.pool, &batch.events).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "storing audit events");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the audit store is unavailable; retry".into(),
            );
        }
    };
    let valid = batch.events.len() as u64;
    let rejected = batch.rejected.len() as u64;
    metrics::counter!("mtcp_audit_events_ingested_total", "result" => "inserted").increment(inserted);
    metrics::counter!("mtcp_audit_events_ingested_total", "result" => "duplicate").increment(valid - inserted);
    metrics::counter!("mtcp_audit_events_ingested_total", "result" => "rejected").increment(rejected);
    if rejected > 0 {
        tracing::warn!(sender, rejected, "audit events rejected");
    }
    axum::Json(json!({
        "received": valid + rejected,
        "inserted": inserted,
        "duplicates": valid - inserted,
        "rejected": batch.rejected,
    }))
    .into_response()
}
