//! A local webhook receiver for tests: records every JSON body it is sent, and answers 500 to the
//! first `fail_first` deliveries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;

/// What the receiver got.
#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    failures_left: Arc<Mutex<u32>>,
}

impl Receiver {
    /// Listen on 127.0.0.1 (a random port) at `/hook`.
    pub async fn start(fail_first: u32) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut receiver = Self { failures_left: Arc::new(Mutex::new(fail_first)), ..Self::default() };
        receiver.url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (bodies, failures) = (receiver.bodies.clone(), receiver.failures_left.clone());
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: axum::Json<serde_json::Value>| {
                let (bodies, failures) = (bodies.clone(), failures.clone());
                async move {
                    let mut left = failures.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    bodies.lock().unwrap().push(body.0);
                    StatusCode::OK
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// The bodies received so far whose `event` is `event`.
    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().iter().filter(|b| b["event"] == event).cloned().collect()
    }

    /// Wait (up to 20 s) for a body whose `event` is `event` and whose `op_id` is `op_id`.
    pub async fn wait_for(&self, event: &str, op_id: &str) -> serde_json::Value {
        for _ in 0..200 {
            if let Some(b) = self.events(event).into_iter().find(|b| b["op_id"] == op_id) {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {event} message for {op_id}; got {:?}", self.bodies.lock().unwrap());
    }
}
