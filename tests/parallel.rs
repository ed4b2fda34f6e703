//! The parallel analysis gives what one thread gives: the same verdicts, numbered and ordered the
//! same, and the same summary, on every committed fixture, every corpus capture and generated
//! captures of thousands of interleaved connections.
//!
//! An uncompressed pcap or pcapng that can be read at any offset (a file, shared bytes, any
//! `ReadAt`) is read in stretches by several threads at once; the tests from "The stretch path" on
//! read captures in stretches from 1 byte to 64 KiB (`analyze_parallel_in_stretches`), so records
//! span stretches, cut and damaged records fall anywhere in them and IP fragments of one datagram
//! land in different ones; and over sources that read a few bytes at a time, are interrupted, or
//! fail.

use std::collections::HashSet;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use shakedown::capture::{
    CaptureError, CaptureFormat, CaptureReader, Compression, ReadAt, SharedBytes, Truncation,
};
use shakedown::{
    Config, Sink, Summary, Verdict, analyze, analyze_parallel, analyze_parallel_in_stretches,
};
use shakedown_benches::synth::{Format, GenConfig, generate_vec};
use shakedown_tests::flags::{ACK, FIN, PSH, SYN};
use shakedown_tests::{
    PcapBuilder, corpus, files_with_suffix, fixtures, hello_and_answer, tcp_frame, tcp_segment,
};

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
    type Error = std::convert::Infallible;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        self.verdicts.push(verdict);
        Ok(ControlFlow::Continue(()))
    }

    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> Result<ControlFlow<()>, Self::Error> {
        self.runs.push(verdicts.len());
        self.verdicts.extend(verdicts);
        Ok(ControlFlow::Continue(()))
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

// ---------------------------------------------------------------------------------------------
// The stretch path: an uncompressed pcap or pcapng file read in stretches by several threads at
// once (`analyze_parallel_in_stretches`, small stretches to put many boundaries in every capture).

/// How a memory [`ReadAt`] misbehaves.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    /// Reads what is asked.
    None,
    /// Gives 1 to 7 bytes per call (varying with the offset and the call).
    Short,
    /// Each distinct call (offset and length) fails with `Interrupted` once, then is answered.
    Interrupted,
    /// Fails (`ErrorKind::Other`) at and past this offset; a read before it stops there.
    FailFrom(u64),
}

/// A capture in memory read at offsets, as a file is; counts the calls.
struct Mem {
    bytes: Vec<u8>,
    flaw: Flaw,
    calls: AtomicUsize,
    interrupted: Mutex<HashSet<(u64, usize)>>,
}

impl Mem {
    fn new(bytes: &[u8], flaw: Flaw) -> Self {
        Mem {
            bytes: bytes.to_vec(),
            flaw,
            calls: AtomicUsize::new(0),
            interrupted: Mutex::new(HashSet::new()),
        }
    }

    /// Copies at most `max` bytes from `offset` into `buf`.
    fn copy(&self, buf: &mut [u8], offset: u64, max: usize) -> usize {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.bytes.get(o..))
            .unwrap_or(&[]);
        let n = rest.len().min(buf.len()).min(max);
        buf[..n].copy_from_slice(&rest[..n]);
        n
    }
}

impl ReadAt for Mem {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        match self.flaw {
            Flaw::None => Ok(self.copy(buf, offset, usize::MAX)),
            Flaw::Short => {
                let max = 1 + (offset as usize).wrapping_add(call) % 7;
                Ok(self.copy(buf, offset, max))
            }
            Flaw::Interrupted => {
                let first = self
                    .interrupted
                    .lock()
                    .expect("not poisoned")
                    .insert((offset, buf.len()));
                if first {
                    Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
                } else {
                    Ok(self.copy(buf, offset, usize::MAX))
                }
            }
            Flaw::FailFrom(at) if offset >= at => Err(io::Error::other("the disk is on fire")),
            Flaw::FailFrom(at) => Ok(self.copy(buf, offset, (at - offset) as usize)),
        }
    }
}

/// Where the stretch path reads from.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// `CaptureReader::new(bytes).with_read_at(Mem)`.
    Mem(Flaw),
    /// `CaptureReader::from_shared(bytes)`.
    Shared,
}

const FULL_READS: Via = Via::Mem(Flaw::None);

/// What an analysis gave: the verdicts, the summary (but for the buffer peak), and the reader's
/// frames and truncation afterwards.
struct Outcome {
    verdicts: Vec<Verdict>,
    summary: Summary,
    frames_read: u64,
    truncation: Option<Truncation>,
}

fn outcome<R: io::Read>(verdicts: Vec<Verdict>, summary: Summary, r: &CaptureReader<R>) -> Outcome {
    Outcome {
        verdicts,
        summary: comparable(summary),
        frames_read: r.frames_read(),
        truncation: r.truncation().cloned(),
    }
}

/// The single-threaded analysis, after `skip` frames taken from the reader first.
fn single_after(bytes: &[u8], config: &Config, skip: usize) -> Outcome {
    let mut reader = CaptureReader::new(bytes).expect("a capture");
    for _ in 0..skip {
        reader.next_frame().expect("a frame");
    }
    let mut verdicts = Vec::new();
    let summary = analyze(&mut reader, config, &mut verdicts).expect("analysis");
    outcome(verdicts, summary, &reader)
}

fn single(bytes: &[u8], config: &Config) -> Outcome {
    single_after(bytes, config, 0)
}

/// Whether `bytes` is a capture the stretch path reads (an uncompressed pcap or pcapng).
fn plain_capture(bytes: &[u8]) -> bool {
    CaptureReader::new(bytes).is_ok_and(|r| {
        let d = r.description();
        matches!(
            d.format,
            CaptureFormat::Pcap | CaptureFormat::ModifiedPcap | CaptureFormat::PcapNg
        ) && d.compression == Compression::None
    })
}

/// How a run ended: the summary (but for the buffer peak) and the reader's frames and truncation
/// afterwards, or the error.
type Ended = Result<(Summary, u64, Option<Truncation>), CaptureError>;

/// One run of the stretch path into `sink`, after `skip` frames taken from the reader first;
/// also how many times the memory source was read.
fn stretched_into(
    bytes: &[u8],
    config: &Config,
    workers: usize,
    stretch: usize,
    via: Via,
    skip: usize,
    sink: &mut impl Sink<Error = std::convert::Infallible>,
) -> (Ended, usize) {
    fn go<R: io::Read + Send>(
        mut reader: CaptureReader<R>,
        config: &Config,
        workers: usize,
        stretch: usize,
        skip: usize,
        sink: &mut impl Sink<Error = std::convert::Infallible>,
    ) -> Ended {
        for _ in 0..skip {
            reader.next_frame().expect("a frame");
        }
        let summary = analyze_parallel_in_stretches(&mut reader, config, workers, stretch, sink)?;
        Ok((
            comparable(summary),
            reader.frames_read(),
            reader.truncation().cloned(),
        ))
    }
    match via {
        Via::Shared => {
            let shared: SharedBytes = Arc::new(bytes.to_vec());
            let reader = CaptureReader::from_shared(shared).expect("a capture");
            (go(reader, config, workers, stretch, skip, sink), 0)
        }
        Via::Mem(flaw) => {
            let mem = Arc::new(Mem::new(bytes, flaw));
            let reader = CaptureReader::new(bytes)
                .expect("a capture")
                .with_read_at(Arc::clone(&mem) as Arc<dyn ReadAt>);
            let result = go(reader, config, workers, stretch, skip, sink);
            (result, mem.calls.load(Ordering::Relaxed))
        }
    }
}

fn stretched(
    bytes: &[u8],
    config: &Config,
    workers: usize,
    stretch: usize,
    via: Via,
) -> Result<Outcome, CaptureError> {
    stretched_after(bytes, config, workers, stretch, via, 0)
}

fn stretched_after(
    bytes: &[u8],
    config: &Config,
    workers: usize,
    stretch: usize,
    via: Via,
    skip: usize,
) -> Result<Outcome, CaptureError> {
    let mut verdicts = Vec::new();
    let (result, calls) = stretched_into(bytes, config, workers, stretch, via, skip, &mut verdicts);
    if let Via::Mem(_) = via {
        // An uncompressed capture takes the stretch path (it reads at offsets); others the old
        // one.
        let plain = plain_capture(bytes);
        assert_eq!(
            calls > 0,
            plain,
            "{via:?}: read at offsets {calls} times; an uncompressed capture: {plain}"
        );
    }
    result.map(|(summary, frames_read, truncation)| Outcome {
        verdicts,
        summary,
        frames_read,
        truncation,
    })
}

/// Asserts that `got` is what one thread gave.
fn check(name: &str, want: &Outcome, got: Result<Outcome, CaptureError>) {
    let got = got.unwrap_or_else(|e| panic!("{name}: the stretch path failed: {e}"));
    let n = want.verdicts.len().max(got.verdicts.len());
    if let Some(i) = (0..n).find(|&i| want.verdicts.get(i) != got.verdicts.get(i)) {
        panic!(
            "{name}: verdict {i} differs ({} verdicts from one thread, {} in stretches)\n\
             one thread: {:?}\nin stretches: {:?}",
            want.verdicts.len(),
            got.verdicts.len(),
            want.verdicts.get(i),
            got.verdicts.get(i)
        );
    }
    assert_eq!(want.summary, got.summary, "{name}: summary");
    assert_eq!(want.frames_read, got.frames_read, "{name}: frames read");
    assert_eq!(
        want.truncation, got.truncation,
        "{name}: the reader's truncation"
    );
}

/// Compares every stretch size, worker count and source with one thread.
fn check_all(name: &str, bytes: &[u8], config: &Config, sizes: &[usize], vias: &[Via]) -> Outcome {
    let want = single(bytes, config);
    for &stretch in sizes {
        for workers in [2, 3] {
            for &via in vias {
                let got = stretched(bytes, config, workers, stretch, via);
                check(
                    &format!("{name}: stretches of {stretch} bytes, {workers} workers, {via:?}"),
                    &want,
                    got,
                );
            }
        }
    }
    want
}

/// Runs `f` on another thread; fails if it takes longer than `secs` seconds (a hang).
fn bounded<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("{what}: sent nothing yet did not panic"),
        },
    }
}

/// Runs for a capture of `len` bytes, the `nth` compared: stretch sizes from 1 byte (where that
/// stays cheap: every stretch costs a few messages between the threads) to 64 KiB, each with two
/// and three workers, over a memory source and over shared bytes (which takes which varies).
fn runs_for(len: usize, nth: usize) -> Vec<(usize, usize, Via)> {
    let mut sizes = Vec::new();
    if len <= 6 << 10 {
        sizes.push(1);
    } else if len <= 24 << 10 {
        sizes.push([2, 3, 5, 7, 11, 13][nth % 6]);
    }
    if len <= 64 << 10 {
        sizes.push(16);
    }
    sizes.extend([[97, 100, 101][nth % 3], 1000, 4096, 65536]);
    let mut runs = Vec::new();
    for (i, stretch) in sizes.into_iter().enumerate() {
        let (mem, shared) = if (nth + i).is_multiple_of(2) {
            (2, 3)
        } else {
            (3, 2)
        };
        runs.push((stretch, mem, FULL_READS));
        runs.push((stretch, shared, Via::Shared));
    }
    runs
}

/// Every capture under `dir`, read in stretches of many sizes (other formats, which keep the
/// reading thread, with a source attached all the same); returns how many were compared.
fn every_capture_in_stretches(dir: &Path) -> usize {
    let mut compared = 0;
    for path in captures_under(dir) {
        let raw = std::fs::read(&path).expect("readable");
        if CaptureReader::new(&raw[..]).is_err() {
            continue;
        }
        let name = path.display().to_string();
        let config = Config::default();
        let want = single(&raw, &config);
        let runs = if plain_capture(&raw) {
            runs_for(raw.len(), compared)
        } else {
            vec![(1, 2, FULL_READS), (4096, 3, Via::Shared)]
        };
        for (stretch, workers, via) in runs {
            let got = stretched(&raw, &config, workers, stretch, via);
            let run = format!("{name}: stretches of {stretch} bytes, {workers} workers, {via:?}");
            check(&run, &want, got);
        }
        // A file, read at offsets as `open` sets it up.
        let mut reader = shakedown::capture::open(&path).expect("opens");
        let mut verdicts = Vec::new();
        let got = analyze_parallel_in_stretches(&mut reader, &config, 2, 100, &mut verdicts)
            .map_err(CaptureError::from)
            .map(|summary| outcome(verdicts, summary, &reader));
        check(
            &format!("{name}: the file, stretches of 100 bytes"),
            &want,
            got,
        );
        compared += 1;
    }
    compared
}

#[test]
fn every_fixture_read_in_stretches_gives_what_one_thread_gives() {
    let compared = bounded(600, "fixtures in stretches", || {
        every_capture_in_stretches(&fixtures())
    });
    assert!(compared >= 40, "only {compared} fixtures compared");
}

#[test]
fn every_corpus_capture_read_in_stretches_gives_what_one_thread_gives() {
    let Some(dir) = corpus() else {
        eprintln!("corpus absent (SHAKEDOWN_CORPUS): not compared");
        return;
    };
    let compared = bounded(600, "corpus in stretches", move || {
        every_capture_in_stretches(&dir)
    });
    assert!(compared >= 40, "only {compared} corpus captures compared");
}

#[test]
fn a_generated_capture_read_in_stretches_gives_what_one_thread_gives() {
    bounded(600, "generated captures in stretches", || {
        let bytes = generated(21, 3 << 20, Format::Pcap);
        let want = check_all(
            "generated",
            &bytes,
            &Config::default(),
            &[4096, 65536],
            &[FULL_READS, Via::Shared],
        );
        assert!(
            want.verdicts.len() > 100,
            "{} connections",
            want.verdicts.len()
        );
        // Tiny stretches over a part of it.
        let (_, end) = records(&bytes)[2000];
        check_all(
            "generated, first 2 000 records",
            &bytes[..end],
            &Config::default(),
            &[97, 1000],
            &[FULL_READS],
        );
        // The public entry point with its own stretch size, over a source read at offsets.
        let mem = Arc::new(Mem::new(&bytes, Flaw::None));
        let mut reader = CaptureReader::new(&bytes[..])
            .expect("a capture")
            .with_read_at(Arc::clone(&mem) as Arc<dyn ReadAt>);
        let mut verdicts = Vec::new();
        let got = analyze_parallel(&mut reader, &Config::default(), 3, &mut verdicts)
            .map_err(CaptureError::from)
            .map(|summary| outcome(verdicts, summary, &reader));
        check("generated, analyze_parallel", &want, got);
        assert!(
            mem.calls.load(Ordering::Relaxed) > 0,
            "not read in stretches"
        );
        // Idle expiry and verdicts put out of order by the cap, decided across stretches.
        let bytes = generated(22, 2 << 20, Format::Pcap);
        let idle = Config {
            idle_timeout_ns: 50_000_000,
            ..Config::default()
        };
        let want = check_all("short idle timeout", &bytes, &idle, &[4096], &[FULL_READS]);
        assert!(want.summary.expired > 0, "nothing expired");
        let pending = Config {
            max_pending_verdicts: 4,
            ..Config::default()
        };
        let want = check_all(
            "small pending cap",
            &bytes,
            &pending,
            &[4096],
            &[Via::Shared],
        );
        assert!(want.summary.out_of_order > 0, "the cap was never reached");
    });
}

/// Where each record of a plain pcap starts and ends.
fn records(bytes: &[u8]) -> Vec<(usize, usize)> {
    let magic = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
    let (big_endian, header) = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => (false, 16),
        0xd4c3_b2a1 | 0x4d3c_b2a1 => (true, 16),
        0xa1b2_cd34 => (false, 24),
        0x34cd_b2a1 => (true, 24),
        _ => panic!("not a pcap: magic {magic:08x}"),
    };
    let mut out = Vec::new();
    let mut at = 24;
    while at + header <= bytes.len() {
        let field = bytes[at + 8..at + 12].try_into().expect("4 bytes");
        let caplen = if big_endian {
            u32::from_be_bytes(field)
        } else {
            u32::from_le_bytes(field)
        };
        let end = at + header + caplen as usize;
        if end > bytes.len() {
            break;
        }
        out.push((at, end));
        at = end;
    }
    out
}

/// Plain pcaps of several variants: microsecond and nanosecond, the modified format and big-endian
/// (the last two from the corpus, when present).
fn damage_subjects() -> Vec<(String, Vec<u8>)> {
    let mut paths = vec![
        fixtures().join("tls/tls12-ok.pcap"),
        fixtures().join("lower/tls13-loopback-nsec.pcap"),
        fixtures().join("rdp/seed-handshake-failure.pcap"),
    ];
    if let Some(c) = corpus() {
        paths.push(c.join("formats/pcap-parser__modified-format.pcap"));
        paths.push(c.join("formats/arkime__bigendian.pcap"));
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            Some((p.display().to_string(), bytes))
        })
        .collect()
}

#[test]
fn captures_cut_anywhere_read_in_stretches_say_where_as_one_thread_does() {
    bounded(600, "cut captures in stretches", || {
        let mut cut_inside = 0;
        for (name, bytes) in damage_subjects() {
            let mut cuts = Vec::new();
            for (at, end) in records(&bytes) {
                let data = at + record_header(&bytes);
                cuts.extend([
                    at,
                    at + 1,
                    at + 7,
                    data - 1,
                    data,
                    data + 1,
                    (data + end) / 2,
                    end - 1,
                ]);
            }
            cuts.push(bytes.len());
            cuts.retain(|&c| c > 24 && c <= bytes.len());
            cuts.sort_unstable();
            cuts.dedup();
            for (i, &cut) in cuts.iter().enumerate() {
                let part = &bytes[..cut];
                let want = single(part, &Config::default());
                let on_boundary = records(&bytes).iter().any(|&(_, end)| end == cut);
                assert_eq!(
                    want.truncation.is_none(),
                    on_boundary,
                    "{name} cut at {cut}"
                );
                cut_inside += usize::from(!on_boundary);
                // A few hundred stretches at most (tiny ones near the start), then bigger ones.
                let tiny = [1, 3, 7][i % 3].max(cut / 256);
                let (a, b) = if i.is_multiple_of(2) {
                    (FULL_READS, Via::Shared)
                } else {
                    (Via::Shared, FULL_READS)
                };
                for (stretch, workers, via) in
                    [(tiny, 2 + i % 2, a), (64, 3 - i % 2, b), (1000, 2, b)]
                {
                    let got = stretched(part, &Config::default(), workers, stretch, via);
                    let run = format!(
                        "{name} cut at {cut}: stretches of {stretch} bytes, {workers} workers, \
                         {via:?}"
                    );
                    check(&run, &want, got);
                }
            }
        }
        assert!(cut_inside > 100, "only {cut_inside} cuts inside records");
    });
}

/// The size of a record header of the pcap `bytes` (24 in the modified format).
fn record_header(bytes: &[u8]) -> usize {
    match bytes[..4] {
        [0x34, 0xcd, 0xb2, 0xa1] | [0xa1, 0xb2, 0xcd, 0x34] => 24,
        _ => 16,
    }
}

/// Whether the pcap `bytes` is big-endian.
fn big_endian(bytes: &[u8]) -> bool {
    bytes[0] == 0xa1
}

#[test]
fn a_damaged_record_length_read_in_stretches_stops_where_one_thread_stops() {
    bounded(600, "damaged captures in stretches", || {
        let mut damaged = 0;
        for (name, bytes) in damage_subjects() {
            for (r, &(at, end)) in records(&bytes).iter().enumerate() {
                let caplen = (end - at - record_header(&bytes)) as u32;
                // Far too big, just too big, bigger than the rest of the file, empty, inside the
                // next record's header, one byte long.
                for claim in [u32::MAX, 262_145, 200_000, 0, 3, caplen + 1] {
                    let mut bad = bytes.clone();
                    let field = if big_endian(&bytes) {
                        claim.to_be_bytes()
                    } else {
                        claim.to_le_bytes()
                    };
                    bad[at + 8..at + 12].copy_from_slice(&field);
                    let want = single(&bad, &Config::default());
                    damaged += usize::from(want.truncation.is_some());
                    let tiny = [1, 5, 7][r % 3].max(bad.len() / 256);
                    for (stretch, workers, via) in [(tiny, 2, FULL_READS), (100, 3, Via::Shared)] {
                        let got = stretched(&bad, &Config::default(), workers, stretch, via);
                        let run = format!(
                            "{name}, record {} claiming {claim} bytes: stretches of {stretch} \
                             bytes, {workers} workers, {via:?}",
                            r + 1
                        );
                        check(&run, &want, got);
                    }
                }
            }
        }
        assert!(damaged > 100, "only {damaged} damaged captures");
    });
}

#[test]
fn short_reads_and_interrupted_reads_give_what_one_thread_gives() {
    bounded(600, "flawed reads in stretches", || {
        for flaw in [Flaw::Short, Flaw::Interrupted] {
            for path in files_with_suffix(&fixtures(), ".pcap") {
                let bytes = std::fs::read(&path).expect("readable");
                let name = format!("{} ({flaw:?})", path.display());
                let tiny = [1, 7, 13][bytes.len() % 3].max(bytes.len() / 256);
                check_all(
                    &name,
                    &bytes,
                    &Config::default(),
                    &[tiny, 4096],
                    &[Via::Mem(flaw)],
                );
            }
            let bytes = generated(23, 1 << 20, Format::Pcap);
            let name = format!("generated ({flaw:?})");
            check_all(
                &name,
                &bytes,
                &Config::default(),
                &[4096, 65536],
                &[Via::Mem(flaw)],
            );
        }
    });
}

#[test]
fn a_failing_read_ends_the_stretch_path_with_an_error_promptly() {
    let mut subjects = vec![
        (
            "generated".to_string(),
            generated(24, 1 << 20, Format::Pcap),
        ),
        ("fragmented".to_string(), closed_connections(40, true)),
    ];
    for file in ["tls/tls12-ok.pcap", "rdp/nla-ok.pcap"] {
        let bytes = std::fs::read(fixtures().join(file)).expect("readable");
        subjects.push((file.to_string(), bytes));
    }
    for (name, bytes) in subjects {
        let len = bytes.len() as u64;
        let bytes = Arc::new(bytes);
        // Inside the first record's header, further on, the last byte, the end.
        for from in [24, 25, 40, len / 3, len / 2 + 1, len - 1, len] {
            for (stretch, workers) in [(1, 2), (7, 3), (100, 2), (4096, 3), (65536, 2)] {
                if len / stretch as u64 > 20_000 {
                    continue;
                }
                let run = format!(
                    "{name}: reads fail from {from}: stretches of {stretch} bytes, {workers} workers"
                );
                let bytes = Arc::clone(&bytes);
                let result = bounded(60, &run.clone(), move || {
                    let via = Via::Mem(Flaw::FailFrom(from));
                    stretched(&bytes, &Config::default(), workers, stretch, via).map(|o| o.summary)
                });
                match result {
                    Err(CaptureError::Io { source }) => {
                        assert_eq!(source.kind(), io::ErrorKind::Other, "{run}: {source}");
                    }
                    Err(e) => panic!("{run}: another error: {e}"),
                    Ok(summary) => panic!("{run}: no error ({} frames)", summary.frames),
                }
            }
        }
    }
}

/// Reads failing only past a damaged record: the bytes there are not needed, but a stretch read
/// ahead may have met the failure first. Either answer is right (the error, or what one thread
/// says of the damage); nothing else is, nor a hang.
#[test]
fn a_failing_read_past_the_damage_gives_the_error_or_what_one_thread_gives() {
    bounded(600, "failing reads past damage", || {
        let bytes = std::fs::read(fixtures().join("tls/tls12-ok.pcap")).expect("readable");
        let records = records(&bytes);
        let (mut errors, mut answers) = (0, 0);
        for r in [0, 5, records.len() - 1] {
            let (at, end) = records[r];
            let mut bad = bytes.clone();
            bad[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
            let want = single(&bad, &Config::default());
            assert!(want.truncation.is_some());
            // Reading the damaged record's header is needed, the bytes after it are not.
            for from in [end, end + 100, bad.len()] {
                for (stretch, workers) in [(1, 2), (16, 3), (100, 2), (4096, 3)] {
                    let via = Via::Mem(Flaw::FailFrom(from as u64));
                    let run = format!(
                        "record {} damaged, reads fail from {from}: stretches of {stretch} \
                         bytes, {workers} workers",
                        r + 1
                    );
                    match stretched(&bad, &Config::default(), workers, stretch, via) {
                        Err(CaptureError::Io { source }) => {
                            assert_eq!(source.kind(), io::ErrorKind::Other, "{run}: {source}");
                            errors += 1;
                        }
                        got => {
                            check(&run, &want, got);
                            answers += 1;
                        }
                    }
                }
            }
        }
        eprintln!("{errors} errors, {answers} answers as one thread's");
        assert!(answers > 0, "the bytes past the damage were always needed");
    });
}

/// An IPv4 packet; `fragment` is the flags and fragment offset field.
fn ipv4(src: [u8; 4], dst: [u8; 4], id: u16, proto: u8, fragment: u16, body: &[u8]) -> Vec<u8> {
    let total = (20 + body.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&fragment.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(body);
    p
}

fn ethernet(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// How the fragmented connection's packets travel.
#[derive(Clone, Copy, Debug)]
enum Carrier {
    /// IPv4 fragments.
    V4,
    /// IPv6 Fragment headers.
    V6,
    /// IPv4 fragments inside unfragmented IPv4 (IP-in-IP).
    V4InV4,
}

impl Carrier {
    /// Ethernet frames carrying the TCP segment `tcp` (client to server, or back), split into
    /// fragments at `cuts` (multiples of 8; none: one unfragmented packet), in fragment order.
    fn frames(self, from_client: bool, id: u16, tcp: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(tcp.len());
        let whole = cuts.is_empty();
        let flip = |a, b| if from_client { (a, b) } else { (b, a) };
        bounds
            .windows(2)
            .map(|w| {
                let (offset, piece) = (w[0], &tcp[w[0]..w[1]]);
                let more = w[1] < tcp.len();
                let frag = (u16::from(more) << 13) | (offset / 8) as u16;
                match self {
                    Carrier::V4 | Carrier::V4InV4 => {
                        let (src, dst) = flip([10, 0, 0, 1], [10, 0, 0, 2]);
                        let inner = ipv4(src, dst, id, 6, frag, piece);
                        if let Carrier::V4 = self {
                            return ethernet(0x0800, &inner);
                        }
                        let (osrc, odst) = flip([192, 168, 0, 1], [192, 168, 0, 2]);
                        ethernet(0x0800, &ipv4(osrc, odst, id ^ 0x5555, 4, 0x4000, &inner))
                    }
                    Carrier::V6 => {
                        let mut a = [0u8; 16];
                        a[..2].copy_from_slice(&[0xfd, 0]);
                        let (mut src, mut dst) = (a, a);
                        (src[15], dst[15]) = if from_client { (1, 2) } else { (2, 1) };
                        let header = if whole { 0 } else { 8 };
                        let mut p = vec![0x60, 0, 0, 0];
                        p.extend_from_slice(&((header + piece.len()) as u16).to_be_bytes());
                        p.extend_from_slice(&[if whole { 6 } else { 44 }, 64]);
                        p.extend_from_slice(&src);
                        p.extend_from_slice(&dst);
                        if !whole {
                            let field = ((offset / 8) as u16) << 3 | u16::from(more);
                            p.extend_from_slice(&[6, 0]);
                            p.extend_from_slice(&field.to_be_bytes());
                            p.extend_from_slice(&(0x1000_0000 + u32::from(id)).to_be_bytes());
                        }
                        p.extend_from_slice(piece);
                        ethernet(0x86dd, &p)
                    }
                }
            })
            .collect()
    }
}

/// A capture with a TLS handshake (a real ClientHello and the server's fatal alert) whose
/// ClientHello travels in three fragments given out of order (first, last, middle) and the alert in
/// two, with frames of another connection between them; `gap_us` passes between the first and the
/// last fragment of the ClientHello.
fn fragmented_capture(carrier: Carrier, gap_us: i64) -> Vec<u8> {
    let (hello, alert) = hello_and_answer("tls/no-shared-cipher.pcap");
    let mut p = PcapBuilder::new();
    let put = |p: &mut PcapBuilder, frame: &[u8]| {
        p.record(frame, frame.len() as u32);
    };
    let (c, s) = (40_000, 443);
    let (cisn, sisn) = (1_000u32, 5_000u32);
    // The other connection: a handshake and a ClientHello in three segments.
    let (oc, os) = (([10, 0, 0, 3], 40_001), ([10, 0, 0, 4], 443));
    let other: Vec<Vec<u8>> = {
        let mut f = vec![
            tcp_frame(oc, os, 7, 0, SYN, &[], 0),
            tcp_frame(os, oc, 70, 8, SYN | ACK, &[], 0),
            tcp_frame(oc, os, 8, 71, ACK, &[], 0),
        ];
        let mut seq = 8;
        for piece in hello.chunks(hello.len().div_ceil(3)) {
            f.push(tcp_frame(oc, os, seq, 71, ACK | PSH, piece, 0));
            seq += piece.len() as u32;
        }
        f.push(tcp_frame(os, oc, 71, seq, ACK | FIN, &[], 0));
        f
    };
    let mut other = other.into_iter();
    let one = |carrier: Carrier, from_client, tcp: &[u8]| {
        carrier.frames(from_client, 9, tcp, &[]).remove(0)
    };
    put(
        &mut p,
        &one(carrier, true, &tcp_segment((c, s), cisn, 0, SYN, &[])),
    );
    put(&mut p, &other.next().expect("a frame"));
    put(
        &mut p,
        &one(
            carrier,
            false,
            &tcp_segment((s, c), sisn, cisn + 1, SYN | ACK, &[]),
        ),
    );
    put(
        &mut p,
        &one(
            carrier,
            true,
            &tcp_segment((c, s), cisn + 1, sisn + 1, ACK, &[]),
        ),
    );
    put(&mut p, &other.next().expect("a frame"));
    // The ClientHello in three fragments: first, last, middle.
    let tcp = tcp_segment((c, s), cisn + 1, sisn + 1, ACK | PSH, &hello);
    let third = (tcp.len() / 3) & !7;
    let f = carrier.frames(true, 1, &tcp, &[third, 2 * third]);
    put(&mut p, &f[0]);
    put(&mut p, &other.next().expect("a frame"));
    p.advance(gap_us);
    put(&mut p, &f[2]);
    put(&mut p, &other.next().expect("a frame"));
    put(&mut p, &f[1]);
    // The alert in two fragments, in order.
    let after = cisn + 1 + hello.len() as u32;
    let tcp = tcp_segment((s, c), sisn + 1, after, ACK | PSH, &alert);
    let f = carrier.frames(false, 2, &tcp, &[8]);
    put(&mut p, &f[0]);
    for frame in other.by_ref() {
        put(&mut p, &frame);
    }
    put(&mut p, &f[1]);
    let fin = tcp_segment((c, s), after, sisn + 1 + alert.len() as u32, ACK | FIN, &[]);
    put(&mut p, &one(carrier, true, &fin));
    p.bytes().to_vec()
}

/// Compares the stretch path at every stretch size from 0 to 40 bytes and some bigger ones (two
/// and three workers, either source, which varying with the size).
fn check_every_small_size(name: &str, bytes: &[u8], config: &Config) -> Outcome {
    let want = single(bytes, config);
    let combos = [
        (2, FULL_READS),
        (3, Via::Shared),
        (3, FULL_READS),
        (2, Via::Shared),
    ];
    // A stretch of 0 bytes is one of 1.
    let sizes = (0..=40).chain([64, 100, 127, 1000, 4096]);
    for (i, stretch) in sizes.enumerate() {
        let (workers, via) = combos[i % combos.len()];
        let got = stretched(bytes, config, workers, stretch, via);
        let run = format!("{name}: stretches of {stretch} bytes, {workers} workers, {via:?}");
        check(&run, &want, got);
    }
    want
}

#[test]
fn ip_fragments_in_different_stretches_are_put_together_as_one_thread_does() {
    bounded(600, "fragments in stretches", || {
        let cause = {
            let bytes =
                std::fs::read(fixtures().join("tls/no-shared-cipher.pcap")).expect("fixture");
            single(&bytes, &Config::default()).verdicts[0].cause.code
        };
        let (hello, _) = hello_and_answer("tls/no-shared-cipher.pcap");
        for carrier in [Carrier::V4, Carrier::V6, Carrier::V4InV4] {
            // Put together: the ClientHello is seen, and the connection fails as the real one did.
            let bytes = fragmented_capture(carrier, 0);
            let name = format!("{carrier:?} fragments");
            let want = check_every_small_size(&name, &bytes, &Config::default());
            assert_eq!(want.verdicts.len(), 2, "{name}");
            let v = &want.verdicts[0];
            assert_eq!(v.client.port, 40_000, "{name}");
            assert_eq!(v.bytes.client, hello.len() as u64, "{name}: client bytes");
            // SYN, ACK, the ClientHello put together from three fragments, FIN.
            assert_eq!(v.packets.client, 4, "{name}: client packets");
            assert!(
                v.tls.as_ref().is_some_and(|t| t.client_hello.is_some()),
                "{name}"
            );
            assert_eq!(v.cause.code, cause, "{name}");
            assert_eq!(
                want.summary
                    .skipped
                    .get(&shakedown::decode::SkipKind::FragmentHeld),
                Some(&3),
                "{name}"
            );
            // The ClientHello's fragments arrive too far apart: dropped, as by one thread.
            let config = Config {
                fragment_timeout_ns: 1_000_000,
                ..Config::default()
            };
            let bytes = fragmented_capture(carrier, 5_000);
            let name = format!("{carrier:?} fragments, timed out");
            let want = check_every_small_size(&name, &bytes, &config);
            let v = &want.verdicts[0];
            assert!(
                v.tls.as_ref().is_none_or(|t| t.client_hello.is_none()),
                "{name}"
            );
        }
        // Fragments in the corpus, when present.
        if let Some(dir) = corpus() {
            for file in [
                "formats/suricata-verify__frag-ip-tcp-ipv6.pcap",
                "formats/zeek__ipv6-http-atomic-frag.pcap",
            ] {
                let bytes = std::fs::read(dir.join(file)).expect("corpus capture");
                check_every_small_size(file, &bytes, &Config::default());
            }
        }
    });
}

#[test]
fn a_record_bigger_than_a_stretch_spans_several_stretches() {
    bounded(600, "records bigger than stretches", || {
        let (hello, answer) = hello_and_answer("tls/no-shared-cipher.pcap");
        let (c, s) = (([10, 0, 0, 1], 40_000), ([10, 0, 0, 2], 443));
        let mut p = PcapBuilder::new();
        p.tcp(c, s, 1, 0, SYN, &[]);
        p.tcp(s, c, 100, 2, SYN | ACK, &[]);
        p.tcp(c, s, 2, 101, ACK, &[]);
        // One 9 000-byte jumbo frame: the ClientHello, then an application data record.
        let mut jumbo = hello.clone();
        let filler = 9_000 - 54 - hello.len() - 5;
        jumbo.extend_from_slice(&[23, 3, 3]);
        jumbo.extend_from_slice(&(filler as u16).to_be_bytes());
        jumbo.extend((0..filler).map(|i| i as u8));
        p.tcp(c, s, 2, 101, ACK | PSH, &jumbo);
        let after = 2 + jumbo.len() as u32;
        p.tcp(s, c, 101, after, ACK | PSH, &answer);
        p.tcp(c, s, after, 101 + answer.len() as u32, ACK | FIN, &[]);
        let small = p.bytes().to_vec();
        // A 60 000-byte segment of another connection (a record of a few thousand stretches).
        let (oc, os) = (([10, 0, 0, 3], 40_001), ([10, 0, 0, 4], 80));
        p.tcp(oc, os, 1, 0, SYN, &[]);
        p.tcp(os, oc, 100, 2, SYN | ACK, &[]);
        let big: Vec<u8> = (0..60_000).map(|i| b"GET / HTTP/1.1\r\n"[i % 16]).collect();
        p.tcp(oc, os, 2, 101, ACK | PSH, &big);
        p.tcp(oc, os, 60_002, 101, ACK | FIN, &[]);
        let bytes = p.bytes().to_vec();

        let want = check_every_small_size("a 9 000-byte frame", &small, &Config::default());
        let v = &want.verdicts[0];
        assert_eq!(v.bytes.client, jumbo.len() as u64);
        assert!(v.tls.as_ref().is_some_and(|t| t.client_hello.is_some()));
        let want = check_all(
            "a 60 000-byte frame",
            &bytes,
            &Config::default(),
            &[7, 100, 1000, 4096, 9_000, 60_053, 60_054, 65536],
            &[FULL_READS, Via::Shared],
        );
        assert_eq!(want.verdicts.len(), 2);
        assert_eq!(want.verdicts[1].bytes.client, 60_000);
    });
}

/// Connections each closed at once (handshake, FIN both ways), a second apart: each one's verdict
/// is given as it closes, long before the end of the capture. With `fragmented`, each client sends
/// 100 bytes in two IPv4 fragments before closing.
fn closed_connections(n: u16, fragmented: bool) -> Vec<u8> {
    let mut p = PcapBuilder::new();
    for i in 0..n {
        let ports = (10_000 + i, 443);
        let back = (ports.1, ports.0);
        let one = |from_client, tcp: &[u8]| Carrier::V4.frames(from_client, i, tcp, &[]);
        let mut frames = Vec::new();
        frames.extend(one(true, &tcp_segment(ports, 1, 0, SYN, &[])));
        frames.extend(one(false, &tcp_segment(back, 100, 2, SYN | ACK, &[])));
        frames.extend(one(true, &tcp_segment(ports, 2, 101, ACK, &[])));
        let mut seq = 2;
        if fragmented {
            let data = tcp_segment(ports, seq, 101, ACK | PSH, &[0x42; 100]);
            frames.extend(Carrier::V4.frames(true, i, &data, &[64]));
            seq += 100;
        }
        frames.extend(one(true, &tcp_segment(ports, seq, 101, ACK | FIN, &[])));
        frames.extend(one(false, &tcp_segment(back, 101, seq + 1, ACK | FIN, &[])));
        frames.extend(one(true, &tcp_segment(ports, seq + 1, 102, ACK, &[])));
        for frame in frames {
            p.record(&frame, frame.len() as u32);
        }
        p.advance(1_000_000);
    }
    p.bytes().to_vec()
}

#[test]
fn a_sink_that_stops_stops_the_stretch_path_promptly() {
    // Verdicts all held to the end by a long first connection, and verdicts given all along (with
    // IP fragments or without).
    let subjects = [
        (
            "generated",
            generated(25, 4 << 20, Format::Pcap),
            [1000, 4096, 65536],
            vec![1, 10, 90, 180],
        ),
        (
            "closed",
            closed_connections(200, false),
            [1, 7, 100],
            vec![1, 10, 50],
        ),
        (
            "fragmented",
            closed_connections(200, true),
            [1, 7, 100],
            vec![1, 10, 50],
        ),
    ];
    for (name, bytes, sizes, stops) in subjects {
        let bytes = Arc::new(bytes);
        let all = Arc::new(single(&bytes, &Config::default()).verdicts);
        for n in stops {
            assert!(n <= all.len(), "{name}: {} verdicts", all.len());
            for (i, stretch) in sizes.into_iter().enumerate() {
                let (workers, via) = [(2, FULL_READS), (3, Via::Shared), (3, FULL_READS)][i];
                let run = format!(
                    "{name}: stop after {n} verdicts: stretches of {stretch} bytes, {workers} \
                     workers, {via:?}"
                );
                let (bytes, all) = (Arc::clone(&bytes), Arc::clone(&all));
                let what = run.clone();
                bounded(60, &what, move || {
                    let mut few = Few(n, Vec::new());
                    let config = Config::default();
                    let (result, calls) =
                        stretched_into(&bytes, &config, workers, stretch, via, 0, &mut few);
                    result.unwrap_or_else(|e| panic!("{run}: {e}"));
                    assert_eq!(few.1.len(), n, "{run}: verdicts given");
                    assert!(few.1[..] == all[..n], "{run}: not the first verdicts");
                    // Given early, the verdicts stop the reading early (a few stretches ahead).
                    if name != "generated" && n <= 10 && stretch == 1 {
                        let stretches = bytes.len() / stretch;
                        assert!(calls < stretches / 4, "{run}: {calls} reads of {stretches}");
                    }
                });
            }
        }
    }
}

#[test]
fn a_reader_that_gave_some_frames_goes_on_in_stretches_from_there() {
    bounded(600, "reading on in stretches", || {
        let mut subjects = vec![(
            "generated".to_string(),
            generated(26, 1 << 20, Format::Pcap),
        )];
        for file in ["tls/tls12-ok.pcap", "rdp/nla-ok.pcap"] {
            let bytes = std::fs::read(fixtures().join(file)).expect("readable");
            subjects.push((file.to_string(), bytes));
        }
        for (name, bytes) in subjects {
            for skip in [1, 3, 10] {
                let want = single_after(&bytes, &Config::default(), skip);
                let tiny = [1, 7, 13][skip % 3].max(bytes.len() / 512);
                for (stretch, workers, via) in [
                    (tiny, 2, FULL_READS),
                    (100, 3, Via::Shared),
                    (4096, 2, Via::Shared),
                ] {
                    let got =
                        stretched_after(&bytes, &Config::default(), workers, stretch, via, skip);
                    let run = format!(
                        "{name} after {skip} frames: stretches of {stretch} bytes, {workers} \
                         workers, {via:?}"
                    );
                    check(&run, &want, got);
                }
            }
        }
    });
}

#[test]
fn idle_expiry_and_a_clock_going_back_across_stretches_are_as_with_one_thread() {
    bounded(600, "idle expiry in stretches", || {
        // Connections left open, some refused, some closed; the clock jumps ahead and steps back.
        let mut p = PcapBuilder::new();
        for i in 0..60u16 {
            let (c, s) = (([10, 0, 3, 1], 20_000 + i), ([10, 0, 3, 2], 443 + i % 3));
            p.tcp(c, s, 1, 0, SYN, &[]);
            p.tcp(s, c, 100, 2, SYN | ACK, &[]);
            p.tcp(c, s, 2, 101, ACK | PSH, b"\x16\x03\x01");
            if i % 3 == 0 {
                p.tcp(c, s, 5, 101, ACK | FIN, &[]);
            }
            p.advance([30_000, -45_000, 120_000, 7_000, -1_000][usize::from(i) % 5]);
        }
        let bytes = p.bytes().to_vec();
        let config = Config {
            idle_timeout_ns: 50_000_000,
            ..Config::default()
        };
        let want = check_every_small_size("a wandering clock", &bytes, &config);
        assert!(want.summary.expired > 0, "nothing expired");
        assert!(
            want.summary.backwards_timestamps > 0,
            "time never went back"
        );
        // The same on a generated capture's first records, in small stretches.
        let bytes = generated(27, 2 << 20, Format::Pcap);
        let (_, end) = records(&bytes)[2000];
        let want = check_all(
            "generated, idle",
            &bytes[..end],
            &config,
            &[13, 500],
            &[FULL_READS],
        );
        assert!(want.summary.expired > 0, "nothing expired");
    });
}

#[test]
fn many_workers_read_in_stretches_give_what_one_thread_gives() {
    bounded(600, "many workers in stretches", || {
        let mut subjects = vec![("closed".to_string(), closed_connections(40, true))];
        for file in ["tls/tls12-ok.pcap", "rdp/tls-ok-ipv6.pcap"] {
            let bytes = std::fs::read(fixtures().join(file)).expect("readable");
            subjects.push((file.to_string(), bytes));
        }
        subjects.push(("fragments".to_string(), fragmented_capture(Carrier::V4, 0)));
        for (name, bytes) in subjects {
            let want = single(&bytes, &Config::default());
            // More workers than the capture has stretches, too (300: as many as may be, 256).
            let runs = [
                (4, 3),
                (7, 3),
                (16, 3),
                (4, 100),
                (7, 100),
                (16, 4096),
                (300, 4096),
            ];
            for (i, (workers, stretch)) in runs.into_iter().enumerate() {
                {
                    let via = if (i + stretch).is_multiple_of(2) {
                        FULL_READS
                    } else {
                        Via::Shared
                    };
                    let got = stretched(&bytes, &Config::default(), workers, stretch, via);
                    let run =
                        format!("{name}: stretches of {stretch} bytes, {workers} workers, {via:?}");
                    check(&run, &want, got);
                }
            }
        }
    });
}

/// A capture so far holding one SYN from `client` to `server`, stamped 100 s ahead (of what follows,
/// whose clock then steps back).
fn syn_ahead(client: ([u8; 4], u16), server: ([u8; 4], u16)) -> PcapBuilder {
    let mut p = PcapBuilder::new();
    p.advance(100_000_000);
    p.tcp(client, server, 7, 0, SYN, &[]);
    p
}

/// Three frames: one stamped 100 s ahead of the others (a clock that then steps back), and a TCP
/// SYN in two IPv4 fragments 10 µs apart.
fn fragments_after_a_step_back() -> Vec<u8> {
    let mut p = syn_ahead(([10, 0, 0, 3], 40_001), ([10, 0, 0, 4], 443));
    p.advance(-100_000_000 - 10);
    let syn = tcp_segment((40_000, 443), 1, 0, SYN, &[]);
    for frame in Carrier::V4.frames(true, 1, &syn, &[8]) {
        p.record(&frame, frame.len() as u32);
    }
    p.bytes().to_vec()
}

/// The defragmenter drops a datagram whose first fragment is older than the timeout at the time of
/// the frame being decoded: one thread goes by each frame's own time, which may step back, not by
/// the latest time seen. The fragments here are 10 µs apart, 100 s behind an earlier frame.
#[test]
fn ip_fragments_after_the_clock_stepped_back_are_put_together_as_one_thread_does() {
    bounded(600, "fragments after a step back", || {
        let bytes = fragments_after_a_step_back();
        let want = single(&bytes, &Config::default());
        assert_eq!(want.verdicts.len(), 2, "the fragmented SYN is a connection");
        assert!(want.summary.backwards_timestamps > 0);
        check_every_small_size("fragments after a step back", &bytes, &Config::default());
        // The same with a real handshake: its ClientHello in three fragments, the alert in two.
        let p = syn_ahead(([10, 0, 0, 5], 40_002), ([10, 0, 0, 6], 443));
        let mut bytes = p.bytes().to_vec();
        let rest = fragmented_capture(Carrier::V4, 0);
        bytes.extend_from_slice(&rest[24..]);
        let want = single(&bytes, &Config::default());
        // The first connection is the SYN 100 s ahead; the handshake's ClientHello is read whole.
        assert!(
            want.verdicts
                .iter()
                .skip(1)
                .all(|v| v.tls.as_ref().is_some_and(|t| t.client_hello.is_some())),
            "the fragmented ClientHellos are put together"
        );
        check_every_small_size(
            "a handshake in fragments after a step back",
            &bytes,
            &Config::default(),
        );
    });
}

/// Two connections each closed by a FIN each way, the second's FINs stamped a second before the
/// first's last FIN (the clock steps back), then a SYN three seconds in.
fn closes_after_a_step_back() -> Vec<u8> {
    let (a, b) = (([10, 117, 94, 188], 33_026), ([198, 51, 100, 21], 3389));
    let (c, d) = (([10, 74, 63, 15], 33_032), ([198, 51, 100, 27], 8443));
    let mut p = PcapBuilder::new();
    // PcapBuilder moves the clock 10 µs after each record.
    p.tcp(b, a, 1_892_026_466, 3_375_788_997, ACK | FIN, &[]);
    p.advance(1_048_910 - 10);
    p.tcp(a, b, 3_375_788_997, 1_892_026_467, ACK | FIN, &[]);
    p.advance(-1_005_734 - 10);
    p.tcp(d, c, 2_982_090_094, 2_371_841_243, ACK | FIN, &[]);
    p.advance(79 - 10);
    p.tcp(c, d, 2_371_841_243, 2_982_090_095, ACK | FIN, &[]);
    p.advance(2_797_354 - 10);
    p.tcp(
        ([10, 123, 54, 237], 33_027),
        ([198, 51, 100, 18], 443),
        1,
        0,
        SYN,
        &[],
    );
    p.bytes().to_vec()
}

/// Found by the `parallel` fuzz harness, on the reading thread's path as on the stretch path (any
/// stretch size, two workers or more): with a clock that steps back, one thread holds no verdict
/// back for order (`pending_verdicts_peak` 0), several threads hold one (1). Where that reaches
/// `max_pending_verdicts`, verdicts come out in another order than one thread's.
#[test]
fn connections_closed_after_the_clock_stepped_back_are_concluded_as_by_one_thread() {
    bounded(600, "closes after a step back", || {
        let bytes = closes_after_a_step_back();
        let config = Config::default();
        let want = single(&bytes, &config);
        assert!(want.summary.backwards_timestamps > 0);
        for workers in [2, 3] {
            let mut reader = CaptureReader::new(&bytes[..]).expect("a capture");
            let mut verdicts = Vec::new();
            let got = analyze_parallel(&mut reader, &config, workers, &mut verdicts)
                .map_err(CaptureError::from)
                .map(|summary| outcome(verdicts, summary, &reader));
            check(
                &format!("closes after a step back: {workers} workers, one reading thread"),
                &want,
                got,
            );
        }
        check_every_small_size("closes after a step back", &bytes, &config);
    });
}
