//! Incremental import of CSV, TSV, JSON lines and plain text: bytes arrive in chunks of any
//! size (the app reads a file a few MB at a time), records are cut as they complete, and
//! the result is the same as parsing the whole file at once (the header rules of
//! [`super::table`]), so a 200 MB file never has to be one string in JS or in wasm.
//!
//! What a chunk boundary may split, and how it is carried over: a quoted CSV field (with
//! its newlines and `""`), a `\r\n` pair, a UTF-8 sequence (validated byte by byte across
//! chunks, see [`Utf8`]), the byte-order mark, and any field. Only whole records are kept.
//!
//! Bad rows are skipped and listed with the reason rather than failing the import (the
//! rest of a big file is still good): a wrong number of fields, bytes that are not UTF-8
//! (delimiters, quotes and newlines are ASCII and never part of a multi-byte sequence, so
//! a bad byte cannot shift the fields of other rows), and a JSON line that is not a flat
//! object. Errors that make every later row untrustworthy still fail when they are among
//! the rows kept: a quote that is never closed (reported when a record passes
//! [`MAX_RECORD_BYTES`] or at the end), and a character after a closing quote. Past the
//! rows kept they only stop the count of the rest ([`Streamed::count_stopped`]).
//!
//! At most `max_rows` data rows are kept, the first ones in the file (a reproducible range
//! the person can find by line number; sampling the whole file would have to parse every
//! row in full); the rows after them are only counted, at scanning speed, so the report can
//! say how many were left out.

use serde_json::{Map, Value};

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

/// Incremental UTF-8 validation (the byte ranges of RFC 3629, table 3-7 of the Unicode
/// standard), so a sequence split across two chunks is judged whole.
#[derive(Debug, Clone, Copy, Default)]
struct Utf8 {
    /// Continuation bytes still expected.
    need: u8,
    /// Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4).
    lo: u8,
    hi: u8,
}

impl Utf8 {
    /// Feed one byte; false when it cannot be where it is. After a false the state is reset
    /// and the byte judged again as the start of a new sequence by the caller.
    #[inline]
    fn step(&mut self, b: u8) -> bool {
        if self.need > 0 {
            if b < self.lo || b > self.hi {
                *self = Utf8::default();
                return false;
            }
            self.need -= 1;
            self.lo = 0x80;
            self.hi = 0xbf;
            return true;
        }
        let (need, lo, hi) = match b {
            0x00..=0x7f => return true,
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return false,
        };
        *self = Utf8 { need, lo, hi };
        true
    }
}

/// Where the splitter is inside a record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// In an unquoted field (or at the start of one).
    Field,
    /// Inside a quoted field.
    Quoted,
    /// Just read a `"` inside a quoted field: `""` or the closing quote.
    QuoteInQuoted,
    /// After a closing quote: only a delimiter or the end of the record may follow.
    Closed,
}

/// One record as cut by the splitter (no fields when only counting).
struct RawRecord {
    line: usize,
    fields: Vec<Vec<u8>>,
    /// The first byte that is not UTF-8: (file offset, column).
    bad: Option<(u64, usize)>,
}

/// Cuts bytes into records. `delim: None` cuts lines (JSONL, plain text: `\n` or `\r\n`, as
/// `str::lines`); otherwise delimited records (`\n`, `\r\n` or `\r` end one), with RFC 4180
/// quoting when `quoting`.
struct Splitter {
    delim: Option<u8>,
    quoting: bool,
    source: &'static str,
    state: State,
    /// Store field bytes; off once the rows to keep are all read (the rest is counted).
    keep: bool,
    /// Records still to keep; `keep` goes off at the end of the last one.
    to_keep: usize,
    field: Vec<u8>,
    fields: Vec<Vec<u8>>,
    record_bytes: usize,
    /// A byte of the current record has been read.
    in_record: bool,
    /// The current field has no content and is not quoted (a `"` here opens a quote).
    fresh: bool,
    /// Counting mode: whether the record has a byte that is not whitespace, and the
    /// non-ASCII bytes seen until then (Unicode whitespace makes a blank line too).
    nonblank: bool,
    maybe_blank: Vec<u8>,
    /// Position of the next byte: 1-based line and column, 0-based file offset.
    line: usize,
    col: usize,
    offset: u64,
    start_line: usize,
    /// Where the open quote is, for the error when it never closes.
    quote_at: (usize, usize),
    /// A `\r` ended the last record; a `\n` right after it belongs to it.
    after_cr: bool,
    /// Lines mode: a `\r` held back until we know whether `\n` follows.
    held_cr: bool,
    utf8: Utf8,
    /// Where the multi-byte sequence being read started (std reports that place too).
    seq_at: (u64, usize),
    bad: Option<(u64, usize)>,
    /// The first bytes, until we know whether they are a byte-order mark.
    bom: Vec<u8>,
    bom_done: bool,
    /// Counting mode met an error: the rows kept are fine, the count ends here.
    stopped: Option<Error>,
}

impl Splitter {
    fn new(format: Format) -> Splitter {
        let (delim, quoting) = match format {
            Format::Csv => (Some(b','), true),
            Format::Tsv => (Some(b'\t'), false),
            Format::Jsonl | Format::Txt => (None, false),
        };
        Splitter {
            delim,
            quoting,
            source: format.source(),
            state: State::Field,
            keep: true,
            to_keep: usize::MAX,
            field: Vec::new(),
            fields: Vec::new(),
            record_bytes: 0,
            in_record: false,
            fresh: true,
            nonblank: false,
            maybe_blank: Vec::new(),
            line: 1,
            col: 1,
            offset: 0,
            start_line: 1,
            quote_at: (1, 1),
            after_cr: false,
            held_cr: false,
            utf8: Utf8::default(),
            seq_at: (0, 1),
            bad: None,
            bom: Vec::new(),
            bom_done: false,
            stopped: None,
        }
    }

    /// Feed a chunk; each complete non-blank record goes to `out`.
    fn push(&mut self, chunk: &[u8], out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        let mut chunk = chunk;
        if !self.bom_done {
            // The mark (EF BB BF) may itself be split across the first chunks.
            let take = (3 - self.bom.len()).min(chunk.len());
            self.bom.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.bom.len() < 3 && b"\xef\xbb\xbf".starts_with(&self.bom) {
                return Ok(());
            }
            self.bom_done = true;
            let head = std::mem::take(&mut self.bom);
            if head == b"\xef\xbb\xbf" {
                self.offset = 3;
            } else {
                self.bytes(&head, out)?;
            }
        }
        self.bytes(chunk, out)
    }

    fn bytes(&mut self, chunk: &[u8], out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        match self.bytes_or_err(chunk, out) {
            // Past the rows kept, a broken record costs only the count of the rest.
            Err(e) if !self.keep => {
                self.stopped = Some(e);
                Ok(())
            }
            r => r,
        }
    }

    fn bytes_or_err(&mut self, chunk: &[u8], out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        if self.stopped.is_some() {
            return Ok(());
        }
        let mut i = 0;
        while i < chunk.len() {
            if !self.keep && !self.after_cr && !self.held_cr {
                i += self.skim(&chunk[i..]);
                if i == chunk.len() {
                    break;
                }
            }
            match self.delim {
                None => self.line_byte(chunk[i], out)?,
                Some(_) => self.delimited_byte(chunk[i], out)?,
            }
            i += 1;
        }
        Ok(())
    }

    /// Counting mode's fast path (most of a big file): the run of bytes up to the next one
    /// that can change the state (a line end, and for CSV/TSV a delimiter or a quote), taken
    /// in one go with the same effect as byte by byte. Returns its length.
    fn skim(&mut self, chunk: &[u8]) -> usize {
        let delim = self.delim;
        let quoted = self.state == State::Quoted;
        let len = match (delim, quoted) {
            (_, true) => chunk.iter().position(|&b| b == b'"'),
            (None, false) => chunk.iter().position(|&b| b == b'\n' || b == b'\r'),
            // Delimiters go into the run too: when counting, a delimiter only makes the
            // record non-blank and the next byte the start of a field (see below).
            (Some(_), false) if self.state == State::Field => chunk.iter().position(|&b| b == b'\n' || b == b'\r' || b == b'"'),
            _ => Some(0),
        }
        .unwrap_or(chunk.len());
        if len == 0 {
            return 0;
        }
        let run = &chunk[..len];
        self.offset += len as u64;
        if !self.in_record {
            self.in_record = true;
            self.start_line = self.line;
        }
        self.record_bytes += len;
        if !quoted {
            // A quote opens a field only right after a delimiter (or at the record's start).
            self.fresh = delim.is_some_and(|d| run[len - 1] == d);
            if !self.nonblank && delim.is_some_and(|d| run.contains(&d)) {
                self.nonblank = true;
            }
        }
        // Only a quoted field holds line ends here.
        match quoted.then(|| run.iter().rposition(|&b| b == b'\n')).flatten() {
            Some(last) => {
                self.line += run.iter().filter(|&&b| b == b'\n').count();
                self.col = len - last;
            }
            None => self.col += len,
        }
        if !self.nonblank {
            for &b in run {
                if b >= 0x80 {
                    self.maybe_blank.push(b);
                } else if !b.is_ascii_whitespace() && b != 0x0b {
                    self.nonblank = true;
                    break;
                }
            }
        }
        len
    }

    /// Bookkeeping every byte gets: UTF-8 (only for rows kept), the `\n` of a `\r\n`, the
    /// record's first line. False when the byte is the `\n` of a `\r\n` already handled.
    #[inline]
    fn enter(&mut self, b: u8) -> bool {
        if self.keep {
            let mid = self.utf8.need > 0;
            if !self.utf8.step(b) {
                if self.bad.is_none() {
                    self.bad = Some(if mid { self.seq_at } else { (self.offset, self.col) });
                }
                // The byte may be a valid start that merely interrupts a sequence.
                if mid && self.utf8.step(b) && self.utf8.need > 0 {
                    self.seq_at = (self.offset, self.col);
                }
            } else if !mid && self.utf8.need > 0 {
                self.seq_at = (self.offset, self.col);
            }
        }
        self.offset += 1;
        if self.after_cr {
            self.after_cr = false;
            if b == b'\n' {
                return false;
            }
        }
        if !self.in_record {
            self.in_record = true;
            self.start_line = self.line;
        }
        true
    }

    /// The field gets `b` (or, when counting, only what decides whether the record is blank).
    #[inline]
    fn put(&mut self, b: u8) -> Result<()> {
        self.record_bytes += 1;
        if self.keep {
            self.field.push(b);
            if self.record_bytes > MAX_RECORD_BYTES {
                return Err(self.too_long());
            }
        } else if !self.nonblank {
            if b >= 0x80 {
                self.maybe_blank.push(b);
            } else if !b.is_ascii_whitespace() && b != 0x0b {
                self.nonblank = true;
            }
        }
        Ok(())
    }

    fn too_long(&self) -> Error {
        let (line, col, msg) = if self.state == State::Quoted {
            (self.quote_at.0, self.quote_at.1, format!("quote opened here is not closed within {} MB", MAX_RECORD_BYTES >> 20))
        } else {
            (self.start_line, 1, format!("a row longer than {} MB (is this a text file?)", MAX_RECORD_BYTES >> 20))
        };
        Error::Parse { source_name: self.source.into(), line, col, msg }
    }

    #[inline]
    fn end_field(&mut self) {
        if self.keep {
            self.fields.push(std::mem::take(&mut self.field));
        } else {
            // Two fields: not a blank line, whatever they hold.
            self.nonblank = true;
        }
        self.fresh = true;
    }

    fn end_record(&mut self, out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        let bad = self.bad.take();
        let line = self.start_line;
        self.record_bytes = 0;
        self.in_record = false;
        self.fresh = true;
        self.state = State::Field;
        if self.keep {
            self.fields.push(std::mem::take(&mut self.field));
            let fields = std::mem::take(&mut self.fields);
            let blank = fields.len() == 1 && bad.is_none() && std::str::from_utf8(&fields[0]).is_ok_and(|s| s.trim().is_empty());
            if !blank {
                self.to_keep -= 1;
                // From here on only counting: no bytes stored, no UTF-8 checked.
                self.keep = self.to_keep > 0;
                out(RawRecord { line, fields, bad })?;
            }
        } else {
            let blank = !self.nonblank && std::str::from_utf8(&self.maybe_blank).is_ok_and(|s| s.trim().is_empty());
            self.nonblank = false;
            self.maybe_blank.clear();
            if !blank {
                out(RawRecord { line, fields: Vec::new(), bad: None })?;
            }
        }
        Ok(())
    }

    /// CSV / TSV, byte by byte, exactly as `table::split_records` cuts a whole file.
    #[inline]
    fn delimited_byte(&mut self, b: u8, out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        if !self.enter(b) {
            return Ok(());
        }
        let (line, col) = (self.line, self.col);
        match self.state {
            State::Quoted => {
                if b == b'"' {
                    self.state = State::QuoteInQuoted;
                    self.col += 1;
                    return Ok(());
                }
                if b == b'\n' {
                    self.line += 1;
                    self.col = 1;
                } else {
                    self.col += 1;
                }
                return self.put(b);
            }
            State::QuoteInQuoted => {
                if b == b'"' {
                    self.state = State::Quoted;
                    self.col += 1;
                    return self.put(b'"');
                }
                self.state = State::Closed;
            }
            State::Field | State::Closed => {}
        }
        let delim = self.delim.unwrap_or(b',');
        if self.state == State::Closed && b != delim && b != b'\n' && b != b'\r' {
            return Err(Error::Parse { source_name: self.source.into(), line, col, msg: "unexpected character after a closing quote".into() });
        }
        if b == delim {
            self.end_field();
            self.state = State::Field;
            self.col += 1;
        } else if b == b'\n' || b == b'\r' {
            self.line += 1;
            self.col = 1;
            self.after_cr = b == b'\r';
            self.end_record(out)?;
        } else if self.quoting && b == b'"' && self.state == State::Field && self.fresh {
            self.state = State::Quoted;
            self.quote_at = (line, col);
            self.fresh = false;
            self.col += 1;
        } else {
            self.fresh = false;
            self.col += 1;
            self.put(b)?;
        }
        Ok(())
    }

    /// Lines mode: `\n` ends a line and a `\r` right before it is dropped (as `str::lines`).
    #[inline]
    fn line_byte(&mut self, b: u8, out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        if !self.enter(b) {
            return Ok(());
        }
        if b == b'\n' {
            self.held_cr = false;
            self.line += 1;
            self.col = 1;
            return self.end_record(out);
        }
        if self.held_cr {
            self.held_cr = false;
            self.put(b'\r')?;
        }
        self.col += 1;
        if b == b'\r' {
            self.held_cr = true;
            return Ok(());
        }
        self.put(b)
    }

    /// The input ended. `complete`: it is the whole file (an open quote is an error, the
    /// last record counts); otherwise a prefix of it, whose cut-off last record is dropped.
    fn finish(&mut self, complete: bool, out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
        if !self.bom_done {
            self.bom_done = true;
            let head = std::mem::take(&mut self.bom);
            if head != b"\xef\xbb\xbf" {
                self.bytes(&head, out)?;
            }
        }
        if !complete || self.stopped.is_some() {
            return Ok(());
        }
        if self.held_cr {
            self.held_cr = false;
            self.put(b'\r')?;
        }
        if self.keep && self.utf8.need > 0 && self.bad.is_none() {
            // The file ends inside a multi-byte sequence.
            self.bad = Some(self.seq_at);
        }
        if matches!(self.state, State::Quoted) {
            let (line, col) = self.quote_at;
            let e = Error::Parse { source_name: self.source.into(), line, col, msg: "quote opened here is never closed".into() };
            if self.keep {
                return Err(e);
            }
            self.stopped = Some(e);
            return Ok(());
        }
        if self.in_record {
            self.end_record(out)?;
        }
        Ok(())
    }
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
}

impl TableReader {
    /// A reader that keeps the first `max_rows` data rows (at least 1).
    pub fn new(format: Format, max_rows: usize) -> TableReader {
        let mut r = TableReader { format, splitter: Splitter::new(format), max_rows: max_rows.max(1), kept: Vec::new(), records: 0, bytes: 0 };
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
            Format::Csv | Format::Tsv => delimited_table(self.kept, self.records, self.max_rows, complete, source),
            Format::Jsonl => jsonl_table(self.kept, self.records),
            Format::Txt => lines_table(self.kept, self.records),
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

/// One JSON line as a flat object, or what is wrong with it.
pub(crate) fn json_object(text: &str) -> std::result::Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Value::Object(map) = value else { return Err("each line must be a JSON object".into()) };
    for (k, v) in &map {
        if matches!(v, Value::Array(_) | Value::Object(_)) {
            return Err(format!("value of '{k}' must be a string, number or boolean"));
        }
    }
    Ok(map)
}

/// Rows that the stream cut short when this is only the file's beginning: fewer than `n`
/// rows so far may still become `n`.
fn delimited_table(kept: Vec<Kept>, records: u64, max_rows: usize, complete: bool, source: &str) -> Result<Streamed> {
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
                    skipped.push(Skipped { line, reason: SkipReason::Width { fields: cells.len(), expected } });
                    continue;
                }
                table.rows.push(cells.into_iter().map(|f| if is_missing(&f) { None } else { Some(f) }).collect());
                table.lines.push(line);
            }
            Kept::Bad(line, _, reason) => skipped.push(Skipped { line, reason }),
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
fn jsonl_table(kept: Vec<Kept>, records: u64) -> Result<Streamed> {
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
            Kept::Bad(line, _, reason) => skipped.push(Skipped { line, reason }),
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
fn lines_table(kept: Vec<Kept>, records: u64) -> Result<Streamed> {
    let mut table = Table { columns: vec!["text".into()], ..Default::default() };
    let mut skipped = Vec::new();
    let taken = kept.len() as u64;
    for k in kept {
        match k {
            Kept::Cells(line, mut cells) => {
                table.rows.push(vec![cells.pop()]);
                table.lines.push(line);
            }
            Kept::Bad(line, _, reason) => skipped.push(Skipped { line, reason }),
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

/// A row skipped, in words: "line 4: 3 fields where the header has 2".
pub fn describe(s: &Skipped) -> String {
    match &s.reason {
        SkipReason::Width { fields, expected } => format!("line {}: {fields} fields where the header has {expected}", s.line),
        SkipReason::NotUtf8 { offset, col } => format!("line {}, column {col}: not valid UTF-8 text (byte offset {offset})", s.line),
        SkipReason::Json(msg) => format!("line {}: {msg}", s.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::table::{parse_csv, parse_jsonl, parse_lines, parse_tsv};

    /// Tricky inputs: quoted fields with delimiters, `""`, newlines and CRLF inside, a BOM,
    /// multi-byte UTF-8 (2, 3 and 4 bytes), blank lines, CR-only line ends, a row of the
    /// wrong width, a missing final newline.
    const CSV: &[u8] = "\u{feff}name,note,label\r\n\"Smith, J\",\"said \"\"hi\"\"\r\nthen left\",a\r\n\r\ncafé,ünï 😀 €,b\rx,,\"\"\n\n  \nonly,two\n\"q\",\"\",\"multi\nline\nfield\"\nlast,row,c"
        .as_bytes();

    fn every_split(bytes: &[u8], format: Format, max_rows: usize) -> Streamed {
        let whole = {
            let mut r = TableReader::new(format, max_rows);
            r.push(bytes).unwrap();
            r.finish(true).unwrap()
        };
        // One cut at every position, and two cuts at every pair of positions (of short inputs).
        for i in 0..=bytes.len() {
            let pairs = if bytes.len() <= 300 { i..=bytes.len() } else { i..=i };
            for j in pairs {
                let mut r = TableReader::new(format, max_rows);
                r.push(&bytes[..i]).unwrap();
                r.push(&bytes[i..j]).unwrap();
                r.push(&bytes[j..]).unwrap();
                assert_eq!(r.finish(true).unwrap(), whole, "cut at {i} and {j}");
            }
        }
        // And a byte at a time.
        let mut r = TableReader::new(format, max_rows);
        for b in bytes {
            r.push(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(r.finish(true).unwrap(), whole, "a byte at a time");
        whole
    }

    #[test]
    fn chunk_boundaries_anywhere_give_the_records_of_the_whole_csv() {
        let s = every_split(CSV, Format::Csv, 1000);
        assert_eq!(s.table.columns, ["name", "note", "label"]);
        assert_eq!(s.table.rows[0], [Some("Smith, J".into()), Some("said \"hi\"\r\nthen left".into()), Some("a".into())]);
        assert_eq!(s.table.rows[1], [Some("café".into()), Some("ünï 😀 €".into()), Some("b".into())]);
        assert_eq!(s.table.rows[2], [Some("x".into()), None, None]);
        assert_eq!(s.table.rows[3], [Some("q".into()), None, Some("multi\nline\nfield".into())]);
        assert_eq!(s.table.lines, [2, 5, 6, 10, 13]);
        assert_eq!(s.skipped, [Skipped { line: 9, reason: SkipReason::Width { fields: 2, expected: 3 } }]);
        assert_eq!(s.left_out, 0);
        // The same as the whole-file parser, which has no row to skip once line 9 is gone.
        let text = std::str::from_utf8(CSV).unwrap().replace("only,two\n", "\n");
        let strict = parse_csv(text.as_bytes()).unwrap();
        let again = read_all(text.as_bytes(), Format::Csv).unwrap();
        assert_eq!((strict.columns, strict.rows), (again.table.columns, again.table.rows));
    }

    #[test]
    fn chunk_boundaries_in_tsv_jsonl_and_text() {
        let tsv = "a\tb\n\"x\t1\n\n  \t \nü\t€\r\n".as_bytes();
        let s = every_split(tsv, Format::Tsv, 1000);
        assert_eq!(s.table, parse_tsv(tsv).unwrap());
        let jsonl = "{\"text\": \"caf\u{e9}\\n\", \"label\": 1}\r\n\n{\"label\": null, \"x\": true}\nnot json\n[1]\n{\"a\": [1]}\n".as_bytes();
        let s = every_split(jsonl, Format::Jsonl, 1000);
        assert_eq!(s.table.columns, ["label", "text", "x"]);
        assert_eq!(s.table.rows[0], [Some("1".into()), Some("café\n".into()), None]);
        assert_eq!(s.table.rows[1], [None, None, Some("true".into())]);
        let reasons: Vec<usize> = s.skipped.iter().map(|k| k.line).collect();
        assert_eq!(reasons, [4, 5, 6]);
        assert!(matches!(&s.skipped[1].reason, SkipReason::Json(m) if m == "each line must be a JSON object"));
        let good = "{\"text\": \"a\"}\r\n\n{\"text\": \"b\", \"n\": 2}".as_bytes();
        assert_eq!(every_split(good, Format::Jsonl, 1000).table, parse_jsonl(good).unwrap());
        let txt = "\u{feff}first\r\n\n  \nNA\r\nmid\rdle\nlast\r".as_bytes();
        let s = every_split(txt, Format::Txt, 1000);
        assert_eq!(s.table, parse_lines(txt).unwrap());
    }

    #[test]
    fn bytes_that_are_not_utf8_skip_their_row_only() {
        // Latin-1 é on line 3; a sequence cut by a delimiter on line 4; a truncated 4-byte
        // sequence at the very end.
        let bytes = b"text,label\nok,a\ncaf\xe9,b\n\xc3,c\nfine,d\nend\xf0\x9f\x98";
        let s = every_split(bytes, Format::Csv, 1000);
        assert_eq!(s.table.lines, [2, 5]);
        assert_eq!(
            s.skipped,
            [
                Skipped { line: 3, reason: SkipReason::NotUtf8 { offset: 19, col: 4 } },
                Skipped { line: 4, reason: SkipReason::NotUtf8 { offset: 23, col: 1 } },
                Skipped { line: 6, reason: SkipReason::NotUtf8 { offset: 37, col: 4 } },
            ]
        );
        assert_eq!(describe(&s.skipped[0]), "line 3, column 4: not valid UTF-8 text (byte offset 19)");
        // The header is not a row to skip: the file cannot be read without it.
        let e = read_all(b"t\xffx,label\n1,2\n", Format::Csv).unwrap_err();
        assert_eq!(e.to_string(), "CSV: line 1, column 2: not valid UTF-8 text (byte offset 1)");
        // Every encoding error std knows, the validator knows (overlong, surrogate, > U+10FFFF).
        for bad in [&b"\xc0\x80"[..], b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5", b"\x80", b"\xe2\x82"] {
            let mut input = b"a\n".to_vec();
            input.extend_from_slice(bad);
            input.push(b'\n');
            assert!(read_all(&input, Format::Txt).is_err() || !read_all(&input, Format::Txt).unwrap().skipped.is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn only_the_first_rows_are_kept_and_the_rest_counted() {
        let mut csv = String::from("text,label\n");
        for i in 0..50 {
            // Quoted newlines and blank lines after the cap must not count as rows.
            csv.push_str(&format!("\"row {i}\nstill {i}\",x\n\n \u{3000} \n"));
        }
        csv.push_str("a,b,c\n"); // a bad row past the cap: counted, not listed
        let s = every_split(csv.as_bytes(), Format::Csv, 10);
        assert_eq!(s.table.rows.len(), 10);
        assert_eq!(s.table.rows[9][0].as_deref(), Some("row 9\nstill 9"));
        assert_eq!(s.left_out, 41);
        assert!(s.skipped.is_empty());
        // Headerless: the first record is a row.
        let s = every_split(b"1,2\n3,4\n5,6\n", Format::Csv, 2);
        assert_eq!((s.table.lines.clone(), s.left_out), (vec![1, 2], 1));
        let s = every_split(b"a\nb\n\nc\n", Format::Txt, 2);
        assert_eq!((s.table.rows.len(), s.left_out), (2, 1));
    }

    #[test]
    fn sklearn_header_needs_its_row_count_and_a_preview_takes_it_on_trust() {
        let iris = b"2,2,setosa,virginica\n5.1,3.5,0\n6.0,2.9,1\n";
        let s = every_split(iris, Format::Csv, 1000);
        assert_eq!(s.table, parse_csv(iris).unwrap());
        // A preview of the first two lines cannot see the end: still the header.
        let mut r = TableReader::new(Format::Csv, 1000);
        r.push(&iris[..35]).unwrap();
        assert_eq!(r.finish(false).unwrap().table.class_names, ["setosa", "virginica"]);
        // Three data rows where the header says 2: a plain header row after all.
        let s = read_all(b"2,2,setosa\n5.1,3.5,0\n6.0,2.9,1\n1,1,1\n", Format::Csv).unwrap();
        assert_eq!(s.table.columns, ["2", "2 (2)", "setosa"]);
    }

    #[test]
    fn structural_errors_still_fail_with_their_place() {
        assert_eq!(
            read_all(b"a,b\n1,\"oops\n", Format::Csv).unwrap_err(),
            Error::Parse { source_name: "CSV".into(), line: 2, col: 3, msg: "quote opened here is never closed".into() }
        );
        assert!(matches!(read_all(b"a,b\n\"x\"y,2\n", Format::Csv), Err(Error::Parse { line: 2, col: 4, .. })));
        // A quote that swallows the rest of a big file is stopped at 16 MB.
        let mut big = b"a,b\n1,\"".to_vec();
        big.resize(MAX_RECORD_BYTES + 100, b'x');
        let mut r = TableReader::new(Format::Csv, 10);
        let e = big.chunks(1 << 20).try_for_each(|c| r.push(c)).unwrap_err();
        assert_eq!(e.to_string(), "CSV: line 2, column 3: quote opened here is not closed within 16 MB");
        // A preview may end inside a quote or a UTF-8 sequence: that record is not there yet.
        let mut r = TableReader::new(Format::Csv, 10);
        r.push(b"a,b\n1,2\n3,\"open\xc3").unwrap();
        let s = r.finish(false).unwrap();
        assert_eq!((s.table.rows.len(), s.skipped.len()), (1, 0));
        assert!(matches!(read_all(b"", Format::Csv), Err(Error::Empty(_))));
        // Past the rows kept, the same errors only stop the count: the rows kept are whole.
        let s = every_split(b"a,b\n1,2\n3,4\n5,6\n7,\"open\n8,9\n", Format::Csv, 2);
        assert_eq!((s.table.rows.len(), s.left_out), (2, 1));
        assert_eq!(s.count_stopped.unwrap().to_string(), "CSV: line 5, column 3: quote opened here is never closed");
        let s = every_split(b"a,b\n1,2\n3,4\n\"x\"y,2\n5,6\n", Format::Csv, 1);
        assert_eq!((s.table.rows.len(), s.left_out), (1, 1));
        assert_eq!(s.count_stopped.unwrap().to_string(), "CSV: line 4, column 4: unexpected character after a closing quote");
        let mut r = TableReader::new(Format::Csv, 10);
        r.push(&[0u8; 1000]).unwrap();
        assert_eq!(r.finish(false).unwrap_err().to_string(), "CSV: line 1, column 1: no line ends in the first 1000 bytes read: is this a text file?");
        assert!(matches!(read_all(b"\xef\xbb", Format::Txt), Err(Error::Empty(_)) | Ok(_)));
    }
}
