//! X.224 TPDU headers (ISO 8073 §13, class 0 as RFC 1006 and MS-RDPBCGR 2.2.1.1 use them): the layer
//! inside each TPKT frame, telling a Connection Request from a Confirm, a Disconnect or Data.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use super::tpkt::{self, HEADER_LEN as TPKT_HEADER_LEN};
use super::{RdpError, be16, byte};

/// Field offsets of an X.224 TPDU (ISO 8073 §13.3–13.7).
mod field {
    /// Length indicator: header length in bytes, not counting this byte.
    pub const LENGTH_INDICATOR: usize = 0;
    /// TPDU code; for CR and CC the low nibble is the credit (CDT), 0 in class 0.
    pub const CODE: usize = 1;
    /// Destination reference (CR, CC, DR), big-endian.
    pub const DST_REF: usize = 2;
    /// Source reference (CR, CC, DR), big-endian.
    pub const SRC_REF: usize = 4;
    /// Class and options (CR, CC) or disconnect reason (DR).
    pub const CLASS_OR_REASON: usize = 6;
    /// End of the fixed part of CR, CC and DR.
    pub const CONNECTION_END: usize = 7;
    /// End of the fixed part of a class 0 Data TPDU (LI, code, EOT/TPDU-NR).
    pub const DATA_END: usize = 3;
}

/// Length of the fixed part of CR, CC and DR, where RDP's variable data starts.
pub(crate) const CONNECTION_FIXED_LEN: usize = field::CONNECTION_END;

/// TPDU code of a Connection Request (ISO 8073 §13.3), high nibble.
const CODE_CR: u8 = 0xe0;
/// TPDU code of a Connection Confirm (ISO 8073 §13.4), high nibble.
const CODE_CC: u8 = 0xd0;
/// TPDU code of a Disconnect Request (ISO 8073 §13.5).
const CODE_DR: u8 = 0x80;
/// TPDU code of a Data TPDU (ISO 8073 §13.7).
const CODE_DT: u8 = 0xf0;

/// Parameter code of the TPDU size in the variable part of a CR / CC (ISO 8073 = ITU-T X.224
/// §13.3.4): one byte, the size as a power of two. RFC 1006 users send it; RDP never does.
const PARAM_TPDU_SIZE: u8 = 0xc0;
/// Parameter code of the calling transport selector (TSAP-ID of the initiator, ISO 8073 §13.3.4),
/// e.g. S7comm's `01 00`.
const PARAM_CALLING_TSAP: u8 = 0xc1;
/// Parameter code of the called transport selector (TSAP-ID of the responder, ISO 8073 §13.3.4),
/// e.g. S7comm's rack/slot `01 02`.
const PARAM_CALLED_TSAP: u8 = 0xc2;
/// ISO 8073's parameter codes (0x85…, 0xc0–0xc7, 0xe0, 0xf0, …) all have the top bit set. RDP's
/// variable part never starts so: it is a text line or a structure of type 0x01 or 0x06.
const PARAM_CODE_BIT: u8 = 0x80;

/// Whether the variable part of a Connection Request (the bytes after its fixed part) is a list of
/// ISO 8073 parameters naming a transport selector or a TPDU size: the CR of an ISO transport user
/// over RFC 1006 (Siemens S7comm, IEC 61850 MMS, … on port 102), not of RDP, whose variable part
/// (MS-RDPBCGR 2.2.1.1) is a cookie or routing token line, RDP_NEG_REQ and
/// RDP_NEG_CORRELATION_INFO.
///
/// Every parameter (code, length, value) must be complete and the list must end exactly at the end
/// of the data, so a cookie, token or RDP_NEG_REQ cannot hide after it; an empty variable part (a
/// bare legacy RDP request) is not such a list.
pub(crate) fn is_iso_transport_parameters(variable: &[u8]) -> bool {
    let mut rest = variable;
    let mut transport = false;
    while let [code, len, after @ ..] = rest {
        if code & PARAM_CODE_BIT == 0 {
            return false;
        }
        let Some(next) = after.get(usize::from(*len)..) else {
            return false;
        };
        transport |= matches!(
            *code,
            PARAM_TPDU_SIZE | PARAM_CALLING_TSAP | PARAM_CALLED_TSAP
        );
        rest = next;
    }
    transport && rest.is_empty()
}

/// Which X.224 TPDU a frame carries (ISO 8073 §13.1, the codes RDP uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum X224Kind {
    /// Connection Request, code 0xE0 (the client's first PDU, MS-RDPBCGR 2.2.1.1).
    ConnectionRequest,
    /// Connection Confirm, code 0xD0 (the server's answer, MS-RDPBCGR 2.2.1.2).
    ConnectionConfirm,
    /// Disconnect Request, code 0x80.
    DisconnectRequest,
    /// Data, code 0xF0 (MCS and everything after negotiation with Standard RDP Security).
    Data,
    /// Any other code byte, kept as sent.
    Other(u8),
}

impl X224Kind {
    /// Classifies a TPDU code byte; for CR and CC the credit nibble is ignored.
    pub fn from_code(code: u8) -> X224Kind {
        match code & 0xf0 {
            CODE_CR => X224Kind::ConnectionRequest,
            CODE_CC => X224Kind::ConnectionConfirm,
            CODE_DR if code == CODE_DR => X224Kind::DisconnectRequest,
            CODE_DT => X224Kind::Data,
            _ => X224Kind::Other(code),
        }
    }

    /// Length of this kind's fixed header part, length indicator included.
    fn fixed_len(self) -> usize {
        match self {
            X224Kind::ConnectionRequest
            | X224Kind::ConnectionConfirm
            | X224Kind::DisconnectRequest => field::CONNECTION_END,
            X224Kind::Data => field::DATA_END,
            X224Kind::Other(_) => field::CODE + 1,
        }
    }
}

/// A checked view of one X.224 TPDU (the payload of a TPKT frame).
///
/// After [`X224::new_checked`] the fixed part for the TPDU's kind is present, so no accessor can panic;
/// accessors for fields a kind lacks return `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X224<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> X224<T> {
    /// Checks the length indicator (1..=254, ISO 8073 §13.2.1) and that the fixed part of the TPDU's
    /// kind is present (7 bytes for CR, CC, DR; 3 for DT; 2 otherwise). A length indicator that
    /// disagrees with the data is not checked here: RDP parsers tolerate it and report it.
    pub fn new_checked(buffer: T) -> Result<Self, RdpError> {
        let buf = buffer.as_ref();
        if buf.len() <= field::CODE {
            return Err(RdpError::Truncated {
                layer: "x224",
                need: field::CODE + 1,
                have: buf.len(),
            });
        }
        let li = byte(buf, field::LENGTH_INDICATOR);
        if li == 0 || li == 0xff {
            return Err(RdpError::NotX224 {
                length_indicator: li,
            });
        }
        let need = X224Kind::from_code(byte(buf, field::CODE)).fixed_len();
        if buf.len() < need {
            return Err(RdpError::Truncated {
                layer: "x224",
                need,
                have: buf.len(),
            });
        }
        Ok(X224 { buffer })
    }

    /// The length indicator: header length not counting itself.
    pub fn length_indicator(&self) -> u8 {
        byte(self.buffer.as_ref(), field::LENGTH_INDICATOR)
    }

    /// The TPDU code byte as sent (credit nibble included).
    pub fn code(&self) -> u8 {
        byte(self.buffer.as_ref(), field::CODE)
    }

    /// The TPDU kind.
    pub fn kind(&self) -> X224Kind {
        X224Kind::from_code(self.code())
    }

    fn is_connection(&self) -> bool {
        matches!(
            self.kind(),
            X224Kind::ConnectionRequest | X224Kind::ConnectionConfirm | X224Kind::DisconnectRequest
        )
    }

    /// Destination reference (CR, CC, DR).
    pub fn dst_ref(&self) -> Option<u16> {
        self.is_connection()
            .then(|| be16(self.buffer.as_ref(), field::DST_REF))
    }

    /// Source reference (CR, CC, DR).
    pub fn src_ref(&self) -> Option<u16> {
        self.is_connection()
            .then(|| be16(self.buffer.as_ref(), field::SRC_REF))
    }

    /// Class and option byte (CR, CC); 0 for class 0 as RDP uses it.
    pub fn class_option(&self) -> Option<u8> {
        matches!(
            self.kind(),
            X224Kind::ConnectionRequest | X224Kind::ConnectionConfirm
        )
        .then(|| byte(self.buffer.as_ref(), field::CLASS_OR_REASON))
    }

    /// Disconnect reason (DR).
    pub fn reason(&self) -> Option<u8> {
        (self.kind() == X224Kind::DisconnectRequest)
            .then(|| byte(self.buffer.as_ref(), field::CLASS_OR_REASON))
    }

    /// Bytes after the fixed part: for CR and CC the RDP cookie / routing token and negotiation
    /// structures, for DT the MCS PDU. Taken to the end of the buffer whatever the length indicator
    /// says, since RDP peers are not consistent about whether it covers the variable part.
    pub fn user_data(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        buf.get(self.kind().fixed_len()..).unwrap_or_default()
    }

    /// The whole TPDU.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The X.224 kind of the TPKT frame starting `tpkt`, from its first 6 bytes; `None` when they are not
/// TPKT + X.224 or fewer than 6 bytes are given. The rest of the frame need not be present.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::rdp::{x224_kind, X224Kind};
/// assert_eq!(x224_kind(b"\x03\x00\x00\x0b\x06\xd0"), Some(X224Kind::ConnectionConfirm));
/// assert_eq!(x224_kind(b"\x03\x00\x00\x0c\x02\xf0\x80\x7f"), Some(X224Kind::Data));
/// assert_eq!(x224_kind(b"\x16\x03\x01\x02\x00\x01"), None);
/// ```
pub fn x224_kind(tpkt: &[u8]) -> Option<X224Kind> {
    if !tpkt_header_plausible(tpkt)? {
        return None;
    }
    let li = *tpkt.get(TPKT_HEADER_LEN + field::LENGTH_INDICATOR)?;
    let code = *tpkt.get(TPKT_HEADER_LEN + field::CODE)?;
    (li != 0 && li != 0xff).then(|| X224Kind::from_code(code))
}

/// Whether the first bytes are TPKT (version 3, reserved 0, length ≥ 7): `None` while fewer than 4
/// bytes leave it open.
fn tpkt_header_plausible(buf: &[u8]) -> Option<bool> {
    let mut plausible = true;
    if let Some(&v) = buf.first() {
        plausible &= v == 3;
    }
    if let Some(&r) = buf.get(1) {
        plausible &= r == 0;
    }
    if buf.len() >= TPKT_HEADER_LEN {
        plausible &= usize::from(be16(buf, 2)) >= tpkt::MIN_LEN;
    }
    if !plausible {
        return Some(false);
    }
    (buf.len() >= TPKT_HEADER_LEN).then_some(true)
}

/// Content check of a client's first bytes: `Some(true)` TPKT + X.224 Connection Request,
/// `Some(false)` not, `None` need more (at most 6 bytes are needed; any byte that rules it out answers
/// at once).
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::rdp::looks_like_connection_request;
/// assert_eq!(looks_like_connection_request(b"\x03\x00\x00\x13\x0e\xe0"), Some(true));
/// assert_eq!(looks_like_connection_request(b"\x03\x00"), None);
/// assert_eq!(looks_like_connection_request(b"\x16"), Some(false)); // a TLS record
/// ```
pub fn looks_like_connection_request(first_bytes: &[u8]) -> Option<bool> {
    let header = tpkt_header_plausible(first_bytes);
    if header == Some(false) {
        return Some(false);
    }
    // A CR's TPKT holds at least the 7-byte fixed X.224 part.
    if first_bytes.len() >= TPKT_HEADER_LEN
        && usize::from(be16(first_bytes, 2)) < TPKT_HEADER_LEN + field::CONNECTION_END
    {
        return Some(false);
    }
    if let Some(&li) = first_bytes.get(TPKT_HEADER_LEN + field::LENGTH_INDICATOR)
        && (li == 0 || li == 0xff)
    {
        return Some(false);
    }
    let code = *first_bytes.get(TPKT_HEADER_LEN + field::CODE)?;
    Some(X224Kind::from_code(code) == X224Kind::ConnectionRequest)
}

/// The largest valid length indicator (255 is reserved, ISO 8073 §13.2.1).
const MAX_LENGTH_INDICATOR: u8 = 0xfe;

/// Writes TPKT + a CR/CC/DR TPDU around `user_data` (length indicator covering it, as Windows does).
pub(crate) fn emit_connection_tpdu(
    out: &mut Vec<u8>,
    code: u8,
    dst_ref: u16,
    src_ref: u16,
    class_or_reason: u8,
    user_data: &[u8],
) {
    let tpdu_len = field::CONNECTION_END + user_data.len();
    tpkt::emit_header(out, tpdu_len);
    // The length indicator is one byte and 255 is reserved (ISO 8073 §13.2.1): a longer header says
    // 254, as RDP stacks do, and the TPKT length still covers everything.
    out.push(
        u8::try_from(tpdu_len - 1)
            .unwrap_or(MAX_LENGTH_INDICATOR)
            .min(MAX_LENGTH_INDICATOR),
    );
    out.push(code);
    out.extend_from_slice(&dst_ref.to_be_bytes());
    out.extend_from_slice(&src_ref.to_be_bytes());
    out.push(class_or_reason);
    out.extend_from_slice(user_data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::Tpkt;

    const CR: &[u8] =
        b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00";
    const DR: &[u8] = b"\x03\x00\x00\x0b\x06\x80\x00\x00\x12\x34\x00";
    const DT: &[u8] = b"\x03\x00\x00\x0c\x02\xf0\x80\x7f\x65\x82\x01\x00";

    #[test]
    fn kinds() {
        assert_eq!(x224_kind(CR), Some(X224Kind::ConnectionRequest));
        assert_eq!(x224_kind(DR), Some(X224Kind::DisconnectRequest));
        assert_eq!(x224_kind(DT), Some(X224Kind::Data));
        assert_eq!(
            x224_kind(b"\x03\x00\x00\x0b\x06\xc0"),
            Some(X224Kind::Other(0xc0))
        );
        assert_eq!(
            x224_kind(b"\x03\x00\x00\x0b\x06\x81"),
            Some(X224Kind::Other(0x81))
        );
        assert_eq!(x224_kind(b"\x03\x00\x00\x0b\x00\xe0"), None);
        assert_eq!(x224_kind(b"\x03\x00\x00\x0b\x06"), None);
        // Credit nibble ignored for CR / CC.
        assert_eq!(X224Kind::from_code(0xe3), X224Kind::ConnectionRequest);
    }

    #[test]
    fn views() {
        let t = Tpkt::new_checked(DR).unwrap();
        let x = X224::new_checked(t.payload()).unwrap();
        assert_eq!(x.kind(), X224Kind::DisconnectRequest);
        assert_eq!(x.dst_ref(), Some(0));
        assert_eq!(x.src_ref(), Some(0x1234));
        assert_eq!(x.reason(), Some(0));
        assert_eq!(x.class_option(), None);
        let t = Tpkt::new_checked(DT).unwrap();
        let x = X224::new_checked(t.payload()).unwrap();
        assert_eq!(x.kind(), X224Kind::Data);
        assert_eq!(x.dst_ref(), None);
        assert_eq!(x.user_data(), b"\x7f\x65\x82\x01\x00");
        let t = Tpkt::new_checked(CR).unwrap();
        let x = X224::new_checked(t.payload()).unwrap();
        assert_eq!(x.length_indicator(), 14);
        assert_eq!(x.class_option(), Some(0));
        assert_eq!(x.user_data(), &CR[11..]);
    }

    #[test]
    fn x224_truncation_sweep() {
        let tpdu = &CR[4..];
        for n in 0..7 {
            let err = X224::new_checked(&tpdu[..n]).unwrap_err();
            let need = if n < 2 { 2 } else { 7 };
            assert_eq!(
                err,
                RdpError::Truncated {
                    layer: "x224",
                    need,
                    have: n
                }
            );
        }
        assert_eq!(
            X224::new_checked(&b"\xff\xe0"[..]).unwrap_err(),
            RdpError::NotX224 {
                length_indicator: 0xff
            }
        );
    }

    #[test]
    fn connection_request_sniff() {
        for n in 0..6 {
            assert_eq!(looks_like_connection_request(&CR[..n]), None, "prefix {n}");
        }
        for n in 6..=CR.len() {
            assert_eq!(
                looks_like_connection_request(&CR[..n]),
                Some(true),
                "prefix {n}"
            );
        }
        assert_eq!(looks_like_connection_request(b"\x16\x03\x01"), Some(false));
        assert_eq!(looks_like_connection_request(b"\x03\x01"), Some(false));
        assert_eq!(
            looks_like_connection_request(b"\x03\x00\x00\x0a"),
            Some(false)
        );
        assert_eq!(
            looks_like_connection_request(b"\x03\x00\x00\x13\x00"),
            Some(false)
        );
        assert_eq!(looks_like_connection_request(&DR[..6]), Some(false));
        // The mid-stream start of zeek rdp-invalid-length.pcap: not a CR.
        assert_eq!(looks_like_connection_request(b"ECODH\r\n"), Some(false));
        assert_eq!(
            looks_like_connection_request(b"GET / HTTP/1.1"),
            Some(false)
        );
    }

    /// The Connection Request of a Siemens S7comm client (COTP over RFC 1006): calling TSAP `01 00`,
    /// called TSAP `01 02` (rack 0, slot 2), TPDU size 1024.
    const S7_CR: &[u8] = b"\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\
        \xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a";

    #[test]
    fn iso_transport_parameters_are_told_from_rdp_data() {
        let s7 = &S7_CR[4 + CONNECTION_FIXED_LEN..];
        assert!(is_iso_transport_parameters(s7));
        // IEC 61850 MMS order: TPDU size first, then the selectors.
        assert!(is_iso_transport_parameters(
            b"\xc0\x01\x0d\xc2\x02\x00\x01\xc1\x02\x00\x01"
        ));
        // One selector alone, and with another ISO 8073 parameter (additional options).
        assert!(is_iso_transport_parameters(b"\xc2\x02\x01\x02"));
        assert!(is_iso_transport_parameters(b"\xc6\x01\x01\xc1\x00"));
        // RDP: a bare legacy request, a cookie, a routing token, RDP_NEG_REQ, correlation info.
        assert!(!is_iso_transport_parameters(b""));
        assert!(!is_iso_transport_parameters(b"Cookie: mstshash=eltons\r\n"));
        assert!(!is_iso_transport_parameters(
            b"Cookie: msts=3640205228.15629.0000\r\n"
        ));
        assert!(!is_iso_transport_parameters(&CR[11..]));
        assert!(!is_iso_transport_parameters(b"\x06\x00\x24\x00"));
        // Parameters, then something else: not a whole parameter list.
        assert!(!is_iso_transport_parameters(
            b"\xc1\x02\x01\x00\x01\x00\x08\x00"
        ));
        assert!(!is_iso_transport_parameters(
            b"\xc1\x02\x01\x00Cookie: mstshash=a\r\n"
        ));
        // A parameter cut short or a lone code byte; cut between parameters, still a list.
        for n in 1..s7.len() {
            let whole_parameters = n == 4 || n == 8;
            assert_eq!(
                is_iso_transport_parameters(&s7[..n]),
                whole_parameters,
                "prefix {n}"
            );
        }
        // ISO 8073 parameters but no selector or TPDU size (a checksum): not what we look for.
        assert!(!is_iso_transport_parameters(b"\xc3\x02\x00\x00"));
        // The whole S7comm frame is a CR by its first bytes; the parser tells it apart.
        assert_eq!(looks_like_connection_request(S7_CR), Some(true));
        let t = Tpkt::new_checked(S7_CR).unwrap();
        let x = X224::new_checked(t.payload()).unwrap();
        assert_eq!(x.kind(), X224Kind::ConnectionRequest);
        assert_eq!(x.length_indicator(), 0x11);
        assert_eq!(x.src_ref(), Some(1));
        assert_eq!(x.user_data(), s7);
    }

    #[test]
    fn emit_round_trip() {
        let mut out = Vec::new();
        emit_connection_tpdu(&mut out, 0xe0, 0, 0, 0, &CR[11..]);
        assert_eq!(out, CR);
    }
}
