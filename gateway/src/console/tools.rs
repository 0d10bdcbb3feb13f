//! Every console page and action is a tool call on the MCP call path (`mcp::call::call`): the
//! same policy, validation, rate limit, approval rules and trail, so the console can neither show
//! nor do anything the signed-in actor's MCP tools could not. Each is an operation of that actor.

use mtcp_shared::domain::{Actor, ToolName};
use rmcp::model::{CallToolResponse, CallToolResult};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::mcp::call::{Delivery, call};
use crate::state::AppState;

/// What a call answered: the tool's result, or its error text (policy denials included, with the
/// op id of the record) as an MCP caller sees it.
pub struct Answer<T> {
    pub outcome: Result<T, String>,
}

/// Call `tool` with `args` as `actor`, as an MCP client would, and read its structured result.
pub async fn run<T: DeserializeOwned>(st: &AppState, actor: &Actor, tool: ToolName, args: Value) -> Answer<T> {
    let Value::Object(args) = args else { unreachable!("console tool arguments are objects") };
    let delivery = Delivery { relay: None, closed: CancellationToken::new(), as_task: false };
    let response = call(st, actor, tool.spec(), args, None, None, delivery).await;
    let CallToolResponse::Complete(result) = response else {
        // Only a client that declared the tasks extension gets a task; the console declares none.
        return Answer { outcome: Err(format!("{tool} did not complete in this request")) };
    };
    Answer { outcome: read(tool, result) }
}

fn read<T: DeserializeOwned>(tool: ToolName, result: CallToolResult) -> Result<T, String> {
    if result.is_error == Some(true) || result.structured_content.is_none() {
        let text: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect();
        return Err(if text.is_empty() { format!("{tool} failed") } else { text.join("\n") });
    }
    let value = result.structured_content.unwrap_or_default();
    serde_json::from_value(value).map_err(|e| {
        tracing::error!(%tool, error = %e, "a tool's result does not match its view");
        format!("{tool} answered in a shape the console does not read")
    })
}
