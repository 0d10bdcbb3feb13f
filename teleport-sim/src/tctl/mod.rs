//! `tctl`, the admin CLI: its global flags, its command tree (one module per command family)
//! and the dispatch from a parsed command line to a handler.

pub mod get;
pub mod kinds;
pub mod lock;
pub mod nodes;
pub mod requests;
pub mod status;
pub mod text;
pub mod tokens;

pub use crate::Ctx;
use crate::access::Target;
use crate::cli::{App, Flag, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;

/// The `tctl` command tree. New families add their `COMMAND` here.
pub const APP: App = App {
    name: "tctl",
    flags: &[
        Flag::value("auth-server"),
        Flag::value("identity").short('i'),
        Flag::value("config").short('c'),
        Flag::bool("insecure"),
        Flag::bool("debug").short('d'),
    ],
    commands: &[
        get::COMMAND,
        nodes::COMMAND,
        tokens::COMMAND,
        status::COMMAND,
        requests::COMMAND,
        lock::COMMAND,
        crate::version::TCTL,
    ],
};

/// The resources a command reads; argument errors that kingpin would raise surface here,
/// before any credential is looked at.
pub fn target(parsed: &Parsed) -> Result<Target, SimError> {
    if let Some(verb) = requests::verb(&parsed.command) {
        return Ok(Target::new(verb, "access_request"));
    }
    Ok(match parsed.command.as_str() {
        "get" => {
            let refs = get::refs(parsed)?;
            let verb = if refs.iter().all(|r| r.name.is_some()) { "read" } else { "list" };
            let resources: Vec<&'static str> = refs.iter().map(|r| r.kind.resource()).collect();
            let with_secrets = parsed.switch("with-secrets");
            let rules = refs.iter().map(|r| (r.kind.resource(), get::rbac_verbs(r, with_secrets))).collect();
            Target::new(verb, resources[0]).with_rules(rules).with_resources(resources)
        }
        "nodes ls" => Target::new("list", "node"),
        "tokens ls" => Target::new("list", "token").with_rules(vec![("token", vec!["list", "read"])]),
        // `GetClusterName`, then every authority without its keys.
        "status" => Target::new("list", "cert_authority")
            .with_rules(vec![("cluster_name", vec!["read"]), ("cert_authority", vec!["list", "readnosecrets"])]),
        // `UpsertLock` checks both.
        "lock" => Target::new("create", "lock").with_rules(vec![("lock", vec!["create", "update"])]),
        other => return Err(unknown(other)),
    })
}

/// Runs a parsed `tctl` command.
pub fn execute(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    match parsed.command.as_str() {
        "get" => get::run(parsed, ctx),
        "nodes ls" => nodes::ls(parsed, ctx),
        "tokens ls" => tokens::ls(parsed, ctx),
        "status" => status::run(parsed, ctx),
        "lock" => lock::run(parsed, ctx),
        command if command.starts_with("requests ") => requests::run(parsed, ctx),
        other => Err(unknown(other)),
    }
}

/// A command in the tree without a handler: a bug in the simulator, not a user error.
fn unknown(command: &str) -> SimError {
    SimError::msg(format!("teleport-sim: no handler for `tctl {command}`"))
}
