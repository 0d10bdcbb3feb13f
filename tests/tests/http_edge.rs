//! The gateway's HTTP edge on a real process (issue 14, items 1 and 12): a connection that sends
//! part of a request head is closed after `service.header_read_timeout` (it was held for as long
//! as the client liked); connections over `service.max_connections` are closed at once while the
//! open ones keep working; HTTP/2 is still served; `/metrics` can move to its own listener.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use mtcp_tests::process::{ServiceProcess, free_port};
use mtcp_tests::{Stack, StackOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A gateway process with `tweak` applied to its configuration only (the stack's own in-process
/// gateway would otherwise take the metrics port first).
async fn gateway(tweak: impl Fn(&mut mtcp_shared::config::Config)) -> (Stack, ServiceProcess) {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    tweak(&mut stack.config);
    stack.config.validate().unwrap();
    let process = ServiceProcess::gateway_of(&stack).await.unwrap();
    // The readiness probe's pooled connections are gone before a test counts connections.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (stack, process)
}

fn addr(process: &ServiceProcess) -> String {
    process.base.trim_start_matches("http://").to_owned()
}

/// How long after `started` the gateway closed `stream` (what it sends is read and discarded), or
/// `None` when it is still open `within` after `started`.
async fn closed_after(stream: &mut TcpStream, started: Instant, within: Duration) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + within).into(), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

/// A kept-alive HTTP/1.1 connection driven by hand (no pool: a request fails if the server closed
/// the connection).
async fn connection(addr: &str) -> SendRequest<Empty<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    sender
}

async fn health(sender: &mut SendRequest<Empty<Bytes>>) -> anyhow::Result<u16> {
    sender.ready().await?;
    let request = hyper::Request::get("/health").header("host", "127.0.0.1").body(Empty::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partial_request_head_is_closed_after_the_header_read_timeout() {
    let (_stack, process) = gateway(|c| c.service.header_read_timeout = Duration::from_secs(1)).await;
    let partial: [(&str, &[u8]); 3] = [
        ("half a request head", b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"),
        ("nothing at all", b""),
        ("part of the HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
    ];
    let mut held = Vec::new();
    for (what, bytes) in partial {
        let connected = Instant::now();
        let mut stream = TcpStream::connect(addr(&process)).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        held.push((what, stream, connected));
    }
    for (what, mut stream, connected) in held {
        let closed = closed_after(&mut stream, connected, Duration::from_secs(8)).await;
        eprintln!("{what}: closed after {closed:?} (service.header_read_timeout = 1s)");
        let closed = closed.unwrap_or_else(|| panic!("a connection that sent {what} is still open after 8 s"));
        assert!(closed >= Duration::from_millis(900), "{what}: closed before the timeout, after {closed:?}");
        assert!(closed < Duration::from_secs(4), "{what}: closed only after {closed:?}");
    }

    // A client that finishes its head within the time is served, on HTTP/1.1 and HTTP/2.
    let mut stream = TcpStream::connect(addr(&process)).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    stream.write_all(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let response = h2.get(format!("{}/health", process.base)).send().await.unwrap();
    assert_eq!((response.status().as_u16(), response.version()), (200, reqwest::Version::HTTP_2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_over_the_cap_are_closed_and_the_open_ones_keep_working() {
    let metrics_port = free_port();
    let (_stack, process) = gateway(move |c| {
        c.service.max_connections = 3;
        c.service.metrics_listen = Some(([127, 0, 0, 1], metrics_port).into());
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut sender = connection(&addr(&process)).await;
        assert_eq!(health(&mut sender).await.unwrap(), 200);
        open.push(sender);
    }
    // A fourth is closed as soon as it is accepted, before it says anything.
    let connected = Instant::now();
    let mut fourth = TcpStream::connect(addr(&process)).await.unwrap();
    let closed = closed_after(&mut fourth, connected, Duration::from_secs(5)).await;
    eprintln!("a fourth connection over a cap of 3: closed after {closed:?}");
    assert!(closed.is_some_and(|c| c < Duration::from_secs(1)), "a connection over the cap is served");
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("mtcp_gateway_connections_refused_total 1"), "{metrics}");
    assert!(metrics.contains("mtcp_gateway_connections_open 3"), "{metrics}");

    // The three keep working; once one closes, a new connection is served.
    for sender in &mut open {
        assert_eq!(health(sender).await.unwrap(), 200, "an open connection stopped working");
    }
    open.pop();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut sender = connection(&addr(&process)).await;
        match health(&mut sender).await {
            Ok(status) => break assert_eq!(status, 200),
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no connection is served after one of the three closed: {e}"),
        }
    }
}

#[tokio::test]
async fn metrics_move_to_their_own_listener() {
    let metrics_port = free_port();
    let (_stack, process) =
        gateway(move |c| c.service.metrics_listen = Some(([127, 0, 0, 1], metrics_port).into())).await;
    let on_mcp_port = reqwest::get(format!("{}/metrics", process.base)).await.unwrap();
    assert_eq!(on_mcp_port.status().as_u16(), 404, "/metrics is still served on the MCP port");
    let own = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap();
    assert_eq!(own.status().as_u16(), 200);
    let text = own.text().await.unwrap();
    assert!(text.contains("# TYPE mtcp_gateway_connections_open gauge"), "{text}");
    // Health and readiness stay on the MCP port (the probes use it).
    let ready = reqwest::get(format!("{}/ready", process.base)).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

/// SIGTERM ends the gateway at once although clients hold connections: an idle kept-alive one, one
/// halfway through its first request head, one that said nothing. (The old server waited for
/// every one of them, the half-head one for as long as its client liked.)
#[tokio::test]
async fn shutdown_does_not_wait_for_idle_or_unfinished_connections() {
    let (_stack, mut process) = gateway(|_| {}).await;
    let mut idle = connection(&addr(&process)).await;
    assert_eq!(health(&mut idle).await.unwrap(), 200);
    let mut half = TcpStream::connect(addr(&process)).await.unwrap();
    half.write_all(b"GET /hea").await.unwrap();
    let _silent = TcpStream::connect(addr(&process)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    process.signal("TERM");
    let exited = loop {
        if process.child.try_wait().unwrap().is_some() {
            break Some(signalled.elapsed());
        }
        if signalled.elapsed() > Duration::from_secs(8) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("the gateway exited {exited:?} after SIGTERM with three connections open");
    assert!(exited.is_some_and(|e| e < Duration::from_secs(3)), "the gateway is still running after SIGTERM");
}
