//! `tsh`, the user CLI: global flags and command tree. Today only `version`; access requests
//! (`request`), local proxies (`proxy`), `vnet` and `mcp` each get their own module here and a
//! `COMMAND` in [`APP`].

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
    commands: &[crate::version::TSH],
};

/// The resources a `tsh` command reads.
pub fn target(parsed: &Parsed) -> Result<Target, SimError> {
    Err(unknown(&parsed.command))
}

/// Runs a parsed `tsh` command.
pub fn execute(parsed: &Parsed, _ctx: &Ctx) -> Result<Outcome, SimError> {
    Err(unknown(&parsed.command))
}

fn unknown(command: &str) -> SimError {
    SimError::msg(format!("teleport-sim: no handler for `tsh {command}`"))
}
