//! A tiny fake OpenID provider for the console's sign-in: an authorization endpoint that checks
//! the client and the PKCE method and answers with a code, and a token endpoint that checks the
//! code, the client, the redirect URI and the PKCE verifier before it issues an access token signed
//! with the test-only keys (see [`crate::oidc`]). It is strict where a real provider is, so a
//! gateway that skips a step fails the test.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The client the fake provider knows.
pub const CLIENT_ID: &str = "mtcp-console";

/// A running fake provider; stops when dropped.
pub struct FakeIdp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    redirect_uri: String,
    client_secret: Option<String>,
    /// Claims (over [`crate::oidc::claims`]'s defaults) of the next sign-in's access token.
    next_login: (String, Value),
    /// Issued, not yet redeemed codes.
    codes: HashMap<String, Grant>,
    /// The query of the last authorization request.
    last_authorize: HashMap<String, String>,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    sub: String,
    extra: Value,
}

impl FakeIdp {
    /// Start on `127.0.0.1:0`, accepting `redirect_uri` (exactly) for [`CLIENT_ID`], authenticated
    /// with HTTP Basic when `client_secret` is set. Signs people in as `alice` with role `admin`
    /// until [`FakeIdp::sign_in_as`] says otherwise.
    pub async fn start(redirect_uri: &str, client_secret: Option<&str>) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            redirect_uri: redirect_uri.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            next_login: ("alice".into(), json!({ "mtcp_role": "admin" })),
            codes: HashMap::new(),
            last_authorize: HashMap::new(),
        }));
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, shared, task }
    }

    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.base)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.base)
    }

    /// The next sign-in is `sub`, its access token carrying `extra` claims (e.g. its role).
    pub fn sign_in_as(&self, sub: &str, extra: Value) {
        self.shared.lock().unwrap().next_login = (sub.to_owned(), extra);
    }

    /// The query parameters of the last authorization request.
    pub fn last_authorize(&self) -> HashMap<String, String> {
        self.shared.lock().unwrap().last_authorize.clone()
    }
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn refuse(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({ "error": error, "error_description": description }))).into_response()
}

/// `GET /authorize`: what a provider does once the person has signed in and consented.
async fn authorize(State(shared): State<Arc<Mutex<Shared>>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut s = shared.lock().unwrap();
    s.last_authorize = q.clone();
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    // Before the redirect URI is known to be the client's, errors are shown, never redirected.
    if param("client_id") != CLIENT_ID {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    if param("redirect_uri") != s.redirect_uri {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not the registered one").into_response();
    }
    for (name, expected) in [("response_type", "code"), ("code_challenge_method", "S256")] {
        if param(name) != expected {
            return (StatusCode::BAD_REQUEST, format!("{name} must be {expected}")).into_response();
        }
    }
    if param("code_challenge").len() != 43 || param("state").is_empty() {
        return (StatusCode::BAD_REQUEST, "code_challenge (S256) and state are required").into_response();
    }
    let code = hex::encode(rand::random::<[u8; 16]>());
    let (sub, extra) = s.next_login.clone();
    let grant =
        Grant { challenge: param("code_challenge").to_owned(), redirect_uri: s.redirect_uri.clone(), sub, extra };
    s.codes.insert(code.clone(), grant);
    let mut back = reqwest::Url::parse(&s.redirect_uri).unwrap();
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", param("state"));
    Redirect::to(back.as_str()).into_response()
}

/// `POST /token`: the code for an access token, only with the verifier of the code's challenge.
async fn token(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut s = shared.lock().unwrap();
    let param = |name: &str| f.get(name).map(String::as_str).unwrap_or_default();
    let client_ok = s
        .client_secret
        .as_deref()
        .is_none_or(|secret| basic_credentials(&headers).is_some_and(|(id, pw)| id == CLIENT_ID && pw == secret));
    if !client_ok {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    if param("grant_type") != "authorization_code" {
        return refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", "expected authorization_code");
    }
    if param("client_id") != CLIENT_ID {
        return refuse(StatusCode::BAD_REQUEST, "invalid_client", "unknown client_id");
    }
    // A code is good once, whatever the outcome.
    let Some(grant) = s.codes.remove(param("code")) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant", "unknown or used code");
    };
    if param("redirect_uri") != grant.redirect_uri {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let verifier = param("code_verifier");
    let ok_verifier = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !ok_verifier || challenge != grant.challenge {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed");
    }
    let access_token = crate::oidc::sign("test-only-rs256.pem", "rs-1", &crate::oidc::claims(&grant.sub, grant.extra));
    axum::Json(json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": 300 })).into_response()
}

/// The client id and secret of `Authorization: Basic`, each form-urlencoded first (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unform = |s: &str| url::form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unform(id)?, unform(secret)?))
}
