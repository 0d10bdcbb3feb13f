//! The passthrough check: safe commands pass, an injection corpus is refused with the reason an
//! LLM needs, and the tables stay consistent with the messages that describe them.

use super::rules::{self, ALLOWED, DENIED_COMMANDS, KINDS};
use super::{MAX_ARG_LEN, MAX_ARGS, PassthroughError, check, validate_args};
use crate::teleport::record::Scrub;
use crate::teleport::runner::Binary::{self, Tctl, Tsh};

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

fn denied(binary: Binary, args: &[&str]) -> (usize, String, &'static str) {
    match validate_args(binary, &argv(args)) {
        Err(PassthroughError::Denied { index, arg, why }) => (index, arg, why),
        other => panic!("{binary} {args:?}: expected a denial, got {other:?}"),
    }
}

#[track_caller]
fn refused_because(binary: Binary, args: &[&str], index: usize, why: &str) {
    let (at, _, reason) = denied(binary, args);
    assert_eq!((at, reason), (index, why), "{binary} {args:?}");
}

#[test]
fn safe_read_only_commands_pass() {
    for args in [
        &["get", "nodes", "--format=json"][..],
        &["get", "nodes", "--format", "json"],
        &["get", "role/access", "--format=yaml"],
        &["get", "cert_authority/host/example.com"],
        &["get", "user/alice@example.com", "--format=json"],
        &["status"],
        &["nodes", "ls", "env=prod,teleport.dev/origin=config", "--verbose"],
        &["nodes", "ls", "--query", r#"labels["env"] == "prod" && name != "x""#],
        &["tokens", "ls", "--format=json"],
        &["requests", "get", "0193a5c2-7b7e-7d2e-9f3c-3e6b0f6a1d2c"],
        &["alerts", "ls", "-v"],
        &["version"],
        &["get", "nodes", "--help"],
    ] {
        assert_eq!(validate_args(Tctl, &argv(args)), Ok(()), "tctl {args:?}");
    }
    for args in [
        &["ls", "--format=json"][..],
        &["ls", "env=prod", "-v", "--search=web,db"],
        &["status"],
        &["request", "ls", "--format=json", "--reviewable"],
        &["request", "show", "0193a5c2-7b7e-7d2e-9f3c-3e6b0f6a1d2c", "--format=json"],
        &["apps", "ls"],
        &["db", "ls", "--format", "json"],
        &["kube", "ls"],
        &["mcp", "ls", "--format=json"],
        &["version"],
    ] {
        assert_eq!(validate_args(Tsh, &argv(args)), Ok(()), "tsh {args:?}");
    }
}

#[test]
fn identity_proxy_and_cluster_overrides_are_refused_anywhere() {
    let identity = "overrides the control plane's identity; the worker always uses its configured identity file";
    refused_because(Tctl, &["get", "nodes", "-i", "/tmp/evil"], 2, identity);
    refused_because(Tctl, &["get", "nodes", "-ievil"], 2, identity);
    refused_because(Tsh, &["ls", "--identity=/tmp/x"], 1, identity);
    refused_because(Tsh, &["-vi", "x", "ls"], 0, identity);
    let proxy = "overrides the proxy/auth server the control plane is configured to talk to";
    refused_because(Tsh, &["ls", "--proxy=evil:443"], 1, proxy);
    refused_because(Tsh, &["--proxy", "evil:443", "ls"], 0, proxy);
    refused_because(Tctl, &["status", "--auth-server=evil:3025"], 1, proxy);
    let (_, _, why) = denied(Tsh, &["ls", "--user", "root"]);
    assert!(why.contains("overrides the Teleport user"), "{why}");
    assert!(denied(Tsh, &["ls", "--auth=github"]).2.contains("login connector"));
    assert!(denied(Tsh, &["ls", "-c", "leaf"]).2.contains("another (leaf) cluster"));
    assert!(denied(Tsh, &["ls", "--cluster=leaf"]).2.contains("another (leaf) cluster"));
    assert!(denied(Tctl, &["get", "nodes", "-c", "/etc/teleport.yaml"]).2.contains("another config file"));
    assert!(denied(Tctl, &["get", "nodes", "--config=/x"]).2.contains("another config file"));
    assert!(denied(Tsh, &["ls", "-l", "root"]).2.contains("SSH login"));
    assert!(denied(Tsh, &["ls", "--login=root"]).2.contains("SSH login"));
    assert!(denied(Tsh, &["ls", "--relay=r:443"]).2.contains("relay"));
    assert!(denied(Tsh, &["ls", "--headless"]).2.contains("headless"));
    assert!(denied(Tsh, &["ls", "--mfa-mode=otp"]).2.contains("MFA"));
}

#[test]
fn tls_debug_agent_and_file_writers_are_refused() {
    assert!(denied(Tsh, &["ls", "--insecure"]).2.contains("disables TLS"));
    assert!(denied(Tctl, &["get", "nodes", "--insecure=true"]).2.contains("disables TLS"));
    assert!(denied(Tsh, &["ls", "-dk"]).2.contains("debug output"));
    assert!(denied(Tsh, &["ls", "-vk", "yes"]).2.contains("SSH agent"));
    assert!(denied(Tsh, &["ls", "--add-keys-to-agent=yes"]).2.contains("SSH agent"));
    assert!(denied(Tctl, &["status", "--debug"]).2.contains("debug output"));
    for args in [&["ls", "--out=/etc/x"][..], &["ls", "-o", "x"], &["ls", "--output", "/tmp/x"]] {
        assert!(denied(Tsh, args).2.contains("writes a file on the worker"), "{args:?}");
    }
    assert!(denied(Tsh, &["kube", "ls", "--kubeconfig=/tmp/k"]).2.contains("kubeconfig"));
    assert!(denied(Tctl, &["get", "cas", "--with-secrets"]).2.contains("private keys"));
}

#[test]
fn login_sessions_proxies_and_writes_are_refused_with_their_reason() {
    for args in
        [&["login"][..], &["logout"], &["apps", "login", "grafana"], &["db", "login", "pg"], &["kube", "login", "k"]]
    {
        assert_eq!(denied(Tsh, args).2, rules::LOGIN, "{args:?}");
    }
    assert_eq!(denied(Tsh, &["mcp", "login", "x"]).2, rules::LOGIN);
    assert!(denied(Tsh, &["ssh", "root@web-01", "id"]).2.contains("runs commands on nodes"));
    assert!(denied(Tsh, &["scp", "a", "b"]).2.contains("copies files"));
    for args in [&["proxy", "db", "pg"][..], &["vnet"], &["mcp", "connect", "x"]] {
        assert!(denied(Tsh, args).2.contains("start_proxy"), "{args:?}");
    }
    for args in [&["db", "connect", "pg"][..], &["kube", "exec", "pod"], &["play", "sid"], &["join", "sid"]] {
        assert!(denied(Tsh, args).2.contains("interactive session"), "{args:?}");
    }
    assert!(denied(Tsh, &["mcp", "config"]).2.contains("MCP client configuration"));
    assert_eq!(denied(Tsh, &["request", "review", "id"]).0, 1);
    assert!(denied(Tctl, &["auth", "sign", "--ttl=1h"]).2.contains("issues credentials"));
    assert!(denied(Tctl, &["create", "x.yaml"]).2.contains("reads resource files"));
    assert!(denied(Tctl, &["edit", "role/x"]).2.contains("editor"));
    assert!(denied(Tctl, &["bots", "add", "b", "--roles=x"]).2.contains("join token"));
    assert!(denied(Tctl, &["tokens", "add", "--type=node"]).2.contains("join token"));
}

#[test]
fn shell_env_and_argument_file_tricks_are_refused() {
    for arg in ["$(id)", "`id`", "${HOME}", ";rm -rf /", "nodes;id", "|cat", "&", ">/etc/x"] {
        assert_eq!(denied(Tctl, &["get", arg]), (1, arg.to_owned(), rules::SHELL), "{arg}");
    }
    assert_eq!(denied(Tsh, &["TELEPORT_HOME=/tmp", "ls"]).2, rules::ENV);
    assert_eq!(denied(Tsh, &["ls", "PATH=/tmp"]).2, rules::ENV);
    assert_eq!(denied(Tsh, &["ls", "@/etc/passwd"]).2, rules::AT_FILE);
    assert_eq!(denied(Tsh, &["ls", "--query", "@/etc/x"]).2, rules::AT_FILE);
    assert_eq!(denied(Tsh, &["ls", "--", "--proxy=x"]), (1, "--".to_owned(), rules::DASH_DASH));
}

#[test]
fn limits_and_invisible_characters() {
    assert_eq!(validate_args(Tsh, &[]), Err(PassthroughError::Empty));
    let many = vec!["-v".to_owned(); MAX_ARGS];
    assert_eq!(validate_args(Tsh, &[vec!["ls".to_owned()], many].concat()), Err(PassthroughError::TooMany { max: 64 }));
    let long = "a".repeat(MAX_ARG_LEN + 1);
    assert_eq!(validate_args(Tsh, &argv(&["ls", &long])), Err(PassthroughError::TooLong { index: 1, max: 1024 }));
    for bad in ["nodes\n--proxy=x", "\0", "a\tb", "\u{202e}sedon", "no\u{200b}des", "\u{feff}get", "\u{7f}", "\u{85}"] {
        let err = validate_args(Tctl, &argv(&["get", bad])).unwrap_err();
        assert_eq!(err, PassthroughError::ControlCharacter { index: 1 }, "{bad:?}");
    }
}

#[test]
fn unknown_commands_flags_and_shapes_are_refused_by_default() {
    assert_eq!(denied(Tctl, &["get", "all"]).2, rules::KIND);
    assert_eq!(denied(Tctl, &["get", "nodes", "roles"]).2, rules::ONE_POSITIONAL);
    assert_eq!(denied(Tctl, &["get", "role/-x"]).2, rules::RESOURCE_NAME);
    assert_eq!(denied(Tctl, &["get", "nodes", "--format=xml"]).2, rules::FORMAT_VALUE);
    assert_eq!(denied(Tctl, &["get", "nodes", "--format"]).2, rules::MISSING_VALUE);
    assert_eq!(denied(Tctl, &["get", "nodes", "-f", "json"]), (2, "-f".to_owned(), rules::UNKNOWN_FLAG));
    assert_eq!(denied(Tctl, &["get", "nodes", "--help=yes"]).2, rules::NO_VALUE);
    assert_eq!(denied(Tsh, &["ls", "--query", "--verbose"]), (2, "--verbose".to_owned(), rules::VALUE_SHAPE));
    assert_eq!(denied(Tsh, &["ls", "--skip-version-check"]).2, rules::UNKNOWN_FLAG);
    assert_eq!(denied(Tsh, &["ls", "web-01"]).2, rules::LABELS);
    assert_eq!(denied(Tsh, &["ls", "-"]).2, rules::LABELS);
    assert_eq!(denied(Tsh, &["status", "x"]).2, rules::NO_POSITIONALS);
    assert_eq!(denied(Tsh, &["request", "show", "-x"]).2, rules::UNKNOWN_FLAG);
    assert_eq!(denied(Tsh, &["request", "show", "a/b"]).2, rules::REQUEST_ID);
    assert_eq!(denied(Tsh, &["--format=json", "ls"]), (0, "--format=json".to_owned(), rules::FLAG_FIRST));
    assert_eq!(denied(Tsh, &["get", "nodes"]), (0, "get".to_owned(), rules::TSH_COMMANDS));
    assert_eq!(denied(Tctl, &["ls"]).2, rules::TCTL_COMMANDS);
    assert_eq!(denied(Tctl, &["tokens", "rm", "x"]), (1, "rm".to_owned(), rules::TCTL_COMMANDS));
}

#[test]
fn refused_arguments_are_echoed_redacted_and_cut() {
    let (_, arg, _) = denied(Tsh, &["ls", "--token=abcdefghijklmnop"]);
    assert!(!arg.contains("abcdefghijklmnop"), "{arg}");
    let (_, arg, _) = denied(Tsh, &["ls", &format!("--x{}", "y".repeat(500))]);
    assert_eq!(arg.chars().count(), 81);
    assert!(arg.ends_with('…'));
    let shown = validate_args(Tsh, &argv(&["ls", "--insecure"])).unwrap_err().to_string();
    assert_eq!(shown, "args[1] (\"--insecure\") is refused: disables TLS certificate verification of the cluster");
    // Found by the property tests: escapes counted against the echo, not only characters.
    let shown = validate_args(Tsh, &argv(&["ls", &"\u{e0001}".repeat(80)])).unwrap_err().to_string();
    let echo = shown.split_once(" (").unwrap().1.split_once(") is refused").unwrap().0;
    assert!(echo.chars().count() <= 84 && echo.ends_with("…\""), "{shown}");
}

#[test]
fn output_scrubbing_follows_what_the_command_prints() {
    let scrub = |args: &[&str]| check::check(Tctl, &argv(args)).unwrap().scrub;
    assert_eq!(scrub(&["tokens", "ls"]), Scrub::Tokens);
    assert_eq!(scrub(&["get", "token/abc"]), Scrub::Tokens);
    assert_eq!(scrub(&["get", "cas", "--format=json"]), Scrub::CertAuthorities);
    assert_eq!(scrub(&["get", "nodes"]), Scrub::Plain);
}

#[test]
fn tables_agree_with_their_messages() {
    for allowed in ALLOWED {
        let list = if allowed.binary == Tctl { rules::TCTL_COMMANDS } else { rules::TSH_COMMANDS };
        assert!(list.contains(&allowed.words.join(" ")), "{:?} missing from the message", allowed.words);
        for flag in allowed.flags {
            assert!(flag.short.is_none() || flag.value.is_none(), "short flags must be booleans: {}", flag.long);
            assert!(rules::UNKNOWN_FLAG.contains(&format!("--{}", flag.long)), "--{} not in the message", flag.long);
            assert!(rules::DENIED_FLAGS.iter().all(|d| d.1 != flag.long), "--{} both allowed and denied", flag.long);
        }
    }
    for (binary, words, _) in DENIED_COMMANDS {
        assert!(ALLOWED.iter().all(|a| a.binary != *binary || a.words != *words), "{words:?} both ways");
    }
    let listed = rules::KIND.split_once("allowed: ").unwrap().1.split_once(';').unwrap().0;
    let listed: Vec<&str> = listed.split(", ").collect();
    assert_eq!(KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>(), listed);
}

/// `--format` as each command declares it (Teleport 17.x/18.x): none on `tctl status`/`version`,
/// text/json on `requests ls|get` and `inventory ls`, text/json/yaml on `tokens ls`.
#[test]
fn format_values_per_command() {
    for ok in [
        &["tokens", "ls", "--format=yaml"][..],
        &["tokens", "ls", "--format", "text"],
        &["requests", "ls", "--format=json"],
        &["requests", "get", "abc-1", "--format=text"],
        &["inventory", "ls", "--format=json"],
    ] {
        assert_eq!(validate_args(Tctl, &argv(ok)), Ok(()), "tctl {ok:?}");
    }
    refused_because(Tctl, &["status", "--format=json"], 1, rules::NO_FORMAT_FLAG);
    refused_because(Tctl, &["version", "--format", "json"], 1, rules::NO_FORMAT_FLAG);
    refused_because(Tctl, &["requests", "ls", "--format=yaml"], 2, rules::FORMAT_TEXT_JSON);
    refused_because(Tctl, &["requests", "get", "abc-1", "--format", "yaml"], 4, rules::FORMAT_TEXT_JSON);
    refused_because(Tctl, &["inventory", "ls", "--format=yaml"], 2, rules::FORMAT_TEXT_JSON);
    refused_because(Tctl, &["tokens", "ls", "--format=names"], 2, rules::FORMAT_TEXT_JSON_YAML);
    assert!(rules::NO_FORMAT_FLAG.contains("17.x and 18.x"));
    // Other listings keep their formats.
    assert_eq!(validate_args(Tsh, &argv(&["ls", "--format=names"])), Ok(()));
}
