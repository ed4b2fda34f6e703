//! The `keylog` target: its input layout and checks are in `shakedown_harness::keylog` (shared with the
//! regression tests that replay its findings).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shakedown_harness::keylog::run(data);
});
