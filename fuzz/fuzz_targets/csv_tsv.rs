//! `cargo +nightly fuzz run csv_tsv`: the body lives in `marginalia::fuzzing::csv_tsv`, so the
//! stable test suite replays the corpus through the same code (tests/fuzz_regressions.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marginalia::fuzzing::csv_tsv(data));
