//! The declarative command tree: apps, commands, flags and positional arguments.

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlagKind {
    /// A switch; `--no-<name>` turns it off.
    Bool,
    /// Any string value.
    Value,
    /// One of a fixed set (kingpin's `Enum`).
    Enum(&'static [&'static str]),
}

/// A flag such as `-i, --identity FILE`.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: FlagKind,
}

impl Flag {
    /// A boolean switch.
    pub const fn bool(long: &'static str) -> Self {
        Flag { long, short: None, kind: FlagKind::Bool }
    }

    /// A flag with a free value.
    pub const fn value(long: &'static str) -> Self {
        Flag { long, short: None, kind: FlagKind::Value }
    }

    /// A flag whose value must be one of `values`.
    pub const fn one_of(long: &'static str, values: &'static [&'static str]) -> Self {
        Flag { long, short: None, kind: FlagKind::Enum(values) }
    }

    /// Adds a short form (`-i`).
    pub const fn short(mut self, c: char) -> Self {
        self.short = Some(c);
        self
    }
}

/// A positional argument.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub required: bool,
    /// Takes every remaining argument.
    pub repeated: bool,
}

impl Arg {
    pub const fn required(name: &'static str) -> Self {
        Arg { name, required: true, repeated: false }
    }

    pub const fn optional(name: &'static str) -> Self {
        Arg { name, required: false, repeated: false }
    }

    /// Takes every remaining argument (kingpin's `Strings()`), none required.
    pub const fn rest(name: &'static str) -> Self {
        Arg { name, required: false, repeated: true }
    }
}

/// A command or command group (`nodes` with `ls` under it).
#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub help: &'static str,
    pub flags: &'static [Flag],
    pub args: &'static [Arg],
    pub subcommands: &'static [Command],
}

impl Command {
    /// A command with no flags, arguments or subcommands yet.
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Command { name, aliases: &[], help, flags: &[], args: &[], subcommands: &[] }
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub const fn flags(mut self, flags: &'static [Flag]) -> Self {
        self.flags = flags;
        self
    }

    pub const fn args(mut self, args: &'static [Arg]) -> Self {
        self.args = args;
        self
    }

    pub const fn subcommands(mut self, subcommands: &'static [Command]) -> Self {
        self.subcommands = subcommands;
        self
    }
}

/// A whole binary: its global flags and top-level commands.
#[derive(Debug, Clone, Copy)]
pub struct App {
    pub name: &'static str,
    pub flags: &'static [Flag],
    pub commands: &'static [Command],
}
