//! A kept-alive HTTP load driver for any stateless Streamable HTTP MCP server: N concurrent
//! closed-loop clients share one pooled HTTP/1.1 client and POST `tools/call` JSON-RPC bodies for a
//! fixed time. No session, no `initialize`: each request carries `MCP-Protocol-Version`, as a
//! stateless client does. The same code drives this gateway and the Python peer.
//!
//! A call counts as OK only when its answer (a JSON body, or the SSE `data:` line with the
//! request's id) holds a JSON-RPC `result` whose `isError` is not true.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::{ms, percentile};

/// The revision every stateless request declares; both servers accept it without a handshake.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// What one round measured.
pub struct Load {
    /// Latencies of the calls that succeeded, sorted.
    pub ok: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
    /// The first error seen, to say why a round failed.
    pub first_error: Option<String>,
    /// The oldest answer received: the most time between an answer's `mtcp/as_of` (when it was
    /// produced) and its arrival, seconds (none when no answer carried one).
    pub oldest_answer: Option<f64>,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.ok.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn p(&self, q: f64) -> Duration {
        percentile(&self.ok, q)
    }

    /// `calls/s · p50/p99 ms`, plus the errors if any (one table cell).
    pub fn cell(&self) -> String {
        let errors = if self.errors > 0 { format!(" ({} err)", self.errors) } else { String::new() };
        format!("{:.1} · {}/{}{errors}", self.rate(), ms(self.p(0.5)), ms(self.p(0.99)))
    }
}

/// The target of a load: the MCP endpoint and its credential.
#[derive(Clone)]
pub struct Target {
    pub url: String,
    pub bearer: Option<String>,
}

/// One pooled keep-alive client with room for `clients` idle connections (so no call pays for a
/// new connection once every client has made one).
fn http_client(clients: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Make one `tools/call` and return whether it succeeded, with the reason if not; on success, how
/// old its answer was (from its `_meta["mtcp/as_of"]`, when it has one).
async fn call(http: &reqwest::Client, target: &Target, id: u64, tool: &str) -> Result<Option<f64>, String> {
    let body =
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": {} } });
    let mut req = http
        .post(&target.url)
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .header("MCP-Protocol-Version", PROTOCOL_VERSION)
        .body(body.to_string());
    if let Some(key) = &target.bearer {
        req = req.header("Authorization", format!("Bearer {key}"));
    }
    let resp = req.send().await.map_err(|e| format!("request: {e}"))?;
    let status = resp.status();
    let sse = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    // Reading the whole body: a stateless answer's SSE stream ends after the response.
    let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()));
    }
    let answer = if sse { sse_answer(&text, id) } else { serde_json::from_str(&text).ok() };
    let answer = answer.ok_or_else(|| format!("no JSON-RPC answer for id {id}: {}", abbrev(&text)))?;
    match answer.get("result") {
        Some(r) if r.get("isError").and_then(Value::as_bool) != Some(true) => Ok(age_of(r)),
        Some(r) => Err(format!("tool error: {}", abbrev(&r.to_string()))),
        None => Err(format!("JSON-RPC error: {}", abbrev(&answer.to_string()))),
    }
}

/// The larger of two optional ages.
fn later(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Seconds since the answer `result` says it was produced.
fn age_of(result: &Value) -> Option<f64> {
    let as_of = result.pointer("/_meta/mtcp~1as_of")?.as_str()?;
    let as_of = chrono::DateTime::parse_from_rfc3339(as_of).ok()?;
    Some((chrono::Utc::now() - as_of.with_timezone(&chrono::Utc)).as_seconds_f64())
}

fn abbrev(s: &str) -> String {
    s.chars().take(300).collect()
}

/// The JSON-RPC message answering `id` among an SSE body's `data:` lines.
fn sse_answer(text: &str, id: u64) -> Option<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim_start()).ok())
        .find(|m| m.get("id").and_then(Value::as_u64) == Some(id))
}

/// Run `clients` closed loops calling `tool` for `duration` (after one warm-up call each, which also
/// opens the pooled connections). `tool` takes no arguments.
pub async fn drive(target: &Target, tool: &str, clients: usize, duration: Duration) -> anyhow::Result<Load> {
    let http = http_client(clients)?;
    let ids = Arc::new(AtomicU64::new(1));
    // Warm-up, concurrently, so `clients` connections exist; a failure here is the server's
    // answer to the very first call: report it instead of measuring errors.
    let warm: Vec<_> = (0..clients)
        .map(|_| {
            let (http, target, tool, id) =
                (http.clone(), target.clone(), tool.to_owned(), ids.fetch_add(1, Ordering::Relaxed));
            tokio::spawn(async move { call(&http, &target, id, &tool).await })
        })
        .collect();
    for w in warm {
        w.await?.map_err(anyhow::Error::msg).with_context(|| format!("warm-up call to {}", target.url))?;
    }
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, target, tool, ids) = (http.clone(), target.clone(), tool.to_owned(), ids.clone());
            tokio::spawn(async move {
                let (mut ok, mut errors, mut first_error) = (Vec::new(), 0usize, None);
                let mut oldest: Option<f64> = None;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match call(&http, &target, ids.fetch_add(1, Ordering::Relaxed), &tool).await {
                        Ok(age) => {
                            ok.push(t.elapsed());
                            oldest = later(oldest, age);
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (ok, errors, first_error, oldest)
            })
        })
        .collect();
    let mut load = Load { ok: Vec::new(), errors: 0, elapsed: Duration::ZERO, first_error: None, oldest_answer: None };
    for t in tasks {
        let (ok, errors, first, oldest) = t.await?;
        load.ok.extend(ok);
        load.errors += errors;
        load.oldest_answer = later(load.oldest_answer, oldest);
        if load.first_error.is_none() {
            load.first_error = first;
        }
    }
    load.elapsed = started.elapsed();
    load.ok.sort();
    Ok(load)
}

#[cfg(test)]
mod tests {
    use super::sse_answer;

    #[test]
    fn picks_the_answer_with_the_request_id_among_sse_events() {
        let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
                    id: 0\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}\n\n";
        assert!(sse_answer(body, 7).unwrap().get("result").is_some());
        assert!(sse_answer(body, 8).is_none());
    }
}
