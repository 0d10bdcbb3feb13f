//! Tokens the gateway refuses, and what it says about them.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;

#[tokio::test]
async fn a_token_signed_by_another_key_has_a_bad_signature() {
    let v = verifier(&config()).await;
    let err = refused(&v, &sign("test-only-rs256-attacker.pem", Some("rs-1"), &good_claims())).await;
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    assert_eq!(err.label(), "bad_signature");

    // A genuine signature over a header and payload that were swapped for others.
    let genuine = rs256(&good_claims());
    let tampered_payload = rs256(&claims_with(json!({"sub": "root"})));
    let (head, _, sig) = split(&genuine);
    let (_, payload, _) = split(&tampered_payload);
    let err = refused(&v, &format!("{head}.{payload}.{sig}")).await;
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
}

fn split(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_refused_with_the_expected_value() {
    let v = verifier(&config()).await;
    let err = refused(&v, &rs256(&claims_with(json!({"aud": ["grafana", "account"]})))).await;
    assert_eq!(err.to_string(), r#"token audience does not include "mcp-teleport""#);
    assert_eq!(err.label(), "wrong_audience");

    let err = refused(&v, &rs256(&claims_with(json!({"iss": format!("{ISSUER}/")})))).await;
    assert_eq!(
        err.to_string(),
        format!(r#"token issuer "{ISSUER}/" is not the configured issuer "{ISSUER}""#),
        "a trailing slash is the classic mismatch: the message shows both"
    );
    assert_eq!(err.label(), "wrong_issuer");
}

#[tokio::test]
async fn an_expired_token_says_when_it_expired() {
    let v = verifier(&config()).await;
    let err = refused(&v, &rs256(&claims_with(json!({"iat": 1_699_999_000, "nbf": null, "exp": 1_700_000_000})))).await;
    assert_eq!(err.to_string(), "token expired at 2023-11-14T22:13:20Z");
    assert_eq!(err.label(), "expired");

    // Just past the 60 s leeway.
    let err = refused(&v, &rs256(&claims_with(json!({"exp": now() - 90})))).await;
    assert!(matches!(err, JwtError::Expired { .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_not_yet_valid_or_issued_in_the_future_is_refused() {
    let v = verifier(&config()).await;
    let nbf = now() + 3600;
    let err = refused(&v, &rs256(&claims_with(json!({"nbf": nbf})))).await;
    let expected = chrono::DateTime::from_timestamp(nbf, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(err.to_string(), format!("token not valid before {expected}"));
    assert_eq!(err.label(), "not_yet_valid");

    let err = refused(&v, &rs256(&claims_with(json!({"nbf": null, "iat": now() + 3600})))).await;
    assert_eq!(err.label(), "not_yet_valid");
}

#[tokio::test]
async fn an_unsigned_token_is_refused_by_algorithm() {
    let v = verifier(&config()).await;
    let err = refused(&v, &forged(&json!({"alg": "none", "typ": "JWT"}), &good_claims(), b"")).await;
    assert_eq!(err.to_string(), r#"token signing algorithm "none" is not accepted"#);
    assert_eq!(err.label(), "unsupported_algorithm");
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    // Algorithm confusion: an attacker who knows the (public) RSA key uses it as an HMAC secret.
    let v = verifier(&config()).await;
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("rs-1".into());
    let secret = EncodingKey::from_secret(&read_fixture("test-only-rs256.pub.pem"));
    let token = jsonwebtoken::encode(&header, &good_claims(), &secret).unwrap();
    let err = refused(&v, &token).await;
    assert!(matches!(&err, JwtError::UnsupportedAlgorithm { alg } if alg == "HS256"), "{err:?}");
}

#[tokio::test]
async fn algorithms_outside_the_configured_list_are_refused() {
    let mut cfg = config();
    cfg.algorithms = vec!["RS256".into()];
    let v = verifier(&cfg).await;
    let err = refused(&v, &sign("test-only-es256.pem", Some("ec-1"), &good_claims())).await;
    assert!(matches!(&err, JwtError::UnsupportedAlgorithm { alg } if alg == "ES256"), "{err:?}");

    // EdDSA is in the JWKS (kid ed-1) but never accepted.
    let v = verifier(&config()).await;
    let err = refused(&v, &forged(&json!({"alg": "EdDSA", "kid": "ed-1"}), &good_claims(), &[7; 64])).await;
    assert_eq!(err.label(), "unsupported_algorithm");
}

#[tokio::test]
async fn hmac_or_unknown_algorithms_in_the_config_refuse_start_up() {
    let mut cfg = config();
    cfg.algorithms = vec!["RS256".into(), "HS256".into()];
    let err = JwtVerifier::new(&cfg, CancellationToken::new()).await.err().expect("HS256 must be refused");
    assert!(format!("{err:#}").contains(r#"auth.oidc.algorithms: "HS256" is not supported"#), "{err:#}");
}

#[tokio::test]
async fn a_key_named_by_kid_is_not_used_for_another_algorithm() {
    // ES256 token claiming the RSA key's kid: the RSA key cannot verify it.
    let v = verifier(&config()).await;
    let err = refused(&v, &sign("test-only-es256.pem", Some("rs-1"), &good_claims())).await;
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
}

#[tokio::test]
async fn malformed_strings_are_refused_as_malformed() {
    let v = verifier(&config()).await;
    let good = rs256(&good_claims());
    let (head, payload, sig) = split(&good);
    let cases = [
        String::new(),
        "mtcp_3f9a0c1b2d4e5f60718293a4b5c6d7e8".into(),
        "a.b.c".into(),
        format!("{head}.{payload}"),
        format!("{head}.{payload}.{sig}.{sig}"),
        format!("{head}.{payload}!.{sig}"),
        format!("{head}.{payload}.{sig}{}", "A".repeat(20_000)),
        format!("{}.{payload}.{sig}", URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"rs-1","crit":["exp"]}"#)),
    ];
    for token in cases {
        let err = refused(&v, &token).await;
        assert!(matches!(err, JwtError::Malformed), "{token:.40}…: {err:?}");
        assert_eq!(err.label(), "malformed");
    }
}

#[tokio::test]
async fn a_token_without_the_actor_claim_or_expiry_is_refused_by_claim_name() {
    let v = verifier(&config()).await;
    let err = refused(&v, &rs256(&claims_with(json!({"sub": null})))).await;
    assert_eq!(err.to_string(), r#"token has no "sub" claim"#);
    assert_eq!(err.label(), "missing_claim");

    let err = refused(&v, &rs256(&claims_with(json!({"exp": null})))).await;
    assert!(matches!(&err, JwtError::MissingClaim { claim } if claim == "exp"), "{err:?}");

    let err = refused(&v, &rs256(&claims_with(json!({"sub": "alice\u{7}"})))).await;
    assert!(matches!(&err, JwtError::InvalidClaim { claim } if claim == "sub"), "{err:?}");
}
