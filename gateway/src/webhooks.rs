//! The approval webhook's deliverer: every gateway runs one (when `approvals.webhook` is set) that
//! claims due messages from the outbox one at a time, POSTs each as JSON, and records the outcome:
//! delivered on a 2xx, else retried with exponential backoff until `max_attempts`, then failed.
//! It wakes on the outbox's NOTIFY, when the next retry is due, and on a slow poll as the safety
//! net. The URL is a secret (Slack's carry their token): no log line, error or row ever holds it.

use std::time::Duration;

use mtcp_shared::config::WebhookConfig;
use mtcp_shared::db::{self, webhooks::Delivery};
use mtcp_shared::notifier::{Notifier, Subscription};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Longest wait between looks at the outbox without a notification (covers one lost while the
/// LISTEN connection was being made again).
const POLL: Duration = Duration::from_secs(5);
/// How long a claimed message stays hidden from other deliverers beyond the attempt's own
/// timeout: a deliverer that stopped mid-attempt leaves it due again after this.
const VISIBILITY_MARGIN: Duration = Duration::from_secs(30);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Pause after a database error before looking again.
const DB_ERROR_PAUSE: Duration = Duration::from_secs(2);
/// The event names counted by name in `mtcp_webhook_deliveries_total`; others count as `other`.
const KNOWN_EVENTS: [&str; 4] = ["approval.requested", "approval.approved", "approval.denied", "approval.expired"];

/// Start delivering the outbox until `shutdown` fires. `notifier` must listen on
/// [`db::webhooks::WEBHOOKS_CHANNEL`].
pub(crate) fn start(
    pool: PgPool,
    config: &WebhookConfig,
    notifier: &Notifier,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let deliverer = Deliverer::new(pool, config)?;
    let notes = notifier.subscribe(db::webhooks::WEBHOOKS_CHANNEL);
    tokio::spawn(deliverer.run(notes, shutdown));
    Ok(())
}

struct Deliverer {
    pool: PgPool,
    client: reqwest::Client,
    url: SecretString,
    max_attempts: u32,
    retry_backoff: Duration,
    visibility: Duration,
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Not delivered, with why (short, and never the URL).
    Failed(String),
}

impl Deliverer {
    fn new(pool: PgPool, config: &WebhookConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("mtcp-gateway/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the message somewhere the operator did not name: not followed,
            // a 3xx is a failed attempt like any other non-2xx.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // reqwest's builder errors carry no URL (none is given yet).
            .map_err(|e| anyhow::anyhow!("building the approvals webhook's HTTP client: {e}"))?;
        Ok(Self {
            pool,
            client,
            url: config.url.clone(),
            max_attempts: config.max_attempts,
            retry_backoff: config.retry_backoff,
            visibility: config.timeout + VISIBILITY_MARGIN,
        })
    }

    async fn run(self, mut notes: Subscription, shutdown: CancellationToken) {
        tracing::info!(max_attempts = self.max_attempts, "approval webhook deliverer started");
        loop {
            let wait = match self.deliver_due(&shutdown).await {
                Ok(()) => match db::webhooks::next_due_in(&self.pool).await {
                    Ok(next) => next.map_or(POLL, |d| d.min(POLL)),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the webhook outbox failed; looking again shortly");
                        DB_ERROR_PAUSE
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "delivering the webhook outbox failed; looking again shortly");
                    DB_ERROR_PAUSE
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                // Any note: a new message, or a reconnection after which anything may be due.
                note = notes.recv() => if note.is_none() { return },
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Deliver every message due now, one at a time (so a receiver sees them in order).
    async fn deliver_due(&self, shutdown: &CancellationToken) -> Result<(), db::DbError> {
        while !shutdown.is_cancelled() {
            let Some(message) = db::webhooks::claim(&self.pool, self.visibility).await? else { return Ok(()) };
            // At shutdown an attempt in progress is dropped: the message is due again once its
            // visibility has passed, for this gateway's successor or another replica.
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                attempt = self.send(&message) => attempt,
            };
            self.record(&message, attempt).await?;
        }
        Ok(())
    }

    async fn send(&self, message: &Delivery) -> Attempt {
        let sent = self.client.post(self.url.expose_secret()).json(&message.payload).send().await;
        match sent {
            Ok(response) if response.status().is_success() => Attempt::Delivered,
            Ok(response) => Attempt::Failed(format!("the receiver answered HTTP {}", response.status().as_u16())),
            Err(e) => Attempt::Failed(describe(&e)),
        }
    }

    async fn record(&self, message: &Delivery, attempt: Attempt) -> Result<(), db::DbError> {
        let (id, attempts) = (message.id, message.attempts);
        let outcome = match attempt {
            Attempt::Delivered => {
                db::webhooks::mark_delivered(&self.pool, id).await?;
                tracing::debug!(id, event = %message.event, attempts, "webhook delivered");
                "delivered"
            }
            Attempt::Failed(error) if u32::try_from(attempts).unwrap_or(u32::MAX) >= self.max_attempts => {
                db::webhooks::mark_failed(&self.pool, id, attempts, &error).await?;
                tracing::error!(id, event = %message.event, attempts, %error, "webhook given up after its last attempt");
                "failed"
            }
            Attempt::Failed(error) => {
                let after = backoff(self.retry_backoff, attempts);
                db::webhooks::reschedule(&self.pool, id, attempts, after, &error).await?;
                tracing::warn!(id, event = %message.event, attempts, retry_in = ?after, %error, "webhook attempt failed; will retry");
                "retried"
            }
        };
        metrics::counter!("mtcp_webhook_deliveries_total", "event" => event_label(&message.event), "outcome" => outcome)
            .increment(1);
        Ok(())
    }
}

/// The wait after failed attempt number `attempt` (1-based): `base`, doubled for each attempt
/// after the first, at most [`MAX_BACKOFF`].
fn backoff(base: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(20);
    base.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// The metric label of an event: its name when it is one we send, else `other` (bounded series).
fn event_label(event: &str) -> &'static str {
    KNOWN_EVENTS.iter().find(|known| **known == event).copied().unwrap_or("other")
}

/// Why a request got no answer, in words that never include the URL (reqwest's own messages do).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer within approvals.webhook.timeout"
    } else if e.is_connect() {
        "could not connect to the receiver"
    } else if e.is_redirect() {
        "the receiver redirected"
    } else if e.is_body() || e.is_decode() {
        "the exchange with the receiver broke off"
    } else {
        "the request failed"
    };
    // The innermost cause (an I/O error such as "connection refused") names no URL.
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    match cause.downcast_ref::<std::io::Error>() {
        Some(io) => format!("{what}: {}", io.kind()),
        None => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_five_minutes() {
        let s = Duration::from_secs;
        let waits: Vec<_> = (1..=10).map(|a| backoff(s(1), a)).collect();
        assert_eq!(waits, [s(1), s(2), s(4), s(8), s(16), s(32), s(64), s(128), s(256), s(300)]);
        assert_eq!(backoff(s(60), 50), s(300));
        assert_eq!(backoff(Duration::from_millis(200), 3), Duration::from_millis(800));
    }

    #[test]
    fn only_known_events_are_labelled_by_name() {
        assert_eq!(event_label("approval.denied"), "approval.denied");
        assert_eq!(event_label("approval.whatever"), "other");
        assert_eq!(event_label(""), "other");
    }
}
