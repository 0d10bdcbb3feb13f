//! Stopping a process group, the one way every caller does it: SIGTERM to the group, the grace
//! period for the leader to exit, SIGKILL; then a SIGKILL sweep, since descendants that outlive the
//! leader would keep running (and hold its pipes open). Callers spawn with `process_group(0)`, so
//! the leader's pid is the group id.

use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

/// Send `signal` to the group `pgid`. False when nothing received it (ESRCH, the group is gone, is
/// the normal case after a clean exit).
pub fn signal(pgid: i32, signal: Signal) -> bool {
    killpg(Pid::from_raw(pgid), signal).is_ok()
}

/// SIGKILL the whole group `pgid`. False when the group was already gone.
pub fn kill(pgid: i32) -> bool {
    signal(pgid, Signal::SIGKILL)
}

/// Stop the group led by `child`: SIGTERM, SIGKILL after `grace`, then the sweep. Returns the
/// leader's exit status (a SIGKILL in it means the leader ignored SIGTERM).
pub async fn stop(child: &mut Child, pgid: i32, grace: Duration) -> Option<ExitStatus> {
    signal(pgid, Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            kill(pgid);
            child.wait().await.ok()
        }
    };
    // Whatever the leader did, nothing of its group may outlive it.
    kill(pgid);
    status
}
