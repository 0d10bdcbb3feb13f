//! Fault injection: the `TELEPORT_SIM_*` knobs and the state file's `faults` section (the
//! environment wins, field by field), scoped to matching command lines by `fail_on`. The knobs of
//! long-running commands (`_PROXY_FAIL`, `_PROXY_EXIT_AFTER_MS`, `_IGNORE_SIGTERM`) come from the
//! environment only.

use std::time::Duration;

use serde::Deserialize;

use crate::env::{SimEnv, truthy};
use crate::error::SimError;
use crate::value::{Value, obj};

/// The `faults` section of a state file. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Sleep this long before answering.
    pub delay_ms: Option<u64>,
    /// Never answer (until killed).
    pub hang: Option<bool>,
    /// Do the command completely (state written, output flushed), then never exit (until killed).
    pub hang_after: Option<bool>,
    /// `access_denied`, `not_found`, `internal`, or any other text used as the error message.
    pub fail: Option<String>,
    /// Only inject faults when the command line contains this substring.
    pub fail_on: Option<String>,
    /// Exit with this code after printing the normal output.
    pub exit: Option<i32>,
    /// Print non-JSON instead of the payload.
    pub garbage: Option<bool>,
    /// Add a harmless slog-style warning on stderr.
    pub stderr_noise: Option<bool>,
}

impl FaultSpec {
    /// The section as `demo-state` prints it, every field at its "off" value.
    pub fn to_value(&self) -> Value {
        obj! {
            "delay_ms" => self.delay_ms.unwrap_or(0),
            "hang" => self.hang.unwrap_or(false),
            "hang_after" => self.hang_after.unwrap_or(false),
            "fail" => self.fail.clone().unwrap_or_default(),
            "fail_on" => self.fail_on.clone().unwrap_or_default(),
            "exit" => self.exit.unwrap_or(0),
            "garbage" => self.garbage.unwrap_or(false),
            "stderr_noise" => self.stderr_noise.unwrap_or(false),
        }
    }
}

/// The effective faults for one command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub delay: Option<Duration>,
    pub hang: bool,
    pub hang_after: bool,
    pub fail: Option<Failure>,
    pub exit: Option<i32>,
    pub garbage: bool,
    pub stderr_noise: bool,
    /// Long-running commands (`tsh proxy …`, `tsh vnet`) fail before they start (environment only).
    pub proxy_fail: bool,
    /// Long-running commands exit 3 by themselves this long after their startup text.
    pub proxy_exit_after: Option<Duration>,
    /// Long-running commands log and ignore SIGTERM; only SIGKILL ends them.
    pub ignore_sigterm: bool,
}

/// What kind of error `fail` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    AccessDenied,
    NotFound,
    Internal,
    Message(String),
}

impl Faults {
    /// Merges the environment over the state file, then drops everything when `fail_on` is set
    /// and `command_line` does not contain it.
    pub fn resolve(env: &SimEnv, spec: &FaultSpec, command_line: &str) -> Result<Faults, SimError> {
        let fail_on = env.fail_on.clone().or_else(|| spec.fail_on.clone()).unwrap_or_default();
        if !fail_on.is_empty() && !command_line.contains(&fail_on) {
            return Ok(Faults::default());
        }
        let delay_ms = match &env.delay_ms {
            Some(text) => Some(number::<u64>("TELEPORT_SIM_DELAY_MS", text)?),
            None => spec.delay_ms,
        };
        let exit = match &env.exit {
            Some(text) => Some(number::<i32>("TELEPORT_SIM_EXIT", text)?),
            None => spec.exit,
        };
        let switch = |env: &Option<String>, spec: Option<bool>| env.as_deref().map_or(spec.unwrap_or(false), truthy);
        let fail = env.fail.clone().or_else(|| spec.fail.clone()).filter(|f| !f.is_empty());
        Ok(Faults {
            delay: delay_ms.filter(|ms| *ms > 0).map(Duration::from_millis),
            hang: switch(&env.hang, spec.hang),
            hang_after: switch(&env.hang_after, spec.hang_after),
            fail: fail.map(|f| match f.as_str() {
                "access_denied" => Failure::AccessDenied,
                "not_found" => Failure::NotFound,
                "internal" => Failure::Internal,
                _ => Failure::Message(f),
            }),
            exit: exit.filter(|code| *code != 0),
            garbage: switch(&env.garbage, spec.garbage),
            stderr_noise: switch(&env.stderr_noise, spec.stderr_noise),
            proxy_fail: switch(&env.proxy_fail, None),
            proxy_exit_after: match &env.proxy_exit_after_ms {
                Some(text) => Some(Duration::from_millis(number("TELEPORT_SIM_PROXY_EXIT_AFTER_MS", text)?)),
                None => None,
            },
            ignore_sigterm: switch(&env.ignore_sigterm, None),
        })
    }

    /// Blocks as asked: the delay, then (for `hang`) forever. Default signal dispositions are
    /// kept, so SIGTERM and SIGKILL still end the process.
    pub fn wait(&self) {
        if let Some(delay) = self.delay {
            std::thread::sleep(delay);
        }
        if self.hang {
            hang_forever();
        }
    }

    /// The injected error for a command that acts on `resource` with `verb`.
    pub fn error(&self, verb: &str, resource: &str) -> Option<SimError> {
        Some(match self.fail.as_ref()? {
            Failure::AccessDenied => SimError::access_denied(verb, resource),
            Failure::NotFound => SimError::msg(format!("{resource} not found")),
            Failure::Internal => {
                SimError::msg("rpc error: code = Internal desc = internal error, check the Auth Service logs")
            }
            Failure::Message(text) => SimError::msg(text.clone()),
        })
    }
}

/// Sleeps until a signal ends the process (default dispositions: SIGTERM and SIGKILL work).
pub fn hang_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, SimError> {
    text.trim().parse().map_err(|_| SimError::msg(format!("teleport-sim: {name} must be a number, got {text:?}")))
}

/// What `garbage` prints instead of the payload: an HTML error page, as a misrouted proxy would.
pub const GARBAGE: &str = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n";

/// The `stderr_noise` line: what Teleport's slog text handler prints for a benign warning.
pub fn noise_line(now: &str) -> String {
    format!(
        "{now} WARN  Failed to load the tsh profile, falling back to the identity file error:[profile not found] client/api.go:1287\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_state_and_fail_on_scopes() {
        let spec = FaultSpec { fail: Some("internal".into()), delay_ms: Some(5), ..FaultSpec::default() };
        let env = SimEnv::from_pairs(&[("TELEPORT_SIM_FAIL", "access_denied")]);
        let faults = Faults::resolve(&env, &spec, "tctl get nodes").unwrap();
        assert_eq!(faults.fail, Some(Failure::AccessDenied));
        assert_eq!(faults.delay, Some(Duration::from_millis(5)));

        let env = SimEnv::from_pairs(&[("TELEPORT_SIM_FAIL_ON", "get roles")]);
        assert_eq!(Faults::resolve(&env, &spec, "tctl get nodes").unwrap(), Faults::default());
        assert!(Faults::resolve(&env, &spec, "tctl get roles").unwrap().fail.is_some());
    }

    #[test]
    fn bad_numbers_are_reported_with_the_variable_name() {
        let env = SimEnv::from_pairs(&[("TELEPORT_SIM_DELAY_MS", "soon")]);
        let err = Faults::resolve(&env, &FaultSpec::default(), "x").unwrap_err();
        assert!(err.to_string().contains("TELEPORT_SIM_DELAY_MS"));
    }

    #[test]
    fn injected_errors_name_the_resource() {
        let env = SimEnv::from_pairs(&[("TELEPORT_SIM_FAIL", "access_denied")]);
        let faults = Faults::resolve(&env, &FaultSpec::default(), "x").unwrap();
        let err = faults.error("list", "token").unwrap();
        assert_eq!(err.to_string(), "access denied to perform action \"list\" on \"token\"");
    }
}
