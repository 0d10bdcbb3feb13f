//! Signing in and out: an API-key form (always), a button to the identity provider when
//! `console.oidc` is set. The sign-in form carries its own CSRF token (a signed cookie and a
//! hidden field that must match), so another site cannot sign a browser in as someone else.
//! A refused key is recorded like a refused bearer credential.

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Console;
use super::page::{Problem, render};
use super::session::{self, Signed, random_token, safe_next};

/// The sign-in form's CSRF cookie.
const FORM_COOKIE: &str = "mtcp_console_signin";
/// How long a sign-in form stays usable.
const FORM_TTL_SECONDS: i64 = 30 * 60;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    csrf: String,
    next: String,
    oidc: bool,
    notice: Option<String>,
    error: Option<String>,
}

/// `GET /console/sign-in`.
pub async fn form(State(console): State<Console>, jar: SignedCookieJar, Query(q): Query<SignInQuery>) -> Response {
    let notice = q.notice.or(q.signed_out.map(|_| "signed out".to_owned()));
    let next = safe_next(q.next.as_deref().unwrap_or_default()).to_owned();
    show_form(&console, jar, next, notice, None, StatusCode::OK)
}

fn show_form(
    console: &Console,
    jar: SignedCookieJar,
    next: String,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = random_token();
    let jar = jar.add(console.cookie(FORM_COOKIE, csrf.clone(), FORM_TTL_SECONDS));
    let page = SignInPage { csrf, next, oidc: console.app.config.console.oidc.is_some(), notice, error };
    (status, jar, render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct KeyForm {
    api_key: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/sign-in`: check the key exactly as a bearer credential, then start a session.
pub async fn with_key(
    State(console): State<Console>,
    peer: Option<Extension<ConnectInfo<crate::Peer>>>,
    jar: SignedCookieJar,
    Form(form): Form<KeyForm>,
) -> Response {
    let next = safe_next(&form.next).to_owned();
    let expected = jar.get(FORM_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.csrf.as_bytes())) {
        let error = "the sign-in form expired or came from another page; try again".to_owned();
        return show_form(&console, jar, next, None, Some(error), StatusCode::FORBIDDEN);
    }
    let key = form.api_key.trim();
    if key.is_empty() {
        return show_form(&console, jar, next, None, Some("enter an API key".into()), StatusCode::BAD_REQUEST);
    }
    let st = &console.app;
    let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    match st.keys.authenticate_hash(&st.pool, &st.policy.load(), &hash).await {
        Ok(actor) => {
            let jar = jar.remove(console.cookie(FORM_COOKIE, String::new(), 0));
            match session::begin(&console, &actor, Some(&hash), None, &next).await {
                Ok(resp) => (jar, resp).into_response(),
                Err(problem) => problem.into_response(),
            }
        }
        Err(failure) => {
            st.auth_failures.record(&st.pool, &failure, peer.map(|p| p.0.0.addr.ip().to_string()));
            let status = if failure.label() == "unavailable" {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNAUTHORIZED
            };
            show_form(&console, jar, next, None, Some(format!("not signed in: {failure}")), status)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /console/sign-out`.
pub async fn sign_out(State(console): State<Console>, signed: Signed, Form(form): Form<CsrfForm>) -> Response {
    if let Err(problem) = signed.check_csrf(&form.csrf) {
        return problem.into_response();
    }
    session::end(&console, &signed).await
}

/// `GET /console/oidc/start`: off unless `console.oidc` is configured.
pub async fn oidc_start(
    State(console): State<Console>,
    jar: SignedCookieJar,
    Query(q): Query<SignInQuery>,
) -> Response {
    match &console.app.config.console.oidc {
        None => Problem::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured (console.oidc)").into_response(),
        Some(_) => super::oidc::start(&console, jar, safe_next(q.next.as_deref().unwrap_or_default())).await,
    }
}

/// `GET /console/oidc/callback`.
pub async fn oidc_callback(
    State(console): State<Console>,
    peer: Option<Extension<ConnectInfo<crate::Peer>>>,
    jar: SignedCookieJar,
    Query(q): Query<super::oidc::Callback>,
) -> Response {
    match &console.app.config.console.oidc {
        None => Problem::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured (console.oidc)").into_response(),
        Some(_) => {
            let remote = peer.map(|p| p.0.0.addr.ip().to_string());
            super::oidc::callback(&console, jar, q, remote).await
        }
    }
}
