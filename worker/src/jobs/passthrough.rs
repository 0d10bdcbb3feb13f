//! The passthrough tools: a validated `tsh`/`tctl` command line, run with the control plane's
//! identity (the policy has already checked the switch, the role and the reason).

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::teleport::Binary;
use mtcp_shared::teleport::passthrough::run_passthrough;
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;
use crate::JobContext;

/// Whether `tool` is a passthrough tool.
pub(super) fn handles(tool: &str) -> bool {
    matches!(tool, "run_tsh_command" | "run_tctl_command")
}

/// Run it; arguments that no longer validate (a job written by another version) fail cleanly.
pub(super) async fn run(ctx: &JobContext, tool: &str, args: &serde_json::Value, cancel: &CancellationToken) -> Outcome {
    let binary = if tool == "run_tsh_command" { Binary::Tsh } else { Binary::Tctl };
    let argv: Vec<String> = match args.get("args").cloned().map(serde_json::from_value) {
        Some(Ok(v)) => v,
        _ => {
            return Outcome::failed("the job carries no `args` list");
        }
    };
    outcome(run_passthrough(&ctx.runner, binary, &argv, cancel).await)
}
