//! `cargo +nightly fuzz run jsonl`: the body lives in `marginalia::fuzzing::jsonl`, so the
//! stable test suite replays the corpus through the same code (tests/fuzz_regressions.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marginalia::fuzzing::jsonl(data));
