//! Tool arguments: the contract ([`mtcp_shared::tools`]) validates them into a typed call; this
//! module adds what the gateway keeps of them (the recorded inputs).

#[cfg(test)]
mod props;
mod record;

pub use mtcp_shared::tools::{Validated, lease_id, validate};
pub use record::recorded_inputs;
