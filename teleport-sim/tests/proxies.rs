//! Long-running commands (docs/teleport-output.md, "Long-running commands"): `tsh proxy db|app|mcp|kube` print their startup text
//! with the real bound port and echo TCP traffic, `proxy ssh` echoes stdio, `vnet` says it is
//! ready; SIGTERM/SIGINT end them with 0, and the proxy knobs fail, stop or harden them.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdout};
use std::time::{Duration, Instant};

use common::{Sim, TempDir, tsh};

/// A running proxy with its stdout being read line by line.
struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Running {
    fn start(sim: Sim) -> Self {
        let mut child = sim.spawn_stdio();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Running { child, stdout }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read stdout");
        line
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit; returns the code (None when killed by a signal) and stderr.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("wait");
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status.code(), stderr)
    }
}

impl Drop for Running {
    /// A failed assertion must not leave a proxy behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address at the end of a startup line (`… on 127.0.0.1:PORT` with an optional `.`).
fn address(line: &str) -> String {
    let word = line.trim_end().rsplit(' ').next().unwrap();
    let address = word.trim_end_matches('.');
    assert!(address.starts_with("127.0.0.1:") && address[10..].parse::<u16>().unwrap() > 0, "{line:?}");
    address.to_owned()
}

fn round_trip(address: &str) {
    let mut stream = TcpStream::connect(address).expect("connect to the local proxy");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(b"SELECT 1;\n").unwrap();
    let mut back = [0u8; 10];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"SELECT 1;\n");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn each_proxy_prints_its_startup_line_echoes_and_stops_with_zero_on_sigterm() {
    let cases: [(&[&str], &str); 6] = [
        (&["proxy", "db", "orders", "--db-user", "app"], "Started DB proxy on "),
        (
            &["proxy", "db", "orders", "--tunnel"],
            "Started authenticated tunnel for the PostgreSQL database \"orders\" in cluster \"teleport.example.com\" on ",
        ),
        (&["proxy", "app", "grafana"], "Proxying connections to grafana on "),
        (&["proxy", "mcp", "mcp-everything"], "Proxying connections to mcp-everything on "),
        (&["proxy", "kube", "prod-eks"], "Preparing the following Teleport Kubernetes clusters:"),
        (&["vnet"], "VNet is ready."),
    ];
    for (args, first) in cases {
        // VNet runs only on macOS and Windows (see `vnet_runs_by_platform`).
        let mut proxy = Running::start(tsh(args).env("TELEPORT_SIM_OS", "darwin"));
        let mut line = proxy.line();
        assert!(line.starts_with(first), "{args:?}: {line:?}");
        if args[0] == "proxy" {
            while !line.contains("127.0.0.1:") {
                line = proxy.line();
            }
            assert_eq!(
                proxy.line(),
                "To avoid port randomization, you can choose the listening port using the --port flag.\n"
            );
            round_trip(&address(&line));
        }
        proxy.signal(if args[0] == "vnet" { "INT" } else { "TERM" });
        let (code, stderr) = proxy.finish();
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        if args[0] == "proxy" {
            assert!(stderr.contains(" INFO  accepted connection from 127.0.0.1:"), "{stderr}");
        }
        assert!(stderr.contains("shutting down"), "{stderr}");
    }
}

#[test]
fn port_flag_is_honoured_and_a_busy_port_fails_like_go() {
    let port = free_port();
    let mut proxy = Running::start(tsh(&["proxy", "app", "grafana", "--port", &port.to_string()]));
    assert_eq!(proxy.line(), format!("Proxying connections to grafana on 127.0.0.1:{port}\n"));
    round_trip(&format!("127.0.0.1:{port}"));

    let busy = tsh(&["proxy", "db", "orders", "-p", &port.to_string()]).run();
    assert_eq!(busy.error(), format!("listen tcp 127.0.0.1:{port}: bind: address already in use"));
    proxy.signal("TERM");
    assert_eq!(proxy.finish().0, Some(0));
}

#[test]
fn ignore_sigterm_survives_sigterm_and_dies_on_sigkill() {
    let mut proxy = Running::start(tsh(&["proxy", "db", "orders"]).env("TELEPORT_SIM_IGNORE_SIGTERM", "1"));
    let line = proxy.line();
    proxy.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(proxy.child.try_wait().unwrap().is_none(), "still running after SIGTERM");
    round_trip(&address(&line));
    proxy.signal("KILL");
    let (code, stderr) = proxy.finish();
    assert_eq!(code, None, "killed by SIGKILL");
    assert!(stderr.contains("ignoring it"), "{stderr}");
}

#[test]
fn exit_after_stops_the_proxy_with_three_after_its_startup_line() {
    let start = Instant::now();
    let mut proxy = Running::start(tsh(&["proxy", "kube", "prod-eks"]).env("TELEPORT_SIM_PROXY_EXIT_AFTER_MS", "300"));
    assert!(proxy.line().starts_with("Preparing the following"));
    let (code, stderr) = proxy.finish();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn proxy_fail_fails_at_start_and_honours_fail_on() {
    let out = tsh(&["proxy", "db", "orders"]).env("TELEPORT_SIM_PROXY_FAIL", "1").run();
    assert_eq!(out.error(), "dial tcp teleport.example.com:443: connect: connection refused");
    assert_eq!(tsh(&["vnet"]).env("TELEPORT_SIM_PROXY_FAIL", "1").run().code, Some(1));

    // FAIL_ON scopes every knob: `proxy app` is neither failed nor stopped early.
    let mut scoped = Running::start(
        tsh(&["proxy", "app", "grafana"])
            .env("TELEPORT_SIM_PROXY_FAIL", "1")
            .env("TELEPORT_SIM_PROXY_EXIT_AFTER_MS", "50")
            .env("TELEPORT_SIM_FAIL_ON", "proxy db"),
    );
    assert!(scoped.line().starts_with("Proxying connections to grafana on 127.0.0.1:"));
    std::thread::sleep(Duration::from_millis(200));
    assert!(scoped.child.try_wait().unwrap().is_none(), "EXIT_AFTER is scoped away too");
    scoped.signal("TERM");
    assert_eq!(scoped.finish().0, Some(0));
}

#[test]
fn proxy_ssh_echoes_stdin_and_exits_zero_at_eof() {
    let mut child = tsh(&["proxy", "ssh", "root@node-1:22"]).spawn_stdio();
    child.stdin.take().unwrap().write_all(b"SSH-2.0-OpenSSH_9.6\r\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"SSH-2.0-OpenSSH_9.6\r\n");
    assert!(String::from_utf8(out.stderr).unwrap().contains(" INFO  stdin closed"));
}

#[test]
fn unknown_targets_fail_when_the_state_lists_them() {
    let dir = TempDir::new();
    let state = dir.file("s.yaml", "databases: [orders-db]\napps: [grafana]\nkube_clusters: [prod-eks, dev]\n");
    let run = |args: &[&str]| tsh(args).env("TELEPORT_SIM_STATE", &state).run();
    assert_eq!(
        run(&["proxy", "db", "nope"]).error(),
        "database \"nope\" not found, use 'tsh db ls' to see registered databases"
    );
    assert_eq!(
        run(&["proxy", "mcp", "nope"]).error(),
        "app \"nope\" not found, use `tsh apps ls` to see registered apps"
    );
    assert_eq!(run(&["proxy", "kube", "dev", "nope"]).error(), "kubernetes cluster \"nope\" not found");

    // Nothing logged in through `tsh kube login`: naming none finds none, even when the cluster has some.
    for none in [run(&["proxy", "kube"]).error(), tsh(&["proxy", "kube"]).run().error()] {
        assert!(none.starts_with("No Kubernetes clusters found to proxy.\n\nPlease provide"), "{none}");
        assert!(none.ends_with("    tsh kube login <kube-cluster-1>\n    tsh proxy kube"), "{none}");
    }
}

/// `tool/tsh/common/kube_proxy.go`: the kubeconfig the startup text names exists, and points every
/// context at the local proxy.
#[test]
fn proxy_kube_writes_the_kubeconfig_it_names() {
    let dir = TempDir::new();
    let home = dir.0.join("home");
    let mut kube = Running::start(tsh(&["proxy", "kube", "prod-eks"]).env("TELEPORT_HOME", &home));
    let mut text = String::new();
    while !text.contains("kubectl version") {
        let line = kube.line();
        assert!(!line.is_empty(), "tsh ended early: {text}");
        text.push_str(&line);
    }
    let port = address(text.lines().find(|l| l.starts_with("Started local proxy")).unwrap()).replace("127.0.0.1:", "");
    let line = text.lines().find(|l| l.starts_with("export KUBECONFIG=")).unwrap();
    let path = line.trim_start_matches("export KUBECONFIG=").trim_matches('"');
    assert!(
        path.starts_with(home.to_str().unwrap()) && path.ends_with(&format!("/localproxy-{port}-kubeconfig")),
        "{path}"
    );
    let config = std::fs::read_to_string(path).expect("the kubeconfig exists");
    assert!(config.contains(&format!("server: https://127.0.0.1:{port}\n")), "{config}");
    assert!(config.contains("current-context: teleport.example.com-prod-eks\n"), "{config}");
    kube.signal("TERM");
    assert_eq!(kube.finish().0, Some(0));
}

/// `lib/vnet/unsupported_os.go` (17.x/18.x): VNet only on macOS and Windows.
#[test]
fn vnet_runs_by_platform() {
    for os in ["linux", "freebsd"] {
        let out = tsh(&["vnet"]).env("TELEPORT_SIM_OS", os).run();
        assert_eq!(out.error(), format!("VNet is not implemented on {os}"));
    }
    for os in ["darwin", "windows", "macos"] {
        let mut vnet = Running::start(tsh(&["vnet"]).env("TELEPORT_SIM_OS", os));
        assert_eq!(vnet.line(), "VNet is ready.\n", "{os}");
        vnet.signal("INT");
        assert_eq!(vnet.finish().0, Some(0));
    }
}

/// `tsh proxy mcp`: no such command before 18.x; from 18.x only MCP apps over streamable HTTP.
#[test]
fn proxy_mcp_needs_18_and_an_mcp_app_over_streamable_http() {
    let old = tsh(&["proxy", "mcp", "everything"]).env("TELEPORT_SIM_VERSION", "17").run();
    assert_eq!(old.error(), "expected command but got \"mcp\"");
    assert!(old.stderr.starts_with("usage: tsh "), "{}", old.stderr);

    let dir = TempDir::new();
    let state = dir.file(
        "s.yaml",
        "apps: [grafana, everything, files, legacy]\nmcp_apps: {everything: http, files: stdio, legacy: sse}\n",
    );
    let run = |app: &str| tsh(&["proxy", "mcp", app]).env("TELEPORT_SIM_STATE", &state).run();
    assert_eq!(run("grafana").error(), "\"grafana\" is not an MCP application");
    assert_eq!(run("files").error(), "MCP applications with stdio transport are not supported");
    assert_eq!(run("legacy").error(), "MCP applications with sse transport are not supported");
    let mut ok = Running::start(tsh(&["proxy", "mcp", "everything"]).env("TELEPORT_SIM_STATE", &state));
    assert!(ok.line().starts_with("Proxying connections to everything on 127.0.0.1:"));
    ok.signal("TERM");
    assert_eq!(ok.finish().0, Some(0));
    // `proxy app` still serves any app.
    let mut app = Running::start(tsh(&["proxy", "app", "grafana"]).env("TELEPORT_SIM_STATE", &state));
    assert!(app.line().starts_with("Proxying connections to grafana on "));
    app.signal("TERM");
    assert_eq!(app.finish().0, Some(0));
}

/// `tool/tsh/common/proxy.go`, `onProxyCommandDB`: without `--tunnel` tsh prints the paths of the
/// client certificate for the consumer; with an identity file (`-i`) its key store is in memory,
/// so those files do not exist.
#[test]
fn proxy_db_without_tunnel_names_certificates_that_an_identity_file_does_not_write() {
    let dir = TempDir::new();
    let home = dir.0.join("home");
    let identity = dir.file("identity", "identity");
    let mut db = Running::start(
        tsh(&["-i", identity.to_str().unwrap(), "--proxy", "teleport.example.com:443", "proxy", "db", "orders"])
            .strict()
            .env("TELEPORT_HOME", &home),
    );
    let mut text = String::new();
    while !text.contains("key_file=") {
        let line = db.line();
        assert!(!line.is_empty(), "tsh ended early: {text}");
        text.push_str(&line);
    }
    for key in ["ca_file=", "cert_file=", "key_file="] {
        let line = text.lines().find(|l| l.trim_start().starts_with(key)).unwrap_or_else(|| panic!("{key}: {text}"));
        let path = line.trim().trim_start_matches(key);
        assert!(path.starts_with(home.to_str().unwrap()), "{path}");
        assert!(!std::path::Path::new(path).exists(), "{key} {path} must not exist");
    }
    db.signal("TERM");
    assert_eq!(db.finish().0, Some(0));
}
