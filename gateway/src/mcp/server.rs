//! The rmcp `ServerHandler`: server info, the per-caller tool list and call dispatch.

use mtcp_shared::domain::{Actor, Capability, find_tool};
use mtcp_shared::policy::CallContext;
use rmcp::model;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, ContentBlock, GetTaskParams,
    GetTaskResult, Implementation, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use super::fixtures::ConformanceFixtures;
use super::{call, tasks, tools::TOOLS};
use crate::progress::ProgressRelay;
use crate::state::AppState;

const INSTRUCTIONS: &str = "Tools to inventory and audit a Teleport cluster through a policy-checked control plane. \
Every call is recorded with your identity; call `whoami` to see what you may do. Results are typed JSON.";

/// One handler per request (stateless mode builds it per request from the shared state).
#[derive(Clone)]
pub struct McpHandler {
    pub(crate) state: AppState,
}

/// The actor the auth middleware attached to the HTTP request.
fn caller(ctx: &RequestContext<RoleServer>) -> Option<Actor> {
    ctx.extensions.get::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<Actor>().cloned())
}

/// The W3C `traceparent` header of the HTTP request, if the client sent one.
fn traceparent(ctx: &RequestContext<RoleServer>) -> Option<&str> {
    ctx.extensions.get::<axum::http::request::Parts>()?.headers.get("traceparent")?.to_str().ok()
}

impl McpHandler {
    /// A tool is listed when the policy would allow the caller to call it (arguments aside).
    fn visible(&self, actor: &Actor, capability: Capability) -> bool {
        // Mutating tools are listed if granted; the reason is checked at call time.
        self.state.policy.load().evaluate(actor, capability, &CallContext::default()).allow
    }

    /// The conformance fixtures (test-only switch on); otherwise method `M` does not exist here,
    /// exactly as without these handlers.
    fn fixtures<M: model::ConstString>(&self) -> Result<&ConformanceFixtures, McpError> {
        self.state.fixtures.as_deref().ok_or_else(McpError::method_not_found::<M>)
    }

    /// The conformance fixtures, when they own this task id (real task ids are operation ids).
    fn fixture_task(&self, task_id: &str) -> Option<&ConformanceFixtures> {
        self.state.fixtures.as_deref().filter(|fx| fx.owns_task(task_id))
    }
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder().enable_tools().enable_tasks().build();
        if let Some(fx) = &self.state.fixtures {
            fx.extend_capabilities(&mut capabilities);
        }
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("mcp-teleport-control-plane", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut tools: Vec<Tool> = match caller(&ctx) {
            Some(actor) => TOOLS
                .iter()
                .filter(|(spec, _)| self.visible(&actor, spec.capability))
                .map(|(_, tool)| tool.clone())
                .collect(),
            None => Vec::new(),
        };
        if let Some(fx) = &self.state.fixtures {
            tools.extend_from_slice(fx.tools());
        }
        let mut result = ListToolsResult::with_all_items(tools);
        // The list depends on who asks: never let it be cached across callers.
        if ctx.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28) {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Private);
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let real = TOOLS.iter().find(|(s, _)| s.name == name).map(|(_, t)| t.clone());
        real.or_else(|| self.state.fixtures.as_ref().and_then(|fx| fx.tool(name)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if let Some(fx) = &self.state.fixtures
            && let Some(answer) = fx.call_tool(&request, &ctx).await
        {
            return answer;
        }
        let Some(actor) = caller(&ctx) else {
            // The auth layer runs first; reaching here without an actor is a wiring bug.
            return Err(McpError::internal_error("request is not authenticated", None));
        };
        let Some(spec) = find_tool(&request.name) else {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "unknown tool {:?}; call tools/list for the tools available to you",
                request.name.chars().take(128).collect::<String>()
            ))])
            .into());
        };
        let request_id = Some(ctx.id.to_string());
        let delivery = call::Delivery {
            relay: ProgressRelay::new(ctx.peer.clone(), ctx.meta.get_progress_token()),
            closed: ctx.ct.clone(),
            as_task: tasks::wanted(&ctx, spec),
        };
        let args = request.arguments.unwrap_or_default();
        Ok(call::call(&self.state, &actor, spec, args, request_id, traceparent(&ctx), delivery).await)
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        if let Some(fx) = self.fixture_task(&request.task_id) {
            return fx.get_task(&request.task_id);
        }
        let actor = caller(&ctx).ok_or_else(|| McpError::internal_error("request is not authenticated", None))?;
        tasks::get(&self.state, &actor, &request.task_id).await
    }

    async fn cancel_task(&self, request: CancelTaskParams, ctx: RequestContext<RoleServer>) -> Result<(), McpError> {
        if let Some(fx) = self.fixture_task(&request.task_id) {
            return fx.cancel_task(&request.task_id);
        }
        let actor = caller(&ctx).ok_or_else(|| McpError::internal_error("request is not authenticated", None))?;
        tasks::cancel(&self.state, &actor, &request.task_id).await
    }

    // Below: what only the conformance fixtures serve. Without the test-only switch each of these
    // answers "method not found", as the default handlers do.

    async fn update_task(
        &self,
        request: model::UpdateTaskParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // Real tasks never wait for client input.
        match self.fixture_task(&request.task_id) {
            Some(fx) => fx.update_task(request),
            None => Err(McpError::method_not_found::<model::UpdateTaskMethod>()),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<model::ListPromptsResult, McpError> {
        Ok(self.fixtures::<model::ListPromptsRequestMethod>()?.list_prompts())
    }

    async fn get_prompt(
        &self,
        request: model::GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<model::GetPromptResponse, McpError> {
        self.fixtures::<model::GetPromptRequestMethod>()?.get_prompt(request, &ctx)
    }

    async fn complete(
        &self,
        request: model::CompleteRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<model::CompleteResult, McpError> {
        self.fixtures::<model::CompleteRequestMethod>()?.complete(&request)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<model::ListResourcesResult, McpError> {
        Ok(self.fixtures::<model::ListResourcesRequestMethod>()?.list_resources())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<model::ListResourceTemplatesResult, McpError> {
        Ok(self.fixtures::<model::ListResourceTemplatesRequestMethod>()?.list_resource_templates())
    }

    async fn read_resource(
        &self,
        request: model::ReadResourceRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<model::ReadResourceResponse, McpError> {
        self.fixtures::<model::ReadResourceRequestMethod>()?.read_resource(&request)
    }

    #[allow(deprecated)] // logging/setLevel exists until 2025-11-25 (SEP-2577).
    async fn set_level(
        &self,
        _request: model::SetLevelRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.fixtures::<model::SetLevelRequestMethod>()?.set_level::<model::SetLevelRequestMethod>(&ctx)
    }
}
