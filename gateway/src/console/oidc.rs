//! OIDC sign-in to the console: the authorization code flow with PKCE (S256). `start` keeps the
//! flow's `state`, PKCE verifier and destination in a short-lived signed cookie and sends the
//! browser to the identity provider; `callback` checks the `state`, exchanges the code (with the
//! verifier) for an access token, checks that token exactly like a bearer JWT (same issuer,
//! audience, keys, claims → role mapping) and starts a session that ends when the token expires.
//! There is no `nonce`: the console uses the access token, not an ID token, and `state` already
//! ties the callback to this browser while PKCE ties the code to this flow.

mod token;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use mtcp_shared::config::ConsoleOidcConfig;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Console;
use super::page::Problem;
use super::session::{self, random_token};
use crate::auth::AuthFailure;

/// The cookie holding one sign-in flow.
const COOKIE: &str = "mtcp_console_oidc";
/// Only the callback needs it.
const COOKIE_PATH: &str = "/console/oidc";
/// How long a sign-in at the identity provider may take.
const FLOW_TTL_SECONDS: i64 = 10 * 60;

/// What the identity provider sends back.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// One sign-in in progress, as the flow cookie carries it (signed, so the browser cannot alter it).
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    /// The PKCE verifier: 43 characters of base64url, within RFC 7636's alphabet.
    verifier: String,
    next: String,
    /// When the flow started (Unix seconds): the cookie's own expiry is the browser's to honour.
    started: i64,
}

impl Flow {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a flow serializes");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(value: &str) -> Option<Self> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// RFC 7636 S256: BASE64URL-NOPAD(SHA256(verifier)).
fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The flow cookie: like every console cookie (signed, `HttpOnly`, `Secure` over TLS) but
/// `SameSite=Lax`. The identity provider sends the browser back with a top-level GET navigation
/// that starts on the provider's site, and browsers do not attach `SameSite=Strict` cookies to
/// such cross-site navigations: a Strict flow cookie would be missing at the callback and every
/// sign-in would fail. Lax cookies do ride on cross-site top-level GETs, and nothing else here
/// needs them; the cookie only carries this flow and is scoped to `/console/oidc`.
fn flow_cookie(console: &Console, value: String, max_age: i64) -> Cookie<'static> {
    let mut cookie = console.cookie(COOKIE, value, max_age);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path(COOKIE_PATH);
    cookie
}

/// `GET /console/oidc/start`: start a flow and send the browser to the identity provider.
pub async fn start(console: &Console, jar: SignedCookieJar, next: &str) -> Response {
    let Some(cfg) = &console.app.config.console.oidc else {
        return Problem::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured (console.oidc)").into_response();
    };
    let flow = Flow {
        state: random_token(),
        verifier: random_token(),
        next: session::safe_next(next).to_owned(),
        started: Utc::now().timestamp(),
    };
    let target = match authorization_url(cfg, &flow) {
        Ok(url) => url,
        Err(e) => {
            tracing::error!(error = %e, "console.oidc.authorization_endpoint is not a URL");
            return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "console.oidc.authorization_endpoint is not a URL")
                .into_response();
        }
    };
    let jar = jar.add(flow_cookie(console, flow.encode(), FLOW_TTL_SECONDS));
    (jar, Redirect::to(&target)).into_response()
}

fn authorization_url(cfg: &ConsoleOidcConfig, flow: &Flow) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(&cfg.authorization_endpoint)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", &cfg.redirect_url)
        .append_pair("scope", &cfg.scopes.join(" "))
        .append_pair("state", &flow.state)
        .append_pair("code_challenge", &challenge(&flow.verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// `GET /console/oidc/callback`: finish the flow. The flow cookie is cleared whatever happens: a
/// `state` is good for one callback.
pub async fn callback(console: &Console, jar: SignedCookieJar, q: Callback, remote: Option<String>) -> Response {
    let flow = jar.get(COOKIE).and_then(|c| Flow::decode(c.value()));
    let jar = jar.remove(flow_cookie(console, String::new(), 0));
    let outcome = finish(console, flow, q).await;
    let resp = match outcome {
        Ok(resp) => resp,
        Err(Refusal { problem, failure }) => {
            if let Some(failure) = failure {
                let st = &console.app;
                st.auth_failures.record(&st.pool, &failure, remote);
            }
            problem.into_response()
        }
    };
    (jar, resp).into_response()
}

/// A refused callback: the page shown, and what is recorded as a refused authentication.
struct Refusal {
    problem: Problem,
    failure: Option<AuthFailure>,
}

impl Refusal {
    fn new(status: StatusCode, label: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        let failure = AuthFailure::OidcSignIn { label, message: message.clone() };
        Self { problem: Problem::new(status, format!("not signed in: {message}")), failure: Some(failure) }
    }
}

async fn finish(console: &Console, flow: Option<Flow>, q: Callback) -> Result<Response, Refusal> {
    let st = &console.app;
    let Some(cfg) = &st.config.console.oidc else {
        return Err(Refusal {
            problem: Problem::new(StatusCode::NOT_FOUND, "OIDC sign-in is not configured (console.oidc)"),
            failure: None,
        });
    };
    let start_again = "start again from the sign-in page";
    let Some(flow) = flow else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "oidc_no_flow",
            format!("this sign-in was not started in this browser, or took longer than 10 minutes; {start_again}"),
        ));
    };
    if Utc::now().timestamp() - flow.started > FLOW_TTL_SECONDS {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "oidc_no_flow",
            format!("this sign-in took longer than 10 minutes; {start_again}"),
        ));
    }
    let state_matches = q.state.as_deref().is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.state.as_bytes())));
    if !state_matches {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "oidc_state_mismatch",
            format!(
                "the identity provider's answer does not belong to the sign-in this browser started; {start_again}"
            ),
        ));
    }
    if let Some(error) = &q.error {
        let description = q.error_description.as_deref().map(|d| format!(" ({})", token::echo(d))).unwrap_or_default();
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "oidc_provider_error",
            format!("the identity provider refused the sign-in: {}{description}", token::echo(error)),
        ));
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "oidc_no_code",
            "the identity provider sent no authorization code",
        ));
    };
    let tokens = token::exchange(cfg, code, &flow.verifier).await.map_err(|e| {
        let status = match e {
            token::TokenError::Refused { .. } => StatusCode::UNAUTHORIZED,
            _ => {
                // The provider (or the way to it) is broken, not the person signing in: the
                // operator needs the cause, which the refusal record alone does not log.
                tracing::warn!(error = %e, "console OIDC sign-in: the token request failed");
                StatusCode::BAD_GATEWAY
            }
        };
        Refusal::new(status, "oidc_token_request", e.to_string())
    })?;
    let (actor, exp) =
        crate::auth::authenticate_jwt(st, tokens.access_token.expose_secret()).await.map_err(|failure| Refusal {
            problem: Problem::new(
                failure.status(),
                format!("not signed in: the identity provider's access token was refused: {failure}"),
            ),
            failure: Some(failure),
        })?;
    let ends_by = token_expiry(exp, tokens.expires_in, Utc::now());
    session::begin(console, &actor, None, ends_by, &flow.next)
        .await
        .map_err(|problem| Refusal { problem, failure: None })
}

/// When the session must end: the token's `exp`, or (should it lack one) `expires_in` from now;
/// the earlier of the two when both are known.
fn token_expiry(exp: Option<DateTime<Utc>>, expires_in: Option<u64>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let by_expires_in = expires_in
        .and_then(|s| i64::try_from(s).ok())
        .and_then(chrono::Duration::try_seconds)
        .and_then(|d| now.checked_add_signed(d));
    match (exp, by_expires_in) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_fit_rfc7636() {
        let v = random_token();
        assert!((43..=128).contains(&v.len()), "{v}");
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)), "{v}");
    }

    #[test]
    fn flows_round_trip_and_garbage_is_none() {
        let flow = Flow { state: "s".into(), verifier: "v".into(), next: "/console/leases".into(), started: 7 };
        let back = Flow::decode(&flow.encode()).unwrap();
        assert_eq!((back.state.as_str(), back.next.as_str(), back.started), ("s", "/console/leases", 7));
        assert!(Flow::decode("not base64 !").is_none());
    }

    #[test]
    fn the_session_ends_with_the_token() {
        let now = Utc::now();
        let exp = now + chrono::Duration::seconds(100);
        assert_eq!(token_expiry(Some(exp), Some(300), now), Some(exp));
        assert_eq!(token_expiry(Some(exp), Some(50), now), Some(now + chrono::Duration::seconds(50)));
        assert_eq!(token_expiry(None, Some(50), now), Some(now + chrono::Duration::seconds(50)));
        assert_eq!(token_expiry(None, None, now), None);
        assert_eq!(token_expiry(None, Some(u64::MAX), now), None);
    }
}
