//! Parsing a command line against an [`App`] the way kingpin does: flags anywhere once their
//! command has been named, `--flag value` and `--flag=value`, `-ivalue`, `--` ends flags.

use super::spec::{App, Command, Flag, FlagKind};
use crate::error::SimError;

/// A successfully parsed command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The full command, canonical names joined by spaces (`nodes ls`).
    pub command: String,
    /// Flag values by long name, in the order given (bools are `true`/`false`).
    pub flags: Vec<(&'static str, String)>,
    /// Positional arguments.
    pub args: Vec<String>,
}

impl Parsed {
    /// The last value given for a flag (kingpin flags are repeatable; the last one wins).
    pub fn flag(&self, long: &str) -> Option<&str> {
        self.flags.iter().rev().find(|(name, _)| *name == long).map(|(_, v)| v.as_str())
    }

    /// Every value given for a repeatable flag, in order (`--resource a --resource b`).
    pub fn all(&self, long: &str) -> Vec<&str> {
        self.flags.iter().filter(|(name, _)| *name == long).map(|(_, v)| v.as_str()).collect()
    }

    /// Whether a boolean flag ended up on.
    pub fn switch(&self, long: &str) -> bool {
        self.flag(long) == Some("true")
    }
}

/// What parsing asks the caller to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseOutcome {
    Run(Parsed),
    /// `--help` / `-h`: print this and exit 0.
    Help(String),
}

const HELP: Flag = Flag::bool("help").short('h');

/// The first usage line kingpin prints.
pub fn usage_line(app: &App) -> String {
    format!("usage: {} [<flags>] <command> [<args> ...]\n", app.name)
}

/// Parses `args` (without the program name).
pub fn parse(app: &App, args: &[String]) -> Result<ParseOutcome, SimError> {
    let fail = |message: String| SimError::Usage { usage: format!("{}\n", usage_line(app)), message };
    let mut scope: Vec<&Flag> = app.flags.iter().chain(std::iter::once(&HELP)).collect();
    let mut path: Vec<&Command> = Vec::new();
    let mut parsed = Parsed::default();
    let mut only_args = false;
    let mut i = 0;
    while i < args.len() {
        let token = &args[i];
        i += 1;
        if !only_args && token == "--" {
            only_args = true;
        } else if !only_args && token.starts_with("--") {
            let body = &token[2..];
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (body, None),
            };
            let (flag, negated) =
                find_long(&scope, name).ok_or_else(|| fail(format!("unknown long flag '--{name}'")))?;
            let value = match flag.kind {
                FlagKind::Bool if negated => "false".to_owned(),
                FlagKind::Bool => inline.unwrap_or_else(|| "true".to_owned()),
                _ => match inline.or_else(|| next(args, &mut i)) {
                    Some(value) => value,
                    None => {
                        return Err(fail(format!("expected argument for flag '--{}'", flag.long)));
                    }
                },
            };
            record(&mut parsed, flag, value).map_err(fail)?;
        } else if !only_args && token.len() > 1 && token.starts_with('-') {
            for (pos, c) in token[1..].char_indices() {
                let flag = scope
                    .iter()
                    .find(|f| f.short == Some(c))
                    .ok_or_else(|| fail(format!("unknown short flag '-{c}'")))?;
                if flag.kind == FlagKind::Bool {
                    record(&mut parsed, flag, "true".to_owned()).map_err(fail)?;
                    continue;
                }
                let rest = &token[1 + pos + c.len_utf8()..];
                let value = if rest.is_empty() { next(args, &mut i) } else { Some(rest.to_owned()) };
                let value = value.ok_or_else(|| fail(format!("expected argument for flag '--{}'", flag.long)))?;
                record(&mut parsed, flag, value).map_err(fail)?;
                break;
            }
        } else {
            let level = path.last().map_or(app.commands, |c| c.subcommands);
            if level.is_empty() {
                parsed.args.push(token.clone());
                continue;
            }
            let command = level
                .iter()
                .find(|c| c.name == token || c.aliases.contains(&token.as_str()))
                .ok_or_else(|| fail(format!("expected command but got {token:?}")))?;
            scope.extend(command.flags.iter());
            path.push(command);
        }
    }
    if parsed.switch("help") {
        return Ok(ParseOutcome::Help(help_text(app, &path)));
    }
    let Some(command) = path.last() else {
        return Err(fail("command not specified".to_owned()));
    };
    parsed.command = path.iter().map(|c| c.name).collect::<Vec<_>>().join(" ");
    if !command.subcommands.is_empty() {
        return Err(fail(format!("must select a subcommand of '{}'", parsed.command)));
    }
    check_args(command, &parsed.args).map_err(fail)?;
    Ok(ParseOutcome::Run(parsed))
}

fn next(args: &[String], i: &mut usize) -> Option<String> {
    let value = args.get(*i).cloned();
    if value.is_some() {
        *i += 1;
    }
    value
}

/// Finds `--name`, or `--no-name` for a boolean (kingpin's negation).
fn find_long<'a>(scope: &[&'a Flag], name: &str) -> Option<(&'a Flag, bool)> {
    if let Some(flag) = scope.iter().find(|f| f.long == name) {
        return Some((flag, false));
    }
    let positive = name.strip_prefix("no-")?;
    scope.iter().find(|f| f.long == positive && f.kind == FlagKind::Bool).map(|f| (*f, true))
}

fn record(parsed: &mut Parsed, flag: &Flag, value: String) -> Result<(), String> {
    if let FlagKind::Enum(allowed) = flag.kind
        && !allowed.contains(&value.as_str())
    {
        return Err(format!("enum value must be one of {}, got '{value}'", allowed.join(",")));
    }
    parsed.flags.push((flag.long, value));
    Ok(())
}

fn check_args(command: &Command, args: &[String]) -> Result<(), String> {
    let takes_rest = command.args.last().is_some_and(|a| a.repeated);
    if !takes_rest && args.len() > command.args.len() {
        return Err(format!("unexpected {}", args[command.args.len()]));
    }
    match command.args.iter().skip(args.len()).find(|a| a.required) {
        Some(missing) => Err(format!("required argument '{}' not provided", missing.name)),
        None => Ok(()),
    }
}

fn help_text(app: &App, path: &[&Command]) -> String {
    let mut out = usage_line(app);
    let level = path.last().map_or(app.commands, |c| c.subcommands);
    let prefix: Vec<&str> = path.iter().map(|c| c.name).collect();
    if !level.is_empty() {
        out.push_str("\nCommands:\n");
        for command in level {
            let name = prefix.iter().copied().chain([command.name]).collect::<Vec<_>>().join(" ");
            out.push_str(&format!("  {name:<24} {}\n", command.help));
        }
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
