//! `lib/asciitable`: every column padded to its widest cell (counted in characters, so `⟵`
//! is one), one space after every cell including the last.

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
        out.push_str(&" ".repeat(width - cell.chars().count() + 1));
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
}
