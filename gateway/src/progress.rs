//! Relaying a job's progress to the MCP client that is waiting for it: the worker records steps in
//! `operation_events` and NOTIFYs; the replica holding the client's stream reads the new steps and
//! sends them as `notifications/progress` with the client's own token.

use mtcp_shared::db;
use mtcp_shared::domain::OpId;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::Value;
use sqlx::PgPool;

/// Where a call's progress goes: the client's peer and the token it sent.
pub struct ProgressRelay {
    peer: Peer<RoleServer>,
    token: ProgressToken,
    /// Last event forwarded.
    seq: i64,
    /// Last progress value sent: MCP requires it to increase.
    sent: f64,
}

impl ProgressRelay {
    /// A relay only exists when the client asked for progress (sent a token).
    pub fn new(peer: Peer<RoleServer>, token: Option<ProgressToken>) -> Option<Self> {
        token.map(|token| Self { peer, token, seq: -1, sent: f64::NEG_INFINITY })
    }

    /// Forward the steps recorded since the last call. Errors are logged, never fatal: a client
    /// that went away loses its progress, not its result.
    pub async fn forward(&mut self, pool: &PgPool, op_id: OpId) {
        let events = match db::operations::progress_after(pool, op_id, self.seq).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(op_id = %op_id, error = %e, "reading progress events");
                return;
            }
        };
        for (seq, payload) in events {
            self.seq = seq;
            let Some(progress) = payload.get("progress").and_then(Value::as_f64) else { continue };
            if progress <= self.sent {
                continue;
            }
            self.sent = progress;
            let mut note = ProgressNotificationParam::new(self.token.clone(), progress);
            if let Some(total) = payload.get("total").and_then(Value::as_f64) {
                note = note.with_total(total);
            }
            if let Some(message) = payload.get("message").and_then(Value::as_str) {
                note = note.with_message(message.to_owned());
            }
            if let Err(e) = self.peer.notify_progress(note).await {
                tracing::debug!(op_id = %op_id, error = %e, "the client no longer takes progress");
                return;
            }
        }
    }
}
