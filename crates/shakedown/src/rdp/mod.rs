//! RDP connection negotiation: the step between TCP reassembly and TLS for connections that start with
//! TPKT + X.224 (MS-RDPBCGR 2.2.1.1–2.2.1.2, RFC 1006, ISO 8073 / X.224).
//!
//! `proto` looks at a client's first bytes with `looks_like_connection_request`, cuts each direction
//! into TPKT frames with `tpkt_frame_len`, and decodes the client's X.224 Connection Request
//! (`parse_connection_request`) and the server's Connection Confirm (`parse_connection_confirm`).
//! When the server selects anything but Standard RDP Security ([`Protocols::is_external_security`]),
//! the next bytes on both sides are a TLS handshake, handed to `tls`. With CredSSP (NLA) selected and
//! key logs to decrypt with, the decrypted application data is cut into messages by `nla` and read
//! by [`credssp`] (MS-CSSP TSRequest, NTSTATUS errorCode, the Early User Authorization Result PDU of
//! MS-RDPBCGR 2.2.10.2).
//!
//! The parsers are lenient the way real captures require: a length field that disagrees with data that
//! is clearly present is tolerated and named in `anomalies`; legacy clients and servers send no
//! negotiation structures at all. Only a frame too short for its own header, bytes that are not
//! TPKT / the expected TPDU, or a Connection Request that belongs to another RFC 1006 user (ISO 8073
//! transport parameters instead of RDP data: S7comm, IEC 61850 MMS) are errors.
//!
//! With the `unstable` feature (engine parts, no stability promise), the PDU parsers can be called
//! directly:
//!
#![cfg_attr(feature = "unstable", doc = " ```")]
#![cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
//! use shakedown::rdp::{parse_connection_request, parse_connection_confirm, Protocols};
//!
//! let cr = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00";
//! let req = parse_connection_request(cr)?;
//! assert_eq!(req.neg_request.map(|n| n.requested), Some(Protocols(3)));
//!
//! let cc = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x02\x00\x00\x00";
//! let conf = parse_connection_confirm(cc)?;
//! assert_eq!(conf.selected().map(|p| p.selected_name()), Some("hybrid".to_string()));
//! # Ok::<(), shakedown::rdp::RdpError>(())
//! ```

/// Views read their fields through the crate's one reader set (0 past the end, which each view's
/// `new_checked` rules out).
use crate::bytes::view::{be16, byte, le16, le32};

pub mod credssp;
mod negotiation;
// The reader of TSRequests in decrypted records: public only with the `unstable` feature (an engine
// part, no stability promise).
#[cfg(feature = "unstable")]
pub mod nla;
#[cfg(not(feature = "unstable"))]
pub(crate) mod nla;
mod tpkt;
mod x224;

pub use negotiation::{
    ConnectionConfirm, ConnectionRequest, FailureCode, NegRequest, NegResponse, Protocols,
};
unstable_use!(negotiation::{parse_connection_confirm, parse_connection_request});
unstable_use!(tpkt::{Tpkt, TpktStatus, tpkt_frame_len});
unstable_use!(x224::{X224, X224Kind, looks_like_connection_request, x224_kind});

/// Why a TPKT frame could not be decoded as the RDP negotiation PDU asked for.
///
/// Malformed contents inside a well-framed PDU are not errors: they are listed in the result's
/// `anomalies`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RdpError {
    /// Fewer bytes than a header needs or a length field declares.
    #[error("{layer}: truncated, need {need} bytes, have {have}")]
    Truncated {
        /// `"tpkt"` or `"x224"`.
        layer: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The bytes do not start with a TPKT header (RFC 1006 §6: version 3, reserved 0, length ≥ 7).
    #[error("not TPKT: version {version}, reserved {reserved}, length {length}")]
    NotTpkt {
        /// First byte (3 for TPKT).
        version: u8,
        /// Second byte (0 for TPKT).
        reserved: u8,
        /// Declared length, 0 when fewer than 4 bytes were given.
        length: u16,
    },
    /// The TPKT payload is not an X.224 TPDU (ISO 8073 §13.2: length indicator 0 and 255 are
    /// reserved).
    #[error("not X.224: length indicator {length_indicator}")]
    NotX224 {
        /// The X.224 length indicator found.
        length_indicator: u8,
    },
    /// An X.224 TPDU, but not the kind asked for (e.g. a Connection Confirm given to the request parser).
    #[error("expected X.224 {expected}, found TPDU code 0x{code:02x}")]
    UnexpectedTpdu {
        /// `"connection request"` or `"connection confirm"`.
        expected: &'static str,
        /// The TPDU code byte found.
        code: u8,
    },
    /// An X.224 Connection Request of an ISO transport user over RFC 1006 (Siemens S7comm, IEC 61850
    /// MMS, … on port 102), not of RDP: its variable part is ISO 8073 parameters (transport
    /// selectors 0xC1/0xC2, TPDU size 0xC0) where RDP puts a cookie, a routing token or RDP_NEG_REQ
    /// (MS-RDPBCGR 2.2.1.1).
    #[error("not RDP: X.224 connection request with ISO 8073 transport parameters (ISO-on-TCP)")]
    IsoTransport,
}

#[cfg(test)]
mod tests;
