//! `tctl nodes ls [--format=text|json|yaml]`.

use super::Ctx;
use super::get::sorted;
use super::kinds::Kind;
use super::text;
use crate::cli::{Arg, Command, Flag, Parsed};
use crate::encode::{gojson, yaml};
use crate::error::SimError;
use crate::outcome::Outcome;

const LS: Command = Command::new("ls", "List all SSH nodes within the cluster.")
    .flags(&[
        Flag::value("format"),
        Flag::bool("verbose").short('v'),
        Flag::value("search"),
        Flag::value("query"),
        Flag::value("namespace"),
    ])
    .args(&[Arg::optional("labels")]);

/// The `nodes` command group.
pub const COMMAND: Command =
    Command::new("nodes", "Issue invites for other nodes to join the cluster.").subcommands(&[LS]);

/// Under RBAC Teleport lists only the nodes some role's `node_labels` matches (`ListResources`
/// filters each one); any selector is taken to match every simulated node, and no selector shows
/// none.
pub fn visible(ctx: &Ctx) -> bool {
    crate::rbac::sees(ctx.state, ctx.identity(), "node_labels")
}

/// Runs `tctl nodes ls`; unlike `get`, a bad format is caught at run time, with its own wording.
pub fn ls(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let nodes = if visible(ctx) { sorted(Kind::Node, &ctx.state.nodes) } else { Vec::new() };
    let out = match parsed.flag("format").unwrap_or("text") {
        "json" => gojson::write_array(&nodes, gojson::TCTL),
        "yaml" => yaml::write_documents(&nodes),
        "text" => text::nodes(&nodes, parsed.switch("verbose")),
        other => {
            return Err(SimError::msg(format!("Invalid format {other}, only text, json and yaml are supported")));
        }
    };
    Ok(Outcome::stdout(out))
}
