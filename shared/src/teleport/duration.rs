//! Go duration strings (`time.Duration.String()`, e.g. `30h0m0s`, `1h2m3.5s`, `250ms`) to and
//! from [`std::time::Duration`].

use std::time::Duration;

/// A string that is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Empty input.
    #[error("empty duration")]
    Empty,
    /// Negative durations have no meaning for TTLs and grace periods.
    #[error("negative duration {input:?}")]
    Negative {
        /// The input.
        input: String,
    },
    /// Anything else that does not follow `[0-9.]+unit` repeated.
    #[error("invalid duration {input:?}: {reason}")]
    Invalid {
        /// The input.
        input: String,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Parses a Go duration: a sequence of decimal numbers with units `ns`, `us`/`µs`/`μs`, `ms`, `s`,
/// `m`, `h` (`"0"` alone is allowed, as in Go).
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    let invalid = |reason| DurationError::Invalid { input: input.to_owned(), reason };
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let s = match s.strip_prefix('-') {
        Some(rest) if rest.trim_start_matches(['0', '.']).is_empty() => return Ok(Duration::ZERO),
        Some(_) => {
            return Err(DurationError::Negative { input: input.to_owned() });
        }
        None => s.strip_prefix('+').unwrap_or(s),
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total_nanos: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len =
            rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(|| invalid("missing unit"))?;
        if number_len == 0 {
            return Err(invalid("expected a number"));
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid("bad number"))?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid("unknown unit")),
        };
        rest = &rest[unit_len..];
        total_nanos += number * scale;
    }
    let secs = total_nanos / 1e9;
    Duration::try_from_secs_f64(secs).map_err(|_| invalid("out of range"))
}

/// Formats like Go's `time.Duration.String()` for whole seconds and above (`30h0m0s`, `1m30s`,
/// `0s`); sub-second remainders are printed as fractional seconds.
pub fn format_go_duration(d: Duration) -> String {
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    let frac = d.subsec_nanos();
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        let f = format!("{:09}", frac);
        format!("{s}.{}s", f.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("30h0m0s", 108000.0),
            ("1h2m3.5s", 3723.5),
            ("1h0m0s", 3600.0),
            ("12h", 43200.0),
            ("1m30s", 90.0),
            ("250ms", 0.25),
            ("1.5h", 5400.0),
            ("0s", 0.0),
            ("0", 0.0),
            ("100us", 0.0001),
            ("100µs", 0.0001),
            ("5ns", 5e-9),
        ];
        for (input, secs) in cases {
            let d = parse_go_duration(input).unwrap();
            assert!((d.as_secs_f64() - secs).abs() < 1e-9, "{input}: {d:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for input in ["", "h", "10", "1x", "1h-2m", "abc", "-1h", "1..2s"] {
            assert!(parse_go_duration(input).is_err(), "{input}");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(Duration::from_secs(30 * 3600)), "30h0m0s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
        assert_eq!(format_go_duration(Duration::from_millis(3723500)), "1h2m3.5s");
    }
}
