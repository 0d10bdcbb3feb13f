//! `tsh`, the user CLI: global flags and command tree: `version`, `status`, access requests
//! (`request`), and the long-running local proxies (`proxy`) and `vnet`. Each family gets its own
//! module here and a `COMMAND` in [`APP`].

pub mod proxy;
pub mod request;
pub mod status;
pub mod vnet;

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
    commands: &[proxy::COMMAND, request::COMMAND, status::COMMAND, vnet::COMMAND, crate::version::TSH],
};

/// The resources a `tsh` command reads.
pub fn target(parsed: &Parsed) -> Result<Target, SimError> {
    if let Some(verb) = request::verb(&parsed.command) {
        // Users see and ask for their own requests without rules: the handlers apply the roles'
        // request and review settings and the `access_request` rules (see `request`).
        return Ok(Target::unchecked(verb, "access_request"));
    }
    if let Some(target) = proxy::target(&parsed.command) {
        return Ok(target);
    }
    match parsed.command.as_str() {
        // The profile is local: nothing on the cluster to be denied.
        "status" | "vnet" => Ok(Target { verb: "read", resources: Vec::new(), rules: Vec::new() }),
        other => Err(unknown(other)),
    }
}

/// Runs a parsed `tsh` command.
pub fn execute(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    match parsed.command.as_str() {
        command if command.starts_with("request ") => request::run(parsed, ctx),
        command if command.starts_with("proxy ") => proxy::run(parsed, ctx),
        "status" => status::run(parsed, ctx),
        "vnet" => vnet::run(parsed, ctx),
        other => Err(unknown(other)),
    }
}

fn unknown(command: &str) -> SimError {
    SimError::msg(format!("teleport-sim: no handler for `tsh {command}`"))
}
