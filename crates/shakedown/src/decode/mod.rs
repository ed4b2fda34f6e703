//! Frame decoding: the step between the capture reader and the flow table.
//!
//! ```text
//! capture::Frame ─► decode ─► TcpSegment (a view into the frame or the reassembly buffer)
//!                         └─► Skip (why the frame carries no TCP segment)
//! ```
//!
//! A [`Decoder`] strips the link layer (Ethernet, raw IP, Linux SLL and SLL2, BSD NULL and LOOP,
//! NFLOG, PPP, Cisco HDLC), any number of VLAN tags (bounded), MPLS and PPPoE, the IP layer (IPv4
//! options, IPv6 extension headers, fragment reassembly with caps) and tunnels (IP-in-IP, GRE incl.
//! ERSPAN, VXLAN, Geneve, GTP-U, Teredo), and returns the innermost TCP header with its payload. It
//! never verifies checksums (captures taken on the sending host carry offloaded, i.e. wrong,
//! checksums).
//!
//! Frames cut by the snap length are decoded as far as they go: a complete TCP header with a cut
//! payload gives a segment whose [`TcpSegment::payload`] is what was captured while
//! [`TcpSegment::wire_payload_len`] is what the IP header says was sent. A cut inside the TCP
//! options still gives the segment (with no captured payload), so a SYN is not lost to a short snap
//! length.
//!
//! ```
//! use shakedown::capture::{Frame, LinkType};
//! use shakedown::decode::{Decoded, Decoder};
//! use shakedown::{Config, Timestamp};
//!
//! // Raw IPv4 + TCP SYN from 10.0.0.1:1234 to 10.0.0.2:443.
//! let mut pkt = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
//! pkt.extend_from_slice(&[0x04, 0xd2, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0]); // ports, seq, ack
//! pkt.extend_from_slice(&[0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]); // offset 5, SYN, window
//! let frame = Frame { index: 0, ts: Timestamp::ZERO, link_type: LinkType::RAW, interface: 0,
//!                     data: &pkt, orig_len: pkt.len() as u32 };
//! let mut decoder = Decoder::new(&Config::default());
//! match decoder.decode(&frame) {
//!     Decoded::Tcp(seg) => {
//!         assert_eq!((seg.src_port, seg.dst_port), (1234, 443));
//!         assert_eq!(seg.flags.to_string(), "SYN");
//!     }
//!     Decoded::Skipped(skip) => panic!("{skip}"),
//! }
//! ```

mod defrag;
mod header;
mod link;
mod next;
mod walk;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;

use crate::capture::{Frame, LinkType};

/// Most tunnels (IP-in-IP, GRE, VXLAN, Geneve, GTP-U, Teredo) peeled from one frame; deeper is
/// [`Skip::TunnelTooDeep`].
pub const MAX_TUNNEL_DEPTH: u8 = 8;

/// Most stacked VLAN tags (or MPLS labels) walked in one Ethernet header; more is
/// [`Skip::Malformed`]`(`[`Layer::Vlan`]`)`.
pub const MAX_VLAN_TAGS: usize = 16;

/// Most IPv6 extension headers walked in one datagram; more is
/// [`Skip::Malformed`]`(`[`Layer::Ipv6`]`)`.
pub const MAX_IPV6_EXT_HEADERS: usize = 16;

/// The decoder: stateless per frame except for IP fragment reassembly, whose bounded state it owns.
#[derive(Debug)]
pub struct Decoder {
    defrag: defrag::Defragmenter,
}

impl Decoder {
    /// A decoder whose fragment reassembly obeys `config`'s `max_fragment_sets`,
    /// `max_fragment_bytes` and `fragment_timeout_ns`.
    pub fn new(config: &crate::Config) -> Self {
        Decoder {
            defrag: defrag::Defragmenter::new(
                config.max_fragment_sets,
                config.max_fragment_bytes,
                config.fragment_timeout_ns,
            ),
        }
    }

    /// Decodes one frame. The result may borrow the frame's bytes or the decoder's reassembly
    /// buffer.
    ///
    /// Fragment sets older than the timeout (by this frame's timestamp) are dropped first.
    pub fn decode<'a>(&'a mut self, frame: &Frame<'a>) -> Decoded<'a> {
        let defrag = &mut self.defrag;
        defrag.forget_last();
        defrag.expire(frame.ts.as_nanos());
        walk::Walker::new(frame, defrag).run()
    }

    /// The IP datagram whose fragment the frame last given to [`Decoder::decode`] carried: `Some`
    /// when the result was [`Skip::FragmentHeld`], [`Skip::FragmentDropped`], or a segment that this
    /// fragment completed; `None` for a frame that held no fragment. A tool keeping the frames of
    /// a connection (such as the command line's `--save-failures`) holds the fragments by it until
    /// the segment that completes their datagram names its connection.
    ///
    /// ```
    /// use shakedown::Config;
    /// use shakedown::capture::{Frame, LinkType};
    /// use shakedown::decode::{Decoded, Decoder, Skip};
    ///
    /// // Two IPv4 fragments (identification 7) of one TCP segment, on a raw-IP link.
    /// fn fragment(offset_units: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    ///     let total = 20 + payload.len() as u16;
    ///     let flags = if more { 0x2000 } else { 0 } | offset_units;
    ///     let mut p = vec![0x45, 0, 0, 0, 0, 7, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    ///     p[2..4].copy_from_slice(&total.to_be_bytes());
    ///     p[6..8].copy_from_slice(&flags.to_be_bytes());
    ///     p.extend_from_slice(payload);
    ///     p
    /// }
    /// let mut tcp = vec![0xc0, 0x00, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0];
    /// tcp.extend_from_slice(b"hello, fragmented world");
    /// let (first, second) = tcp.split_at(24);
    /// let frames = [fragment(0, true, first), fragment(3, false, second)];
    ///
    /// let mut decoder = Decoder::new(&Config::default());
    /// let frame = |i: usize| Frame {
    ///     index: i as u64 + 1,
    ///     ts: Default::default(),
    ///     link_type: LinkType::RAW,
    ///     interface: 0,
    ///     data: &frames[i],
    ///     orig_len: frames[i].len() as u32,
    /// };
    /// assert!(matches!(decoder.decode(&frame(0)), Decoded::Skipped(Skip::FragmentHeld)));
    /// let held = decoder.last_fragment().expect("a fragment");
    /// assert!(matches!(decoder.decode(&frame(1)), Decoded::Tcp(_)));
    /// assert_eq!(decoder.last_fragment(), Some(held));
    /// ```
    pub fn last_fragment(&self) -> Option<DatagramId> {
        self.defrag.last().map(DatagramId)
    }

    /// Decodes a frame that needs no IP fragment reassembly, without this decoder's state (so any
    /// thread can), with the same result as [`Decoder::decode`]; but sets `*fragment` when the
    /// frame holds an IP fragment, which [`Decoder::decode`] must see in capture order (the result
    /// then means nothing). The result is not wrapped in an `Option`: a segment copied right after
    /// it was written costs the CPU a stall per address, about as much as decoding it.
    pub(crate) fn decode_unfragmented<'a>(frame: &Frame<'a>, fragment: &mut bool) -> Decoded<'a> {
        walk::Walker::unfragmented(frame).run_unfragmented(fragment)
    }

    /// Drops fragment sets older than the timeout at capture time `now_ns` (what
    /// [`Decoder::decode`] does first for every frame).
    pub(crate) fn expire_fragments(&mut self, now_ns: i64) {
        self.defrag.expire(now_ns);
    }

    /// Datagrams being reassembled now.
    pub fn fragments_pending(&self) -> usize {
        self.defrag.pending()
    }

    /// Datagrams abandoned so far because their fragments did not all arrive within the timeout. No
    /// frame's result reports these (they are noticed while decoding a later, unrelated frame).
    pub fn fragments_expired(&self) -> u64 {
        self.defrag.expired()
    }

    /// Bytes held now for fragment reassembly.
    pub fn fragment_bytes(&self) -> usize {
        self.defrag.bytes()
    }
}

/// One IP datagram put together from fragments: its addresses, identification and upper-layer
/// protocol, and the capture interface (see [`Decoder::last_fragment`]). Two fragments with equal
/// ids belong to the same datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramId(defrag::FragKey);

/// What one frame gave.
#[derive(Debug, Clone, Copy)]
pub enum Decoded<'a> {
    /// The innermost TCP segment of the frame.
    Tcp(TcpSegment<'a>),
    /// The frame carries no (usable) TCP segment, and why.
    Skipped(Skip),
}

/// A TCP segment (RFC 9293 §3.1): addresses from the innermost IP header, the TCP header fields the
/// later stages need, and the payload view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpSegment<'a> {
    /// Source address (innermost IP header).
    pub src: IpAddr,
    /// Destination address (innermost IP header).
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when [`TcpFlags::ACK`] is set).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window field, unscaled.
    pub window: u16,
    /// The captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length by the IP header (`> payload.len()` when the frame was cut by the snap
    /// length).
    pub wire_payload_len: u32,
    /// Facts of the innermost IP header (the one holding [`TcpSegment::src`] and
    /// [`TcpSegment::dst`]).
    pub ip: IpFacts,
}

/// What the innermost IP header of a segment says about its path, beyond the addresses: what
/// tells a packet forged on the way (a middlebox's RST) from the claimed sender's own.
///
/// For a datagram put together from fragments, the facts of the fragment at offset 0 (the one
/// whose upper-layer protocol counts, RFC 8200 §4.5); the IPv4 identification is the same in
/// every fragment.
///
/// ```
/// use shakedown::decode::IpFacts;
/// let mut v4 = IpFacts::default();
/// (v4.hop_limit, v4.id) = (64, Some(0x1c46));
/// let mut v6 = IpFacts::default();
/// v6.hop_limit = 255;
/// assert_ne!(v4, v6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct IpFacts {
    /// IPv4 Time to Live (RFC 791 §3.1) or IPv6 Hop Limit (RFC 8200 §3), as captured: what is
    /// left of the sender's initial value after the routers on the way.
    pub hop_limit: u8,
    /// IPv4 Identification (RFC 791 §3.1); `None` for IPv6 (its header has none, and the
    /// Fragment header's 32-bit identification, RFC 8200 §4.5, is only in fragments). So `Some`
    /// exactly when the segment's addresses are IPv4.
    pub id: Option<u16>,
}

impl TcpSegment<'_> {
    /// Whether the snap length cut part of the payload.
    pub fn is_cut(&self) -> bool {
        (self.payload.len() as u64) < u64::from(self.wire_payload_len)
    }

    /// Sequence space the segment occupies: payload length plus one each for SYN and FIN
    /// (RFC 9293 §3.4).
    pub fn seq_len(&self) -> u32 {
        self.wire_payload_len
            .wrapping_add(u32::from(self.flags.syn()))
            .wrapping_add(u32::from(self.flags.fin()))
    }
}

/// TCP control bits (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR), byte 13 of the header.
///
/// ```
/// use shakedown::decode::TcpFlags;
/// let f = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
/// assert!(f.syn() && f.ack() && !f.rst());
/// assert_eq!(f.to_string(), "SYN,ACK");
/// assert_eq!(TcpFlags::default().to_string(), "none");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN-Echo.
    pub const ECE: u8 = 0x40;
    /// Congestion Window Reduced.
    pub const CWR: u8 = 0x80;

    const NAMES: [(u8, &'static str); 8] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
    ];

    /// Whether all bits of `mask` are set.
    pub fn contains(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
    /// FIN is set.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN is set.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST is set.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH is set.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK is set.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
}

/// Names of the set bits joined by commas, low bit first (`SYN,ACK`); `none` when no bit is set.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        let mut first = true;
        for (bit, name) in Self::NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// A protocol layer, to say where decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// The link-layer header (Ethernet, SLL, SLL2, NULL, LOOP, NFLOG).
    Link,
    /// 802.1Q / 802.1ad tags, MPLS labels, PPPoE.
    Vlan,
    /// IPv4 header (RFC 791).
    Ipv4,
    /// IPv6 header and extension headers (RFC 8200).
    Ipv6,
    /// TCP header (RFC 9293).
    Tcp,
    /// A tunnel header (GRE, VXLAN, Geneve, GTP-U, Teredo, UDP under a tunnel).
    Tunnel,
}

impl Layer {
    /// Short stable lowercase name (`link`, `vlan`, `ipv4`, `ipv6`, `tcp`, `tunnel`).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Tcp => "tcp",
            Layer::Tunnel => "tunnel",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an IP fragment was thrown away (with the datagram it belonged to, except for
/// [`FragmentDrop::TooManySets`] which refuses a new datagram only).
///
/// Overlap policy: a fragment overlapping bytes already held is accepted when the overlapping bytes
/// are identical (a duplicated fragment), and the whole datagram is dropped when they differ (the
/// receiver's view would be ambiguous; RFC 5722 drops every overlapping IPv6 datagram). Datagrams
/// whose fragments do not all arrive within `fragment_timeout_ns` of the first are dropped silently
/// and counted by [`Decoder::fragments_expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FragmentDrop {
    /// `max_fragment_sets` datagrams are already being reassembled.
    TooManySets,
    /// Holding this fragment would exceed `max_fragment_bytes`.
    TooManyBytes,
    /// Overlapping fragments with different bytes.
    Overlap,
    /// Fragments disagree on the datagram's end (two last fragments, data past the end).
    Inconsistent,
    /// The reassembled datagram would exceed 65,535 bytes.
    TooBig,
    /// The fragment was cut by the snap length, so it cannot be reassembled.
    Cut,
    /// A fragment inside a datagram that was itself reassembled (only one reassembly per frame).
    Nested,
}

impl FragmentDrop {
    /// Short stable label.
    pub fn name(self) -> &'static str {
        match self {
            FragmentDrop::TooManySets => "too_many_sets",
            FragmentDrop::TooManyBytes => "too_many_bytes",
            FragmentDrop::Overlap => "overlap",
            FragmentDrop::Inconsistent => "inconsistent",
            FragmentDrop::TooBig => "too_big",
            FragmentDrop::Cut => "cut",
            FragmentDrop::Nested => "nested",
        }
    }
}

impl fmt::Display for FragmentDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a frame gave no TCP segment. Small, `Copy`, `Ord + Hash` so a dissector can count by kind.
///
/// ```
/// use shakedown::decode::{Layer, Skip};
/// assert_eq!(Skip::Truncated(Layer::Ipv4).kind().name(), "truncated_ipv4");
/// assert!(!Skip::NotTcp { ip_proto: 17 }.is_anomaly());
/// assert_eq!(Skip::NonIp { ethertype: 0x0806 }.to_string(), "not IP (ethertype 0x0806)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Skip {
    /// IP carrying another protocol (UDP, ICMP, ICMP errors quoting TCP, ESP...): ordinary.
    NotTcp {
        /// The IP protocol / IPv6 next header number (IANA "Protocol Numbers").
        ip_proto: u8,
    },
    /// A link layer carrying something other than IP (ARP, LLDP, STP...): ordinary.
    NonIp {
        /// The EtherType (IEEE 802 numbers), the 802.3 length field for LLC frames, or the PPP
        /// protocol number (RFC 1661) on PPP links.
        ethertype: u16,
    },
    /// A NULL, LOOP or NFLOG frame whose address family is not IPv4 or IPv6.
    NonIpFamily {
        /// The address family value as read.
        family: u32,
    },
    /// A link-layer type this decoder does not know.
    UnsupportedLinkType(LinkType),
    /// The snap length cut the frame before the fixed 20-byte TCP header was complete (a cut inside
    /// the TCP options still gives a segment).
    Truncated(Layer),
    /// A header that cannot be right (bad version, length fields smaller than the header, too many
    /// stacked headers...), or too short in a frame that was not cut.
    Malformed(Layer),
    /// An IP fragment held while waiting for the rest of its datagram.
    FragmentHeld,
    /// An IP fragment thrown away.
    FragmentDropped(FragmentDrop),
    /// More than [`MAX_TUNNEL_DEPTH`] nested tunnels.
    TunnelTooDeep,
}

impl Skip {
    /// What kind of skip this is, without its details: what an analysis counts frames by.
    pub fn kind(&self) -> SkipKind {
        match *self {
            Skip::NotTcp { .. } => SkipKind::NotTcp,
            Skip::NonIp { .. } => SkipKind::NonIp,
            Skip::NonIpFamily { .. } => SkipKind::NonIpFamily,
            Skip::UnsupportedLinkType(_) => SkipKind::UnsupportedLinkType,
            Skip::Truncated(layer) => SkipKind::Truncated(layer),
            Skip::Malformed(layer) => SkipKind::Malformed(layer),
            Skip::FragmentHeld => SkipKind::FragmentHeld,
            Skip::FragmentDropped(why) => SkipKind::FragmentDropped(why),
            Skip::TunnelTooDeep => SkipKind::TunnelTooDeep,
        }
    }

    /// Whether this is worth reporting as a problem of the capture or the traffic
    /// ([`SkipKind::is_anomaly`]).
    pub fn is_anomaly(&self) -> bool {
        self.kind().is_anomaly()
    }
}

/// The kind of a [`Skip`] without its details (which protocol, which EtherType): the key frames
/// are counted by. Ordered by [`SkipKind::name`], so counts list alphabetically.
///
/// ```
/// use shakedown::decode::{Layer, Skip, SkipKind};
/// assert_eq!(Skip::Truncated(Layer::Ipv4).kind().name(), "truncated_ipv4");
/// assert_eq!(Skip::NonIp { ethertype: 0x0806 }.kind(), SkipKind::NonIp);
/// assert!(!SkipKind::NonIp.is_anomaly() && SkipKind::Malformed(Layer::Tcp).is_anomaly());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipKind {
    /// [`Skip::NotTcp`].
    NotTcp,
    /// [`Skip::NonIp`].
    NonIp,
    /// [`Skip::NonIpFamily`].
    NonIpFamily,
    /// [`Skip::UnsupportedLinkType`].
    UnsupportedLinkType,
    /// [`Skip::Truncated`].
    Truncated(Layer),
    /// [`Skip::Malformed`].
    Malformed(Layer),
    /// [`Skip::FragmentHeld`].
    FragmentHeld,
    /// [`Skip::FragmentDropped`].
    FragmentDropped(FragmentDrop),
    /// [`Skip::TunnelTooDeep`].
    TunnelTooDeep,
}

impl SkipKind {
    /// Short stable label, e.g. `not_tcp`, `non_ip`, `unsupported_link_type`, `truncated_ipv4`,
    /// `malformed_tcp`, `fragment_held`, `fragment_dropped_overlap`, `tunnel_too_deep`.
    pub fn name(self) -> &'static str {
        match self {
            SkipKind::NotTcp => "not_tcp",
            SkipKind::NonIp => "non_ip",
            SkipKind::NonIpFamily => "non_ip_family",
            SkipKind::UnsupportedLinkType => "unsupported_link_type",
            SkipKind::Truncated(layer) => match layer {
                Layer::Link => "truncated_link",
                Layer::Vlan => "truncated_vlan",
                Layer::Ipv4 => "truncated_ipv4",
                Layer::Ipv6 => "truncated_ipv6",
                Layer::Tcp => "truncated_tcp",
                Layer::Tunnel => "truncated_tunnel",
            },
            SkipKind::Malformed(layer) => match layer {
                Layer::Link => "malformed_link",
                Layer::Vlan => "malformed_vlan",
                Layer::Ipv4 => "malformed_ipv4",
                Layer::Ipv6 => "malformed_ipv6",
                Layer::Tcp => "malformed_tcp",
                Layer::Tunnel => "malformed_tunnel",
            },
            SkipKind::FragmentHeld => "fragment_held",
            SkipKind::FragmentDropped(why) => match why {
                FragmentDrop::TooManySets => "fragment_dropped_too_many_sets",
                FragmentDrop::TooManyBytes => "fragment_dropped_too_many_bytes",
                FragmentDrop::Overlap => "fragment_dropped_overlap",
                FragmentDrop::Inconsistent => "fragment_dropped_inconsistent",
                FragmentDrop::TooBig => "fragment_dropped_too_big",
                FragmentDrop::Cut => "fragment_dropped_cut",
                FragmentDrop::Nested => "fragment_dropped_nested",
            },
            SkipKind::TunnelTooDeep => "tunnel_too_deep",
        }
    }

    /// Whether frames of this kind are worth reporting as a problem of the capture or the
    /// traffic: false for ordinary traffic that is not TCP (other IP protocols, ARP and other
    /// link protocols, other address families) and for fragments held for reassembly. This is the
    /// one definition the summary's `anomalies` count uses.
    pub fn is_anomaly(self) -> bool {
        !matches!(
            self,
            SkipKind::NotTcp | SkipKind::NonIp | SkipKind::NonIpFamily | SkipKind::FragmentHeld
        )
    }
}

impl Ord for SkipKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for SkipKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotTcp { ip_proto } => write!(f, "not TCP (IP protocol {ip_proto})"),
            Skip::NonIp { ethertype } => write!(f, "not IP (ethertype {ethertype:#06x})"),
            Skip::NonIpFamily { family } => write!(f, "not IP (address family {family:#x})"),
            Skip::UnsupportedLinkType(lt) => write!(f, "unsupported link type {}", lt.0),
            Skip::Truncated(layer) => write!(f, "cut by the snap length in the {layer} header"),
            Skip::Malformed(layer) => write!(f, "malformed {layer} header"),
            Skip::FragmentHeld => f.write_str("IP fragment held for reassembly"),
            Skip::FragmentDropped(why) => write!(f, "IP fragment dropped ({why})"),
            Skip::TunnelTooDeep => write!(f, "more than {MAX_TUNNEL_DEPTH} nested tunnels"),
        }
    }
}
