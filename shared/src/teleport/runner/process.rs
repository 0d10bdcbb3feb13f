//! Supervision of one child: concurrent capped capture of stdout/stderr, timeout and
//! cancellation, and the SIGTERM → grace → SIGKILL sequence on the whole process group.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::process_group;

/// How long the readers may take to reach end-of-file once the process group is gone. Only a
/// process that left the group (setsid) and kept our pipes open makes this wait expire.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Bytes captured from one stream.
#[derive(Debug, Default)]
pub(super) struct Captured {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    Exited,
    TimedOut,
    Cancelled,
}

impl Exit {
    pub fn as_str(self) -> &'static str {
        match self {
            Exit::Exited => "exited",
            Exit::TimedOut => "timed_out",
            Exit::Cancelled => "cancelled",
        }
    }
}

/// Result of [`Supervised::finish`].
#[derive(Debug)]
pub(super) struct Finished {
    pub exit: Exit,
    pub status: Option<ExitStatus>,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// A running child with its readers.
pub(super) struct Supervised {
    child: Child,
    group: Option<i32>,
    stop_readers: CancellationToken,
    stdout: JoinHandle<Captured>,
    stderr: JoinHandle<Captured>,
}

impl Supervised {
    /// Starts reading both streams (so a chatty child never blocks on a full pipe).
    pub fn start(mut child: Child, limit: usize) -> Supervised {
        // The child was spawned with process_group(0): its pid is its process group id.
        let group = child.id().and_then(|id| i32::try_from(id).ok());
        let stop_readers = CancellationToken::new();
        let stdout = tokio::spawn(capture(child.stdout.take(), limit, stop_readers.clone()));
        let stderr = tokio::spawn(capture(child.stderr.take(), limit, stop_readers.clone()));
        Supervised { child, group, stop_readers, stdout, stderr }
    }

    /// Waits for exit, the timeout or cancellation; always leaves no process of the group behind.
    pub async fn finish(mut self, timeout: Duration, grace: Duration, cancel: &CancellationToken) -> Finished {
        let waited = tokio::select! {
            status = self.child.wait() => Ok(status.ok()),
            _ = tokio::time::sleep(timeout) => Err(Exit::TimedOut),
            _ = cancel.cancelled() => Err(Exit::Cancelled),
        };
        let (exit, status) = match (waited, self.group) {
            (Ok(status), _) => (Exit::Exited, status),
            (Err(exit), Some(group)) => (exit, process_group::stop(&mut self.child, group, grace).await),
            (Err(exit), None) => {
                let _ = self.child.start_kill();
                (exit, self.child.wait().await.ok())
            }
        };
        // Sweep the group: descendants that outlived the leader would otherwise keep running
        // and hold our pipes open.
        if let Some(group) = self.group {
            process_group::kill(group);
        }
        let stdout = collect(&mut self.stdout, &self.stop_readers).await;
        let stderr = collect(&mut self.stderr, &self.stop_readers).await;
        Finished { exit, status, stdout, stderr }
    }
}

async fn collect(handle: &mut JoinHandle<Captured>, stop: &CancellationToken) -> Captured {
    if let Ok(done) = tokio::time::timeout(DRAIN_TIMEOUT, &mut *handle).await {
        return done.unwrap_or_default();
    }
    stop.cancel();
    handle.await.unwrap_or_default()
}

async fn capture<R: AsyncRead + Unpin>(reader: Option<R>, limit: usize, stop: CancellationToken) -> Captured {
    let mut captured = Captured::default();
    let Some(mut reader) = reader else {
        return captured;
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
        };
        let room = limit.saturating_sub(captured.bytes.len());
        captured.bytes.extend_from_slice(&buf[..n.min(room)]);
        if n > room {
            // Keep draining so the child never blocks on a full pipe.
            captured.truncated = true;
        }
    }
    captured
}
