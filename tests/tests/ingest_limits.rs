//! The ingest endpoint against a flood, on a real gateway process: unauthenticated senders are
//! answered from their headers and hold no memory however much body they send (60 senders of all
//! but the last byte of an 8 MiB body used to add 360 MB of RSS and hang there); an authenticated
//! sender that stalls is answered 408 and its connection closed; bodies read at once are capped.

use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::IngestKey;
use mtcp_tests::process::ServiceProcess;
use mtcp_tests::{Stack, StackOptions, Tweak};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const INGEST_KEY: &str = "ingest-limits-key-0123456789";
const BODY: usize = 8 * 1024 * 1024;

async fn gateway() -> (Stack, ServiceProcess) {
    let tweak: Tweak = Arc::new(|c| {
        c.audit.ingest_keys =
            vec![IngestKey { name: "event-handler".into(), sha256: mtcp_cli::dev::key_hash(INGEST_KEY) }];
        c.audit.body_read_timeout = Duration::from_secs(2);
        c.audit.max_concurrent_bodies = 3;
    });
    let stack = Stack::start(StackOptions { worker: false, tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let process = ServiceProcess::gateway_of(&stack).await.unwrap();
    (stack, process)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn addr(process: &ServiceProcess) -> String {
    process.base.trim_start_matches("http://").to_owned()
}

fn head(authorization: Option<&str>, length: usize) -> String {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "POST /audit/ingest HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n{auth}Content-Length: {length}\r\n\r\n"
    )
}

/// Reads until the peer closes or `within` passes; the text read and whether it closed.
async fn read_answer(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// Send the head and then all but the last byte of the body, as far as the gateway takes it.
async fn partial_sender(addr: String) -> (String, bool) {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(head(None, BODY).as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < BODY - 1 {
        let n = chunk.len().min(BODY - 1 - sent);
        match tokio::time::timeout(Duration::from_secs(5), stream.write_all(&chunk[..n])).await {
            Ok(Ok(())) => sent += n,
            // Refused and closed by the gateway, or it stopped reading: stop sending.
            _ => break,
        }
    }
    read_answer(&mut stream, Duration::from_secs(10)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated_partial_bodies_hold_no_memory() {
    let (_stack, process) = gateway().await;
    let pid = process.child.id();
    let before = rss_kib(pid);
    let senders: Vec<_> = (0..60).map(|_| tokio::spawn(partial_sender(addr(&process)))).collect();
    let mut peak = before;
    let mut answers = Vec::new();
    for sender in senders {
        answers.push(sender.await.unwrap());
        peak = peak.max(rss_kib(pid));
    }
    let grown_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "gateway RSS {} MiB before, peak {} MiB with 60 partial unauthenticated bodies",
        before / 1024,
        peak / 1024
    );
    for (answer, closed) in &answers {
        assert!(answer.starts_with("HTTP/1.1 401"), "an unauthenticated sender got: {answer:?}");
        assert!(closed, "the connection of a refused sender stays open");
    }
    // The bound: well under one body per sender (60 × 8 MiB were read before).
    assert!(grown_mib < 64, "RSS grew by {grown_mib} MiB for 60 unauthenticated partial bodies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_authenticated_body_times_out_and_bodies_at_once_are_capped() {
    let (_stack, process) = gateway().await;
    let basic = format!("Basic {}", base64_of(&format!("event-handler:{INGEST_KEY}")));
    // Three stalled senders take every reading slot (audit.max_concurrent_bodies = 3).
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr(&process)).await.unwrap();
        stream.write_all(head(Some(&basic), 1000).as_bytes()).await.unwrap();
        stream.write_all(b"{\"uid\":").await.unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fourth = TcpStream::connect(addr(&process)).await.unwrap();
    fourth.write_all(head(Some(&basic), 2).as_bytes()).await.unwrap();
    fourth.write_all(b"{}").await.unwrap();
    let (answer, _) = read_answer(&mut fourth, Duration::from_secs(1)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "a fourth body while three are read: {answer:?}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");

    // Each stalled sender is answered 408 after the body timeout, and its connection closed.
    for mut stream in stalled {
        let (answer, closed) = read_answer(&mut stream, Duration::from_secs(8)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "a stalled sender got: {answer:?}");
        assert!(answer.contains("audit.body_read_timeout"), "{answer}");
        assert!(closed, "the stalled sender's connection stays open");
    }
    // The slots are free again: a whole body is taken.
    let event = r#"{"event":"user.login","code":"T1000I","uid":"lim-1","time":"2026-12-01T10:00:00Z","user":"alice"}"#;
    let mut stream = TcpStream::connect(addr(&process)).await.unwrap();
    stream.write_all(head(Some(&basic), event.len()).as_bytes()).await.unwrap();
    stream.write_all(event.as_bytes()).await.unwrap();
    let (answer, _) = read_answer(&mut stream, Duration::from_secs(2)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"inserted\":1"), "{answer}");
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
