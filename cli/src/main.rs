//! `mtcp`: the operator CLI.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mtcp_cli::run(mtcp_cli::Cli::parse()).await
}
