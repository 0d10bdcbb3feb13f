//! `mtcp up` as a real process: zero-config start, printed URL and dev keys, a real MCP call.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mtcp_tests::{McpClient, TestDb};
use serde_json::json;

fn mtcp_binary() -> std::path::PathBuf {
    let sim = mtcp_cli::dev::simulator_binary().expect("binaries are built (scripts/test builds them)");
    sim.with_file_name("mtcp")
}

struct Up {
    child: Child,
    /// Kept so the reader thread drains the child's stdout until it exits.
    _lines: std::sync::mpsc::Receiver<String>,
    url: String,
    keys: Vec<(String, String)>,
    /// The banner said the configuration's own keys are used.
    none_added: bool,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = nix_kill(self.child.id());
        let _ = self.child.wait();
    }
}

fn nix_kill(pid: u32) -> std::io::Result<()> {
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().map(|_| ())
}

/// Start `mtcp up` and read its banner until the keys are printed.
fn start_up(args: &[&str]) -> Up {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(mtcp_binary())
        .arg("up")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env_remove("DATABASE_URL")
        .env("MTCP_SERVICE__LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut url, mut keys) = (String::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut none_added = false;
    loop {
        let line =
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("mtcp up printed its banner");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(!line.contains("mtcp_"), "a key was printed although stdout is not a terminal: {line}");
        // stdout is a pipe here: the keys go to a file (0600) whose path the banner names.
        if let Some(rest) = line.strip_prefix("Dev API keys (new each start): written to ") {
            let path = rest.split(" (").next().unwrap();
            let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions());
            assert_eq!(mode & 0o777, 0o600, "{path}");
            for entry in std::fs::read_to_string(path).unwrap().lines() {
                let (role, key) = entry.split_once(' ').unwrap();
                keys.push((role.to_owned(), key.to_owned()));
            }
        }
        if let ["MCP", "endpoint:", u] = words.as_slice() {
            url = u.to_string();
        }
        none_added |= line.contains("no dev keys were added");
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    Up { child, _lines: rx, url, keys, none_added }
}

#[tokio::test]
async fn up_with_a_database_url_serves_list_nodes_from_the_simulator() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let up = start_up(&["--database-url", &db.url, "--data-dir", dir.path().to_str().unwrap()]);
    assert!(up.url.ends_with("/mcp"), "{}", up.url);
    let roles: Vec<&str> = up.keys.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["admin", "operator", "user", "readonly"]);
    let admin = &up.keys[0].1;
    let client = McpClient::connect(&up.url, Some(admin)).await.unwrap();
    let r = client.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{:?}", r.content);
    let nodes = r.structured_content.unwrap();
    assert!(nodes.to_string().contains("hostname"), "{nodes}");
    // The demo comes with a day of audit events, brute force included.
    let a = client.call("detect_audit_anomalies", json!({})).await.unwrap().structured_content.unwrap();
    assert!(a["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "brute_force"), "{a}");
    client.close().await;
}

#[tokio::test]
async fn up_with_no_database_starts_a_private_postgres() {
    let dir = tempfile::tempdir().unwrap();
    // Under root the private server runs as `postgres`, which must be able to enter the directory.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let running = || dir.path().join("pg/postmaster.pid").exists();
    {
        let up = start_up(&["--data-dir", &data_dir]);
        assert!(running());
        let client = McpClient::connect(&up.url, Some(&up.keys[3].1)).await.unwrap();
        let r = client.call("list_users", json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{:?}", r.content);
        client.close().await;
    }
    // `up` stopped (SIGTERM) and took the server it started with it.
    assert!(!running(), "the private PostgreSQL is still running after `mtcp up` exited");

    // With --keep-postgres it stays for the next start; `mtcp postgres stop` stops it.
    drop(start_up(&["--data-dir", &data_dir, "--keep-postgres"]));
    assert!(running(), "--keep-postgres left the server running");
    // A server `up` did not start is not stopped by it either.
    drop(start_up(&["--data-dir", &data_dir]));
    assert!(running(), "`up` stopped a server it had not started");
    let stop = Command::new(mtcp_binary()).args(["postgres", "stop", "--data-dir", &data_dir]).status().unwrap();
    assert!(stop.success());
    assert!(!running());
}

/// A configuration that names its own keys gets no dev keys (an admin key nobody asked for).
#[tokio::test]
async fn up_with_configured_keys_adds_no_dev_keys() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = "mtcp_configured-key-for-the-up-test";
    let config = dir.path().join("config.yaml");
    let yaml = format!(
        "auth:\n  api_keys:\n    - {{ actor: ci-bot, role: readonly, sha256: \"{}\" }}\n",
        mtcp_cli::dev::key_hash(key)
    );
    std::fs::write(&config, yaml).unwrap();
    let up = start_up(&[
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &db.url,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(up.keys.is_empty() && up.none_added, "dev keys were added: {:?}", up.keys);
    assert!(!dir.path().join("dev-keys").exists());
    let client = McpClient::connect(&up.url, Some(key)).await.unwrap();
    let who = client.call("whoami", json!({})).await.unwrap();
    assert!(who.structured_content.unwrap().to_string().contains("ci-bot"));
    client.close().await;
}
