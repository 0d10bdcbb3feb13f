//! The access-request tools. The Teleport requester is the control plane's identity, so the MCP
//! actor, reason and ticket are written into the request's reason where Teleport reviewers see them.

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::domain::{RequestId, RequestedResource, ToolJob};
use mtcp_shared::teleport::access;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;
use crate::JobContext;

/// Whether `tool` is an access-request tool.
pub(super) fn handles(tool: &str) -> bool {
    matches!(
        tool,
        "list_access_requests"
            | "show_access_request"
            | "create_access_request"
            | "review_access_request"
            | "drop_access_request"
    )
}

fn text<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key).and_then(Value::as_str)
}

fn request_id(args: &Value) -> Result<RequestId, String> {
    RequestId::parse(text(args, "request_id").unwrap_or_default()).map_err(|e| format!("`request_id`: {e}"))
}

/// What Teleport reviewers read: who asked through the control plane first, in a fixed form the
/// caller cannot write (the op id is ours; the actor and ticket are shown with no brackets), then
/// the caller's reason on one line with its brackets made parentheses, so no text of the caller's
/// can read as another attribution marker.
pub(crate) fn teleport_reason(job: &ToolJob) -> String {
    let reason = text(&job.args, "reason").unwrap_or_default();
    let ticket = text(&job.args, "ticket").map(str::trim).filter(|t| !t.is_empty());
    format!("{} {}", marker(job, ticket), plain(reason))
}

/// `[via MCP control plane: op=<op id>, actor=<actor>(, ticket=<ticket>)]`.
fn marker(job: &ToolJob, ticket: Option<&str>) -> String {
    let ticket = ticket.map(|t| format!(", ticket={}", plain(t))).unwrap_or_default();
    format!("[via MCP control plane: op={}, actor={}{ticket}]", job.op_id, plain(&job.actor))
}

/// One line, brackets as parentheses: caller text that cannot imitate the marker.
fn plain(text: &str) -> String {
    let flat: Vec<&str> = text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect();
    flat.join(" / ").replace('[', "(").replace(']', ")")
}

/// The lock `drop_access_request` was asked for: its message names the caller like a request's reason.
fn revoke(job: &ToolJob) -> Option<access::Revoke> {
    let revoke = job.args.get("revoke").filter(|v| v.is_object())?;
    let reason = text(revoke, "reason").unwrap_or_default();
    Some(access::Revoke {
        message: format!("{} {}", marker(job, None), plain(reason)),
        ttl_seconds: revoke.get("ttl_seconds").and_then(Value::as_u64),
    })
}

fn with_ref(mut out: Outcome, id: Option<String>) -> Outcome {
    if let Some(id) = id {
        out.audit_refs = Some(json!([{ "kind": "access_request", "id": id }]));
    }
    out
}

/// Run an access-request tool.
pub(super) async fn run(ctx: &JobContext, job: &ToolJob) -> Outcome {
    let cancel = CancellationToken::new();
    let r = &ctx.runner;
    let args = &job.args;
    match job.tool.as_str() {
        "list_access_requests" => {
            let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(10) as usize;
            let mut run = access::list(r, &cancel, usize::MAX).await;
            // Callers limited to their own objects see only the requests they created (the gateway
            // passes their ids; Teleport sees every request as the control plane's).
            if let (Ok(run), Some(own)) = (run.as_mut(), args.get("_own_request_ids").and_then(Value::as_array)) {
                let own: Vec<&str> = own.iter().filter_map(Value::as_str).collect();
                run.value.requests.retain(|q| own.contains(&q.id.as_str()));
                run.value.total = run.value.requests.len();
                run.value.by_state.clear();
                for q in &run.value.requests {
                    *run.value.by_state.entry(q.state.clone()).or_insert(0) += 1;
                }
            }
            if let Ok(run) = run.as_mut() {
                run.value.requests.truncate(limit);
                run.value.count = run.value.requests.len();
            }
            outcome(run)
        }
        "show_access_request" => match request_id(args) {
            Ok(id) => with_ref(outcome(access::show(r, &cancel, &id).await), Some(id.to_string())),
            Err(e) => Outcome::failed(e),
        },
        "create_access_request" => {
            let wanted: Result<Vec<RequestedResource>, _> = args
                .get("resources")
                .and_then(Value::as_array)
                .map(|v| v.iter().map(|x| RequestedResource::parse(x.as_str().unwrap_or_default())).collect())
                .unwrap_or_else(|| Ok(Vec::new()));
            let wanted = match wanted {
                Ok(w) if !w.is_empty() => w,
                Ok(_) => return Outcome::failed("`resources` is empty"),
                Err(e) => return Outcome::failed(format!("`resources`: {e}")),
            };
            let run = access::create(r, &cancel, &wanted, &teleport_reason(job)).await;
            let id = run.as_ref().ok().map(|r| r.value.request_id.clone());
            with_ref(outcome(run), id)
        }
        "review_access_request" => match request_id(args) {
            Ok(id) => {
                let approve = args.get("approve").and_then(Value::as_bool).unwrap_or(false);
                let run = access::review(r, &cancel, &id, approve, &teleport_reason(job)).await;
                with_ref(outcome(run), Some(id.to_string()))
            }
            Err(e) => Outcome::failed(e),
        },
        _ => match request_id(args) {
            Ok(id) => {
                let revoke = revoke(job);
                let run = access::withdraw(r, &cancel, &id, revoke.as_ref()).await;
                with_ref(outcome(run), Some(id.to_string()))
            }
            Err(e) => Outcome::failed(e),
        },
    }
}
