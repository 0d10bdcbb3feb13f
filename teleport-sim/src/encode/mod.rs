//! Output encoders that reproduce the byte-level habits of Teleport's Go code.

pub mod gojson;
pub mod quote;
pub mod table;
pub mod yaml;
