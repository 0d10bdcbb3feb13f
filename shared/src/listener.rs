//! Accepting HTTP connections: every listener of the workspace sets TCP_NODELAY on the sockets it
//! accepts.
//!
//! Without it, a response written in more than one segment (an MCP tool result: headers, then the
//! event stream's chunks) is held by Nagle's algorithm until the client ACKs the first segment,
//! and a client that keeps its connection alive delays that ACK (≈40 ms on Linux): every call on a
//! kept-alive connection — every ingress, every pooled HTTP client — took 44 ms, `whoami` included.

use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

/// A listener for `axum::serve` whose accepted sockets have TCP_NODELAY set.
pub type NoDelayListener = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Wrap `listener` so that every socket it accepts sends without waiting (TCP_NODELAY).
pub fn nodelay(listener: TcpListener) -> NoDelayListener {
    listener.tap_io(set_nodelay as fn(&mut TcpStream))
}

/// Sets TCP_NODELAY on an accepted connection (for listeners that accept by themselves).
pub fn set_nodelay(tcp: &mut TcpStream) {
    // Failing leaves the socket usable, only slower for kept-alive clients; not worth dropping it.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::warn!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::serve::Listener;

    use super::*;

    /// The accepted socket, as the server sees it, has TCP_NODELAY on.
    #[tokio::test]
    async fn accepted_sockets_have_nodelay() {
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        let seen = Arc::new(AtomicBool::new(false));
        let saw = seen.clone();
        let mut listener =
            nodelay(plain).tap_io(move |tcp: &mut TcpStream| saw.store(tcp.nodelay().unwrap(), Ordering::SeqCst));
        let client = tokio::spawn(TcpStream::connect(addr));
        let (tcp, _) = listener.accept().await;
        client.await.unwrap().unwrap();
        assert!(seen.load(Ordering::SeqCst));
        assert!(tcp.nodelay().unwrap());

        // And without the wrapper it would not be: the test can fail.
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        let client = tokio::spawn(TcpStream::connect(addr));
        let (tcp, _) = plain.accept().await.unwrap();
        client.await.unwrap().unwrap();
        assert!(!tcp.nodelay().unwrap());
    }
}
