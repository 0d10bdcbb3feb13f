//! `mtcp_teleport_identity_expiry_seconds` and `_lifetime_seconds`: the worker reads its identity
//! file's certificate at its heartbeat interval, as every CLI run reads the file afresh, so a file
//! `tbot` renews shows its new expiry at the next read and one nobody renews counts down to an alert.

use std::path::PathBuf;
use std::time::Duration;

use mtcp_shared::teleport::identity;
use tokio_util::sync::CancellationToken;

/// Read once and set the gauges. A file that cannot be read leaves them as they were and says why,
/// once per distinct reason (`last` remembers it), not at every beat.
pub(crate) fn read_once(path: &std::path::Path, cluster: &str, last: &mut Option<String>) {
    match identity::inspect(path) {
        Ok(info) => {
            let left = info.cert.not_after - chrono::Utc::now();
            let lifetime = info.cert.not_after - info.cert.not_before;
            let cluster = cluster.to_owned();
            metrics::gauge!("mtcp_teleport_identity_expiry_seconds", "cluster" => cluster.clone())
                .set(left.num_seconds() as f64);
            metrics::gauge!("mtcp_teleport_identity_lifetime_seconds", "cluster" => cluster)
                .set(lifetime.num_seconds() as f64);
            *last = None;
        }
        Err(e) => {
            let why = e.to_string();
            if last.as_deref() != Some(why.as_str()) {
                tracing::warn!(error = %why, cluster, "reading the Teleport identity's certificate for its expiry");
                *last = Some(why);
            }
        }
    }
}

/// Read `cluster`'s identity every `every` until `stop` fires; nothing to do without an identity file.
pub(crate) async fn run(path: Option<PathBuf>, cluster: String, every: Duration, stop: CancellationToken) {
    let Some(path) = path else { return };
    let mut last = None;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => read_once(&path, &cluster, &mut last),
        }
    }
}
