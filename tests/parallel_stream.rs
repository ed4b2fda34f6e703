//! The parallel analysis of a capture read as a stream — compressed, or from a pipe, whatever its
//! format — gives what one thread gives: one thread cuts the stream into stretches of whole records
//! and the others decode and track them as they do a file's stretches. Here in stretches from 1
//! byte to the default, over readers that give a few bytes at a time, that fail, over gzip streams
//! damaged in the middle (where a decompressor's error depends on how it is read), and with a sink
//! that stops.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use shakedown::capture::{CaptureError, CaptureReader, Truncation};
use shakedown::{
    Config, Sink, Summary, Verdict, analyze, analyze_parallel, analyze_parallel_in_stretches,
};
use shakedown_benches::synth::{Format, GenConfig, generate_vec};
use shakedown_tests::{corpus, files_with_suffix, fixtures};

/// A reader that gives at most `chunk` bytes a call (varying with the call), and fails once
/// `fail_at` bytes were given, as a pipe fed slowly or a failing device does.
struct Pipe<'a> {
    bytes: &'a [u8],
    at: usize,
    chunk: usize,
    calls: usize,
    fail_at: Option<usize>,
}

impl<'a> Pipe<'a> {
    fn new(bytes: &'a [u8], chunk: usize) -> Self {
        Pipe {
            bytes,
            at: 0,
            chunk,
            calls: 0,
            fail_at: None,
        }
    }
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        let mut end = self.bytes.len();
        if let Some(fail) = self.fail_at {
            if self.at >= fail {
                return Err(io::Error::other("the pipe broke"));
            }
            end = end.min(fail);
        }
        let n = buf
            .len()
            .min(end - self.at)
            .min(1 + self.calls % self.chunk.max(1));
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The verdicts, the summary but for the buffer peak (the sum of the shards' peaks in a parallel
/// run), the reader's frames and truncation afterwards, or the error.
type Outcome = (
    Vec<Verdict>,
    Result<(Summary, u64, Option<Truncation>), String>,
);

fn outcome<R: Read>(
    verdicts: Vec<Verdict>,
    result: Result<Summary, CaptureError>,
    reader: &CaptureReader<R>,
) -> Outcome {
    let result = result.map_err(|e| e.to_string()).map(|mut s| {
        s.peak_buffered = 0;
        (s, reader.frames_read(), reader.truncation().cloned())
    });
    (verdicts, result)
}

/// One thread's analysis of what `reader` gives.
fn single<R: Read>(mut reader: CaptureReader<R>, config: &Config) -> Outcome {
    let mut verdicts = Vec::new();
    let result = analyze(&mut reader, config, &mut verdicts).map_err(CaptureError::from);
    outcome(verdicts, result, &reader)
}

/// The parallel analysis of what `reader` gives, read as a stream in stretches of `stretch` bytes.
fn in_stretches<R: Read + Send>(
    mut reader: CaptureReader<R>,
    config: &Config,
    workers: usize,
    stretch: usize,
) -> Outcome {
    let mut verdicts = Vec::new();
    let result =
        analyze_parallel_in_stretches(&mut reader, config, workers, stretch, &mut verdicts)
            .map_err(CaptureError::from);
    outcome(verdicts, result, &reader)
}

fn assert_same(name: &str, want: &Outcome, got: &Outcome) {
    let (want_v, got_v) = (&want.0, &got.0);
    if let Some(i) = (0..want_v.len().max(got_v.len())).find(|&i| want_v.get(i) != got_v.get(i)) {
        panic!(
            "{name}: verdict {i} differs ({} from one thread, {} in stretches)\n\
             one thread: {:?}\nin stretches: {:?}",
            want_v.len(),
            got_v.len(),
            want_v.get(i),
            got_v.get(i)
        );
    }
    assert_eq!(
        want.1, got.1,
        "{name}: summary, frames, truncation or error"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("into memory");
    e.finish().expect("into memory")
}

fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for suffix in [".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".pcap.zst"] {
        all.extend(files_with_suffix(dir, suffix));
    }
    all.sort();
    all
}

/// Every capture under `dir`, read as a stream (a slice: no reading at offsets) in stretches of
/// several sizes and through a reader giving a few bytes at a time; returns how many.
fn every_capture_as_a_stream(dir: &Path) -> usize {
    let config = Config::default();
    let mut compared = 0;
    for path in captures_under(dir) {
        let raw = std::fs::read(&path).expect("readable");
        let Ok(reader) = CaptureReader::new(&raw[..]) else {
            continue; // Not a capture at all (the error tests cover those).
        };
        let name = path.display().to_string();
        let want = single(reader, &config);
        let sizes: &[usize] = if raw.len() <= 64 << 10 {
            &[1, 97, 4096]
        } else {
            &[4096, 1 << 18]
        };
        for (i, &stretch) in sizes.iter().enumerate() {
            let workers = 2 + (compared + i) % 2;
            let reader = CaptureReader::new(&raw[..]).expect("a capture");
            let got = in_stretches(reader, &config, workers, stretch);
            assert_same(
                &format!("{name}: stretches of {stretch} bytes, {workers} workers"),
                &want,
                &got,
            );
        }
        let reader = CaptureReader::new(Pipe::new(&raw, 7)).expect("a capture");
        let got = in_stretches(reader, &config, 2, 1000);
        assert_same(&format!("{name}: a slow pipe"), &want, &got);
        compared += 1;
    }
    compared
}

#[test]
fn every_fixture_read_as_a_stream_in_stretches_gives_what_one_thread_gives() {
    let compared = every_capture_as_a_stream(&fixtures());
    assert!(compared >= 40, "only {compared} fixtures compared");
}

#[test]
fn every_corpus_capture_read_as_a_stream_in_stretches_gives_what_one_thread_gives() {
    let Some(dir) = corpus() else {
        eprintln!("corpus absent (SHAKEDOWN_CORPUS): not compared");
        return;
    };
    let compared = every_capture_as_a_stream(&dir);
    assert!(compared >= 40, "only {compared} corpus captures compared");
}

#[test]
fn a_generated_capture_gzipped_or_piped_gives_what_one_thread_gives() {
    let config = Config {
        idle_timeout_ns: 50_000_000,
        max_pending_verdicts: 4,
        ..Config::default()
    };
    for (seed, format) in [(31, Format::Pcap), (32, Format::Pcapng)] {
        let bytes = generate_vec(&GenConfig {
            seed,
            size: 3 << 20,
            format,
        });
        let want = single(CaptureReader::new(&bytes[..]).expect("a capture"), &config);
        assert!(want.0.len() > 100, "{} connections", want.0.len());
        let Ok((summary, _, _)) = &want.1 else {
            panic!("one thread failed");
        };
        assert!(summary.expired > 0, "nothing expired");
        assert!(
            summary.out_of_order > 0,
            "the pending cap was never reached"
        );
        let gz = gzip(&bytes);
        for (stretch, workers) in [(4096, 2), (65536, 3), (1 << 18, 2)] {
            let name = format!("seed {seed}, stretches of {stretch} bytes, {workers} workers");
            let reader = CaptureReader::new(&gz[..]).expect("a capture");
            let got = in_stretches(reader, &config, workers, stretch);
            assert_same(&format!("{name}, gzip"), &want, &got);
            let reader = CaptureReader::new(Pipe::new(&bytes, 5000)).expect("a capture");
            let got = in_stretches(reader, &config, workers, stretch);
            assert_same(&format!("{name}, a pipe"), &want, &got);
        }
        // The public entry point over a pipe.
        let mut reader = CaptureReader::new(Pipe::new(&gz, 3000)).expect("a capture");
        let mut verdicts = Vec::new();
        let result =
            analyze_parallel(&mut reader, &config, 2, &mut verdicts).map_err(CaptureError::from);
        assert_same(
            "analyze_parallel",
            &want,
            &outcome(verdicts, result, &reader),
        );
    }
}

#[test]
fn a_gzip_stream_damaged_anywhere_ends_where_one_thread_ends() {
    let bytes = generate_vec(&GenConfig {
        seed: 33,
        size: 1 << 20,
        format: Format::Pcap,
    });
    let gz = gzip(&bytes);
    let mut damaged_ends = 0;
    for (i, at) in (1..12).map(|i| gz.len() * i / 12).enumerate() {
        let mut bad = gz.clone();
        bad[at] ^= 0x5a;
        let want = single(
            CaptureReader::new(&bad[..]).expect("a capture"),
            &Config::default(),
        );
        if matches!(&want.1, Ok((_, _, Some(_)))) {
            damaged_ends += 1;
        }
        for stretch in [1000, 1 << 18] {
            let reader = CaptureReader::new(&bad[..]).expect("a capture");
            let got = in_stretches(reader, &Config::default(), 2 + i % 2, stretch);
            assert_same(
                &format!("a byte changed at {at}, stretches of {stretch} bytes"),
                &want,
                &got,
            );
        }
    }
    assert!(damaged_ends > 5, "only {damaged_ends} damaged streams");
}

#[test]
fn a_pipe_that_breaks_ends_with_the_error_after_what_one_thread_gave() {
    let bytes = generate_vec(&GenConfig {
        seed: 34,
        size: 1 << 20,
        format: Format::Pcapng,
    });
    for fail_at in [100, 300_000, 700_001] {
        let pipe = || {
            let mut p = Pipe::new(&bytes, 9000);
            p.fail_at = Some(fail_at);
            p
        };
        let want = single(
            CaptureReader::new(pipe()).expect("a capture"),
            &Config::default(),
        );
        assert!(want.1.is_err(), "the pipe did not break");
        for stretch in [512, 1 << 18] {
            let got = in_stretches(
                CaptureReader::new(pipe()).expect("a capture"),
                &Config::default(),
                2,
                stretch,
            );
            assert_same(&format!("broken at {fail_at}"), &want, &got);
        }
    }
}

/// Stops after a few verdicts.
struct Few(usize, Vec<Verdict>);

impl Sink for Few {
    type Error = std::convert::Infallible;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        self.1.push(verdict);
        Ok(if self.1.len() >= self.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }
}

#[test]
fn a_sink_that_stops_stops_the_stream_and_every_thread() {
    let bytes = generate_vec(&GenConfig {
        seed: 35,
        size: 4 << 20,
        format: Format::Pcap,
    });
    let gz = gzip(&bytes);
    let (all, _) = single(
        CaptureReader::new(&gz[..]).expect("a capture"),
        &Config::default(),
    );
    let mut reader = CaptureReader::new(&gz[..]).expect("a capture");
    let mut few = Few(10, Vec::new());
    analyze_parallel_in_stretches(&mut reader, &Config::default(), 3, 2048, &mut few)
        .expect("analysis");
    assert_eq!(few.1[..], all[..10]);
    // The reader gives nothing more, and stopped long before the end.
    assert!(reader.next_frame().expect("no error").is_none());
    assert!(
        reader.frames_read() < 20_000,
        "{} frames read",
        reader.frames_read()
    );
}
