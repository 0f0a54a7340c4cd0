//! The byte-level cutting of a stream into records: CSV (RFC 4180 quoting), TSV (a quote
//! is a character), and lines, with UTF-8 validated byte by byte across chunk boundaries.

use super::{Format, MAX_RECORD_BYTES};
use crate::{Error, Result};

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
pub(super) struct RawRecord {
    pub(super) line: usize,
    pub(super) fields: Vec<Vec<u8>>,
    /// The first byte that is not UTF-8: (file offset, column).
    pub(super) bad: Option<(u64, usize)>,
}

/// Cuts bytes into records. `delim: None` cuts lines (JSONL, plain text: `\n` or `\r\n`, as
/// `str::lines`); otherwise delimited records (`\n`, `\r\n` or `\r` end one), with RFC 4180
/// quoting when `quoting`.
pub(super) struct Splitter {
    delim: Option<u8>,
    quoting: bool,
    source: &'static str,
    state: State,
    /// Store field bytes; off once the rows to keep are all read (the rest is counted).
    keep: bool,
    /// Records still to keep; `keep` goes off at the end of the last one.
    pub(super) to_keep: usize,
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
    pub(super) stopped: Option<Error>,
}

impl Splitter {
    pub(super) fn new(format: Format) -> Splitter {
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
    pub(super) fn push(&mut self, chunk: &[u8], out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
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
    pub(super) fn finish(&mut self, complete: bool, out: &mut impl FnMut(RawRecord) -> Result<()>) -> Result<()> {
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
