//! The console's OIDC sign-in end to end: a fake identity provider (`mtcp_tests::idp`) that checks
//! the client, the redirect URI and PKCE like a real one; the test is the browser (no redirects
//! followed for it, cookies kept by hand). A sign-in becomes a session for `oidc:<sub>` with the
//! token's role; a tampered `state`, a code from another flow (PKCE), the provider's error and a
//! token whose role is unknown are all refused with a page saying why, and no session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::ConsoleOidcConfig;
use mtcp_tests::idp::{CLIENT_ID, FakeIdp};
use mtcp_tests::{Stack, StackOptions, Tweak};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use secrecy::SecretString;
use serde_json::json;

/// The callback URL registered with the provider. The gateway's port is only known once it has
/// started, so the registration names a placeholder origin that [`Browser`] maps to the gateway
/// (exactly what a reverse proxy in front of it would do).
const REDIRECT: &str = "http://127.0.0.1:9/console/oidc/callback";
const REDIRECT_ORIGIN: &str = "http://127.0.0.1:9";
const CLIENT_SECRET: &str = "s3cret: with/odd chars";

async fn setup() -> (Stack, FakeIdp) {
    let idp = FakeIdp::start(REDIRECT, Some(CLIENT_SECRET)).await;
    let (authorize, token) = (idp.authorization_endpoint(), idp.token_endpoint());
    let tweak: Tweak = Arc::new(move |c| {
        c.auth.oidc = Some(mtcp_tests::oidc::config());
        c.console.oidc = Some(ConsoleOidcConfig {
            client_id: CLIENT_ID.into(),
            client_secret: Some(SecretString::from(CLIENT_SECRET)),
            authorization_endpoint: authorize.clone(),
            token_endpoint: token.clone(),
            redirect_url: REDIRECT.into(),
            scopes: vec!["openid".into(), "mcp:tools".into()],
        });
    });
    let stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    (stack, idp)
}

/// One answer, as a browser sees it.
struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Page {
    fn sets(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().map(String::as_str).find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// A browser without a script: cookies per origin, redirects followed by the test.
struct Browser {
    http: reqwest::Client,
    gateway: String,
    cookies: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn new(stack: &Stack) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, gateway: stack.base.clone(), cookies: HashMap::new() }
    }

    /// GET `url` (a path is the gateway's; the registered callback origin is the gateway).
    async fn get(&mut self, url: &str) -> Page {
        let url = match url.strip_prefix(REDIRECT_ORIGIN) {
            Some(rest) => format!("{}{rest}", self.gateway),
            None if url.starts_with('/') => format!("{}{url}", self.gateway),
            None => url.to_owned(),
        };
        let parsed = reqwest::Url::parse(&url).unwrap();
        let origin = parsed.origin().ascii_serialization();
        let mut req = self.http.get(parsed);
        if let Some(jar) = self.cookies.get(&origin).filter(|j| !j.is_empty()) {
            req = req.header(COOKIE, jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "));
        }
        let resp = req.send().await.unwrap();
        let set_cookies: Vec<String> =
            resp.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let jar = self.cookies.entry(origin).or_default();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || c.to_ascii_lowercase().contains("max-age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, set_cookies, body: resp.text().await.unwrap() }
    }

    /// Start a sign-in and pass the provider: the callback URL the provider sends the browser to.
    async fn through_provider(&mut self, next: &str) -> String {
        let start = self.get(&format!("/console/oidc/start?next={next}")).await;
        assert_eq!(start.status, 303, "{}", start.body);
        let at_idp = self.get(start.location.as_deref().unwrap()).await;
        assert_eq!(at_idp.status, 303, "the provider refused the authorization request: {}", at_idp.body);
        let back = at_idp.location.unwrap();
        assert!(back.starts_with(REDIRECT), "{back}");
        back
    }

    fn has_session(&self) -> bool {
        self.cookies.values().any(|jar| jar.contains_key("mtcp_console"))
    }
}

/// Rows recording refused authentications for `actor` (recorded off the request path: waited for).
async fn refusals_of(stack: &Stack, actor: &str, reason: &str) -> i64 {
    for _ in 0..50 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM operations WHERE capability = 'auth.authenticate' AND actor = $1 \
             AND inputs->>'failure' = $2",
        )
        .bind(actor)
        .bind(reason)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
        if n > 0 {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    0
}

#[tokio::test]
async fn a_sign_in_at_the_provider_becomes_a_session_with_the_tokens_actor_and_role() {
    let (mut stack, idp) = setup().await;
    let mut browser = Browser::new(&stack);

    let start = browser.get("/console/oidc/start?next=/console/policy").await;
    assert_eq!(start.status, 303, "{}", start.body);
    let flow = start.sets("mtcp_console_oidc").expect("the flow cookie is set");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console/oidc", "Max-Age=600"] {
        assert!(flow.contains(attribute), "{attribute} missing: {flow}");
    }
    let to_idp = start.location.clone().unwrap();
    assert!(to_idp.starts_with(&idp.authorization_endpoint()), "{to_idp}");

    let at_idp = browser.get(&to_idp).await;
    assert_eq!(at_idp.status, 303, "{}", at_idp.body);
    let asked = idp.last_authorize();
    assert_eq!(asked["scope"], "openid mcp:tools");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["redirect_uri"], REDIRECT);

    let back = at_idp.location.unwrap();
    let done = browser.get(&back).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/console/policy"));
    let session = done.sets("mtcp_console").expect("a session cookie");
    assert!(session.contains("SameSite=Strict") && session.contains("HttpOnly"), "{session}");
    // The session lasts no longer than the five-minute token it came from.
    let max_age: i64 =
        session.split(';').find_map(|a| a.trim().strip_prefix("Max-Age=")).and_then(|v| v.parse().ok()).unwrap();
    assert!((250..=300).contains(&max_age), "{session}");
    assert!(done.sets("mtcp_console_oidc").is_some_and(|c| c.contains("Max-Age=0")), "the flow cookie is cleared");

    let policy = browser.get("/console/policy").await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    assert!(policy.body.contains("oidc:alice"), "{}", policy.body);
    assert!(policy.body.contains(r#"<span class="role">admin</span>"#), "{}", policy.body);

    // The callback is good once: its flow is gone.
    let mut replay = Browser::new(&stack);
    let again = replay.get(&back).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("not started in this browser"), "{}", again.body);
    assert!(!replay.has_session());
    stack.stop().await;
}

#[tokio::test]
async fn a_tampered_state_a_stolen_code_or_the_providers_error_signs_nobody_in() {
    let (mut stack, _idp) = setup().await;

    // The state is not the one this browser's flow holds.
    let mut browser = Browser::new(&stack);
    let back = browser.through_provider("/console").await;
    let tampered = back.replace("state=", "state=x");
    let page = browser.get(&tampered).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("does not belong to the sign-in this browser started"), "{}", page.body);
    assert!(!browser.has_session());

    // A code issued to another flow (say, intercepted): the state is right, but the verifier this
    // flow sends is not the one that code's challenge was made from, so the provider refuses it.
    let mut victim = Browser::new(&stack);
    let stolen = victim.through_provider("/console").await;
    let stolen_code = query(&stolen, "code");
    let mut attacker = Browser::new(&stack);
    let own = attacker.through_provider("/console").await;
    let injected = own.replace(&format!("code={}", query(&own, "code")), &format!("code={stolen_code}"));
    let page = attacker.get(&injected).await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert!(page.body.contains("refused the sign-in code: invalid_grant (PKCE verification failed)"), "{}", page.body);
    assert!(!attacker.has_session());

    // The provider's own refusal is shown as text.
    let mut browser = Browser::new(&stack);
    let back = browser.through_provider("/console").await;
    let state = query(&back, "state");
    let page = browser
        .get(&format!("{REDIRECT}?error=access_denied&error_description=%3Cb%3Enope%3C%2Fb%3E&state={state}"))
        .await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert!(page.body.contains("access_denied (&#60;b&#62;nope&#60;/b&#62;)"), "{}", page.body);
    assert!(!page.body.contains("<b>nope"), "{}", page.body);
    assert!(!browser.has_session());
    // A missing code, with the right state.
    let mut browser = Browser::new(&stack);
    let back = browser.through_provider("/console").await;
    let page = browser.get(&format!("{REDIRECT}?state={}", query(&back, "state"))).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("no authorization code"), "{}", page.body);

    assert!(refusals_of(&stack, "anonymous", "oidc_state_mismatch").await > 0);
    assert!(refusals_of(&stack, "anonymous", "oidc_token_request").await > 0);
    stack.stop().await;
}

#[tokio::test]
async fn a_token_whose_role_is_unknown_starts_no_session() {
    let (mut stack, idp) = setup().await;
    idp.sign_in_as("mallory", json!({ "mtcp_role": "superuser" }));
    let mut browser = Browser::new(&stack);
    let back = browser.through_provider("/console/policy").await;
    let page = browser.get(&back).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("oidc:mallory") && page.body.contains("no role"), "{}", page.body);
    assert!(page.sets("mtcp_console").is_none() && !browser.has_session());
    let policy = browser.get("/console/policy").await;
    assert_eq!(policy.status, 303);
    assert!(policy.location.unwrap().starts_with("/console/sign-in"));
    assert_eq!(refusals_of(&stack, "oidc:mallory", "no_role").await, 1);
    stack.stop().await;
}

/// One query parameter of `url`.
fn query(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
}
