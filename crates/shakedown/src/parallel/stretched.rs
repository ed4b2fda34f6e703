//! One uncompressed pcap or pcapng file on several threads, each of them reading and decoding
//! stretches of the file and tracking one shard of the connections; the calling thread is one of
//! them and also puts the verdicts out in order.
//!
//! ```text
//! thread i (of N; the calling thread is thread 0)
//!   claim the next stretch k ── read it at its offset ── in turn: walk its record headers
//!   ── decode its frames ── segments of shard i: kept; of shard j: sent to thread j
//!   take shard i's batches in stretch order ── connections, TLS, RDP, verdicts
//!   (thread 0) events of every shard in frame order ── the Sink
//! ```
//!
//! A stretch ([`crate::capture`]'s stretches) holds the records that *start* within a fixed number
//! of bytes. The thread that claims one
//!
//! 1. reads its bytes at their offset (before its turn; the copy lands in the cache of the core
//!    that then parses it);
//! 2. **in turn** (after the stretch before): walks the record headers from where the stretch
//!    before left off, numbers the frames and runs the capture's clock over them (which frames are
//!    followed by a look for idle connections); this holds the turn for a moment only;
//! 3. decodes its frames without any shared state and puts every TCP segment in the batch of the
//!    shard its connection hashes to, as a range of the stretch's buffer;
//! 4. only if the stretch holds an IP fragment: waits until every stretch before has been decoded,
//!    then decodes the rest of the stretch with the one defragmenter, in capture order (so
//!    fragments meet across stretches, and the caps and timeouts act as with one reader).
//!
//! Each shard takes its batches in stretch order, so it sees its segments, and the looks for idle
//! connections, in capture order: the verdicts are those of [`crate::analyze`]. Threads claim
//! stretches as they are free, so one busy putting verdicts out reads less; none reads more than
//! [`AHEAD`] stretches past the slowest shard, which bounds the memory in flight.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::analyze::Deliver;
use crate::capture::{
    CaptureError, CaptureReader, Ending, Fetched, Frame, FrameMeta, Resume, SharedBytes, Stretches,
    Walking,
};
use crate::decode::{Decoded, Decoder};
use crate::dissector::intake::{Clock, Intake};
use crate::dissector::shard::{Shard, Stamped};
use crate::flow::FlowKey;
use crate::verdict::Mark;
use crate::{Config, Summary};

use super::{BATCHES_PER_OUTPUT, Batch, Merged, Merger, Output, apply, expire, share_of};

/// Stretches a thread may read past the slowest shard's next one.
const AHEAD: u64 = 8;
/// Stretch buffers, and emptied batches, a thread keeps for reuse.
const SPARE_STRETCHES: usize = 2 * AHEAD as usize;
/// "Not known yet", for [`Common::last`].
const UNKNOWN: u64 = u64::MAX;

/// What threads send each other.
enum Msg {
    /// Stretch `k`'s batch for the receiving thread's shard.
    Batch(u64, Batch),
    /// What a shard found, for the calling thread.
    Output(usize, Output),
    /// Look again: reading may go on, or everything stops.
    Wake,
}

/// What [`Common::walk_turn`] gave.
enum Turn {
    /// Walk now: from here, reading records as the walk before left them, with this clock and
    /// what the headers said so far.
    Go(Box<Walk>),
    /// The stretch before is not walked yet.
    NotYet,
    /// Reading ended before this stretch, or everything stops.
    Never,
}

/// What one walk hands the next.
struct Walk {
    /// Where the records begin.
    at: Resume,
    /// How they are read (pcapng: the section's interfaces, the capture's description).
    walking: Walking,
    clock: Clock,
    /// What the headers say (frames, bytes, times), over all stretches walked.
    headers: Summary,
}

impl Walk {
    /// Where the first stretch's walk starts.
    fn first(stretches: &Stretches) -> Self {
        Walk {
            at: stretches.start(),
            walking: stretches.first_walking(),
            clock: Clock::default(),
            headers: Summary::default(),
        }
    }
}

/// The turn to walk record headers, and what the walks so far found.
struct Chain {
    /// The stretch whose turn it is.
    next: u64,
    /// Where its walk starts (taken while it walks).
    walk: Option<Box<Walk>>,
    /// How reading ended, once it has.
    end: Option<Ending>,
    halted: bool,
}

/// The turn to decode IP fragments.
///
/// One thread decodes every frame through [`Decoder::decode`], which first drops fragment sets
/// older than the timeout at that frame's time. Frames decoded without the defragmenter skip that;
/// with no fragment added in between, dropping at each of their times is dropping at the latest of
/// them, which the defragmenter is told before it next sees a frame ([`Fragments::unseen`]).
struct Fragments {
    decoder: Decoder,
    /// Every stretch before this one has been decoded.
    next: u64,
    /// Stretches after `next` decoded without fragments, with the latest time of their frames.
    done: BTreeMap<u64, i64>,
    /// The latest time of the frames before `next` that the defragmenter has not seen.
    unseen: i64,
    halted: bool,
}

impl Fragments {
    /// Stretch `k`, whose frames the defragmenter did not see from `latest` on, is decoded.
    fn decoded(&mut self, k: u64, latest: i64) {
        self.done.insert(k, latest);
        while let Some(latest) = self.done.remove(&self.next) {
            self.unseen = self.unseen.max(latest);
            self.next += 1;
        }
    }
}

/// What the threads share.
struct Common<'a> {
    stretches: &'a Stretches,
    /// The next stretch to claim.
    claim: AtomicU64,
    /// The stretch in which reading ended, once known.
    last: AtomicU64,
    /// For each shard, the next stretch it waits for.
    progress: Vec<AtomicU64>,
    /// For each thread, whether it waits because it may not read further ahead.
    held_back: Vec<AtomicBool>,
    inboxes: Vec<Sender<Msg>>,
    chain: Mutex<Chain>,
    chain_turn: Condvar,
    fragments: Mutex<Fragments>,
    fragment_turn: Condvar,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Common<'_> {
    /// Stops every thread, also those waiting for a turn or a message.
    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        lock(&self.chain).halted = true;
        self.chain_turn.notify_all();
        lock(&self.fragments).halted = true;
        self.fragment_turn.notify_all();
        for inbox in &self.inboxes {
            let _ = inbox.send(Msg::Wake);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Stretch `k`'s turn to walk its headers (waiting for it if `wait`): where its records begin,
    /// the clock and what the headers said so far.
    fn walk_turn(&self, k: u64, wait: bool) -> Turn {
        let mut chain = lock(&self.chain);
        while wait && chain.next != k && chain.end.is_none() && !chain.halted {
            chain = self
                .chain_turn
                .wait(chain)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if chain.end.is_some() || chain.halted {
            return Turn::Never;
        }
        if chain.next != k {
            return Turn::NotYet;
        }
        match chain.walk.take() {
            Some(walk) => Turn::Go(walk),
            // Only a walk that panicked keeps it: everything stops.
            None => Turn::Never,
        }
    }

    /// Stretch `k` walked, the next one to begin as `walk` says: passes the turn on.
    fn walked(&self, k: u64, walk: Box<Walk>, end: Option<Ending>) {
        let mut chain = lock(&self.chain);
        if end.is_some() {
            self.last.store(k, Ordering::SeqCst);
        }
        chain.next = k + 1;
        chain.walk = Some(walk);
        chain.end = end;
        drop(chain);
        self.chain_turn.notify_all();
    }

    /// Stretch `k` is decoded: the latest time of its frames the defragmenter did not see.
    fn decoded(&self, f: &mut Fragments, k: u64, latest: i64) {
        f.decoded(k, latest);
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

    /// Whether stretch `k` may be read now: not too far past the slowest shard.
    fn may_read(&self, k: u64) -> bool {
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
struct HaltOnPanic<'a, 'b>(&'a Common<'b>);

impl Drop for HaltOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

/// Analyses `reader`'s capture, read in `stretches` by `threads` threads, the calling one among
/// them, each tracking one shard of the connections (with `shard_config`).
pub(super) fn analyze<R: std::io::Read + Send>(
    reader: &mut CaptureReader<R>,
    stretches: Stretches,
    config: &Config,
    shard_config: &Config,
    threads: usize,
    sink: &mut impl Deliver,
) -> Result<Summary, CaptureError> {
    let (inboxes, mut receivers): (Vec<_>, Vec<_>) = (0..threads).map(|_| mpsc::channel()).unzip();
    let common = Common {
        stretches: &stretches,
        claim: AtomicU64::new(0),
        last: AtomicU64::new(UNKNOWN),
        progress: (0..threads).map(|_| AtomicU64::new(0)).collect(),
        held_back: (0..threads).map(|_| AtomicBool::new(false)).collect(),
        inboxes,
        chain: Mutex::new(Chain {
            next: 0,
            walk: Some(Box::new(Walk::first(&stretches))),
            end: None,
            halted: false,
        }),
        chain_turn: Condvar::new(),
        fragments: Mutex::new(Fragments {
            decoder: Decoder::new(config),
            next: 0,
            done: BTreeMap::new(),
            unseen: i64::MIN,
            halted: false,
        }),
        fragment_turn: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    let first = receivers.remove(0);
    let (decoded, merged) = std::thread::scope(|scope| {
        let common = &common;
        let others: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(i, inbox)| {
                let config = shard_config.clone();
                scope.spawn(move || {
                    let _halt = HaltOnPanic(common);
                    let mut thread = Thread::new(i + 1, common, inbox, config);
                    let to = &common.inboxes[0];
                    let _ = thread.run(&mut |w, output| {
                        to.send(Msg::Output(w, output))
                            .map_or(ControlFlow::Break(()), |_| ControlFlow::Continue(()))
                    });
                    thread.decoded
                })
            })
            .collect();
        let _halt = HaltOnPanic(common);
        let mut merger = Merger::new(threads, config);
        let mut thread = Thread::new(0, common, first, shard_config.clone());
        let finals = std::cell::Cell::new(0usize);
        let mut emit = |w: usize, output: Output| {
            finals.set(finals.get() + usize::from(output.tracking.is_some()));
            merger.take(w, output, sink)
        };
        let mut ran = thread.run(&mut emit);
        // The other shards' last outputs.
        while ran.is_continue() && finals.get() < threads {
            match thread.inbox.recv() {
                Ok(Msg::Output(w, output)) => ran = emit(w, output),
                Ok(_) if common.stopped() => ran = ControlFlow::Break(()),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let merged = if ran.is_break() {
            common.halt();
            merger.stopped()
        } else {
            merger.finish(sink)
        };
        let mut decoded = std::mem::take(&mut thread.decoded);
        for other in others {
            match other.join() {
                Ok(s) => add_decoded(&mut decoded, s),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (decoded, merged)
    });
    finish(reader, common, decoded, merged)
}

/// The summary, the reader's state and the error, once every thread is done.
fn finish<R: std::io::Read>(
    reader: &mut CaptureReader<R>,
    common: Common<'_>,
    decoded: Summary,
    merged: Merged,
) -> Result<Summary, CaptureError> {
    let chain = common
        .chain
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let walk = chain
        .walk
        .map_or_else(|| Walk::first(common.stretches), |walk| *walk);
    let mut summary = walk.headers;
    add_decoded(&mut summary, decoded);
    summary.set_tracking(merged.tracking, &merged.order);
    let (truncation, failure) = match chain.end {
        Some(Ending::Damaged(t)) => (Some(t), None),
        Some(Ending::Failed(e)) => (None, Some(e)),
        Some(Ending::Clean) | None => (None, None),
    };
    reader.read_elsewhere(walk.at, truncation, walk.walking);
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

/// Where a shard's output goes: the calling thread's merge, or a message to it.
type Emit<'e> = dyn FnMut(usize, Output) -> ControlFlow<()> + 'e;

/// One thread: its shard, and what it keeps for reading stretches.
struct Thread<'a, 'b> {
    index: usize,
    common: &'a Common<'b>,
    inbox: Receiver<Msg>,
    shard: Shard,
    /// The next stretch whose batch the shard takes.
    next: u64,
    /// Batches that came before their turn.
    pending: BTreeMap<u64, Batch>,
    events: Vec<Stamped>,
    rounds: usize,
    /// Whether stretches may still be claimed.
    reading: bool,
    /// This stretch's batches, one per shard.
    batches: Vec<Batch>,
    /// Emptied batches, for reuse.
    free: Vec<Batch>,
    records: Vec<FrameMeta>,
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    expiries: Vec<(usize, i64)>,
    spare: Vec<Arc<Vec<u8>>>,
    /// What decoding counted.
    decoded: Summary,
}

/// What trying to read a stretch gave.
enum Read {
    /// A stretch was read (or another thread claimed it first): look again.
    Again,
    /// Not now: too far ahead of the slowest shard.
    HeldBack,
    /// Reading has ended.
    Ended,
    /// The sink stopped.
    Stop,
}

impl<'a, 'b> Thread<'a, 'b> {
    fn new(index: usize, common: &'a Common<'b>, inbox: Receiver<Msg>, config: Config) -> Self {
        let n = common.inboxes.len();
        Thread {
            index,
            common,
            inbox,
            shard: Shard::new(config),
            next: 0,
            pending: BTreeMap::new(),
            events: Vec::new(),
            rounds: 0,
            reading: true,
            batches: (0..n).map(|_| Batch::default()).collect(),
            free: Vec::new(),
            records: Vec::new(),
            expiries: Vec::new(),
            spare: Vec::new(),
            decoded: Summary::default(),
        }
    }

    /// Reads stretches and tracks the shard's connections until every stretch has been taken (then
    /// ends them and emits the shard's last output) or everything stops (`Break`).
    fn run(&mut self, emit: &mut Emit<'_>) -> ControlFlow<()> {
        let common = self.common;
        loop {
            if common.stopped() {
                return ControlFlow::Break(());
            }
            while let Ok(msg) = self.inbox.try_recv() {
                self.receive(msg, emit)?;
            }
            self.take_batches(emit)?;
            if self.next > common.last.load(Ordering::SeqCst) {
                self.shard.finish();
                self.shard.take_events(&mut self.events);
                let output = Output {
                    events: std::mem::take(&mut self.events),
                    through: u64::MAX,
                    tracking: Some(self.shard.tracking()),
                };
                return emit(self.index, output);
            }
            let read = if self.reading {
                self.read(emit)
            } else {
                Read::Ended
            };
            match read {
                Read::Stop => return ControlFlow::Break(()),
                Read::Again => continue,
                Read::Ended => self.reading = false,
                Read::HeldBack => {
                    let held = &common.held_back[self.index];
                    held.store(true, Ordering::SeqCst);
                    // The window may have moved since: look once more before waiting.
                    if common.may_read(common.claim.load(Ordering::SeqCst)) {
                        held.store(false, Ordering::SeqCst);
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
            common.held_back[self.index].store(false, Ordering::SeqCst);
        }
    }

    fn receive(&mut self, msg: Msg, emit: &mut Emit<'_>) -> ControlFlow<()> {
        match msg {
            Msg::Batch(k, batch) => {
                self.pending.insert(k, batch);
            }
            Msg::Output(w, output) => emit(w, output)?,
            Msg::Wake => {}
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
                let output = Output {
                    events: std::mem::take(&mut self.events),
                    through,
                    tracking: None,
                };
                emit(self.index, output)?;
            }
        }
        if took {
            let common = self.common;
            common.progress[self.index].store(self.next, Ordering::SeqCst);
            for (j, held) in common.held_back.iter().enumerate() {
                if j != self.index && held.swap(false, Ordering::SeqCst) {
                    let _ = common.inboxes[j].send(Msg::Wake);
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Claims the next stretch, if it may, and reads it.
    fn read(&mut self, emit: &mut Emit<'_>) -> Read {
        let common = self.common;
        let k = common.claim.load(Ordering::SeqCst);
        if k > common.last.load(Ordering::SeqCst) {
            return Read::Ended;
        }
        if !common.may_read(k) {
            return Read::HeldBack;
        }
        if common
            .claim
            .compare_exchange(k, k + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Read::Again;
        }
        match self.stretch(k, emit) {
            ControlFlow::Break(()) => return Read::Stop,
            ControlFlow::Continue(false) => return Read::Ended,
            ControlFlow::Continue(true) => {}
        }
        // Every shard gets a batch (empty ones too: they say how far the capture has been read).
        for w in 0..self.batches.len() {
            let fresh = self.free.pop().unwrap_or_default();
            let Some(batch) = self.batches.get_mut(w).map(|b| std::mem::replace(b, fresh)) else {
                continue;
            };
            if w == self.index {
                self.pending.insert(k, batch);
            } else if common.inboxes[w].send(Msg::Batch(k, batch)).is_err() {
                common.halt();
            }
        }
        Read::Again
    }

    /// Reads, walks and decodes stretch `k` into the batches; `false` when reading ended before it,
    /// `Break` when the sink stopped.
    fn stretch(&mut self, k: u64, emit: &mut Emit<'_>) -> ControlFlow<(), bool> {
        let common = self.common;
        let stretches = common.stretches;
        let mut fetched = stretches.fetch(k, &mut self.spare);
        let mut walk = loop {
            // While the stretch before is walked, the shard takes the batches it can.
            let wait = !self.pending.contains_key(&self.next);
            match common.walk_turn(k, wait) {
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
            clock.count_record(index, meta.ts, meta.len, meta.orig_len, headers);
            if let Some(now) = clock.expiry_due() {
                expiries.push((records.len(), now));
            }
            records.push(meta);
        });
        let through = walked.next.frames;
        walk.at = walked.next;
        common.walked(k, walk, walked.end);
        self.decode(k, &fetched, from.frames);
        for batch in &mut self.batches {
            batch.through = through;
        }
        fetched.give_back(&mut self.spare, stretches.size(), SPARE_STRETCHES);
        ControlFlow::Continue(true)
    }

    /// Decodes stretch `k`'s frames (numbered after `before`) into the shards' batches.
    fn decode(&mut self, k: u64, fetched: &Fetched, before: u64) {
        let (block, span) = fetched.share();
        let mut placing = Placing {
            batches: &mut self.batches,
            counts: &mut self.decoded,
            whole: (*block).as_ref(),
            block: (&block, span),
            expiries: self.expiries.iter().copied().peekable(),
        };
        let records = &self.records;
        let mut fragment_at = None;
        // The latest time of the frames decoded without the defragmenter.
        let mut latest = i64::MIN;
        for (i, meta) in records.iter().enumerate() {
            let frame = fetched.frame(meta, before + 1 + i as u64);
            let mut fragment = false;
            let decoded = Decoder::decode_unfragmented(&frame, &mut fragment);
            if fragment {
                fragment_at = Some(i);
                break;
            }
            latest = latest.max(frame.ts.as_nanos());
            placing.place(i, &frame, &decoded);
        }
        let common = self.common;
        let Some(first) = fragment_at else {
            common.decoded(&mut lock(&common.fragments), k, latest);
            return;
        };
        // The rest of the stretch goes through the one defragmenter, in its turn.
        let Some(mut fragments) = common.fragment_turn(k) else {
            return;
        };
        // What every frame before would have done to it: dropping sets older than the timeout.
        let unseen = std::mem::replace(&mut fragments.unseen, i64::MIN).max(latest);
        let decoder = &mut fragments.decoder;
        decoder.expire_fragments(unseen);
        for (i, meta) in records.iter().enumerate().skip(first) {
            let frame = fetched.frame(meta, before + 1 + i as u64);
            placing.place(i, &frame, &decoder.decode(&frame));
        }
        // The defragmenter saw every frame from the first fragment on.
        common.decoded(&mut fragments, k, i64::MIN);
    }
}

/// Where a stretch's decoded frames go: each TCP segment to the batch of its connection's shard
/// (its payload as a range of the stretch's bytes), each skip to the counts, and after a frame the
/// looks for idle connections due then.
struct Placing<'p, E: Iterator<Item = (usize, i64)>> {
    batches: &'p mut [Batch],
    counts: &'p mut Summary,
    /// The stretch's bytes, shared, and where they are in memory.
    whole: &'p [u8],
    block: (&'p SharedBytes, (usize, usize)),
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    expiries: std::iter::Peekable<E>,
}

impl<E: Iterator<Item = (usize, i64)>> Placing<'_, E> {
    /// Places what decoding record `i` of the stretch, `frame`, gave (by reference: see
    /// [`Decoder::decode_unfragmented`]).
    fn place(&mut self, i: usize, frame: &Frame<'_>, decoded: &Decoded<'_>) {
        let at = Mark {
            frame: frame.index,
            ts: frame.ts,
        };
        let skipped = match decoded {
            Decoded::Tcp(seg) => {
                let (key, from_lo) = FlowKey::of_sent(seg);
                let w = share_of(key.spread(), self.batches.len());
                if let Some(batch) = self.batches.get_mut(w) {
                    batch.push(key, from_lo, seg, at, self.whole, self.block);
                }
                None
            }
            Decoded::Skipped(skip) => Some(skip.kind()),
        };
        Intake::decoded(self.counts, skipped);
        while let Some((_, now)) = self.expiries.next_if(|&(e, _)| e == i) {
            expire(self.batches, now, frame.index);
        }
    }
}
