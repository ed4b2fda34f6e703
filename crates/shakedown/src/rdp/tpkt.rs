//! TPKT framing (RFC 1006 §6): the 4-byte header that carries X.224 TPDUs over TCP, and the stream
//! framer `proto` uses to cut each direction of an RDP connection into frames.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use super::{RdpError, be16, byte};

/// Field offsets of the TPKT header (RFC 1006 §6).
mod field {
    /// Version, always 3.
    pub const VERSION: usize = 0;
    /// Reserved, always 0.
    pub const RESERVED: usize = 1;
    /// Big-endian length of the whole TPKT, header included.
    pub const LENGTH: usize = 2;
    /// Where the X.224 TPDU starts.
    pub const PAYLOAD: usize = 4;
}

/// TPKT version number (RFC 1006 §6).
const VERSION: u8 = 3;
/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = field::PAYLOAD;
/// Smallest legal TPKT: header plus the shortest X.224 TPDU (a 3-byte Data header), RFC 1006 §6.
pub(crate) const MIN_LEN: usize = 7;

/// Framing of a TPKT stream (RFC 1006 §6): how many bytes the next TPKT occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpktStatus {
    /// The bytes so far start like a TPKT, but the whole frame is not there yet.
    NeedMore,
    /// A whole TPKT of this many bytes (≥ 7, ≤ the buffer's length) starts the buffer.
    Frame(usize),
    /// The buffer does not start with a TPKT header (wrong version or reserved byte, or a length below
    /// 7, which could never make progress).
    NotTpkt,
}

/// How many bytes the TPKT at the start of `buf` occupies (RFC 1006 §6).
///
/// `Frame(n)` is returned only once all `n` bytes are in `buf`, so `&buf[..n]` is always in range and
/// `n ≥ 7` guarantees progress in a framing loop.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::rdp::{tpkt_frame_len, TpktStatus};
/// let cc = b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00\x16\x03";
/// assert_eq!(tpkt_frame_len(&cc[..3]), TpktStatus::NeedMore);
/// assert_eq!(tpkt_frame_len(cc), TpktStatus::Frame(11));
/// assert_eq!(tpkt_frame_len(&cc[11..]), TpktStatus::NotTpkt); // TLS follows
/// ```
pub fn tpkt_frame_len(buf: &[u8]) -> TpktStatus {
    match buf.first() {
        None => return TpktStatus::NeedMore,
        Some(&v) if v != VERSION => return TpktStatus::NotTpkt,
        Some(_) => {}
    }
    if buf.get(field::RESERVED).is_some_and(|&r| r != 0) {
        return TpktStatus::NotTpkt;
    }
    if buf.len() < HEADER_LEN {
        return TpktStatus::NeedMore;
    }
    let len = usize::from(be16(buf, field::LENGTH));
    if len < MIN_LEN {
        TpktStatus::NotTpkt
    } else if buf.len() < len {
        TpktStatus::NeedMore
    } else {
        TpktStatus::Frame(len)
    }
}

/// A checked view of one TPKT frame (RFC 1006 §6) over borrowed or owned bytes.
///
/// After [`Tpkt::new_checked`] the header is valid and the buffer holds at least the declared length,
/// so no accessor can panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpkt<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tpkt<T> {
    /// Checks the header (version 3, reserved 0, length ≥ 7) and that the buffer holds the whole frame.
    /// Bytes past the declared length are allowed and available from [`Tpkt::trailing`].
    pub fn new_checked(buffer: T) -> Result<Self, RdpError> {
        let buf = buffer.as_ref();
        let not_tpkt = || RdpError::NotTpkt {
            version: byte(buf, field::VERSION),
            reserved: byte(buf, field::RESERVED),
            length: if buf.len() >= HEADER_LEN {
                be16(buf, field::LENGTH)
            } else {
                0
            },
        };
        // Look at the bytes that are there before asking for more, so that garbage is called
        // garbage even when short.
        if buf.first().is_some_and(|&v| v != VERSION)
            || buf.get(field::RESERVED).is_some_and(|&r| r != 0)
        {
            return Err(not_tpkt());
        }
        if buf.len() < HEADER_LEN {
            return Err(RdpError::Truncated {
                layer: "tpkt",
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let len = usize::from(be16(buf, field::LENGTH));
        if len < MIN_LEN {
            return Err(not_tpkt());
        }
        if buf.len() < len {
            return Err(RdpError::Truncated {
                layer: "tpkt",
                need: len,
                have: buf.len(),
            });
        }
        Ok(Tpkt { buffer })
    }

    /// The version byte (3).
    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), field::VERSION)
    }

    /// The declared length of the whole frame, header included.
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The X.224 TPDU: the bytes between the header and the declared length.
    pub fn payload(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        buf.get(field::PAYLOAD..usize::from(self.length()))
            .unwrap_or_default()
    }

    /// Bytes in the buffer past the declared length (empty for an exactly framed buffer).
    pub fn trailing(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        buf.get(usize::from(self.length())..).unwrap_or_default()
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// Writes a TPKT header for a payload of `payload_len` bytes, for the emitters used in round trips.
pub(crate) fn emit_header(out: &mut Vec<u8>, payload_len: usize) {
    let total = u16::try_from(payload_len + HEADER_LEN).unwrap_or(u16::MAX);
    out.push(VERSION);
    out.push(0);
    out.extend_from_slice(&total.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const CC: &[u8] = b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00";

    #[test]
    fn frames_and_rejects() {
        assert_eq!(tpkt_frame_len(CC), TpktStatus::Frame(11));
        let mut two = CC.to_vec();
        two.extend_from_slice(CC);
        assert_eq!(tpkt_frame_len(&two), TpktStatus::Frame(11));
        assert_eq!(tpkt_frame_len(b"\x16\x03\x01"), TpktStatus::NotTpkt);
        assert_eq!(tpkt_frame_len(b"\x03\x01"), TpktStatus::NotTpkt);
        // A length below 7 would let a framing loop spin on 0..6-byte frames.
        for len in 0..7u8 {
            assert_eq!(
                tpkt_frame_len(&[3, 0, 0, len, 2, 0xf0, 0x80]),
                TpktStatus::NotTpkt
            );
        }
        assert_eq!(
            tpkt_frame_len(&[3, 0, 0, 7, 2, 0xf0, 0x80]),
            TpktStatus::Frame(7)
        );
    }

    #[test]
    fn truncation_sweep() {
        for n in 0..CC.len() {
            assert_eq!(tpkt_frame_len(&CC[..n]), TpktStatus::NeedMore, "prefix {n}");
            let err = Tpkt::new_checked(&CC[..n]).unwrap_err();
            let need = if n < 4 { 4 } else { 11 };
            assert_eq!(
                err,
                RdpError::Truncated {
                    layer: "tpkt",
                    need,
                    have: n
                }
            );
        }
    }

    #[test]
    fn view_accessors() {
        let mut buf = CC.to_vec();
        buf.extend_from_slice(b"\x16\x03");
        let t = Tpkt::new_checked(&buf[..]).unwrap();
        assert_eq!(t.version(), 3);
        assert_eq!(t.length(), 11);
        assert_eq!(t.payload(), &CC[4..]);
        assert_eq!(t.trailing(), b"\x16\x03");
        assert_eq!(
            Tpkt::new_checked(&b"\x05\x00\x00\x13"[..]).unwrap_err(),
            RdpError::NotTpkt {
                version: 5,
                reserved: 0,
                length: 0x13
            }
        );
    }

    #[test]
    fn round_trip_header() {
        let mut out = Vec::new();
        emit_header(&mut out, 7);
        out.extend_from_slice(&CC[4..]);
        assert_eq!(out, CC);
    }
}
