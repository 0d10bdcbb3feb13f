//! `tsh proxy ssh|db|app|mcp|kube` (`tool/tsh/common/proxy.go`, `kube_proxy.go`): check the target against the cluster,
//! bind `127.0.0.1:<--port or random>`, and hand a [`Serve`] to `main`, which prints the startup
//! text and echoes traffic until a signal. Unknown targets fail like `tsh`.

mod kubeconfig;
mod text;

use std::net::TcpListener;

use crate::Ctx;
use crate::access::Target;
use crate::cli::{Arg, Command, Flag, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::serve::{Mode, Serve};
use crate::state::{McpTransport, State, TargetKind};

const PORT: Flag = Flag::value("port").short('p');

/// The `proxy` command group.
pub const COMMAND: Command =
    Command::new("proxy", "Run local TLS proxy allowing connecting to Teleport in single-port mode.").subcommands(&[
        Command::new("ssh", "Start local TLS proxy for ssh connections when using Teleport in single-port mode.")
            .args(&[Arg::required("[user@]host")])
            .flags(&[Flag::bool("no-resume"), Flag::bool("relogin")]),
        Command::new("db", "Start local TLS proxy for database connections when using Teleport in single-port mode.")
            .args(&[Arg::required("db")])
            .flags(&[
                PORT,
                Flag::bool("tunnel"),
                Flag::value("db-user"),
                Flag::value("db-name"),
                Flag::value("db-roles"),
                Flag::value("request-reason"),
                Flag::bool("disable-access-request"),
            ]),
        Command::new("app", "Start local TLS proxy for app connection when using Teleport in single-port mode.")
            .args(&[Arg::required("app")])
            .flags(&[PORT]),
        Command::new("mcp", "Start local proxy for MCP servers.").args(&[Arg::required("app")]).flags(&[PORT]),
        Command::new("kube", "Start local proxy for Kubernetes access.")
            .args(&[Arg::rest("kube-cluster")])
            .flags(&[PORT]),
    ]);

/// What a `proxy` command reads on the cluster.
pub fn target(command: &str) -> Option<Target> {
    Some(match command {
        "proxy ssh" => Target::new("read", "node"),
        "proxy db" => Target::new("read", "db"),
        "proxy app" | "proxy mcp" => Target::new("read", "app"),
        "proxy kube" => Target::new("read", "kube_cluster"),
        _ => return None,
    })
}

/// Runs a parsed `tsh proxy …` command.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let name = parsed.args.first().map(String::as_str).unwrap_or_default();
    let profile = profile(parsed, ctx);
    let (stdout, mode) = match parsed.command.as_str() {
        "proxy ssh" => {
            fail_if_asked(ctx, &profile)?;
            (String::new(), Mode::Stdio)
        }
        "proxy db" => {
            if !reachable(ctx, TargetKind::Database, name) {
                let list = match parsed.flag("cluster") {
                    Some(cluster) => format!("tsh db ls --cluster={cluster}"),
                    None => "tsh db ls".to_owned(),
                };
                return Err(SimError::msg(format!(
                    "database {name:?} not found, use '{list}' to see registered databases"
                )));
            }
            let (port, _) = port(parsed)?;
            fail_if_asked(ctx, &profile)?;
            let listener = bind(port)?;
            let bound = bound_port(&listener)?;
            let db = text::Db {
                name,
                user: parsed.flag("db-user"),
                database: parsed.flag("db-name"),
                tunnel: parsed.switch("tunnel"),
            };
            (text::db(&db, &profile, bound, port == 0), Mode::Listen(listener))
        }
        "proxy app" | "proxy mcp" => {
            if !reachable(ctx, TargetKind::App, name) {
                return Err(SimError::msg(format!("app {name:?} not found, use `tsh apps ls` to see registered apps")));
            }
            if parsed.command == "proxy mcp" {
                mcp_app(ctx.state, name)?;
            }
            let (port, target) = port(parsed)?;
            fail_if_asked(ctx, &profile)?;
            let listener = bind(port)?;
            let bound = bound_port(&listener)?;
            (text::app(name, target.as_deref(), bound, port == 0), Mode::Listen(listener))
        }
        "proxy kube" => {
            let clusters = kube_clusters(&parsed.args, ctx)?;
            let (port, _) = port(parsed)?;
            fail_if_asked(ctx, &profile)?;
            let listener = bind(port)?;
            let bound = bound_port(&listener)?;
            kubeconfig::write(&clusters, &profile, bound)?;
            (text::kube(&clusters, true, &profile, bound, port == 0), Mode::Listen(listener))
        }
        other => return Err(SimError::msg(format!("teleport-sim: no handler for `tsh {other}`"))),
    };
    let serve = Serve { mode, exit_after: ctx.faults.proxy_exit_after, ignore_sigterm: ctx.faults.ignore_sigterm };
    Ok(Outcome { stdout, serve: Some(serve), ..Outcome::default() })
}

/// A target is there when some agent serves it (a `*_server` resource names it) and, under RBAC,
/// the identity sees it through a role's label selector (`db_labels`, `app_labels`,
/// `kubernetes_labels`); one the identity cannot see is, to it, not there, as Teleport filters
/// what it lists.
fn reachable(ctx: &Ctx, kind: TargetKind, name: &str) -> bool {
    ctx.state.target(kind, name).is_some() && crate::rbac::sees(ctx.state, ctx.identity(), kind.labels_field())
}

/// The named clusters (each must exist when the state lists them). With none named, tsh takes
/// the clusters logged in through `tsh kube login` from the default kubeconfig
/// (`tool/tsh/common/kube_proxy.go`, `proxyKubeCommand.prepare`); the simulator has no
/// `kube login`, so like a fresh or isolated home it finds none (`getPrepareErrorMessage`).
fn kube_clusters(named: &[String], ctx: &Ctx) -> Result<Vec<String>, SimError> {
    if let Some(unknown) = named.iter().find(|n| !reachable(ctx, TargetKind::Kube, n)) {
        return Err(SimError::msg(format!("kubernetes cluster {unknown:?} not found")));
    }
    match named.is_empty() {
        false => Ok(named.to_vec()),
        true => Err(SimError::msg(
            "No Kubernetes clusters found to proxy.\n\n\
             Please provide Kubernetes cluster names or labels or predicate expression to this command:\n    \
             tsh proxy kube <kube-cluster-1> <kube-cluster-2>\n    \
             tsh proxy kube --labels env=root\n    \
             tsh proxy kube --query 'labels[\"env\"]==\"root\"'\n\n\
             Or login the Kubernetes cluster first:\n    \
             tsh kube login <kube-cluster-1>\n    \
             tsh proxy kube",
        )),
    }
}

/// `tsh proxy mcp` (18.x, `tool/tsh/common/mcp*.go`) serves only MCP applications, and of those
/// only the ones reached over streamable HTTP; Teleport's refusals, word for word. [`crate::gate`]
/// refuses the command itself before 18.x.
fn mcp_app(state: &State, name: &str) -> Result<(), SimError> {
    let app = state.target(TargetKind::App, name);
    let transport =
        app.filter(|a| a.str_at(&["sub_kind"]) == "mcp").map(|a| McpTransport::of_uri(a.str_at(&["spec", "uri"])));
    match transport {
        None => Err(SimError::msg(format!("{name:?} is not an MCP application"))),
        Some(Some(McpTransport::Http)) => Ok(()),
        Some(other) => {
            let word = other.map_or("unknown", McpTransport::word);
            Err(SimError::msg(format!("MCP applications with {word} transport are not supported")))
        }
    }
}

/// `--port LOCAL[:TARGET]`; 0 (random) when absent.
fn port(parsed: &Parsed) -> Result<(u16, Option<String>), SimError> {
    let Some(text) = parsed.flag("port") else {
        return Ok((0, None));
    };
    let (local, target) = match text.split_once(':') {
        Some((local, target)) => (local, Some(target.to_owned())),
        None => (text, None),
    };
    let local = local.parse().map_err(|_| SimError::msg(format!("invalid port {local:?}")))?;
    Ok((local, target))
}

/// Binds the local listener; errors read like Go's `net.Listen`.
pub fn bind(port: u16) -> Result<TcpListener, SimError> {
    TcpListener::bind(("127.0.0.1", port)).map_err(|err| {
        let reason = match err.kind() {
            std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => err.to_string(),
        };
        SimError::msg(format!("listen tcp 127.0.0.1:{port}: bind: {reason}"))
    })
}

fn bound_port(listener: &TcpListener) -> Result<u16, SimError> {
    listener.local_addr().map(|a| a.port()).map_err(|err| SimError::msg(format!("local proxy address: {err}")))
}

/// The `TELEPORT_SIM_PROXY_FAIL` knob: the proxy cannot reach the Teleport Proxy Service.
pub fn fail_if_asked(ctx: &Ctx, profile: &text::Profile) -> Result<(), SimError> {
    if !ctx.faults.proxy_fail {
        return Ok(());
    }
    Err(SimError::msg(format!("dial tcp {}:443: connect: connection refused", profile.proxy)))
}

/// The profile the key paths name: `--proxy`/`TELEPORT_PROXY` (host only), else the cluster.
pub fn profile(parsed: &Parsed, ctx: &Ctx) -> text::Profile {
    let proxy = parsed.flag("proxy").map(str::to_owned).or_else(|| ctx.env.proxy.clone());
    let proxy = proxy
        .map(|p| {
            let host = p.trim_start_matches("https://").split(',').next().unwrap_or_default();
            host.split(':').next().unwrap_or_default().to_owned()
        })
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| ctx.state.cluster_name.clone());
    let home = match (&ctx.env.teleport_home, &ctx.env.home) {
        (Some(home), _) => home.clone(),
        (None, Some(home)) => format!("{home}/.tsh"),
        (None, None) => "~/.tsh".to_owned(),
    };
    let cluster = parsed
        .flag("cluster")
        .map(str::to_owned)
        .or_else(|| ctx.env.cluster.clone())
        .unwrap_or_else(|| ctx.state.cluster_name.clone());
    text::Profile { home, proxy, cluster, user: ctx.identity().to_owned() }
}
