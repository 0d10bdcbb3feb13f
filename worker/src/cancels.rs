//! Cancellation of running jobs: one LISTEN on `mtcp_cancel` per worker process fans requests out
//! to the jobs this process runs, by op id. A job registers before it runs and checks the stored
//! flag once, so a request that arrived before the registration is not missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtcp_shared::db::{self, cancel::CANCEL_CHANNEL};
use mtcp_shared::domain::OpId;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
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

    /// Listen for cancellation requests until `stop` fires.
    pub(crate) async fn listen(self, pool: PgPool, stop: CancellationToken) {
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for cancellations; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if let Err(e) = listener.listen(CANCEL_CHANNEL).await {
                tracing::warn!(error = %e, "LISTEN for cancellations failed; retrying");
                continue;
            }
            self.recheck(&pool).await;
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => return,
                    n = listener.try_recv() => n,
                };
                match next {
                    Ok(Some(n)) => {
                        if let Ok(id) = n.payload().parse::<OpId>() {
                            self.cancel(id);
                        }
                    }
                    Ok(None) => self.recheck(&pool).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "the cancellation listener failed; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}
