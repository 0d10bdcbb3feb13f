//! `teleport-sim audit-events`: reproducible, well-formed Teleport audit streams; a quiet
//! baseline an analysis should find nothing in, and scenarios that each add one clear signal.

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use common::{NOW, Sim};
use serde_json::Value;

/// A Wednesday evening: the 24 hours before it include a working day.
const END: &str = "2025-06-04T18:00:00Z";

fn run(args: &[&str]) -> String {
    let mut all = vec!["audit-events", "--end", END];
    all.extend_from_slice(args);
    let out = Sim::new(&all).run();
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    out.stdout
}

fn events(args: &[&str]) -> Vec<Value> {
    run(args).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn time(e: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap().with_timezone(&Utc)
}

fn s<'a>(e: &'a Value, key: &str) -> &'a str {
    e[key].as_str().unwrap_or("")
}

/// The events of `with` that `without` does not have (by uid).
fn added(seed: &str, scenario: &str) -> Vec<Value> {
    let base: HashSet<String> = events(&["--seed", seed]).iter().map(|e| s(e, "uid").to_owned()).collect();
    let all = events(&["--seed", seed, "--scenario", scenario]);
    let extra: Vec<Value> = all.into_iter().filter(|e| !base.contains(s(e, "uid"))).collect();
    assert!(!extra.is_empty(), "{scenario} adds events");
    extra
}

/// The most events that share a key (None: not counted) within `span` of each other.
fn max_in_window(events: &[Value], span: Duration, key: impl Fn(&Value) -> Option<String>) -> usize {
    let mut by_key: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    for e in events {
        if let Some(k) = key(e) {
            by_key.entry(k).or_default().push(time(e));
        }
    }
    let mut best = 0;
    for times in by_key.values_mut() {
        times.sort();
        let mut lo = 0;
        for hi in 0..times.len() {
            while times[hi] - times[lo] >= span {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
    }
    best
}

#[test]
fn same_seed_same_bytes_other_seed_other_events() {
    let a = run(&["--seed", "42", "--scenario", "brute_force,storm"]);
    assert_eq!(a, run(&["--seed", "42", "--scenario", "brute_force", "--scenario", "storm"]));
    assert_ne!(a, run(&["--seed", "43", "--scenario", "brute_force,storm"]));
}

#[test]
fn every_event_is_well_formed_unique_and_inside_the_window() {
    let all = "brute_force,role_spike,impersonation,weakened_auth,self_approval,broad_token,storm,\
               mcp_denied_burst,mcp_server_sweep,mcp_new_source";
    let list = events(&["--seed", "7", "--scenario", all]);
    let end = DateTime::parse_from_rfc3339(END).unwrap().with_timezone(&Utc);
    let mut uids = HashSet::new();
    let mut last = end - Duration::hours(24);
    for e in &list {
        for key in ["uid", "time", "event", "code", "cluster_name"] {
            assert!(!s(e, key).is_empty(), "{key} missing: {e}");
        }
        // The actor is where Teleport puts it: `user` (UserMetadata), or, for messages without
        // it, `reviewer` (reviews), `updated_by` (state changes), `identity.user` (certificates).
        let actor = match s(e, "event") {
            "access_request.review" => s(e, "reviewer"),
            "access_request.update" => s(e, "updated_by"),
            "cert.create" => e["identity"]["user"].as_str().unwrap_or(""),
            _ => s(e, "user"),
        };
        assert!(!actor.is_empty(), "no actor: {e}");
        if ["access_request.review", "access_request.update", "cert.create"].contains(&s(e, "event")) {
            assert!(e.get("user").is_none(), "no top-level user in {e}");
        }
        let uid = s(e, "uid");
        assert!(uid.len() == 36 && &uid[14..15] == "4", "{uid}");
        assert!(uids.insert(uid.to_owned()), "duplicate uid {uid}");
        let t = time(e);
        assert!(t >= last && t < end, "{t} out of order or outside the window");
        last = t;
        assert_eq!(s(e, "cluster_name"), "teleport.example.com");
    }
    // Without --end, the window ends at TELEPORT_SIM_NOW.
    let out = Sim::new(&["audit-events", "--seed", "1", "--hours", "2"]).run();
    let now = DateTime::parse_from_rfc3339(NOW).unwrap().with_timezone(&Utc);
    for line in out.stdout.lines() {
        let t = time(&serde_json::from_str(line).unwrap());
        assert!(t >= now - Duration::hours(2) && t < now, "{t}");
    }
}

#[test]
fn the_quiet_day_is_quiet() {
    for (seed, rate) in [("1", "200"), ("2", "200"), ("3", "2000")] {
        let list = events(&["--seed", seed, "--rate", rate]);
        let quiet = |e: &&Value| {
            let name = s(e, "event");
            name.starts_with("role.") || ["user.update", "join_token.create", "auth_preference.update"].contains(&name)
        };
        assert_eq!(list.iter().filter(quiet).count(), 0, "seed {seed}: no admin changes");
        assert!(list.iter().all(|e| e.get("impersonator").is_none() && e["identity"].get("impersonator").is_none()));
        let failed = |e: &Value| ["T1000W", "T3007W"].contains(&s(e, "code"));
        let ten = Duration::minutes(10);
        let by_user = max_in_window(&list, ten, |e| failed(e).then(|| s(e, "user").to_owned()));
        let by_ip =
            max_in_window(&list, ten, |e| failed(e).then(|| s(e, "addr.remote").split(':').next().unwrap().into()));
        assert!(by_user < 5 && by_ip < 5, "seed {seed}: {by_user} per user, {by_ip} per IP in 10 minutes");
        assert!(list.iter().filter(|e| failed(e)).count() >= 3, "some scattered failures");
        assert!(list.iter().filter(|e| s(e, "code") == "T1000I").count() > list.iter().filter(|e| failed(e)).count());
        let rate: f64 = rate.parse().unwrap();
        let start = time(&list[0]).date_naive().and_hms_opt(18, 0, 0).unwrap().and_utc();
        let mut hours = [0usize; 24];
        // MCP sessions come on top of the rate (their own stream): see `the_quiet_day_has_normal_mcp_use`.
        for e in list.iter().filter(|e| !s(e, "event").starts_with("mcp.")) {
            let h = (time(e) - start).num_hours();
            hours[h.clamp(0, 23) as usize] += 1;
        }
        for count in hours {
            assert!((count as f64) > rate * 0.8 && (count as f64) < rate * 1.2, "steady hour: {count} vs {rate}");
        }
        let decisions = |e: &&Value| ["access_request.update", "access_request.review"].contains(&s(e, "event"));
        for e in list.iter().filter(decisions) {
            let id = s(e, "id");
            let create = list.iter().find(|c| s(c, "event") == "access_request.create" && s(c, "id") == id).unwrap();
            let by = if s(e, "event") == "access_request.review" { s(e, "reviewer") } else { s(e, "updated_by") };
            assert!(!by.is_empty() && by != s(create, "user"), "decided by someone else: {e}");
            // One decision per request: a review reaching the threshold emits no update.
            assert_eq!(list.iter().filter(decisions).filter(|d| s(d, "id") == id).count(), 1, "{id}");
            let t = time(e);
            assert!((9..17).contains(&t.hour()) && t.weekday().number_from_monday() <= 5, "business hours: {t}");
        }
    }
    assert!(events(&["--seed", "1"]).iter().any(|e| s(e, "state") == "APPROVED"), "a working day sees approvals");
}

#[test]
fn brute_force_is_mallory_from_one_ip_within_five_minutes() {
    let extra = added("5", "brute_force");
    assert!(extra.len() >= 30);
    for e in &extra {
        assert_eq!((s(e, "event"), s(e, "code"), s(e, "user")), ("user.login", "T1000W", "mallory"));
        assert_eq!(e["success"], false);
        assert!(s(e, "addr.remote").starts_with("203.0.113.66:"));
    }
    assert!(time(extra.last().unwrap()) - time(&extra[0]) < Duration::minutes(5));
}

#[test]
fn role_spike_is_eve_changing_roles_and_granting_herself_editor() {
    let extra = added("5", "role_spike");
    let roles: Vec<_> = extra.iter().filter(|e| s(e, "event").starts_with("role.")).collect();
    assert!(roles.len() >= 8);
    for e in &roles {
        assert!(matches!((s(e, "event"), s(e, "code")), ("role.created", "T9000I") | ("role.updated", "T9002I")));
        assert_eq!(s(e, "user"), "eve");
    }
    assert!(time(roles.last().unwrap()) - time(roles[0]) < Duration::minutes(5));
    let grant = extra.iter().find(|e| s(e, "event") == "user.update").unwrap();
    assert_eq!((s(grant, "code"), s(grant, "name")), ("T1003I", "eve"));
    assert!(grant["roles"].as_array().unwrap().contains(&"editor".into()));
}

#[test]
fn single_event_scenarios_name_their_subject() {
    let cert = &added("5", "impersonation")[0];
    assert_eq!((s(cert, "event"), s(cert, "code")), ("cert.create", "TC000I"));
    assert_eq!(cert["identity"]["user"], "admin");
    assert_eq!(cert["identity"]["impersonator"], "ivan");
    assert!(cert.get("user").is_none() && cert.get("impersonator").is_none(), "CertificateCreate has no UserMetadata");
    let pref = &added("5", "weakened_auth")[0];
    assert_eq!((s(pref, "event"), s(pref, "code"), s(pref, "user")), ("auth_preference.update", "TCAUTH001I", "eve"));
    for key in ["second_factor", "second_factors", "spec", "name"] {
        assert!(pref.get(key).is_none(), "AuthPreferenceUpdate carries no settings: {pref}");
    }
    let token = &added("5", "broad_token")[0];
    assert_eq!((s(token, "event"), s(token, "code"), s(token, "user")), ("join_token.create", "TJT00I", "eve"));
    assert_eq!(token["roles"], serde_json::json!(["Node", "Proxy", "Auth"]));
    let ttl = DateTime::parse_from_rfc3339(s(token, "expires")).unwrap().with_timezone(&Utc) - time(token);
    assert!(ttl >= Duration::hours(720));
}

#[test]
fn self_approval_is_sam_approving_sam() {
    let extra = added("5", "self_approval");
    let kinds: Vec<_> = extra.iter().map(|e| (s(e, "event"), s(e, "code"))).collect();
    // Teleport refuses a review of one's own request: a self-approval is `tctl requests approve`.
    assert_eq!(kinds, [("access_request.create", "T5000I"), ("access_request.update", "T5001I")]);
    assert!(extra.iter().all(|e| s(e, "id") == s(&extra[0], "id")));
    assert_eq!((s(&extra[0], "state"), s(&extra[0], "user")), ("PENDING", "sam"));
    let update = &extra[1];
    assert_eq!((s(update, "state"), s(update, "updated_by")), ("APPROVED", "sam"));
    assert!(update.get("user").is_none() && update.get("reviewer").is_none(), "{update}");
}

#[test]
fn storm_is_one_clock_hour_at_twenty_times_the_rate() {
    let extra = added("5", "storm");
    assert_eq!(extra.len(), 20 * 200, "20x the default rate of 200");
    assert!(extra.iter().all(|e| s(e, "event") == "exec" && s(e, "code") == "T3002I" && s(e, "user") == "bot-deploy"));
    let hours: HashSet<_> = extra.iter().map(|e| time(e).format("%d %H").to_string()).collect();
    assert_eq!(hours.len(), 1, "one clock hour");
}

#[test]
fn json_is_the_same_events_as_one_array() {
    let ndjson = events(&["--seed", "9", "--hours", "3", "--scenario", "impersonation"]);
    let json: Vec<Value> =
        serde_json::from_str(&run(&["--seed", "9", "--hours", "3", "--scenario", "impersonation", "--format", "json"]))
            .unwrap();
    assert_eq!(json, ndjson);
    assert!(run(&["--seed", "9", "--hours", "3"]).lines().all(|l| l.starts_with('{') && l.ends_with('}')));
}

#[test]
fn scenarios_are_listed_and_unknown_ones_rejected() {
    let list = Sim::new(&["audit-events", "--list-scenarios"]).run().stdout;
    let names: Vec<_> = list.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    let expected = [
        "brute_force",
        "role_spike",
        "impersonation",
        "weakened_auth",
        "self_approval",
        "broad_token",
        "storm",
        "mcp_denied_burst",
        "mcp_server_sweep",
        "mcp_new_source",
    ];
    assert_eq!(names, expected);
    let bad = Sim::new(&["audit-events", "--scenario", "meteor"]).run();
    assert!(bad.error().contains("unknown scenario \"meteor\""));
}

/// Events of `list` named `event` (and, when given, of `user`).
fn mcp<'a>(list: &'a [Value], event: &str, user: Option<&str>) -> Vec<&'a Value> {
    list.iter().filter(|e| s(e, "event") == event && user.is_none_or(|u| s(e, "user") == u)).collect()
}

#[test]
fn the_quiet_day_has_normal_mcp_use() {
    for seed in ["1", "2", "3"] {
        let list = events(&["--seed", seed]);
        let starts = mcp(&list, "mcp.session.start", None);
        assert!(starts.len() >= 10, "seed {seed}: MCP sessions happen");
        for e in &starts {
            // MCPSessionStart: UserMetadata, SessionMetadata, ServerMetadata, ConnectionMetadata, AppMetadata.
            for key in ["user", "sid", "server_id", "addr.remote", "app_name", "app_uri", "mcp_session_id"] {
                assert!(e.get(key).is_some(), "{key} missing: {e}");
            }
            assert_eq!(s(e, "code"), "TMCP001I");
        }
        let requests = mcp(&list, "mcp.session.request", None);
        assert!(requests.iter().all(|e| e.get("addr.remote").is_none() && e["message"]["method"] == "tools/call"));
        assert!(requests.iter().all(|e| (s(e, "code") == "TMCP003E") == (e["success"] == false)));
        let refused = |e: &Value| s(e, "code") == "TMCP003E";
        let burst = max_in_window(&list, Duration::minutes(10), |e| refused(e).then(|| s(e, "user").to_owned()));
        assert!(burst < 5, "seed {seed}: {burst} refused calls of one user in 10 minutes");
        for user in ["heidi", "alice"] {
            let mine = mcp(&list, "mcp.session.start", Some(user));
            let servers: HashSet<&str> = mine.iter().map(|e| s(e, "app_name")).collect();
            let ips: HashSet<&str> = mine.iter().map(|e| s(e, "addr.remote").split(':').next().unwrap()).collect();
            assert!(servers.len() < 5 && ips.len() == 1, "seed {seed} {user}: {servers:?} {ips:?}");
        }
        // Every session ends from the address it started from.
        for start in &starts {
            let end = list.iter().find(|e| s(e, "event") == "mcp.session.end" && s(e, "sid") == s(start, "sid"));
            assert_eq!(end.map(|e| s(e, "addr.remote")), Some(s(start, "addr.remote")));
        }
    }
}

#[test]
fn mcp_scenarios_name_their_subject() {
    let burst = added("5", "mcp_denied_burst");
    let refused: Vec<_> = burst.iter().filter(|e| s(e, "code") == "TMCP003E").collect();
    assert!(refused.len() >= 12, "{}", refused.len());
    for e in &refused {
        assert_eq!((s(e, "event"), s(e, "user"), s(e, "app_name")), ("mcp.session.request", "peggy", "mcp-filesystem"));
        assert_eq!((e["success"].as_bool(), s(e, "error")), (Some(false), "access denied"));
        assert_eq!(e["message"]["method"], "tools/call");
        assert!(e["message"]["params"]["name"].is_string());
    }
    assert!(time(refused[refused.len() - 1]) - time(refused[0]) < Duration::minutes(6));

    let sweep = added("5", "mcp_server_sweep");
    let servers: HashSet<&str> =
        sweep.iter().filter(|e| s(e, "event") == "mcp.session.start").map(|e| s(e, "app_name")).collect();
    assert_eq!(servers.len(), 8);
    assert!(sweep.iter().all(|e| s(e, "user") == "oscar"));

    let new = added("5", "mcp_new_source");
    let start = new.iter().find(|e| s(e, "event") == "mcp.session.start").unwrap();
    assert_eq!(s(start, "user"), "heidi");
    assert!(s(start, "addr.remote").starts_with("203.0.113.77:"));
    let before = events(&["--seed", "5"]);
    assert!(mcp(&before, "mcp.session.start", Some("heidi")).iter().any(|e| time(e) < time(start)), "history first");
}
