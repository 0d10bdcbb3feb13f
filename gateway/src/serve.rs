//! The gateway's accept loop: HTTP/1.1 and HTTP/2 on each connection (hyper-util's auto builder;
//! over TLS the client picks by ALPN), a header-read timeout, the connection cap of the listener,
//! `ConnectInfo<Peer>` on every request, and a graceful end when the shutdown token fires.
//!
//! `axum::serve` exposes none of these limits: a client that opened a connection and sent half a
//! request line held it for as long as it liked, and any number of such clients could.

use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::listener::{Accepted, GatewayListener};

/// Serve `app` on `listener` until `shutdown` fires, then let open connections finish (each is
/// told to close: HTTP/1 after its current answer, HTTP/2 with GOAWAY; the MCP streams end with
/// the same token).
pub async fn serve(
    mut listener: GatewayListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper applies the timeout only with a timer; once a connection is known to be HTTP/1 it
    // covers every request head, and the wait for the next request on a kept-alive connection.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let Accepted { io, peer, slot } = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let addr = peer.addr;
        let first_request = CancellationToken::new();
        // The connection's peer on every request, as axum's `into_make_service_with_connect_info`
        // put it (handlers read `ConnectInfo<Peer>`).
        let (info, seen) = (ConnectInfo(peer), first_request.clone());
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            seen.cancel();
            req.extensions_mut().insert(info.clone());
            req
        });
        let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).into_owned();
        let conn = graceful.watch(conn);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            // Until the first request's head has arrived the protocol may not even be known (the
            // auto builder is still reading the HTTP/2 preface), and hyper's HTTP/1 timer is not
            // running: this deadline covers a client that sends nothing, or only part of it.
            let deadline = async {
                tokio::time::sleep(header_read_timeout).await;
                if first_request.is_cancelled() {
                    std::future::pending::<()>().await;
                }
            };
            // Nor does a connection that has not asked anything yet hold up the shutdown.
            let stopping = async {
                stop.cancelled().await;
                if first_request.is_cancelled() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                served = conn => if let Err(e) = served {
                    tracing::debug!(%addr, error = %e, "connection ended with an error");
                },
                () = deadline => tracing::debug!(%addr, "closed: no request head within `service.header_read_timeout`"),
                () = stopping => tracing::debug!(%addr, "closed at shutdown before its first request"),
            }
            // The connection is closed (dropped) by now; its place is free again.
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
