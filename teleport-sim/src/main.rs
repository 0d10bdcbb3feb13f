//! `teleport-sim`: acts as `tctl` or `tsh` (see the library docs).

use std::io::Write;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let env = teleport_sim::SimEnv::from_process();
    teleport_sim::log_argv(&argv, &env);
    let mut outcome = teleport_sim::run(&argv, &env);
    if let Some(serve) = outcome.serve.take() {
        // A long-running command prints its own startup text once signals are in hand.
        serve.run(&outcome.stdout, &outcome.stderr);
    }
    // A closed pipe is the reader's choice; there is nobody left to report it to.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(outcome.stdout.as_bytes());
    let _ = stdout.flush();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(outcome.stderr.as_bytes());
    let _ = stderr.flush();
    if outcome.hang_after {
        // The crash-test knob: everything is done and visible, and the process never exits.
        teleport_sim::faults::hang_forever();
    }
    std::process::exit(outcome.code);
}
