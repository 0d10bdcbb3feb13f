//! Views of join tokens. The name of a `token`-method token is the join secret: it is masked the
//! way `tctl tokens ls` masks it in its text table and never returned in clear.

use chrono::{DateTime, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::to_second;
use crate::teleport::models::ProvisionToken;

/// A secret token valid for longer than this is flagged `long_lived`.
const LONG_LIVED_AFTER: TimeDelta = TimeDelta::hours(24);
/// Label Teleport puts on resources from the config file.
const ORIGIN_LABEL: &str = "teleport.dev/origin";

/// The join tokens of the cluster (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenList {
    /// Number of tokens.
    pub count: usize,
    /// Secret tokens that never expire or stay valid for more than 24 hours.
    pub long_lived_count: usize,
    /// The tokens, soonest expiry first.
    pub tokens: Vec<TokenView>,
}

/// One join token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenView {
    /// Token name. For `join_method: token` the name is the secret, so it is masked: the first
    /// 75 % replaced by `*` (all of it under 16 characters), as `tctl tokens ls` shows it.
    pub name: String,
    /// The name is a secret and was masked.
    pub masked: bool,
    /// System roles the token grants (`Node`, `Proxy`, `Bot`, …).
    pub roles: Vec<String>,
    /// How agents prove their identity: `token` (shared secret), `iam`, `ec2`, `github`, ….
    pub join_method: String,
    /// Bot the token is for.
    pub bot_name: Option<String>,
    /// Expiry; absent when the token never expires.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires: Option<DateTime<Utc>>,
    /// Static token from the Auth Service's config file (never expires, cannot be deleted with tctl).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// A shared-secret token that never expires or is valid for more than 24 hours.
    pub long_lived: bool,
}

/// Masks a token secret like Teleport's `GetSafeName`: fully starred under 16 characters,
/// otherwise the first 75 % starred and the rest kept to help identify it.
pub fn mask_token_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 16 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() * 3 / 4;
    let mut out = "*".repeat(hidden);
    out.extend(&chars[hidden..]);
    out
}

impl TokenList {
    /// Builds the view; `now` decides `long_lived`.
    pub fn build(tokens: &[ProvisionToken], now: DateTime<Utc>) -> TokenList {
        let mut tokens: Vec<TokenView> = tokens.iter().map(|t| TokenView::build(t, now)).collect();
        // Never-expiring last, like tctl's sort by expiry.
        tokens.sort_by_key(|t| (t.expires.is_none(), t.expires));
        TokenList { count: tokens.len(), long_lived_count: tokens.iter().filter(|t| t.long_lived).count(), tokens }
    }
}

impl TokenView {
    /// Builds the view of one token; the secret never leaves this function.
    pub fn build(t: &ProvisionToken, now: DateTime<Utc>) -> TokenView {
        let secret = t.name_is_secret();
        // Static tokens carry the Unix epoch as expiry; tctl prints "never" for them.
        let epoch = t.metadata.expires.is_some_and(|e| e.timestamp() <= 0);
        let expires = if epoch { None } else { to_second(t.metadata.expires) };
        let from_config = t.metadata.labels.get(ORIGIN_LABEL).is_some_and(|o| o == "config-file");
        TokenView {
            name: if secret { mask_token_name(&t.metadata.name) } else { t.metadata.name.clone() },
            masked: secret,
            roles: t.spec.roles.clone(),
            join_method: if t.spec.join_method.is_empty() { "token".to_owned() } else { t.spec.join_method.clone() },
            bot_name: Some(t.spec.bot_name.clone()).filter(|b| !b.is_empty()),
            expires,
            is_static: epoch || from_config,
            long_lived: secret && expires.is_none_or(|e| e - now > LONG_LIVED_AFTER),
        }
    }
}
