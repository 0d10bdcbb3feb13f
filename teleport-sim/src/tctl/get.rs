//! `tctl get <kind>[/<name>][,…] [--format=yaml|json|text]`.

use super::Ctx;
use super::kinds::{Kind, Ref, ca_type_rank, parse_refs};
use super::text;
use crate::cli::{Arg, Command, Flag, Parsed};
use crate::encode::{gojson, yaml};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::state::State;
use crate::value::Value;

/// The `get` command.
pub const COMMAND: Command = Command::new("get", "Print a YAML declaration of various Teleport resources.")
    .flags(&[
        Flag::one_of("format", &["text", "json", "yaml"]),
        Flag::bool("with-secrets"),
        Flag::bool("verbose").short('v'),
    ])
    .args(&[Arg::required("resources")]);

/// The references named on the command line (parsed before connecting, as kingpin does).
pub fn refs(parsed: &Parsed) -> Result<Vec<Ref>, SimError> {
    parse_refs(parsed.args.first().map(String::as_str).unwrap_or_default())
}

/// The verbs the Auth Service checks for one reference (`lib/auth/auth_with_roles.go`): a
/// collection is `list` and `read` (`GetRoles`, `GetUsers`, `GetProxies`…), nodes only `list`
/// (`ListResources` keeps it so for backward compatibility), authorities `readnosecrets` unless
/// keys are asked for, the auth preference singleton only `read`.
pub fn rbac_verbs(r: &Ref, with_secrets: bool) -> Vec<&'static str> {
    let read = if r.kind == Kind::CertAuthority && !with_secrets { "readnosecrets" } else { "read" };
    match (r.kind, r.name.is_some()) {
        (Kind::AuthPreference, _) => vec!["read"],
        (_, true) => vec![read],
        (Kind::Node, false) => vec!["list"],
        (_, false) => vec!["list", read],
    }
}

/// Runs `tctl get`.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let refs = refs(parsed)?;
    let state = ctx.state;
    let mut selected = Vec::new();
    for r in &refs {
        // Locks live in the state directory, where `tctl lock` writes them.
        let items = match r.kind {
            Kind::Empty("lock") => super::lock::stored(ctx, r.name.as_deref())?,
            kind if kind.labels_field().is_some_and(|f| !crate::rbac::sees(state, ctx.identity(), f)) => Vec::new(),
            _ => select(state, r)?,
        };
        selected.push((r.kind, items));
    }
    let out = match parsed.flag("format").unwrap_or("yaml") {
        "json" => {
            let all: Vec<Value> = selected.into_iter().flat_map(|(_, items)| items).collect();
            gojson::write_array(&all, gojson::TCTL)
        }
        "text" => {
            selected.iter().map(|(kind, items)| text::table(*kind, items, parsed.switch("verbose"), ctx.now)).collect()
        }
        _ => {
            let all: Vec<Value> = selected.into_iter().flat_map(|(_, items)| items).collect();
            yaml::write_documents(&all)
        }
    };
    Ok(Outcome::stdout(out))
}

/// The resources one reference names, in backend order.
pub fn select(state: &State, r: &Ref) -> Result<Vec<Value>, SimError> {
    let mut items = sorted(r.kind, &r.kind.items(state));
    let Some(name) = r.name.as_deref() else {
        return Ok(items);
    };
    let by_name = |v: &Value| v.str_at(&["metadata", "name"]) == name;
    let not_found = match r.kind {
        Kind::Node | Kind::Proxy => {
            // `tctl get node/<x>` matches the host UUID or the hostname.
            items.retain(|v| by_name(v) || v.str_at(&["spec", "hostname"]) == name);
            format!("{} with ID {name:?} not found", r.kind.resource())
        }
        Kind::Role => {
            items.retain(by_name);
            format!("role {name} is not found")
        }
        Kind::User => {
            items.retain(by_name);
            format!("user {name:?} is not found")
        }
        Kind::Token => {
            items.retain(by_name);
            format!("token {name:?} is not found")
        }
        Kind::CertAuthority => {
            let Some(ca_type) = r.sub_kind.as_deref() else {
                return Err(SimError::msg(
                    "full cert_authority path must be specified (e.g. 'cert_authority/host/clustername')",
                ));
            };
            items.retain(|v| by_name(v) && v.str_at(&["spec", "type"]) == ca_type);
            format!("key \"/authorities/{ca_type}/{name}\" is not found")
        }
        Kind::DbServer | Kind::AppServer | Kind::KubeServer => {
            // `tool/tctl/common/resources/database_server.go`, `app_server.go`: by the target's name.
            items.retain(by_name);
            let what = match r.kind {
                Kind::DbServer => "database server",
                Kind::AppServer => "app server",
                _ => "kubernetes server",
            };
            format!("{what} {name:?} not found")
        }
        Kind::Database | Kind::App | Kind::KubeCluster | Kind::WindowsDesktop => {
            items.retain(by_name);
            let what = match r.kind {
                Kind::Database => "database",
                Kind::App => "application",
                Kind::KubeCluster => "kubernetes cluster",
                _ => "windows desktop",
            };
            format!("{what} {name:?} not found")
        }
        Kind::AuthPreference => {
            return Err(SimError::msg("only simple `tctl get cluster_auth_preference` can be used"));
        }
        Kind::Empty(resource) => format!("{resource} {name:?} is not found"),
    };
    if items.is_empty() {
        return Err(SimError::msg(not_found));
    }
    Ok(items)
}

/// Backend order: by name, certificate authorities by type first.
pub fn sorted(kind: Kind, items: &[Value]) -> Vec<Value> {
    let mut items = items.to_vec();
    let name = |v: &Value| v.str_at(&["metadata", "name"]).to_owned();
    if kind == Kind::CertAuthority {
        items.sort_by_key(|v| (ca_type_rank(v.str_at(&["spec", "type"])), name(v)));
    } else {
        items.sort_by_key(name);
    }
    items
}
