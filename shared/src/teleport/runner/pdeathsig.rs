//! The one place with `unsafe`: a `pre_exec` hook that makes a long-running child die with the
//! worker (`PR_SET_PDEATHSIG`), even when the worker is killed with SIGKILL and cannot clean up.
#![allow(unsafe_code)]

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getppid};
use tokio::process::Command;

/// Arrange for the child of `command` to get SIGKILL when its parent goes away.
///
/// The kernel sends the signal when the *thread* that forked the child exits, not the process.
/// Spawn from async context (a tokio worker thread lives as long as the runtime), never from
/// `spawn_blocking`, whose threads exit after a few idle seconds and would kill the child with them.
pub(super) fn die_with_parent(command: &mut Command) {
    let parent = Pid::this();
    // SAFETY: the hook runs in the child between fork and exec, where only async-signal-safe
    // functions may be called. It calls `prctl(2)` and `getppid(2)` (both async-signal-safe raw
    // system calls), reads errno on failure, and builds an `io::Error` from a raw OS code, which
    // does not allocate. It takes no lock and touches no state shared with the parent.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The parent may have died between fork and prctl: then nobody would send the signal.
            // The child has been re-parented by then, so the parent pid tells; refuse to exec.
            if getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
}
