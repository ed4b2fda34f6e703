//! Differential: the parallel analysis of any capture gives exactly what one thread gives (verdicts,
//! their numbers and order, the summary but for the buffer peak), over a copying reader and over
//! shared bytes. Byte 0 picks the number of workers and small caps on held verdicts and idle time;
//! the rest is a capture file (seeded with the capture_reader corpus).

use std::sync::Arc;

use shakedown::capture::{CaptureReader, SharedBytes};
use shakedown::{Config, Summary, Verdict, analyze, analyze_parallel};

fn comparable(mut s: Summary) -> Summary {
    s.peak_buffered = 0;
    s
}

/// Runs the target on `data`; returns the verdicts given.
pub fn run(data: &[u8]) -> usize {
    let Some((&bits, capture)) = data.split_first() else {
        return 0;
    };
    let workers = 2 + usize::from(bits & 3);
    let mut config = Config::default();
    if bits & 4 != 0 {
        config.max_pending_verdicts = 3;
    }
    if bits & 8 != 0 {
        config.idle_timeout_ns = 2_000_000_000;
    }
    let Ok(mut reader) = CaptureReader::new(capture) else {
        return 0;
    };
    let mut one: Vec<Verdict> = Vec::new();
    let one_summary = analyze(&mut reader, &config, &mut one).map(comparable);

    let Ok(mut reader) = CaptureReader::new(capture) else {
        return 0;
    };
    let mut many: Vec<Verdict> = Vec::new();
    let many_summary = analyze_parallel(&mut reader, &config, workers, &mut many).map(comparable);
    assert!(one == many, "{workers} workers: verdicts differ");
    assert_eq!(one_summary.is_ok(), many_summary.is_ok());
    if let (Ok(a), Ok(b)) = (&one_summary, &many_summary) {
        assert_eq!(a, b, "{workers} workers: summary differs");
    }

    let shared: SharedBytes = Arc::new(capture.to_vec());
    let Ok(mut reader) = CaptureReader::from_shared(shared) else {
        return 0;
    };
    let mut in_place: Vec<Verdict> = Vec::new();
    let _ = analyze_parallel(&mut reader, &config, workers, &mut in_place);
    assert!(
        one == in_place,
        "{workers} workers over shared bytes: verdicts differ"
    );
    one.len()
}
