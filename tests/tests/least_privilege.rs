//! Least privilege end to end: the simulator enforces RBAC and the control plane's identity holds
//! only the shipped roles (`deploy/teleport/`). Every tool that runs Teleport commands succeeds;
//! removing one rule of a shipped role makes exactly the tools the rights table names for it fail
//! (or report) with Teleport's message naming that right, and nothing else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mtcp_shared::teleport::rights::Need::Field;
use mtcp_shared::teleport::rights::{Need, OnMissing, Plane, RIGHTS, rights_of, tools_needing};
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

const IDENTITY: &str = "mcp-control-plane";
const PLANES_WITHOUT_PASSTHROUGH: [Plane; 4] = [Plane::Inventory, Plane::Access, Plane::Locks, Plane::Proxies];

fn shipped(plane: Plane) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../deploy/teleport/{}.yaml", plane.role()));
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sim(args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new(mtcp_cli::dev::simulator_binary().unwrap());
    cmd.args(args).env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The cluster: the demo with RBAC on, the shipped roles (one rule dropped when asked) and the
/// identity holding the roles of `planes`.
struct Cluster {
    path: PathBuf,
    demo: Value,
}

impl Cluster {
    fn new(dir: &Path) -> Self {
        Cluster { path: dir.join("state.json"), demo: serde_json::from_str(&sim(&["demo-state"], &[])).unwrap() }
    }

    fn write(&self, planes: &[Plane], drop_rule: Option<(Plane, usize)>) {
        self.write_with(planes, |plane, allow| {
            if let Some((p, i)) = drop_rule
                && p == plane
            {
                allow["rules"].as_array_mut().unwrap().remove(i);
            }
        });
    }

    /// The shipped roles, each `spec.allow` passed through `edit` first.
    fn write_with(&self, planes: &[Plane], edit: impl Fn(Plane, &mut Value)) {
        let mut state = self.demo.clone();
        for plane in Plane::ALL {
            let mut role = shipped(plane);
            edit(plane, &mut role["spec"]["allow"]);
            state["roles"].as_array_mut().unwrap().push(role);
        }
        let held: Vec<&str> = planes.iter().map(|p| p.role()).collect();
        let user =
            json!({ "kind": "user", "version": "v2", "metadata": { "name": IDENTITY }, "spec": { "roles": held } });
        state["users"].as_array_mut().unwrap().push(user);
        state["rbac"] = json!(true);
        std::fs::write(&self.path, state.to_string()).unwrap();
    }
}

/// A request a human (carol) made for `role`, filed by an administrator, for the control plane to
/// see, review or withdraw. The shipped mcp-access role reviews `access` requests (and so sees
/// them without the `access_request` rule); it sees `editor` ones only through that rule.
fn human_request(stack: &Stack, cluster: &Cluster, role: &str) -> String {
    let state = cluster.path.display().to_string();
    let dir = stack.config.teleport.env["TELEPORT_SIM_STATE_DIR"].clone();
    let envs =
        [("TELEPORT_SIM_STATE", state.as_str()), ("TELEPORT_SIM_STATE_DIR", &dir), ("TELEPORT_SIM_USER", "admin")];
    let roles = format!("--roles={role}");
    sim(&["tctl", "requests", "create", "carol", &roles, "--reason=INC-1 debugging"], &envs)
}

/// What one call answered: whether it succeeded, and its text.
async fn call(c: &McpClient, tool: &str, args: Value) -> (bool, String) {
    let r = c.call(tool, args).await.unwrap();
    let ok = r.is_error == Some(false);
    let mut text = text_of(&r);
    if let Some(s) = &r.structured_content {
        text.push_str(&s.to_string());
    }
    // A lease is stopped at once: the admin's lease cap must not fill up over the phases.
    if tool == "start_proxy" && ok {
        let id = r.structured_content.as_ref().unwrap()["lease_id"].as_str().unwrap().to_owned();
        let _ = c.call("stop_proxy", json!({ "lease_id": id })).await;
    }
    (ok, text)
}

/// Every tool of the table (`passthrough`: the passthrough tools too), against `human`.
async fn run_all(
    c: &McpClient,
    stack: &Stack,
    cluster: &Cluster,
    passthrough: bool,
) -> BTreeMap<&'static str, (bool, String)> {
    let human = human_request(stack, cluster, "editor");
    let mut out = BTreeMap::new();
    for row in RIGHTS {
        let args = match row.tool.as_str() {
            "create_access_request" => json!({ "resources": ["access"], "reason": "least privilege check" }),
            // Its blast radius reads the cluster.
            "check_policy" => json!({
                "tool": "create_access_request",
                "arguments": { "resources": ["access"], "reason": "least privilege check" }
            }),
            "review_access_request" => {
                json!({ "request_id": human_request(stack, cluster, "access"), "approve": true, "reason": "on call" })
            }
            "drop_access_request" => json!({
                "request_id": human_request(stack, cluster, "editor"), "reason": "withdrawn", "revoke": { "reason": "cut" }
            }),
            "show_access_request" => json!({ "request_id": human }),
            "list_access_requests" => json!({ "limit": 100 }),
            "start_proxy" => json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "check" }),
            "run_tctl_command" if passthrough => {
                json!({ "args": ["get", "locks", "--format=json"], "reason": "check" })
            }
            "run_tsh_command" if passthrough => {
                json!({ "args": ["request", "ls", "--format=json"], "reason": "check" })
            }
            "run_tctl_command" | "run_tsh_command" => continue,
            _ => json!({}),
        };
        let mut answer = call(c, row.tool.as_str(), args).await;
        if row.tool.as_str() == "list_access_requests" {
            // Seen or hidden: the human's request is the evidence.
            answer.1 =
                format!("{} human request {}", answer.1, if answer.1.contains(&human) { "listed" } else { "hidden" });
        }
        out.insert(row.tool.as_str(), answer);
    }
    out
}

/// Whether `text` carries Teleport's message, as printed or inside a JSON result.
fn names(text: &str, message: &str) -> bool {
    text.contains(message) || text.contains(&message.replace('"', "\\\""))
}

async fn stack(cluster: &Cluster) -> Stack {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.policy.allow_tsh_passthrough = true;
        c.policy.allow_tctl_passthrough = true;
    });
    Stack::start(StackOptions { sim_state: Some(cluster.path.clone()), tweak: Some(tweak), ..Default::default() })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_shipped_roles_run_every_tool_and_each_rule_is_needed_by_exactly_the_tools_the_table_names() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::new(dir.path());
    cluster.write(&Plane::ALL, None);
    let mut stack = stack(&cluster).await;
    let admin = stack.client("admin").await.unwrap();

    for (tool, (ok, text)) in run_all(&admin, &stack, &cluster, true).await {
        assert!(ok && !text.contains("access denied"), "{tool} with every shipped role: {text}");
        if tool == "list_access_requests" {
            assert!(text.ends_with("human request listed"), "{text}");
        }
    }

    for plane in Plane::ALL {
        let rules = shipped(plane)["spec"]["allow"]["rules"].as_array().cloned().unwrap_or_default();
        for (i, rule) in rules.iter().enumerate() {
            let kind = rule["resources"][0].as_str().unwrap();
            let verbs: Vec<&str> = rule["verbs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            // The passthrough role reads everything: other rules can only be missed without it.
            let passthrough = plane == Plane::Passthrough;
            let held: &[Plane] = &PLANES_WITHOUT_PASSTHROUGH;
            cluster.write(held, Some((plane, i)));
            let needing = tools_needing(plane, kind, &verbs);
            let hides = rights_of(needing[0]).unwrap().needs.iter().any(
                |n| matches!(n, Need::Rule { kind: k, verbs: v, hides: true, .. } if *k == kind && *v == verbs.as_slice()),
            );
            // Teleport names the kind read: for the passthrough's `*`, the locks the test reads.
            let on = if kind == "*" { "lock" } else { kind };
            let denied = format!("access denied to perform action \"{}\" on \"{on}\"", verbs[0]);
            let phase = format!("without {}'s rule {kind}: {}", plane.role(), verbs.join(","));
            for (tool, (ok, text)) in run_all(&admin, &stack, &cluster, passthrough).await {
                let row = rights_of(tool).unwrap();
                if !needing.contains(&tool) {
                    assert!(ok && !text.contains("access denied"), "{phase}: {tool} does not need it: {text}");
                } else if hides && row.on_missing == OnMissing::Hides {
                    assert!(ok && text.ends_with("human request hidden"), "{phase}: {tool}: {text}");
                } else if hides {
                    assert!(!ok && text.contains("no access request matching"), "{phase}: {tool}: {text}");
                } else {
                    match row.on_missing {
                        OnMissing::Fails => assert!(!ok && names(&text, &denied), "{phase}: {tool}: {text}"),
                        OnMissing::Reports => assert!(names(&text, &denied), "{phase}: {tool}: {text}"),
                        OnMissing::Sometimes => {}
                        OnMissing::Hides => panic!("{tool}: only a rule that hides can hide"),
                    }
                }
            }
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn each_role_field_the_tools_use_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::new(dir.path());
    cluster.write(&Plane::ALL, None);
    let mut stack = stack(&cluster).await;
    let admin = stack.client("admin").await.unwrap();
    // (plane, field under spec.allow, the planes held, tool, what it answers without the field)
    let cases: [(Plane, &str, &[Plane], &str, &str); 4] = [
        (Plane::Access, "request.roles", &[Plane::Access], "create_access_request", "can not request role"),
        (Plane::Access, "review_requests.roles", &[Plane::Access], "review_access_request", "cannot review request"),
        // The worker's check that the target exists sees no app at all (before tsh would say "not found").
        (Plane::Proxies, "app_labels", &[Plane::Proxies], "start_proxy", "no application \"grafana\" in the cluster"),
        // Teleport lists only the nodes some role's node_labels matches: none.
        (Plane::Inventory, "node_labels", &[Plane::Inventory], "list_nodes", "\"count\":0"),
    ];
    for (plane, field, held, tool, answer) in cases {
        let path = format!("allow.{field}");
        let needs = rights_of(tool).unwrap().needs;
        assert!(needs.iter().any(|n| matches!(n, Field { plane: p, path: f } if *p == plane && *f == path)), "{tool}");
        let args = match tool {
            "create_access_request" => json!({ "resources": ["access"], "reason": "least privilege check" }),
            "start_proxy" => json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "check" }),
            _ => json!({}),
        };
        for with_field in [true, false] {
            cluster.write_with(held, |p, allow| {
                if p == plane && !with_field {
                    match field.split_once('.') {
                        Some((outer, inner)) => allow[outer].as_object_mut().unwrap().remove(inner),
                        None => allow.as_object_mut().unwrap().remove(field),
                    };
                }
            });
            // A fresh request each time: Teleport takes one review per reviewer.
            let args = if tool == "review_access_request" {
                json!({ "request_id": human_request(&stack, &cluster, "access"), "approve": true, "reason": "ok" })
            } else {
                args.clone()
            };
            let (ok, text) = call(&admin, tool, args).await;
            let without = names(&text, answer);
            let expect_ok = with_field || tool == "list_nodes";
            assert_eq!(
                (ok, without),
                (expect_ok, !with_field),
                "{tool} {} {path}: {text}",
                if with_field { "with" } else { "without" }
            );
        }
    }
    stack.stop().await;
}

/// Knowing before an agent does: an identity holding only mcp-inventory is told, by the health
/// check and by `mtcp doctor`, which tools its roles leave uncovered and which right each lacks.
#[tokio::test]
async fn the_health_check_and_doctor_name_the_tools_the_identitys_roles_do_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::new(dir.path());
    cluster.write(&[Plane::Inventory], None);
    let mut stack = stack(&cluster).await;
    let path = stack.config.teleport.identity_file.clone().unwrap();
    let one_role = mtcp_tests::identity_file_with_role(
        "teleport.example.com",
        IDENTITY,
        "mcp-inventory",
        chrono::Duration::days(30),
    );
    std::fs::write(&path, one_role).unwrap();
    let operator = stack.client("operator").await.unwrap();
    let report = operator.call("run_health_check", json!({})).await.unwrap().structured_content.unwrap();
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "CP-RIGHTS").unwrap().clone();
    assert_eq!(check["status"], "warn", "{check}");
    let uncovered: Vec<&str> =
        check["details"]["uncovered"].as_array().unwrap().iter().map(|g| g["tool"].as_str().unwrap()).collect();
    for tool in ["create_access_request", "review_access_request", "start_proxy"] {
        assert!(uncovered.contains(&tool), "{tool} should be uncovered: {check}");
    }
    for tool in ["list_users", "list_roles", "scan_rbac", "run_health_check"] {
        assert!(!uncovered.contains(&tool), "{tool} is covered by mcp-inventory: {check}");
    }
    let config = dir.path().join("doctor.yaml");
    std::fs::write(&config, serde_yaml::to_string(&stack.config).unwrap()).unwrap();
    let out = doctor(&stack, &config);
    assert!(
        out.contains("warn  identity rights: ")
            && out.contains("create_access_request needs `allow.request.roles` (mcp-access)"),
        "{out}"
    );
    assert!(!out.contains("list_users needs"), "{out}");
    // Without the right to read roles, doctor probes the inventory reads and names what is refused.
    cluster.write(&[Plane::Access], None);
    let access_only =
        mtcp_tests::identity_file_with_role("teleport.example.com", IDENTITY, "mcp-access", chrono::Duration::days(30));
    std::fs::write(&path, access_only).unwrap();
    let out = doctor(&stack, &config);
    assert!(out.contains("warn  identity rights: the roles cannot be read"), "{out}");
    assert!(
        out.contains("warn  identity rights (probe): users cannot be read, so list_users, scan_rbac fail")
            && out.contains(r#"access denied to perform action "list" on "user""#),
        "{out}"
    );
    stack.stop().await;
}

/// `mtcp doctor`'s output on `config`.
fn doctor(stack: &Stack, config: &Path) -> String {
    let out = std::process::Command::new(mtcp_tests::process::binary("mtcp"))
        .args(["doctor", "--config"])
        .arg(config)
        .env("DATABASE_URL", &stack.db.url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
