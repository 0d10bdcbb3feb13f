//! Waiting for operations: the process' notifier's completion and progress notes are fanned out
//! to the requests waiting on those op ids, with a slow status poll as the safety net.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtcp_shared::db::{self, OPS_CHANNEL, operations::OperationRow, operations::PROGRESS_CHANNEL};
use mtcp_shared::domain::OpId;
use mtcp_shared::notifier::{Note, Notifier, Subscription};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::progress::ProgressRelay;

/// How often a waiting request re-reads the status even without a notification (covers a
/// notification lost while the listener reconnects).
const FALLBACK_POLL: Duration = Duration::from_secs(2);

/// The end of a wait.
pub enum WaitOutcome {
    Done(Box<OperationRow>),
    /// The budget ran out first; the operation goes on.
    StillRunning,
}

/// A completion signal: the flag remembers a wake-up that came while nobody was waiting yet
/// (`Notify::notify_waiters` alone would lose it).
#[derive(Default)]
struct Signal {
    fired: AtomicBool,
    notify: Notify,
}

impl Signal {
    fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
}

/// The signals of one operation: completion and progress.
#[derive(Default)]
struct Signals {
    done: Signal,
    progress: Signal,
}

type Registry = Arc<Mutex<HashMap<OpId, (Arc<Signals>, usize)>>>;

/// Fan-out of operation completions.
#[derive(Clone)]
pub struct Waiter {
    pool: PgPool,
    registry: Registry,
}

/// A registration; dropping it unregisters.
pub struct Registration {
    op_id: OpId,
    signal: Arc<Signals>,
    registry: Registry,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut map = self.registry.lock().expect("waiter registry poisoned");
        if let Some(entry) = map.get_mut(&self.op_id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                map.remove(&self.op_id);
            }
        }
    }
}

impl Waiter {
    /// Start fanning out the notifier's completions and progress.
    pub fn start(pool: PgPool, notifier: &Notifier, shutdown: CancellationToken) -> Self {
        let waiter = Self { pool, registry: Arc::default() };
        let (done, progress) = (notifier.subscribe(OPS_CHANNEL), notifier.subscribe(PROGRESS_CHANNEL));
        tokio::spawn(listen(done, progress, waiter.registry.clone(), shutdown));
        waiter
    }

    /// Register interest in an operation. Call before the operation can finish (before commit).
    pub fn register(&self, op_id: OpId) -> Registration {
        let mut map = self.registry.lock().expect("waiter registry poisoned");
        let entry = map.entry(op_id).or_default();
        entry.1 += 1;
        Registration { op_id, signal: entry.0.clone(), registry: self.registry.clone() }
    }

    /// Wait until the operation is terminal or `budget` passes, relaying its progress if asked.
    pub async fn wait(
        &self,
        reg: &Registration,
        budget: Duration,
        mut relay: Option<&mut ProgressRelay>,
    ) -> Result<WaitOutcome, db::DbError> {
        let deadline = tokio::time::Instant::now() + budget;
        let mut poll_due = false;
        loop {
            let notified = reg.signal.done.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let progressed = reg.signal.progress.notify.notified();
            tokio::pin!(progressed);
            progressed.as_mut().enable();
            if let Some(relay) = relay.as_deref_mut()
                && (reg.signal.progress.fired.swap(false, Ordering::AcqRel) || poll_due)
            {
                relay.forward(&self.pool, reg.op_id).await;
            }
            // Read the status only when told to (or as the slow safety net): registration happened
            // before the commit, so no completion can slip by unannounced.
            let fired = reg.signal.done.fired.swap(false, Ordering::AcqRel);
            if (fired || poll_due)
                && let Some(row) = self.terminal_unless_unreachable(reg.op_id).await?
            {
                // Steps recorded just before the end still reach the client, before the result.
                if let Some(relay) = relay.as_deref_mut() {
                    relay.forward(&self.pool, reg.op_id).await;
                }
                return Ok(WaitOutcome::Done(Box::new(row)));
            }
            poll_due = false;
            tokio::select! {
                _ = &mut notified => {}
                _ = &mut progressed => {}
                _ = tokio::time::sleep(FALLBACK_POLL) => poll_due = true,
                _ = tokio::time::sleep_until(deadline) => {
                    return Ok(match self.terminal(reg.op_id).await? {
                        Some(row) => WaitOutcome::Done(Box::new(row)),
                        None => WaitOutcome::StillRunning,
                    });
                }
            }
        }
    }

    /// [`Self::terminal`], reading an unreachable database as "not yet": the operation goes on
    /// without us, and the LISTEN connection's return wakes every waiter to read again.
    async fn terminal_unless_unreachable(&self, op_id: OpId) -> Result<Option<OperationRow>, db::DbError> {
        match self.terminal(op_id).await {
            Err(e) if e.is_transient() => {
                tracing::debug!(%op_id, error = %e, "database unreachable while waiting; still waiting");
                Ok(None)
            }
            other => other,
        }
    }

    async fn terminal(&self, op_id: OpId) -> Result<Option<OperationRow>, db::DbError> {
        db::operations::get_terminal(&self.pool, op_id).await
    }
}

/// What a notification announces.
#[derive(Clone, Copy)]
enum Event {
    Done,
    Progress,
}

fn wake(registry: &Registry, op_id: Option<OpId>, event: Event) {
    let map = registry.lock().expect("waiter registry poisoned");
    let fire = |s: &Signals| match event {
        Event::Done => s.done.fire(),
        Event::Progress => s.progress.fire(),
    };
    match op_id {
        Some(id) => {
            if let Some((signals, _)) = map.get(&id) {
                fire(signals);
            }
        }
        // Notifications may have been lost: let every waiter re-read its status and progress.
        None => map.values().for_each(|(signals, _)| {
            signals.done.fire();
            signals.progress.fire();
        }),
    }
}

/// Fan the notifier's completion and progress notes out to the waiting requests; after the notifier
/// listened again, every waiter re-reads.
async fn listen(mut done: Subscription, mut progress: Subscription, registry: Registry, shutdown: CancellationToken) {
    loop {
        let (note, event) = tokio::select! {
            _ = shutdown.cancelled() => return,
            n = done.recv() => (n, Event::Done),
            n = progress.recv() => (n, Event::Progress),
        };
        match note {
            Some(Note::Notified(payload)) => wake(&registry, payload.parse().ok(), event),
            Some(Note::Reconnected) => wake(&registry, None, event),
            None => return,
        }
    }
}
