//! Calls queued directly, as the gateway records them, for tests of the queue itself.

use mtcp_shared::db::{self, operations::NewOperation};
use mtcp_shared::domain::{Actor, ActorKind, AuthSource, Capability, OpId, ToolJob};
use mtcp_shared::policy::Decision;
use mtcp_shared::tools::{NoArgs, ToolCall};

/// A readonly API-key user named `id`.
pub fn readonly(id: &str) -> Actor {
    Actor {
        id: id.into(),
        kind: ActorKind::User,
        role: "readonly".into(),
        source: AuthSource::ConfigApiKey,
        groups: vec![],
    }
}

/// Queue a `list_nodes` call of `actor` (with its job, as the gateway does); returns its id.
pub async fn list_nodes(conn: impl sqlx::PgExecutor<'_>, actor: &Actor) -> anyhow::Result<OpId> {
    list_nodes_keyed(conn, actor, None).await
}

/// [`list_nodes`] with a coalescing key: a call with the key of one queued or running joins it.
pub async fn list_nodes_keyed(
    conn: impl sqlx::PgExecutor<'_>,
    actor: &Actor,
    coalesce_key: Option<&str>,
) -> anyhow::Result<OpId> {
    let decision = Decision { allow: true, reason: "test".into(), constraints: None, policy_version: "t".into() };
    let op = NewOperation {
        op_id: OpId::generate(),
        request_id: None,
        actor,
        capability: Capability::InventoryNodes,
        tool: "list_nodes",
        inputs: serde_json::json!({}),
        reason: None,
        ticket: None,
        decision: &decision,
    };
    let job = ToolJob {
        op_id: op.op_id,
        call: ToolCall::ListNodes(NoArgs {}),
        actor: actor.id.clone(),
        cluster: None,
        traceparent: None,
    };
    let admission = db::queue::Admission { coalesce_key, ..Default::default() };
    db::queue::admit(conn, &op, &job, &admission).await?;
    Ok(op.op_id)
}
