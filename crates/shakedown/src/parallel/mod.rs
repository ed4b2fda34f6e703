//! One capture on several threads, with the same output as one thread.
//!
//! One scheme for every capture: each of the threads, the calling one among them, takes stretches
//! of the capture (whole records, in capture order), decodes them and tracks one shard of the
//! connections (see [`threads`]). Where the stretches come from depends on the capture:
//!
//! - **An uncompressed pcap or pcapng file that can be read at any offset** (a file from
//!   [`crate::capture::open`], bytes in memory, a [`crate::capture::ReadAt`]): each thread reads
//!   the stretches it takes at their offsets (reading, the most expensive part of a pass over a big
//!   capture, is shared too), and in turn walks their record headers ([`walks`]).
//! - **Anything else** (gzip or zstd, standard input, a pipe): one more thread reads the stream
//!   with the capture reader and cuts it into stretches of whole records, walked, which stay in the
//!   reader's own blocks (shared rather than copied); the threads take them as they are free
//!   ([`cutter`]) and decode and track them as a file's.
//!
//! ```text
//! (a stream: the cutting thread) read, cut, walk ──► stretches
//! every thread (N): take stretch k (a file's: read it, walk it in turn) ── decode ──► shards:
//!   connections, TLS, RDP, verdicts stamped with frames ──► (the calling thread, also) order:
//!   first-packet order, renumbering, the Sink
//! ```
//!
//! A connection's shard is chosen by a hash of its key, the same both ways, and every segment of a
//! connection goes to its shard in capture order (IP fragments are put together by one
//! defragmenter, in capture order). Every shard is told when the capture's clock says idle
//! connections are looked for, at the same frame as a single thread would. Shards stamp what
//! happens with the frame it happened at; the calling thread takes those events in frame order
//! ([`merge`]), so connection numbers, the order of verdicts and the verdicts themselves are those
//! of [`analyze()`](crate::analyze()). Verdicts held back for that order and ready at once (when the connection they
//! waited for ends) go to the sink in one call, [`Sink::verdicts`], so it can work on them in
//! parallel.
//!
//! Payloads are not copied on the way: the blocks a capture is read into are shared with the
//! shards (a shared block is never written again), and a segment carries a range of one
//! ([`batch`]); only payloads put together from IP fragments travel as copies. What is in flight is
//! bounded: no thread takes a stretch more than a few past the slowest shard.
//!
//! Caps that bound memory ([`Config::max_connections`], [`Config::max_total_buffer`]) are split
//! evenly between the shards; when a capture hits them, which connections are evicted or stop being
//! buffered can differ from a single-threaded run (the [`Summary`] says when caps were hit).
//! Protocol events ([`Config::protocol_events`]) are only given by the single-threaded path.
//!
//! Reading a stream in stretches waits for each stretch's bytes; to see each frame as it arrives
//! (a live capture, a slow pipe), use [`analyze()`](crate::analyze()) or a [`crate::Dissector`], which read one
//! record at a time.

use std::io::Read;

mod batch;
mod cutter;
mod decoding;
mod merge;
mod threads;
mod walks;

use crate::analyze::{AnalyzeError, Deliver, Feed, analyze_into};
use crate::capture::{CaptureError, CaptureReader};
use crate::{Config, Sink, Summary};

/// More threads than this are not started (each has its own batches and tables).
pub const MAX_WORKERS: usize = 256;
/// Bytes of a plain file a thread takes at a time: small enough that the kernel's copy of the
/// stretch is still in the core's cache when its frames are parsed (measured on a 1 GB capture,
/// two threads: 256 KiB beat 128 KiB, 512 KiB, 1 MiB and 2 MiB).
const FILE_STRETCH_BYTES: usize = 1 << 18;
/// Bytes of a stream (compressed, a pipe) in one stretch, about (it holds the records of whole
/// blocks of the reader's window, or fewer): its bytes come from another core's cache anyway (the
/// one that read them), and every stretch handed over may wake a thread; 512 KiB still fits a
/// core's L2 cache when it is read through before decoding, and keeps what is in flight (4
/// stretches waiting, a few being decoded and tracked) small: a 1 GB capture at -j2 peaked at
/// 69-74 MiB of RSS piped, 70-71 gzip'd (the reader-thread scheme this replaced: 63-68, 66-67).
const STREAM_STRETCH_BYTES: usize = 1 << 19;

/// Like [`analyze()`](crate::analyze()), with the work shared among `workers` threads (at most [`MAX_WORKERS`]), the
/// calling one among them: each reads and decodes stretches of the capture and tracks the
/// connections whose addresses and ports hash to it (the same both ways); the sink is called on
/// the calling thread. An uncompressed pcap or pcapng capture that `reader` can read at any offset
/// (see [`CaptureReader::with_read_at`]; [`crate::capture::open`] and
/// [`CaptureReader::from_shared`] make such readers) is read there by all the threads at once; any
/// other (compressed, standard input) is read from `reader` by one thread at a time. The verdicts,
/// their numbers and their order are those [`analyze()`](crate::analyze()) gives, every time, and so is the
/// [`Summary`] but for [`Summary::peak_buffered`] (the sum of the shards' peaks). Afterwards
/// `reader` gives no more frames.
///
/// The caps that bound memory, [`Config::max_connections`] and [`Config::max_total_buffer`], are
/// split evenly among the threads: when a capture hits them, which connections are evicted or stop
/// being buffered can differ from [`analyze()`](crate::analyze()) (the summary counts it). With `workers` ≤ 1, or with
/// [`Config::protocol_events`], this is [`analyze()`](crate::analyze()).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::path::Path::new(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../tests/fixtures/lower/many-connections.pcapng"
/// ));
/// let config = shakedown::Config::default();
/// let (mut one, mut two) = (Vec::new(), Vec::new());
/// shakedown::analyze(&mut shakedown::capture::open(path)?, &config, &mut one)?;
/// shakedown::analyze_parallel(&mut shakedown::capture::open(path)?, &config, 2, &mut two)?;
/// assert_eq!(one, two);
/// # Ok(()) }
/// ```
pub fn analyze_parallel<R: Read + Send, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    sink: &mut S,
) -> Result<Summary, AnalyzeError<S::Error>> {
    fed(
        reader,
        config,
        workers,
        (FILE_STRETCH_BYTES, STREAM_STRETCH_BYTES),
        sink,
    )
}

/// [`analyze_parallel`] taking stretches of at most `stretch_bytes` (for tests of the stretch
/// boundaries).
// Reached only with the `unstable` feature (tests and the fuzz harness).
#[cfg_attr(not(feature = "unstable"), allow(dead_code))]
pub fn analyze_parallel_in_stretches<R: Read + Send, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    stretch_bytes: usize,
    sink: &mut S,
) -> Result<Summary, AnalyzeError<S::Error>> {
    fed(
        reader,
        config,
        workers,
        (stretch_bytes, stretch_bytes),
        sink,
    )
}

/// [`in_stretches`] with the sink's error kept aside and given back typed.
fn fed<R: Read + Send, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    sizes: (usize, usize),
    sink: &mut S,
) -> Result<Summary, AnalyzeError<S::Error>> {
    let mut feed = Feed::new(sink);
    let result = in_stretches(reader, config, workers, sizes, &mut feed);
    feed.finish(result)
}

/// [`analyze_parallel`] taking stretches of a file's and a stream's sizes.
fn in_stretches<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    sizes: (usize, usize),
    sink: &mut impl Deliver,
) -> Result<Summary, CaptureError> {
    // The capture's own keys, shared with the reading (whichever thread reads).
    let config = &config.with_embedded_keys(reader);
    if workers <= 1 || config.protocol_events {
        return analyze_into(reader, config, sink);
    }
    let threads = workers.min(MAX_WORKERS);
    let shard_config = Config {
        max_connections: (config.max_connections / threads).max(1),
        max_total_buffer: config.max_total_buffer / threads,
        ..config.clone()
    };
    threads::analyze(reader, sizes, config, &shard_config, threads, sink)
}
