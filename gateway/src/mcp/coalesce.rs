//! Which calls may share a run: a read the configuration names, keyed by what decides its answer —
//! the tool, its arguments as the worker runs them (canonical JSON: object keys sorted), and the
//! cluster and Teleport identity the CLI runs as. Two callers with the same key would get the same answer, so
//! the second joins the first's run instead of asking the auth server again.

use mtcp_shared::config::Config;
use mtcp_shared::tools::ToolCall;
use sha2::{Digest, Sha256};

/// The coalescing key of `call`, or `None` when it always runs on its own.
pub(super) fn key(config: &Config, call: &ToolCall, cluster: Option<&str>) -> Option<String> {
    let spec = call.spec();
    // The configuration refuses mutations and passthroughs; this holds whatever it says.
    if spec.mutating || !config.coalescing.applies_to(spec.tool) {
        return None;
    }
    // serde_json's maps are ordered by key, so equal arguments serialize equally.
    let call = serde_json::to_vec(call).ok()?;
    let default = config.default_cluster();
    let cluster = cluster.unwrap_or(&default);
    let (proxy, identity) = config.identity_of(cluster)?;
    let mut h = Sha256::new();
    for part in [
        spec.name.as_bytes(),
        &call,
        cluster.as_bytes(),
        proxy.unwrap_or_default().as_bytes(),
        identity.map(|p| p.as_os_str().as_encoded_bytes()).unwrap_or_default(),
    ] {
        // Length-prefixed, so no two different tuples hash the same bytes.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtcp_shared::tools::ToolCall;

    fn call(tool: &str, args: serde_json::Value) -> ToolCall {
        serde_json::from_value(serde_json::json!({ "tool": tool, "args": args })).expect("a valid call")
    }

    fn nodes(config: &Config, cluster: Option<&str>) -> Option<String> {
        key(config, &call("list_nodes", serde_json::json!({})), cluster)
    }

    #[test]
    fn equal_reads_share_a_key_and_different_ones_do_not() {
        let config = Config::default();
        let a = nodes(&config, None).expect("list_nodes is coalesced");
        assert_eq!(Some(&a), nodes(&config, None).as_ref());
        assert_eq!(Some(&a), nodes(&config, Some("default")).as_ref(), "the default cluster by name");
        let mut with_args = Config::default();
        with_args.coalescing.tools.push(mtcp_shared::domain::ToolName::ShowAccessRequest);
        let show =
            |id: &str| key(&with_args, &call("show_access_request", serde_json::json!({ "request_id": id })), None);
        assert_eq!(show("r1"), show("r1"));
        assert_ne!(show("r1"), show("r2"), "other arguments, another run");
        let users = key(&config, &call("list_users", serde_json::json!({})), None);
        assert_ne!(Some(&a), users.as_ref(), "another tool, another run");
        let mut other_identity = Config::default();
        other_identity.teleport.identity_file = Some("/var/lib/other/identity".into());
        assert_ne!(Some(&a), nodes(&other_identity, None).as_ref(), "another Teleport identity, another run");
    }

    #[test]
    fn each_cluster_has_its_own_runs() {
        use mtcp_shared::config::ClusterConfig;
        let cluster = |name: &str| ClusterConfig {
            name: name.into(),
            proxy: Some(format!("{name}.example.com:443")),
            ..ClusterConfig::default()
        };
        let config = Config { clusters: vec![cluster("prod"), cluster("staging")], ..Config::default() };
        let prod = nodes(&config, Some("prod")).expect("coalesced");
        assert_eq!(nodes(&config, None).as_ref(), Some(&prod), "prod is the default");
        assert_ne!(nodes(&config, Some("staging")).as_ref(), Some(&prod), "another cluster, another run");
        assert_eq!(nodes(&config, Some("dev")), None, "an unknown cluster never joins anything");
    }

    #[test]
    fn switched_off_tools_and_mutations_always_run() {
        let mut config = Config::default();
        config.coalescing.enabled = false;
        assert_eq!(nodes(&config, None), None);
        let config = Config::default();
        assert_eq!(key(&config, &call("list_tokens", serde_json::json!({})), None), None, "not in the default list");
    }
}
