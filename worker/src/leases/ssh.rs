//! `proxy_ssh` leases. `tsh proxy ssh` is a stdio proxy (an OpenSSH `ProxyCommand`) that prints
//! nothing, so the lease is a loopback listener the worker owns: each accepted connection gets a
//! `tsh proxy ssh` of its own (own process group, dies with the worker) bridged to the socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::process_group;
use mtcp_shared::redact::LineRedactor;
use mtcp_shared::teleport::{Binary, Runner};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::logs::{LogSink, Logs};
use super::process::describe;
use super::{Ending, Lease, LeaseManager};

/// Bind the lease's listener: the requested loopback address, or any port on 127.0.0.1.
pub(super) async fn bind(requested: Option<SocketAddr>) -> std::io::Result<TcpListener> {
    TcpListener::bind(requested.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))).await
}

/// What each accepted connection runs: `tsh` with these arguments, by its cluster's runner.
pub(super) struct Bridge {
    pub(super) args: Vec<String>,
    pub(super) runner: Runner,
}

/// Accept and bridge connections until told to stop; then close the listener, stop every
/// connection's process group and end the lease.
pub(super) async fn supervise(
    mgr: &LeaseManager,
    lease: Lease,
    listener: TcpListener,
    bridge: Bridge,
    logs: Logs,
    mut stops: mpsc::Receiver<Ending>,
) {
    let max = mgr.config.max_ssh_connections as usize;
    let slots = Arc::new(Semaphore::new(max));
    let close = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut opened = 0u64;
    let ending = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        opened += 1;
                        let conn = Connection {
                            n: opened,
                            peer,
                            runner: bridge.runner.clone(),
                            args: bridge.args.clone(),
                            logs: logs.sink(),
                            close: close.clone(),
                            grace: mgr.config.stop_grace,
                            _slot: slot,
                        };
                        connections.spawn(conn.bridge(socket));
                    }
                    Err(_) => {
                        logs.system(format!(
                            "refused connection from {peer}: {max} connections open (leases.max_ssh_connections)"
                        ))
                        .await;
                    }
                },
                Err(e) => {
                    // Out of file descriptors and the like: say so, and do not spin.
                    logs.system(format!("accepting a connection failed: {e}")).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            stop = stops.recv() => break stop.unwrap_or_else(Ending::shutdown),
        }
    };
    drop(listener);
    let open = connections.len();
    logs.system(format!("stopping: {}; listener closed, {open} connection(s) to close", ending.why)).await;
    close.cancel();
    while connections.join_next().await.is_some() {}
    logs.close().await;
    mgr.end(lease, &ending, None).await;
}

/// One bridged connection.
struct Connection {
    n: u64,
    peer: SocketAddr,
    runner: Runner,
    args: Vec<String>,
    logs: LogSink,
    close: CancellationToken,
    grace: Duration,
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn bridge(self, socket: TcpStream) {
        let Connection { n, peer, logs, .. } = &self;
        // Spawned on this task (a runtime thread): the child's parent-death signal is tied to it.
        let mut child = match self.runner.spawn_stdio(Binary::Tsh, &self.args) {
            Ok(child) => child,
            Err(e) => {
                logs.system(format!("connection {n} from {peer}: could not start tsh proxy ssh: {e}")).await;
                return;
            }
        };
        let pgid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or_default();
        logs.system(format!("connection {n} from {peer} opened (tsh pid {pgid})")).await;
        let (mut stdin, mut stdout) = (child.stdin.take().expect("piped"), child.stdout.take().expect("piped"));
        let stderr = child.stderr.take().expect("piped");
        let err_logs = logs.clone();
        let stderr = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut redactor = LineRedactor::default();
            while let Ok(Some(line)) = lines.next_line().await {
                err_logs.line("stderr", &redactor.line(&line)).await;
            }
        });
        let (mut from_client, mut to_client) = socket.into_split();
        let to_child = async move {
            let _ = tokio::io::copy(&mut from_client, &mut stdin).await;
            // Closing stdin is how the client's end of stream reaches `tsh`, which then exits.
            drop(stdin);
            std::future::pending::<()>().await
        };
        let from_child = async move {
            let _ = tokio::io::copy(&mut stdout, &mut to_client).await;
            let _ = to_client.shutdown().await;
        };
        let closed = tokio::select! {
            _ = to_child => false,
            _ = from_child => false,
            _ = self.close.cancelled() => true,
        };
        let status = if closed {
            process_group::stop(&mut child, pgid, self.grace).await
        } else {
            // The stream ended: `tsh` is on its way out; stop it if it lingers.
            match tokio::time::timeout(self.grace, child.wait()).await {
                Ok(status) => {
                    process_group::kill(pgid);
                    status.ok()
                }
                Err(_) => process_group::stop(&mut child, pgid, self.grace).await,
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(500), stderr).await;
        logs.system(format!("connection {n} from {peer} closed (tsh {})", describe(status))).await;
    }
}
