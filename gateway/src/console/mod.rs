//! The operations console at `/console`: server-rendered pages over the same tool calls an MCP
//! client makes (the trail, approvals, leases, agents, the policy), behind a cookie session signed
//! in with an API key or, when configured, OIDC. No script at all: forms post and redirect, and the
//! Content-Security-Policy forbids scripts outright, so text from the cluster or an agent can only
//! ever be text.

mod agents;
mod approvals;
mod leases;
mod oidc;
mod operations;
mod page;
mod policy;
mod security;
mod session;
mod signin;
mod tools;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::Key;

use crate::state::AppState;

/// The console's state: the gateway's, and the key signing its cookies.
#[derive(Clone)]
pub struct Console {
    pub app: AppState,
    pub key: Key,
    /// Cookies are `Secure` when the gateway serves TLS.
    pub secure: bool,
}

impl FromRef<Console> for Key {
    fn from_ref(console: &Console) -> Key {
        console.key.clone()
    }
}

/// The console's routes (none when `console.enabled` is off).
pub fn router(app: AppState) -> Router {
    let config = &app.config.console;
    if !config.enabled {
        return Router::new();
    }
    let key = match config.cookie_key_bytes() {
        // Validated at load: at least 32 bytes.
        Some(Ok(bytes)) => Key::derive_from(&bytes),
        _ => {
            tracing::warn!(
                "console.cookie_key is not set: console sessions are signed with a key made at start, so they end \
                 when this gateway restarts and do not carry to other replicas"
            );
            Key::generate()
        }
    };
    let secure = app.config.service.tls.is_some();
    let console = Console { app, key, secure };
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/sign-in", get(signin::form).post(signin::with_key))
        .route("/console/sign-out", post(signin::sign_out))
        .route("/console/oidc/start", get(signin::oidc_start))
        .route("/console/oidc/callback", get(signin::oidc_callback))
        .route("/console/operations", get(operations::list))
        .route("/console/operations/{op_id}", get(operations::detail))
        .route("/console/approvals", get(approvals::list))
        .route("/console/approvals/{op_id}", get(approvals::one))
        .route("/console/approvals/{op_id}/approve", post(approvals::approve))
        .route("/console/approvals/{op_id}/deny", post(approvals::deny))
        .route("/console/leases", get(leases::list))
        .route("/console/leases/{lease_id}", get(leases::detail))
        .route("/console/leases/{lease_id}/stop", post(leases::stop))
        .route("/console/agents", get(agents::list))
        .route("/console/policy", get(policy::show))
        .route("/console/static/console.css", get(security::stylesheet))
        .route("/console/{*rest}", get(not_found))
        .layer(middleware::from_fn(security::same_origin_posts))
        .layer(middleware::from_fn(security::headers))
        .with_state(console)
}

/// `/console`: the first page the role may open.
async fn home(State(console): State<Console>, signed: session::Signed) -> Response {
    Redirect::to(page::Can::of(&console, &signed.actor.role).home()).into_response()
}

async fn not_found() -> page::Problem {
    page::Problem::new(axum::http::StatusCode::NOT_FOUND, "no such console page")
}
