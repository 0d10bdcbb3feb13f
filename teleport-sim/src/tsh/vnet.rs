//! `tsh vnet` (REFERENCE.md §7.6): prints `VNet is ready.` and blocks until SIGINT/SIGTERM.
//! The privileged setup it needs in reality is assumed done.

use crate::Ctx;
use crate::cli::{Command, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::serve::{Mode, Serve};

/// The `vnet` command.
pub const COMMAND: Command = Command::new("vnet", "Start Teleport VNet, a virtual network for TCP application access.");

/// Runs `tsh vnet`.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    super::proxy::fail_if_asked(ctx, &super::proxy::profile(parsed, ctx))?;
    let serve =
        Serve { mode: Mode::Block, exit_after: ctx.faults.proxy_exit_after, ignore_sigterm: ctx.faults.ignore_sigterm };
    Ok(Outcome { stdout: "VNet is ready.\n".to_owned(), serve: Some(serve), ..Outcome::default() })
}
