//! The console section: the operations console's session (lifetime, cookie signing key) and its
//! OIDC sign-in (authorization code with PKCE).

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The operations console at `/console`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve `/console`. Off: the paths answer 404.
    pub enabled: bool,
    /// How long a sign-in lasts (the session cookie's expiry and the session row's).
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// Key signing the session cookie: at least 32 bytes, base64. Every gateway replica needs the
    /// same one; unset, each process makes its own at start (sessions then end at restart and do
    /// not carry across replicas). Never logged or shown.
    #[serde(serialize_with = "ser_secret_opt")]
    pub cookie_key: Option<SecretString>,
    /// Sign in with the identity provider of `auth.oidc` (authorization code with PKCE); the
    /// access token it returns is checked exactly like a bearer JWT. Unset: API-key sign-in only.
    pub oidc: Option<ConsoleOidcConfig>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { enabled: true, session_ttl: Duration::from_secs(8 * 3600), cookie_key: None, oidc: None }
    }
}

impl ConsoleConfig {
    /// The decoded `cookie_key` (None when unset). Whitespace is ignored: `openssl rand -base64`
    /// wraps its output at 64 characters.
    pub fn cookie_key_bytes(&self) -> Option<Result<Vec<u8>, base64::DecodeError>> {
        use base64::Engine as _;
        use secrecy::ExposeSecret as _;
        let key = self.cookie_key.as_ref()?;
        let text: String = key.expose_secret().chars().filter(|c| !c.is_whitespace()).collect();
        Some(base64::engine::general_purpose::STANDARD.decode(text))
    }
}

/// The console's OIDC client registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleOidcConfig {
    /// The client id registered with the identity provider.
    pub client_id: String,
    /// The client secret, for a confidential client; PKCE is used either way.
    #[serde(default, serialize_with = "ser_secret_opt")]
    pub client_secret: Option<SecretString>,
    /// The provider's authorization endpoint.
    pub authorization_endpoint: String,
    /// The provider's token endpoint.
    pub token_endpoint: String,
    /// Where the provider sends the browser back: this gateway's `/console/oidc/callback`, as the
    /// browser reaches it, e.g. `https://mtcp.example.com/console/oidc/callback`.
    pub redirect_url: String,
    /// Scopes asked for; they must make the access token carry `auth.oidc.audience` (and
    /// `auth.oidc.required_scope`, when set).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into()]
}

// Never serialized with its value: a dump of the configuration must not carry the secret.
fn ser_secret_opt<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("(secret)"),
        None => s.serialize_none(),
    }
}
