//! The JOSE header of a compact JWT, read before any key is chosen (and to tell a JWT from an API key).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Longest token accepted: real access tokens are a few KiB; anything larger is refused before any
/// decoding or signature work.
pub(super) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The header fields the gateway looks at before verifying the signature. Unauthenticated: only
/// used to choose the algorithm and key (the algorithm is then checked against the allow-list).
#[derive(Debug, Deserialize)]
pub(super) struct RawHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    /// RFC 7515 §4.1.11: extensions the recipient must understand. The gateway implements none.
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// Cheap syntactic check (three base64url segments, header decodes as JSON with `alg`), so the
/// caller can tell an API key from a JWT. Verifies nothing.
pub fn looks_like_jwt(token: &str) -> bool {
    parse(token).is_some()
}

/// The header of a compact JWS, or `None` when `token` is not one. The signature segment may be
/// empty, so that an unsigned (`alg: none`) token is reported as such rather than as garbage.
pub(super) fn parse(token: &str) -> Option<RawHeader> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    if header.is_empty() || payload.is_empty() || ![header, payload, signature].iter().all(|s| is_base64url(s)) {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice(&json).ok()
}

fn is_base64url(segment: &str) -> bool {
    segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_jwt_is_recognised_and_an_api_key_is_not() {
        let jwt = format!("{}.{}.c2ln", segment(r#"{"alg":"RS256","kid":"k1"}"#), segment(r#"{"sub":"a"}"#));
        assert!(looks_like_jwt(&jwt));
        let header = parse(&jwt).unwrap();
        assert_eq!((header.alg.as_str(), header.kid.as_deref()), ("RS256", Some("k1")));

        assert!(!looks_like_jwt("mtcp_3f9a0c1b2d4e5f60718293a4b5c6d7e8"));
        assert!(!looks_like_jwt(""));
        assert!(!looks_like_jwt("a.b.c"), "segments that are not a JSON header");
        assert!(!looks_like_jwt(&format!("{}.{}.c2ln", segment(r#"{"typ":"JWT"}"#), segment("{}"))), "no alg");
        assert!(!looks_like_jwt(&format!("{}.{}.c2ln.x", segment(r#"{"alg":"RS256"}"#), segment("{}"))));
        assert!(!looks_like_jwt(&format!("{}.{}.c2ln=", segment(r#"{"alg":"RS256"}"#), segment("{}"))), "padding");
        assert!(!looks_like_jwt(&format!("{}..c2ln", segment(r#"{"alg":"RS256"}"#))), "empty payload");
    }

    #[test]
    fn an_unsigned_token_still_parses_so_it_can_be_refused_by_name() {
        let unsigned = format!("{}.{}.", segment(r#"{"alg":"none"}"#), segment(r#"{"sub":"a"}"#));
        assert_eq!(parse(&unsigned).unwrap().alg, "none");
    }

    #[test]
    fn an_oversized_token_is_not_read() {
        let big = format!("{}.{}.c2ln", segment(r#"{"alg":"RS256"}"#), "A".repeat(MAX_TOKEN_LEN));
        assert!(!looks_like_jwt(&big));
    }
}
