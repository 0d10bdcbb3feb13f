//! The effective policy: every role's grants and constraints, the bindings that give callers
//! their role, and the API keys with theirs. An admin's page; any other role sees its own role
//! (what `whoami` tells it). The policy is the gateway's own configuration, read from memory.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use mtcp_shared::db;

use super::Console;
use super::page::{Chrome, Section, pretty, render, when_opt};
use super::session::Signed;

struct Role {
    name: String,
    grants: String,
    constraints: String,
    yours: bool,
}

struct Key {
    source: &'static str,
    actor: String,
    role: String,
    kind: String,
    state: String,
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    version: String,
    roles: Vec<Role>,
    /// Selector, role; none unless the page is an admin's.
    bindings: Option<Vec<(String, String)>>,
    default_role: Option<String>,
    keys: Option<Vec<Key>>,
    keys_error: Option<String>,
}

/// `GET /console/policy`.
pub async fn show(State(console): State<Console>, signed: Signed) -> Response {
    let chrome = Chrome::new(&console, &signed, Section::Policy);
    let policy = console.app.policy.load_full();
    let everything = chrome.can.admin;
    let roles = policy
        .role_names()
        .filter(|name| everything || *name == signed.actor.role)
        .filter_map(|name| policy.role(name).map(|def| (name, def)))
        .map(|(name, def)| Role {
            name: name.to_owned(),
            grants: def.grants.join(", "),
            constraints: serde_json::to_value(&def.constraints).map(|v| pretty(&v)).unwrap_or_default(),
            yours: name == signed.actor.role,
        })
        .collect();
    let (mut bindings, mut keys, mut keys_error) = (None, None, None);
    if everything {
        bindings = Some(policy.bindings().iter().map(|b| (selector(b), b.role.clone())).collect());
        let mut all: Vec<Key> = console
            .app
            .config
            .auth
            .api_keys
            .iter()
            .map(|k| Key {
                source: "configuration",
                actor: k.actor.clone(),
                role: k.role.clone().unwrap_or_else(|| "(by the policy)".to_owned()),
                kind: format!("{:?}", k.kind).to_lowercase(),
                state: "active".to_owned(),
            })
            .collect();
        match db::api_keys::list(&console.app.pool).await {
            Ok(rows) => all.extend(rows.into_iter().map(|r| Key {
                source: "database",
                state: match (r.revoked_at, r.expires_at) {
                    (Some(at), _) => format!("revoked {}", when_opt(&Some(at))),
                    (None, Some(at)) if at <= chrono::Utc::now() => format!("expired {}", when_opt(&Some(at))),
                    (None, Some(at)) => format!("expires {}", when_opt(&Some(at))),
                    (None, None) => "active".to_owned(),
                },
                actor: r.actor,
                role: r.role,
                kind: r.kind,
            })),
            Err(e) => {
                tracing::error!(error = %e, "listing API keys");
                keys_error = Some("the control plane's database is unavailable; try again".to_owned());
            }
        }
        keys = Some(all);
    }
    let page = PolicyPage {
        chrome,
        version: policy.version().to_owned(),
        roles,
        bindings,
        default_role: policy.default_role().map(str::to_owned),
        keys,
        keys_error,
    };
    render(&page)
}

/// What a binding matches, in words.
fn selector(b: &mtcp_shared::policy::Binding) -> String {
    match (&b.actor, &b.group, &b.claim) {
        (Some(actor), _, _) => format!("actor {actor}"),
        (_, Some(group), _) => format!("group {group}"),
        (_, _, Some(claim)) => format!("claim {} = {}", claim.name, claim.value),
        _ => "nothing".to_owned(),
    }
}
