//! A simulator of Teleport's `tctl` and `tsh` for tests, benchmarks and the zero-config demo.
//! It prints what the real binaries print (docs/teleport-output.md; each module cites the Teleport source it follows) against a cluster described by a
//! state file or a built-in demo, with knobs to inject faults.
//!
//! - Tool: `argv[0]` named `tctl`/`tsh`, else the first argument (`teleport-sim tctl …`);
//!   `teleport-sim demo-state` prints the demo cluster as a state file; `teleport-sim
//!   audit-events` prints a synthetic audit event stream (see [`audit`]).
//! - Cluster: `TELEPORT_SIM_STATE` (see [`state`]), else the demo; `TELEPORT_SIM_NOW` pins the
//!   clock; `TELEPORT_SIM_ALLOW_NO_IDENTITY=1` skips the credential requirement.
//! - Release: `TELEPORT_SIM_VERSION` (17.x, 18.x, 19.x), else the state's `version`, picks the
//!   behaviours that differ between Teleport releases (see [`release`]).
//! - Identity: the user the simulator acts as is `TELEPORT_SIM_USER`, else the state file's
//!   `identity_user` (default `mcp-control-plane`); `tsh --user` does not change it. With the
//!   state's `rbac: true` its roles (the user's `spec.roles`) decide what it may run, with
//!   Teleport's access-denied wording (see [`rbac`]); otherwise only the `deny` list refuses.
//! - Mutable state (access requests, dropped requests) lives in a state directory shared by
//!   every invocation that names it (see [`store`]): `TELEPORT_SIM_STATE_DIR`, else
//!   `<TELEPORT_SIM_STATE>.sim-state/`, else `$TELEPORT_HOME/sim-state`, else `~/.tsh/sim-state`.
//!   Workers with their own `TELEPORT_HOME` share requests only through `TELEPORT_SIM_STATE_DIR`.
//!   The state file's `access_requests` seed it; `deny_request_roles` lists the roles nobody may
//!   request (see [`requests`] for the rule).
//! - Faults (see [`faults`]): `TELEPORT_SIM_DELAY_MS`, `_HANG`, `_HANG_AFTER`, `_FAIL`, `_FAIL_ON`,
//!   `_EXIT`, `_GARBAGE`, `_STDERR_NOISE`, or the state file's `faults` section (the environment
//!   wins).
//! - Long-running commands (`tsh proxy ssh|db|app|mcp|kube`, `tsh vnet`) bind their listener in
//!   [`run`] and return a [`Serve`] that `main` runs: startup text, echo traffic, SIGTERM/SIGINT →
//!   exit 0. Knobs: `TELEPORT_SIM_PROXY_FAIL`, `_PROXY_EXIT_AFTER_MS`, `_IGNORE_SIGTERM`. The
//!   state's optional `databases`, `apps`, `kube_clusters` name what may be proxied.
//! - Client tools self-update: `TELEPORT_SIM_MANAGED_TOOLS=<version>` makes every tctl/tsh run
//!   fail unless `TELEPORT_TOOLS_VERSION=off` (see [`gate::managed_tools`]).
//! - Observation: `TELEPORT_SIM_ARGV_LOG=<path>` appends `{"tool":"tctl","argv":[…]}` per
//!   invocation (see [`argv_log`]), for tests that check exactly what reached the CLI.
//!
//! Flow of one command: parse (kingpin errors) → resolve what it reads (argument errors) →
//! credentials → load the state → faults (noise, delay, hang) → deny list / injected error →
//! handler → garbage / exit-code overrides → (`hang_after`) print, flush and never exit.

mod access;
pub mod argv_log;
mod audit;
mod cli;
mod credentials;
mod digest;
mod encode;
mod env;
mod error;
pub mod faults;
mod gate;
mod invocation;
mod outcome;
pub mod rbac;
pub mod release;
pub mod requests;
mod serve;
pub mod state;
pub mod store;
mod tctl;
mod timefmt;
mod tsh;
mod uuid;
mod value;
mod version;

use chrono::{DateTime, Utc};

pub use env::SimEnv;
pub use outcome::Outcome;
pub use serve::Serve;

use crate::cli::ParseOutcome;
use crate::error::SimError;
use crate::faults::Faults;
use crate::invocation::{Invocation, Tool};
use crate::release::Release;
use crate::state::State;

/// What a command runs against.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub state: &'a State,
    pub now: DateTime<Utc>,
    pub env: &'a SimEnv,
    pub faults: &'a Faults,
    /// The Teleport release being imitated.
    pub release: &'a Release,
    /// The user the identity file's certificate names, when it has one.
    pub certificate_user: Option<String>,
}

impl Ctx<'_> {
    /// The user the simulator acts as: `TELEPORT_SIM_USER`, else the user the identity file's
    /// certificate names, else the state's `identity_user`. `tsh --user` is a client-side default
    /// and does not change it.
    pub fn identity(&self) -> &str {
        self.env.sim_user.as_deref().or(self.certificate_user.as_deref()).unwrap_or(&self.state.identity_user)
    }
}

/// Appends `argv` to the `TELEPORT_SIM_ARGV_LOG` file when the knob is set; `main` calls it
/// before [`run`], so the log sees every invocation, including the ones that fail.
pub fn log_argv(argv: &[String], env: &SimEnv) {
    if let Some(path) = &env.argv_log {
        argv_log::append(path, argv);
    }
}

/// Runs one command line (`argv[0]` included) and returns what to print and the exit code.
/// Injected delays and hangs block inside this call.
pub fn run(argv: &[String], env: &SimEnv) -> Outcome {
    let now = match clock(env) {
        Ok(now) => now,
        Err(err) => return Outcome::failed(&err),
    };
    match invocation::resolve(argv) {
        Invocation::Tool(tool, args) => run_tool(tool, &args, env, now),
        Invocation::DemoState => {
            let state = state::demo::build(now).to_value();
            Outcome::stdout(encode::gojson::write_object(&state, encode::gojson::TCTL))
        }
        Invocation::AuditEvents(args) => audit::run(&args, env, now),
        Invocation::Help => Outcome::stdout(invocation::USAGE),
        Invocation::Unknown(first) => Outcome::failed(&SimError::Usage {
            usage: format!("{}\n", invocation::USAGE),
            message: format!("expected command but got {first:?}"),
        }),
    }
}

/// `TELEPORT_SIM_NOW` pins the clock so outputs are reproducible.
fn clock(env: &SimEnv) -> Result<DateTime<Utc>, SimError> {
    match &env.now {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| SimError::msg(format!("teleport-sim: TELEPORT_SIM_NOW must be RFC 3339, got {text:?}"))),
    }
}

fn run_tool(tool: Tool, args: &[String], env: &SimEnv, now: DateTime<Utc>) -> Outcome {
    if let Err(err) = gate::managed_tools(tool, env) {
        return Outcome::failed(&err);
    }
    let parsed = match cli::parse(tool.app(), args) {
        Ok(ParseOutcome::Run(parsed)) => parsed,
        Ok(ParseOutcome::Help(text)) => return Outcome::stdout(text),
        Err(err) => return Outcome::failed(&err),
    };
    if parsed.command == "version" {
        let state_version = match &env.state_file {
            Some(_) => match State::load(env, now) {
                Ok(state) => state.version,
                Err(err) => return Outcome::failed(&err),
            },
            None => state::DEFAULT_VERSION.to_owned(),
        };
        return match Release::resolve(env.version.as_deref(), &state_version) {
            Ok(release) => version::run(&parsed, release.full()),
            Err(err) => Outcome::failed(&err),
        };
    }
    let prepared = (|| {
        let target = match tool {
            Tool::Tctl => tctl::target(&parsed)?,
            Tool::Tsh => tsh::target(&parsed)?,
        };
        credentials::check(tool, &parsed, env)?;
        let state = State::load(env, now)?;
        let release = Release::resolve(env.version.as_deref(), &state.version)?;
        gate::check(tool, &parsed, &release)?;
        let line = format!("{} {}", tool.name(), args.join(" "));
        let faults = Faults::resolve(env, &state.faults, &line)?;
        Ok::<_, SimError>((target, state, faults, release))
    })();
    let (target, state, faults, release) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => return Outcome::failed(&err),
    };

    let noise = faults.stderr_noise.then(|| faults::noise_line(&timefmt::go_time(now)));
    faults.wait();
    let certificate_user = credentials::certificate_user(&parsed, env);
    let ctx = Ctx { state: &state, now, env, faults: &faults, release: &release, certificate_user };
    let result = target.check(&state, ctx.identity(), &faults).and_then(|()| match tool {
        Tool::Tctl => tctl::execute(&parsed, &ctx),
        Tool::Tsh => tsh::execute(&parsed, &ctx),
    });
    let mut outcome = Outcome::from(result);
    if let Some(noise) = noise {
        outcome.stderr.insert_str(0, &noise);
    }
    if faults.garbage && outcome.code == 0 {
        outcome.stdout = faults::GARBAGE.to_owned();
    }
    if let Some(code) = faults.exit {
        outcome.code = code;
    }
    outcome.hang_after = faults.hang_after;
    outcome
}
