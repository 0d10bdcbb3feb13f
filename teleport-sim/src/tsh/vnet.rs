//! `tsh vnet`: prints `VNet is ready.` and blocks until SIGINT/SIGTERM on the platforms VNet runs
//! on (macOS, Windows); the privileged setup it needs there is assumed done. Elsewhere it fails as
//! Teleport 17.x/18.x do: `lib/vnet/unsupported_os.go` (build tag `!darwin && !windows` in those
//! releases) returns `ErrVnetNotImplemented`, "VNet is not implemented on <GOOS>", which `tsh`
//! prints as its error (exit 1). `TELEPORT_SIM_OS` picks the platform; default the real one.

use crate::Ctx;
use crate::cli::{Command, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::serve::{Mode, Serve};

/// The `vnet` command.
pub const COMMAND: Command = Command::new("vnet", "Start Teleport VNet, a virtual network for TCP application access.");

/// Runs `tsh vnet`.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let os = goos(ctx.env.os.as_deref().unwrap_or(std::env::consts::OS));
    if !matches!(os, "darwin" | "windows") {
        return Err(SimError::msg(format!("VNet is not implemented on {os}")));
    }
    super::proxy::fail_if_asked(ctx, &super::proxy::profile(parsed, ctx))?;
    let serve =
        Serve { mode: Mode::Block, exit_after: ctx.faults.proxy_exit_after, ignore_sigterm: ctx.faults.ignore_sigterm };
    Ok(Outcome { stdout: "VNet is ready.\n".to_owned(), serve: Some(serve), ..Outcome::default() })
}

/// Go's `runtime.GOOS` for Rust's `std::env::consts::OS` (they differ only for macOS).
fn goos(os: &str) -> &str {
    if os == "macos" { "darwin" } else { os }
}
