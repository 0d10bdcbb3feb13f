//! The passthrough tools: a validated `tsh`/`tctl` command line, run with the control plane's
//! identity (the policy has already checked the switch, the role and the reason).

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::teleport::Binary;
use mtcp_shared::teleport::passthrough::run_passthrough;
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;
use crate::JobContext;

/// Run it with the validated command line.
pub(super) async fn run(ctx: &JobContext, binary: Binary, argv: &[String], cancel: &CancellationToken) -> Outcome {
    outcome(run_passthrough(&ctx.runner, binary, argv, cancel).await)
}
