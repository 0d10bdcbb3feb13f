//! The access request workflow end to end, one state directory per test: a human creates, the
//! control plane reviews, the requester drops, an admin deletes; refusals and exact shapes.

mod common;

use common::{NOW, Sim, TempDir, tctl, tsh};
use serde_json::Value;

/// `tsh` acting as `user` against the state directory `dir`.
fn tsh_as(dir: &TempDir, user: &str, args: &[&str]) -> Sim {
    tsh(args).env("TELEPORT_SIM_STATE_DIR", &dir.0).env("TELEPORT_SIM_USER", user)
}

fn tctl_in(dir: &TempDir, args: &[&str]) -> Sim {
    tctl(args).env("TELEPORT_SIM_STATE_DIR", &dir.0)
}

/// The ID on the `Request ID:` line of `tsh request create` (or its alias `new`).
fn request_id(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with("Request ID:")).expect("a Request ID line");
    line["Request ID:".len()..].trim().to_owned()
}

fn create_as(dir: &TempDir, user: &str, roles: &str) -> String {
    let out = tsh_as(dir, user, &["request", "new", "--roles", roles, "--reason", "INC-4711", "--nowait"]).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    request_id(&out.stdout)
}

fn show_json(dir: &TempDir, id: &str) -> Value {
    let out = tsh_as(dir, "mcp-control-plane", &["request", "show", id, "--format=json"]).run();
    assert!(out.stdout.ends_with('}'), "no trailing newline: {:?}", out.stdout);
    out.json()
}

#[test]
fn create_review_show_drop_and_delete() {
    let dir = TempDir::new();
    let created = tsh_as(
        &dir,
        "alice",
        &["request", "create", "--roles", "editor", "--reason", "INC-4711: restart nginx", "--nowait"],
    )
    .run();
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(created.stdout.starts_with("Creating request...\nRequest ID:     "), "{}", created.stdout);
    let id = request_id(&created.stdout);
    let lines: Vec<&str> = created.stdout.lines().map(str::trim_end).collect();
    assert!(lines.contains(&"Status:         PENDING"), "{lines:?}");
    assert!(lines.contains(&"Reason:         \"INC-4711: restart nginx\""), "{lines:?}");
    assert!(lines.contains(&"> Profile URL:        https://teleport.example.com:443"), "status block follows");
    assert!(lines.contains(&"  Logged in as:       alice"));

    let ls = tsh_as(&dir, "mcp-control-plane", &["request", "ls", "--format=json"]).run();
    assert!(ls.stdout.starts_with("[\n  {\n    \"kind\": \"access_request\",\n    \"version\": \"v3\","));
    assert!(ls.stdout.ends_with(']'), "no trailing newline");
    let listed = ls.array();
    let mine = listed.iter().find(|r| r["metadata"]["name"] == id.as_str()).expect("listed");
    assert_eq!(mine["spec"]["state"], 1);
    assert_eq!(mine["spec"]["user"], "alice");
    assert_eq!(mine["spec"]["roles"], serde_json::json!(["editor"]));
    assert_eq!(mine["spec"]["created"], NOW);
    assert_eq!(mine["spec"]["thresholds"][0], serde_json::json!({"name": "default", "approve": 1, "deny": 1}));

    let review = tsh_as(&dir, "mcp-control-plane", &["request", "review", &id, "--approve", "--reason", "ok"]).run();
    assert_eq!((review.code, review.stdout.as_str()), (Some(0), ""));
    assert_eq!(review.stderr, "Successfully submitted review.  Request state: APPROVED\n");

    let shown = show_json(&dir, &id);
    assert_eq!(shown["spec"]["state"], 2);
    assert_eq!(shown["spec"]["resolve_reason"], "ok");
    let reviews = shown["spec"]["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["author"], "mcp-control-plane");
    assert_eq!(reviews[0]["proposed_state"], 2);
    let text = tsh_as(&dir, "bob", &["request", "show", &id]).run().stdout;
    assert!(text.contains("Status:         APPROVED"), "{text}");
    assert!(text.contains("------------------------------------------------Approvals:\n  ----------------------------------------------  Reviewer: mcp-control-plane"));

    let active = format!("  Active requests:    {id}");
    let status = tsh_as(&dir, "alice", &["status"]).run().stdout;
    assert!(status.lines().any(|l| l == active), "{status}");

    let dropped = tsh_as(&dir, "alice", &["request", "drop", &id]).run();
    assert_eq!(dropped.code, Some(0), "{}", dropped.stderr);
    assert!(dropped.stdout.starts_with(&format!("Dropping access request(s): {id}...\n\n> Profile URL:")));
    assert!(!dropped.stdout.contains("Active requests:"), "dropped from the certificates");
    assert!(!tsh_as(&dir, "alice", &["status"]).run().stdout.contains("Active requests:"));
    assert_eq!(show_json(&dir, &id)["spec"]["state"], 2, "the request itself stays");

    let warned = tctl_in(&dir, &["requests", "rm", &id]).run();
    assert!(warned.stdout.contains("re-run this command with --force"), "approved: kept without --force");
    assert_eq!(show_json(&dir, &id)["spec"]["state"], 2);
    let removed = tctl_in(&dir, &["requests", "rm", "--force", &id]).run();
    assert_eq!(removed.stdout, "Access request deleted successfully.\n");
    let gone = tsh_as(&dir, "alice", &["request", "show", &id]).run();
    assert_eq!(gone.error(), format!("no access request matching \"{id}\""));
}

#[test]
fn refusals_and_unknown_ids() {
    let dir = TempDir::new();
    let id = create_as(&dir, "alice", "editor");
    let own = tsh_as(&dir, "alice", &["request", "review", &id, "--approve"]).run().error();
    assert_eq!(own, format!("user \"alice\" cannot review request \"{id}\""));
    for flags in [vec![], vec!["--approve", "--deny"]] {
        let mut args = vec!["request", "review", id.as_str()];
        args.extend(flags);
        assert_eq!(tsh_as(&dir, "bob", &args).run().error(), "must supply exactly one of '--approve' or '--deny'");
    }
    assert_eq!(show_json(&dir, &id)["spec"]["state"], 1, "refused reviews change nothing");

    let unknown = "00000000-0000-4000-8000-000000000000";
    let missing = format!("no access request matching \"{unknown}\"");
    assert_eq!(tsh_as(&dir, "bob", &["request", "show", unknown]).run().error(), missing);
    assert_eq!(tsh_as(&dir, "bob", &["request", "review", unknown, "--deny"]).run().error(), missing);
    assert_eq!(tsh_as(&dir, "bob", &["request", "drop", unknown]).run().error(), missing);
    let admin_missing = format!("request with ID \"{unknown}\" not found");
    assert_eq!(tctl_in(&dir, &["requests", "rm", unknown]).run().error(), admin_missing);
    assert_eq!(tctl_in(&dir, &["requests", "get", unknown]).run().error(), admin_missing);

    let denied_role = tsh_as(&dir, "bob", &["request", "new", "--roles", "cluster-admin", "--nowait"]).run();
    assert_eq!(denied_role.error(), "user \"bob\" can not request role \"cluster-admin\"");
    let nothing = tsh_as(&dir, "bob", &["request", "new", "--reason", "x", "--nowait"]).run();
    assert_eq!(nothing.error(), "at least one role or resource or a request ID must be specified");
    let waiting = tsh_as(&dir, "bob", &["request", "new", "--roles", "editor"]).run().error();
    assert!(waiting.contains("--nowait"), "{waiting}");
    let ls = tsh_as(&dir, "bob", &["request", "ls", "--format=json", "--my-requests"]).run();
    assert_eq!(ls.stdout, "[]", "nothing was created by the refused commands");
}

#[test]
fn admin_side_and_ineffectual_reviews() {
    let dir = TempDir::new();
    let created = tctl_in(&dir, &["requests", "create", "carol", "--roles", "editor", "--reason", "a<b & c>d"]).run();
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let id = created.stdout.trim_end().to_owned();
    assert_eq!(created.stdout, format!("{id}\n"));

    let json = tctl_in(&dir, &["requests", "ls", "--format=json"]).run();
    assert!(json.stdout.ends_with("]\n"), "printJSON adds a newline");
    assert!(json.stdout.contains(r#""request_reason": "a\u003cb \u0026 c\u003ed""#), "HTML escaped");
    assert!(json.stdout.contains("\n  {\n    \"kind\": \"access_request\""), "2-space indent");
    let get = tctl_in(&dir, &["requests", "get", &id]).run().stdout;
    assert!(get.starts_with(&format!("Token:             {id} \nRequestor:         carol")), "{get}");
    assert!(get.contains("Status:            PENDING"));

    let denied = tctl_in(&dir, &["requests", "deny", &id, "--reason", "no"]).run();
    assert_eq!((denied.code, denied.stdout.as_str(), denied.stderr.as_str()), (Some(0), "", ""));
    let late = tsh_as(&dir, "bob", &["request", "review", &id, "--approve"]).run();
    assert_eq!(late.stderr, "Warning: ineffectual review. Request state: DENIED\n");
    let approve = tctl_in(&dir, &["requests", "approve", &id]).run().error();
    assert_eq!(approve, "cannot set request-state \"APPROVED\" (already denied)");

    let table = tctl_in(&dir, &["requests", "ls"]).run().stdout;
    assert!(table.starts_with("Token                                Requestor Metadata "), "{table}");
    let row = table.lines().find(|l| l.starts_with(&id)).expect("a row for the request");
    let cells: Vec<&str> = row.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells[cells.len() - 3..], ["DENIED", "\"a<b & c>d\"", "\"no\""], "{row}");
    let text = tsh_as(&dir, "bob", &["request", "ls"]).run().stdout;
    assert!(text.contains("hint: use 'tsh request show <request-id>' for additional details\n"));
}

#[test]
fn state_file_seeds_identity_and_default_directory() {
    let dir = TempDir::new();
    let seed = r#"{"kind": "access_request", "version": "v3",
        "metadata": {"name": "seed-1", "expires": "2025-06-02T10:00:00Z"},
        "spec": {"user": "dave", "roles": ["access"], "state": 1, "created": "2025-06-01T09:00:00Z",
                 "expires": "2025-06-01T21:00:00Z", "thresholds": [{"name": "default", "approve": 1, "deny": 1}],
                 "rtm": {"access": {"s": [{"i": [0]}]}}, "max_duration": "0001-01-01T00:00:00Z",
                 "session_ttl": "0001-01-01T00:00:00Z", "x_extra": "kept"}}"#;
    let state = dir.file(
        "cluster.json",
        &format!(
            r#"{{"roles": [{{"kind": "role", "metadata": {{"name": "access"}}}}, {{"kind": "role", "metadata": {{"name": "root"}}}}],
               "identity_user": "alice", "deny_request_roles": ["root"], "access_requests": [{seed}]}}"#
        ),
    );
    let sim = |args: &[&str]| tsh(args).env("TELEPORT_SIM_STATE", &state);
    let listed = sim(&["request", "ls", "--format=json"]).run().array();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["spec"]["x_extra"], "kept");
    assert!(sim(&["status"]).run().stdout.contains("  Logged in as:       alice\n"));
    assert!(sim(&["status"]).env("TELEPORT_SIM_USER", "bob").run().stdout.contains("Logged in as:       bob\n"));
    assert!(sim(&["--user", "carol", "status"]).run().stdout.contains("Logged in as:       alice\n"), "--user");
    assert_eq!(
        sim(&["request", "new", "--roles", "root", "--nowait"]).run().error(),
        "user \"alice\" can not request role \"root\""
    );

    let review = sim(&["request", "review", "seed-1", "--approve"]).run();
    assert_eq!(review.stderr, "Successfully submitted review.  Request state: APPROVED\n");
    let book = dir.0.join("cluster.json.sim-state").join("access_requests.json");
    assert!(book.exists(), "the state directory defaults to one next to the state file");
    assert_eq!(sim(&["request", "show", "seed-1", "--format=json"]).run().json()["spec"]["state"], 2);
}

#[test]
fn create_with_its_alias_new_and_a_lock_on_an_approved_request() {
    let dir = TempDir::new();
    // `create` is the command, `new` its alias (`tool/tsh/common/tsh.go`).
    let id = create_as(&dir, "alice", "editor");
    let help = tsh_as(&dir, "alice", &["request", "--help"]).run().stdout;
    assert!(help.contains("request create"), "{help}");
    let review = tsh_as(&dir, "bob", &["request", "review", &id, "--approve"]).run();
    assert_eq!(review.code, Some(0), "{}", review.stderr);

    // `tsh request drop` never touches the request.
    tsh_as(&dir, "alice", &["request", "drop", &id]).run();
    assert_eq!(show_json(&dir, &id)["spec"]["state"], 2);

    let both =
        tctl_in(&dir, &["lock", &format!("--access-request={id}"), "--ttl=1h", "--expires=2025-06-02T00:00:00Z"]);
    assert_eq!(both.run().error(), "use only one of --expires and --ttl");
    assert_eq!(tctl_in(&dir, &["lock", "--message=x"]).run().error(), "at least one target field must be set");

    let locked =
        tctl_in(&dir, &["lock", &format!("--access-request={id}"), "--message=INC-9 revoked", "--ttl=90m"]).run();
    assert_eq!(locked.code, Some(0), "{}", locked.stderr);
    let name = locked.stdout.strip_prefix("Created a lock with name \"").and_then(|s| s.strip_suffix("\".\n"));
    let name = name.unwrap_or_else(|| panic!("{:?}", locked.stdout));
    let locks = tctl_in(&dir, &["get", "locks", "--format=json"]).run().array();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["kind"], "lock");
    assert_eq!(locks[0]["metadata"]["name"], name);
    assert_eq!(locks[0]["spec"]["target"], serde_json::json!({ "access_request": id }));
    assert_eq!(locks[0]["spec"]["message"], "INC-9 revoked");
    assert_eq!(locks[0]["spec"]["expires"], "2025-06-01T11:30:00.123456789Z");
    let one = tctl_in(&dir, &["get", &format!("lock/{name}"), "--format=json"]).run().array();
    assert_eq!(one.len(), 1);
    assert_eq!(show_json(&dir, &id)["spec"]["state"], 2, "a lock leaves the request as it is");
}
