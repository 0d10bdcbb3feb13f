//! `mtcp-worker`: claims tool jobs and runs `tctl`/`tsh`.

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "MCP Teleport Control Plane worker")]
struct Args {
    /// Configuration file (YAML); environment overrides apply on top.
    #[arg(long, env = "MTCP_CONFIG")]
    config: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = mtcp_shared::config::Config::load(args.config.as_deref())?;
    mtcp_shared::telemetry::init_tracing(&config.service);
    mtcp_worker::run(config, mtcp_shared::shutdown::on_signal()).await
}
