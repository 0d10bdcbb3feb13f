//! The inventory and discovery tools: one `tctl` run each, parsed into compact typed views.

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::teleport::inventory;
use tokio_util::sync::CancellationToken;

use super::outcome::outcome;

use crate::JobContext;

/// Which inventory a job lists.
#[derive(Debug, Clone, Copy)]
pub(super) enum Inventory {
    Nodes,
    Proxies,
    Roles,
    Users,
    Tokens,
    Cas,
    AuthPreference,
    Databases,
    Apps,
    McpServers,
    KubeClusters,
    WindowsDesktops,
}

/// Run an inventory tool and turn the run into the stored outcome.
pub(super) async fn run(ctx: &JobContext, which: Inventory, cancel: &CancellationToken) -> Outcome {
    // A shutting-down worker lets in-flight runs finish (apalis waits for them); the CLI timeout
    // bounds that wait. Caller-requested cancellation arrives with the streaming work.
    let (r, now) = (&ctx.runner, chrono::Utc::now());
    match which {
        Inventory::Nodes => outcome(inventory::list_nodes(r, cancel, now).await),
        Inventory::Proxies => outcome(inventory::list_proxies(r, cancel, now).await),
        Inventory::Roles => outcome(inventory::list_roles(r, cancel, now).await),
        Inventory::Users => outcome(inventory::list_users(r, cancel, now).await),
        Inventory::Tokens => outcome(inventory::list_tokens(r, cancel, now).await),
        Inventory::Cas => outcome(inventory::list_cas(r, cancel, now).await),
        Inventory::AuthPreference => outcome(inventory::get_auth_preference(r, cancel, now).await),
        Inventory::Databases => outcome(inventory::list_databases(r, cancel, now).await),
        Inventory::Apps => outcome(inventory::list_apps(r, cancel, now).await),
        Inventory::McpServers => outcome(inventory::list_mcp_servers(r, cancel, now).await),
        Inventory::KubeClusters => outcome(inventory::list_kube_clusters(r, cancel, now).await),
        Inventory::WindowsDesktops => outcome(inventory::list_windows_desktops(r, cancel, now).await),
    }
}
