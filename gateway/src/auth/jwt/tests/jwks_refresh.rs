//! Key rotation with a JWKS file: unknown `kid`s, forced and periodic refreshes.

use super::*;

/// A config reading a private copy of `jwks.json`, which the test then rewrites.
fn rotating_config(dir: &tempfile::TempDir) -> OidcConfig {
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, read_fixture("jwks.json")).unwrap();
    OidcConfig { jwks_file: Some(path), ..config() }
}

fn rotate(cfg: &OidcConfig) {
    std::fs::write(cfg.jwks_file.as_ref().unwrap(), read_fixture("jwks-rotated.json")).unwrap();
}

fn rotated_token() -> String {
    sign("test-only-rs256-rotated.pem", Some("rs-2"), &good_claims())
}

#[tokio::test]
async fn an_unknown_kid_is_refused_naming_the_kid() {
    let v = verifier(&config()).await;
    let err = refused(&v, &rotated_token()).await;
    assert_eq!(err.to_string(), r#"token signing key "rs-2" is not in the identity provider's JWKS"#);
    assert!(matches!(&err, JwtError::UnknownKey { kid: Some(kid) } if kid == "rs-2"));
    assert_eq!(err.label(), "unknown_key");
}

#[tokio::test]
async fn a_key_rotated_in_before_its_first_token_is_found_by_the_unknown_kid_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rotating_config(&dir);
    let v = verifier(&cfg).await;
    rotate(&cfg);
    let t = v.verify(&rotated_token()).await.expect("the unknown kid forces a JWKS re-read");
    assert_eq!(t.actor, "alice@example.com");
    // The retired key is gone with the old document.
    let err = refused(&v, &rs256(&good_claims())).await;
    assert!(matches!(&err, JwtError::UnknownKey { kid: Some(kid) } if kid == "rs-1"), "{err:?}");
}

#[tokio::test]
async fn unknown_kid_refreshes_are_rate_limited_and_a_forced_refresh_picks_up_the_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rotating_config(&dir);
    let v = verifier(&cfg).await;

    // The first unknown kid re-reads the (unchanged) file; the provider then rotates.
    assert_eq!(refused(&v, &rotated_token()).await.label(), "unknown_key");
    rotate(&cfg);
    // Within 30 s of that re-read, another unknown kid does not re-read the file.
    assert_eq!(refused(&v, &rotated_token()).await.label(), "unknown_key");

    assert_eq!(v.refresh().await.unwrap(), 2, "rs-2 and ec-1");
    assert_eq!(v.verify(&rotated_token()).await.unwrap().actor, "alice@example.com");
}

#[tokio::test]
async fn a_broken_jwks_on_refresh_keeps_the_keys_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rotating_config(&dir);
    let v = verifier(&cfg).await;
    std::fs::write(cfg.jwks_file.as_ref().unwrap(), r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).unwrap();
    let err = v.refresh().await.unwrap_err();
    assert!(err.to_string().contains("holds no signing key for RS256, ES256"), "{err}");
    assert_eq!(v.verify(&rs256(&good_claims())).await.unwrap().actor, "alice@example.com");

    std::fs::write(cfg.jwks_file.as_ref().unwrap(), "<html>").unwrap();
    assert!(v.refresh().await.unwrap_err().to_string().contains("is not a JSON Web Key Set"));
    assert!(v.verify(&rs256(&good_claims())).await.is_ok());
}

#[tokio::test]
async fn the_refresh_task_picks_up_a_rotation_without_any_unknown_kid() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = OidcConfig { jwks_refresh: Duration::from_millis(100), ..rotating_config(&dir) };
    let shutdown = CancellationToken::new();
    let v = JwtVerifier::new(&cfg, shutdown.clone()).await.unwrap();
    // Use up the unknown-kid refresh, so only the periodic task can load rs-2.
    assert_eq!(refused(&v, &rotated_token()).await.label(), "unknown_key");
    rotate(&cfg);
    let picked_up = async {
        while v.verify(&rotated_token()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), picked_up).await.expect("the refresh task re-reads the file");

    // After shutdown the task stops: a further rotation is no longer seen.
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(50)).await;
    std::fs::write(cfg.jwks_file.as_ref().unwrap(), read_fixture("jwks.json")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(v.verify(&rotated_token()).await.is_ok(), "rs-2 still in use: nothing re-read the file");
}

#[tokio::test]
async fn a_missing_jwks_file_refuses_start_up_naming_the_file() {
    let cfg = OidcConfig { jwks_file: Some(fixture("no-such-jwks.json")), ..config() };
    let err = JwtVerifier::new(&cfg, CancellationToken::new()).await.err().expect("must refuse");
    let message = format!("{err:#}");
    assert!(message.contains("no-such-jwks.json"), "{message}");
}
