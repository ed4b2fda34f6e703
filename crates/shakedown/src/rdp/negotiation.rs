//! RDP security negotiation carried in the X.224 Connection Request and Confirm (MS-RDPBCGR 2.2.1.1,
//! 2.2.1.2): cookie or routing token, RDP_NEG_REQ, RDP_NEG_CORRELATION_INFO, RDP_NEG_RSP and
//! RDP_NEG_FAILURE. Its result tells `proto` whether TLS follows and gives `verdict` the failure code
//! when the server refused.

use std::borrow::Cow;
use std::fmt;

use super::tpkt::{HEADER_LEN as TPKT_HEADER_LEN, Tpkt};
use super::x224::{self, X224, X224Kind};
use super::{RdpError, byte, le16, le32};

/// Field offsets of the 8-byte RDP_NEG_REQ / RDP_NEG_RSP / RDP_NEG_FAILURE structures
/// (MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1, 2.2.1.2.2) and RDP_NEG_CORRELATION_INFO (2.2.1.1.2).
mod field {
    /// Structure type.
    pub const TYPE: usize = 0;
    /// Flags.
    pub const FLAGS: usize = 1;
    /// Little-endian u16 length of the structure.
    pub const LENGTH: usize = 2;
    /// Little-endian u32: requestedProtocols, selectedProtocol or failureCode.
    pub const VALUE: usize = 4;
    /// Size of the three 8-byte structures.
    pub const NEG_LEN: usize = 8;
    /// correlationId of RDP_NEG_CORRELATION_INFO.
    pub const CORRELATION_ID: std::ops::Range<usize> = 4..20;
    /// Size of RDP_NEG_CORRELATION_INFO (16 reserved bytes follow the id).
    pub const CORRELATION_LEN: usize = 36;
}

/// TYPE_RDP_NEG_REQ.
const TYPE_NEG_REQ: u8 = 0x01;
/// TYPE_RDP_NEG_RSP.
const TYPE_NEG_RSP: u8 = 0x02;
/// TYPE_RDP_NEG_FAILURE.
const TYPE_NEG_FAILURE: u8 = 0x03;
/// TYPE_RDP_CORRELATION_INFO.
const TYPE_CORRELATION_INFO: u8 = 0x06;

/// Security protocol bits of requestedProtocols / selectedProtocol (MS-RDPBCGR 2.2.1.1.1); unknown
/// bits are kept.
///
/// ```
/// use shakedown::rdp::Protocols;
/// assert_eq!(Protocols(0x0b).names(), ["ssl", "hybrid", "hybrid_ex"]);
/// assert_eq!(Protocols(0).names(), ["rdp"]);
/// assert_eq!(Protocols(0x100).names(), ["0x00000100"]);
/// assert_eq!(Protocols::HYBRID.selected_name(), "hybrid");
/// assert!(!Protocols::RDP.is_external_security());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protocols(pub u32);

impl Protocols {
    /// PROTOCOL_RDP: Standard RDP Security (no bit set).
    pub const RDP: Protocols = Protocols(0);
    /// PROTOCOL_SSL: TLS.
    pub const SSL: Protocols = Protocols(0x01);
    /// PROTOCOL_HYBRID: CredSSP (Network Level Authentication) inside TLS.
    pub const HYBRID: Protocols = Protocols(0x02);
    /// PROTOCOL_RDSTLS: RDSTLS (server redirection) inside TLS.
    pub const RDSTLS: Protocols = Protocols(0x04);
    /// PROTOCOL_HYBRID_EX: CredSSP with the Early User Authorization Result PDU.
    pub const HYBRID_EX: Protocols = Protocols(0x08);
    /// PROTOCOL_RDSAAD: RDS AAD authentication (Azure AD) inside TLS.
    pub const RDSAAD: Protocols = Protocols(0x10);

    const NAMED: [(u32, &'static str); 5] = [
        (0x01, "ssl"),
        (0x02, "hybrid"),
        (0x04, "rdstls"),
        (0x08, "hybrid_ex"),
        (0x10, "rdsaad"),
    ];

    /// Names of the set bits in bit order (`["rdp"]` when none is set); unknown bits together as one
    /// `"0x%08x"` entry. These are SCHEMA.md's protocol names.
    pub fn names(&self) -> Vec<String> {
        self.name_iter().map(|n| n.to_string()).collect()
    }

    /// [`Protocols::names`] without allocating: `rdp` when no bit is set, else the known bits' names
    /// in bit order and then the unknown bits, if any, as one entry.
    pub(crate) fn name_iter(self) -> impl Iterator<Item = ProtocolName> {
        let rdp = (self.0 == 0).then_some(ProtocolName::Known("rdp"));
        let unknown = self.unknown_bits();
        rdp.into_iter()
            .chain(
                Protocols::NAMED
                    .iter()
                    .filter(move |(bit, _)| self.0 & bit != 0)
                    .map(|(_, name)| ProtocolName::Known(name)),
            )
            .chain((unknown != 0).then_some(ProtocolName::Hex(unknown)))
    }

    /// The name of a single selected protocol (`"rdp"`, `"ssl"`, …), or `"0x%08x"` for a value that is
    /// not exactly one known protocol.
    pub fn selected_name(&self) -> String {
        self.selected().to_string()
    }

    /// [`Protocols::selected_name`] without allocating.
    pub(crate) fn selected(self) -> ProtocolName {
        if self.0 == 0 {
            return ProtocolName::Known("rdp");
        }
        Protocols::NAMED
            .iter()
            .find(|(bit, _)| *bit == self.0)
            .map_or(ProtocolName::Hex(self.0), |(_, n)| ProtocolName::Known(n))
    }

    /// Anything but Standard RDP Security: a TLS handshake follows the Connection Confirm.
    pub fn is_external_security(&self) -> bool {
        self.0 != 0
    }

    /// Whether every bit of `other` is set here.
    pub fn contains(&self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }

    /// Bits no MS-RDPBCGR revision known here defines.
    pub fn unknown_bits(&self) -> u32 {
        Protocols::NAMED
            .iter()
            .fold(self.0, |acc, (bit, _)| acc & !bit)
    }
}

/// One of [`Protocols::names`], or [`Protocols::selected_name`]: a SCHEMA.md protocol name, or
/// bits written as `0x%08x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtocolName {
    /// `rdp`, `ssl`, `hybrid`, …
    Known(&'static str),
    /// Bits without a (single) name.
    Hex(u32),
}

impl fmt::Display for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolName::Known(n) => f.write_str(n),
            ProtocolName::Hex(bits) => write!(f, "0x{bits:08x}"),
        }
    }
}

impl fmt::Display for Protocols {
    /// The names joined with `|`, e.g. `ssl|hybrid`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join("|"))
    }
}

/// failureCode of RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2); unknown codes are kept.
///
/// ```
/// use shakedown::rdp::FailureCode;
/// assert_eq!(FailureCode(5).to_string(), "HYBRID_REQUIRED_BY_SERVER");
/// assert_eq!(FailureCode(9).to_string(), "0x00000009");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureCode(pub u32);

impl FailureCode {
    /// The server wants TLS or CredSSP.
    pub const SSL_REQUIRED_BY_SERVER: FailureCode = FailureCode(1);
    /// The server does only Standard RDP Security.
    pub const SSL_NOT_ALLOWED_BY_SERVER: FailureCode = FailureCode(2);
    /// The server has no usable certificate.
    pub const SSL_CERT_NOT_ON_SERVER: FailureCode = FailureCode(3);
    /// The requested protocols contradict the security already in effect.
    pub const INCONSISTENT_FLAGS: FailureCode = FailureCode(4);
    /// The server wants CredSSP (NLA).
    pub const HYBRID_REQUIRED_BY_SERVER: FailureCode = FailureCode(5);
    /// The server wants TLS with client certificate authentication.
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: FailureCode = FailureCode(6);

    /// The MS-RDPBCGR name, `None` for an unknown code.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => return None,
        })
    }

    /// One plain sentence on what the server meant (after MS-RDPBCGR 2.2.1.2.2).
    pub fn meaning(&self) -> &'static str {
        match self.0 {
            1 => {
                "The server requires Enhanced RDP Security (TLS or CredSSP), which the client did not \
                 offer; a client that offered only CredSSP gets this from a server that supports only TLS."
            }
            2 => {
                "The server is configured for Standard RDP Security only and supports no TLS-based \
                 security protocol."
            }
            3 => "The server has no valid certificate, so it cannot start TLS.",
            4 => {
                "The requested security protocols contradict the security protocol already in effect, \
                 which happens only when TLS was started directly without negotiation."
            }
            5 => {
                "The server requires CredSSP (Network Level Authentication), which the client did not \
                 offer."
            }
            6 => "The server requires TLS with certificate-based client authentication.",
            _ => {
                "The server refused the negotiation with a failure code MS-RDPBCGR does not define."
            }
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08x}", self.0),
        }
    }
}

/// RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1): the security protocols a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NegRequest {
    /// Flags as sent (see the associated constants).
    pub flags: u8,
    /// requestedProtocols.
    pub requested: Protocols,
}

impl NegRequest {
    /// RESTRICTED_ADMIN_MODE_REQUIRED.
    pub const RESTRICTED_ADMIN_MODE_REQUIRED: u8 = 0x01;
    /// REDIRECTED_AUTHENTICATION_MODE_REQUIRED (Remote Credential Guard).
    pub const REDIRECTED_AUTHENTICATION_MODE_REQUIRED: u8 = 0x02;
    /// CORRELATION_INFO_PRESENT: an RDP_NEG_CORRELATION_INFO follows.
    pub const CORRELATION_INFO_PRESENT: u8 = 0x08;
}

/// The server's answer in the Connection Confirm (MS-RDPBCGR 2.2.1.2.1, 2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NegResponse {
    /// RDP_NEG_RSP: the protocol the server chose.
    Selected {
        /// Flags as sent (see the associated constants).
        flags: u8,
        /// selectedProtocol.
        protocol: Protocols,
    },
    /// RDP_NEG_FAILURE: the server refused.
    Failure(FailureCode),
}

/// The JSON contract's spelling: the selected protocol's name (`selected_protocol`), or the
/// failure code's name (`failure`).
impl fmt::Display for NegResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegResponse::Selected { protocol, .. } => write!(f, "{}", protocol.selected()),
            NegResponse::Failure(code) => write!(f, "{code}"),
        }
    }
}

impl NegResponse {
    /// EXTENDED_CLIENT_DATA_SUPPORTED.
    pub const EXTENDED_CLIENT_DATA_SUPPORTED: u8 = 0x01;
    /// DYNVC_GFX_PROTOCOL_SUPPORTED.
    pub const DYNVC_GFX_PROTOCOL_SUPPORTED: u8 = 0x02;
    /// NEGRSP_FLAG_RESERVED.
    pub const NEGRSP_FLAG_RESERVED: u8 = 0x04;
    /// RESTRICTED_ADMIN_MODE_SUPPORTED.
    pub const RESTRICTED_ADMIN_MODE_SUPPORTED: u8 = 0x08;
    /// REDIRECTED_AUTHENTICATION_MODE_SUPPORTED.
    pub const REDIRECTED_AUTHENTICATION_MODE_SUPPORTED: u8 = 0x10;
}

/// A decoded X.224 Connection Request (MS-RDPBCGR 2.2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConnectionRequest {
    /// The NAME of a `Cookie: mstshash=NAME` line, as sent (trailing spaces kept, as Zeek does; invalid
    /// UTF-8 replaced). Clients truncate it (mstsc to 9 characters).
    pub cookie: Option<String>,
    /// Any other CRLF-terminated line in the cookie's place, without the CRLF, e.g.
    /// `Cookie: msts=3640205228.15629.0000` from a load balancer.
    pub routing_token: Option<String>,
    /// RDP_NEG_REQ; `None` for legacy clients (before RDP 5.2), which send none.
    pub neg_request: Option<NegRequest>,
    /// correlationId of RDP_NEG_CORRELATION_INFO (MS-RDPBCGR 2.2.1.1.2).
    pub correlation_id: Option<[u8; 16]>,
    /// What disagreed with the specification but was tolerated (snake_case tags).
    pub anomalies: Vec<&'static str>,
}

impl ConnectionRequest {
    /// The requested protocols, `PROTOCOL_RDP` when there was no RDP_NEG_REQ (a legacy client offers
    /// only Standard RDP Security).
    pub fn requested(&self) -> Protocols {
        self.neg_request.map_or(Protocols::RDP, |n| n.requested)
    }

    /// Encodes this request as a TPKT frame (anomalies are ignored). If both a cookie and a routing
    /// token are set, only the cookie is written.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = Vec::new();
        if let Some(c) = &self.cookie {
            data.extend_from_slice(b"Cookie: mstshash=");
            data.extend_from_slice(c.as_bytes());
            data.extend_from_slice(b"\r\n");
        } else if let Some(t) = &self.routing_token {
            data.extend_from_slice(t.as_bytes());
            data.extend_from_slice(b"\r\n");
        }
        if let Some(n) = self.neg_request {
            emit_neg(&mut data, TYPE_NEG_REQ, n.flags, n.requested.0);
        }
        if let Some(id) = self.correlation_id {
            data.extend_from_slice(&[TYPE_CORRELATION_INFO, 0]);
            data.extend_from_slice(&(field::CORRELATION_LEN as u16).to_le_bytes());
            data.extend_from_slice(&id);
            data.extend_from_slice(&[0; 16]);
        }
        let mut out = Vec::new();
        x224::emit_connection_tpdu(&mut out, 0xe0, 0, 0, 0, &data);
        out
    }
}

/// A decoded X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConnectionConfirm {
    /// RDP_NEG_RSP or RDP_NEG_FAILURE; `None` when the server sent neither (a legacy server, or an
    /// answer to a legacy client: Standard RDP Security follows).
    pub response: Option<NegResponse>,
    /// What disagreed with the specification but was tolerated (snake_case tags).
    pub anomalies: Vec<&'static str>,
}

impl ConnectionConfirm {
    /// The selected protocol: from RDP_NEG_RSP, `PROTOCOL_RDP` with no negotiation data, `None` on
    /// failure.
    pub fn selected(&self) -> Option<Protocols> {
        match self.response {
            Some(NegResponse::Selected { protocol, .. }) => Some(protocol),
            Some(NegResponse::Failure(_)) => None,
            None => Some(Protocols::RDP),
        }
    }

    /// The failure code of an RDP_NEG_FAILURE.
    pub fn failure(&self) -> Option<FailureCode> {
        match self.response {
            Some(NegResponse::Failure(code)) => Some(code),
            _ => None,
        }
    }

    /// Encodes this confirm as a TPKT frame (anomalies ignored), with the references Windows uses.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = Vec::new();
        match self.response {
            Some(NegResponse::Selected { flags, protocol }) => {
                emit_neg(&mut data, TYPE_NEG_RSP, flags, protocol.0);
            }
            Some(NegResponse::Failure(code)) => emit_neg(&mut data, TYPE_NEG_FAILURE, 0, code.0),
            None => {}
        }
        let mut out = Vec::new();
        x224::emit_connection_tpdu(&mut out, 0xd0, 0, 0x1234, 0, &data);
        out
    }
}

fn emit_neg(out: &mut Vec<u8>, kind: u8, flags: u8, value: u32) {
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&(field::NEG_LEN as u16).to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
}

/// Opens a whole TPKT frame holding an X.224 TPDU of kind `want`, returning its user data and the
/// framing anomalies seen.
fn open<'a>(
    tpkt: &'a [u8],
    want: X224Kind,
    expected: &'static str,
) -> Result<(&'a [u8], Vec<&'static str>), RdpError> {
    let frame = Tpkt::new_checked(tpkt)?;
    let mut anomalies = Vec::new();
    if !frame.trailing().is_empty() {
        anomalies.push("tpkt_trailing_bytes");
    }
    // Borrow the payload from `tpkt` itself so it outlives the view.
    let payload = tpkt
        .get(TPKT_HEADER_LEN..usize::from(frame.length()))
        .unwrap_or_default();
    let tpdu = X224::new_checked(payload)?;
    if tpdu.kind() != want {
        return Err(RdpError::UnexpectedTpdu {
            expected,
            code: tpdu.code(),
        });
    }
    if usize::from(tpdu.length_indicator()) + 1 != payload.len() {
        anomalies.push("x224_length_indicator_mismatch");
    }
    if tpdu.class_option().is_some_and(|c| c != 0) {
        anomalies.push("x224_class_not_zero");
    }
    let user = payload
        .get(x224::CONNECTION_FIXED_LEN..)
        .unwrap_or_default();
    Ok((user, anomalies))
}

/// Splits one 8-byte negotiation structure off `rest`, noting a disagreeing length field (tolerated:
/// the structure has a fixed size) or a short one (dropped).
fn take_neg<'a>(
    rest: &mut &'a [u8],
    anomalies: &mut Vec<&'static str>,
    length_mismatch: &'static str,
    truncated: &'static str,
) -> Option<&'a [u8]> {
    let Some((neg, after)) = rest.split_at_checked(field::NEG_LEN) else {
        anomalies.push(truncated);
        *rest = &[];
        return None;
    };
    if usize::from(le16(neg, field::LENGTH)) != field::NEG_LEN {
        anomalies.push(length_mismatch);
    }
    *rest = after;
    Some(neg)
}

/// Decodes a client's X.224 Connection Request (MS-RDPBCGR 2.2.1.1) from one whole TPKT frame.
///
/// Errors when the bytes are not TPKT, not an X.224 CR, or shorter than the TPKT length or the CR's
/// fixed part, and with [`RdpError::IsoTransport`] when the variable part is ISO 8073 transport
/// parameters (an S7comm or MMS client on port 102, not RDP); anything odd after that is tolerated
/// and listed in `anomalies`.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::rdp::parse_connection_request;
/// let cr = b"\x03\x00\x00\x27\x22\xe0\x00\x00\x00\x00\x00Cookie: mstshash=Administr\r\n";
/// let req = parse_connection_request(cr)?;
/// assert_eq!(req.cookie.as_deref(), Some("Administr"));
/// assert_eq!(req.neg_request, None); // a legacy client
///
/// // A Siemens S7comm client: calling TSAP 01 00, called TSAP 01 02, TPDU size 1024.
/// let s7 = b"\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\
///            \xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a";
/// assert_eq!(parse_connection_request(s7), Err(shakedown::rdp::RdpError::IsoTransport));
/// # Ok::<(), shakedown::rdp::RdpError>(())
/// ```
pub fn parse_connection_request(tpkt: &[u8]) -> Result<ConnectionRequest, RdpError> {
    let (mut rest, anomalies) = open(tpkt, X224Kind::ConnectionRequest, "connection request")?;
    // Read as RDP data, these parameters would become a non-text routing token and the connection
    // an RDP one with standard security: decide before that.
    if x224::is_iso_transport_parameters(rest) {
        return Err(RdpError::IsoTransport);
    }
    let mut req = ConnectionRequest {
        anomalies,
        ..ConnectionRequest::default()
    };

    // routingToken or cookie: a text line, present unless the negotiation structures come first.
    if rest
        .first()
        .is_some_and(|&t| t != TYPE_NEG_REQ && t != TYPE_CORRELATION_INFO)
    {
        let (line, after) = split_line(rest, &mut req.anomalies);
        match mstshash(line) {
            Some(name) => req.cookie = Some(lossy(name)),
            None => {
                if !line.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                    req.anomalies.push("routing_token_not_text");
                }
                req.routing_token = Some(lossy(line));
            }
        }
        rest = after;
    }

    if rest.get(field::TYPE) == Some(&TYPE_NEG_REQ)
        && let Some(neg) = take_neg(
            &mut rest,
            &mut req.anomalies,
            "neg_req_length_mismatch",
            "neg_req_truncated",
        )
    {
        req.neg_request = Some(NegRequest {
            flags: byte(neg, field::FLAGS),
            requested: Protocols(le32(neg, field::VALUE)),
        });
    }

    if rest.get(field::TYPE) == Some(&TYPE_CORRELATION_INFO) {
        match rest.split_at_checked(field::CORRELATION_LEN) {
            Some((info, after)) => {
                if usize::from(le16(info, field::LENGTH)) != field::CORRELATION_LEN {
                    req.anomalies.push("correlation_info_length_mismatch");
                }
                req.correlation_id = info
                    .get(field::CORRELATION_ID)
                    .and_then(|id| <[u8; 16]>::try_from(id).ok());
                rest = after;
            }
            None => {
                req.anomalies.push("correlation_info_truncated");
                rest = &[];
            }
        }
    }

    let flagged = req
        .neg_request
        .is_some_and(|n| n.flags & NegRequest::CORRELATION_INFO_PRESENT != 0);
    match (flagged, req.correlation_id.is_some()) {
        (true, false) => req.anomalies.push("correlation_info_missing"),
        (false, true) => req.anomalies.push("correlation_info_unflagged"),
        _ => {}
    }
    if !rest.is_empty() {
        req.anomalies.push("trailing_data");
    }
    Ok(req)
}

/// Decodes a server's X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2) from one whole TPKT frame.
///
/// Errors as [`parse_connection_request`] does; an RDP_NEG_RSP whose length field is wrong but whose
/// 8 bytes are there is still decoded (with `neg_rsp_length_mismatch`).
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::rdp::{parse_connection_confirm, FailureCode};
/// let cc = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x03\x00\x08\x00\x05\x00\x00\x00";
/// let conf = parse_connection_confirm(cc)?;
/// assert_eq!(conf.failure(), Some(FailureCode::HYBRID_REQUIRED_BY_SERVER));
/// # Ok::<(), shakedown::rdp::RdpError>(())
/// ```
pub fn parse_connection_confirm(tpkt: &[u8]) -> Result<ConnectionConfirm, RdpError> {
    let (mut rest, anomalies) = open(tpkt, X224Kind::ConnectionConfirm, "connection confirm")?;
    let mut conf = ConnectionConfirm {
        response: None,
        anomalies,
    };
    match rest.get(field::TYPE).copied() {
        None => {}
        Some(TYPE_NEG_RSP) => {
            if let Some(neg) = take_neg(
                &mut rest,
                &mut conf.anomalies,
                "neg_rsp_length_mismatch",
                "neg_rsp_truncated",
            ) {
                let protocol = Protocols(le32(neg, field::VALUE));
                if protocol.0.count_ones() > 1 || protocol.unknown_bits() != 0 {
                    conf.anomalies.push("selected_protocol_not_single_known");
                }
                conf.response = Some(NegResponse::Selected {
                    flags: byte(neg, field::FLAGS),
                    protocol,
                });
            }
        }
        Some(TYPE_NEG_FAILURE) => {
            if let Some(neg) = take_neg(
                &mut rest,
                &mut conf.anomalies,
                "neg_failure_length_mismatch",
                "neg_failure_truncated",
            ) {
                conf.response = Some(NegResponse::Failure(FailureCode(le32(neg, field::VALUE))));
            }
        }
        Some(_) => {
            conf.anomalies.push("unknown_negotiation_type");
            rest = &[];
        }
    }
    if !rest.is_empty() {
        conf.anomalies.push("trailing_data");
    }
    Ok(conf)
}

/// Splits the first CRLF-terminated line off `data`. Without a CRLF the line runs to a trailing
/// RDP_NEG_REQ if one is recognisable there, else to the end (noted as `token_unterminated`).
fn split_line<'a>(data: &'a [u8], anomalies: &mut Vec<&'static str>) -> (&'a [u8], &'a [u8]) {
    if let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let line = data.get(..pos).unwrap_or_default();
        let after = data.get(pos + 2..).unwrap_or_default();
        return (line, after);
    }
    anomalies.push("token_unterminated");
    let neg_at = data.len().checked_sub(field::NEG_LEN);
    if let Some(at) = neg_at
        && byte(data, at) == TYPE_NEG_REQ
        && usize::from(le16(data, at + field::LENGTH)) == field::NEG_LEN
    {
        return data.split_at(at);
    }
    (data, &[])
}

/// The NAME of a `Cookie: mstshash=NAME` line (ASCII case ignored, spaces after the colon allowed).
fn mstshash(line: &[u8]) -> Option<&[u8]> {
    let rest = strip_prefix_ignore_case(line, b"cookie:")?;
    let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
    strip_prefix_ignore_case(rest.get(start..)?, b"mstshash=")
}

fn strip_prefix_ignore_case<'a>(data: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, tail) = data.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

fn lossy(bytes: &[u8]) -> String {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => s.to_string(),
        Cow::Owned(s) => s,
    }
}
