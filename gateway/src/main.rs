//! `mtcp-gateway`: the MCP endpoint.

use mtcp_gateway::{FIXTURES_ENV, GatewayFlags};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (config, flags) = mtcp_shared::service::start_with::<GatewayFlags>(
        "mtcp-gateway",
        "MCP Teleport Control Plane gateway: the MCP endpoint",
    )?;
    // The second key of the test-only conformance switch (see `mcp::fixtures::switch`).
    let fixtures = flags.fixtures(std::env::var(FIXTURES_ENV).ok().as_deref())?;
    mtcp_gateway::run_with(config, fixtures, mtcp_shared::shutdown::on_signal()).await
}
