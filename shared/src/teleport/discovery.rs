//! Whether a lease's target exists before its proxy starts: one `tctl get <kind>_server` run,
//! and, when the name is unknown, the close names the cluster does have (Jaro-Winkler), so a
//! caller that mistyped learns what it meant instead of reading `tsh`'s "not found".

use tokio_util::sync::CancellationToken;

use super::fetch;
use super::runner::Runner;
use super::views::{TargetKind, TargetList};
use crate::domain::LeaseTarget;

/// Names at least this similar to the unknown one are suggested.
const CLOSE: f64 = 0.8;
/// At most this many suggestions.
const MAX_SUGGESTIONS: usize = 3;

/// What the check found.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetCheck {
    /// The cluster serves the target, or the kind has no listing to check (ssh, vnet).
    Known,
    /// No agent serves a target of that name: the message names the close ones.
    Unknown(String),
    /// The listing itself failed (rights, connection): the caller decides; `tsh` will tell.
    Unavailable(String),
}

/// Checks `target` against what the cluster's agents serve.
pub async fn check_target(runner: &Runner, target: &LeaseTarget, cancel: &CancellationToken) -> TargetCheck {
    let (kind, what, name) = match target {
        LeaseTarget::Db { db, .. } => (TargetKind::Database, "database", db),
        LeaseTarget::App { app } => (TargetKind::App, "application", app),
        LeaseTarget::Mcp { app } => (TargetKind::McpServer, "MCP server", app),
        LeaseTarget::Kube { kube_cluster: Some(c) } => (TargetKind::Kube, "Kubernetes cluster", c),
        _ => return TargetCheck::Known,
    };
    let servers = match kind {
        TargetKind::Database => fetch::db_servers(runner, cancel).await,
        TargetKind::App | TargetKind::McpServer => fetch::app_servers(runner, cancel).await,
        TargetKind::Kube => fetch::kube_servers(runner, cancel).await,
    };
    let servers = match servers {
        Ok(servers) => servers,
        Err(e) => return TargetCheck::Unavailable(e.to_string()),
    };
    // An MCP lease on a plain app (or the reverse) is for tsh to refuse in its own words: both
    // count as known here.
    let kinds: &[TargetKind] = match kind {
        TargetKind::App | TargetKind::McpServer => &[TargetKind::App, TargetKind::McpServer],
        _ => &[kind],
    };
    let all: Vec<String> =
        kinds.iter().flat_map(|k| TargetList::from_servers(*k, &servers).targets).map(|t| t.name).collect();
    if all.iter().any(|n| n == name) {
        return TargetCheck::Known;
    }
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    TargetCheck::Unknown(unknown_message(what, name, &names))
}

/// `no database "ordrs" in the cluster; close names:` and `"orders", "orders-replica"` in a
/// marked section.
pub fn unknown_message(what: &str, name: &str, names: &[&str]) -> String {
    let close = close_names(name, names);
    let tail = if names.is_empty() {
        // Teleport lists only what the identity's roles' label selectors match.
        format!("; the control plane's Teleport identity sees no {what} at all (its roles' label selectors decide)")
    } else if close.is_empty() {
        format!("; it has {} (list them with the discovery tools)", names.len())
    } else {
        // The names are the cluster's: shown in a marked section, like any text it wrote.
        let quoted: Vec<String> = close.iter().map(|n| format!("{n:?}")).collect();
        format!("; close names:{}", crate::tools::untrusted::text_section(&quoted.join(", ")))
    };
    format!("no {what} {name:?} in the cluster{tail}")
}

/// The names most like `name`, best first (case-insensitive Jaro-Winkler, ties by name).
pub fn close_names<'a>(name: &str, names: &[&'a str]) -> Vec<&'a str> {
    let wanted = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .map(|n| (strsim::jaro_winkler(&wanted, &n.to_lowercase()), *n))
        .filter(|(score, _)| *score >= CLOSE)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_rank_by_similarity_and_skip_strangers() {
        let names = ["orders", "orders-replica", "billing-mysql", "analytics-mongo"];
        assert_eq!(close_names("orders-db", &names), ["orders", "orders-replica"]);
        assert!(close_names("zzz", &names).is_empty());
        assert_eq!(
            unknown_message("database", "ordrs", &names),
            "no database \"ordrs\" in the cluster; close names:\n<untrusted-data format=\"text\">\n\"orders\", \
             \"orders-replica\"\n</untrusted-data>"
        );
        assert!(unknown_message("database", "zzz", &names).ends_with("it has 4 (list them with the discovery tools)"));
        assert!(unknown_message("database", "x", &[]).contains("sees no database at all"));
    }
}
