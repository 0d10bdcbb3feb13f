//! `notifications/cancelled` in stateless mode: rmcp answers it with 202 and drops it, and it may
//! reach a replica other than the one holding the call. This layer (after authentication) reads it
//! first and marks the caller's operation for that request id cancelled, through Postgres, so any
//! replica can take it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mtcp_shared::db;
use mtcp_shared::domain::Actor;
use serde_json::Value;

use crate::state::AppState;

/// Largest body read here; rmcp applies the same limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub async fn intercept_cancel(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let text = format!("request body is larger than {MAX_BODY_BYTES} bytes or could not be read");
            return (StatusCode::PAYLOAD_TOO_LARGE, text).into_response();
        }
    };
    // Cheap check first: only a body that mentions the method is parsed twice.
    if memchr::memmem::find(&bytes, b"notifications/cancelled").is_some()
        && let Some(actor) = parts.extensions.get::<Actor>()
        && let Ok(msg) = serde_json::from_slice::<Value>(&bytes)
    {
        for m in msg.as_array().cloned().unwrap_or_else(|| vec![msg]) {
            if m.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
                && let Some(id) = m.pointer("/params/requestId")
            {
                cancel(&st, actor, id).await;
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The request id as the call path records it (`NumberOrString`'s text form).
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn cancel(st: &AppState, actor: &Actor, id: &Value) {
    let Some(request_id) = id_text(id) else { return };
    let found = match db::cancel::active_by_request(&st.pool, &actor.id, &request_id).await {
        Ok(found) => found,
        Err(e) => return tracing::warn!(error = %e, "looking up a cancelled request"),
    };
    // Unknown or finished ids are ignored, as the protocol allows.
    let Some(op_id) = found else { return };
    match db::cancel::request(&st.pool, op_id).await {
        Ok(outcome) => {
            tracing::info!(op_id = %op_id, actor = %actor.id, ?outcome, "cancellation requested by the client");
            metrics::counter!("mtcp_cancellations_total", "via" => "notification").increment(1);
        }
        Err(e) => tracing::warn!(op_id = %op_id, error = %e, "recording a cancellation"),
    }
}
