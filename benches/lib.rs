//! Helpers of shakedown's benches: a deterministic synthetic capture generator ([`synth`]) that
//! makes inputs of any size, with ground truth, so the benches and the large-capture tests need no
//! shipped captures.
//!
//! ```text
//! cargo run --release -p shakedown-benches --bin shakedown-gen -- \
//!     --seed 1 --size 1G --format pcapng -o big.pcapng --truth big.truth.jsonl
//! cargo bench -p shakedown-benches                       # SHAKEDOWN_BENCH_MB=100 by default
//! cargo test -p shakedown-benches                        # determinism + analysis vs ground truth
//! cargo test --release -p shakedown-benches -- --ignored # the same at 256 MB (SHAKEDOWN_TRUTH_MB)
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod synth;
