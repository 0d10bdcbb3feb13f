//! The effective policy: every role's grants and constraints, the bindings that give callers
//! their role, and the API keys with theirs. An admin's page; any other role sees its own role
//! (what `whoami` tells it). The policy is the gateway's own configuration, read from memory.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use mtcp_shared::db;
use mtcp_shared::policy::Constraints;
use serde_json::{Map, Value};

use super::Console;
use super::page::{Chrome, Section, pretty, render, when_opt};
use super::session::Signed;

struct Role {
    name: String,
    grants: String,
    constraints: String,
    /// The clusters the role may use, or "all".
    clusters: String,
    /// Grants, the clusters they hold on.
    cluster_grants: Vec<(String, String)>,
    /// Cluster, the constraints that differ there from the role's.
    cluster_constraints: Vec<(String, String)>,
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
            clusters: if def.clusters.is_empty() { "all".to_owned() } else { def.clusters.join(", ") },
            cluster_grants: def.cluster_grants.iter().map(|g| (g.grants.join(", "), g.clusters.join(", "))).collect(),
            cluster_constraints: def
                .cluster_constraints
                .iter()
                .map(|(cluster, c)| (cluster.clone(), differences(&def.constraints, c)))
                .collect(),
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

/// The keys of `on_cluster` whose values differ from `role`'s, as JSON (merged constraints repeat
/// everything; only the overrides say something).
fn differences(role: &Constraints, on_cluster: &Constraints) -> String {
    let (Ok(Value::Object(role)), Ok(Value::Object(on))) =
        (serde_json::to_value(role), serde_json::to_value(on_cluster))
    else {
        return String::new();
    };
    // Overrides only set keys (never unset one), so the differing keys of the merged value say it all.
    let differ: Map<String, Value> = on.into_iter().filter(|(k, v)| role.get(k) != Some(v)).collect();
    pretty(&Value::Object(differ))
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

#[cfg(test)]
mod tests {
    use mtcp_shared::policy::{Policy, PolicySettings};

    #[test]
    fn a_clusters_constraints_show_only_what_it_overrides() {
        let settings = PolicySettings {
            allow_tsh_passthrough: false,
            allow_tctl_passthrough: false,
            default_proxy_ttl_seconds: 3600,
            max_concurrent_proxies_per_actor: 10,
            max_in_flight_calls_per_actor: None,
            rate_limit: None,
        };
        let yaml = "roles:\n  ops:\n    grants: ['inventory.*']\n    cluster_constraints:\n      prod: { require_ticket: true, max_ttl_seconds: 900 }\n";
        let p = Policy::from_file(settings, yaml).unwrap();
        let def = p.role("ops").unwrap();
        let shown = super::differences(&def.constraints, &def.cluster_constraints["prod"]);
        let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown, serde_json::json!({ "require_ticket": true, "max_ttl_seconds": 900 }));
    }
}
