//! OIDC bearer tokens: verifies a JWT against the identity provider's JWKS (file or URL, refreshed)
//! and extracts the actor, role, groups and scopes that authorization needs.

mod claims;
mod error;
mod header;
mod jwks;
#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mtcp_shared::config::OidcConfig;
use serde_json::{Map, Value};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use self::claims::ClaimRules;
use self::jwks::{JwksSource, KeySet, Lookup};

pub use self::error::JwtError;
pub use self::header::looks_like_jwt;
pub use self::jwks::JwksError;

/// Least time between two JWKS refreshes forced by unknown `kid`s: tokens naming random key ids
/// must not turn the gateway into a load generator against the identity provider.
const UNKNOWN_KID_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// What a verified bearer JWT says about its caller.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The `actor_claim` value: non-empty, at most 256 characters, no control characters.
    pub actor: String,
    /// The `role_claim` value, when that claim is configured and present.
    pub role: Option<String>,
    /// The `groups_claim` value: an array of strings, or a single string.
    pub groups: Vec<String>,
    /// `scope` (space-separated) and `scp` (array or space-separated string), without duplicates.
    pub scopes: Vec<String>,
    /// All claims, for policy bindings on claims.
    pub claims: Map<String, Value>,
    /// Whether the token carries `required_scope` (true when none is configured).
    pub has_required_scope: bool,
    /// The token's `exp` (always present: verification requires it). A console session started
    /// from the token ends by then.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Verifies bearer JWTs for one issuer and audience. Cheap to clone (shared state).
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    source: JwksSource,
    keys: RwLock<Arc<KeySet>>,
    /// When an unknown `kid` last forced a refresh, and whether it worked. The async lock also makes
    /// concurrent requests with the same new `kid` share one refresh.
    last_forced: tokio::sync::Mutex<Option<(Instant, bool)>>,
    /// One validation per accepted algorithm: the library requires the key family to match them all.
    validations: Vec<(Algorithm, Validation)>,
    rules: ClaimRules,
    leeway: u64,
    issuer: String,
    audience: String,
}

impl JwtVerifier {
    /// Load the JWKS (file or URL) once; spawn a refresh task (every `jwks_refresh`, stopping on
    /// `shutdown`). A JWKS that cannot be loaded at start is an error naming the file or URL (the
    /// gateway refuses to start).
    pub async fn new(cfg: &OidcConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let accepted = accepted_algorithms(&cfg.algorithms)?;
        let source = JwksSource::from_config(cfg)?;
        if let JwksSource::Url { url, .. } = &source
            && url.starts_with("http://")
        {
            tracing::warn!(%url, "the OIDC JWKS is fetched over plain HTTP: signing keys can be tampered with in transit");
        }
        let keys = source.load(&accepted).await.context("auth.oidc: loading the identity provider's signing keys")?;
        tracing::info!(%source, keys = keys.len(), "loaded the OIDC signing keys");
        let validations = accepted.iter().map(|&alg| (alg, validation(cfg, alg))).collect();
        let inner = Arc::new(Inner {
            source,
            keys: RwLock::new(Arc::new(keys)),
            last_forced: tokio::sync::Mutex::new(None),
            validations,
            rules: ClaimRules::from_config(cfg),
            leeway: cfg.leeway.as_secs(),
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
        });
        spawn_refresh(Arc::downgrade(&inner), cfg.jwks_refresh, shutdown);
        Ok(Self { inner })
    }

    /// Verify a bearer token: signature (RS256/ES256 from `algorithms`; `none` and HS* always
    /// refused), key by `kid` (an unknown `kid` forces one JWKS refresh, at most every 30 s), then
    /// `iss`, `aud`, `exp`, `nbf` and `iat` with the configured leeway; then extract the identity.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, JwtError> {
        let header = header::parse(token).ok_or(JwtError::Malformed)?;
        let named = match header.alg.as_str() {
            "RS256" => Some(Algorithm::RS256),
            "ES256" => Some(Algorithm::ES256),
            _ => None,
        };
        let Some((alg, validation)) = self.inner.validations.iter().find(|(alg, _)| Some(*alg) == named) else {
            return Err(JwtError::unsupported_algorithm(&header.alg));
        };
        if header.crit.is_some() {
            // The gateway implements no JWS extension, so a token that requires one is refused.
            return Err(JwtError::Malformed);
        }
        let key = self.key_for(header.kid.as_deref(), *alg).await?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, validation)
            .map_err(|e| self.inner.refusal(e.into_kind(), token))?;
        claims::check_issued_at(&data.claims, jsonwebtoken::get_current_timestamp(), self.inner.leeway)?;
        self.inner.rules.extract(data.claims)
    }

    /// Re-read the JWKS now and use its keys; on failure the keys in use are kept. The refresh task
    /// calls this every `jwks_refresh`. Returns how many usable keys the new set holds.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let accepted: Vec<Algorithm> = self.inner.validations.iter().map(|(alg, _)| *alg).collect();
        let keys = self.inner.source.load(&accepted).await?;
        let count = keys.len();
        *self.inner.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        tracing::debug!(source = %self.inner.source, keys = count, "refreshed the OIDC signing keys");
        Ok(count)
    }

    fn current_keys(&self) -> Arc<KeySet> {
        // A poisoned lock still holds a whole key set: swaps are a single assignment.
        Arc::clone(&self.inner.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, JwtError> {
        match self.current_keys().find(kid, alg) {
            Lookup::Found(key) => return Ok(key.clone()),
            Lookup::WrongAlgorithm => return Err(JwtError::BadSignature),
            Lookup::Unknown if kid.is_none() => return Err(JwtError::unknown_key(None)),
            Lookup::Unknown => {}
        }
        self.refresh_for_unknown_kid().await?;
        match self.current_keys().find(kid, alg) {
            Lookup::Found(key) => Ok(key.clone()),
            Lookup::WrongAlgorithm => Err(JwtError::BadSignature),
            Lookup::Unknown => Err(JwtError::unknown_key(kid)),
        }
    }

    /// The identity provider may have rotated its keys: re-read the JWKS, unless an unknown `kid`
    /// already did within [`UNKNOWN_KID_REFRESH_INTERVAL`].
    async fn refresh_for_unknown_kid(&self) -> Result<(), JwtError> {
        let mut last = self.inner.last_forced.lock().await;
        if let Some((at, ok)) = *last
            && at.elapsed() < UNKNOWN_KID_REFRESH_INTERVAL
        {
            return if ok { Ok(()) } else { Err(JwtError::JwksUnavailable) };
        }
        let outcome = self.refresh().await;
        *last = Some((Instant::now(), outcome.is_ok()));
        outcome.map(drop).map_err(|error| {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::new(error)),
                "JWKS refresh for an unknown kid failed"
            );
            JwtError::JwksUnavailable
        })
    }
}

impl Inner {
    /// The library's refusal in the gateway's words. Time and issuer refusals come after the
    /// signature has verified, so the claim values they quote are the identity provider's.
    fn refusal(&self, kind: ErrorKind, token: &str) -> JwtError {
        #[derive(serde::Deserialize)]
        struct Quoted {
            exp: Option<f64>,
            nbf: Option<f64>,
            iss: Option<Value>,
        }
        let quoted = || jsonwebtoken::dangerous::insecure_decode_claims::<Quoted>(token).ok();
        match kind {
            ErrorKind::ExpiredSignature => match quoted().and_then(|q| q.exp) {
                Some(exp) => JwtError::Expired { at: JwtError::timestamp(exp) },
                None => JwtError::InvalidClaim { claim: "exp".into() },
            },
            ErrorKind::ImmatureSignature => match quoted().and_then(|q| q.nbf) {
                Some(nbf) => JwtError::NotYetValid { at: JwtError::timestamp(nbf) },
                None => JwtError::InvalidClaim { claim: "nbf".into() },
            },
            ErrorKind::InvalidIssuer => {
                let found = match quoted().and_then(|q| q.iss) {
                    Some(Value::String(iss)) => error::echo(&iss),
                    Some(other) => error::echo(&other.to_string()),
                    None => String::new(),
                };
                JwtError::WrongIssuer { expected: self.issuer.clone(), found }
            }
            ErrorKind::InvalidAudience => JwtError::WrongAudience { expected: self.audience.clone() },
            ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim { claim },
            ErrorKind::InvalidClaimFormat(claim) => JwtError::InvalidClaim { claim },
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                JwtError::Malformed
            }
            ErrorKind::InvalidSignature => JwtError::BadSignature,
            other => {
                // A key the library could not use (e.g. a malformed RSA modulus in the JWKS): the
                // token cannot be verified with it. Logged because the fix is on the provider side.
                tracing::warn!(error = ?other, "token verification failed inside the JWT library");
                JwtError::BadSignature
            }
        }
    }
}

/// The configured algorithms; anything but RS256 and ES256 refuses start-up (HMAC would let a
/// public key serve as a shared secret).
fn accepted_algorithms(names: &[String]) -> anyhow::Result<Vec<Algorithm>> {
    let mut accepted = Vec::new();
    for name in names {
        let alg = match name.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            other => anyhow::bail!("auth.oidc.algorithms: {other:?} is not supported; use RS256 or ES256"),
        };
        if !accepted.contains(&alg) {
            accepted.push(alg);
        }
    }
    anyhow::ensure!(!accepted.is_empty(), "auth.oidc.algorithms: list at least one of RS256, ES256");
    Ok(accepted)
}

fn validation(cfg: &OidcConfig, alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = cfg.leeway.as_secs();
    v.set_issuer(&[&cfg.issuer]);
    v.set_audience(&[&cfg.audience]);
    // A token without an expiry, issuer or audience is never accepted.
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.validate_nbf = true;
    v
}

/// Re-read the JWKS every `every` until `shutdown` fires or the verifier is dropped.
fn spawn_refresh(inner: Weak<Inner>, every: Duration, shutdown: CancellationToken) {
    // Config validation asks for at least 10 s; never spin (or panic on zero) if that is bypassed.
    let every = every.max(Duration::from_millis(100));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            let Some(inner) = inner.upgrade() else { break };
            let verifier = JwtVerifier { inner };
            tokio::select! {
                () = shutdown.cancelled() => break,
                outcome = verifier.refresh() => if let Err(error) = outcome {
                    let error = format!("{:#}", anyhow::Error::new(error));
                    tracing::warn!(%error, "JWKS refresh failed; keeping the keys in use");
                }
            }
        }
        tracing::debug!("OIDC JWKS refresh task stopped");
    });
}
