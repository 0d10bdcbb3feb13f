//! Every tool by name ([`ToolName`]): the one place tool names are written.

/// Every tool, by name: what code matches on instead of name strings. Serialized as the MCP
/// name (`list_nodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    ApproveOperation,
    CheckPolicy,
    CreateAccessRequest,
    DenyOperation,
    DetectAuditAnomalies,
    DropAccessRequest,
    GetAuthPreference,
    GetOperation,
    GetProxyLogs,
    GetProxyStatus,
    ListAccessRequests,
    ListApps,
    ListCas,
    ListClusters,
    ListDatabases,
    ListEdgeAgents,
    ListKubeClusters,
    ListMcpServers,
    ListNodes,
    ListPendingApprovals,
    ListProxies,
    ListProxiesLeases,
    ListRoles,
    ListTokens,
    ListUsers,
    ListWindowsDesktops,
    ReviewAccessRequest,
    RunHealthCheck,
    RunTctlCommand,
    RunTshCommand,
    ScanRbac,
    SearchAudit,
    SearchOperations,
    ShowAccessRequest,
    StartProxy,
    StopProxy,
    Whoami,
}

impl ToolName {
    /// The MCP name: the one place tool names are written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CheckPolicy => "check_policy",
            Self::ApproveOperation => "approve_operation",
            Self::CreateAccessRequest => "create_access_request",
            Self::DenyOperation => "deny_operation",
            Self::DetectAuditAnomalies => "detect_audit_anomalies",
            Self::DropAccessRequest => "drop_access_request",
            Self::GetAuthPreference => "get_auth_preference",
            Self::GetOperation => "get_operation",
            Self::GetProxyLogs => "get_proxy_logs",
            Self::GetProxyStatus => "get_proxy_status",
            Self::ListAccessRequests => "list_access_requests",
            Self::ListApps => "list_apps",
            Self::ListCas => "list_cas",
            Self::ListClusters => "list_clusters",
            Self::ListDatabases => "list_databases",
            Self::ListEdgeAgents => "list_edge_agents",
            Self::ListKubeClusters => "list_kube_clusters",
            Self::ListMcpServers => "list_mcp_servers",
            Self::ListNodes => "list_nodes",
            Self::ListPendingApprovals => "list_pending_approvals",
            Self::ListProxies => "list_proxies",
            Self::ListProxiesLeases => "list_proxies_leases",
            Self::ListRoles => "list_roles",
            Self::ListTokens => "list_tokens",
            Self::ListUsers => "list_users",
            Self::ListWindowsDesktops => "list_windows_desktops",
            Self::ReviewAccessRequest => "review_access_request",
            Self::RunHealthCheck => "run_health_check",
            Self::RunTctlCommand => "run_tctl_command",
            Self::RunTshCommand => "run_tsh_command",
            Self::ScanRbac => "scan_rbac",
            Self::SearchAudit => "search_audit",
            Self::SearchOperations => "search_operations",
            Self::ShowAccessRequest => "show_access_request",
            Self::StartProxy => "start_proxy",
            Self::StopProxy => "stop_proxy",
            Self::Whoami => "whoami",
        }
    }

    /// The catalog entry.
    pub fn spec(self) -> &'static super::ToolSpec {
        super::CATALOG.iter().find(|t| t.tool == self).expect("every tool is in the catalog")
    }
}

impl std::fmt::Display for ToolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
