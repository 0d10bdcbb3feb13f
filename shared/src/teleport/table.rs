//! Text tables printed by `lib/asciitable` (`tsh ls`, `tsh mcp ls`, `tctl … --format=text`):
//! a header row, a row of dashes per column, then rows. Columns are cut at the character offsets
//! of the dash groups, because cells may contain spaces (`Node Name`, `⟵ Tunnel`).

use std::collections::BTreeMap;

use super::commands;
use super::parse::ParseError;

/// A parsed table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column titles.
    pub headers: Vec<String>,
    /// Rows, each with one (trimmed, possibly empty) cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Index of the column titled `name` (case-insensitive).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The cell of `row` in the column titled `name`.
    pub fn cell(&self, row: usize, name: &str) -> Option<&str> {
        let col = self.column(name)?;
        self.rows.get(row)?.get(col).map(String::as_str)
    }
}

fn is_dash_row(line: &str) -> bool {
    let line = line.trim_end();
    line.starts_with('-') && line.chars().all(|c| c == '-' || c == ' ')
}

/// Finds the first table in `text` (text before it, e.g. a banner, and after it, e.g. footnotes
/// after the blank line that ends it, is ignored). `None` when there is no header + dash row.
pub fn parse_table(text: &str) -> Option<Table> {
    let lines: Vec<&str> = text.lines().collect();
    let dash_at = (1..lines.len()).find(|&i| is_dash_row(lines[i]) && !lines[i - 1].trim().is_empty())?;
    let dashes: Vec<char> = lines[dash_at].chars().collect();
    let starts: Vec<usize> =
        (0..dashes.len()).filter(|&i| dashes[i] == '-' && (i == 0 || dashes[i - 1] == ' ')).collect();
    let split = |line: &str| -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        starts
            .iter()
            .enumerate()
            .map(|(k, &start)| {
                let end = starts.get(k + 1).copied().unwrap_or(usize::MAX).min(chars.len());
                let start = start.min(end);
                chars[start..end].iter().collect::<String>().trim().to_owned()
            })
            .collect()
    };
    let rows = lines[dash_at + 1..].iter().take_while(|l| !l.trim().is_empty()).map(|l| split(l)).collect();
    Some(Table { headers: split(lines[dash_at - 1]), rows })
}

/// One row of the `tsh ls` text table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TshNodeRow {
    /// `Node Name`.
    pub name: String,
    /// `Node ID` (verbose output only).
    pub id: Option<String>,
    /// `Address`; `None` for tunnel nodes.
    pub address: Option<String>,
    /// Reached through a reverse tunnel (`⟵ Tunnel`).
    pub tunnel: bool,
    /// `Labels` (`k=v,k2=v2`).
    pub labels: BTreeMap<String, String>,
}

/// Parses `tsh ls` text output (verbose or not). Empty output is an empty list.
pub fn parse_tsh_ls_text(text: &str) -> Result<Vec<TshNodeRow>, ParseError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let table = parse_table(text)
        .ok_or_else(|| ParseError::malformed(commands::LIST_SSH_NODES, "no table (header and dash rows) found"))?;
    let name_col = table
        .column("Node Name")
        .ok_or_else(|| ParseError::malformed(commands::LIST_SSH_NODES, "the table has no \"Node Name\" column"))?;
    let cell =
        |row: &[String], name: &str| table.column(name).and_then(|c| row.get(c)).filter(|v| !v.is_empty()).cloned();
    Ok(table
        .rows
        .iter()
        .map(|row| {
            let address = cell(row, "Address");
            let tunnel = address.as_deref().is_some_and(|a| a.contains("Tunnel"));
            TshNodeRow {
                name: row[name_col].clone(),
                id: cell(row, "Node ID"),
                address: address.filter(|_| !tunnel),
                tunnel,
                labels: cell(row, "Labels").map(|l| parse_label_cell(&l)).unwrap_or_default(),
            }
        })
        .collect())
}

/// `k=v,k2=v2` → map; entries without `=` get an empty value.
pub fn parse_label_cell(cell: &str) -> BTreeMap<String, String> {
    cell.split(',')
        .map(str::trim)
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect()
}
