//! Tests for the kingpin-style parser.

use super::*;
use crate::cli::{Arg, Command};

const LS: Command = Command::new("ls", "List").flags(&[Flag::value("format")]);
const APP: App = App {
    name: "tctl",
    flags: &[Flag::value("auth-server"), Flag::value("identity").short('i'), Flag::bool("insecure")],
    commands: &[
        Command::new("get", "Get")
            .flags(&[Flag::one_of("format", &["text", "json", "yaml"])])
            .args(&[Arg::required("resources")]),
        Command::new("nodes", "Nodes").subcommands(&[LS]),
    ],
};

fn run(line: &str) -> Result<ParseOutcome, SimError> {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    parse(&APP, &args)
}

fn parsed(line: &str) -> Parsed {
    match run(line) {
        Ok(ParseOutcome::Run(p)) => p,
        other => panic!("{line}: {other:?}"),
    }
}

fn message(line: &str) -> String {
    run(line).unwrap_err().to_string()
}

#[test]
fn flags_may_appear_anywhere_in_both_forms() {
    let p = parsed("--insecure get -i /id nodes --format json --auth-server=a:443");
    assert_eq!(p.command, "get");
    assert_eq!(p.args, vec!["nodes"]);
    assert_eq!(p.flag("format"), Some("json"));
    assert_eq!(p.flag("identity"), Some("/id"));
    assert_eq!(p.flag("auth-server"), Some("a:443"));
    assert!(p.switch("insecure"));
    assert_eq!(parsed("get nodes -i/x").flag("identity"), Some("/x"));
    assert!(!parsed("get nodes --insecure --no-insecure").switch("insecure"));
}

#[test]
fn kingpin_error_messages() {
    assert_eq!(message("get nodes --foo"), "unknown long flag '--foo'");
    assert_eq!(message("get nodes -x"), "unknown short flag '-x'");
    assert_eq!(message("x"), "expected command but got \"x\"");
    assert_eq!(message("nodes"), "must select a subcommand of 'nodes'");
    assert_eq!(message(""), "command not specified");
    assert_eq!(message("get"), "required argument 'resources' not provided");
    assert_eq!(message("get nodes roles"), "unexpected roles");
    assert_eq!(message("get nodes --format"), "expected argument for flag '--format'");
    assert_eq!(message("get nodes --format=xml"), "enum value must be one of text,json,yaml, got 'xml'");
}

#[test]
fn command_flags_are_unknown_before_their_command() {
    assert_eq!(message("--format=json get nodes"), "unknown long flag '--format'");
}

#[test]
fn usage_errors_print_usage_before_the_error_block() {
    let rendered = run("bogus").unwrap_err().render();
    assert!(rendered.starts_with("usage: tctl [<flags>] <command> [<args> ...]\n"));
    assert!(rendered.ends_with("\x1b[31mERROR: \x1b[0mexpected command but got \"bogus\"\n\n"));
}

#[test]
fn double_dash_ends_flags_and_help_is_recognised() {
    assert_eq!(parsed("get -- --weird").args, vec!["--weird"]);
    assert!(matches!(run("nodes --help"), Ok(ParseOutcome::Help(text)) if text.contains("nodes ls")));
}
