//! The built-in demo cluster `teleport.example.com`: realistic resources with the flaws the
//! control plane's analyses look for (version skew, silent nodes, risky roles, a CA stuck in
//! rotation, weak MFA), access targets (databases, apps and MCP servers, Kubernetes clusters, Windows
//! desktops, see [`targets`]), and access requests (one pending, one denied; nobody may request
//! `cluster-admin`). Content is deterministic; only times follow the clock.

mod authorities;
mod keys;
mod requests;
mod role_presets;
mod roles;
mod servers;
mod targets;
mod tokens;
mod users;

use chrono::{DateTime, Duration, Utc};

use super::{DEFAULT_CLUSTER, DEFAULT_VERSION, State};
use crate::timefmt::go_time;
use crate::value::{Map, Value};

/// Builds the demo cluster as it looks at `now`.
pub fn build(now: DateTime<Utc>) -> State {
    let clock = Clock { now };
    State {
        cluster_name: DEFAULT_CLUSTER.to_owned(),
        version: DEFAULT_VERSION.to_owned(),
        nodes: servers::nodes(&clock),
        proxies: servers::proxies(&clock),
        roles: roles::all(),
        users: users::all(&clock),
        tokens: tokens::all(&clock),
        cert_authorities: authorities::all(&clock),
        auth_preference: vec![authorities::auth_preference()],
        db_servers: targets::db_servers(&clock),
        app_servers: targets::app_servers(&clock),
        kube_servers: targets::kube_servers(&clock),
        windows_desktops: targets::windows_desktops(&clock),
        access_requests: requests::all(&clock),
        deny_request_roles: vec!["cluster-admin".to_owned()],
        ..State::default()
    }
}

/// The demo's notion of "now", with helpers for times relative to it.
pub(crate) struct Clock {
    now: DateTime<Utc>,
}

impl Clock {
    /// `now + secs` in Go's JSON form.
    fn offset(&self, secs: i64) -> String {
        go_time(self.now + Duration::seconds(secs))
    }

    /// `now + secs` with a deterministic sub-second part, as real heartbeats have.
    fn offset_jitter(&self, secs: i64, rng: &mut Gen) -> String {
        let nanos = rng.below(1_000_000_000) as i64;
        go_time(self.now + Duration::seconds(secs) + Duration::nanoseconds(nanos))
    }

    /// A whole-second time `days` ago (things people did, not heartbeats).
    fn days_ago(&self, days: i64) -> String {
        let t = self.now - Duration::days(days);
        go_time(t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos())))
    }
}

/// SplitMix64: a tiny deterministic generator, so the demo looks random but never changes.
pub(crate) struct Gen {
    state: u64,
}

impl Gen {
    fn new(seed: u64) -> Self {
        Gen { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// A random (version 4) UUID.
    fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.bytes(16));
        crate::uuid::format_v4(b)
    }

    /// `n` random bytes as hex (join tokens look like this).
    fn hex(&mut self, n: usize) -> String {
        crate::digest::hex(&self.bytes(n))
    }
}

/// A label map from pairs, keys sorted as Go prints maps.
fn labels(pairs: &[(&str, &str)]) -> Value {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let mut map = Map::new();
    for (k, v) in sorted {
        map.insert(k, Value::from(v));
    }
    Value::Object(map)
}

/// `metadata` in `Metadata` field order; absent parts are omitted (`omitempty`).
fn metadata(
    name: &str,
    description: Option<&str>,
    labels: Option<Value>,
    expires: Option<String>,
    rng: &mut Gen,
) -> Value {
    let mut map = Map::new();
    map.insert("name", Value::from(name));
    if let Some(description) = description {
        map.insert("description", Value::from(description));
    }
    if let Some(labels) = labels {
        map.insert("labels", labels);
    }
    if let Some(expires) = expires {
        map.insert("expires", Value::from(expires));
    }
    map.insert("revision", Value::from(rng.uuid()));
    Value::Object(map)
}

#[cfg(test)]
#[path = "demo_tests.rs"]
mod tests;
