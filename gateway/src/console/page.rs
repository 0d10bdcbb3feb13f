//! What every console page shares: the chrome (who is signed in, the CSRF token, the pages the
//! role may open), what the role may do, the error page, and rendering.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use mtcp_shared::domain::Capability;

use super::Console;
use super::session::Signed;

/// The console's pages, in the order of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Operations,
    Approvals,
    Leases,
    Agents,
    Policy,
}

/// One navigation link.
pub struct Nav {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the signed-in role may see and do, from the policy's grants: a page or button the role
/// could not use is not shown (and the tool call behind it refuses it all the same).
#[derive(Debug, Clone, Copy, Default)]
pub struct Can {
    pub review_approvals: bool,
    pub list_leases: bool,
    pub stop_leases: bool,
    pub read_logs: bool,
    /// `admin.operations`: the whole trail (`search_operations`), and the workers and the whole
    /// policy, which are the control plane's own state.
    pub admin: bool,
}

impl Can {
    pub fn of(console: &Console, role: &str) -> Self {
        let caps = console.app.policy.load().capabilities_of(role);
        let has = |c: Capability| caps.contains(&c);
        Self {
            review_approvals: has(Capability::ApprovalReview),
            list_leases: has(Capability::ProxyList),
            stop_leases: has(Capability::ProxyStop),
            read_logs: has(Capability::ProxyLogs),
            admin: has(Capability::AdminOperations),
        }
    }

    /// Whether the role may open `section`.
    pub fn open(&self, section: Section) -> bool {
        match section {
            Section::Operations => self.admin,
            Section::Approvals => self.review_approvals,
            Section::Leases => self.list_leases,
            Section::Agents => self.list_leases || self.admin,
            Section::Policy => true,
        }
    }

    /// The first page the role may open: where `/console` goes.
    pub fn home(&self) -> &'static str {
        let first = [Section::Operations, Section::Approvals, Section::Leases, Section::Agents]
            .into_iter()
            .find(|s| self.open(*s))
            .unwrap_or(Section::Policy);
        href(first)
    }
}

fn href(section: Section) -> &'static str {
    match section {
        Section::Operations => "/console/operations",
        Section::Approvals => "/console/approvals",
        Section::Leases => "/console/leases",
        Section::Agents => "/console/agents",
        Section::Policy => "/console/policy",
    }
}

/// The frame around every signed-in page.
pub struct Chrome {
    pub actor: String,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<Nav>,
    pub can: Can,
    /// A message about what the last action did.
    pub notice: Option<String>,
}

impl Chrome {
    pub fn new(console: &Console, signed: &Signed, current: Section) -> Self {
        let can = Can::of(console, &signed.actor.role);
        let all = [
            (Section::Operations, "Operations"),
            (Section::Approvals, "Approvals"),
            (Section::Leases, "Leases"),
            (Section::Agents, "Agents"),
            (Section::Policy, "Policy"),
        ];
        let nav = all
            .into_iter()
            .filter(|(s, _)| can.open(*s))
            .map(|(s, label)| Nav { href: href(s), label, current: s == current })
            .collect();
        Self {
            actor: signed.actor.id.clone(),
            role: signed.actor.role.clone(),
            csrf: signed.csrf.clone(),
            nav,
            can,
            notice: None,
        }
    }

    /// Refuse a page the role may not open, before any tool is called.
    pub fn require(&self, section: Section) -> Result<(), Problem> {
        if self.can.open(section) { Ok(()) } else { Err(Problem::forbidden("your role may not open this page")) }
    }
}

/// `?notice=` after an action: one of a fixed set, so a link cannot put words on the page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

impl NoticeQuery {
    pub fn text(&self) -> Option<String> {
        let text = match self.notice.as_deref()? {
            "approved" => "Your approval is recorded (the call runs once every approval it needs is given).",
            "denied" => "Your denial is recorded: the call will not run.",
            "stopped" => "The lease is stopped.",
            _ => return None,
        };
        Some(text.to_owned())
    }
}

/// An error page: what went wrong, in words, with its status.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    message: String,
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl Problem {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// A tool's refusal: 403 when the policy denied the call, 429 over the rate limit, else
    /// `otherwise` (404 for a page about an object the caller cannot see, 409 for an action that
    /// does not fit the object's state: already decided, a wrong digest, …).
    pub fn from_tool(message: String, otherwise: StatusCode) -> Self {
        let status = if message.starts_with("denied by policy") {
            StatusCode::FORBIDDEN
        } else if message.starts_with("rate limit of role") {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            otherwise
        };
        Self::new(status, message)
    }
    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "the control plane's database is unavailable; try again")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = ProblemPage { title, message: &self.message };
        (self.status, render(&page)).into_response()
    }
}

/// Render a template; a template that fails to render is a bug, answered as such.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// A time as pages show it (UTC, to the second).
pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional time, or a dash.
pub fn when_opt(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref().map_or_else(|| "—".to_owned(), when)
}

/// A JSON value as an indented block (shown escaped, like every value).
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
