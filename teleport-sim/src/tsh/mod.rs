//! `tsh`, the user CLI: global flags and command tree: `version`, `status` and access requests
//! (`request`). Local proxies (`proxy`), `vnet` and `mcp` each get their own module here and a
//! `COMMAND` in [`APP`].

pub mod request;
pub mod status;

use crate::Ctx;
use crate::access::Target;
use crate::cli::{App, Flag, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;

/// The `tsh` command tree.
pub const APP: App = App {
    name: "tsh",
    flags: &[
        Flag::value("proxy"),
        Flag::value("identity").short('i'),
        Flag::value("user"),
        Flag::value("login").short('l'),
        Flag::value("cluster").short('c'),
        Flag::value("auth"),
        Flag::value("ttl"),
        Flag::value("relay"),
        Flag::bool("insecure"),
        Flag::bool("debug").short('d'),
        Flag::one_of("add-keys-to-agent", &["auto", "no", "yes", "only"]).short('k'),
        Flag::one_of("mfa-mode", &["auto", "cross-platform", "platform", "otp", "sso"]),
        Flag::bool("headless"),
        Flag::bool("skip-version-check"),
    ],
    commands: &[request::COMMAND, status::COMMAND, crate::version::TSH],
};

/// The resources a `tsh` command reads.
pub fn target(parsed: &Parsed) -> Result<Target, SimError> {
    if let Some(verb) = request::verb(&parsed.command) {
        return Ok(Target::new(verb, "access_request"));
    }
    match parsed.command.as_str() {
        // The profile is local: nothing on the cluster to be denied.
        "status" => Ok(Target { verb: "read", resources: Vec::new() }),
        other => Err(unknown(other)),
    }
}

/// Runs a parsed `tsh` command.
pub fn execute(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    match parsed.command.as_str() {
        command if command.starts_with("request ") => request::run(parsed, ctx),
        "status" => status::run(parsed, ctx),
        other => Err(unknown(other)),
    }
}

fn unknown(command: &str) -> SimError {
    SimError::msg(format!("teleport-sim: no handler for `tsh {command}`"))
}
