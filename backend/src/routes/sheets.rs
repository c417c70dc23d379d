//! Spreadsheets for people who prefer paper: CSV in UTF-8 with a byte-order mark (so spreadsheet
//! programs show the Chinese), CRLF rows, fields quoted when they must be, never a formula; and
//! XLSX written by rust_xlsxwriter. And the files staff bring in: CSV in UTF-8 or GBK, read by
//! the csv crate, or XLSX read by calamine.

use crate::error::ApiError;
use shared::ErrorCode;

/// A spreadsheet download: these rows as CSV (UTF-8 with BOM) under `filename`.
pub fn csv_download(filename: &str, rows: &[Vec<String>]) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .body(table(rows))
}

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

/// These rows, the first being the headings, as an XLSX workbook of one worksheet: cells in the
/// `numeric` columns that read as numbers are numbers (Excel sums them), the rest text (never a
/// formula).
pub fn workbook(name: &str, rows: &[Vec<String>], numeric: &[usize]) -> Result<Vec<u8>, ApiError> {
    let failed = |e: rust_xlsxwriter::XlsxError| ApiError::internal("writing XLSX", e);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(failed)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(|_| ApiError::internal("writing XLSX", "too many rows"))?;
        for (c, value) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| ApiError::internal("writing XLSX", "too many columns"))?;
            let number = value.parse::<f64>().ok().filter(|_| r > 0 && numeric.contains(&usize::from(c)));
            match number {
                Some(n) => sheet.write_number(r, c, n).map_err(failed)?,
                None if r == 0 => sheet.write_string_with_format(r, c, value, &bold).map_err(failed)?,
                None => sheet.write_string(r, c, value).map_err(failed)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(failed)?;
    book.save_to_buffer().map_err(failed)
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

/// A CSV file as staff bring it: its headings, and its rows (blank ones skipped) each with the
/// row number a spreadsheet program shows (the headings are row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub headings: Vec<String>,
    pub rows: Vec<(u32, Vec<String>)>,
}

impl Sheet {
    /// Reads UTF-8 (with or without a byte-order mark) or, failing that, GBK as Excel saves
    /// CSV on a Chinese system; cells trimmed. At most `max_rows` rows.
    pub fn read(bytes: &[u8], max_rows: usize) -> Result<Sheet, ApiError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidField, "文件应为 UTF-8 或 GBK 编码的 CSV (a CSV file in UTF-8 or GBK)")
            })?,
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
        let unreadable =
            |e: csv::Error| ApiError::new(ErrorCode::InvalidField, format!("CSV 无法读取 (unreadable CSV): {e}"));
        let headings: Vec<String> = reader.headers().map_err(unreadable)?.iter().map(str::to_owned).collect();
        let mut rows = Vec::new();
        let (mut line, mut counted_to) = (1, 0);
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            if rows.len() == max_rows {
                return Err(ApiError::new(
                    ErrorCode::InvalidField,
                    format!("一次最多{max_rows}行，请分成几个文件 (at most {max_rows} rows a file)"),
                ));
            }
            // The line the record starts on, counted here: the csv crate's own count is one short
            // after CRLF line ends (as Excel writes them), and its position may sit on the line
            // break before the record or on blank lines it skipped.
            let mut start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
            start = start.clamp(counted_to, text.len());
            while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            line += text.as_bytes()[counted_to..start].iter().filter(|&&b| b == b'\n').count();
            counted_to = start;
            let row = u32::try_from(line).unwrap_or(u32::MAX);
            rows.push((row, record.iter().map(str::to_owned).collect()));
        }
        Ok(Sheet { headings, rows })
    }

    /// A file as staff upload it: XLSX (a zip, as Excel and WPS save it) or CSV.
    pub fn read_any(bytes: &[u8], max_rows: usize) -> Result<Sheet, ApiError> {
        if bytes.starts_with(b"PK\x03\x04") {
            Self::read_xlsx(bytes, max_rows)
        } else {
            Self::read(bytes, max_rows)
        }
    }

    /// The first worksheet of an XLSX file: numbers as people wrote them (`30`, `4.5`), cells
    /// trimmed, blank rows skipped, rows numbered as the spreadsheet shows them.
    pub fn read_xlsx(bytes: &[u8], max_rows: usize) -> Result<Sheet, ApiError> {
        use calamine::{Data, Reader as _};
        let unreadable = |e: String| {
            ApiError::new(ErrorCode::InvalidField, format!("XLSX 文件无法读取 (unreadable XLSX file): {e}"))
        };
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
        let range = match book.worksheet_range_at(0) {
            Some(range) => range.map_err(|e| unreadable(e.to_string()))?,
            None => return Err(unreadable("no worksheet".into())),
        };
        let first = range.start().map_or(0, |(row, _)| row);
        let text = |cell: &Data| -> String {
            match cell {
                Data::Empty => String::new(),
                Data::String(s) => s.trim().to_owned(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Float(f) => format!("{f}"),
                Data::Int(i) => i.to_string(),
                Data::Bool(b) => b.to_string(),
                other => other.to_string().trim().to_owned(),
            }
        };
        let mut rows = range.rows().enumerate().map(|(i, cells)| {
            let number = u32::try_from(first as usize + i + 1).unwrap_or(u32::MAX);
            (number, cells.iter().map(text).collect::<Vec<String>>())
        });
        let Some((_, headings)) = rows.next() else { return Err(unreadable("an empty worksheet".into())) };
        let mut sheet = Sheet { headings, rows: Vec::new() };
        for (number, cells) in rows.filter(|(_, cells)| cells.iter().any(|c| !c.is_empty())) {
            if sheet.rows.len() == max_rows {
                return Err(ApiError::new(
                    ErrorCode::InvalidField,
                    format!("一次最多{max_rows}行，请分成几个文件 (at most {max_rows} rows a file)"),
                ));
            }
            sheet.rows.push((number, cells));
        }
        Ok(sheet)
    }

    /// The column whose heading is one of `names` (case aside), or starts or ends with one as a
    /// word: `手机`, `phone` and `手机 phone` all find the phone column.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headings.iter().position(|heading| {
            let heading = heading.to_lowercase();
            let words: Vec<&str> = heading.split(|c: char| c.is_whitespace() || "()（）/".contains(c)).collect();
            names.iter().any(|name| {
                let name = name.to_lowercase();
                heading == name || words.first() == Some(&name.as_str()) || words.last() == Some(&name.as_str())
            })
        })
    }

    /// The cell of a row in a column (empty when the row is short or there is no such column).
    pub fn cell(cells: &[String], column: Option<usize>) -> &str {
        column.and_then(|c| cells.get(c)).map_or("", String::as_str)
    }
}

/// The body of a request as bytes, refused with 413 past `limit` (a file staff upload).
pub async fn body(mut payload: actix_web::web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt as _;
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::new(ErrorCode::InvalidField, format!("could not read the body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
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

    #[test]
    fn files_come_in_utf8_or_gbk_with_headings_in_either_language() {
        let utf8 =
            "\u{FEFF}楼号 building,单元,室,手机 phone\r\n3,1,101,13900000001\r\n,,,\r\n 3 ,1,102, 13900000002\r\n";
        let sheet = Sheet::read(utf8.as_bytes(), 10).expect("utf-8");
        assert_eq!(sheet.column(&["手机", "phone"]), Some(3));
        assert_eq!(sheet.column(&["building"]), Some(0));
        assert_eq!(sheet.column(&["小区"]), None);
        assert_eq!(
            sheet.rows,
            [
                (2, vec!["3".into(), "1".into(), "101".into(), "13900000001".into()]),
                (4, vec!["3".into(), "1".into(), "102".into(), "13900000002".into()])
            ]
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("楼号,单元,室,手机\n3,1,101,13900000001\n");
        let sheet = Sheet::read(&gbk, 10).expect("gbk");
        assert_eq!(sheet.headings, ["楼号", "单元", "室", "手机"]);
        assert!(Sheet::read(&[0xff, 0xfe, 0xfd], 10).is_err(), "neither");
        assert!(Sheet::read(utf8.as_bytes(), 1).is_err(), "too many rows");
        assert_eq!(Sheet::cell(&["a".into()], Some(3)), "");
        let numbered = |text: &str| -> Vec<u32> {
            Sheet::read(text.as_bytes(), 10).expect("read").rows.iter().map(|(n, _)| *n).collect()
        };
        assert_eq!(numbered("a,b\n1,2\n\n3,4\n"), [2, 4], "a blank line still counts");
        assert_eq!(numbered("a,b\r\n1,2\r\n\r\n3,4"), [2, 4]);
        assert_eq!(numbered("a,b\r\n\"1\r\n1\",2\r\n3,4\r\n"), [2, 4], "a cell over two lines");
    }
}
