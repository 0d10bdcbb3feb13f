//! Bearer authentication: API keys (configured as SHA-256) → `Actor`; 401 with an RFC 9728
//! `WWW-Authenticate` challenge otherwise, and the protected resource metadata document.

pub mod jwt;

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mtcp_shared::config::AuthConfig;
use mtcp_shared::domain::{Actor, AuthSource};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Path of the protected resource metadata for `/mcp`.
pub const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

/// The API keys the gateway accepts, by SHA-256 of the key.
pub struct KeyStore {
    by_hash: HashMap<[u8; 32], Actor>,
}

impl KeyStore {
    /// Build from the (already validated) configuration.
    pub fn from_config(auth: &AuthConfig) -> anyhow::Result<Self> {
        let mut by_hash = HashMap::new();
        for k in &auth.api_keys {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(k.sha256.to_ascii_lowercase(), &mut hash)?;
            let actor =
                Actor { id: k.actor.clone(), kind: k.kind, role: k.role.clone(), source: AuthSource::ConfigApiKey };
            by_hash.insert(hash, actor);
        }
        Ok(Self { by_hash })
    }

    /// The actor a presented key belongs to. Only the key's hash is ever compared or kept.
    pub fn authenticate(&self, key: &str) -> Option<&Actor> {
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.by_hash.get(&hash)
    }
}

/// Why a request was not authenticated (a bounded label set for metrics).
#[derive(Debug, Clone, Copy)]
enum AuthFailure {
    Missing,
    Malformed,
    UnknownKey,
}

impl AuthFailure {
    fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
        }
    }
}

/// Middleware: authenticate the bearer credential and attach the `Actor` to the request.
pub async fn require_bearer(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let header = req.headers().get(header::AUTHORIZATION);
    let outcome = match header {
        None => Err(AuthFailure::Missing),
        Some(v) => {
            match v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))) {
                Some(token) if !token.trim().is_empty() => {
                    st.keys.authenticate(token.trim()).cloned().ok_or(AuthFailure::UnknownKey)
                }
                _ => Err(AuthFailure::Malformed),
            }
        }
    };
    match outcome {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(failure) => {
            metrics::counter!("mtcp_auth_failures_total", "reason" => failure.label()).increment(1);
            tracing::info!(reason = failure.label(), "authentication failed");
            unauthorized(&st, failure)
        }
    }
}

fn unauthorized(st: &AppState, failure: AuthFailure) -> Response {
    let challenge = match failure {
        AuthFailure::Missing => format!(r#"Bearer resource_metadata="{}""#, metadata_url(st)),
        _ => format!(
            r#"Bearer error="invalid_token", error_description="the bearer credential is not valid", resource_metadata="{}""#,
            metadata_url(st)
        ),
    };
    let body = axum::Json(serde_json::json!({
        "error": "unauthorized",
        "message": match failure {
            AuthFailure::Missing => "missing credential: send `Authorization: Bearer <api key>`",
            AuthFailure::Malformed => "malformed Authorization header: expected `Bearer <api key>`",
            AuthFailure::UnknownKey => "the API key is not valid",
        }
    }));
    let mut resp = (StatusCode::UNAUTHORIZED, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

fn public_base(st: &AppState) -> String {
    match &st.config.service.public_url {
        Some(url) => url.trim_end_matches('/').trim_end_matches("/mcp").to_owned(),
        None => format!("http://{}:{}", st.config.service.host, st.config.service.port),
    }
}

fn metadata_url(st: &AppState) -> String {
    format!("{}{PRM_PATH}", public_base(st))
}

/// RFC 9728 protected resource metadata. API keys are issued out of band, so no authorization
/// server is listed yet (OIDC comes with the identity work).
pub async fn protected_resource_metadata(State(st): State<AppState>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "resource": format!("{}/mcp", public_base(&st)),
        "authorization_servers": [],
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP Teleport Control Plane",
    }))
}
