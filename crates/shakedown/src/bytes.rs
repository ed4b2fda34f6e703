//! The one set of byte readers every layer uses, from the frame decoder (`decode`) to the RDP and TLS
//! views: fixed-width integers at an offset of a borrowed slice, each returning `None` when the slice
//! ends first, so no read can panic.
//!
//! Checked views (smoltcp's `wire` style, DESIGN rule 1) name their offsets as [`Field`] ranges in a
//! `mod field` and read them through [`view`], whose readers give 0 past the end: the view's
//! `new_checked` has verified the offsets, and the 0 only keeps accessors total should that
//! invariant ever be broken.

use std::ops::Range;

/// Where a field sits in a header: a byte range (`SRC_PORT: Field = 0..2`).
pub(crate) type Field = Range<usize>;

/// `N` bytes at `at`, or `None` when `b` ends first.
#[inline]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.first_chunk::<N>().copied()
}

/// The byte at `at`.
#[inline]
pub(crate) fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// Big-endian (network order) u16 at `at`.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

/// Big-endian u24 at `at` (TLS handshake lengths).
#[inline]
pub(crate) fn be24(b: &[u8], at: usize) -> Option<u32> {
    array::<3>(b, at).map(|[x, y, z]| u32::from_be_bytes([0, x, y, z]))
}

/// Big-endian u32 at `at`.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

/// Little-endian u16 at `at` (RDP negotiation structures, NFLOG on little-endian hosts).
#[inline]
pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

/// Little-endian u32 at `at`.
#[inline]
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_le_bytes)
}

/// Readers for the accessors of checked views: the same reads, 0 past the end (which the view's
/// `new_checked` rules out).
pub(crate) mod view {
    use super::Field;

    /// The byte at `at`, 0 past the end.
    #[inline]
    pub(crate) fn byte(b: &[u8], at: usize) -> u8 {
        super::u8_at(b, at).unwrap_or(0)
    }

    /// Big-endian u16 at `at`, 0 past the end.
    #[inline]
    pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
        super::be16(b, at).unwrap_or(0)
    }

    /// Big-endian u32 at `at`, 0 past the end.
    #[inline]
    pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
        super::be32(b, at).unwrap_or(0)
    }

    /// Little-endian u16 at `at`, 0 past the end.
    #[inline]
    pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
        super::le16(b, at).unwrap_or(0)
    }

    /// Little-endian u32 at `at`, 0 past the end.
    #[inline]
    pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
        super::le32(b, at).unwrap_or(0)
    }

    /// `N` bytes of `field` (whose length is `N`), zeros past the end.
    #[inline]
    pub(crate) fn array<const N: usize>(b: &[u8], field: Field) -> [u8; N] {
        debug_assert_eq!(field.len(), N);
        super::array(b, field.start).unwrap_or([0; N])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_range_and_none_past_the_end() {
        let b = [0x12, 0x34, 0x56, 0x78, 0x9a];
        assert_eq!(u8_at(&b, 4), Some(0x9a));
        assert_eq!(u8_at(&b, 5), None);
        assert_eq!(be16(&b, 0), Some(0x1234));
        assert_eq!(be16(&b, 3), Some(0x789a));
        assert_eq!(be16(&b, 4), None);
        assert_eq!(be24(&b, 2), Some(0x56789a));
        assert_eq!(be24(&b, 3), None);
        assert_eq!(be32(&b, 1), Some(0x3456789a));
        assert_eq!(be32(&b, 2), None);
        assert_eq!(le16(&b, 0), Some(0x3412));
        assert_eq!(le32(&b, 0), Some(0x78563412));
        assert_eq!(le32(&b, usize::MAX), None);
        assert_eq!(be16(&b, usize::MAX), None);
        assert_eq!(array::<2>(&b, 3), Some([0x78, 0x9a]));
        assert_eq!(array::<0>(&b, 5), Some([]));
        assert_eq!(array::<0>(&b, 6), None);
    }

    #[test]
    fn view_reads_are_zero_past_the_end() {
        let b = [0x12, 0x34, 0x56];
        assert_eq!(view::byte(&b, 2), 0x56);
        assert_eq!(view::byte(&b, 3), 0);
        assert_eq!(view::be16(&b, 1), 0x3456);
        assert_eq!(view::be16(&b, 2), 0);
        assert_eq!(view::be32(&b, 0), 0);
        assert_eq!(view::le16(&b, 0), 0x3412);
        assert_eq!(view::le32(&b, 0), 0);
        assert_eq!(view::array::<2>(&b, 1..3), [0x34, 0x56]);
        assert_eq!(view::array::<2>(&b, 2..4), [0, 0]);
    }
}
