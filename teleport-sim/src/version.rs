//! `tctl version` and `tsh version`: local commands that need neither credentials nor the
//! cluster, so faults do not apply to them.

use crate::cli::{Command, Flag, Parsed};
use crate::encode::gojson;
use crate::outcome::Outcome;
use crate::value::obj;

/// The Go toolchain Teleport 18.1 is built with.
const GO_VERSION: &str = "go1.24.4";

/// `tctl version`.
pub const TCTL: Command = Command::new("version", "Print the version of your tctl binary.")
    .flags(&[Flag::one_of("format", &["text", "json"])]);

/// `tsh version`.
pub const TSH: Command = Command::new("version", "Print the tsh client and Proxy server versions.")
    .flags(&[Flag::one_of("format", &["text", "json", "yaml"]), Flag::bool("client")]);

/// A fake but stable `git describe` suffix for a version.
fn gitref(version: &str) -> String {
    let digest = crate::digest::hex(&crate::digest::sha256(version.as_bytes()));
    format!("v{version}-0-g{}", &digest[..9])
}

/// Prints the version line (or its JSON form).
pub fn run(parsed: &Parsed, version: &str) -> Outcome {
    if parsed.flag("format") == Some("json") {
        let value = obj! { "version" => version, "gitref" => gitref(version), "runtime" => GO_VERSION };
        return Outcome::stdout(gojson::write_object(&value, gojson::TSH));
    }
    Outcome::stdout(format!("Teleport v{version} git:{} {GO_VERSION}\n", gitref(version)))
}
