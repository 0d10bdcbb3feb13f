//! `bench console`: what a console page costs. The trail page (50 rows) and one operation's page
//! over a kept-alive HTTP client with a session cookie, next to the same tool calls from an rmcp
//! client (`search_operations`, `get_operation`), and next to what an auditor without the console
//! would run: the query straight against the operations table. Sequential requests. Also one
//! statement that sends 24 KB, the size past which sqlx 0.9.0 waited for a delayed ACK.

use std::time::{Duration, Instant};

use mtcp_tests::{Stack, StackOptions};
use reqwest::header::COOKIE;
use serde_json::json;

use super::{ms, percentile};

#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// Sequential requests per measurement.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Operations in the trail before measuring.
    #[arg(long, default_value_t = 500)]
    operations: usize,
}

fn row(what: &str, times: &mut [Duration]) {
    times.sort();
    println!(
        "| {what} | {} | {} | {} |",
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
}

/// Sign in through the form; the session cookie.
async fn sign_in(http: &reqwest::Client, base: &str, key: &str) -> anyhow::Result<String> {
    let resp = mtcp_tests::console::post_sign_in(http, base, key, "/console").await?;
    anyhow::ensure!(resp.status().is_redirection(), "sign-in answered {}", resp.status());
    Ok(mtcp_tests::console::set_cookies(&resp).join("; "))
}

pub async fn run(a: ConsoleArgs) -> anyhow::Result<()> {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(super::generous_limits);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await?;
    let admin = stack.client("admin").await?;
    for _ in 0..a.operations {
        admin.call("whoami", json!({})).await?;
    }
    let op_id = admin.call("list_nodes", json!({})).await?.meta.and_then(|m| m.0.get("mtcp/op_id").cloned());
    let op_id = op_id.and_then(|v| v.as_str().map(str::to_owned)).expect("an op id");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let cookie = sign_in(&http, &stack.base, stack.key("admin")).await?;
    let n = a.rounds;

    let page = |path: String| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let mut times = Vec::with_capacity(n);
            let mut bytes = 0;
            for _ in 0..n {
                let t = Instant::now();
                let resp = http.get(&path).header(COOKIE, &cookie).send().await.expect("the page answers");
                assert!(resp.status().is_success(), "{path}: {}", resp.status());
                bytes = resp.bytes().await.expect("the page's body").len();
                times.push(t.elapsed());
            }
            (times, bytes)
        }
    };
    let (mut trail_page, trail_bytes) = page(format!("{}/console/operations", stack.base)).await;
    let (mut op_page, op_bytes) = page(format!("{}/console/operations/{op_id}", stack.base)).await;

    let tool = async |name: &str, args: serde_json::Value| {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = admin.call(name, args.clone()).await.expect("the call answers");
            assert_eq!(r.is_error, Some(false));
            times.push(t.elapsed());
        }
        times
    };
    let mut trail_tool = tool("search_operations", json!({ "limit": 50 })).await;
    let mut op_tool = tool("get_operation", json!({ "op_id": op_id })).await;

    let mut direct = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let rows: Vec<(uuid::Uuid, String, String, String)> =
            sqlx::query_as("SELECT op_id, actor, tool, status FROM operations ORDER BY created_at DESC LIMIT 50")
                .fetch_all(&stack.db.pool)
                .await?;
        assert_eq!(rows.len(), 50);
        direct.push(t.elapsed());
    }

    let mut query = Vec::with_capacity(n);
    let filter = mtcp_shared::db::operations::SearchFilter { limit: 50, ..Default::default() };
    for _ in 0..n {
        let t = Instant::now();
        let rows = mtcp_shared::db::operations::search(&stack.db.pool, &filter).await?;
        assert_eq!(rows.len(), 50);
        query.push(t.elapsed());
    }

    // A statement that sends more than the socket's first 16 KB: what a large result written back
    // costs (sqlx 0.9.0 left Nagle on, and each such statement waited ~44 ms for a delayed ACK).
    let big = json!({ "x": "a".repeat(24_000) });
    let mut large = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let _: (i32,) = sqlx::query_as("SELECT length($1::jsonb::text)").bind(&big).fetch_one(&stack.db.pool).await?;
        large.push(t.elapsed());
    }

    println!("Trail of {} operations; {n} sequential requests each.\n", a.operations + n * 2 + 1);
    println!("| measurement | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    row("the 50 newest operations straight from Postgres (what an auditor would query)", &mut direct);
    row("the query behind `search_operations` (its rows, as the gateway reads them)", &mut query);
    row("`search_operations` limit 50 (rmcp client)", &mut trail_tool);
    row(&format!("`/console/operations`, 50 rows, {trail_bytes} B (kept-alive HTTP)"), &mut trail_page);
    row("`get_operation` (rmcp client)", &mut op_tool);
    row(&format!("`/console/operations/{{op_id}}`, {op_bytes} B (kept-alive HTTP)"), &mut op_page);
    row("one statement sending 24 KB to Postgres (`SELECT length($1::jsonb::text)`)", &mut large);
    stack.stop().await;
    Ok(())
}
