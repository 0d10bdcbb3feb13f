//! A kingpin-compatible command-line parser: the command tree is declared as data by each
//! command family, and parse errors carry kingpin's wording.

mod parse;
mod spec;

pub use parse::{ParseOutcome, Parsed, parse, usage_line};
pub use spec::{App, Arg, Command, Flag};
