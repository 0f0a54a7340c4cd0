//! Incremental import of CSV, TSV, JSON lines and plain text: bytes arrive in chunks of any
//! size (the app reads a file a few MB at a time), records are cut as they complete, and
//! the result is the same as parsing the whole file at once, so a 200 MB file never has
//! to be one string in JS or in wasm. This is the only reader of these formats: a whole
//! file in memory is a stream of one chunk ([`read_all`], and [`parse`] where a row that
//! an import would skip is an error), for the app, the package, the simulator and the
//! fuzz targets alike.
//!
//! Header rules for CSV/TSV (chosen so the datasets in `datasets/` load as they are):
//! 1. **scikit-learn header**: when the first row starts with two integers `n, d` and the
//!    file has exactly `n` data rows of `d + 1` fields (iris.csv: `150,4,setosa,...`), the
//!    columns are named `x0..x{d-1}, label` and the rest of that row are the class names.
//! 2. **no header**: when every field of the first row is a number (digits.csv), the
//!    columns are named `x0, x1, ...` and the last one `label`.
//! 3. Otherwise the first row is the header.
//!
//! What a chunk boundary may split, and how it is carried over: a quoted CSV field (with
//! its newlines and `""`), a `\r\n` pair, a UTF-8 sequence (validated byte by byte across
//! chunks, see [`Utf8`]), the byte-order mark, and any field. Only whole records are kept.
//!
//! Bad rows are skipped and listed with the reason rather than failing the import (the
//! rest of a big file is still good): a wrong number of fields, bytes that are not UTF-8
//! (delimiters, quotes and newlines are ASCII and never part of a multi-byte sequence, so
//! a bad byte cannot shift the fields of other rows), and a JSON line that is not an
//! object (an object's nested values are left out, its flat ones kept). Errors that make every later row untrustworthy still fail when they are among
//! the rows kept: a quote that is never closed (reported when a record passes
//! [`MAX_RECORD_BYTES`] or at the end), and a character after a closing quote. Past the
//! rows kept they only stop the count of the rest ([`Streamed::count_stopped`]).
//!
//! At most `max_rows` data rows are kept, the first ones in the file (a reproducible range
//! the person can find by line number; sampling the whole file would have to parse every
//! row in full); the rows after them are only counted, at scanning speed, so the report can
//! say how many were left out.

mod splitter;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use self::splitter::{RawRecord, Splitter};
use super::table::{header_names, is_missing, Table};
use crate::{Error, Result};

/// A record longer than this is an error: almost always a quote that is never closed,
/// which would otherwise swallow the rest of a large file into one field.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// The text formats read as a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Txt,
}

impl Format {
    /// `csv`, `tsv`, `jsonl` or `txt`.
    pub fn parse(name: &str) -> Result<Format> {
        match name {
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "jsonl" => Ok(Format::Jsonl),
            "txt" => Ok(Format::Txt),
            other => Err(Error::param("format", format!("'{other}'; known: csv, tsv, jsonl, txt"))),
        }
    }

    fn source(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Tsv => "TSV",
            Format::Jsonl => "JSONL",
            Format::Txt => "text",
        }
    }
}

/// Why a row was left out.
#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    /// `fields` fields where the header has `expected`.
    Width { fields: usize, expected: usize },
    /// The first byte that is not UTF-8: its byte offset in the file and its column (1-based).
    NotUtf8 { offset: u64, col: usize },
    /// A JSON line that is not a flat object (serde_json's message, or what is wrong).
    Json(String),
}

/// A data row left out, with its 1-based starting line.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub line: usize,
    pub reason: SkipReason,
}

/// What a stream gave: the rows kept, the rows skipped among them, and how many data rows
/// after the first `max_rows` were left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Streamed {
    pub table: Table,
    pub skipped: Vec<Skipped>,
    /// Data rows after the first `max_rows`, counted (at least this many when `count_stopped`).
    pub left_out: u64,
    /// Why counting the rows past the cap stopped (an unclosed quote, a character after a
    /// closing quote there): the rows kept are whole, so the import goes on with them.
    pub count_stopped: Option<Error>,
}

/// A record the reader keeps: its line and cells, or why it cannot be a row.
enum Kept {
    Cells(usize, Vec<String>),
    Bad(usize, usize, SkipReason),
    Json(usize, Map<String, Value>),
}

/// Reads a CSV, TSV, JSONL or plain-text file chunk by chunk (see the module docs).
pub struct TableReader {
    format: Format,
    splitter: Splitter,
    max_rows: usize,
    /// Records kept in file order: the header (CSV/TSV) and up to `max_rows` data rows.
    kept: Vec<Kept>,
    /// Non-blank records seen, kept or not.
    records: u64,
    bytes: u64,
    /// A row that would be skipped is an error instead (see [`parse`]).
    strict: bool,
}

impl TableReader {
    /// A reader that keeps the first `max_rows` data rows (at least 1).
    pub fn new(format: Format, max_rows: usize) -> TableReader {
        let mut r = TableReader { format, splitter: Splitter::new(format), max_rows: max_rows.max(1), kept: Vec::new(), records: 0, bytes: 0, strict: false };
        r.splitter.to_keep = r.capacity();
        r
    }

    /// Bytes fed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Non-blank records cut so far (a CSV/TSV header included).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// How many records to keep: CSV/TSV keep one more, as the first may be the header.
    fn capacity(&self) -> usize {
        match self.format {
            Format::Csv | Format::Tsv => self.max_rows + 1,
            Format::Jsonl | Format::Txt => self.max_rows,
        }
    }

    /// Feed the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        self.bytes += chunk.len() as u64;
        let (cap, format) = (self.capacity(), self.format);
        let (kept, records, splitter) = (&mut self.kept, &mut self.records, &mut self.splitter);
        let mut keep_one = keeper(format, cap, kept, records);
        splitter.push(chunk, &mut keep_one)
    }

    /// The file ended (`complete`), or this was only its beginning (the preview): the rows.
    pub fn finish(mut self, complete: bool) -> Result<Streamed> {
        let (cap, format) = (self.capacity(), self.format);
        let (kept, records, splitter) = (&mut self.kept, &mut self.records, &mut self.splitter);
        let mut keep_one = keeper(format, cap, kept, records);
        splitter.finish(complete, &mut keep_one)?;
        drop(keep_one); // ends its borrow of the rows kept and the count
        let source = format.source();
        if !complete && self.records == 0 && self.bytes > 0 {
            // A preview with no row in it: one that long is no table a person made.
            return Err(Error::Parse {
                source_name: source.into(),
                line: 1,
                col: 1,
                msg: format!("no line ends in the first {} bytes read: is this a text file?", self.bytes),
            });
        }
        let stopped = self.splitter.stopped.take();
        let mut s = match format {
            Format::Csv | Format::Tsv => delimited_table(self.kept, self.records, self.max_rows, complete, source, self.strict),
            Format::Jsonl => jsonl_table(self.kept, self.records, self.strict),
            Format::Txt => lines_table(self.kept, self.records, self.strict),
        }?;
        s.count_stopped = stopped;
        Ok(s)
    }
}

/// Decode a record: UTF-8 cells, or the reason it cannot be one.
/// What the splitter calls with each record: count it, and keep it (converted) while
/// fewer than `cap` are kept; empty records are counted, not kept.
fn keeper<'a>(format: Format, cap: usize, kept: &'a mut Vec<Kept>, records: &'a mut u64) -> impl FnMut(RawRecord) -> Result<()> + 'a {
    move |r: RawRecord| {
        *records += 1;
        if !r.fields.is_empty() && kept.len() < cap {
            kept.push(convert(format, r));
        }
        Ok(())
    }
}

fn convert(format: Format, r: RawRecord) -> Kept {
    let n = r.fields.len();
    if let Some((offset, col)) = r.bad {
        return Kept::Bad(r.line, n, SkipReason::NotUtf8 { offset, col });
    }
    let mut cells = Vec::with_capacity(n);
    for f in r.fields {
        match String::from_utf8(f) {
            Ok(s) => cells.push(s),
            // Not reached: the validator flags every invalid byte; kept as a safe answer.
            Err(_) => return Kept::Bad(r.line, n, SkipReason::NotUtf8 { offset: 0, col: 1 }),
        }
    }
    if format != Format::Jsonl {
        return Kept::Cells(r.line, cells);
    }
    let text = cells.pop().unwrap_or_default();
    match json_object(&text) {
        Ok(map) => Kept::Json(r.line, map),
        Err(msg) => Kept::Bad(r.line, 1, SkipReason::Json(msg)),
    }
}

/// One JSON line as an object of its flat values (strings, numbers, booleans, nulls), or
/// what is wrong with it. Nested values (Prodigy's `meta`, `options`, `spans`) are left
/// out, not the line: its text and label are what a person imports it for.
pub(crate) fn json_object(text: &str) -> std::result::Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Value::Object(mut map) = value else { return Err("each line must be a JSON object".into()) };
    let had = map.len();
    map.retain(|_, v| !matches!(v, Value::Array(_) | Value::Object(_)));
    if map.is_empty() && had > 0 {
        return Err("no string, number or boolean value (nested values are left out)".into());
    }
    Ok(map)
}

/// Rows that the stream cut short when this is only the file's beginning: fewer than `n`
/// rows so far may still become `n`.
fn delimited_table(kept: Vec<Kept>, records: u64, max_rows: usize, complete: bool, source: &str, strict: bool) -> Result<Streamed> {
    let mut kept = kept.into_iter();
    let Some(first) = kept.next() else {
        return Err(Error::Empty(format!("{source} (no rows)")));
    };
    let (first_line, first) = match first {
        Kept::Cells(line, cells) => (line, cells),
        Kept::Bad(line, _, SkipReason::NotUtf8 { offset, col }) => {
            return Err(Error::Parse { source_name: source.into(), line, col, msg: format!("not valid UTF-8 text (byte offset {offset})") });
        }
        Kept::Bad(..) | Kept::Json(..) => unreachable!("delimited records are cells or not UTF-8"),
    };
    let rest: Vec<Kept> = kept.collect();
    let width = first.len();
    let second_width = rest.first().map(|k| match k {
        Kept::Cells(_, c) => c.len(),
        Kept::Bad(_, n, _) => *n,
        Kept::Json(..) => 0,
    });
    let numeric = |s: &str| s.trim().parse::<f64>().is_ok();
    // The scikit-learn header names the number of data rows: the records after it. A
    // preview sees only the beginning, so there it may be any number not yet exceeded.
    let data_records = records - 1;
    let declared = first.first().and_then(|s| s.trim().parse::<u64>().ok());
    let rows_match = declared.is_some_and(|n| if complete { n == data_records } else { n >= data_records });
    let sk_header = width >= 2
        && second_width.is_some()
        && rows_match
        && first[1].trim().parse::<usize>().ok().and_then(|d| d.checked_add(1)) == second_width;
    let (columns, class_names, data, header_is_data): (Vec<String>, Vec<String>, Vec<Kept>, bool) = if sk_header {
        let d = second_width.unwrap_or(1) - 1;
        let mut cols: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        cols.push("label".into());
        (cols, first[2..].iter().map(|s| s.trim().to_string()).collect(), rest, false)
    } else if first.iter().all(|f| numeric(f)) {
        let mut cols: Vec<String> = (0..width - 1).map(|j| format!("x{j}")).collect();
        cols.push("label".into());
        (cols, Vec::new(), rest, true)
    } else {
        (header_names(&first), Vec::new(), rest, false)
    };
    let total_data = if header_is_data { records } else { data_records };
    let mut table = Table { columns, class_names, ..Default::default() };
    let mut skipped = Vec::new();
    let expected = table.columns.len();
    let first_row = if header_is_data { Some(Kept::Cells(first_line, first)) } else { None };
    let mut taken = 0usize;
    for k in first_row.into_iter().chain(data) {
        if taken == max_rows {
            break;
        }
        taken += 1;
        match k {
            Kept::Cells(line, cells) => {
                if cells.len() != expected {
                    skip(&mut skipped, Skipped { line, reason: SkipReason::Width { fields: cells.len(), expected } }, strict, source)?;
                    continue;
                }
                table.rows.push(cells.into_iter().map(|f| if is_missing(&f) { None } else { Some(f) }).collect());
                table.lines.push(line);
            }
            Kept::Bad(line, _, reason) => skip(&mut skipped, Skipped { line, reason }, strict, source)?,
            Kept::Json(..) => {}
        }
    }
    let left_out = total_data.saturating_sub(taken as u64);
    if table.rows.is_empty() {
        return Err(Error::Empty(if skipped.is_empty() {
            format!("{source} (a header but no data rows)")
        } else if skipped.iter().all(|s| matches!(s.reason, SkipReason::Width { .. })) {
            format!("{source} (every one of its {} data rows has the wrong number of fields)", skipped.len())
        } else {
            format!("{source} (every one of its {} data rows was skipped)", skipped.len())
        }));
    }
    Ok(Streamed { table, skipped, left_out, count_stopped: None })
}

/// JSON lines: the columns are the keys in order of first appearance (over the rows kept).
fn jsonl_table(kept: Vec<Kept>, records: u64, strict: bool) -> Result<Streamed> {
    let mut table = Table::default();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut skipped = Vec::new();
    let taken = kept.len() as u64;
    let mut objects = Vec::with_capacity(kept.len());
    for k in kept {
        match k {
            Kept::Json(line, map) => {
                for key in map.keys() {
                    if !index.contains_key(key) {
                        index.insert(key.clone(), table.columns.len());
                        table.columns.push(key.clone());
                    }
                }
                objects.push((line, map));
            }
            Kept::Bad(line, _, reason) => skip(&mut skipped, Skipped { line, reason }, strict, "JSONL")?,
            Kept::Cells(..) => {}
        }
    }
    for (line, map) in objects {
        let mut row = vec![None; table.columns.len()];
        for (k, v) in map {
            row[index[&k]] = match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
        }
        table.rows.push(row);
        table.lines.push(line);
    }
    if table.rows.is_empty() {
        return Err(Error::Empty(if skipped.is_empty() {
            "JSONL (no objects)".into()
        } else {
            format!("JSONL (every one of its {} lines was skipped)", skipped.len())
        }));
    }
    if table.columns.is_empty() {
        return Err(Error::Empty("JSONL (the objects have no keys)".into()));
    }
    Ok(Streamed { table, skipped, left_out: records - taken, count_stopped: None })
}

/// Plain text: one sample per non-blank line, column `text`; nothing is missing.
fn lines_table(kept: Vec<Kept>, records: u64, strict: bool) -> Result<Streamed> {
    let mut table = Table { columns: vec!["text".into()], ..Default::default() };
    let mut skipped = Vec::new();
    let taken = kept.len() as u64;
    for k in kept {
        match k {
            Kept::Cells(line, mut cells) => {
                table.rows.push(vec![cells.pop()]);
                table.lines.push(line);
            }
            Kept::Bad(line, _, reason) => skip(&mut skipped, Skipped { line, reason }, strict, "text")?,
            Kept::Json(..) => {}
        }
    }
    if table.rows.is_empty() {
        return Err(Error::Empty(if skipped.is_empty() {
            "the text file (no non-blank lines)".into()
        } else {
            format!("the text file (every one of its {} lines was skipped)", skipped.len())
        }));
    }
    Ok(Streamed { table, skipped, left_out: records - taken, count_stopped: None })
}

/// The whole of `bytes` as one stream, keeping every row: what [`TableReader`] gives for
/// any chunking of the same bytes.
pub fn read_all(bytes: &[u8], format: Format) -> Result<Streamed> {
    let mut r = TableReader::new(format, usize::MAX - 1);
    r.push(bytes)?;
    r.finish(true)
}

/// A whole file held in memory, read by the same reader (a stream of one chunk), where a
/// row the import would skip and list is an error naming its line and column instead:
/// for data handed over as exact (the package's rows, the simulator's data sets), where a
/// row left out silently would be a wrong answer.
pub fn parse(bytes: &[u8], format: Format) -> Result<Table> {
    let mut r = TableReader::new(format, usize::MAX - 1);
    r.strict = true;
    r.push(bytes)?;
    r.finish(true).map(|s| s.table)
}

/// CSV with the header rules in the module docs ([`parse`]).
pub fn parse_csv(bytes: &[u8]) -> Result<Table> {
    parse(bytes, Format::Csv)
}

/// TSV (no quoting: a `"` is part of the field) with the header rules ([`parse`]).
pub fn parse_tsv(bytes: &[u8]) -> Result<Table> {
    parse(bytes, Format::Tsv)
}

/// JSON lines: one object per line; the columns are the keys with flat values, in order of
/// first appearance ([`parse`]).
pub fn parse_jsonl(bytes: &[u8]) -> Result<Table> {
    parse(bytes, Format::Jsonl)
}

/// Plain text, one sample per non-blank line: one column, `text` ([`parse`]).
pub fn parse_lines(bytes: &[u8]) -> Result<Table> {
    parse(bytes, Format::Txt)
}

/// Record a skipped row, or, reading strictly, fail with it.
fn skip(skipped: &mut Vec<Skipped>, s: Skipped, strict: bool, source: &str) -> Result<()> {
    if !strict {
        skipped.push(s);
        return Ok(());
    }
    let (col, msg) = match s.reason {
        SkipReason::Width { fields, expected } => (1, format!("{fields} fields, expected {expected} like the header")),
        SkipReason::NotUtf8 { offset, col } => (col, format!("not valid UTF-8 text (byte offset {offset})")),
        SkipReason::Json(msg) => (1, msg),
    };
    Err(Error::Parse { source_name: source.into(), line: s.line, col, msg })
}

/// A row skipped, in words: "line 4: 3 fields where the header has 2".
pub fn describe(s: &Skipped) -> String {
    match &s.reason {
        SkipReason::Width { fields, expected } => format!("line {}: {fields} fields where the header has {expected}", s.line),
        SkipReason::NotUtf8 { offset, col } => format!("line {}, column {col}: not valid UTF-8 text (byte offset {offset})", s.line),
        SkipReason::Json(msg) => format!("line {}: {msg}", s.line),
    }
}
