//! apalis' backend over `operations`: the worker runtime (concurrency, graceful shutdown) is
//! apalis', the queue is ours. A claim runs only when apalis has a free slot, and only when there
//! may be work: after the lane's notification, after a claim that left other work behind, or on a
//! slow safety tick — never in a loop. A database error is retried here with a pause, so the worker never stops
//! on one (apalis ends a worker at its backend's first error).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::Identity;
use apalis::prelude::{Backend, Task, TaskBuilder, WorkerContext};
use apalis_core::backend::BackendConfig;
use apalis_core::backend::finalize::Ephemeral;
use apalis_core::task::task_id::RandomId;
use futures::Stream;
use futures::stream::BoxStream;
use mtcp_shared::db::queue::{self, Claimed, Lane, Serving};
use mtcp_shared::notifier::{Note, Subscription};

/// A claim even without a notification: covers a wake-up lost in a way the notifier could not see.
const SAFETY_TICK: Duration = Duration::from_secs(5);
/// Pause after a claim failed on a database error.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The calls of one lane, claimed for one worker incarnation.
pub struct OperationsBackend {
    claims: BoxStream<'static, Claimed>,
}

impl OperationsBackend {
    /// Claim `lane`'s calls of the clusters `serving` names for `worker_id`, woken by `wakeups`
    /// (the lane's topic on the queue channel).
    pub fn new(pool: sqlx::PgPool, lane: Lane, serving: Serving, worker_id: String, wakeups: Subscription) -> Self {
        let mut tick = tokio::time::interval(SAFETY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let state = Claimer { pool, lane, serving, worker_id, wakeups, tick, maybe_work: true };
        Self { claims: Box::pin(futures::stream::unfold(state, |mut s| async move { Some((s.next().await, s)) })) }
    }
}

struct Claimer {
    pool: sqlx::PgPool,
    lane: Lane,
    serving: Serving,
    worker_id: String,
    wakeups: Subscription,
    /// The safety tick: a claim every [`SAFETY_TICK`] whatever the notifications (the other
    /// lane's keep arriving and must not postpone it).
    tick: tokio::time::Interval,
    /// Whether a claim may find something: set by a notification, a claim that left other work,
    /// the tick; cleared by a claim that found nothing or took the last call.
    maybe_work: bool,
}

impl Claimer {
    async fn next(&mut self) -> Claimed {
        loop {
            if self.maybe_work {
                match queue::claim(&self.pool, self.lane, &self.worker_id, &self.serving).await {
                    Ok(Some(claimed)) => {
                        // The claim saw whether anything else was waiting: without it, the next
                        // claim waits for the lane's notification rather than finding nothing.
                        self.maybe_work = claimed.more;
                        return claimed;
                    }
                    Ok(None) => self.maybe_work = false,
                    Err(e) => {
                        tracing::warn!(lane = self.lane.as_str(), error = %e, "claiming a call failed; retrying");
                        metrics::counter!("mtcp_worker_claim_errors_total", "queue" => self.lane.as_str()).increment(1);
                        tokio::time::sleep(ERROR_PAUSE).await;
                        continue;
                    }
                }
            }
            tokio::select! {
                note = self.wakeups.recv() => match note {
                    Some(Note::Notified(lane)) if lane != self.lane.as_str() => {}
                    Some(_) => self.maybe_work = true,
                    // The notifier stopped (shutdown): only the tick is left.
                    None => {
                        self.tick.tick().await;
                        self.maybe_work = true;
                    }
                },
                _ = self.tick.tick() => self.maybe_work = true,
            }
        }
    }
}

impl Backend for OperationsBackend {
    type Task = Task<Claimed>;
    type Error = std::convert::Infallible;

    fn poll_ready(&mut self, _: &mut Context<'_>, _: &WorkerContext) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_next(&mut self, cx: &mut Context<'_>, _: &WorkerContext) -> Poll<Option<Result<Self::Task, Self::Error>>> {
        Pin::new(&mut self.claims).poll_next(cx).map(|c| c.map(|c| Ok(TaskBuilder::new(c).build())))
    }

    fn poll_close(&mut self, _: &mut Context<'_>, _: &WorkerContext) -> Poll<Result<(), Self::Error>> {
        // Nothing is held: a claimed call is already `running` under this worker and its handler
        // stores the outcome.
        Poll::Ready(Ok(()))
    }
}

impl BackendConfig for OperationsBackend {
    type Args = Claimed;
    type Id = RandomId;
    type Kind = Ephemeral;
    type Config = ();
    type Layer = Identity;

    fn config(&self) -> &Self::Config {
        &()
    }

    fn middleware(&mut self, _: &mut WorkerContext) -> Self::Layer {
        Identity::new()
    }
}
