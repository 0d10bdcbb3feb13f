//! `tsh request ls|show|create|review|drop` (`tool/tsh/common/access_request.go`), acting as the
//! simulator's identity against the requests in the state directory ([`crate::store`]).

use super::status;
use crate::Ctx;
use crate::cli::{Arg, Command, Flag, Parsed};
use crate::encode::gojson;
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::rbac;
use crate::requests::review::{self, Reviewed};
use crate::requests::{self, NewRequest, RequestState, ResourceId, text};
use crate::store::Store;
use crate::timefmt::parse_go_duration;
use crate::value::Value;

const FORMAT: Flag = Flag::one_of("format", &["text", "json", "yaml"]).short('f');

const LS: Command = Command::new("ls", "List access requests.").flags(&[
    FORMAT,
    Flag::bool("reviewable"),
    Flag::bool("suggested"),
    Flag::bool("my-requests"),
]);
const SHOW: Command =
    Command::new("show", "Show request details.").flags(&[FORMAT]).args(&[Arg::required("request-id")]);
/// `tsh request create`, alias `new` (`tool/tsh/common/tsh.go`, `Run`: "the `tsh request new`
/// subcommand should not be used anymore … all public facing documentation should now refer to
/// `tsh request create`").
const CREATE: Command = Command::new("create", "Create a new access request.").aliases(&["new"]).flags(&[
    Flag::value("roles"),
    Flag::value("reason"),
    Flag::value("reviewers"),
    Flag::bool("nowait"),
    Flag::value("resource"),
    Flag::value("request-ttl"),
    Flag::value("session-ttl"),
    Flag::value("max-duration"),
    Flag::value("assume-start-time"),
]);
const REVIEW: Command = Command::new("review", "Review an access request.")
    .flags(&[Flag::bool("approve"), Flag::bool("deny"), Flag::value("reason")])
    .args(&[Arg::required("request-id")]);
const DROP: Command =
    Command::new("drop", "Drop one more access requests from current identity.").args(&[Arg::rest("request-id")]);

/// The `request` command group.
pub const COMMAND: Command = Command::new("request", "Manage access requests.")
    .aliases(&["requests"])
    .subcommands(&[LS, SHOW, CREATE, REVIEW, DROP]);

/// The RBAC verb of each subcommand (all act on `access_request`).
pub fn verb(command: &str) -> Option<&'static str> {
    Some(match command {
        "request ls" => "list",
        "request show" => "read",
        "request create" => "create",
        "request review" | "request drop" => "update",
        _ => return None,
    })
}

/// Runs a `tsh request` subcommand.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    match parsed.command.as_str() {
        "request ls" => ls(parsed, ctx),
        "request show" => show(parsed, ctx),
        "request create" => create(parsed, ctx),
        "request review" => review(parsed, ctx),
        "request drop" => drop(parsed, ctx),
        other => Err(SimError::msg(format!("teleport-sim: no handler for `tsh {other}`"))),
    }
}

fn store(ctx: &Ctx) -> Result<Store, SimError> {
    Store::locate(ctx.env)
}

/// `tsh request ls`: jsoniter without a trailing newline for JSON; the §6.1 table for text.
fn ls(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let book = store(ctx)?.read(&ctx.state.access_requests)?;
    let me = ctx.identity();
    let reviewed_by_me = |r: &Value| r.array_at(&["spec", "reviews"]).iter().any(|v| v.str_at(&["author"]) == me);
    let mut reqs: Vec<Value> = book.access_requests.clone();
    if parsed.switch("reviewable") {
        reqs.retain(|r| requests::user(r) != me && !reviewed_by_me(r));
    }
    if parsed.switch("suggested") {
        let suggested = |r: &Value| r.array_at(&["spec", "suggested_reviewers"]).iter().any(|v| v.as_str() == Some(me));
        reqs.retain(|r| requests::user(r) != me && !reviewed_by_me(r) && suggested(r));
    }
    if parsed.switch("my-requests") {
        reqs.retain(|r| requests::user(r) == me);
    }
    if let Some(rights) = rbac::rights(ctx.state, me) {
        reqs.retain(|r| rights.sees_request(me, requests::user(r), &requests::roles(r)));
    }
    // The backend lists by key, that is by ID.
    reqs.sort_by(|a, b| requests::id(a).cmp(requests::id(b)));
    Ok(Outcome::stdout(match parsed.flag("format") {
        Some("json") => gojson::marshal(&Value::Array(reqs), gojson::TSH),
        Some("yaml") => crate::encode::yaml::document(&Value::Array(reqs)),
        _ => text::tsh_table(&requests::newest_first(reqs), ctx.now),
    }))
}

/// `tsh request show <id>`: one object (no trailing newline), or the §6.2 block.
fn show(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let book = store(ctx)?.read(&ctx.state.access_requests)?;
    let id = parsed.args.first().map(String::as_str).unwrap_or_default();
    let req = requests::find(&book, id).ok_or_else(|| not_found(id))?;
    // A request the identity may not see is, to it, not there (`GetAccessRequests` filters it).
    if let Some(rights) = rbac::rights(ctx.state, ctx.identity())
        && !rights.sees_request(ctx.identity(), requests::user(req), &requests::roles(req))
    {
        return Err(not_found(id));
    }
    Ok(Outcome::stdout(match parsed.flag("format") {
        Some("json") => gojson::marshal(req, gojson::TSH),
        Some("yaml") => crate::encode::yaml::document(req),
        _ => text::show(req),
    }))
}

/// `tsh request create … --nowait`: `Creating request...`, the request block, an empty line and
/// the profile block.
fn create(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let roles = requests::split_identifiers(parsed.flag("roles").unwrap_or_default());
    let raw_resources = parsed.all("resource");
    if roles.is_empty() && raw_resources.is_empty() {
        return Err(SimError::msg("at least one role or resource or a request ID must be specified"));
    }
    if !parsed.switch("nowait") {
        return Err(SimError::msg(
            "teleport-sim: `tsh request create` without --nowait would wait for the review; \
             the simulator only supports --nowait",
        ));
    }
    if let Some(rights) = rbac::rights(ctx.state, ctx.identity()) {
        may_request(&rights, ctx.identity(), &roles, !raw_resources.is_empty())?;
    }
    let mut new = NewRequest::new(ctx.identity(), roles);
    new.resources =
        raw_resources.into_iter().map(|r| ResourceId::parse(r, ctx.release.major())).collect::<Result<_, _>>()?;
    new.reason = parsed.flag("reason").unwrap_or_default().to_owned();
    new.reviewers = requests::split_identifiers(parsed.flag("reviewers").unwrap_or_default());
    if let Some(ttl) = duration_flag(parsed, "request-ttl")? {
        new.request_ttl = ttl;
    }
    if let Some(ttl) = duration_flag(parsed, "session-ttl")? {
        new.session_ttl = ttl;
    }
    let id =
        crate::uuid::v4().map_err(|err| SimError::msg(format!("teleport-sim: cannot read /dev/urandom: {err}")))?;
    let req = new.build(ctx.state, &id, ctx.now)?;
    let book = store(ctx)?.update(&ctx.state.access_requests, |book| {
        book.access_requests.push(req.clone());
        Ok(book.clone())
    })?;
    let out = format!("Creating request...\n{}\n{}", text::show(&req), status::block(parsed, ctx, &book));
    Ok(Outcome::stdout(out))
}

/// Under RBAC, the roles asked for must be in the identity's `request.roles`, and a request for
/// resources needs the role it is searched with in `request.search_as_roles`; the messages are
/// those of `lib/services/access_request.go`.
fn may_request(rights: &rbac::Rights, me: &str, roles: &[String], resources: bool) -> Result<(), SimError> {
    if let Some(role) = roles.iter().find(|r| *r != "*" && !rights.lists(&["request", "roles"], r)) {
        return Err(SimError::msg(format!("user {me:?} can not request role {role:?}")));
    }
    if resources && roles.is_empty() && !rights.lists(&["request", "search_as_roles"], requests::SEARCH_AS_ROLE) {
        return Err(SimError::msg(format!(
            "Resource Access Requests require usable \"search_as_roles\", none found for user {me:?}"
        )));
    }
    Ok(())
}

fn duration_flag(parsed: &Parsed, name: &str) -> Result<Option<chrono::Duration>, SimError> {
    let Some(text) = parsed.flag(name) else { return Ok(None) };
    let nanos = parse_go_duration(text).ok_or_else(|| SimError::msg(format!("time: invalid duration {text:?}")))?;
    Ok(Some(chrono::Duration::nanoseconds(nanos as i64)))
}

/// `tsh request review <id> --approve|--deny`: one line on stderr.
fn review(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let id = parsed.args.first().map(String::as_str).unwrap_or_default();
    let reason = parsed.flag("reason").unwrap_or_default();
    let author = ctx.identity();
    submit_review(ctx, id, author, parsed.switch("approve"), parsed.switch("deny"), reason)
}

/// Shared with `tctl requests review`: applies the review and words the outcome like `tsh`.
pub fn submit_review(
    ctx: &Ctx,
    id: &str,
    author: &str,
    approve: bool,
    deny: bool,
    reason: &str,
) -> Result<Outcome, SimError> {
    if approve == deny {
        return Err(SimError::msg("must supply exactly one of '--approve' or '--deny'"));
    }
    let proposed = if approve { RequestState::Approved } else { RequestState::Denied };
    let Reviewed { state } = store(ctx)?.update(&ctx.state.access_requests, |book| {
        let req = book.access_requests.iter_mut().find(|r| requests::id(r) == id).ok_or_else(|| not_found(id))?;
        // Under RBAC the reviewer's `review_requests` must cover the request's roles.
        if let Some(rights) = rbac::rights(ctx.state, author)
            && requests::user(req) != author
            && !rights.may_review(&requests::roles(req))
        {
            return Err(SimError::msg(format!("user {author:?} cannot review request {id:?}")));
        }
        review::submit(req, author, proposed, reason, ctx.now)
    })?;
    let line = if state == RequestState::Pending || state == proposed {
        format!("Successfully submitted review.  Request state: {}\n", state.name())
    } else {
        format!("Warning: ineffectual review. Request state: {}\n", state.name())
    };
    Ok(Outcome::stderr(line))
}

/// `tsh request drop [<id>...]`: the requests leave the identity's certificates (the request
/// objects stay); `*` or no argument drops every active one.
fn drop(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let ids: Vec<String> = if parsed.args.is_empty() { vec!["*".to_owned()] } else { parsed.args.clone() };
    let all = ids.len() == 1 && ids[0] == "*";
    let me = ctx.identity();
    let book = store(ctx)?.update(&ctx.state.access_requests, |book| {
        let dropping: Vec<String> = if all {
            requests::active_for(book, me, ctx.now).iter().map(|r| requests::id(r).to_owned()).collect()
        } else {
            match ids.iter().find(|id| requests::find(book, id).is_none()) {
                Some(missing) => return Err(not_found(missing)),
                None => ids.clone(),
            }
        };
        let dropped = book.dropped.entry(me.to_owned()).or_default();
        for id in dropping {
            if !dropped.contains(&id) {
                dropped.push(id);
            }
        }
        Ok(book.clone())
    })?;
    let head = if all {
        "Dropping all active access requests...\n\n".to_owned()
    } else {
        format!("Dropping access request(s): {}...\n\n", ids.join(", "))
    };
    Ok(Outcome::stdout(head + &status::block(parsed, ctx, &book)))
}

/// `no access request matching "<id>"`: the `trace.NotFound` of `services.GetAccessRequest`
/// (`lib/services/access_request.go`), which `tsh request show` uses (`onRequestShow`); the
/// simulator words every lookup of a missing request this way.
pub fn not_found(id: &str) -> SimError {
    SimError::msg(format!("no access request matching {id:?}"))
}
