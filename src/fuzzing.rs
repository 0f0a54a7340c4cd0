//! Bodies of the `cargo fuzz` targets in `fuzz/`, one per importer, kept in the crate so
//! that the stable test suite (`tests/fuzz_regressions.rs`) replays the seed corpus and
//! every input a fuzzer ever crashed on through exactly the same code. See docs/FUZZING.md.
//!
//! Each function takes arbitrary bytes, runs them through the importer and then through
//! the featurizers the app applies to what parses, and panics only when a property does
//! not hold: an `Err` from the importer is a correct answer to bad input, a panic is a bug
//! (in wasm it kills the worker). The properties are cheap ones that every parse must
//! satisfy (rows as wide as the header, element counts equal to shape products, feature
//! matrices of the announced shape with finite values, re-encoding gives the input back).
//!
//! Native only: nothing here is needed in the browser build.

use ndarray::Array2;

use crate::data::dataset::{Dataset, FeatureKind};
use crate::data::idx::{self, IdxU8};
use crate::data::npy::parse_npy;
use crate::data::split::stratified;
use crate::data::embeddings::vectors;
use crate::data::stream::{parse, parse_csv, parse_jsonl, parse_lines, parse_tsv, read_all, Format, SkipReason, TableReader};
use crate::data::table::Table;
use crate::data::tabular::TabularEncoder;
use crate::data::text::{terms, TfidfParams};

/// CSV and TSV: the same bytes read strictly ([`parse`]: a row the import would skip is
/// an error) and as the app's import reads them (rows skipped and listed), then read as
/// embedding vectors as the app does for a CSV of vectors.
pub fn csv_tsv(data: &[u8]) {
    if let Ok(t) = parse_csv(data) {
        table(&t);
    }
    if let Ok(t) = parse_tsv(data) {
        table(&t);
    }
    for format in [Format::Csv, Format::Tsv] {
        let strict = parse(data, format);
        let Ok(s) = read_all(data, format) else {
            assert!(strict.is_err(), "the import accepts whatever the strict read does");
            continue;
        };
        let (t, skipped) = (s.table, s.skipped);
        table(&t);
        if let Ok(st) = &strict {
            assert!(skipped.is_empty(), "a file the strict parser accepts has no row to skip");
            assert_eq!((&st.columns, &st.rows), (&t.columns, &t.rows), "both parsers agree on a well-formed file");
        }
        for r in &skipped {
            match r.reason {
                SkipReason::Width { fields, expected } => {
                    assert_ne!(fields, expected, "only rows of the wrong width are skipped for it");
                    assert_eq!(expected, t.columns.len());
                }
                SkipReason::NotUtf8 { offset, .. } => {
                    assert!(std::str::from_utf8(data).is_err(), "a row is skipped as not UTF-8 only in a file that is not");
                    assert!((offset as usize) < data.len() + 1);
                }
                SkipReason::Json(_) => panic!("a JSON reason in a delimited file"),
            }
            assert!(!t.lines.contains(&r.line), "a skipped line is not also a row");
        }
        let cols: Vec<usize> = (0..t.columns.len()).collect();
        if let Ok(x) = vectors(&t, &cols, 0..t.rows.len()) {
            assert_eq!(x.dim(), (t.rows.len(), t.columns.len()));
            assert!(x.iter().all(|v| v.is_finite()), "vectors are finite");
        }
    }
}

/// The streaming reader the app's import uses: the first byte picks the format and the
/// row cap, the next ones where the input is cut into chunks; whatever the cuts, the result
/// (rows, skipped rows and their reasons, rows left out, or the error) is that of the whole
/// input in one chunk, and the rows kept with a cap are the first rows kept without one.
pub fn stream(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else { return };
    let format = [Format::Csv, Format::Tsv, Format::Jsonl, Format::Txt][(head & 3) as usize];
    let cap = 1 + (head >> 2) as usize % 8;
    let (cuts, body) = rest.split_at(rest.len().min(3));
    let read = |chunks: &[&[u8]], cap: usize| {
        let mut r = TableReader::new(format, cap);
        for c in chunks {
            r.push(c)?;
        }
        r.finish(true)
    };
    let whole = read(&[body], cap);
    let mut at: Vec<usize> = cuts.iter().map(|&c| c as usize % (body.len() + 1)).collect();
    at.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for &c in &at {
        chunks.push(&body[prev..c]);
        prev = c;
    }
    chunks.push(&body[prev..]);
    let cut = read(&chunks, cap);
    assert_eq!(format!("{whole:?}"), format!("{cut:?}"), "chunking changes nothing (cuts at {at:?})");
    let all = read(&[body], usize::MAX - 1);
    if let (Ok(capped), Ok(all)) = (&whole, &all) {
        table(&capped.table);
        assert_eq!(all.left_out, 0);
        let n = capped.table.rows.len();
        // JSONL columns come from the rows kept, so only there may the rows differ in width.
        if format != Format::Jsonl {
            assert_eq!(capped.table.rows[..], all.table.rows[..n], "a cap keeps the first rows");
        }
        assert_eq!(
            (n + capped.skipped.len()) as u64 + capped.left_out,
            (all.table.rows.len() + all.skipped.len()) as u64,
            "every row is kept, skipped or counted (the rows past the cap are counted by the fast path)"
        );
    }
}

/// JSON lines.
pub fn jsonl(data: &[u8]) {
    if let Ok(t) = parse_jsonl(data) {
        let mut names = t.columns.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), t.columns.len(), "JSONL columns are the distinct keys");
        table(&t);
    }
}

/// IDX (unsigned bytes). The input is the image file; labels are made up from its bytes
/// so the whole pixel path (scaling, split, selection) runs.
pub fn idx(data: &[u8]) {
    let Ok(images) = idx::parse_u8(data) else { return };
    let count: usize = images.dims.iter().product();
    assert_eq!(images.data.len(), count, "IDX data length is the product of the dimensions");
    // Parsing is exact (no trailing bytes accepted), so re-encoding gives the input back.
    let mut again = vec![0, 0, 8, images.dims.len() as u8];
    for &d in &images.dims {
        again.extend((d as u32).to_be_bytes());
    }
    again.extend(&images.data);
    assert_eq!(again, data, "IDX re-encodes to the same bytes");

    let n = images.dims[0];
    // A real labels file holds one byte per image, so it is never larger than the input
    // here; dims like [4e9, 0] (no data at all) would otherwise make the harness, not the
    // parser, allocate gigabytes.
    if n > data.len() {
        return;
    }
    let labels = IdxU8 { dims: vec![n], data: (0..n).map(|i| images.data.get(i).map_or(0, |v| v % 4)).collect() };
    let Ok(d) = Dataset::from_idx(&images, &labels, FeatureKind::Auto) else { return };
    let width = count.checked_div(n).unwrap_or(0);
    for x in featurize(&d) {
        assert_eq!(x.ncols(), width, "one pixel feature per byte of an image");
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "pixels scale into [0, 1]");
    }
}

/// NumPy .npy.
pub fn npy(data: &[u8]) {
    let Ok((shape, values)) = parse_npy(data) else { return };
    // A zero dimension empties the array whatever the others are (their product may not
    // even fit in usize); otherwise the product fits, since that many values parsed.
    let expected = if shape.contains(&0) { 0 } else { shape.iter().product::<usize>() };
    assert_eq!(values.len(), expected, "NPY element count is the shape product");
    assert!(values.iter().all(|v| v.is_finite()), "NPY values are finite");
    // What the app does with embeddings: one row per entry of the first axis.
    if let Some(&rows) = shape.first() {
        let cols = values.len().checked_div(rows).unwrap_or(0);
        let x = Array2::from_shape_vec((rows, cols), values.clone()).expect("rows × the rest of the shape");
        assert_eq!(x.len(), values.len());
    }
    // np.save of the same array (version 1.0, '<f4') parses back to the same values, bit
    // for bit. Only when the header fits version 1.0's u16 length, as np.save would do.
    if shape.len() <= 1000 {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let again = crate::sim::npy::npy_bytes("<f4", &shape, &raw);
        let (s2, v2) = parse_npy(&again).expect("a file written like np.save parses");
        assert_eq!(s2, shape);
        assert!(v2.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

/// Plain text, one document per line (the text importer), through TF-IDF. The first
/// byte picks `min_df` and `max_features` so small vocabularies get exercised too.
pub fn text(data: &[u8]) {
    let Some((&knob, rest)) = data.split_first() else { return };
    // The app's plain-text importer: one row per non-blank line, in file order.
    if let Ok(t) = parse_lines(rest) {
        assert_eq!(t.columns, ["text"]);
        assert!(t.rows.iter().all(|r| r.len() == 1 && r[0].as_deref().is_some_and(|l| !l.trim().is_empty())));
        assert!(t.lines.windows(2).all(|w| w[0] < w[1]), "rows keep file order");
    } else {
        // A leading byte-order mark is not text (the importer drops it, as editors do).
        let blank = |s: &str| s.strip_prefix('\u{feff}').unwrap_or(s).lines().all(|l| l.trim().is_empty());
        assert!(std::str::from_utf8(rest).map_or(true, blank), "valid UTF-8 with a non-blank line parses");
    }
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let docs: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let min_df = 1 + (knob & 3) as usize;
    let max_features = 1 + (knob >> 2) as usize * 8;
    for d in &docs {
        for t in terms(d) {
            assert!(!t.is_empty() && !t.starts_with(' ') && !t.ends_with(' '), "terms are trimmed words or pairs");
        }
    }
    let Ok(tfidf) = TfidfParams::default().min_df(min_df).max_features(max_features).fit(&docs) else {
        assert!(docs.is_empty(), "TF-IDF fits on any non-empty set of documents");
        return;
    };
    assert!(tfidf.width() <= max_features);
    let x = tfidf.transform(&docs);
    assert_eq!(x.dim(), (docs.len(), tfidf.width()));
    for row in x.rows() {
        assert!(row.iter().all(|v| v.is_finite() && *v >= 0.0), "TF-IDF weights are finite and non-negative");
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(norm == 0.0 || (norm - 1.0).abs() < 1e-4, "rows are L2-normalized or zero, got norm {norm}");
    }
}

/// Checks every parsed table must pass, then the app's two featurizer paths.
fn table(t: &Table) {
    assert!(!t.columns.is_empty() && !t.rows.is_empty(), "a parsed table has columns and rows");
    assert_eq!(t.rows.len(), t.lines.len(), "one source line per row");
    assert!(t.rows.iter().all(|r| r.len() == t.columns.len()), "every row is as wide as the header");
    assert!(t.lines.windows(2).all(|w| w[0] < w[1]), "rows keep file order");

    // The app's TableFeaturizer: every column, fitted and applied on all rows.
    let all: Vec<usize> = (0..t.rows.len()).collect();
    let cols: Vec<usize> = (0..t.columns.len()).collect();
    if let Ok(enc) = TabularEncoder::fit(t, &cols, &all) {
        if let Ok(x) = enc.transform(t, &all) {
            assert_eq!(x.dim(), (all.len(), enc.width()));
            assert!(x.iter().all(|v| v.is_finite()), "tabular features are finite");
        }
    }

    // The simulator's path: the last column as the label, features by `auto`.
    let label = t.columns.last().expect("checked non-empty");
    if let Ok(d) = Dataset::from_table(t.clone(), label, None, FeatureKind::Auto) {
        assert_eq!(d.len(), t.rows.len());
        assert!(d.labels.iter().all(|&l| (l as usize) < d.n_classes()), "labels index the class names");
        featurize(&d);
    }
}

/// Split 3:1 and featurize as the simulator does; check shapes and finiteness. Returns
/// the pool and test matrices that were made.
fn featurize(d: &Dataset) -> Vec<Array2<f32>> {
    let Ok((pool, test)) = stratified(&d.labels, 0.25, 7) else { return Vec::new() };
    assert_eq!(pool.len() + test.len(), d.len(), "a split keeps every row once");
    let Ok((px, tx)) = d.featurize(&pool, &test) else { return Vec::new() };
    assert_eq!((px.nrows(), tx.nrows()), (pool.len(), test.len()));
    assert_eq!(px.ncols(), tx.ncols(), "pool and test features have one width");
    assert!(px.iter().chain(tx.iter()).all(|v| v.is_finite()), "features are finite");
    vec![px, tx]
}
