//! `cargo +nightly fuzz run stream`: the streaming CSV/TSV/JSONL/text reader cut into chunks
//! at fuzzer-chosen places; the body lives in `marginalia::fuzzing::stream`, so the stable
//! test suite replays the corpus through the same code (tests/fuzz_regressions.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marginalia::fuzzing::stream(data));
