//! `mtcp audit import FILE`: load a Teleport audit export (JSON lines, fluentd `out_file` lines
//! `<time>\t<tag>\t<json>`, mixed line by line, or a JSON array) into the audit store.
//! Re-importing is harmless: events are keyed by their uid. Good events are imported even when
//! some lines are bad; each rejected event is named by its line. A line that is no event at all
//! (a wrong file, a truncated line) makes the command exit non-zero; an event missing a field
//! (`uid`, `time`) is only reported, as the ingest endpoint does.

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
    /// Import audit events from a file (JSON lines, fluentd out_file lines, or a JSON array); `-`
    /// reads standard input.
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
        match r.line {
            Some(line) => eprintln!("{}:{line}: {}", file.display(), r.reason),
            None => eprintln!("{}: event {}: {}", file.display(), r.index, r.reason),
        }
    }
    if batch.rejected.len() > 20 {
        eprintln!("  … and {} more", batch.rejected.len() - 20);
    }
    let unreadable: Vec<String> =
        batch.rejected.iter().filter(|r| r.unreadable).filter_map(|r| r.line).map(|l| l.to_string()).collect();
    if !unreadable.is_empty() {
        anyhow::bail!(
            "{}: {} line(s) are neither JSON events nor fluentd out_file lines (`<time>\t<tag>\t<json>`): line {}",
            file.display(),
            unreadable.len(),
            unreadable.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}
