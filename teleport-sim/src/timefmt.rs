//! Go's renderings of times and durations: `RFC3339Nano` with trailing zeros dropped, the zero
//! time `0001-01-01T00:00:00Z`, and `time.Duration.String()` (`30h0m0s`).

use chrono::{DateTime, Utc};

/// Go's zero `time.Time` as JSON prints it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// `time.RFC3339Nano`: up to nine fractional digits, trailing zeros (and a bare dot) removed.
pub fn go_time(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// Parses an RFC 3339 timestamp; the zero time and junk both give None.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    (s != ZERO_TIME).then_some(t)
}

/// `time.Duration.String()` for a non-negative number of nanoseconds.
pub fn go_duration(nanos: u64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < NANOS_PER_SEC {
        let (unit, div) = match nanos {
            n if n < 1_000 => ("ns", 1),
            n if n < 1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{}{unit}", fraction(nanos, div));
    }
    let hours = nanos / (3600 * NANOS_PER_SEC);
    let minutes = nanos / (60 * NANOS_PER_SEC) % 60;
    let seconds = fraction(nanos % (60 * NANOS_PER_SEC), NANOS_PER_SEC);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// Whole seconds as a Go duration string.
pub fn go_duration_secs(secs: u64) -> String {
    go_duration(secs * NANOS_PER_SEC)
}

fn fraction(value: u64, div: u64) -> String {
    let (int, frac) = (value / div, value % div);
    if frac == 0 {
        return int.to_string();
    }
    let digits = div.to_string().len() - 1;
    let frac = format!("{frac:0digits$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// `time.Duration.Round(unit).String()` for a signed number of nanoseconds: halves round away
/// from zero, negative durations get a leading `-`.
pub fn go_duration_rounded(nanos: i64, unit: i64) -> String {
    let rem = nanos % unit;
    let down = nanos - rem;
    let rounded = if rem.abs() * 2 < unit { down } else { down.saturating_add(unit * nanos.signum()) };
    match rounded {
        n if n < 0 => format!("-{}", go_duration(n.unsigned_abs())),
        n => go_duration(n as u64),
    }
}

/// `time.Until(t)` as nanoseconds from `now`, saturating like Go's `Sub`.
pub fn until_nanos(now: DateTime<Utc>, t: DateTime<Utc>) -> i64 {
    (t - now).num_nanoseconds().unwrap_or(if t > now { i64::MAX } else { i64::MIN })
}

/// `t.Local().Format(time.DateTime)` (`2006-01-02 15:04:05`), in the process's time zone.
pub fn local_datetime(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Go's `time.Time.String()` without fractions, in the local zone
/// (`2025-06-01 22:00:00 +0000 UTC`); zones without a known abbreviation print like Go's (`+02`).
pub fn local_go_string(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&chrono::Local);
    let offset = local.offset().local_minus_utc();
    let zone = match offset {
        0 => "UTC".to_owned(),
        o if o % 3600 == 0 => format!("{}{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600),
        o => format!("{}{:02}{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600, o.abs() % 3600 / 60),
    };
    format!("{} {zone}", local.format("%Y-%m-%d %H:%M:%S %z"))
}

/// Parses a Go duration string (`30h0m0s`, `1.5h`, `90s`, `500ms`) into nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Some(total.round() as u64)
}

/// `time.RFC822` in UTC (`02 Jan 06 15:04 UTC`), used by text tables.
pub fn rfc822(t: DateTime<Utc>) -> String {
    t.format("%d %b %y %H:%M UTC").to_string()
}

/// Teleport's `HumanDateFormatSeconds` (`Jan _2 2006 15:04:05 UTC`).
pub fn human_seconds(t: DateTime<Utc>) -> String {
    t.format("%b %e %Y %H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration_secs(30 * 3600), "30h0m0s");
        assert_eq!(go_duration_secs(720 * 3600), "720h0m0s");
        assert_eq!(go_duration_secs(600), "10m0s");
        assert_eq!(go_duration_secs(59), "59s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(90_500_000_000), "1m30.5s");
        assert_eq!(go_duration(0), "0s");
    }

    #[test]
    fn rounded_durations_match_go() {
        let minute = 60 * NANOS_PER_SEC as i64;
        assert_eq!(
            go_duration_rounded(23 * 3600 * NANOS_PER_SEC as i64 + 59 * minute + 29_000_000_000, minute),
            "23h59m0s"
        );
        assert_eq!(go_duration_rounded(90 * NANOS_PER_SEC as i64, minute), "2m0s");
        assert_eq!(go_duration_rounded(-90 * NANOS_PER_SEC as i64, minute), "-2m0s");
        assert_eq!(go_duration_rounded(-10 * NANOS_PER_SEC as i64, minute), "0s");
    }

    #[test]
    fn durations_parse_back() {
        assert_eq!(parse_go_duration("30h0m0s"), Some(30 * 3600 * NANOS_PER_SEC));
        assert_eq!(parse_go_duration("1.5h"), Some(5400 * NANOS_PER_SEC));
        assert_eq!(parse_go_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_go_duration("h"), None);
    }

    #[test]
    fn times_drop_trailing_zeros() {
        let t = parse_time("2025-06-01T10:21:12.123400Z").unwrap();
        assert_eq!(go_time(t), "2025-06-01T10:21:12.1234Z");
        let t = parse_time("2025-06-01T10:21:12Z").unwrap();
        assert_eq!(go_time(t), "2025-06-01T10:21:12Z");
        assert_eq!(parse_time(ZERO_TIME), None);
    }
}
