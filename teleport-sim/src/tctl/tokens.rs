//! `tctl tokens ls [--format=text|json|yaml] [--with-secrets]`: sorted by expiry, names
//! unmasked in JSON and YAML as the real `tctl` prints them; a table without `--format`, and one
//! (masked) name a line with `--format=text`.

use super::Ctx;
use super::text;
use crate::cli::{Command, Flag, Parsed};
use crate::encode::{gojson, yaml};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::timefmt::parse_time;
use crate::value::Value;

const LS: Command = Command::new("ls", "List node and user invitation tokens.").flags(&[
    Flag::one_of("format", &["text", "json", "yaml"]),
    Flag::bool("with-secrets"),
    Flag::value("labels"),
]);

/// The `tokens` command group.
pub const COMMAND: Command = Command::new("tokens", "List or revoke invitation tokens").subcommands(&[LS]);

/// Runs `tctl tokens ls`.
pub fn ls(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let tokens = by_expiry(&ctx.state.tokens);
    let out = match parsed.flag("format") {
        Some("json") => gojson::write_array(&tokens, gojson::TCTL),
        Some("yaml") => yaml::write_documents(&tokens),
        Some("text") if tokens.is_empty() => "No active tokens found.\n".to_owned(),
        // `tool/tctl/common/token_command.go`, `TokensCommand.List`: `--format=text` prints one
        // name a line (`GetSafeName`, masked, unless `--with-secrets`); only no format gives the table.
        Some("text") => tokens
            .iter()
            .map(|t| {
                let name = t.str_at(&["metadata", "name"]);
                let name = if parsed.switch("with-secrets") { name.to_owned() } else { text::mask(name) };
                name + "\n"
            })
            .collect(),
        _ => text::tokens(&tokens, parsed.switch("with-secrets"), ctx.now),
    };
    Ok(Outcome::stdout(out))
}

/// Ascending expiry; a token without one has Go's zero time and so comes first.
pub fn by_expiry(tokens: &[Value]) -> Vec<Value> {
    let mut tokens = tokens.to_vec();
    tokens.sort_by_key(|t| parse_time(t.str_at(&["metadata", "expires"])));
    tokens
}
