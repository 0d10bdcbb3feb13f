//! The gateway's listener: plain HTTP, or HTTPS (rustls) with optional client certificates
//! verified against `service.tls.client_ca`. Each connection carries a [`Peer`]: its address and,
//! over mTLS, the verified client certificate — which authenticates the audit ingest endpoint
//! only (Teleport's event-handler plugin cannot send any other credential).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use mtcp_shared::config::TlsConfig;
use rustls::RootCertStore;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

/// A client that does not finish its TLS handshake in this time is dropped, so a slow client
/// cannot hold a handshake slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const ACCEPT_QUEUE: usize = 128;

/// A TLS setting that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("invalid configuration: `service.tls.{key}` ({path}): {message}")]
    File { key: &'static str, path: String, message: String },
    #[error("invalid configuration: `service.tls`: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("invalid configuration: `service.tls.client_ca`: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("the bound listener has no address: {0}")]
    Address(#[from] io::Error),
}

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

/// The gateway's bound listener.
pub struct GatewayListener {
    local: SocketAddr,
    inner: Inner,
}

enum Inner {
    Plain(TcpListener),
    /// Connections handshaken by the acceptor task.
    Tls(mpsc::Receiver<(TlsStream<TcpStream>, Peer)>),
}

impl GatewayListener {
    /// Serve `listener` as it is, or over TLS when `tls` is set (handshakes run on their own
    /// tasks until `shutdown`).
    pub fn new(listener: TcpListener, tls: Option<&TlsConfig>, shutdown: CancellationToken) -> Result<Self, TlsError> {
        let local = listener.local_addr()?;
        let inner = match tls {
            None => Inner::Plain(listener),
            Some(tls) => {
                let acceptor = TlsAcceptor::from(Arc::new(server_config(tls)?));
                let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
                tokio::spawn(accept_tls(listener, acceptor, tx, shutdown));
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
}

impl Listener for GatewayListener {
    type Io = Either<TcpStream, TlsStream<TcpStream>>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match &mut self.inner {
            Inner::Plain(l) => loop {
                match TcpListener::accept(l).await {
                    Ok((mut stream, addr)) => {
                        mtcp_shared::listener::set_nodelay(&mut stream);
                        return (Either::Left(stream), Peer { addr, client_cert: None });
                    }
                    Err(e) => accept_error(e).await,
                }
            },
            Inner::Tls(rx) => match rx.recv().await {
                Some((stream, peer)) => (Either::Right(stream), peer),
                // The acceptor stopped (shutdown): never yield again.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Peer { addr: self.local, client_cert: None })
    }
}

impl Connected<IncomingStream<'_, GatewayListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, GatewayListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Out of file descriptors and the like: wait a moment instead of spinning (as axum does).
async fn accept_error(e: io::Error) {
    tracing::warn!(error = %e, "accepting a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Accept TCP connections and run each handshake on its own task, so one slow client never
/// delays the others.
async fn accept_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, Peer)>,
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
            let _ = tx.send((stream, Peer { addr, client_cert })).await;
        });
    }
}

/// The rustls configuration: the server certificate, client certificates verified against the
/// client CA when one is set (optional: MCP clients connect without one), HTTP/2 and HTTP/1.1
/// (the event-handler plugin's Go client negotiates HTTP/2).
fn server_config(tls: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs = read_certs("cert", &tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| file_error("key", &tls.key, e))?;
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for ca in read_certs("client_ca", path)? {
                roots.add(ca).map_err(|e| file_error("client_ca", path, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certs(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(key, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(key, path, e))?;
    if certs.is_empty() {
        return Err(file_error(key, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn file_error(key: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File { key, path: path.display().to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_tls_files_are_named_by_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        let tls = TlsConfig { cert: missing.clone(), key: missing.clone(), client_ca: None };
        let err = server_config(&tls).unwrap_err().to_string();
        assert!(err.contains("`service.tls.cert`") && err.contains("missing.pem"), "{err}");
        let tls = TlsConfig { cert: garbage.clone(), key: missing, client_ca: None };
        let err = server_config(&tls).unwrap_err().to_string();
        assert!(err.contains("`service.tls.cert`") && err.contains("no PEM certificate"), "{err}");
    }
}
