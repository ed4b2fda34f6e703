//! Helpers of shakedown's benches.
