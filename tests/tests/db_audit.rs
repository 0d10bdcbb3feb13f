//! `db::audit` against a real Postgres: idempotent batches, search aggregates, anomalies end to
//! end, bounded retention deletes, and ingesting the Teleport fixture events. Each test gets its own
//! database (`TestDb`, on `DATABASE_URL`'s server).

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::analysis::{self, audit::AnomalyKind};
use mtcp_shared::config::AnomalyThresholds;
use mtcp_shared::db::audit::{self, NewAuditEvent};
use mtcp_shared::teleport::models::AuditEvent;
use mtcp_shared::teleport::parse::parse_audit_events;
use mtcp_tests::TestDb;
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn day() -> DateTime<Utc> {
    at("2025-06-01T00:00:00Z")
}

fn ev(
    uid: &str,
    time: DateTime<Utc>,
    event: &str,
    user: &str,
    success: Option<bool>,
    addr: Option<&str>,
    raw: Value,
) -> NewAuditEvent {
    NewAuditEvent {
        uid: uid.into(),
        time,
        event: event.into(),
        code: None,
        user: Some(user.into()),
        success,
        remote_addr: addr.map(Into::into),
        cluster: Some("example".into()),
        raw,
    }
}

/// The caller's mapping of a parsed Teleport event (events without a uid or time are skipped).
fn to_row(e: AuditEvent) -> Option<NewAuditEvent> {
    (!e.uid.is_empty()).then_some(())?;
    Some(NewAuditEvent {
        uid: e.uid,
        time: e.time?,
        event: e.event,
        code: Some(e.code).filter(|c| !c.is_empty()),
        user: e.user,
        success: e.success,
        remote_addr: e.remote_addr,
        cluster: e.cluster_name,
        raw: e.raw,
    })
}

#[tokio::test]
async fn insert_batch_is_idempotent() {
    let db = TestDb::new().await.unwrap();
    let batch = vec![
        ev("a", day(), "user.login", "alice", Some(true), Some("10.0.0.1:1"), json!({"k": "nul\u{0}byte"})),
        ev("b", day(), "user.login", "bob", Some(false), None, json!({})),
        ev("b", day(), "user.login", "bob", Some(false), None, json!({})),
    ];
    assert_eq!(audit::insert_batch(&db.pool, &batch).await.unwrap(), 2);
    assert_eq!(audit::insert_batch(&db.pool, &batch).await.unwrap(), 0);
    assert_eq!(audit::insert_batch(&db.pool, &[]).await.unwrap(), 0);
}

#[tokio::test]
async fn search_aggregates_the_window() {
    let db = TestDb::new().await.unwrap();
    let mut batch = Vec::new();
    for i in 0..6 {
        let t = day() + Duration::minutes(10 * i);
        batch.push(ev(
            &format!("l{i}"),
            t,
            "user.login",
            "alice",
            Some(i % 3 != 0),
            Some(&format!("10.0.0.1:{}", 5000 + i)),
            json!({}),
        ));
    }
    batch.push(ev("s1", day() + Duration::hours(2), "session.start", "bob", None, Some("[2001:db8::1]:22"), json!({})));
    batch.push(ev("s2", day() + Duration::hours(2), "session.start", "bob", None, Some("10.0.0.2:22"), json!({})));
    batch.push(ev("old", day() - Duration::hours(1), "session.start", "bob", None, None, json!({})));
    audit::insert_batch(&db.pool, &batch).await.unwrap();

    let s = analysis::audit::search(&db.pool, day(), day() + Duration::hours(4), None).await.unwrap();
    assert_eq!((s.total, s.window.hours), (8, 4));
    assert_eq!(s.first_event, Some(day()));
    assert_eq!(s.last_event, Some(day() + Duration::hours(2)));
    assert_eq!((s.by_event[0].event.as_str(), s.by_event[0].count), ("user.login", 6));
    assert_eq!((s.failures_by_event.len(), s.failures_by_event[0].count), (1, 2));
    assert_eq!((s.failures_by_user[0].user.as_str(), s.failures_by_user[0].count), ("alice", 2));
    assert_eq!(s.top_users.iter().map(|u| (u.user.as_str(), u.count)).collect::<Vec<_>>(), [("alice", 6), ("bob", 2)]);
    let sources: Vec<_> = s.top_sources.iter().map(|u| (u.remote_addr.as_str(), u.count)).collect();
    assert_eq!(sources, [("10.0.0.1", 6), ("10.0.0.2", 1), ("2001:db8::1", 1)]);
    let hourly: Vec<_> = s.hourly.iter().map(|h| h.count).collect();
    assert_eq!(hourly, [6, 0, 2, 0]);
    assert_eq!(s.hourly[3].hour, day() + Duration::hours(3));
}

#[tokio::test]
async fn anomalies_end_to_end() {
    let db = TestDb::new().await.unwrap();
    let mut batch = Vec::new();
    // Baseline: 2 session.start per hour for a day; 80 in hour 14.
    for h in 0..24 {
        let n = if h == 14 { 80 } else { 2 };
        for i in 0..n {
            let t = day() + Duration::hours(h) + Duration::seconds(i * 10);
            batch.push(ev(&format!("s{h}-{i}"), t, "session.start", "svc", None, Some("10.1.0.1:22"), json!({})));
        }
    }
    // 12 failed logins for alice from one IP in two minutes; 3 for bob (quiet).
    for i in 0..12 {
        let t = day() + Duration::hours(9) + Duration::seconds(i * 10);
        batch.push(ev(
            &format!("f{i}"),
            t,
            "user.login",
            "alice",
            Some(false),
            Some(&format!("203.0.113.7:{}", 6000 + i)),
            json!({}),
        ));
    }
    for i in 0..3 {
        batch.push(ev(&format!("b{i}"), day() + Duration::hours(10), "auth", "bob", Some(false), None, json!({})));
    }
    // A request approved by its requester; the create is from the day before.
    let create = json!({"id": "req-1", "user": "carol", "roles": ["admin"], "state": "PENDING"});
    batch.push(ev("rc", day() - Duration::hours(3), "access_request.create", "carol", None, None, create));
    batch.push(ev(
        "ru",
        day() + Duration::hours(11),
        "access_request.update",
        "carol",
        None,
        None,
        json!({"id": "req-1", "state": "APPROVED", "updated_by": "carol"}),
    ));
    batch.push(ev(
        "ci",
        day() + Duration::hours(12),
        "cert.create",
        "mallory",
        None,
        None,
        json!({"identity": {"user": "admin", "impersonator": "mallory"}}),
    ));
    batch.push(ev(
        "cn",
        day() + Duration::hours(12),
        "cert.create",
        "alice",
        None,
        None,
        json!({"identity": {"user": "alice"}}),
    ));
    audit::insert_batch(&db.pool, &batch).await.unwrap();

    let t = AnomalyThresholds::default();
    let report = analysis::audit::anomalies(&db.pool, day(), day() + Duration::days(1), None, &t).await.unwrap();
    let kinds: Vec<_> = report.findings.iter().map(|f| (f.kind, f.signal.as_str(), f.subject.as_str())).collect();
    assert_eq!(report.findings.len(), 5, "{kinds:?}");
    let storm = report.findings.iter().find(|f| f.kind == AnomalyKind::Storm).unwrap();
    assert_eq!((storm.subject.as_str(), storm.observed, storm.evidence.len()), ("session.start", 80.0, 50));
    assert!(storm.evidence.iter().all(|u| u.starts_with("s14-")));
    let brute: Vec<_> = report.findings.iter().filter(|f| f.kind == AnomalyKind::BruteForce).collect();
    let mut subjects: Vec<_> = brute.iter().map(|f| (f.subject.as_str(), f.evidence.len())).collect();
    subjects.sort();
    assert_eq!(subjects, [("203.0.113.7", 12), ("alice", 12)]);
    let selfie = report.findings.iter().find(|f| f.signal == "self_approval").unwrap();
    assert_eq!((selfie.subject.as_str(), selfie.evidence.clone()), ("carol", vec!["rc".to_owned(), "ru".to_owned()]));
    assert!(report.findings.iter().any(|f| f.signal == "impersonation" && f.evidence == ["ci"]));

    // The previous day is quiet.
    let quiet = analysis::audit::anomalies(&db.pool, day() - Duration::days(1), day(), None, &t).await.unwrap();
    assert!(quiet.findings.is_empty(), "{:?}", quiet.findings);
}

#[tokio::test]
async fn delete_older_than_is_bounded() {
    let db = TestDb::new().await.unwrap();
    let batch: Vec<_> = (0..5)
        .map(|i| ev(&format!("e{i}"), day() + Duration::hours(i), "exec", "alice", None, None, json!({})))
        .collect();
    audit::insert_batch(&db.pool, &batch).await.unwrap();
    let cutoff = day() + Duration::hours(3);
    assert_eq!(audit::delete_older_than(&db.pool, cutoff, 2).await.unwrap(), 2);
    assert_eq!(audit::delete_older_than(&db.pool, cutoff, 2).await.unwrap(), 1);
    assert_eq!(audit::delete_older_than(&db.pool, cutoff, 2).await.unwrap(), 0);
    let left: Vec<String> =
        sqlx::query_scalar("SELECT uid FROM audit_events ORDER BY uid").fetch_all(&db.pool).await.unwrap();
    assert_eq!(left, ["e3", "e4"]);
}

#[tokio::test]
async fn ingests_the_teleport_fixture() {
    let db = TestDb::new().await.unwrap();
    let text = mtcp_tests::sim::teleport_fixture("audit-events/audit-event-examples.json");
    let events = parse_audit_events(&text).unwrap();
    let n = events.len();
    let mapped: Vec<NewAuditEvent> = events.into_iter().filter_map(to_row).collect();
    assert_eq!((n, mapped.len()), (16, 15), "cert.create has no uid");
    // Two pairs of examples share a uid (the docs reuse them): 13 distinct events.
    assert_eq!(audit::insert_batch(&db.pool, &mapped).await.unwrap(), 13);

    let (since, until) = (at("2019-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"));
    let s = analysis::audit::search(&db.pool, since, until, None).await.unwrap();
    assert_eq!(s.total, 13);
    assert_eq!((s.hourly.len(), s.notes.len()), (24 * 400, 1), "histogram capped to the last 400 days");
    assert_eq!(s.hourly.iter().map(|h| h.count).sum::<u64>(), 1, "only the MCP event is that recent");
    let recent =
        analysis::audit::search(&db.pool, at("2025-05-23T00:00:00Z"), at("2025-05-24T00:00:00Z"), None).await.unwrap();
    assert_eq!((recent.total, recent.hourly[11].count, recent.notes.len()), (1, 1, 0));
    assert_eq!((s.top_sources[0].remote_addr.as_str(), s.top_sources[0].count), ("151.181.228.114", 2));
    assert!(s.failures_by_event.iter().any(|e| e.event == "user.login" && e.count == 2));
    assert!(s.failures_by_user.iter().any(|u| u.user == "admin@example.com" && u.count == 1));

    let report = analysis::audit::anomalies(&db.pool, since, until, None, &AnomalyThresholds::default()).await.unwrap();
    let signals: Vec<_> = report.findings.iter().map(|f| (f.signal.as_str(), f.subject.as_str())).collect();
    assert_eq!(signals, [("privileged_role_granted", "hello")], "user.create with role admin");
    assert_eq!(report.findings[0].evidence, ["22a273678c-ee78-5ffc-a298-68a841555c98"]);
}

/// 50,001 early decoy failures (one user, many addresses) used to fill the capped read of failed
/// logins, so a later brute force against another user went unseen. Bursts are counted in SQL now.
#[tokio::test]
async fn early_decoy_failures_do_not_hide_a_later_brute_force() {
    let db = TestDb::new().await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (uid, time, event, \"user\", success, remote_addr, raw)
         SELECT 'decoy-' || i, $1::timestamptz + i * interval '50 milliseconds', 'user.login', 'decoy', false,
                '10.9.' || (i / 250) || '.' || (i % 250) || ':4000', '{}'::jsonb
         FROM generate_series(0, 50000) AS i",
    )
    .bind(day())
    .execute(&db.pool)
    .await
    .unwrap();
    let batch: Vec<_> = (0..12)
        .map(|i| {
            let t = day() + Duration::hours(20) + Duration::seconds(i * 5);
            ev(&format!("v{i}"), t, "user.login", "victim", Some(false), Some("198.51.100.9:5000"), json!({}))
        })
        .collect();
    audit::insert_batch(&db.pool, &batch).await.unwrap();
    let t = AnomalyThresholds::default();
    let report = analysis::audit::anomalies(&db.pool, day(), day() + Duration::days(1), None, &t).await.unwrap();
    let victim = report.findings.iter().find(|f| f.kind == AnomalyKind::BruteForce && f.subject == "victim");
    let victim = victim.unwrap_or_else(|| panic!("the later brute force is missing: {:#?}", report.findings));
    assert_eq!(victim.observed, 12.0);
    assert_eq!(victim.evidence, (0..12).map(|i| format!("v{i}")).collect::<Vec<_>>());
    let decoy = report.findings.iter().find(|f| f.subject == "decoy").expect("the decoy burst");
    // 600 s at 20 failures a second, both ends included.
    assert_eq!(decoy.observed, 12_001.0);
    assert_eq!(decoy.evidence.len(), mtcp_shared::analysis::audit::MAX_EVIDENCE);
}

/// The database's burst count agrees with the analysis' own rule over the same rows.
#[tokio::test]
async fn burst_counts_in_sql_match_the_analysis_rule() {
    let db = TestDb::new().await.unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let users = ["ann", "ben", "cat", "dan"];
    let batch: Vec<_> = (0..600)
        .map(|i| {
            let t = day() + Duration::seconds(next(3600) as i64);
            let user = users[next(4) as usize];
            let addr = format!("192.0.2.{}:{}", next(3), 1000 + i);
            ev(
                &format!("r{i}"),
                t,
                if i % 2 == 0 { "auth" } else { "user.login" },
                user,
                Some(false),
                Some(&addr),
                json!({}),
            )
        })
        .collect();
    audit::insert_batch(&db.pool, &batch).await.unwrap();
    let t = AnomalyThresholds { brute_force_failures: 38, ..AnomalyThresholds::default() };
    let report = analysis::audit::anomalies(&db.pool, day(), day() + Duration::days(1), None, &t).await.unwrap();
    let rows: Vec<_> = batch
        .iter()
        .map(|e| mtcp_shared::analysis::audit::AuditEventRow {
            uid: e.uid.clone(),
            time: e.time,
            event: e.event.clone(),
            code: None,
            user: e.user.clone(),
            remote_addr: e.remote_addr.clone(),
            raw: Value::Null,
        })
        .collect();
    let key = |f: &mtcp_shared::analysis::audit::AnomalyFinding| (f.signal.clone(), f.subject.clone(), f.observed);
    let mut from_sql: Vec<_> = report.findings.iter().filter(|f| f.kind == AnomalyKind::BruteForce).map(key).collect();
    let mut reference: Vec<_> = mtcp_shared::analysis::audit::detect_brute_force(&rows, &t).iter().map(key).collect();
    from_sql.sort_by(|a, b| a.partial_cmp(b).unwrap());
    reference.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert!(!reference.is_empty(), "the data must produce bursts for the comparison to mean something");
    assert!(reference.len() < 7, "and subjects below it: {reference:?}");
    assert_eq!(from_sql, reference);
}
