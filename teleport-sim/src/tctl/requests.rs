//! `tctl requests ls|get|approve|deny|create|rm|review` (
//! `tool/tctl/common/access_request_command.go`): the admin side. `tctl` acts with the
//! Auth Service's authority, so approving or denying is a direct state change, not a review.

use super::Ctx;
use crate::cli::{Arg, Command, Flag, Parsed};
use crate::encode::gojson;
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::requests::{self, NewRequest, RequestState, ResourceId, review, text};
use crate::store::Store;
use crate::tsh::request::{not_found, submit_review};
use crate::value::Value;

const ID: Arg = Arg::required("request-id");
const LS: Command = Command::new("ls", "Show active access requests.").flags(&[
    Flag::value("format"),
    Flag::value("sort-index"),
    Flag::value("sort-order"),
]);
const GET: Command = Command::new("get", "Show access request by ID.").flags(&[Flag::value("format")]).args(&[ID]);
const APPROVE: Command = Command::new("approve", "Approve pending access request.")
    .flags(&[Flag::value("reason"), Flag::value("delegator"), Flag::value("annotations")])
    .args(&[ID]);
const DENY: Command = Command::new("deny", "Deny pending access request.")
    .flags(&[Flag::value("reason"), Flag::value("delegator"), Flag::value("annotations")])
    .args(&[ID]);
const CREATE: Command = Command::new("create", "Create pending access request.")
    .flags(&[Flag::value("roles"), Flag::value("resource"), Flag::value("reason")])
    .args(&[Arg::required("username")]);
const RM: Command =
    Command::new("rm", "Delete an access request.").flags(&[Flag::bool("force").short('f')]).args(&[ID]);
const REVIEW: Command = Command::new("review", "Review an access request.")
    .flags(&[Flag::value("author"), Flag::bool("approve"), Flag::bool("deny")])
    .args(&[ID]);

/// The `requests` command group.
pub const COMMAND: Command = Command::new("requests", "Manage access requests.")
    .aliases(&["request"])
    .subcommands(&[LS, GET, APPROVE, DENY, CREATE, RM, REVIEW]);

/// The RBAC verb of each subcommand (all act on `access_request`).
pub fn verb(command: &str) -> Option<&'static str> {
    Some(match command {
        "requests ls" => "list",
        "requests get" => "read",
        "requests create" => "create",
        "requests approve" | "requests deny" | "requests review" => "update",
        "requests rm" => "delete",
        _ => return None,
    })
}

/// Runs a `tctl requests` subcommand.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let ids = || -> Vec<String> { parsed.args[0].split(',').map(str::to_owned).collect() };
    match parsed.command.as_str() {
        "requests ls" => ls(parsed, ctx),
        "requests get" => get(parsed, ctx, &ids()),
        "requests approve" => set_state(ctx, &ids(), RequestState::Approved, parsed.flag("reason")),
        "requests deny" => set_state(ctx, &ids(), RequestState::Denied, parsed.flag("reason")),
        "requests create" => create(parsed, ctx),
        "requests rm" => rm(ctx, &ids(), parsed.switch("force")),
        "requests review" => {
            let author = parsed.flag("author").ok_or_else(|| SimError::msg("required flag --author not provided"))?;
            submit_review(ctx, &ids()[0], author, parsed.switch("approve"), parsed.switch("deny"), "")
        }
        other => Err(SimError::msg(format!("teleport-sim: no handler for `tctl {other}`"))),
    }
}

fn store(ctx: &Ctx) -> Result<Store, SimError> {
    Store::locate(ctx.env)
}

/// `request with ID "<id>" not found` (the wording of `get` and `rm`).
fn no_such(id: &str) -> SimError {
    SimError::msg(format!("request with ID {id:?} not found"))
}

fn check_format(format: &str) -> Result<(), SimError> {
    match format {
        "text" | "json" => Ok(()),
        other => Err(SimError::msg(format!("unknown format {other:?}, must be one of [\"text\", \"json\"]"))),
    }
}

/// `printJSON`: `json.MarshalIndent` with 2 spaces, then a newline (`[]` too).
fn print_json(reqs: Vec<Value>) -> String {
    gojson::marshal(&Value::Array(reqs), gojson::TCTL_REQUESTS) + "\n"
}

/// Requests whose access has not expired, newest first.
fn ls(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let format = parsed.flag("format").unwrap_or("text");
    check_format(format)?;
    let book = store(ctx)?.read(&ctx.state.access_requests)?;
    let live: Vec<Value> = book.access_requests.into_iter().filter(|r| requests::unexpired(r, ctx.now)).collect();
    let live = requests::newest_first(live);
    Ok(Outcome::stdout(if format == "json" { print_json(live) } else { text::tctl_table(&live, ctx.now) }))
}

fn get(parsed: &Parsed, ctx: &Ctx, ids: &[String]) -> Result<Outcome, SimError> {
    let format = parsed.flag("format").unwrap_or("text");
    check_format(format)?;
    let book = store(ctx)?.read(&ctx.state.access_requests)?;
    let found =
        ids.iter().map(|id| requests::find(&book, id).ok_or_else(|| no_such(id))).collect::<Result<Vec<_>, _>>()?;
    Ok(Outcome::stdout(if format == "json" {
        print_json(found.into_iter().cloned().collect())
    } else {
        text::tctl_details(&found)
    }))
}

/// `approve`/`deny`: prints nothing.
fn set_state(ctx: &Ctx, ids: &[String], state: RequestState, reason: Option<&str>) -> Result<Outcome, SimError> {
    store(ctx)?.update(&ctx.state.access_requests, |book| {
        for id in ids {
            let req = book.access_requests.iter_mut().find(|r| requests::id(r) == id).ok_or_else(|| not_found(id))?;
            review::set_state(req, state, reason.unwrap_or_default())?;
        }
        Ok(())
    })?;
    Ok(Outcome::default())
}

/// `create <user>`: prints the new request's ID. No roles and no resources mean every
/// requestable role (`--roles` defaults to `*`).
fn create(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let user = parsed.args[0].as_str();
    let mut roles = requests::split_identifiers(parsed.flag("roles").unwrap_or_default());
    let raw_resources = parsed.all("resource");
    if roles.is_empty() && raw_resources.is_empty() {
        roles = vec!["*".to_owned()];
    }
    let mut new = NewRequest::new(user, roles);
    new.resources =
        raw_resources.into_iter().map(|r| ResourceId::parse(r, ctx.release.major())).collect::<Result<_, _>>()?;
    new.reason = parsed.flag("reason").unwrap_or_default().to_owned();
    let id =
        crate::uuid::v4().map_err(|err| SimError::msg(format!("teleport-sim: cannot read /dev/urandom: {err}")))?;
    let req = new.build(ctx.state, &id, ctx.now)?;
    store(ctx)?.update(&ctx.state.access_requests, |book| {
        book.access_requests.push(req);
        Ok(())
    })?;
    Ok(Outcome::stdout(format!("{id}\n")))
}

/// `rm`: an approved request is only deleted with `--force`; without it `tctl` explains why.
fn rm(ctx: &Ctx, ids: &[String], force: bool) -> Result<Outcome, SimError> {
    let approved = store(ctx)?.update(&ctx.state.access_requests, |book| {
        let mut approved = Vec::new();
        for id in ids {
            let req = requests::find(book, id).ok_or_else(|| no_such(id))?;
            if requests::state(req) == RequestState::Approved {
                approved.push(id.clone());
            }
        }
        if approved.is_empty() || force {
            book.access_requests.retain(|r| !ids.iter().any(|id| id == requests::id(r)));
            for dropped in book.dropped.values_mut() {
                dropped.retain(|d| !ids.contains(d));
            }
        }
        Ok(approved)
    })?;
    let mut out = String::new();
    if approved.is_empty() || force {
        out.push_str("Access request deleted successfully.\n");
    }
    if !force && !approved.is_empty() {
        out.push_str("\nThis access request has already been approved, deleting the request now will NOT remove\n");
        out.push_str("the user's access to these roles. If you would like to lock the user's access to the\n");
        out.push_str("requested roles instead, you can run:\n\n");
        for id in &approved {
            out.push_str(&format!("> tctl lock --access-request {id}\n"));
        }
        out.push_str(
            "\nTo disregard this warning and delete the request anyway, re-run this command with --force.\n\n",
        );
    }
    Ok(Outcome::stdout(out))
}
