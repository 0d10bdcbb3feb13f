//! `Origin` on `/mcp`: the MCP streamable HTTP transport says servers MUST validate it, against DNS
//! rebinding (a page on another site reaching a gateway through a name that resolves to it). A
//! request without `Origin` — every non-browser client — passes; one with it passes only when its
//! host is loopback or in `service.allowed_hosts` (with the port, when the entry names one), and
//! `"*"` there turns the check off, as it does the `Host` check.
//!
//! rmcp has an Origin check of its own, but it runs innermost, after authentication and after the
//! intake has acted on `notifications/cancelled`; this one runs before either.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Host names always allowed (the gateway's own machine).
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Characters of a refused Origin echoed in the answer.
const ECHO_CHARS: usize = 200;

/// Middleware: refuse a request whose `Origin` is not ours with 403.
pub async fn check_origin(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match refusal(req.headers(), &st.config.service.allowed_hosts) {
        None => next.run(req).await,
        Some(message) => {
            tracing::info!(%message, "request refused by its Origin");
            let body = serde_json::json!({ "error": "forbidden", "reason": "origin", "message": message });
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        }
    }
}

/// Why the request's `Origin` is refused, or `None` when it is absent or allowed.
fn refusal(headers: &HeaderMap, allowed_hosts: &[String]) -> Option<String> {
    if allowed_hosts.iter().any(|h| h == "*") {
        return None;
    }
    let mut values = headers.get_all(header::ORIGIN).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return Some("the request has more than one Origin header".into());
    }
    let Ok(text) = value.to_str() else {
        return Some("the Origin header is not visible ASCII".into());
    };
    let shown: String = text.chars().take(ECHO_CHARS).collect();
    let Some((host, port)) = parse_origin(text) else {
        return Some(format!("Origin {shown:?} is not scheme://host[:port]"));
    };
    let allowed = LOOPBACK.iter().any(|l| *l == host)
        || allowed_hosts
            .iter()
            .filter_map(|entry| parse_entry(entry))
            .any(|(h, p)| h == host && p.is_none_or(|p| p == port));
    (!allowed).then(|| {
        format!("Origin {shown:?} is not allowed: its host is neither loopback nor listed in `service.allowed_hosts`")
    })
}

/// The host (lower case, IPv6 without brackets) and port (the scheme's default when absent) of an
/// Origin serialization; `None` for `null` and anything else that is not `scheme://host[:port]`.
fn parse_origin(text: &str) -> Option<(String, u16)> {
    let uri = text.parse::<http::Uri>().ok()?;
    if uri.path_and_query().is_some_and(|p| !matches!(p.as_str(), "" | "/")) {
        return None;
    }
    let authority = uri.authority()?;
    let port = match (authority.port_u16(), uri.scheme_str()?) {
        (Some(port), _) => port,
        (None, "https") => 443,
        (None, "http") => 80,
        (None, _) => return None,
    };
    Some((normalise(authority.host()), port))
}

/// An `allowed_hosts` entry: `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn parse_entry(entry: &str) -> Option<(String, Option<u16>)> {
    if entry.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some((normalise(entry), None));
    }
    let authority = entry.trim().parse::<http::uri::Authority>().ok()?;
    Some((normalise(authority.host()), authority.port_u16()))
}

fn normalise(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(origin: Option<&str>, hosts: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        refusal(&headers, &hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn loopback_and_listed_hosts_pass_others_are_named() {
        assert_eq!(check(None, &[]), None);
        for ok in ["http://localhost:6274", "http://127.0.0.1", "https://[::1]:8443", "HTTP://LOCALHOST"] {
            assert_eq!(check(Some(ok), &[]), None, "{ok}");
        }
        assert_eq!(check(Some("https://mcp.example.com"), &["mcp.example.com"]), None);
        assert_eq!(check(Some("https://mcp.example.com"), &["mcp.example.com:443"]), None);
        let refused = check(Some("https://mcp.example.com:8443"), &["mcp.example.com:443"]).unwrap();
        assert!(refused.contains("https://mcp.example.com:8443") && refused.contains("service.allowed_hosts"));
        let refused = check(Some("http://evil.example"), &["mcp.example.com"]).unwrap();
        assert!(refused.contains("\"http://evil.example\""), "{refused}");
        assert!(check(Some("null"), &[]).unwrap().contains("scheme://host"));
        // A rebinding name that merely starts like ours.
        assert!(check(Some("http://localhost.evil.example"), &[]).is_some());
        assert_eq!(check(Some("http://evil.example"), &["*"]), None);
    }
}
