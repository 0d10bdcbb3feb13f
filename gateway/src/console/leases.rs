//! Proxy leases, live and recent (`list_proxies_leases`), one lease with the tail of its logs
//! (`get_proxy_status`, `get_proxy_logs`), and stopping one with a reason (`stop_proxy`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mtcp_shared::domain::ToolName;
use mtcp_shared::leases::{LeaseList, LeaseLogs, LeaseView};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::page::{Chrome, NoticeQuery, Problem, Section, render, when, when_opt};
use super::session::Signed;
use super::tools;

/// Log lines shown on a lease's page.
const LOG_TAIL: u32 = 100;

struct Row {
    l: LeaseView,
    target: String,
    ttl: String,
    runs_on: String,
}

impl From<LeaseView> for Row {
    fn from(l: LeaseView) -> Self {
        let target = match &l.target {
            serde_json::Value::Object(map) => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        let ttl = if l.live { format!("{}s", l.expires_in_seconds) } else { "ended".to_owned() };
        let runs_on = match (&l.edge_agent, &l.host) {
            (Some(edge), _) => format!("edge agent {edge}"),
            (None, Some(host)) => format!("worker on {host}"),
            (None, None) => "—".to_owned(),
        };
        Self { target, ttl, runs_on, l }
    }
}

#[derive(Template)]
#[template(path = "console/leases.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    error: Option<String>,
}

/// `GET /console/leases`.
pub async fn list(State(console): State<Console>, signed: Signed) -> Response {
    let chrome = Chrome::new(&console, &signed, Section::Leases);
    if let Err(p) = chrome.require(Section::Leases) {
        return p.into_response();
    }
    let answer = tools::run::<LeaseList>(&console.app, &signed.actor, ToolName::ListProxiesLeases, json!({})).await;
    let (rows, error) = match answer.outcome {
        Ok(list) => (list.leases.into_iter().map(Row::from).collect(), None),
        Err(message) => (Vec::new(), Some(message)),
    };
    render(&ListPage { chrome, rows, error })
}

#[derive(Template)]
#[template(path = "console/lease.html")]
struct DetailPage {
    chrome: Chrome,
    row: Row,
    created_at: String,
    expires_at: String,
    ended_at: String,
    heartbeat: String,
    /// Time, stream, line.
    logs: Vec<(String, String, String)>,
    logs_error: Option<String>,
}

/// `GET /console/leases/{lease_id}`.
pub async fn detail(
    State(console): State<Console>,
    signed: Signed,
    Path(lease_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let mut chrome = Chrome::new(&console, &signed, Section::Leases);
    if let Err(p) = chrome.require(Section::Leases) {
        return p.into_response();
    }
    chrome.notice = q.text();
    let (st, actor) = (&console.app, &signed.actor);
    let status = tools::run::<LeaseView>(st, actor, ToolName::GetProxyStatus, json!({ "lease_id": lease_id })).await;
    let lease = match status.outcome {
        Ok(lease) => lease,
        Err(message) => return Problem::from_tool(message, StatusCode::NOT_FOUND).into_response(),
    };
    let (logs, logs_error) = if chrome.can.read_logs {
        let args = json!({ "lease_id": lease_id, "tail": LOG_TAIL });
        match tools::run::<LeaseLogs>(st, actor, ToolName::GetProxyLogs, args).await.outcome {
            Ok(logs) => {
                let lines = logs.lines.into_iter().map(|l| (l.at.format("%H:%M:%S%.3f").to_string(), l.stream, l.line));
                (lines.collect(), None)
            }
            Err(message) => (Vec::new(), Some(message)),
        }
    } else {
        (Vec::new(), Some("your role may not read proxy logs".to_owned()))
    };
    let page = DetailPage {
        chrome,
        created_at: when(&lease.created_at),
        expires_at: when(&lease.expires_at),
        ended_at: when_opt(&lease.ended_at),
        heartbeat: when_opt(&lease.last_heartbeat_at),
        row: Row::from(lease),
        logs,
        logs_error,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/leases/{lease_id}/stop`.
pub async fn stop(
    State(console): State<Console>,
    signed: Signed,
    Path(lease_id): Path<String>,
    Form(form): Form<StopForm>,
) -> Response {
    if let Err(p) = signed.check_csrf(&form.csrf) {
        return p.into_response();
    }
    if form.reason.trim().is_empty() {
        return Problem::bad_request("say why you stop this lease (the reason is recorded with the operation)")
            .into_response();
    }
    let args = json!({ "lease_id": lease_id, "reason": form.reason.trim() });
    let answer = tools::run::<LeaseView>(&console.app, &signed.actor, ToolName::StopProxy, args).await;
    match answer.outcome {
        Ok(lease) => Redirect::to(&format!("/console/leases/{}?notice=stopped", lease.lease_id)).into_response(),
        Err(message) => Problem::from_tool(message, StatusCode::CONFLICT).into_response(),
    }
}
