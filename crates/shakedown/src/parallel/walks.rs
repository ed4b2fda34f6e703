//! The file source: every thread reads the stretches it claims of a plain pcap or pcapng file at
//! their offsets ([`Stretches::fetch`], beside the other threads), then, in turn, walks their
//! record headers from where the stretch before left off ([`crate::capture::Fetched::walk`]),
//! numbering the frames and running the capture's clock over them. The turn is passed from stretch
//! to stretch with what the walk found: where the next records begin, how they are read (pcapng:
//! the section's interfaces) and the clock.

use std::sync::{Condvar, Mutex};

use crate::Summary;
use crate::capture::{Ending, FrameMeta, Resume, Stretches, Walking};
use crate::dissector::intake::Clock;

use super::threads::lock;

/// What one walk of a stretch hands the next.
pub(super) struct Walk {
    /// Where the records begin.
    pub(super) at: Resume,
    /// How they are read (pcapng: the section's interfaces, the capture's description).
    pub(super) walking: Walking,
    pub(super) clock: Clock,
    /// What the headers say (frames, bytes, times), over all stretches walked.
    pub(super) headers: Summary,
}

/// What [`Walks::turn`] gave.
pub(super) enum Turn {
    /// Walk now: from here, reading records as the walk before left them, with this clock and
    /// what the headers said so far.
    Go(Box<Walk>),
    /// The stretch before is not walked yet.
    NotYet,
    /// Reading ended before this stretch, or everything stops.
    Never,
}

/// The turn to walk a file's record headers, and what the walks so far found.
pub(super) struct Walks<'a> {
    pub(super) stretches: &'a Stretches,
    state: Mutex<State>,
    turn: Condvar,
}

struct State {
    /// The stretch whose turn it is.
    next: u64,
    /// Where its walk starts (taken while it walks).
    walk: Option<Box<Walk>>,
    /// How reading ended, once it has.
    end: Option<Ending>,
    halted: bool,
}

/// What walking the records found (a file's walks, or the thread cutting a stream), once every
/// thread is done.
pub(super) struct Walked {
    /// What the record headers say (frames, bytes, times).
    pub(super) headers: Summary,
    /// How reading ended.
    pub(super) end: Option<Ending>,
    /// A file's: where the records not read begin, and how the last walk left them (`None` for
    /// a stream, whose reader knows where it is, and after a panic).
    pub(super) next: Option<(Resume, Walking)>,
}

impl<'a> Walks<'a> {
    /// The walks of `stretches`, the first one's turn first.
    pub(super) fn new(stretches: &'a Stretches) -> Self {
        let first = Walk {
            at: stretches.start(),
            walking: stretches.first_walking(),
            clock: Clock::default(),
            headers: Summary::default(),
        };
        Walks {
            stretches,
            state: Mutex::new(State {
                next: 0,
                walk: Some(Box::new(first)),
                end: None,
                halted: false,
            }),
            turn: Condvar::new(),
        }
    }

    /// Stretch `k`'s turn to walk its headers (waiting for it if `wait`): where its records begin,
    /// the clock and what the headers said so far.
    pub(super) fn turn(&self, k: u64, wait: bool) -> Turn {
        let mut state = lock(&self.state);
        while wait && state.next != k && state.end.is_none() && !state.halted {
            state = self
                .turn
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.end.is_some() || state.halted {
            return Turn::Never;
        }
        if state.next != k {
            return Turn::NotYet;
        }
        match state.walk.take() {
            Some(walk) => Turn::Go(walk),
            // Only a walk that panicked keeps it: everything stops.
            None => Turn::Never,
        }
    }

    /// Stretch `k` walked, the next one to begin as `walk` says (reading ended in it if `end`):
    /// passes the turn on.
    pub(super) fn walked(&self, k: u64, walk: Box<Walk>, end: Option<Ending>) {
        let mut state = lock(&self.state);
        state.next = k + 1;
        state.walk = Some(walk);
        state.end = end;
        drop(state);
        self.turn.notify_all();
    }

    /// Stops every thread waiting for its turn.
    pub(super) fn halt(&self) {
        lock(&self.state).halted = true;
        self.turn.notify_all();
    }

    /// What the walks found.
    pub(super) fn finish(self) -> Walked {
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match state.walk {
            Some(walk) => {
                let Walk {
                    at,
                    walking,
                    headers,
                    ..
                } = *walk;
                Walked {
                    headers,
                    end: state.end,
                    next: Some((at, walking)),
                }
            }
            None => Walked {
                headers: Summary::default(),
                end: state.end,
                next: None,
            },
        }
    }
}

/// Runs the capture's clock over record `i` of a stretch, frame number `index`, in turn: counts
/// it in `headers` and notes when idle connections are looked for after it.
#[inline]
pub(super) fn tick(
    clock: &mut Clock,
    headers: &mut Summary,
    expiries: &mut Vec<(usize, i64)>,
    i: usize,
    meta: &FrameMeta,
    index: u64,
) {
    clock.count_record(index, meta.ts, meta.len, meta.orig_len, headers);
    if let Some(now) = clock.expiry_due() {
        expiries.push((i, now));
    }
}
