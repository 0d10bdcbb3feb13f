//! The state directory under pressure: parallel invocations never lose an update, and a process
//! that hangs after its work (`TELEPORT_SIM_HANG_AFTER`) has written and printed everything.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use common::{TempDir, tsh};

fn create(dir: &TempDir) -> common::Sim {
    tsh(&["request", "new", "--roles", "editor", "--nowait"])
        .env("TELEPORT_SIM_STATE_DIR", &dir.0)
        .env("TELEPORT_SIM_USER", "alice")
}

fn mine(dir: &TempDir) -> Vec<serde_json::Value> {
    tsh(&["request", "ls", "--format=json", "--my-requests"])
        .env("TELEPORT_SIM_STATE_DIR", &dir.0)
        .env("TELEPORT_SIM_USER", "alice")
        .run()
        .array()
}

#[test]
fn twenty_parallel_creates_make_twenty_requests() {
    let dir = TempDir::new();
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let sim = create(&dir);
            std::thread::spawn(move || sim.run())
        })
        .collect();
    let mut printed = HashSet::new();
    for handle in handles {
        let out = handle.join().unwrap();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let line = out.stdout.lines().find(|l| l.starts_with("Request ID:")).unwrap().to_owned();
        printed.insert(line["Request ID:".len()..].trim().to_owned());
    }
    assert_eq!(printed.len(), 20, "every invocation got its own ID");
    let stored: HashSet<String> =
        mine(&dir).iter().map(|r| r["metadata"]["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored, printed, "no update was lost");
}

#[test]
fn hang_after_writes_prints_then_hangs_until_killed() {
    let dir = TempDir::new();
    let mut child = create(&dir).env("TELEPORT_SIM_HANG_AFTER", "1").spawn_piped();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("Request ID:") {
                let _ = tx.send(id.trim().to_owned());
            }
        }
    });
    let id = rx.recv_timeout(Duration::from_secs(10)).expect("the output appears while the process lives");
    std::thread::sleep(Duration::from_millis(200));
    assert!(child.try_wait().unwrap().is_none(), "still hanging after its output");
    let ids: Vec<String> = mine(&dir).iter().map(|r| r["metadata"]["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, [id], "the request exists while the creator hangs (and the lock is free)");
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    assert_eq!(mine(&dir).len(), 1, "killing it loses nothing");

    // Scoped like the other faults: a command line without the FAIL_ON text exits normally.
    let scoped = create(&dir).env("TELEPORT_SIM_HANG_AFTER", "1").env("TELEPORT_SIM_FAIL_ON", "request ls").run();
    assert_eq!(scoped.code, Some(0));
    assert_eq!(mine(&dir).len(), 2);
}
