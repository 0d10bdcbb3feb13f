//! Pure analysis over the typed Teleport models: the RBAC scan (`scan_rbac`) and the health checks
//! (`run_health_check`). No IO here: callers fetch the inventory, pass values in, get reports out,
//! and pass the current time explicitly so results are reproducible.

pub mod health;
pub mod rbac;
mod severity;

pub use severity::{Severity, SeverityCounts};
