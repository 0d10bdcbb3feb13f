//! `mtcp up`: gateway + worker + reaper in one process, zero configuration by default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mtcp_shared::config::{Config, LogFormat};
use secrecy::SecretString;

use crate::dev;
use crate::postgres::PrivatePostgres;

#[derive(Args)]
pub struct UpArgs {
    /// Address of the MCP endpoint.
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Configuration file (YAML); without one, defaults and the simulator are used.
    #[arg(long, env = "MTCP_CONFIG")]
    config: Option<PathBuf>,
    /// Use this database instead of a private server.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where the private Postgres, the simulator wiring and TELEPORT_HOME live.
    #[arg(long, default_value = ".mtcp")]
    data_dir: PathBuf,
    /// Cluster state file for the simulator (YAML or JSON); default: the built-in demo cluster.
    #[arg(long)]
    sim_state: Option<PathBuf>,
    /// Leave the private PostgreSQL running on exit (default: a server this command started is
    /// stopped when it exits; stop a kept one with `mtcp postgres stop`).
    #[arg(long)]
    keep_postgres: bool,
}

/// Stops the private PostgreSQL when dropped: on every way out of `up` once it started the
/// server (a clean stop, a failed migration, a gateway that could not bind).
struct StopPostgres {
    data_dir: PathBuf,
}

impl Drop for StopPostgres {
    fn drop(&mut self) {
        match PrivatePostgres::stop(&self.data_dir) {
            Ok(()) => println!("stopped the private PostgreSQL (keep it running next time with --keep-postgres)"),
            Err(e) => eprintln!(
                "could not stop the private PostgreSQL: {e:#}; stop it with: mtcp postgres stop --data-dir {}",
                self.data_dir.display()
            ),
        }
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if args.config.is_none() {
        config.service.log_format = LogFormat::Text;
    }
    mtcp_shared::telemetry::init(&config, "mtcp");
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    config.service.host = args.listen.ip().to_string();
    config.service.port = args.listen.port();
    // All three services share this process (and its metrics registry): let the OS pick the
    // side ports so they never collide.
    config.worker.listen = ([127, 0, 0, 1], 0).into();
    config.reaper.listen = ([127, 0, 0, 1], 0).into();
    if config.tsh.home == std::path::Path::new("/var/lib/mcp-teleport/home") {
        config.tsh.home = data_dir.join("home");
    }
    if let Some(url) = args.database_url {
        config.database.url = Some(SecretString::from(url));
    }
    let private_pg = if config.database.url.is_none() {
        let pg = PrivatePostgres::start(&data_dir).await.context("starting the private PostgreSQL")?;
        config.database.url = Some(SecretString::from(pg.url()));
        Some(pg)
    } else {
        None
    };
    // Declared before everything that uses the database, so it is dropped after them.
    let stop_postgres = private_pg
        .as_ref()
        .filter(|pg| pg.started_here() && !args.keep_postgres)
        .map(|_| StopPostgres { data_dir: data_dir.clone() });
    let simulated = dev::wants_simulator(&config);
    if simulated {
        dev::use_simulator(&mut config, &data_dir.join("sim"), args.sim_state.as_deref())?;
    }
    // Dev keys only for a zero-config start: a configuration that names its own keys gets none
    // (an extra admin key nobody asked for is a way in).
    let keys = if config.auth.api_keys.is_empty() { dev::add_dev_keys(&mut config) } else { Vec::new() };
    config.validate()?;

    let pool = mtcp_shared::db::connect(config.database_url()?, 2, config.database.connect_timeout).await?;
    mtcp_shared::db::migrate(&pool).await.context("migrating the database")?;
    if simulated {
        match demo_audit_day(&pool).await {
            Ok(n) => tracing::info!(events = n, "demo audit events loaded"),
            Err(e) => tracing::warn!(error = %e, "could not load demo audit events"),
        }
    }
    pool.close().await;

    let shutdown = mtcp_shared::shutdown::on_signal();
    let gateway = mtcp_gateway::Application::build(config.clone(), shutdown.clone()).await?;
    let url = format!("http://{}/mcp", gateway.local_addr());
    let worker = tokio::spawn(mtcp_worker::run(config.clone(), shutdown.clone()));
    let reaper = tokio::spawn(mtcp_reaper::run(config.clone(), shutdown.clone()));
    let keys_file = data_dir.join("dev-keys");
    let shown = show_keys(&keys, &keys_file)?;
    print_banner(&url, &shown, simulated, private_pg.as_ref());
    let served = gateway.run_until_stopped().await;
    shutdown.cancel();
    let _ = worker.await;
    let _ = reaper.await;
    if private_pg.is_some() && stop_postgres.is_none() {
        println!(
            "the private PostgreSQL keeps running; stop it with: mtcp postgres stop --data-dir {}",
            data_dir.display()
        );
    }
    served
}

/// A day of simulated audit events (with a brute-force burst, an impersonation and a weakened
/// second factor) so the audit tools have something to show; only into an empty audit store.
async fn demo_audit_day(pool: &sqlx::PgPool) -> anyhow::Result<u64> {
    if !mtcp_shared::db::audit::is_empty(pool).await? {
        return Ok(0);
    }
    let out = std::process::Command::new(dev::simulator_binary()?)
        .args(["audit-events", "--hours", "24", "--seed", "42"])
        .args(["--scenario", "brute_force,impersonation,weakened_auth"])
        .output()
        .context("running the simulator's audit-event generator")?;
    anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let batch = mtcp_shared::ingest::parse_batch(&String::from_utf8_lossy(&out.stdout)).map_err(anyhow::Error::msg)?;
    let mut inserted = 0;
    for chunk in batch.events.chunks(1000) {
        inserted += mtcp_shared::db::audit::insert_batch(pool, chunk).await?;
    }
    Ok(inserted)
}

/// Where the dev keys are shown: on a terminal, printed; otherwise (a log, a pipe) written to
/// `file` (mode 0600) and only its path printed, so keys never land in captured output.
enum ShownKeys<'a> {
    None,
    Printed(&'a [dev::DevKey]),
    Written(&'a Path),
}

fn show_keys<'a>(keys: &'a [dev::DevKey], file: &'a Path) -> anyhow::Result<ShownKeys<'a>> {
    use std::io::{IsTerminal, Write};
    use std::os::unix::fs::OpenOptionsExt;
    if keys.is_empty() {
        return Ok(ShownKeys::None);
    }
    if std::io::stdout().is_terminal() {
        return Ok(ShownKeys::Printed(keys));
    }
    let _ = std::fs::remove_file(file);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("writing the dev keys to {}", file.display()))?;
    for k in keys {
        writeln!(out, "{} {}", k.role, k.key)?;
    }
    Ok(ShownKeys::Written(file))
}

fn print_banner(url: &str, keys: &ShownKeys<'_>, simulated: bool, pg: Option<&PrivatePostgres>) {
    println!("\nMCP Teleport Control Plane is up.\n");
    println!("  MCP endpoint:  {url}");
    // The console sits next to `/mcp` on the same listener; sign in there with a key below.
    println!("  console:       {}", url.trim_end_matches("/mcp").to_owned() + "/console");
    if let Some(pg) = pg {
        println!("  database:      {} (private server)", pg.url());
    }
    if simulated {
        println!("  Teleport:      simulator (demo cluster teleport.example.com)");
    }
    let admin = match keys {
        ShownKeys::None => {
            println!("\nAPI keys: the ones your configuration names (no dev keys were added).");
            "<your key>".to_owned()
        }
        ShownKeys::Printed(keys) => {
            println!("\nDev API keys (new each start; send as `Authorization: Bearer <key>`):");
            for k in *keys {
                println!("  {:<9} {}", k.role, k.key);
            }
            keys.iter().find(|k| k.role == "admin").map(|k| k.key.clone()).unwrap_or_default()
        }
        ShownKeys::Written(file) => {
            println!("\nDev API keys (new each start): written to {} (stdout is not a terminal)", file.display());
            format!("$(awk '$1 == \"admin\" {{print $2}}' {})", file.display())
        }
    };
    println!("\nTry:\n  curl -s -X POST {url} -H \"Authorization: Bearer {admin}\" \\");
    println!("    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\");
    println!(
        "    -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"list_nodes\",\"arguments\":{{}}}}}}'"
    );
    println!("\nPress Ctrl-C to stop.\n");
}
