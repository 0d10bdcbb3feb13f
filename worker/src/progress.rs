//! Progress of one operation: numbered steps out of a known total, recorded and announced as they
//! happen (`get_operation` and the gateway's progress notifications read them).

use mtcp_shared::db;
use mtcp_shared::domain::OpId;
use serde_json::json;
use sqlx::PgPool;

/// The steps of one operation.
pub(crate) struct Steps<'a> {
    pool: &'a PgPool,
    op_id: OpId,
    done: u32,
    total: u32,
}

impl<'a> Steps<'a> {
    /// `total` steps to come.
    pub(crate) fn new(pool: &'a PgPool, op_id: OpId, total: u32) -> Self {
        Steps { pool, op_id, done: 0, total }
    }

    /// Steps of a sub-task reported as part of the enclosing one: silent.
    pub(crate) fn silent(pool: &'a PgPool, op_id: OpId) -> Self {
        Steps::new(pool, op_id, 0)
    }

    pub(crate) fn op_id(&self) -> OpId {
        self.op_id
    }

    /// Record the next step. A failure to record is logged, never fatal: progress is a courtesy.
    pub(crate) async fn step(&mut self, message: &str) {
        if self.total == 0 {
            return;
        }
        self.done += 1;
        let payload = json!({ "progress": self.done, "total": self.total, "message": message });
        if let Err(e) = db::operations::add_progress(self.pool, self.op_id, &payload).await {
            tracing::warn!(error = %e, "recording progress");
        }
    }
}
