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
/// `m`, `h` (`"0"` alone is allowed, as in Go). Exact to the nanosecond: integer arithmetic like
/// Go's, because a float lost the last nanoseconds of long durations (`2330h10m8.688300782s`
/// read back one nanosecond off).
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    let invalid = |reason| DurationError::Invalid { input: input.to_owned(), reason };
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if s.is_empty() {
        return Err(invalid("expected a number"));
    }
    let total = if s == "0" { 0 } else { nanos(s).map_err(invalid)? };
    match total {
        // `-0s` is zero, as in Go.
        0 => Ok(Duration::ZERO),
        _ if negative => Err(DurationError::Negative { input: input.to_owned() }),
        _ => {
            let secs = u64::try_from(total / NANOS_PER_SEC).map_err(|_| invalid("out of range"))?;
            Ok(Duration::new(secs, (total % NANOS_PER_SEC) as u32))
        }
    }
}

const NANOS_PER_SEC: u128 = 1_000_000_000;
/// Fraction digits kept: more cannot change the result by a nanosecond (Go drops them too).
const MAX_FRACTION_DIGITS: usize = 18;

/// The nanoseconds of `[0-9]*(.[0-9]*)?unit`, repeated (no sign).
fn nanos(s: &str) -> Result<u128, &'static str> {
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_digits, after) = rest.split_at(int_len);
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(if after.starts_with('.') { "bad number" } else { "expected a number" });
        }
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "" => return Err("missing unit"),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3600 * NANOS_PER_SEC,
            _ => return Err("unknown unit"),
        };
        let int = int_digits.bytes().try_fold(0u128, |n, d| n.checked_mul(10)?.checked_add(u128::from(d - b'0')));
        let frac_digits = &frac_digits[..frac_digits.len().min(MAX_FRACTION_DIGITS)];
        // At most 18 digits times at most 3.6e12: far inside u128.
        let frac = frac_digits.bytes().fold(0u128, |n, d| n * 10 + u128::from(d - b'0'));
        let frac_nanos = frac * scale / 10u128.pow(frac_digits.len() as u32);
        total = int
            .and_then(|i| i.checked_mul(scale))
            .and_then(|n| n.checked_add(frac_nanos))
            .and_then(|n| total.checked_add(n))
            .ok_or("out of range")?;
        rest = after;
    }
    Ok(total)
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
        for input in
            ["", "h", "10", "1x", "1h-2m", "abc", "-1h", "1..2s", "-", ".s", "1.2.3s", "99999999999999999999999h"]
        {
            assert!(parse_go_duration(input).is_err(), "{input}");
        }
    }

    /// Found by the property tests: a float accumulator was a nanosecond off on long durations.
    #[test]
    fn exact_to_the_nanosecond() {
        let d = Duration::new(8388608, 688300782);
        assert_eq!(parse_go_duration("2330h10m8.688300782s"), Ok(d));
        assert_eq!(parse_go_duration(&format_go_duration(d)), Ok(d));
        assert_eq!(parse_go_duration("355041602802220h"), Ok(Duration::from_secs(355041602802220 * 3600)));
        assert_eq!(parse_go_duration("1.0000000001s"), Ok(Duration::from_secs(1)), "sub-nanosecond digits");
        assert_eq!(parse_go_duration(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("-0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(Duration::from_secs(30 * 3600)), "30h0m0s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
        assert_eq!(format_go_duration(Duration::from_millis(3723500)), "1h2m3.5s");
    }
}
