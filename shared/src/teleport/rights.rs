//! What each tool needs from Teleport: the commands it runs, the role rules (kind × verbs) and the
//! role fields those commands are checked against. `deploy/teleport/*.yaml` (the shipped roles) and
//! `docs/teleport-rights.md` are checked against this one table by tests, so they cannot drift.
//!
//! Verbs are those `lib/auth/auth_with_roles.go` checks for each API call, e.g. `GetTokens` checks
//! `list` and `read` on `token`. Teleport's `DefaultImplicitRules` (`lib/services/role.go`) give
//! every role read access to `node`, `proxy`, `cert_authority` (without secrets),
//! `cluster_auth_preference`, `cluster_name`, `db`, `app` and `kube_cluster`: tools that only read
//! those need no rule, and the table says so with [`Need::Implicit`].

use std::fmt::Write as _;

use crate::domain::ToolName;

/// A group of tools an operator grants together: one shipped role per plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Plane {
    /// Inventory, security and health tools (reads).
    Inventory,
    /// The access-request tools.
    Access,
    /// `drop_access_request` with `revoke`: a lock on the access a request granted.
    Locks,
    /// `start_proxy`: the proxies and VNet.
    Proxies,
    /// `run_tctl_command` / `run_tsh_command`, only when passthrough is switched on.
    Passthrough,
}

impl Plane {
    /// Every plane, in the order the docs list them.
    pub const ALL: [Plane; 5] = [Plane::Inventory, Plane::Access, Plane::Locks, Plane::Proxies, Plane::Passthrough];

    /// The shipped role's name, and its file under `deploy/teleport/` (`<name>.yaml`).
    pub fn role(self) -> &'static str {
        match self {
            Plane::Inventory => "mcp-inventory",
            Plane::Access => "mcp-access",
            Plane::Locks => "mcp-locks",
            Plane::Proxies => "mcp-proxies",
            Plane::Passthrough => "mcp-passthrough",
        }
    }
}

/// One right a command is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// An `allow.rules` entry of the plane's role: `resources: [kind]`, these `verbs`. Without
    /// it Teleport refuses, or, when `hides`, shows only the identity's own objects and those it
    /// may review (`GetAccessRequests`), so others' requests are "not found".
    Rule { plane: Plane, kind: &'static str, verbs: &'static [&'static str], hides: bool },
    /// Granted to every role by Teleport's implicit rules; no rule is shipped for it.
    Implicit { kind: &'static str, verbs: &'static [&'static str] },
    /// A role field (path under the role's `spec`) the plane's role sets, e.g. `allow.request.roles`.
    Field { plane: Plane, path: &'static str },
}

/// What happens to a tool when one of its rules is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// The call fails with Teleport's access-denied message.
    Fails,
    /// The call succeeds and reports the refusal in its result (the health check's failing checks).
    Reports,
    /// Only some calls run the command (named in the note); those fail or report as above.
    Sometimes,
    /// The call succeeds without what the identity may not see (a `hides` rule).
    Hides,
}

/// One tool's row of the table.
#[derive(Debug, Clone, Copy)]
pub struct ToolRights {
    pub tool: ToolName,
    /// The command lines it runs (as documented; ids and values abbreviated).
    pub commands: &'static [&'static str],
    pub needs: &'static [Need],
    pub on_missing: OnMissing,
    /// Why, when it is not obvious.
    pub note: &'static str,
}

const fn rule(plane: Plane, kind: &'static str, verbs: &'static [&'static str]) -> Need {
    Need::Rule { plane, kind, verbs, hides: false }
}

const fn see_all(plane: Plane, kind: &'static str, verbs: &'static [&'static str]) -> Need {
    Need::Rule { plane, kind, verbs, hides: true }
}

const fn implicit(kind: &'static str, verbs: &'static [&'static str]) -> Need {
    Need::Implicit { kind, verbs }
}

const fn field(plane: Plane, path: &'static str) -> Need {
    Need::Field { plane, path }
}

const LR: &[&str] = &["list", "read"];
const NO_SECRETS: &[&str] = &["list", "readnosecrets"];
const READ: &[&str] = &["read"];

use Plane::{Access, Inventory, Locks, Passthrough, Proxies};

const ROLES: Need = rule(Inventory, "role", LR);
const USERS: Need = rule(Inventory, "user", LR);
const TOKENS: Need = rule(Inventory, "token", LR);
const NODE_LABELS: Need = field(Inventory, "allow.node_labels");
const NODES: Need = implicit("node", &["list"]);
const PROXIES: Need = implicit("proxy", LR);
const CAS: Need = implicit("cert_authority", NO_SECRETS);
const CAP: Need = implicit("cluster_auth_preference", READ);
const CLUSTER_NAME: Need = implicit("cluster_name", READ);
const REQUESTS_READ: Need = see_all(Access, "access_request", LR);

/// Every tool that runs `tctl` or `tsh`, in name order. Tools missing here run none: the
/// gateway's own tools and `search_audit` (SQL over ingested events).
pub static RIGHTS: &[ToolRights] = &[
    ToolRights {
        tool: ToolName::CheckPolicy,
        commands: &[
            "tctl get roles --format=json",
            "tctl get users --format=json",
            "tctl get nodes --format=json",
            "tctl get db_server --format=json",
            "tctl get app_server --format=json",
            "tctl get kube_server --format=json",
            "tctl get windows_desktop --format=json",
        ],
        needs: &[
            ROLES,
            USERS,
            NODES,
            NODE_LABELS,
            implicit("db_server", LR),
            implicit("app_server", LR),
            implicit("kube_server", LR),
            rule(Inventory, "windows_desktop", LR),
        ],
        on_missing: OnMissing::Sometimes,
        note: "Only for an allowed `create_access_request`, to count its blast radius; a refused read leaves the \
               verdict standing with `blast_radius_error`. Counts cover what the identity's own labels let it list.",
    },
    ToolRights {
        tool: ToolName::CreateAccessRequest,
        commands: &["tsh request create --roles=… --resource=… --reason=… --nowait"],
        needs: &[field(Access, "allow.request.roles"), field(Access, "allow.request.search_as_roles")],
        on_missing: OnMissing::Fails,
        note: "Creating one's own request needs no rule; the roles asked for must match `request.roles` \
               (resource ids: `search_as_roles`).",
    },
    ToolRights {
        tool: ToolName::DetectAuditAnomalies,
        commands: &["tctl get cluster_auth_preference --format=json"],
        needs: &[CAP],
        on_missing: OnMissing::Sometimes,
        note: "Only when the window holds auth preference changes; without the read the findings say so.",
    },
    ToolRights {
        tool: ToolName::DropAccessRequest,
        commands: &[
            "tsh request show <id> --format=json",
            "tctl lock --access-request=<id> --message=… --ttl=…",
            "tctl requests rm [--force] <id>",
        ],
        needs: &[
            REQUESTS_READ,
            rule(Locks, "lock", &["create", "update"]),
            rule(Access, "access_request", &["delete"]),
        ],
        on_missing: OnMissing::Fails,
        note: "The lock only with `revoke`. Another's request it may not see is not found.",
    },
    ToolRights {
        tool: ToolName::GetAuthPreference,
        commands: &["tctl get cluster_auth_preference --format=json"],
        needs: &[CAP],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListAccessRequests,
        commands: &["tsh request ls --format=json"],
        needs: &[REQUESTS_READ],
        on_missing: OnMissing::Hides,
        note: "Without the rule Teleport lists only the identity's own requests and those it may review.",
    },
    ToolRights {
        tool: ToolName::ListApps,
        commands: &["tctl get app_server --format=json"],
        needs: &[implicit("app_server", LR), field(Proxies, "allow.app_labels")],
        on_missing: OnMissing::Hides,
        note: "Teleport lists only the apps `app_labels` matches: the ones start_proxy can reach.",
    },
    ToolRights {
        tool: ToolName::ListCas,
        commands: &["tctl get cert_authorities --format=json"],
        needs: &[CAS],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListDatabases,
        commands: &["tctl get db_server --format=json"],
        needs: &[implicit("db_server", LR), field(Proxies, "allow.db_labels")],
        on_missing: OnMissing::Hides,
        note: "Teleport lists only the databases `db_labels` matches: the ones start_proxy can reach.",
    },
    ToolRights {
        tool: ToolName::ListKubeClusters,
        commands: &["tctl get kube_server --format=json"],
        needs: &[implicit("kube_server", LR), field(Proxies, "allow.kubernetes_labels")],
        on_missing: OnMissing::Hides,
        note: "Teleport lists only the clusters `kubernetes_labels` matches.",
    },
    ToolRights {
        tool: ToolName::ListMcpServers,
        commands: &["tctl get app_server --format=json"],
        needs: &[implicit("app_server", LR), field(Proxies, "allow.app_labels")],
        on_missing: OnMissing::Hides,
        note: "MCP servers are apps: Teleport lists only those `app_labels` matches.",
    },
    ToolRights {
        tool: ToolName::ListNodes,
        commands: &["tctl get nodes --format=json"],
        needs: &[NODES, NODE_LABELS],
        on_missing: OnMissing::Fails,
        note: "Teleport lists only the nodes `node_labels` matches.",
    },
    ToolRights {
        tool: ToolName::ListProxies,
        commands: &["tctl get proxies --format=json"],
        needs: &[PROXIES],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListRoles,
        commands: &["tctl get roles --format=json"],
        needs: &[ROLES],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListTokens,
        commands: &["tctl tokens ls --format=json"],
        needs: &[TOKENS],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListUsers,
        commands: &["tctl get users --format=json"],
        needs: &[USERS],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ListWindowsDesktops,
        commands: &["tctl get windows_desktop --format=json"],
        needs: &[rule(Inventory, "windows_desktop", LR), field(Inventory, "allow.windows_desktop_labels")],
        on_missing: OnMissing::Fails,
        note: "No implicit rule covers windows_desktop; Teleport lists only the desktops \
               `windows_desktop_labels` matches.",
    },
    ToolRights {
        tool: ToolName::ReviewAccessRequest,
        commands: &["tsh request review <id> --approve|--deny --reason=…"],
        needs: &[field(Access, "allow.review_requests.roles")],
        on_missing: OnMissing::Fails,
        note: "Teleport never lets an identity review its own request.",
    },
    ToolRights {
        tool: ToolName::RunHealthCheck,
        commands: &[
            "tctl status",
            "tctl get nodes --format=json",
            "tctl get proxies --format=json",
            "tctl get cert_authorities --format=json",
            "tctl tokens ls --format=json",
            "tctl get roles --format=json",
            "tctl get users --format=json",
            "tctl get cluster_auth_preference --format=json",
        ],
        needs: &[CLUSTER_NAME, CAS, NODES, NODE_LABELS, PROXIES, TOKENS, ROLES, USERS, CAP],
        on_missing: OnMissing::Reports,
        note: "A read that is refused becomes a failing check; the other checks still run.",
    },
    ToolRights {
        tool: ToolName::RunTctlCommand,
        commands: &["tctl <read-only command>"],
        needs: &[rule(Passthrough, "*", &["list", "read", "readnosecrets"])],
        on_missing: OnMissing::Fails,
        note: "Broad on purpose: any read-only command the passthrough admits. Grant only with passthrough on.",
    },
    ToolRights {
        tool: ToolName::RunTshCommand,
        commands: &["tsh <read-only command>"],
        needs: &[],
        on_missing: OnMissing::Fails,
        note: "The tsh commands passthrough admits (`ls`, `status`, `request ls|show`, `apps|db|kube|mcp ls`) \
               read what Teleport's implicit rules, the label selectors and the request settings above show.",
    },
    ToolRights {
        tool: ToolName::ScanRbac,
        commands: &[
            "tctl get roles --format=json",
            "tctl get users --format=json",
            "tctl get cluster_auth_preference --format=json",
            "tctl tokens ls --format=json",
        ],
        needs: &[ROLES, USERS, CAP, TOKENS],
        on_missing: OnMissing::Fails,
        note: "",
    },
    ToolRights {
        tool: ToolName::ShowAccessRequest,
        commands: &["tsh request show <id> --format=json"],
        needs: &[REQUESTS_READ],
        on_missing: OnMissing::Fails,
        note: "Another's request it may not see is not found.",
    },
    ToolRights {
        tool: ToolName::StartProxy,
        commands: &[
            "tctl get db_server|app_server|kube_server --format=json",
            "tsh proxy db <db> --tunnel [--db-user=…] [--db-name=…]",
            "tsh proxy app <app>",
            "tsh proxy mcp <app>",
            "tsh proxy kube <kube_cluster>",
            "tsh proxy ssh [login@]host[:port]",
            "tsh vnet",
        ],
        needs: &[
            implicit("db_server", LR),
            implicit("app_server", LR),
            implicit("kube_server", LR),
            field(Proxies, "allow.db_labels"),
            field(Proxies, "allow.db_users"),
            field(Proxies, "allow.db_names"),
            field(Proxies, "allow.app_labels"),
            field(Proxies, "allow.kubernetes_labels"),
            field(Proxies, "allow.kubernetes_groups"),
            field(Proxies, "allow.node_labels"),
            field(Proxies, "allow.logins"),
        ],
        on_missing: OnMissing::Fails,
        note: "Each kind needs only its own fields: db (db_labels, db_users, db_names), app and mcp (app_labels), \
               kube (kubernetes_labels, kubernetes_groups), ssh (node_labels, logins), vnet (the app and db ones). \
               Before a db, app, mcp or kube proxy starts, the worker lists what agents serve of that kind \
               and refuses a target the cluster does not have.",
    },
];

/// The row of `tool`, if it runs Teleport commands.
pub fn rights_of(tool: &str) -> Option<&'static ToolRights> {
    RIGHTS.iter().find(|r| r.tool.as_str() == tool)
}

/// The rules of `plane`'s role, each `(kind, verbs)` once, in table order.
pub fn plane_rules(plane: Plane) -> Vec<(&'static str, &'static [&'static str])> {
    let mut out: Vec<(&'static str, &'static [&'static str])> = Vec::new();
    for need in RIGHTS.iter().flat_map(|r| r.needs) {
        if let Need::Rule { plane: p, kind, verbs, .. } = *need
            && p == plane
            && !out.contains(&(kind, verbs))
        {
            out.push((kind, verbs));
        }
    }
    out
}

/// The role fields `plane`'s role must set, each once, in table order.
pub fn plane_fields(plane: Plane) -> Vec<&'static str> {
    let mut out = Vec::new();
    for need in RIGHTS.iter().flat_map(|r| r.needs) {
        if let Need::Field { plane: p, path } = *need
            && p == plane
            && !out.contains(&path)
        {
            out.push(path);
        }
    }
    out
}

/// The tools that need the rule `(kind, verbs)` of `plane`.
pub fn tools_needing(plane: Plane, kind: &str, verbs: &[&str]) -> Vec<&'static str> {
    RIGHTS
        .iter()
        .filter(|r| {
            r.needs.iter().any(
                |n| matches!(n, Need::Rule { plane: p, kind: k, verbs: v, .. } if *p == plane && *k == kind && *v == verbs),
            )
        })
        .map(|r| r.tool.as_str())
        .collect()
}

/// One right as the rights doc writes it, e.g. "`user`: list, read (mcp-inventory)".
pub fn need_text(need: &Need) -> String {
    match need {
        Need::Rule { plane, kind, verbs, hides } => {
            let hides = if *hides { ", else others' are hidden" } else { "" };
            format!("`{kind}`: {} ({}{hides})", verbs.join(", "), plane.role())
        }
        Need::Implicit { kind, verbs } => format!("`{kind}`: {} (implicit)", verbs.join(", ")),
        Need::Field { plane, path } => format!("`{path}` ({})", plane.role()),
    }
}

/// A table cell: a `|` (in `--approve|--deny`) would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `docs/teleport-rights.md`, generated from the table (a test keeps the checked-in file equal).
pub fn render_markdown() -> String {
    let mut md = String::new();
    md.push_str(
        "# Teleport rights of each tool\n\n\
         Generated from `shared/src/teleport/rights.rs` (`cargo test -p mtcp-shared rights` fails when this \
         file differs; `MTCP_WRITE_RIGHTS_DOC=1` rewrites it). The shipped roles are in `deploy/teleport/`: \
         grant the control plane's Teleport identity (its bot or user) only the roles of the planes you enable.\n\n\
         Rules are `allow.rules` entries: `resources: [kind]` with those verbs, as Teleport checks them \
         (`lib/auth/auth_with_roles.go`). *Implicit* reads are granted to every role by Teleport \
         (`DefaultImplicitRules`, `lib/services/role.go`) and need no rule; a `deny` rule can still take them \
         away. When a rule is missing Teleport answers `access denied to perform action \"<verb>\" on \"<kind>\"`.\n\n\
         ## Roles\n\n| role | rules | role fields |\n|---|---|---|\n",
    );
    for plane in Plane::ALL {
        let rules: Vec<String> = plane_rules(plane).iter().map(|(k, v)| format!("`{k}`: {}", v.join(", "))).collect();
        let fields: Vec<String> = plane_fields(plane).iter().map(|f| format!("`{f}`")).collect();
        let _ = writeln!(
            md,
            "| `{}` (`deploy/teleport/{}.yaml`) | {} | {} |",
            plane.role(),
            plane.role(),
            if rules.is_empty() { "—".to_owned() } else { rules.join("; ") },
            if fields.is_empty() { "—".to_owned() } else { fields.join(", ") },
        );
    }
    md.push_str("\n## Tools\n\n| tool | commands | needs | when a right is missing |\n|---|---|---|---|\n");
    for r in RIGHTS {
        let commands: Vec<String> = r.commands.iter().map(|c| format!("`{}`", cell(c))).collect();
        let needs: Vec<String> = r.needs.iter().map(need_text).collect();
        let needs = if needs.is_empty() { vec!["no rule".to_owned()] } else { needs };
        let effect = match r.on_missing {
            OnMissing::Fails => "fails",
            OnMissing::Reports => "reports it",
            OnMissing::Sometimes => "sometimes",
            OnMissing::Hides => "hides",
        };
        let note = if r.note.is_empty() { String::new() } else { format!(" — {}", cell(r.note)) };
        let _ = writeln!(md, "| `{}` | {} | {} | {effect}{note} |", r.tool, commands.join("<br>"), needs.join("<br>"));
    }
    md.push_str(
        "\nEvery other tool (`whoami`, `check_policy`, `get_operation`, `search_operations`, the lease tools \
         other than `start_proxy`, `search_audit`) runs no Teleport command and needs nothing.\n",
    );
    md
}

#[cfg(test)]
#[path = "rights_tests.rs"]
mod tests;
