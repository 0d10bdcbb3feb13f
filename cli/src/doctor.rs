//! `mtcp doctor`: checks what a deployment needs, one line each (`ok`, `warn` or `fail` with the
//! reason), and exits non-zero when any check fails. Read-only: it changes nothing.

use std::path::PathBuf;

use clap::Args;
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::teleport::identity::{self, Expiry, IdentityError};
use mtcp_shared::teleport::rights_coverage::{coverage, offered};
use mtcp_shared::teleport::{Runner, fetch};
use secrecy::SecretString;

#[derive(Args)]
pub struct DoctorArgs {
    #[arg(long, env = "MTCP_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Report {
    worst: Level,
}

impl Report {
    fn line(&mut self, level: Level, check: &str, reason: impl std::fmt::Display) {
        let word = match level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "fail",
        };
        // Cluster text and error messages are untrusted: no control characters reach the terminal.
        let reason: String = reason.to_string().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        println!("{word}  {check}: {reason}");
        self.worst = self.worst.max(level);
    }
}

/// Run every check; `Err` when one failed (the process then exits non-zero).
pub async fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(url) = args.database_url {
        config.database.url = Some(SecretString::from(url));
    }
    let mut report = Report { worst: Level::Ok };
    let clusters = config.clusters();
    for cluster in &clusters {
        // With several clusters, each one's checks under its name.
        if !config.clusters.is_empty() {
            println!("cluster {}:", cluster.name);
        }
        let roles = check_identity(cluster, &mut report);
        match Runner::new(mtcp_worker::cluster_runner_settings(cluster, "doctor")) {
            Ok(runner) => {
                check_tctl(&runner, &mut report).await;
                check_rights(&config, &runner, roles, &mut report).await;
            }
            Err(e) => report.line(Level::Fail, "tctl status", format!("cannot prepare the CLI runner: {e}")),
        }
    }
    check_database(&config, &mut report).await;
    match report.worst {
        Level::Fail => anyhow::bail!("some checks failed"),
        _ => Ok(()),
    }
}

/// The identity file's checks; the roles its certificate names, when it has a readable one.
fn check_identity(cluster: &mtcp_shared::config::ClusterConfig, r: &mut Report) -> Option<Vec<String>> {
    let Some(path) = &cluster.identity_file else {
        r.line(
            Level::Warn,
            "identity file",
            "teleport.identity_file is not set (TELEPORT_IDENTITY_FILE, or the cluster's identity_file); tctl/tsh use \
             their own login",
        );
        return None;
    };
    match identity::inspect(path) {
        Ok(info) => {
            let mode = format!("{:04o}", info.mode);
            if info.too_open() {
                r.line(
                    Level::Warn,
                    "identity file mode",
                    format!("{} is {mode}; make it 0600 (chmod 600)", path.display()),
                );
            } else {
                r.line(Level::Ok, "identity file mode", format!("{} is {mode}", path.display()));
            }
            let now = chrono::Utc::now();
            let left = info.cert.not_after - now;
            let who = format!(
                "user {} of cluster {}",
                info.cert.user.as_deref().unwrap_or("?"),
                info.cert.cluster.as_deref().unwrap_or("?")
            );
            let at = info.cert.not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            match info.cert.expiry(now) {
                Expiry::Expired => r.line(
                    Level::Fail,
                    "identity certificate",
                    format!("{who} expired at {at}; renew it (tbot, or tctl auth sign)"),
                ),
                Expiry::Soon => r.line(
                    Level::Warn,
                    "identity certificate",
                    format!("{who} expires at {at}, in {} min; is tbot renewing it?", left.num_minutes()),
                ),
                Expiry::Valid => r.line(Level::Ok, "identity certificate", format!("{who} valid until {at}")),
            }
            let roles = if info.cert.roles.is_empty() { "none".to_owned() } else { info.cert.roles.join(", ") };
            r.line(Level::Ok, "identity roles", roles);
            Some(info.cert.roles)
        }
        Err(e @ (IdentityError::Missing { .. } | IdentityError::Unreadable { .. })) => {
            r.line(Level::Fail, "identity file", e);
            None
        }
        Err(e) => {
            r.line(Level::Warn, "identity certificate", e);
            None
        }
    }
}

/// `tctl status` as the health check runs and reads it (plain: 17.x and 18.x refuse `--format`).
async fn check_tctl(runner: &Runner, r: &mut Report) {
    let cancel = tokio_util::sync::CancellationToken::new();
    match fetch::status(runner, &cancel).await {
        Ok(status) => {
            let cluster: String = status.cluster.name.chars().take(253).collect();
            r.line(Level::Ok, "tctl status", format!("cluster {cluster} answered"));
        }
        Err(e) => r.line(Level::Fail, "tctl status", e),
    }
}

/// Which tools the identity's roles do not cover (README "Connect to your cluster"): the roles its
/// certificate names, read with `tctl get roles`, against the rights table.
async fn check_rights(config: &Config, runner: &Runner, roles: Option<Vec<String>>, r: &mut Report) {
    const CHECK: &str = "identity rights";
    let Some(roles) = roles else {
        return r.line(Level::Warn, CHECK, "not checked: no readable identity certificate");
    };
    if roles.is_empty() {
        return r.line(Level::Warn, CHECK, "not checked: the identity certificate names no roles");
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let cluster_roles = match fetch::roles(runner, &cancel).await {
        Ok(roles) => roles,
        Err(e) => {
            r.line(Level::Warn, CHECK, format!("the roles cannot be read ({e}); mcp-inventory grants role list/read"));
            return probe_reads(runner, &cancel, r).await;
        }
    };
    let p = &config.policy;
    let found = coverage(&cluster_roles, &roles, |t| offered(t, p.allow_tctl_passthrough, p.allow_tsh_passthrough));
    if !found.missing_roles.is_empty() {
        r.line(Level::Warn, CHECK, format!("roles not found in the cluster: {}", found.missing_roles.join(", ")));
    }
    if found.gaps.is_empty() {
        r.line(Level::Ok, CHECK, format!("{} cover every offered tool", roles.join(", ")));
    } else {
        let gaps: Vec<String> = found.gaps.iter().map(|g| format!("{} needs {}", g.tool, g.missing)).collect();
        r.line(Level::Warn, CHECK, format!("{} tool(s) not covered: {}", gaps.len(), gaps.join("; ")));
    }
}

/// Without the roles to read, the harmless reads the inventory tools make, each as its tools
/// would: what Teleport refuses is named. (The other planes' rights cannot be probed without
/// changing something: a request, a lock, a proxy.)
async fn probe_reads(runner: &Runner, cancel: &tokio_util::sync::CancellationToken, r: &mut Report) {
    const CHECK: &str = "identity rights (probe)";
    let users = fetch::users(runner, cancel).await.err();
    let tokens = fetch::tokens(runner, cancel).await.err();
    for (what, tools, failure) in
        [("users", "list_users, scan_rbac", users), ("join tokens", "list_tokens, scan_rbac, run_health_check", tokens)]
    {
        match failure {
            None => r.line(Level::Ok, CHECK, format!("{what} can be read")),
            Some(e) => r.line(Level::Warn, CHECK, format!("{what} cannot be read, so {tools} fail: {e}")),
        }
    }
}

async fn check_database(config: &Config, r: &mut Report) {
    let url = match config.database_url() {
        Ok(url) => url,
        Err(e) => return r.line(Level::Fail, "database", e),
    };
    let pool = match db::connect(url, 2, config.database.connect_timeout).await {
        Ok(pool) => pool,
        Err(e) => return r.line(Level::Fail, "database", format!("unreachable: {e}")),
    };
    // The migration check is the first statement: it tells an unreachable server from a missing
    // schema.
    match db::ensure_migrated(&pool).await {
        Ok(()) => {
            r.line(Level::Ok, "database", "reachable");
            r.line(Level::Ok, "migrations", "all applied");
        }
        Err(e @ db::DbError::NotMigrated { .. }) => {
            r.line(Level::Ok, "database", "reachable");
            return r.line(Level::Fail, "migrations", format!("{e}; run `mtcp migrate`"));
        }
        Err(e) => return r.line(Level::Fail, "database", format!("unreachable: {e}")),
    }
    match db::agents::count_online(&pool, "worker").await {
        Ok(0) => r.line(Level::Fail, "workers", "none online: tool calls wait in the queue until one starts"),
        Ok(n) => r.line(Level::Ok, "workers", format!("{n} online")),
        Err(e) => r.line(Level::Fail, "workers", e),
    }
    match db::health::stuck_leases(&pool, config.reaper.lease_start_deadline).await {
        Ok(s) if s.starting + s.stopping + s.overdue == 0 => r.line(Level::Ok, "leases", "none stuck"),
        Ok(s) => r.line(
            Level::Warn,
            "leases",
            format!(
                "{} starting and {} stopping for over {}, {} live past expiry; see README \"Troubleshooting\"",
                s.starting,
                s.stopping,
                humantime::format_duration(config.reaper.lease_start_deadline),
                s.overdue
            ),
        ),
        Err(e) => r.line(Level::Fail, "leases", e),
    }
    pool.close().await;
}
