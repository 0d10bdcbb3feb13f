//! `mtcp approvals ls|approve|deny`: decide calls waiting for approval from a terminal, with the
//! same checks and trail as the approval tools. The CLI holds the database's credentials, so it
//! acts for the `--actor` it is given; that actor's role comes from the configuration (an API key
//! or a binding of the policy), never from the command line, and must be one the policy lets
//! approve this call.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use mtcp_shared::approvals::{self, Approver, Verdict};
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::domain::{Actor, ActorKind, AuthSource, Capability, OpId};
use mtcp_shared::policy::{CallContext, Claimed, Policy};

#[derive(Args)]
pub struct ApprovalsArgs {
    #[arg(long, env = "MTCP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    action: ApprovalsAction,
}

#[derive(Subcommand)]
enum ApprovalsAction {
    /// List the calls waiting for approval, oldest first.
    Ls {
        /// Show whether this actor may decide each.
        #[arg(long)]
        actor: Option<String>,
    },
    /// Approve a waiting call: the digest must be the one `ls` showed with it.
    Approve {
        op_id: OpId,
        /// The call's `args_sha256`.
        #[arg(long)]
        sha256: String,
        #[arg(long)]
        reason: String,
        /// Who approves: an actor of the configuration (API key or policy binding).
        #[arg(long)]
        actor: String,
    },
    /// Deny a waiting call: it ends `denied` and never runs.
    Deny {
        op_id: OpId,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        actor: String,
    },
}

pub async fn run(args: ApprovalsArgs) -> anyhow::Result<()> {
    let (config, pool) = crate::open_store(args.config.as_deref(), args.database_url).await?;
    let policy = config.load_policy()?;
    match args.action {
        ApprovalsAction::Ls { actor } => {
            let viewer = match actor {
                Some(name) => approver(&config, &policy, &pool, &name).await?,
                // Nobody in particular: every call shows who may decide it.
                None => Actor {
                    id: String::new(),
                    kind: ActorKind::User,
                    role: String::new(),
                    source: AuthSource::ConfigApiKey,
                    groups: vec![],
                },
            };
            let pending = approvals::list(&pool, &viewer, 200).await?;
            if pending.is_empty() {
                println!("no calls await approval");
            }
            for p in pending {
                let a = &p.approval;
                let given = a.decisions.iter().filter(|d| d.verdict == "approve").count();
                println!("{}  {} by {} ({})", p.op_id, p.tool, p.actor, p.actor_role);
                println!("  arguments:  {}", p.arguments);
                println!("  reason:     {}", p.reason.as_deref().unwrap_or("-"));
                println!("  sha256:     {}", a.args_sha256);
                println!("  approvals:  {given} of {} by {}", a.approvals_required, a.approvers.describe());
                println!("  expires:    {}", a.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                if !viewer.id.is_empty() {
                    println!("  you:        {}", p.why_not.as_deref().unwrap_or("may decide"));
                }
            }
        }
        ApprovalsAction::Approve { op_id, sha256, reason, actor } => {
            let sha256 = sha256.trim().to_ascii_lowercase();
            decide(&config, &policy, &pool, op_id, &actor, &reason, Verdict::Approve { args_sha256: &sha256 }).await?;
        }
        ApprovalsAction::Deny { op_id, reason, actor } => {
            decide(&config, &policy, &pool, op_id, &actor, &reason, Verdict::Deny).await?;
        }
    }
    Ok(())
}

async fn decide(
    config: &Config,
    policy: &Policy,
    pool: &sqlx::PgPool,
    op_id: OpId,
    name: &str,
    reason: &str,
    verdict: Verdict<'_>,
) -> anyhow::Result<()> {
    if reason.trim().is_empty() {
        bail!("--reason must say why");
    }
    let actor = approver(config, policy, pool, name).await?;
    let ctx = CallContext { mutating: true, reason: Some(reason), ..Default::default() };
    let decision = policy.evaluate(&actor, Capability::ApprovalReview, &ctx);
    if !decision.allow {
        bail!("{name} may not decide approvals: {}", decision.reason);
    }
    let who = Approver { actor: &actor, via: "cli", reason };
    match approvals::decide(pool, &config.approvals, policy, op_id, who, verdict).await? {
        Ok(d) => {
            println!("{}: {} ({} of {} approvals)", d.op_id, d.message, d.approvals, d.approvals_required);
            Ok(())
        }
        Err(why) => bail!("{why}"),
    }
}

/// The actor `name` as the gateway would authenticate it: its role from a configured API key, a
/// database key, or the policy's bindings.
async fn approver(config: &Config, policy: &Policy, pool: &sqlx::PgPool, name: &str) -> anyhow::Result<Actor> {
    let configured = config.auth.api_keys.iter().find(|k| k.actor == name);
    let kind = configured.map(|k| k.kind).unwrap_or_default();
    let stored = db::api_keys::list(pool).await?.into_iter().find(|k| k.actor == name && k.revoked_at.is_none());
    let role = configured
        .and_then(|k| k.role.clone())
        .or_else(|| stored.map(|k| k.role))
        .or_else(|| policy.resolve_role(&Claimed { actor: name, kind, ..Default::default() }));
    let Some(role) = role.filter(|r| policy.has_role(r)) else {
        bail!("no role of the effective policy belongs to {name:?} (no API key or binding names it)");
    };
    Ok(Actor { id: name.to_owned(), kind, role, source: AuthSource::ConfigApiKey, groups: vec![] })
}
