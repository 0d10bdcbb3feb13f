//! What a worker holds for each cluster it serves (a runner, a job context), looked up by a job's
//! cluster — none: the default cluster, for calls recorded before there were several.

use std::collections::BTreeMap;

use mtcp_shared::db::queue::Serving;

/// One `T` per cluster served, by name.
#[derive(Clone)]
pub(crate) struct Served<T> {
    by_name: BTreeMap<String, T>,
    /// The configured default cluster (served here or not).
    default: String,
}

impl<T> Served<T> {
    pub(crate) fn new(by_name: BTreeMap<String, T>, default: String) -> Self {
        assert!(!by_name.is_empty(), "a worker serves at least one cluster (validated)");
        Self { by_name, default }
    }

    /// The cluster a job names (none: the default) with its `T`; `Err`: a call this worker does not
    /// serve (its claims take none, so only a bug gets here), saying so.
    pub(crate) fn get(&self, cluster: Option<&str>) -> Result<(&str, &T), String> {
        let name = cluster.unwrap_or(&self.default);
        self.by_name
            .get_key_value(name)
            .map(|(k, t)| (k.as_str(), t))
            .ok_or_else(|| format!("this worker does not serve cluster {name:?}"))
    }

    /// Any one of them, for what does not depend on the cluster.
    pub(crate) fn any(&self) -> &T {
        self.by_name.values().next().expect("a worker serves at least one cluster")
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.by_name.values()
    }

    /// The same clusters, each with `f` of its `T`.
    pub(crate) fn map<U>(&self, f: impl Fn(&T) -> U) -> Served<U> {
        Served { by_name: self.by_name.iter().map(|(k, t)| (k.clone(), f(t))).collect(), default: self.default.clone() }
    }

    /// What this worker's claims take.
    pub(crate) fn serving(&self) -> Serving {
        Serving { clusters: self.by_name.keys().cloned().collect(), default: self.by_name.contains_key(&self.default) }
    }
}
