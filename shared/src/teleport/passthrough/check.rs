//! Reading a passthrough argv the way kingpin does and holding it against the tables in
//! [`super::rules`]: limits and characters, then the deny-list over every argument, then the
//! allow-listed command, its flags and its positional arguments.

use super::rules::{self, Allowed, FlagSpec, Positionals, ValueKind};
use super::{MAX_ARG_LEN, MAX_ARGS, PassthroughError};
use crate::teleport::record::Scrub;
use crate::teleport::runner::{Binary, safe_positional};

/// Arguments that passed, with what their output needs.
#[derive(Debug)]
pub(super) struct Checked {
    /// Extra scrubbing of the output (join tokens, CA keys).
    pub scrub: Scrub,
}

/// Checks `args` for `binary`; see the module documentation of [`super`] for the rules.
pub(super) fn check(binary: Binary, args: &[String]) -> Result<Checked, PassthroughError> {
    if args.is_empty() {
        return Err(PassthroughError::Empty);
    }
    if args.len() > MAX_ARGS {
        return Err(PassthroughError::TooMany { max: MAX_ARGS });
    }
    for (index, arg) in args.iter().enumerate() {
        if arg.len() > MAX_ARG_LEN {
            return Err(PassthroughError::TooLong { index, max: MAX_ARG_LEN });
        }
        if arg.chars().any(invisible) {
            return Err(PassthroughError::ControlCharacter { index });
        }
    }
    let deny = |index: usize, why: &'static str| PassthroughError::denied(args, index, why);
    for (index, arg) in args.iter().enumerate() {
        if let Some(why) = denied_anywhere(binary, arg) {
            return Err(deny(index, why));
        }
    }
    let command = command(binary, args).map_err(|(index, why)| deny(index, why))?;
    let kind_scrub = rest(command, args).map_err(|(index, why)| deny(index, why))?;
    Ok(Checked { scrub: kind_scrub.unwrap_or(command.scrub) })
}

/// Control characters, and the invisible ones that make a word read differently than it runs
/// (bidi overrides and isolates, zero-width characters, the byte-order mark).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}')
        || c == '\u{feff}'
}

/// The deny-list: a reason when `arg`, wherever it stands, is something passthrough never runs.
fn denied_anywhere(binary: Binary, arg: &str) -> Option<&'static str> {
    if arg == "--" {
        return Some(rules::DASH_DASH);
    }
    if arg.starts_with('@') {
        return Some(rules::AT_FILE);
    }
    if shell_like(arg) {
        return Some(rules::SHELL);
    }
    if env_like(arg) {
        return Some(rules::ENV);
    }
    if matches!(arg, "login" | "logout") {
        return Some(rules::LOGIN);
    }
    let applies = |only: &Option<Binary>| only.is_none_or(|b| b == binary);
    if let Some(body) = arg.strip_prefix("--") {
        let name = body.split_once('=').map_or(body, |(name, _)| name);
        return rules::DENIED_FLAGS.iter().find(|(only, long, _, _)| applies(only) && *long == name).map(|d| d.3);
    }
    // Every letter of a short cluster: after a boolean flag the next letter is a flag again.
    let cluster = arg.strip_prefix('-')?;
    cluster.chars().find_map(|c| {
        rules::DENIED_FLAGS.iter().find(|(only, _, short, _)| applies(only) && *short == Some(c)).map(|d| d.3)
    })
}

/// `$(…)`, `${…}`, backticks, `;` anywhere, or a word starting with a pipe, `&` or a redirection.
/// `&&`, `||` and `>` inside a `--query` predicate stay allowed.
fn shell_like(arg: &str) -> bool {
    arg.contains("$(")
        || arg.contains("${")
        || arg.contains('`')
        || arg.contains(';')
        || arg.starts_with(['|', '&', '<', '>'])
}

/// `NAME=value` with an upper-case variable name (`TELEPORT_HOME=/tmp`, `PATH=…`).
fn env_like(arg: &str) -> bool {
    let Some((name, _)) = arg.split_once('=') else { return false };
    name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The allowed command the line starts with, or where and why it is refused.
fn command(binary: Binary, args: &[String]) -> Result<&'static Allowed, (usize, &'static str)> {
    if args[0].starts_with('-') {
        return Err((0, rules::FLAG_FIRST));
    }
    let starts_with = |words: &[&str]| words.len() <= args.len() && words.iter().zip(args).all(|(w, a)| w == a);
    if let Some(allowed) = rules::ALLOWED.iter().find(|a| a.binary == binary && starts_with(a.words)) {
        return Ok(allowed);
    }
    if let Some((_, words, why)) =
        rules::DENIED_COMMANDS.iter().find(|(b, words, _)| *b == binary && starts_with(words))
    {
        return Err((words.len() - 1, why));
    }
    // Point at the second word when the first one names a known command group (`tokens add`).
    let group = rules::ALLOWED.iter().any(|a| a.binary == binary && a.words.len() > 1 && a.words[0] == args[0]);
    let index = if group && args.len() > 1 { 1 } else { 0 };
    Err((index, if binary == Binary::Tctl { rules::TCTL_COMMANDS } else { rules::TSH_COMMANDS }))
}

/// Flags and positional arguments after the command words; for `tctl get`, the scrubbing its kind needs.
fn rest(command: &Allowed, args: &[String]) -> Result<Option<Scrub>, (usize, &'static str)> {
    let mut scrub = None;
    let mut positionals = 0;
    let mut index = command.words.len();
    while index < args.len() {
        let arg = args[index].as_str();
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = body.split_once('=').map_or((body, None), |(n, v)| (n, Some(v)));
            let unknown = if name == "format" { rules::NO_FORMAT_FLAG } else { rules::UNKNOWN_FLAG };
            let spec = find(command.flags, |f| f.long == name).ok_or((index, unknown))?;
            match (spec.value, inline) {
                (None, None) => {}
                (None, Some(_)) => return Err((index, rules::NO_VALUE)),
                (Some(kind), Some(value)) => value_ok(kind, value).map_err(|why| (index, why))?,
                (Some(kind), None) => {
                    let value = args.get(index + 1).ok_or((index, rules::MISSING_VALUE))?;
                    value_ok(kind, value).map_err(|why| (index + 1, why))?;
                    index += 1;
                }
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            // Short forms are booleans only (see `FlagSpec`), so every letter must be one.
            if !arg[1..].chars().all(|c| find(command.flags, |f| f.short == Some(c)).is_some()) {
                return Err((index, rules::UNKNOWN_FLAG));
            }
        } else {
            positionals += 1;
            scrub = positional_ok(command.positionals, positionals, arg).map_err(|why| (index, why))?.or(scrub);
        }
        index += 1;
    }
    Ok(scrub)
}

fn find(flags: &'static [FlagSpec], pred: impl Fn(&FlagSpec) -> bool) -> Option<&'static FlagSpec> {
    flags.iter().find(|f| pred(f))
}

fn value_ok(kind: ValueKind, value: &str) -> Result<(), &'static str> {
    match kind {
        ValueKind::Format(formats) if formats.values.contains(&value) => Ok(()),
        ValueKind::Format(formats) => Err(formats.why),
        ValueKind::Text if value.is_empty() || value.starts_with(['-', '@']) => Err(rules::VALUE_SHAPE),
        ValueKind::Text => Ok(()),
    }
}

/// Checks the `nth` (from 1) positional argument; for a resource reference, returns its scrubbing.
fn positional_ok(kind: Positionals, nth: usize, arg: &str) -> Result<Option<Scrub>, &'static str> {
    let word =
        |s: &str, extra: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    match kind {
        Positionals::None => Err(rules::NO_POSITIONALS),
        _ if nth > 1 && kind != Positionals::Labels => Err(rules::ONE_POSITIONAL),
        Positionals::RequestId => match safe_positional("request id", arg) {
            Ok(id) if word(id, "-_.:") => Ok(None),
            _ => Err(rules::REQUEST_ID),
        },
        Positionals::ResourceRef => {
            let mut parts = arg.split('/');
            let kind = parts.next().unwrap_or_default();
            let (_, scrub) = rules::KINDS.iter().find(|(k, _)| *k == kind).ok_or(rules::KIND)?;
            let names: Vec<&str> = parts.collect();
            let name_ok = |n: &&str| word(n, "-_.@:") && !n.starts_with('-');
            if names.len() > 2 || !names.iter().all(name_ok) {
                return Err(rules::RESOURCE_NAME);
            }
            Ok(Some(*scrub))
        }
        Positionals::Labels => {
            let pair_ok = |p: &str| p.split_once('=').is_some_and(|(k, v)| word(k, "-_./:") && word(v, "-_./:*"));
            if arg.starts_with('-') || !arg.split(',').all(pair_ok) {
                return Err(rules::LABELS);
            }
            Ok(None)
        }
    }
}
