//! The conformance fixtures in a build without the `conformance` cargo feature (release builds,
//! the Docker image): the switch still parses, but [`ConformanceFixtures`] has no value, so the
//! gateway cannot serve a fixture, and `--conformance-fixtures` is refused at start.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams,
    GetPromptResponse, GetTaskResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, Tool, UpdateTaskParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

#[path = "fixtures/switch.rs"]
pub mod switch;

/// No fixture exists in this build.
pub fn tool_names() -> Vec<String> {
    Vec::new()
}

/// Unreachable: only a served fixture makes the gateway serve unauthenticated requests.
pub fn actor() -> mtcp_shared::domain::Actor {
    unreachable!("no conformance fixtures in this build")
}

/// No value of this type exists: every method is unreachable, and `state.fixtures` is always None.
pub enum ConformanceFixtures {}

impl ConformanceFixtures {
    /// Refused: this build has no fixtures.
    pub fn serve() -> Result<Self, switch::SwitchError> {
        Err(switch::SwitchError::NotBuilt)
    }

    pub fn extend_capabilities(&self, _: &mut ServerCapabilities) {
        match *self {}
    }

    pub fn tools(&self) -> &'static [Tool] {
        match *self {}
    }

    pub fn tool(&self, _: &str) -> Option<Tool> {
        match *self {}
    }

    pub async fn call_tool(
        &self,
        _: &CallToolRequestParams,
        _: &RequestContext<RoleServer>,
    ) -> Option<Result<CallToolResponse, McpError>> {
        match *self {}
    }

    pub fn owns_task(&self, _: &str) -> bool {
        match *self {}
    }

    pub fn get_task(&self, _: &str) -> Result<GetTaskResult, McpError> {
        match *self {}
    }

    pub fn update_task(&self, _: UpdateTaskParams) -> Result<(), McpError> {
        match *self {}
    }

    pub fn cancel_task(&self, _: &str) -> Result<(), McpError> {
        match *self {}
    }

    pub fn list_prompts(&self) -> ListPromptsResult {
        match *self {}
    }

    pub fn get_prompt(
        &self,
        _: GetPromptRequestParams,
        _: &RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        match *self {}
    }

    pub fn complete(&self, _: &CompleteRequestParams) -> Result<CompleteResult, McpError> {
        match *self {}
    }

    pub fn list_resources(&self) -> ListResourcesResult {
        match *self {}
    }

    pub fn list_resource_templates(&self) -> ListResourceTemplatesResult {
        match *self {}
    }

    pub fn read_resource(&self, _: &ReadResourceRequestParams) -> Result<ReadResourceResponse, McpError> {
        match *self {}
    }

    #[allow(clippy::extra_unused_type_parameters)] // the same signature as the served build's
    pub fn set_level<M: rmcp::model::ConstString + Default>(
        &self,
        _: &RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        match *self {}
    }
}
