//! MCP access events (Teleport 18) in the shape `lib/srv/mcp/audit.go` emits them, the messages of
//! `api/proto/teleport/legacy/types/events/events.proto` (`MCPSessionStart`, `MCPSessionRequest`,
//! `MCPSessionEnd`, `MCPJSONRPCMessage`) with the codes of `lib/events/codes.go` (`TMCP001I`
//! start, `TMCP002I` end, `TMCP003I`/`TMCP003E` request allowed/refused). The baseline's normal MCP
//! traffic and the three MCP scenarios.
//!
//! Field sets: start and end carry `UserMetadata`, `SessionMetadata`, `ServerMetadata`,
//! `ConnectionMetadata` (`addr.remote`) and `AppMetadata`; requests carry no server or connection
//! metadata (`emitOrAppendRequestEvent`), so no `addr.remote`. A `tools/call` Teleport refuses
//! (`checkAccessToTool` in `lib/srv/mcp/session.go`) is a request event with code `TMCP003E`,
//! `success: false` and the error text; discovery methods (`tools/list`, `ping`…) are not recorded.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::Window;
use super::event::{Event, HUMAN};
use super::rng::Rng;

pub const START: (&str, &str) = ("mcp.session.start", "TMCP001I");
pub const END: (&str, &str) = ("mcp.session.end", "TMCP002I");
pub const REQUEST: (&str, &str) = ("mcp.session.request", "TMCP003I");
pub const REQUEST_REFUSED: (&str, &str) = ("mcp.session.request", "TMCP003E");

/// The user of `mcp_denied_burst` (an AI agent's account probing for tools it may not call).
pub const DENIED_USER: &str = "peggy";
/// The user of `mcp_server_sweep`.
pub const SWEEP_USER: &str = "oscar";
/// The baseline MCP user of `mcp_new_source`, and the address that is new for her.
pub const NEW_SOURCE_USER: &str = "heidi";
pub const NEW_SOURCE_IP: &str = "203.0.113.77";

/// An MCP server application: `app_name`, `app_uri`.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub name: &'static str,
    pub uri: &'static str,
}

/// MCP servers of the demo cluster (`AppV3` with `sub_kind: mcp`).
pub const SERVERS: &[Server] = &[
    Server { name: "mcp-filesystem", uri: "mcp+stdio://" },
    Server { name: "mcp-grafana", uri: "mcp+sse+http://grafana-mcp.internal:8000/sse" },
    Server { name: "mcp-github", uri: "mcp+https://api.githubcopilot.com/mcp/" },
    Server { name: "mcp-notion", uri: "mcp+https://mcp.notion.com/mcp" },
    Server { name: "mcp-slack", uri: "mcp+stdio://" },
    Server { name: "mcp-vault", uri: "mcp+http://vault-mcp.internal:8080/mcp" },
    Server { name: "mcp-postgres", uri: "mcp+stdio://" },
    Server { name: "mcp-jira", uri: "mcp+https://jira-mcp.internal/mcp" },
];

/// Who uses MCP in the baseline: name, address, the servers they use, the tools they call.
const USERS: &[(&str, &str, &[usize], &[&str])] = &[
    ("heidi", "192.0.2.57", &[0, 1], &["search-files", "read_file", "list_dashboards", "get_dashboard"]),
    ("alice", super::people::OFFICE_IP, &[2], &["search-issues", "get_pull_request", "list_commits"]),
];

/// One MCP session's shared fields.
struct Session<'a> {
    cluster: &'a str,
    user: &'a str,
    /// `addr.remote` (`ip:port`), the same on the session's start and end.
    addr: String,
    server: Server,
    sid: String,
    host: String,
}

impl Session<'_> {
    fn common(&self, rng: &mut Rng, at: DateTime<Utc>, kind: (&str, &str)) -> Event {
        Event::new(rng, at, kind, self.cluster, self.user)
            .with("user_kind", HUMAN)
            .with("sid", self.sid.as_str())
            .with("private_key_policy", "none")
            .with("app_name", self.server.name)
            .with("app_uri", self.server.uri)
            .with("app_public_addr", "")
    }

    /// Start and end add `ServerMetadata` and `ConnectionMetadata`.
    fn edge(&self, rng: &mut Rng, at: DateTime<Utc>, kind: (&str, &str)) -> Event {
        self.common(rng, at, kind)
            .with("server_id", self.host.as_str())
            .with("server_version", "18.1.4")
            .with("namespace", "default")
            .with("addr.remote", self.addr.as_str())
    }

    fn start(&self, rng: &mut Rng, at: DateTime<Utc>) -> Event {
        self.edge(rng, at, START)
            .with("mcp_session_id", rng.uuid())
            .with("client_info", "claude-code/1.0.61")
            .with("server_info", format!("{}/1.2.0", self.server.name))
            .with("protocol_version", "2025-06-18")
            .with("ingress_auth_type", "app-session")
            .with("egress_auth_type", "none")
    }

    fn end(&self, rng: &mut Rng, at: DateTime<Utc>) -> Event {
        self.edge(rng, at, END).with("success", true)
    }

    /// A `tools/call`: allowed, or refused by Teleport with the error it records.
    fn call(&self, rng: &mut Rng, at: DateTime<Utc>, id: i64, tool: &str, refused: bool) -> Event {
        let message = json!({
            "jsonrpc": "2.0", "id": id.to_string(), "method": "tools/call",
            "params": { "name": tool, "arguments": {} },
        });
        let kind = if refused { REQUEST_REFUSED } else { REQUEST };
        let event = self.common(rng, at, kind).with("message", message).with("success", !refused);
        if refused { event.with("error", "access denied") } else { event }
    }
}

fn session<'a>(rng: &mut Rng, cluster: &'a str, user: &'a str, ip: &'a str, server: Server) -> Session<'a> {
    let sid = rng.uuid();
    let host = rng.uuid();
    let addr = format!("{ip}:{}", rng.range(32768, 61000));
    Session { cluster, user, addr, server, sid, host }
}

/// A whole session at `at`: start, `calls` (tool, refused) a few seconds apart, end.
fn whole(rng: &mut Rng, window: &Window, s: &Session, at: DateTime<Utc>, calls: &[(&str, bool)]) -> Vec<Event> {
    let mut t = at;
    let mut out = vec![s.start(rng, t)];
    for (i, (tool, refused)) in calls.iter().enumerate() {
        t += Duration::milliseconds(rng.range(800, 20_000));
        out.push(s.call(rng, window.clamp(t), i as i64 + 2, tool, *refused));
    }
    t += Duration::seconds(rng.range(5, 300));
    out.push(s.end(rng, window.clamp(t)));
    out
}

/// Normal MCP use: each baseline MCP user runs 0–2 sessions an hour on their usual servers from
/// their usual address, 1–4 allowed tool calls each, and now and then one refused call (never
/// more than one per session, so never a burst).
pub fn baseline(rng: &mut Rng, window: &Window) -> Vec<Event> {
    let mut out = Vec::new();
    for hour in 0..window.hours() {
        let from = window.start + Duration::hours(hour);
        for (user, ip, servers, tools) in USERS {
            for _ in 0..rng.range(0, 3) {
                let at = from + Duration::milliseconds(rng.range(0, 3_600_000));
                let server = SERVERS[*rng.pick(servers)];
                let s = session(rng, &window.cluster, user, ip, server);
                let n = rng.range(1, 5);
                let mut calls: Vec<(&str, bool)> = (0..n).map(|_| (*rng.pick(tools), false)).collect();
                if rng.chance(0.05) {
                    calls.push(("slack_post_message", true));
                }
                out.extend(whole(rng, window, &s, at, &calls));
            }
        }
    }
    out
}

/// 12–18 refused `tools/call` by [`DENIED_USER`] on one server within about 4 minutes.
pub fn denied_burst(rng: &mut Rng, window: &Window) -> Vec<Event> {
    const TOOLS: &[&str] = &["write_file", "delete_file", "move_file", "execute_command", "edit_file"];
    let at = window.place(rng, Duration::minutes(6));
    let s = session(rng, &window.cluster, DENIED_USER, "198.51.100.44", SERVERS[0]);
    let n = rng.range(12, 19);
    let mut calls: Vec<(&str, bool)> = vec![("read_file", false)];
    calls.extend((0..n).map(|_| (*rng.pick(TOOLS), true)));
    whole(rng, window, &s, at, &calls)
}

/// [`SWEEP_USER`] opens a session on every MCP server (8) within an hour, one call each.
pub fn server_sweep(rng: &mut Rng, window: &Window) -> Vec<Event> {
    let from = window.place(rng, Duration::hours(1));
    let mut out = Vec::new();
    for server in SERVERS {
        let at = from + Duration::milliseconds(rng.range(0, 50 * 60_000));
        let s = session(rng, &window.cluster, SWEEP_USER, "192.0.2.150", *server);
        out.extend(whole(rng, window, &s, at, &[("list_resources", false)]));
    }
    out
}

/// [`NEW_SOURCE_USER`] starts one MCP session from [`NEW_SOURCE_IP`] in the window's last hours
/// (after her baseline sessions from her usual address).
pub fn new_source(rng: &mut Rng, window: &Window) -> Vec<Event> {
    let span = (window.end - window.start).num_milliseconds();
    let at = window.end - Duration::milliseconds(rng.range(span / 12, span / 6).max(1));
    let s = session(rng, &window.cluster, NEW_SOURCE_USER, NEW_SOURCE_IP, SERVERS[0]);
    whole(rng, window, &s, at, &[("read_file", false), ("search-files", false)])
}
