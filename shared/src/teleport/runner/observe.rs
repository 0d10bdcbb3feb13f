//! What a run looks like from outside: its `cli_run` span, the `mtcp_cli_runs_total` and
//! `mtcp_cli_run_duration_seconds` metrics, labelled from fixed sets only (the binary, a known
//! subcommand or `other`, an exit class), never from argument values.

use std::time::Duration;

use super::Binary;

/// The command words the control plane runs (its own commands, the passthrough's allow-list,
/// the access-request and lease commands). Anything else is labelled `other`.
const SUBCOMMANDS: &[&str] = &[
    // tctl
    "get nodes",
    "get proxies",
    "get roles",
    "get users",
    "get tokens",
    "get cert_authorities",
    "get cluster_auth_preference",
    "get",
    "status",
    "nodes ls",
    "tokens ls",
    "users ls",
    "requests ls",
    "requests get",
    "requests rm",
    "alerts ls",
    "inventory ls",
    "version",
    // tsh
    "ls",
    "request ls",
    "request show",
    "request create",
    "request review",
    "request drop",
    "apps ls",
    "db ls",
    "kube ls",
    "mcp ls",
    "proxy ssh",
    "proxy db",
    "proxy app",
    "proxy mcp",
    "proxy kube",
    "vnet",
];

/// The subcommand label of `args` (the arguments after the global flags): the longest listed
/// command the leading words match (`get nodes`, else `get`), or `other`.
pub fn subcommand_label(args: &[String]) -> &'static str {
    let words: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
    for n in (1..=words.len()).rev() {
        let head = words[..n].join(" ");
        if let Some(known) = SUBCOMMANDS.iter().find(|s| **s == head) {
            return known;
        }
    }
    "other"
}

/// How a run ended, as the `exit` label: `ok`, `error` (a non-zero exit), `killed` (by a signal
/// not ours), `timed_out`, `cancelled`, `spawn_failed`.
pub(super) fn exit_class(exit_code: Option<i32>) -> &'static str {
    match exit_code {
        Some(0) => "ok",
        Some(_) => "error",
        None => "killed",
    }
}

/// Count one run and its duration, and note its exit on the current (`cli_run`) span.
pub(super) fn record(binary: Binary, subcommand: &'static str, exit: &'static str, duration: Duration) {
    let binary = match binary {
        Binary::Tctl => "tctl",
        Binary::Tsh => "tsh",
    };
    tracing::Span::current().record("exit", exit);
    metrics::counter!("mtcp_cli_runs_total", "binary" => binary, "subcommand" => subcommand, "exit" => exit)
        .increment(1);
    metrics::histogram!("mtcp_cli_run_duration_seconds", "binary" => binary).record(duration.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::subcommand_label;

    fn label(args: &[&str]) -> &'static str {
        subcommand_label(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn labels_come_from_the_fixed_list() {
        assert_eq!(label(&["get", "nodes", "--format=json"]), "get nodes");
        assert_eq!(label(&["get", "role/admin", "--format=json"]), "get");
        assert_eq!(label(&["request", "show", "8d0b2c9e-1111", "--format=json"]), "request show");
        assert_eq!(label(&["ls", "env=prod"]), "ls");
        assert_eq!(label(&["proxy", "db", "orders", "--db-user=ro"]), "proxy db");
        assert_eq!(label(&["vnet"]), "vnet");
        // Whatever a caller manages to put first never becomes a label of its own.
        assert_eq!(label(&["secretword", "another"]), "other");
        assert_eq!(label(&["--help"]), "other");
        assert_eq!(label(&[]), "other");
    }
}
