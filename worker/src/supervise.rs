//! Supervision of the apalis queue consumers. An apalis worker stops for good at its first
//! database error (a fetch, heartbeat or acknowledgement failing while the database restarts), so
//! each queue's consumer is rebuilt until shutdown: once the jobs it started have ended, under a
//! new name, with whatever the failed one still held put back on the queue.

use std::future::Future;
use std::time::{Duration, Instant};

use apalis::prelude::WorkerError;
use mtcp_shared::db;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Wait before the first rebuild; doubled per failed attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A consumer that ran this long before failing starts again from [`FIRST_BACKOFF`].
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// One queue's consumer, as rebuilt by [`Consumer::run`].
pub(crate) struct Consumer {
    pub queue: &'static str,
    pub pool: sqlx::PgPool,
    /// The tasks of the jobs the consumer started (its handler spawns them here).
    pub jobs: TaskTracker,
    pub stop: CancellationToken,
}

impl Consumer {
    /// [`Consumer::run`] on a task of its own, in the caller's span (its log lines and its jobs'
    /// keep naming the worker incarnation). Each consumer needs its own task: polled together in
    /// one, a wake-up of either re-polled both, and apalis fetches on every poll — each empty
    /// fetch's reply woke the other into a fetch of its own, ~1,000 empty fetches a second under
    /// load (BENCHMARKS.md).
    pub(crate) fn spawn<N, S, F>(self, name: N, start: S) -> JoinHandle<Result<(), WorkerError>>
    where
        N: Fn(u32) -> String + Send + 'static,
        S: FnMut(String) -> F + Send + 'static,
        F: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        tokio::spawn(self.run(name, start).in_current_span())
    }

    /// Run `start(name(generation))` until `stop`, rebuilding it whenever it ends before that.
    async fn run<N, S, F>(self, name: N, mut start: S) -> Result<(), WorkerError>
    where
        N: Fn(u32) -> String,
        S: FnMut(String) -> F,
        F: Future<Output = Result<(), WorkerError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut generation = 0u32;
        loop {
            let worker = name(generation);
            let began = Instant::now();
            let result = start(worker.clone()).await;
            if self.stop.is_cancelled() {
                return result;
            }
            let error = match &result {
                Ok(()) => "it stopped by itself".to_owned(),
                Err(e) => e.to_string(),
            };
            tracing::warn!(queue = self.queue, worker = %worker, %error,
                "job queue consumer failed; letting its started jobs end, then joining the queue again");
            metrics::counter!("mtcp_worker_queue_restarts_total", "queue" => self.queue).increment(1);
            if began.elapsed() >= HEALTHY_RUN {
                backoff = FIRST_BACKOFF;
            }
            // Its jobs run on tasks of their own and go on without it: nothing it holds may go
            // back on the queue while one of them still runs (a mutation would look lost).
            self.jobs.close();
            let drained = tokio::select! {
                _ = self.jobs.wait() => true,
                _ = self.stop.cancelled() => false,
            };
            self.jobs.reopen();
            if !drained {
                return Ok(());
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = self.stop.cancelled() => return Ok(()),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                match db::jobs::release_held(&self.pool, &worker).await {
                    Ok(released) => {
                        tracing::info!(queue = self.queue, worker = %worker, released, "joining the queue again");
                        break;
                    }
                    Err(e) if e.is_transient() => {
                        tracing::debug!(queue = self.queue, error = %e, "database still unreachable");
                    }
                    Err(e) => {
                        tracing::warn!(queue = self.queue, error = %e, "cannot release the failed consumer's jobs")
                    }
                }
            }
            generation = generation.saturating_add(1);
        }
    }
}
