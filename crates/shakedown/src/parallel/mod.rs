//! One capture on several threads, with the same output as one thread.
//!
//! Two ways, by what the capture is:
//!
//! - **An uncompressed pcap or pcapng file that can be read at any offset** (a file from
//!   [`crate::capture::open`], bytes in memory, a [`crate::capture::ReadAt`]): every thread, the
//!   calling one among them, reads and decodes stretches of the file and tracks one shard of the
//!   connections; see [`stretched`]. Reading, the most expensive part of a pass over a big capture,
//!   is shared too.
//! - **Anything else** (compressed, standard input): one reader thread decodes every frame
//!   and hands each TCP segment to a worker thread by its shard:
//!
//! ```text
//! reader thread            worker threads (N)                 calling thread
//! read, count, decode  ──► shard: connections, TLS, RDP,  ──► order: first-packet order,
//! hash the flow key        verdicts, stamped with frames      renumbering, the Sink
//! ```
//!
//! Either way, a connection's shard is chosen by a hash of its key, the same both ways, and every
//! segment of a connection goes to its shard in capture order (IP fragments are put together by one
//! defragmenter, in capture order). Every shard is told when the capture's clock says idle
//! connections are looked for, at the same frame as a single thread would. Shards stamp what
//! happens with the frame it happened at; the calling thread takes those events in frame order, so
//! connection numbers, the order of verdicts and the verdicts themselves are those of [`analyze`](crate::analyze()).
//! Verdicts held back for that order and ready at once (when the connection they waited for ends)
//! go to the sink in one call, [`Sink::verdicts`], so it can work on them in parallel.
//!
//! Payloads are not copied on the way: the blocks the capture is read into are shared with the
//! shards (a shared block is never written again), and a segment carries a range of one; only
//! payloads put together from IP fragments travel as copies. What is in flight is bounded.
//!
//! Caps that bound memory ([`Config::max_connections`], [`Config::max_total_buffer`]) are split
//! evenly between the shards; when a capture hits them, which connections are evicted or stop being
//! buffered can differ from a single-threaded run (the [`Summary`] says when caps were hit).
//! Protocol events ([`Config::protocol_events`]) are only given by the single-threaded path.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

mod stretched;

use crate::analyze::{AnalyzeError, Deliver, Feed, analyze_into};
use crate::capture::{CaptureError, CaptureReader, SharedBytes};
use crate::decode::{Decoded, IpFacts, TcpFlags, TcpSegment};
use crate::dissector::intake::Intake;
use crate::dissector::order::Order;
use crate::dissector::shard::{Shard, ShardEvent, Stamped, Tracking};
use crate::flow::FlowKey;
use crate::verdict::Mark;
use crate::{Config, Event, Sink, Summary};

/// Batches are handed over after this many frames…
const BATCH_FRAMES: usize = 1024;
/// …or this many captured bytes (what the batches hold or keep alive of the reader's blocks), so
/// memory in flight stays bounded whatever the frames' sizes.
const BATCH_BYTES: usize = 1 << 20;
/// More workers than this are not started (each has its own batches and tables).
pub const MAX_WORKERS: usize = 256;
/// A worker tells the calling thread what it found after this many batches (each message may wake
/// that thread, which then shares a core with the reader and the workers).
const BATCHES_PER_OUTPUT: usize = 4;
/// Verdicts given to [`Sink::verdicts`] in one call at most.
const MAX_RUN: usize = 1024;
/// Batches in flight per worker (bounds memory and keeps workers in step).
const BATCHES_IN_FLIGHT: usize = 4;
/// Bytes of an uncompressed capture file a thread reads at a time (see [`stretched`]): small
/// enough that the kernel's copy is still in the core's cache when the frames are parsed (measured
/// on a 1 GB capture, two threads: 256 KiB beat 128 KiB, 512 KiB, 1 MiB and 2 MiB).
pub(crate) const STRETCH_BYTES: usize = 1 << 18;

/// Like [`analyze`](crate::analyze()), with the connections shared among `workers` threads (at most [`MAX_WORKERS`])
/// by a hash of their addresses and ports, the same both ways; the sink is called on the calling
/// thread. An uncompressed pcap or pcapng capture that `reader` can read at any offset (see
/// [`CaptureReader::with_read_at`]; [`crate::capture::open`] and [`CaptureReader::from_shared`]
/// make such readers) is also read and decoded by those threads, the calling one among them; any
/// other capture by one more thread. The verdicts, their numbers and their order are those
/// [`analyze`](crate::analyze()) gives, every time, and so is the [`Summary`] but for [`Summary::peak_buffered`] (the
/// sum of the shards' peaks). Afterwards `reader` gives no more frames.
///
/// The caps that bound memory, [`Config::max_connections`] and [`Config::max_total_buffer`], are
/// split evenly among the workers: when a capture hits them, which connections are evicted or stop
/// being buffered can differ from [`analyze`](crate::analyze()) (the summary counts it). With `workers` ≤ 1, or with
/// [`Config::protocol_events`], this is [`analyze`](crate::analyze()).
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
    analyze_parallel_in_stretches(reader, config, workers, STRETCH_BYTES, sink)
}

/// [`analyze_parallel`] reading stretches of `stretch_bytes` (for tests of the stretch boundaries).
#[doc(hidden)]
pub fn analyze_parallel_in_stretches<R: Read + Send, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    stretch_bytes: usize,
    sink: &mut S,
) -> Result<Summary, AnalyzeError<S::Error>> {
    let mut feed = Feed::new(sink);
    let result = run(reader, config, workers, stretch_bytes, &mut feed);
    feed.finish(result)
}

/// [`analyze_parallel_in_stretches`] giving what it finds to the engine's side of a sink.
fn run<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: usize,
    stretch_bytes: usize,
    sink: &mut impl Deliver,
) -> Result<Summary, CaptureError> {
    // The capture's own keys, shared with the reading (whichever thread reads).
    let config = &config.with_embedded_keys(reader);
    if workers <= 1 || config.protocol_events {
        return analyze_into(reader, config, sink);
    }
    let workers = workers.min(MAX_WORKERS);
    let shard_config = Config {
        max_connections: (config.max_connections / workers).max(1),
        max_total_buffer: config.max_total_buffer / workers,
        ..config.clone()
    };
    if let Some(stretches) = reader.stretches(stretch_bytes) {
        return stretched::analyze(reader, stretches, config, &shard_config, workers, sink);
    }
    let stop = AtomicBool::new(false);
    let reading_from = &mut *reader;
    let (mut summary, failure, merged) = std::thread::scope(|scope| {
        let (results, merger_rx) =
            mpsc::sync_channel::<(usize, Output)>(workers * BATCHES_IN_FLIGHT);
        let (to_workers, recycled) = start_workers(scope, workers, &shard_config, results);
        let stop = &stop;
        let reading = scope.spawn(move || read(reading_from, config, to_workers, recycled, stop));
        let merged = merge(workers, config, merger_rx, sink);
        if merged.stopped {
            stop.store(true, Ordering::Relaxed);
        }
        let (summary, failure) = match reading.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (summary, failure, merged)
    });
    summary.set_tracking(merged.tracking, &merged.order);
    summary.truncation = reader.truncation().cloned();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Starts `workers` workers, each taking batches from the reader and sending what it finds to
/// `results`; returns the senders to them and the receiver of the batches they give back.
fn start_workers<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    workers: usize,
    config: &Config,
    results: SyncSender<(usize, Output)>,
) -> (Vec<SyncSender<Batch>>, Receiver<Batch>) {
    let (recycle, recycled) = mpsc::channel::<Batch>();
    let to_workers = (0..workers)
        .map(|w| {
            let (tx, rx) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
            let (results, recycle, config) = (results.clone(), recycle.clone(), config.clone());
            scope.spawn(move || work(w, config, rx, results, recycle));
            tx
        })
        .collect();
    (to_workers, recycled)
}

/// A TCP segment on its way to a worker, packed small (the worker often reads it from another
/// core's cache; 88 bytes on 64-bit targets): its addresses are its key's, its payload is in the
/// batch (see [`Payload`]).
struct Segment {
    /// The connection's key (worked out once, by the reader, to choose the worker).
    key: FlowKey,
    /// Whether the sender is the key's first endpoint.
    from_lo: bool,
    flags: TcpFlags,
    window: u16,
    seq: u32,
    ack: u32,
    wire_payload_len: u32,
    /// [`IpFacts::hop_limit`].
    hop_limit: u8,
    /// [`IpFacts::id`], which is there exactly when the key's addresses are IPv4 (0 otherwise).
    ip_id: u16,
    at: Mark,
    payload: Payload,
}

/// Where a segment's payload is: `len` bytes from `start` of one of the batch's shares of the
/// reader's blocks (where the frame was read), or of the batch's own bytes (`block` is
/// [`Payload::COPIED`]: put together from IP fragments, so not in the capture's blocks).
///
/// Offsets are 32 bits to keep [`Segment`] small: a payload further than 4 GiB into a block (only
/// in a capture held whole in memory) travels as a copy instead, and a batch's own bytes stay far
/// below that (a batch holds the frames of one stretch or at most [`BATCH_FRAMES`], each giving at
/// most one reassembled datagram of 64 KiB).
#[derive(Clone, Copy)]
struct Payload {
    start: u32,
    len: u32,
    block: u32,
}

impl Payload {
    const COPIED: u32 = u32::MAX;

    /// Whether a payload at `range` of a block can be told as a range of it.
    fn fits(range: &std::ops::Range<usize>) -> bool {
        u32::try_from(range.end).is_ok()
    }

    fn new(block: u32, range: std::ops::Range<usize>) -> Self {
        Payload {
            start: u32::try_from(range.start).unwrap_or(u32::MAX),
            len: u32::try_from(range.len()).unwrap_or(u32::MAX),
            block,
        }
    }
}

enum Item {
    Segment(Segment),
    /// Look for idle connections at capture time `now`, after frame `frame`.
    Expire {
        now: i64,
        frame: u64,
    },
}

/// Work for one worker: every frame up to `through` has been handed out.
#[derive(Default)]
struct Batch {
    items: Vec<Item>,
    bytes: Vec<u8>,
    /// Shares of the reader's blocks, with where each is (address, length).
    blocks: Vec<(SharedBytes, (usize, usize))>,
    through: u64,
}

impl Segment {
    fn of(key: FlowKey, from_lo: bool, seg: &TcpSegment<'_>, at: Mark, payload: Payload) -> Self {
        Segment {
            key,
            from_lo,
            flags: seg.flags,
            window: seg.window,
            seq: seg.seq,
            ack: seg.ack,
            wire_payload_len: seg.wire_payload_len,
            hop_limit: seg.ip.hop_limit,
            ip_id: seg.ip.id.unwrap_or_default(),
            at,
            payload,
        }
    }

    /// The decoded segment again, with its payload.
    fn segment<'p>(&self, payload: &'p [u8]) -> TcpSegment<'p> {
        let (src, dst) = self.key.ends(self.from_lo);
        TcpSegment {
            src: src.ip,
            dst: dst.ip,
            src_port: src.port,
            dst_port: dst.port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            payload,
            wire_payload_len: self.wire_payload_len,
            ip: IpFacts {
                hop_limit: self.hop_limit,
                id: src.ip.is_ipv4().then_some(self.ip_id),
            },
        }
    }
}

impl Batch {
    /// Adds a segment with a copy of its payload.
    fn push_copied(&mut self, key: FlowKey, from_lo: bool, seg: &TcpSegment<'_>, at: Mark) {
        let packed = Segment::of(key, from_lo, seg, at, Payload::new(0, 0..0));
        self.push_bytes(packed, seg.payload);
    }

    /// Adds a segment with a copy of `payload`.
    fn push_bytes(&mut self, mut seg: Segment, payload: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(payload);
        seg.payload = Payload::new(Payload::COPIED, start..self.bytes.len());
        self.items.push(Item::Segment(seg));
    }

    /// Adds a segment whose payload lies in `whole`, the bytes of `block` (at `span` in memory),
    /// as a range of them; or a copy of the payload if it lies elsewhere (put together from IP
    /// fragments, or an empty slice of no frame's) or too far in (see [`Payload`]).
    fn push(
        &mut self,
        key: FlowKey,
        from_lo: bool,
        seg: &TcpSegment<'_>,
        at: Mark,
        whole: &[u8],
        (block, span): (&SharedBytes, (usize, usize)),
    ) {
        let Some(range) = range_within(whole, seg.payload).filter(Payload::fits) else {
            return self.push_copied(key, from_lo, seg, at);
        };
        let payload = Payload::new(self.share(span, || std::sync::Arc::clone(block)), range);
        let seg = Segment::of(key, from_lo, seg, at, payload);
        self.items.push(Item::Segment(seg));
    }

    /// Adds a segment whose payload is `range` of the reader's current block (or a copy of it,
    /// too far in: see [`Payload`]).
    fn push_in_block<R: Read>(
        &mut self,
        mut seg: Segment,
        range: std::ops::Range<usize>,
        reader: &CaptureReader<R>,
    ) {
        if !Payload::fits(&range) {
            let block = reader.share_block();
            return self.push_bytes(seg, (*block).as_ref().get(range).unwrap_or_default());
        }
        seg.payload = Payload::new(
            self.share(reader.block_span(), || reader.share_block()),
            range,
        );
        self.items.push(Item::Segment(seg));
    }

    /// The index in this batch of the block at `span` (address, length), taken from `block` when
    /// the batch does not hold it yet.
    fn share(&mut self, span: (usize, usize), block: impl FnOnce() -> SharedBytes) -> u32 {
        if self.blocks.last().is_none_or(|(_, s)| *s != span) {
            self.blocks.push((block(), span));
        }
        self.blocks.len() as u32 - 1
    }

    /// The bytes of the batch's blocks (looked up once per batch, not per segment: each is behind
    /// a pointer to a trait object).
    fn block_bytes(&self) -> Vec<&[u8]> {
        self.blocks.iter().map(|(b, _)| (**b).as_ref()).collect()
    }
}

impl Payload {
    /// The payload's bytes, given the batch's own bytes and its blocks' (see
    /// [`Batch::block_bytes`]).
    fn of<'b>(self, copied: &'b [u8], blocks: &[&'b [u8]]) -> &'b [u8] {
        let bytes = match self.block {
            Payload::COPIED => copied,
            i => blocks.get(i as usize).copied().unwrap_or_default(),
        };
        let start = self.start as usize;
        start
            .checked_add(self.len as usize)
            .and_then(|end| bytes.get(start..end))
            .unwrap_or_default()
    }
}

/// Every batch's worker looks for idle connections at `now`, after frame `frame`.
fn expire(batches: &mut [Batch], now: i64, frame: u64) {
    for batch in batches {
        batch.items.push(Item::Expire { now, frame });
    }
}

/// The range of `part` within `whole` (by address), if it lies there.
fn range_within(whole: &[u8], part: &[u8]) -> Option<std::ops::Range<usize>> {
    let from = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let to = from.checked_add(part.len())?;
    (to <= whole.len()).then_some(from..to)
}

/// What a worker did with one batch: its events, and how far it got.
struct Output {
    events: Vec<Stamped>,
    through: u64,
    /// Set on the last output, after the end of the capture.
    tracking: Option<Tracking>,
}

/// The reader thread: reads, counts and decodes every frame, hands out segments by flow.
fn read<R: Read>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    workers: Vec<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
    stop: &AtomicBool,
) -> (Summary, Option<CaptureError>) {
    let n = workers.len().max(1);
    let mut intake = Intake::new(config);
    let mut summary = Summary::default();
    let mut batches: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
    let mut frames = 0usize;
    let mut bytes = 0usize;
    let mut last_frame = 0u64;
    let mut failure = None;
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let at = intake.count(&frame, &mut summary);
        last_frame = at.frame;
        bytes = bytes.saturating_add(frame.data.len());
        let frame_at = frame.data.as_ptr() as usize;
        // A payload within the frame is handed out as a range of the reader's block (the frame is
        // a slice of it); one put together from IP fragments is copied.
        let mut in_block = None;
        let skipped = match intake.decoder.decode(&frame) {
            Decoded::Tcp(seg) => {
                let (key, from_lo) = FlowKey::of_sent(&seg);
                let w = share_of(key.spread(), n);
                match range_within(frame.data, seg.payload) {
                    Some(r) => {
                        in_block = Some((
                            w,
                            Segment::of(key, from_lo, &seg, at, Payload::new(0, 0..0)),
                            r,
                        ))
                    }
                    None => {
                        if let Some(batch) = batches.get_mut(w) {
                            batch.push_copied(key, from_lo, &seg, at);
                        }
                    }
                }
                None
            }
            Decoded::Skipped(skip) => Some(skip.kind()),
        };
        Intake::decoded(&mut summary, skipped);
        if let Some((w, seg, r)) = in_block {
            let (block_at, _) = reader.block_span();
            let offset = frame_at.wrapping_sub(block_at);
            let range = r.start.saturating_add(offset)..r.end.saturating_add(offset);
            if let Some(batch) = batches.get_mut(w) {
                batch.push_in_block(seg, range, reader);
            }
        }
        if let Some(now) = intake.expiry_due() {
            expire(&mut batches, now, at.frame);
        }
        frames += 1;
        if frames >= BATCH_FRAMES || bytes >= BATCH_BYTES {
            (frames, bytes) = (0, 0);
            if hand_out(&mut batches, &workers, &recycled, last_frame).is_break()
                || stop.load(Ordering::Relaxed)
            {
                return (summary, failure);
            }
        }
    }
    let _ = hand_out(&mut batches, &workers, &recycled, last_frame);
    (summary, failure)
}

/// The worker (below `n`) a hash maps to: the hash scaled to `0..n` by a multiplication, not a
/// division (a 64-bit division was a tenth of the reader's own time).
fn share_of(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

/// Sends every worker its batch (empty ones too: they say how far the capture has been read).
fn hand_out(
    batches: &mut [Batch],
    workers: &[SyncSender<Batch>],
    recycled: &Receiver<Batch>,
    through: u64,
) -> ControlFlow<()> {
    for (batch, worker) in batches.iter_mut().zip(workers) {
        let fresh = recycled.try_recv().unwrap_or_default();
        let mut full = std::mem::replace(batch, fresh);
        full.through = through;
        if worker.send(full).is_err() {
            // The worker is gone: the analysis was stopped.
            return ControlFlow::Break(());
        }
    }
    ControlFlow::Continue(())
}

/// Hands a batch's segments and looks for idle connections to `shard`, in order, and empties the
/// batch (letting go of the reader's blocks, so they can be reused).
fn apply(shard: &mut Shard, batch: &mut Batch) {
    let blocks = batch.block_bytes();
    // Items are read where they are (moving each out first and reading it back at once stalled
    // the CPU on every address).
    for item in &batch.items {
        match item {
            Item::Segment(s) => {
                let seg = s.segment(s.payload.of(&batch.bytes, &blocks));
                shard.segment_of(s.key, &seg, s.at);
            }
            &Item::Expire { now, frame } => shard.expire(now, frame),
        }
    }
    drop(blocks);
    batch.items.clear();
    batch.bytes.clear();
    batch.blocks.clear();
}

/// A worker thread: the connections of its shard, from the reader's batches (each given back to
/// `recycle` once done).
fn work(
    index: usize,
    config: Config,
    batches: Receiver<Batch>,
    results: SyncSender<(usize, Output)>,
    recycle: Sender<Batch>,
) {
    let mut shard = Shard::new(config);
    let mut events = Vec::new();
    let mut rounds = 0usize;
    for mut batch in batches {
        apply(&mut shard, &mut batch);
        shard.take_events(&mut events);
        let through = batch.through;
        let _ = recycle.send(batch);
        rounds += 1;
        if !rounds.is_multiple_of(BATCHES_PER_OUTPUT) {
            continue;
        }
        let output = Output {
            events: std::mem::take(&mut events),
            through,
            tracking: None,
        };
        if results.send((index, output)).is_err() {
            return;
        }
    }
    shard.finish();
    shard.take_events(&mut events);
    let _ = results.send((
        index,
        Output {
            events,
            through: u64::MAX,
            tracking: Some(shard.tracking()),
        },
    ));
}

/// What the merge found, besides the verdicts it gave the sink.
struct Merged {
    order: Order,
    /// The workers' figures, added up.
    tracking: Tracking,
    stopped: bool,
}

/// The calling thread: takes the workers' events in frame order, numbers the connections by first
/// packet and puts the verdicts out in order.
fn merge(
    workers: usize,
    config: &Config,
    results: Receiver<(usize, Output)>,
    sink: &mut impl Deliver,
) -> Merged {
    let mut merger = Merger::new(workers, config);
    for (w, output) in results.iter() {
        if merger.take(w, output, sink).is_break() {
            return merger.stopped();
        }
    }
    merger.finish(sink)
}

/// Puts the workers' events together, one output at a time (see [`merge`]).
struct Merger {
    queues: Vec<VecDeque<Stamped>>,
    through: Vec<u64>,
    /// Each worker's connection numbers -> the capture's.
    numbers: Vec<HashMap<u64, u64, foldhash::fast::RandomState>>,
    next_number: u64,
    merged: Merged,
    out: VecDeque<Event>,
    frame_events: Vec<(usize, Stamped)>,
    max_pending_verdicts: usize,
}

impl Merger {
    fn new(workers: usize, config: &Config) -> Self {
        Merger {
            queues: (0..workers).map(|_| VecDeque::new()).collect(),
            through: vec![0u64; workers],
            numbers: (0..workers).map(|_| HashMap::default()).collect(),
            next_number: 0,
            merged: Merged {
                order: Order::new(config.verdict_order),
                tracking: Tracking::default(),
                stopped: false,
            },
            out: VecDeque::new(),
            frame_events: Vec::new(),
            max_pending_verdicts: config.max_pending_verdicts,
        }
    }

    /// Takes worker `w`'s output and hands the sink every verdict that is ready;
    /// [`ControlFlow::Break`] when the sink stopped.
    fn take(&mut self, w: usize, output: Output, sink: &mut impl Deliver) -> ControlFlow<()> {
        if let Some(queue) = self.queues.get_mut(w) {
            queue.extend(output.events);
        }
        if let Some(t) = self.through.get_mut(w) {
            *t = output.through;
        }
        if let Some(tracking) = output.tracking {
            self.merged.tracking.add(tracking);
        }
        let complete = self.through.iter().copied().min().unwrap_or(0);
        // Every event of a frame up to `complete` has arrived: take them frame by frame.
        while let Some(frame) = self
            .queues
            .iter()
            .filter_map(|q| q.front().map(|s| s.frame))
            .min()
            .filter(|&f| f <= complete)
        {
            for (w, queue) in self.queues.iter_mut().enumerate() {
                while queue.front().is_some_and(|s| s.frame == frame) {
                    if let Some(s) = queue.pop_front() {
                        self.frame_events.push((w, s));
                    }
                }
            }
            // The frame's own events first, then those of the expiry after it, as one shard
            // would have them.
            self.frame_events.sort_by_key(|(_, s)| s.after_frame);
            for (w, stamped) in self.frame_events.drain(..) {
                let Some(numbers) = self.numbers.get_mut(w) else {
                    continue;
                };
                match stamped.event {
                    ShardEvent::Created(local) => {
                        numbers.insert(local, self.next_number);
                        self.next_number += 1;
                        self.merged.order.created();
                    }
                    ShardEvent::Concluded(mut verdict) => {
                        if let Some(number) = numbers.remove(&verdict.conn) {
                            verdict.conn = number;
                        }
                        self.merged.order.concluded(verdict);
                    }
                }
            }
            self.merged
                .order
                .end_of_frame(self.max_pending_verdicts, &mut self.out);
            deliver(&mut self.out, sink)?;
        }
        ControlFlow::Continue(())
    }

    /// What was merged when the sink stopped.
    fn stopped(mut self) -> Merged {
        self.merged.stopped = true;
        self.merged
    }

    /// Every worker is done: puts out everything left.
    fn finish(mut self, sink: &mut impl Deliver) -> Merged {
        self.merged.order.finish(&mut self.out);
        self.merged.stopped = deliver(&mut self.out, sink).is_break();
        self.merged
    }
}

/// Hands the sink what is ready: a run of two or more verdicts in one call to [`Sink::verdicts`]
/// (at most [`MAX_RUN`] a call, so a long run is not copied out all at once).
fn deliver(out: &mut VecDeque<Event>, sink: &mut impl Deliver) -> ControlFlow<()> {
    while let Some(event) = out.pop_front() {
        let Event::Verdict(first) = event else {
            crate::analyze::deliver(event, sink)?;
            continue;
        };
        if !matches!(out.front(), Some(Event::Verdict(_))) {
            sink.verdict(*first)?;
            continue;
        }
        let mut run = Vec::with_capacity(out.len().min(MAX_RUN));
        run.push(*first);
        while run.len() < MAX_RUN
            && let Some(Event::Verdict(_)) = out.front()
        {
            if let Some(Event::Verdict(v)) = out.pop_front() {
                run.push(*v);
            }
        }
        sink.verdicts(run)?;
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::Timestamp;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_segment_in_flight_stays_88_bytes() {
        assert_eq!(std::mem::size_of::<Segment>(), 88);
        assert_eq!(std::mem::size_of::<Item>(), 88);
        // What does not fit in the 32-bit offsets travels as a copy.
        assert!(Payload::fits(&(0..u32::MAX as usize)));
        assert!(!Payload::fits(&(1..1 << 32)));
    }

    #[test]
    fn a_segment_in_flight_is_the_decoded_one_again() {
        let payload = b"hello";
        let v4 = |a| IpAddr::V4(Ipv4Addr::new(10, 0, 0, a));
        let v6 = |a| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, a));
        for (src, dst, id) in [(v4(2), v4(1), Some(0)), (v4(1), v4(2), Some(0xBEEF))]
            .into_iter()
            .chain([(v6(2), v6(1), None), (v6(1), v6(2), None)])
        {
            let seg = TcpSegment {
                src,
                dst,
                src_port: 40000,
                dst_port: 443,
                seq: 7,
                ack: 9,
                flags: TcpFlags(TcpFlags::PSH | TcpFlags::ACK),
                window: 513,
                payload,
                wire_payload_len: 9,
                ip: IpFacts { hop_limit: 42, id },
            };
            let (key, from_lo) = FlowKey::of_sent(&seg);
            let at = Mark {
                frame: 3,
                ts: Timestamp(4),
            };
            let mut batch = Batch::default();
            batch.push_copied(key, from_lo, &seg, at);
            let Some(Item::Segment(packed)) = batch.items.first() else {
                panic!("no segment");
            };
            let blocks = batch.block_bytes();
            let again = packed.segment(packed.payload.of(&batch.bytes, &blocks));
            assert_eq!(again, seg);
        }
    }

    #[test]
    fn hashes_spread_over_every_worker_and_no_further() {
        for n in [1, 2, 3, 7, 256] {
            let mut seen = vec![0u32; n];
            let mut h = 0x9e37_79b9_7f4a_7c15_u64;
            for _ in 0..10_000 {
                h = h.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                seen[share_of(h, n)] += 1;
            }
            assert!(seen.iter().all(|&c| c > 0), "{n} workers: {seen:?}");
            assert_eq!(share_of(u64::MAX, n), n - 1);
            assert_eq!(share_of(0, n), 0);
        }
    }
}
