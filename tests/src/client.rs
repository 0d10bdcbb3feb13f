//! A real MCP client (rmcp over Streamable HTTP) with a bearer key.

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, CancelTaskParams, ClientConfig, ClientRequest, ExtensionCapabilities,
    GetTaskParams, GetTaskResult, JsonObject, ProgressNotificationParam, ProtocolVersion, Request, ServerResult,
    TASKS_EXTENSION_ID, Tool,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;

/// The client side: keeps every progress notification the server sends; optionally declares the
/// tasks extension.
#[derive(Clone, Default)]
pub struct Collector {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    tasks: bool,
}

impl ClientHandler for Collector {
    fn get_info(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        if self.tasks {
            let mut ext = ExtensionCapabilities::new();
            ext.insert(TASKS_EXTENSION_ID.to_owned(), JsonObject::new());
            config.capabilities.extensions = Some(ext);
        }
        config
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _ctx: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(params);
    }
}

/// A connected client.
pub struct McpClient {
    inner: RunningService<RoleClient, Collector>,
}

impl McpClient {
    /// Connect (and initialise) against `url`.
    pub async fn connect(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        Self::connect_as(url, key, false).await
    }

    /// Connect as a client that declares the tasks extension.
    pub async fn connect_with_tasks(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        Self::connect_as(url, key, true).await
    }

    async fn connect_as(url: &str, key: Option<&str>, tasks: bool) -> anyhow::Result<Self> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
        if let Some(k) = key {
            config = config.auth_header(k.to_owned());
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        let collector = Collector { tasks, ..Collector::default() };
        // The tasks extension exists in 2026-07-28 only: such a client discovers instead of
        // initializing, and carries its capabilities in every request.
        let inner = if tasks {
            let modern = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
            collector.serve_with_lifecycle(transport, modern).await?
        } else {
            collector.serve(transport).await?
        };
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

    /// Call a tool with a progress token; returns the result and the progress notifications that
    /// carried that token, in arrival order.
    pub async fn call_with_progress(
        &self,
        tool: &str,
        args: Value,
    ) -> anyhow::Result<(CallToolResult, Vec<ProgressNotificationParam>)> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let request = ClientRequest::CallToolRequest(Request::new(params));
        let handle = self.inner.send_cancellable_request(request, PeerRequestOptions::no_options()).await?;
        let token = handle.progress_token.clone();
        let result = match handle.await_response().await? {
            ServerResult::CallToolResult(r) => r,
            other => anyhow::bail!("unexpected response to tools/call: {other:?}"),
        };
        let seen: Vec<ProgressNotificationParam> = self
            .inner
            .service()
            .progress
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.progress_token == token)
            .cloned()
            .collect();
        Ok((result, seen))
    }

    /// `tools/call` answered as it comes: a result, or a task handle (`ServerResult::CreateTaskResult`).
    pub async fn call_raw(&self, tool: &str, args: Value) -> anyhow::Result<ServerResult> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        Ok(self.inner.send_request(ClientRequest::CallToolRequest(Request::new(params))).await?)
    }

    /// `tasks/get`.
    pub async fn get_task(&self, task_id: &str) -> anyhow::Result<GetTaskResult> {
        let params = GetTaskParams::new(task_id);
        match self.inner.send_request(ClientRequest::GetTaskRequest(Request::new(params))).await? {
            ServerResult::GetTaskResult(r) => Ok(r),
            other => anyhow::bail!("unexpected response to tasks/get: {other:?}"),
        }
    }

    /// `tasks/cancel`.
    pub async fn cancel_task(&self, task_id: &str) -> anyhow::Result<()> {
        let params = CancelTaskParams::new(task_id);
        self.inner.send_request(ClientRequest::CancelTaskRequest(Request::new(params))).await?;
        Ok(())
    }

    /// The underlying peer, for requests this wrapper has no helper for.
    pub fn peer(&self) -> &rmcp::service::Peer<RoleClient> {
        self.inner.peer()
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
