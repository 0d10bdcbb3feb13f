//! The trail: operations filtered by actor, tool, capability, status and time
//! (`search_operations`), and one operation in full (`get_operation`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use mtcp_shared::domain::ToolName;
use mtcp_shared::tools::views::{OperationSearchView, OperationSummary, OperationView};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Console;
use super::page::{Chrome, NoticeQuery, Problem, Section, pretty, render, when, when_opt};
use super::session::Signed;
use super::tools;

/// The filter form, as typed: every field optional, times as a browser's `datetime-local` (UTC).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub capability: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub limit: String,
}

/// Statuses offered in the filter.
const STATUSES: &[&str] =
    &["awaiting_approval", "queued", "running", "succeeded", "failed", "denied", "timed_out", "cancelled", "expired"];

#[derive(Template)]
#[template(path = "console/operations.html")]
struct ListPage {
    chrome: Chrome,
    filters: Filters,
    statuses: &'static [&'static str],
    tools: Vec<&'static str>,
    rows: Vec<Row>,
    error: Option<String>,
}

struct Row {
    op_id: String,
    created_at: String,
    actor: String,
    role: String,
    tool: String,
    capability: String,
    status: String,
    reason: String,
    error: String,
}

impl From<OperationSummary> for Row {
    fn from(o: OperationSummary) -> Self {
        Self {
            created_at: when(&o.created_at),
            op_id: o.op_id,
            actor: o.actor,
            role: o.actor_role,
            tool: o.tool,
            capability: o.capability,
            status: o.status,
            reason: o.reason.unwrap_or_default(),
            error: o.error.map(|e| shorten(&e, 160)).unwrap_or_default(),
        }
    }
}

/// `GET /console/operations`.
pub async fn list(State(console): State<Console>, signed: Signed, Query(filters): Query<Filters>) -> Response {
    let chrome = Chrome::new(&console, &signed, Section::Operations);
    if let Err(p) = chrome.require(Section::Operations) {
        return p.into_response();
    }
    let (rows, error) = match search_args(&filters) {
        Err(message) => (vec![], Some(message)),
        Ok(args) => {
            let answer =
                tools::run::<OperationSearchView>(&console.app, &signed.actor, ToolName::SearchOperations, args).await;
            match answer.outcome {
                Ok(view) => (view.operations.into_iter().map(Row::from).collect(), None),
                Err(message) => (vec![], Some(message)),
            }
        }
    };
    let tools = mtcp_shared::domain::CATALOG.iter().map(|t| t.name).collect();
    render(&ListPage { chrome, filters, statuses: STATUSES, tools, rows, error })
}

/// The `search_operations` arguments of a filter form; a time that is not one is named.
fn search_args(f: &Filters) -> Result<Value, String> {
    let mut args = Map::new();
    for (name, value) in [("actor", &f.actor), ("tool", &f.tool), ("capability", &f.capability), ("status", &f.status)]
    {
        if !value.trim().is_empty() {
            args.insert(name.into(), json!(value.trim()));
        }
    }
    for (name, value) in [("since", &f.since), ("until", &f.until)] {
        if let Some(at) = parse_time(name, value)? {
            args.insert(name.into(), json!(at));
        }
    }
    if !f.limit.trim().is_empty() {
        let limit: u32 =
            f.limit.trim().parse().map_err(|_| format!("limit: {:?} is not a number from 1 to 500", f.limit))?;
        args.insert("limit".into(), json!(limit));
    }
    Ok(Value::Object(args))
}

/// A form time: RFC 3339, or a `datetime-local` value (`2026-12-05T10:30`, seconds optional) read as UTC.
fn parse_time(name: &str, value: &str) -> Result<Option<DateTime<Utc>>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| format!("{name}: {value:?} is not a time; use YYYY-MM-DDTHH:MM (UTC)"))
}

/// A timeline payload on one line.
fn compact(value: &Value) -> String {
    shorten(&value.to_string(), 400)
}

fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "console/operation.html")]
struct DetailPage {
    chrome: Chrome,
    op: OperationView,
    created_at: String,
    started_at: String,
    ended_at: String,
    result: Option<String>,
    inputs: Option<String>,
    /// The timeline: time, kind, payload.
    events: Vec<(String, String, String)>,
    /// Teleport audit events of the run's window.
    audit: Option<Vec<AuditRow>>,
    /// The approval's expiry, when the call waited for one.
    approval_expires: String,
}

/// A Teleport audit event as the page lists it.
struct AuditRow {
    time: String,
    event: String,
    code: String,
    user: String,
    outcome: &'static str,
}

/// `GET /console/operations/{op_id}`: any signed-in actor, for the operations `get_operation`
/// shows it (its own, or any when its role is not limited to its own).
pub async fn detail(
    State(console): State<Console>,
    signed: Signed,
    Path(op_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let mut chrome = Chrome::new(&console, &signed, Section::Operations);
    chrome.notice = q.text();
    let answer =
        tools::run::<OperationView>(&console.app, &signed.actor, ToolName::GetOperation, json!({ "op_id": op_id }))
            .await;
    let op = match answer.outcome {
        Ok(op) => op,
        Err(message) => return Problem::from_tool(message, axum::http::StatusCode::NOT_FOUND).into_response(),
    };
    let page = DetailPage {
        chrome,
        created_at: when(&op.created_at),
        started_at: when_opt(&op.started_at),
        ended_at: when_opt(&op.ended_at),
        result: op.result.as_ref().map(pretty),
        inputs: op.inputs.as_ref().map(pretty),
        events: op.events.iter().map(|e| (when(&e.at), e.kind.clone(), compact(&e.payload))).collect(),
        audit: op.teleport_audit.as_ref().map(|events| {
            events
                .iter()
                .map(|a| {
                    let outcome = match a.success {
                        Some(true) => "success",
                        Some(false) => "failure",
                        None => "",
                    };
                    AuditRow {
                        time: when(&a.time),
                        event: a.event.clone(),
                        code: a.code.clone().unwrap_or_default(),
                        user: a.user.clone().unwrap_or_default(),
                        outcome,
                    }
                })
                .collect()
        }),
        approval_expires: op.approval.as_ref().map(|a| when(&a.expires_at)).unwrap_or_default(),
        op,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_utc_and_bad_ones_are_named() {
        let at = parse_time("since", "2026-12-05T10:30").unwrap().unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-05T10:30:00+00:00");
        assert!(parse_time("since", "2026-12-05T10:30:00+02:00").unwrap().is_some());
        assert_eq!(parse_time("until", " ").unwrap(), None);
        let err = parse_time("until", "yesterday").unwrap_err();
        assert!(err.starts_with("until:") && err.contains("yesterday"), "{err}");
    }

    #[test]
    fn empty_filters_ask_for_everything() {
        let f = Filters { actor: " alice ".into(), limit: "20".into(), ..Filters::default() };
        assert_eq!(search_args(&f).unwrap(), json!({ "actor": "alice", "limit": 20 }));
        let bad = Filters { limit: "many".into(), ..Filters::default() };
        assert!(search_args(&bad).unwrap_err().contains("limit"));
    }
}
