//! OIDC for tests: the gateway's `auth.oidc` on the workspace's test-only JWKS, and tokens signed
//! with its test-only keys (or the attacker's key, which the JWKS does not hold).

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mtcp_shared::config::OidcConfig;
use serde_json::{Value, json};

/// The test-only keys and JWKS.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../gateway/tests/fixtures/jwt");
pub const ISSUER: &str = "https://idp.example.test/";
pub const AUDIENCE: &str = "mcp-teleport";

/// `auth.oidc` trusting the fixtures' JWKS: actor from `sub`, role from `mtcp_role`, groups from
/// `groups`, scope `mcp:tools` required.
pub fn config() -> OidcConfig {
    OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: None,
        jwks_file: Some(format!("{FIXTURES}/jwks.json").into()),
        algorithms: vec!["RS256".into(), "ES256".into()],
        leeway: Duration::from_secs(5),
        jwks_refresh: Duration::from_secs(600),
        actor_claim: "sub".into(),
        role_claim: Some("mtcp_role".into()),
        groups_claim: "groups".into(),
        required_scope: Some("mcp:tools".into()),
    }
}

/// A token signed with the fixture key `key_file` under key id `kid`.
pub fn sign(key_file: &str, kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(format!("{FIXTURES}/{key_file}")).unwrap();
    let (alg, key) = if key_file.contains("es256") {
        (Algorithm::ES256, EncodingKey::from_ec_pem(&pem).unwrap())
    } else {
        (Algorithm::RS256, EncodingKey::from_rsa_pem(&pem).unwrap())
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// Valid claims for `sub` (five minutes, the required scope), with `extra` merged over them.
pub fn claims(sub: &str, extra: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300, "scope": "openid mcp:tools" });
    c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    c
}

/// A valid RS256 token for `sub` holding `role` (its `mtcp_role` claim).
pub fn token(sub: &str, role: &str) -> String {
    sign("test-only-rs256.pem", "rs-1", &claims(sub, json!({ "mtcp_role": role })))
}
