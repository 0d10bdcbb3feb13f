//! The `audit-events` command line: `--hours`, `--end`, `--seed`, `--rate`, `--scenario`
//! (repeatable, or comma-separated), `--format`, `--list-scenarios`.

use chrono::{DateTime, Duration, Utc};

use super::scenarios::Scenario;

/// Longest window and highest baseline rate accepted, so a typo cannot print gigabytes.
const MAX_HOURS: i64 = 24 * 31;
const MAX_RATE: u32 = 10_000;

/// How the events are printed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// One JSON object per line (the file backend's and fluentd's shape).
    Ndjson,
    /// One JSON array.
    Json,
}

/// A parsed `audit-events` command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub hours: i64,
    pub end: DateTime<Utc>,
    /// None: draw one from the OS, so unseeded runs differ.
    pub seed: Option<u64>,
    pub rate: u32,
    pub scenarios: Vec<Scenario>,
    pub format: Format,
    pub list_scenarios: bool,
    pub help: bool,
}

impl Options {
    /// The first instant of the window (`end - hours`).
    pub fn start(&self) -> DateTime<Utc> {
        self.end - Duration::hours(self.hours)
    }
}

/// Usage of `teleport-sim audit-events`.
pub const USAGE: &str = "usage: teleport-sim audit-events [--hours H] [--end RFC3339] [--seed N] [--rate N] \
[--scenario NAME]... [--format ndjson|json] [--list-scenarios]\n\n\
Prints a synthetic Teleport audit event stream for the window [end - H hours, end): a quiet \
baseline plus the named scenarios. Defaults: 24 hours, end = now (TELEPORT_SIM_NOW), 200 events \
per hour, ndjson. The same seed and arguments print the same events.\n";

/// Parses the arguments after `audit-events`; `now` is the default end.
pub fn parse(args: &[String], now: DateTime<Utc>) -> Result<Options, String> {
    let mut opts = Options {
        hours: 24,
        end: now,
        seed: None,
        rate: 200,
        scenarios: Vec::new(),
        format: Format::Ndjson,
        list_scenarios: false,
        help: false,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        match flag {
            "--help" | "-h" => opts.help = true,
            "--list-scenarios" => opts.list_scenarios = true,
            "--hours" | "--end" | "--seed" | "--rate" | "--scenario" | "--format" => {
                let value = match inline {
                    Some(value) => value,
                    None => iter.next().cloned().ok_or_else(|| format!("flag {flag} expects a value"))?,
                };
                apply(&mut opts, flag, &value)?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(opts)
}

fn apply(opts: &mut Options, flag: &str, value: &str) -> Result<(), String> {
    let bad = || format!("invalid value {value:?} for {flag}");
    match flag {
        "--hours" => {
            opts.hours = value.parse().map_err(|_| bad())?;
            if !(1..=MAX_HOURS).contains(&opts.hours) {
                return Err(format!("--hours must be between 1 and {MAX_HOURS}"));
            }
        }
        "--end" => opts.end = DateTime::parse_from_rfc3339(value).map_err(|_| bad())?.with_timezone(&Utc),
        "--seed" => opts.seed = Some(value.parse().map_err(|_| bad())?),
        "--rate" => {
            opts.rate = value.parse().map_err(|_| bad())?;
            if !(1..=MAX_RATE).contains(&opts.rate) {
                return Err(format!("--rate must be between 1 and {MAX_RATE}"));
            }
        }
        "--scenario" => {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let scenario = Scenario::from_name(name)
                    .ok_or_else(|| format!("unknown scenario {name:?} (see --list-scenarios)"))?;
                if !opts.scenarios.contains(&scenario) {
                    opts.scenarios.push(scenario);
                }
            }
        }
        _ => {
            opts.format = match value {
                "ndjson" => Format::Ndjson,
                "json" => Format::Json,
                _ => return Err(bad()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn flags_parse_in_both_forms() {
        let now = Utc::now();
        let opts = parse(&args("--hours=6 --seed 9 --scenario brute_force,storm --scenario storm --format json"), now)
            .unwrap();
        assert_eq!((opts.hours, opts.seed, opts.rate, opts.format), (6, Some(9), 200, Format::Json));
        assert_eq!(opts.scenarios, vec![Scenario::BruteForce, Scenario::Storm]);
        assert_eq!(opts.end, now);
        assert!(parse(&args("--scenario nope"), now).unwrap_err().contains("nope"));
        assert!(parse(&args("--hours 0"), now).is_err());
        assert!(parse(&args("--end yesterday"), now).is_err());
        assert!(parse(&args("--rate"), now).unwrap_err().contains("expects a value"));
    }
}
