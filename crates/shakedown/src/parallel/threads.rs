//! The threads of a parallel analysis: each of them takes stretches of the capture, decodes them
//! and tracks one shard of the connections; the calling thread is one of them and also puts the
//! verdicts out in order.
//!
//! ```text
//! thread i (of N; the calling thread is thread 0)
//!   take the next stretch k: a file's read at its offset, its record headers walked in turn;
//!                            a stream's from the thread that cuts it (see [`super::cutter`])
//!   ── decode its frames ── segments of shard i: kept; of shard j: sent to thread j
//!   take shard i's batches in stretch order ── connections, TLS, RDP, verdicts
//!   (thread 0) events of every shard in frame order ── the Sink
//! ```
//!
//! A stretch of a plain file ([`crate::capture`]'s stretches) holds the records that *start*
//! within a fixed number of bytes. The thread that claims one
//!
//! 1. reads its bytes at their offset (before its turn; the copy lands in the cache of the core
//!    that then parses it);
//! 2. **in turn** (after the stretch before): walks the record headers from where the stretch
//!    before left off, numbers the frames and runs the capture's clock over them (which frames are
//!    followed by a look for idle connections); this holds the turn for a moment only.
//!
//! A stream's stretches come walked that way from the thread that cuts them. Then the thread
//!
//! 3. decodes the stretch's frames without any shared state and puts every TCP segment in the
//!    batch of the shard its connection hashes to, as a range of the stretch's bytes;
//! 4. only if the stretch holds an IP fragment: waits until every stretch before has been decoded,
//!    then decodes the rest of the stretch with the one defragmenter, in capture order (so
//!    fragments meet across stretches, and the caps and timeouts act as with one reader).
//!
//! Each shard takes its batches in stretch order, so it sees its segments, and the looks for idle
//! connections, in capture order: the verdicts are those of [`crate::analyze()`]. Threads take
//! stretches as they are free, so one busy putting verdicts out decodes less; none takes one more
//! than [`AHEAD`] stretches past the slowest shard, which bounds the memory in flight.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::analyze::Deliver;
use crate::capture::{
    CaptureError, CaptureReader, Ending, Fetched, FrameMeta, Resume, StreamStretches, Walking,
};
use crate::dissector::shard::{Shard, Stamped};
use crate::{Config, Summary};

use super::batch::{Batch, apply};
use super::cutter::{self, CutStretch, Cuts, Taken};
use super::decoding::{FragmentTurn, Stretch};
use super::merge::{Merger, ShardOutput};
use super::walks::{Turn, Walked, Walks, tick};

/// Stretches a thread may take past the slowest shard's next one.
const AHEAD: u64 = 8;
/// Stretch buffers, and emptied batches, a thread keeps for reuse.
const SPARE_STRETCHES: usize = 2 * AHEAD as usize;
/// A shard tells the calling thread what it found after this many batches (each message may wake
/// that thread).
const BATCHES_PER_OUTPUT: usize = 4;
/// "Not known yet", for [`Crew::last`].
const UNKNOWN: u64 = u64::MAX;

/// What threads send each other.
enum Message {
    /// Stretch `k`'s batch for the receiving thread's shard.
    Batch(u64, Batch),
    /// What a shard found, for the calling thread.
    Output(usize, ShardOutput),
    /// Look again: a stretch may be taken, or everything stops.
    Wake,
}

/// Where the threads take stretches from.
enum Source<'a> {
    /// A plain file, whose stretches every thread reads at their offsets and walks in turn.
    File(Walks<'a>),
    /// A stream, cut into stretches by one more thread.
    Stream(Cuts),
}

/// What the threads of one analysis share: where stretches come from, the stretches taken, the
/// turns, the shards' progress and the threads' inboxes.
pub(super) struct Crew<'a> {
    source: Source<'a>,
    /// The next stretch of a file to claim.
    claim: AtomicU64,
    /// The stretch in which reading ended, once known.
    pub(super) last: AtomicU64,
    /// For each shard, the next stretch it waits for.
    progress: Vec<AtomicU64>,
    /// For each thread, whether it waits for a stretch it may take (none is ready, or the next
    /// is too far ahead of the slowest shard).
    idle: Vec<AtomicBool>,
    inboxes: Vec<Sender<Message>>,
    fragments: FragmentTurn,
    stop: AtomicBool,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Crew<'_> {
    /// Stops every thread, also those waiting for a turn, for room or for a message.
    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        match &self.source {
            Source::File(walks) => walks.halt(),
            Source::Stream(cuts) => cuts.halt(),
        }
        self.fragments.halt();
        for inbox in &self.inboxes {
            let _ = inbox.send(Message::Wake);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Wakes the threads waiting for a stretch they may take, but for thread `except`.
    pub(super) fn wake_idle(&self, except: Option<usize>) {
        for (j, idle) in self.idle.iter().enumerate() {
            if Some(j) != except && idle.swap(false, Ordering::SeqCst) {
                let _ = self.inboxes[j].send(Message::Wake);
            }
        }
    }

    /// Whether a stretch may be taken now (or there is none left to take).
    fn takeable(&self) -> bool {
        match &self.source {
            Source::File(_) => self.may_take(self.claim.load(Ordering::SeqCst)),
            Source::Stream(cuts) => cuts.takeable(|k| self.may_take(k)),
        }
    }

    /// Whether stretch `k` may be taken now: not too far past the slowest shard.
    fn may_take(&self, k: u64) -> bool {
        let slowest = self
            .progress
            .iter()
            .map(|p| p.load(Ordering::SeqCst))
            .min()
            .unwrap_or(0);
        k < slowest.saturating_add(AHEAD)
    }
}

/// Halts every thread if this one panics, so that none waits forever.
struct HaltOnPanic<'c, 'a>(&'c Crew<'a>);

impl Drop for HaltOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

/// What the threads found, once they are done.
struct Finished {
    /// What the record headers and decoding counted, and what the shards tracked.
    summary: Summary,
    /// How reading ended.
    end: Option<Ending>,
    /// A file's: where the records not read begin, and how the last walk left them.
    at_offsets: Option<(Resume, Walking)>,
}

/// Analyses what is left of `reader`'s capture on `threads` threads, the calling one among them,
/// each tracking one shard of the connections (with `shard_config`): a plain file that can be
/// read at offsets in stretches of `file_bytes` ([`CaptureReader::stretches`]), anything else cut
/// from the stream by one more thread in stretches of `stream_bytes` ([`StreamStretches`]).
pub(super) fn analyze<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    (file_bytes, stream_bytes): (usize, usize),
    config: &Config,
    shard_config: &Config,
    threads: usize,
    sink: &mut impl Deliver,
) -> Result<Summary, CaptureError> {
    let finished = match reader.stretches(file_bytes) {
        Some(stretches) => {
            let source = Source::File(Walks::new(&stretches));
            run(source, None, config, shard_config, threads, sink)
        }
        None => {
            let stream = StreamStretches::new(&mut *reader, stream_bytes);
            let source = Source::Stream(Cuts::default());
            run(source, Some(stream), config, shard_config, threads, sink)
        }
    };
    let mut summary = finished.summary;
    let (truncation, failure) = match finished.end {
        Some(Ending::Damaged(t)) => (Some(t), None),
        Some(Ending::Failed(e)) => (None, Some(e)),
        Some(Ending::Clean) | None => (None, None),
    };
    match finished.at_offsets {
        Some((at, walking)) => reader.read_elsewhere(at, truncation, walking),
        // The reader read the stream itself, and knows how it ended.
        None => reader.stop_reading(),
    }
    summary.truncation = reader.truncation().cloned();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Runs the threads over the stretches of `source` (a stream's cut by one more thread from
/// `stream`).
fn run(
    source: Source<'_>,
    stream: Option<StreamStretches<'_>>,
    config: &Config,
    shard_config: &Config,
    threads: usize,
    sink: &mut impl Deliver,
) -> Finished {
    let (inboxes, mut receivers): (Vec<_>, Vec<_>) = (0..threads).map(|_| mpsc::channel()).unzip();
    let crew = Crew {
        source,
        claim: AtomicU64::new(0),
        last: AtomicU64::new(UNKNOWN),
        progress: (0..threads).map(|_| AtomicU64::new(0)).collect(),
        idle: (0..threads).map(|_| AtomicBool::new(false)).collect(),
        inboxes,
        fragments: FragmentTurn::new(config),
        stop: AtomicBool::new(false),
    };
    let first = receivers.remove(0);
    let (decoded, merged, cut) = std::thread::scope(|scope| {
        let crew = &crew;
        let cutting = match (&crew.source, stream) {
            (Source::Stream(cuts), Some(stream)) => Some(scope.spawn(move || {
                let _halt = HaltOnPanic(crew);
                cutter::cut(crew, cuts, stream)
            })),
            _ => None,
        };
        let others: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(i, inbox)| {
                let config = shard_config.clone();
                scope.spawn(move || {
                    let _halt = HaltOnPanic(crew);
                    let mut worker = Worker::new(i + 1, crew, inbox, config);
                    let to = &crew.inboxes[0];
                    let _ = worker.run(&mut |w, output| {
                        to.send(Message::Output(w, output))
                            .map_or(ControlFlow::Break(()), |_| ControlFlow::Continue(()))
                    });
                    worker.decoded
                })
            })
            .collect();
        let _halt = HaltOnPanic(crew);
        let mut merger = Merger::new(threads, config);
        let mut worker = Worker::new(0, crew, first, shard_config.clone());
        let finals = std::cell::Cell::new(0usize);
        let mut emit = |w: usize, output: ShardOutput| {
            finals.set(finals.get() + usize::from(output.tracking.is_some()));
            merger.take(w, output, sink)
        };
        let mut ran = worker.run(&mut emit);
        // The other shards' last outputs.
        while ran.is_continue() && finals.get() < threads {
            match worker.inbox.recv() {
                Ok(Message::Output(w, output)) => ran = emit(w, output),
                Ok(_) if crew.stopped() => ran = ControlFlow::Break(()),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let merged = if ran.is_break() {
            crew.halt();
            merger.stopped()
        } else {
            merger.finish(sink)
        };
        let mut decoded = std::mem::take(&mut worker.decoded);
        for other in others {
            match other.join() {
                Ok(s) => add_decoded(&mut decoded, s),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        let cut = cutting.map(|c| match c.join() {
            Ok(walked) => walked,
            Err(panic) => std::panic::resume_unwind(panic),
        });
        (decoded, merged, cut)
    });
    let walked = match (crew.source, cut) {
        (Source::File(walks), _) => walks.finish(),
        (Source::Stream(_), Some(cut)) => cut,
        // No thread cut the stream.
        (Source::Stream(_), None) => Walked {
            headers: Summary::default(),
            end: None,
            next: None,
        },
    };
    let mut summary = walked.headers;
    add_decoded(&mut summary, decoded);
    summary.set_tracking(merged.tracking, &merged.order);
    Finished {
        summary,
        end: walked.end,
        at_offsets: walked.next,
    }
}

/// Adds what decoding counted (segments, skips) to `into`.
fn add_decoded(into: &mut Summary, from: Summary) {
    into.tcp_segments += from.tcp_segments;
    for (kind, n) in from.skipped {
        *into.skipped.entry(kind).or_insert(0) += n;
    }
}

/// Where a shard's output goes: the calling thread's merge, or a message to it.
type Emit<'e> = dyn FnMut(usize, ShardOutput) -> ControlFlow<()> + 'e;

/// One of the analysis's threads: its shard, and what it keeps for decoding stretches.
struct Worker<'c, 'a> {
    index: usize,
    crew: &'c Crew<'a>,
    inbox: Receiver<Message>,
    shard: Shard,
    /// The next stretch whose batch the shard takes.
    next: u64,
    /// Batches that came before their turn.
    pending: BTreeMap<u64, Batch>,
    events: Vec<Stamped>,
    rounds: usize,
    /// Whether stretches may still be taken.
    taking: bool,
    /// This stretch's batches, one per shard.
    batches: Vec<Batch>,
    /// Emptied batches, for reuse.
    free: Vec<Batch>,
    records: Vec<FrameMeta>,
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    expiries: Vec<(usize, i64)>,
    /// Buffers a file's stretches were read into, for reuse.
    spare: Vec<Arc<Vec<u8>>>,
    /// What decoding counted.
    decoded: Summary,
}

/// What trying to take a stretch gave.
enum Taking {
    /// A stretch was taken (or another thread claimed it first): look again.
    Again,
    /// None may be taken now: none is ready, or the next is too far ahead of the slowest shard.
    NotNow,
    /// Reading has ended.
    Ended,
    /// The sink stopped.
    Stop,
}

impl<'c, 'a> Worker<'c, 'a> {
    fn new(index: usize, crew: &'c Crew<'a>, inbox: Receiver<Message>, config: Config) -> Self {
        let n = crew.inboxes.len();
        Worker {
            index,
            crew,
            inbox,
            shard: Shard::new(config),
            next: 0,
            pending: BTreeMap::new(),
            events: Vec::new(),
            rounds: 0,
            taking: true,
            batches: (0..n).map(|_| Batch::default()).collect(),
            free: Vec::new(),
            records: Vec::new(),
            expiries: Vec::new(),
            spare: Vec::new(),
            decoded: Summary::default(),
        }
    }

    /// Takes stretches and tracks the shard's connections until every stretch has been taken (then
    /// ends them and emits the shard's last output) or everything stops (`Break`).
    fn run(&mut self, emit: &mut Emit<'_>) -> ControlFlow<()> {
        let crew = self.crew;
        loop {
            if crew.stopped() {
                return ControlFlow::Break(());
            }
            while let Ok(msg) = self.inbox.try_recv() {
                self.receive(msg, emit)?;
            }
            self.take_batches(emit)?;
            if self.next > crew.last.load(Ordering::SeqCst) {
                self.shard.finish();
                self.shard.take_events(&mut self.events);
                let output = ShardOutput {
                    events: std::mem::take(&mut self.events),
                    through: u64::MAX,
                    tracking: Some(self.shard.tracking()),
                };
                return emit(self.index, output);
            }
            let taking = if self.taking {
                self.take(emit)
            } else {
                Taking::Ended
            };
            match taking {
                Taking::Stop => return ControlFlow::Break(()),
                Taking::Again => continue,
                Taking::Ended => self.taking = false,
                Taking::NotNow => {
                    let idle = &crew.idle[self.index];
                    idle.store(true, Ordering::SeqCst);
                    // A stretch may have come, or the window moved, since: look once more
                    // before waiting.
                    if crew.takeable() {
                        idle.store(false, Ordering::SeqCst);
                        continue;
                    }
                }
            }
            if !self.pending.contains_key(&self.next) {
                match self.inbox.recv() {
                    Ok(msg) => self.receive(msg, emit)?,
                    Err(_) => return ControlFlow::Break(()),
                }
            }
            crew.idle[self.index].store(false, Ordering::SeqCst);
        }
    }

    fn receive(&mut self, msg: Message, emit: &mut Emit<'_>) -> ControlFlow<()> {
        match msg {
            Message::Batch(k, batch) => {
                self.pending.insert(k, batch);
            }
            Message::Output(w, output) => emit(w, output)?,
            Message::Wake => {}
        }
        ControlFlow::Continue(())
    }

    /// Hands the shard every batch whose turn it is.
    fn take_batches(&mut self, emit: &mut Emit<'_>) -> ControlFlow<()> {
        let mut took = false;
        while let Some(mut batch) = self.pending.remove(&self.next) {
            apply(&mut self.shard, &mut batch);
            self.shard.take_events(&mut self.events);
            let through = batch.through;
            if self.free.len() < SPARE_STRETCHES {
                self.free.push(batch);
            }
            self.next += 1;
            took = true;
            self.rounds += 1;
            if self.rounds.is_multiple_of(BATCHES_PER_OUTPUT) {
                let output = ShardOutput {
                    events: std::mem::take(&mut self.events),
                    through,
                    tracking: None,
                };
                emit(self.index, output)?;
            }
        }
        if took {
            self.crew.progress[self.index].store(self.next, Ordering::SeqCst);
            // Others may take stretches further ahead now.
            self.crew.wake_idle(Some(self.index));
        }
        ControlFlow::Continue(())
    }

    /// Takes the next stretch, if it may, decodes it and hands out its batches.
    fn take(&mut self, emit: &mut Emit<'_>) -> Taking {
        let crew = self.crew;
        let k = match &crew.source {
            Source::File(walks) => {
                let k = crew.claim.load(Ordering::SeqCst);
                if k > crew.last.load(Ordering::SeqCst) {
                    return Taking::Ended;
                }
                if !crew.may_take(k) {
                    return Taking::NotNow;
                }
                if crew
                    .claim
                    .compare_exchange(k, k + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    return Taking::Again;
                }
                match self.file_stretch(walks, k, emit) {
                    ControlFlow::Break(()) => return Taking::Stop,
                    ControlFlow::Continue(false) => return Taking::Ended,
                    ControlFlow::Continue(true) => k,
                }
            }
            Source::Stream(cuts) => match cuts.take(|k| crew.may_take(k)) {
                Taken::Stretch(cut) => self.cut_stretch(*cut),
                Taken::NotNow => return Taking::NotNow,
                Taken::Ended => return Taking::Ended,
            },
        };
        // Every shard gets a batch (empty ones too: they say how far the capture has been read).
        for w in 0..self.batches.len() {
            let fresh = self.free.pop().unwrap_or_default();
            let Some(batch) = self.batches.get_mut(w).map(|b| std::mem::replace(b, fresh)) else {
                continue;
            };
            if w == self.index {
                self.pending.insert(k, batch);
            } else if crew.inboxes[w].send(Message::Batch(k, batch)).is_err() {
                crew.halt();
            }
        }
        Taking::Again
    }

    /// Reads a file's stretch `k`, walks its records in turn and decodes them into the batches;
    /// `false` when reading ended before it, `Break` when the sink stopped.
    fn file_stretch(
        &mut self,
        walks: &Walks<'_>,
        k: u64,
        emit: &mut Emit<'_>,
    ) -> ControlFlow<(), bool> {
        let stretches = walks.stretches;
        let mut fetched = stretches.fetch(k, &mut self.spare);
        let mut walk = loop {
            // While the stretch before is walked, the shard takes the batches it can.
            let wait = !self.pending.contains_key(&self.next);
            match walks.turn(k, wait) {
                Turn::Go(walk) => break walk,
                Turn::NotYet => self.take_batches(emit)?,
                Turn::Never => {
                    fetched.give_back(&mut self.spare, stretches.size(), SPARE_STRETCHES);
                    return ControlFlow::Continue(false);
                }
            }
        };
        let from = walk.at;
        self.records.clear();
        self.expiries.clear();
        let (records, expiries) = (&mut self.records, &mut self.expiries);
        let (clock, headers) = (&mut walk.clock, &mut walk.headers);
        let walked = fetched.walk(stretches, k, from, &mut walk.walking, |meta, index| {
            tick(clock, headers, expiries, records.len(), &meta, index);
            records.push(meta);
        });
        let through = walked.next.frames;
        walk.at = walked.next;
        if walked.end.is_some() {
            self.crew.last.store(k, Ordering::SeqCst);
        }
        walks.walked(k, walk, walked.end);
        let blocks = [(fetched, self.records.len())];
        self.decode(k, &blocks, from.frames);
        for batch in &mut self.batches {
            batch.through = through;
        }
        let [(fetched, _)] = blocks;
        fetched.give_back(&mut self.spare, stretches.size(), SPARE_STRETCHES);
        ControlFlow::Continue(true)
    }

    /// Decodes a stretch cut from a stream into the batches; its place in the capture.
    fn cut_stretch(&mut self, cut: CutStretch) -> u64 {
        let CutStretch {
            k,
            before,
            blocks,
            records,
            expiries,
        } = cut;
        self.records = records;
        self.expiries = expiries;
        let through = before + self.records.len() as u64;
        // The stretch was written on the cutting thread's core: read it front to back first, so
        // that it comes over in one stream the CPU prefetches rather than one cache miss per
        // frame (on a 1 GB gzip capture at -j2, decoding then took 0.03 s instead of 0.17).
        for (fetched, _) in &blocks {
            fetched.read_through();
        }
        self.decode(k, &blocks, before);
        for batch in &mut self.batches {
            batch.through = through;
        }
        k
    }

    /// Decodes stretch `k`'s frames (numbered after `before`, lying in `blocks`) into the shards'
    /// batches.
    fn decode(&mut self, k: u64, blocks: &[(Fetched, usize)], before: u64) {
        let stretch = Stretch {
            k,
            before,
            blocks,
            records: &self.records,
            expiries: &self.expiries,
        };
        let counts = &mut self.decoded;
        stretch.decode(&mut self.batches, counts, &self.crew.fragments);
    }
}
