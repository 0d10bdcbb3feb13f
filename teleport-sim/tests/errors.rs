//! Errors look like Teleport's (red `ERROR:` on stderr, empty line, exit 1), credentials are
//! checked like the real binaries, and `argv[0]` picks the tool.

mod common;

use common::{BIN, Sim, TempDir, tctl, tsh};

#[test]
fn unknown_kinds_flags_commands_and_formats() {
    assert_eq!(
        tctl(&["get", "foo"]).run().error(),
        "unsupported resource: \"foo\" - resources should be expressed as 'type/name', for example 'connector/github'"
    );
    let flag = tctl(&["get", "nodes", "--foo"]).run();
    assert_eq!(flag.error(), "unknown long flag '--foo'");
    assert!(flag.stderr.starts_with("usage: tctl "), "kingpin prints usage first");
    assert_eq!(tctl(&["x"]).run().error(), "expected command but got \"x\"");
    assert_eq!(tsh(&["bogus"]).run().error(), "expected command but got \"bogus\"");
    assert_eq!(
        tctl(&["get", "nodes", "--format=xml"]).run().error(),
        "enum value must be one of text,json,yaml, got 'xml'"
    );
    assert_eq!(
        tctl(&["nodes", "ls", "--format=xml"]).run().error(),
        "Invalid format xml, only text, json and yaml are supported"
    );
    assert_eq!(tctl(&["get"]).run().error(), "required argument 'resources' not provided");
}

#[test]
fn credentials_are_required_unless_allowed() {
    assert_eq!(
        tctl(&["get", "nodes"]).strict().run().error(),
        "tctl must be used on an Auth Service host or provided with credentials by logging in with tsh first."
    );
    let dir = TempDir::new();
    let identity = dir.file("identity", "not checked");
    let id = identity.to_str().unwrap();
    assert_eq!(tctl(&["-i", id, "get", "nodes"]).strict().run().error(), "tctl --identity also requires --auth-server");
    assert_eq!(tsh(&["-i", id, "--user", "bot", "version"]).strict().run().code, Some(0), "version is local");
    let missing = dir.0.join("missing");
    let missing = missing.to_str().unwrap();
    assert_eq!(
        tctl(&["get", "nodes", "--auth-server=a:443", "-i", missing]).strict().run().error(),
        format!("open {missing}: no such file or directory")
    );
    let ok = tctl(&["get", "nodes", "--format=json", "--auth-server", "a:443", "--identity", id]).strict().run();
    assert!(!ok.array().is_empty());
    let by_env = tctl(&["get", "users", "--format=json"])
        .strict()
        .env("TELEPORT_AUTH_SERVER", "a:443")
        .env("TELEPORT_IDENTITY_FILE", &identity)
        .run();
    assert!(!by_env.array().is_empty());
}

#[test]
fn a_symlink_named_tctl_acts_as_tctl() {
    let dir = TempDir::new();
    let link = dir.0.join("tctl");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let via_link = Sim::program(&link, &["get", "nodes", "--format=json"]).run();
    assert!(!via_link.array().is_empty());
    assert_eq!(via_link.stdout, tctl(&["get", "nodes", "--format=json"]).run().stdout);
    let tsh_link = dir.0.join("tsh");
    std::os::unix::fs::symlink(BIN, &tsh_link).unwrap();
    let err = Sim::program(&tsh_link, &["get", "nodes"]).run().error();
    assert_eq!(err, "expected command but got \"get\"", "tsh has no `get`");
}

#[test]
fn the_wrapper_rejects_unknown_tools() {
    assert_eq!(Sim::new(&["kubectl"]).run().error(), "expected command but got \"kubectl\"");
}
