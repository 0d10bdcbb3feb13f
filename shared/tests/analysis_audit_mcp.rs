//! The MCP audit detectors over hand-made rows shaped like Teleport 18's `mcp.session.*` events:
//! refused tool-call bursts, many MCP servers, a new source address; normal MCP use stays quiet.

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::audit::*;
use mtcp_shared::config::AnomalyThresholds;
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T10:00:00Z").unwrap().to_utc()
}

fn row(uid: &str, time: DateTime<Utc>, event: &str, user: &str, addr: Option<&str>, raw: Value) -> AuditEventRow {
    AuditEventRow {
        uid: uid.into(),
        time,
        event: event.into(),
        code: None,
        user: Some(user.into()),
        remote_addr: addr.map(Into::into),
        raw,
    }
}

/// An `mcp.session.start` of `user` on `app` from `addr` (as `db::audit` returns it).
fn mcp_start(uid: &str, time: DateTime<Utc>, user: &str, app: &str, addr: &str) -> AuditEventRow {
    row(uid, time, "mcp.session.start", user, Some(addr), json!({ "app_name": app }))
}

/// A refused `tools/call` (`TMCP003E`) of `user`.
fn mcp_refused(uid: &str, time: DateTime<Utc>, user: &str, tool: &str) -> AuditEventRow {
    let raw = json!({ "app_name": "mcp-filesystem", "tool": tool, "error": "access denied" });
    AuditEventRow { code: Some("TMCP003E".into()), ..row(uid, time, "mcp.session.request", user, None, raw) }
}

#[test]
fn mcp_refused_tool_calls_burst_per_user() {
    let t = AnomalyThresholds::default(); // 5 per 600 s
    let calls = |prefix: &str, n: usize, step: i64, user: &str| -> Vec<AuditEventRow> {
        (0..n)
            .map(|i| {
                mcp_refused(&format!("{prefix}{i}"), t0() + Duration::seconds(step * i as i64), user, "write_file")
            })
            .collect()
    };
    let found = detect_mcp_denied_bursts(&calls("d", 6, 20, "peggy"), &t);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.kind, f.signal.as_str(), f.subject.as_str()), (AnomalyKind::Mcp, "mcp_denied_tool_calls", "peggy"));
    assert_eq!((f.severity, f.observed, f.evidence.len()), (Severity::Medium, 6.0, 6));
    assert_eq!(f.details["tools"], ["write_file"]);
    assert_eq!(f.details["servers"], ["mcp-filesystem"]);
    assert!(!f.description.contains("peggy") && !f.description.contains("write_file"), "{}", f.description);
    // Four within a minute, or five spread over 20 minutes: no burst.
    assert!(detect_mcp_denied_bursts(&calls("n", 4, 10, "bob"), &t).is_empty());
    assert!(detect_mcp_denied_bursts(&calls("s", 5, 300, "bob"), &t).is_empty());
    assert_eq!(detect_mcp_denied_bursts(&calls("h", 15, 5, "eve"), &t)[0].severity, Severity::High);
}

#[test]
fn mcp_many_servers_counts_distinct_servers_in_the_window() {
    let t = AnomalyThresholds::default(); // 5 servers
    let servers = ["a", "b", "c", "d", "e"];
    let sessions: Vec<AuditEventRow> = servers
        .iter()
        .enumerate()
        .map(|(i, app)| mcp_start(&format!("s{i}"), t0() + Duration::minutes(i as i64), "oscar", app, "192.0.2.1:5000"))
        .collect();
    let found = detect_mcp_many_servers(t0(), &sessions, &[], &t);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].subject.as_str(), found[0].observed, found[0].signal.as_str()),
        ("oscar", 5.0, "mcp_many_servers")
    );
    assert_eq!(found[0].details["servers"], servers);
    // The same server again, or a server only before the window, does not count.
    assert!(detect_mcp_many_servers(t0() + Duration::seconds(30), &sessions, &[], &t).is_empty());
    let again = mcp_start("x", t0() + Duration::minutes(9), "heidi", "a", "192.0.2.1:5000");
    let few: Vec<_> = sessions[..4].iter().cloned().chain([again]).collect();
    assert!(detect_mcp_many_servers(t0(), &few, &[], &t).is_empty());
}

#[test]
fn mcp_sessions_from_a_new_address() {
    let since = t0();
    let sessions = vec![
        mcp_start("old", since - Duration::days(2), "heidi", "fs", "192.0.2.57:40000"),
        mcp_start("usual", since + Duration::hours(1), "heidi", "fs", "192.0.2.57:41000"),
        mcp_start("new", since + Duration::hours(3), "heidi", "fs", "203.0.113.77:42000"),
        mcp_start("again", since + Duration::hours(4), "heidi", "fs", "203.0.113.77:43000"),
        // A first-ever MCP user is not judged; nor is a new address before the window.
        mcp_start("first", since + Duration::hours(2), "ivan", "fs", "198.51.100.9:1000"),
        mcp_start("b1", since - Duration::days(3), "bob", "fs", "10.0.0.1:1"),
        mcp_start("b2", since - Duration::days(1), "bob", "fs", "10.0.0.2:1"),
    ];
    let found = detect_mcp_new_sources(since, &sessions);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(
        (f.signal.as_str(), f.subject.as_str(), f.evidence.clone()),
        ("mcp_new_source", "heidi", vec!["new".to_owned()])
    );
    assert_eq!(f.details["address"], ["203.0.113.77"]);
    assert_eq!(f.details["known_addresses"], ["192.0.2.57"]);
}

#[test]
fn normal_mcp_use_gives_no_finding() {
    let since = t0();
    let window = AuditWindow::new(since, since + Duration::days(1));
    let sessions: Vec<AuditEventRow> = (0..24)
        .map(|h| {
            mcp_start(
                &format!("m{h}"),
                since + Duration::hours(h),
                "heidi",
                ["fs", "grafana"][h as usize % 2],
                "192.0.2.57:40000",
            )
        })
        .collect();
    let denied: Vec<AuditEventRow> = (0..4)
        .map(|i| mcp_refused(&format!("d{i}"), since + Duration::hours(i * 5), "heidi", "slack_post_message"))
        .collect();
    let input = AnomalyInput { mcp_sessions: sessions, mcp_denied: denied, ..Default::default() };
    let report = detect_anomalies(window, &input, &AnomalyThresholds::default());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!((report.thresholds.mcp_denied_calls, report.thresholds.mcp_distinct_servers), (5, 5));
    assert_eq!(report.thresholds.mcp_address_baseline_secs, 7 * 24 * 3600);
}
