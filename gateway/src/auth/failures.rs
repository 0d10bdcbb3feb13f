//! Refused authentications: counted always, logged and recorded in `operations` at a bounded rate
//! per process (an unauthenticated flood must become neither a log flood nor a database write
//! flood); what the bound left out is summed up in one line when the next window opens.

use std::sync::Mutex;
use std::time::Instant;

use mtcp_shared::db;
use sqlx::PgPool;

use super::AuthFailure;

/// Rows per second this process writes for refused authentications; the rest are only counted.
const RECORDS_PER_SECOND: u32 = 20;

/// A one-second window: when it opened and how many refusals it has seen.
struct Window {
    opened: Instant,
    seen: u32,
}

/// A one-second window counter.
pub struct FailureRecorder {
    window: Mutex<Window>,
}

impl Default for FailureRecorder {
    fn default() -> Self {
        Self { window: Mutex::new(Window { opened: Instant::now(), seen: 0 }) }
    }
}

impl FailureRecorder {
    /// Whether this refusal is within the window's budget, and how many refusals the window that
    /// just closed left unlogged (reported once, by the first refusal of the next window).
    fn admit(&self) -> (bool, u32) {
        let mut w = self.window.lock().expect("failure window poisoned");
        let mut skipped = 0;
        if w.opened.elapsed().as_secs() >= 1 {
            skipped = w.seen.saturating_sub(RECORDS_PER_SECOND);
            *w = Window { opened: Instant::now(), seen: 0 };
        }
        w.seen = w.seen.saturating_add(1);
        (w.seen <= RECORDS_PER_SECOND, skipped)
    }

    /// Count, and (within the rate) log and record a refusal.
    pub fn record(&self, pool: &PgPool, failure: &AuthFailure, remote: Option<String>) {
        metrics::counter!("mtcp_auth_failures_total", "reason" => failure.label()).increment(1);
        let (admitted, skipped) = self.admit();
        if skipped > 0 {
            tracing::warn!(skipped, "authentication refusals over the logging rate were counted but not logged");
        }
        if !admitted {
            metrics::counter!("mtcp_auth_failures_unrecorded_total").increment(1);
            return;
        }
        tracing::info!(reason = failure.label(), remote = remote.as_deref().unwrap_or("-"), "authentication refused");
        let (pool, claimed, label, message) =
            (pool.clone(), failure.claimed_actor().map(str::to_owned), failure.label(), failure.to_string());
        tokio::spawn(async move {
            if let Err(e) =
                db::operations::insert_auth_failure(&pool, claimed.as_deref(), remote.as_deref(), label, &message).await
            {
                tracing::warn!(error = %e, "recording a refused authentication");
            }
        });
    }
}
