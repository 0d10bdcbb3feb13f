//! A local webhook receiver for tests: records every JSON body it is sent and answers each message
//! (told apart by its `text`) with the statuses scripted for it, in turn, then with the default.

// Each test target that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

/// The secret part of the receiver's URL, as Slack puts its token in the path.
pub const SECRET: &str = "T0SECRET-B0SECRET-xoxb";

#[derive(Clone)]
pub struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
    default: u16,
}

impl Receiver {
    /// Serve on 127.0.0.1; returns the URL to configure.
    pub async fn start(default: u16, script: &[(&str, &[u16])]) -> (Self, String) {
        let script = script.iter().map(|(text, codes)| ((*text).to_owned(), codes.iter().copied().collect())).collect();
        let receiver = Self { received: Arc::default(), script: Arc::new(Mutex::new(script)), default };
        let app = axum::Router::new()
            .route(&format!("/services/{SECRET}"), axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/services/{SECRET}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    pub fn times_received(&self, message: &Value) -> usize {
        self.received().iter().filter(|m| *m == message).count()
    }

    /// Wait (up to 20 s) for a body whose `event` is `event` and whose `op_id` is `op_id`.
    pub async fn wait_for(&self, event: &str, op_id: &str) -> Value {
        for _ in 0..200 {
            if let Some(b) = self.received().into_iter().find(|b| b["event"] == event && b["op_id"] == op_id) {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {event} message for {op_id}; got {:?}", self.received());
    }
}

async fn receive(State(r): State<Receiver>, axum::Json(body): axum::Json<Value>) -> StatusCode {
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    r.received.lock().unwrap().push(body);
    let code = r.script.lock().unwrap().get_mut(&text).and_then(VecDeque::pop_front).unwrap_or(r.default);
    StatusCode::from_u16(code).unwrap()
}
