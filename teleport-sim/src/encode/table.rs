//! `lib/asciitable`: every column padded to its widest cell (counted in characters, so `⟵`
//! is one), one space after every cell including the last, and never narrower than the five
//! characters of `tabwriter`'s `minwidth`.

/// `tabwriter.NewWriter(&buf, 5, 0, 1, ' ', 0)`: a cell with its padding is at least this wide.
const MIN_WIDTH: usize = 5;

/// A table with a header row and a row of dashes.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let widths = widths(std::iter::once(&header).chain(rows));
    let mut out = String::new();
    push_row(&mut out, &header, &widths);
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    push_row(&mut out, &dashes, &widths);
    for row in rows {
        push_row(&mut out, row, &widths);
    }
    out
}

/// `asciitable.MakeHeadlessTable`: the same layout without the header and dashes.
pub fn render_headless(rows: &[Vec<String>]) -> String {
    let widths = widths(rows.iter());
    let mut out = String::new();
    for row in rows {
        push_row(&mut out, row, &widths);
    }
    out
}

/// `Table.truncateCell`: a cell longer than `max` bytes keeps its first `max`, then `...` and
/// the footnote label; the flag says whether the footnote is now owed.
pub fn truncate(cell: &str, max: usize, label: &str) -> (String, bool) {
    if cell.len() <= max {
        return (cell.to_owned(), false);
    }
    let mut cut = max;
    while !cell.is_char_boundary(cut) {
        cut -= 1;
    }
    (format!("{}... {label}", &cell[..cut]), true)
}

fn widths<'a>(rows: impl Iterator<Item = &'a Vec<String>>) -> Vec<usize> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let len = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(len),
                None => widths.push(len),
            }
        }
    }
    widths
}

fn push_row(out: &mut String, row: &[String], widths: &[usize]) {
    for (i, width) in widths.iter().enumerate() {
        let cell = row.get(i).map(String::as_str).unwrap_or("");
        out.push_str(cell);
        let padded = (width + 1).max(MIN_WIDTH);
        out.push_str(&" ".repeat(padded - cell.chars().count()));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_tsh_ls_golden_layout() {
        let rows = vec![
            vec!["unscoped-direct-name".into(), "1.2.3.4:22".into(), "key=val".into()],
            vec!["unscoped-tunnel-name".into(), "⟵ Tunnel".into(), String::new()],
        ];
        let expected = "Node Name            Address    Labels  \n\
                        -------------------- ---------- ------- \n\
                        unscoped-direct-name 1.2.3.4:22 key=val \n\
                        unscoped-tunnel-name ⟵ Tunnel           \n";
        assert_eq!(render(&["Node Name", "Address", "Labels"], &rows), expected);
    }

    #[test]
    fn narrow_columns_keep_the_minimum_width_and_long_cells_are_cut() {
        let rows = vec![vec!["ab".to_owned(), "x".to_owned()]];
        assert_eq!(render_headless(&rows), "ab   x    \n");
        assert_eq!(truncate("0123456789", 4, "[+]"), ("0123... [+]".to_owned(), true));
        assert_eq!(truncate("0123", 4, "[+]"), ("0123".to_owned(), false));
    }
}
