//! MCP tool definitions built from the shared catalog: schemas, annotations, and the per-role list.

use std::sync::{Arc, LazyLock};

use mtcp_shared::domain::{CATALOG, ToolSpec};
use mtcp_shared::tools;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};

/// The tool's input schema; `pub(super)` so the argument property test draws field names from it.
pub(super) fn input_schema(spec: &ToolSpec) -> Arc<JsonObject> {
    Arc::new(tools::input_schema(spec.tool))
}

fn to_tool(spec: &ToolSpec) -> Tool {
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.read_only())
        .destructive(spec.mutating)
        .idempotent(spec.idempotent)
        // Teleport is the outside world for every tool that runs a CLI.
        .open_world(matches!(spec.execution, mtcp_shared::domain::Execution::Worker));
    let mut tool = Tool::new(
        spec.name,
        format!("{} {}", spec.description, tools::untrusted::DESCRIPTION_NOTE),
        input_schema(spec),
    )
    .with_title(spec.title)
    .with_annotations(annotations);
    tool = tool.with_raw_output_schema(Arc::new(tools::output_schema(spec.tool)));
    if super::tasks::TASK_TOOLS.contains(&spec.tool) {
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
