//! The token request of the authorization code flow (RFC 6749 §4.1.3 with RFC 7636's
//! `code_verifier`): the code for an access token. The code, the verifier, the client secret and
//! the token never appear in an error or a log line.

use std::sync::OnceLock;
use std::time::Duration;

use mtcp_shared::config::ConsoleOidcConfig;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Bound on the whole token request: a stalled identity provider must not hold a sign-in open.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token response read: real ones are a few KiB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Longest provider-supplied text (an OAuth `error` or `error_description`) repeated to the user.
const MAX_ECHOED_CHARS: usize = 200;

/// Why the code could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Connection, TLS, timeout, or an unreadable body.
    #[error("the identity provider's token endpoint could not be reached ({0})")]
    Unreachable(String),
    /// The provider answered with an OAuth error: the code, the verifier or the client was refused.
    #[error("the identity provider refused the sign-in code: {error}{}", describe(.description))]
    Refused { error: String, description: Option<String> },
    /// A non-success status without an OAuth error body.
    #[error("the identity provider's token endpoint answered HTTP {0}")]
    Status(u16),
    /// A success status whose body is not a usable token response.
    #[error("the identity provider's token response is not usable: {0}")]
    BadResponse(&'static str),
}

fn describe(description: &Option<String>) -> String {
    description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// What the console keeps of a token response.
pub struct Tokens {
    pub access_token: SecretString,
    /// `expires_in`, when the provider sent it.
    pub expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Success {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OauthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Exchange `code` (with the PKCE `verifier`) at `cfg.token_endpoint`.
pub async fn exchange(cfg: &ConsoleOidcConfig, code: &str, verifier: &str) -> Result<Tokens, TokenError> {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &cfg.redirect_url)
        .append_pair("client_id", &cfg.client_id)
        .append_pair("code_verifier", verifier)
        .finish();
    let mut request = client()?
        .post(&cfg.token_endpoint)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(form);
    if let Some(secret) = &cfg.client_secret {
        // RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined for Basic.
        request = request.basic_auth(form_encode(&cfg.client_id), Some(form_encode(secret.expose_secret())));
    }
    // `without_url`: the endpoint is configuration, but keep messages to the cause.
    let mut resp = request.send().await.map_err(|e| TokenError::Unreachable(e.without_url().to_string()))?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| TokenError::Unreachable(e.without_url().to_string()))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(TokenError::BadResponse("the response is larger than 64 KiB"));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(match serde_json::from_slice::<OauthError>(&body) {
            Ok(e) => TokenError::Refused {
                error: echo(&e.error),
                description: e.error_description.as_deref().map(echo).filter(|d| !d.is_empty()),
            },
            Err(_) => TokenError::Status(status.as_u16()),
        });
    }
    let ok: Success = serde_json::from_slice(&body)
        .map_err(|_| TokenError::BadResponse("it is not a JSON object with an `access_token` string"))?;
    if ok.access_token.is_empty() {
        return Err(TokenError::BadResponse("its `access_token` is empty"));
    }
    if ok.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err(TokenError::BadResponse("its `token_type` is not `Bearer`"));
    }
    // Some providers send `expires_in` as a string; anything else unreadable is ignored (the
    // token's own `exp` bounds the session either way).
    let expires_in = match ok.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(Tokens { access_token: SecretString::from(ok.access_token), expires_in })
}

/// One client for every sign-in: no redirects (a token endpoint that redirects is misconfigured,
/// and following it would resend the code elsewhere).
fn client() -> Result<&'static reqwest::Client, TokenError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mtcp-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TokenError::Unreachable(format!("building the HTTP client: {e}")))?;
    Ok(CLIENT.get_or_init(|| client))
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Provider-chosen text as one short printable line (pages show it escaped).
pub(super) fn echo(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(MAX_ECHOED_CHARS).collect();
    if s.chars().count() > MAX_ECHOED_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_text_is_one_bounded_line() {
        assert_eq!(echo("invalid_grant"), "invalid_grant");
        assert_eq!(echo("a\nb\u{1b}[31m"), "ab[31m");
        assert_eq!(echo(&"x".repeat(500)).chars().count(), MAX_ECHOED_CHARS + 1);
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
