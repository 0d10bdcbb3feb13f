//! A lease's log lines on their way to `lease_logs`: redacted, batched (every 250 ms or 100 lines,
//! whichever comes first) and trimmed to the configured number kept.

use std::time::Duration;

use mtcp_shared::db;
use mtcp_shared::redact::redact_text;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// A batch is written at least this often while lines come in.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// ... or as soon as it holds this many lines.
const FLUSH_LINES: usize = 100;
/// Lines waiting for the writer; a process that floods its output waits for the database.
const QUEUED_LINES: usize = 1000;

/// Where one lease's lines go. Cheap to clone (one per `proxy_ssh` connection).
#[derive(Clone)]
pub(super) struct LogSink {
    tx: mpsc::Sender<(&'static str, String)>,
}

impl LogSink {
    /// A line the process printed on `stream` (stdout or stderr).
    pub(super) async fn line(&self, stream: &'static str, line: &str) {
        let _ = self.tx.send((stream, redact_text(line))).await;
    }

    /// An event of the lease itself (started, stop requested, exited…).
    pub(super) async fn system(&self, line: impl AsRef<str>) {
        self.line("system", line.as_ref()).await;
    }
}

/// The writer of one lease's logs.
pub(super) struct Logs {
    sink: LogSink,
    writer: JoinHandle<()>,
}

impl Logs {
    /// Start the writer of `lease_id`'s logs, keeping its last `keep` lines.
    pub(super) fn start(pool: PgPool, lease_id: Uuid, keep: i64) -> Self {
        let (tx, rx) = mpsc::channel(QUEUED_LINES);
        Self { sink: LogSink { tx }, writer: tokio::spawn(write(pool, lease_id, keep, rx)) }
    }

    pub(super) fn sink(&self) -> LogSink {
        self.sink.clone()
    }

    /// Lines captured during the start (already redacted) and the start's own system lines.
    pub(super) async fn early(&self, lines: Vec<(String, String)>) {
        for (stream, line) in lines {
            let stream = match stream.as_str() {
                "stdout" => "stdout",
                "system" => "system",
                _ => "stderr",
            };
            let _ = self.sink.tx.send((stream, line)).await;
        }
    }

    pub(super) async fn line(&self, stream: &'static str, line: &str) {
        self.sink.line(stream, line).await;
    }

    pub(super) async fn system(&self, line: impl AsRef<str>) {
        self.sink.system(line).await;
    }

    /// Write what is pending and stop. Every [`LogSink`] clone must be dropped first.
    pub(super) async fn close(self) {
        drop(self.sink);
        let _ = self.writer.await;
    }
}

async fn write(pool: PgPool, lease_id: Uuid, keep: i64, mut rx: mpsc::Receiver<(&'static str, String)>) {
    let mut batch: Vec<(String, String)> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Some((stream, line)) => {
                    batch.push((stream.to_owned(), line));
                    if batch.len() >= FLUSH_LINES {
                        flush(&pool, lease_id, keep, &mut batch).await;
                    }
                }
                None => {
                    flush(&pool, lease_id, keep, &mut batch).await;
                    return;
                }
            },
            _ = tick.tick() => flush(&pool, lease_id, keep, &mut batch).await,
        }
    }
}

async fn flush(pool: &PgPool, lease_id: Uuid, keep: i64, batch: &mut Vec<(String, String)>) {
    if batch.is_empty() {
        return;
    }
    let written = match pool.acquire().await {
        Ok(mut conn) => db::leases::append_logs(&mut conn, lease_id, batch, keep).await,
        Err(e) => Err(e.into()),
    };
    // Logs are best effort: a batch the database refused is dropped, never held without bound.
    if let Err(e) = written {
        tracing::warn!(%lease_id, lines = batch.len(), error = %e, "could not store lease log lines");
    }
    batch.clear();
}
