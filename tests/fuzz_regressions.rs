//! Replays every fuzz seed (fuzz/seeds/<target>/) and every input a fuzzer found a bug
//! with (tests/fixtures/fuzz/<target>/, one file per finding, named after it) through the
//! fuzz targets' own bodies (`marginalia::fuzzing`), on the stable toolchain, so CI keeps
//! each fixed bug fixed without nightly or libFuzzer. See docs/FUZZING.md.

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [root.join("fuzz/seeds").join(target), root.join("tests/fixtures/fuzz").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')) {
            let bytes = std::fs::read(&path).unwrap();
            // A panic names the input that caused it.
            let r = std::panic::catch_unwind(|| body(&bytes));
            assert!(r.is_ok(), "{target}: {} panicked", path.display());
            n += 1;
        }
    }
    assert!(n > 0, "{target}: no seeds found");
}

#[test]
fn csv_tsv() {
    replay("csv_tsv", marginalia::fuzzing::csv_tsv);
}

#[test]
fn jsonl() {
    replay("jsonl", marginalia::fuzzing::jsonl);
}

#[test]
fn idx() {
    replay("idx", marginalia::fuzzing::idx);
}

#[test]
fn npy() {
    replay("npy", marginalia::fuzzing::npy);
}

#[test]
fn text() {
    replay("text", marginalia::fuzzing::text);
}

#[test]
fn stream() {
    replay("stream", marginalia::fuzzing::stream);
}
