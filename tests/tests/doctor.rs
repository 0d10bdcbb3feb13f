//! `mtcp doctor` end to end against the simulator and a real database: each check's line, the
//! exit status, and README "Troubleshooting"'s hard stop of a stuck lease, run as printed there.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use mtcp_tests::process::binary;
use mtcp_tests::{Stack, StackOptions, identity_file};

/// Run `mtcp doctor` on the stack's configuration: (success, stdout).
fn doctor(stack: &Stack) -> (bool, String) {
    let config = stack.dir.path().join("doctor.yaml");
    std::fs::write(&config, serde_yaml::to_string(&stack.config).unwrap()).unwrap();
    let out = Command::new(binary("mtcp"))
        .args(["doctor", "--config"])
        .arg(&config)
        .env("DATABASE_URL", &stack.db.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success(), format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

fn write_identity(stack: &Stack, text: &str, mode: u32) {
    let path = stack.config.teleport.identity_file.clone().unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The hard stop README "Troubleshooting" gives, for `lease_id`.
fn readme_hard_stop(lease_id: uuid::Uuid) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("```sql\nUPDATE leases SET").expect("README gives the hard stop as an sql block") + 7;
    let end = start + readme[start..].find(';').unwrap() + 1;
    readme[start..end].replace("<lease id>", &lease_id.to_string())
}

#[tokio::test]
async fn doctor_checks_identity_tctl_database_workers_and_leases() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    write_identity(&stack, &identity_file("prod.example.com", "bot-mtcp", chrono::Duration::days(10)), 0o600);
    // The stack's worker registers as it starts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM agents WHERE kind = 'worker' AND status = 'online'")
        .fetch_one(&stack.db.pool)
        .await
        .unwrap()
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "the worker never came online");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (ok, out) = doctor(&stack);
    assert!(ok, "{out}");
    for line in [
        "ok    identity file mode: ",
        "ok    identity certificate: user bot-mtcp of cluster prod.example.com valid until ",
        "ok    identity roles: mcp-control-plane\n",
        "ok    tctl status: cluster ",
        "ok    database: reachable",
        "ok    migrations: all applied",
        "ok    workers: 1 online",
        "ok    leases: none stuck",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }

    // An expired certificate fails (non-zero exit); a readable-by-others file is a warning.
    write_identity(&stack, &identity_file("prod.example.com", "bot-mtcp", chrono::Duration::days(-2)), 0o644);
    let (ok, out) = doctor(&stack);
    assert!(!ok, "{out}");
    assert!(out.contains("fail  identity certificate: user bot-mtcp of cluster prod.example.com expired at"), "{out}");
    assert!(out.contains("warn  identity file mode: ") && out.contains("is 0644"), "{out}");

    // A lease stuck in `starting` (no worker ever took it) is reported…
    write_identity(&stack, &identity_file("prod.example.com", "bot-mtcp", chrono::Duration::days(10)), 0o600);
    let (op_id, lease_id) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    // Its start operation `running` on the live worker, so the reaper leaves the lease to it (and
    // the worker, which does not know it, never ends it): stuck until someone looks.
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status, started_at, worker_id,
                                 lane, payload, mutating, run_after, max_attempts)
         SELECT $1, 'dev-operator', 'operator', 'proxy.start', 'start_proxy', '{}', 'running', now(), agent_id::text,
                'leases', '{}', true, now(), 1
         FROM agents WHERE kind = 'worker' AND status = 'online' LIMIT 1",
    )
    .bind(op_id)
    .execute(&stack.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO leases (lease_id, op_id, kind, actor, target, created_at, expires_at, status)
         VALUES ($1, $2, 'proxy_db', 'dev-operator', '{\"db\": \"orders\"}', now() - interval '1 hour',
                 now() + interval '1 hour', 'starting')",
    )
    .bind(lease_id)
    .bind(op_id)
    .execute(&stack.db.pool)
    .await
    .unwrap();
    let (ok, out) = doctor(&stack);
    assert!(ok, "a stuck lease is a warning: {out}");
    assert!(out.contains("warn  leases: 1 starting and 0 stopping for over 30s, 0 live past expiry"), "{out}");

    // …the seed's own hard stop violates the table's CHECKs…
    let seed = format!("UPDATE leases SET status = 'stopped' WHERE lease_id = '{lease_id}'");
    // Audited: our own text and a UUID.
    let err = sqlx::query(sqlx::AssertSqlSafe(seed)).execute(&stack.db.pool).await.unwrap_err().to_string();
    assert!(err.contains("leases_"), "{err}");
    // …and the README's, run as printed, ends it and passes them.
    let done = sqlx::query(sqlx::AssertSqlSafe(readme_hard_stop(lease_id))).execute(&stack.db.pool).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    let (status, reason): (String, String) =
        sqlx::query_as("SELECT status, stop_reason FROM leases WHERE lease_id = $1")
            .bind(lease_id)
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("stopped", "hard_stop"));
    let (ok, out) = doctor(&stack);
    assert!(ok && out.contains("ok    leases: none stuck"), "{out}");

    stack.stop().await;
}

/// `tctl status` is run plain, as Teleport 17.x and 18.x accept it (they have no `--format`).
#[tokio::test]
async fn doctor_runs_plain_tctl_status_on_teleport_17_and_18() {
    for version in ["17", "18"] {
        let sim_env = std::collections::BTreeMap::from([("TELEPORT_SIM_VERSION".to_owned(), version.to_owned())]);
        let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
        let (_, out) = doctor(&stack);
        assert!(out.contains("ok    tctl status: cluster teleport.example.com answered"), "{version}: {out}");
        stack.stop().await;
    }
}
