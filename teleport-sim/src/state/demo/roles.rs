//! Demo roles: the presets plus custom roles, several of them risky on purpose (wildcard rules,
//! root on every node, impersonation, unchecked requests for `editor`, month-long sessions,
//! reviewers of admin roles).

use super::Gen;
use super::role_presets::{access, auditor, editor, options, role, rule};
use crate::value::{Value, obj};

/// All demo roles, sorted by name as the backend returns them.
pub fn all() -> Vec<Value> {
    let mut rng = Gen::new(0x726f_6c65);
    let g = &mut rng;
    let standard = || options("8h0m0s", false, None);
    let mut roles = vec![
        access(g),
        editor(g),
        auditor(g),
        role(
            "cluster-admin",
            "Break-glass administrator",
            false,
            standard(),
            obj! { "logins" => vec!["{{internal.logins}}"], "rules" => vec![rule(&["*"], &["*"])] },
            obj! {},
            g,
        ),
        role(
            "ops-root",
            "On-call operators",
            false,
            options("12h0m0s", true, None),
            obj! { "logins" => vec!["root", "{{internal.logins}}"], "node_labels" => obj! { "*" => "*" } },
            obj! {},
            g,
        ),
        role(
            "impersonator",
            "Service account that can act as anyone",
            false,
            standard(),
            obj! { "impersonate" => obj! { "users" => vec!["*"], "roles" => vec!["*"] } },
            obj! {},
            g,
        ),
        role(
            "dev-requester",
            "Developers who may ask for editor",
            false,
            standard(),
            obj! {
                "logins" => vec!["ubuntu"],
                "node_labels" => obj! { "env" => "dev" },
                "request" => obj! { "roles" => vec!["editor"] },
            },
            obj! {},
            g,
        ),
        role(
            "long-session",
            "Contractors with month-long certificates",
            false,
            options("720h0m0s", false, None),
            obj! { "logins" => vec!["{{internal.logins}}"], "node_labels" => obj! { "env" => "staging" } },
            obj! {},
            g,
        ),
        role(
            "request-approver",
            "Approves elevated access",
            false,
            standard(),
            obj! { "review_requests" => obj! { "roles" => vec!["editor", "cluster-admin"] } },
            obj! {},
            g,
        ),
        role(
            "dev",
            "Developers",
            false,
            options("8h0m0s", false, Some(true)),
            obj! {
                "logins" => vec!["ubuntu", "ec2-user"],
                "node_labels" => obj! { "env" => vec!["dev", "staging"] },
                "request" => obj! {
                    "roles" => vec!["db-readonly"],
                    "thresholds" => vec![obj! { "approve" => 1, "deny" => 1 }],
                },
            },
            obj! { "logins" => vec!["root"] },
            g,
        ),
        role(
            "db-readonly",
            "Read-only analytics database access",
            false,
            standard(),
            obj! {
                "db_labels" => obj! { "env" => "prod" },
                "db_names" => vec!["analytics"],
                "db_users" => vec!["readonly"],
            },
            obj! {},
            g,
        ),
        role(
            "mcp-user",
            "Read-only tools on MCP servers",
            false,
            standard(),
            obj! {
                "app_labels" => obj! { "teleport.internal/app-sub-kind" => "mcp" },
                "mcp" => obj! { "tools" => vec!["search-*", "^(get|list|read).*$"] },
            },
            obj! { "mcp" => obj! { "tools" => vec!["slack_post_message"] } },
            g,
        ),
        role(
            "bot-ci",
            "Role of the ci bot",
            false,
            options("12h0m0s", false, None),
            obj! {
                "logins" => vec!["deploy"],
                "node_labels" => obj! { "env" => vec!["staging", "prod"] },
                "rules" => vec![rule(&["node"], &["list", "read"])],
            },
            obj! {},
            g,
        ),
    ];
    roles.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    roles
}
