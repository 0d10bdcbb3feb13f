//! Which calls may share a run: a read the configuration names, keyed by what decides its answer —
//! the tool, its arguments as the worker runs them (canonical JSON: object keys sorted), and the
//! Teleport identity the CLI runs as. Two callers with the same key would get the same answer, so
//! the second joins the first's run instead of asking the auth server again.

use mtcp_shared::config::Config;
use mtcp_shared::tools::ToolCall;
use sha2::{Digest, Sha256};

/// The coalescing key of `call`, or `None` when it always runs on its own.
pub(super) fn key(config: &Config, call: &ToolCall) -> Option<String> {
    let spec = call.spec();
    // The configuration refuses mutations and passthroughs; this holds whatever it says.
    if spec.mutating || !config.coalescing.applies_to(spec.tool) {
        return None;
    }
    // serde_json's maps are ordered by key, so equal arguments serialize equally.
    let call = serde_json::to_vec(call).ok()?;
    let t = &config.teleport;
    let mut h = Sha256::new();
    for part in [
        spec.name.as_bytes(),
        &call,
        t.proxy.as_deref().unwrap_or_default().as_bytes(),
        t.identity_file.as_deref().map(|p| p.as_os_str().as_encoded_bytes()).unwrap_or_default(),
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

    #[test]
    fn equal_reads_share_a_key_and_different_ones_do_not() {
        let config = Config::default();
        let a = key(&config, &call("list_nodes", serde_json::json!({}))).expect("list_nodes is coalesced");
        assert_eq!(Some(&a), key(&config, &call("list_nodes", serde_json::json!({}))).as_ref());
        let mut with_args = Config::default();
        with_args.coalescing.tools.push(mtcp_shared::domain::ToolName::ShowAccessRequest);
        let show = |id: &str| key(&with_args, &call("show_access_request", serde_json::json!({ "request_id": id })));
        assert_eq!(show("r1"), show("r1"));
        assert_ne!(show("r1"), show("r2"), "other arguments, another run");
        let users = key(&config, &call("list_users", serde_json::json!({})));
        assert_ne!(Some(&a), users.as_ref(), "another tool, another run");
        let mut other_identity = Config::default();
        other_identity.teleport.identity_file = Some("/var/lib/other/identity".into());
        let b = key(&other_identity, &call("list_nodes", serde_json::json!({})));
        assert_ne!(Some(&a), b.as_ref(), "another Teleport identity, another run");
    }

    #[test]
    fn switched_off_tools_and_mutations_always_run() {
        let mut config = Config::default();
        config.coalescing.enabled = false;
        assert_eq!(key(&config, &call("list_nodes", serde_json::json!({}))), None);
        let config = Config::default();
        assert_eq!(key(&config, &call("list_tokens", serde_json::json!({}))), None, "not in the default list");
    }
}
