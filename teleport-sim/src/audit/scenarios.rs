//! The scenarios layered on the baseline, each a signal an audit analysis should find, with one
//! clear subject. Each draws from its own random stream, so adding one leaves the rest unchanged.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::Window;
use super::baseline::{Decision, request_flow};
use super::event::{BOT, Event, HOSTS, HUMAN, code, identity};
use super::mcp;
use super::rng::Rng;

/// The attacker of `brute_force` and where they come from.
pub const BRUTE_FORCE_USER: &str = "mallory";
pub const BRUTE_FORCE_IP: &str = "203.0.113.66";
/// The insider of `role_spike`, `weakened_auth` and `broad_token`, and their address.
pub const INSIDER: &str = "eve";
const INSIDER_IP: &str = "192.0.2.200";

/// A named scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    BruteForce,
    RoleSpike,
    Impersonation,
    WeakenedAuth,
    SelfApproval,
    BroadToken,
    Storm,
    McpDeniedBurst,
    McpServerSweep,
    McpNewSource,
}

/// Every scenario with its name and what it adds.
pub const ALL: &[(Scenario, &str, &str)] = &[
    (
        Scenario::BruteForce,
        "brute_force",
        "30-40 failed user.login (T1000W) for mallory from 203.0.113.66 within 4 minutes",
    ),
    (
        Scenario::RoleSpike,
        "role_spike",
        "8-12 role.created/role.updated (T9000I/T9002I) by eve in 4 min; user.update (T1003I) adds editor",
    ),
    (Scenario::Impersonation, "impersonation", "cert.create (TC000I) for admin with impersonator ivan"),
    (
        Scenario::WeakenedAuth,
        "weakened_auth",
        "auth_preference.update (TCAUTH001I) by eve (the event carries no settings, as in Teleport)",
    ),
    (
        Scenario::SelfApproval,
        "self_approval",
        "access_request.create (T5000I) by sam, then access_request.update (T5001I) APPROVED by sam (tctl requests approve)",
    ),
    (
        Scenario::BroadToken,
        "broad_token",
        "join_token.create (TJT00I) by eve for roles Node,Proxy,Auth with a 720h TTL",
    ),
    (Scenario::Storm, "storm", "one clock hour with 20x the baseline rate of exec (T3002I) by bot-deploy"),
    (
        Scenario::McpDeniedBurst,
        "mcp_denied_burst",
        "12-18 refused tools/call (mcp.session.request TMCP003E) by peggy on mcp-filesystem within 4 minutes",
    ),
    (
        Scenario::McpServerSweep,
        "mcp_server_sweep",
        "mcp.session.start (TMCP001I) by oscar on 8 distinct MCP servers within an hour",
    ),
    (
        Scenario::McpNewSource,
        "mcp_new_source",
        "mcp.session.start (TMCP001I) by heidi (a baseline MCP user) from 203.0.113.77 late in the window",
    ),
];

impl Scenario {
    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        ALL.iter().find(|(_, n, _)| *n == name).map(|(s, _, _)| *s)
    }

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(s, _, _)| *s == self).map_or("", |(_, n, _)| n)
    }

    /// The scenario's events inside `window`.
    pub fn generate(self, rng: &mut Rng, window: &Window, rate: u32) -> Vec<Event> {
        let cluster = window.cluster.as_str();
        match self {
            Scenario::BruteForce => burst(rng, window, 30..41, |rng, at| {
                Event::new(rng, at, code::LOGIN_FAILED, cluster, BRUTE_FORCE_USER)
                    .with("user_kind", HUMAN)
                    .with("method", "local")
                    .with("success", false)
                    .with("error", "invalid username, password or second factor")
                    .with_remote(rng, BRUTE_FORCE_IP)
            }),
            Scenario::RoleSpike => role_spike(rng, window),
            Scenario::Impersonation => {
                let at = window.place(rng, Duration::zero());
                let mut id =
                    identity("admin", &["access", "editor", "cluster-admin"], &["root"], at + Duration::hours(1));
                id["impersonator"] = "ivan".into();
                // `CertificateCreate` (events.proto): no UserMetadata; the impersonator is in the identity.
                let cert =
                    Event::base(rng, at, code::CERT_CREATE, cluster).with("cert_type", "user").with("identity", id);
                vec![cert]
            }
            Scenario::WeakenedAuth => {
                let at = window.place(rng, Duration::zero());
                // `AuthPreferenceUpdate` (events.proto), as `UpdateAuthPreference` in
                // `lib/auth/clusterconfig/clusterconfigv1/service.go` emits it: Metadata, Status,
                // UserMetadata, ConnectionMetadata and whether admin-action MFA changed — never the
                // settings. What changed is only visible in the resource (`tctl get cap`).
                let update = insider(rng, at, code::AUTH_PREFERENCE_UPDATE, cluster).with("success", true);
                vec![update]
            }
            Scenario::SelfApproval => {
                let opened = window.place(rng, Duration::minutes(5));
                let decided = opened + Duration::seconds(rng.range(40, 240));
                let id = rng.uuid();
                let reason = "urgent fix, no approver online";
                // Teleport refuses a review of one's own request; an admin can still set its state
                // with `tctl requests approve` (SetAccessRequestState, no such check).
                let by = (Decision::SetState, "sam");
                request_flow(rng, cluster, [opened, decided], &id, "sam", by, "cluster-admin", reason, "APPROVED")
            }
            Scenario::BroadToken => {
                let at = window.place(rng, Duration::zero());
                let token = insider(rng, at, code::JOIN_TOKEN_CREATE, cluster)
                    .with("name", format!("{}{:04x}", "*".repeat(28), rng.range(0, 0x10000)))
                    .with("roles", vec!["Node", "Proxy", "Auth"])
                    .with("join_method", "token")
                    .with("expires", crate::timefmt::go_time(at + Duration::hours(720)));
                vec![token]
            }
            Scenario::Storm => storm(rng, window, rate),
            Scenario::McpDeniedBurst => mcp::denied_burst(rng, window),
            Scenario::McpServerSweep => mcp::server_sweep(rng, window),
            Scenario::McpNewSource => mcp::new_source(rng, window),
        }
    }
}

/// An event by [`INSIDER`] from their address.
fn insider(rng: &mut Rng, at: DateTime<Utc>, kind: (&str, &str), cluster: &str) -> Event {
    Event::new(rng, at, kind, cluster, INSIDER).with("user_kind", HUMAN).with_remote(rng, INSIDER_IP)
}

/// `count` events spread over 4 minutes at a random place in the window, in time order.
fn burst(
    rng: &mut Rng,
    window: &Window,
    count: std::ops::Range<i64>,
    mut make: impl FnMut(&mut Rng, DateTime<Utc>) -> Event,
) -> Vec<Event> {
    let span = Duration::minutes(4);
    let from = window.place(rng, span);
    let n = rng.range(count.start, count.end);
    let mut offsets: Vec<i64> = (0..n).map(|_| rng.range(0, span.num_milliseconds())).collect();
    offsets.sort_unstable();
    offsets.into_iter().map(|ms| make(rng, from + Duration::milliseconds(ms))).collect()
}

fn role_spike(rng: &mut Rng, window: &Window) -> Vec<Event> {
    const CREATED: &[&str] = &["tmp-admin", "break-glass", "svc-backup", "ops-all", "audit-bypass", "db-superuser"];
    const UPDATED: &[&str] = &["access", "editor", "auditor", "dev", "ops-root", "request-approver"];
    let cluster = window.cluster.clone();
    let mut step = 0;
    let mut events = burst(rng, window, 8..13, |rng, at| {
        step += 1;
        let (kind, names) = if step % 2 == 1 { (code::ROLE_CREATED, CREATED) } else { (code::ROLE_UPDATED, UPDATED) };
        let name = format!("{}-{}", rng.pick(names), step);
        insider(rng, at, kind, &cluster).with("name", name).with("expires", crate::timefmt::ZERO_TIME)
    });
    let last = events.last().map_or(window.start, |e| e.at);
    let granted = last + Duration::seconds(rng.range(5, 50));
    let grant = insider(rng, granted, code::USER_UPDATE, &cluster)
        .with("name", INSIDER)
        .with("roles", vec!["access", "editor"])
        .with("connector", "local")
        .with("expires", crate::timefmt::ZERO_TIME);
    events.push(grant);
    events
}

/// 20x `rate` `exec` events by a deploy bot inside one clock hour (the window's first hour when
/// no whole clock hour fits).
fn storm(rng: &mut Rng, window: &Window, rate: u32) -> Vec<Event> {
    let first = window.start.duration_trunc(Duration::hours(1)).unwrap_or(window.start);
    let whole: Vec<_> = (0..=window.hours())
        .map(|h| first + Duration::hours(h))
        .filter(|h| *h >= window.start && *h + Duration::hours(1) <= window.end)
        .collect();
    let from = if whole.is_empty() { window.start } else { *rng.pick(&whole) };
    let until = window.clamp(from + Duration::hours(1));
    let span = (until - from).num_milliseconds();
    (0..rate as usize * 20)
        .map(|_| {
            let at = from + Duration::milliseconds(rng.range(0, span));
            let host = rng.pick(HOSTS);
            Event::new(rng, at, code::EXEC, &window.cluster, "bot-deploy")
                .with("user_kind", BOT)
                .on_host(host)
                .with_remote(rng, "10.0.9.7")
                .with("sid", rng.uuid())
                .with("login", "deploy")
                .with("command", "curl -fsS http://localhost:8080/healthz")
                .with("exitCode", "0")
        })
        .collect()
}
