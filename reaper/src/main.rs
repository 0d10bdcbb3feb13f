//! `mtcp-reaper`: lease expiry, stale agents, recovery, retention; one active leader.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = mtcp_shared::service::start(
        "mtcp-reaper",
        "MCP Teleport Control Plane reaper: expiry, stale agents, recovery",
    )?;
    mtcp_reaper::run(config, mtcp_shared::shutdown::on_signal()).await
}
