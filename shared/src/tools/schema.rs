//! Each tool's input and output JSON Schemas (draft 2020-12), generated from its argument and
//! result types. Only the standard `format`s are kept: schemars writes `uint32`, `int64`, `uint`,
//! `double`, … for numbers, which validators such as the official TypeScript SDK's warn on.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

use super::approval_views;
use super::args::{
    ApproveArgs, AuditWindowArgs, CheckPolicyArgs, CreateRequestArgs, DenyArgs, DropRequestArgs, GetOperationArgs,
    LeaseIdArgs, ListApprovalsArgs, ListLeasesArgs, ListRequestsArgs, PassthroughArgs, ProxyLogsArgs, RequestIdArgs,
    ReviewRequestArgs, SearchOperationsArgs, StartProxyArgs, StopProxyArgs,
};
use super::views::{OperationSearchView, OperationView, PolicyCheckView, WhoamiView};
use crate::analysis::{audit, health, rbac};
use crate::domain::ToolName;
use crate::leases::{LeaseList, LeaseLogs, LeaseView};
use crate::teleport::{access, passthrough::PassthroughResult, views};

/// The `format`s of JSON Schema 2020-12 (validation vocabulary, section 7.3).
pub const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Drop a `format` no standard validator knows (the type and bounds say what it meant).
fn standard_formats_only(schema: &mut Schema) {
    let odd = schema.get("format").and_then(Value::as_str).is_some_and(|f| !STANDARD_FORMATS.contains(&f));
    if odd {
        schema.remove("format");
    }
}

fn generate<T: JsonSchema>(settings: SchemaSettings) -> Map<String, Value> {
    let generator = settings.with_transform(RecursiveTransform(standard_formats_only)).into_generator();
    match serde_json::to_value(generator.into_root_schema_for::<T>()).expect("a schema serializes") {
        Value::Object(object) => object,
        other => unreachable!("a root schema is an object, not {other}"),
    }
}

/// What a type accepts (MCP input schemas).
fn input<T: JsonSchema>() -> Map<String, Value> {
    generate::<T>(SchemaSettings::draft2020_12())
}

/// What a type writes, without the wrapper type's title and description (noise to a model).
fn output<T: JsonSchema>() -> Map<String, Value> {
    let mut object = generate::<T>(SchemaSettings::draft2020_12().for_serialize());
    object.remove("title");
    object.remove("description");
    object
}

/// Input schema of tools that take no arguments: strict, so a stray argument is visible.
fn no_arguments() -> Map<String, Value> {
    let v = serde_json::json!({ "type": "object", "properties": {}, "additionalProperties": false });
    v.as_object().cloned().expect("literal object")
}

/// The tool's input schema (with `cluster` for a tool that runs on one).
pub fn input_schema(tool: ToolName) -> Map<String, Value> {
    let mut schema = tool_input_schema(tool);
    super::cluster::add_to_schema(tool, &mut schema);
    schema
}

fn tool_input_schema(tool: ToolName) -> Map<String, Value> {
    use ToolName as N;
    match tool {
        N::GetOperation => input::<GetOperationArgs>(),
        N::ListPendingApprovals => input::<ListApprovalsArgs>(),
        N::ApproveOperation => input::<ApproveArgs>(),
        N::DenyOperation => input::<DenyArgs>(),
        N::CheckPolicy => input::<CheckPolicyArgs>(),
        N::SearchOperations => input::<SearchOperationsArgs>(),
        N::RunTshCommand | N::RunTctlCommand => input::<PassthroughArgs>(),
        N::ListAccessRequests => input::<ListRequestsArgs>(),
        N::SearchAudit | N::DetectAuditAnomalies => input::<AuditWindowArgs>(),
        N::ShowAccessRequest => input::<RequestIdArgs>(),
        N::CreateAccessRequest => input::<CreateRequestArgs>(),
        N::ReviewAccessRequest => input::<ReviewRequestArgs>(),
        N::DropAccessRequest => input::<DropRequestArgs>(),
        N::StartProxy => input::<StartProxyArgs>(),
        N::GetProxyStatus => input::<LeaseIdArgs>(),
        N::StopProxy => input::<StopProxyArgs>(),
        N::GetProxyLogs => input::<ProxyLogsArgs>(),
        N::ListProxiesLeases => input::<ListLeasesArgs>(),
        N::GetAuthPreference
        | N::ListCas
        | N::ListClusters
        | N::ListEdgeAgents
        | N::ListNodes
        | N::ListProxies
        | N::ListDatabases
        | N::ListApps
        | N::ListMcpServers
        | N::ListKubeClusters
        | N::ListWindowsDesktops
        | N::ListRoles
        | N::ListTokens
        | N::ListUsers
        | N::RunHealthCheck
        | N::ScanRbac
        | N::Whoami => no_arguments(),
    }
}

/// The tool's output schema: what its structured result looks like.
pub fn output_schema(tool: ToolName) -> Map<String, Value> {
    use ToolName as N;
    match tool {
        N::ListNodes => output::<views::NodeList>(),
        N::ListProxies => output::<views::ProxyList>(),
        N::ListDatabases | N::ListApps | N::ListMcpServers | N::ListKubeClusters | N::ListWindowsDesktops => {
            output::<views::TargetList>()
        }
        N::ListRoles => output::<views::RoleList>(),
        N::ListUsers => output::<views::UserList>(),
        N::ListTokens => output::<views::TokenList>(),
        N::ListCas => output::<views::CaList>(),
        N::ListClusters => output::<super::cluster::ClusterList>(),
        N::GetAuthPreference => output::<views::AuthPreferenceView>(),
        N::Whoami => output::<WhoamiView>(),
        N::GetOperation => output::<OperationView>(),
        N::ListPendingApprovals => output::<approval_views::ApprovalList>(),
        N::ApproveOperation | N::DenyOperation => output::<approval_views::ApprovalDecision>(),
        N::CheckPolicy => output::<PolicyCheckView>(),
        N::SearchOperations => output::<OperationSearchView>(),
        N::RunTshCommand | N::RunTctlCommand => output::<PassthroughResult>(),
        N::ListAccessRequests => output::<access::AccessRequestList>(),
        N::ScanRbac => output::<rbac::RbacReport>(),
        N::SearchAudit => output::<audit::AuditSummary>(),
        N::DetectAuditAnomalies => output::<audit::AnomalyReport>(),
        N::RunHealthCheck => output::<health::HealthReport>(),
        N::ShowAccessRequest => output::<access::AccessRequestView>(),
        N::CreateAccessRequest => output::<access::CreatedRequest>(),
        N::ReviewAccessRequest => output::<access::ReviewResult>(),
        N::DropAccessRequest => output::<access::DropResult>(),
        N::StartProxy | N::GetProxyStatus | N::StopProxy => output::<LeaseView>(),
        N::GetProxyLogs => output::<LeaseLogs>(),
        N::ListProxiesLeases => output::<LeaseList>(),
        N::ListEdgeAgents => output::<crate::leases::EdgeAgentList>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CATALOG;

    /// Every `format` anywhere in `v`, with where it is.
    fn formats(v: &Value, at: &str, found: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(f)) = map.get("format") {
                    found.push((at.to_owned(), f.clone()));
                }
                for (k, child) in map {
                    formats(child, &format!("{at}/{k}"), found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    formats(child, &format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_schema_uses_standard_formats_only() {
        let mut odd = Vec::new();
        let mut seen = 0;
        for spec in CATALOG {
            for (kind, schema) in [("input", input_schema(spec.tool)), ("output", output_schema(spec.tool))] {
                let mut found = Vec::new();
                formats(&Value::Object(schema), "", &mut found);
                seen += found.len();
                odd.extend(
                    found
                        .into_iter()
                        .filter(|(_, f)| !STANDARD_FORMATS.contains(&f.as_str()))
                        .map(|(at, f)| format!("{} {kind} {at}: {f}", spec.name)),
                );
            }
        }
        assert!(odd.is_empty(), "non-standard formats: {odd:#?}");
        // The walk does find formats: the standard ones (date-time) stay.
        assert!(seen > 0);
    }

    #[test]
    fn integer_bounds_survive_without_their_format() {
        let schema = input_schema(ToolName::SearchAudit);
        let hours = &schema["properties"]["hours"];
        assert!(hours.get("format").is_none(), "{hours}");
        assert!(hours.to_string().contains("integer"), "{hours}");
    }

    #[test]
    fn both_audit_tools_take_an_optional_cluster() {
        for tool in [ToolName::SearchAudit, ToolName::DetectAuditAnomalies] {
            let schema = input_schema(tool);
            let cluster = &schema["properties"]["cluster"];
            assert!(cluster["description"].as_str().is_some_and(|d| d.contains("list_clusters")), "{cluster}");
            let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
            assert!(!required.contains(&Value::from("cluster")), "{required:?}");
        }
    }

    #[test]
    fn every_input_schema_is_an_object() {
        for spec in CATALOG {
            assert_eq!(input_schema(spec.tool)["type"], "object", "{}", spec.name);
        }
    }
}
