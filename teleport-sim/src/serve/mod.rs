//! The life of a long-running command (`tool/tsh/common/proxy.go`; docs/teleport-output.md): print the startup text, then serve until
//! a signal (SIGTERM/SIGINT → exit 0), the end of stdin (`proxy ssh`), or the
//! `TELEPORT_SIM_PROXY_EXIT_AFTER_MS` knob (exit 3). SIGKILL always works.
//!
//! Signals are blocked on every thread before anything is printed (so a signal sent as soon as the
//! startup line is read cannot take the default action) and taken with `sigwait` by one thread.

mod echo;

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use chrono::Utc;
use nix::sys::signal::{SigSet, Signal};

use crate::timefmt::go_time;

/// What a long-running command does once its startup text is out.
#[derive(Debug)]
pub struct Serve {
    pub mode: Mode,
    /// Exit 3 by itself after this long (`TELEPORT_SIM_PROXY_EXIT_AFTER_MS`).
    pub exit_after: Option<Duration>,
    /// Log and survive SIGTERM (`TELEPORT_SIM_IGNORE_SIGTERM`).
    pub ignore_sigterm: bool,
}

/// How the command serves.
#[derive(Debug)]
pub enum Mode {
    /// A local proxy: accept on the bound listener and echo every connection.
    Listen(TcpListener),
    /// `tsh proxy ssh`: echo stdin to stdout; exit 0 at the end of stdin.
    Stdio,
    /// `tsh vnet`: nothing to do but wait for a signal.
    Block,
}

/// The exit code of a proxy that stopped by itself (the `exit_after` knob).
pub const EXIT_UNEXPECTED: i32 = 3;

impl Serve {
    /// Blocks SIGTERM/SIGINT, prints `stdout` and `stderr`, then serves; never returns.
    pub fn run(self, stdout: &str, stderr: &str) -> ! {
        let signals = termination_signals();
        if let Err(err) = signals.thread_block() {
            log("ERROR", &format!("cannot block termination signals: {err}"));
            std::process::exit(1);
        }
        print(stdout, stderr);
        let ignore_sigterm = self.ignore_sigterm;
        std::thread::spawn(move || wait_for_signals(signals, ignore_sigterm));
        if let Some(after) = self.exit_after {
            std::thread::spawn(move || {
                std::thread::sleep(after);
                log("ERROR", "local proxy stopped unexpectedly (TELEPORT_SIM_PROXY_EXIT_AFTER_MS)");
                std::process::exit(EXIT_UNEXPECTED);
            });
        }
        match self.mode {
            Mode::Listen(listener) => echo::accept_forever(&listener),
            Mode::Stdio => {
                echo::stdin_to_stdout();
                log("INFO", "stdin closed, proxy connection ended");
                std::process::exit(0);
            }
            Mode::Block => loop {
                std::thread::park();
            },
        }
    }
}

fn termination_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set
}

/// Takes the blocked signals one at a time: each ends the process with 0, except SIGTERM when
/// it is to be ignored.
fn wait_for_signals(signals: SigSet, ignore_sigterm: bool) {
    loop {
        match signals.wait() {
            Ok(Signal::SIGTERM) if ignore_sigterm => {
                log("WARN", "received signal terminated, ignoring it (TELEPORT_SIM_IGNORE_SIGTERM)");
            }
            Ok(signal) => {
                log("INFO", &format!("received signal {}, shutting down", describe(signal)));
                std::process::exit(0);
            }
            Err(err) => {
                log("ERROR", &format!("waiting for signals failed: {err}"));
                std::process::exit(1);
            }
        }
    }
}

/// Go's `os.Signal.String()` wording.
fn describe(signal: Signal) -> &'static str {
    match signal {
        Signal::SIGINT => "interrupt",
        Signal::SIGTERM => "terminated",
        other => other.as_str(),
    }
}

fn print(stdout: &str, stderr: &str) {
    // A closed pipe is the reader's choice; the proxy keeps serving.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(stdout.as_bytes());
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(stderr.as_bytes());
    let _ = err.flush();
}

/// One slog-style text line on stderr: `<time> <LEVEL> <message>`, at the wall clock (a pinned
/// `TELEPORT_SIM_NOW` would make every line of a long run carry the same time).
pub fn log(level: &str, message: &str) {
    let line = format!("{} {level:<5} {message}\n", go_time(Utc::now()));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
