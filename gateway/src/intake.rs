//! The MCP request body before rmcp (after authentication): the size limit; JSON and JSON-RPC
//! envelope checks answered with JSON-RPC errors that name the problem (rmcp answers such bodies
//! with a bare 415, or "method not found" for bad `tools/call` params); and
//! `notifications/cancelled`, which rmcp drops in stateless mode and which may reach a replica
//! other than the one holding the call — it marks the caller's operation for that request id
//! cancelled, through Postgres, so any replica can take it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mtcp_shared::db;
use mtcp_shared::domain::Actor;
use serde_json::Value;

use crate::state::AppState;

/// Largest body read here; rmcp applies the same limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest JSON-RPC request id accepted (characters). Ids are stored with every call, denied and
/// rate-limited ones included, so an unbounded id would let any caller fill the database.
pub const MAX_ID_CHARS: usize = 128;

pub async fn intake(State(st): State<AppState>, req: Request, next: Next) -> Response {
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
    let msg = match serde_json::from_slice::<Value>(&bytes) {
        Ok(msg) => msg,
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, &Value::Null, -32700, format!("parse error: {e}")),
    };
    if let Err((code, problem)) = check_envelope(&msg) {
        // An id we refused (too long) is not echoed back.
        let id = msg
            .get("id")
            .filter(|id| id.is_number() || id.as_str().is_some_and(|s| s.chars().count() <= MAX_ID_CHARS))
            .cloned()
            .unwrap_or(Value::Null);
        // A request we can answer by id gets a normal JSON-RPC error; an unusable message a 400.
        let status = if code == -32602 { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        return rpc_error(status, &id, code, problem);
    }
    if msg.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
        && let Some(actor) = parts.extensions.get::<Actor>()
        && let Some(id) = msg.pointer("/params/requestId")
    {
        cancel(&st, actor, id).await;
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// JSON-RPC 2.0 as MCP uses it: one message per request, `jsonrpc: "2.0"`, a string or number id,
/// an object `params`; for `tools/call`, a string `name` and object `arguments`. Err: (JSON-RPC
/// error code, what is wrong).
fn check_envelope(msg: &Value) -> Result<(), (i64, String)> {
    let invalid = |problem: &str| Err((-32600, format!("invalid request: {problem}")));
    let Some(obj) = msg.as_object() else {
        return if msg.is_array() {
            invalid("JSON-RPC batches are not supported by MCP (removed in 2025-06-18); send one message per request")
        } else {
            invalid("a JSON-RPC message must be a JSON object")
        };
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("`jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = obj.get("id")
        && !(id.is_string() || id.is_number())
    {
        return invalid("`id` must be a string or a number");
    }
    if let Some(Value::String(id)) = obj.get("id")
        && id.chars().count() > MAX_ID_CHARS
    {
        return Err((-32600, format!("invalid request: `id` is longer than {MAX_ID_CHARS} characters")));
    }
    let Some(method) = obj.get("method") else {
        // A response to a server request: rmcp decides what to do with it.
        return if obj.contains_key("result") || obj.contains_key("error") {
            Ok(())
        } else {
            invalid("`method` is missing")
        };
    };
    let Some(method) = method.as_str() else { return invalid("`method` must be a string") };
    match obj.get("params") {
        None | Some(Value::Object(_)) => {}
        Some(_) => return invalid("`params` must be an object"),
    }
    if method == "tools/call" {
        let params = obj.get("params");
        let bad = |problem: &str| Err((-32602, format!("invalid params for tools/call: {problem}")));
        match params.and_then(|p| p.get("name")) {
            Some(Value::String(_)) => {}
            Some(_) => return bad("`name` must be a string"),
            None => return bad("`name` (the tool to call) is missing"),
        }
        match params.and_then(|p| p.get("arguments")) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return bad("`arguments` must be an object"),
        }
    }
    Ok(())
}

fn rpc_error(status: StatusCode, id: &Value, code: i64, message: String) -> Response {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
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
