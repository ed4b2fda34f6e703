//! Differential: the parallel analysis of any capture gives exactly what one thread gives (verdicts,
//! their numbers and order, the summary but for the buffer peak), over a copying reader, over
//! shared bytes, and read in stretches at offsets of a source in memory. Byte 0 picks the number of
//! workers and small caps on held verdicts and idle time (bits 0–3) and the size of the stretches
//! (bits 4–7, from 1 byte to 64 KiB: [`STRETCH_BYTES`]); the rest is a capture file (seeded with
//! the capture_reader corpus).

use std::sync::Arc;

use shakedown::capture::{CaptureReader, ReadAt, SharedBytes};
use shakedown::{
    Config, Summary, Verdict, analyze, analyze_parallel, analyze_parallel_in_stretches,
};

/// The stretch sizes bits 4–7 of byte 0 choose among: tiny ones put many stretch boundaries in a
/// small capture (records span several stretches, fragments fall in different ones).
pub const STRETCH_BYTES: [usize; 16] = [
    1, 2, 3, 5, 7, 11, 16, 24, 40, 64, 100, 127, 256, 1000, 4096, 65536,
];

fn comparable(mut s: Summary) -> Summary {
    s.peak_buffered = 0;
    s
}

/// The capture in memory, read at offsets as a file is.
struct Mem(Vec<u8>);

impl ReadAt for Mem {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.0.get(o..))
            .unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
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
    let stretch = STRETCH_BYTES[usize::from(bits >> 4)];
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

    // Read in stretches (an uncompressed pcap or pcapng; compressed input keeps the one reading
    // thread).
    let Ok(reader) = CaptureReader::new(capture) else {
        return 0;
    };
    let mut reader = reader.with_read_at(Arc::new(Mem(capture.to_vec())));
    let mut stretched: Vec<Verdict> = Vec::new();
    let stretched_summary =
        analyze_parallel_in_stretches(&mut reader, &config, workers, stretch, &mut stretched)
            .map(comparable);
    assert!(
        one == stretched,
        "{workers} workers, stretches of {stretch} bytes: verdicts differ"
    );
    assert_eq!(one_summary.is_ok(), stretched_summary.is_ok());
    if let (Ok(a), Ok(b)) = (&one_summary, &stretched_summary) {
        assert_eq!(
            a, b,
            "{workers} workers, stretches of {stretch} bytes: summary differs"
        );
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
