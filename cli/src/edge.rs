//! `mtcp edge create|ls|revoke`: edge agents and their credentials. A new credential is printed
//! once, alone on the last line of stdout, and stored only as its SHA-256.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use mtcp_shared::db;
use sha2::{Digest, Sha256};

#[derive(Args)]
pub struct EdgeArgs {
    #[arg(long, env = "MTCP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    action: EdgeAction,
}

#[derive(Subcommand)]
enum EdgeAction {
    /// Create an edge agent and print its credential (once).
    Create {
        /// What `start_proxy`'s `edge_agent` names: 1-63 of a-z, 0-9, `.`, `_`, `-`.
        #[arg(long)]
        name: String,
        /// The actor it serves (an API key's actor, or `oidc:<subject>`); admins may use it too.
        #[arg(long)]
        owner: String,
        /// A note for humans (whose machine it is).
        #[arg(long)]
        description: Option<String>,
    },
    /// List edge agents: owner, online, host, live leases (never credentials).
    Ls,
    /// Revoke an agent's credential: it is refused from now on, and its proxies are killed.
    Revoke { name: String },
}

pub async fn run(args: EdgeArgs) -> anyhow::Result<()> {
    let (_, pool) = crate::open_store(args.config.as_deref(), args.database_url).await?;
    match args.action {
        EdgeAction::Create { name, owner, description } => {
            if let Err(e) = mtcp_shared::edge::check_name(&name) {
                bail!("--name: {e}");
            }
            if owner.trim().is_empty() || owner.chars().count() > mtcp_shared::domain::MAX_ACTOR_CHARS {
                bail!("--owner must name an actor (1-256 characters)");
            }
            let credential = format!("mtcp_edge_{}", crate::dev::new_api_key());
            let hash: [u8; 32] = Sha256::digest(credential.as_bytes()).into();
            if !db::edge::create(&pool, &name, &owner, &hash, description.as_deref()).await? {
                bail!("an edge agent named {name:?} exists already (mtcp edge ls)");
            }
            println!("edge agent {name} created for {owner}; its credential follows. It is shown only now:");
            println!("store it in the file mtcp-edge reads with --credential-file (mode 0600).");
            println!("{credential}");
        }
        EdgeAction::Ls => {
            let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
                d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "-".into())
            };
            println!(
                "{:<24}  {:<24}  {:<8}  {:<24}  {:<20}  {:<6}  description",
                "name", "owner", "state", "host", "heartbeat", "leases"
            );
            for a in db::edge::list(&pool, None).await? {
                let state = match (a.revoked_at, a.online) {
                    (Some(_), _) => "revoked",
                    (None, true) => "online",
                    (None, false) => "offline",
                };
                println!(
                    "{:<24}  {:<24}  {:<8}  {:<24}  {:<20}  {:<6}  {}",
                    a.name,
                    a.owner,
                    state,
                    a.host.unwrap_or_else(|| "-".into()),
                    t(a.last_heartbeat_at),
                    a.live_leases,
                    a.description.unwrap_or_default()
                );
            }
        }
        EdgeAction::Revoke { name } => {
            if !db::edge::revoke(&pool, &name).await? {
                bail!("no edge agent {name:?} to revoke (unknown, or revoked already)");
            }
            println!("edge agent {name} revoked: its credential is refused, and its proxies are killed");
        }
    }
    Ok(())
}
