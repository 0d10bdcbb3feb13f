//! The console's browser-facing defences: a Content-Security-Policy that allows no script at all
//! (nor frames, plugins, or forms to other sites), headers that keep pages out of caches and
//! frames, and a same-origin check on every form post (on top of `SameSite=Strict` cookies and
//! the per-session CSRF token).

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::page::Problem;

/// No `script-src` but `'none'`: the console has no script, so an injected one cannot run.
pub const CSP: &str = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: the security headers on every console answer.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Console URLs (operation and lease ids) never leave in a Referer; `no-referrer` would also
    // make browsers post forms with `Origin: null`, which the same-origin check refuses.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Pages carry the trail and CSRF tokens: never kept by a browser or a shared cache.
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Middleware: a form post whose `Origin` is another site's is refused before anything reads it.
/// Browsers send `Origin` on every post; its host must be the one the page was served from.
pub async fn same_origin_posts(req: Request, next: Next) -> Response {
    if req.method() == Method::POST
        && let Some(problem) = cross_origin(&req)
    {
        tracing::info!(%problem, "console form post refused by its Origin");
        return Problem::new(StatusCode::FORBIDDEN, problem).into_response();
    }
    next.run(req).await
}

fn cross_origin(req: &Request) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?;
    // HTTP/1 names the host in `Host`, HTTP/2 in the `:authority` the URI carries.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest);
    match origin_host {
        Some(h) if !host.is_empty() && h.eq_ignore_ascii_case(host) => None,
        _ => Some("this form was posted from another site; the console accepts its own forms only".into()),
    }
}

/// The one stylesheet, compiled in.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/console.css"),
    )
        .into_response()
}
