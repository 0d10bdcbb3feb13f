//! TCP_NODELAY on every listener: a client that keeps one connection alive gets each answer at
//! once instead of after the peer's delayed ACK (≈40 ms on Linux) — what every ingress and pooled
//! HTTP client does.
//!
//! The gateway runs in this process, so the test finds the socket it accepted for the client's
//! connection among the process's descriptors and reads the option itself: no timing assertion
//! (the machine's load decides the times; they are printed, and BENCHMARKS.md has the figures).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use mtcp_tests::{Stack, StackOptions};
use serde_json::json;

/// Calls made on the one connection.
const CALLS: usize = 20;

/// One kept-alive HTTP/1.1 connection to `base` (no pool: every request goes over this socket, and
/// a request fails if the server closed it), and its local address. The client sets TCP_NODELAY
/// itself, so any wait left is the server's.
async fn connection(base: &str) -> (SendRequest<Full<Bytes>>, SocketAddr) {
    let addr = base.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let local = tcp.local_addr().unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    (sender, local)
}

/// TCP_NODELAY of the socket this process accepted from `client` (the server's end of the
/// client's connection), or `None` when no such socket is open.
fn accepted_nodelay(client: SocketAddr) -> Option<bool> {
    use nix::sys::socket::{SockaddrIn, getpeername, getsockopt, sockopt::TcpNoDelay};
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<std::os::fd::RawFd>() else { continue };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"));
        let Ok(peer) = getpeername::<SockaddrIn>(fd) else { continue };
        if !is_socket || SocketAddr::from(std::net::SocketAddrV4::from(peer)) != client {
            continue;
        }
        // SAFETY: the descriptor is the gateway's end of a connection this test holds open, so it
        // stays open while borrowed here; only an option is read.
        #[allow(unsafe_code)]
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        return Some(getsockopt(&fd, TcpNoDelay).unwrap());
    }
    None
}

/// Send `request` on the connection; the status and the whole body.
async fn send(sender: &mut SendRequest<Full<Bytes>>, request: hyper::Request<Full<Bytes>>) -> (u16, String) {
    sender.ready().await.expect("the connection is still open");
    let response = sender.send_request(request).await.expect("served on the same connection");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn whoami(base: &str, key: &str, id: usize) -> hyper::Request<Full<Bytes>> {
    let body =
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } });
    hyper::Request::post(format!("{base}/mcp"))
        .header("host", base.trim_start_matches("http://"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn health(base: &str) -> hyper::Request<Full<Bytes>> {
    hyper::Request::get(format!("{base}/health"))
        .header("host", base.trim_start_matches("http://"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Median of the per-call times.
fn p50(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Twenty `whoami` calls, then twenty `/health` probes, each on one kept-alive connection: all
/// answered on it, and the gateway's end of it sends without waiting (TCP_NODELAY).
#[tokio::test]
async fn a_kept_alive_client_is_not_held_by_delayed_acks() {
    let stack = Stack::start(StackOptions::default()).await.unwrap();
    let key = stack.key("readonly").to_owned();

    let (mut sender, local) = connection(&stack.base).await;
    // The first call pays for connection set-up and caches; not timed.
    let (status, body) = send(&mut sender, whoami(&stack.base, &key, 0)).await;
    assert_eq!(status, 200, "{body}");
    let mut times = Vec::new();
    for id in 1..=CALLS {
        let started = Instant::now();
        let (status, body) = send(&mut sender, whoami(&stack.base, &key, id)).await;
        times.push(started.elapsed());
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("readonly"), "whoami answers with the caller: {body}");
    }
    let total: Duration = times.iter().sum();
    println!("whoami on one kept-alive connection: {CALLS} calls in {total:?}, p50 {:?}", p50(times));
    assert_eq!(accepted_nodelay(local), Some(true), "the gateway's socket for this connection has TCP_NODELAY");

    let (mut sender, local) = connection(&stack.base).await;
    let mut times = Vec::new();
    for _ in 0..=CALLS {
        let started = Instant::now();
        let (status, body) = send(&mut sender, health(&stack.base)).await;
        times.push(started.elapsed());
        assert_eq!((status, body.as_str()), (200, r#"{"status":"healthy"}"#));
    }
    times.remove(0);
    let total: Duration = times.iter().sum();
    println!("/health on one kept-alive connection: {CALLS} calls in {total:?}, p50 {:?}", p50(times));
    assert_eq!(accepted_nodelay(local), Some(true));
}
