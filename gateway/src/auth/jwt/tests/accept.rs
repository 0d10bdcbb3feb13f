//! Tokens the gateway accepts, and what it reads from them.

use serde_json::json;

use super::*;

#[tokio::test]
async fn an_rs256_token_yields_actor_role_groups_and_scopes() {
    let v = verifier(&config()).await;
    let token = rs256(&good_claims());
    assert!(crate::auth::jwt::looks_like_jwt(&token), "told apart from an API key");
    let t = v.verify(&token).await.unwrap();
    assert_eq!(t.actor, "alice@example.com");
    assert_eq!(t.role.as_deref(), Some("operator"));
    assert_eq!(t.groups, ["sre", "oncall"]);
    assert_eq!(t.scopes, ["openid", "mcp:tools"]);
    assert!(t.has_required_scope);
    assert_eq!(t.claims["iss"], ISSUER, "all claims are kept for policy bindings");
}

#[tokio::test]
async fn an_es256_token_is_accepted_with_scp_and_a_single_group() {
    let v = verifier(&config()).await;
    let claims =
        claims_with(json!({"sub": "svc-deployer", "groups": "deployers", "scope": null, "scp": ["mcp:tools"]}));
    let t = v.verify(&sign("test-only-es256.pem", Some("ec-1"), &claims)).await.unwrap();
    assert_eq!(t.actor, "svc-deployer");
    assert_eq!(t.groups, ["deployers"]);
    assert_eq!(t.scopes, ["mcp:tools"]);
    assert!(t.has_required_scope);
}

#[tokio::test]
async fn a_token_without_the_required_scope_is_verified_but_flagged() {
    let v = verifier(&config()).await;
    let t = v.verify(&rs256(&claims_with(json!({"scope": "openid profile"})))).await.unwrap();
    assert!(!t.has_required_scope, "the caller answers 403 insufficient_scope");

    let mut cfg = config();
    cfg.required_scope = None;
    let t = verifier(&cfg).await.verify(&rs256(&claims_with(json!({"scope": null})))).await.unwrap();
    assert!(t.scopes.is_empty());
    assert!(t.has_required_scope, "nothing is required");
}

#[tokio::test]
async fn expiry_and_not_before_within_the_leeway_are_tolerated() {
    let v = verifier(&config()).await;
    let skewed = claims_with(json!({"exp": now() - 30, "nbf": now() + 30, "iat": now() + 30}));
    assert_eq!(v.verify(&rs256(&skewed)).await.unwrap().actor, "alice@example.com");
}

#[tokio::test]
async fn the_actor_and_role_claims_are_configurable() {
    let mut cfg = config();
    cfg.actor_claim = "email".into();
    cfg.role_claim = None;
    cfg.groups_claim = "https://example.com/groups".into();
    let claims = claims_with(json!({"email": "bob@example.com", "https://example.com/groups": ["dba"]}));
    let t = verifier(&cfg).await.verify(&rs256(&claims)).await.unwrap();
    assert_eq!(t.actor, "bob@example.com");
    assert_eq!(t.role, None, "no role claim configured, even though the token has mtcp_role");
    assert_eq!(t.groups, ["dba"]);
}

#[tokio::test]
async fn a_single_string_audience_and_a_token_without_role_are_accepted() {
    let v = verifier(&config()).await;
    let t = v.verify(&rs256(&claims_with(json!({"aud": AUDIENCE, "mtcp_role": null, "groups": null})))).await.unwrap();
    assert_eq!(t.role, None);
    assert!(t.groups.is_empty());
}

#[tokio::test]
async fn a_token_without_kid_uses_the_only_key_for_its_algorithm() {
    let v = verifier(&config()).await;
    let t = v.verify(&sign("test-only-es256.pem", None, &good_claims())).await.unwrap();
    assert_eq!(t.actor, "alice@example.com");
}
