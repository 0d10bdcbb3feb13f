//! The operator CLI: `up` (everything in one process), `migrate`, and `postgres start|stop` (a
//! private PostgreSQL for development and tests). Also the dev-stack wiring the tests reuse.

mod approvals;
mod audit;
pub mod dev;
mod doctor;
mod edge;
mod keys;
pub mod postgres;
pub mod sim_identity;
mod up;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mtcp_shared::config::Config;
use secrecy::SecretString;

/// MCP Teleport Control Plane operator CLI.
#[derive(Parser)]
#[command(name = "mtcp", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run gateway, worker and reaper in one process (private Postgres and the simulator by default).
    Up(up::UpArgs),
    /// Apply database migrations (ours and the job queue's).
    Migrate {
        #[arg(long, env = "MTCP_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Audit events: import an export file.
    Audit(audit::AuditArgs),
    /// Calls waiting for approval: list, approve (bound to the call's digest) or deny them.
    Approvals(approvals::ApprovalsArgs),
    /// Manage API keys stored in the database (shown once, stored as SHA-256).
    Keys(keys::KeysArgs),
    /// Edge agents (`mtcp-edge`): create one (its credential is shown once), list, revoke.
    Edge(edge::EdgeArgs),
    /// Check the deployment: identity file (mode, certificate expiry), `tctl status`, database,
    /// migrations, workers online, stuck leases. Exits non-zero if a check fails.
    Doctor(doctor::DoctorArgs),
    /// Write the demo cluster's identity file (a certificate for its control-plane user) to PATH,
    /// mode 0600: the container image's simulator configuration uses it.
    #[command(hide = true)]
    SimulatorIdentity { path: PathBuf },
    /// A private PostgreSQL server in a data directory, started from the local PostgreSQL binaries.
    Postgres {
        #[command(subcommand)]
        action: PgAction,
    },
}

#[derive(Subcommand)]
enum PgAction {
    /// Initialise (first time) and start the server; prints its URL.
    Start {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Stop the server.
    Stop {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

/// The configuration (with `--database-url` over it) and a migrated database: what the commands
/// that manage records (`keys`, `edge`, `approvals`) start from.
pub(crate) async fn open_store(
    config: Option<&std::path::Path>,
    database_url: Option<String>,
) -> anyhow::Result<(Config, sqlx::PgPool)> {
    let mut config = Config::load(config)?;
    if let Some(url) = database_url {
        config.database.url = Some(SecretString::from(url));
    }
    let pool = mtcp_shared::db::connect(config.database_url()?, 2, config.database.connect_timeout).await?;
    mtcp_shared::db::ensure_migrated(&pool).await?;
    Ok((config, pool))
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Keys(args) => keys::run(args).await,
        Command::Edge(args) => edge::run(args).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Audit(args) => audit::run(args).await,
        Command::Approvals(args) => approvals::run(args).await,
        Command::Migrate { config, database_url } => {
            let mut config = Config::load(config.as_deref())?;
            if let Some(url) = database_url {
                config.database.url = Some(SecretString::from(url));
            }
            mtcp_shared::telemetry::init(&config, "mtcp");
            let pool = mtcp_shared::db::connect(config.database_url()?, 2, config.database.connect_timeout).await?;
            mtcp_shared::db::migrate(&pool).await.context("migrating")?;
            println!("database migrated");
            Ok(())
        }
        Command::Postgres { action: PgAction::Start { data_dir } } => {
            let pg = postgres::PrivatePostgres::start(&data_dir).await?;
            println!("{}", pg.url());
            Ok(())
        }
        Command::Postgres { action: PgAction::Stop { data_dir } } => postgres::PrivatePostgres::stop(&data_dir),
        Command::SimulatorIdentity { path } => sim_identity::write(&path),
    }
}
