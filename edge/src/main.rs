//! `mtcp-edge`: the edge agent.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = mtcp_edge::Args::parse();
    mtcp_edge::init_logs(&args.log_level);
    mtcp_edge::run(args, mtcp_shared::shutdown::on_signal()).await
}
