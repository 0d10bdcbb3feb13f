//! Withdrawing an access request, and what really happened.
//!
//! `tsh request drop` is not a withdrawal: it only reissues the caller's own certificates without
//! the request (in memory when run with an identity file) and changes nothing in Teleport. So:
//! - the request object is deleted with `tctl requests rm <id>`; an approved one needs `--force`
//!   (without it tctl prints a warning, deletes nothing and still exits 0 — which is also what
//!   happens when an approval lands between our look at the request and the delete). Deletion is
//!   only reported when tctl printed `Access request deleted successfully.`;
//! - deleting an approved request does not take back certificates already issued with it; only a
//!   lock does: `tctl lock --access-request=<id> --message=… --ttl=…|--expires=…` (asked for
//!   explicitly, with its own reason and lifetime). The lock is placed before the delete, so the
//!   access is cut even when the delete then fails.

use chrono::{DateTime, SecondsFormat, Utc};
use tokio_util::sync::CancellationToken;

use super::view::{DropResult, LockView, state_word};
use crate::domain::RequestId;
use crate::teleport::inventory::{ToolFailure, ToolRun, run_checked};
use crate::teleport::models::RequestState;
use crate::teleport::record::Scrub;
use crate::teleport::{Binary, RunRecord, Runner, TeleportError};

/// The line `tctl requests rm` prints once every id was deleted
/// (`tool/tctl/common/access_request_command.go`, `Delete`).
const DELETED_LINE: &str = "Access request deleted successfully.";
/// The start of the warning `tctl requests rm` prints instead when a request is approved and
/// `--force` was not given (nothing is deleted, exit code 0).
const APPROVED_WARNING: &str = "This access request has already been approved";

/// A lock on the access granted through the request (`tctl lock --access-request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoke {
    /// Shown to locked-out users (`--message`).
    pub message: String,
    /// How long the lock lasts; `None` locks until the request's access would have expired.
    pub ttl_seconds: Option<u64>,
}

fn failed(message: String, record: RunRecord) -> ToolFailure {
    ToolFailure::Teleport { error: TeleportError::Failed { message, exit_code: Some(0) }, record }
}

/// Withdraw a request: lock its access first when `revoke` asks for it, then delete it (an
/// approved one with `--force`). Denied and promoted requests have nothing to withdraw.
pub async fn withdraw(
    r: &Runner,
    cancel: &CancellationToken,
    id: &RequestId,
    revoke: Option<&Revoke>,
) -> Result<ToolRun<DropResult>, ToolFailure> {
    let (view, state, show_record) = super::fetch(r, cancel, id).await?;
    if !matches!(state, RequestState::Pending | RequestState::Approved) {
        let detail = format!("the request is {}: there is nothing to withdraw", state_word(state));
        return Err(ToolFailure::Teleport {
            error: TeleportError::Failed { message: detail, exit_code: None },
            record: show_record,
        });
    }
    let now = Utc::now();
    let lock = match revoke {
        Some(revoke) => Some(lock(r, cancel, id, revoke, view.access_expires, now).await?),
        None => None,
    };

    let mut args = vec!["requests".to_owned(), "rm".to_owned()];
    if state == RequestState::Approved {
        // Without --force tctl only warns about an approved request.
        args.push("--force".to_owned());
    }
    args.push(id.to_string());
    let (out, record) = run_checked(r, Binary::Tctl, &args, Scrub::Plain, cancel).await?;
    if !out.stdout.lines().any(|l| l.trim() == DELETED_LINE) {
        let locked = lock.as_ref().map_or_else(String::new, |l| format!(" The lock {} is in place.", l.name));
        let why = if out.stdout.contains(APPROVED_WARNING) {
            "it was approved while we withdrew it, and tctl deletes an approved request only with --force. \
             Call drop_access_request again to delete it (with `revoke` to also lock the access already granted)."
        } else {
            "tctl did not print its confirmation line."
        };
        return Err(failed(format!("Teleport did not delete request {id}: {why}{locked}"), record));
    }

    let summary = summary(state, lock.as_ref(), view.access_expires);
    Ok(ToolRun {
        value: DropResult {
            request_id: id.to_string(),
            action: "deleted".into(),
            previous_state: state_word(state).into(),
            deleted: true,
            lock,
            summary,
        },
        record,
    })
}

/// `tctl lock --access-request=<id>`: prints `Created a lock with name "<name>".`
/// (`tool/tctl/common/lock_command.go`, `CreateLock`).
async fn lock(
    r: &Runner,
    cancel: &CancellationToken,
    id: &RequestId,
    revoke: &Revoke,
    access_expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<LockView, ToolFailure> {
    let (until_flag, expires) = match (revoke.ttl_seconds, access_expires) {
        (Some(ttl), _) => (format!("--ttl={ttl}s"), Some(now + chrono::Duration::seconds(ttl as i64))),
        (None, Some(at)) if at > now => {
            (format!("--expires={}", at.to_rfc3339_opts(SecondsFormat::Secs, true)), Some(at))
        }
        // No known end (or already past): one day is the longest a control-plane lock lasts unasked.
        (None, _) => ("--ttl=86400s".to_owned(), Some(now + chrono::Duration::days(1))),
    };
    let args = vec![
        "lock".to_owned(),
        format!("--access-request={id}"),
        // `--flag=value` keeps a message starting with `-` from being read as a flag.
        format!("--message={}", revoke.message),
        until_flag,
    ];
    let (out, record) = run_checked(r, Binary::Tctl, &args, Scrub::Plain, cancel).await?;
    let name = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Created a lock with name "))
        .map(|n| n.trim_end_matches('.').trim_matches('"').to_owned());
    match name {
        Some(name) if !name.is_empty() => Ok(LockView { name, expires }),
        _ => Err(failed(
            format!(
                "Teleport did not confirm the lock on request {id} (no `Created a lock` line); nothing was deleted"
            ),
            record,
        )),
    }
}

fn summary(state: RequestState, lock: Option<&LockView>, access_expires: Option<DateTime<Utc>>) -> String {
    let until = |t: Option<DateTime<Utc>>| t.map_or_else(|| "further notice".to_owned(), |t| t.to_rfc3339());
    match (state, lock) {
        (_, Some(lock)) => format!(
            "Deleted the request and locked the access granted through it until {} (lock {}).",
            until(lock.expires),
            lock.name
        ),
        (RequestState::Approved, None) => format!(
            "Deleted the request. Certificates already issued with it keep working until {}; pass `revoke` to lock them.",
            until(access_expires)
        ),
        _ => "Deleted the pending request; no access had been granted.".to_owned(),
    }
}
