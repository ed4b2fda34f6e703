//! Unit tests for each case of the reassembly policy, and property tests against a bitmap model.

use super::*;
use proptest::prelude::*;
use proptest::sample::Index;

/// One delivered item, owned, with consecutive items of the same kind merged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Data(Vec<u8>),
    Gap(u64),
}

#[derive(Debug, Default)]
struct Sink {
    items: Vec<Item>,
}

impl Sink {
    fn push(&mut self, c: Chunk<'_>) {
        match (c, self.items.last_mut()) {
            (Chunk::Data(d), Some(Item::Data(v))) => v.extend_from_slice(d),
            (Chunk::Data(d), _) => self.items.push(Item::Data(d.to_vec())),
            (Chunk::Gap(n), Some(Item::Gap(g))) => *g += n,
            (Chunk::Gap(n), _) => self.items.push(Item::Gap(n)),
        }
    }

    fn data(&self) -> Vec<u8> {
        self.items
            .iter()
            .flat_map(|i| match i {
                Item::Data(d) => d.clone(),
                Item::Gap(_) => Vec::new(),
            })
            .collect()
    }

    fn total(&self) -> u64 {
        self.items
            .iter()
            .map(|i| match i {
                Item::Data(d) => d.len() as u64,
                Item::Gap(n) => *n,
            })
            .sum()
    }
}

/// Drives one reassembler, checking the caps after every call.
struct Rig {
    r: Reassembler,
    budget: Budget,
    sink: Sink,
}

impl Rig {
    fn new(max_buffer: usize, budget: usize) -> Self {
        Rig {
            r: Reassembler::new(max_buffer),
            budget: Budget::new(budget),
            sink: Sink::default(),
        }
    }

    fn seg(&mut self, seq: u32, payload: &[u8]) -> SegmentNote {
        let sink = &mut self.sink;
        let note = self
            .r
            .segment(seq, payload, &mut self.budget, &mut |c| sink.push(c));
        self.check();
        note
    }

    /// The peer acknowledges `ack`, then sends something new (payload or FIN): what the dissector does
    /// for a pure ACK followed by the peer's next data.
    fn ack(&mut self, ack: u32) {
        self.ack_only(ack);
        self.peer_moves_on();
    }

    /// The peer acknowledges `ack` and nothing else happens yet.
    fn ack_only(&mut self, ack: u32) {
        self.r.ack(ack);
        self.check();
    }

    fn peer_moves_on(&mut self) {
        let sink = &mut self.sink;
        self.r
            .peer_moved_on(&mut self.budget, &mut |c| sink.push(c));
        self.check();
    }

    fn flush(&mut self) {
        let sink = &mut self.sink;
        self.r.flush(&mut self.budget, &mut |c| sink.push(c));
        self.check();
    }

    fn check(&self) {
        assert!(self.budget.used() <= self.budget.max(), "budget exceeded");
        assert!(
            self.r.buffered() <= self.r.max_buffer,
            "per-direction cap exceeded"
        );
        assert!(
            self.r.segs.len() <= self.r.max_segments,
            "segment cap exceeded"
        );
        assert_eq!(
            self.r.buffered(),
            self.r.segs.values().map(Vec::len).sum::<usize>()
        );
        assert!(
            self.r.segs.keys().all(|&k| k > self.r.next),
            "buffered segment at or before next"
        );
        let mut end = 0;
        for (&k, v) in &self.r.segs {
            assert!(
                k >= end && !v.is_empty(),
                "overlapping or empty buffered segments"
            );
            end = k + v.len() as u64;
        }
    }

    fn items(&self) -> Vec<Item> {
        self.sink.items.clone()
    }
}

fn d(b: &[u8]) -> Item {
    Item::Data(b.to_vec())
}

const ISN: u32 = 1000;
/// Sequence number of stream offset `off` when the SYN had [`ISN`].
fn at(off: u32) -> u32 {
    ISN.wrapping_add(1).wrapping_add(off)
}

#[test]
fn in_order_is_zero_copy() {
    let mut r = Reassembler::new(100);
    let mut budget = Budget::new(100);
    r.start(ISN);
    let payload = b"hello".to_vec();
    let mut ptrs = Vec::new();
    r.segment(at(0), &payload, &mut budget, &mut |c| {
        if let Chunk::Data(x) = c {
            ptrs.push(x.as_ptr());
        }
    });
    assert_eq!(ptrs, vec![payload.as_ptr()]);
    assert_eq!(r.stats().bytes_delivered, 5);
    assert_eq!(budget.peak(), 0, "nothing was copied into the buffer");
}

#[test]
fn out_of_order_buffered_then_delivered() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    let n = t.seg(at(5), b"world");
    assert!(n.out_of_order && !n.retransmission);
    assert_eq!(t.r.buffered(), 5);
    assert_eq!(t.budget.used(), 5);
    assert!(t.items().is_empty());
    t.seg(at(0), b"hello");
    assert_eq!(t.items(), vec![d(b"helloworld")]);
    assert_eq!(
        (t.r.buffered(), t.budget.used(), t.budget.peak()),
        (0, 0, 5)
    );
    assert_eq!(t.r.stats().out_of_order_segments, 1);
    assert_eq!(t.r.stats().next_offset, 10);
}

#[test]
fn wraparound_in_order() {
    let isn = u32::MAX - 3;
    let mut t = Rig::new(100, 100);
    t.r.start(isn);
    // Offsets 0..6 are sequence numbers u32::MAX-2 ..= 3: the segment straddles 2^32.
    t.seg(isn.wrapping_add(1), b"abcdef");
    t.seg(isn.wrapping_add(7), b"ghi");
    assert_eq!(t.items(), vec![d(b"abcdefghi")]);
    assert_eq!(t.r.stats().next_offset, 9);
}

#[test]
fn wraparound_out_of_order() {
    let isn = u32::MAX - 3;
    let mut t = Rig::new(100, 100);
    t.r.start(isn);
    t.seg(isn.wrapping_add(7), b"ghi"); // after the wrap
    t.seg(isn.wrapping_add(4), b"def"); // straddles
    assert_eq!(t.r.buffered(), 6);
    t.seg(isn.wrapping_add(1), b"abc"); // before the wrap
    assert_eq!(t.items(), vec![d(b"abcdefghi")]);
    assert_eq!(t.r.buffered(), 0);
}

#[test]
fn long_stream_wraps_many_times() {
    let mut t = Rig::new(100, 100);
    t.r.start(7);
    let chunk = vec![0x5a; 60_000];
    let mut seq = 8u32;
    let mut total = 0u64;
    // 80_000 segments * 60_000 bytes = 4.8e9 bytes > 2^32: offsets keep counting past one wrap.
    for _ in 0..80_000 {
        t.r.segment(seq, &chunk, &mut t.budget, &mut |c| {
            if let Chunk::Data(x) = c {
                total += x.len() as u64;
            }
        });
        seq = seq.wrapping_add(chunk.len() as u32);
    }
    assert_eq!(total, 80_000 * 60_000);
    assert_eq!(t.r.stats().next_offset, 80_000 * 60_000);
    assert!(t.r.stats().next_offset > u64::from(u32::MAX));
    assert_eq!(t.r.stats().gaps, 0);
}

#[test]
fn mid_stream_start() {
    let mut t = Rig::new(100, 100);
    // No SYN: the first segment seen is offset 0.
    t.seg(5000, b"abc");
    // An older segment (before the capture started) only counts as old data.
    let n = t.seg(4990, b"0123456789");
    assert!(n.retransmission);
    // One overlapping the start keeps only its new bytes.
    t.seg(4999, b"zabcd");
    t.seg(5004, b"e");
    assert_eq!(t.items(), vec![d(b"abcde")]);
    assert_eq!(t.r.stats().retransmitted_bytes, 10 + 4);
}

#[test]
fn mid_stream_empty_segment_does_not_start() {
    let mut t = Rig::new(100, 100);
    t.seg(77, b"");
    assert!(!t.r.is_started());
    t.seg(100, b"x");
    assert_eq!(t.items(), vec![d(b"x")]);
}

#[test]
fn data_on_syn_and_retransmitted_syn() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"syn-data");
    t.r.start(ISN); // retransmitted SYN: ignored
    t.seg(at(0), b"syn-data"); // with its data: a retransmission
    assert_eq!(t.r.stats().syn_conflicts, 0);
    t.r.start(ISN + 50); // a different ISN: a conflict, ignored
    assert_eq!(t.r.stats().syn_conflicts, 1);
    t.seg(at(8), b"!");
    assert_eq!(t.items(), vec![d(b"syn-data!")]);
    assert_eq!(t.r.stats().retransmitted_bytes, 8);
}

#[test]
fn syn_after_data_that_agrees_is_not_a_conflict() {
    let mut t = Rig::new(100, 100);
    t.seg(at(0), b"abc");
    t.r.start(ISN);
    assert_eq!(t.r.stats().syn_conflicts, 0);
    t.r.start(ISN + 1);
    assert_eq!(t.r.stats().syn_conflicts, 1);
}

#[test]
fn full_retransmission() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    assert_eq!(t.seg(at(0), b"abcd"), SegmentNote::default());
    let n = t.seg(at(0), b"abcd");
    assert_eq!(
        n,
        SegmentNote {
            retransmission: true,
            ..Default::default()
        }
    );
    assert_eq!(t.items(), vec![d(b"abcd")]);
    assert_eq!(t.r.stats().retransmitted_bytes, 4);
}

#[test]
fn partial_overlap_old_and_new() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"0123456789");
    let n = t.seg(at(5), b"56789abcde");
    assert!(n.retransmission && !n.out_of_order);
    assert_eq!(t.items(), vec![d(b"0123456789abcde")]);
    assert_eq!(t.r.stats().retransmitted_bytes, 5);
}

#[test]
fn overlap_with_buffered_segments_keeps_them_and_fills_between() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(4), b"45");
    t.seg(at(8), b"89");
    // In order, spanning both buffered segments: pieces of it fill the holes, without copies.
    let n = t.seg(at(0), b"0123456789ab");
    assert!(n.retransmission && !n.overlap_conflict);
    assert_eq!(t.items(), vec![d(b"0123456789ab")]);
    assert_eq!(t.r.stats().retransmitted_bytes, 4);
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn out_of_order_overlap_merges_into_few_segments() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(10), b"ab");
    t.seg(at(14), b"ef");
    t.seg(at(12), b"cd"); // fills the space between: one entry remains
    assert_eq!(t.r.segs.len(), 1);
    t.seg(at(9), b"_abcdefg"); // overlaps all and extends on both sides
    assert_eq!(t.r.buffered(), 8);
    t.seg(at(0), b"012345678");
    assert_eq!(t.items(), vec![d(b"012345678_abcdefg")]);
}

#[test]
fn conflicting_overlap_first_bytes_win() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(10), b"AAAAAAAAAA"); // 10..20 buffered
    let n = t.seg(at(5), b"bbbbbBBBBB"); // 5..15: 10..15 disagree
    assert!(n.overlap_conflict && n.retransmission && n.out_of_order);
    t.seg(at(0), b"ccccc");
    assert_eq!(t.items(), vec![d(b"cccccbbbbbAAAAAAAAAA")]);
    assert_eq!(t.r.stats().overlap_conflicts, 1);
    // An agreeing overlap is not a conflict.
    t.seg(at(30), b"xyz");
    let n = t.seg(at(29), b"wxy");
    assert!(!n.overlap_conflict);
    assert_eq!(t.r.stats().overlap_conflicts, 1);
}

#[test]
fn acked_hole_is_a_gap_once_the_peer_moves_on() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"0123456789");
    t.seg(at(20), b"KLMNOPQRST");
    t.ack(at(15)); // covers part of the hole 10..20
    assert_eq!(t.items(), vec![d(b"0123456789"), Item::Gap(5)]);
    t.seg(at(15), b"fghij"); // rest of the hole arrives: in order
    assert_eq!(
        t.items(),
        vec![d(b"0123456789"), Item::Gap(5), d(b"fghijKLMNOPQRST")]
    );
    t.seg(at(40), b"z");
    t.ack(at(41));
    assert_eq!(t.items().last(), Some(&d(b"z")));
    assert_eq!((t.r.stats().gaps, t.r.stats().gap_bytes), (2, 15));
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn segment_after_the_ack_that_covers_it_fills_the_hole() {
    // A mirror port or a merge of two interfaces put the client's ACK of 0..30 before the server's
    // segment 10..20: the capture holds every byte, so nothing is lost.
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"0123456789");
    t.seg(at(20), b"KLMNOPQRST");
    t.ack_only(at(30));
    assert_eq!(t.items(), vec![d(b"0123456789")]);
    assert_eq!(t.r.buffered(), 10, "the bytes after the hole wait");
    let n = t.seg(at(10), b"abcdefghij");
    assert!(!n.retransmission && !n.cap_hit);
    assert_eq!(t.items(), vec![d(b"0123456789abcdefghijKLMNOPQRST")]);
    t.peer_moves_on();
    t.flush();
    assert_eq!((t.r.stats().gaps, t.r.stats().gap_bytes), (0, 0));
    assert_eq!(t.r.stats().retransmitted_bytes, 0);
    assert_eq!((t.budget.used(), t.r.buffered()), (0, 0));
    // Later ACKs alone do not give up a new hole either, even with data after it.
    t.seg(at(40), b"z");
    t.ack_only(at(41));
    t.seg(at(30), b"0123456789");
    assert_eq!(
        t.items().last(),
        Some(&d(b"0123456789abcdefghijKLMNOPQRST0123456789z"))
    );
    assert_eq!(t.r.stats().gaps, 0);
}

#[test]
fn hole_never_filled_is_a_gap_of_its_exact_length() {
    // At the end (flush), when the peer never moved on after its ACK.
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"0123456789");
    t.seg(at(23), b"KLMNOPQ");
    t.ack_only(at(30));
    assert_eq!(t.r.stats().gaps, 0);
    t.flush();
    assert_eq!(
        t.items(),
        vec![d(b"0123456789"), Item::Gap(13), d(b"KLMNOPQ")]
    );
    assert_eq!((t.r.stats().gaps, t.r.stats().gap_bytes), (1, 13));
    assert_eq!(t.budget.used(), 0);
    // When the peer moves on after the ACK: at once, with the same length.
    let mut u = Rig::new(100, 100);
    u.r.start(ISN);
    u.seg(at(0), b"0123456789");
    u.seg(at(23), b"KLMNOPQ");
    u.ack_only(at(30));
    u.peer_moves_on();
    assert_eq!(u.items(), t.items());
    assert_eq!((u.r.stats().gaps, u.r.stats().gap_bytes), (1, 13));
    // A late copy after that is old data.
    assert!(u.seg(at(10), b"abcdefghijklm").retransmission);
    u.flush();
    assert_eq!(u.items(), t.items());
}

#[test]
fn moving_on_counts_only_acks_given_before_it() {
    // The segment that moves the peer on may carry a new ACK itself; that ACK waits for the next move.
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"ab");
    t.seg(at(5), b"fg");
    t.peer_moves_on();
    t.ack_only(at(7));
    assert_eq!(t.items(), vec![d(b"ab")]);
    t.peer_moves_on();
    assert_eq!(t.items(), vec![d(b"ab"), Item::Gap(3), d(b"fg")]);
}

#[test]
fn caps_bound_bytes_waiting_behind_an_acked_hole() {
    // A true loss the peer acknowledged but never moves on from: what follows the hole is buffered only
    // up to the caps, which then declare the hole a gap with its exact length.
    let mut t = Rig::new(10, 1000);
    t.r.start(ISN);
    t.seg(at(0), b"ab");
    t.ack_only(at(1000));
    for i in 0..20u32 {
        t.seg(at(5 + 4 * i), b"wxyz");
        assert!(t.r.buffered() <= 10);
    }
    assert!(t.r.stats().cap_hits > 0);
    assert_eq!(t.r.stats().gap_bytes, 3, "only the real hole is a gap");
    t.flush();
    assert_eq!(
        t.items(),
        vec![d(b"ab"), Item::Gap(3), d(&b"wxyz".repeat(20))]
    );
    assert_eq!(t.budget.used(), 0);
    // The shared budget, over two streams, likewise.
    let mut budget = Budget::new(12);
    let mut a = Reassembler::new(1000);
    let mut b = Reassembler::new(1000);
    let (mut got_a, mut got_b) = (Sink::default(), Sink::default());
    a.start(1);
    b.start(5000);
    a.ack(2 + 500);
    b.ack(5001 + 500);
    for i in 0..20u32 {
        a.segment(2 + 3 + i * 4, b"aaaa", &mut budget, &mut |c| got_a.push(c));
        b.segment(5001 + 3 + i * 4, b"bbbb", &mut budget, &mut |c| {
            got_b.push(c)
        });
        assert!(budget.used() <= 12);
    }
    assert!(budget.hits() > 0);
    a.flush(&mut budget, &mut |c| got_a.push(c));
    b.flush(&mut budget, &mut |c| got_b.push(c));
    assert_eq!(got_a.items, vec![Item::Gap(3), d(&b"aaaa".repeat(20))]);
    assert_eq!(got_b.items, vec![Item::Gap(3), d(&b"bbbb".repeat(20))]);
    assert_eq!(budget.used(), 0);
}

#[test]
fn ack_ahead_of_everything_is_not_a_gap_until_data_follows() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"abc");
    t.ack(at(50));
    t.ack(at(40)); // older ack: no effect
    assert_eq!(t.items(), vec![d(b"abc")]);
    t.flush();
    assert_eq!(t.r.stats().acked_unseen_bytes, 47);
    assert_eq!(t.r.stats().gaps, 0);
    // Data seen beyond the acked bytes: those become a gap at once; 50..60 is still a plain hole.
    t.seg(at(60), b"xyz");
    assert_eq!(t.items(), vec![d(b"abc"), Item::Gap(47)]);
    assert_eq!(t.r.buffered(), 3);
    t.ack(at(63));
    assert_eq!(t.items(), vec![d(b"abc"), Item::Gap(57), d(b"xyz")]);
    // When the ACK already covers the hole in front of new data, the data goes out without a copy.
    t.ack(at(100));
    let before = t.budget.peak();
    t.seg(at(80), b"q");
    assert_eq!(t.items().last(), Some(&d(b"q")));
    assert_eq!((t.budget.peak(), t.r.stats().gap_bytes), (before, 57 + 17));
}

#[test]
fn fin_then_ack_of_fin_is_not_a_gap() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"bye");
    t.r.fin(at(3));
    t.ack(at(4)); // FIN + 1
    t.flush();
    assert_eq!(t.items(), vec![d(b"bye")]);
    assert_eq!((t.r.stats().gaps, t.r.stats().acked_unseen_bytes), (0, 0));
    assert_eq!(t.r.fin_offset(), Some(3));
}

#[test]
fn missing_bytes_before_a_seen_fin_are_a_gap() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"abc");
    t.r.fin(at(10));
    t.ack(at(11));
    assert_eq!(t.items(), vec![d(b"abc"), Item::Gap(7)]);
    // The same without the ACK: at flush.
    let mut u = Rig::new(100, 100);
    u.r.start(ISN);
    u.seg(at(0), b"abc");
    u.r.fin(at(10));
    u.flush();
    assert_eq!(u.items(), vec![d(b"abc"), Item::Gap(7)]);
}

#[test]
fn data_after_fin_is_ignored_and_counted() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(20), b"late"); // buffered, then found to lie after the FIN
    assert_eq!(t.budget.used(), 4);
    t.r.fin(at(5));
    t.r.fin(at(5)); // retransmitted FIN
    t.r.fin(at(6)); // a different one: conflict, ignored
    let n = t.seg(at(0), b"abcdefg");
    assert!(n.after_fin);
    assert_eq!(
        t.budget.used(),
        0,
        "bytes after the FIN were dropped from the buffer"
    );
    t.flush();
    assert_eq!(t.items(), vec![d(b"abcde")]);
    assert_eq!(t.r.stats().bytes_after_fin, 4 + 2);
    assert_eq!(t.r.stats().fin_conflicts, 1);
    t.seg(at(5), b"more");
    assert_eq!(t.r.stats().bytes_after_fin, 10);
    assert_eq!(t.items(), vec![d(b"abcde")]);
}

#[test]
fn fin_straddling_a_buffered_segment_truncates_it() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(5), b"56789");
    t.r.fin(at(7));
    t.flush();
    assert_eq!(t.items(), vec![Item::Gap(5), d(b"56")]);
    assert_eq!(t.r.stats().bytes_after_fin, 3);
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn per_direction_cap_forces_gap() {
    let mut t = Rig::new(10, 1000);
    t.r.start(ISN);
    t.seg(at(0), b"ab");
    t.seg(at(5), b"56789"); // hole 2..5, buffered 5
    t.seg(at(12), b"cdefg"); // buffered 10 (at the cap)
    assert_eq!(t.r.buffered(), 10);
    let n = t.seg(at(20), b"xy"); // would be 12: the earliest hole (2..5) becomes a gap
    assert!(n.cap_hit);
    assert_eq!(t.items(), vec![d(b"ab"), Item::Gap(3), d(b"56789")]);
    assert_eq!(t.r.buffered(), 7);
    assert_eq!(t.r.stats().cap_hits, 1);
    t.flush();
    assert_eq!(
        t.items(),
        vec![
            d(b"ab"),
            Item::Gap(3),
            d(b"56789"),
            Item::Gap(2),
            d(b"cdefg"),
            Item::Gap(3),
            d(b"xy")
        ]
    );
    assert_eq!(t.budget.used(), 0);
    // A late copy of a gap's bytes is old data now.
    assert!(t.seg(at(2), b"234").retransmission);
}

#[test]
fn segment_bigger_than_the_cap_goes_out_uncopied_after_a_gap() {
    let mut r = Reassembler::new(4);
    let mut budget = Budget::new(100);
    r.start(ISN);
    let big = vec![7u8; 50];
    let mut seen = Vec::new();
    r.segment(at(10), &big, &mut budget, &mut |c| {
        seen.push(match c {
            Chunk::Data(x) => (x.as_ptr() == big.as_ptr(), x.len() as u64),
            Chunk::Gap(n) => (false, n),
        })
    });
    assert_eq!(seen, vec![(false, 10), (true, 50)]);
    assert_eq!((budget.peak(), r.stats().cap_hits), (0, 1));
}

#[test]
fn shared_budget_caps_all_streams() {
    let mut budget = Budget::new(15);
    let mut a = Reassembler::new(1000);
    let mut b = Reassembler::new(1000);
    a.start(1);
    b.start(5000);
    let mut got_a = Sink::default();
    let mut got_b = Sink::default();
    for i in 0..10u32 {
        a.segment(2 + 10 + i * 4, b"aa", &mut budget, &mut |c| got_a.push(c));
        assert!(budget.used() <= 15);
        b.segment(5001 + 10 + i * 4, b"bb", &mut budget, &mut |c| {
            got_b.push(c)
        });
        assert!(budget.used() <= 15);
        assert_eq!(budget.used(), a.buffered() + b.buffered());
    }
    assert!(budget.hits() > 0);
    assert!(a.stats().cap_hits + b.stats().cap_hits >= budget.hits());
    assert!(budget.peak() >= 14 && budget.peak() <= 15);
    a.flush(&mut budget, &mut |c| got_a.push(c));
    b.flush(&mut budget, &mut |c| got_b.push(c));
    assert_eq!(budget.used(), 0);
    // Every byte offered is delivered, in order, holes as gaps.
    assert_eq!(got_a.data(), b"aa".repeat(10));
    assert_eq!(got_a.total(), 10 + 10 * 4 - 2);
    assert_eq!(got_b.data(), b"bb".repeat(10));
}

#[test]
fn segment_count_cap_forces_gap() {
    let mut t = Rig::new(1000, 1000);
    t.r = Reassembler::new(1000).with_max_segments(3);
    t.r.start(ISN);
    for i in 0..10u32 {
        t.seg(at(1 + i * 3), b"x"); // each leaves a hole before it
    }
    assert!(t.r.segs.len() <= 3);
    assert_eq!(t.r.stats().cap_hits, 7);
    t.flush();
    assert_eq!(t.items().len(), 20);
    assert_eq!(t.sink.data(), b"x".repeat(10));
    assert_eq!(t.r.stats().gaps, 10);
}

#[test]
fn zero_caps_never_buffer() {
    let mut t = Rig::new(0, 0);
    t.r = Reassembler::new(0).with_max_segments(0);
    t.r.start(ISN);
    t.seg(at(3), b"d");
    t.seg(at(0), b"abc"); // too late: a gap was already declared
    t.seg(at(1), b"bcde");
    assert_eq!(t.items(), vec![Item::Gap(3), d(b"de")]);
    assert_eq!(t.budget.peak(), 0);
}

#[test]
fn set_done_frees_and_only_counts() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(0), b"ab");
    t.seg(at(10), b"buffered");
    assert_eq!(t.budget.used(), 8);
    t.r.set_done(&mut t.budget);
    assert!(t.r.is_done());
    assert_eq!((t.budget.used(), t.r.buffered()), (0, 0));
    let n = t.seg(at(2), b"cdefghij");
    assert!(n.after_done);
    t.ack(at(100));
    t.flush();
    assert_eq!(t.items(), vec![d(b"ab")]);
    assert_eq!(t.r.stats().bytes_seen, 2 + 8 + 8);
    assert_eq!(t.r.stats().bytes_after_done, 8);
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn flush_keeps_the_stream_usable() {
    let mut t = Rig::new(100, 100);
    t.r.start(ISN);
    t.seg(at(4), b"efg");
    t.flush();
    t.seg(at(7), b"hij");
    t.seg(at(12), b"m");
    t.flush();
    assert_eq!(
        t.items(),
        vec![Item::Gap(4), d(b"efghij"), Item::Gap(2), d(b"m")]
    );
}

#[test]
fn one_sided_capture_without_acks() {
    // Only this direction was captured: holes wait (buffered) until the flush at end of capture.
    let mut t = Rig::new(100, 100);
    t.seg(9000, b"abc");
    t.seg(9010, b"klm");
    t.seg(9020, b"uvw");
    assert_eq!(t.items(), vec![d(b"abc")]);
    assert_eq!(t.budget.used(), 6);
    t.flush();
    assert_eq!(
        t.items(),
        vec![d(b"abc"), Item::Gap(7), d(b"klm"), Item::Gap(7), d(b"uvw")]
    );
    assert_eq!(
        (
            t.r.stats().gaps,
            t.r.stats().gap_bytes,
            t.r.stats().next_offset
        ),
        (2, 14, 23)
    );
}

#[test]
fn ack_before_start_is_ignored() {
    let mut t = Rig::new(100, 100);
    t.ack(12345);
    t.seg(100, b"a");
    assert_eq!(t.items(), vec![d(b"a")]);
}

// ---------------------------------------------------------------------------------------------------
// Property tests against an obviously correct model.

/// The stream a model says should come out: data and gaps from `origin` to the last known byte.
fn model_output(known: &[Option<u8>], origin: usize) -> Vec<Item> {
    let mut sink = Sink::default();
    let last = known.iter().rposition(Option::is_some);
    let Some(last) = last else { return Vec::new() };
    for b in known.iter().take(last + 1).skip(origin) {
        match b {
            Some(x) => sink.push(Chunk::Data(std::slice::from_ref(x))),
            None => sink.push(Chunk::Gap(1)),
        }
    }
    sink.items
}

/// Segments `(offset, bytes)` built from a stream: a partition, extra overlapping and duplicated
/// ranges, some dropped, in a shuffled order.
fn build_segments(
    n: usize,
    cuts: &[Index],
    extras: &[(Index, usize)],
    dups: &[Index],
    drops: &[Index],
    order: &[Index],
) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(n)).chain([0, n]).collect();
    points.sort_unstable();
    points.dedup();
    let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
    for (i, len) in extras {
        let a = i.index(n);
        segs.push((a, (a + len).min(n)));
    }
    for i in dups {
        let s = segs[i.index(segs.len())];
        segs.push(s);
    }
    for i in drops {
        if segs.len() > 1 {
            segs.remove(i.index(segs.len()));
        }
    }
    // Fisher–Yates with the generated indices.
    for (k, i) in order.iter().enumerate() {
        let k = k % segs.len();
        let j = k + i.index(segs.len() - k);
        segs.swap(k, j);
    }
    segs.into_iter().filter(|(a, b)| a < b).collect()
}

struct Feed {
    items: Vec<Item>,
    conflicts: u64,
}

/// Feeds `segs` (with their own bytes) and flushes, checking caps after each call.
fn feed(
    isn: u32,
    syn: bool,
    segs: &[(usize, Vec<u8>)],
    max_buffer: usize,
    budget: usize,
    max_segs: usize,
) -> Feed {
    let mut t = Rig::new(max_buffer, budget);
    t.r = Reassembler::new(max_buffer).with_max_segments(max_segs);
    if syn {
        t.r.start(isn);
    }
    for (off, bytes) in segs {
        t.seg(isn.wrapping_add(1).wrapping_add(*off as u32), bytes);
    }
    t.flush();
    assert_eq!(t.budget.used(), 0);
    assert_eq!(t.r.buffered(), 0);
    Feed {
        items: t.items(),
        conflicts: t.r.stats().overlap_conflicts,
    }
}

/// First-arrival-wins model; returns the expected output and how many segments disagreed with it.
fn model(n: usize, syn: bool, segs: &[(usize, Vec<u8>)]) -> (Vec<Item>, u64) {
    let mut known = vec![None; n];
    let origin = if syn {
        0
    } else {
        segs.first().map_or(0, |s| s.0)
    };
    let mut conflicts = 0;
    for (off, bytes) in segs {
        let mut conflict = false;
        for (i, b) in bytes.iter().enumerate() {
            let p = off + i;
            if p < origin {
                continue;
            }
            match known[p] {
                None => known[p] = Some(*b),
                Some(x) => conflict |= x != *b,
            }
        }
        conflicts += u64::from(conflict);
    }
    (model_output(&known, origin), conflicts)
}

/// A stream, then the cuts, extra ranges, duplicates, drops and shuffle of [`build_segments`].
type SegCase = (
    Vec<u8>,
    Vec<Index>,
    Vec<(Index, usize)>,
    Vec<Index>,
    Vec<Index>,
    Vec<Index>,
);

fn seg_strategy() -> impl Strategy<Value = SegCase> {
    (
        prop::collection::vec(any::<u8>(), 1..1500),
        prop::collection::vec(any::<Index>(), 0..30),
        prop::collection::vec((any::<Index>(), 1..300usize), 0..10),
        prop::collection::vec(any::<Index>(), 0..6),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(any::<Index>(), 0..50),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn matches_bitmap_model(
        (data, cuts, extras, dups, drops, order) in seg_strategy(),
        isn in any::<u32>(),
        syn in any::<bool>(),
    ) {
        let ranges = build_segments(data.len(), &cuts, &extras, &dups, &drops, &order);
        let segs: Vec<(usize, Vec<u8>)> = ranges.iter().map(|&(a, b)| (a, data[a..b].to_vec())).collect();
        let got = feed(isn, syn, &segs, 1 << 20, 1 << 20, 1 << 20);
        let (want, _) = model(data.len(), syn, &segs);
        prop_assert_eq!(got.items, want);
        prop_assert_eq!(got.conflicts, 0);
    }

    #[test]
    fn matches_bitmap_model_across_wrap(
        (data, cuts, extras, dups, drops, order) in seg_strategy(),
        back in 0u32..1500,
        syn in any::<bool>(),
    ) {
        let isn = u32::MAX - back;
        let ranges = build_segments(data.len(), &cuts, &extras, &dups, &drops, &order);
        let segs: Vec<(usize, Vec<u8>)> = ranges.iter().map(|&(a, b)| (a, data[a..b].to_vec())).collect();
        let got = feed(isn, syn, &segs, 1 << 20, 1 << 20, 1 << 20);
        let (want, _) = model(data.len(), syn, &segs);
        prop_assert_eq!(got.items, want);
    }

    #[test]
    fn acks_alone_never_lose_captured_bytes(
        (data, cuts, extras, dups, drops, order) in seg_strategy(),
        isn in any::<u32>(),
        acks in prop::collection::vec((any::<Index>(), any::<Index>()), 0..20),
    ) {
        // ACKs anywhere, even far ahead of the bytes seen, with the peer never moving on: the output is
        // the model's, as if there had been no ACKs (holes become gaps only at the flush).
        let ranges = build_segments(data.len(), &cuts, &extras, &dups, &drops, &order);
        let segs: Vec<(usize, Vec<u8>)> = ranges.iter().map(|&(a, b)| (a, data[a..b].to_vec())).collect();
        let mut t = Rig::new(1 << 20, 1 << 20);
        t.r.start(isn);
        for (k, (off, bytes)) in segs.iter().enumerate() {
            for (when, ack) in &acks {
                if when.index(segs.len()) == k {
                    t.ack_only(isn.wrapping_add(1).wrapping_add(ack.index(2 * data.len() + 1) as u32));
                }
            }
            t.seg(isn.wrapping_add(1).wrapping_add(*off as u32), bytes);
        }
        t.flush();
        let (want, _) = model(data.len(), true, &segs);
        prop_assert_eq!(t.items(), want);
        prop_assert_eq!(t.budget.used(), 0);
    }

    #[test]
    fn conflicting_overlaps_first_bytes_win(
        (data, cuts, extras, dups, drops, order) in seg_strategy(),
        seeds in prop::collection::vec(any::<u8>(), 64),
        isn in any::<u32>(),
    ) {
        // Each segment gets its own bytes, so overlaps usually disagree.
        let ranges = build_segments(data.len(), &cuts, &extras, &dups, &drops, &order);
        let segs: Vec<(usize, Vec<u8>)> = ranges
            .iter()
            .enumerate()
            .map(|(k, &(a, b))| {
                let s = seeds[k % seeds.len()];
                (a, (a..b).map(|p| data[p] ^ (s & (p as u8))).collect())
            })
            .collect();
        let got = feed(isn, true, &segs, 1 << 20, 1 << 20, 1 << 20);
        let (want, model_conflicts) = model(data.len(), true, &segs);
        prop_assert_eq!(got.items, want);
        // Overlaps with bytes already delivered cannot be compared, so the count is at most the model's.
        prop_assert!(got.conflicts <= model_conflicts);
        if model_conflicts == 0 {
            prop_assert_eq!(got.conflicts, 0);
        }
    }

    #[test]
    fn caps_hold_and_bytes_stay_true(
        (data, cuts, extras, dups, drops, order) in seg_strategy(),
        isn in any::<u32>(),
        max_buffer in 0usize..400,
        budget in 0usize..400,
        max_segs in 0usize..8,
        acks in prop::collection::vec((any::<Index>(), any::<Index>(), any::<bool>()), 0..10),
    ) {
        let ranges = build_segments(data.len(), &cuts, &extras, &dups, &drops, &order);
        let mut t = Rig::new(max_buffer, budget);
        t.r = Reassembler::new(max_buffer).with_max_segments(max_segs);
        t.r.start(isn);
        let mut end = 0;
        for (k, &(a, b)) in ranges.iter().enumerate() {
            t.seg(isn.wrapping_add(1).wrapping_add(a as u32), &data[a..b]);
            end = end.max(b);
            for (when, ack, moves_on) in &acks {
                if when.index(ranges.len()) == k {
                    let ack = isn.wrapping_add(1).wrapping_add(ack.index(data.len() + 1) as u32);
                    if *moves_on {
                        t.ack(ack);
                    } else {
                        t.ack_only(ack);
                    }
                }
            }
        }
        t.flush();
        prop_assert_eq!(t.budget.used(), 0);
        // Everything up to the last byte seen comes out exactly once, and every data byte is true.
        prop_assert_eq!(t.sink.total(), end as u64);
        let mut pos = 0usize;
        for item in t.items() {
            match item {
                Item::Data(x) => {
                    prop_assert_eq!(&x[..], &data[pos..pos + x.len()]);
                    pos += x.len();
                }
                Item::Gap(g) => pos += g as usize,
            }
        }
        let s = t.r.stats();
        prop_assert_eq!(s.bytes_delivered + s.gap_bytes, end as u64);
    }
}
