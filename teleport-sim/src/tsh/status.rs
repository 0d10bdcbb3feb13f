//! `tsh status [--format=text|json]` and the profile block `tsh request create|drop` print after
//! their own output (`tool/tsh/common/tsh.go` `printStatus`), for the simulator's identity.
//!
//! The profile is the identity's: its roles and logins come from the cluster's user of that
//! name (a user the cluster does not list, such as the default `mcp-control-plane`, holds
//! `access` and no logins), plus the roles of its active requests; certificates are valid for
//! 12 hours from now.

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::Ctx;
use crate::cli::{Command, Flag, Parsed};
use crate::encode::gojson;
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::requests;
use crate::store::{Book, Store};
use crate::timefmt::{go_duration_rounded, go_time, local_go_string, until_nanos};
use crate::value::{Value, obj};

/// The `status` command.
pub const COMMAND: Command = Command::new("status", "Display the list of proxy servers and retrieved certificates.")
    .flags(&[Flag::one_of("format", &["text", "json", "yaml"]).short('f')]);

const CERT_TTL: Duration = Duration::hours(12);
const EXTENSIONS: [&str; 5] =
    ["login-ip", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "private-key-policy"];
const DEFAULT_ROLES: [&str; 1] = ["access"];

/// What `tsh status` knows about the active profile.
#[derive(Debug, Clone)]
struct Profile {
    url: String,
    user: String,
    active: Vec<String>,
    cluster: String,
    roles: Vec<String>,
    logins: Vec<String>,
    valid_until: DateTime<Utc>,
}

/// Runs `tsh status`.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let book = Store::locate(ctx.env)?.read(&ctx.state.access_requests)?;
    let p = profile(parsed, ctx, &book);
    if parsed.flag("format") == Some("json") {
        let strings = |items: &[String]| Value::Array(items.iter().map(Value::from).collect());
        let active = obj! {
            "profile_url" => p.url.as_str(),
            "username" => p.user.as_str(),
            "active_requests" => strings(&p.active),
            "cluster" => p.cluster.as_str(),
            "roles" => strings(&p.roles),
            "logins" => strings(&p.logins),
            "kubernetes_enabled" => true,
            "valid_until" => go_time(p.valid_until),
            "extensions" => EXTENSIONS.to_vec(),
        };
        let doc = obj! { "active" => active, "profiles" => Vec::<Value>::new() };
        return Ok(Outcome::stdout(gojson::write_object(&doc, gojson::TSH)));
    }
    Ok(Outcome::stdout(text(&p, ctx.now)))
}

/// The profile block for the identity as `book` leaves it.
pub fn block(parsed: &Parsed, ctx: &Ctx, book: &Book) -> String {
    text(&profile(parsed, ctx, book), ctx.now)
}

fn profile(parsed: &Parsed, ctx: &Ctx, book: &Book) -> Profile {
    let user = ctx.identity().to_owned();
    let proxy = parsed.flag("proxy").map(str::to_owned).or_else(|| ctx.env.proxy.clone());
    let url = match proxy {
        Some(proxy) => {
            let host = proxy.trim_start_matches("https://").split(',').next().unwrap_or_default().to_owned();
            if host.contains(':') { format!("https://{host}") } else { format!("https://{host}:443") }
        }
        None => format!("https://{}:443", ctx.state.cluster_name),
    };
    let known = ctx.state.user(&user);
    let strings = |path: &[&str]| -> Option<Vec<String>> {
        let items = known?.at(path)?.as_array()?;
        Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    let mut roles = strings(&["spec", "roles"]).unwrap_or_else(|| DEFAULT_ROLES.map(str::to_owned).to_vec());
    let active = requests::active_for(book, &user, ctx.now);
    for role in active.iter().flat_map(|r| requests::roles(r)) {
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_owned());
        }
    }
    let valid_until = (ctx.now + CERT_TTL).duration_trunc(Duration::seconds(1)).unwrap_or(ctx.now + CERT_TTL);
    Profile {
        url,
        user,
        active: active.iter().map(|r| requests::id(r).to_owned()).collect(),
        cluster: ctx.env.cluster.clone().unwrap_or_else(|| ctx.state.cluster_name.clone()),
        roles,
        logins: strings(&["spec", "traits", "logins"]).unwrap_or_default(),
        valid_until,
    }
}

fn text(p: &Profile, now: DateTime<Utc>) -> String {
    let line = |label: &str, value: &str| format!("  {:<20}{value}\n", format!("{label}:"));
    let mut out = format!("> {:<20}{}\n", "Profile URL:", p.url);
    out.push_str(&line("Logged in as", &p.user));
    if !p.active.is_empty() {
        out.push_str(&line("Active requests", &p.active.join(", ")));
    }
    out.push_str(&line("Cluster", &p.cluster));
    out.push_str(&line("Roles", &p.roles.join(", ")));
    if !p.logins.is_empty() {
        out.push_str(&line("Logins", &p.logins.join(", ")));
    }
    out.push_str(&line("Kubernetes", "enabled"));
    let left = go_duration_rounded(until_nanos(now, p.valid_until), 1_000_000_000);
    out.push_str(&line("Valid until", &format!("{} [valid for {left}]", local_go_string(p.valid_until))));
    out.push_str(&line("Extensions", &EXTENSIONS.join(", ")));
    out.push('\n');
    out
}
