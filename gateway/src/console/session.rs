//! Console sessions: a random id in a signed, `HttpOnly`, `SameSite=Strict` cookie (`Secure` over
//! TLS) with an expiry; only the id's SHA-256 is stored. Every request re-derives its actor: an
//! API-key session re-checks the key (a revoked key signs its sessions out), an OIDC session ends
//! when the access token it came from expires.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use mtcp_shared::db;
use mtcp_shared::domain::Actor;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Console;
use super::page::Problem;

/// The session cookie.
pub const COOKIE: &str = "mtcp_console";
/// Where every console cookie is sent: nowhere outside the console.
pub const PATH: &str = "/console";

/// A signed-in request: who, and the token its forms must carry.
pub struct Signed {
    pub actor: Actor,
    /// The CSRF token of this session (derived from its id, never stored).
    pub csrf: String,
    id_sha256: [u8; 32],
}

impl Signed {
    /// Refuse a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Problem> {
        if bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(Problem::forbidden("the form's CSRF token does not match this session; reload the page and try again"))
        }
    }
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let jar = SignedCookieJar::from_headers(&parts.headers, console.key.clone());
        let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(PATH);
        let Some(cookie) = jar.get(COOKIE) else { return Err(to_sign_in(next, None)) };
        let id = cookie.value().to_owned();
        let id_sha256 = sha256(&id);
        let st = &console.app;
        let row = db::console::get(&st.pool, &id_sha256).await.map_err(|e| {
            tracing::error!(error = %e, "reading a console session");
            Problem::unavailable().into_response()
        })?;
        let Some(row) = row else { return Err(to_sign_in(next, Some("your session has ended; sign in again"))) };
        let actor = match row.key_sha256.as_deref().and_then(|k| <[u8; 32]>::try_from(k).ok()) {
            Some(key) => match st.keys.authenticate_hash(&st.pool, &st.policy.load(), &key).await {
                Ok(actor) => actor,
                Err(failure) => {
                    // The key was revoked or expired since: the session goes with it.
                    let _ = db::console::delete(&st.pool, &id_sha256).await;
                    return Err(to_sign_in(next, Some(&format!("signed out: {failure}"))));
                }
            },
            None => serde_json::from_value(row.actor).map_err(|e| {
                tracing::error!(error = %e, "a console session's actor is unreadable");
                to_sign_in(next, None)
            })?,
        };
        Ok(Self { actor, csrf: csrf_of(&id), id_sha256 })
    }
}

/// Start a session for `actor` and send the browser to `next`. `key_sha256`: the API key it signed
/// in with (re-checked on each request); `ends_by`: a time the session may not outlive (an access
/// token's expiry).
pub async fn begin(
    console: &Console,
    actor: &Actor,
    key_sha256: Option<&[u8; 32]>,
    ends_by: Option<DateTime<Utc>>,
    next: &str,
) -> Result<Response, Problem> {
    let st = &console.app;
    let ttl = chrono::Duration::from_std(st.config.console.session_ttl).unwrap_or(chrono::Duration::hours(8));
    let expires_at = ends_by.map_or(Utc::now() + ttl, |end| end.min(Utc::now() + ttl));
    let id = random_token();
    let stored = serde_json::to_value(actor).expect("an actor serializes");
    let mut conn = st.pool.acquire().await.map_err(|e| unavailable(e.into()))?;
    db::console::create(&mut conn, &sha256(&id), key_sha256, &stored, expires_at).await.map_err(unavailable)?;
    tracing::info!(actor = %actor.id, role = %actor.role, %expires_at, "console sign-in");
    metrics::counter!("mtcp_console_sign_ins_total", "method" => if key_sha256.is_some() { "api_key" } else { "oidc" })
        .increment(1);
    let max_age = (expires_at - Utc::now()).num_seconds().max(0);
    let cookie = console.cookie(COOKIE, id, max_age);
    let jar = SignedCookieJar::new(console.key.clone()).add(cookie);
    Ok((jar, Redirect::to(safe_next(next))).into_response())
}

/// End the session: its row and its cookie.
pub async fn end(console: &Console, signed: &Signed) -> Response {
    if let Err(e) = db::console::delete(&console.app.pool, &signed.id_sha256).await {
        tracing::error!(error = %e, "ending a console session");
        return Problem::unavailable().into_response();
    }
    let jar = SignedCookieJar::new(console.key.clone()).remove(console.cookie(COOKIE, String::new(), 0));
    (jar, Redirect::to("/console/sign-in?signed_out=1")).into_response()
}

impl Console {
    /// A console cookie: signed by the caller's jar, `HttpOnly`, `SameSite=Strict`, `Secure` when
    /// the gateway serves TLS, scoped to `/console`, gone after `max_age` seconds.
    pub fn cookie(&self, name: &'static str, value: String, max_age: i64) -> Cookie<'static> {
        Cookie::build((name, value))
            .path(PATH)
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build()
    }
}

/// `next` when it is a console path, else the console's start page: never another site.
pub fn safe_next(next: &str) -> &str {
    let console_path = next.starts_with("/console") && !next.contains("//") && !next.contains('\\');
    if console_path && !next.starts_with("/console/sign-in") { next } else { PATH }
}

fn to_sign_in(next: &str, notice: Option<&str>) -> Response {
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    target.append_pair("next", safe_next(next));
    if let Some(notice) = notice {
        target.append_pair("notice", notice);
    }
    Redirect::to(&format!("/console/sign-in?{}", target.finish())).into_response()
}

fn unavailable(e: db::DbError) -> Problem {
    tracing::error!(error = %e, "recording a console session");
    Problem::unavailable()
}

/// 32 random bytes, base64url: a session id, a sign-in form's token, an OIDC state.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of a token, as stored.
pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A session's CSRF token: a hash of its id under its own label, so it reveals nothing of the id
/// and a page on another site cannot know it.
fn csrf_of(id: &str) -> String {
    hex::encode(Sha256::digest(format!("mtcp-console-csrf\0{id}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_console() {
        assert_eq!(safe_next("/console/approvals/abc"), "/console/approvals/abc");
        for outside in ["https://evil.example/", "//evil.example/console", "/console/..\\x", "/mcp", "/console/sign-in"]
        {
            assert_eq!(safe_next(outside), PATH, "{outside}");
        }
    }

    #[test]
    fn csrf_tokens_differ_by_session_and_from_the_id() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(csrf_of(&a), csrf_of(&b));
        assert!(!csrf_of(&a).contains(&a));
        assert_eq!(csrf_of(&a), csrf_of(&a));
    }
}
