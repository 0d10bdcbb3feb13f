//! Waiting for operations: the process' notifier's completion and progress notes are fanned out
//! to the requests waiting on those op ids, with a slow status poll as the safety net. A coalesced
//! call waits on its own op id and on the run it joined; completions heard in the last few seconds
//! are remembered, so a run that ended before its follower could register still wakes it.

use std::collections::{HashMap, HashSet, VecDeque};
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
/// How long a completion is remembered: far longer than an enqueue takes to return.
const RECENT_FOR: Duration = Duration::from_secs(10);
/// At most this many remembered completions.
const RECENT_MAX: usize = 16_384;

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

/// Who waits on which op id, and what ended recently.
#[derive(Default)]
struct State {
    waiting: HashMap<OpId, Vec<Arc<Signals>>>,
    recent: VecDeque<(std::time::Instant, OpId)>,
    recent_ids: HashSet<OpId>,
}

impl State {
    fn remember(&mut self, op_id: OpId) {
        let now = std::time::Instant::now();
        while let Some((at, id)) = self.recent.front().copied() {
            if now.duration_since(at) <= RECENT_FOR && self.recent.len() < RECENT_MAX {
                break;
            }
            self.recent.pop_front();
            self.recent_ids.remove(&id);
        }
        if self.recent_ids.insert(op_id) {
            self.recent.push_back((now, op_id));
        }
    }
}

type Registry = Arc<Mutex<State>>;

/// Fan-out of operation completions.
#[derive(Clone)]
pub struct Waiter {
    pool: PgPool,
    registry: Registry,
}

/// A registration; dropping it unregisters.
pub struct Registration {
    op_id: OpId,
    /// The op ids it is woken by: its own, and the run it joined (a coalesced call, whose status
    /// is read through the settle of its run).
    ids: Vec<OpId>,
    signal: Arc<Signals>,
    registry: Registry,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut state = self.registry.lock().expect("waiter registry poisoned");
        for id in &self.ids {
            if let Some(list) = state.waiting.get_mut(id) {
                list.retain(|s| !Arc::ptr_eq(s, &self.signal));
                if list.is_empty() {
                    state.waiting.remove(id);
                }
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
        let signal = Arc::new(Signals::default());
        let mut state = self.registry.lock().expect("waiter registry poisoned");
        state.waiting.entry(op_id).or_default().push(signal.clone());
        Registration { op_id, ids: vec![op_id], signal, registry: self.registry.clone() }
    }

    /// The registered call was coalesced into `leader`: wake it when that run ends too (or now,
    /// if it already did).
    pub fn follow(&self, reg: &mut Registration, leader: OpId) {
        let mut state = self.registry.lock().expect("waiter registry poisoned");
        state.waiting.entry(leader).or_default().push(reg.signal.clone());
        reg.ids.push(leader);
        if state.recent_ids.contains(&leader) {
            reg.signal.done.fire();
        }
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
                && let Some(row) = self.terminal_unless_unreachable(reg).await?
            {
                // Steps recorded just before the end still reach the client, before the result
                // (a run that recorded none has nothing to read).
                if let Some(relay) = relay.as_deref_mut()
                    && row.progress.is_some()
                {
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
                    return Ok(match self.terminal(reg).await? {
                        Some(row) => WaitOutcome::Done(Box::new(row)),
                        None => WaitOutcome::StillRunning,
                    });
                }
            }
        }
    }

    /// [`Self::terminal`], reading an unreachable database as "not yet": the operation goes on
    /// without us, and the LISTEN connection's return wakes every waiter to read again.
    async fn terminal_unless_unreachable(&self, reg: &Registration) -> Result<Option<OperationRow>, db::DbError> {
        match self.terminal(reg).await {
            Err(e) if e.is_transient() => {
                tracing::debug!(op_id = %reg.op_id, error = %e, "database unreachable while waiting; still waiting");
                Ok(None)
            }
            other => other,
        }
    }

    async fn terminal(&self, reg: &Registration) -> Result<Option<OperationRow>, db::DbError> {
        if reg.ids.len() > 1 {
            db::operations::settle_follower(&self.pool, reg.op_id).await
        } else {
            db::operations::get_terminal(&self.pool, reg.op_id).await
        }
    }
}

/// What a notification announces.
#[derive(Clone, Copy)]
enum Event {
    Done,
    Progress,
}

fn wake(registry: &Registry, op_id: Option<OpId>, event: Event) {
    let mut state = registry.lock().expect("waiter registry poisoned");
    let fire = |s: &Signals| match event {
        Event::Done => s.done.fire(),
        Event::Progress => s.progress.fire(),
    };
    match op_id {
        Some(id) => {
            if let Some(list) = state.waiting.get(&id) {
                list.iter().for_each(|s| fire(s));
            }
            if matches!(event, Event::Done) {
                state.remember(id);
            }
        }
        // Notifications may have been lost: let every waiter re-read its status and progress.
        None => state.waiting.values().flatten().for_each(|signals| {
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
