//! MCP tool definitions built from the shared catalog: schemas, annotations, and the per-role list.

use std::sync::{Arc, LazyLock};

use mtcp_shared::domain::{CATALOG, ToolSpec};
use mtcp_shared::teleport::views;
use rmcp::handler::server::common::{schema_for_output, schema_for_type};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};

use super::args::{
    AuditWindowArgs, CheckPolicyArgs, CreateRequestArgs, DropRequestArgs, GetOperationArgs, LeaseIdArgs,
    ListLeasesArgs, ListRequestsArgs, PassthroughArgs, ProxyLogsArgs, RequestIdArgs, ReviewRequestArgs,
    SearchOperationsArgs, StartProxyArgs, StopProxyArgs,
};
use super::local::{OperationSearchView, OperationView, PolicyCheckView, WhoamiView};
use mtcp_shared::leases;
use mtcp_shared::teleport::access;

/// Input schema of tools that take no arguments: strict, so a stray argument is visible.
fn no_arguments() -> Arc<JsonObject> {
    let v = serde_json::json!({ "type": "object", "properties": {}, "additionalProperties": false });
    Arc::new(v.as_object().cloned().expect("literal object"))
}

/// The tool's input schema; `pub(super)` so the argument property test draws field names from it.
pub(super) fn input_schema(spec: &ToolSpec) -> Arc<JsonObject> {
    match spec.name {
        "get_operation" => schema_for_type::<GetOperationArgs>(),
        "check_policy" => schema_for_type::<CheckPolicyArgs>(),
        "search_operations" => schema_for_type::<SearchOperationsArgs>(),
        "run_tsh_command" | "run_tctl_command" => schema_for_type::<PassthroughArgs>(),
        "list_access_requests" => schema_for_type::<ListRequestsArgs>(),
        "search_audit" | "detect_audit_anomalies" => schema_for_type::<AuditWindowArgs>(),
        "show_access_request" => schema_for_type::<RequestIdArgs>(),
        "create_access_request" => schema_for_type::<CreateRequestArgs>(),
        "review_access_request" => schema_for_type::<ReviewRequestArgs>(),
        "drop_access_request" => schema_for_type::<DropRequestArgs>(),
        "start_proxy" => schema_for_type::<StartProxyArgs>(),
        "get_proxy_status" => schema_for_type::<LeaseIdArgs>(),
        "stop_proxy" => schema_for_type::<StopProxyArgs>(),
        "get_proxy_logs" => schema_for_type::<ProxyLogsArgs>(),
        "list_proxies_leases" => schema_for_type::<ListLeasesArgs>(),
        _ => no_arguments(),
    }
}

fn output_schema(spec: &ToolSpec) -> Option<Arc<JsonObject>> {
    Some(match spec.name {
        "list_nodes" => schema_for_output::<views::NodeList>(),
        "list_proxies" => schema_for_output::<views::ProxyList>(),
        "list_roles" => schema_for_output::<views::RoleList>(),
        "list_users" => schema_for_output::<views::UserList>(),
        "list_tokens" => schema_for_output::<views::TokenList>(),
        "list_cas" => schema_for_output::<views::CaList>(),
        "get_auth_preference" => schema_for_output::<views::AuthPreferenceView>(),
        "whoami" => schema_for_output::<WhoamiView>(),
        "get_operation" => schema_for_output::<OperationView>(),
        "check_policy" => schema_for_output::<PolicyCheckView>(),
        "search_operations" => schema_for_output::<OperationSearchView>(),
        "run_tsh_command" | "run_tctl_command" => {
            schema_for_output::<mtcp_shared::teleport::passthrough::PassthroughResult>()
        }
        "list_access_requests" => schema_for_output::<access::AccessRequestList>(),
        "scan_rbac" => schema_for_output::<mtcp_shared::analysis::rbac::RbacReport>(),
        "search_audit" => schema_for_output::<mtcp_shared::analysis::audit::AuditSummary>(),
        "detect_audit_anomalies" => schema_for_output::<mtcp_shared::analysis::audit::AnomalyReport>(),
        "run_health_check" => schema_for_output::<mtcp_shared::analysis::health::HealthReport>(),
        "show_access_request" => schema_for_output::<access::AccessRequestView>(),
        "create_access_request" => schema_for_output::<access::CreatedRequest>(),
        "review_access_request" => schema_for_output::<access::ReviewResult>(),
        "drop_access_request" => schema_for_output::<access::DropResult>(),
        "start_proxy" | "get_proxy_status" | "stop_proxy" => schema_for_output::<leases::LeaseView>(),
        "get_proxy_logs" => schema_for_output::<leases::LeaseLogs>(),
        "list_proxies_leases" => schema_for_output::<leases::LeaseList>(),
        _ => return None,
    })
}

fn to_tool(spec: &ToolSpec) -> Tool {
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.read_only())
        .destructive(spec.mutating)
        .idempotent(spec.idempotent)
        // Teleport is the outside world for every tool that runs a CLI.
        .open_world(matches!(spec.execution, mtcp_shared::domain::Execution::Worker));
    let mut tool =
        Tool::new(spec.name, spec.description, input_schema(spec)).with_title(spec.title).with_annotations(annotations);
    if let Some(out) = output_schema(spec) {
        tool = tool.with_raw_output_schema(out);
    }
    if super::tasks::TASK_TOOLS.contains(&spec.name) {
        // Long tools answer with a task to clients that declared the tasks extension.
        let mut meta = JsonObject::new();
        meta.insert(rmcp::model::TASKS_EXTENSION_ID.into(), serde_json::json!({ "taskSupport": "optional" }));
        tool = tool.with_meta(rmcp::model::MetaObject(meta));
    }
    tool
}

/// Every tool, built once.
pub static TOOLS: LazyLock<Vec<(&'static ToolSpec, Tool)>> =
    LazyLock::new(|| CATALOG.iter().map(|s| (s, to_tool(s))).collect());
