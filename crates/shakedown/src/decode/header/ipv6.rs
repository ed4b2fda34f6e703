//! The IPv6 fixed header (RFC 8200 §3) and the Fragment header (§4.5) as checked views; the walker
//! steps over the other extension headers by their length fields.

use std::net::Ipv6Addr;

use super::{HeaderError, need};
use crate::bytes::view;

/// Field offsets of the IPv6 header (RFC 8200 §3).
mod field {
    use crate::bytes::Field;

    /// Version (4 bits), traffic class (8) and flow label (20).
    pub(super) const VER_TC_FLOW: Field = 0..4;
    pub(super) const PAYLOAD_LEN: Field = 4..6;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC_ADDR: Field = 8..24;
    pub(super) const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = field::DST_ADDR.end;

/// A checked view of an IPv6 fixed header at the start of a packet's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv6Header<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv6Header<'a> {
    /// Checks that the header is there (`Short`), then version 6 (`Malformed`).
    #[inline]
    pub(crate) fn new_checked(bytes: &'a [u8]) -> Result<Self, HeaderError> {
        need(HEADER_LEN, bytes.len())?;
        let h = Ipv6Header { bytes };
        if h.version() != 6 {
            return Err(HeaderError::Malformed);
        }
        Ok(h)
    }

    pub(crate) fn version(&self) -> u8 {
        view::byte(self.bytes, field::VER_TC_FLOW.start) >> 4
    }

    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "no stage reads it; the view covers the whole header"
        )
    )]
    pub(crate) fn traffic_class(&self) -> u8 {
        let v = view::be16(self.bytes, field::VER_TC_FLOW.start);
        (v >> 4) as u8
    }

    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "no stage reads it; the view covers the whole header"
        )
    )]
    pub(crate) fn flow_label(&self) -> u32 {
        view::be32(self.bytes, field::VER_TC_FLOW.start) & 0x000F_FFFF
    }

    /// Payload length (extension headers included) by the header; 0 for a jumbogram.
    pub(crate) fn payload_len(&self) -> u16 {
        view::be16(self.bytes, field::PAYLOAD_LEN.start)
    }

    pub(crate) fn next_header(&self) -> u8 {
        view::byte(self.bytes, field::NEXT_HEADER)
    }

    pub(crate) fn hop_limit(&self) -> u8 {
        view::byte(self.bytes, field::HOP_LIMIT)
    }

    pub(crate) fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(view::array::<16>(self.bytes, field::SRC_ADDR))
    }

    pub(crate) fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(view::array::<16>(self.bytes, field::DST_ADDR))
    }

    /// The bytes after the fixed header (not bounded by the payload length).
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(HEADER_LEN..).unwrap_or_default()
    }
}

/// Field offsets of the IPv6 Fragment header (RFC 8200 §4.5).
mod frag_field {
    use crate::bytes::Field;

    pub(super) const NEXT_HEADER: usize = 0;
    /// Fragment offset in 8-octet units (13 bits), 2 reserved bits, M (more fragments).
    pub(super) const OFFSET_FLAGS: Field = 2..4;
    pub(super) const IDENT: Field = 4..8;
}

/// Length of the Fragment header.
pub(crate) const FRAGMENT_LEN: usize = frag_field::IDENT.end;

/// A checked view of an IPv6 Fragment header (RFC 8200 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv6Fragment<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv6Fragment<'a> {
    /// Checks that the 8-byte header is there.
    #[inline]
    pub(crate) fn new_checked(bytes: &'a [u8]) -> Result<Self, HeaderError> {
        need(FRAGMENT_LEN, bytes.len())?;
        Ok(Ipv6Fragment { bytes })
    }

    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the walker reads every extension header's first byte alike"
        )
    )]
    pub(crate) fn next_header(&self) -> u8 {
        view::byte(self.bytes, frag_field::NEXT_HEADER)
    }

    /// Fragment offset in bytes.
    pub(crate) fn offset(&self) -> u32 {
        u32::from(view::be16(self.bytes, frag_field::OFFSET_FLAGS.start) & 0xFFF8)
    }

    pub(crate) fn more_fragments(&self) -> bool {
        view::be16(self.bytes, frag_field::OFFSET_FLAGS.start) & 1 != 0
    }

    pub(crate) fn ident(&self) -> u32 {
        view::be32(self.bytes, frag_field::IDENT.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Traffic class 0xab, flow label 0xcdef1, payload length 2, TCP, hop limit 255,
    /// 2001:db8::1 → 2001:db8::2, then two bytes.
    fn packet() -> Vec<u8> {
        let mut p = vec![0x6a, 0xbc, 0xde, 0xf1, 0, 2, 6, 255];
        p.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
        p.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets());
        p.extend_from_slice(b"hi");
        p
    }

    #[test]
    fn every_field() {
        let p = packet();
        let h = Ipv6Header::new_checked(&p).unwrap();
        assert_eq!(h.version(), 6);
        assert_eq!(h.traffic_class(), 0xab);
        assert_eq!(h.flow_label(), 0xcdef1);
        assert_eq!(h.payload_len(), 2);
        assert_eq!(h.next_header(), 6);
        assert_eq!(h.hop_limit(), 255);
        assert_eq!(h.src_addr(), Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        assert_eq!(h.dst_addr(), Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
        assert_eq!(h.rest(), b"hi");
    }

    #[test]
    fn truncation_sweep() {
        let p = packet();
        for len in 0..HEADER_LEN {
            assert_eq!(
                Ipv6Header::new_checked(&p[..len]),
                Err(HeaderError::Short {
                    need: HEADER_LEN,
                    have: len
                }),
                "len {len}"
            );
        }
        assert_eq!(
            Ipv6Header::new_checked(&p[..HEADER_LEN]).unwrap().rest(),
            b""
        );
    }

    #[test]
    fn fragment_every_field_and_truncation() {
        // TCP next, offset 0x1234 units with M set, identification 0xdeadbeef.
        let f = [6, 0, 0x91, 0xa1, 0xde, 0xad, 0xbe, 0xef];
        let h = Ipv6Fragment::new_checked(&f).unwrap();
        assert_eq!(h.next_header(), 6);
        assert_eq!(h.offset(), 0x1234 * 8);
        assert!(h.more_fragments());
        assert_eq!(h.ident(), 0xdead_beef);
        let last = Ipv6Fragment::new_checked(&[6, 0, 0x91, 0xa0, 0, 0, 0, 1]).unwrap();
        assert_eq!((last.offset(), last.more_fragments()), (0x1234 * 8, false));
        for len in 0..FRAGMENT_LEN {
            assert_eq!(
                Ipv6Fragment::new_checked(&f[..len]),
                Err(HeaderError::Short {
                    need: FRAGMENT_LEN,
                    have: len
                })
            );
        }
    }

    #[test]
    fn version() {
        let mut p = packet();
        p[0] = 0x4a;
        assert_eq!(Ipv6Header::new_checked(&p), Err(HeaderError::Malformed));
    }
}
