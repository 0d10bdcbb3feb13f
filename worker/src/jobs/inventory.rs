//! The seven inventory tools: one `tctl` run each, parsed into compact typed views.

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::teleport::inventory;
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;

use crate::JobContext;

const TOOLS: &[&str] =
    &["list_nodes", "list_proxies", "list_roles", "list_users", "list_tokens", "list_cas", "get_auth_preference"];

/// Whether `tool` is one of the inventory tools.
pub(super) fn handles(tool: &str) -> bool {
    TOOLS.contains(&tool)
}

/// Run an inventory tool and turn the run into the stored outcome.
pub(super) async fn run(ctx: &JobContext, tool: &str, cancel: &CancellationToken) -> Outcome {
    // A shutting-down worker lets in-flight runs finish (apalis waits for them); the CLI timeout
    // bounds that wait. Caller-requested cancellation arrives with the streaming work.
    let (r, now) = (&ctx.runner, chrono::Utc::now());
    match tool {
        "list_nodes" => outcome(inventory::list_nodes(r, cancel, now).await),
        "list_proxies" => outcome(inventory::list_proxies(r, cancel, now).await),
        "list_roles" => outcome(inventory::list_roles(r, cancel, now).await),
        "list_users" => outcome(inventory::list_users(r, cancel, now).await),
        "list_tokens" => outcome(inventory::list_tokens(r, cancel, now).await),
        "list_cas" => outcome(inventory::list_cas(r, cancel, now).await),
        _ => outcome(inventory::get_auth_preference(r, cancel, now).await),
    }
}
