//! The pure audit detectors over hand-made rows: each fires with the right subject and evidence,
//! and a near miss below its threshold does not.

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::audit::*;
use mtcp_shared::config::AnomalyThresholds;
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn t0() -> DateTime<Utc> {
    at("2025-06-01T10:00:00Z")
}

fn row(
    uid: &str,
    time: DateTime<Utc>,
    event: &str,
    user: Option<&str>,
    addr: Option<&str>,
    raw: Value,
) -> AuditEventRow {
    AuditEventRow {
        uid: uid.into(),
        time,
        event: event.into(),
        code: None,
        user: user.map(Into::into),
        remote_addr: addr.map(Into::into),
        raw,
    }
}

fn failures(prefix: &str, n: usize, step_secs: i64, user: &str, addr: &str) -> Vec<AuditEventRow> {
    (0..n)
        .map(|i| {
            let t = t0() + Duration::seconds(step_secs * i as i64);
            let addr = format!("{addr}:{}", 40000 + i);
            row(&format!("{prefix}{i}"), t, "user.login", Some(user), Some(&addr), json!({}))
        })
        .collect()
}

#[test]
fn windows_and_sources() {
    let w = AuditWindow::new(at("2025-06-01T00:30:00Z"), at("2025-06-01T03:00:00Z"));
    assert_eq!(w.hours, 3);
    assert_eq!(w.hour_starts().next(), Some(at("2025-06-01T00:00:00Z")));
    assert_eq!(AuditWindow::new(t0(), t0()).hours, 0);
    assert_eq!(source_ip("151.181.228.114:51752"), "151.181.228.114");
    assert_eq!(source_ip("[2001:db8::1]:443"), "2001:db8::1");
    assert_eq!(source_ip("2001:db8::1"), "2001:db8::1");
    assert_eq!(source_ip("10.0.0.1"), "10.0.0.1");
    assert_eq!(median(&mut [0, 0, 5, 1]), 0.5);
}

#[test]
fn storm_fires_on_the_spike_hour_only() {
    let t = AnomalyThresholds::default(); // factor 5, min 50
    let w = AuditWindow::new(at("2025-06-01T00:00:00Z"), at("2025-06-02T00:00:00Z"));
    let mut hourly: Vec<EventHourCount> =
        w.hour_starts().map(|hour| EventHourCount { event: "session.start".into(), hour, count: 4 }).collect();
    hourly[13].count = 60; // baseline 4 → threshold max(20, 50) = 50
    hourly.push(EventHourCount { event: "exec".into(), hour: at("2025-06-01T05:00:00Z"), count: 49 });
    let found = detect_storms(&w, &hourly, &t);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.kind, f.subject.as_str()), (AnomalyKind::Storm, "session.start"));
    assert_eq!((f.window_start, f.observed, f.threshold), (at("2025-06-01T13:00:00Z"), 60.0, 50.0));
}

#[test]
fn brute_force_per_user_and_per_source() {
    let t = AnomalyThresholds::default(); // 10 per 600 s
    let rows = failures("f", 10, 30, "alice", "203.0.113.9");
    let found = detect_brute_force(&rows, &t);
    assert_eq!(found.len(), 2, "{found:#?}");
    let user = found.iter().find(|f| f.signal == "failed_logins_per_user").unwrap();
    assert_eq!((user.subject.as_str(), user.severity, user.observed), ("alice", Severity::High, 10.0));
    assert_eq!(user.evidence, (0..10).map(|i| format!("f{i}")).collect::<Vec<_>>());
    let source = found.iter().find(|f| f.signal == "failed_logins_per_source").unwrap();
    assert_eq!(source.subject, "203.0.113.9", "port stripped");

    // Ten failures spread over 18 minutes: at most 6 in any 10-minute window.
    assert!(detect_brute_force(&failures("s", 10, 120, "bob", "198.51.100.1"), &t).is_empty());
    // Nine within a minute: below the threshold.
    assert!(detect_brute_force(&failures("n", 9, 5, "bob", "198.51.100.1"), &t).is_empty());
    // Thirty: critical.
    let many = detect_brute_force(&failures("c", 30, 5, "eve", "198.51.100.2"), &t);
    assert!(many.iter().all(|f| f.severity == Severity::Critical && f.evidence.len() == 30));
}

#[test]
fn role_spike_counts_changes_by_one_actor() {
    let t = AnomalyThresholds::default(); // 5 per 600 s
    let changes = |n: usize| -> Vec<AuditEventRow> {
        (0..n)
            .map(|i| {
                let time = t0() + Duration::seconds(60 * i as i64);
                row(&format!("r{i}"), time, "role.updated", Some("mallory"), None, json!({"name": format!("role{i}")}))
            })
            .collect()
    };
    let found = detect_role_spikes(&changes(5), &t);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].kind, found[0].subject.as_str(), found[0].evidence.len()),
        (AnomalyKind::RoleSpike, "mallory", 5)
    );
    assert!(detect_role_spikes(&changes(4), &t).is_empty());
}

#[test]
fn role_grants_compare_with_the_previous_roles() {
    let prior = vec![row(
        "p",
        t0() - Duration::days(3),
        "user.update",
        Some("admin"),
        None,
        json!({"name": "bob", "roles": ["access"]}),
    )];
    let changes = vec![
        row("u1", t0(), "user.update", Some("mallory"), None, json!({"name": "bob", "roles": ["access", "editor"]})),
        row(
            "u2",
            t0() + Duration::minutes(1),
            "user.update",
            Some("admin"),
            None,
            json!({"name": "bob", "roles": ["access", "editor"]}),
        ),
        row(
            "u3",
            t0() + Duration::minutes(2),
            "user.create",
            Some("admin"),
            None,
            json!({"name": "dan", "roles": ["access"]}),
        ),
        row(
            "u4",
            t0() + Duration::minutes(3),
            "user.update",
            Some("admin"),
            None,
            json!({"name": "zed", "roles": ["access"]}),
        ),
    ];
    let found = detect_role_grants(&prior, &changes);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(
        (found[0].subject.as_str(), found[0].severity, found[0].evidence.clone()),
        ("bob", Severity::High, vec!["u1".to_owned()])
    );
    assert_eq!(found[0].details["roles"], ["editor"], "only the gained role: {:?}", found[0].details);
    assert!(
        !found[0].description.contains("bob") && !found[0].description.contains("editor"),
        "names stay out of our words"
    );
    assert_eq!(
        (found[1].subject.as_str(), found[1].severity, found[1].signal.as_str()),
        ("dan", Severity::Low, "roles_granted")
    );
}

#[test]
fn escalation_signals() {
    let rows = vec![
        row(
            "c1",
            t0(),
            "cert.create",
            Some("mallory"),
            None,
            json!({"identity": {"user": "admin", "impersonator": "mallory"}}),
        ),
        row("c2", t0(), "cert.create", Some("alice"), None, json!({"identity": {"user": "alice"}})),
        // Teleport's AuthPreferenceUpdate carries no settings.
        row("a1", t0(), "auth_preference.update", Some("mallory"), None, json!({"success": true})),
        row(
            "j1",
            t0(),
            "join_token.create",
            Some("mallory"),
            None,
            json!({"roles": ["Auth", "Node"], "join_method": "token"}),
        ),
        row("j2", t0(), "join_token.create", Some("ops"), None, json!({"roles": ["Proxy"]})),
        row(
            "j3",
            t0(),
            "join_token.create",
            Some("ops"),
            None,
            json!({"roles": ["Node"], "expires": "2025-06-03T10:00:00Z"}),
        ),
        row(
            "j4",
            t0(),
            "join_token.create",
            Some("ops"),
            None,
            json!({"roles": ["Node"], "expires": "2025-06-01T11:00:00Z"}),
        ),
    ];
    let found = detect_escalations(&rows);
    let by = |uid: &str| {
        found
            .iter()
            .find(|f| f.evidence.contains(&uid.to_owned()))
            .map(|f| (f.signal.as_str(), f.severity, f.subject.as_str()))
    };
    assert_eq!(by("c1"), Some(("impersonation", Severity::High, "mallory")));
    assert_eq!(by("c2"), None);
    assert_eq!(by("a1"), Some(("auth_preference_changed", Severity::Medium, "mallory")));
    assert_eq!(by("j1"), Some(("broad_join_token", Severity::Critical, "mallory")));
    assert_eq!(by("j2"), Some(("broad_join_token", Severity::High, "ops")));
    assert_eq!(by("j3"), Some(("broad_join_token", Severity::Medium, "ops")));
    assert_eq!(by("j4"), None);
    assert_eq!(found.len(), 5);
}

/// A report with one pending auth preference change by `who`, and a join token finding.
fn pending_change(who: &str) -> AnomalyReport {
    let window = AuditWindow::new(t0(), t0() + Duration::hours(1));
    let input = AnomalyInput {
        escalation: vec![
            row("a", t0() + Duration::minutes(5), "auth_preference.update", Some(who), None, json!({})),
            row("j", t0(), "join_token.create", Some("ops"), None, json!({"roles": ["Proxy"]})),
        ],
        ..Default::default()
    };
    detect_anomalies(window, &input, &AnomalyThresholds::default())
}

fn spec(v: Value) -> mtcp_shared::teleport::models::AuthPreferenceSpec {
    serde_json::from_value(v).unwrap()
}

#[test]
fn auth_preference_changes_are_judged_against_the_current_settings() {
    let judged = |current: Value| {
        let mut r = pending_change("eve");
        assert!(needs_auth_preference(&r));
        judge_auth_preference_changes(&mut r, CurrentAuthPreference::Read(&spec(current)));
        let f = r.findings.iter().find(|f| f.evidence == ["a"]).unwrap().clone();
        let text = format!("{} {:?}", f.description, f.details);
        (f.signal, f.severity, f.subject, text, r.findings[0].evidence.clone())
    };
    let (signal, severity, subject, text, first) = judged(json!({"type": "local", "second_factor": "off"}));
    assert_eq!((signal.as_str(), severity, subject.as_str()), ("weakened_second_factor", Severity::Critical, "eve"));
    assert!(text.contains("only a password"), "{text}");
    assert_eq!(first, ["a"], "re-sorted: the critical finding comes first");
    let (signal, severity, ..) = judged(json!({"second_factor": "optional"}));
    assert_eq!((signal.as_str(), severity), ("weakened_second_factor", Severity::High));
    let (signal, severity, _, text, _) = judged(json!({"second_factors": ["otp", "webauthn"]}));
    assert_eq!((signal.as_str(), severity), ("auth_preference_changed", Severity::Low));
    assert!(text.contains(r#"{"second_factors": ["otp", "webauthn"]}"#) && text.contains("Admin actions"), "{text}");
    let (_, severity, _, text, _) = judged(json!({"second_factor": "webauthn"}));
    assert_eq!(severity, Severity::Low);
    assert!(!text.contains("Admin actions"), "{text}");

    let mut r = pending_change("eve");
    judge_auth_preference_changes(&mut r, CurrentAuthPreference::Unavailable("access denied"));
    let f = r.findings.iter().find(|f| f.evidence == ["a"]).unwrap();
    assert_eq!((f.signal.as_str(), f.severity), ("auth_preference_changed", Severity::Medium));
    assert!(r.notes.iter().any(|n| n.contains("could not be read (access denied)")), "{:?}", r.notes);
}

#[test]
fn self_approval_and_business_hours() {
    let create = |uid: &str, id: &str, user: &str| {
        row(
            uid,
            t0(),
            "access_request.create",
            Some(user),
            None,
            json!({"id": id, "roles": ["admin"], "state": "PENDING"}),
        )
    };
    let creates = vec![create("rc1", "req1", "carol"), create("rc2", "req2", "dave"), create("rc3", "req3", "erin")];
    let late = at("2025-06-01T03:00:00Z") + Duration::days(1);
    let approvals = vec![
        // Approved by the requester, named on the update.
        row(
            "up1",
            t0() + Duration::minutes(5),
            "access_request.update",
            Some("carol"),
            None,
            json!({"id": "req1", "state": "APPROVED", "updated_by": "carol"}),
        ),
        // The update names nobody: the review says who approved.
        row(
            "rv2",
            t0() + Duration::minutes(5),
            "access_request.review",
            Some("dave"),
            None,
            json!({"id": "req2", "proposed_state": "APPROVED", "reviewer": "dave"}),
        ),
        row(
            "up2",
            t0() + Duration::minutes(6),
            "access_request.update",
            Some("plugin"),
            None,
            json!({"id": "req2", "state": "APPROVED"}),
        ),
        // Approved by someone else, at night.
        row(
            "up3",
            late,
            "access_request.update",
            Some("frank"),
            None,
            json!({"id": "req3", "state": 2, "updated_by": "frank"}),
        ),
    ];
    let hours = Some(BusinessHours::parse("8-18").unwrap());
    let found = detect_approvals(&approvals, &creates, hours);
    let selfs: Vec<_> = found.iter().filter(|f| f.signal == "self_approval").collect();
    assert_eq!(selfs.len(), 2, "{found:#?}");
    assert_eq!(
        (selfs[0].subject.as_str(), selfs[0].evidence.clone()),
        ("carol", vec!["rc1".to_owned(), "up1".to_owned()])
    );
    assert_eq!(selfs[1].subject, "dave");
    let night: Vec<_> = found.iter().filter(|f| f.signal == "approval_outside_business_hours").collect();
    assert_eq!(night.len(), 1);
    assert_eq!((night[0].subject.as_str(), night[0].evidence.clone()), ("frank", vec!["up3".to_owned()]));
    assert!(detect_approvals(&approvals, &creates, None).iter().all(|f| f.signal == "self_approval"));
    assert!(BusinessHours::parse("8 to 18").is_err() && BusinessHours::parse("8-25").is_err());
    assert!(BusinessHours::parse("22-6").unwrap().contains(23) && !BusinessHours::parse("22-6").unwrap().contains(12));
}

#[test]
fn a_quiet_day_has_no_findings() {
    let since = at("2025-06-01T00:00:00Z");
    let window = AuditWindow::new(since, since + Duration::days(1));
    let hourly =
        window.hour_starts().map(|hour| EventHourCount { event: "session.start".into(), hour, count: 12 }).collect();
    let input = AnomalyInput {
        hourly,
        login_bursts: login_bursts(&failures("f", 3, 60, "alice", "10.0.0.1"), &AnomalyThresholds::default()),
        role_changes: vec![row("r", t0(), "role.updated", Some("ops"), None, json!({"name": "dev"}))],
        escalation: vec![row("c", t0(), "join_token.create", Some("ops"), None, json!({"roles": ["Node"]}))],
        ..Default::default()
    };
    let t = AnomalyThresholds { business_hours_utc: Some("8-18".into()), ..Default::default() };
    let report = detect_anomalies(window, &input, &t);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.thresholds.brute_force_window_secs, 600);
    assert_eq!(report.thresholds.business_hours_utc.as_deref(), Some("8-18"));

    let bad = AnomalyThresholds { business_hours_utc: Some("nine to five".into()), ..Default::default() };
    assert_eq!(detect_anomalies(window, &input, &bad).notes.len(), 1);
}

#[test]
fn findings_are_sorted_by_severity_then_start() {
    let window = AuditWindow::new(t0(), t0() + Duration::hours(1));
    let input = AnomalyInput {
        login_bursts: login_bursts(&failures("f", 10, 1, "alice", "10.0.0.1"), &AnomalyThresholds::default()),
        escalation: vec![row(
            "a",
            t0() + Duration::minutes(30),
            "join_token.create",
            Some("x"),
            None,
            json!({"roles": ["Auth"]}),
        )],
        ..Default::default()
    };
    let report = detect_anomalies(window, &input, &AnomalyThresholds::default());
    let order: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(order, vec![Severity::Critical, Severity::High, Severity::High]);
    assert!(serde_json::to_value(&report).unwrap()["findings"][0]["kind"] == "escalation");
}
