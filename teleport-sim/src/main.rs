//! `teleport-sim`: acts as `tctl` or `tsh` (see the library docs).

use std::io::Write;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let env = teleport_sim::SimEnv::from_process();
    teleport_sim::log_argv(&argv, &env);
    let outcome = teleport_sim::run(&argv, &env);
    // A closed pipe is the reader's choice; there is nobody left to report it to.
    let _ = std::io::stdout().lock().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(outcome.stderr.as_bytes());
    std::process::exit(outcome.code);
}
