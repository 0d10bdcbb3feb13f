//! `tctl lock` (`tool/tctl/common/lock_command.go`, `CreateLock` and `computeLockExpiry`): a
//! lock resource (`api/types/lock.go`, `LockV2`) kept in the state directory next to the access
//! requests, listed by `tctl get locks`.

use super::Ctx;
use crate::cli::{Command, Flag, Parsed};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::store::Store;
use crate::timefmt::{go_time, parse_go_duration, parse_time};
use crate::value::{Map, Value};

/// `LockCommand.Initialize`: one flag per `LockTarget` field, then message, expires and ttl.
const TARGETS: &[(&str, &str)] = &[
    ("user", "user"),
    ("role", "role"),
    ("login", "login"),
    ("mfa-device", "mfa_device"),
    ("windows-desktop", "windows_desktop"),
    ("access-request", "access_request"),
    ("device", "device"),
    ("server-id", "server_id"),
    ("bot-instance-id", "bot_instance_id"),
    ("join-token", "join_token"),
];

/// The `lock` command.
pub const COMMAND: Command = Command::new("lock", "Create a new lock.").flags(&[
    Flag::value("user"),
    Flag::value("role"),
    Flag::value("login"),
    Flag::value("mfa-device"),
    Flag::value("windows-desktop"),
    Flag::value("access-request"),
    Flag::value("device"),
    Flag::value("message"),
    Flag::value("expires"),
    Flag::value("ttl"),
    Flag::value("server-id"),
    Flag::value("bot-instance-id"),
    Flag::value("join-token"),
]);

/// `CreateLock`: validates, stores, prints `Created a lock with name "<uuid>".`
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let expires = expiry(parsed, ctx)?;
    let mut target = Map::new();
    for (flag, key) in TARGETS {
        if let Some(value) = parsed.flag(flag).filter(|v| !v.is_empty()) {
            target.insert(*key, Value::from(value));
        }
    }
    // `LockV2.CheckAndSetDefaults`.
    if target.is_empty() {
        return Err(SimError::msg("at least one target field must be set"));
    }
    let name =
        crate::uuid::v4().map_err(|err| SimError::msg(format!("teleport-sim: cannot read /dev/urandom: {err}")))?;
    let mut spec = Map::new();
    spec.insert("target", Value::Object(target));
    if let Some(message) = parsed.flag("message").filter(|m| !m.is_empty()) {
        spec.insert("message", Value::from(message));
    }
    if let Some(expires) = expires {
        spec.insert("expires", Value::from(go_time(expires)));
    }
    spec.insert("created_at", Value::from(go_time(ctx.now)));
    spec.insert("created_by", Value::from(ctx.identity()));
    let mut metadata = Map::new();
    metadata.insert("name", Value::from(&name));
    let mut lock = Map::new();
    lock.insert("kind", Value::from("lock"));
    lock.insert("version", Value::from("v2"));
    lock.insert("metadata", Value::Object(metadata));
    lock.insert("spec", Value::Object(spec));
    Store::locate(ctx.env)?.update(&ctx.state.access_requests, |book| {
        book.locks.push(Value::Object(lock));
        Ok(())
    })?;
    Ok(Outcome::stdout(format!("Created a lock with name {name:?}.\n")))
}

/// `computeLockExpiry`: `--expires` (RFC 3339) or `--ttl` (a Go duration), not both; neither
/// means the lock never expires.
fn expiry(parsed: &Parsed, ctx: &Ctx) -> Result<Option<chrono::DateTime<chrono::Utc>>, SimError> {
    let expires = parsed.flag("expires").filter(|e| !e.is_empty());
    // kingpin's DurationVar parses with `time.ParseDuration` before the command runs.
    let ttl = match parsed.flag("ttl") {
        Some(text) => {
            let nanos =
                parse_go_duration(text).ok_or_else(|| SimError::msg(format!("time: invalid duration {text:?}")))?;
            Some(chrono::Duration::nanoseconds(nanos as i64)).filter(|d| !d.is_zero())
        }
        None => None,
    };
    match (expires, ttl) {
        (Some(_), Some(_)) => Err(SimError::msg("use only one of --expires and --ttl")),
        (Some(text), None) => parse_time(text).map(Some).ok_or_else(|| {
            SimError::msg(format!("parsing time {text:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse"))
        }),
        (None, Some(ttl)) => Ok(Some(ctx.now + ttl)),
        (None, None) => Ok(None),
    }
}

/// The stored locks for `tctl get lock[s][/<name>]`, by name.
pub fn stored(ctx: &Ctx, name: Option<&str>) -> Result<Vec<Value>, SimError> {
    let book = Store::locate(ctx.env)?.read(&ctx.state.access_requests)?;
    let mut locks: Vec<Value> =
        book.locks.into_iter().filter(|l| name.is_none_or(|n| l.str_at(&["metadata", "name"]) == n)).collect();
    locks.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    if let Some(name) = name
        && locks.is_empty()
    {
        return Err(SimError::msg(format!("lock {name:?} is not found")));
    }
    Ok(locks)
}
