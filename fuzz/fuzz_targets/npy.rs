//! `cargo +nightly fuzz run npy`: the body lives in `marginalia::fuzzing::npy`, so the
//! stable test suite replays the corpus through the same code (tests/fuzz_regressions.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marginalia::fuzzing::npy(data));
