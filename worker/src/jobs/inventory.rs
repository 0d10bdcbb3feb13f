//! The seven inventory tools: one `tctl` run each, parsed into compact typed views.

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::domain::OperationStatus;
use mtcp_shared::teleport::inventory;
use mtcp_shared::teleport::{RunRecord, ToolFailure, ToolRun};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::JobContext;

const TOOLS: &[&str] =
    &["list_nodes", "list_proxies", "list_roles", "list_users", "list_tokens", "list_cas", "get_auth_preference"];

/// Whether `tool` is one of the inventory tools.
pub(super) fn handles(tool: &str) -> bool {
    TOOLS.contains(&tool)
}

/// Run an inventory tool and turn the run into the stored outcome.
pub(super) async fn run(ctx: &JobContext, tool: &str) -> Outcome {
    // A shutting-down worker lets in-flight runs finish (apalis waits for them); the CLI timeout
    // bounds that wait. Caller-requested cancellation arrives with the streaming work.
    let cancel = CancellationToken::new();
    let (r, cancel, now) = (&ctx.runner, &cancel, chrono::Utc::now());
    match tool {
        "list_nodes" => outcome(inventory::list_nodes(r, cancel, now).await),
        "list_proxies" => outcome(inventory::list_proxies(r, cancel, now).await),
        "list_roles" => outcome(inventory::list_roles(r, cancel, now).await),
        "list_users" => outcome(inventory::list_users(r, cancel, now).await),
        "list_tokens" => outcome(inventory::list_tokens(r, cancel, now).await),
        "list_cas" => outcome(inventory::list_cas(r, cancel, now).await),
        _ => outcome(inventory::get_auth_preference(r, cancel, now).await),
    }
}

fn record_cli_run(record: &RunRecord) {
    let binary = record.argv.first().cloned().unwrap_or_default();
    let binary = if binary.ends_with("tsh") { "tsh" } else { "tctl" };
    // The runner puts its global flags (each with a value) before the command words.
    let mut rest = &record.argv[1.min(record.argv.len())..];
    while let [flag, _value, tail @ ..] = rest
        && matches!(flag.as_str(), "-i" | "--identity" | "--auth-server" | "--proxy")
    {
        rest = tail;
    }
    let subcommand = mtcp_shared::teleport::runner::subcommand(rest);
    let exit = match record.exit_code {
        Some(0) => "ok",
        Some(_) => "error",
        None => "killed",
    };
    metrics::counter!("mtcp_cli_runs_total", "binary" => binary, "subcommand" => subcommand, "exit" => exit)
        .increment(1);
    metrics::histogram!("mtcp_cli_run_duration_seconds", "binary" => binary).record(record.duration.as_secs_f64());
}

/// Stdout kept on a successful run: the typed result holds the data, so only a head of the raw
/// output is stored for forensics. Keeping the row small also keeps the finishing UPDATE below
/// the size at which sqlx 0.9.0's socket (no TCP_NODELAY, transact-rs/sqlx#4335) waits ~40 ms for
/// a delayed ACK.
const SUCCESS_STDOUT_BYTES: usize = 4096;

fn stored(record: &RunRecord, succeeded: bool) -> (Option<i32>, Option<String>, Option<String>) {
    let stdout = if succeeded && record.stdout.len() > SUCCESS_STDOUT_BYTES {
        let mut cut = SUCCESS_STDOUT_BYTES;
        while !record.stdout.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}\n[… {} more bytes not stored; see the result]", &record.stdout[..cut], record.stdout.len() - cut)
    } else {
        record.stdout.clone()
    };
    (record.exit_code, Some(stdout), Some(record.stderr.clone()))
}

fn outcome<T: Serialize>(run: Result<ToolRun<T>, ToolFailure>) -> Outcome {
    match run {
        Ok(ToolRun { value, record }) => {
            record_cli_run(&record);
            let (exit_code, stdout, stderr) = stored(&record, true);
            Outcome {
                status: OperationStatus::Succeeded,
                exit_code,
                stdout,
                stderr,
                result: Some(serde_json::to_value(value).expect("views serialize")),
                error: None,
            }
        }
        Err(failure) => {
            let status = match &failure {
                ToolFailure::TimedOut { .. } => OperationStatus::TimedOut,
                ToolFailure::Cancelled { .. } => OperationStatus::Cancelled,
                _ => OperationStatus::Failed,
            };
            let (exit_code, stdout, stderr) = match &failure {
                ToolFailure::TimedOut { record, .. }
                | ToolFailure::Cancelled { record }
                | ToolFailure::Teleport { record, .. }
                | ToolFailure::Parse { record, .. } => {
                    record_cli_run(record);
                    stored(record, false)
                }
                ToolFailure::Spawn { .. } => (None, None, None),
            };
            Outcome { status, exit_code, stdout, stderr, result: None, error: Some(failure.to_string()) }
        }
    }
}
