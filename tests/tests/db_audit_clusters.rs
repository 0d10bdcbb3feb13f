//! `search_audit` and `detect_audit_anomalies` of one cluster against a real Postgres: events of
//! two Teleport clusters, filtered by the configured cluster's Teleport name (`cluster_name` of its
//! events) or not at all. Each test gets its own database (`TestDb`).

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::analysis::audit::{self, AnomalyKind, AnomalyReport};
use mtcp_shared::config::{AnomalyThresholds, ClusterConfig};
use mtcp_shared::db::audit::{NewAuditEvent, insert_batch};
use mtcp_tests::TestDb;
use serde_json::json;

fn day() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z").unwrap().to_utc()
}

/// A configured cluster whose control-plane name differs from its Teleport name.
fn cluster(name: &str, teleport_name: &str) -> ClusterConfig {
    ClusterConfig { name: name.into(), teleport_name: Some(teleport_name.into()), ..ClusterConfig::default() }
}

fn ev(
    uid: &str,
    time: DateTime<Utc>,
    event: &str,
    user: &str,
    success: Option<bool>,
    addr: &str,
    in_cluster: &str,
) -> NewAuditEvent {
    NewAuditEvent {
        uid: uid.into(),
        time,
        event: event.into(),
        code: None,
        user: Some(user.into()),
        success,
        remote_addr: Some(addr.into()),
        cluster: Some(in_cluster.into()),
        raw: json!({"app_name": "mcp-db"}),
    }
}

/// prod: a brute force on alice (12 failed logins in two minutes) and dave's MCP session from an
/// address he used before only in staging. staging: three quiet session starts, and dave's earlier
/// MCP sessions (from the address prod sees next) two days before the window.
async fn two_clusters() -> TestDb {
    let db = TestDb::new().await.unwrap();
    let (prod, staging) = ("prod.example.com", "staging.example.com");
    let mut batch: Vec<_> = (0..12)
        .map(|i| {
            let t = day() + Duration::hours(9) + Duration::seconds(i * 10);
            ev(&format!("p-fail{i}"), t, "user.login", "alice", Some(false), "203.0.113.7:6000", prod)
        })
        .collect();
    for i in 0..3 {
        let t = day() + Duration::hours(10 + i);
        batch.push(ev(&format!("s-start{i}"), t, "session.start", "bob", None, "10.2.0.1:22", staging));
    }
    let before = day() - Duration::days(2);
    batch.push(ev("p-mcp-old", before, "mcp.session.start", "dave", None, "10.0.0.1:4000", prod));
    batch.push(ev("s-mcp-old", before, "mcp.session.start", "dave", None, "10.0.0.2:4000", staging));
    batch.push(ev("p-mcp", day() + Duration::hours(12), "mcp.session.start", "dave", None, "10.0.0.2:4000", prod));
    insert_batch(&db.pool, &batch).await.unwrap();
    db
}

fn signals(r: &AnomalyReport) -> Vec<(&str, &str)> {
    let mut s: Vec<_> = r.findings.iter().map(|f| (f.signal.as_str(), f.subject.as_str())).collect();
    s.sort();
    s
}

#[tokio::test]
async fn search_counts_the_named_clusters_events_only() {
    let db = two_clusters().await;
    let (prod, staging) = (cluster("prod", "prod.example.com"), cluster("staging", "staging.example.com"));
    let (since, until) = (day(), day() + Duration::days(1));

    let p = audit::search(&db.pool, since, until, Some(&prod)).await.unwrap();
    assert_eq!((p.total, p.cluster.as_deref()), (13, Some("prod")));
    assert_eq!(
        p.top_users.iter().map(|u| (u.user.as_str(), u.count)).collect::<Vec<_>>(),
        [("alice", 12), ("dave", 1)]
    );
    assert_eq!(p.hourly.iter().map(|h| h.count).sum::<u64>(), 13, "the histogram is filtered too");

    let s = audit::search(&db.pool, since, until, Some(&staging)).await.unwrap();
    assert_eq!((s.total, s.cluster.as_deref()), (3, Some("staging")));
    assert!(s.failures_by_event.is_empty(), "prod's failed logins are not staging's: {:?}", s.failures_by_event);

    let all = audit::search(&db.pool, since, until, None).await.unwrap();
    assert_eq!((all.total, all.cluster.as_deref()), (16, None));
    let json = serde_json::to_value(&all).unwrap();
    assert!(json.get("cluster").is_none(), "an unfiltered answer names no cluster: {json}");
    assert_eq!(serde_json::to_value(&p).unwrap()["cluster"], "prod");
}

#[tokio::test]
async fn anomalies_of_one_cluster_ignore_the_others_events() {
    let db = two_clusters().await;
    let (prod, staging) = (cluster("prod", "prod.example.com"), cluster("staging", "staging.example.com"));
    let (since, until, t) = (day(), day() + Duration::days(1), AnomalyThresholds::default());

    let p = audit::anomalies(&db.pool, since, until, Some(&prod), &t).await.unwrap();
    assert_eq!(p.cluster.as_deref(), Some("prod"));
    // dave's address is new for prod: staging's earlier session from it is outside the filter,
    // in the lookback before the window as in the window.
    assert_eq!(
        signals(&p),
        [("failed_logins_per_source", "203.0.113.7"), ("failed_logins_per_user", "alice"), ("mcp_new_source", "dave")]
    );
    let brute = p.findings.iter().find(|f| f.kind == AnomalyKind::BruteForce).unwrap();
    assert!(brute.evidence.iter().all(|u| u.starts_with("p-")), "{:?}", brute.evidence);

    let s = audit::anomalies(&db.pool, since, until, Some(&staging), &t).await.unwrap();
    assert_eq!(s.cluster.as_deref(), Some("staging"));
    assert!(s.findings.is_empty(), "prod's burst is not staging's: {:#?}", s.findings);

    // Every cluster's events together: the burst is there, and dave's address is known (staging).
    let all = audit::anomalies(&db.pool, since, until, None, &t).await.unwrap();
    assert_eq!(all.cluster, None);
    assert_eq!(signals(&all), [("failed_logins_per_source", "203.0.113.7"), ("failed_logins_per_user", "alice")]);
}
