//! The quiet baseline: a steady stream of logins, certificates, sessions and commands by the
//! demo cluster's people, a few scattered failures (never 5 for one user or one IP within 10
//! minutes), and access requests approved in business hours by someone else. No role, token,
//! auth-preference or impersonation events.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};

use super::Window;
use super::event::{BOT, Event, HOSTS, HUMAN, code, identity};
use super::people::{PEOPLE, Person, REQUESTERS, REVIEWERS};
use super::rng::Rng;

/// Failures allowed near a new one (±10 minutes, same user or same IP): at most 3 in any window.
const NEARBY_FAILURES: usize = 2;
const COMMANDS: &[&str] = &[
    "uptime",
    "df -h",
    "systemctl status nginx",
    "journalctl -u app --since -1h",
    "tail -n 100 /var/log/app/app.log",
    "docker ps",
    "free -m",
    "ls -la /srv/app",
];

/// Generates the baseline for the window, hour by hour, each hour within ±15% of `rate`.
pub fn generate(rng: &mut Rng, window: &Window, rate: u32) -> Vec<Event> {
    let mut day = Baseline { rng, window, events: Vec::new(), failures: HashMap::new() };
    for hour in 0..window.hours() {
        let from = window.start + Duration::hours(hour);
        let target = (f64::from(rate) * (0.85 + 0.3 * day.rng.unit())).round() as usize;
        let before = day.events.len();
        while day.events.len() - before < target {
            let at = from + Duration::milliseconds(day.rng.range(0, 3_600_000));
            day.activity(at);
        }
        let at = from + Duration::milliseconds(day.rng.range(0, 3_600_000));
        if day.rng.chance(0.35) && business_hours(at) {
            day.access_request(at);
        }
    }
    day.events
}

/// Weekdays, 09:00 to 16:00 UTC (a request opened then is decided before 16:40).
fn business_hours(t: DateTime<Utc>) -> bool {
    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) && (9..16).contains(&t.hour())
}

struct Baseline<'a> {
    rng: &'a mut Rng,
    window: &'a Window,
    events: Vec<Event>,
    /// Times of failed logins and SSH auth failures, by `user:` and `ip:` key.
    failures: HashMap<String, Vec<DateTime<Utc>>>,
}

impl Baseline<'_> {
    fn event(&mut self, at: DateTime<Utc>, kind: (&str, &str), who: &Person) -> Event {
        let kind_of = if who.bot { BOT } else { HUMAN };
        Event::new(self.rng, at, kind, &self.window.cluster, who.name).with("user_kind", kind_of)
    }

    fn activity(&mut self, at: DateTime<Utc>) {
        let who = self.rng.pick(PEOPLE);
        match self.rng.range(0, 70) {
            0..14 => self.login(at, who),
            14..44 => self.exec(at, who),
            44..62 => self.session(at, who),
            62..68 => self.cert(at, who),
            _ => self.failure(at, who),
        }
    }

    fn login(&mut self, at: DateTime<Utc>, who: &Person) {
        let kind = if who.sso { code::SSO_LOGIN_OK } else { code::LOGIN_OK };
        let method = if who.sso { "github" } else { "local" };
        let login =
            self.event(at, kind, who).with("method", method).with("success", true).with_remote(self.rng, who.ip);
        self.events.push(login);
        let issued = at + Duration::milliseconds(self.rng.range(5, 900));
        self.cert(issued, who);
    }

    fn cert(&mut self, at: DateTime<Utc>, who: &Person) {
        let ttl = if who.bot { Duration::hours(1) } else { Duration::hours(12) };
        // `CertificateCreate` (events.proto) has no UserMetadata: no `user`, no `user_kind`.
        let cert = Event::base(self.rng, at, code::CERT_CREATE, &self.window.cluster)
            .with("cert_type", "user")
            .with("identity", identity(who.name, who.roles, who.logins, at + ttl));
        self.events.push(cert);
    }

    fn exec(&mut self, at: DateTime<Utc>, who: &Person) {
        let host = self.rng.pick(HOSTS);
        let command = *self.rng.pick(COMMANDS);
        let failed = self.rng.chance(0.05);
        let kind = if failed { ("exec", "T3002E") } else { code::EXEC };
        let mut exec = self
            .event(at, kind, who)
            .on_host(host)
            .with_remote(self.rng, who.ip)
            .with("sid", self.rng.uuid())
            .with("login", *self.rng.pick(who.logins))
            .with("command", command)
            .with("exitCode", if failed { "1" } else { "0" });
        if failed {
            exec = exec.with("exitError", "exit status 1");
        }
        self.events.push(exec);
    }

    fn session(&mut self, at: DateTime<Utc>, who: &Person) {
        let host = self.rng.pick(HOSTS);
        let sid = self.rng.uuid();
        let login = *self.rng.pick(who.logins);
        let stop = self.window.clamp(at + Duration::seconds(self.rng.range(30, 45 * 60)));
        let start = self.event(at, code::SESSION_START, who).on_host(host).with_remote(self.rng, who.ip);
        let start = start.with("sid", sid.as_str()).with("login", login).with("size", "80:25");
        let ei = self.rng.range(2, 400);
        let end = self.event(stop, code::SESSION_END, who).on_host(host).with_remote(self.rng, who.ip);
        let end = end
            .with("sid", sid)
            .with("login", login)
            .with("ei", ei)
            .with("participants", vec![who.name])
            .with("interactive", true)
            .with("enhanced_recording", false)
            .with("session_start", crate::timefmt::go_time(at))
            .with("session_stop", crate::timefmt::go_time(stop));
        self.events.extend([start, end]);
    }

    /// A mistyped password, an unknown user name, or an SSH principal mismatch, unless that user
    /// or IP already failed twice within 10 minutes; then the person just runs a command.
    fn failure(&mut self, at: DateTime<Utc>, who: &Person) {
        let keys = [format!("user:{}", who.name), format!("ip:{}", who.ip)];
        let near =
            |times: &Vec<DateTime<Utc>>| times.iter().filter(|t| (**t - at).abs() < Duration::minutes(10)).count();
        if who.bot || keys.iter().any(|k| self.failures.get(k).map_or(0, near) >= NEARBY_FAILURES) {
            return self.exec(at, who);
        }
        for key in keys {
            self.failures.entry(key).or_default().push(at);
        }
        let event = match self.rng.range(0, 3) {
            0 => self
                .event(at, code::LOGIN_FAILED, who)
                .with("method", "local")
                .with("error", "invalid username, password or second factor"),
            1 => {
                let typo = format!("{}{}", who.name, self.rng.range(1, 10));
                let error = format!("user(name=\"{typo}\") not found");
                self.event(at, code::LOGIN_FAILED, who).with("user", typo).with("method", "local").with("error", error)
            }
            _ => {
                let error = format!(
                    "ssh: principal \"root\" not in the set of valid principals for given certificate: {:?}",
                    who.logins
                );
                self.event(at, code::AUTH_FAILED, who).on_host(self.rng.pick(HOSTS)).with("error", error)
            }
        };
        let event = event.with("success", false).with_remote(self.rng, who.ip);
        self.events.push(event);
    }

    /// Someone asks for a role; a reviewer (never the requester: Teleport refuses a review of one's
    /// own request) decides 3 to 40 minutes later.
    fn access_request(&mut self, at: DateTime<Utc>) {
        let requester = *self.rng.pick(REQUESTERS);
        let reviewer = *self.rng.pick(REVIEWERS);
        let (role, reason) = *self.rng.pick(&[
            ("ops-root", "Investigating elevated 5xx on api"),
            ("db-admin", "Schema migration for ticket OPS-1432"),
            ("prod-access", "Deploy hotfix, change CHG-2291"),
        ]);
        let id = self.rng.uuid();
        let decided = self.window.clamp(at + Duration::minutes(self.rng.range(3, 40)));
        let state = if self.rng.chance(0.8) { "APPROVED" } else { "DENIED" };
        // Most are reviewed with tsh; an admin sometimes decides with tctl instead.
        let decision = if self.rng.chance(0.7) { Decision::Review } else { Decision::SetState };
        self.events.extend(request_flow(
            self.rng,
            &self.window.cluster,
            [at, decided],
            &id,
            requester,
            (decision, reviewer),
            role,
            reason,
            state,
        ));
    }
}

/// How a pending request is decided, and so which event records it (`lib/auth/auth.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `tsh request review --approve|--deny` by a reviewer: `SubmitAccessReview` emits only
    /// `access_request.review` (the review reaches the default threshold of one).
    Review,
    /// `tctl requests approve|deny` by an admin: `SetAccessRequestState` emits only
    /// `access_request.update`.
    SetState,
}

/// `access_request.create` by `requester`, then the event of `decision` by `decider`. Shapes from
/// `lib/auth/auth.go`: `CreateAccessRequest` emits an `AccessRequestCreate` (events.proto) with
/// `UserMetadata` (`user`), `id`, `roles`, `state`, `reason`; `SubmitAccessReview` one without
/// `UserMetadata`: `reviewer`, `proposed_state`, `state` (after the review), `reason`;
/// `SetAccessRequestState` one without `UserMetadata`: `updated_by`, `state`, `reason`, `roles`.
#[allow(clippy::too_many_arguments)]
pub fn request_flow(
    rng: &mut Rng,
    cluster: &str,
    [opened, decided]: [DateTime<Utc>; 2],
    id: &str,
    requester: &str,
    (decision, decider): (Decision, &str),
    role: &str,
    reason: &str,
    state: &str,
) -> Vec<Event> {
    let create = Event::new(rng, opened, code::REQUEST_CREATE, cluster, requester)
        .with("id", id)
        .with("roles", vec![role])
        .with("state", "PENDING")
        .with("reason", reason);
    let verdict = if state == "APPROVED" { "approved" } else { "not needed now" };
    let decided = match decision {
        Decision::Review => Event::base(rng, decided, code::REQUEST_REVIEW, cluster)
            .with("id", id)
            .with("reviewer", decider)
            .with("proposed_state", state)
            .with("state", state)
            .with("reason", verdict),
        Decision::SetState => Event::base(rng, decided, code::REQUEST_UPDATE, cluster)
            .with("id", id)
            .with("roles", vec![role])
            .with("state", state)
            .with("updated_by", decider)
            .with("reason", verdict),
    };
    vec![create, decided]
}
