//! Shared helpers of shakedown's scenario, corpus and CLI tests.
