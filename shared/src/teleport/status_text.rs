//! `tctl status` as text, the only form Teleport 17.x and 18.x print (`--format` arrived in 19.x).
//!
//! Two layouts exist and rows may come in any order, so each row is recognised by its key:
//! - 17.x/18.x: `Cluster: <name>`, `Version: <v>`, `CA pins: <pin>, <pin>`, a blank line, then the
//!   authority table (`authority rotation protocol status algorithm storage`, a dashed rule,
//!   continuation rows with an empty authority cell for further keys);
//! - older releases: a headless two-column table, `Cluster  <name>`, `Version  <v>`,
//!   `<type> CA  <rotation>` per authority, `CA pin  <pin>` once per pin.
//!
//! Unknown lines (HSM warnings, the debug "Remote clusters" table) are skipped. Cluster text is
//! untrusted: nothing here panics on odd input, and a status without a cluster name or version is
//! refused with the command named.

use super::commands;
use super::models::{AuthorityKey, AuthorityStatus, ClusterStatus, Rotation};
use super::parse::ParseError;

/// Parses the text output of `tctl status` (any release's layout).
pub fn parse(stdout: &str) -> Result<ClusterStatus, ParseError> {
    let mut status = ClusterStatus::default();
    let lines: Vec<&str> = stdout.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].trim_end();
        index += 1;
        if is_table_header(line) && lines.get(index).is_some_and(|l| is_rule(l)) {
            let columns = column_starts(lines[index]);
            index += 1;
            while index < lines.len() && !lines[index].trim().is_empty() {
                table_row(&mut status, &columns, lines[index]);
                index += 1;
            }
            continue;
        }
        header_row(&mut status, line);
    }
    if status.cluster.name.is_empty() || status.cluster.version.is_empty() {
        return Err(ParseError::Missing {
            command: commands::STATUS.to_string(),
            expected: "the Cluster and Version rows".to_owned(),
        });
    }
    Ok(status)
}

/// `Key: value` (17.x/18.x) or `Key<spaces>value` (headless table of older releases).
fn value_of<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    // `Cluster` must not match `Clusters…`: the key ends at a colon or whitespace.
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace) || line.as_bytes().get(key.len()) == Some(&b':')) {
        return None;
    }
    Some(rest.trim())
}

fn header_row(status: &mut ClusterStatus, line: &str) {
    if let Some(name) = value_of(line, "Cluster") {
        status.cluster.name = name.to_owned();
    } else if let Some(version) = value_of(line, "Version") {
        status.cluster.version = version.trim_start_matches('v').to_owned();
    } else if let Some(pins) = value_of(line, "CA pins").or_else(|| value_of(line, "CA pin")) {
        let pins = pins.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty());
        status.cluster.ca_pins.extend(pins.map(str::to_owned));
    } else if let Some((ca_type, rotation)) = old_authority_row(line) {
        status.authorities.push(AuthorityStatus {
            cluster_name: status.cluster.name.clone(),
            ca_type,
            rotation: Some(parse_rotation(rotation)),
            keys: Vec::new(),
        });
    }
}

/// `host CA   standby (never rotated)` (the headless layout; the type may be capitalised).
fn old_authority_row(line: &str) -> Option<(String, &str)> {
    let (ca_type, rest) = line.split_once(' ')?;
    let rotation = rest.strip_prefix("CA ")?.trim();
    let valid = !ca_type.is_empty() && ca_type.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (valid && !rotation.is_empty()).then(|| (ca_type.to_ascii_lowercase(), rotation))
}

fn is_table_header(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.first() == Some(&"authority") && words.contains(&"rotation") && words.contains(&"protocol")
}

fn is_rule(line: &str) -> bool {
    let line = line.trim_end();
    !line.is_empty() && line.chars().all(|c| c == '-' || c == ' ')
}

/// The byte offset where each column starts: one run of dashes per column.
fn column_starts(rule: &str) -> Vec<usize> {
    let bytes = rule.as_bytes();
    (0..bytes.len()).filter(|&i| bytes[i] == b'-' && (i == 0 || bytes[i - 1] == b' ')).collect()
}

/// The cell of column `n`: from its start to the next column's start, trimmed.
fn cell<'a>(line: &'a str, columns: &[usize], n: usize) -> &'a str {
    let Some(&start) = columns.get(n) else { return "" };
    let end = columns.get(n + 1).copied().unwrap_or(line.len()).min(line.len());
    line.get(start.min(end)..end).unwrap_or_default().trim()
}

/// One row of the 17.x/18.x authority table; an empty authority cell continues the previous one.
fn table_row(status: &mut ClusterStatus, columns: &[usize], line: &str) {
    let authority = cell(line, columns, 0);
    if !authority.is_empty() {
        status.authorities.push(AuthorityStatus {
            cluster_name: status.cluster.name.clone(),
            ca_type: authority.to_owned(),
            rotation: Some(parse_rotation(cell(line, columns, 1))),
            keys: Vec::new(),
        });
    }
    let Some(current) = status.authorities.last_mut() else { return };
    let key = AuthorityKey {
        protocol: cell(line, columns, 2).to_owned(),
        status: cell(line, columns, 3).to_owned(),
        algorithm: cell(line, columns, 4).to_owned(),
        storage: cell(line, columns, 5).to_owned(),
    };
    if !key.protocol.is_empty() {
        current.keys.push(key);
    }
}

/// `standby (never rotated)`, `standby (rotated …)`, `<phase> (mode: <mode>, started: …)`, or the
/// older `rotation phase: <phase>, mode: <mode>, …`. Times are left out: the text form prints them
/// in a local, human format, and only the state, phase and mode are read from it.
fn parse_rotation(text: &str) -> Rotation {
    let text = text.trim();
    let field = |name: &str| {
        let at = text.find(&format!("{name}: "))? + name.len() + 2;
        let rest = &text[at..];
        Some(rest.split([',', ')']).next().unwrap_or_default().trim().to_owned())
    };
    let first = text.split([' ', '(', ',']).next().unwrap_or_default();
    if first.is_empty() || first == "standby" {
        return Rotation { state: "standby".to_owned(), phase: "standby".to_owned(), ..Rotation::default() };
    }
    let phase = field("phase").unwrap_or_else(|| first.to_owned());
    let mode = field("mode").unwrap_or_default();
    Rotation { state: "in_progress".to_owned(), phase, mode, ..Rotation::default() }
}

#[cfg(test)]
#[path = "status_text_tests.rs"]
mod tests;
