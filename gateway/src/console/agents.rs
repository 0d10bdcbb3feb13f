//! Who runs the work: edge agents (`list_edge_agents`) and, for admins, the worker incarnations
//! online or recently gone, their last heartbeat and what they hold (running calls, live leases).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use mtcp_shared::db;
use mtcp_shared::domain::ToolName;
use mtcp_shared::leases::{EdgeAgentList, EdgeAgentView};
use serde_json::json;

use super::Console;
use super::page::{Chrome, Section, render, when, when_opt};
use super::session::Signed;
use super::tools;

/// Offline workers stay listed this long.
const RECENT: Duration = Duration::from_secs(24 * 3600);

struct Worker {
    row: db::agents::AgentRow,
    started_at: String,
    heartbeat: String,
}

#[derive(Template)]
#[template(path = "console/agents.html")]
struct AgentsPage {
    chrome: Chrome,
    /// None: the role may not see workers.
    workers: Option<Vec<Worker>>,
    workers_error: Option<String>,
    /// Each edge agent, with its last heartbeat as shown.
    edges: Option<Vec<(EdgeAgentView, String)>>,
    edges_error: Option<String>,
}

/// `GET /console/agents`.
pub async fn list(State(console): State<Console>, signed: Signed) -> Response {
    let chrome = Chrome::new(&console, &signed, Section::Agents);
    if let Err(p) = chrome.require(Section::Agents) {
        return p.into_response();
    }
    let (mut workers, mut workers_error) = (None, None);
    if chrome.can.admin {
        match db::agents::list(&console.app.pool, RECENT).await {
            Ok(rows) => {
                workers = Some(
                    rows.into_iter()
                        .filter(|r| r.kind == "worker")
                        .map(|row| Worker {
                            started_at: when(&row.started_at),
                            heartbeat: when(&row.last_heartbeat_at),
                            row,
                        })
                        .collect(),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "listing workers");
                workers_error = Some("the control plane's database is unavailable; try again".to_owned());
            }
        }
    }
    let (mut edges, mut edges_error) = (None, None);
    if chrome.can.list_leases {
        let answer =
            tools::run::<EdgeAgentList>(&console.app, &signed.actor, ToolName::ListEdgeAgents, json!({})).await;
        match answer.outcome {
            Ok(list) => {
                edges = Some(
                    list.agents.into_iter().map(|e| (when_opt(&e.last_heartbeat_at), e)).map(|(h, e)| (e, h)).collect(),
                )
            }
            Err(message) => edges_error = Some(message),
        }
    }
    render(&AgentsPage { chrome, workers, workers_error, edges, edges_error })
}
