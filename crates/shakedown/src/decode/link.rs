//! Link-layer headers (all but Ethernet): each gives the next
//! layer. Link types are tcpdump's LINKTYPE_ values (<https://www.tcpdump.org/linktypes.html>).
//! Ethernet itself is handled by the walker, since tunnels lead back to it.

use super::next::{Next, ppp};
use super::{Layer, Skip};
use crate::bytes::view::be16;
use crate::capture::LinkType;

/// BSD address families seen in NULL/LOOP headers: AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD,
/// OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (macOS, iOS), 10 (Linux).
fn family_next(family: u32, rest: &[u8]) -> Result<Next<'_>, Skip> {
    match family {
        2 => Ok(Next::Ipv4(rest)),
        10 | 24 | 28 | 30 => Ok(Next::Ipv6(rest)),
        _ => Err(Skip::NonIpFamily { family }),
    }
}

/// Strips the link-layer header of `data` (captured as `link_type`). `short` is the skip for a
/// header that does not fit (truncated or malformed, decided by the caller from the snap length).
pub(super) fn strip(link_type: LinkType, data: &[u8], short: Skip) -> Result<Next<'_>, Skip> {
    match link_type.0 {
        // LINKTYPE_ETHERNET
        1 => Ok(Next::Ethernet(data)),
        // LINKTYPE_RAW, and DLT_RAW's numbers on some BSDs (12, 14); LINKTYPE_IPV4 / IPV6 are raw
        // too.
        101 | 12 | 14 | 228 | 229 => Ok(Next::Ip(data)),
        // LINKTYPE_NULL: a 4-byte family in the byte order of the capturing host, which may differ
        // from the file's. Families are small, so a value above 0xFFFF must be the other byte
        // order.
        0 => {
            let (head, rest) = data.split_first_chunk::<4>().ok_or(short)?;
            let le = u32::from_le_bytes(*head);
            let family = if le > 0xFFFF {
                u32::from_be_bytes(*head)
            } else {
                le
            };
            family_next(family, rest)
        }
        // LINKTYPE_LOOP (OpenBSD loopback): the family is always big-endian.
        108 => {
            let (head, rest) = data.split_first_chunk::<4>().ok_or(short)?;
            family_next(u32::from_be_bytes(*head), rest)
        }
        // LINKTYPE_LINUX_SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
        113 => {
            let (head, rest) = data.split_first_chunk::<16>().ok_or(short)?;
            Ok(Next::EtherType(be16(head, 14), rest))
        }
        // LINKTYPE_LINUX_SLL2: protocol, reserved, interface index, ARPHRD, packet type, address
        // length, 8 address bytes.
        276 => {
            let (head, rest) = data.split_first_chunk::<20>().ok_or(short)?;
            Ok(Next::EtherType(be16(head, 0), rest))
        }
        // LINKTYPE_NFLOG
        239 => nflog(data, short),
        // LINKTYPE_PPP and LINKTYPE_PPP_HDLC (RFC 1662 framing, no flag or FCS bytes).
        9 | 50 => ppp(data, short),
        // LINKTYPE_C_HDLC (Cisco HDLC): address, control, then an EtherType.
        104 => {
            let (head, rest) = data.split_first_chunk::<4>().ok_or(short)?;
            Ok(Next::EtherType(be16(head, 2), rest))
        }
        _ => Err(Skip::UnsupportedLinkType(link_type)),
    }
}

/// NFLOG payload TLV type (NFULA_PAYLOAD).
const NFULA_PAYLOAD: u16 = 9;

/// Most TLVs walked in one NFLOG frame (the kernel emits about a dozen).
const MAX_NFLOG_TLVS: usize = 64;

/// LINKTYPE_NFLOG: a 4-byte header (family, version, resource id) then TLVs whose 16-bit length and
/// type are in the capturing host's byte order (little-endian in practice; a big-endian host is
/// recognised by the first length not fitting). Each TLV's length includes its 4-byte header and is
/// padded to 4.
fn nflog(data: &[u8], short: Skip) -> Result<Next<'_>, Skip> {
    let (head, mut tlvs) = data.split_first_chunk::<4>().ok_or(short)?;
    let family = u32::from(head[0]);
    let little = match tlvs.first_chunk::<2>() {
        Some(len) => {
            let le = usize::from(u16::from_le_bytes(*len));
            (4..=tlvs.len()).contains(&le)
                || !(4..=tlvs.len()).contains(&usize::from(u16::from_be_bytes(*len)))
        }
        None => true,
    };
    let read16 = |b: [u8; 2]| {
        if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    for _ in 0..MAX_NFLOG_TLVS {
        let Some((tlv, _)) = tlvs.split_first_chunk::<4>() else {
            // Cut, or no payload TLV at all (a log entry without the packet).
            return Err(short);
        };
        let len = usize::from(read16([tlv[0], tlv[1]]));
        let kind = read16([tlv[2], tlv[3]]) & 0x7fff; // high bit: NLA_F_NESTED-style flags
        if len < 4 {
            return Err(Skip::Malformed(Layer::Link));
        }
        if kind == NFULA_PAYLOAD {
            // A payload cut by the snap length is decoded as far as it goes.
            let end = len.min(tlvs.len());
            let payload = tlvs.get(4..end).unwrap_or_default();
            return family_next(family, payload);
        }
        let padded = len.div_ceil(4) * 4;
        tlvs = match tlvs.get(padded..) {
            Some(rest) => rest,
            None => return Err(short),
        };
    }
    Err(Skip::Malformed(Layer::Link))
}
