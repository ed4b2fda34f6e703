//! Decoding a stretch: its frames decoded where they lie, each TCP segment put in the batch of the
//! shard its connection hashes to, as a range of the stretch's bytes; IP fragments put together by
//! the one defragmenter, in capture order, whichever thread decodes the stretch.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::capture::{Fetched, Frame, FrameMeta, SharedBytes};
use crate::decode::{Decoded, Decoder};
use crate::dissector::intake::Intake;
use crate::flow::FlowKey;
use crate::verdict::Mark;
use crate::{Config, Summary};

use super::batch::{Batch, expire, share_of};
use super::threads::lock;

/// A stretch walked, to decode.
pub(super) struct Stretch<'s> {
    /// Its place in the capture (0, 1, 2...).
    pub(super) k: u64,
    /// Frames before its first record.
    pub(super) before: u64,
    /// The blocks its records lie in, in order, each with how many of the records lie in it.
    pub(super) blocks: &'s [(Fetched, usize)],
    pub(super) records: &'s [FrameMeta],
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    pub(super) expiries: &'s [(usize, i64)],
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

/// The one defragmenter, and the turn to use it (stretch after stretch).
pub(super) struct FragmentTurn {
    fragments: Mutex<Fragments>,
    turn: Condvar,
}

impl FragmentTurn {
    pub(super) fn new(config: &Config) -> Self {
        FragmentTurn {
            fragments: Mutex::new(Fragments {
                decoder: Decoder::new(config),
                next: 0,
                done: BTreeMap::new(),
                unseen: i64::MIN,
                halted: false,
            }),
            turn: Condvar::new(),
        }
    }

    /// Stops every thread waiting for its turn.
    pub(super) fn halt(&self) {
        lock(&self.fragments).halted = true;
        self.turn.notify_all();
    }

    /// Stretch `k` is decoded: the latest time of its frames the defragmenter did not see.
    fn decoded(&self, f: &mut Fragments, k: u64, latest: i64) {
        f.decoded(k, latest);
        self.turn.notify_all();
    }

    /// Waits until every stretch before `k` has been decoded; `None` if everything stops.
    fn turn(&self, k: u64) -> Option<MutexGuard<'_, Fragments>> {
        let mut f = lock(&self.fragments);
        while f.next != k && !f.halted {
            f = self
                .turn
                .wait(f)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        (!f.halted).then_some(f)
    }
}

impl Stretch<'_> {
    /// Decodes the stretch's frames into `batches` (one per shard), counting in `counts` what
    /// decoding gave; the frames from the first IP fragment on through `fragments`, in turn.
    pub(super) fn decode(
        &self,
        batches: &mut [Batch],
        counts: &mut Summary,
        fragments: &FragmentTurn,
    ) {
        let Stretch {
            k,
            before,
            blocks,
            records,
            expiries,
        } = *self;
        // Each block's bytes, shared with the batches, and where they are in memory.
        let shares: Vec<(SharedBytes, (usize, usize))> =
            blocks.iter().map(|(fetched, _)| fetched.share()).collect();
        // Which block each record lies in.
        let block_of = || {
            blocks
                .iter()
                .enumerate()
                .flat_map(|(b, &(_, n))| std::iter::repeat_n(b, n))
        };
        let mut placing = Placing {
            batches,
            counts,
            expiries: expiries.iter().copied().peekable(),
        };
        let mut fragment_at = None;
        // The latest time of the frames decoded without the defragmenter.
        let mut latest = i64::MIN;
        for (i, (meta, b)) in records.iter().zip(block_of()).enumerate() {
            let (Some((fetched, _)), Some((share, span))) = (blocks.get(b), shares.get(b)) else {
                continue;
            };
            let frame = fetched.frame(meta, before + 1 + i as u64);
            let mut fragment = false;
            let decoded = Decoder::decode_unfragmented(&frame, &mut fragment);
            if fragment {
                fragment_at = Some(i);
                break;
            }
            latest = latest.max(frame.ts.as_nanos());
            placing.place(i, &frame, &decoded, (share, *span));
        }
        let Some(first) = fragment_at else {
            fragments.decoded(&mut lock(&fragments.fragments), k, latest);
            return;
        };
        // The rest of the stretch goes through the one defragmenter, in its turn.
        let Some(mut turn) = fragments.turn(k) else {
            return;
        };
        // What every frame before would have done to it: dropping sets older than the timeout.
        let unseen = std::mem::replace(&mut turn.unseen, i64::MIN).max(latest);
        let decoder = &mut turn.decoder;
        decoder.expire_fragments(unseen);
        for (i, (meta, b)) in records.iter().zip(block_of()).enumerate().skip(first) {
            let (Some((fetched, _)), Some((share, span))) = (blocks.get(b), shares.get(b)) else {
                continue;
            };
            let frame = fetched.frame(meta, before + 1 + i as u64);
            placing.place(i, &frame, &decoder.decode(&frame), (share, *span));
        }
        // The defragmenter saw every frame from the first fragment on.
        fragments.decoded(&mut turn, k, i64::MIN);
    }
}

/// Where a stretch's decoded frames go: each TCP segment to the batch of its connection's shard
/// (its payload as a range of the stretch's bytes), each skip to the counts, and after a frame the
/// looks for idle connections due then.
struct Placing<'p, E: Iterator<Item = (usize, i64)>> {
    batches: &'p mut [Batch],
    counts: &'p mut Summary,
    /// After which records (index in the stretch) idle connections are looked for, and the time.
    expiries: std::iter::Peekable<E>,
}

impl<E: Iterator<Item = (usize, i64)>> Placing<'_, E> {
    /// Places what decoding record `i` of the stretch, `frame`, gave (by reference: see
    /// [`Decoder::decode_unfragmented`]); the frame lies in `block` (shared, and where it is in
    /// memory).
    fn place(
        &mut self,
        i: usize,
        frame: &Frame<'_>,
        decoded: &Decoded<'_>,
        block: (&SharedBytes, (usize, usize)),
    ) {
        let at = Mark {
            frame: frame.index,
            ts: frame.ts,
        };
        let skipped = match decoded {
            Decoded::Tcp(seg) => {
                let (key, from_lo) = FlowKey::of_sent(seg);
                let w = share_of(key.spread(), self.batches.len());
                if let Some(batch) = self.batches.get_mut(w) {
                    batch.push(key, from_lo, seg, at, (**block.0).as_ref(), block);
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
