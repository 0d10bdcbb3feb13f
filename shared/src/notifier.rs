//! One LISTEN connection per process, fanned out by topic (River's notifier is the model): the
//! queue's wake-ups, finished operations, progress, cancellations and lease announcements all
//! arrive on it. When the connection is lost and made again every subscriber gets
//! [`Note::Reconnected`]: announcements made meanwhile are gone, so it must read the state again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A NOTIFY on the topic, with its payload.
    Notified(String),
    /// The connection was made again (or this subscriber fell behind): anything may have been
    /// missed; read the state.
    Reconnected,
}

/// How many undelivered notes a slow subscriber may have before it is told to re-read
/// ([`Note::Reconnected`] on lag).
const BUFFER: usize = 1024;
/// Waits between attempts to listen again, doubled up to the last.
const BACKOFF: [Duration; 4] =
    [Duration::from_millis(100), Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];

/// The process' notifier. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    topics: Arc<HashMap<&'static str, broadcast::Sender<Note>>>,
}

/// A subscription to one topic.
pub struct Subscription {
    rx: broadcast::Receiver<Note>,
}

impl Subscription {
    /// The next note; a subscriber that fell behind gets [`Note::Reconnected`]. `None` once the
    /// notifier has stopped.
    pub async fn recv(&mut self) -> Option<Note> {
        match self.rx.recv().await {
            Ok(note) => Some(note),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Note::Reconnected),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Notifier {
    /// Listen on `topics` (Postgres channel names) until `stop` fires.
    pub fn start(pool: PgPool, topics: &[&'static str], stop: CancellationToken) -> Self {
        let topics: HashMap<_, _> = topics.iter().map(|t| (*t, broadcast::channel(BUFFER).0)).collect();
        let notifier = Self { topics: Arc::new(topics) };
        tokio::spawn(notifier.clone().run(pool, stop));
        notifier
    }

    /// Subscribe to `topic`, which must be one this notifier listens on.
    pub fn subscribe(&self, topic: &str) -> Subscription {
        let tx = self.topics.get(topic).unwrap_or_else(|| panic!("the notifier does not listen on {topic}"));
        Subscription { rx: tx.subscribe() }
    }

    fn broadcast_all(&self, note: &Note) {
        for tx in self.topics.values() {
            let _ = tx.send(note.clone());
        }
    }

    async fn run(self, pool: PgPool, stop: CancellationToken) {
        let channels: Vec<&str> = self.topics.keys().copied().collect();
        let mut failures = 0usize;
        let mut first = true;
        loop {
            let listener = async {
                let mut l = PgListener::connect_with(&pool).await?;
                l.listen_all(channels.iter().copied()).await?;
                Ok::<_, sqlx::Error>(l)
            };
            let mut listener = tokio::select! {
                _ = stop.cancelled() => return,
                l = listener => match l {
                    Ok(l) => l,
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!(error = %e, "cannot LISTEN; retrying");
                        }
                        let wait = BACKOFF[failures.min(BACKOFF.len() - 1)];
                        failures += 1;
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(wait) => continue,
                        }
                    }
                },
            };
            if failures > 0 || !first {
                tracing::info!("listening again; subscribers re-read what they wait for");
            }
            failures = 0;
            // Even the first connection: a subscriber may have started before the LISTEN was in
            // place and missed what was announced meanwhile.
            self.broadcast_all(&Note::Reconnected);
            first = false;
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => return,
                    n = listener.try_recv() => n,
                };
                match next {
                    Ok(Some(n)) => {
                        if let Some(tx) = self.topics.get(n.channel()) {
                            let _ = tx.send(Note::Notified(n.payload().to_owned()));
                        }
                    }
                    // The connection was lost; a new listener listens again and says so.
                    Ok(None) | Err(_) => {
                        tracing::warn!("the LISTEN connection was lost; listening again");
                        break;
                    }
                }
            }
        }
    }
}
