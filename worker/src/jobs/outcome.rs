//! Turning a tool run into the stored outcome: status, exit code, capped output, result or error.
//! (The runner itself counts each CLI run.)

use mtcp_shared::db::operations::Outcome;
use mtcp_shared::domain::OperationStatus;
use mtcp_shared::teleport::{RunRecord, ToolFailure, ToolRun};
use serde::Serialize;

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

/// The typed result as stored and returned: through the same redaction stage as everything else,
/// since Teleport resources carry free text (labels, descriptions, rule expressions) that may hold
/// secrets; and with invisible characters written out, since that text is the cluster's (a failed
/// login's user name is whatever the person trying chose), read by a model and by people.
fn redacted<T: Serialize>(value: T) -> serde_json::Value {
    let mut v = serde_json::to_value(value).expect("views serialize");
    mtcp_shared::redact::redact_json(&mut v);
    mtcp_shared::domain::escape_invisible_json(&mut v);
    v
}

/// A successful result computed without one CLI run of its own (analysis and audit reports).
pub(super) fn report<T: Serialize>(value: &T) -> Outcome {
    Outcome {
        status: OperationStatus::Succeeded,
        audit_refs: None,
        exit_code: None,
        stdout: None,
        stderr: None,
        result: Some(redacted(value)),
        error: None,
    }
}

/// The operation status a failed run ends in.
pub(super) fn status_of(failure: &ToolFailure) -> OperationStatus {
    match failure {
        ToolFailure::TimedOut { .. } => OperationStatus::TimedOut,
        ToolFailure::Cancelled { .. } => OperationStatus::Cancelled,
        _ => OperationStatus::Failed,
    }
}

pub(super) fn outcome<T: Serialize>(run: Result<ToolRun<T>, ToolFailure>) -> Outcome {
    match run {
        Ok(ToolRun { value, record }) => {
            let (exit_code, stdout, stderr) = stored(&record, true);
            Outcome {
                status: OperationStatus::Succeeded,
                audit_refs: None,
                exit_code,
                stdout,
                stderr,
                result: Some(redacted(value)),
                error: None,
            }
        }
        Err(failure) => {
            let status = status_of(&failure);
            let (exit_code, stdout, stderr) = match &failure {
                ToolFailure::TimedOut { record, .. }
                | ToolFailure::Cancelled { record }
                | ToolFailure::Teleport { record, .. }
                | ToolFailure::Parse { record, .. } => stored(record, false),
                ToolFailure::Spawn { .. } => (None, None, None),
            };
            Outcome {
                status,
                audit_refs: None,
                exit_code,
                stdout,
                stderr,
                result: None,
                error: Some(mtcp_shared::domain::escape_invisible(&failure.to_string()).into_owned()),
            }
        }
    }
}
