//! Property tests of every argument check in `shared`: lease targets and listen addresses, access
//! request ids and resources, passthrough argv, proxy command lines and startup lines, Go
//! durations. Whatever the input, nothing panics, errors name the field and stay short, and nothing
//! accepted can put a flag where a value belongs.

mod prop_support;

use std::time::Duration;

use mtcp_shared::domain::{LeaseKind, LeaseTarget, RequestId, RequestedResource, parse_listen_addr};
use mtcp_shared::teleport::duration::{format_go_duration, parse_go_duration};
use mtcp_shared::teleport::passthrough::validate_args;
use mtcp_shared::teleport::proxy::{Startup, parse_startup_line, proxy_args};
use mtcp_shared::teleport::runner::Binary;
use prop_support::{chars, config, json, json_object, text};
use proptest::prelude::*;
use serde_json::Value;

/// Longest error message a caller (an LLM) should be shown.
const MAX_ERROR: usize = 400;

fn kind() -> impl Strategy<Value = LeaseKind> {
    prop::sample::select(LeaseKind::ALL.to_vec())
}

/// Values that look like Teleport names most of the time, so that targets are often accepted and
/// the argv property has something to check, plus every kind of hostile text.
fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[-a-zA-Z0-9._@:]{1,12}",
        1 => "-{1,2}[a-z-]{1,10}(=[a-z0-9]{0,4})?",
        1 => "[a-z]{1,6}@[-a-z0-9.]{1,8}(:[0-9]{1,6})?",
        2 => text(),
    ]
}

fn target_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(vec!["host", "db", "db_user", "db_name", "app", "kube_cluster"]).prop_map(String::from),
        1 => text(),
    ]
    .boxed()
}

/// A lease target: usually an object of the known fields with name-like strings, sometimes any JSON.
fn target() -> impl Strategy<Value = Option<Value>> {
    let fields = prop::collection::btree_map(
        target_key(),
        prop_oneof![4 => name_like().prop_map(Value::String), 1 => json()],
        0..4,
    )
    .prop_map(|m| Some(Value::Object(m.into_iter().collect())));
    prop_oneof![
        6 => fields,
        1 => json_object(target_key()).prop_map(|m| Some(Value::Object(m))),
        1 => json().prop_map(Some),
        1 => Just(None),
    ]
}

/// Flags `tsh proxy` accepts from a lease, each followed by `=` and a value.
const PROXY_FLAGS: &[&str] = &["--db-user=", "--db-name=", "--port="];
/// Switches the product itself adds (never from the target): `proxy db` always runs `--tunnel`.
const PROXY_SWITCHES: &[&str] = &["--tunnel"];

proptest! {
    #![proptest_config(config(2))]

    #[test]
    fn lease_targets_never_put_a_flag_in_value_position(kind in kind(), target in target(), port in any::<Option<u16>>()) {
        match LeaseTarget::parse(kind, target.as_ref()) {
            Ok(parsed) => {
                let argv = proxy_args(&parsed, port);
                let values = match kind {
                    LeaseKind::Vnet => &argv[1..],
                    _ => &argv[2..],
                };
                for arg in values.iter().filter(|a| !PROXY_SWITCHES.contains(&a.as_str())) {
                    let flag = PROXY_FLAGS.iter().find(|f| arg.starts_with(*f));
                    let value = flag.map_or(arg.as_str(), |f| &arg[f.len()..]);
                    prop_assert!(!value.starts_with('-') && !value.is_empty(), "{kind} {target:?}: {argv:?}");
                    prop_assert!(!value.chars().any(|c| c.is_control() || c.is_whitespace()), "{argv:?}");
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("`target"), "{kind} {target:?}: {msg}");
                prop_assert!(chars(&msg) <= MAX_ERROR, "{} chars: {msg}", chars(&msg));
            }
        }
    }

    #[test]
    fn listen_addrs_are_loopback_when_accepted(s in prop_oneof![
        text(),
        "(127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|0\\.0\\.0\\.0|10\\.0\\.0\\.1|\\[::1?\\]|\\[::ffff:127\\.0\\.0\\.1\\]|localhost):[0-9]{1,6}",
    ]) {
        match parse_listen_addr(&s) {
            Ok(addr) => prop_assert!(addr.ip().is_loopback(), "{s:?} → {addr}"),
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("`listen_addr`"), "{msg}");
                prop_assert!(chars(&msg) <= MAX_ERROR, "{} chars: {msg}", chars(&msg));
            }
        }
    }

    #[test]
    fn request_ids_are_uuids_when_accepted(s in prop_oneof![text(), "[0-9a-fA-F-]{30,40}", Just(" c418967c-2127-4f75-a6be-29b7983ceb3b\n".to_owned())]) {
        match RequestId::parse(&s) {
            Ok(id) => {
                prop_assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
                prop_assert!(!id.as_str().starts_with('-') && id.as_str().len() == 36, "{id}");
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("access request id"), "{msg}");
                prop_assert!(chars(&msg) <= MAX_ERROR, "{} chars: {msg}", chars(&msg));
            }
        }
    }

    #[test]
    fn requested_resources_are_never_flags(s in prop_oneof![
        text(),
        name_like(),
        "/[-a-z0-9.]{0,8}/[a-z_]{0,8}/[-a-zA-Z0-9.@:]{0,8}(/[-a-z0-9/]{0,8})?",
    ]) {
        match RequestedResource::parse(&s) {
            Ok(RequestedResource::Role(r) | RequestedResource::Resource(r)) => {
                prop_assert_eq!(&r, &s);
                prop_assert!(!r.starts_with('-') && !r.contains(',') && !r.chars().any(char::is_whitespace), "{r:?}");
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("role name") || msg.contains("resource id"), "{msg}");
                prop_assert!(chars(&msg) <= MAX_ERROR, "{} chars: {msg}", chars(&msg));
            }
        }
    }

    #[test]
    fn startup_lines_never_panic_and_give_addresses_only_after_the_announcement(
        kind in kind(),
        prefix in prop::sample::select(vec![
            "", "Started DB proxy on ", "Proxying connections to x on ", "Started authenticated tunnel for \"db\" on ",
            "Started local proxy for Kubernetes on ", "VNet is ready", "  Started DB proxy on",
        ]),
        rest in prop_oneof![text(), "(127\\.0\\.0\\.1|\\[::1\\]):[0-9]{1,5}\\.?"],
    ) {
        let line = format!("{prefix}{rest}");
        match parse_startup_line(kind, &line) {
            Some(Startup::Ready) => prop_assert!(kind == LeaseKind::Vnet && line.trim().starts_with("VNet is ready")),
            Some(Startup::Listening(addr)) => {
                prop_assert!(kind != LeaseKind::Vnet);
                prop_assert!(line.contains(&addr.port().to_string()), "{line:?} → {addr}");
            }
            None => {}
        }
    }
}

// ---- passthrough argv ----

/// Every flag an allowed passthrough command takes (long names), with whether it takes a value.
const ALLOWED_FLAGS: &[(&str, bool)] = &[
    ("format", true),
    ("help", false),
    ("query", true),
    ("search", true),
    ("verbose", false),
    ("reviewable", false),
    ("suggested", false),
    ("my-requests", false),
];

/// Words a caller might send: the allowed commands, the refused ones, allowed and denied flags in
/// every spelling, resource references, labels, request ids, shell and file syntax.
fn argv_word() -> impl Strategy<Value = String> {
    let vocabulary = prop::sample::select(vec![
        "get",
        "status",
        "nodes",
        "ls",
        "tokens",
        "users",
        "requests",
        "alerts",
        "inventory",
        "version",
        "request",
        "show",
        "apps",
        "db",
        "kube",
        "mcp",
        "ssh",
        "proxy",
        "login",
        "logout",
        "connect",
        "create",
        "rm",
        "auth",
        "sign",
        "node",
        "token/abc",
        "cas",
        "role/-x",
        "roles/a/b/c",
        "cert_authority/host",
        "env=prod",
        "a=b,c=d",
        "c418967c-2127-4f75-a6be-29b7983ceb3b",
        "--format=json",
        "--format",
        "json",
        "yaml",
        "--query",
        "labels[\"env\"] == \"prod\" && x > 1",
        "--search",
        "--help",
        "-v",
        "-vv",
        "--verbose",
        "--reviewable",
        "--identity=/tmp/id",
        "-i",
        "-vi",
        "-dk",
        "-iv",
        "--proxy=evil:443",
        "--auth-server",
        "--user=root",
        "--insecure",
        "--with-secrets",
        "--debug",
        "-d",
        "-c",
        "--config",
        "--cluster=leaf",
        "-l",
        "--login=root",
        "--out=/tmp/x",
        "-o",
        "--",
        "-",
        "@args.txt",
        "$(id)",
        "`id`",
        "a;b",
        "TELEPORT_HOME=/tmp",
        "|cat",
        "--format=",
        "--help=1",
        "--query=",
        "--query=-x",
    ]);
    prop_oneof![
        8 => vocabulary.prop_map(String::from),
        1 => "-{1,2}[a-z-]{1,12}(=[-a-z0-9@]{0,6})?",
        1 => text(),
    ]
}

fn binary() -> impl Strategy<Value = Binary> {
    prop::sample::select(vec![Binary::Tctl, Binary::Tsh])
}

proptest! {
    #![proptest_config(config(4))]

    #[test]
    fn passthrough_accepts_only_allowed_flags_and_never_a_dash_value(
        binary in binary(),
        args in prop_oneof![
            4 => prop::collection::vec(argv_word(), 0..7),
            1 => prop::collection::vec(text(), 0..4),
            1 => prop::collection::vec("[a-z]{1,3}", 60..70),
        ],
    ) {
        match validate_args(binary, &args) {
            Ok(()) => {
                prop_assert!(!args[0].starts_with('-'), "{binary} {args:?}");
                let mut value_next = false;
                for arg in &args {
                    prop_assert!(!arg.chars().any(char::is_control) && !arg.starts_with('@') && arg != "--");
                    if value_next {
                        prop_assert!(!arg.starts_with('-') && !arg.is_empty(), "{binary} {args:?}");
                        value_next = false;
                    } else if let Some(body) = arg.strip_prefix("--") {
                        let (name, inline) = body.split_once('=').map_or((body, None), |(n, v)| (n, Some(v)));
                        let spec = ALLOWED_FLAGS.iter().find(|(f, _)| *f == name);
                        prop_assert!(spec.is_some(), "{binary} {args:?}: {arg}");
                        let takes_value = spec.is_some_and(|(_, v)| *v);
                        if let Some(v) = inline {
                            prop_assert!(takes_value && !v.is_empty() && !v.starts_with('-'), "{binary} {args:?}");
                        }
                        value_next = takes_value && inline.is_none();
                    } else if arg.len() > 1 && arg.starts_with('-') {
                        prop_assert!(arg[1..].chars().all(|c| c == 'v'), "{binary} {args:?}: {arg}");
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("args[") || msg.contains("arguments"), "{msg}");
                prop_assert!(chars(&msg) <= MAX_ERROR + 100, "{} chars: {msg}", chars(&msg));
            }
        }
    }
}

// ---- Go durations ----

fn go_duration_text() -> impl Strategy<Value = String> {
    prop_oneof![text(), "[-+]?([0-9]{0,6}(\\.[0-9]{0,10})?(ns|us|µs|μs|ms|s|m|h|d|x)?){0,4}", "[0-9]{15,40}h",]
}

proptest! {
    #![proptest_config(config(4))]

    #[test]
    fn go_durations_never_panic_and_reformat_to_the_same_value(s in go_duration_text()) {
        if let Ok(d) = parse_go_duration(&s) {
            let formatted = format_go_duration(d);
            prop_assert_eq!(parse_go_duration(&formatted), Ok(d), "{:?} → {:?} → {}", s, d, formatted);
        }
    }

    #[test]
    fn formatted_durations_parse_back_exactly(secs in 0u64..10_000_000_000, nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000]) {
        let d = Duration::new(secs, nanos);
        let formatted = format_go_duration(d);
        prop_assert_eq!(parse_go_duration(&formatted), Ok(d), "{}", formatted);
    }
}
