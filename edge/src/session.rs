//! One run of the agent as the gateway knows it (one `register`, one `agent_id`): the leases it
//! runs, what it owes the gateway, and the loops that talk to it (work poll, heartbeat, reports and
//! logs, the fail-closed watchdog). A 401 or 409 ends the run.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mtcp_shared::edge::{EndReason, Registered};
use mtcp_shared::teleport::Runner;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::client::{CallError, Gateway};
use crate::outbox::Outbox;
use crate::state::StateFile;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// 409: another run of this agent registered (or the gateway forgot this one): register again.
    Superseded,
    /// 401: the credential was refused.
    Unauthorized,
    /// SIGTERM/SIGINT.
    Shutdown,
}

/// Why a supervisor is told to stop its process.
#[derive(Debug, Clone)]
pub struct Stop {
    /// Report `ended` with this reason; None: the gateway already knows the lease is over.
    pub report: Option<EndReason>,
    /// SIGKILL at once instead of SIGTERM and the grace period.
    pub hard: bool,
    /// For the agent's log.
    pub why: String,
}

/// Tells one supervisor to stop; the first request wins.
struct Stopper {
    tx: mpsc::Sender<Stop>,
    asked: bool,
}

#[derive(Default)]
struct Registry {
    /// Set when the run ends: leases that finish starting later are stopped at once.
    closed: Option<Stop>,
    starting: HashSet<Uuid>,
    /// Stops ordered while the lease was starting.
    pending: HashMap<Uuid, Stop>,
    running: HashMap<Uuid, Stopper>,
}

/// The configuration a run needs besides the gateway's answer to `register`.
#[derive(Clone)]
pub struct Setup {
    pub gateway: Gateway,
    pub runner: Runner,
    pub state: Arc<StateFile>,
    pub stop_grace: Duration,
}

pub struct Session {
    pub agent_id: Uuid,
    pub rhythm: Registered,
    pub setup: Setup,
    pub outbox: Outbox,
    /// Cancelled when the run is over (401, 409).
    pub over: CancellationToken,
    end: Mutex<Option<RunEnd>>,
    registry: Mutex<Registry>,
    /// Signalled each time a supervised lease is gone.
    gone: Notify,
    /// The last request the gateway answered with success.
    contact: Mutex<Instant>,
}

impl Session {
    pub fn new(rhythm: Registered, setup: Setup) -> Arc<Self> {
        Arc::new(Self {
            agent_id: rhythm.agent_id,
            rhythm,
            setup,
            outbox: Outbox::default(),
            over: CancellationToken::new(),
            end: Mutex::new(None),
            registry: Mutex::new(Registry::default()),
            gone: Notify::new(),
            contact: Mutex::new(Instant::now()),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How the run ended, once it has.
    pub fn end(&self) -> Option<RunEnd> {
        *self.end.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, end: RunEnd) {
        self.end.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(end);
        self.over.cancel();
    }

    /// A request to the gateway; success counts as contact, 401 and 409 end the run.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<R, CallError> {
        let answer = match timeout {
            Some(t) => self.setup.gateway.post_within(path, body, t).await,
            None => self.setup.gateway.post(path, body).await,
        };
        match &answer {
            Ok(_) => *self.contact.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now(),
            Err(CallError::Unauthorized) => self.finish(RunEnd::Unauthorized),
            Err(CallError::Superseded) => self.finish(RunEnd::Superseded),
            Err(_) => {}
        }
        answer
    }

    /// Time since the gateway last answered with success.
    pub fn since_contact(&self) -> Duration {
        self.contact.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    /// Claim a lease to start; false when it is already starting or running here (a repeated order).
    pub fn claim(&self, lease_id: Uuid) -> bool {
        let mut reg = self.registry();
        !reg.running.contains_key(&lease_id) && reg.starting.insert(lease_id)
    }

    /// A start that did not produce a process.
    pub fn unclaim(&self, lease_id: Uuid) {
        let mut reg = self.registry();
        reg.starting.remove(&lease_id);
        reg.pending.remove(&lease_id);
    }

    /// A started lease gets its supervisor's channel; a stop ordered meanwhile (or the end of the
    /// run) is passed on at once.
    pub fn supervise(&self, lease_id: Uuid) -> mpsc::Receiver<Stop> {
        let (tx, rx) = mpsc::channel(1);
        let mut stopper = Stopper { tx, asked: false };
        let mut reg = self.registry();
        reg.starting.remove(&lease_id);
        if let Some(stop) = reg.pending.remove(&lease_id).or_else(|| reg.closed.clone()) {
            stopper.asked = stopper.tx.try_send(stop).is_ok();
        }
        reg.running.insert(lease_id, stopper);
        rx
    }

    /// A supervised lease's process is gone.
    pub fn gone(&self, lease_id: Uuid) {
        self.registry().running.remove(&lease_id);
        self.gone.notify_waiters();
    }

    /// Tell one lease to stop. `Some(false)`: it runs but was already told; `None`: unknown here.
    pub fn stop(&self, lease_id: Uuid, stop: Stop) -> Option<bool> {
        let mut reg = self.registry();
        if let Some(s) = reg.running.get_mut(&lease_id) {
            if s.asked {
                return Some(false);
            }
            s.asked = s.tx.try_send(stop).is_ok();
            return Some(s.asked);
        }
        if reg.starting.contains(&lease_id) {
            reg.pending.entry(lease_id).or_insert(stop);
            return Some(true);
        }
        None
    }

    /// Tell every lease to stop (and those still starting, once they are up); returns how many
    /// running ones were told. With `close`, leases that come up later are stopped too.
    pub fn stop_all(&self, stop: &Stop, close: bool) -> usize {
        let mut reg = self.registry();
        if close {
            reg.closed = Some(stop.clone());
        }
        let starting: Vec<Uuid> = reg.starting.iter().copied().collect();
        for id in starting {
            reg.pending.entry(id).or_insert_with(|| stop.clone());
        }
        let mut told = 0;
        for s in reg.running.values_mut().filter(|s| !s.asked) {
            s.asked = s.tx.try_send(stop.clone()).is_ok();
            told += usize::from(s.asked);
        }
        told
    }

    /// Leases whose process runs here.
    pub fn running(&self) -> Vec<Uuid> {
        self.registry().running.keys().copied().collect()
    }

    /// Wait until no lease runs or starts here, for at most `limit`.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, async {
            loop {
                let gone = self.gone.notified();
                tokio::pin!(gone);
                gone.as_mut().enable();
                {
                    let reg = self.registry();
                    if reg.running.is_empty() && reg.starting.is_empty() {
                        return;
                    }
                }
                // A start in progress ends without notifying: look again now and then.
                let _ = tokio::time::timeout(Duration::from_millis(200), gone).await;
            }
        })
        .await
        .is_ok()
    }
}
