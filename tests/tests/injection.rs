//! An injection corpus through every argument of every tool: each value is refused with an error
//! that names the argument or the problem (or, in free-text fields, accepted as text), the stack
//! keeps answering, and the argv the simulator logs holds only the control plane's own words.

use std::collections::{BTreeMap, BTreeSet};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

#[path = "injection/corpus.rs"]
mod corpus;

use corpus::{
    Expect, INVENTORY, PROBE_REQUEST, PROBLEMS, Probe, corpus, identifier, passthrough_on, plain_text, probes,
};

#[derive(Default)]
struct Outcome {
    /// Refusals per tool that the operations trail must hold.
    refused: BTreeMap<&'static str, usize>,
    /// (tool, field) → (value label, message) of a refusal whose message does not name the argument.
    unnamed: BTreeMap<(&'static str, &'static str), (String, String)>,
    unnamed_count: usize,
    failures: Vec<String>,
}

/// A NUL byte cannot be stored by Postgres as is (the product stores it as U+FFFD; pinned by
/// `a_nul_byte_is_refused_and_recorded_like_any_other_value`), so here NUL values are only held to
/// "refused, and never in argv".
fn has_nul(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains('\0'))
}

async fn run_probe(admin: &McpClient, label: &str, v: &Value, probe: &Probe, out: &mut Outcome) {
    let what = format!("{} `{}` = {label}", probe.tool, probe.field);
    let r = match admin.call(probe.tool, probe.args.clone()).await {
        Ok(r) => r,
        Err(e) => return out.failures.push(format!("{what}: protocol error or 5xx instead of a tool error: {e}")),
    };
    let text = text_of(&r);
    let short: String = text.chars().take(300).collect();
    let refused = r.is_error == Some(true);
    let must_refuse = match probe.expect {
        Expect::Refused => true,
        Expect::Omitted => false,
        Expect::FreeText(max) => !plain_text(v, max),
        Expect::Identifier(max) => !identifier(v, max),
        Expect::Validated(max) => {
            // The value is acceptable text: the call may still fail in Teleport (an unknown
            // request), but never as invalid arguments.
            // Refused as invalid, or by the policy's own check of the same argument (a mutating
            // call without a usable `reason`).
            let invalid = text.contains("invalid arguments")
                || (refused && text.contains("denied by policy") && text.contains(&format!("`{}`", probe.field)));
            let acceptable = max == usize::MAX || plain_text(v, max);
            if acceptable == invalid {
                let want = if acceptable { "validation to pass" } else { "an invalid-arguments error" };
                out.failures.push(format!("{what}: expected {want}, got: {short}"));
            }
            if !invalid {
                return;
            }
            true
        }
        Expect::DryRunDenied if refused && has_nul(v) => return,
        Expect::DryRunDenied => {
            let s = r.structured_content.clone().unwrap_or_default();
            if refused || s["allow"] != false || s["arguments_valid"] == true {
                out.failures.push(format!("{what}: expected a dry run that does not allow it, got: {short}"));
            }
            return;
        }
    };
    if must_refuse != refused {
        let want = if must_refuse { "a tool error" } else { "success (free text)" };
        return out.failures.push(format!("{what}: expected {want}, got: {short}"));
    }
    if !refused {
        return;
    }
    if !has_nul(v) {
        *out.refused.entry(probe.tool).or_default() += 1;
    }
    let names_field = text.contains(probe.field);
    if !names_field && !PROBLEMS.iter().any(|p| text.contains(p)) {
        out.failures.push(format!("{what}: the error names neither the argument nor the problem: {short}"));
    }
    if !names_field {
        out.unnamed_count += 1;
        out.unnamed.entry((probe.tool, probe.field)).or_insert((label.to_owned(), short));
    }
}

#[tokio::test]
async fn the_corpus_is_refused_everywhere_and_never_reaches_argv_as_a_flag() {
    let logdir = tempfile::tempdir().unwrap();
    let argv_log = logdir.path().join("argv.jsonl");
    let sim_env = BTreeMap::from([("TELEPORT_SIM_ARGV_LOG".to_owned(), argv_log.display().to_string())]);
    let mut stack =
        Stack::start(StackOptions { sim_env, tweak: Some(passthrough_on()), ..Default::default() }).await.unwrap();
    let admin = stack.client("admin").await.unwrap();

    // The legitimate calls first: the argv log must see them, or its checks below prove nothing.
    for tool in INVENTORY {
        let r = admin.call(tool, json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}: {}", text_of(&r));
    }

    let corpus = corpus();
    let mut out = Outcome::default();
    for (label, v) in &corpus {
        for probe in probes(v) {
            run_probe(&admin, label, v, &probe, &mut out).await;
        }
    }
    assert!(out.failures.is_empty(), "{} probe(s) misbehaved:\n{}", out.failures.len(), out.failures.join("\n"));
    let refusals: usize = out.refused.values().sum();
    assert!(refusals > 500, "the corpus went through every argument: {refusals} refusals");
    // Type errors name the problem but not the argument (see `type_errors_name_the_argument`).
    eprintln!("{refusals} recorded refusals; {} messages do not name the argument, e.g.:", out.unnamed_count);
    for ((tool, field), (label, text)) in &out.unnamed {
        eprintln!("  {tool} `{field}` = {label}: {text}");
    }

    // Still standing: health answers and a normal call works.
    let health = reqwest::get(format!("{}/health", stack.base)).await.unwrap();
    assert!(health.status().is_success(), "{}", health.status());
    let r = admin.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));

    check_argv_log(&stack, &argv_log, &corpus);
    check_trail(&stack, &admin, &out.refused).await;
    admin.close().await;
    stack.stop().await;
}

/// Every argv the simulator received: the runner's global flags, then one of the legitimate
/// command lines; no corpus value anywhere; every flag from the allow-set.
fn check_argv_log(stack: &Stack, path: &std::path::Path, corpus: &[(&str, Value)]) {
    let identity = stack.config.teleport.identity_file.as_ref().unwrap().display().to_string();
    let proxy = stack.config.teleport.proxy.clone().unwrap();
    // Written out by hand: the command lines this test's legitimate calls run.
    let legit: BTreeSet<(&str, Vec<&str>)> = [
        ("tctl", vec!["get", "nodes", "--format=json"]),
        ("tctl", vec!["get", "proxies", "--format=json"]),
        ("tctl", vec!["get", "roles", "--format=json"]),
        ("tctl", vec!["get", "users", "--format=json"]),
        ("tctl", vec!["tokens", "ls", "--format=json"]),
        ("tctl", vec!["get", "cert_authorities", "--format=json"]),
        ("tctl", vec!["get", "cluster_auth_preference", "--format=json"]),
        // The discovery tools, and start_proxy's check that its target exists.
        ("tctl", vec!["get", "db_server", "--format=json"]),
        ("tctl", vec!["get", "app_server", "--format=json"]),
        ("tctl", vec!["get", "kube_server", "--format=json"]),
        ("tctl", vec!["get", "windows_desktop", "--format=json"]),
        ("tctl", vec!["version"]),
        ("tsh", vec!["version"]),
        // Access-request calls whose arguments were valid (only their reason varied).
        ("tsh", vec!["request", "ls", "--format=json"]),
        ("tsh", vec!["request", "create", "--roles=access", "--reason=<text>", "--nowait"]),
        ("tsh", vec!["request", "show", PROBE_REQUEST, "--format=json"]),
        ("tsh", vec!["request", "review", PROBE_REQUEST, "--approve", "--reason=<text>"]),
        ("tsh", vec!["request", "review", PROBE_REQUEST, "--deny", "--reason=<text>"]),
        // start_proxy calls whose arguments were valid (only the reason, or an omitted option, varied).
        ("tsh", vec!["proxy", "app", "grafana"]),
        // …and the probe that leaves `edge_agent` out: a database proxy on a worker.
        ("tsh", vec!["proxy", "db", "orders", "--tunnel"]),
    ]
    .into_iter()
    .collect();
    let allowed_flags: BTreeSet<&str> = [
        "-i",
        "--auth-server",
        "--proxy",
        "--format=json",
        "--roles=access",
        "--reason=<text>",
        "--nowait",
        "--approve",
        "--deny",
        "--tunnel",
    ]
    .into_iter()
    .collect();
    let words: BTreeSet<&str> = legit.iter().flat_map(|(_, w)| w.iter().copied()).collect();
    // Corpus strings to look for inside elements; those that occur in a legitimate word (`--`)
    // are compared whole only.
    let needles: Vec<&str> = corpus
        .iter()
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| {
            !s.is_empty() && !words.iter().any(|w| w.contains(s)) && !identity.contains(s) && !proxy.contains(s)
        })
        .collect();

    let text = std::fs::read_to_string(path).expect("the simulator wrote an argv log");
    let mut seen: BTreeSet<(String, Vec<String>)> = BTreeSet::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("argv log line {line:?}: {e}"));
        let tool = entry["tool"].as_str().unwrap().to_owned();
        let argv: Vec<String> = serde_json::from_value(entry["argv"].clone()).unwrap();
        // A caller's reason is free text the product writes into the request, as one
        // `--reason=…` element (never a flag of its own): its content is not checked here.
        let argv: Vec<String> = argv
            .into_iter()
            .map(|e| if e.starts_with("--reason=") { "--reason=<text>".to_owned() } else { e })
            .collect();
        for el in &argv {
            assert!(
                !corpus.iter().any(|(_, v)| v.as_str() == Some(el.as_str())),
                "a corpus value reached argv: {argv:?}"
            );
            if let Some(n) = needles.iter().find(|n| el.contains(**n)) {
                panic!("corpus value {n:?} reached argv inside {el:?}: {argv:?}");
            }
            if el.starts_with('-') {
                assert!(allowed_flags.contains(el.as_str()), "flag {el:?} is not one the product uses: {argv:?}");
            }
        }
        let global = if tool == "tsh" { "--proxy" } else { "--auth-server" };
        assert_eq!(
            argv.get(..4),
            Some(&["-i".to_owned(), identity.clone(), global.to_owned(), proxy.clone()][..]),
            "{line}"
        );
        let rest: Vec<&str> = argv[4..].iter().map(String::as_str).collect();
        assert!(
            legit.contains(&(tool.as_str(), rest.clone())),
            "{tool} ran a command line no legitimate call makes: {argv:?}"
        );
        seen.insert((tool, rest.iter().map(|s| (*s).to_owned()).collect()));
    }
    // Every inventory command, both passthrough runs and the access calls were logged: the log is
    // not empty by accident.
    assert_eq!(seen.len(), legit.len(), "{lines} lines, distinct command lines: {seen:?}");
}

/// Refused calls of one tool in the trail.
#[derive(Debug, sqlx::FromRow)]
struct TrailRow {
    tool: String,
    status: String,
    count: i64,
    longest_inputs: Option<i32>,
    longest_error: Option<i32>,
}

/// The refused calls are in the operations trail, failed or denied, with their error; inputs are
/// stored redacted.
async fn check_trail(stack: &Stack, admin: &McpClient, refused_per_tool: &BTreeMap<&'static str, usize>) {
    let rows: Vec<TrailRow> = sqlx::query_as(
        "SELECT tool, status, count(*) AS count, max(length(inputs::text)) AS longest_inputs, \
         max(length(error)) AS longest_error FROM operations \
         WHERE actor = 'dev-admin' AND status IN ('failed', 'denied') GROUP BY tool, status ORDER BY tool, status",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    eprintln!("operations trail of the refusals:");
    for r in &rows {
        let (inputs, error) = (r.longest_inputs.unwrap_or(0), r.longest_error.unwrap_or(0));
        eprintln!("  {} {} ×{}: longest inputs {inputs} chars, longest error {error} chars", r.tool, r.status, r.count);
    }
    let mut missing = Vec::new();
    for (tool, refused) in refused_per_tool {
        let recorded: i64 = rows.iter().filter(|r| r.tool == *tool).map(|r| r.count).sum();
        // At least every refusal (calls with valid arguments that Teleport then failed, and NUL
        // values, which the probe count leaves out, are recorded too).
        if recorded < *refused as i64 {
            missing.push(format!("{tool}: {refused} refused, {recorded} recorded"));
        }
    }
    assert!(missing.is_empty(), "refused calls missing from the operations trail: {missing:?}");
    let unexplained: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM operations WHERE status IN ('failed', 'denied') AND (error IS NULL OR error = '')",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(unexplained, 0, "every refusal records why");

    // Refused or not, a secret in the inputs is stored redacted.
    let r = admin.call("list_users", json!({ "password": "hunter2-hunter2" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let inputs: Value = sqlx::query_scalar(
        "SELECT inputs FROM operations WHERE tool = 'list_users' AND status = 'failed' AND inputs ? 'password'",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(inputs, json!({ "password": "[REDACTED]" }));
}

// BUG (product): Postgres rejects U+0000 in `text` and `jsonb`, and the gateway stores the raw
// (redacted) inputs and the error text, which echoes them. So a call carrying a NUL byte anywhere:
// - when refused, is not recorded at all (gateway/src/mcp/call.rs `record_failure` logs
//   "recording a failed call" and moves on): a hole in the audit trail any caller can trigger;
// - when answered by the gateway (check_policy with a NUL inside `arguments`), comes back as
//   "the operation store is unavailable; try again" instead of the dry-run answer.
#[tokio::test]
async fn a_nul_byte_is_refused_and_recorded_like_any_other_value() {
    let mut stack = Stack::start(StackOptions { tweak: Some(passthrough_on()), ..Default::default() }).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let r = admin.call("list_nodes", json!({ "x": "a\u{0}b" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("takes no arguments"), "{}", text_of(&r));
    let r = admin.call("get_operation", json!({ "op_id": "\u{0}" })).await.unwrap();
    assert!(text_of(&r).contains("op_id"), "{}", text_of(&r));
    let r = admin.call("check_policy", json!({ "tool": "list_nodes", "arguments": { "x": "\u{0}" } })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "a dry run answers: {}", text_of(&r));
    assert_eq!(r.structured_content.unwrap()["arguments_valid"], false);
    let recorded: Vec<(String, String)> = sqlx::query_as("SELECT tool, status FROM operations ORDER BY created_at")
        .fetch_all(&stack.db.pool)
        .await
        .unwrap();
    let expected = [("list_nodes", "failed"), ("get_operation", "failed"), ("check_policy", "succeeded")];
    let expected: Vec<(String, String)> = expected.iter().map(|(t, s)| ((*t).to_owned(), (*s).to_owned())).collect();
    assert_eq!(recorded, expected, "every call is in the trail");
    stack.stop().await;
}

// BUG (product): gateway/src/mcp/args.rs promises "Every error names the argument", but `parse`
// passes serde's message through, which does not name the field for type errors ("invalid type:
// integer `0`, expected a string"), and chrono's for `since` ("input contains invalid characters").
#[tokio::test]
async fn type_errors_name_the_argument() {
    let mut stack = Stack::start(StackOptions { tweak: Some(passthrough_on()), ..Default::default() }).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let cases = [
        ("get_operation", json!({ "op_id": 0 }), "op_id"),
        ("check_policy", json!({ "tool": ["list_nodes"] }), "tool"),
        ("search_operations", json!({ "since": "yesterday" }), "since"),
        ("search_operations", json!({ "limit": "ten" }), "limit"),
        ("run_tctl_command", json!({ "args": "get nodes", "reason": "x" }), "args"),
        ("run_tctl_command", json!({ "args": ["get", 1], "reason": "x" }), "args"),
    ];
    for (tool, args, field) in cases {
        let r = admin.call(tool, args.clone()).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool} {args}");
        assert!(text_of(&r).contains(field), "{tool} {args}: the error does not name `{field}`: {}", text_of(&r));
    }
    stack.stop().await;
}
