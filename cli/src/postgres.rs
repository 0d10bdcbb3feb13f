//! A private PostgreSQL server in a data directory, started from the local PostgreSQL binaries.
//! PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user, which
//! owns the cluster directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Database created for the control plane inside the private server.
pub const DATABASE: &str = "mtcp";

/// A running private server.
#[derive(Debug)]
pub struct PrivatePostgres {
    port: u16,
    /// Whether [`start`](Self::start) started it (false: it was already running).
    started: bool,
}

impl PrivatePostgres {
    /// URL of the control plane's database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// URL of the maintenance database (to create per-test databases).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Initialise the cluster on first use, start it if it is not running, create the database.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin = find_bin_dir()?;
        let pgdata = cluster_dir(data_dir)?;
        let run_as = run_as_user()?;
        if !pgdata.join("PG_VERSION").exists() {
            prepare_dir(&pgdata, run_as.as_ref())?;
            pg(&bin, "initdb", run_as.as_ref())
                .args(["-D"])
                .arg(&pgdata)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"])
                .run("initdb")?;
            let conf = pgdata.join("postgresql.conf");
            let mut text = std::fs::read_to_string(&conf).context("reading postgresql.conf")?;
            text.push_str("\ninclude_if_exists = 'mtcp.conf'\n");
            std::fs::write(&conf, text).context("writing postgresql.conf")?;
        }
        if let Some(port) = running_port(&pgdata) {
            let me = Self { port, started: false };
            me.create_database().await?;
            return Ok(me);
        }
        let port = free_port()?;
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nmax_connections = 400\n\
             fsync = on\nshared_buffers = 128MB\n",
            pgdata.display()
        );
        std::fs::write(pgdata.join("mtcp.conf"), conf).context("writing mtcp.conf")?;
        chown_to(&pgdata.join("mtcp.conf"), run_as.as_ref())?;
        pg(&bin, "pg_ctl", run_as.as_ref())
            .args(["-D"])
            .arg(&pgdata)
            .args(["-l"])
            .arg(pgdata.join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .run("pg_ctl start")?;
        let me = Self { port, started: true };
        me.create_database().await?;
        Ok(me)
    }

    /// Whether this process started the server (it was not already running).
    pub fn started_here(&self) -> bool {
        self.started
    }

    /// Stop the server of a data directory (no-op when it is not running).
    pub fn stop(data_dir: &Path) -> anyhow::Result<()> {
        let pgdata = cluster_dir(data_dir)?;
        if running_port(&pgdata).is_none() {
            return Ok(());
        }
        let bin = find_bin_dir()?;
        pg(&bin, "pg_ctl", run_as_user()?.as_ref())
            .args(["-D"])
            .arg(&pgdata)
            .args(["-m", "fast", "-w", "stop"])
            .run("pg_ctl stop")
    }

    async fn create_database(&self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url())
            .await
            .with_context(|| format!("connecting to the private server on port {}", self.port))?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            sqlx::query("CREATE DATABASE mtcp").execute(&mut conn).await?;
        }
        Ok(())
    }
}

fn cluster_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let abs = std::fs::canonicalize(data_dir)?;
    Ok(abs.join("pg"))
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    // Highest major version first.
    candidates.sort_by_key(|p| {
        std::cmp::Reverse(
            p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()),
        )
    });
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.into_iter().find(|d| ["initdb", "pg_ctl", "postgres"].iter().all(|b| d.join(b).is_file())).context(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found; install them \
             (Debian/Ubuntu: `apt-get install postgresql`) or pass --database-url",
    )
}

/// Under root, the server must run as an unprivileged user.
fn run_as_user() -> anyhow::Result<Option<nix::unistd::User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    nix::unistd::User::from_name("postgres")?
        .map(Some)
        .context("running as root, PostgreSQL needs an unprivileged `postgres` user, and none exists")
}

fn prepare_dir(pgdata: &Path, user: Option<&nix::unistd::User>) -> anyhow::Result<()> {
    std::fs::create_dir_all(pgdata)?;
    chown_to(pgdata, user)?;
    if let Some(u) = user {
        // The server user must be able to reach its directory through every parent.
        let probe = Command::new("runuser").args(["-u", &u.name, "--", "test", "-w"]).arg(pgdata).status()?;
        if !probe.success() {
            bail!(
                "user `{}` cannot reach {}: choose a --data-dir whose parents are world-traversable (e.g. under /var/tmp)",
                u.name,
                pgdata.display()
            );
        }
    }
    Ok(())
}

fn chown_to(path: &Path, user: Option<&nix::unistd::User>) -> anyhow::Result<()> {
    if let Some(u) = user {
        nix::unistd::chown(path, Some(u.uid), Some(u.gid)).with_context(|| format!("chown {}", path.display()))?;
    }
    Ok(())
}

/// The port of a running server, from `postmaster.pid` (line 4), if its process is alive.
fn running_port(pgdata: &Path) -> Option<u16> {
    let pidfile = std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let mut lines = pidfile.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok()?;
    Some(port)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct PgCommand(Command);

fn pg(bin: &Path, tool: &str, user: Option<&nix::unistd::User>) -> PgCommand {
    let exe = bin.join(tool);
    let mut cmd = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &u.name, "--"]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.current_dir("/");
    PgCommand(cmd)
}

impl PgCommand {
    fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, a: I) -> Self {
        self.0.args(a);
        self
    }

    fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.0.arg(a);
        self
    }

    fn run(mut self, what: &str) -> anyhow::Result<()> {
        let out = self.0.output().with_context(|| format!("running {what}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                String::from_utf8_lossy(&out.stdout).trim()
            );
        }
        Ok(())
    }
}
