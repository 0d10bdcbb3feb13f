//! What a failed start means when Teleport's own words are not enough for the caller: the lease
//! kinds that depend on the worker's platform (`vnet`) or on the cluster's release and the app
//! (`proxy_mcp`) say why, and on which worker, next to tsh's error.

use mtcp_shared::domain::LeaseKind;

/// The worker a lease failed on, for messages.
pub(super) struct Where<'a> {
    pub agent_id: String,
    pub host: &'a str,
}

/// An explanation to put before tsh's error, if this failure has a known cause.
pub(super) fn explain(kind: LeaseKind, stderr: &str, at: &Where<'_>) -> Option<String> {
    match kind {
        // `lib/vnet/unsupported_os.go`: Teleport 17.x and 18.x (through at least 18.3) build VNet
        // only for macOS and Windows; later releases add Linux behind a system service. The worker
        // asks tsh rather than judging by its OS, so a release that can run it here is not refused.
        LeaseKind::Vnet if stderr.contains("VNet is not implemented on") => Some(format!(
            "vnet cannot run on worker {} (host {}, {}): this tsh has no VNet for the platform; VNet runs on \
             macOS and Windows (Linux only in releases with Linux VNet and its system service). Start vnet \
             leases on a worker on such a host",
            at.agent_id,
            at.host,
            std::env::consts::OS
        )),
        // `tsh proxy mcp` is registered from 18.x (kingpin's unknown-command error before), and it
        // serves only MCP applications reached over streamable HTTP.
        LeaseKind::ProxyMcp if stderr.contains("expected command but got \"mcp\"") => Some(
            "proxy_mcp needs Teleport 18.x or newer: this tsh has no `tsh proxy mcp` command; use proxy_app for a \
             plain HTTP app, or upgrade the worker's tsh"
                .to_owned(),
        ),
        LeaseKind::ProxyMcp if stderr.contains("is not an MCP application") => Some(
            "proxy_mcp serves only MCP applications (apps of sub-kind mcp, listed by `tsh mcp ls`); use proxy_app \
             for other apps"
                .to_owned(),
        ),
        LeaseKind::ProxyMcp if stderr.contains("transport are not supported") => Some(
            "proxy_mcp serves only MCP applications over streamable HTTP; stdio and SSE MCP servers are reached \
             through `tsh mcp connect` on the consumer's host instead"
                .to_owned(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_failures_are_explained_with_the_worker() {
        let at = Where { agent_id: "w-1".into(), host: "build-7" };
        let vnet = explain(LeaseKind::Vnet, "ERROR: VNet is not implemented on linux", &at).unwrap();
        assert!(vnet.contains("worker w-1 (host build-7"), "{vnet}");
        let old = explain(LeaseKind::ProxyMcp, "ERROR: expected command but got \"mcp\"", &at).unwrap();
        assert!(old.contains("18.x"), "{old}");
        assert!(explain(LeaseKind::ProxyMcp, "\"x\" is not an MCP application", &at).unwrap().contains("proxy_app"));
        assert!(explain(LeaseKind::ProxyApp, "VNet is not implemented on linux", &at).is_none());
        assert!(explain(LeaseKind::Vnet, "dial tcp: connection refused", &at).is_none());
    }
}
