//! Helpers of shakedown's benches: a deterministic synthetic capture generator ([`synth`]) that
//! makes inputs of any size, with ground truth, so the benches and the large-capture tests need no
//! shipped captures.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod synth;
