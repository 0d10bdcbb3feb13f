//! The approvals section: where approval notices are sent (a webhook) and where an approver goes
//! to decide (a URL shown in each notice).

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Approvals of calls the policy says need a second person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalsConfig {
    /// Receives a JSON message when an approval is requested and when it is decided.
    pub webhook: Option<WebhookConfig>,
    /// Where an approver decides, shown in each notice; `{op_id}` is replaced by the operation id,
    /// e.g. `https://mtcp.example.com/approvals/{op_id}`. Unset: the notice names the tools instead.
    pub approve_url: Option<String>,
}

/// A webhook: Slack-compatible (a `text` field) plus structured fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `https://…` (or `http://` to a loopback address). Often carries a secret (Slack's do): it
    /// is never logged, stored or shown.
    #[serde(serialize_with = "ser_secret")]
    pub url: SecretString,
    /// Longest one delivery attempt may take.
    #[serde(with = "humantime_serde", default = "default_timeout")]
    pub timeout: Duration,
    /// Attempts before a message is given up (counted in `mtcp_webhook_deliveries_total`).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait after the first failed attempt; each further failure doubles it, up to 5 minutes.
    #[serde(with = "humantime_serde", default = "default_retry_backoff")]
    pub retry_backoff: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_attempts() -> u32 {
    8
}

fn default_retry_backoff() -> Duration {
    Duration::from_secs(1)
}

// Never serialized with its value: a dump of the configuration must not carry the secret.
fn ser_secret<S: serde::Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("(secret)")
}

impl ApprovalsConfig {
    /// Whether approval notices are sent (and so written to the outbox).
    pub fn notifies(&self) -> bool {
        self.webhook.is_some()
    }

    /// Where to decide on `op_id`, when configured.
    pub fn approve_url_for(&self, op_id: &str) -> Option<String> {
        self.approve_url.as_ref().map(|t| t.replace("{op_id}", op_id))
    }
}
