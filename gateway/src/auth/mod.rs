//! Bearer authentication: API keys (config or database) and, when configured, OIDC JWTs →
//! `Actor`. 401 with an RFC 9728 challenge for missing/invalid/expired credentials, 403 for a
//! valid caller without a role or the required scope. Every refusal is counted and recorded.

mod failures;
pub mod jwt;
mod keys;
mod metadata;

pub use failures::FailureRecorder;
pub use keys::KeyStore;
pub use metadata::{PRM_PATH, protected_resource_metadata};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use mtcp_shared::domain::{Actor, ActorKind, AuthSource, jwt_actor_id};
use mtcp_shared::policy::Claimed;

use crate::state::AppState;

/// Why a request was refused. `label()` is a bounded metric label; Display is for the caller and
/// never contains the credential.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("missing credential: send `Authorization: Bearer <api key or token>`")]
    Missing,
    #[error("malformed Authorization header: {0}")]
    Malformed(&'static str),
    #[error("the API key is not valid")]
    UnknownKey,
    #[error("the API key has expired")]
    ExpiredKey { actor: String },
    #[error("the API key was revoked")]
    RevokedKey { actor: String },
    /// A database key made before actor names were checked, for a name no key may hold.
    #[error("the API key's actor cannot be used: {problem}; revoke the key and create one for a plain name")]
    UnusableKeyActor { problem: String },
    #[error("the bearer token is not valid: {message}")]
    InvalidToken { label: &'static str, message: String },
    #[error("{actor:?} is authenticated but the policy gives it no role")]
    NoRole { actor: String },
    #[error("the token lacks the required scope {scope:?}")]
    InsufficientScope { actor: String, scope: String },
    #[error("authentication is temporarily unavailable")]
    Unavailable,
    /// The console's OIDC sign-in failed before a token could be checked (no flow, a `state`
    /// mismatch, the provider's refusal); `label` names which.
    #[error("OIDC sign-in refused: {message}")]
    OidcSignIn { label: &'static str, message: String },
}

impl AuthFailure {
    /// Bounded label for metrics and the trail.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed(_) => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::ExpiredKey { .. } => "expired_key",
            Self::RevokedKey { .. } => "revoked_key",
            Self::UnusableKeyActor { .. } => "unusable_key_actor",
            Self::InvalidToken { label, .. } => label,
            Self::NoRole { .. } => "no_role",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::Unavailable => "unavailable",
            Self::OidcSignIn { label, .. } => label,
        }
    }

    /// The actor a refused credential belonged to, when it named one.
    pub fn claimed_actor(&self) -> Option<&str> {
        match self {
            Self::ExpiredKey { actor } | Self::RevokedKey { actor } | Self::NoRole { actor } => Some(actor),
            Self::InsufficientScope { actor, .. } => Some(actor),
            _ => None,
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::NoRole { .. } | Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Longest bearer credential read (a JWT with many claims stays well under it).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The request's one `Authorization` value. Two or more are refused: which one a proxy, a
/// framework or each of our own checks reads would be anyone's guess.
pub fn authorization(headers: &HeaderMap) -> Result<&str, AuthFailure> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthFailure::Missing)?;
    if values.next().is_some() {
        return Err(AuthFailure::Malformed("the request has more than one Authorization header; send exactly one"));
    }
    value.to_str().map_err(|_| AuthFailure::Malformed("the value is not visible ASCII"))
}

/// The credential of `Bearer <credential>` (the scheme in any case, one or more spaces before the
/// credential): what both `/mcp` and `/audit/ingest` accept, so the two never read it differently.
pub fn parse_bearer(value: &str) -> Result<&str, AuthFailure> {
    let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::Malformed(EXPECTED_BEARER))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Malformed(EXPECTED_BEARER));
    }
    let token = token.trim_matches(' ');
    if token.is_empty() {
        return Err(AuthFailure::Malformed("the Bearer credential is empty"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthFailure::Malformed("the Bearer credential is longer than 16 KiB"));
    }
    // An API key and a JWT are one token68 each: whitespace inside means two values run together.
    if token.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(AuthFailure::Malformed("the Bearer credential contains whitespace"));
    }
    Ok(token)
}

const EXPECTED_BEARER: &str = "expected `Bearer <api key or token>`";

fn bearer(req: &Request) -> Result<&str, AuthFailure> {
    parse_bearer(authorization(req.headers())?)
}

/// Authenticate a bearer credential: a JWT when OIDC is configured and it looks like one, an API
/// key otherwise.
pub async fn authenticate(st: &AppState, token: &str) -> Result<Actor, AuthFailure> {
    match &st.jwt {
        Some(verifier) if jwt::looks_like_jwt(token) => from_token(st, verifier, token).await.map(|(actor, _)| actor),
        _ => st.keys.authenticate(&st.pool, &st.policy.load(), token).await,
    }
}

/// Authenticate an OIDC access token exactly as a bearer JWT (same checks, same claims → role
/// mapping), never as an API key: the console's OIDC sign-in must not turn whatever its token
/// endpoint returns into a key lookup. Also returns the token's expiry.
pub async fn authenticate_jwt(st: &AppState, token: &str) -> Result<(Actor, Option<DateTime<Utc>>), AuthFailure> {
    match &st.jwt {
        Some(verifier) if jwt::looks_like_jwt(token) => from_token(st, verifier, token).await,
        Some(_) => Err(AuthFailure::InvalidToken { label: "malformed", message: jwt::JwtError::Malformed.to_string() }),
        None => Err(AuthFailure::InvalidToken {
            label: "malformed",
            message: "JWTs are not accepted: `auth.oidc` is not configured".to_owned(),
        }),
    }
}

async fn from_token(
    st: &AppState,
    verifier: &jwt::JwtVerifier,
    token: &str,
) -> Result<(Actor, Option<DateTime<Utc>>), AuthFailure> {
    let t = verifier
        .verify(token)
        .await
        .map_err(|e| AuthFailure::InvalidToken { label: e.label(), message: e.to_string() })?;
    // Namespaced by source: a subject `admin` is `oidc:admin`, never the API-key actor `admin`
    // (API-key actors may not contain the separator), so it cannot see that actor's records.
    let id = jwt_actor_id(&t.actor);
    if !t.has_required_scope {
        let scope = st.config.auth.oidc.as_ref().and_then(|o| o.required_scope.clone()).unwrap_or_default();
        return Err(AuthFailure::InsufficientScope { actor: id, scope });
    }
    let claimed = Claimed {
        actor: &id,
        kind: ActorKind::User,
        role: t.role.as_deref(),
        groups: &t.groups,
        claims: Some(&t.claims),
    };
    let Some(role) = st.policy.load().resolve_role(&claimed) else {
        return Err(AuthFailure::NoRole { actor: id });
    };
    Ok((Actor { id, kind: ActorKind::User, role, source: AuthSource::Jwt, groups: t.groups }, t.expires_at))
}

/// Middleware: authenticate the bearer credential and attach the `Actor` to the request.
pub async fn require_bearer(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let outcome = match bearer(&req) {
        Ok(token) => authenticate(&st, token).await,
        // Test-only conformance mode (loopback only, checked at start): the suite's client sends
        // no credential. A credential that is sent is still checked.
        Err(AuthFailure::Missing) if st.fixtures.is_some() => Ok(crate::mcp::fixtures::actor()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(failure) => {
            let remote = req.extensions().get::<ConnectInfo<crate::Peer>>().map(|c| c.0.addr.ip().to_string());
            st.auth_failures.record(&st.pool, &failure, remote);
            refuse(&st, &failure)
        }
    }
}

fn refuse(st: &AppState, failure: &AuthFailure) -> Response {
    let prm = metadata::metadata_url(st);
    let challenge = match failure {
        AuthFailure::Missing => format!(r#"Bearer resource_metadata="{prm}""#),
        AuthFailure::InsufficientScope { scope, .. } => {
            format!(r#"Bearer error="insufficient_scope", scope="{scope}", resource_metadata="{prm}""#)
        }
        AuthFailure::NoRole { .. } => format!(
            r#"Bearer error="insufficient_scope", error_description="no role is bound to this identity", resource_metadata="{prm}""#
        ),
        _ => format!(
            r#"Bearer error="invalid_token", error_description="the bearer credential is not valid", resource_metadata="{prm}""#
        ),
    };
    let error = if failure.status() == StatusCode::FORBIDDEN { "forbidden" } else { "unauthorized" };
    let body =
        axum::Json(serde_json::json!({ "error": error, "reason": failure.label(), "message": failure.to_string() }));
    let mut resp = (failure.status(), body).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bearer_spelling_for_every_endpoint() {
        for ok in ["Bearer k1", "bearer k1", "BEARER   k1", "Bearer k1 "] {
            assert_eq!(parse_bearer(ok).unwrap(), "k1", "{ok:?}");
        }
        for (bad, says) in [
            ("Bearer", "expected `Bearer"),
            ("Basic k1", "expected `Bearer"),
            ("Bearer\tk1", "expected `Bearer"),
            ("Bearer k1 k2", "whitespace"),
            ("Bearer k1\tk2", "whitespace"),
        ] {
            let err = parse_bearer(bad).unwrap_err();
            assert_eq!(err.label(), "malformed", "{bad:?}");
            assert!(err.to_string().contains(says), "{bad:?}: {err}");
        }
        assert!(parse_bearer(&format!("Bearer {}", "k".repeat(MAX_TOKEN_BYTES + 1))).is_err());
    }

    #[test]
    fn two_authorization_headers_are_malformed() {
        let mut headers = HeaderMap::new();
        assert!(matches!(authorization(&headers), Err(AuthFailure::Missing)));
        headers.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        assert_eq!(authorization(&headers).unwrap(), "Bearer a");
        headers.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        let err = authorization(&headers).unwrap_err().to_string();
        assert!(err.contains("more than one Authorization header"), "{err}");
    }
}
