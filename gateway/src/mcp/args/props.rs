//! Property test of [`super::validate`]: for every tool of the catalog and any JSON object as its
//! arguments, validation never panics, and a refusal is short and names the argument or the problem.

use std::sync::LazyLock;

use mtcp_shared::domain::{CATALOG, ToolSpec};
use proptest::prelude::*;
use rmcp::model::JsonObject;
use serde_json::{Number, Value};

use super::super::tools::input_schema;
use super::validate;

/// What a caller (an LLM) is shown at most; the domain echoes values within this.
const MAX_ERROR: usize = 400;

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => any::<String>(),
        3 => "[-@:./=_a-zA-Z0-9 ]{0,24}",
        2 => prop::sample::select(vec![
            "0190f3c2-8d1e-7c2a-9b1e-3f2a1c0d4e5f", "01J8ZQ3K4T5V6W7X8Y9Z0A1B2C", "proxy_db", "vnet", "succeeded",
            "inventory.nodes", "auth.authenticate", "127.0.0.1:0", "0.0.0.0:80", "2026-01-01T00:00:00Z", "get",
            "nodes", "--format=json", "--identity=x", "db-admin", "/c/node/web-01", "list_nodes", "orders",
        ]).prop_map(String::from),
        1 => "[\u{0}-\u{1f}\u{200b}\u{202e}\u{e0001}\u{feff}a ]{0,400}",
        1 => "[a-]{1000,1100}",
    ]
    .boxed()
}

/// Every argument name of every tool, and the fields of a lease target: keys that often hit a real
/// field, of this tool or of another.
static ALL_FIELDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names: Vec<String> = CATALOG.iter().flat_map(fields).collect();
    names.extend(["host", "db", "db_user", "db_name", "app", "kube_cluster"].map(String::from));
    names.sort();
    names.dedup();
    names
});

fn key() -> BoxedStrategy<String> {
    prop_oneof![4 => prop::sample::select(ALL_FIELDS.clone()), 1 => text()].boxed()
}

/// The properties of `spec`'s input schema: objects made of these reach the checks after parsing.
fn fields(spec: &ToolSpec) -> Vec<String> {
    let schema = input_schema(spec);
    let props = schema.get("properties").and_then(Value::as_object);
    props.map(|p| p.keys().cloned().collect()).unwrap_or_default()
}

/// A value shaped like what an argument takes, often enough to pass the type check.
fn value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => text().prop_map(Value::String),
        1 => (0u64..2000).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => prop::collection::vec(text(), 0..4).prop_map(Value::from),
        1 => prop::collection::btree_map(key(), text(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())),
        2 => json(),
    ]
    .boxed()
}

fn json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u64..2000).prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5).prop_map(|e| Value::Object(e.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A value that fits the argument named `field`, so that calls get past the checks before the
/// last one (and sometimes all the way to `Ok`).
fn fitting(field: &str) -> BoxedStrategy<Value> {
    let s = |re: &'static str| re.prop_map(Value::String).boxed();
    match field {
        "op_id" | "lease_id" | "request_id" => s("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        "reason" | "ticket" | "actor" | "tool" => s("[a-zA-Z][a-zA-Z0-9 .-]{0,30}"),
        "kind" => prop::sample::select(vec!["proxy_db", "proxy_app", "proxy_mcp", "proxy_kube", "proxy_ssh", "vnet"])
            .prop_map(Value::from)
            .boxed(),
        "target" => {
            (prop::sample::select(vec!["db", "app", "host", "kube_cluster", "db_user"]), "[a-z][a-z0-9@:.-]{0,12}")
                .prop_map(|(k, v)| serde_json::json!({ k: v }))
                .boxed()
        }
        "listen_addr" => s("(127\\.0\\.0\\.1|\\[::1\\]|0\\.0\\.0\\.0):[0-9]{1,5}"),
        "resources" => prop::collection::vec("[a-z][a-z-]{0,10}|/[a-z.]{1,8}/node/[a-z0-9-]{1,8}", 0..4)
            .prop_map(Value::from)
            .boxed(),
        "args" => prop::collection::vec(
            prop::sample::select(vec!["get", "nodes", "ls", "status", "--format=json", "-v", "version", "--insecure"]),
            1..4,
        )
        .prop_map(Value::from)
        .boxed(),
        "status" => prop::sample::select(vec!["queued", "succeeded", "done"]).prop_map(Value::from).boxed(),
        "capability" => {
            prop::sample::select(vec!["inventory.nodes", "auth.authenticate", "nope"]).prop_map(Value::from).boxed()
        }
        "since" | "until" => s("20[0-9]{2}-0[1-9]-1[0-9]T0[0-9]:00:00Z"),
        "approve" | "active_only" => any::<bool>().prop_map(Value::Bool).boxed(),
        "arguments" => Just(serde_json::json!({})).boxed(),
        _ => (0u64..1500).prop_map(Value::from).boxed(),
    }
}

/// A tool of the catalog and arguments for it: mostly its own fields, sometimes anything.
fn call() -> impl Strategy<Value = (&'static ToolSpec, JsonObject)> {
    prop::sample::select(CATALOG.iter().collect::<Vec<_>>()).prop_flat_map(|spec| {
        let own = fields(spec);
        let args = if own.is_empty() {
            prop::collection::vec((key(), json()), 0..3).boxed()
        } else {
            let field = prop_oneof![6 => prop::sample::select(own), 1 => key()];
            let entry = field.prop_flat_map(|f| {
                let v = prop_oneof![3 => fitting(&f), 2 => value()];
                (Just(f), v)
            });
            prop::collection::vec(entry, 0..7).boxed()
        };
        (Just(spec), args.prop_map(|entries| entries.into_iter().collect::<JsonObject>()))
    })
}

proptest! {
    // `PROPTEST_CASES` (default 256) times 4: one case is cheap. No regression files: a failure
    // found here becomes a unit test next to its fix.
    #![proptest_config({
        let base = ProptestConfig::default();
        ProptestConfig { cases: base.cases * 4, failure_persistence: None, ..base }
    })]

    #[test]
    fn validation_never_panics_and_refusals_are_short_and_named((spec, args) in call()) {
        match validate(spec, args.clone()) {
            Ok(v) => prop_assert!(!spec.requires_reason || v.reason.is_some(), "{}: {args:?}", spec.name),
            Err(msg) => {
                let n = msg.chars().count();
                prop_assert!(n <= MAX_ERROR, "{}: {n} chars: {msg}", spec.name);
                prop_assert!(msg.contains('`'), "{}: names no argument: {msg}", spec.name);
            }
        }
    }
}

/// Regressions the property test found: values echoed with escapes made errors of 400-1300
/// characters (a long unknown key, 64 control characters as an op_id).
#[test]
fn hostile_values_are_echoed_short() {
    let spec = |name| mtcp_shared::domain::find_tool(name).unwrap();
    let args = |k: &str, v: &str| JsonObject::from_iter([(k.to_owned(), Value::String(v.to_owned()))]);
    for (tool, args) in [
        ("get_operation", args("op_id", &"\u{1}".repeat(64))),
        ("get_operation", args(&"a-".repeat(600), "x")),
        ("get_proxy_status", args("lease_id", &"\u{e0001}".repeat(300))),
        ("search_operations", args("status", &"\u{7f}".repeat(300))),
        ("whoami", args(&"\u{0}".repeat(300), "x")),
    ] {
        let err = validate(spec(tool), args).unwrap_err();
        assert!(err.chars().count() <= MAX_ERROR, "{tool}: {} chars: {err}", err.chars().count());
    }
}
