//! Fault injection, a slow suite kept out of the default `cargo test` (every test is `#[ignore]`d)
//! and run by `scripts/faults` in CI: workers killed -9 mid-job again and again, the database
//! restarted under load, a gateway killed mid-call (the scenario of `scale_out.rs`, repeated), and
//! lease races and orphans. Each test prints its figures and asserts what a user would notice.

#[path = "faults/common.rs"]
mod common;
#[path = "faults/db_restart.rs"]
mod db_restart;
#[path = "faults/gateway_crash.rs"]
mod gateway_crash;
#[path = "faults/lease_faults.rs"]
mod lease_faults;
#[path = "faults/worker_crash.rs"]
mod worker_crash;
