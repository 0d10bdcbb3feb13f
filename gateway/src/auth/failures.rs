//! Refused authentications: counted always, recorded in `operations` at a bounded rate per
//! process (an unauthenticated flood must not become a database write flood).

use std::sync::Mutex;
use std::time::Instant;

use mtcp_shared::db;
use sqlx::PgPool;

use super::AuthFailure;

/// Rows per second this process writes for refused authentications; the rest are only counted.
const RECORDS_PER_SECOND: u32 = 20;

/// A one-second window counter.
pub struct FailureRecorder {
    window: Mutex<(Instant, u32)>,
}

impl Default for FailureRecorder {
    fn default() -> Self {
        Self { window: Mutex::new((Instant::now(), 0)) }
    }
}

impl FailureRecorder {
    fn admit(&self) -> bool {
        let mut w = self.window.lock().expect("failure window poisoned");
        if w.0.elapsed().as_secs() >= 1 {
            *w = (Instant::now(), 0);
        }
        w.1 += 1;
        w.1 <= RECORDS_PER_SECOND
    }

    /// Count, log and (within the rate) record a refusal.
    pub fn record(&self, pool: &PgPool, failure: &AuthFailure, remote: Option<String>) {
        metrics::counter!("mtcp_auth_failures_total", "reason" => failure.label()).increment(1);
        tracing::info!(reason = failure.label(), remote = remote.as_deref().unwrap_or("-"), "authentication refused");
        if !self.admit() {
            metrics::counter!("mtcp_auth_failures_unrecorded_total").increment(1);
            return;
        }
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
