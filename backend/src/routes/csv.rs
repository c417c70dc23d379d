//! Spreadsheets for people who prefer paper: UTF-8 with a byte-order mark (so spreadsheet
//! programs show the Chinese), CRLF rows, fields quoted when they must be, never a formula.

/// The CSV text of these rows, the first being the header.
pub fn table(rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{FEFF}");
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Fen as yuan for a spreadsheet: `12.50`.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`
/// or `@` is made plain text so a spreadsheet never runs it as a formula.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_never_formulas() {
        assert_eq!(field("土豆×2斤"), "土豆×2斤");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(table(&[vec!["a".into(), "b".into()]]), "\u{FEFF}a,b\r\n");
    }
}
