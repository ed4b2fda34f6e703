//! The IPv4 header (RFC 791 §3.1) as a checked view.

use std::net::Ipv4Addr;

use super::{HeaderError, need};
use crate::bytes::view;

/// Field offsets of the IPv4 header (RFC 791 §3.1).
mod field {
    use crate::bytes::Field;

    /// Version (high nibble) and header length in 32-bit words (IHL, low nibble).
    pub(super) const VER_IHL: usize = 0;
    // Byte 1: DSCP and ECN (RFC 2474, RFC 3168), not read.
    pub(super) const TOTAL_LEN: Field = 2..4;
    pub(super) const IDENT: Field = 4..6;
    /// Flags (reserved, DF, MF) and the fragment offset in 8-octet units.
    pub(super) const FLAGS_FRAG: Field = 6..8;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: Field = 10..12;
    pub(super) const SRC_ADDR: Field = 12..16;
    pub(super) const DST_ADDR: Field = 16..20;
}

/// Length of the header without options.
pub(crate) const FIXED_LEN: usize = field::DST_ADDR.end;

/// The MF (more fragments) flag in [`field::FLAGS_FRAG`].
const MORE_FRAGMENTS: u16 = 0x2000;
/// The fragment offset in [`field::FLAGS_FRAG`].
const FRAG_OFFSET: u16 = 0x1FFF;

/// A checked view of an IPv4 header, options included, at the start of a datagram's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv4Header<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv4Header<'a> {
    /// Checks, in this order: the fixed header is there (`Short`), version 4 and an IHL of at
    /// least 5 (`Malformed`), the options are there (`Short`).
    #[inline]
    pub(crate) fn new_checked(bytes: &'a [u8]) -> Result<Self, HeaderError> {
        need(FIXED_LEN, bytes.len())?;
        let h = Ipv4Header { bytes };
        if h.version() != 4 || h.header_len() < FIXED_LEN {
            return Err(HeaderError::Malformed);
        }
        need(h.header_len(), bytes.len())?;
        Ok(h)
    }

    pub(crate) fn version(&self) -> u8 {
        view::byte(self.bytes, field::VER_IHL) >> 4
    }

    /// Header length in bytes, options included (20 to 60).
    pub(crate) fn header_len(&self) -> usize {
        usize::from(view::byte(self.bytes, field::VER_IHL) & 0x0F) * 4
    }

    /// Total length of the datagram (header and payload) by the header.
    pub(crate) fn total_len(&self) -> u16 {
        view::be16(self.bytes, field::TOTAL_LEN.start)
    }

    pub(crate) fn ident(&self) -> u16 {
        view::be16(self.bytes, field::IDENT.start)
    }

    pub(crate) fn more_fragments(&self) -> bool {
        view::be16(self.bytes, field::FLAGS_FRAG.start) & MORE_FRAGMENTS != 0
    }

    /// Fragment offset in bytes.
    pub(crate) fn frag_offset(&self) -> u32 {
        u32::from(view::be16(self.bytes, field::FLAGS_FRAG.start) & FRAG_OFFSET) * 8
    }

    pub(crate) fn ttl(&self) -> u8 {
        view::byte(self.bytes, field::TTL)
    }

    pub(crate) fn protocol(&self) -> u8 {
        view::byte(self.bytes, field::PROTOCOL)
    }

    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "checksums are never verified (offload)")
    )]
    pub(crate) fn checksum(&self) -> u16 {
        view::be16(self.bytes, field::CHECKSUM.start)
    }

    pub(crate) fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(view::array::<4>(self.bytes, field::SRC_ADDR))
    }

    pub(crate) fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(view::array::<4>(self.bytes, field::DST_ADDR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IHL 6 (one 4-byte option), total length 0x0030, ID 0x1c46, MF and offset 0x0123 units,
    /// TTL 64, TCP, checksum 0xabcd, 10.0.0.1 → 192.168.1.2, a NOP/EOL option, then two bytes.
    const DGRAM: [u8; 26] = [
        0x46, 0, 0, 0x30, 0x1c, 0x46, 0x21, 0x23, 64, 6, 0xab, 0xcd, 10, 0, 0, 1, 192, 168, 1, 2,
        1, 1, 1, 0, 0xee, 0xff,
    ];

    #[test]
    fn every_field() {
        let h = Ipv4Header::new_checked(&DGRAM).unwrap();
        assert_eq!(h.version(), 4);
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.total_len(), 0x30);
        assert_eq!(h.ident(), 0x1c46);
        assert!(h.more_fragments());
        assert_eq!(h.frag_offset(), 0x123 * 8);
        assert_eq!(h.ttl(), 64);
        assert_eq!(h.protocol(), 6);
        assert_eq!(h.checksum(), 0xabcd);
        assert_eq!(h.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(h.dst_addr(), Ipv4Addr::new(192, 168, 1, 2));
        let mut last = DGRAM;
        (last[6], last[7]) = (0x40, 0); // DF, offset 0
        let h = Ipv4Header::new_checked(&last).unwrap();
        assert!(!h.more_fragments());
        assert_eq!(h.frag_offset(), 0);
    }

    #[test]
    fn truncation_sweep() {
        for len in 0..24 {
            let need = if len < FIXED_LEN { FIXED_LEN } else { 24 };
            assert_eq!(
                Ipv4Header::new_checked(&DGRAM[..len]),
                Err(HeaderError::Short { need, have: len }),
                "len {len}"
            );
        }
        assert!(Ipv4Header::new_checked(&DGRAM[..24]).is_ok());
    }

    #[test]
    fn version_and_header_length() {
        for first in [0x66, 0x44, 0x40, 0x06] {
            let mut d = DGRAM;
            d[0] = first;
            assert_eq!(
                Ipv4Header::new_checked(&d),
                Err(HeaderError::Malformed),
                "{first:#x}"
            );
        }
        // A header length beyond the bytes, checked after the version.
        let mut d = DGRAM;
        d[0] = 0x4f;
        assert_eq!(
            Ipv4Header::new_checked(&d),
            Err(HeaderError::Short { need: 60, have: 26 })
        );
        // A short header is short before its version is looked at.
        assert_eq!(
            Ipv4Header::new_checked(&[0x60; 19]),
            Err(HeaderError::Short { need: 20, have: 19 })
        );
    }
}
