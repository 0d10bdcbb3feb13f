//! RFC 9728 protected resource metadata and the URLs the challenges point at.

use axum::extract::State;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Path of the protected resource metadata for `/mcp`.
pub const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

fn public_base(st: &AppState) -> String {
    match &st.config.service.public_url {
        Some(url) => url.trim_end_matches('/').trim_end_matches("/mcp").to_owned(),
        None => format!("http://{}:{}", st.config.service.host, st.config.service.port),
    }
}

/// Where the metadata document is published.
pub fn metadata_url(st: &AppState) -> String {
    format!("{}{PRM_PATH}", public_base(st))
}

/// The document: the resource, its authorization server (the OIDC issuer, when configured) and
/// the scope it requires.
pub async fn protected_resource_metadata(State(st): State<AppState>) -> impl IntoResponse {
    let oidc = st.config.auth.oidc.as_ref();
    let mut doc = serde_json::json!({
        "resource": format!("{}/mcp", public_base(&st)),
        "authorization_servers": oidc.map(|o| vec![o.issuer.clone()]).unwrap_or_default(),
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP Teleport Control Plane",
    });
    if let Some(scope) = oidc.and_then(|o| o.required_scope.clone()) {
        doc["scopes_supported"] = serde_json::json!([scope]);
    }
    axum::Json(doc)
}
