//! The approval webhook as an operator sees it: a message written to the outbox reaches a real
//! HTTP receiver exactly as written, a receiver that fails is tried again with backoff until it
//! takes the message or `max_attempts` is spent (then the message is failed and counted in
//! `mtcp_webhook_deliveries_total`), two gateways never both deliver one message, and the URL (a
//! secret) never shows in what is recorded.

mod webhook_receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_shared::config::WebhookConfig;
use mtcp_shared::db::webhooks;
use mtcp_shared::domain::OpId;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};
use webhook_receiver::{Receiver, SECRET};

/// A stack (no worker: the calls stay queued) whose gateway delivers to `url`.
async fn stack(url: &str, max_attempts: u32) -> Stack {
    let url = url.to_owned();
    let tweak: mtcp_tests::Tweak = Arc::new(move |c| {
        c.approvals.webhook = Some(WebhookConfig {
            url: url.clone().into(),
            timeout: Duration::from_secs(5),
            max_attempts,
            retry_backoff: Duration::from_millis(200),
        });
    });
    Stack::start(StackOptions { worker: false, tweak: Some(tweak), ..Default::default() }).await.unwrap()
}

/// A real operation for the messages to be about.
async fn operation(stack: &Stack) -> OpId {
    mtcp_tests::queue::list_nodes(&stack.db.pool, &mtcp_tests::queue::readonly("alice")).await.unwrap()
}

fn message(op_id: OpId, event: &str, text: &str) -> Value {
    json!({
        "text": text,
        "event": event,
        "op_id": op_id.to_string(),
        "tool": "list_nodes",
        "actor": "alice",
        "approvals": {"required": 2, "given": 0},
    })
}

/// The outbox row of the message with `text`: (attempts, delivered, failed, last_error).
async fn row(stack: &Stack, text: &str) -> (i32, bool, bool, Option<String>) {
    sqlx::query_as(
        "SELECT attempts, delivered_at IS NOT NULL, failed_at IS NOT NULL, last_error
           FROM webhook_deliveries WHERE payload->>'text' = $1",
    )
    .bind(text)
    .fetch_one(&stack.db.pool)
    .await
    .unwrap()
}

/// Wait (up to `within`) until the message's row is delivered or failed; returns it.
async fn settled(stack: &Stack, text: &str, within: Duration) -> (i32, bool, bool, Option<String>) {
    let deadline = Instant::now() + within;
    loop {
        let r = row(stack, text).await;
        if r.1 || r.2 || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of `mtcp_webhook_deliveries_total{event,outcome}` on the gateway's /metrics.
async fn delivered_metric(stack: &Stack, event: &str, outcome: &str) -> f64 {
    let page = reqwest::get(format!("{}/metrics", stack.base)).await.unwrap().text().await.unwrap();
    let prefix = format!("mtcp_webhook_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} ");
    page.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn a_message_arrives_as_written_and_one_refused_twice_arrives_on_the_third_attempt() {
    let (receiver, url) = Receiver::start(200, &[("flaky", &[500, 500])]).await;
    let mut stack = stack(&url, 8).await;
    let op_id = operation(&stack).await;

    let requested = message(op_id, "approval.requested", "alice asks to run list_nodes: 2 approvals needed");
    let started = Instant::now();
    webhooks::enqueue(&stack.db.pool, op_id, "approval.requested", &requested).await.unwrap();
    let r = settled(&stack, requested["text"].as_str().unwrap(), Duration::from_secs(10)).await;
    assert_eq!(r, (1, true, false, None), "delivered at the first attempt");
    // Woken by the NOTIFY, not the 5 s poll.
    assert!(started.elapsed() < Duration::from_secs(4), "delivered after {:?}", started.elapsed());
    assert_eq!(receiver.received(), vec![requested.clone()], "the receiver got the exact JSON, once");

    let flaky = message(op_id, "approval.approved", "flaky");
    let started = Instant::now();
    webhooks::enqueue(&stack.db.pool, op_id, "approval.approved", &flaky).await.unwrap();
    let r = settled(&stack, "flaky", Duration::from_secs(15)).await;
    assert_eq!(r, (3, true, false, None), "delivered at the third attempt, the error forgotten");
    assert_eq!(receiver.times_received(&flaky), 3, "two refusals, then taken");
    // Backoff of 200 ms, then 400 ms: not hammered, not waiting for the poll either.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(600) && took < Duration::from_secs(5), "took {took:?}");

    // An event name we do not send is counted as `other` (bounded label values).
    let odd = message(op_id, "something.else", "odd");
    webhooks::enqueue(&stack.db.pool, op_id, "something.else", &odd).await.unwrap();
    assert!(settled(&stack, "odd", Duration::from_secs(10)).await.1);

    assert!(delivered_metric(&stack, "approval.requested", "delivered").await >= 1.0);
    assert!(delivered_metric(&stack, "approval.approved", "retried").await >= 2.0);
    assert!(delivered_metric(&stack, "approval.approved", "delivered").await >= 1.0);
    assert!(delivered_metric(&stack, "other", "delivered").await >= 1.0);
    stack.stop().await;
}

#[tokio::test]
async fn a_receiver_that_always_fails_gets_max_attempts_then_the_message_is_failed_and_counted() {
    let (receiver, url) = Receiver::start(500, &[]).await;
    let mut stack = stack(&url, 2).await;
    let op_id = operation(&stack).await;
    let expired = message(op_id, "approval.expired", "nobody decided on list_nodes in time");
    webhooks::enqueue(&stack.db.pool, op_id, "approval.expired", &expired).await.unwrap();

    let (attempts, delivered, failed, error) =
        settled(&stack, expired["text"].as_str().unwrap(), Duration::from_secs(15)).await;
    assert_eq!((attempts, delivered, failed), (2, false, true));
    let error = error.expect("why it failed is kept");
    assert!(error.contains("HTTP 500"), "{error}");
    assert!(!error.contains(SECRET) && !error.contains("127.0.0.1"), "the URL is a secret: {error}");
    // No attempt after the last.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.times_received(&expired), 2);

    assert!(delivered_metric(&stack, "approval.expired", "retried").await >= 1.0);
    assert!(delivered_metric(&stack, "approval.expired", "failed").await >= 1.0);
    stack.stop().await;
}

#[tokio::test]
async fn two_gateways_deliver_each_message_once() {
    let (receiver, url) = Receiver::start(200, &[]).await;
    let mut stack = stack(&url, 8).await;
    // A second gateway replica on the same database, delivering too.
    let second = mtcp_gateway::Application::build(stack.config.clone(), stack.shutdown.clone()).await.unwrap();
    let second = tokio::spawn(second.run_until_stopped());

    let op_id = operation(&stack).await;
    let messages: Vec<Value> = (0..20).map(|i| message(op_id, "approval.requested", &format!("m{i}"))).collect();
    for m in &messages {
        webhooks::enqueue(&stack.db.pool, op_id, "approval.requested", m).await.unwrap();
    }
    for m in &messages {
        assert!(settled(&stack, m["text"].as_str().unwrap(), Duration::from_secs(10)).await.1, "{m}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for m in &messages {
        assert_eq!(receiver.times_received(m), 1, "{m}");
    }
    stack.stop().await;
    let _ = tokio::time::timeout(Duration::from_secs(10), second).await;
}
