//! `mtcp keys create|list|revoke`: API keys stored in the database as SHA-256. A new key is shown
//! once and never stored or logged.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mtcp_shared::db::{self, api_keys::NewApiKey};
use mtcp_shared::domain::{ActorKind, api_key_actor_problem};
use mtcp_shared::policy::Claimed;
use sha2::{Digest, Sha256};

use crate::dev::new_api_key;

#[derive(Args)]
pub struct KeysArgs {
    #[arg(long, env = "MTCP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create a key; it is printed once.
    Create {
        /// The actor the key authenticates, e.g. alice or teleport-ai-prod: a plain name, without
        /// `:` (tokens are `oidc:<subject>`) and not `anonymous` or `conformance-suite`.
        #[arg(long)]
        actor: String,
        /// A role of the effective policy (built-in: admin, operator, user, readonly). Default: what
        /// the policy binds the actor to, else `operator` for a service, else the default role.
        #[arg(long)]
        role: Option<String>,
        /// user or service.
        #[arg(long, default_value = "user")]
        kind: String,
        /// Lifetime, e.g. 30d or 12h; default: no expiry.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
        /// A note for humans (where the key is used).
        #[arg(long)]
        description: Option<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by its id.
    Revoke { key_id: uuid::Uuid },
}

pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    let (config, pool) = crate::open_store(args.config.as_deref(), args.database_url).await?;
    match args.action {
        KeysAction::Create { actor, role, kind, expires_in, description } => {
            // Before anything else: JWT subjects (`oidc:…`) and the control plane's own records
            // live in other namespaces, and a key must never authenticate into one of them.
            if let Some(problem) = api_key_actor_problem(&actor) {
                bail!("--actor: {problem}");
            }
            let policy = config.load_policy()?;
            let actor_kind = match kind.as_str() {
                "user" => ActorKind::User,
                "service" => ActorKind::Service,
                _ => bail!("--kind must be user or service, not {kind:?}"),
            };
            let claimed = Claimed { actor: &actor, kind: actor_kind, role: role.as_deref(), ..Default::default() };
            let Some(role) = policy.resolve_role(&claimed) else {
                let roles: Vec<&str> = policy.role_names().collect();
                match role {
                    Some(role) => bail!("--role {role:?} is not a role of the effective policy ({})", roles.join(", ")),
                    None => bail!("no role binds {actor:?}: pass --role ({})", roles.join(", ")),
                }
            };
            let expires_at = expires_in
                .map(|d| chrono::Duration::from_std(d).map(|d| chrono::Utc::now() + d))
                .transpose()
                .context("--expires-in is too long")?;
            let key = new_api_key();
            let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
            let key_id = uuid::Uuid::new_v4();
            db::api_keys::insert(
                &pool,
                &NewApiKey {
                    key_id,
                    actor: &actor,
                    role: &role,
                    kind: &kind,
                    sha256: &hash,
                    description: description.as_deref(),
                    expires_at,
                },
            )
            .await?;
            println!("key id:  {key_id}");
            println!("actor:   {actor} (role {role})");
            if let Some(at) = expires_at {
                println!("expires: {}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
            println!("\n{key}\n\nThis is the only time the key is shown; store it now.");
        }
        KeysAction::List => {
            let rows = db::api_keys::list(&pool).await?;
            println!(
                "{:<36}  {:<20}  {:<9}  {:<7}  {:<20}  {:<20}  {:<8}  {:<20}  description",
                "key id", "actor", "role", "kind", "created", "expires", "state", "last used"
            );
            let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
                d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "-".into())
            };
            let now = chrono::Utc::now();
            for r in rows {
                let state = match (r.revoked_at, r.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(at)) if at <= now => "expired",
                    _ => "active",
                };
                println!(
                    "{:<36}  {:<20}  {:<9}  {:<7}  {:<20}  {:<20}  {:<8}  {:<20}  {}",
                    r.key_id,
                    r.actor,
                    r.role,
                    r.kind,
                    t(Some(r.created_at)),
                    t(r.expires_at),
                    state,
                    t(r.last_used_at),
                    r.description.unwrap_or_default()
                );
            }
        }
        KeysAction::Revoke { key_id } => {
            if db::api_keys::revoke(&pool, key_id).await? {
                println!("revoked {key_id}");
            } else {
                bail!("no active key with id {key_id}");
            }
        }
    }
    Ok(())
}
