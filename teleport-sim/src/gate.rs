//! What the imitated release does not have yet: flags and commands that kingpin refuses there.
//! The command tree in [`crate::tctl`] / [`crate::tsh`] is the newest release's; this check runs
//! once the release is known and fails the way kingpin fails on an unknown flag or command
//! (usage line, then the error, exit 1).

use crate::SimEnv;
use crate::cli::Parsed;
use crate::error::SimError;
use crate::invocation::Tool;
use crate::release::Release;

/// Refuses what `release` does not accept.
pub fn check(tool: Tool, parsed: &Parsed, release: &Release) -> Result<(), SimError> {
    let usage = |message: String| SimError::Usage { usage: crate::cli::usage_line(tool.app()) + "\n", message };
    match (tool, parsed.command.as_str()) {
        // `tool/tctl/common/status_command.go`, `StatusCommand.Initialize`: 17.x and 18.x declare
        // `status` with no flags; `--format text|json|yaml` arrived in 19.x.
        (Tool::Tctl, "status") if release.major() < 19 && parsed.flag("format").is_some() => {
            Err(usage("unknown long flag '--format'".to_owned()))
        }
        // `tool/tsh/common/tsh.go`: `proxy mcp` (`onProxyCommandMCP`) is registered from 18.x.
        (Tool::Tsh, "proxy mcp") if release.major() < 18 => Err(usage("expected command but got \"mcp\"".to_owned())),
        _ => Ok(()),
    }
}

/// `TELEPORT_SIM_MANAGED_TOOLS=<version>`: the cluster advertises managed client tools. Real
/// tctl/tsh (17.x+, `lib/autoupdate/tools`, the check at start-up in `tool/tsh/common/tsh.go`
/// `Run`) then download that release and re-execute it unless `TELEPORT_TOOLS_VERSION=off`. The
/// simulator cannot re-execute anything, so it refuses to run: a caller that forgets to turn
/// self-update off fails loudly instead of silently running another binary.
pub fn managed_tools(tool: Tool, env: &SimEnv) -> Result<(), SimError> {
    let Some(version) = &env.managed_tools else { return Ok(()) };
    if env.tools_version.as_deref() == Some("off") {
        return Ok(());
    }
    Err(SimError::msg(format!(
        "teleport-sim: the cluster advertises managed client tools {version}: this {} would update itself \
         and re-execute {version} (TELEPORT_TOOLS_VERSION is {:?}, not \"off\")",
        tool.name(),
        env.tools_version.as_deref().unwrap_or("")
    )))
}
