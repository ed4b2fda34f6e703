//! The TCP header (RFC 9293 §3.1) as a checked view.

use super::{HeaderError, need};
use crate::bytes::view;
use crate::decode::TcpFlags;

/// Field offsets of the TCP header (RFC 9293 §3.1).
mod field {
    use crate::bytes::Field;

    pub(super) const SRC_PORT: Field = 0..2;
    pub(super) const DST_PORT: Field = 2..4;
    pub(super) const SEQ_NUM: Field = 4..8;
    pub(super) const ACK_NUM: Field = 8..12;
    /// Data offset in the high nibble: header length in 32-bit words.
    pub(super) const DATA_OFFSET: usize = 12;
    /// Control bits (with RFC 3168's ECE and CWR).
    pub(super) const FLAGS: usize = 13;
    pub(super) const WINDOW: Field = 14..16;
    pub(super) const CHECKSUM: Field = 16..18;
    pub(super) const URGENT: Field = 18..20;
}

/// Length of the fixed header, without options.
pub(crate) const FIXED_LEN: usize = field::URGENT.end;

/// A checked view of a TCP header over the bytes of a segment (header, options, payload), bounded
/// by the IP length.
///
/// [`TcpHeader::new_checked`] checks the fixed header only; the options may be cut by the snap
/// length (so a SYN cut in its options is still the SYN), which [`TcpHeader::payload`] tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpHeader<'a> {
    bytes: &'a [u8],
}

impl<'a> TcpHeader<'a> {
    /// Checks that `bytes` hold the fixed header and that its data offset is at least 5 words.
    #[inline]
    pub(crate) fn new_checked(bytes: &'a [u8]) -> Result<Self, HeaderError> {
        need(FIXED_LEN, bytes.len())?;
        let h = TcpHeader { bytes };
        if h.header_len() < FIXED_LEN {
            return Err(HeaderError::Malformed);
        }
        Ok(h)
    }

    pub(crate) fn src_port(&self) -> u16 {
        view::be16(self.bytes, field::SRC_PORT.start)
    }

    pub(crate) fn dst_port(&self) -> u16 {
        view::be16(self.bytes, field::DST_PORT.start)
    }

    pub(crate) fn seq_number(&self) -> u32 {
        view::be32(self.bytes, field::SEQ_NUM.start)
    }

    pub(crate) fn ack_number(&self) -> u32 {
        view::be32(self.bytes, field::ACK_NUM.start)
    }

    /// Header length in bytes by the data offset, options included (20 to 60).
    pub(crate) fn header_len(&self) -> usize {
        usize::from(view::byte(self.bytes, field::DATA_OFFSET) >> 4) * 4
    }

    pub(crate) fn flags(&self) -> TcpFlags {
        TcpFlags(view::byte(self.bytes, field::FLAGS))
    }

    pub(crate) fn window(&self) -> u16 {
        view::be16(self.bytes, field::WINDOW.start)
    }

    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "checksums are never verified (offload)")
    )]
    pub(crate) fn checksum(&self) -> u16 {
        view::be16(self.bytes, field::CHECKSUM.start)
    }

    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "no stage reads it; the view covers the whole header"
        )
    )]
    pub(crate) fn urgent_pointer(&self) -> u16 {
        view::be16(self.bytes, field::URGENT.start)
    }

    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "no stage reads it; the view covers the whole header"
        )
    )]
    /// The options, or `Short` when the bytes end inside them.
    pub(crate) fn options(&self) -> Result<&'a [u8], HeaderError> {
        let hlen = self.header_len();
        self.bytes.get(FIXED_LEN..hlen).ok_or(HeaderError::Short {
            need: hlen,
            have: self.bytes.len(),
        })
    }

    /// The bytes after the options, or `Short` when the bytes end inside the options.
    #[inline]
    pub(crate) fn payload(&self) -> Result<&'a [u8], HeaderError> {
        let hlen = self.header_len();
        self.bytes.get(hlen..).ok_or(HeaderError::Short {
            need: hlen,
            have: self.bytes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ports 1234 → 443, seq 0x01020304, ack 0x0a0b0c0d, data offset 6 (one MSS option), SYN+ACK,
    /// window 0xfaf0, checksum 0xbeef, urgent 0x0007, MSS 1460, then two payload bytes.
    const SEG: [u8; 26] = [
        0x04, 0xd2, 0x01, 0xbb, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0x60, 0x12, 0xfa, 0xf0, 0xbe,
        0xef, 0, 7, 2, 4, 0x05, 0xb4, b'h', b'i',
    ];

    #[test]
    fn every_field() {
        let h = TcpHeader::new_checked(&SEG).unwrap();
        assert_eq!(h.src_port(), 1234);
        assert_eq!(h.dst_port(), 443);
        assert_eq!(h.seq_number(), 0x0102_0304);
        assert_eq!(h.ack_number(), 0x0a0b_0c0d);
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.flags(), TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        assert_eq!(h.window(), 0xfaf0);
        assert_eq!(h.checksum(), 0xbeef);
        assert_eq!(h.urgent_pointer(), 7);
        assert_eq!(h.options(), Ok(&[2, 4, 0x05, 0xb4][..]));
        assert_eq!(h.payload(), Ok(&b"hi"[..]));
    }

    #[test]
    fn truncation_sweep() {
        for len in 0..FIXED_LEN {
            assert_eq!(
                TcpHeader::new_checked(&SEG[..len]),
                Err(HeaderError::Short {
                    need: FIXED_LEN,
                    have: len
                }),
                "len {len}"
            );
        }
        // Cut inside the options: the fixed header still reads, the payload does not.
        for len in FIXED_LEN..24 {
            let h = TcpHeader::new_checked(&SEG[..len]).unwrap();
            assert_eq!((h.src_port(), h.flags().syn()), (1234, true));
            let short = Err(HeaderError::Short {
                need: 24,
                have: len,
            });
            assert_eq!(h.options(), short);
            assert_eq!(h.payload(), short, "len {len}");
        }
        assert_eq!(
            TcpHeader::new_checked(&SEG[..24]).unwrap().payload(),
            Ok(&[][..])
        );
    }

    #[test]
    fn data_offset_below_five_or_beyond_the_bytes() {
        for offset in 0..5u8 {
            let mut seg = SEG;
            seg[12] = offset << 4;
            assert_eq!(TcpHeader::new_checked(&seg), Err(HeaderError::Malformed));
        }
        let mut seg = SEG;
        seg[12] = 0xf0; // 60 bytes of header in 26
        let h = TcpHeader::new_checked(&seg).unwrap();
        assert_eq!(h.header_len(), 60);
        assert_eq!(h.payload(), Err(HeaderError::Short { need: 60, have: 26 }));
        seg[12] = 0x50;
        let h = TcpHeader::new_checked(&seg).unwrap();
        assert_eq!(h.options(), Ok(&[][..]));
        assert_eq!(h.payload(), Ok(&SEG[20..]));
    }
}
