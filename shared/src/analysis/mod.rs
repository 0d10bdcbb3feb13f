//! Pure analysis over the typed Teleport models: the RBAC scan (`scan_rbac`), the health checks
//! (`run_health_check`) and the audit summary and anomaly detectors (`search_audit`,
//! `detect_audit_anomalies`). No IO here: callers fetch the inventory or candidate rows, pass values
//! in, get reports out, and pass the current time explicitly so results are reproducible.

pub mod audit;
pub mod blast;
pub mod health;
pub mod rbac;
mod severity;

pub use severity::{Severity, SeverityCounts};
