//! The parallel analysis gives what one thread gives: the same verdicts, numbered and ordered the
//! same, and the same summary, on every committed fixture, every corpus capture and generated
//! captures of thousands of interleaved connections.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shakedown::capture::{CaptureReader, SharedBytes};
use shakedown::{Config, Sink, Summary, Verdict, analyze, analyze_parallel};
use shakedown_benches::synth::{Format, GenConfig, generate_vec};
use shakedown_tests::{corpus, files_with_suffix, fixtures};

fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for suffix in [".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".pcap.zst"] {
        all.extend(files_with_suffix(dir, suffix));
    }
    all.sort();
    all
}

fn run(bytes: &[u8], config: &Config, workers: usize) -> (Vec<Verdict>, Summary) {
    let mut reader = CaptureReader::new(bytes).expect("a capture");
    let mut verdicts = Vec::new();
    let summary = if workers == 0 {
        analyze(&mut reader, config, &mut verdicts)
    } else {
        analyze_parallel(&mut reader, config, workers, &mut verdicts)
    }
    .expect("analysis");
    (verdicts, summary)
}

/// Everything but the buffer peak, which is the sum of the workers' peaks in a parallel run.
fn comparable(mut s: Summary) -> Summary {
    s.peak_buffered = 0;
    s
}

fn assert_same(name: &str, bytes: &[u8], config: &Config) -> (Vec<Verdict>, Summary) {
    let (one, one_summary) = run(bytes, config, 0);
    for workers in [2, 3, 5] {
        let (many, many_summary) = run(bytes, config, workers);
        assert_eq!(
            one.len(),
            many.len(),
            "{name}: {workers} workers: verdict count"
        );
        for (a, b) in one.iter().zip(&many) {
            assert!(
                a == b,
                "{name}: {workers} workers: conn {} differs from the single-threaded verdict \
                 (got conn {}, {} -> {})",
                a.conn,
                b.conn,
                b.client,
                b.server
            );
        }
        assert_eq!(
            comparable(one_summary.clone()),
            comparable(many_summary),
            "{name}: {workers} workers: summary"
        );
    }
    // Over shared bytes, payloads reach the workers as ranges of the capture, not copies.
    let shared: SharedBytes = Arc::new(bytes.to_vec());
    let mut reader = CaptureReader::from_shared(shared).expect("a capture");
    let mut many = Vec::new();
    let summary = analyze_parallel(&mut reader, config, 2, &mut many).expect("analysis");
    assert!(one == many, "{name}: shared bytes: verdicts differ");
    assert_eq!(
        comparable(one_summary.clone()),
        comparable(summary),
        "{name}: shared bytes: summary"
    );
    (one, one_summary)
}

#[test]
fn every_fixture_and_corpus_capture_gives_the_same_verdicts_on_several_threads() {
    let mut dirs = vec![fixtures()];
    match corpus() {
        Some(c) => dirs.push(c),
        None => eprintln!("corpus absent (SHAKEDOWN_CORPUS): only the fixtures are compared"),
    }
    let mut compared = 0;
    for dir in dirs {
        for path in captures_under(&dir) {
            let raw = std::fs::read(&path).expect("readable");
            if CaptureReader::new(&raw[..]).is_err() {
                continue; // Not a capture at all (the error tests cover those).
            }
            assert_same(&path.display().to_string(), &raw, &Config::default());
            compared += 1;
        }
    }
    assert!(compared >= 40, "only {compared} captures compared");
}

fn generated(seed: u64, size: u64, format: Format) -> Vec<u8> {
    generate_vec(&GenConfig { seed, size, format })
}

#[test]
fn generated_captures_give_the_same_verdicts_on_several_threads() {
    for (seed, format) in [(1, Format::Pcap), (7, Format::Pcapng)] {
        let bytes = generated(seed, 6 << 20, format);
        let (verdicts, summary) = assert_same(&format!("seed {seed}"), &bytes, &Config::default());
        assert!(verdicts.len() > 200, "{} connections", verdicts.len());
        assert_eq!(summary.connections, verdicts.len() as u64);
    }
}

#[test]
fn verdicts_put_out_of_order_by_the_cap_are_the_same_on_several_threads() {
    let bytes = generated(3, 4 << 20, Format::Pcap);
    let config = Config {
        max_pending_verdicts: 4,
        ..Config::default()
    };
    let (verdicts, summary) = assert_same("small pending cap", &bytes, &config);
    assert!(summary.out_of_order > 0, "the cap was never reached");
    // Every connection is still reported exactly once.
    let mut conns: Vec<u64> = verdicts.iter().map(|v| v.conn).collect();
    conns.sort_unstable();
    assert!(conns.iter().copied().eq(0..verdicts.len() as u64));
    assert!(
        verdicts.windows(2).any(|w| w[0].conn > w[1].conn),
        "no verdict came out of order"
    );
}

#[test]
fn idle_expiry_happens_at_the_same_frames_on_several_threads() {
    let bytes = generated(11, 3 << 20, Format::Pcapng);
    // A short idle timeout makes expiry decide verdicts all along the capture.
    let config = Config {
        idle_timeout_ns: 50_000_000,
        ..Config::default()
    };
    let (_, summary) = assert_same("short idle timeout", &bytes, &config);
    assert!(summary.expired > 0, "nothing expired");
}

/// Stops after a few verdicts.
struct Few(usize, Vec<Verdict>);

impl Sink for Few {
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()> {
        self.1.push(verdict);
        if self.1.len() >= self.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[test]
fn a_sink_that_stops_stops_every_thread() {
    let bytes = generated(2, 8 << 20, Format::Pcap);
    let (all, _) = run(&bytes, &Config::default(), 0);
    let mut reader = CaptureReader::new(&bytes[..]).expect("a capture");
    let mut few = Few(10, Vec::new());
    analyze_parallel(&mut reader, &Config::default(), 3, &mut few).expect("analysis");
    assert_eq!(few.1.len(), 10);
    assert_eq!(few.1[..], all[..10]);
}

#[test]
fn a_truncated_capture_gives_the_same_verdicts_and_says_where_on_several_threads() {
    let bytes = generated(4, 2 << 20, Format::Pcap);
    let cut = &bytes[..bytes.len() * 2 / 3 + 7];
    let (_, summary) = assert_same("truncated", cut, &Config::default());
    assert!(summary.truncation.is_some());
}

/// Keeps every verdict, and the size of each call that gave several.
#[derive(Default)]
struct Runs {
    verdicts: Vec<Verdict>,
    runs: Vec<usize>,
}

impl Sink for Runs {
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()> {
        self.verdicts.push(verdict);
        ControlFlow::Continue(())
    }

    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> ControlFlow<()> {
        self.runs.push(verdicts.len());
        self.verdicts.extend(verdicts);
        ControlFlow::Continue(())
    }
}

#[test]
fn verdicts_held_for_order_are_given_together_in_order() {
    let bytes = generated(5, 12 << 20, Format::Pcap);
    let (one, _) = run(&bytes, &Config::default(), 0);
    let mut reader = CaptureReader::new(&bytes[..]).expect("a capture");
    let mut runs = Runs::default();
    analyze_parallel(&mut reader, &Config::default(), 2, &mut runs).expect("analysis");
    assert!(
        runs.verdicts == one,
        "the verdicts differ from one thread's"
    );
    assert!(
        runs.runs.iter().all(|&n| n >= 2),
        "a run of one: {:?}",
        runs.runs
    );
    // The generated capture's first connection outlives many others: their verdicts are held,
    // then given at once.
    let longest = runs.runs.iter().copied().max().unwrap_or(0);
    assert!(longest >= 256, "the longest run has {longest} verdicts");
}
