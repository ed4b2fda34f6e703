//! The layer walk of one frame: link → (VLAN/MPLS/PPPoE) → IP (+ reassembly) → TCP, looping back
//! through tunnels. Each step consumes a header, tunnels are counted against [`MAX_TUNNEL_DEPTH`]
//! and the whole walk against a step budget, so no input can make it loop.

use std::net::IpAddr;

use super::defrag::{Defragmenter, FragHead, FragKey, FragOutcome};
use super::header::{
    HeaderError, IPV6_FRAGMENT_LEN, Ipv4Header, Ipv6Fragment, Ipv6Header, TcpHeader,
};
use super::link;
use super::next::{Next, ppp};
use super::{
    FragmentDrop, IpFacts, Layer, MAX_IPV6_EXT_HEADERS, MAX_TUNNEL_DEPTH, MAX_VLAN_TAGS, Skip,
    TcpSegment,
};
use crate::bytes::view::be16;
use crate::capture::{Frame, LinkType};

/// Upper bound on walk steps for one frame (each tunnel costs a handful of steps).
const MAX_STEPS: usize = 8 * (MAX_TUNNEL_DEPTH as usize + 2);

fn usize_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) struct Walker<'a> {
    /// Taken by the first reassembly, so a frame completes at most one datagram.
    defrag: Option<&'a mut Defragmenter>,
    /// Walking without a defragmenter ([`Walker::unfragmented`]).
    stateless: bool,
    /// Set when such a walk met a fragment.
    deferred: bool,
    link_type: LinkType,
    data: &'a [u8],
    ts_ns: i64,
    interface: u32,
    /// Still inside bytes the snap length cut: a short header is `Truncated`, else `Malformed`.
    cut: bool,
    tunnels: u8,
    /// A UDP tunnel was recognised by content on a non-standard port: only a TCP segment (or a held
    /// fragment) proves it, anything else reports the outer UDP datagram.
    heuristic: bool,
}

impl<'a> Walker<'a> {
    pub fn new(frame: &Frame<'a>, defrag: &'a mut Defragmenter) -> Self {
        Walker {
            defrag: Some(defrag),
            stateless: false,
            ..Self::unfragmented(frame)
        }
    }

    /// A walker without a defragmenter: meeting an IP fragment, it stops (see
    /// [`Walker::run_unfragmented`]).
    pub fn unfragmented(frame: &Frame<'a>) -> Self {
        Walker {
            defrag: None,
            stateless: true,
            deferred: false,
            link_type: frame.link_type,
            data: frame.data,
            ts_ns: frame.ts.as_nanos(),
            interface: frame.interface,
            cut: (frame.data.len() as u64) < u64::from(frame.orig_len),
            tunnels: 0,
            heuristic: false,
        }
    }

    fn short(&self, layer: Layer) -> Skip {
        if self.cut {
            Skip::Truncated(layer)
        } else {
            Skip::Malformed(layer)
        }
    }

    /// The skip for a header a view's `new_checked` refused.
    fn refused(&self, e: HeaderError, layer: Layer) -> Skip {
        match e {
            HeaderError::Short { .. } => self.short(layer),
            HeaderError::Malformed => Skip::Malformed(layer),
        }
    }

    fn tunnel(&mut self) -> Result<(), Skip> {
        self.tunnels += 1;
        if self.tunnels > MAX_TUNNEL_DEPTH {
            Err(Skip::TunnelTooDeep)
        } else {
            Ok(())
        }
    }

    /// Walks the frame to its innermost TCP segment, or tells why there is none.
    pub fn run(mut self) -> super::Decoded<'a> {
        self.decoded()
    }

    /// [`Walker::run`] for a walker without a defragmenter: sets `*fragment` when the frame holds
    /// an IP fragment, which only a walker with the capture's defragmenter can decode (the result
    /// then means nothing).
    pub fn run_unfragmented(mut self, fragment: &mut bool) -> super::Decoded<'a> {
        let decoded = self.decoded();
        *fragment = self.deferred;
        decoded
    }

    fn decoded(&mut self) -> super::Decoded<'a> {
        match self.result() {
            Ok(seg) => super::Decoded::Tcp(seg),
            Err(skip) => super::Decoded::Skipped(skip),
        }
    }

    fn result(&mut self) -> Result<TcpSegment<'a>, Skip> {
        let result = self.walk();
        match result {
            Err(skip) if self.heuristic && skip != Skip::FragmentHeld => {
                Err(Skip::NotTcp { ip_proto: 17 })
            }
            _ => result,
        }
    }

    fn walk(&mut self) -> Result<TcpSegment<'a>, Skip> {
        let mut next = link::strip(self.link_type, self.data, self.short(Layer::Link))?;
        for _ in 0..MAX_STEPS {
            next = match next {
                Next::Ethernet(d) => self.ethernet(d)?,
                Next::EtherType(t, d) => self.ethertype(t, d)?,
                Next::Ipv4(d) => self.ipv4(d)?,
                Next::Ipv6(d) => self.ipv6(d)?,
                Next::Ip(d) => match d.first().map(|b| b >> 4) {
                    Some(4) => self.ipv4(d)?,
                    Some(6) => self.ipv6(d)?,
                    Some(_) => return Err(Skip::Malformed(Layer::Ipv4)),
                    None => return Err(self.short(Layer::Ipv4)),
                },
                Next::Done(seg) => return Ok(seg),
            };
        }
        Err(Skip::TunnelTooDeep)
    }

    /// Ethernet II, or IEEE 802.3 with LLC/SNAP (RFC 1042) carrying an EtherType.
    fn ethernet(&mut self, d: &'a [u8]) -> Result<Next<'a>, Skip> {
        let (h, rest) = d.split_first_chunk::<14>().ok_or(self.short(Layer::Link))?;
        let ethertype = be16(h, 12);
        if ethertype >= 0x0600 {
            return Ok(Next::EtherType(ethertype, rest));
        }
        // An 802.3 length field: only SNAP with the zero OUI carries an EtherType.
        match rest.split_first_chunk::<8>() {
            Some(([0xAA, 0xAA, 0x03, 0, 0, 0, hi, lo], inner)) => {
                Ok(Next::EtherType(u16::from_be_bytes([*hi, *lo]), inner))
            }
            _ => Err(Skip::NonIp { ethertype }),
        }
    }

    /// Dispatches on an EtherType, walking any stack of 802.1Q / 802.1ad tags (IEEE 802.1Q §9.6).
    fn ethertype(&mut self, mut t: u16, mut d: &'a [u8]) -> Result<Next<'a>, Skip> {
        for _ in 0..=MAX_VLAN_TAGS {
            match t {
                0x0800 => return Ok(Next::Ipv4(d)),
                0x86DD => return Ok(Next::Ipv6(d)),
                // 802.1Q, 802.1ad, and the pre-standard QinQ TPIDs.
                0x8100 | 0x88A8 | 0x9100 | 0x9200 | 0x9300 => {
                    let (tag, rest) = d.split_first_chunk::<4>().ok_or(self.short(Layer::Vlan))?;
                    t = be16(tag, 2);
                    d = rest;
                }
                // Transparent Ethernet bridging (GRE, Geneve).
                0x6558 => return Ok(Next::Ethernet(d)),
                0x8847 | 0x8848 => return self.mpls(d),
                // PPPoE session stage (RFC 2516 §4): 6-byte header, then a PPP protocol.
                0x8864 => {
                    let rest = d.get(6..).ok_or(self.short(Layer::Vlan))?;
                    return ppp(rest, self.short(Layer::Vlan));
                }
                _ => return Err(Skip::NonIp { ethertype: t }),
            }
        }
        Err(Skip::Malformed(Layer::Vlan))
    }

    /// An MPLS label stack (RFC 3032 §2.1); after the bottom label, IP by its version nibble or an
    /// Ethernet pseudowire behind a control word (RFC 4385 §3, first nibble 0).
    fn mpls(&mut self, mut d: &'a [u8]) -> Result<Next<'a>, Skip> {
        for _ in 0..MAX_VLAN_TAGS {
            let (label, rest) = d.split_first_chunk::<4>().ok_or(self.short(Layer::Vlan))?;
            d = rest;
            if label[2] & 1 == 0 {
                continue;
            }
            return match d.first().map(|b| b >> 4) {
                Some(4) => Ok(Next::Ipv4(d)),
                Some(6) => Ok(Next::Ipv6(d)),
                Some(0) => {
                    self.tunnel()?;
                    Ok(Next::Ethernet(d.get(4..).ok_or(self.short(Layer::Vlan))?))
                }
                Some(_) => Err(Skip::NonIp { ethertype: 0x8847 }),
                None => Err(self.short(Layer::Vlan)),
            };
        }
        Err(Skip::Malformed(Layer::Vlan))
    }

    /// IPv4 (RFC 791 §3.1). Options are skipped by the header length.
    fn ipv4(&mut self, d: &'a [u8]) -> Result<Next<'a>, Skip> {
        let h = Ipv4Header::new_checked(d).map_err(|e| self.refused(e, Layer::Ipv4))?;
        let hlen = h.header_len();
        let total = usize::from(h.total_len());
        // A total length smaller than the header is what segmentation offload leaves in captures
        // taken on the sender (often 0): the captured length is all there is to go by.
        let (end, wire) = if total >= hlen {
            (total.min(d.len()), total - hlen)
        } else {
            (d.len(), d.len().saturating_sub(hlen))
        };
        let payload = d.get(hlen..end).unwrap_or_default();
        let wire = usize_u32(wire);
        let (src, dst) = (IpAddr::V4(h.src_addr()), IpAddr::V4(h.dst_addr()));
        let proto = h.protocol();
        let ip = IpFacts {
            hop_limit: h.ttl(),
            id: Some(h.ident()),
        };
        let offset = h.frag_offset();
        if h.more_fragments() || offset != 0 {
            if usize_u32(payload.len()) < wire {
                return Err(Skip::FragmentDropped(FragmentDrop::Cut));
            }
            let id = u32::from(h.ident());
            let key = FragKey {
                interface: self.interface,
                src,
                dst,
                id,
                proto,
            };
            let head = FragHead {
                proto,
                hop_limit: ip.hop_limit,
            };
            let (head, data) = self.reassemble(key, offset, h.more_fragments(), head, payload)?;
            let ip = IpFacts {
                hop_limit: head.hop_limit,
                ..ip
            };
            return self.transport(head.proto, src, dst, ip, data, usize_u32(data.len()));
        }
        self.transport(proto, src, dst, ip, payload, wire)
    }

    /// IPv6 (RFC 8200 §3) and its extension headers.
    fn ipv6(&mut self, d: &'a [u8]) -> Result<Next<'a>, Skip> {
        let h = Ipv6Header::new_checked(d).map_err(|e| self.refused(e, Layer::Ipv6))?;
        let rest = h.rest();
        let plen = usize::from(h.payload_len());
        // Payload length 0: a jumbogram (RFC 2675) or segmentation offload; use what was captured.
        let (body, wire) = if plen == 0 {
            (rest, rest.len())
        } else {
            (rest.get(..plen).unwrap_or(rest), plen)
        };
        let (src, dst) = (IpAddr::V6(h.src_addr()), IpAddr::V6(h.dst_addr()));
        let first = FragHead {
            proto: h.next_header(),
            hop_limit: h.hop_limit(),
        };
        let (head, data, wire) = self.ipv6_exts(src, dst, first, body, usize_u32(wire))?;
        let ip = IpFacts {
            hop_limit: head.hop_limit,
            id: None,
        };
        self.transport(head.proto, src, dst, ip, data, wire)
    }

    /// Walks IPv6 extension headers (RFC 8200 §4) from `head` (the IPv6 header's Next Header and
    /// Hop Limit) up to the upper-layer header, reassembling at a Fragment header (§4.5) and
    /// continuing in the reassembled payload (with the offset-zero fragment's hop limit).
    fn ipv6_exts(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        mut head: FragHead,
        mut body: &'a [u8],
        mut wire: u32,
    ) -> Result<(FragHead, &'a [u8], u32), Skip> {
        let mut next = head.proto;
        let mut reassembled = false;
        for _ in 0..MAX_IPV6_EXT_HEADERS {
            let len = match next {
                // Hop-by-hop, Routing, Destination Options, Mobility, HIP, Shim6: length in 8-octet
                // units, not counting the first 8 octets.
                0 | 43 | 60 | 135 | 139 | 140 => {
                    let Some(&[_, units]) = body.first_chunk::<2>() else {
                        return Err(self.short(Layer::Ipv6));
                    };
                    (usize::from(units) + 1) * 8
                }
                // Authentication Header (RFC 4302 §2.2): length in 4-octet units, minus 2.
                51 => {
                    let Some(&[_, units]) = body.first_chunk::<2>() else {
                        return Err(self.short(Layer::Ipv6));
                    };
                    (usize::from(units) + 2) * 4
                }
                44 => IPV6_FRAGMENT_LEN,
                _ => {
                    return Ok((
                        FragHead {
                            proto: next,
                            ..head
                        },
                        body,
                        wire,
                    ));
                }
            };
            if usize_u32(len) > wire {
                return Err(Skip::Malformed(Layer::Ipv6));
            }
            let (Some(header), Some(rest)) = (body.get(..len), body.get(len..)) else {
                return Err(self.short(Layer::Ipv6));
            };
            let this = next;
            next = header.first().copied().unwrap_or_default();
            body = rest;
            wire -= usize_u32(len);
            if this != 44 {
                continue;
            }
            let frag =
                Ipv6Fragment::new_checked(header).map_err(|e| self.refused(e, Layer::Ipv6))?;
            let (offset, more) = (frag.offset(), frag.more_fragments());
            if offset == 0 && !more {
                // An atomic fragment (RFC 6946): just a packet.
                continue;
            }
            if reassembled {
                return Err(Skip::Malformed(Layer::Ipv6));
            }
            if usize_u32(body.len()) < wire {
                return Err(Skip::FragmentDropped(FragmentDrop::Cut));
            }
            let id = frag.ident();
            // The key leaves the protocol out: only the offset-zero fragment's Next Header counts.
            let key = FragKey {
                interface: self.interface,
                src,
                dst,
                id,
                proto: 0,
            };
            let fragment = FragHead {
                proto: next,
                ..head
            };
            let (first, data) = self.reassemble(key, offset, more, fragment, body)?;
            (head, next) = (first, first.proto);
            body = data;
            wire = usize_u32(data.len());
            reassembled = true;
        }
        Err(Skip::Malformed(Layer::Ipv6))
    }

    fn reassemble(
        &mut self,
        key: FragKey,
        offset: u32,
        more: bool,
        head: FragHead,
        payload: &[u8],
    ) -> Result<(FragHead, &'a [u8]), Skip> {
        let Some(defrag) = self.defrag.take() else {
            if self.stateless {
                self.deferred = true;
                return Err(Skip::FragmentHeld);
            }
            return Err(Skip::FragmentDropped(FragmentDrop::Nested));
        };
        match defrag.add(key, self.ts_ns, offset, more, head, payload) {
            FragOutcome::Held => Err(Skip::FragmentHeld),
            FragOutcome::Dropped(why) => Err(Skip::FragmentDropped(why)),
            FragOutcome::Complete(head, data) => {
                self.cut = false;
                Ok((head, data))
            }
        }
    }

    /// The IP payload: TCP, or a tunnel to peel, or something else. `src`, `dst` and `ip` are
    /// the IP header's (a tunnel's inner header replaces them).
    fn transport(
        &mut self,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        ip: IpFacts,
        data: &'a [u8],
        wire: u32,
    ) -> Result<Next<'a>, Skip> {
        match proto {
            6 => self.tcp(src, dst, ip, data, wire).map(Next::Done),
            4 => self.tunnel().map(|()| Next::Ipv4(data)),
            41 => self.tunnel().map(|()| Next::Ipv6(data)),
            47 => self.gre(data),
            17 => self.udp(data),
            _ => Err(Skip::NotTcp { ip_proto: proto }),
        }
    }

    /// TCP header (RFC 9293 §3.1). `data` is bounded by the IP length; `wire` is the IP payload
    /// length. The view checks only the fixed header, so a frame cut inside the options still gives
    /// a segment (a SYN cut in its options is still the SYN), with an empty captured payload.
    fn tcp(
        &self,
        src: IpAddr,
        dst: IpAddr,
        ip: IpFacts,
        data: &'a [u8],
        wire: u32,
    ) -> Result<TcpSegment<'a>, Skip> {
        let h = TcpHeader::new_checked(data).map_err(|e| self.refused(e, Layer::Tcp))?;
        let payload = match h.payload() {
            Ok(payload) => payload,
            Err(_) if self.cut => &[],
            Err(_) => return Err(Skip::Malformed(Layer::Tcp)),
        };
        let Some(wire_payload_len) = wire.checked_sub(usize_u32(h.header_len())) else {
            return Err(Skip::Malformed(Layer::Tcp));
        };
        Ok(TcpSegment {
            src,
            dst,
            src_port: h.src_port(),
            dst_port: h.dst_port(),
            seq: h.seq_number(),
            ack: h.ack_number(),
            flags: h.flags(),
            window: h.window(),
            payload,
            wire_payload_len,
            ip,
        })
    }

    /// GRE (RFC 2784 with RFC 2890 key and sequence; version 1 is PPTP's enhanced GRE, RFC 2637
    /// §4.1), including ERSPAN types I–III.
    fn gre(&mut self, d: &'a [u8]) -> Result<Next<'a>, Skip> {
        self.tunnel()?;
        let Some(h) = d.first_chunk::<4>() else {
            return Err(self.short(Layer::Tunnel));
        };
        let flags = be16(h, 0);
        let proto = be16(h, 2);
        let other = Skip::NotTcp { ip_proto: 47 };
        let bit = |mask: u16| if flags & mask != 0 { 4 } else { 0 };
        let (checksum, routing, key, seq, ack) = (0x8000, 0x4000, 0x2000, 0x1000, 0x0080);
        match flags & 7 {
            0 => {
                // RFC 1701 source routing is obsolete and variable-length: not followed.
                if flags & routing != 0 {
                    return Err(other);
                }
                let hlen = 4 + bit(checksum) + bit(key) + bit(seq);
                let rest = d.get(hlen..).ok_or(self.short(Layer::Tunnel))?;
                match proto {
                    // ERSPAN type II has the sequence bit and an 8-byte header; type I has neither.
                    0x88BE => {
                        let skip = if flags & seq != 0 { 8 } else { 0 };
                        Ok(Next::Ethernet(
                            rest.get(skip..).ok_or(self.short(Layer::Tunnel))?,
                        ))
                    }
                    // ERSPAN type III: 12-byte header, plus an 8-byte platform subheader if O is
                    // set.
                    0x22EB => {
                        let Some(e) = rest.first_chunk::<12>() else {
                            return Err(self.short(Layer::Tunnel));
                        };
                        let skip = if e[11] & 1 != 0 { 20 } else { 12 };
                        Ok(Next::Ethernet(
                            rest.get(skip..).ok_or(self.short(Layer::Tunnel))?,
                        ))
                    }
                    _ => Ok(Next::EtherType(proto, rest)),
                }
            }
            1 if proto == 0x880B => {
                let hlen = 8 + bit(seq) + bit(ack);
                let rest = d.get(hlen..).ok_or(self.short(Layer::Tunnel))?;
                ppp(rest, self.short(Layer::Tunnel)).map_err(|e| match e {
                    Skip::NonIp { .. } => other,
                    e => e,
                })
            }
            _ => Err(other),
        }
    }

    /// UDP (RFC 768) carrying a tunnel: by the well-known port on either side, else by content.
    fn udp(&mut self, d: &'a [u8]) -> Result<Next<'a>, Skip> {
        let not_tcp = Skip::NotTcp { ip_proto: 17 };
        let Some((h, p)) = d.split_first_chunk::<8>() else {
            return Err(not_tcp);
        };
        let (sport, dport) = (be16(h, 0), be16(h, 2));
        let port = |n: u16| sport == n || dport == n;
        // On a tunnel's own port, a datagram cut short of its UDP length is a cut tunnel.
        let cut_tunnel = if usize::from(be16(h, 4)) > d.len() {
            self.short(Layer::Tunnel)
        } else {
            not_tcp
        };
        let inner = if port(4789) || port(8472) {
            vxlan(p, false)
        } else if port(6081) {
            geneve(p, false)
        } else if port(2152) {
            gtpu(p, false)
        } else if port(4790) {
            vxlan_gpe(p)
        } else if port(3544) {
            teredo(p)
        } else {
            let found = geneve(p, true)
                .or_else(|| vxlan(p, true))
                .or_else(|| gtpu(p, true));
            self.heuristic |= found.is_some();
            return match found {
                Some(inner) => self.tunnel().map(|()| inner),
                None => Err(not_tcp),
            };
        };
        let inner = inner.ok_or(cut_tunnel)?;
        self.tunnel()?;
        Ok(inner)
    }
}

/// VXLAN (RFC 7348 §5): 8-byte header with the I flag, then an Ethernet frame. `strict` (content
/// recognition on another port) also wants every reserved bit zero.
fn vxlan(p: &[u8], strict: bool) -> Option<Next<'_>> {
    let (h, inner) = p.split_first_chunk::<8>()?;
    let ok = if strict {
        h[0] == 0x08 && h[1..4] == [0, 0, 0] && h[7] == 0
    } else {
        h[0] & 0x08 != 0
    };
    ok.then_some(Next::Ethernet(inner))
}

/// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe §3.1): next protocol 1 IPv4, 2 IPv6, 3 Ethernet.
fn vxlan_gpe(p: &[u8]) -> Option<Next<'_>> {
    let (h, inner) = p.split_first_chunk::<8>()?;
    match h[3] {
        1 => Some(Next::Ipv4(inner)),
        2 => Some(Next::Ipv6(inner)),
        3 => Some(Next::Ethernet(inner)),
        _ => None,
    }
}

/// Geneve (RFC 8926 §3.4): version 0, options of `opt_len` 4-byte words, an EtherType protocol.
/// `strict` (content recognition) also wants the reserved bits zero and an IP or Ethernet protocol.
fn geneve(p: &[u8], strict: bool) -> Option<Next<'_>> {
    let h = p.first_chunk::<8>()?;
    if h[0] >> 6 != 0 {
        return None;
    }
    let proto = be16(h, 2);
    if strict && (h[1] & 0x3F != 0 || h[7] != 0 || !matches!(proto, 0x6558 | 0x0800 | 0x86DD)) {
        return None;
    }
    let opt_len = usize::from(h[0] & 0x3F) * 4;
    Some(Next::EtherType(proto, p.get(8 + opt_len..)?))
}

/// Most GTP-U extension headers followed.
const MAX_GTP_EXTENSIONS: usize = 16;

/// GTP-U G-PDU (3GPP TS 29.281 §5.1–5.2): version 1, protocol type GTP, message type 255; a 4-byte
/// optional part when any of E, S, PN is set; chained extension headers (length in 4-octet units,
/// next type in the last octet) when E is set; then an IP packet. Other message types (echo, error
/// indication, end marker) carry no user packet. `strict` also wants the length field to match.
fn gtpu(p: &[u8], strict: bool) -> Option<Next<'_>> {
    let h = p.first_chunk::<8>()?;
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xFF {
        return None;
    }
    if strict && usize::from(be16(h, 2)) + 8 != p.len() {
        return None;
    }
    let mut off = 8;
    if h[0] & 0x07 != 0 {
        let mut next_ext = *p.get(11)?;
        off = 12;
        if h[0] & 0x04 != 0 {
            for _ in 0..MAX_GTP_EXTENSIONS {
                if next_ext == 0 {
                    break;
                }
                let len = usize::from(*p.get(off)?) * 4;
                if len == 0 {
                    return None;
                }
                next_ext = *p.get(off + len - 1)?;
                off += len;
            }
            if next_ext != 0 {
                return None;
            }
        }
    }
    let inner = p.get(off..)?;
    match inner.first()? >> 4 {
        4 => Some(Next::Ipv4(inner)),
        6 => Some(Next::Ipv6(inner)),
        _ => None,
    }
}

/// Teredo (RFC 4380 §5.1.1): optional authentication and origin indications, then IPv6.
fn teredo(mut p: &[u8]) -> Option<Next<'_>> {
    if p.get(..2)? == [0, 1] {
        let id_len = usize::from(*p.get(2)?);
        let au_len = usize::from(*p.get(3)?);
        // Header, client id, authentication value, 8-byte nonce, 1-byte confirmation.
        p = p.get(4 + id_len + au_len + 9..)?;
    }
    if p.get(..2)? == [0, 0] {
        p = p.get(8..)?;
    }
    (p.first()? >> 4 == 6).then_some(Next::Ipv6(p))
}
