//! Parser leniency (Go JSON quirks) and error classification, as docs/teleport-output.md describes them.

use std::time::Duration;

use mtcp_shared::teleport::models::{MfaRequirement, RequestState};
use mtcp_shared::teleport::parse::{
    ParseError, parse_access_requests, parse_auth_preference, parse_nodes, parse_roles, parse_tokens, parse_users,
};
use mtcp_shared::teleport::runner::RunOutput;
use mtcp_shared::teleport::{ArgError, TeleportError, classify, safe_positional};

#[test]
fn empty_outputs_are_empty_lists() {
    for text in ["", "\n", "[]", "null", "  null\n", "[]\n"] {
        assert!(parse_nodes(text).unwrap().is_empty(), "{text:?}");
        assert!(parse_access_requests(text).unwrap().is_empty(), "{text:?}");
    }
}

#[test]
fn go_json_quirks() {
    let text = r#"[{"kind":"role","version":"v8","metadata":{"name":"r","expires":"2025-06-01T10:21:12.123456789Z","unknown":{"x":1}},
      "spec":{"options":{"max_session_ttl":"1h2m3.5s","require_session_mfa":"hardware_key","forward_agent":true,
                         "client_idle_timeout":900000000000},
              "allow":{"logins":null,"node_labels":{"env":["prod","staging"],"team":"web"},"rules":null,
                       "impersonate":{"users":["*"],"roles":["admin"]},"request":{"roles":["admin"],"max_duration":"168h0m0s"},
                       "future_field":[1,2,3]},
              "deny":{}}}, null]"#;
    let roles = parse_roles(text).unwrap();
    assert_eq!(roles.len(), 1, "null elements are skipped");
    let role = &roles[0];
    assert_eq!(role.metadata.expires.unwrap().timestamp_subsec_nanos(), 123_456_789);
    assert_eq!(role.spec.options.max_session_ttl, Some(Duration::from_millis(3_723_500)));
    assert_eq!(role.spec.options.client_idle_timeout, Some(Duration::from_secs(900)));
    assert_eq!(role.spec.options.require_session_mfa, MfaRequirement::HardwareKey);
    let allow = &role.spec.allow;
    assert!(allow.logins.is_empty() && allow.rules.is_empty());
    assert_eq!(allow.node_labels["env"], ["prod", "staging"]);
    assert_eq!(allow.node_labels["team"], ["web"]);
    assert_eq!(allow.impersonate.as_ref().unwrap().roles, ["admin"]);
    assert_eq!(allow.request.as_ref().unwrap().max_duration, Some(Duration::from_secs(168 * 3600)));
}

#[test]
fn zero_times_and_numeric_enums() {
    let users = parse_users(
        r#"[{"kind":"user","metadata":{"name":"bob"},"spec":{"roles":null,"traits":{"logins":null,"x":"single"},
            "status":{"is_locked":true,"locked_time":"0001-01-01T00:00:00Z","lock_expires":"0001-01-01T00:00:00Z"},
            "expires":"0001-01-01T00:00:00Z","created_by":{"connector":{"type":"github","id":"gh"}}},
            "status":{"password_state":1}}]"#,
    )
    .unwrap();
    let bob = &users[0];
    assert!(bob.spec.roles.is_empty());
    assert_eq!(bob.spec.expires, None);
    assert_eq!(bob.spec.status.lock_expires, None);
    assert!(bob.spec.traits["logins"].is_empty());
    assert_eq!(bob.spec.traits["x"], ["single"]);
    assert_eq!(bob.sso_kind(), Some("github"));
    assert_eq!(bob.status.password_state, "1");

    let requests = parse_access_requests(
        r#"[{"kind":"access_request","metadata":{"name":"id1"},"spec":{"user":"alice","state":3,"created":"0001-01-01T00:00:00Z"}},
            {"kind":"access_request","metadata":{"name":"id2"},"spec":{"state":"APPROVED"}}]"#,
    )
    .unwrap();
    assert_eq!(requests[0].spec.state, RequestState::Denied);
    assert_eq!(requests[0].spec.created, None);
    assert_eq!(requests[1].spec.state, RequestState::Approved);
}

#[test]
fn require_session_mfa_spellings() {
    for (raw, want) in [
        ("false", MfaRequirement::Off),
        ("true", MfaRequirement::Session),
        (r#""hardware_key_touch_and_pin""#, MfaRequirement::HardwareKeyTouchAndPin),
        ("3", MfaRequirement::HardwareKeyTouch),
        ("null", MfaRequirement::Off),
    ] {
        let text = format!(r#"[{{"spec":{{"type":"local","require_session_mfa":{raw}}}}}]"#);
        assert_eq!(parse_auth_preference(&text).unwrap().spec.require_session_mfa, want, "{raw}");
    }
}

#[test]
fn single_object_and_concatenated_objects() {
    let one = r#"{"kind":"token","metadata":{"name":"a"},"spec":{"roles":["Node"],"join_method":"iam"}}"#;
    assert_eq!(parse_tokens(one).unwrap().len(), 1);
    assert_eq!(parse_tokens(&format!("{one}\n{one}\n")).unwrap().len(), 2);
}

#[test]
fn yaml_documents_and_lists() {
    let text = "---\n# comment only\n---\nkind: node\nmetadata:\n  name: n1\nspec:\n  hostname: h1\n---\n- kind: node\n  metadata: {name: n2}\n";
    let nodes = parse_nodes(text).unwrap();
    assert_eq!(nodes.iter().map(|n| n.metadata.name.as_str()).collect::<Vec<_>>(), ["n1", "n2"]);
}

#[test]
fn errors_name_the_command_and_position_and_never_panic() {
    let err = parse_nodes("[\n  {\n    \"spec\": 5,\n    \"kind\": \"node\"}]").unwrap_err();
    assert!(matches!(err, ParseError::Malformed { .. }));
    assert_eq!(err.command(), "tctl get nodes --format=json");
    let text = err.to_string();
    assert!(
        text.starts_with(r#"could not parse the output of "tctl get nodes --format=json"; the parser said:"#),
        "{text}"
    );
    assert!(text.contains("line 3"), "{text}");

    let bad_time = r#"[{"metadata":{"name":"x","expires":"yesterday"}}]"#;
    assert!(parse_nodes(bad_time).unwrap_err().to_string().contains("invalid timestamp"));
    let bad_duration = r#"[{"spec":{"options":{"max_session_ttl":"forever"}}}]"#;
    assert!(parse_roles(bad_duration).unwrap_err().to_string().contains("invalid duration"));
    for garbage in ["ERROR: nope", "{{{{", "[1,2", "\u{0}\u{1}", "Cluster: x\nVersion: 1\n-- --\n"] {
        let _ = parse_nodes(garbage);
        let _ = parse_roles(garbage);
        let _ = parse_auth_preference(garbage);
    }
}

fn failed(exit_code: Option<i32>, stderr: &str) -> RunOutput {
    RunOutput {
        argv: vec!["tctl".into()],
        exit_code,
        stdout: String::new(),
        stderr: stderr.into(),
        stdout_truncated: false,
        stderr_truncated: false,
        duration: Duration::ZERO,
    }
}

#[test]
fn classification() {
    assert_eq!(classify(&failed(Some(0), "ERROR: ignored")), None);

    let usage = "usage: tctl get <resources>\n\nFlags:\n  --format  Output format\n\n\x1b[31mERROR: \x1b[0mrequired argument 'resources' not provided\n\n";
    assert_eq!(
        classify(&failed(Some(1), usage)),
        Some(TeleportError::Failed {
            message: "required argument 'resources' not provided".into(),
            exit_code: Some(1)
        })
    );

    let nf = classify(&failed(Some(1), "\x1b[31mERROR: \x1b[0mnode with ID \"web-9\" not found\n\n")).unwrap();
    assert_eq!(nf, TeleportError::NotFound { message: "node with ID \"web-9\" not found".into() });

    let multi = "ERROR: failed to connect\n\tdial tcp 10.0.0.5:3025: connection refused\n\n";
    let e = classify(&failed(Some(1), multi)).unwrap();
    assert_eq!(e.message(), "failed to connect\n\tdial tcp 10.0.0.5:3025: connection refused");

    let fallback = "2025-06-01T10:00:00Z INFO starting\nsomething\nbroke badly\n\n";
    let e = classify(&failed(Some(2), fallback)).unwrap();
    assert_eq!(e.message(), "2025-06-01T10:00:00Z INFO starting\nsomething\nbroke badly");
    assert!(e.to_string().starts_with("Teleport command failed (exit code 2); its message:\n<untrusted-data"));

    let killed = classify(&failed(None, "")).unwrap();
    assert_eq!(killed.message(), "terminated by a signal without an error message");

    let secret = classify(&failed(Some(1), "ERROR: token auth_token=8f7e6d5c4b3a2918 is invalid\n")).unwrap();
    assert!(!secret.message().contains("8f7e6d5c4b3a2918"), "{secret}");
}

#[test]
fn positional_arguments() {
    assert_eq!(safe_positional("node name", "web-01.example.com"), Ok("web-01.example.com"));
    assert_eq!(safe_positional("request id", "c418967c-2127-4f75-a6be-29b7983ceb3b").unwrap().len(), 36);
    assert!(matches!(safe_positional("x", ""), Err(ArgError::Empty { .. })));
    assert!(matches!(safe_positional("x", "--insecure"), Err(ArgError::LeadingDash { .. })));
    assert!(matches!(safe_positional("x", "a\u{7}b"), Err(ArgError::ControlCharacter { .. })));
    assert!(matches!(safe_positional("x", "a b"), Err(ArgError::Whitespace { .. })));
    assert!(matches!(safe_positional("x", "a\tb"), Err(ArgError::ControlCharacter { .. })));
    assert!(matches!(safe_positional("x", &"a".repeat(254)), Err(ArgError::TooLong { len: 254, .. })));
    assert!(safe_positional("x", &"a".repeat(253)).is_ok());
    let msg = safe_positional("request id", "--proxy=evil").unwrap_err().to_string();
    assert_eq!(msg, "the request id must not start with '-'");
}
