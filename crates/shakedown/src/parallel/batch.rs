//! What travels from the thread that decodes a stretch to the shards: each TCP segment packed
//! small, its payload a range of the stretch's bytes (shared, not copied), and the looks for idle
//! connections, in capture order.

use std::sync::Arc;

use crate::capture::SharedBytes;
use crate::decode::{IpFacts, TcpFlags, TcpSegment};
use crate::dissector::shard::Shard;
use crate::flow::FlowKey;
use crate::verdict::Mark;

/// A TCP segment on its way to its shard, packed small (the shard's thread often reads it from
/// another core's cache; 88 bytes on 64-bit targets): its addresses are its key's, its payload is
/// in the batch (see [`Payload`]).
struct Segment {
    /// The connection's key (worked out once, by the decoding thread, to choose the shard).
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
/// blocks the capture was read into (where the frame lies), or of the batch's own bytes (`block`
/// is [`Payload::COPIED`]: put together from IP fragments, so not in the capture's blocks).
///
/// Offsets are 32 bits to keep [`Segment`] small: a payload further than 4 GiB into a block (only
/// in a capture held whole in memory) travels as a copy instead, and a batch's own bytes stay far
/// below that (a batch holds the frames of one stretch, each giving at most one reassembled
/// datagram of 64 KiB).
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

/// What a shard is given to do, in capture order.
enum ShardWork {
    /// Track this segment.
    Segment(Segment),
    /// Look for idle connections at capture time `now`, after frame `frame`.
    Expire { now: i64, frame: u64 },
}

/// One stretch's work for one shard: every frame up to `through` has been handed out.
#[derive(Default)]
pub(super) struct Batch {
    items: Vec<ShardWork>,
    bytes: Vec<u8>,
    /// Shares of the blocks the capture was read into, with where each is (address, length).
    blocks: Vec<(SharedBytes, (usize, usize))>,
    /// The last frame of the stretch.
    pub(super) through: u64,
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
        self.items.push(ShardWork::Segment(seg));
    }

    /// Adds a segment whose payload lies in `whole`, the bytes of `block` (at `span` in memory),
    /// as a range of them; or a copy of the payload if it lies elsewhere (put together from IP
    /// fragments, or an empty slice of no frame's) or too far in (see [`Payload`]).
    pub(super) fn push(
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
        let payload = Payload::new(self.share(span, || Arc::clone(block)), range);
        let seg = Segment::of(key, from_lo, seg, at, payload);
        self.items.push(ShardWork::Segment(seg));
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

/// Every batch's shard looks for idle connections at `now`, after frame `frame`.
pub(super) fn expire(batches: &mut [Batch], now: i64, frame: u64) {
    for batch in batches {
        batch.items.push(ShardWork::Expire { now, frame });
    }
}

/// The range of `part` within `whole` (by address), if it lies there.
fn range_within(whole: &[u8], part: &[u8]) -> Option<std::ops::Range<usize>> {
    let from = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let to = from.checked_add(part.len())?;
    (to <= whole.len()).then_some(from..to)
}

/// The shard (below `n`) a hash maps to: the hash scaled to `0..n` by a multiplication, not a
/// division (a 64-bit division was a tenth of the decoding thread's own time).
pub(super) fn share_of(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

/// Hands a batch's segments and looks for idle connections to `shard`, in order, and empties the
/// batch (letting go of its shares of the capture's blocks, so they can be reused).
pub(super) fn apply(shard: &mut Shard, batch: &mut Batch) {
    let blocks = batch.block_bytes();
    // Items are read where they are (moving each out first and reading it back at once stalled
    // the CPU on every address).
    for item in &batch.items {
        match item {
            ShardWork::Segment(s) => {
                let seg = s.segment(s.payload.of(&batch.bytes, &blocks));
                shard.segment_of(s.key, &seg, s.at);
            }
            &ShardWork::Expire { now, frame } => shard.expire(now, frame),
        }
    }
    drop(blocks);
    batch.items.clear();
    batch.bytes.clear();
    batch.blocks.clear();
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
        assert_eq!(std::mem::size_of::<ShardWork>(), 88);
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
            let Some(ShardWork::Segment(packed)) = batch.items.first() else {
                panic!("no segment");
            };
            let blocks = batch.block_bytes();
            let again = packed.segment(packed.payload.of(&batch.bytes, &blocks));
            assert_eq!(again, seg);
        }
    }

    #[test]
    fn hashes_spread_over_every_shard_and_no_further() {
        for n in [1, 2, 3, 7, 256] {
            let mut seen = vec![0u32; n];
            let mut h = 0x9e37_79b9_7f4a_7c15_u64;
            for _ in 0..10_000 {
                h = h.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                seen[share_of(h, n)] += 1;
            }
            assert!(seen.iter().all(|&c| c > 0), "{n} shards: {seen:?}");
            assert_eq!(share_of(u64::MAX, n), n - 1);
            assert_eq!(share_of(0, n), 0);
        }
    }
}
