//! Delimited text (CSV, TSV) and JSON lines, parsed into one [`Table`] of optional string
//! cells. Pure functions of bytes; every error names the line and column (1-based).
//!
//! Header rules for CSV/TSV (chosen so the datasets in `datasets/` load as they are):
//! 1. **scikit-learn header**: when the first row starts with two integers `n, d` and the
//!    file has exactly `n` data rows of `d + 1` fields (iris.csv: `150,4,setosa,...`), the
//!    columns are named `x0..x{d-1}, label` and the rest of that row are the class names.
//! 2. **no header**: when every field of the first row is a number (digits.csv), the
//!    columns are named `x0, x1, ...` and the last one `label`.
//! 3. Otherwise the first row is the header.
//!
//! Empty fields, and the values `NA`, `NaN`, `null` and `?`, are missing (`None`).

use std::collections::BTreeMap;

use super::stream::{read_all, Format, Skipped};
use crate::{Error, Result};

/// Parsed rows of optional text cells under named columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// 1-based source line of each row, for error messages downstream.
    pub lines: Vec<usize>,
    /// Class names given by the file itself (the scikit-learn header), in label order.
    pub class_names: Vec<String>,
}

impl Table {
    /// Index of the column called `name`; the error lists the columns there are.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::param("column", format!("no column named '{name}'; columns are: {}", self.columns.join(", ")))
        })
    }
}

/// One record: its 1-based starting line and its raw fields.
pub type Record = (usize, Vec<String>);

fn parse_err(source: &str, line: usize, col: usize, msg: impl Into<String>) -> Error {
    Error::Parse { source_name: source.into(), line, col, msg: msg.into() }
}

pub(crate) fn is_missing(s: &str) -> bool {
    matches!(s.trim(), "" | "NA" | "NaN" | "nan" | "null" | "?")
}

/// Split delimited text into records of raw fields. With `quoting` (CSV, RFC 4180) fields
/// may be wrapped in `"`, with `""` for a literal quote and newlines allowed inside;
/// without it (TSV, as IANA's text/tab-separated-values defines it) a quote is just a
/// character. Returns each record with its 1-based starting line; blank lines are skipped.
pub fn split_records(bytes: &[u8], delim: u8, quoting: bool, source: &str) -> Result<Vec<Record>> {
    let text = std::str::from_utf8(bytes).map_err(|e| utf8_err(source, bytes, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let b = text.as_bytes();
    let mut records = Vec::new();
    let (mut line, mut col) = (1usize, 1usize);
    let mut i = 0;
    while i < b.len() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field: Vec<u8> = Vec::new();
        let mut quoted_field = false;
        loop {
            if i >= b.len() {
                fields.push(std::mem::take(&mut field));
                break;
            }
            let c = b[i];
            if quoting && c == b'"' && field.is_empty() && !quoted_field {
                // Quoted field: read to the closing quote.
                let (qline, qcol) = (line, col);
                i += 1;
                col += 1;
                quoted_field = true;
                loop {
                    if i >= b.len() {
                        return Err(parse_err(source, qline, qcol, "quote opened here is never closed"));
                    }
                    let q = b[i];
                    if q == b'"' {
                        if i + 1 < b.len() && b[i + 1] == b'"' {
                            field.push(b'"');
                            i += 2;
                            col += 2;
                            continue;
                        }
                        i += 1;
                        col += 1;
                        break;
                    }
                    if q == b'\n' {
                        line += 1;
                        col = 1;
                    } else {
                        col += 1;
                    }
                    field.push(q);
                    i += 1;
                }
                // After the closing quote only a delimiter or the end of the record may follow.
                if i < b.len() && b[i] != delim && b[i] != b'\n' && b[i] != b'\r' {
                    return Err(parse_err(source, line, col, "unexpected character after a closing quote"));
                }
                continue;
            }
            if c == delim {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
                i += 1;
                col += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                fields.push(std::mem::take(&mut field));
                if c == b'\r' && i + 1 < b.len() && b[i + 1] == b'\n' {
                    i += 1;
                }
                i += 1;
                line += 1;
                col = 1;
                break;
            }
            field.push(c);
            i += 1;
            col += 1;
        }
        // Fields were cut at ASCII bytes of valid UTF-8, so each is valid UTF-8.
        let fields: Vec<String> = fields.into_iter().map(|f| String::from_utf8_lossy(&f).into_owned()).collect();
        let blank = fields.len() == 1 && fields[0].trim().is_empty();
        if !blank {
            records.push((start_line, fields));
        }
    }
    Ok(records)
}

/// Parse a delimited file with the header rules in the module docs.
pub fn parse_delimited(bytes: &[u8], delim: u8, quoting: bool, source: &str) -> Result<Table> {
    delimited(bytes, delim, quoting, source)
}

/// Like [`parse_delimited`], but a data row with the wrong number of fields, or with bytes
/// that are not UTF-8, is left out and listed instead of failing the whole file (a person
/// importing 10,000 rows should not lose them to one stray comma). An unclosed quote still
/// fails: it shifts every field after it, so the rows that follow cannot be trusted. This
/// is the streaming reader ([`super::stream`]) given the whole file as one chunk.
pub fn parse_delimited_lenient(bytes: &[u8], delim: u8, quoting: bool, source: &str) -> Result<(Table, Vec<Skipped>)> {
    let format = match (delim, quoting) {
        (b',', true) => Format::Csv,
        (b'\t', false) => Format::Tsv,
        _ => return Err(Error::param("delimiter", format!("{source}: the lenient parser reads CSV (',' with quotes) or TSV (tab, no quotes)"))),
    };
    read_all(bytes, format).map(|s| (s.table, s.skipped))
}

fn delimited(bytes: &[u8], delim: u8, quoting: bool, source: &str) -> Result<Table> {
    let records = split_records(bytes, delim, quoting, source)?;
    let Some((_, first)) = records.first() else {
        return Err(Error::Empty(format!("{source} (no rows)")));
    };
    let width = first.len();
    let numeric = |s: &str| s.trim().parse::<f64>().is_ok();
    // Both numbers must be present and match the file. A lone `0,x` row is not a header
    // of zero rows (there is no data row to take the width from; comparing two `None`s
    // here once indexed past the end), and `d + 1` must not overflow.
    let sk_header = width >= 2
        && records.len() >= 2
        && first[0].trim().parse::<usize>().ok() == Some(records.len() - 1)
        && first[1].trim().parse::<usize>().ok().and_then(|d| d.checked_add(1)) == Some(records[1].1.len());
    let (columns, class_names, data): (Vec<String>, Vec<String>, &[Record]) = if sk_header {
        let d = records[1].1.len() - 1;
        let mut cols: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        cols.push("label".into());
        (cols, first[2..].iter().map(|s| s.trim().to_string()).collect(), &records[1..])
    } else if first.iter().all(|f| numeric(f)) {
        let mut cols: Vec<String> = (0..width - 1).map(|j| format!("x{j}")).collect();
        cols.push("label".into());
        (cols, Vec::new(), &records[..])
    } else {
        (header_names(first), Vec::new(), &records[1..])
    };
    let mut table = Table { columns, class_names, ..Default::default() };
    for (line, fields) in data {
        if fields.len() != table.columns.len() {
            return Err(parse_err(
                source,
                *line,
                1,
                format!("{} fields, expected {} like the header", fields.len(), table.columns.len()),
            ));
        }
        table.rows.push(fields.iter().map(|f| if is_missing(f) { None } else { Some(f.clone()) }).collect());
        table.lines.push(*line);
    }
    if table.rows.is_empty() {
        return Err(Error::Empty(format!("{source} (a header but no data rows)")));
    }
    Ok(table)
}

/// Column names from a header row, each one usable as a key: an empty name (pandas writes
/// one for its index) becomes `column N`, and a repeated name gets ` (2)`, ` (3)`, ... so
/// picking a column by name always means one column.
pub(crate) fn header_names(first: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(first.len());
    for (j, raw) in first.iter().enumerate() {
        let base = match raw.trim() {
            "" => format!("column {}", j + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut k = 2;
        while out.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// Plain text, one sample per line (blank lines skipped): one column, `text`. Nothing is
/// treated as missing: a line reading `NA` is the text "NA".
pub fn parse_lines(bytes: &[u8]) -> Result<Table> {
    let text = std::str::from_utf8(bytes).map_err(|e| utf8_err("text", bytes, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut table = Table { columns: vec!["text".into()], ..Default::default() };
    for (i, l) in text.lines().enumerate() {
        if !l.trim().is_empty() {
            table.rows.push(vec![Some(l.to_string())]);
            table.lines.push(i + 1);
        }
    }
    if table.rows.is_empty() {
        return Err(Error::Empty("the text file (no non-blank lines)".into()));
    }
    Ok(table)
}

/// Invalid UTF-8 at `e`: the line, column and byte offset where it starts.
fn utf8_err(source: &str, bytes: &[u8], e: std::str::Utf8Error) -> Error {
    let upto = &bytes[..e.valid_up_to()];
    let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = upto.len() - upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    parse_err(source, line, col, format!("not valid UTF-8 text (byte offset {})", e.valid_up_to()))
}

/// CSV with the header rules in the module docs.
pub fn parse_csv(bytes: &[u8]) -> Result<Table> {
    parse_delimited(bytes, b',', true, "CSV")
}

/// TSV (no quoting: a `"` is part of the field) with the header rules in the module docs.
pub fn parse_tsv(bytes: &[u8]) -> Result<Table> {
    parse_delimited(bytes, b'\t', false, "TSV")
}

/// JSON lines: one object per line (`{"text": "...", "label": "spam"}`); the columns are
/// the union of keys in order of first appearance. Strings, numbers and booleans become
/// cells, `null` or an absent key a missing cell; nested values are an error.
pub fn parse_jsonl(bytes: &[u8]) -> Result<Table> {
    let text = std::str::from_utf8(bytes).map_err(|e| utf8_err("JSONL", bytes, e))?;
    let mut table = Table::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut objects = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| parse_err("JSONL", line, e.column(), e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(parse_err("JSONL", line, 1, "each line must be a JSON object"));
        };
        for k in map.keys() {
            if !index.contains_key(k) {
                index.insert(k.clone(), table.columns.len());
                table.columns.push(k.clone());
            }
        }
        objects.push((line, map));
    }
    for (line, map) in objects {
        let mut row = vec![None; table.columns.len()];
        for (k, v) in map {
            let cell = match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => return Err(parse_err("JSONL", line, 1, format!("value of '{k}' must be a string, number or boolean"))),
            };
            row[index[&k]] = cell;
        }
        table.rows.push(row);
        table.lines.push(line);
    }
    if table.rows.is_empty() {
        return Err(Error::Empty("JSONL (no objects)".into()));
    }
    // Only `{}` lines: rows without a single column, which nothing downstream can use
    // (CSV/TSV always give at least one column).
    if table.columns.is_empty() {
        return Err(Error::Empty("JSONL (the objects have no keys)".into()));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_header() {
        let t = parse_csv(b"name,note,label\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\",a\r\nx,,b\n\n").unwrap();
        assert_eq!(t.columns, ["name", "note", "label"]);
        assert_eq!(t.rows[0], [Some("Smith, J".into()), Some("said \"hi\"\nthen left".into()), Some("a".into())]);
        assert_eq!(t.rows[1][1], None);
        assert_eq!(t.lines, [2, 4]);
    }

    #[test]
    fn sklearn_and_headerless_files() {
        let t = parse_csv(b"2,2,setosa,virginica\n5.1,3.5,0\n6.0,2.9,1\n").unwrap();
        assert_eq!(t.columns, ["x0", "x1", "label"]);
        assert_eq!(t.class_names, ["setosa", "virginica"]);
        assert_eq!(t.rows.len(), 2);
        let t = parse_csv(b"0,1,3\n2,3,4\n").unwrap();
        assert_eq!(t.columns, ["x0", "x1", "label"]);
        assert_eq!(t.rows.len(), 2);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            parse_csv(b"a,b\n1,\"oops\n").unwrap_err(),
            Error::Parse { source_name: "CSV".into(), line: 2, col: 3, msg: "quote opened here is never closed".into() }
        );
        assert!(matches!(parse_csv(b"a,b\n1,2,3\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(parse_csv(b"a,b\n\"x\"y,2\n"), Err(Error::Parse { line: 2, col: 4, .. })));
        assert!(matches!(parse_tsv(b"a\tb\n1\t\xff\n"), Err(Error::Parse { line: 2, col: 3, .. })));
        assert_eq!(parse_tsv(b"a\tb\n\"Holiday\" 2002\t1\n").unwrap().rows[0][0].as_deref(), Some("\"Holiday\" 2002"));
        assert!(matches!(parse_csv(b""), Err(Error::Empty(_))));
        assert!(matches!(parse_csv(b"a,b\n"), Err(Error::Empty(_))));
    }

    #[test]
    fn lenient_parse_skips_rows_with_the_wrong_width() {
        let (t, skipped) = parse_delimited_lenient(b"a,b\n1,2\n3\n4,5,6\n7,8\n", b',', true, "CSV").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.lines, [2, 5]);
        use super::super::stream::SkipReason::Width;
        assert_eq!(
            skipped,
            [Skipped { line: 3, reason: Width { fields: 1, expected: 2 } }, Skipped { line: 4, reason: Width { fields: 3, expected: 2 } }]
        );
        let e = parse_delimited_lenient(b"a,b\n1\n2\n", b',', true, "CSV").unwrap_err();
        assert!(e.to_string().contains("every one of its 2 data rows"), "{e}");
    }

    #[test]
    fn utf8_errors_give_the_byte_offset() {
        let e = parse_csv(b"a,b\nok,\xe9t\xe9\n").unwrap_err();
        assert_eq!(e.to_string(), "CSV: line 2, column 4: not valid UTF-8 text (byte offset 7)");
        let e = parse_lines(b"fine\nnot \xff fine\n").unwrap_err();
        assert_eq!(e.to_string(), "text: line 2, column 5: not valid UTF-8 text (byte offset 9)");
        assert!(parse_jsonl(b"{\"a\": \"\xc3\"}").unwrap_err().to_string().contains("byte offset 7"));
    }

    #[test]
    fn header_names_are_unique_and_never_empty() {
        let t = parse_csv(b",a,a, a ,b\n0,1,2,3,4\n").unwrap();
        assert_eq!(t.columns, ["column 1", "a", "a (2)", "a (3)", "b"]);
    }

    #[test]
    fn plain_text_lines() {
        let t = parse_lines(b"\xef\xbb\xbffirst line\n\n  \nNA\r\nlast").unwrap();
        assert_eq!(t.columns, ["text"]);
        assert_eq!(t.rows, [[Some("first line".into())], [Some("NA".into())], [Some("last".into())]]);
        assert_eq!(t.lines, [1, 4, 5]);
        assert!(matches!(parse_lines(b"\n \n"), Err(Error::Empty(_))));
    }

    #[test]
    fn jsonl_rows() {
        let t = parse_jsonl(b"{\"text\": \"free money\", \"label\": \"spam\"}\n\n{\"label\": 1, \"text\": null}\n").unwrap();
        assert_eq!(t.columns, ["label", "text"]);
        assert_eq!(t.rows[0], [Some("spam".into()), Some("free money".into())]);
        assert_eq!(t.rows[1], [Some("1".into()), None]);
        assert!(matches!(parse_jsonl(b"{\"a\":1}\n[1]\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(parse_jsonl(b"{\"a\":1}\n{\"a\":\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(parse_jsonl(b"{\"a\":{\"b\":1}}"), Err(Error::Parse { line: 1, .. })));
    }

    /// Found by `cargo fuzz run csv_tsv` / `jsonl` (tests/fixtures/fuzz/).
    #[test]
    fn fuzz_findings() {
        // One record starting `0,` (a scikit-learn header of zero rows with no row to
        // take the width from) used to index past the end.
        assert!(matches!(parse_csv(b"0,x,Adelie\n"), Err(Error::Empty(_))));
        assert!(matches!(parse_tsv(b"0\t\x1d0\n"), Err(Error::Empty(_))));
        // A width of usize::MAX used to overflow `d + 1`.
        assert!(parse_csv(b"1,18446744073709551615\n1,2\n").is_ok());
        // Objects without keys: no columns.
        assert!(matches!(parse_jsonl(b"{}\r \n{}"), Err(Error::Empty(_))));
    }

    #[test]
    fn never_panics_on_junk() {
        for junk in [&b"\""[..], b"\"\"\"", b",,,\n,", b"\r\r\n", b"1\n\"", b"\xef\xbb\xbfa\n1"] {
            let _ = parse_csv(junk);
            let _ = parse_jsonl(junk);
        }
    }
}
