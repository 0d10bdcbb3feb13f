//! The gateway's listener: plain HTTP, or HTTPS (rustls) with optional client certificates
//! verified against `service.tls.client_ca`. Each connection carries a [`Peer`]: its address and,
//! over mTLS, the verified client certificate — which authenticates the audit ingest endpoint
//! only (Teleport's event-handler plugin cannot send any other credential) — and a [`Slot`] of
//! `service.max_connections`, taken when the TCP connection is accepted (before any handshake).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtcp_shared::config::TlsConfig;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

use crate::tls::{TlsError, server_config};

/// A client that does not finish its TLS handshake in this time is dropped, so a slow client
/// cannot hold a handshake slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const ACCEPT_QUEUE: usize = 128;
/// At most one warning about refused connections per this interval: a flood must not become a
/// log flood (the metric counts every one).
const REFUSAL_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Who is on the other end of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The client certificate verified during the TLS handshake against `service.tls.client_ca`.
    pub client_cert: Option<ClientCert>,
}

/// A verified client certificate, named by the SHA-256 of its DER (for logs: never a secret).
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub sha256: Arc<str>,
}

/// An accepted connection's stream.
pub type Io = Either<TcpStream, TlsStream<TcpStream>>;

/// One accepted connection: its stream, who it is, and the slot it holds until it is dropped.
pub struct Accepted {
    pub io: Io,
    pub peer: Peer,
    pub slot: Slot,
}

/// The gateway's bound listener.
pub struct GatewayListener {
    local: SocketAddr,
    inner: Inner,
}

enum Inner {
    Plain(TcpListener, Slots),
    /// Connections handshaken by the acceptor task.
    Tls(mpsc::Receiver<Accepted>),
}

impl GatewayListener {
    /// Serve `listener` as it is, or over TLS when `tls` is set (handshakes run on their own
    /// tasks until `shutdown`), holding at most `max_connections` connections at once.
    pub fn new(
        listener: TcpListener,
        tls: Option<&TlsConfig>,
        max_connections: usize,
        shutdown: CancellationToken,
    ) -> Result<Self, TlsError> {
        let local = listener.local_addr()?;
        let slots = Slots::new(max_connections);
        let inner = match tls {
            None => Inner::Plain(listener, slots),
            Some(tls) => {
                let acceptor = TlsAcceptor::from(Arc::new(server_config(tls)?));
                let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
                tokio::spawn(accept_tls(listener, acceptor, slots, tx, shutdown));
                Inner::Tls(rx)
            }
        };
        Ok(Self { local, inner })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether this listener serves HTTPS.
    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Tls(_))
    }

    /// The next connection within the cap (connections over it are closed here, unseen).
    pub async fn accept(&mut self) -> Accepted {
        match &mut self.inner {
            Inner::Plain(listener, slots) => loop {
                let (mut stream, addr) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_error(e).await;
                        continue;
                    }
                };
                let Some(slot) = slots.take() else { continue };
                mtcp_shared::listener::set_nodelay(&mut stream);
                return Accepted { io: Either::Left(stream), peer: Peer { addr, client_cert: None }, slot };
            },
            Inner::Tls(rx) => match rx.recv().await {
                Some(accepted) => accepted,
                // The acceptor stopped (shutdown): never yield again.
                None => std::future::pending().await,
            },
        }
    }
}

/// The connection cap: one semaphore permit per open connection.
#[derive(Clone)]
struct Slots {
    free: Arc<Semaphore>,
    max: usize,
    refusals: Arc<Mutex<Refusals>>,
}

/// Refused connections since the last warning, and when that was.
struct Refusals {
    warned: Option<Instant>,
    since: u64,
}

/// A held place among `service.max_connections`; freed when the connection ends.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        metrics::gauge!("mtcp_gateway_connections_open").decrement(1.0);
    }
}

impl Slots {
    fn new(max: usize) -> Self {
        let refusals = Refusals { warned: None, since: 0 };
        Self { free: Arc::new(Semaphore::new(max)), max, refusals: Arc::new(Mutex::new(refusals)) }
    }

    /// A slot, or `None` when every one is taken: the caller drops the connection at once (a
    /// queued connection would hold a descriptor and its memory just the same).
    fn take(&self) -> Option<Slot> {
        if let Ok(permit) = self.free.clone().try_acquire_owned() {
            metrics::gauge!("mtcp_gateway_connections_open").increment(1.0);
            return Some(Slot { _permit: permit });
        }
        metrics::counter!("mtcp_gateway_connections_refused_total").increment(1);
        let mut r = self.refusals.lock().expect("refusal log poisoned");
        r.since += 1;
        if r.warned.is_none_or(|at| at.elapsed() >= REFUSAL_WARNING_EVERY) {
            tracing::warn!(
                max_connections = self.max,
                refused = r.since,
                "closing new connections: `service.max_connections` are open"
            );
            *r = Refusals { warned: Some(Instant::now()), since: 0 };
        }
        None
    }
}

/// Out of file descriptors and the like: wait a moment instead of spinning (as axum does).
async fn accept_error(e: io::Error) {
    tracing::warn!(error = %e, "accepting a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Accept TCP connections and run each handshake on its own task, so one slow client never
/// delays the others. A connection takes its slot before its handshake: handshakes count too.
async fn accept_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    slots: Slots,
    tx: mpsc::Sender<Accepted>,
    shutdown: CancellationToken,
) {
    loop {
        let (mut stream, addr) = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tx.closed() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => { accept_error(e).await; continue; }
            },
        };
        let Some(slot) = slots.take() else { continue };
        // Kept-alive clients would otherwise wait for the delayed ACK on every response.
        mtcp_shared::listener::set_nodelay(&mut stream);
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                // An untrusted client certificate ends here: rustls refused it.
                Ok(Err(e)) => return tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(%addr, "TLS handshake timed out"),
            };
            let client_cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|leaf| ClientCert { sha256: hex::encode(Sha256::digest(leaf.as_ref())).into() });
            let peer = Peer { addr, client_cert };
            let _ = tx.send(Accepted { io: Either::Right(stream), peer, slot }).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_freed() {
        let slots = Slots::new(2);
        let (a, b) = (slots.take().unwrap(), slots.take().unwrap());
        assert!(slots.take().is_none(), "a third connection over a cap of two");
        drop(a);
        assert!(slots.take().is_some(), "a slot is free again once its connection ends");
        drop(b);
    }
}
