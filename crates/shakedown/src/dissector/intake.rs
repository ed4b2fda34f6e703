//! The first step for every frame: count it, decode it, and keep the capture's clock, which says
//! when idle connections are looked for. One intake sees every frame, in order, whether one shard or
//! several track the connections.

use crate::capture::Frame;
use crate::decode::Decoder;
use crate::verdict::Mark;
use crate::{Config, Timestamp};

use super::Summary;

/// How often (capture time) idle connections are looked for.
const EXPIRY_INTERVAL_NS: i64 = 1_000_000_000;

/// The decoder and the clock.
pub(crate) struct Intake {
    pub(crate) decoder: Decoder,
    clock: Clock,
}

/// The capture's clock: what the frames' headers alone say, frame after frame (so a parallel
/// reading can carry it from one stretch of the capture to the next).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// The latest capture time seen (time never goes back).
    pub(crate) now: i64,
    last_expiry: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            now: i64::MIN,
            last_expiry: i64::MIN,
        }
    }
}

impl Intake {
    pub(crate) fn new(config: &Config) -> Self {
        Intake {
            decoder: Decoder::new(config),
            clock: Clock::default(),
        }
    }

    /// Counts a frame and moves the clock; returns where the frame is.
    pub(crate) fn count(&mut self, frame: &Frame<'_>, s: &mut Summary) -> Mark {
        self.clock.count(frame, s)
    }

    /// Counts what decoding gave: a TCP segment (`None`) or a skip of this kind.
    pub(crate) fn decoded(s: &mut Summary, skipped: Option<crate::decode::SkipKind>) {
        match skipped {
            None => s.tcp_segments += 1,
            Some(kind) => *s.skipped.entry(kind).or_insert(0) += 1,
        }
    }

    /// After a frame: the capture time to look for idle connections at, when it is time to.
    pub(crate) fn expiry_due(&mut self) -> Option<i64> {
        self.clock.expiry_due()
    }

    /// The latest frame time (nanoseconds; `i64::MIN` before the first frame).
    pub(crate) fn now(&self) -> i64 {
        self.clock.now
    }
}

impl Clock {
    /// Counts a frame (its number, captured bytes and time) and moves the clock; returns where
    /// the frame is.
    pub(crate) fn count(&mut self, frame: &Frame<'_>, s: &mut Summary) -> Mark {
        self.count_record(frame.index, frame.ts, frame.data.len(), frame.orig_len, s)
    }

    /// [`Clock::count`] for frame number `index` of `captured` bytes (of `orig_len` on the wire)
    /// at time `at`.
    #[inline]
    pub(crate) fn count_record(
        &mut self,
        index: u64,
        at: Timestamp,
        captured: usize,
        orig_len: u32,
        s: &mut Summary,
    ) -> Mark {
        s.frames += 1;
        s.captured_bytes += captured as u64;
        if (captured as u64) < u64::from(orig_len) {
            s.cut_frames += 1;
            s.snap_len = s.snap_len.max(u32::try_from(captured).unwrap_or(u32::MAX));
        }
        let ts = at.as_nanos();
        if s.first_ts.is_none() {
            s.first_ts = Some(at);
        }
        if ts < self.now {
            s.backwards_timestamps += 1;
        } else {
            self.now = ts;
            s.last_ts = Some(at);
        }
        Mark {
            frame: index,
            ts: at,
        }
    }

    /// After a frame: the capture time to look for idle connections at, when it is time to.
    pub(crate) fn expiry_due(&mut self) -> Option<i64> {
        if self.now.saturating_sub(self.last_expiry) >= EXPIRY_INTERVAL_NS {
            self.last_expiry = self.now;
            Some(self.now)
        } else {
            None
        }
    }
}
