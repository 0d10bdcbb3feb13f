//! Long-running proxies: the `tsh` command line of a lease, and its start — spawned in its own
//! process group, its listen address read from the startup line Teleport prints (docs/teleport-output.md, "Long-running commands").

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout};

use super::{Binary, Runner};
use crate::domain::{LeaseKind, LeaseTarget};
use crate::redact::LineRedactor;

/// The `tsh` arguments of a lease (after the runner's global flags). `port` 0 or None: any.
pub fn proxy_args(target: &LeaseTarget, port: Option<u16>) -> Vec<String> {
    let port = port.filter(|p| *p != 0).map(|p| format!("--port={p}"));
    let mut args: Vec<String> = match target {
        LeaseTarget::Ssh { host, login, port: ssh_port } => {
            let mut spec = login.as_ref().map(|l| format!("{l}@")).unwrap_or_default();
            spec.push_str(host);
            if let Some(p) = ssh_port {
                spec.push_str(&format!(":{p}"));
            }
            return vec!["proxy".into(), "ssh".into(), spec];
        }
        LeaseTarget::Db { db, db_user, db_name } => {
            // Always `--tunnel`: without it tsh prints paths of client certificates for the
            // consumer to present, and with an identity file (`-i`) those live only in tsh's
            // memory, so nothing could use the port. The tunnel authenticates for the consumer.
            let mut a = vec!["proxy".into(), "db".into(), db.clone(), "--tunnel".into()];
            a.extend(db_user.iter().map(|u| format!("--db-user={u}")));
            a.extend(db_name.iter().map(|n| format!("--db-name={n}")));
            a
        }
        LeaseTarget::App { app } => vec!["proxy".into(), "app".into(), app.clone()],
        LeaseTarget::Mcp { app } => vec!["proxy".into(), "mcp".into(), app.clone()],
        LeaseTarget::Kube { kube_cluster } => {
            let mut a = vec!["proxy".into(), "kube".into()];
            a.extend(kube_cluster.iter().cloned());
            a
        }
        LeaseTarget::Vnet => return vec!["vnet".into()],
    };
    args.extend(port);
    args
}

/// The address a startup line announces, or `Ready` for VNet (no address), or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    Listening(SocketAddr),
    Ready,
}

/// Read one stdout line of a starting proxy.
pub fn parse_startup_line(kind: LeaseKind, line: &str) -> Option<Startup> {
    let line = line.trim();
    if kind == LeaseKind::Vnet {
        return line.starts_with("VNet is ready").then_some(Startup::Ready);
    }
    let announces = line.starts_with("Started DB proxy on ")
        || line.starts_with("Started authenticated tunnel for ")
        || line.starts_with("Proxying connections to ")
        || line.starts_with("Started local proxy for Kubernetes on ");
    if !announces {
        return None;
    }
    let addr = line.rsplit(" on ").next()?.trim_end_matches('.');
    addr.parse().ok().map(Startup::Listening)
}

/// `export KUBECONFIG="<path>"`, the line `tsh proxy kube` prints after its address
/// (`tool/tsh/common/kube_proxy.go`); the path is `…/localproxy-<port>-kubeconfig` under the
/// profile's keys, or `$TELEPORT_KUBECONFIG`.
pub fn parse_kubeconfig_line(line: &str) -> Option<String> {
    let path = line.trim().strip_prefix("export KUBECONFIG=")?.trim_matches('"');
    (!path.is_empty()).then(|| path.to_owned())
}

/// A proxy that announced it is up.
#[derive(Debug)]
pub struct Started {
    pub child: Child,
    /// Process group id (= pid: the child leads its own group).
    pub pgid: i32,
    pub startup: Option<Startup>,
    /// `tsh proxy kube`: the kubeconfig it wrote for consumers of the local proxy (on this host).
    pub kubeconfig: Option<String>,
    /// Lines printed before the announcement (redacted), for the lease's logs.
    pub early_lines: Vec<(String, String)>,
    pub stdout: Lines<BufReader<ChildStdout>>,
    pub stderr: Lines<BufReader<ChildStderr>>,
}

/// Why a proxy did not come up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not start tsh: {0}")]
    Spawn(String),
    #[error("tsh exited with {exit_code:?} before it was ready: {stderr}")]
    Exited { exit_code: Option<i32>, stderr: String },
    #[error("tsh printed no startup line within {after:?}")]
    NotReady { after: Duration },
}

/// Spawn the lease's process and wait for its startup line. `proxy ssh` prints none (it speaks on
/// stdin/stdout), so it is never started this way: its lease is a listener the worker owns.
pub async fn start(r: &Runner, kind: LeaseKind, args: &[String], wait: Duration) -> Result<Started, StartError> {
    let mut child = r.spawn_long(Binary::Tsh, args).map_err(|e| StartError::Spawn(e.to_string()))?;
    let pgid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or_default();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let mut early = Vec::new();
    // Per stream: a PEM block printed over several lines is redacted as a whole.
    let (mut out_redactor, mut err_redactor) = (LineRedactor::default(), LineRedactor::default());
    let (mut startup, mut kubeconfig) = (None, None);
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            line = stdout.next_line() => match line {
                Ok(Some(line)) => {
                    early.push(("stdout".to_owned(), out_redactor.line(&line)));
                    if let Some(found) = parse_startup_line(kind, &line) {
                        startup = Some(found);
                    }
                    if kind == LeaseKind::ProxyKube {
                        kubeconfig = kubeconfig.or_else(|| parse_kubeconfig_line(&line));
                    }
                    // A kube proxy is usable only with its kubeconfig: wait for that line too.
                    let ready = startup.is_some() && (kind != LeaseKind::ProxyKube || kubeconfig.is_some());
                    if ready {
                        return Ok(Started { child, pgid, startup, kubeconfig, early_lines: early, stdout, stderr });
                    }
                }
                _ => {
                    // Stderr read so far belongs to the story too.
                    let mut tail: Vec<String> =
                        early.iter().filter(|(s, _)| s == "stderr").map(|(_, l)| l.clone()).collect();
                    while let Ok(Some(l)) = stderr.next_line().await {
                        tail.push(err_redactor.line(&l));
                    }
                    let status = child.wait().await.ok();
                    return Err(StartError::Exited { exit_code: status.and_then(|s| s.code()), stderr: tail.join("\n") });
                }
            },
            Ok(Some(line)) = stderr.next_line() => early.push(("stderr".to_owned(), err_redactor.line(&line))),
            _ = &mut deadline => {
                crate::process_group::kill(pgid);
                return Err(StartError::NotReady { after: wait });
            }
        }
    }
}

/// Stop a proxy's process group: SIGTERM, then SIGKILL after `grace`. Returns the exit status.
pub use crate::process_group::stop as stop_group;

/// The start time of a process (clock ticks since boot, `/proc/<pid>/stat` field 22): with the
/// pid it identifies one process, so a reused pid is never mistaken for a lease's.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is parenthesised and may contain spaces: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Kill the process group of a lease left by an earlier incarnation of this worker, if the
/// process at `pid` is still the one that was started (same start time). True when killed.
pub fn kill_leftover(pid: i32, start_time: u64) -> bool {
    if process_start_time(pid) != Some(start_time) {
        return false;
    }
    crate::process_group::kill(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_lines_of_the_reference_give_the_address() {
        let l = |kind, s| parse_startup_line(kind, s);
        let a: SocketAddr = "127.0.0.1:62652".parse().unwrap();
        assert_eq!(l(LeaseKind::ProxyDb, "Started DB proxy on 127.0.0.1:62652"), Some(Startup::Listening(a)));
        assert_eq!(
            l(
                LeaseKind::ProxyDb,
                r#"Started authenticated tunnel for the PostgreSQL database "orders" in cluster "c" on 127.0.0.1:62652."#
            ),
            Some(Startup::Listening(a))
        );
        assert_eq!(
            l(LeaseKind::ProxyApp, "Proxying connections to grafana on 127.0.0.1:62652"),
            Some(Startup::Listening(a))
        );
        assert_eq!(
            l(LeaseKind::ProxyKube, "Started local proxy for Kubernetes on 127.0.0.1:62652"),
            Some(Startup::Listening(a))
        );
        assert_eq!(l(LeaseKind::Vnet, "VNet is ready."), Some(Startup::Ready));
        assert_eq!(
            parse_kubeconfig_line(r#"export KUBECONFIG="/h/keys/p/u-kube/c/localproxy-5-kubeconfig""#).as_deref(),
            Some("/h/keys/p/u-kube/c/localproxy-5-kubeconfig")
        );
        assert_eq!(parse_kubeconfig_line("kubectl version"), None);
        assert_eq!(l(LeaseKind::ProxyDb, "To avoid port randomization, you can choose the listening port"), None);
    }

    #[test]
    fn command_lines_keep_values_out_of_flag_position() {
        let t = LeaseTarget::Db { db: "orders".into(), db_user: Some("ro".into()), db_name: None };
        assert_eq!(proxy_args(&t, Some(5432)), ["proxy", "db", "orders", "--tunnel", "--db-user=ro", "--port=5432"]);
        assert_eq!(proxy_args(&LeaseTarget::Kube { kube_cluster: None }, None), ["proxy", "kube"]);
        assert_eq!(proxy_args(&LeaseTarget::Vnet, Some(1)), ["vnet"]);
        let ssh = LeaseTarget::Ssh { host: "web-01".into(), login: Some("ubuntu".into()), port: Some(22) };
        assert_eq!(proxy_args(&ssh, None), ["proxy", "ssh", "ubuntu@web-01:22"]);
    }
}
