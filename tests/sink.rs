//! The `Sink` contract: a sink's error stops the analysis and comes back typed
//! (`AnalyzeError::Sink`), on one thread and on several, for every way a capture is read; a sink
//! that stops without error gets nothing more.

use std::ops::ControlFlow;

use shakedown::capture::CaptureReader;
use shakedown::{AnalyzeError, Config, Sink, Verdict, analyze, analyze_parallel};
use shakedown_benches::synth::{Format, GenConfig, generate_vec};

/// The sink's own error type: which verdict it refused.
#[derive(Debug, PartialEq)]
struct Refused(u64);

/// Takes `take` verdicts, then fails on the next.
struct FailsAfter {
    take: usize,
    got: Vec<Verdict>,
}

impl Sink for FailsAfter {
    type Error = Refused;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Refused> {
        if self.got.len() == self.take {
            return Err(Refused(verdict.conn));
        }
        self.got.push(verdict);
        Ok(ControlFlow::Continue(()))
    }
}

#[test]
fn a_sinks_error_stops_the_analysis_and_comes_back_typed() {
    let bytes = generate_vec(&GenConfig {
        seed: 3,
        size: 4 << 20,
        format: Format::Pcap,
    });
    let mut all: Vec<Verdict> = Vec::new();
    analyze(
        &mut CaptureReader::new(&bytes[..]).expect("a capture"),
        &Config::default(),
        &mut all,
    )
    .expect("analysis");
    assert!(all.len() > 100, "{} connections", all.len());
    for workers in [1, 2, 3] {
        let mut sink = FailsAfter {
            take: 40,
            got: Vec::new(),
        };
        let mut reader = CaptureReader::new(&bytes[..]).expect("a capture");
        let got = analyze_parallel(&mut reader, &Config::default(), workers, &mut sink);
        match got {
            Err(AnalyzeError::Sink(Refused(conn))) => assert_eq!(conn, all[40].conn),
            other => panic!("{workers} workers: {other:?}"),
        }
        assert_eq!(sink.got[..], all[..40], "{workers} workers");
    }
    // Also as a reader of the whole stream (compressed input), where one thread reads.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        enc.write_all(&bytes).expect("in memory");
        enc.finish().expect("in memory");
    }
    let mut sink = FailsAfter {
        take: 7,
        got: Vec::new(),
    };
    let mut reader = CaptureReader::new(&gz[..]).expect("a gzip'd capture");
    let got = analyze_parallel(&mut reader, &Config::default(), 2, &mut sink);
    assert!(matches!(got, Err(AnalyzeError::Sink(Refused(c))) if c == all[7].conn));
    assert_eq!(sink.got[..], all[..7]);
}

#[test]
fn the_error_says_what_the_sink_said() {
    let e: AnalyzeError<std::io::Error> = AnalyzeError::Sink(std::io::Error::from_raw_os_error(28));
    assert!(e.to_string().contains("No space left"), "{e}");
}
