//! The credential checks `tctl` and `tsh` make before talking to the cluster: an identity file
//! needs an address, must exist, and without any credential the command is refused. The
//! identity file's content is read only for the user its certificate names ([`certificate_user`]).

use std::io::ErrorKind;

use crate::cli::Parsed;
use crate::env::SimEnv;
use crate::error::SimError;
use crate::invocation::Tool;

/// Refuses the command unless it has usable credentials.
pub fn check(tool: Tool, parsed: &Parsed, env: &SimEnv) -> Result<(), SimError> {
    let identity = parsed.flag("identity").map(str::to_owned).or_else(|| env.identity_file.clone());
    let (address, address_flag) = match tool {
        Tool::Tctl => {
            (parsed.flag("auth-server").map(str::to_owned).or_else(|| env.auth_server.clone()), "--auth-server")
        }
        Tool::Tsh => (parsed.flag("proxy").map(str::to_owned).or_else(|| env.proxy.clone()), "--proxy"),
    };
    if let Some(path) = &identity {
        if address.is_none() {
            return Err(SimError::msg(format!("{} --identity also requires {address_flag}", tool.name())));
        }
        return readable(path);
    }
    if tool == Tool::Tctl {
        // On an Auth Service host `tctl` uses the node's own credentials via its config file.
        if let Some(config) = parsed.flag("config").map(str::to_owned).or_else(|| env.config_file.clone()) {
            return readable(&config);
        }
    }
    if env.allow_no_identity {
        return Ok(());
    }
    Err(SimError::msg(match tool {
        Tool::Tctl => {
            "tctl must be used on an Auth Service host or provided with credentials by logging in with tsh first."
        }
        Tool::Tsh => "Not logged in.",
    }))
}

/// The user the identity file's certificate names (its subject common name, where Teleport writes
/// the user: `lib/tlsca/ca.go`, `Identity.Subject`), read afresh at every command as `tctl`/`tsh`
/// read the file at every run. `None` for a file without a user certificate (any existing file is
/// still accepted as an identity).
pub fn certificate_user(parsed: &Parsed, env: &SimEnv) -> Option<String> {
    let path = parsed.flag("identity").map(str::to_owned).or_else(|| env.identity_file.clone())?;
    let bytes = std::fs::read(path).ok()?;
    for pem in x509_parser::pem::Pem::iter_from_buffer(&bytes).flatten() {
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let Ok(cert) = pem.parse_x509() else { continue };
        if cert.is_ca() {
            continue;
        }
        return cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned);
    }
    None
}

/// Go's wording for a file that cannot be read (`open <path>: no such file or directory`).
fn readable(path: &str) -> Result<(), SimError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(SimError::msg(format!("read {path}: is a directory"))),
        Ok(_) => Ok(()),
        Err(err) => {
            let reason = match err.kind() {
                ErrorKind::NotFound => "no such file or directory".to_owned(),
                ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => err.to_string(),
            };
            Err(SimError::msg(format!("open {path}: {reason}")))
        }
    }
}
