//! A real MCP client (rmcp over Streamable HTTP) with a bearer key.

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

/// A connected client.
pub struct McpClient {
    inner: RunningService<RoleClient, ()>,
}

impl McpClient {
    /// Connect (and initialise) against `url`.
    pub async fn connect(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
        if let Some(k) = key {
            config = config.auth_header(k.to_owned());
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        let inner = ().serve(transport).await?;
        Ok(Self { inner })
    }

    /// Names of the tools listed for this caller.
    pub async fn tool_names(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.tools().await?.into_iter().map(|t| t.name.to_string()).collect())
    }

    pub async fn tools(&self) -> anyhow::Result<Vec<Tool>> {
        Ok(self.inner.list_all_tools().await?)
    }

    /// Call a tool with JSON object arguments.
    pub async fn call(&self, tool: &str, args: Value) -> anyhow::Result<CallToolResult> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        Ok(self.inner.call_tool(params).await?)
    }

    /// Close the session.
    pub async fn close(self) {
        let _ = self.inner.cancel().await;
    }
}

/// The text of a result's first content block.
pub fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}
