//! The identity provider's signing keys: reading a JWKS from a file or URL and keeping the keys the
//! gateway accepts (RS256 and P-256 ES256, for signatures).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use mtcp_shared::config::OidcConfig;
use reqwest::header::ACCEPT;

/// Largest JWKS document read: real ones are a few KiB; this bounds what a misbehaving endpoint
/// can make the gateway buffer.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Bound on one JWKS fetch, so a stalled identity provider cannot hang start-up or a refresh.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the JWKS could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Neither `jwks_url` nor `jwks_file` is set.
    #[error("auth.oidc sets neither jwks_url nor jwks_file")]
    NoSource,
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client for the JWKS")]
    Client(#[source] reqwest::Error),
    /// The file could not be read.
    #[error("reading the JWKS file {}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The URL could not be fetched (connection, TLS, timeout).
    #[error("fetching the JWKS from {url}")]
    Fetch { url: String, source: reqwest::Error },
    /// The URL answered with a non-success status.
    #[error("fetching the JWKS from {url}: HTTP {status}")]
    Status { url: String, status: reqwest::StatusCode },
    /// The document exceeds [`MAX_JWKS_BYTES`].
    #[error("the JWKS from {origin} is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge { origin: String },
    /// The document is not a JSON Web Key Set.
    #[error("the JWKS from {origin} is not a JSON Web Key Set")]
    Parse { origin: String, source: serde_json::Error },
    /// The document holds no key for an accepted algorithm.
    #[error("the JWKS from {origin} holds no signing key for {algorithms}")]
    NoUsableKeys { origin: String, algorithms: String },
}

/// Where the JWKS comes from.
pub(super) enum JwksSource {
    File(PathBuf),
    Url { url: String, client: reqwest::Client },
}

impl fmt::Display for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url { url, .. } => f.write_str(url),
        }
    }
}

impl JwksSource {
    /// The source `auth.oidc` names (`jwks_url` wins if, against validation, both are set).
    pub(super) fn from_config(cfg: &OidcConfig) -> Result<Self, JwksError> {
        match (&cfg.jwks_url, &cfg.jwks_file) {
            (Some(url), _) => {
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .user_agent(concat!("mtcp-gateway/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(JwksError::Client)?;
                Ok(Self::Url { url: url.clone(), client })
            }
            (None, Some(path)) => Ok(Self::File(path.clone())),
            (None, None) => Err(JwksError::NoSource),
        }
    }

    /// Read the document and keep the keys usable with `accepted`.
    pub(super) async fn load(&self, accepted: &[Algorithm]) -> Result<KeySet, JwksError> {
        let body = match self {
            Self::File(path) => {
                tokio::fs::read(path).await.map_err(|source| JwksError::Read { path: path.clone(), source })?
            }
            Self::Url { url, client } => fetch(client, url).await?,
        };
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge { origin: self.to_string() });
        }
        KeySet::parse(&body, &self.to_string(), accepted)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, JwksError> {
    let fetch_error = |source| JwksError::Fetch { url: url.to_owned(), source };
    let mut resp = client.get(url).header(ACCEPT, "application/json").send().await.map_err(fetch_error)?;
    if !resp.status().is_success() {
        return Err(JwksError::Status { url: url.to_owned(), status: resp.status() });
    }
    let too_large = || JwksError::TooLarge { origin: url.to_owned() };
    if resp.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
        return Err(too_large());
    }
    // Read chunk by chunk so a body without (or lying about) Content-Length is still capped.
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(fetch_error)? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One verification key.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// The keys the gateway verifies tokens with.
pub(super) struct KeySet {
    keys: Vec<Key>,
}

/// What a key lookup found.
pub(super) enum Lookup<'a> {
    Found(&'a DecodingKey),
    /// No key has this `kid` (or, without a `kid`, not exactly one key has the algorithm).
    Unknown,
    /// The key named by `kid` is for another algorithm.
    WrongAlgorithm,
}

#[derive(serde::Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// Parse a JWKS document. Keys the gateway cannot use (encryption keys, other algorithms or
    /// curves, malformed entries) are skipped, so one odd key does not take the others down.
    pub(super) fn parse(body: &[u8], origin: &str, accepted: &[Algorithm]) -> Result<Self, JwksError> {
        let raw: RawSet =
            serde_json::from_slice(body).map_err(|source| JwksError::Parse { origin: origin.to_owned(), source })?;
        let mut keys = Vec::new();
        for value in raw.keys {
            let jwk: Jwk = match serde_json::from_value(value) {
                Ok(jwk) => jwk,
                Err(error) => {
                    tracing::warn!(%origin, %error, "skipping a malformed JWKS entry");
                    continue;
                }
            };
            let kid = jwk.common.key_id.clone();
            let Some(alg) = signing_algorithm(&jwk).filter(|alg| accepted.contains(alg)) else {
                tracing::debug!(%origin, ?kid, "skipping a JWKS key for another use or algorithm");
                continue;
            };
            match DecodingKey::from_jwk(&jwk) {
                Ok(key) => keys.push(Key { kid, alg, key }),
                Err(error) => tracing::warn!(%origin, ?kid, %error, "skipping a JWKS key that does not decode"),
            }
        }
        if keys.is_empty() {
            let algorithms = accepted.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ");
            return Err(JwksError::NoUsableKeys { origin: origin.to_owned(), algorithms });
        }
        Ok(Self { keys })
    }

    /// How many usable keys the set holds.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key for a token's `kid` and (allow-listed) `alg`. A token without `kid` is accepted only
    /// when exactly one key has its algorithm, so the choice is never ambiguous.
    pub(super) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Lookup::Unknown;
                }
                named.find(|k| k.alg == alg).map_or(Lookup::WrongAlgorithm, |k| Lookup::Found(&k.key))
            }
            None => {
                let mut candidates = self.keys.iter().filter(|k| k.alg == alg);
                match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Lookup::Found(&only.key),
                    _ => Lookup::Unknown,
                }
            }
        }
    }
}

/// The algorithm a JWK can verify, if it is a signing key of a kind the gateway supports.
fn signing_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return None;
    }
    let by_key_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return None,
    };
    // A key that declares its algorithm is used for that algorithm only (RFC 7517 §4.4).
    match jwk.common.key_algorithm {
        None => Some(by_key_type),
        Some(KeyAlgorithm::RS256) if by_key_type == Algorithm::RS256 => Some(Algorithm::RS256),
        Some(KeyAlgorithm::ES256) if by_key_type == Algorithm::ES256 => Some(Algorithm::ES256),
        Some(_) => None,
    }
}
