//! Byte fixtures for every link type, VLAN stacks, IPv6 extension headers, fragments, tunnels and
//! cut frames; truncation sweeps; and a pass over the real-capture corpus when it is present.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::capture::{Frame, LinkType};
use crate::{Config, Timestamp};

// ---------------------------------------------------------------- builders

const A4: [u8; 4] = [10, 0, 0, 1];
const B4: [u8; 4] = [10, 0, 0, 2];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&1000u32.to_be_bytes());
    v.extend_from_slice(&2000u32.to_be_bytes());
    // Data offset 6 words: one 4-byte option (MSS 1460).
    v.extend_from_slice(&[0x60, flags, 0x72, 0x10, 0xAB, 0xCD, 0, 0, 2, 4, 0x05, 0xB4]);
    v.extend_from_slice(payload);
    v
}

fn tcp_default() -> Vec<u8> {
    tcp(40000, 443, TcpFlags::PSH | TcpFlags::ACK, b"hello")
}

struct V4 {
    proto: u8,
    id: u16,
    offset: u16,
    more: bool,
    options: Vec<u8>,
    total_len: Option<u16>,
}

impl V4 {
    fn new(proto: u8) -> Self {
        V4 {
            proto,
            id: 0x1234,
            offset: 0,
            more: false,
            options: Vec::new(),
            total_len: None,
        }
    }
    fn build(&self, payload: &[u8]) -> Vec<u8> {
        let hlen = 20 + self.options.len();
        let total = self.total_len.unwrap_or((hlen + payload.len()) as u16);
        let frag = (self.offset / 8) | if self.more { 0x2000 } else { 0 };
        let mut v = vec![0x40 | (hlen / 4) as u8, 0];
        v.extend_from_slice(&total.to_be_bytes());
        v.extend_from_slice(&self.id.to_be_bytes());
        v.extend_from_slice(&frag.to_be_bytes());
        v.extend_from_slice(&[64, self.proto, 0xde, 0xad]); // checksum deliberately wrong
        v.extend_from_slice(&A4);
        v.extend_from_slice(&B4);
        v.extend_from_slice(&self.options);
        v.extend_from_slice(payload);
        v
    }
}

fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    V4::new(proto).build(payload)
}

/// IPv6 header with `next`, over `rest` (extension headers + upper layer).
fn ipv6(next: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(rest.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&A6);
    v.extend_from_slice(&B6);
    v.extend_from_slice(rest);
    v
}

/// A generic IPv6 extension header of 8 * (units + 1) bytes.
fn ext(next: u8, units: u8) -> Vec<u8> {
    let mut v = vec![next, units];
    v.resize(8 * (usize::from(units) + 1), 0);
    v
}

fn frag6(next: u8, offset: u16, more: bool, id: u32) -> Vec<u8> {
    let mut v = vec![next, 0];
    v.extend_from_slice(&(offset | u16::from(more)).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// An owned copy of a decode result, so tests can keep it past the next decode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    payload: Vec<u8>,
    wire: u32,
    ip: IpFacts,
}

fn decode_at(
    d: &mut Decoder,
    link: u32,
    data: &[u8],
    orig_len: usize,
    ts: i64,
) -> Result<Seg, Skip> {
    let frame = Frame {
        index: 0,
        ts: Timestamp(ts),
        link_type: LinkType(link),
        interface: 0,
        data,
        orig_len: orig_len as u32,
    };
    // Every frame decoded here also checks the stateless decoding a parallel analysis uses:
    // where it gives a result (no IP fragment met), it is the decoder's.
    let stateless = unfragmented(&frame).map(seg_of);
    let result = seg_of(d.decode(&frame));
    if let Some(stateless) = stateless {
        assert_eq!(stateless, result, "stateless decoding differs");
    }
    result
}

/// Whether decoding `data` needs the defragmenter (it holds an IP fragment).
fn needs_defrag(link: u32, data: &[u8]) -> bool {
    let frame = Frame {
        index: 0,
        ts: Timestamp(0),
        link_type: LinkType(link),
        interface: 0,
        data,
        orig_len: data.len() as u32,
    };
    unfragmented(&frame).is_none()
}

/// The stateless decoding a parallel analysis uses; `None` where it meets an IP fragment.
fn unfragmented<'a>(frame: &Frame<'a>) -> Option<Decoded<'a>> {
    let mut fragment = false;
    let decoded = Decoder::decode_unfragmented(frame, &mut fragment);
    (!fragment).then_some(decoded)
}

fn seg_of(decoded: Decoded<'_>) -> Result<Seg, Skip> {
    match decoded {
        Decoded::Tcp(s) => Ok(Seg {
            src: s.src,
            dst: s.dst,
            ports: (s.src_port, s.dst_port),
            seq: s.seq,
            ack: s.ack,
            flags: s.flags,
            window: s.window,
            payload: s.payload.to_vec(),
            wire: s.wire_payload_len,
            ip: s.ip,
        }),
        Decoded::Skipped(skip) => Err(skip),
    }
}

fn dec(link: u32, data: &[u8]) -> Result<Seg, Skip> {
    decode_at(
        &mut Decoder::new(&Config::default()),
        link,
        data,
        data.len(),
        0,
    )
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

/// Asserts the standard test segment (10.0.0.1:40000 -> 10.0.0.2:443, "hello").
#[track_caller]
fn assert_std4(r: Result<Seg, Skip>) {
    let s = r.unwrap_or_else(|e| panic!("skipped: {e:?}"));
    assert_eq!((s.src, s.dst), (v4(A4), v4(B4)));
    assert_eq!(s.ports, (40000, 443));
    assert_eq!((s.seq, s.ack, s.window), (1000, 2000, 0x7210));
    assert_eq!(s.flags, TcpFlags(TcpFlags::PSH | TcpFlags::ACK));
    assert_eq!((s.payload.as_slice(), s.wire), (&b"hello"[..], 5));
}

#[track_caller]
fn assert_std6(r: Result<Seg, Skip>) {
    let s = r.unwrap_or_else(|e| panic!("skipped: {e:?}"));
    assert_eq!((s.src, s.dst), (v6(A6), v6(B6)));
    assert_eq!(s.ports, (40000, 443));
    assert_eq!((s.payload.as_slice(), s.wire), (&b"hello"[..], 5));
}

fn std_eth_frame() -> Vec<u8> {
    eth(0x0800, &ipv4(6, &tcp_default()))
}

// ---------------------------------------------------------------- link types

#[test]
fn ethernet_ipv4_tcp_with_padding() {
    let mut f = eth(0x0800, &ipv4(6, &tcp(40000, 443, TcpFlags::SYN, b"")));
    f.resize(60, 0xEE); // Ethernet minimum frame padding must not become payload
    let s = dec(1, &f).unwrap();
    assert_eq!((s.payload.len(), s.wire), (0, 0));
    assert_eq!(s.flags.to_string(), "SYN");
    assert_std4(dec(1, &std_eth_frame()));
}

#[test]
fn raw_ip_link_types() {
    for lt in [101, 12, 14, 228] {
        assert_std4(dec(lt, &ipv4(6, &tcp_default())));
    }
    for lt in [101, 12, 14, 229] {
        assert_std6(dec(lt, &ipv6(6, &tcp_default())));
    }
    assert_eq!(dec(101, &[0x50; 40]), Err(Skip::Malformed(Layer::Ipv4)));
}

#[test]
fn null_both_byte_orders_and_loop() {
    let p4 = ipv4(6, &tcp_default());
    let p6 = ipv6(6, &tcp_default());
    assert_std4(dec(0, &cat(&[&2u32.to_le_bytes(), &p4])));
    assert_std4(dec(0, &cat(&[&2u32.to_be_bytes(), &p4])));
    for fam in [24u32, 28, 30] {
        assert_std6(dec(0, &cat(&[&fam.to_le_bytes(), &p6])));
        assert_std6(dec(0, &cat(&[&fam.to_be_bytes(), &p6])));
    }
    assert_eq!(
        dec(0, &cat(&[&7u32.to_le_bytes(), &p4])),
        Err(Skip::NonIpFamily { family: 7 })
    );
    assert_std4(dec(108, &cat(&[&2u32.to_be_bytes(), &p4])));
    assert_std6(dec(108, &cat(&[&24u32.to_be_bytes(), &p6])));
    // LOOP is always big-endian: a little-endian family is not AF_INET.
    assert!(matches!(
        dec(108, &cat(&[&2u32.to_le_bytes(), &p4])),
        Err(Skip::NonIpFamily { .. })
    ));
}

#[test]
fn linux_sll_and_sll2() {
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll.extend_from_slice(&0x0800u16.to_be_bytes());
    assert_std4(dec(113, &cat(&[&sll, &ipv4(6, &tcp_default())])));
    let mut sll2 = 0x86DDu16.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(sll2.len(), 20);
    assert_std6(dec(276, &cat(&[&sll2, &ipv6(6, &tcp_default())])));
    sll2[..2].copy_from_slice(&0x0806u16.to_be_bytes());
    assert_eq!(dec(276, &sll2), Err(Skip::NonIp { ethertype: 0x0806 }));
    assert_eq!(dec(276, &sll2[..10]), Err(Skip::Malformed(Layer::Link)));
}

fn nflog(little: bool, family: u8, pkt: &[u8]) -> Vec<u8> {
    let w = |v: u16| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut f = vec![family, 0, 0, 0x28];
    // NFULA_PACKET_HDR (type 1, 8 bytes), NFULA_PREFIX (type 10, 5 bytes padded to 8), payload.
    f.extend_from_slice(&w(8));
    f.extend_from_slice(&w(1));
    f.extend_from_slice(&[0x08, 0x00, 0x01, 0x00]);
    f.extend_from_slice(&w(5));
    f.extend_from_slice(&w(10));
    f.extend_from_slice(&[b'x', 0, 0, 0]);
    f.extend_from_slice(&w(4 + pkt.len() as u16));
    f.extend_from_slice(&w(9));
    f.extend_from_slice(pkt);
    f
}

#[test]
fn nflog_tlvs() {
    assert_std4(dec(239, &nflog(true, 2, &ipv4(6, &tcp_default()))));
    assert_std4(dec(239, &nflog(false, 2, &ipv4(6, &tcp_default()))));
    assert_std6(dec(239, &nflog(true, 10, &ipv6(6, &tcp_default()))));
    // No payload TLV.
    assert_eq!(
        dec(239, &nflog(true, 2, &[])[..20]),
        Err(Skip::Malformed(Layer::Link))
    );
}

#[test]
fn ppp_and_cisco_hdlc() {
    let p4 = ipv4(6, &tcp_default());
    assert_std4(dec(9, &cat(&[&[0xFF, 0x03, 0x00, 0x21], &p4])));
    assert_std4(dec(50, &cat(&[&[0x21], &p4])));
    assert_std6(dec(9, &cat(&[&[0x00, 0x57], &ipv6(6, &tcp_default())])));
    assert_eq!(
        dec(9, &[0xC0, 0x21, 1, 1, 0, 4]),
        Err(Skip::NonIp { ethertype: 0xC021 })
    );
    assert_std4(dec(104, &cat(&[&[0x0F, 0x00, 0x08, 0x00], &p4])));
}

#[test]
fn unsupported_link_type_kept() {
    assert_eq!(
        dec(147, &[1, 2, 3]),
        Err(Skip::UnsupportedLinkType(LinkType(147)))
    );
}

// ---------------------------------------------------------------- VLAN, MPLS, PPPoE, LLC

fn vlan_stack(tpids: &[u16], inner: u16, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, _) in tpids.iter().enumerate() {
        body.extend_from_slice(&(100 + i as u16).to_be_bytes());
        let next = tpids.get(i + 1).copied().unwrap_or(inner);
        body.extend_from_slice(&next.to_be_bytes());
    }
    body.extend_from_slice(payload);
    eth(tpids.first().copied().unwrap_or(inner), &body)
}

#[test]
fn vlan_stacks() {
    let p = ipv4(6, &tcp_default());
    assert_std4(dec(1, &vlan_stack(&[0x8100], 0x0800, &p)));
    assert_std4(dec(1, &vlan_stack(&[0x88A8, 0x8100], 0x0800, &p)));
    assert_std4(dec(1, &vlan_stack(&[0x8100, 0x8100, 0x8100], 0x0800, &p)));
    assert_std4(dec(1, &vlan_stack(&[0x9100; 10], 0x0800, &p)));
    assert_std6(dec(
        1,
        &vlan_stack(&[0x8100; MAX_VLAN_TAGS], 0x86DD, &ipv6(6, &tcp_default())),
    ));
    assert_eq!(
        dec(1, &vlan_stack(&[0x8100; MAX_VLAN_TAGS + 1], 0x0800, &p)),
        Err(Skip::Malformed(Layer::Vlan))
    );
    assert_eq!(
        dec(1, &vlan_stack(&[0x8100], 0x0806, &[0; 28])),
        Err(Skip::NonIp { ethertype: 0x0806 })
    );
}

#[test]
fn llc_snap_mpls_pppoe() {
    let p = ipv4(6, &tcp_default());
    let snap = cat(&[&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], &p]);
    assert_std4(dec(1, &eth(snap.len() as u16, &snap)));
    assert_eq!(
        dec(1, &eth(38, &[0x42; 38])),
        Err(Skip::NonIp { ethertype: 38 })
    );
    // Two MPLS labels, the second bottom-of-stack.
    let mpls = cat(&[&[0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40], &p]);
    assert_std4(dec(1, &eth(0x8847, &mpls)));
    // Ethernet pseudowire with a control word.
    let pw = cat(&[&[0, 0x02, 0x01, 0x40, 0, 0, 0, 0], &std_eth_frame()]);
    assert_std4(dec(1, &eth(0x8847, &pw)));
    let pppoe = cat(&[
        &[0x11, 0, 0, 1],
        &((p.len() + 2) as u16).to_be_bytes(),
        &[0, 0x21],
        &p,
    ]);
    assert_std4(dec(1, &eth(0x8864, &pppoe)));
}

// ---------------------------------------------------------------- IP layer

#[test]
fn ipv4_options_and_offload_lengths() {
    let mut h = V4::new(6);
    h.options = vec![0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0, 0]; // NOP NOP NOP EOL, router alert
    assert_std4(dec(101, &h.build(&tcp_default())));
    // Segmentation offload: total length 0 means "what was captured".
    let mut h = V4::new(6);
    h.total_len = Some(0);
    assert_std4(dec(101, &h.build(&tcp_default())));
    let mut bad = ipv4(6, &tcp_default());
    bad[0] = 0x44; // IHL 4
    assert_eq!(dec(101, &bad), Err(Skip::Malformed(Layer::Ipv4)));
}

#[test]
fn ipv6_extension_headers() {
    let t = tcp_default();
    // Hop-by-hop -> routing -> destination options -> TCP.
    let chain = cat(&[&ext(43, 0), &ext(60, 1), &ext(6, 0), &t]);
    assert_std6(dec(101, &ipv6(0, &chain)));
    // Atomic fragment (RFC 6946): offset 0, M clear.
    assert_std6(dec(101, &ipv6(44, &cat(&[&frag6(6, 0, false, 7), &t]))));
    // Authentication header: 12 bytes ICV -> payload len field 4.
    let mut ah = vec![6, 4, 0, 0];
    ah.resize(24, 0);
    assert_std6(dec(101, &ipv6(51, &cat(&[&ah, &t]))));
    assert_eq!(
        dec(101, &ipv6(50, &[0; 24])),
        Err(Skip::NotTcp { ip_proto: 50 })
    );
    assert_eq!(dec(101, &ipv6(59, &[])), Err(Skip::NotTcp { ip_proto: 59 }));
    assert_eq!(
        dec(101, &ipv6(58, &[1, 4, 0, 0])),
        Err(Skip::NotTcp { ip_proto: 58 })
    );
    // Extension header longer than the payload length.
    assert_eq!(
        dec(101, &ipv6(60, &ext(6, 3)[..16])),
        Err(Skip::Malformed(Layer::Ipv6))
    );
    // Too many extension headers.
    let many: Vec<u8> = (0..=MAX_IPV6_EXT_HEADERS)
        .flat_map(|_| ext(60, 0))
        .collect();
    assert_eq!(
        dec(101, &ipv6(60, &many)),
        Err(Skip::Malformed(Layer::Ipv6))
    );
}

/// `pkt` (an IPv4 header first) with TTL `ttl` (the checksum is not checked).
fn with_ttl(mut pkt: Vec<u8>, ttl: u8) -> Vec<u8> {
    pkt[8] = ttl;
    pkt
}

/// `pkt` (an IPv6 header first) with hop limit `hop`.
fn with_hop_limit(mut pkt: Vec<u8>, hop: u8) -> Vec<u8> {
    pkt[7] = hop;
    pkt
}

fn ip_of(r: Result<Seg, Skip>) -> IpFacts {
    r.unwrap_or_else(|e| panic!("skipped: {e:?}")).ip
}

#[test]
fn ip_facts_ttl_id_and_hop_limit() {
    let mut h = V4::new(6);
    h.id = 0xBEEF;
    let p = with_ttl(h.build(&tcp_default()), 57);
    let facts = IpFacts {
        hop_limit: 57,
        id: Some(0xBEEF),
    };
    assert_eq!(ip_of(dec(101, &p)), facts);
    assert_eq!(ip_of(dec(1, &eth(0x0800, &p))), facts);
    // ID 0 (what Linux sends with DF set) is an ID, not its absence.
    h.id = 0;
    assert_eq!(
        ip_of(dec(101, &with_ttl(h.build(&tcp_default()), 1))),
        IpFacts {
            hop_limit: 1,
            id: Some(0)
        }
    );
    let p6 = with_hop_limit(ipv6(6, &tcp_default()), 33);
    let v6_facts = IpFacts {
        hop_limit: 33,
        id: None,
    };
    assert_eq!(ip_of(dec(101, &p6)), v6_facts);
    // Through extension headers, and an atomic fragment (which is just a packet).
    let chain = cat(&[&ext(44, 0), &frag6(6, 0, false, 7), &tcp_default()]);
    let p6 = with_hop_limit(ipv6(0, &chain), 255);
    assert_eq!(ip_of(dec(101, &p6)).hop_limit, 255);
}

#[test]
fn ip_facts_of_a_tunnel_are_the_innermost_header() {
    let mut inner = V4::new(6);
    inner.id = 0x4321;
    let inner = with_ttl(inner.build(&tcp_default()), 57);
    let inner_facts = IpFacts {
        hop_limit: 57,
        id: Some(0x4321),
    };
    // IP-in-IP (outer TTL 64, ID 0x1234), GRE, VXLAN.
    assert_eq!(ip_of(dec(101, &ipv4(4, &inner))), inner_facts);
    let over_gre = ipv4(47, &gre(0, 0x0800, &[], &inner));
    assert_eq!(ip_of(dec(101, &over_gre)), inner_facts);
    let vxlan = cat(&[&[0x08, 0, 0, 0, 0, 0, 1, 0], &eth(0x0800, &inner)]);
    let over_vxlan = with_hop_limit(ipv6(17, &udp(50000, 4789, &vxlan)), 9);
    assert_eq!(ip_of(dec(101, &over_vxlan)), inner_facts);
    // IPv6 inside IPv4: the inner hop limit and no ID, not the outer TTL and ID.
    let inner6 = with_hop_limit(ipv6(6, &tcp_default()), 3);
    assert_eq!(
        ip_of(dec(101, &with_ttl(ipv4(41, &inner6), 200))),
        IpFacts {
            hop_limit: 3,
            id: None
        }
    );
    // IPv4 inside IPv6.
    assert_eq!(ip_of(dec(101, &ipv6(4, &inner))), inner_facts);
}

#[test]
fn ip_facts_of_a_reassembled_datagram_are_the_first_fragments() {
    let t = big_tcp();
    let parts = pieces(&t, 32);
    // The offset-zero fragment has TTL / hop limit 50, the others 60 + their index, whichever
    // order they arrive in (first, last, in between).
    for v6 in [false, true] {
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let mut d = Decoder::new(&Config::default());
            let mut last = None;
            for i in order {
                let (off, more, bytes) = &parts[i];
                let hop = if *off == 0 { 50 } else { 60 + i as u8 };
                let pkt = if v6 {
                    with_hop_limit(frag6_pkt(9, *off, *more, bytes), hop)
                } else {
                    with_ttl(frag4(9, *off, *more, bytes), hop)
                };
                last = Some(decode_at(&mut d, 101, &pkt, pkt.len(), 0));
            }
            let expected = IpFacts {
                hop_limit: 50,
                id: (!v6).then_some(9),
            };
            assert_eq!(ip_of(last.unwrap()), expected, "v6={v6} {order:?}");
        }
    }
    // A fragmented inner datagram in a tunnel: the inner first fragment's TTL and ID.
    let mut d = Decoder::new(&Config::default());
    let mut last = None;
    for (off, more, bytes) in pieces(&t, 64).into_iter().rev() {
        let hop = if off == 0 { 40 } else { 41 };
        let p = with_ttl(ipv4(4, &with_ttl(frag4(3, off, more, &bytes), hop)), 99);
        last = Some(decode_at(&mut d, 101, &p, p.len(), 0));
    }
    assert_eq!(
        ip_of(last.unwrap()),
        IpFacts {
            hop_limit: 40,
            id: Some(3)
        }
    );
}

#[test]
fn not_tcp_and_icmp_errors() {
    assert_eq!(
        dec(101, &ipv4(17, &udp(53, 5353, b"q"))),
        Err(Skip::NotTcp { ip_proto: 17 })
    );
    // ICMP destination unreachable quoting an IPv4+TCP header is not a TCP segment.
    let quoted = ipv4(6, &tcp_default()[..8]);
    let icmp = cat(&[&[3, 3, 0, 0, 0, 0, 0, 0], &quoted]);
    assert_eq!(dec(101, &ipv4(1, &icmp)), Err(Skip::NotTcp { ip_proto: 1 }));
    assert_eq!(
        dec(1, &eth(0x88CC, &[0; 30])),
        Err(Skip::NonIp { ethertype: 0x88CC })
    );
}

// ---------------------------------------------------------------- fragments

/// Splits the standard TCP segment into IPv4 fragments of 8-byte multiples: (offset, more, bytes).
fn pieces(payload: &[u8], size: usize) -> Vec<(u16, bool, Vec<u8>)> {
    let n = payload.len().div_ceil(size);
    (0..n)
        .map(|i| {
            let end = ((i + 1) * size).min(payload.len());
            (
                (i * size) as u16,
                i + 1 < n,
                payload[i * size..end].to_vec(),
            )
        })
        .collect()
}

fn frag4(id: u16, offset: u16, more: bool, bytes: &[u8]) -> Vec<u8> {
    let mut h = V4::new(6);
    h.id = id;
    h.offset = offset;
    h.more = more;
    h.build(bytes)
}

fn frag6_pkt(id: u32, offset: u16, more: bool, bytes: &[u8]) -> Vec<u8> {
    ipv6(44, &cat(&[&frag6(6, offset, more, id), bytes]))
}

fn big_tcp() -> Vec<u8> {
    let payload: Vec<u8> = (0..100u8).collect();
    tcp(40000, 443, TcpFlags::ACK, &payload)
}

fn run_order(v6: bool, order: &[usize]) -> (Vec<Result<Seg, Skip>>, usize) {
    let t = big_tcp();
    let parts = pieces(&t, 32);
    let mut d = Decoder::new(&Config::default());
    let out = order
        .iter()
        .map(|&i| {
            let (off, more, bytes) = &parts[i];
            let pkt = if v6 {
                frag6_pkt(9, *off, *more, bytes)
            } else {
                frag4(9, *off, *more, bytes)
            };
            // Only a decoder with the defragmenter can decode a fragment.
            assert!(needs_defrag(101, &pkt));
            decode_at(&mut d, 101, &pkt, pkt.len(), 0)
        })
        .collect();
    (out, d.fragments_pending())
}

#[test]
fn fragments_in_and_out_of_order() {
    for v6 in [false, true] {
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let (out, pending) = run_order(v6, &order);
            for r in &out[..3] {
                assert_eq!(r, &Err(Skip::FragmentHeld));
            }
            let s = out[3].clone().unwrap();
            assert_eq!(
                s.payload,
                (0..100u8).collect::<Vec<_>>(),
                "v6={v6} {order:?}"
            );
            assert_eq!((s.wire, s.ports), (100, (40000, 443)));
            assert_eq!(pending, 0);
        }
    }
}

#[test]
fn overlapping_fragments() {
    let t = big_tcp();
    for v6 in [false, true] {
        let mk = |id, off: u16, more, b: &[u8]| {
            if v6 {
                frag6_pkt(id, off, more, b)
            } else {
                frag4(id as u16, off, more, b)
            }
        };
        let mut d = Decoder::new(&Config::default());
        let mut go = |p: Vec<u8>| decode_at(&mut d, 101, &p, p.len(), 0);
        // Identical overlap (a duplicate of part of the data) is accepted.
        assert_eq!(go(mk(1, 0, true, &t[..64])), Err(Skip::FragmentHeld));
        assert_eq!(go(mk(1, 32, true, &t[32..72])), Err(Skip::FragmentHeld));
        assert_eq!(go(mk(1, 72, false, &t[72..])).unwrap().payload.len(), 100);
        // Conflicting overlap drops the datagram.
        assert_eq!(go(mk(2, 0, true, &t[..64])), Err(Skip::FragmentHeld));
        let mut evil = t[32..72].to_vec();
        evil[20] ^= 0xFF;
        assert_eq!(
            go(mk(2, 32, true, &evil)),
            Err(Skip::FragmentDropped(FragmentDrop::Overlap))
        );
        // Its remaining fragment starts a new (incomplete) datagram.
        assert_eq!(go(mk(2, 72, false, &t[72..])), Err(Skip::FragmentHeld));
        assert_eq!(d.fragments_pending(), 1);
    }
}

#[test]
fn fragment_caps_and_timeout() {
    let t = big_tcp();
    let cfg = Config {
        max_fragment_sets: 2,
        max_fragment_bytes: 100,
        fragment_timeout_ns: 1_000,
        ..Config::default()
    };
    let mut d = Decoder::new(&cfg);
    let mut go = |p: Vec<u8>, ts| decode_at(&mut d, 101, &p, p.len(), ts);
    assert_eq!(go(frag4(1, 0, true, &t[..32]), 0), Err(Skip::FragmentHeld));
    assert_eq!(
        go(frag6_pkt(2, 0, true, &t[..32]), 10),
        Err(Skip::FragmentHeld)
    );
    assert_eq!(
        go(frag4(3, 0, true, &t[..32]), 20),
        Err(Skip::FragmentDropped(FragmentDrop::TooManySets))
    );
    // 64 bytes held; 48 more would pass 100.
    assert_eq!(
        go(frag4(1, 32, true, &t[32..80]), 30),
        Err(Skip::FragmentDropped(FragmentDrop::TooManyBytes))
    );
    // Past the timeout of the IPv6 datagram (first seen at 10): it is gone, and its last fragment
    // starts a new datagram that never completes.
    assert_eq!(
        go(frag6_pkt(2, 32, false, &t[32..64]), 1_011),
        Err(Skip::FragmentHeld)
    );
    assert_eq!((d.fragments_pending(), d.fragments_expired()), (1, 1));
    // A non-fragment frame much later expires the rest.
    assert_std4(decode_at(&mut d, 101, &ipv4(6, &tcp_default()), 65, 5_000));
    assert_eq!(
        (
            d.fragments_pending(),
            d.fragments_expired(),
            d.fragment_bytes()
        ),
        (0, 2, 0)
    );
    // Too big: offset + length past 65535.
    assert_eq!(
        decode_at(&mut d, 101, &frag4(5, 65_528, false, &t[..16]), 56, 5_000),
        Err(Skip::FragmentDropped(FragmentDrop::TooBig))
    );
}

#[test]
fn cut_fragment_is_dropped() {
    let t = big_tcp();
    let p = frag4(1, 0, true, &t[..64]);
    let mut d = Decoder::new(&Config::default());
    assert_eq!(
        decode_at(&mut d, 101, &p[..60], p.len(), 0),
        Err(Skip::FragmentDropped(FragmentDrop::Cut))
    );
    assert_eq!(d.fragments_pending(), 0);
}

#[test]
fn fragmented_tunnel_inner_and_nested() {
    // Outer IPv4 unfragmented carrying a fragmented inner IPv4 (IP-in-IP): reassembled.
    let t = big_tcp();
    let mut d = Decoder::new(&Config::default());
    for (off, more, bytes) in pieces(&t, 64) {
        let p = ipv4(4, &frag4(3, off, more, &bytes));
        let r = decode_at(&mut d, 101, &p, p.len(), 0);
        if more {
            assert_eq!(r, Err(Skip::FragmentHeld));
        } else {
            assert_eq!(r.unwrap().payload.len(), 100);
        }
    }
    // Fragmented outer whose reassembly holds an inner fragment: one reassembly per frame.
    let inner = frag4(4, 0, true, &t[..64]);
    let mut outer = V4::new(4);
    outer.more = true;
    let first = outer.build(&inner[..40]);
    outer.more = false;
    outer.offset = 40;
    let second = outer.build(&inner[40..]);
    assert_eq!(
        decode_at(&mut d, 101, &first, first.len(), 0),
        Err(Skip::FragmentHeld)
    );
    assert_eq!(
        decode_at(&mut d, 101, &second, second.len(), 0),
        Err(Skip::FragmentDropped(FragmentDrop::Nested))
    );
}

mod reassembly_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any split into 8-byte-aligned fragments, in any order, with duplicates, reassembles to
        /// the original segment on the frame that completes it.
        #[test]
        fn any_split_any_order(
            len in 1usize..3000,
            cuts in proptest::collection::vec(1usize..400, 1..12),
            order_seed in any::<u64>(),
            dups in proptest::collection::vec(any::<u16>(), 0..4),
            v6 in any::<bool>(),
        ) {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let seg = tcp(1, 2, TcpFlags::ACK, &payload);
            let mut bounds = vec![0usize];
            for c in cuts {
                let next = (bounds.last().unwrap() + c * 8).min(seg.len());
                if next > *bounds.last().unwrap() && next < seg.len() {
                    bounds.push(next);
                }
            }
            bounds.push(seg.len());
            let mut frags: Vec<(u16, bool, Vec<u8>)> = bounds
                .windows(2)
                .map(|w| (w[0] as u16, w[1] < seg.len(), seg[w[0]..w[1]].to_vec()))
                .collect();
            for d in &dups {
                let f = frags[usize::from(*d) % frags.len()].clone();
                frags.push(f);
            }
            // Deterministic shuffle.
            let mut x = order_seed | 1;
            for i in (1..frags.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                frags.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut d = Decoder::new(&Config::default());
            let mut done = None;
            for (off, more, bytes) in &frags {
                let p = if v6 {
                    frag6_pkt(5, *off, *more, bytes)
                } else {
                    frag4(5, *off, *more, bytes)
                };
                match decode_at(&mut d, 101, &p, p.len(), 0) {
                    // Duplicates arriving after completion start a new datagram, which may complete
                    // again: every completion must be the original.
                    Ok(s) => {
                        prop_assert_eq!(&s.payload, &payload);
                        done = Some(s);
                    }
                    Err(Skip::FragmentHeld) => {}
                    Err(e) => prop_assert!(false, "{e:?}"),
                }
            }
            let s = done.expect("completed");
            prop_assert_eq!(&s.payload, &payload);
            prop_assert_eq!(s.wire as usize, len);
        }
    }
}

// ---------------------------------------------------------------- tunnels

fn gre(flags: u16, proto: u16, extra: &[u8], payload: &[u8]) -> Vec<u8> {
    cat(&[&flags.to_be_bytes(), &proto.to_be_bytes(), extra, payload])
}

#[test]
fn gre_variants() {
    let inner = ipv4(6, &tcp_default());
    // Plain GRE over IPv4.
    assert_std4(dec(101, &ipv4(47, &gre(0, 0x0800, &[], &inner))));
    // Checksum + key + sequence present.
    assert_std4(dec(101, &ipv4(47, &gre(0xB000, 0x0800, &[0; 12], &inner))));
    // Transparent Ethernet bridging over IPv6.
    assert_std4(dec(
        101,
        &ipv6(47, &gre(0x2000, 0x6558, &[0; 4], &std_eth_frame())),
    ));
    // ERSPAN II (sequence bit, 8-byte header) and III (12-byte header).
    assert_std4(dec(
        101,
        &ipv4(47, &gre(0x1000, 0x88BE, &[0; 12], &std_eth_frame())),
    ));
    assert_std4(dec(
        101,
        &ipv4(47, &gre(0x1000, 0x22EB, &[0; 16], &std_eth_frame())),
    ));
    // PPTP enhanced GRE carrying PPP (address/control, protocol 0x0021).
    let pptp = gre(
        0x3081,
        0x880B,
        &[0; 12],
        &cat(&[&[0xFF, 0x03, 0x00, 0x21], &inner]),
    );
    assert_std4(dec(101, &ipv4(47, &pptp)));
    // GRE carrying ARP.
    assert_eq!(
        dec(101, &ipv4(47, &gre(0, 0x0806, &[], &[0; 28]))),
        Err(Skip::NonIp { ethertype: 0x0806 })
    );
}

#[test]
fn ip_in_ip_and_depth_cap() {
    assert_std4(dec(101, &ipv4(4, &ipv4(6, &tcp_default()))));
    assert_std6(dec(101, &ipv4(41, &ipv6(6, &tcp_default()))));
    let mut p = ipv4(6, &tcp_default());
    for _ in 0..MAX_TUNNEL_DEPTH {
        p = ipv4(4, &p);
    }
    assert_std4(dec(101, &p));
    assert_eq!(dec(101, &ipv4(4, &p)), Err(Skip::TunnelTooDeep));
}

fn geneve_hdr(opt_words: u8, proto: u16) -> Vec<u8> {
    let mut v = vec![opt_words, 0];
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x10, 0x92, 0x00]);
    v.extend(std::iter::repeat_n(0xAB, 4 * usize::from(opt_words)));
    v
}

#[test]
fn udp_tunnels() {
    let inner_eth = std_eth_frame();
    let vx = cat(&[&[0x08, 0, 0, 0, 0, 0, 0x2A, 0], &inner_eth]);
    assert_std4(dec(1, &eth(0x0800, &ipv4(17, &udp(51000, 4789, &vx)))));
    assert_std4(dec(1, &eth(0x0800, &ipv4(17, &udp(4789, 51000, &vx)))));
    // Geneve with 8 bytes of options, standard port; and by content on port 47101 (zeek trace).
    let gn = cat(&[&geneve_hdr(2, 0x6558), &inner_eth]);
    assert_std4(dec(101, &ipv4(17, &udp(51000, 6081, &gn))));
    assert_std4(dec(101, &ipv4(17, &udp(47101, 47102, &gn))));
    let gn_ip = cat(&[&geneve_hdr(0, 0x86DD), &ipv6(6, &tcp_default())]);
    assert_std6(dec(101, &ipv4(17, &udp(47101, 47102, &gn_ip))));
    // VXLAN-GPE carrying IPv4; Teredo with an origin indication.
    let gpe = cat(&[&[0x0C, 0, 0, 1, 0, 0, 0x2A, 0], &ipv4(6, &tcp_default())]);
    assert_std4(dec(101, &ipv4(17, &udp(51000, 4790, &gpe))));
    let teredo = cat(&[&[0, 0, 0x12, 0x34, 1, 2, 3, 4], &ipv6(6, &tcp_default())]);
    assert_std6(dec(101, &ipv4(17, &udp(3544, 51000, &teredo))));
    // Teredo with an authentication indication (id 2 bytes, auth 3 bytes, nonce, confirmation).
    let auth = cat(&[
        &[0, 1, 2, 3, 9, 9, 7, 7, 7],
        &[0; 9],
        &ipv6(6, &tcp_default()),
    ]);
    assert_std6(dec(101, &ipv4(17, &udp(51000, 3544, &auth))));
}

fn gtp(flags: u8, opt: &[u8], inner: &[u8]) -> Vec<u8> {
    let len = (opt.len() + inner.len()) as u16;
    cat(&[
        &[flags, 0xFF],
        &len.to_be_bytes(),
        &[0x76, 0x0d, 0x3b, 0xb0],
        opt,
        inner,
    ])
}

#[test]
fn gtp_u() {
    let inner = ipv4(6, &tcp_default());
    // Plain (flags 0x30), with the sequence number (0x32, as the zeek trace), with a PDU session
    // container extension header (0x34).
    assert_std4(dec(
        101,
        &ipv4(17, &udp(2152, 2152, &gtp(0x30, &[], &inner))),
    ));
    assert_std4(dec(
        101,
        &ipv4(17, &udp(2152, 2152, &gtp(0x32, &[0, 7, 0, 0], &inner))),
    ));
    let ext = [0, 0, 0, 0x85, 1, 0x10, 0x01, 0x00];
    assert_std4(dec(
        101,
        &ipv4(17, &udp(2152, 2152, &gtp(0x34, &ext, &inner))),
    ));
    assert_std6(dec(
        101,
        &ipv6(
            17,
            &udp(2152, 2152, &gtp(0x30, &[], &ipv6(6, &tcp_default()))),
        ),
    ));
    // By content on another port (length field must match).
    assert_std4(dec(
        101,
        &ipv4(17, &udp(40000, 40001, &gtp(0x30, &[], &inner))),
    ));
    // Echo request (type 1) carries no user packet.
    let mut echo = gtp(0x32, &[0, 1, 0, 0], &[]);
    echo[1] = 1;
    assert_eq!(
        dec(101, &ipv4(17, &udp(2152, 2152, &echo))),
        Err(Skip::NotTcp { ip_proto: 17 })
    );
    // An extension chain that never ends within the bound.
    let endless: Vec<u8> = [0u8, 0, 0, 0x85]
        .into_iter()
        .chain([1, 0, 0, 0x85].repeat(20))
        .collect();
    assert_eq!(
        dec(
            101,
            &ipv4(17, &udp(2152, 2152, &gtp(0x34, &endless, &inner)))
        ),
        Err(Skip::NotTcp { ip_proto: 17 })
    );
}

#[test]
fn heuristic_tunnel_needs_tcp_inside() {
    // Looks like VXLAN on a random port, but carries ARP: report the UDP datagram, not an anomaly.
    let vx = cat(&[&[0x08, 0, 0, 0, 0, 0, 0x2A, 0], &eth(0x0806, &[0; 28])]);
    assert_eq!(
        dec(101, &ipv4(17, &udp(5353, 5353, &vx))),
        Err(Skip::NotTcp { ip_proto: 17 })
    );
    // Same on the standard port: the inner frame is reported.
    assert_eq!(
        dec(101, &ipv4(17, &udp(5353, 4789, &vx))),
        Err(Skip::NonIp { ethertype: 0x0806 })
    );
    // Ordinary DNS.
    let dns = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        dec(101, &ipv4(17, &udp(5353, 53, &dns))),
        Err(Skip::NotTcp { ip_proto: 17 })
    );
}

// ---------------------------------------------------------------- snap length

#[test]
fn snaplen_cut_payload() {
    let payload = [0x5A; 200];
    let full = eth(0x0800, &ipv4(6, &tcp(1, 2, TcpFlags::ACK, &payload)));
    let cut = &full[..14 + 20 + 24 + 50];
    let s = decode_at(&mut Decoder::new(&Config::default()), 1, cut, full.len(), 0).unwrap();
    assert_eq!((s.payload.len(), s.wire), (50, 200));
    // Cut inside the TCP options: still the segment, no payload captured.
    let cut = &full[..14 + 20 + 22];
    let s = decode_at(&mut Decoder::new(&Config::default()), 1, cut, full.len(), 0).unwrap();
    assert_eq!((s.payload.len(), s.wire, s.ports), (0, 200, (1, 2)));
    assert_eq!(dec(1, cut), Err(Skip::Malformed(Layer::Tcp)));
    // Cut inside the fixed TCP header.
    let cut = &full[..14 + 20 + 10];
    assert_eq!(
        decode_at(&mut Decoder::new(&Config::default()), 1, cut, full.len(), 0),
        Err(Skip::Truncated(Layer::Tcp))
    );
    // The same bytes in a frame that was not cut are malformed.
    assert_eq!(dec(1, cut), Err(Skip::Malformed(Layer::Tcp)));
}

/// Every prefix of `full` decodes to a cut segment or a `Truncated` skip (never a panic), and as an
/// uncut frame to a segment or a `Malformed` skip.
fn sweep(link: u32, full: &[u8]) {
    let mut d = Decoder::new(&Config::default());
    let mut segments = 0;
    for len in 0..=full.len() {
        match decode_at(&mut d, link, &full[..len], full.len(), 0) {
            Ok(s) => {
                segments += 1;
                assert!(s.payload.len() <= s.wire as usize);
            }
            Err(Skip::Truncated(_)) | Err(Skip::FragmentDropped(FragmentDrop::Cut)) => {}
            // A UDP header cut before its ports cannot be told from plain UDP.
            Err(Skip::NotTcp { ip_proto: 17 }) => {}
            Err(e) if len == full.len() => panic!("full frame skipped: {e:?}"),
            Err(e) => panic!("prefix {len} of {}: {e:?}", full.len()),
        }
        match decode_at(&mut d, link, &full[..len], len, 0) {
            Ok(_) | Err(Skip::Malformed(_)) => {}
            // A stripped prefix can look like a valid non-TCP header (e.g. an IPv6 payload of 0).
            Err(Skip::NotTcp { .. }) | Err(Skip::NonIp { .. }) => {}
            Err(e) => panic!("uncut prefix {len}: {e:?}"),
        }
    }
    assert!(segments > 0);
}

#[test]
fn truncation_sweeps() {
    sweep(1, &std_eth_frame());
    let full = std_eth_frame();
    // Ethernet/IPv4/TCP: exactly the prefixes holding the fixed TCP header give a segment, with the
    // captured payload only once the options are complete.
    let mut d = Decoder::new(&Config::default());
    for len in 0..=full.len() {
        let r = decode_at(&mut d, 1, &full[..len], full.len(), 0);
        assert_eq!(r.is_ok(), len >= 14 + 20 + 20, "len {len}: {r:?}");
        if let Ok(s) = r {
            assert_eq!(s.wire, 5);
            assert_eq!(s.payload, full[(14 + 20 + 24).min(len)..len]);
        }
    }
    sweep(
        1,
        &vlan_stack(
            &[0x88A8, 0x8100],
            0x86DD,
            &ipv6(0, &cat(&[&ext(6, 0), &tcp_default()])),
        ),
    );
    sweep(0, &cat(&[&30u32.to_be_bytes(), &ipv6(6, &tcp_default())]));
    sweep(108, &cat(&[&2u32.to_be_bytes(), &ipv4(6, &tcp_default())]));
    sweep(239, &nflog(true, 2, &ipv4(6, &tcp_default())));
    let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0; 18]);
    sweep(276, &cat(&[&sll2, &ipv4(6, &tcp_default())]));
    let vx = cat(&[&[0x08, 0, 0, 0, 0, 0, 0x2A, 0], &std_eth_frame()]);
    sweep(1, &eth(0x0800, &ipv4(17, &udp(51000, 4789, &vx))));
    sweep(
        101,
        &ipv4(
            17,
            &udp(
                2152,
                2152,
                &gtp(0x32, &[0, 7, 0, 0], &ipv4(6, &tcp_default())),
            ),
        ),
    );
    sweep(
        101,
        &ipv4(47, &gre(0xB000, 0x0800, &[0; 12], &ipv4(6, &tcp_default()))),
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 0x1234_5678u32;
    let mut d = Decoder::new(&Config::default());
    let seeds: Vec<Vec<u8>> = vec![
        std_eth_frame(),
        vlan_stack(&[0x8100; 3], 0x86DD, &ipv6(44, &frag6(6, 8, true, 1))),
        ipv4(
            17,
            &udp(
                2152,
                2152,
                &gtp(0x34, &[0, 0, 0, 0x85, 1, 0, 0, 0], &[0x45; 40]),
            ),
        ),
        ipv4(47, &gre(0x3081, 0x880B, &[0; 8], &[0xFF, 3, 0, 0x21, 0x45])),
    ];
    for round in 0..20_000u32 {
        let base = &seeds[round as usize % seeds.len()];
        let mut f = base.clone();
        for _ in 0..4 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let i = (seed >> 8) as usize % f.len();
            f[i] = (seed >> 24) as u8;
        }
        let len = (seed as usize >> 3) % (f.len() + 1);
        for link in [0, 1, 101, 108, 113, 239, 276] {
            let _ = decode_at(&mut d, link, &f[..len], f.len(), i64::from(round));
        }
    }
    assert!(d.fragments_pending() <= Config::default().max_fragment_sets);
}

// ---------------------------------------------------------------- labels

#[test]
fn skip_labels_and_display() {
    assert_eq!(Skip::NotTcp { ip_proto: 17 }.kind().name(), "not_tcp");
    assert_eq!(
        Skip::UnsupportedLinkType(LinkType(147)).to_string(),
        "unsupported link type 147"
    );
    assert_eq!(Skip::Malformed(Layer::Tcp).kind().name(), "malformed_tcp");
    assert_eq!(
        Skip::FragmentDropped(FragmentDrop::Overlap).to_string(),
        "IP fragment dropped (overlap)"
    );
    assert!(Skip::Truncated(Layer::Link).is_anomaly());
    assert!(!Skip::FragmentHeld.is_anomaly());
    assert!(Skip::TunnelTooDeep.is_anomaly());
    assert_eq!(
        TcpFlags(0xFF).to_string(),
        "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR"
    );
    assert_eq!(
        TcpFlags(TcpFlags::RST | TcpFlags::ACK).to_string(),
        "RST,ACK"
    );
}

// ---------------------------------------------------------------- the real-capture corpus

/// (link type, timestamp ns, captured bytes, original length).
type Packet = (u32, i64, Vec<u8>, u32);

/// A minimal reader for classic pcap and pcapng (tests only; the real reader is `crate::capture`):
/// returns (link type, timestamp ns, captured bytes, original length) per packet.
fn read_capture(bytes: &[u8]) -> Option<Vec<Packet>> {
    let u32_at = |b: &[u8], at: usize, le: bool| {
        let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let mut out = Vec::new();
    let magic = u32_at(bytes, 0, true)?;
    if [
        0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34, 0xd4c3b2a1, 0x4d3cb2a1, 0x34cdb2a1,
    ]
    .contains(&magic)
    {
        let le = [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34].contains(&magic);
        let nanos = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
        let link = u32_at(bytes, 20, le)? & 0x0FFF_FFFF;
        // Kuznetzov's modified format has 8 more bytes per record header.
        let rec = if magic == 0xa1b2cd34 || magic == 0x34cdb2a1 {
            24
        } else {
            16
        };
        let mut at = 24;
        while at + rec <= bytes.len() {
            let secs = i64::from(u32_at(bytes, at, le)?);
            let frac = i64::from(u32_at(bytes, at + 4, le)?);
            let caplen = u32_at(bytes, at + 8, le)? as usize;
            let orig = u32_at(bytes, at + 12, le)?;
            let data = bytes.get(at + rec..at + rec + caplen)?.to_vec();
            let ts = secs * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
            out.push((link, ts, data, orig));
            at += rec + caplen;
        }
        return Some(out);
    }
    if magic != 0x0A0D0D0A {
        return None;
    }
    let mut le = true;
    let mut links: Vec<u32> = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let btype = u32_at(bytes, at, le)?;
        if btype == 0x0A0D0D0A {
            le = u32_at(bytes, at + 8, true)? == 0x1A2B3C4D;
            links.clear();
        }
        let blen = u32_at(bytes, at + 4, le)? as usize;
        if blen < 12 || at + blen > bytes.len() {
            break;
        }
        let body = &bytes[at + 8..at + blen - 4];
        match btype {
            1 => links.push(u32::from(u16::from_le_bytes(if le {
                [body[0], body[1]]
            } else {
                [body[1], body[0]]
            }))),
            6 => {
                let iface = u32_at(body, 0, le)? as usize;
                let ts = (u64::from(u32_at(body, 4, le)?) << 32) | u64::from(u32_at(body, 8, le)?);
                let caplen = u32_at(body, 12, le)? as usize;
                let orig = u32_at(body, 16, le)?;
                let data = body.get(20..20 + caplen)?.to_vec();
                out.push((
                    *links.get(iface)?,
                    (ts as i64).saturating_mul(1000),
                    data,
                    orig,
                ));
            }
            3 => {
                let orig = u32_at(body, 0, le)?;
                let data = body.get(4..)?;
                let caplen = data.len().min(orig as usize);
                out.push((*links.first()?, 0, data[..caplen].to_vec(), orig));
            }
            _ => {}
        }
        at += blen;
    }
    Some(out)
}

/// Decodes every capture of the corpus (skipped when absent) and compares the number of frames
/// giving a TCP segment with TShark's `frames_tcp`, and checks that every connection endpoint
/// TShark names (inner endpoints for the tunnel captures) appears in our segments.
#[test]
fn corpus_tcp_frame_counts() {
    let root = std::path::Path::new("/work/shared/corpus");
    if !root.exists() {
        return;
    }
    let (mut checked, mut endpoints_checked) = (0, 0);
    let mut mismatches = Vec::new();
    for dir in ["formats", "tls", "tcp", "rdp"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.to_string_lossy().to_string();
            let gz = name.ends_with(".gz");
            let base = name.trim_end_matches(".gz");
            if !(base.ends_with(".pcap") || base.ends_with(".pcapng")) {
                continue;
            }
            let Ok(expected) = std::fs::read_to_string(format!("{name}.expected.json")) else {
                continue;
            };
            let Some(frames_tcp) = expected
                .split("\"frames_tcp\": ")
                .nth(1)
                .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|s| s.parse::<usize>().ok())
            else {
                continue;
            };
            let mut bytes = std::fs::read(&path).unwrap();
            if gz {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
                    .unwrap();
                bytes = out;
            }
            let Some(packets) = read_capture(&bytes) else {
                continue;
            };
            let mut d = Decoder::new(&Config::default());
            let mut tcp = 0;
            let mut endpoints = std::collections::HashSet::new();
            for (link, ts, data, orig) in &packets {
                let frame = Frame {
                    index: 0,
                    ts: Timestamp(*ts),
                    link_type: LinkType(*link),
                    interface: 0,
                    data,
                    orig_len: *orig,
                };
                let stateless = unfragmented(&frame).map(seg_of);
                let decoded = d.decode(&frame);
                if let Some(stateless) = stateless {
                    assert_eq!(
                        stateless,
                        seg_of(decoded),
                        "{name}: stateless decoding differs"
                    );
                }
                if let Decoded::Tcp(s) = decoded {
                    tcp += 1;
                    endpoints.insert(std::net::SocketAddr::new(s.src, s.src_port).to_string());
                    endpoints.insert(std::net::SocketAddr::new(s.dst, s.dst_port).to_string());
                }
            }
            checked += 1;
            if tcp != frames_tcp {
                mismatches.push(format!("{name}: ours {tcp}, tshark {frames_tcp}"));
            }
            for line in expected.lines() {
                let line = line.trim();
                for key in ["\"client\": \"", "\"server\": \""] {
                    if let Some(ep) = line.strip_prefix(key).and_then(|r| r.split('"').next()) {
                        endpoints_checked += 1;
                        if !endpoints.contains(ep) {
                            mismatches.push(format!("{name}: endpoint {ep} not seen"));
                        }
                    }
                }
            }
        }
    }
    eprintln!("corpus: {checked} captures, {endpoints_checked} endpoints checked");
    assert!(
        checked >= 100 && endpoints_checked >= 200,
        "corpus incomplete?"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
