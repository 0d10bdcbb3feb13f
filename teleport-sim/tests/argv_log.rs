//! `TELEPORT_SIM_ARGV_LOG`: every invocation appends one JSON line with the arguments the tool
//! received, whole lines even under concurrency, and a broken log never changes the output.

mod common;

use std::path::Path;

use common::{BIN, Sim, TempDir, tctl, tsh};
use serde_json::{Value, json};

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("the log exists");
    assert!(text.ends_with('\n'), "every line is complete: {text:?}");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
}

#[test]
fn each_invocation_appends_its_tool_and_argv() {
    let dir = TempDir::new();
    let log = dir.0.join("argv.jsonl");
    let ok = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_ARGV_LOG", &log).run();
    assert!(!ok.array().is_empty());
    let failed = tsh(&["ls", "--proxy=evil:443", "a\nb \"c\""]).env("TELEPORT_SIM_ARGV_LOG", &log).run();
    assert_eq!(failed.code, Some(1), "logged even when the command fails");
    let link = dir.0.join("tctl");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    Sim::program(&link, &["-i", "/id", "status"]).env("TELEPORT_SIM_ARGV_LOG", &log).run();

    assert_eq!(
        lines(&log),
        [
            json!({"tool": "tctl", "argv": ["get", "nodes", "--format=json"]}),
            json!({"tool": "tsh", "argv": ["ls", "--proxy=evil:443", "a\nb \"c\""]}),
            json!({"tool": "tctl", "argv": ["-i", "/id", "status"]}),
        ]
    );
    let raw = std::fs::read_to_string(&log).unwrap();
    assert!(raw.starts_with(r#"{"tool":"tctl","argv":["#), "{raw}");
}

#[test]
fn concurrent_invocations_write_whole_lines() {
    let dir = TempDir::new();
    let log = dir.0.join("argv.jsonl");
    let children: Vec<_> = (0..24)
        .map(|n| {
            let marker = format!("{n}-{}", "x".repeat(3000));
            tctl(&["get", "nodes", &marker]).env("TELEPORT_SIM_ARGV_LOG", &log).spawn()
        })
        .collect();
    for mut child in children {
        child.wait().unwrap();
    }
    let mut seen: Vec<usize> = lines(&log)
        .iter()
        .map(|l| {
            assert_eq!(l["tool"], "tctl");
            let marker = l["argv"][2].as_str().unwrap();
            assert_eq!(marker.len() - marker.find('-').unwrap() - 1, 3000, "argument intact");
            marker.split('-').next().unwrap().parse().unwrap()
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..24).collect::<Vec<_>>());
}

#[test]
fn an_unwritable_log_changes_nothing() {
    let dir = TempDir::new();
    let expected = tctl(&["get", "roles", "--format=json"]).run();
    let broken = dir.0.join("missing-dir").join("argv.jsonl");
    for path in [broken.as_path(), dir.0.as_path()] {
        let out = tctl(&["get", "roles", "--format=json"]).env("TELEPORT_SIM_ARGV_LOG", path).run();
        assert_eq!((out.code, &out.stdout, &out.stderr), (expected.code, &expected.stdout, &expected.stderr));
    }
    assert!(!broken.exists());
}
