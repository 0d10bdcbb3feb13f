//! Calls waiting for approval (`list_pending_approvals`) and the decision on one
//! (`approve_operation`, bound to the digest of the exact call shown; `deny_operation`). The
//! tools apply the rules: not one's own call, only named approvers, digest-bound.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mtcp_shared::domain::ToolName;
use mtcp_shared::tools::approval_views::{ApprovalDecision, ApprovalList, PendingApproval};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::page::{Chrome, Problem, Section, pretty, render, when};
use super::session::Signed;
use super::tools;

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<Item>,
    /// Showing one call (`/console/approvals/{op_id}`), e.g. from a notice's link.
    single: bool,
    error: Option<String>,
}

struct Item {
    p: PendingApproval,
    created_at: String,
    expires_at: String,
    arguments: String,
    impact: Option<String>,
}

impl From<PendingApproval> for Item {
    fn from(p: PendingApproval) -> Self {
        let impact = p.approval.impact.as_ref().map(|i| match (&i.blast_radius, &i.error) {
            (Some(radius), _) => pretty(radius),
            (None, Some(error)) => format!("the cluster could not be read: {error}"),
            (None, None) => format!("being read from the cluster ({})", i.status),
        });
        Self {
            created_at: when(&p.created_at),
            expires_at: when(&p.approval.expires_at),
            arguments: pretty(&p.arguments),
            impact,
            p,
        }
    }
}

/// `GET /console/approvals`.
pub async fn list(State(console): State<Console>, signed: Signed) -> Response {
    show(&console, &signed, None).await
}

/// `GET /console/approvals/{op_id}`: the one call (the page an approval notice links to).
pub async fn one(State(console): State<Console>, signed: Signed, Path(op_id): Path<String>) -> Response {
    show(&console, &signed, Some(op_id)).await
}

async fn show(console: &Console, signed: &Signed, only: Option<String>) -> Response {
    let chrome = Chrome::new(console, signed, Section::Approvals);
    if let Err(p) = chrome.require(Section::Approvals) {
        return p.into_response();
    }
    let answer = tools::run::<ApprovalList>(
        &console.app,
        &signed.actor,
        ToolName::ListPendingApprovals,
        json!({ "limit": 200 }),
    )
    .await;
    let (items, mut error) = match answer.outcome {
        Ok(list) => (
            list.approvals
                .into_iter()
                .filter(|a| only.as_ref().is_none_or(|id| *id == a.op_id))
                .map(Item::from)
                .collect(),
            None,
        ),
        Err(message) => (Vec::new(), Some(message)),
    };
    if let Some(op_id) = &only
        && items.is_empty()
        && error.is_none()
    {
        error = Some(format!("operation {op_id} is not waiting for approval (see its page for what happened)"));
    }
    render(&ListPage { chrome, items, single: only.is_some(), error })
}

#[derive(Deserialize)]
pub struct ApproveForm {
    csrf: String,
    args_sha256: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/approvals/{op_id}/approve`.
pub async fn approve(
    State(console): State<Console>,
    signed: Signed,
    Path(op_id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Response {
    if let Err(p) = signed.check_csrf(&form.csrf) {
        return p.into_response();
    }
    let args = json!({ "op_id": op_id, "args_sha256": form.args_sha256, "reason": form.reason });
    decided(&console, &signed, ToolName::ApproveOperation, args, &op_id).await
}

#[derive(Deserialize)]
pub struct DenyForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/approvals/{op_id}/deny`.
pub async fn deny(
    State(console): State<Console>,
    signed: Signed,
    Path(op_id): Path<String>,
    Form(form): Form<DenyForm>,
) -> Response {
    if let Err(p) = signed.check_csrf(&form.csrf) {
        return p.into_response();
    }
    let args = json!({ "op_id": op_id, "reason": form.reason });
    decided(&console, &signed, ToolName::DenyOperation, args, &op_id).await
}

async fn decided(console: &Console, signed: &Signed, tool: ToolName, args: serde_json::Value, op_id: &str) -> Response {
    let answer = tools::run::<ApprovalDecision>(&console.app, &signed.actor, tool, args).await;
    match answer.outcome {
        Ok(decision) => {
            let notice = if tool == ToolName::ApproveOperation { "approved" } else { "denied" };
            tracing::info!(actor = %signed.actor.id, %op_id, status = decision.status.as_str(), "console approval decision");
            Redirect::to(&format!("/console/operations/{}?notice={notice}", decision.op_id)).into_response()
        }
        Err(message) => Problem::from_tool(message, StatusCode::CONFLICT).into_response(),
    }
}
