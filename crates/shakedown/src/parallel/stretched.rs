//! One uncompressed pcap file read by several threads at once.
//!
//! ```text
//! reading threads (one per worker)          workers (N)          calling thread
//! stretch k % R: read at its offset,   ──►  shard  ...      ──►  order, the Sink
//! walk, decode, hash the flow key
//! ```
//!
//! Reading thread `r` of `R` takes stretches `r`, `r + R`, ... ([`crate::capture`]'s stretches:
//! the records that start within a fixed number of bytes). For each one it
//!
//! 1. reads the stretch's bytes at their offset (before its turn: the copy lands in the cache of
//!    the core that then parses it);
//! 2. **in turn** (after the stretch before): walks the record headers from where the stretch
//!    before left off, numbers the frames and runs the capture's clock over them (which frames are
//!    followed by a look for idle connections); this takes the turn for a moment only;
//! 3. decodes its frames on its own, without any shared state, and hands every TCP segment to
//!    the worker chosen by its connection's hash, as a range of the stretch's buffer;
//! 4. only if the stretch holds an IP fragment: waits until every stretch before has been decoded,
//!    then decodes the rest of the stretch with the one defragmenter, in capture order (so
//!    fragments meet across stretches, and the caps and timeouts act as with one reader).
//!
//! Workers take their batches from the reading threads in stretch order, so every worker sees its
//! segments, and every worker sees the looks for idle connections, in capture order: the same as
//! with one reader, and the same verdicts as [`crate::analyze`].

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::capture::{CaptureError, CaptureReader, Ending, Fetched, FrameMeta, Resume, Stretches};
use crate::decode::{Decoded, Decoder};
use crate::dissector::intake::{Clock, Intake};
use crate::flow::FlowKey;
use crate::{Config, Sink, Summary};

use super::{
    BATCHES_IN_FLIGHT, Batch, Item, Lines, Output, Payload, Segment, merge, range_within, share_of,
    start_workers,
};

/// Stretch buffers a reading thread keeps for reuse.
const SPARE_STRETCHES: usize = 4 * BATCHES_IN_FLIGHT;

/// The turn to walk record headers, and what the walks so far found.
struct Chain {
    /// The stretch whose turn it is.
    next: u64,
    /// Where its records begin.
    at: Resume,
    clock: Clock,
    /// What the headers say (frames, bytes, times), over all stretches walked.
    headers: Summary,
    /// How reading ended, once it has.
    end: Option<Ending>,
    /// Everything stops (the sink or a worker is gone, or a thread failed).
    halted: bool,
}

/// The turn to decode IP fragments.
struct Fragments {
    decoder: Decoder,
    /// Every stretch before this one has been decoded.
    next: u64,
    /// Stretches after `next` already decoded.
    done: BTreeSet<u64>,
    halted: bool,
}

/// What the reading threads share.
struct Shared<'a> {
    stretches: &'a Stretches,
    readers: u64,
    chain: Mutex<Chain>,
    chain_turn: Condvar,
    fragments: Mutex<Fragments>,
    fragment_turn: Condvar,
    stop: &'a AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared<'_> {
    /// Stops every reading thread, also those waiting for a turn.
    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        lock(&self.chain).halted = true;
        self.chain_turn.notify_all();
        lock(&self.fragments).halted = true;
        self.fragment_turn.notify_all();
    }

    /// Stretch `k`'s turn to walk its headers: where its records begin and the clock then, or
    /// `None` when reading ended before it or everything stops.
    fn walk_turn(&self, k: u64) -> Option<(Resume, Clock, Summary)> {
        let mut chain = lock(&self.chain);
        while chain.next != k && chain.end.is_none() && !chain.halted {
            chain = self
                .chain_turn
                .wait(chain)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if chain.end.is_some() || chain.halted || chain.next != k {
            return None;
        }
        Some((chain.at, chain.clock, std::mem::take(&mut chain.headers)))
    }

    /// Stretch `k` walked: passes the turn on.
    fn walked(&self, k: u64, at: Resume, clock: Clock, headers: Summary, end: Option<Ending>) {
        let mut chain = lock(&self.chain);
        chain.next = k + 1;
        chain.at = at;
        chain.clock = clock;
        chain.headers = headers;
        chain.end = end;
        drop(chain);
        self.chain_turn.notify_all();
    }

    /// Stretch `k` was decoded without fragments: no need to wait for its turn.
    fn decoded(&self, k: u64) {
        let mut f = lock(&self.fragments);
        f.done.insert(k);
        let Fragments { next, done, .. } = &mut *f;
        while done.remove(next) {
            *next += 1;
        }
        drop(f);
        self.fragment_turn.notify_all();
    }

    /// Waits until every stretch before `k` has been decoded; `None` if everything stops.
    fn fragment_turn(&self, k: u64) -> Option<MutexGuard<'_, Fragments>> {
        let mut f = lock(&self.fragments);
        while f.next != k && !f.halted {
            f = self
                .fragment_turn
                .wait(f)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        (!f.halted).then_some(f)
    }
}

/// Halts every reading thread if this one panics, so that none waits forever for its turn.
struct HaltOnPanic<'a, 'b>(&'a Shared<'b>);

impl Drop for HaltOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

/// Analyses `reader`'s capture, read in `stretches` by one thread per worker.
pub(super) fn analyze<R: std::io::Read + Send>(
    reader: &mut CaptureReader<R>,
    stretches: Stretches,
    config: &Config,
    shard_config: &Config,
    workers: usize,
    sink: &mut impl Sink,
) -> Result<Summary, CaptureError> {
    let readers = std::env::var("SD_READERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(workers);
    let stop = AtomicBool::new(false);
    let shared = Shared {
        stretches: &stretches,
        readers: readers as u64,
        chain: Mutex::new(Chain {
            next: 0,
            at: stretches.start(),
            clock: Clock::default(),
            headers: Summary::default(),
            end: None,
            halted: false,
        }),
        chain_turn: Condvar::new(),
        fragments: Mutex::new(Fragments {
            decoder: Decoder::new(config),
            next: 0,
            done: BTreeSet::new(),
            halted: false,
        }),
        fragment_turn: Condvar::new(),
        stop: &stop,
    };
    let (decoded, merged) = std::thread::scope(|scope| {
        let (results, merger_rx) =
            mpsc::sync_channel::<(usize, Output)>(workers * BATCHES_IN_FLIGHT);
        let Lines {
            to_workers,
            recycled,
        } = start_workers(scope, workers, readers, shard_config, results);
        let shared = &shared;
        let reading: Vec<_> = to_workers
            .into_iter()
            .zip(recycled)
            .enumerate()
            .map(|(r, (to, back))| scope.spawn(move || read(r as u64, shared, to, back)))
            .collect();
        let merged = merge(workers, config, merger_rx, sink);
        if merged.stopped {
            shared.halt();
        }
        let mut decoded = Summary::default();
        for r in reading {
            match r.join() {
                Ok(s) => add_decoded(&mut decoded, s),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (decoded, merged)
    });
    let chain = shared
        .chain
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut summary = chain.headers;
    add_decoded(&mut summary, decoded);
    summary.set_tracking(merged.tracking, &merged.order);
    let (truncation, failure) = match chain.end {
        Some(Ending::Damaged(t)) => (Some(t), None),
        Some(Ending::Failed(e)) => (None, Some(e)),
        Some(Ending::Clean) | None => (None, None),
    };
    reader.read_elsewhere(chain.at, truncation);
    summary.truncation = reader.truncation().cloned();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Adds what decoding counted (segments, skips) to `into`.
fn add_decoded(into: &mut Summary, from: Summary) {
    into.tcp_segments += from.tcp_segments;
    for (kind, n) in from.skipped {
        *into.skipped.entry(kind).or_insert(0) += n;
    }
}

/// What one reading thread keeps from stretch to stretch.
struct Reader<'a, 'b> {
    shared: &'a Shared<'b>,
    workers: Vec<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
    batches: Vec<Batch>,
    records: Vec<FrameMeta>,
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    expiries: Vec<(usize, i64)>,
    spare: Vec<Arc<Vec<u8>>>,
    /// What decoding counted.
    decoded: Summary,
    hasher: foldhash::fast::FixedState,
}

/// Reading thread `r`: its stretches, until the capture ends or everything stops. Returns what
/// decoding counted.
fn read(
    r: u64,
    shared: &Shared<'_>,
    workers: Vec<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
) -> Summary {
    let _halt = HaltOnPanic(shared);
    let n = workers.len();
    let mut reader = Reader {
        shared,
        workers,
        recycled,
        batches: (0..n).map(|_| Batch::default()).collect(),
        records: Vec::new(),
        expiries: Vec::new(),
        spare: Vec::new(),
        decoded: Summary::default(),
        hasher: foldhash::fast::FixedState::with_seed(0x5ca1_ab1e),
    };
    let mut k = r;
    while !shared.stop.load(Ordering::Relaxed) {
        match reader.stretch(k) {
            Step::Next => k += shared.readers,
            Step::Last => break,
            Step::Halt => {
                shared.halt();
                break;
            }
        }
    }
    reader.decoded
}

/// What a reading thread does after a stretch.
enum Step {
    Next,
    /// Reading ended here or before.
    Last,
    /// A worker is gone: everything stops.
    Halt,
}

impl Reader<'_, '_> {
    fn stretch(&mut self, k: u64) -> Step {
        let stretches = self.shared.stretches;
        let mut fetched = stretches.fetch(k, &mut self.spare);
        let Some((from, clock, headers)) = self.shared.walk_turn(k) else {
            fetched.give_back(&mut self.spare, stretches.size(), SPARE_STRETCHES);
            return Step::Last;
        };
        self.records.clear();
        let walked = fetched.walk(stretches, k, from, &mut self.records);
        let start_now = clock.now;
        let (clock, headers) = self.count(&fetched, from, clock, headers);
        let last = walked.end.is_some();
        let through = walked.next.frames;
        self.shared
            .walked(k, walked.next, clock, headers, walked.end);
        self.decode(k, &fetched, from.frames, start_now);
        fetched.give_back(&mut self.spare, stretches.size(), SPARE_STRETCHES);
        if self.hand_out(through).is_err() {
            return Step::Halt;
        }
        if last { Step::Last } else { Step::Next }
    }

    /// Runs the clock over the stretch's frames (numbered after `from.frames`), noting when idle
    /// connections are looked for.
    fn count(
        &mut self,
        fetched: &Fetched,
        from: Resume,
        mut clock: Clock,
        mut headers: Summary,
    ) -> (Clock, Summary) {
        self.expiries.clear();
        for (i, meta) in self.records.iter().enumerate() {
            let frame = fetched.frame(meta, from.frames + 1 + i as u64);
            clock.count(&frame, &mut headers);
            if let Some(now) = clock.expiry_due() {
                self.expiries.push((i, now));
            }
        }
        (clock, headers)
    }

    /// Decodes stretch `k`'s frames (numbered after `before`) into the workers' batches; the
    /// capture's clock stood at `now` before its first frame.
    fn decode(&mut self, k: u64, fetched: &Fetched, before: u64, mut now: i64) {
        let n = self.batches.len();
        let (block, span) = fetched.share();
        let whole = (*block).as_ref();
        let mut expiries = self.expiries.iter().copied().peekable();
        let mut fragment_at = None;
        for (i, meta) in self.records.iter().enumerate() {
            let frame = fetched.frame(meta, before + 1 + i as u64);
            let Some(decoded) = Decoder::decode_unfragmented(&frame) else {
                fragment_at = Some((i, now));
                break;
            };
            now = now.max(frame.ts.as_nanos());
            let at = crate::verdict::Mark {
                frame: frame.index,
                ts: frame.ts,
            };
            let skipped = match decoded {
                Decoded::Tcp(seg) => {
                    let key = FlowKey::of(&seg);
                    let w = share_of(self.hasher.hash_one(key), n);
                    if let (Some(batch), Some(range)) =
                        (self.batches.get_mut(w), range_within(whole, seg.payload))
                    {
                        let seg = Segment::of(key, &seg, at, Payload::Copied(0..0));
                        batch.push_shared(seg, range, &block, span);
                    }
                    None
                }
                Decoded::Skipped(skip) => Some(skip.kind()),
            };
            Intake::decoded(&mut self.decoded, skipped);
            while let Some((_, now)) = expiries.next_if(|&(e, _)| e == i) {
                expire(&mut self.batches, now, frame.index);
            }
        }
        let Some((first, now)) = fragment_at else {
            self.shared.decoded(k);
            return;
        };
        // The rest of the stretch goes through the one defragmenter, in its turn.
        let shared = self.shared;
        let Some(mut fragments) = shared.fragment_turn(k) else {
            return;
        };
        let decoder = &mut fragments.decoder;
        // What every frame before would have done to it: dropping sets older than the timeout.
        decoder.expire_fragments(now);
        for (i, meta) in self.records.iter().enumerate().skip(first) {
            let frame = fetched.frame(meta, before + 1 + i as u64);
            let at = crate::verdict::Mark {
                frame: frame.index,
                ts: frame.ts,
            };
            let skipped = match decoder.decode(&frame) {
                Decoded::Tcp(seg) => {
                    let key = FlowKey::of(&seg);
                    let w = share_of(self.hasher.hash_one(key), n);
                    if let Some(batch) = self.batches.get_mut(w) {
                        match range_within(whole, seg.payload) {
                            Some(range) => {
                                let seg = Segment::of(key, &seg, at, Payload::Copied(0..0));
                                batch.push_shared(seg, range, &block, span);
                            }
                            None => batch.push_copied(key, &seg, at),
                        }
                    }
                    None
                }
                Decoded::Skipped(skip) => Some(skip.kind()),
            };
            Intake::decoded(&mut self.decoded, skipped);
            while let Some((_, now)) = expiries.next_if(|&(e, _)| e == i) {
                expire(&mut self.batches, now, frame.index);
            }
        }
        fragments.next = k + 1;
        let Fragments { next, done, .. } = &mut *fragments;
        while done.remove(next) {
            *next += 1;
        }
        drop(fragments);
        shared.fragment_turn.notify_all();
    }

    /// Sends every worker its batch of this stretch (empty ones too: they say how far the capture
    /// has been read).
    fn hand_out(&mut self, through: u64) -> Result<(), ()> {
        for (batch, worker) in self.batches.iter_mut().zip(&self.workers) {
            let fresh = self.recycled.try_recv().unwrap_or_default();
            let mut full = std::mem::replace(batch, fresh);
            full.through = through;
            worker.send(full).map_err(|_| ())?;
        }
        Ok(())
    }
}

/// Every worker looks for idle connections at `now`, after frame `frame`.
fn expire(batches: &mut [Batch], now: i64, frame: u64) {
    for batch in batches {
        batch.items.push(Item::Expire { now, frame });
    }
}
