//! JWKS served over HTTP by a stand-in identity provider on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::*;

/// What the stand-in identity provider serves, and how often it was asked.
#[derive(Clone)]
struct Idp {
    response: Arc<Mutex<(StatusCode, Vec<u8>)>>,
    fetches: Arc<AtomicUsize>,
}

impl Idp {
    fn serve(&self, status: StatusCode, body: Vec<u8>) {
        *self.response.lock().unwrap() = (status, body);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks(State(idp): State<Idp>) -> (StatusCode, Vec<u8>) {
    idp.fetches.fetch_add(1, Ordering::SeqCst);
    idp.response.lock().unwrap().clone()
}

/// Start an identity provider serving `jwks.json`; returns it and a config pointing at it.
async fn start_idp() -> (Idp, OidcConfig) {
    let idp = Idp {
        response: Arc::new(Mutex::new((StatusCode::OK, read_fixture("jwks.json")))),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new().route("/realms/ops/certs", get(jwks)).with_state(idp.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/realms/ops/certs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (idp, OidcConfig { jwks_url: Some(url), jwks_file: None, ..config() })
}

#[tokio::test]
async fn keys_from_a_url_verify_tokens() {
    let (idp, cfg) = start_idp().await;
    let v = verifier(&cfg).await;
    assert_eq!(idp.fetches(), 1, "fetched once at start");
    assert_eq!(v.verify(&rs256(&good_claims())).await.unwrap().actor, "alice@example.com");
    assert_eq!(v.verify(&sign("test-only-es256.pem", Some("ec-1"), &good_claims())).await.unwrap().groups.len(), 2);
    assert_eq!(idp.fetches(), 1, "known keys need no fetch");
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch_and_later_ones_wait_30_seconds() {
    let (idp, cfg) = start_idp().await;
    let v = verifier(&cfg).await;
    idp.serve(StatusCode::OK, read_fixture("jwks-rotated.json"));

    let token = sign("test-only-rs256-rotated.pem", Some("rs-2"), &good_claims());
    let results = futures::future::join_all((0..8).map(|_| v.verify(&token))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(idp.fetches(), 2, "start + one refresh for eight requests");

    let unknown = sign("test-only-rs256-rotated.pem", Some("rs-9"), &good_claims());
    assert_eq!(refused(&v, &unknown).await.label(), "unknown_key");
    assert_eq!(idp.fetches(), 2, "no second unknown-kid refresh within 30 s");
}

#[tokio::test]
async fn an_identity_provider_down_after_start_leaves_known_keys_working() {
    let (idp, cfg) = start_idp().await;
    let v = verifier(&cfg).await;
    idp.serve(StatusCode::SERVICE_UNAVAILABLE, b"maintenance".to_vec());

    let err = refused(&v, &sign("test-only-rs256-rotated.pem", Some("rs-2"), &good_claims())).await;
    assert!(matches!(err, JwtError::JwksUnavailable), "{err:?}");
    assert_eq!(err.label(), "jwks_unavailable");
    assert!(v.refresh().await.unwrap_err().to_string().contains("HTTP 503"));
    assert_eq!(v.verify(&rs256(&good_claims())).await.unwrap().actor, "alice@example.com");
}

#[tokio::test]
async fn an_unreachable_jwks_url_refuses_start_up_naming_the_url() {
    // A port that was free a moment ago: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", listener.local_addr().unwrap());
    drop(listener);
    let cfg = OidcConfig { jwks_url: Some(url.clone()), jwks_file: None, ..config() };
    let err = JwtVerifier::new(&cfg, CancellationToken::new()).await.err().expect("must refuse to start");
    assert!(format!("{err:#}").contains(&url), "{err:#}");
}

#[tokio::test]
async fn an_error_status_or_an_oversized_jwks_refuses_start_up() {
    let (idp, cfg) = start_idp().await;
    idp.serve(StatusCode::NOT_FOUND, Vec::new());
    let err = JwtVerifier::new(&cfg, CancellationToken::new()).await.err().expect("404 must refuse");
    let message = format!("{err:#}");
    assert!(message.contains(cfg.jwks_url.as_deref().unwrap()) && message.contains("HTTP 404"), "{message}");

    idp.serve(StatusCode::OK, vec![b' '; 2 * 1024 * 1024]);
    let err = JwtVerifier::new(&cfg, CancellationToken::new()).await.err().expect("2 MiB must refuse");
    assert!(format!("{err:#}").contains("is larger than 1048576 bytes"), "{err:#}");
}
