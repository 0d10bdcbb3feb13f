//! The tool contract: each tool's typed arguments ([`ToolCall`]), their validation, and the input
//! and output schemas the gateway publishes. The gateway validates into a [`ToolCall`], decides on
//! it and enqueues it; the worker matches on it. Names live in the catalog ([`crate::domain::ToolName`]).

pub mod approval_views;
mod args;
mod call;
pub mod cluster;
mod schema;
pub mod untrusted;
mod validate;
pub mod views;

pub use args::*;
pub use call::{CheckPolicy, ListAccessRequests, StartProxy, ToolCall};
pub use schema::{STANDARD_FORMATS, input_schema, output_schema};
pub use validate::{MAX_LOCK_TTL_SECONDS, MAX_REASON, MAX_TICKET, MAX_TTL_SECONDS, Validated, lease_id, validate};
