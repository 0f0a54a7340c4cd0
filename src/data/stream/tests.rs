use super::*;

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

// Whole files in memory ([`parse`]): what was `data::table`'s own reader, same answers.
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
fn the_import_skips_rows_with_the_wrong_width_and_a_strict_read_names_them() {
    let s = read_all(b"a,b\n1,2\n3\n4,5,6\n7,8\n", Format::Csv).unwrap();
    let (t, skipped) = (s.table, s.skipped);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.lines, [2, 5]);
    use SkipReason::Width;
    assert_eq!(
        skipped,
        [Skipped { line: 3, reason: Width { fields: 1, expected: 2 } }, Skipped { line: 4, reason: Width { fields: 3, expected: 2 } }]
    );
    let e = read_all(b"a,b\n1\n2\n", Format::Csv).unwrap_err();
    assert!(e.to_string().contains("every one of its 2 data rows"), "{e}");
    assert_eq!(
        parse_csv(b"a,b\n1,2\n3\n").unwrap_err(),
        Error::Parse { source_name: "CSV".into(), line: 3, col: 1, msg: "1 fields, expected 2 like the header".into() }
    );
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
    // Nested values are left out and the flat ones kept (Prodigy's `meta`, `options`):
    // the line is not lost. A line with nothing flat gives no row (an import lists it).
    let t = parse_jsonl(b"{\"text\": \"hi\", \"meta\": {\"source\": \"x\"}, \"options\": [1], \"answer\": \"accept\"}\n").unwrap();
    assert_eq!(t.columns, ["answer", "text"]);
    assert_eq!(t.rows[0], [Some("accept".into()), Some("hi".into())]);
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
