//! `teleport-sim audit-events`: synthetic Teleport audit event streams for ingestion tests and
//! demos. Teleport has no CLI for audit events; this prints what the file
//! backend writes (one JSON object per line, sorted keys) or one JSON array.
//!
//! The stream is a quiet baseline (see [`baseline`], and [`mcp`] for MCP sessions) plus any named scenarios (see
//! [`scenarios`]), sorted by time. Every draw, `uid`s included, comes from streams keyed by the
//! seed, the window and the rate, so the same command line prints the same bytes, and a scenario
//! adds its events without changing the baseline's.

mod baseline;
mod event;
mod mcp;
mod options;
mod people;
mod rng;
mod scenarios;

use chrono::{DateTime, Duration, Utc};

use crate::env::SimEnv;
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::state::{DEFAULT_CLUSTER, State};
use options::Format;
use rng::Rng;

/// The time range events fall in, `[start, end)`, and the cluster they belong to.
#[derive(Debug, Clone)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cluster: String,
}

impl Window {
    /// Whole hours in the window.
    pub fn hours(&self) -> i64 {
        (self.end - self.start).num_hours()
    }

    /// `t`, or the last millisecond of the window when `t` is past it.
    pub fn clamp(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.min(self.end - Duration::milliseconds(1))
    }

    /// A random start for something lasting `span` that ends inside the window.
    pub fn place(&self, rng: &mut Rng, span: Duration) -> DateTime<Utc> {
        let room = (self.end - self.start - span).num_milliseconds();
        self.start + Duration::milliseconds(rng.range(0, room.max(1)))
    }
}

/// Runs `teleport-sim audit-events <args>`.
pub fn run(args: &[String], env: &SimEnv, now: DateTime<Utc>) -> Outcome {
    let usage = |message: String| SimError::Usage { usage: format!("{}\n", options::USAGE), message };
    let opts = match options::parse(args, now) {
        Ok(opts) => opts,
        Err(message) => return Outcome::failed(&usage(message)),
    };
    if opts.help {
        return Outcome::stdout(options::USAGE);
    }
    if opts.list_scenarios {
        let lines: String = scenarios::ALL.iter().map(|(_, name, what)| format!("{name:<14} {what}\n")).collect();
        return Outcome::stdout(lines);
    }
    // A state file names the cluster; the demo (the default) is `teleport.example.com`.
    let cluster = match &env.state_file {
        Some(_) => match State::load(env, now) {
            Ok(state) => state.cluster_name,
            Err(err) => return Outcome::failed(&err),
        },
        None => DEFAULT_CLUSTER.to_owned(),
    };
    let seed = match opts.seed {
        Some(seed) => seed,
        None => match crate::uuid::v4() {
            Ok(id) => {
                u64::from_str_radix(&id[..8], 16).unwrap_or(0) << 32 | u64::from_str_radix(&id[9..13], 16).unwrap_or(0)
            }
            Err(err) => return Outcome::failed(&SimError::msg(format!("no random seed: {err}"))),
        },
    };
    let window = Window { start: opts.start(), end: opts.end, cluster };
    let key = format!("{}|{}|{}", window.start.timestamp_millis(), window.end.timestamp_millis(), opts.rate);
    let mut events = baseline::generate(&mut Rng::stream(seed, &key, "baseline"), &window, opts.rate);
    // Normal MCP use draws from its own stream, so the rest of the baseline is unchanged.
    events.extend(mcp::baseline(&mut Rng::stream(seed, &key, "baseline-mcp"), &window));
    for scenario in &opts.scenarios {
        let mut rng = Rng::stream(seed, &key, scenario.name());
        events.extend(scenario.generate(&mut rng, &window, opts.rate));
    }
    events.sort_by_key(|e| e.at);
    let lines: Vec<String> = events.into_iter().map(|e| e.into_value().to_string()).collect();
    Outcome::stdout(match opts.format {
        Format::Ndjson => lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        Format::Json if lines.is_empty() => "[]\n".to_owned(),
        Format::Json => format!("[\n{}\n]\n", lines.join(",\n")),
    })
}
