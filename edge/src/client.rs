//! The gateway's `/edge/v1` endpoints over HTTP(S), with the agent's bearer credential, and what
//! each answer means for the agent.

use std::time::Duration;

use mtcp_shared::edge::PREFIX;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::credential::Credential;

/// Time limit of one request (the long poll sets its own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// 401: the credential is missing, unknown or revoked.
    #[error("the gateway refused the edge credential (401): was it revoked?")]
    Unauthorized,
    /// 409: this run is not the agent's current one.
    #[error("the gateway answered 409: this run of the agent was superseded")]
    Superseded,
    /// Another 4xx: the request itself is refused; sending it again will not help.
    #[error("the gateway refused the request ({status}): {body}")]
    Rejected { status: u16, body: String },
    /// No answer, a 5xx or 429: try again later.
    #[error("the gateway could not be reached: {0}")]
    Unreachable(String),
}

/// The credential travels in every request: only `https://`, or `http://` to this host's loopback
/// (a gateway on the same machine, a local TLS-terminating tunnel).
pub fn check_gateway_url(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("--gateway {url:?} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => anyhow::bail!(
            "--gateway must be https:// (or http:// to 127.0.0.1, ::1 or localhost): the edge credential is sent \
             with every request"
        ),
    }
}

/// A client of one gateway.
#[derive(Clone)]
pub struct Gateway {
    http: reqwest::Client,
    base: String,
    credential: Credential,
}

impl Gateway {
    pub fn new(url: &str, credential: Credential) -> anyhow::Result<Self> {
        check_gateway_url(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // The credential goes to the gateway named, never where a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mtcp-edge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: format!("{}{PREFIX}", url.trim_end_matches('/')), credential })
    }

    /// `POST {PREFIX}{path}` with a JSON body, decoding a JSON answer.
    pub async fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, CallError> {
        self.post_within(path, body, REQUEST_TIMEOUT).await
    }

    /// [`Gateway::post`] with its own time limit (the long poll).
    pub async fn post_within<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<R, CallError> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.credential.bearer())
            .timeout(timeout)
            .json(body)
            .send()
            .await
            // Without the URL: a transport error's text is all the log needs.
            .map_err(|e| CallError::Unreachable(chain(&e.without_url())))?;
        let status = answer.status();
        if status.is_success() {
            let bytes = answer.bytes().await.map_err(|e| CallError::Unreachable(e.without_url().to_string()))?;
            // An empty answer (204) reads as `null`, which `()` accepts.
            let bytes = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            return serde_json::from_slice(bytes)
                .map_err(|e| CallError::Unreachable(format!("the gateway's answer to {path} is not understood: {e}")));
        }
        let body = answer.text().await.unwrap_or_default();
        Err(classify(status, body))
    }
}

/// An error and its causes ("error sending request: … Connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn classify(status: StatusCode, body: String) -> CallError {
    let body = mtcp_shared::redact::redact_text(body.chars().take(500).collect::<String>().trim());
    match status {
        StatusCode::UNAUTHORIZED => CallError::Unauthorized,
        StatusCode::CONFLICT => CallError::Superseded,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
            CallError::Unreachable(format!("{status}: {body}"))
        }
        s if s.is_client_error() => CallError::Rejected { status: s.as_u16(), body },
        s => CallError::Unreachable(format!("{s}: {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_what_the_agent_does() {
        let c = |code: u16| classify(StatusCode::from_u16(code).unwrap(), "why".into());
        assert!(matches!(c(401), CallError::Unauthorized));
        assert!(matches!(c(409), CallError::Superseded));
        assert!(matches!(c(400), CallError::Rejected { status: 400, .. }));
        assert!(matches!(c(404), CallError::Rejected { status: 404, .. }));
        assert!(matches!(c(503), CallError::Unreachable(_)));
        assert!(matches!(c(429), CallError::Unreachable(_)));
    }
}
