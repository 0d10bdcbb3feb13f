//! Domain types with no IO: identifiers, actors, capabilities, operation states and the tool catalog.

mod access;
mod actor;
mod capability;
mod catalog;
mod echo;
mod ids;
mod job;
mod lease;
mod lease_target;
mod resource_id;
mod status;
mod text;
mod tool_name;

pub use access::{InvalidAccessArg, RequestId, RequestedResource};
pub use actor::{
    ANONYMOUS_ACTOR, Actor, ActorKind, AuthSource, CONFORMANCE_ACTOR, JWT_ACTOR_PREFIX, MAX_ACTOR_CHARS,
    NAMESPACE_SEPARATOR, RESERVED_ACTORS, api_key_actor_problem, jwt_actor_id,
};
pub use capability::{Capability, UnknownCapability};
pub use catalog::{CATALOG, Execution, ToolName, ToolSpec, find_tool};
pub use echo::{escaped, quoted};
pub use ids::{InvalidOpId, OpId};
pub use job::ToolJob;
pub use lease::{LeaseKind, LeaseStatus, UnknownLeaseKind, UnknownLeaseStatus};
pub use lease_target::{InvalidTarget, LeaseTarget, check_ssh_login, parse_listen_addr};
pub use status::OperationStatus;
pub use text::{TextKind, escape_invisible, escape_invisible_json, unprintable};
