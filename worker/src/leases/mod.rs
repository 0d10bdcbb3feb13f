//! Proxy leases owned by this worker incarnation: the start job, one supervisor task per lease, and
//! the loops (heartbeat, stop notifications, reconcile) that keep processes and rows in agreement.

mod ending;
mod hints;
mod leftovers;
mod logs;
mod process;
mod ssh;
mod start;
mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mtcp_shared::config::LeaseConfig;
use mtcp_shared::db::{self, DbError};
use mtcp_shared::domain::LeaseKind;
use mtcp_shared::teleport::Runner;
use mtcp_shared::teleport::proxy::Started;
use sqlx::PgPool;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::Agent;
pub(crate) use ending::Ending;
use logs::Logs;
pub(crate) use start::handle;

/// One lease as its supervisor knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lease {
    pub id: Uuid,
    pub kind: LeaseKind,
}

/// What keeps a lease up: the `tsh` process, or for `proxy_ssh` the worker's own listener.
pub(crate) enum Running {
    Process(Box<Started>),
    /// Each accepted connection runs its own `tsh proxy ssh` with `runner` (the lease's cluster's).
    Listener {
        listener: tokio::net::TcpListener,
        args: Vec<String>,
        runner: Runner,
    },
}

#[derive(Default)]
struct Registry {
    /// Set at shutdown: leases handed over later are stopped at once.
    closed: bool,
    /// Supervised leases and the way to tell each to stop.
    running: HashMap<Uuid, Stopper>,
}

/// Tells one supervisor to stop; the first request wins, later ones are no-ops.
struct Stopper {
    tx: mpsc::Sender<Ending>,
    asked: bool,
}

impl Stopper {
    fn ask(&mut self, ending: Ending) -> bool {
        if self.asked {
            return false;
        }
        self.asked = self.tx.try_send(ending).is_ok();
        self.asked
    }
}

/// The leases this incarnation runs.
pub(crate) struct LeaseManager {
    pool: PgPool,
    /// The runner of each cluster this worker serves.
    runners: crate::ClusterRunners,
    agent: Agent,
    /// `operations.worker_id` of start jobs claimed here.
    worker_id: String,
    config: LeaseConfig,
    registry: Mutex<Registry>,
    /// Signalled each time a supervisor ends (shutdown waits for the registry to empty).
    ended: Notify,
    /// The tasks of start jobs (a rebuilt queue consumer waits for its predecessor's).
    starts: tokio_util::task::TaskTracker,
}

impl LeaseManager {
    pub(crate) fn new(pool: PgPool, runners: crate::ClusterRunners, agent: Agent, config: LeaseConfig) -> Arc<Self> {
        // Every kind has its series from the start (at zero), so a dashboard shows no gap.
        for kind in LeaseKind::ALL {
            metrics::gauge!("mtcp_leases_active", "kind" => kind.as_str()).increment(0.0);
        }
        Arc::new(Self {
            pool,
            runners,
            worker_id: agent.id.to_string(),
            agent,
            config,
            registry: Mutex::new(Registry::default()),
            ended: Notify::new(),
            starts: tokio_util::task::TaskTracker::new(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding this lock leaves a plain map behind: still consistent.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ids of the leases supervised here.
    pub(crate) fn ids(&self) -> Vec<Uuid> {
        self.registry().running.keys().copied().collect()
    }

    fn supervises(&self, id: Uuid) -> bool {
        self.registry().running.contains_key(&id)
    }

    /// Tell a supervised lease to stop. False if it is not supervised here or already stopping.
    pub(crate) fn stop(&self, id: Uuid, ending: Ending) -> bool {
        self.registry().running.get_mut(&id).is_some_and(|s| s.ask(ending))
    }

    /// Read one supervised lease's row and stop it if it is no longer ours to run.
    pub(crate) async fn check(&self, id: Uuid) -> Result<(), DbError> {
        let row = db::leases::get(&self.pool, id).await?;
        if let Some(ending) = Ending::from_row(row.as_ref(), self.agent.id) {
            self.stop(id, ending);
        }
        Ok(())
    }

    /// Hand an active lease to its supervisor task; the start job is done with it.
    pub(crate) async fn supervise(self: &Arc<Self>, lease: Lease, running: Running, early: Vec<(String, String)>) {
        let logs = Logs::start(self.pool.clone(), lease.id, i64::from(self.config.log_lines_kept));
        logs.early(early).await;
        let (tx, rx) = mpsc::channel(1);
        let mut stopper = Stopper { tx, asked: false };
        {
            let mut reg = self.registry();
            if reg.closed {
                // Handed over after shutdown began: stop it at once.
                stopper.ask(Ending::shutdown());
            }
            reg.running.insert(lease.id, stopper);
        }
        metrics::gauge!("mtcp_leases_active", "kind" => lease.kind.as_str()).increment(1.0);
        let guard = Supervised { mgr: self.clone(), lease };
        let mgr = self.clone();
        // The lease outlives the call that started it: its log lines carry the lease, not the op.
        let span = tracing::info_span!(
            target: mtcp_shared::telemetry::LOG_CONTEXT,
            parent: None,
            "lease",
            lease_id = %lease.id,
            kind = lease.kind.as_str(),
        );
        tokio::spawn(
            async move {
                let _guard = guard;
                match running {
                    Running::Process(started) => process::supervise(&mgr, lease, *started, logs, rx).await,
                    Running::Listener { listener, args, runner } => {
                        ssh::supervise(&mgr, lease, listener, ssh::Bridge { args, runner }, logs, rx).await
                    }
                }
            }
            .instrument(span),
        );
    }

    /// End a lease whose processes are gone, and count how it ended. Guarded: a row already ended
    /// elsewhere (e.g. `owner_lost` by the reaper) stays as it is.
    async fn end(&self, lease: Lease, ending: &Ending, exit_code: Option<i32>) {
        let ended = db::leases::end(&self.pool, lease.id, ending.how, ending.reason, exit_code).await;
        match ended {
            Ok(ended) => {
                tracing::info!(lease_id = %lease.id, status = ending.how.status().as_str(), reason = ending.reason,
                                        ?exit_code, ended, "lease ended")
            }
            // The reaper fails the leases of owners that stop heartbeating; nothing else to do here.
            Err(e) => tracing::error!(lease_id = %lease.id, error = %e, "could not record the end of a lease"),
        }
        event(lease.kind, ending.event);
    }

    /// Stop every supervised lease (`worker_shutdown`) and wait until each has ended.
    pub(crate) async fn shutdown(&self) {
        {
            let mut reg = self.registry();
            reg.closed = true;
            if !reg.running.is_empty() {
                tracing::info!(leases = reg.running.len(), "stopping the leases of this worker");
            }
            // A lease already stopping ends as it was asked to.
            for stopper in reg.running.values_mut() {
                stopper.ask(Ending::shutdown());
            }
        }
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.registry().running.is_empty() {
                return;
            }
            ended.await;
        }
    }

    /// Start the heartbeat, stop-notification and reconcile loops; they end with `stop`.
    pub(crate) fn spawn_loops(
        self: &Arc<Self>,
        stops: mtcp_shared::notifier::Subscription,
        stop: &CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(watch::heartbeat_loop(self.clone(), stop.clone())),
            tokio::spawn(watch::reconcile_loop(self.clone(), stop.clone())),
            tokio::spawn(watch::listen_loop(self.clone(), stops, stop.clone())),
        ]
    }

    /// Kill what this host's previous incarnations left running (see [`leftovers`]).
    pub(crate) async fn kill_leftovers(&self) -> Result<usize, DbError> {
        leftovers::kill(self).await
    }
}

/// Removes a supervised lease from the registry when its task ends, however it ends (a panic too).
struct Supervised {
    mgr: Arc<LeaseManager>,
    lease: Lease,
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.mgr.registry().running.remove(&self.lease.id);
        metrics::gauge!("mtcp_leases_active", "kind" => self.lease.kind.as_str()).decrement(1.0);
        self.mgr.ended.notify_waiters();
    }
}

/// Count a lease event. Both labels are bounded: six kinds, the events of [`Ending`] and `started`.
fn event(kind: LeaseKind, event: &'static str) {
    metrics::counter!("mtcp_lease_events_total", "kind" => kind.as_str(), "event" => event).increment(1);
}
