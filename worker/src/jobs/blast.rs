//! `check_policy` of an access request, completed on a worker: read the roles and users and every
//! kind of resource the requested roles' labels could reach, count the blast radius, and add it to
//! the verdict the gateway made. A read that fails leaves the verdict standing with the reason.

use mtcp_shared::analysis::blast::{self, Target, TargetKind};
use mtcp_shared::approvals::notice;
use mtcp_shared::db::{self, operations::Outcome};
use mtcp_shared::domain::OpId;
use mtcp_shared::teleport::views::{self, TargetList};
use mtcp_shared::teleport::{ToolFailure, fetch};
use mtcp_shared::tools::CheckPolicy;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::outcome::report;
use crate::JobContext;
use crate::progress::Steps;

/// Add the blast radius to the gateway's verdict.
pub(super) async fn run(ctx: &JobContext, c: &CheckPolicy, op_id: OpId, cancel: &CancellationToken) -> Outcome {
    let Some(Value::Object(mut verdict)) = c.verdict.clone() else {
        return Outcome::failed("check_policy is answered by the gateway; no worker runs it without its verdict");
    };
    let requested: Vec<String> = c
        .args
        .arguments
        .as_ref()
        .and_then(|a| a.get("resources"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut steps = Steps::new(&ctx.pool, op_id, 2);
    let radius = match read(ctx, &mut steps, cancel).await {
        Ok((roles, users, targets)) => {
            let radius = blast::blast_radius(&requested, &roles, &users, &targets);
            steps.step("counted the blast radius").await;
            verdict.insert("blast_radius".into(), serde_json::to_value(&radius).expect("a blast radius serializes"));
            Ok(radius)
        }
        Err((what, f)) => {
            let error = format!("could not read {what}: {f}");
            verdict.insert("blast_radius_error".into(), Value::String(error.clone()));
            Err(error)
        }
    };
    if let Some(request) = c.for_approval {
        announce(ctx, OpId(request), radius.as_ref().map_err(String::as_str)).await;
    }
    report(&Value::Object(verdict))
}

/// Tell the approvers' webhook what the waiting request would reach. A lost message loses only
/// the notice: `list_pending_approvals` shows the same.
async fn announce(ctx: &JobContext, request: OpId, radius: Result<&blast::BlastRadius, &str>) {
    if !ctx.approvals.notifies() {
        return;
    }
    let sent = async {
        let mut conn = ctx.pool.acquire().await?;
        let Some(pending) = db::approvals::get(&mut conn, request).await? else { return Ok(()) };
        let notice = notice::impact(&ctx.approvals, &notice::Facts::of(&pending), radius);
        db::webhooks::enqueue(&mut *conn, request, "approval.impact", &notice).await
    };
    if let Err(e) = sent.await {
        tracing::warn!(error = %e, %request, "announcing the blast radius of a waiting access request");
    }
}

type Inventory = (Vec<mtcp_shared::teleport::models::Role>, Vec<mtcp_shared::teleport::models::User>, Vec<Target>);

async fn read(
    ctx: &JobContext,
    steps: &mut Steps<'_>,
    cancel: &CancellationToken,
) -> Result<Inventory, (&'static str, ToolFailure)> {
    let r = &ctx.runner;
    // Seven independent reads: at once, so the answer waits for the slowest, not for their sum.
    let (roles, users, nodes, db, app, kube, desktops) = tokio::try_join!(
        async { fetch::roles(r, cancel).await.map_err(|f| ("roles", f)) },
        async { fetch::users(r, cancel).await.map_err(|f| ("users", f)) },
        async { fetch::nodes(r, cancel).await.map_err(|f| ("nodes", f)) },
        async { fetch::db_servers(r, cancel).await.map_err(|f| ("database servers", f)) },
        async { fetch::app_servers(r, cancel).await.map_err(|f| ("app servers", f)) },
        async { fetch::kube_servers(r, cancel).await.map_err(|f| ("Kubernetes servers", f)) },
        async { fetch::windows_desktops(r, cancel).await.map_err(|f| ("Windows desktops", f)) },
    )?;
    steps.step("read roles, users, and what the roles' labels could reach").await;
    let mut targets: Vec<Target> = nodes
        .into_iter()
        .map(|n| Target {
            kind: TargetKind::Node,
            alias: Some(n.spec.hostname.clone()).filter(|h| !h.is_empty()),
            name: n.metadata.name,
            labels: n.metadata.labels,
        })
        .collect();
    let lists = [
        (TargetKind::Database, TargetList::from_servers(views::TargetKind::Database, &db)),
        (TargetKind::App, TargetList::from_servers(views::TargetKind::App, &app)),
        (TargetKind::McpServer, TargetList::from_servers(views::TargetKind::McpServer, &app)),
        (TargetKind::KubeCluster, TargetList::from_servers(views::TargetKind::Kube, &kube)),
        (TargetKind::WindowsDesktop, TargetList::from_desktops(&desktops)),
    ];
    for (kind, list) in lists {
        targets.extend(list.targets.into_iter().map(|t| Target { kind, name: t.name, alias: None, labels: t.labels }));
    }
    Ok((roles, users, targets))
}
