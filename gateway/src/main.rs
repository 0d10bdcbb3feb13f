//! `mtcp-gateway`: the MCP endpoint.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = mtcp_shared::service::start("mtcp-gateway", "MCP Teleport Control Plane gateway: the MCP endpoint")?;
    mtcp_gateway::run(config, mtcp_shared::shutdown::on_signal()).await
}
