//! Cancellation of running jobs: the process' notifier's `mtcp_cancel` topic fans requests out
//! to the jobs this process runs, by op id. A request can only be made once its call is `running`
//! (a queued call is cancelled in place), so it comes after the claim: either the job has
//! registered, or the request is remembered briefly until it does. No statement per job.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtcp_shared::db;
use mtcp_shared::domain::OpId;
use mtcp_shared::notifier::{Note, Subscription};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How long a request for a job not registered here is remembered: far longer than a claim takes
/// to reach its handler.
const EARLY_FOR: Duration = Duration::from_secs(60);
/// At most this many such requests are remembered (every worker hears every request).
const EARLY_MAX: usize = 4096;
/// After the notifier listened again, jobs registering within this long ask the database: one
/// claimed while nobody listened may have had its request announced to no one. (The recheck on
/// listening again covers the jobs registered by then.)
const UNHEARD_FOR: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    jobs: HashMap<OpId, CancellationToken>,
    /// Requests for jobs not registered here (yet): another worker's, or ours between the claim
    /// and the registration.
    early: VecDeque<(Instant, OpId)>,
    /// When the notifier last listened again: requests may have been missed meanwhile, so a job
    /// registering soon after asks the database.
    reconnected: Option<Instant>,
}

type Registry = Arc<Mutex<State>>;

/// The jobs of this process that may be cancelled.
#[derive(Clone, Default)]
pub(crate) struct Cancels {
    registry: Registry,
}

/// A registered job; dropping it unregisters.
pub(crate) struct Registered {
    op_id: OpId,
    pub(crate) token: CancellationToken,
    registry: Registry,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().expect("cancel registry poisoned").jobs.remove(&self.op_id);
    }
}

impl Cancels {
    /// Register a job about to run; its token fires if the caller cancels.
    pub(crate) async fn register(&self, pool: &PgPool, op_id: OpId) -> Registered {
        let token = CancellationToken::new();
        let ask_database = {
            let mut state = self.registry.lock().expect("cancel registry poisoned");
            state.jobs.insert(op_id, token.clone());
            if state.early.iter().any(|(_, id)| *id == op_id) {
                token.cancel();
            }
            state.reconnected.is_some_and(|at| at.elapsed() < UNHEARD_FOR)
        };
        if ask_database && db::cancel::is_requested(pool, op_id).await.unwrap_or(false) {
            token.cancel();
        }
        Registered { op_id, token, registry: self.registry.clone() }
    }

    fn cancel(&self, op_id: OpId) {
        let mut state = self.registry.lock().expect("cancel registry poisoned");
        if let Some(token) = state.jobs.get(&op_id) {
            tracing::info!(op_id = %op_id, "cancellation requested; stopping the job");
            token.cancel();
            return;
        }
        let now = Instant::now();
        while state.early.front().is_some_and(|(at, _)| now.duration_since(*at) > EARLY_FOR)
            || state.early.len() >= EARLY_MAX
        {
            state.early.pop_front();
        }
        state.early.push_back((now, op_id));
    }

    /// After a lost connection: notifications may have been missed, so look at every job.
    async fn recheck(&self, pool: &PgPool) {
        let ids: Vec<OpId> = {
            let mut state = self.registry.lock().expect("cancel registry poisoned");
            state.reconnected = Some(std::time::Instant::now());
            state.jobs.keys().copied().collect()
        };
        for id in ids {
            if db::cancel::is_requested(pool, id).await.unwrap_or(false) {
                self.cancel(id);
            }
        }
    }

    /// Act on cancellation requests until `stop` fires; after the notifier listened again, look at
    /// every job (requests may have been missed).
    pub(crate) async fn listen(self, pool: PgPool, mut notes: Subscription, stop: CancellationToken) {
        loop {
            let note = tokio::select! {
                _ = stop.cancelled() => return,
                n = notes.recv() => n,
            };
            match note {
                Some(Note::Notified(payload)) => {
                    if let Ok(id) = payload.parse::<OpId>() {
                        self.cancel(id);
                    }
                }
                Some(Note::Reconnected) => self.recheck(&pool).await,
                None => return,
            }
        }
    }
}
