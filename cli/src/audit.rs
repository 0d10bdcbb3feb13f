//! `mtcp audit import FILE`: load a Teleport audit export (JSON lines, or a JSON array) into the
//! audit store. Re-importing is harmless: events are keyed by their uid.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use mtcp_shared::config::Config;
use mtcp_shared::db;
use secrecy::SecretString;

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long, env = "MTCP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    action: AuditAction,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Import audit events from a file (JSON lines or a JSON array); `-` reads standard input.
    Import { file: PathBuf },
}

/// Rows per insert statement.
const CHUNK: usize = 1000;

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(url) = args.database_url {
        config.database.url = Some(SecretString::from(url));
    }
    let AuditAction::Import { file } = args.action;
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
    };
    let batch = mtcp_shared::ingest::parse_batch(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let pool = db::connect(config.database_url()?, 2, config.database.connect_timeout).await?;
    db::ensure_migrated(&pool).await?;
    let mut inserted = 0;
    for chunk in batch.events.chunks(CHUNK) {
        inserted += db::audit::insert_batch(&pool, chunk).await?;
    }
    let valid = batch.events.len() as u64;
    println!(
        "{} events read: {inserted} imported, {} already present, {} rejected",
        valid + batch.rejected.len() as u64,
        valid - inserted,
        batch.rejected.len()
    );
    for r in batch.rejected.iter().take(20) {
        println!("  event {}: {}", r.index, r.reason);
    }
    if batch.rejected.len() > 20 {
        println!("  … and {} more", batch.rejected.len() - 20);
    }
    Ok(())
}
