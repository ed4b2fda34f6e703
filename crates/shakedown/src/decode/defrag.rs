//! IP fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5), bounded by the number of datagrams, the
//! bytes held and a timeout in capture time. Shared by IPv4 and IPv6: the walker gives each
//! fragment's upper-layer bytes with their offset, and gets back the reassembled upper-layer
//! payload.
//!
//! `etherparse::defrag` is not used: it has no caps on datagrams or bytes, renews a datagram's time
//! on every fragment, needs a strictly sliced packet (no snap-length-cut frames) and keys on the
//! outer frame only.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::FragmentDrop;

/// Largest reassembled upper-layer payload (the IPv4 total length and IPv6 payload length are 16
/// bits).
const MAX_DATAGRAM: u32 = 65_535;

/// Buffers kept for reuse after a datagram completes or is dropped.
const SPARE_BUFFERS: usize = 16;

/// Identifies one datagram being reassembled: RFC 791's (source, destination, protocol,
/// identification), RFC 8200's (source, destination, identification), plus the capture interface so
/// that two links never mix. VLAN tags and tunnel headers are not part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    pub interface: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
}

/// What a datagram takes from its fragment at offset 0 only: the upper-layer protocol (RFC 8200
/// §4.5: only that fragment's Next Header counts) and the TTL or hop limit (fragments may have
/// crossed different routers; the first is the one the segment reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragHead {
    pub proto: u8,
    pub hop_limit: u8,
}

#[derive(Debug)]
struct FragSet {
    /// Tells this datagram's entry in the expiry queue (which holds the time of its first fragment:
    /// the timer is not renewed by later ones) from a stale one of an earlier datagram with the
    /// same key.
    generation: u64,
    data: Vec<u8>,
    /// Received byte ranges, sorted, disjoint and not adjacent.
    ranges: Vec<(u32, u32)>,
    /// The datagram's end, once the last fragment (no More Fragments) arrived.
    end: Option<u32>,
    /// From the offset-zero fragment (until it arrives, from the first to arrive).
    head: FragHead,
}

/// Outcome of adding one fragment.
pub(crate) enum FragOutcome<'a> {
    /// Waiting for more fragments.
    Held,
    /// The fragment (and, except for `TooManySets`, its datagram) was thrown away.
    Dropped(FragmentDrop),
    /// The datagram is complete: its offset-zero fragment's head and the payload.
    Complete(FragHead, &'a [u8]),
}

#[derive(Debug)]
pub(crate) struct Defragmenter {
    sets: HashMap<FragKey, FragSet>,
    /// Datagrams in creation order, for expiry; entries whose generation no longer matches are
    /// stale.
    order: VecDeque<(i64, u64, FragKey)>,
    bytes: usize,
    max_sets: usize,
    max_bytes: usize,
    timeout_ns: i64,
    /// The last completed datagram (what a `Complete` borrows).
    done: Vec<u8>,
    spare: Vec<Vec<u8>>,
    next_generation: u64,
    expired: u64,
    /// The datagram of the last fragment given to [`Defragmenter::add`] since
    /// [`Defragmenter::forget_last`].
    last: Option<FragKey>,
}

impl Defragmenter {
    pub fn new(max_sets: usize, max_bytes: usize, timeout_ns: i64) -> Self {
        Defragmenter {
            sets: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_sets,
            max_bytes,
            timeout_ns,
            done: Vec::new(),
            spare: Vec::new(),
            next_generation: 0,
            expired: 0,
            last: None,
        }
    }

    /// The datagram of the last fragment added since [`Defragmenter::forget_last`].
    pub fn last(&self) -> Option<FragKey> {
        self.last
    }

    /// Forgets which datagram the last fragment belonged to (before a new frame).
    #[inline]
    pub fn forget_last(&mut self) {
        self.last = None;
    }

    pub fn pending(&self) -> usize {
        self.sets.len()
    }

    pub fn expired(&self) -> u64 {
        self.expired
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drops datagrams whose first fragment is older than the timeout at `now_ns`. Creation order
    /// is capture order, so this pops from the front; a capture whose clock steps back only delays
    /// expiry.
    pub fn expire(&mut self, now_ns: i64) {
        // The common case (no fragments around) costs one comparison.
        while let Some(&(first_ns, generation, key)) = self.order.front() {
            if now_ns.saturating_sub(first_ns) <= self.timeout_ns {
                break;
            }
            self.order.pop_front();
            if self
                .sets
                .get(&key)
                .is_some_and(|s| s.generation == generation)
            {
                self.remove(&key);
                self.expired += 1;
            }
        }
    }

    fn remove(&mut self, key: &FragKey) {
        if let Some(set) = self.sets.remove(key) {
            self.bytes = self.bytes.saturating_sub(set.data.len());
            self.recycle(set.data);
        }
    }

    fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            buf.clear();
            self.spare.push(buf);
        }
    }

    fn drop_set(&mut self, key: &FragKey, why: FragmentDrop) -> FragOutcome<'_> {
        self.remove(key);
        FragOutcome::Dropped(why)
    }

    /// Adds the fragment of datagram `key` holding upper-layer bytes `payload` at byte `offset`;
    /// `more` is the More Fragments flag and `head` the fragment's upper-layer protocol and TTL
    /// or hop limit.
    pub fn add(
        &mut self,
        key: FragKey,
        now_ns: i64,
        offset: u32,
        more: bool,
        head: FragHead,
        payload: &[u8],
    ) -> FragOutcome<'_> {
        self.last = Some(key);
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let end = offset.saturating_add(len);
        if end > MAX_DATAGRAM {
            return self.drop_set(&key, FragmentDrop::TooBig);
        }
        if !self.sets.contains_key(&key) {
            if self.sets.len() >= self.max_sets {
                return FragOutcome::Dropped(FragmentDrop::TooManySets);
            }
            let generation = self.next_generation;
            self.next_generation += 1;
            let data = self.spare.pop().unwrap_or_default();
            let set = FragSet {
                generation,
                data,
                ranges: Vec::new(),
                end: None,
                head,
            };
            self.sets.insert(key, set);
            self.order.push_back((now_ns, generation, key));
            self.compact_order();
        }
        let Some(set) = self.sets.get_mut(&key) else {
            return FragOutcome::Dropped(FragmentDrop::Inconsistent);
        };

        // Where the datagram ends must be agreed by every fragment.
        let inconsistent = if more {
            set.end.is_some_and(|e| end > e)
        } else {
            set.end.is_some_and(|e| e != end)
                || set
                    .ranges
                    .last()
                    .is_some_and(|&(_, last_end)| last_end > end)
        };
        if inconsistent {
            return self.drop_set(&key, FragmentDrop::Inconsistent);
        }

        // Overlap policy (see FragmentDrop): identical overlapping bytes are a duplicate, different
        // ones make the datagram ambiguous.
        for &(s, e) in &set.ranges {
            let (lo, hi) = (s.max(offset), e.min(end));
            if lo < hi {
                let held = set.data.get(lo as usize..hi as usize);
                let new = payload.get((lo - offset) as usize..(hi - offset) as usize);
                if held != new {
                    return self.drop_set(&key, FragmentDrop::Overlap);
                }
            }
        }

        let old_len = set.data.len();
        let new_len = old_len.max(end as usize);
        let growth = new_len - old_len;
        if self.bytes.saturating_add(growth) > self.max_bytes {
            return self.drop_set(&key, FragmentDrop::TooManyBytes);
        }
        self.bytes += growth;
        set.data.resize(new_len, 0);
        if let Some(dst) = set.data.get_mut(offset as usize..end as usize) {
            dst.copy_from_slice(payload);
        }
        if !more {
            set.end = Some(end);
        }
        if offset == 0 {
            set.head = head;
        }
        insert_range(&mut set.ranges, offset, end);

        let complete = set.end.is_some_and(|e| set.ranges.as_slice() == [(0, e)])
            || (set.end == Some(0) && set.ranges.is_empty());
        if !complete {
            return FragOutcome::Held;
        }
        let Some(set) = self.sets.remove(&key) else {
            return FragOutcome::Dropped(FragmentDrop::Inconsistent);
        };
        self.bytes = self.bytes.saturating_sub(set.data.len());
        let old = std::mem::replace(&mut self.done, set.data);
        self.recycle(old);
        self.done.truncate(set.end.unwrap_or(end) as usize);
        FragOutcome::Complete(set.head, &self.done)
    }

    /// Keeps the expiry queue proportional to the live datagrams: entries of completed or dropped
    /// datagrams stay in it until they reach the front, so rebuild it when they dominate.
    fn compact_order(&mut self) {
        if self.order.len() > 64 && self.order.len() > 2 * self.sets.len() {
            let sets = &self.sets;
            self.order
                .retain(|(_, g, k)| sets.get(k).is_some_and(|s| s.generation == *g));
        }
    }
}

/// Inserts `[start, end)` into sorted disjoint ranges, merging overlapping and adjacent ones.
fn insert_range(ranges: &mut Vec<(u32, u32)>, start: u32, end: u32) {
    if start >= end {
        return;
    }
    // Ranges i..j touch the new one (overlap or adjacency).
    let i = ranges.partition_point(|&(_, e)| e < start);
    let j = ranges.partition_point(|&(s, _)| s <= end);
    let (Some(&(first_start, _)), Some(&(_, last_end))) =
        (ranges.get(i), j.checked_sub(1).and_then(|k| ranges.get(k)))
    else {
        ranges.insert(i, (start, end));
        return;
    };
    if i >= j {
        ranges.insert(i, (start, end));
        return;
    }
    let merged = (start.min(first_start), end.max(last_end));
    ranges.drain(i + 1..j);
    if let Some(r) = ranges.get_mut(i) {
        *r = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(id: u32) -> FragKey {
        FragKey {
            interface: 0,
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id,
            proto: 6,
        }
    }

    const TCP: FragHead = FragHead {
        proto: 6,
        hop_limit: 64,
    };

    fn outcome(o: FragOutcome<'_>) -> Result<Option<Vec<u8>>, FragmentDrop> {
        match o {
            FragOutcome::Held => Ok(None),
            FragOutcome::Complete(_, d) => Ok(Some(d.to_vec())),
            FragOutcome::Dropped(w) => Err(w),
        }
    }

    #[test]
    fn ranges_merge_like_a_bitmap() {
        // Compare against a bitmap model over pseudo-random insertions.
        let mut seed = 12345u32;
        for _ in 0..200 {
            let mut ranges = Vec::new();
            let mut bitmap = [false; 64];
            for _ in 0..8 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let s = (seed >> 8) % 64;
                let l = (seed >> 20) % 16;
                let e = (s + l).min(64);
                insert_range(&mut ranges, s, e);
                for b in &mut bitmap[s as usize..e as usize] {
                    *b = true;
                }
                let mut model = Vec::new();
                let mut i = 0;
                while i < 64 {
                    if bitmap[i] {
                        let st = i;
                        while i < 64 && bitmap[i] {
                            i += 1;
                        }
                        model.push((st as u32, i as u32));
                    } else {
                        i += 1;
                    }
                }
                assert_eq!(ranges, model);
            }
        }
    }

    #[test]
    fn reassembles_any_order() {
        let data: Vec<u8> = (0..48u8).collect();
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut d = Defragmenter::new(10, 1 << 20, 1_000);
            let mut result = None;
            for (n, &i) in order.iter().enumerate() {
                let part = &data[i * 16..i * 16 + 16];
                let r = outcome(d.add(key(1), 0, (i * 16) as u32, i != 2, TCP, part)).unwrap();
                if n < 2 {
                    assert_eq!(r, None);
                } else {
                    result = r;
                }
            }
            assert_eq!(result.as_deref(), Some(&data[..]));
            assert_eq!((d.pending(), d.bytes()), (0, 0));
        }
    }

    #[test]
    fn duplicate_ok_conflict_dropped() {
        let mut d = Defragmenter::new(10, 1 << 20, 1_000);
        assert_eq!(outcome(d.add(key(1), 0, 0, true, TCP, &[1; 16])), Ok(None));
        assert_eq!(outcome(d.add(key(1), 0, 8, true, TCP, &[1; 16])), Ok(None));
        assert_eq!(
            outcome(d.add(key(1), 0, 16, true, TCP, &[2; 16])),
            Err(FragmentDrop::Overlap)
        );
        assert_eq!(d.pending(), 0);
        assert_eq!(d.bytes(), 0);
    }

    #[test]
    fn caps_and_timeout() {
        let mut d = Defragmenter::new(2, 40, 1_000);
        assert_eq!(outcome(d.add(key(1), 0, 0, true, TCP, &[0; 16])), Ok(None));
        assert_eq!(outcome(d.add(key(2), 10, 0, true, TCP, &[0; 16])), Ok(None));
        assert_eq!(
            outcome(d.add(key(3), 20, 0, true, TCP, &[0; 8])),
            Err(FragmentDrop::TooManySets)
        );
        assert_eq!(
            outcome(d.add(key(2), 20, 16, true, TCP, &[0; 16])),
            Err(FragmentDrop::TooManyBytes)
        );
        assert_eq!(d.pending(), 1);
        d.expire(1_000);
        assert_eq!(d.pending(), 1);
        d.expire(1_001);
        assert_eq!((d.pending(), d.expired(), d.bytes()), (0, 1, 0));
        assert_eq!(
            outcome(d.add(key(1), 0, 65_530, false, TCP, &[0; 16])),
            Err(FragmentDrop::TooBig)
        );
    }

    #[test]
    fn inconsistent_end() {
        let mut d = Defragmenter::new(10, 1 << 20, 1_000);
        assert_eq!(
            outcome(d.add(key(1), 0, 16, false, TCP, &[0; 16])),
            Ok(None)
        );
        assert_eq!(
            outcome(d.add(key(1), 0, 8, false, TCP, &[0; 8])),
            Err(FragmentDrop::Inconsistent)
        );
        assert_eq!(
            outcome(d.add(key(1), 0, 16, false, TCP, &[0; 16])),
            Ok(None)
        );
        assert_eq!(
            outcome(d.add(key(1), 0, 24, true, TCP, &[0; 16])),
            Err(FragmentDrop::Inconsistent)
        );
    }

    #[test]
    fn order_queue_stays_bounded() {
        let mut d = Defragmenter::new(10, 1 << 20, i64::MAX);
        for id in 0..10_000 {
            assert_eq!(outcome(d.add(key(id), 0, 8, false, TCP, &[0; 8])), Ok(None));
            assert!(
                outcome(d.add(key(id), 0, 0, true, TCP, &[0; 8]))
                    .unwrap()
                    .is_some()
            );
        }
        assert!(d.order.len() <= 130, "{}", d.order.len());
    }
}
