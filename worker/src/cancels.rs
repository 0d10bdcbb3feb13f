//! Cancellation of running jobs: the process' notifier's `mtcp_cancel` topic fans requests out
//! to the jobs this process runs, by op id. A job registers before it runs and checks the stored
//! flag once, so a request that arrived before the registration is not missed.

use mtcp_shared::db;
use mtcp_shared::domain::OpId;
use mtcp_shared::notifier::{Note, Subscription};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

type Registry = Arc<Mutex<HashMap<OpId, CancellationToken>>>;

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
        self.registry.lock().expect("cancel registry poisoned").remove(&self.op_id);
    }
}

impl Cancels {
    /// Register a job about to run; its token fires if the caller cancels.
    pub(crate) async fn register(&self, pool: &PgPool, op_id: OpId) -> Registered {
        let token = CancellationToken::new();
        self.registry.lock().expect("cancel registry poisoned").insert(op_id, token.clone());
        // A request stored before we listened for this op.
        if db::cancel::is_requested(pool, op_id).await.unwrap_or(false) {
            token.cancel();
        }
        Registered { op_id, token, registry: self.registry.clone() }
    }

    fn cancel(&self, op_id: OpId) {
        if let Some(token) = self.registry.lock().expect("cancel registry poisoned").get(&op_id) {
            tracing::info!(op_id = %op_id, "cancellation requested; stopping the job");
            token.cancel();
        }
    }

    /// After a lost connection: notifications may have been missed, so look at every job.
    async fn recheck(&self, pool: &PgPool) {
        let ids: Vec<OpId> = self.registry.lock().expect("cancel registry poisoned").keys().copied().collect();
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
