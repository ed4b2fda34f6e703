//! The stream source: one thread reads a capture that cannot be read at offsets (gzip, zstd,
//! standard input, a pipe) front to back, cuts it into stretches of whole records
//! ([`StreamStretches`]), runs the capture's clock over them, and queues them for the analysis's
//! threads, which take them as they are free and decode them as they do a file's stretches.
//!
//! The queue is short ([`READY`] stretches): the reading thread waits when it is full, so the
//! memory in flight stays bounded, and it reads on while the other threads decode, so a slow
//! decompressor is kept busy all the time.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};

use crate::Summary;
use crate::capture::{Fetched, FrameMeta, StreamStretches};
use crate::dissector::intake::Clock;

use super::threads::{Crew, lock};
use super::walks::{Walked, tick};

/// Stretches cut and not yet taken, at most.
const READY: usize = 4;

/// A stretch cut from the stream, walked: its records, and after which of them idle connections
/// are looked for.
pub(super) struct CutStretch {
    /// Its place in the capture (0, 1, 2...).
    pub(super) k: u64,
    /// Frames before its first record.
    pub(super) before: u64,
    /// The blocks its records lie in, in order, each with how many of the records lie in it.
    pub(super) blocks: Vec<(Fetched, usize)>,
    pub(super) records: Vec<FrameMeta>,
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    pub(super) expiries: Vec<(usize, i64)>,
}

/// Stretches cut from the stream, waiting to be taken.
#[derive(Default)]
pub(super) struct Cuts {
    queue: Mutex<Queue>,
    /// The reading thread waits here for room in the queue.
    room: Condvar,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<CutStretch>,
    /// Reading has ended: no stretch comes after those in `ready`.
    ended: bool,
    halted: bool,
}

/// What taking a cut stretch gave.
pub(super) enum Taken {
    /// This stretch, now the taker's.
    Stretch(Box<CutStretch>),
    /// None may be taken now: none is ready, or the next is too far ahead of the slowest shard.
    NotNow,
    /// Every stretch has been taken.
    Ended,
}

impl Cuts {
    /// The next stretch, if `may_take` it (by its place in the capture).
    pub(super) fn take(&self, may_take: impl Fn(u64) -> bool) -> Taken {
        let mut queue = lock(&self.queue);
        match queue.ready.front() {
            Some(next) if may_take(next.k) => {}
            Some(_) => return Taken::NotNow,
            None if queue.ended || queue.halted => return Taken::Ended,
            None => return Taken::NotNow,
        }
        let Some(stretch) = queue.ready.pop_front() else {
            return Taken::NotNow;
        };
        drop(queue);
        self.room.notify_one();
        Taken::Stretch(Box::new(stretch))
    }

    /// Whether a stretch may be taken now, or every one has been.
    pub(super) fn takeable(&self, may_take: impl Fn(u64) -> bool) -> bool {
        let queue = lock(&self.queue);
        match queue.ready.front() {
            Some(next) => may_take(next.k),
            None => queue.ended || queue.halted,
        }
    }

    /// Stops the reading thread.
    pub(super) fn halt(&self) {
        lock(&self.queue).halted = true;
        self.room.notify_all();
    }

    /// Queues `stretch` once there is room; `false` if everything stops.
    fn put(&self, stretch: CutStretch, last: bool) -> bool {
        let mut queue = lock(&self.queue);
        while queue.ready.len() >= READY && !queue.halted {
            queue = self
                .room
                .wait(queue)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if queue.halted {
            return false;
        }
        queue.ready.push_back(stretch);
        queue.ended = last;
        true
    }
}

/// The reading thread: cuts `stream` into stretches until it ends (or everything stops) and
/// queues them in `crew`'s [`Cuts`]; returns what the record headers said and how reading ended
/// (`None`: it was stopped).
pub(super) fn cut(crew: &Crew<'_>, cuts: &Cuts, mut stream: StreamStretches<'_>) -> Walked {
    let mut clock = Clock::default();
    let mut headers = Summary::default();
    for k in 0.. {
        let cut = stream.cut();
        let records = cut.records;
        let mut expiries = Vec::new();
        for (i, meta) in records.iter().enumerate() {
            tick(
                &mut clock,
                &mut headers,
                &mut expiries,
                i,
                meta,
                cut.before + 1 + i as u64,
            );
        }
        let last = cut.end.is_some();
        if last {
            crew.last.store(k, Ordering::SeqCst);
        }
        let stretch = CutStretch {
            k,
            before: cut.before,
            blocks: cut.blocks,
            records,
            expiries,
        };
        if !cuts.put(stretch, last) {
            break;
        }
        crew.wake_idle(None);
        if last {
            return Walked {
                headers,
                end: cut.end,
                next: None,
            };
        }
    }
    Walked {
        headers,
        end: None,
        next: None,
    }
}
