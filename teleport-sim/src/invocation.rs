//! Which program the binary is acting as: `tctl` or `tsh` by `argv[0]` (also through a
//! symlink), or, when run as `teleport-sim`, by the first argument.

use std::path::Path;

use crate::cli::App;

/// The simulated binaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tool {
    Tctl,
    Tsh,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Tctl => "tctl",
            Tool::Tsh => "tsh",
        }
    }

    /// The command tree of the tool.
    pub fn app(self) -> &'static App {
        match self {
            Tool::Tctl => &crate::tctl::APP,
            Tool::Tsh => &crate::tsh::APP,
        }
    }

    fn from_name(name: &str) -> Option<Tool> {
        match name {
            "tctl" => Some(Tool::Tctl),
            "tsh" => Some(Tool::Tsh),
            _ => None,
        }
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// Act as a tool with these arguments.
    Tool(Tool, Vec<String>),
    /// `teleport-sim demo-state`: print the demo cluster as a state file.
    DemoState,
    /// `teleport-sim audit-events <args>`: print a synthetic audit event stream.
    AuditEvents(Vec<String>),
    /// `teleport-sim` with no or `--help`.
    Help,
    /// `teleport-sim <something else>`.
    Unknown(String),
}

/// Decides from the full argv (program name first).
pub fn resolve(argv: &[String]) -> Invocation {
    let program = argv.first().map(String::as_str).unwrap_or("teleport-sim");
    let stem = Path::new(program).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let rest = argv.get(1..).unwrap_or_default().to_vec();
    if let Some(tool) = Tool::from_name(stem) {
        return Invocation::Tool(tool, rest);
    }
    match rest.first().map(String::as_str) {
        None | Some("--help" | "-h" | "help") => Invocation::Help,
        Some("demo-state") => Invocation::DemoState,
        Some("audit-events") => Invocation::AuditEvents(rest[1..].to_vec()),
        Some(first) => match Tool::from_name(first) {
            Some(tool) => Invocation::Tool(tool, rest[1..].to_vec()),
            None => Invocation::Unknown(first.to_owned()),
        },
    }
}

/// Usage of the `teleport-sim` wrapper itself.
pub const USAGE: &str = "usage: teleport-sim <tctl|tsh|demo-state|audit-events> [<args> ...]\n\n\
Acts as Teleport's tctl or tsh (also when invoked through a link named tctl or tsh).\n\
demo-state prints the built-in demo cluster as a state file for TELEPORT_SIM_STATE.\n\
audit-events prints a synthetic audit event stream (see audit-events --help).\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn argv0_and_first_argument_choose_the_tool() {
        let tctl = Invocation::Tool(Tool::Tctl, argv("get nodes"));
        assert_eq!(resolve(&argv("/tmp/x/tctl get nodes")), tctl);
        assert_eq!(resolve(&argv("/usr/bin/teleport-sim tctl get nodes")), tctl);
        assert_eq!(resolve(&argv("tsh version")), Invocation::Tool(Tool::Tsh, argv("version")));
        assert_eq!(resolve(&argv("teleport-sim demo-state")), Invocation::DemoState);
        assert_eq!(resolve(&argv("teleport-sim audit-events --seed 1")), Invocation::AuditEvents(argv("--seed 1")));
        assert_eq!(resolve(&argv("teleport-sim kubectl")), Invocation::Unknown("kubectl".into()));
        assert_eq!(resolve(&argv("teleport-sim")), Invocation::Help);
    }
}
