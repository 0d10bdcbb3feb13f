//! Tests for the JWT verifier, with test-only keys from `gateway/tests/fixtures/jwt/`.

mod accept;
mod jwks_refresh;
mod jwks_url;
mod reject;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mtcp_shared::config::OidcConfig;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{JwtError, JwtVerifier};

const ISSUER: &str = "https://idp.test.invalid/realms/ops";
const AUDIENCE: &str = "mcp-teleport";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt").join(name)
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// `auth.oidc` as an operator would write it, reading `jwks.json`.
fn config() -> OidcConfig {
    OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: None,
        jwks_file: Some(fixture("jwks.json")),
        algorithms: vec!["RS256".into(), "ES256".into()],
        leeway: Duration::from_secs(60),
        jwks_refresh: Duration::from_secs(600),
        actor_claim: "sub".into(),
        role_claim: Some("mtcp_role".into()),
        groups_claim: "groups".into(),
        required_scope: Some("mcp:tools".into()),
    }
}

async fn verifier(cfg: &OidcConfig) -> JwtVerifier {
    JwtVerifier::new(cfg, CancellationToken::new()).await.unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a good token for this gateway.
fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": "alice@example.com",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 300,
        "mtcp_role": "operator",
        "groups": ["sre", "oncall"],
        "scope": "openid mcp:tools",
    })
}

/// Sets (or, with `Value::Null`, removes) claims of a good token.
fn claims_with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

/// A token signed with a test-only PEM key (`alg` from the file name), naming `kid`.
fn sign(key_file: &str, kid: Option<&str>, claims: &Value) -> String {
    let pem = read_fixture(key_file);
    let (alg, key) = if key_file.contains("es256") {
        (Algorithm::ES256, EncodingKey::from_ec_pem(&pem).unwrap())
    } else {
        (Algorithm::RS256, EncodingKey::from_rsa_pem(&pem).unwrap())
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(Into::into);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn rs256(claims: &Value) -> String {
    sign("test-only-rs256.pem", Some("rs-1"), claims)
}

/// A token with a hand-made header and signature segment (for algorithms no key should sign).
fn forged(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let seg = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.{}", seg(header), seg(claims), URL_SAFE_NO_PAD.encode(signature))
}

/// Verify a token that must be refused; checks the message never repeats the token.
async fn refused(verifier: &JwtVerifier, token: &str) -> JwtError {
    let err = verifier.verify(token).await.expect_err("the token must be refused");
    let message = err.to_string();
    for segment in token.split('.').filter(|s| s.len() > 8) {
        assert!(!message.contains(segment), "message {message:?} repeats part of the token");
    }
    assert!(token.is_empty() || !message.contains(token), "message repeats the token");
    err
}
