//! Text renderings of access requests (`tool/tsh/common/access_request.go`): `tsh request show` (`printRequest`),
//! the `tsh request ls` table, `tctl requests ls` and `tctl requests get`.

use chrono::{DateTime, Utc};

use super::{RequestState, access_expiry, created, id, request_expiry, resources_string, roles, state, user};
use crate::encode::quote::go_quote;
use crate::encode::table::{render, render_headless, truncate};
use crate::timefmt::{go_duration_rounded, local_datetime, rfc822, until_nanos};
use crate::value::Value;

/// The login hint `tsh` prints under request details.
pub const LOGIN_HINT: &str = "use 'tsh login --request-id=<request-id>' to login with an approved request";

const MINUTE: i64 = 60_000_000_000;

fn cells(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// `printRequest`: the headless details table, the review blocks, then the login hint.
pub fn show(req: &Value) -> String {
    let reason = req.str_at(&["spec", "request_reason"]);
    let reviewers: Vec<&str> =
        req.array_at(&["spec", "suggested_reviewers"]).iter().filter_map(Value::as_str).collect();
    let reviewers = if reviewers.is_empty() { "[none]".to_owned() } else { reviewers.join(", ") };
    let mut rows = vec![cells(&["Request ID:", id(req)]), cells(&["Username:", user(req)])];
    rows.push(vec!["Roles:".into(), roles(req).join(", ")]);
    let resources = resources_string(req);
    if !resources.is_empty() {
        rows.push(vec!["Resources:".into(), resources]);
    }
    rows.push(vec!["Reason:".into(), quote_or(reason, "[none]")]);
    rows.push(vec!["Reviewers:".into(), format!("{reviewers} (suggested)")]);
    if let Some(expiry) = access_expiry(req) {
        rows.push(vec!["Access Expires:".into(), local_datetime(expiry)]);
    }
    rows.push(vec!["Status:".into(), state(req).name().into()]);
    let mut out = render_headless(&rows);
    for (title, wanted) in [("Approvals", RequestState::Approved), ("Denials", RequestState::Denied)] {
        let reviews: Vec<&Value> = req
            .array_at(&["spec", "reviews"])
            .iter()
            .filter(|r| r.at(&["proposed_state"]).and_then(number) == Some(wanted.number()))
            .collect();
        if reviews.is_empty() {
            continue;
        }
        // `printReviewBlock` prints its separators without newlines.
        out.push_str(&format!("------------------------------------------------{title}:\n"));
        for review in reviews {
            out.push_str("  ----------------------------------------------");
            out.push_str(&render_headless(&[
                cells(&["  Reviewer:", review.str_at(&["author"])]),
                vec!["  Reason:".into(), quote_or(review.str_at(&["reason"]), "[none]")],
            ]));
        }
    }
    out.push_str(&format!("\nhint: {LOGIN_HINT}\n"));
    out
}

/// The `tsh request ls` table: newest first, requests whose access expired left out.
pub fn tsh_table(reqs: &[Value], now: DateTime<Utc>) -> String {
    let mut footnote = false;
    let rows: Vec<Vec<String>> = reqs
        .iter()
        .filter(|r| access_expiry(r).is_some_and(|t| now <= t))
        .map(|r| {
            let (resources, cut) = truncate(&resources_string(r), 20, "[+]");
            footnote |= cut;
            vec![
                id(r).to_owned(),
                user(r).to_owned(),
                roles(r).join(","),
                resources,
                created_rfc822(r),
                ttl(request_expiry(r), now),
                ttl(access_expiry(r), now),
                String::new(),
                state(r).name().to_owned(),
            ]
        })
        .collect();
    let headers = [
        "ID",
        "User",
        "Roles",
        "Resources",
        "Created At (UTC)",
        "Request TTL",
        "Session TTL",
        "Assume Time (UTC)",
        "Status",
    ];
    let mut out = render(&headers, &rows);
    if footnote {
        out.push_str(
            "\n[+] Requested resources truncated, use `tsh request show <request-id>` to view the full list\n",
        );
    }
    out.push_str("\nhint: use 'tsh request show <request-id>' for additional details\n");
    out.push_str(&format!("      {LOGIN_HINT}\n"));
    out
}

/// The `tctl requests ls` table (`printRequestsOverview`).
pub fn tctl_table(reqs: &[Value], now: DateTime<Utc>) -> String {
    let (mut resources_cut, mut reason_cut) = (false, false);
    let rows: Vec<Vec<String>> = reqs
        .iter()
        .map(|r| {
            let (resources, cut) = truncate(&resources_string(r), 20, "[+]");
            resources_cut |= cut;
            let mut reason = |key: &str| {
                let (text, cut) = truncate(&quote_or(r.str_at(&["spec", key]), ""), 75, "[*]");
                reason_cut |= cut;
                text
            };
            vec![
                id(r).to_owned(),
                user(r).to_owned(),
                format!("roles={}", roles(r).join(",")),
                resources,
                created_rfc822(r),
                ttl(request_expiry(r), now),
                ttl(access_expiry(r), now),
                state(r).name().to_owned(),
                reason("request_reason"),
                reason("resolve_reason"),
            ]
        })
        .collect();
    let headers = [
        "Token",
        "Requestor",
        "Metadata",
        "Resources",
        "Created At (UTC)",
        "Request TTL",
        "Session TTL",
        "Status",
        "Request Reason",
        "Resolve Reason",
    ];
    let mut out = render(&headers, &rows);
    if resources_cut {
        out.push_str(
            "\n[+] Requested resources truncated, use the `tctl requests get` subcommand to view the full list\n",
        );
    }
    if reason_cut {
        out.push_str(
            "\n[*] Full reason was truncated, use the `tctl requests get` subcommand to view the full reason.\n",
        );
    }
    out
}

/// `tctl requests get` (`printRequestsDetailed`): one headless block per request, each
/// followed by an empty line.
pub fn tctl_details(reqs: &[&Value]) -> String {
    let mut out = String::new();
    for r in reqs {
        let resources = resources_string(r);
        let rows = vec![
            cells(&["Token: ", id(r)]),
            cells(&["Requestor: ", user(r)]),
            vec!["Metadata: ".into(), format!("roles={}", roles(r).join(","))],
            vec!["Resources: ".into(), if resources.is_empty() { "[none]".into() } else { resources }],
            vec!["Created At (UTC): ".into(), created_rfc822(r)],
            cells(&["Status: ", state(r).name()]),
            vec!["Request Reason: ".into(), quote_or(r.str_at(&["spec", "request_reason"]), "[none]")],
            vec!["Resolve Reason: ".into(), quote_or(r.str_at(&["spec", "resolve_reason"]), "[none]")],
        ];
        out.push_str(&render_headless(&rows));
        out.push('\n');
    }
    out
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// `quoteOrDefault`: Go-quoted, or the default when empty.
fn quote_or(s: &str, default: &str) -> String {
    if s.is_empty() { default.to_owned() } else { go_quote(s) }
}

/// The creation time in `time.RFC822`; Go's zero time when unset.
fn created_rfc822(req: &Value) -> String {
    created(req).map_or_else(|| "01 Jan 01 00:00 UTC".to_owned(), rfc822)
}

/// `time.Until(t).Round(time.Minute).String()`; a zero time is far in the past.
fn ttl(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let nanos = t.map_or(i64::MIN, |t| until_nanos(now, t));
    go_duration_rounded(nanos, MINUTE)
}
