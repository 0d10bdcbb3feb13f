//! `mtcp-worker`: claims tool jobs and runs `tctl`/`tsh`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = mtcp_shared::service::start("mtcp-worker", "MCP Teleport Control Plane worker: runs tool jobs")?;
    mtcp_worker::run(config, mtcp_shared::shutdown::on_signal()).await
}
