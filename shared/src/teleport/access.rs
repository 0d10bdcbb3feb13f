//! The access-request tools: list, show, create, review and withdraw, each a `tsh`/`tctl` run
//! whose output is parsed into a compact view. Arguments arrive as parsed types; every value that
//! reaches argv is either fixed or passed as `--flag=value` or after a validated id.

mod view;
mod withdraw;

pub use view::{
    AccessRequestList, AccessRequestView, CreatedRequest, DropResult, LockView, ReviewResult, ReviewView, state_word,
};
pub use withdraw::{Revoke, withdraw};

use tokio_util::sync::CancellationToken;

use super::inventory::{ToolFailure, ToolRun, run_checked};
use super::models::RequestState;
use super::parse::{self, ParseError};
use super::record::Scrub;
use super::{Binary, Runner, commands};
use crate::domain::{RequestId, RequestedResource};

fn parse_failure(command: &str, detail: &str, record: super::RunRecord) -> ToolFailure {
    ToolFailure::Parse { error: ParseError::malformed(command, detail.to_owned()), record }
}

/// `tsh request ls --format=json`, newest first, at most `limit`.
pub async fn list(
    r: &Runner,
    cancel: &CancellationToken,
    limit: usize,
) -> Result<ToolRun<AccessRequestList>, ToolFailure> {
    let (out, record) =
        run_checked(r, Binary::Tsh, &commands::LIST_ACCESS_REQUESTS.to_args(), Scrub::Plain, cancel).await?;
    let mut requests = match parse::parse_access_requests(&out.stdout) {
        Ok(v) => v,
        Err(error) => return Err(ToolFailure::Parse { error, record }),
    };
    requests.sort_by_key(|r| std::cmp::Reverse(r.spec.created));
    let mut by_state = std::collections::BTreeMap::new();
    for req in &requests {
        *by_state.entry(state_word(req.spec.state).to_owned()).or_insert(0) += 1;
    }
    let total = requests.len();
    let requests: Vec<AccessRequestView> = requests.iter().take(limit).map(AccessRequestView::from).collect();
    Ok(ToolRun { value: AccessRequestList { count: requests.len(), total, by_state, requests }, record })
}

async fn fetch(
    r: &Runner,
    cancel: &CancellationToken,
    id: &RequestId,
) -> Result<(AccessRequestView, RequestState, super::RunRecord), ToolFailure> {
    let args = vec!["request".into(), "show".into(), id.to_string(), "--format=json".into()];
    let (out, record) = run_checked(r, Binary::Tsh, &args, Scrub::Plain, cancel).await?;
    match parse::parse_access_request(&out.stdout) {
        Ok(req) => Ok((AccessRequestView::from(&req), req.spec.state, record)),
        Err(error) => Err(ToolFailure::Parse { error, record }),
    }
}

/// `tsh request show ID --format=json`.
pub async fn show(
    r: &Runner,
    cancel: &CancellationToken,
    id: &RequestId,
) -> Result<ToolRun<AccessRequestView>, ToolFailure> {
    let (value, _, record) = fetch(r, cancel, id).await?;
    Ok(ToolRun { value, record })
}

/// `tsh request create --roles=… --resource=… --reason=… --nowait`; the id is read from the
/// `Request ID:` line.
pub async fn create(
    r: &Runner,
    cancel: &CancellationToken,
    resources: &[RequestedResource],
    teleport_reason: &str,
) -> Result<ToolRun<CreatedRequest>, ToolFailure> {
    let roles: Vec<String> = resources
        .iter()
        .filter_map(|x| match x {
            RequestedResource::Role(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let ids: Vec<String> = resources
        .iter()
        .filter_map(|x| match x {
            RequestedResource::Resource(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let mut args: Vec<String> = vec!["request".into(), "create".into()];
    if !roles.is_empty() {
        args.push(format!("--roles={}", roles.join(",")));
    }
    args.extend(ids.iter().map(|id| format!("--resource={id}")));
    // `--flag=value` keeps a reason that starts with `-` from ever being read as a flag.
    args.push(format!("--reason={teleport_reason}"));
    args.push("--nowait".into());
    let (out, record) = run_checked(r, Binary::Tsh, &args, Scrub::Plain, cancel).await?;
    let id = out.stdout.lines().find_map(|l| l.strip_prefix("Request ID:")).map(|s| s.trim().to_owned());
    let Some(request_id) = id.filter(|i| RequestId::parse(i).is_ok()) else {
        return Err(parse_failure(
            "tsh request create",
            "no `Request ID:` line with a request id in the output",
            record,
        ));
    };
    Ok(ToolRun {
        value: CreatedRequest {
            request_id,
            state: "pending".into(),
            roles,
            resources: ids,
            teleport_reason: teleport_reason.to_owned(),
        },
        record,
    })
}

/// `tsh request review ID --approve|--deny --reason=…`; Teleport answers on stderr.
pub async fn review(
    r: &Runner,
    cancel: &CancellationToken,
    id: &RequestId,
    approve: bool,
    reason: &str,
) -> Result<ToolRun<ReviewResult>, ToolFailure> {
    let verdict = if approve { "--approve" } else { "--deny" };
    let args = vec!["request".into(), "review".into(), id.to_string(), verdict.into(), format!("--reason={reason}")];
    let (out, record) = run_checked(r, Binary::Tsh, &args, Scrub::Plain, cancel).await?;
    let line = out.stderr.lines().chain(out.stdout.lines()).find(|l| l.contains("Request state:")).map(str::to_owned);
    let Some(line) = line else {
        return Err(parse_failure("tsh request review", "no `Request state:` line in the output", record));
    };
    let state = line.rsplit("Request state:").next().unwrap_or("").trim().to_ascii_lowercase();
    Ok(ToolRun {
        value: ReviewResult {
            request_id: id.to_string(),
            review: if approve { "approve" } else { "deny" }.into(),
            effective: !line.contains("ineffectual"),
            state,
        },
        record,
    })
}
