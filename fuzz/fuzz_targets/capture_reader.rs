//! The `capture_reader` target: its input layout and checks are in `shakedown_harness::capture_reader` (shared with the
//! regression tests that replay its findings).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shakedown_harness::capture_reader::run(data);
});
