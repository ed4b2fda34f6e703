//! Checked views of the IP and TCP headers the walker (`decode::walk`) reads, in smoltcp's `wire`
//! style (DESIGN rule 1): each view names its offsets in one `mod field`, and after its
//! `new_checked` no accessor can panic. Fields are read through [`crate::bytes::view`].

mod ipv4;
mod ipv6;
mod tcp;

pub(super) use ipv4::Ipv4Header;
pub(super) use ipv6::{FRAGMENT_LEN as IPV6_FRAGMENT_LEN, Ipv6Fragment, Ipv6Header};
pub(super) use tcp::TcpHeader;

/// Why bytes are not a header: what a view's `new_checked` (or a length check after it) says. The
/// walker turns it into a [`super::Skip`] for the layer: `Short` is `Truncated` when the snap length
/// cut the frame and `Malformed` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// The bytes end inside the header: it needs `need` bytes, there are `have`.
    Short {
        /// Bytes the header needs (its fixed part, or the length it declares).
        need: usize,
        /// Bytes there are.
        have: usize,
    },
    /// A field rules the bytes out: a wrong version, or a header length below the fixed part.
    Malformed,
}

/// `Short` unless `have >= need`.
#[inline]
fn need(need: usize, have: usize) -> Result<(), HeaderError> {
    if have < need {
        Err(HeaderError::Short { need, have })
    } else {
        Ok(())
    }
}
