//! Per-direction TCP stream reassembly for a passive observer (RFC 9293 §3.4 sequence numbers).
//!
//! Place in the flow: the `tcp` tracker feeds every segment of one direction of a connection into that
//! direction's [`Reassembler`] (every ACK of the *other* direction into [`Reassembler::ack`], and that
//! side's next payload or FIN into [`Reassembler::peer_moved_on`]); the reassembler pushes in-order
//! [`Chunk`]s — bytes, or a [`Chunk::Gap`] for bytes the capture never holds — to the protocol classifier
//! and TLS deframer.
//!
//! # Positions
//!
//! Sequence numbers are 32-bit and wrap. Internally every byte has a 64-bit *stream offset*: offset 0 is
//! the byte after the SYN (`isn + 1`, see [`Reassembler::start`]) or, when no SYN was captured, the first
//! payload byte seen. A new sequence number is related to the current position with wrapping arithmetic
//! in a ±2^31 window (RFC 9293 §3.4.1: comparisons are modulo 2^32), so streams longer than 4 GiB and
//! streams that wrap past 2^32 work. Bytes placed before offset 0 (a segment older than the one that
//! started a mid-connection capture) are treated as old data.
//!
//! # Overlap policy: first received bytes win
//!
//! Like the "first" policy of most IDS engines, a byte is fixed by the *first* segment that carried it:
//! bytes that are buffered or already delivered are never replaced. When a later segment overlaps
//! buffered bytes they are compared, and if they differ the segment counts once in
//! [`StreamStats::overlap_conflicts`] (and sets [`SegmentNote::overlap_conflict`]). Bytes already
//! delivered are not kept, so overlaps with them are only counted as retransmitted, never compared.
//!
//! # Gaps
//!
//! A hole (missing bytes followed by something seen) is declared a gap, delivered as
//! [`Chunk::Gap`] with its length, after which the stream resumes — only once the capture can no longer
//! be expected to supply the bytes:
//! - when the peer, after an ACK covering the hole, sends something new (payload or a FIN; see
//!   [`Reassembler::peer_moved_on`]): the peer had the bytes and has acted on them, so a copy that a
//!   mirror port or a merge of two interfaces delayed would have come by now;
//! - when a cap forces it (see below);
//! - at [`Reassembler::flush`] (FIN, RST, end of capture, idle expiry, eviction).
//!
//! An ACK alone declares nothing: captures reorder data and ACKs, so a segment that comes after the ACK
//! covering it still fills its hole. Until the peer moves on, bytes after the hole wait in the buffer,
//! within the caps. A hole that is never filled is declared with the same length whichever rule
//! declares it, so a true loss costs only the wait.
//!
//! Bytes after the last byte seen are not a gap unless the FIN (which occupies one sequence number, RFC
//! 9293 §3.5) was seen after them. The FIN's position is given by [`Reassembler::fin`]: an ACK of FIN+1
//! is not a one-byte gap, and payload at or after the FIN is ignored (counted in
//! [`StreamStats::bytes_after_fin`]).
//!
//! # Bounds
//!
//! Only out-of-order bytes are ever copied (an in-order segment with nothing buffered is handed out
//! straight from the caller's slice). Buffered bytes are capped per direction (`max_buffer`), over all
//! connections by a shared [`Budget`], and the number of buffered segments is capped too
//! ([`Reassembler::with_max_segments`]). When a cap would be exceeded the earliest hole is declared a
//! gap, what is then contiguous is delivered, and the stream continues; every such event is counted
//! ([`StreamStats::cap_hits`], [`Budget::hits`]). After [`Reassembler::set_done`] nothing is buffered:
//! payload is only counted.
//!
//! Buffered segments sit in a `BTreeMap` keyed by stream offset and never overlap, so placing a segment
//! costs O(log n + k) for the k buffered segments it touches; nothing rescans the whole buffer.
//!
#![cfg_attr(feature = "unstable", doc = " ```")]
#![cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
//! use shakedown::tcp::{Budget, Chunk, Reassembler};
//!
//! let mut budget = Budget::new(1 << 20);
//! let mut r = Reassembler::new(64 << 10);
//! let mut got = Vec::new();
//! let mut out = |c: Chunk<'_>| match c {
//!     Chunk::Data(d) => got.extend_from_slice(d),
//!     Chunk::Gap(n) => got.extend(std::iter::repeat_n(b'?', n as usize)),
//! };
//! r.start(1000); // SYN: byte 0 is sequence 1001
//! r.segment(1006, b"world", &mut budget, &mut out); // out of order: buffered
//! r.segment(1001, b"hello", &mut budget, &mut out); // fills the hole: both delivered
//! r.segment(1016, b"!", &mut budget, &mut out); // a hole of 5 bytes before it
//! r.flush(&mut budget, &mut out); // end of capture: the hole is a gap
//! assert_eq!(got, b"helloworld?????!");
//! assert_eq!(r.stats().gaps, 1);
//! assert_eq!(budget.used(), 0);
//! ```
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use std::collections::BTreeMap;

/// A piece of a reassembled stream, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes of the stream were never captured; the stream resumes after them.
    Gap(u64),
}

/// A byte budget shared by the reassemblers of all connections: the sum of their buffered out-of-order
/// bytes never exceeds `max_bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    max: usize,
    used: usize,
    peak: usize,
    hits: u64,
}

impl Budget {
    /// A budget allowing `max_bytes` buffered bytes over all streams together.
    pub fn new(max_bytes: usize) -> Self {
        Budget {
            max: max_bytes,
            used: 0,
            peak: 0,
            hits: 0,
        }
    }

    /// The cap given to [`Budget::new`].
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes buffered now over all streams.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The most bytes ever buffered at once.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// How many times this budget was the cap that forced a gap.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    fn fits(&self, n: usize) -> bool {
        n <= self.max.saturating_sub(self.used)
    }

    fn take(&mut self, n: usize) {
        self.used = self.used.saturating_add(n);
        self.peak = self.peak.max(self.used);
    }

    fn give(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// What one segment given to [`Reassembler::segment`] turned out to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentNote {
    /// Some of its bytes had been seen before (already delivered or buffered).
    pub retransmission: bool,
    /// It started beyond the next expected byte (a hole before it).
    pub out_of_order: bool,
    /// It overlapped buffered bytes and disagreed with them (the buffered bytes were kept).
    pub overlap_conflict: bool,
    /// Some of its bytes lay at or after the FIN and were ignored.
    pub after_fin: bool,
    /// The direction was [done](Reassembler::set_done): the bytes were only counted.
    pub after_done: bool,
    /// Placing it hit a cap, which forced a gap.
    pub cap_hit: bool,
}

/// Counters of one direction of one connection. Byte counts are payload bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Segments given to [`Reassembler::segment`] (including empty ones).
    pub segments: u64,
    /// Bytes handed out as [`Chunk::Data`].
    pub bytes_delivered: u64,
    /// All payload bytes given, including those after [`Reassembler::set_done`] or the FIN.
    pub bytes_seen: u64,
    /// Bytes that had been seen before (already delivered, or overlapping buffered bytes).
    pub retransmitted_bytes: u64,
    /// Segments that started beyond the next expected byte.
    pub out_of_order_segments: u64,
    /// Segments that overlapped buffered bytes with different contents.
    pub overlap_conflicts: u64,
    /// Gaps declared.
    pub gaps: u64,
    /// Bytes declared missing, over all gaps.
    pub gap_bytes: u64,
    /// Times a cap (per-direction bytes, segment count, or the shared budget) forced a gap.
    pub cap_hits: u64,
    /// Payload bytes at or after the FIN, ignored.
    pub bytes_after_fin: u64,
    /// Payload bytes given after [`Reassembler::set_done`], counted only.
    pub bytes_after_done: u64,
    /// SYNs whose sequence number disagreed with the stream's start.
    pub syn_conflicts: u64,
    /// FINs at a different place than an earlier FIN, or before bytes already delivered (ignored).
    pub fin_conflicts: u64,
    /// At the last [`Reassembler::flush`]: bytes the peer acknowledged beyond everything seen. May be 1
    /// for an uncaptured FIN.
    pub acked_unseen_bytes: u64,
    /// Stream offset of the next byte to deliver (bytes delivered plus gap bytes since offset 0).
    pub next_offset: u64,
}

/// Segments buffered per direction unless [`Reassembler::with_max_segments`] says otherwise.
pub const DEFAULT_MAX_SEGMENTS: usize = 1024;

/// Reassembles one direction of one TCP connection. See the [module docs](self) for the policy.
///
/// Dropping a reassembler does not return its buffered bytes to the shared [`Budget`] (it holds no
/// reference to it): call [`Reassembler::flush`] or [`Reassembler::set_done`] first, as eviction does.
#[derive(Debug, Clone)]
pub struct Reassembler {
    max_buffer: usize,
    max_segments: usize,
    started: bool,
    /// Sequence number of stream offset 0.
    base: u32,
    isn: Option<u32>,
    /// Offset of the next byte to deliver; every buffered segment starts strictly after it.
    next: u64,
    /// Out-of-order bytes, keyed by offset; entries never overlap or touch `next`.
    segs: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    fin: Option<u64>,
    /// [`Reassembler::fin`] has no budget to return trimmed bytes to, so trimming waits for the next call
    /// that has one.
    fin_trim_pending: bool,
    /// Highest offset the peer acknowledged.
    acked: u64,
    /// Highest acknowledged offset the peer has since moved on from ([`Reassembler::peer_moved_on`]):
    /// holes below it (and below the FIN) are declared gaps.
    acked_before_move: u64,
    done: bool,
    stats: StreamStats,
}

impl Reassembler {
    /// A reassembler buffering at most `max_buffer` out-of-order bytes (and [`DEFAULT_MAX_SEGMENTS`]
    /// segments).
    pub fn new(max_buffer: usize) -> Self {
        Reassembler {
            max_buffer,
            max_segments: DEFAULT_MAX_SEGMENTS,
            started: false,
            base: 0,
            isn: None,
            next: 0,
            segs: BTreeMap::new(),
            buffered: 0,
            fin: None,
            fin_trim_pending: false,
            acked: 0,
            acked_before_move: 0,
            done: false,
            stats: StreamStats::default(),
        }
    }

    /// Caps the number of separately buffered segments (each one is at most one hole in front of it).
    pub fn with_max_segments(mut self, max_segments: usize) -> Self {
        self.max_segments = max_segments;
        self
    }

    /// A SYN with sequence number `isn` was seen: stream offset 0 is `isn + 1`. A SYN for a stream
    /// already started is a retransmission if it agrees and a conflict (counted, ignored) if not.
    pub fn start(&mut self, isn: u32) {
        let base = isn.wrapping_add(1);
        if self.started {
            match self.isn {
                Some(known) if known == isn => {}
                None if base == self.base => self.isn = Some(isn),
                _ => self.stats.syn_conflicts += 1,
            }
            return;
        }
        self.started = true;
        self.base = base;
        self.isn = Some(isn);
    }

    /// Whether a SYN or a first payload byte fixed the stream's offset 0.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Offers one segment's payload. In-order bytes (and buffered bytes they make contiguous) go to
    /// `out` at once; out-of-order bytes are buffered. An empty payload does nothing. Without a SYN the
    /// first non-empty segment starts the stream.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        budget: &mut Budget,
        out: &mut impl FnMut(Chunk<'_>),
    ) -> SegmentNote {
        let mut note = SegmentNote::default();
        let len = payload.len() as u64;
        self.stats.segments += 1;
        self.stats.bytes_seen += len;
        if self.done {
            self.stats.bytes_after_done += len;
            note.after_done = len > 0;
            return note;
        }
        if payload.is_empty() {
            return note;
        }
        if !self.started {
            self.started = true;
            self.base = seq;
        }
        self.apply_fin_trim(budget);

        let mut start = self.rel(seq);
        let mut end = start.saturating_add(len as i64);
        let mut data = payload;
        if let Some(fin) = self.fin {
            let fin = fin as i64;
            if end > fin {
                let cut = end - start.max(fin);
                self.stats.bytes_after_fin += cut as u64;
                note.after_fin = true;
                end -= cut;
                data = sub(data, 0, data.len().saturating_sub(cut as usize));
            }
        }
        let next = self.next as i64;
        if end <= next {
            if !data.is_empty() {
                self.stats.retransmitted_bytes += data.len() as u64;
                note.retransmission = true;
            }
            return note;
        }
        if start < next {
            let cut = (next - start) as usize;
            self.stats.retransmitted_bytes += cut as u64;
            note.retransmission = true;
            data = sub(data, cut, data.len());
            start = next;
        }
        let start = start as u64;
        if start > self.next {
            note.out_of_order = true;
            self.stats.out_of_order_segments += 1;
        }
        // Compare with buffered bytes once, before forced gaps may deliver them.
        let (overlap, conflict) = self.check_overlap(start, data);
        if overlap > 0 {
            self.stats.retransmitted_bytes += overlap;
            note.retransmission = true;
        }
        if conflict {
            self.stats.overlap_conflicts += 1;
            note.overlap_conflict = true;
        }
        self.place(start, data, budget, out, &mut note);
        self.settle(budget, out);
        note
    }

    /// The peer acknowledged everything before `ack` (taken from the OTHER direction's segments). Only
    /// noted: a segment the capture holds may still come after the ACK that covers it (mirror ports and
    /// merged captures reorder), so holes below it become gaps when the peer next moves on
    /// ([`Reassembler::peer_moved_on`]), a cap forces it, or at [`Reassembler::flush`].
    pub fn ack(&mut self, ack: u32) {
        if !self.started || self.done {
            return;
        }
        let a = self.rel(ack);
        if a > self.acked as i64 {
            self.acked = a as u64;
        }
    }

    /// The peer sent something new (payload or a FIN) after the ACKs given so far; call it before that
    /// segment's own ACK. Holes below those ACKs that have seen bytes (or the FIN) after them are
    /// declared gaps: the peer had those bytes and acted on them, so the capture will not supply them.
    pub fn peer_moved_on(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        if !self.started || self.done || self.acked <= self.acked_before_move {
            return;
        }
        self.acked_before_move = self.acked;
        self.apply_fin_trim(budget);
        self.settle(budget, out);
    }

    /// `len` bytes from sequence number `seq` were on the wire but are not in the capture (the snap
    /// length cut the segment that carried them): when they are the next bytes in order they are
    /// declared a gap at once, so what follows them is read as soon as it comes (and what was cut
    /// is told where it happened, not at the end). Bytes some buffered segment holds are kept.
    pub fn cut(
        &mut self,
        seq: u32,
        len: u32,
        budget: &mut Budget,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        if !self.started || self.done || len == 0 || self.rel(seq) != self.next as i64 {
            return;
        }
        let mut n = u64::from(len);
        if let Some(first) = self.first_start() {
            n = n.min(first.saturating_sub(self.next));
        }
        if let Some(fin) = self.fin {
            n = n.min(fin.saturating_sub(self.next));
        }
        self.gap(n, out);
        self.drain(budget, out);
    }

    /// A FIN was seen at sequence number `seq` (the number it occupies: the segment's seq plus its
    /// payload length). Payload at or after it is ignored from now on. A FIN elsewhere than an earlier
    /// one, or before bytes already delivered, is counted as a conflict and ignored.
    pub fn fin(&mut self, seq: u32) {
        if self.done {
            return;
        }
        if !self.started {
            self.started = true;
            self.base = seq;
        }
        let at = self.rel(seq);
        if at < self.next as i64 {
            self.stats.fin_conflicts += 1;
            return;
        }
        match self.fin {
            Some(known) if known == at as u64 => {}
            Some(_) => self.stats.fin_conflicts += 1,
            None => {
                self.fin = Some(at as u64);
                self.fin_trim_pending = !self.segs.is_empty();
            }
        }
    }

    /// Delivers everything buffered, holes (and missing bytes before a seen FIN) as gaps. The stream
    /// stays usable: later segments continue after the last byte delivered.
    pub fn flush(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        if self.done {
            return;
        }
        self.apply_fin_trim(budget);
        while let Some(first) = self.first_start() {
            self.gap(first - self.next, out);
            self.drain(budget, out);
        }
        if let Some(fin) = self.fin
            && fin > self.next
        {
            self.gap(fin - self.next, out);
        }
        let acked = self.acked.min(self.fin.unwrap_or(u64::MAX));
        self.stats.acked_unseen_bytes = acked.saturating_sub(self.next);
    }

    /// The consumer needs no more of this direction: buffers are freed (the budget gets its bytes back)
    /// and later payload is only counted.
    pub fn set_done(&mut self, budget: &mut Budget) {
        self.done = true;
        budget.give(self.buffered);
        self.buffered = 0;
        self.segs.clear();
        self.fin_trim_pending = false;
    }

    /// Whether [`Reassembler::set_done`] was called.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Out-of-order bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Stream offset of the FIN, if one was seen.
    pub fn fin_offset(&self) -> Option<u64> {
        self.fin
    }

    /// Counters so far.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Offset of `seq` relative to `next`, in a ±2^31 window (may be negative: before offset 0).
    fn rel(&self, seq: u32) -> i64 {
        // Truncation is the point: the low 32 bits of the offset are what sequence numbers carry.
        let cur = self.base.wrapping_add(self.next as u32);
        let d = seq.wrapping_sub(cur) as i32;
        (self.next as i64).saturating_add(i64::from(d))
    }

    /// Where acknowledgements allow gaps up to: the peer's ACK it has since moved on from, but never
    /// past the FIN.
    fn ack_limit(&self) -> u64 {
        self.acked_before_move.min(self.fin.unwrap_or(u64::MAX))
    }

    fn first_start(&self) -> Option<u64> {
        self.segs.keys().next().copied()
    }

    fn emit(&mut self, data: &[u8], out: &mut impl FnMut(Chunk<'_>)) {
        if data.is_empty() {
            return;
        }
        self.next += data.len() as u64;
        self.stats.bytes_delivered += data.len() as u64;
        self.stats.next_offset = self.next;
        out(Chunk::Data(data));
    }

    fn gap(&mut self, n: u64, out: &mut impl FnMut(Chunk<'_>)) {
        if n == 0 {
            return;
        }
        self.next += n;
        self.stats.gaps += 1;
        self.stats.gap_bytes += n;
        self.stats.next_offset = self.next;
        out(Chunk::Gap(n));
    }

    /// Delivers the buffered segments that start exactly at `next`.
    fn drain(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        while self.first_start() == Some(self.next) {
            let Some((_, bytes)) = self.segs.pop_first() else {
                break;
            };
            self.release(bytes.len(), budget);
            self.emit(&bytes, out);
        }
    }

    fn release(&mut self, n: usize, budget: &mut Budget) {
        self.buffered = self.buffered.saturating_sub(n);
        budget.give(n);
    }

    /// Declares as gaps the holes below the ACK limit that have something seen after them.
    fn settle(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        let limit = self.ack_limit();
        while self.next < limit {
            let Some(seen) = self.first_start().or(self.fin) else {
                break;
            };
            // `seen > next` always holds (buffered segments and an unreached FIN lie ahead), so each
            // round makes progress.
            let to = seen.min(limit);
            if to <= self.next {
                break;
            }
            self.gap(to - self.next, out);
            self.drain(budget, out);
        }
    }

    /// Bytes of buffered segments overlapping `[start, start + data.len())`, and whether any differ.
    fn check_overlap(&self, start: u64, data: &[u8]) -> (u64, bool) {
        let end = start + data.len() as u64;
        let mut overlap = 0;
        let mut conflict = false;
        let before = self.segs.range(..start).next_back();
        for (&s, bytes) in before.into_iter().chain(self.segs.range(start..end)) {
            let a = s.max(start);
            let b = (s + bytes.len() as u64).min(end);
            if b <= a {
                continue;
            }
            overlap += b - a;
            let old = sub(bytes, (a - s) as usize, (b - s) as usize);
            let new = sub(data, (a - start) as usize, (b - start) as usize);
            conflict |= old != new;
        }
        (overlap, conflict)
    }

    /// Ranges of `[start, end)` not covered by buffered segments, in order.
    fn uncovered(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut pieces = Vec::new();
        let mut pos = start;
        if let Some((&s, bytes)) = self.segs.range(..start).next_back() {
            pos = pos.max((s + bytes.len() as u64).min(end));
        }
        for (&s, bytes) in self.segs.range(start..end) {
            if s > pos {
                pieces.push((pos, s));
            }
            pos = pos.max((s + bytes.len() as u64).min(end));
        }
        if pos < end {
            pieces.push((pos, end));
        }
        pieces
    }

    /// Delivers or buffers `data` at `start >= next`, forcing gaps when a cap would be exceeded.
    fn place(
        &mut self,
        mut start: u64,
        mut data: &[u8],
        budget: &mut Budget,
        out: &mut impl FnMut(Chunk<'_>),
        note: &mut SegmentNote,
    ) {
        let mut uncovered: Option<(Vec<(u64, u64)>, usize)> = None;
        // Every `continue` below first moves `next` forward, so the loop ends.
        loop {
            if start < self.next {
                // A forced gap delivered buffered bytes this segment overlapped (already counted).
                let cut = usize::try_from(self.next - start).unwrap_or(usize::MAX);
                if cut >= data.len() {
                    return;
                }
                data = sub(data, cut, data.len());
                start = self.next;
                uncovered = None;
            }
            if data.is_empty() {
                return;
            }
            if start == self.next {
                self.deliver_in_order(start, data, budget, out);
                return;
            }
            let limit = self.ack_limit();
            if limit > self.next {
                // The peer acknowledged past the hole in front of this segment, then moved on.
                let to = limit.min(start).min(self.first_start().unwrap_or(u64::MAX));
                self.gap(to - self.next, out);
                self.drain(budget, out);
                continue;
            }
            // While `next < start`, forced gaps only drain segments that end at or before `start`, so
            // the uncovered pieces stay valid: computed once, which keeps repeated cap hits cheap.
            let (pieces, new_bytes) = match &uncovered {
                Some(u) => u,
                None => {
                    let pieces = self.uncovered(start, start + data.len() as u64);
                    let n: u64 = pieces.iter().map(|&(a, b)| b - a).sum();
                    uncovered.insert((pieces, usize::try_from(n).unwrap_or(usize::MAX)))
                }
            };
            let new_bytes = *new_bytes;
            if new_bytes == 0 {
                return;
            }
            let segs_ok = self.segs.len().saturating_add(pieces.len()) <= self.max_segments;
            let buffer_ok = new_bytes <= self.max_buffer.saturating_sub(self.buffered);
            let budget_ok = budget.fits(new_bytes);
            if segs_ok && buffer_ok && budget_ok {
                self.insert(start, data, pieces, budget);
                return;
            }
            self.stats.cap_hits += 1;
            note.cap_hit = true;
            if !budget_ok {
                budget.hits += 1;
            }
            // The earliest hole becomes a gap: the one before the first buffered segment, or (nothing
            // buffered before it) the one before this segment, which then goes out without a copy.
            let to = match self.first_start() {
                Some(s) if s < start => s,
                _ => start,
            };
            self.gap(to - self.next, out);
            self.drain(budget, out);
        }
    }

    /// `start == next`: hands out `data` straight from the caller's slice, interleaved with any buffered
    /// segments inside its range (their bytes win), then whatever has become contiguous.
    fn deliver_in_order(
        &mut self,
        start: u64,
        data: &[u8],
        budget: &mut Budget,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let end = start + data.len() as u64;
        while self.next < end {
            let pos = self.next;
            match self.first_start() {
                Some(s) if s <= pos => {
                    let Some((_, bytes)) = self.segs.pop_first() else {
                        break;
                    };
                    self.release(bytes.len(), budget);
                    self.emit(&bytes, out);
                }
                Some(s) if s < end => {
                    self.emit(sub(data, (pos - start) as usize, (s - start) as usize), out);
                }
                _ => self.emit(sub(data, (pos - start) as usize, data.len()), out),
            }
            if self.next == pos {
                break; // progress guard: cannot happen with consistent offsets
            }
        }
        self.drain(budget, out);
    }

    /// Copies the uncovered `pieces` of `data` into the buffer, appending to an adjacent predecessor and
    /// absorbing an adjacent successor no longer than the result (small-into-large keeps copying linear
    /// up to a log factor).
    fn insert(&mut self, start: u64, data: &[u8], pieces: &[(u64, u64)], budget: &mut Budget) {
        for &(a, b) in pieces {
            let bytes = sub(data, (a - start) as usize, (b - start) as usize);
            let n = bytes.len();
            self.buffered += n;
            budget.take(n);
            let mut key = a;
            let mut appended = false;
            if let Some((&s, prev)) = self.segs.range_mut(..a).next_back()
                && s + prev.len() as u64 == a
            {
                prev.extend_from_slice(bytes);
                key = s;
                appended = true;
            }
            if !appended {
                self.segs.insert(a, bytes.to_vec());
            }
            let len = self.segs.get(&key).map_or(0, Vec::len);
            let succ = key + len as u64;
            if self.segs.get(&succ).is_some_and(|v| v.len() <= len)
                && let Some(tail) = self.segs.remove(&succ)
                && let Some(v) = self.segs.get_mut(&key)
            {
                v.extend_from_slice(&tail);
            }
        }
    }

    /// Drops buffered bytes at or after a FIN learnt since the last call with a budget.
    fn apply_fin_trim(&mut self, budget: &mut Budget) {
        if !std::mem::take(&mut self.fin_trim_pending) {
            return;
        }
        let Some(fin) = self.fin else { return };
        let mut removed: usize = self.segs.split_off(&fin).values().map(Vec::len).sum();
        if let Some((&s, last)) = self.segs.iter_mut().next_back() {
            let keep = usize::try_from(fin - s).unwrap_or(usize::MAX);
            if last.len() > keep {
                removed += last.len() - keep;
                last.truncate(keep);
            }
        }
        self.stats.bytes_after_fin += removed as u64;
        self.release(removed, budget);
    }
}

/// `data[a..b]`, or empty if out of range (offsets here are computed, but never trusted to index).
fn sub(data: &[u8], a: usize, b: usize) -> &[u8] {
    data.get(a..b).unwrap_or(&[])
}

#[cfg(test)]
mod tests;
