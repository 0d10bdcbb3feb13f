//! The access-request tools. The Teleport requester is the control plane's identity, so the MCP
//! actor, reason and ticket are written into the request's reason where Teleport reviewers see them.

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::domain::{RequestId, RequestedResource, ToolJob};
use mtcp_shared::teleport::access;
use mtcp_shared::tools::{
    CreateRequestArgs, DropRequestArgs, ListAccessRequests, RequestIdArgs, ReviewRequestArgs, RevokeArgs, ToolCall,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;
use crate::JobContext;

/// The access-request tools: a change to Teleport, once started, runs to its end (killing it
/// midway would leave its outcome unknown), and the reads alongside them are short.
pub(super) fn uncancellable(call: &ToolCall) -> bool {
    matches!(
        call,
        ToolCall::ListAccessRequests(_)
            | ToolCall::ShowAccessRequest(_)
            | ToolCall::CreateAccessRequest(_)
            | ToolCall::ReviewAccessRequest(_)
            | ToolCall::DropAccessRequest(_)
    )
}

fn request_id(raw: &str) -> Result<RequestId, String> {
    RequestId::parse(raw).map_err(|e| format!("`request_id`: {e}"))
}

/// What Teleport reviewers read: who asked through the control plane first, in a fixed form the
/// caller cannot write (the op id is ours; the actor and ticket are shown with no brackets), then
/// the caller's reason on one line with its brackets made parentheses, so no text of the caller's
/// can read as another attribution marker.
pub(crate) fn teleport_reason(job: &ToolJob, reason: &str, ticket: Option<&str>) -> String {
    let ticket = ticket.map(str::trim).filter(|t| !t.is_empty());
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
fn revoke(job: &ToolJob, revoke: &RevokeArgs) -> access::Revoke {
    access::Revoke {
        message: format!("{} {}", marker(job, None), plain(&revoke.reason)),
        ttl_seconds: revoke.ttl_seconds,
    }
}

fn with_ref(mut out: Outcome, id: Option<String>) -> Outcome {
    if let Some(id) = id {
        out.audit_refs = Some(json!([{ "kind": "access_request", "id": id }]));
    }
    out
}

/// `list_access_requests`: newest first, only the caller's own when the gateway says so.
pub(super) async fn list(ctx: &JobContext, call: &ListAccessRequests) -> Outcome {
    let cancel = CancellationToken::new();
    let limit = call.args.limit.unwrap_or(10) as usize;
    let mut run = access::list(&ctx.runner, &cancel, usize::MAX).await;
    // Callers limited to their own objects see only the requests they created (the gateway
    // passes their ids; Teleport sees every request as the control plane's).
    if let (Ok(run), Some(own)) = (run.as_mut(), &call.own_request_ids) {
        run.value.requests.retain(|q| own.iter().any(|id| id.as_str() == q.id));
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

/// `show_access_request`.
pub(super) async fn show(ctx: &JobContext, a: &RequestIdArgs) -> Outcome {
    match request_id(&a.request_id) {
        Ok(id) => {
            with_ref(outcome(access::show(&ctx.runner, &CancellationToken::new(), &id).await), Some(id.to_string()))
        }
        Err(e) => Outcome::failed(e),
    }
}

/// `create_access_request`.
pub(super) async fn create(ctx: &JobContext, job: &ToolJob, a: &CreateRequestArgs) -> Outcome {
    let wanted: Result<Vec<RequestedResource>, _> = a.resources.iter().map(|r| RequestedResource::parse(r)).collect();
    let wanted = match wanted {
        Ok(w) if !w.is_empty() => w,
        Ok(_) => return Outcome::failed("`resources` is empty"),
        Err(e) => return Outcome::failed(format!("`resources`: {e}")),
    };
    let reason = teleport_reason(job, &a.reason, a.ticket.as_deref());
    let run = access::create(&ctx.runner, &CancellationToken::new(), &wanted, &reason).await;
    let id = run.as_ref().ok().map(|r| r.value.request_id.clone());
    with_ref(outcome(run), id)
}

/// `review_access_request`.
pub(super) async fn review(ctx: &JobContext, job: &ToolJob, a: &ReviewRequestArgs) -> Outcome {
    match request_id(&a.request_id) {
        Ok(id) => {
            let reason = teleport_reason(job, &a.reason, a.ticket.as_deref());
            let run = access::review(&ctx.runner, &CancellationToken::new(), &id, a.approve, &reason).await;
            with_ref(outcome(run), Some(id.to_string()))
        }
        Err(e) => Outcome::failed(e),
    }
}

/// `drop_access_request`.
pub(super) async fn withdraw(ctx: &JobContext, job: &ToolJob, a: &DropRequestArgs) -> Outcome {
    match request_id(&a.request_id) {
        Ok(id) => {
            let revoke = a.revoke.as_ref().map(|r| revoke(job, r));
            let run = access::withdraw(&ctx.runner, &CancellationToken::new(), &id, revoke.as_ref()).await;
            with_ref(outcome(run), Some(id.to_string()))
        }
        Err(e) => Outcome::failed(e),
    }
}
