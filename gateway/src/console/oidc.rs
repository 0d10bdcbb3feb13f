//! OIDC sign-in to the console: authorization code with PKCE (not yet implemented).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;

use super::Console;
use super::page::Problem;

/// What the identity provider sends back.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

pub async fn start(_console: &Console, _jar: SignedCookieJar, _next: &str) -> Response {
    Problem::new(StatusCode::NOT_IMPLEMENTED, "OIDC sign-in is not implemented yet").into_response()
}

pub async fn callback(_console: &Console, _jar: SignedCookieJar, _q: Callback) -> Response {
    Problem::new(StatusCode::NOT_IMPLEMENTED, "OIDC sign-in is not implemented yet").into_response()
}
