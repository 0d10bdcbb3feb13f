//! Why a bearer JWT was refused: one variant per failed check, with a message a person can act on.

use chrono::{DateTime, SecondsFormat, Utc};

/// Longest token-supplied text (a `kid`, an `alg`, an `iss`) an error message repeats: those values
/// are chosen by whoever sent the token and end up in logs.
const MAX_ECHOED: usize = 64;

/// Why a bearer JWT was refused.
///
/// Messages name the failed check and what was expected. They never contain the token or its
/// signature: at most a short, escaped header or claim value (`kid`, `alg`, `iss`).
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// Not a compact JWS: three base64url segments with a JSON header and payload.
    #[error("malformed token: expected a JWT (three base64url segments with a JSON header and payload)")]
    Malformed,
    /// `exp` (plus the leeway) is in the past.
    #[error("token expired at {}", rfc3339(.at))]
    Expired {
        /// The token's `exp`.
        at: DateTime<Utc>,
    },
    /// `nbf` or `iat` (minus the leeway) is in the future.
    #[error("token not valid before {}", rfc3339(.at))]
    NotYetValid {
        /// The token's `nbf`, or its `iat` when it claims to be issued in the future.
        at: DateTime<Utc>,
    },
    /// The signature does not verify with the identity provider's key the token names.
    #[error("token signature does not verify with the identity provider's key")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("token issuer {found:?} is not the configured issuer {expected:?}")]
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// The token's `iss` (shortened).
        found: String,
    },
    /// `aud` does not contain the configured audience.
    #[error("token audience does not include {expected:?}")]
    WrongAudience {
        /// The configured audience.
        expected: String,
    },
    /// No key in the JWKS matches the token's `kid`, even after a refresh.
    #[error("{}", unknown_key_message(.kid.as_deref()))]
    UnknownKey {
        /// The token's `kid` (shortened).
        kid: Option<String>,
    },
    /// The `alg` is not one the gateway accepts (`none` and HMAC never are).
    #[error("token signing algorithm {alg:?} is not accepted")]
    UnsupportedAlgorithm {
        /// The token's `alg` (shortened).
        alg: String,
    },
    /// A claim the gateway needs is absent.
    #[error("token has no {claim:?} claim")]
    MissingClaim {
        /// The claim's name.
        claim: String,
    },
    /// A claim is present but not usable (wrong type, empty, too long, control characters).
    #[error("token claim {claim:?} is not valid (wrong type, empty, too long or with control characters)")]
    InvalidClaim {
        /// The claim's name.
        claim: String,
    },
    /// The token names a key the gateway does not have, and the JWKS could not be re-read.
    #[error("the identity provider's signing keys (JWKS) are unavailable")]
    JwksUnavailable,
}

impl JwtError {
    /// A bounded label for metrics and logs (`reason="expired"`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer { .. } => "wrong_issuer",
            Self::WrongAudience { .. } => "wrong_audience",
            Self::UnknownKey { .. } => "unknown_key",
            Self::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Self::MissingClaim { .. } => "missing_claim",
            Self::InvalidClaim { .. } => "invalid_claim",
            Self::JwksUnavailable => "jwks_unavailable",
        }
    }

    /// A refused algorithm, shortened: the header is not authenticated yet.
    pub(super) fn unsupported_algorithm(alg: &str) -> Self {
        Self::UnsupportedAlgorithm { alg: echo(alg) }
    }

    /// An unknown key id, shortened: the header is not authenticated yet.
    pub(super) fn unknown_key(kid: Option<&str>) -> Self {
        Self::UnknownKey { kid: kid.map(echo) }
    }

    /// `exp`/`nbf`/`iat` as a time; values beyond chrono's range clamp to its ends.
    pub(super) fn timestamp(secs: f64) -> DateTime<Utc> {
        // `as` saturates on out-of-range floats, and from_timestamp refuses what chrono cannot hold.
        DateTime::from_timestamp(secs as i64, 0).unwrap_or(if secs < 0.0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }
}

/// Shortens a token-supplied value to [`MAX_ECHOED`] characters for a message.
pub(super) fn echo(value: &str) -> String {
    match value.char_indices().nth(MAX_ECHOED) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

fn unknown_key_message(kid: Option<&str>) -> String {
    match kid {
        Some(kid) => format!("token signing key {kid:?} is not in the identity provider's JWKS"),
        None => {
            "token names no signing key (`kid`) and the JWKS does not hold exactly one for its algorithm".to_owned()
        }
    }
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
