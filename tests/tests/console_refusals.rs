//! What the console refuses: a `readonly` user sees no buttons (in a real browser) and what it
//! posts anyway is refused by the same tool call an MCP client would make, and recorded; a form
//! without this session's CSRF token or from another site is refused before anything runs;
//! revoking the API key a session signed in with signs it out; pages carry a CSP with no script.

use std::time::Duration;

use mtcp_tests::browser::Browser;
use mtcp_tests::client::text_of;
use mtcp_tests::console::{hidden_field, post_sign_in, set_cookies};
use mtcp_tests::{Stack, StackOptions};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;
use sha2::Digest;

/// A console session over plain HTTP: its cookie and CSRF token.
struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

fn hidden(html: &str, name: &str) -> String {
    hidden_field(html, name).unwrap_or_else(|| panic!("no {name} field in {html}"))
}

impl Session {
    /// Sign in through the form, as a browser would.
    async fn sign_in(base: &str, key: &str) -> Result<Self, (StatusCode, String)> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let resp = post_sign_in(&http, base, key, "/console").await.unwrap();
        if resp.status() != StatusCode::SEE_OTHER {
            return Err((resp.status(), resp.text().await.unwrap()));
        }
        let cookie = set_cookies(&resp).into_iter().find(|c| c.starts_with("mtcp_console=")).expect("a session cookie");
        let page = http.get(format!("{base}/console/policy")).header(COOKIE, &cookie).send().await.unwrap();
        let csrf = hidden(&page.text().await.unwrap(), "csrf");
        Ok(Self { http, base: base.to_owned(), cookie, csrf })
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).header(COOKIE, &self.cookie).send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).header(COOKIE, &self.cookie).form(form).send().await.unwrap()
    }
}

async fn live_lease(stack: &Stack) -> String {
    let operator = stack.client("operator").await.unwrap();
    let args = json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" }, "reason": "debug", "ttl_seconds": 600 });
    let r = operator.call("start_proxy", args).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    r.structured_content.unwrap()["lease_id"].as_str().unwrap().to_owned()
}

async fn lease_status(stack: &Stack, lease_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM leases WHERE lease_id = $1::uuid")
        .bind(lease_id)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_readonly_user_sees_no_buttons_and_what_it_posts_anyway_is_refused() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let lease_id = live_lease(&stack).await;

    // In the browser: the readonly user lands on its own role, with one button (sign out).
    let browser = Browser::start().await.unwrap();
    browser.open(&format!("{}/console", stack.base)).await.unwrap();
    browser.fill("#api_key", stack.key("readonly")).await.unwrap();
    browser.click("#sign-in").await.unwrap();
    assert_eq!(browser.path().await.unwrap(), "/console/policy");
    assert_eq!(browser.text("nav").await.unwrap().trim(), "Policy", "no page it may not use is offered");
    assert_eq!(browser.count("button").await.unwrap(), 1, "only `Sign out`");
    assert!(!browser.text("#roles").await.unwrap().contains("admin"), "only its own role is shown");
    browser.screenshot("readonly").await.unwrap();
    browser.open(&format!("{}/console/leases/{lease_id}", stack.base)).await.unwrap();
    assert!(browser.text("#problem").await.unwrap().contains("may not open this page"));
    assert_eq!(browser.count("button").await.unwrap(), 0);
    browser.close().await;

    // Posted anyway, with its own valid session and token: the tool refuses it, and records it.
    let readonly = Session::sign_in(&stack.base, stack.key("readonly")).await.unwrap();
    let stop =
        readonly.post(&format!("/console/leases/{lease_id}/stop"), &[("csrf", &readonly.csrf), ("reason", "x")]).await;
    assert_eq!(stop.status(), StatusCode::FORBIDDEN);
    assert!(stop.text().await.unwrap().contains("denied by policy"));
    let op = uuid::Uuid::now_v7().to_string();
    let approve = readonly
        .post(
            &format!("/console/approvals/{op}/approve"),
            &[("csrf", &readonly.csrf), ("args_sha256", &"0".repeat(64)), ("reason", "x")],
        )
        .await;
    assert_eq!(approve.status(), StatusCode::FORBIDDEN);
    assert!(approve.text().await.unwrap().contains("denied by policy"));
    assert_eq!(lease_status(&stack, &lease_id).await, "active");
    let denied: Vec<String> = sqlx::query_scalar(
        "SELECT tool FROM operations WHERE actor = 'dev-readonly' AND status = 'denied' ORDER BY created_at",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(denied, ["stop_proxy", "approve_operation"], "each refused console action is in the trail");

    // An admin's form without this session's token, or posted from another site, does nothing.
    let admin = Session::sign_in(&stack.base, stack.key("admin")).await.unwrap();
    let path = format!("/console/leases/{lease_id}/stop");
    let forged = admin.post(&path, &[("csrf", "0123"), ("reason", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("CSRF token does not match"));
    let cross = admin
        .http
        .post(format!("{}{path}", stack.base))
        .header(COOKIE, &admin.cookie)
        .header(ORIGIN, "https://evil.example")
        .form(&[("csrf", admin.csrf.as_str()), ("reason", "cross-site")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(lease_status(&stack, &lease_id).await, "active", "neither stopped the lease");
    let stopped = admin.post(&path, &[("csrf", &admin.csrf), ("reason", "the real one")]).await;
    assert_eq!(stopped.status(), StatusCode::SEE_OTHER);
    assert_eq!(lease_status(&stack, &lease_id).await, "stopped");

    // Every page: no script allowed, no framing, no caching; the cookie is HttpOnly and Strict.
    let page = admin.get("/console/operations").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    stack.stop().await;
}

#[tokio::test]
async fn a_bad_key_is_refused_and_revoking_a_key_signs_its_sessions_out() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let refused = Session::sign_in(&stack.base, "not-a-key").await.err().expect("a bad key is refused");
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
    assert!(refused.1.contains("not signed in: the API key is not valid"), "{}", refused.1);
    let mut recorded = 0i64;
    for _ in 0..100 {
        recorded = sqlx::query_scalar("SELECT count(*) FROM operations WHERE capability = 'auth.authenticate'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded, 1, "a refused sign-in is recorded like a refused bearer credential");

    // A database key signs in; the session cookie is what the issue asks for.
    let key = mtcp_cli::dev::new_api_key();
    let hash: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let key_id = uuid::Uuid::new_v4();
    let new = mtcp_shared::db::api_keys::NewApiKey {
        key_id,
        actor: "carol",
        role: "admin",
        kind: "user",
        sha256: &hash,
        description: None,
        expires_at: None,
    };
    mtcp_shared::db::api_keys::insert(&stack.db.pool, &new).await.unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed = post_sign_in(&http, &stack.base, &key, "/console/agents").await.unwrap();
    assert_eq!(signed.headers()[LOCATION], "/console/agents");
    let set = signed.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("mtcp_console=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(!session.contains(&key), "the cookie never carries the key");
    let carol = Session::sign_in(&stack.base, &key).await.unwrap();
    assert_eq!(carol.get("/console/agents").await.status(), StatusCode::OK);
    // Nothing about the session in the database signs anyone in.
    let stored: Vec<(Vec<u8>, serde_json::Value)> =
        sqlx::query_as("SELECT session_sha256, actor FROM console_sessions").fetch_all(&stack.db.pool).await.unwrap();
    assert!(stored.iter().all(|(id, actor)| id.len() == 32 && actor["id"] == "carol"), "{stored:?}");

    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1")
        .bind(key_id)
        .execute(&stack.db.pool)
        .await
        .unwrap();
    let after = carol.get("/console/agents").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let to = after.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.starts_with("/console/sign-in") && to.contains("revoked"), "{to}");
    stack.stop().await;
}

#[tokio::test]
async fn a_console_switched_off_serves_nothing() {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| c.console.enabled = false);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    for path in ["/console", "/console/sign-in", "/console/operations"] {
        let resp = reqwest::get(format!("{}{path}", stack.base)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    stack.stop().await;
}
