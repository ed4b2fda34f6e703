//! One tracked TCP connection: its ends, counters, SYN/FIN/RST per side, the two reassembled
//! streams, the protocol layer above them and the observer that builds its verdict.

use crate::decode::TcpSegment;
use crate::decrypt::KeySource;
use crate::flow::{ClientInference, Endpoint};
use crate::tcp::{Budget, Reassembler};
use crate::verdict::observer::{ConnectionFacts, Observer};
use crate::verdict::{HopLimits, Mark, Verdict};
use crate::{Config, PerSide, Side};

use super::ProtocolEvent;
use super::proto::{Origin, Proto, is_client_hello_start, is_server_hello_start};

pub(crate) struct Connection {
    pub(crate) id: u64,
    ends: PerSide<Endpoint>,
    inferred: ClientInference,
    first: Mark,
    last: Mark,
    packets: PerSide<u64>,
    bytes: PerSide<u64>,
    streams: PerSide<Reassembler>,
    fin: PerSide<bool>,
    rst: bool,
    /// The client's initial sequence number, to tell a retransmitted SYN from a new connection.
    client_isn: Option<u32>,
    max_stream_buffer: usize,
    /// Whether TLS is customary on each end's port.
    tls_port: PerSide<bool>,
    /// What each side's packets said below TCP's payload, kept together (every segment updates its
    /// side's, so they share a cache line or two).
    wire: PerSide<Wire>,
    proto: Proto,
    observer: Observer,
}

impl Connection {
    /// A connection whose first captured segment is `seg`, from `src`.
    pub(crate) fn new(
        id: u64,
        seg: &TcpSegment<'_>,
        at: Mark,
        config: &Config,
        record_events: bool,
    ) -> Self {
        let src = Endpoint::new(seg.src, seg.src_port);
        let dst = Endpoint::new(seg.dst, seg.dst_port);
        let (client, server, inferred) = if seg.flags.syn() && !seg.flags.ack() {
            (src, dst, ClientInference::Syn)
        } else if seg.flags.syn() {
            (dst, src, ClientInference::SynAck)
        } else if src.port >= dst.port {
            (src, dst, ClientInference::Port)
        } else {
            (dst, src, ClientInference::Port)
        };
        Connection {
            id,
            ends: PerSide::new(client, server),
            inferred,
            first: at,
            last: at,
            packets: PerSide::default(),
            bytes: PerSide::default(),
            streams: PerSide::new(
                Reassembler::new(config.max_stream_buffer),
                Reassembler::new(config.max_stream_buffer),
            ),
            fin: PerSide::default(),
            rst: false,
            client_isn: None,
            max_stream_buffer: config.max_stream_buffer,
            wire: PerSide::default(),
            tls_port: PerSide::new(
                config.is_tls_port(client.port),
                config.is_tls_port(server.port),
            ),
            proto: Proto::new(
                config.max_handshake_message,
                record_events,
                KeySource::of(config.key_log.as_ref(), config.embedded_keys.as_ref()),
            ),
            observer: Observer::new(config.max_timeline),
        }
    }

    /// Whether this connection is over (both FINs, or an RST).
    pub(crate) fn closed(&self) -> bool {
        self.rst || (self.fin.client && self.fin.server)
    }

    /// Whether a SYN with sequence number `isn` starts a new connection on this 5-tuple: this one is
    /// over and the SYN is not a retransmission of its own.
    pub(crate) fn reused_by(&self, isn: u32) -> bool {
        self.closed() && self.client_isn != Some(isn)
    }

    /// Handles one segment of this connection.
    pub(crate) fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        at: Mark,
        budget: &mut Budget,
        events: &mut Vec<ProtocolEvent>,
    ) {
        let src = Endpoint::new(seg.src, seg.src_port);
        if self.inferred == ClientInference::Port
            && !seg.payload.is_empty()
            && self.proto.undecided()
        {
            self.decide_roles_by_content(src, seg.payload);
        }
        let side = if src == self.ends.client {
            Side::Client
        } else {
            Side::Server
        };
        self.last = at;
        self.packets[side] += 1;
        self.bytes[side] += u64::from(seg.wire_payload_len);
        let seen = Seen::of(seg, at);
        let wire = &mut self.wire[side];
        if wire.last.is_some_and(|last| last.same_packet(&seen)) {
            // The same packet captured a second time (counted as a frame of the capture, as every
            // tool counts it, but not taken as a retransmission or anything else).
            wire.duplicates += 1;
            return;
        }
        wire.last = Some(seen);
        wire.packet(seg);
        self.observer.ip(side, seg.ip);
        // Every step this segment shows is written with the IP facts of the packet that carried it.

        let flags = seg.flags;
        let mut seq = seg.seq;
        if flags.syn() {
            if side == Side::Client && !flags.ack() {
                self.observer.syn(at);
                self.client_isn.get_or_insert(seg.seq);
            } else if side == Side::Server && flags.ack() {
                self.observer.syn_ack(at);
            }
            let stream = &mut self.streams[side];
            if stream.is_started() && stream.stats().bytes_seen == 0 {
                // A repeated SYN or SYN-ACK with another sequence number before any data: the
                // latest one is what the peer acknowledges, so the stream starts there.
                stream.set_done(budget);
                *stream = Reassembler::new(self.max_stream_buffer);
            }
            self.streams[side].start(seg.seq);
            seq = seq.wrapping_add(1);
        } else {
            self.observer.established();
        }

        let conn = self.id;
        let Connection {
            streams,
            proto,
            observer,
            ..
        } = self;
        if !seg.payload.is_empty() || flags.fin() {
            // This side moves on after its earlier ACKs: bytes of the other direction they cover that
            // the capture still lacks will not come, and what follows them precedes this segment.
            let o = Origin {
                conn,
                side: side.peer(),
                at,
            };
            streams[side.peer()]
                .peer_moved_on(budget, &mut |chunk| proto.chunk(o, chunk, observer, events));
        }
        if !seg.payload.is_empty() {
            observer.payload(side, seg.wire_payload_len);
            let o = Origin { conn, side, at };
            streams[side].segment(seq, seg.payload, budget, &mut |chunk| {
                proto.chunk(o, chunk, observer, events)
            });
            if seg.is_cut() {
                let kept = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
                let lost = seg.wire_payload_len.saturating_sub(kept);
                streams[side].cut(seq.wrapping_add(kept), lost, budget, &mut |chunk| {
                    proto.chunk(o, chunk, observer, events)
                });
            }
        }
        if flags.ack() && !flags.rst() {
            // Only noted: a segment this ACK covers may still come later in the capture.
            streams[side.peer()].ack(seg.ack);
        }
        if flags.fin() {
            let fin_seq = seq.wrapping_add(seg.wire_payload_len);
            streams[side].fin(fin_seq);
            // Deliver what the FIN's sender sent before it, so its last records precede its close.
            let o = Origin { conn, side, at };
            streams[side].flush(budget, &mut |chunk| proto.chunk(o, chunk, observer, events));
            observer.fin(side, at);
            self.fin[side] = true;
        }
        if flags.rst() {
            for s in [side, side.peer()] {
                let o = Origin { conn, side: s, at };
                streams[s].flush(budget, &mut |chunk| proto.chunk(o, chunk, observer, events));
            }
            observer.rst(side, at);
            self.rst = true;
        }
        if self.proto.want_done {
            self.streams.client.set_done(budget);
            self.streams.server.set_done(budget);
            self.proto.want_done = false;
        }
    }

    /// Without a SYN the ends were guessed by port; the first payload can tell better: a ClientHello
    /// or X.224 Connection Request comes from the client, a ServerHello from the server.
    fn decide_roles_by_content(&mut self, src: Endpoint, payload: &[u8]) {
        let from_client = if is_client_hello_start(payload)
            || crate::rdp::looks_like_connection_request(payload) == Some(true)
        {
            true
        } else if is_server_hello_start(payload) {
            false
        } else {
            return;
        };
        let src_is_client = src == self.ends.client;
        if from_client != src_is_client {
            self.ends.swap();
            self.packets.swap();
            self.bytes.swap();
            self.streams.swap();
            self.fin.swap();
            self.tls_port.swap();
            self.wire.swap();
            self.observer.swap_roles();
            self.proto.swap_roles();
        }
        self.inferred = ClientInference::Hello;
    }

    /// Capture time of the last packet.
    pub(crate) fn last_ts(&self) -> i64 {
        self.last.ts.as_nanos()
    }

    /// Ends the connection: delivers what is still buffered, then builds the verdict.
    pub(crate) fn finish(
        mut self,
        unfinished: bool,
        budget: &mut Budget,
        events: &mut Vec<ProtocolEvent>,
    ) -> Verdict {
        let at = self.last;
        let conn = self.id;
        let Connection {
            streams,
            proto,
            observer,
            ..
        } = &mut self;
        for side in [Side::Client, Side::Server] {
            let o = Origin { conn, side, at };
            streams[side].flush(budget, &mut |chunk| proto.chunk(o, chunk, observer, events));
            let st = streams[side].stats();
            observer.stream_stats(
                side,
                st.gaps,
                st.gap_bytes,
                st.retransmitted_bytes,
                st.overlap_conflicts,
            );
            streams[side].set_done(budget);
        }
        let facts = ConnectionFacts {
            conn: self.id,
            client: self.ends.client,
            server: self.ends.server,
            inferred: self.inferred,
            start: self.first,
            end: self.last,
            packets: self.packets,
            bytes: self.bytes,
            unfinished: unfinished && !self.closed(),
            tls_port: self.tls_port.server,
        };
        for side in [Side::Client, Side::Server] {
            self.wire[side].into_facts(side, self.observer.tcp_mut());
        }
        self.observer.finish(facts)
    }
}

/// One side's packets below TCP's payload: their IP facts, sizes, acknowledgments, cuts and
/// duplicates.
#[derive(Debug, Clone, Copy, Default)]
struct Wire {
    /// The last segment, to tell the same packet captured twice.
    last: Option<Seen>,
    duplicates: u64,
    cut: u64,
    largest: u32,
    /// The range of hop limits, RSTs left out.
    hops: Option<HopLimits>,
    first_ack: Option<u32>,
    acked: u32,
}

impl Wire {
    fn packet(&mut self, seg: &TcpSegment<'_>) {
        self.largest = self.largest.max(seg.wire_payload_len);
        if seg.is_cut() {
            self.cut += 1;
        }
        if seg.flags.rst() {
            // An RST's own hop limit is what is compared, and its acknowledgment number proves
            // nothing.
            return;
        }
        self.hops = Some(HopLimits::add(self.hops, seg.ip.hop_limit));
        if seg.flags.ack() {
            match self.first_ack {
                None => self.first_ack = Some(seg.ack),
                Some(first) => {
                    // How far this side's acknowledgments moved: the peer's bytes it received.
                    // Sequence numbers going back (a reordered old ACK) are not progress.
                    let moved = seg.ack.wrapping_sub(first);
                    if moved < 1 << 31 {
                        self.acked = self.acked.max(moved);
                    }
                }
            }
        }
    }

    fn into_facts(self, side: Side, tcp: &mut crate::verdict::TcpFacts) {
        tcp.duplicate_frames[side] = self.duplicates;
        tcp.cut_segments[side] = self.cut;
        tcp.largest_segment[side] = self.largest;
        tcp.hop_limits[side] = self.hops;
        tcp.acked_bytes[side] = u64::from(self.acked);
    }
}

/// Copies of one packet captured twice arrive within this long of each other (both copies are
/// taken by the same capture, a few microseconds apart).
const DUPLICATE_WINDOW_NS: i64 = 1_000_000;

/// What tells a segment from the same packet captured again: its TCP header fields, its length and
/// its IP identification (a retransmission carries a new one; IPv6 has none, so there the header
/// and the time alone tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    len: u32,
    ip_id: Option<u16>,
    hop_limit: u8,
    ts: i64,
}

impl Seen {
    fn of(seg: &TcpSegment<'_>, at: Mark) -> Self {
        Seen {
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags.0,
            window: seg.window,
            len: seg.wire_payload_len,
            ip_id: seg.ip.id,
            hop_limit: seg.ip.hop_limit,
            ts: at.ts.as_nanos(),
        }
    }

    /// Whether `next` is this packet captured again: the same headers within the window, told
    /// apart by a nonzero IPv4 identification, or, where there is none (IPv6, or stacks that send 0
    /// with DF), carrying payload (two identical empty RSTs or ACKs in a row are ordinary: one per
    /// packet they answer).
    fn same_packet(&self, next: &Seen) -> bool {
        let close = next.ts.saturating_sub(self.ts).abs() <= DUPLICATE_WINDOW_NS;
        let identified = matches!(self.ip_id, Some(id) if id != 0);
        close && (identified || self.len > 0) && Seen { ts: 0, ..*self } == Seen { ts: 0, ..*next }
    }
}

#[cfg(test)]
mod size_probe {
    /// A tracked connection stays small: 200 000 of them are tracked at once by default, so every
    /// byte here is 200 KB of memory. Rare parts are boxed (the RDP and TLS facts, the first bytes of
    /// a side that is not TLS).
    #[test]
    fn a_tracked_connection_stays_small() {
        let sizes = [
            (
                "Connection",
                std::mem::size_of::<super::Connection>(),
                1_456,
            ),
            (
                "Observer",
                std::mem::size_of::<crate::verdict::observer::Observer>(),
                576,
            ),
            ("Proto", std::mem::size_of::<super::Proto>(), 256),
            (
                "Reassembler",
                std::mem::size_of::<crate::tcp::Reassembler>(),
                256,
            ),
        ];
        for (name, size, max) in sizes {
            assert!(size <= max, "{name} is {size} bytes, more than {max}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::Timestamp;
    use crate::decode::{IpFacts, TcpFlags};
    use crate::verdict::Step;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn seg(from_client: bool, flags: u8, hop_limit: u8, id: u16) -> TcpSegment<'static> {
        let ((src, src_port), (dst, dst_port)) = if from_client {
            ((CLIENT, 40000), (SERVER, 443))
        } else {
            ((SERVER, 443), (CLIENT, 40000))
        };
        TcpSegment {
            src,
            dst,
            src_port,
            dst_port,
            seq: if from_client { 100 } else { 500 },
            ack: if from_client { 501 } else { 101 },
            flags: TcpFlags(flags),
            window: 1024,
            payload: &[],
            wire_payload_len: 0,
            ip: IpFacts {
                hop_limit,
                id: Some(id),
            },
        }
    }

    #[test]
    fn steps_carry_the_ip_facts_of_their_packets() {
        let config = Config::default();
        let mut budget = Budget::new(1 << 20);
        let mut events = Vec::new();
        let at = |frame| Mark {
            frame,
            ts: Timestamp(0),
        };
        let syn = seg(true, TcpFlags::SYN, 64, 1);
        let mut conn = Connection::new(0, &syn, at(1), &config, false);
        let ack = TcpFlags::SYN | TcpFlags::ACK;
        // The SYN, the SYN-ACK, the client's ACK, then an RST claiming to be the server's from a
        // middlebox closer to the client (TTL 61 where the server's packets arrive with 52).
        let segments = [
            syn,
            seg(false, ack, 52, 7),
            seg(true, TcpFlags::ACK, 64, 2),
            seg(false, TcpFlags::RST, 61, 0),
        ];
        for (n, s) in segments.iter().enumerate() {
            conn.segment(s, at(n as u64 + 1), &mut budget, &mut events);
        }
        let v = conn.finish(false, &mut budget, &mut events);
        let facts: Vec<(Step, Option<IpFacts>)> =
            v.timeline.iter().map(|e| (e.step, e.ip)).collect();
        let ip = |hop_limit, id| {
            Some(IpFacts {
                hop_limit,
                id: Some(id),
            })
        };
        assert_eq!(
            facts,
            [
                (Step::Syn, ip(64, 1)),
                (Step::SynAck, ip(52, 7)),
                (Step::Rst, ip(61, 0)),
            ]
        );
        // The RST is not one of the server's own packets' hop limits.
        assert_eq!(
            v.tcp.hop_limits.server.map(|r| (r.min, r.max)),
            Some((52, 52))
        );
        assert_eq!(
            v.tcp.hop_limits.client.map(|r| (r.min, r.max)),
            Some((64, 64))
        );
    }
}
