//! The injection corpus and, for every tool, where each value goes and what it must answer.

use mtcp_shared::tools::cluster::ClusterArg;
use std::sync::Arc;

use serde_json::{Value, json};

use mtcp_shared::domain::CATALOG;

pub(crate) const INVENTORY: &[&str] = &[
    "list_cas",
    "list_nodes",
    "list_proxies",
    "list_roles",
    "list_tokens",
    "list_users",
    "get_auth_preference",
    "list_databases",
    "list_apps",
    "list_mcp_servers",
    "list_kube_clusters",
    "list_windows_desktops",
];

/// The values fed into every argument. Labels keep failure messages readable (one value is 100 KB).
pub(crate) fn corpus() -> Vec<(&'static str, Value)> {
    let strings: &[(&str, String)] = &[
        ("short flag", "-x".into()),
        ("proxy override", "--proxy=evil:443".into()),
        ("insecure", "--insecure".into()),
        ("glued identity", "-i/etc/shadow".into()),
        ("identity override", "--identity=/tmp/x".into()),
        ("end of flags", "--".into()),
        ("command substitution", "$(id)".into()),
        ("backticks", "`id`".into()),
        ("semicolon", ";rm -rf /".into()),
        ("pipe", "|cat /etc/passwd".into()),
        ("newline", "a\nb".into()),
        ("nul", "\u{0}".into()),
        ("bidi override", "\u{202e}".into()),
        ("path traversal", "../../etc/passwd".into()),
        ("at-file", "@/etc/passwd".into()),
        ("environment", "TELEPORT_HOME=/tmp".into()),
        ("100 KB flag", format!("--{}", "a".repeat(100 * 1024))),
        ("minus sign", "\u{2212}x".into()),
        ("fullwidth hyphen", "\u{ff0d}\u{ff0d}proxy=evil".into()),
        ("hyphen", "\u{2010}i".into()),
        ("empty", String::new()),
        ("json text", r#"{"a":1}"#.into()),
    ];
    let mut values: Vec<(&'static str, Value)> = strings.iter().map(|(l, s)| (*l, Value::String(s.clone()))).collect();
    values.extend([
        ("zero", json!(0)),
        ("negative", json!(-1)),
        ("float", json!(1.5)),
        ("huge number", json!(99_999_999_999u64)),
        ("true", json!(true)),
        ("false", json!(false)),
        ("null", Value::Null),
        ("array", json!(["-x", "--insecure"])),
        ("object", json!({ "a": 1 })),
    ]);
    values
}

/// What a probe must answer.
pub(crate) fn passthrough_on() -> mtcp_tests::Tweak {
    Arc::new(|c| {
        c.policy.allow_tsh_passthrough = true;
        c.policy.allow_tctl_passthrough = true;
        // About a thousand calls in a row: the per-actor limit is not under test here.
        c.policy.rate_limit_per_minute = 0;
        // Every acceptable value in a start_proxy argument starts a real proxy: no cap here either.
        c.policy.max_concurrent_proxies_per_actor = 1000;
    })
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect {
    /// A tool error naming the argument (or the problem).
    Refused,
    /// Free text up to this many characters: plain text succeeds; anything else is refused.
    FreeText(usize),
    /// An identifier up to this many characters (a ticket: letters, digits and `-_.:/#`, starting
    /// with a letter or digit) succeeds; anything else is refused.
    Identifier(usize),
    /// `check_policy`'s dry run: answered, and the call it describes would not be allowed.
    DryRunDenied,
    /// `null` in an optional argument means "not given": answered normally.
    Omitted,
    /// Free text up to this many characters (usize::MAX: any value of the right type) passes
    /// validation, though the call may still fail in Teleport; anything else is invalid.
    Validated(usize),
}

pub(crate) struct Probe {
    pub(crate) tool: &'static str,
    /// The argument the value went into, as error messages name it.
    pub(crate) field: &'static str,
    pub(crate) args: Value,
    pub(crate) expect: Expect,
}

/// An argument *name* made from a value (tools without arguments get the value as name and value).
pub(crate) fn as_key(v: &Value) -> String {
    v.as_str().map_or_else(|| "extra".to_owned(), str::to_owned)
}

/// Every argument of every tool, with `v` in it. Panics on a tool it does not know, so a new tool
/// cannot skip the corpus.
pub(crate) fn probes(v: &Value) -> Vec<Probe> {
    let p = |tool, field, args, expect| Probe { tool, field, args, expect };
    let mut out = Vec::new();
    for spec in CATALOG {
        let tool = spec.name;
        match tool {
            t if INVENTORY.contains(&t)
                || matches!(t, "whoami" | "scan_rbac" | "run_health_check" | "list_edge_agents" | "list_clusters") =>
            {
                out.push(p(
                    tool,
                    "takes no arguments",
                    Value::Object([(as_key(v), v.clone())].into_iter().collect()),
                    Expect::Refused,
                ));
                // Where the call runs: only a configured cluster's name (`null`, not given, would
                // just run the tool).
                if ClusterArg::of(spec.tool) == ClusterArg::Runs && !v.is_null() {
                    out.push(p(tool, "cluster", json!({ "cluster": v }), Expect::Refused));
                }
            }
            "get_operation" => out.push(p(tool, "op_id", json!({ "op_id": v }), Expect::Refused)),
            "check_policy" => {
                out.push(p(tool, "tool", json!({ "tool": v }), Expect::Refused));
                let args = json!({ "tool": "run_tctl_command", "arguments": { "args": [v], "reason": "probe" } });
                out.push(p(tool, "arguments", args, Expect::DryRunDenied));
                let extra: Value = Value::Object([(as_key(v), v.clone())].into_iter().collect());
                out.push(p(
                    tool,
                    "arguments",
                    json!({ "tool": "list_nodes", "arguments": extra }),
                    Expect::DryRunDenied,
                ));
                let whole = json!({ "tool": "run_tsh_command", "arguments": v });
                let expect = if v.is_object() || v.is_null() { Expect::DryRunDenied } else { Expect::Refused };
                out.push(p(tool, "arguments", whole, expect));
            }
            "search_operations" => {
                let optional = |e| if v.is_null() { Expect::Omitted } else { e };
                out.push(p(tool, "actor", json!({ "actor": v }), optional(Expect::FreeText(256))));
                out.push(p(tool, "capability", json!({ "capability": v }), optional(Expect::Refused)));
                out.push(p(tool, "status", json!({ "status": v }), optional(Expect::Refused)));
                out.push(p(tool, "since", json!({ "since": v }), optional(Expect::Refused)));
                out.push(p(tool, "limit", json!({ "limit": v }), optional(Expect::Refused)));
            }
            "run_tctl_command" | "run_tsh_command" => {
                let lines: &[&[&str]] = if tool == "run_tctl_command" {
                    &[&[], &["get"], &["nodes", "ls"], &["get", "nodes", "--format=json"]]
                } else {
                    &[&[], &["version"], &["ls"], &["ls", "--format=json"]]
                };
                for words in lines {
                    let mut args: Vec<Value> = words.iter().map(|w| json!(w)).collect();
                    args.push(v.clone());
                    out.push(p(tool, "args", json!({ "args": args, "reason": "injection probe" }), Expect::Refused));
                }
                out.push(p(tool, "args", json!({ "args": v, "reason": "injection probe" }), Expect::Refused));
                out.push(p(tool, "reason", json!({ "args": ["version"], "reason": v }), Expect::FreeText(1024)));
                let ticket = json!({ "args": ["version"], "reason": "injection probe", "ticket": v });
                let expect = if v.is_null() { Expect::Omitted } else { Expect::Identifier(128) };
                out.push(p(tool, "ticket", ticket, expect));
            }
            "search_audit" | "detect_audit_anomalies" => {
                let expect = if v.is_null() { Expect::Omitted } else { Expect::Refused };
                out.push(p(tool, "hours", json!({ "hours": v }), expect));
                out.push(p(tool, "cluster", json!({ "cluster": v }), expect));
            }
            "list_access_requests" => {
                let expect = if v.is_null() { Expect::Omitted } else { Expect::Refused };
                out.push(p(tool, "limit", json!({ "limit": v }), expect));
            }
            "list_pending_approvals" => {
                let expect = if v.is_null() { Expect::Omitted } else { Expect::Refused };
                out.push(p(tool, "limit", json!({ "limit": v }), expect));
            }
            "approve_operation" | "deny_operation" => {
                // A well-formed decision on a call that does not wait: only the probed field varies.
                let base = |extra: Value| {
                    let mut a = json!({ "op_id": PROBE_REQUEST, "reason": "probe" });
                    if tool == "approve_operation" {
                        a["args_sha256"] = json!("0".repeat(64));
                    }
                    a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                    a
                };
                out.push(p(tool, "op_id", base(json!({ "op_id": v })), Expect::Refused));
                if tool == "approve_operation" {
                    out.push(p(tool, "args_sha256", base(json!({ "args_sha256": v })), Expect::Refused));
                }
                out.push(p(tool, "reason", base(json!({ "reason": v })), Expect::Validated(1024)));
            }
            "show_access_request" => out.push(p(tool, "request_id", json!({ "request_id": v }), Expect::Refused)),
            "create_access_request" => {
                out.push(p(tool, "resources", json!({ "resources": [v], "reason": "probe" }), Expect::Refused));
                out.push(p(
                    tool,
                    "resources",
                    json!({ "resources": ["access", v], "reason": "probe" }),
                    Expect::Refused,
                ));
                out.push(p(tool, "resources", json!({ "resources": v, "reason": "probe" }), Expect::Refused));
                // A valid call that would create a request: only its reason varies.
                out.push(p(tool, "reason", json!({ "resources": ["access"], "reason": v }), Expect::Validated(1024)));
            }
            "review_access_request" | "drop_access_request" => {
                let id = PROBE_REQUEST;
                let base = |extra: Value| {
                    let mut a = json!({ "request_id": id, "reason": "probe" });
                    if tool == "review_access_request" {
                        a["approve"] = json!(true);
                    }
                    a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                    a
                };
                out.push(p(tool, "request_id", base(json!({ "request_id": v })), Expect::Refused));
                out.push(p(tool, "reason", base(json!({ "reason": v })), Expect::Validated(1024)));
                if tool == "review_access_request" {
                    let expect = if v.is_boolean() { Expect::Validated(usize::MAX) } else { Expect::Refused };
                    out.push(p(tool, "approve", base(json!({ "approve": v })), expect));
                }
            }
            "start_proxy" => {
                let base = |extra: Value| {
                    let mut a = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 60,
                                        "reason": "probe" });
                    a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                    a
                };
                out.push(p(tool, "kind", base(json!({ "kind": v })), Expect::Refused));
                out.push(p(tool, "target", base(json!({ "target": v })), Expect::Refused));
                let db = json!({ "kind": "proxy_db", "target": { "db": v } });
                out.push(p(tool, "target", base(db), Expect::Refused));
                let ssh = json!({ "kind": "proxy_ssh", "target": { "host": v } });
                out.push(p(tool, "target", base(ssh), Expect::Refused));
                // `null` means "not given": those calls start a real proxy (a handful, under the cap).
                let optional = |e| if v.is_null() { Expect::Omitted } else { e };
                out.push(p(tool, "listen_addr", base(json!({ "listen_addr": v })), optional(Expect::Refused)));
                out.push(p(tool, "ttl_seconds", base(json!({ "ttl_seconds": v })), optional(Expect::Refused)));
                let edge = json!({ "kind": "proxy_db", "target": { "db": "orders" }, "edge_agent": v });
                out.push(p(tool, "edge_agent", base(edge), optional(Expect::Refused)));
                // Valid reasons start proxies too; past the cap they are refused by the policy.
                out.push(p(tool, "reason", base(json!({ "reason": v })), Expect::Validated(1024)));
            }
            "get_proxy_status" => out.push(p(tool, "lease_id", json!({ "lease_id": v }), Expect::Refused)),
            "get_proxy_logs" => {
                out.push(p(tool, "lease_id", json!({ "lease_id": v }), Expect::Refused));
                if !v.is_null() {
                    out.push(p(tool, "tail", json!({ "lease_id": PROBE_REQUEST, "tail": v }), Expect::Refused));
                }
            }
            "stop_proxy" => {
                out.push(p(tool, "lease_id", json!({ "lease_id": v }), Expect::Refused));
                if !v.is_null() {
                    let args = json!({ "lease_id": PROBE_REQUEST, "reason": v });
                    out.push(p(tool, "reason", args, Expect::Validated(1024)));
                }
            }
            "list_proxies_leases" => {
                let expect = if v.is_null() || v.is_boolean() { Expect::Omitted } else { Expect::Refused };
                out.push(p(tool, "active_only", json!({ "active_only": v }), expect));
            }
            other => panic!("the injection corpus does not know tool {other}: add its arguments"),
        }
    }
    out
}

/// Whether free text is acceptable: a non-blank string, short enough, without control characters
/// other than newline and tab.
pub(crate) fn plain_text(v: &Value, max: usize) -> bool {
    let deceptive = |c: char| matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}');
    v.as_str().is_some_and(|s| {
        !s.trim().is_empty()
            && s.chars().count() <= max
            && !s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || deceptive(c))
    })
}

/// Whether an identifier is acceptable: a ticket as the gateway defines it, written out here by hand.
pub(crate) fn identifier(v: &Value, max: usize) -> bool {
    v.as_str().filter(|raw| raw.chars().count() <= max).map(str::trim).is_some_and(|s| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/#".contains(c))
    })
}

/// Problems serde and chrono report without naming the field.
pub(crate) const PROBLEMS: &[&str] = &[
    "invalid type",
    "invalid value",
    "expected",
    "input contains invalid characters",
    "premature end",
    "input is out of range",
    "trailing input",
];

/// The request id the access probes use (no such request exists).
pub(crate) const PROBE_REQUEST: &str = "c418967c-2127-4f75-a6be-29b7983ceb3b";
