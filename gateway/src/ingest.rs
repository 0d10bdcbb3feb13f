//! `POST /audit/ingest[/{tag}]`: Teleport's event-handler plugin (fluentd-style HTTP output) sends
//! audit events here. Events are validated, redacted and stored idempotently by uid; malformed ones
//! are rejected with their reason without stopping the batch.
//!
//! The plugin cannot add a header: its fluentd client (`integrations/event-handler/fluentd_client.go`,
//! `FluentdClient.Send`) sets only `Content-Type: application/json` and authenticates with a client
//! certificate. So a sender is authenticated by any of: a client certificate verified against
//! `service.tls.client_ca`; HTTP Basic with an ingest key as the password (what Go's `net/http`
//! sends for a URL `https://name:key@host/audit/ingest`; the user name is ignored); or
//! `Authorization: Bearer <ingest key>`, read by the same parser as `/mcp`'s bearer credentials. A
//! request with two `Authorization` headers is refused (401, `malformed`) whatever else it carries.
//!
//! The credential is checked on the headers, before any of the body is read: an unauthenticated
//! sender is answered at once and holds no memory. An authenticated body is read within
//! `audit.body_read_timeout`, at most `audit.max_concurrent_bodies` at a time.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use mtcp_shared::config::AuditConfig;
use mtcp_shared::db;
use mtcp_shared::ingest::parse_batch;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Peer;
use crate::auth::{AuthFailure, authorization};
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

    /// The configured name of the key in an `Authorization` value (Bearer, read as on `/mcp`, or
    /// Basic with the key as the password); `Ok(None)` for a well-formed but unknown key.
    fn sender(&self, value: &str) -> Result<Option<&str>, AuthFailure> {
        let key = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => {
                let malformed = || AuthFailure::Malformed("Basic credentials are not base64 of `user:key`");
                let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
                let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
                // `user:password` (RFC 7617); the user name is not checked, the password is the key.
                decoded.split_once(':').ok_or_else(malformed)?.1.to_owned()
            }
            _ => crate::auth::parse_bearer(value)?.to_owned(),
        };
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        Ok(self.0.get(&hash).map(String::as_str))
    }
}

/// Who sent the events: a verified client certificate, else an ingest key. `Err` carries the
/// refusal's reason label and message.
fn authenticate(keys: &IngestKeys, peer: Option<&Peer>, headers: &HeaderMap) -> Result<String, (&'static str, String)> {
    let value = match authorization(headers) {
        Ok(value) => Some(value),
        Err(AuthFailure::Missing) => None,
        // Two Authorization headers are refused even beside a client certificate: the request
        // is ambiguous, whatever else authenticates it.
        Err(e) => return Err(("malformed", e.to_string())),
    };
    if let Some(cert) = peer.and_then(|p| p.client_cert.as_ref()) {
        return Ok(format!("client certificate sha256:{}", &cert.sha256[..16]));
    }
    let unauthorized = || {
        let message = "send an ingest key (`https://<name>:<key>@host/audit/ingest`, or `Authorization: Bearer <key>`), \
                       or a client certificate signed by `service.tls.client_ca`";
        ("unauthorized", message.to_owned())
    };
    match value.map(|v| keys.sender(v)) {
        Some(Ok(Some(name))) => Ok(name.to_owned()),
        Some(Err(e)) => Err(("malformed", e.to_string())),
        None | Some(Ok(None)) => Err(unauthorized()),
    }
}

fn refuse(status: StatusCode, reason: &str, message: String) -> Response {
    metrics::counter!("mtcp_audit_ingest_refused_total", "reason" => reason.to_owned()).increment(1);
    (status, axum::Json(json!({ "error": reason, "message": message }))).into_response()
}

/// The handler.
pub async fn ingest(
    State(st): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let peer = extensions.get::<ConnectInfo<Peer>>().map(|c| &c.0);
    let sender = match authenticate(&st.ingest_keys, peer, &headers) {
        Ok(sender) => sender,
        Err((reason, message)) => {
            let mut r = refuse(StatusCode::UNAUTHORIZED, reason, message);
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"audit-ingest\", Bearer"),
            );
            // Its body is never read: close the connection rather than take the rest.
            r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            return r;
        }
    };
    let sender = sender.as_str();
    let Ok(_reading) = st.ingest_bodies.clone().try_acquire_owned() else {
        let mut r = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{} ingest bodies are being read already; retry", st.config.audit.max_concurrent_bodies),
        );
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    };
    let (limit, within) = (st.config.audit.max_body_bytes, st.config.audit.body_read_timeout);
    let body = match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            let message = format!(
                "the body is larger than the limit of {limit} bytes (`audit.max_body_bytes`) or could not be read"
            );
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message);
        }
        Err(_) => {
            let message = format!("the body did not arrive within {within:?} (`audit.body_read_timeout`)");
            let mut r = refuse(StatusCode::REQUEST_TIMEOUT, "body_timeout", message);
            r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            return r;
        }
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
