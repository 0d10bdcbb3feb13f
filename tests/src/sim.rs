//! Running the simulator directly, beside the stack: as Teleport's admin side (`tctl requests …`
//! on a shared state directory) and as the audit-event generator; and the Teleport fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `teleport-sim <args>` on the state directory `state_dir` (no identity needed); its stdout,
/// trimmed. Panics with its stderr when it fails.
pub fn run(state_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(mtcp_cli::dev::simulator_binary().unwrap())
        .args(args)
        .env("TELEPORT_SIM_STATE_DIR", state_dir)
        .env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `teleport-sim audit-events` for the last 24 hours with `scenarios`, seeded.
pub fn audit_events(seed: u64, scenarios: &[&str]) -> String {
    let mut cmd = Command::new(mtcp_cli::dev::simulator_binary().unwrap());
    cmd.args(["audit-events", "--hours", "24", "--seed", &seed.to_string()]);
    for s in scenarios {
        cmd.args(["--scenario", s]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The audit scenarios `teleport-sim audit-events` can seed (`--list-scenarios`), in its order.
pub fn audit_scenarios() -> Vec<String> {
    let out = Command::new(mtcp_cli::dev::simulator_binary().unwrap())
        .args(["audit-events", "--list-scenarios"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// A Teleport fixture of this workspace (`relative` under the mtcp-shared crate's
/// `tests/fixtures/teleport`), read as text.
pub fn teleport_fixture(relative: &str) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace");
    let path: PathBuf = workspace.join("shared/tests/fixtures/teleport").join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
