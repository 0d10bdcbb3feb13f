//! Retrying a statement while the database is briefly unreachable (a restart, a failover), for
//! writes whose loss would cost more than the wait: a finished job's outcome.

use std::future::Future;
use std::time::Duration;

use super::DbError;

/// First pause between attempts; doubled each time up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Run `attempt` until it succeeds, fails with a non-transient error, or `budget` has passed since
/// the first failure; the last error is returned then. `what` names the work in the log.
pub async fn while_transient<T, F, Fut>(what: &str, budget: Duration, mut attempt: F) -> Result<T, DbError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = FIRST_PAUSE;
    loop {
        match attempt().await {
            Err(e) if e.is_transient() && tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "{what}: database unreachable; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn transient() -> DbError {
        DbError::Sql(sqlx::Error::PoolTimedOut)
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let r = while_transient("test", Duration::from_secs(30), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 { Err(transient()) } else { Ok(7) }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_and_an_exhausted_budget_end_the_retries() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = while_transient("test", Duration::from_secs(30), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(DbError::Queue("bad payload".into()))
        })
        .await;
        assert!(matches!(r, Err(DbError::Queue(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a statement error is not retried");

        let start = tokio::time::Instant::now();
        let r: Result<(), _> = while_transient("test", Duration::from_secs(3), || async { Err(transient()) }).await;
        assert!(r.unwrap_err().is_transient());
        assert!(start.elapsed() < Duration::from_secs(3), "gave up within the budget: {:?}", start.elapsed());
    }
}
