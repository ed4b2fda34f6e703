//! CredSSP (MS-CSSP) as RDP runs it inside TLS when Network Level Authentication is on: the step after
//! TLS decryption for connections whose Connection Confirm selected PROTOCOL_HYBRID or
//! PROTOCOL_HYBRID_EX (MS-RDPBCGR 2.2.1.2.1, 5.4.5.2).
//!
//! The decrypted application data of each side is a sequence of DER-encoded TSRequest messages
//! (MS-CSSP 2.2.1), which may be cut over several TLS records or share one. [`tsrequest_len`] tells a
//! caller how many bytes the next message needs so it can buffer, and [`parse_tsrequest`] reads one
//! into a [`TsRequest`] summary: the version, the authentication mechanism of the first negoToken
//! (NTLM, SPNEGO, Kerberos), which of authInfo / pubKeyAuth / clientNonce are present and how long
//! they are (never their contents), and the server's errorCode as an [`NtStatus`].
//! After the CredSSP handshake a server that agreed on PROTOCOL_HYBRID_EX sends the Early User
//! Authorization Result PDU ([`parse_early_user_authorization`], MS-RDPBCGR 2.2.10.2).
//! [`encryption_oracle_refusal`] recognises the CredSSP version mismatch that the CVE-2018-0886
//! updates turned into refused connections.
//!
//! DER is read with `asn1-rs` (already in the tree through `x509-parser`); its types stay private.
//! Only DER is accepted (no indefinite lengths), and a declared length above [`MAX_TSREQUEST_LEN`]
//! is refused before anything is buffered for it.
//!
//! ```
//! use shakedown::rdp::credssp::{parse_tsrequest, tsrequest_len, NtStatus, TlvStatus};
//!
//! // TSRequest { version 6, errorCode 0xC000006D } as a server sends it after a wrong password.
//! let msg = b"\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d";
//! assert_eq!(tsrequest_len(&msg[..4]), TlvStatus::NeedMore { need: 15 });
//! assert_eq!(tsrequest_len(msg), TlvStatus::Complete(15));
//! let req = parse_tsrequest(msg)?;
//! assert_eq!(req.version, 6);
//! assert_eq!(req.error_code, Some(NtStatus::LOGON_FAILURE));
//! assert_eq!(req.error_code.map(|c| c.to_string()).as_deref(), Some("STATUS_LOGON_FAILURE"));
//! # Ok::<(), shakedown::rdp::credssp::CredsspError>(())
//! ```

use std::fmt;

use asn1_rs::{Class, FromDer, Header, Integer, Length, Needed, Tag};

/// The largest TSRequest (or other DER message) accepted: 1 MiB. Kerberos tickets with large PACs
/// and smart-card certificates make TSRequests of tens of kilobytes; anything declaring more than
/// this is treated as not CredSSP, so a caller never buffers an attacker's declared length.
pub const MAX_TSREQUEST_LEN: usize = 1 << 20;

/// What is wrong with bytes that are not the DER (ITU-T X.690 §10) a TSRequest must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DerProblem {
    /// The indefinite length form (first length byte 0x80), which BER allows and DER forbids
    /// (X.690 §10.1).
    IndefiniteLength,
    /// A length field that cannot be decoded (the reserved byte 0xFF, X.690 §8.1.3.5, or more
    /// length bytes than fit a machine word).
    BadLength,
    /// A high-tag-number identifier longer than a 32-bit tag (X.690 §8.1.2.4).
    BadTag,
    /// A declared length above [`MAX_TSREQUEST_LEN`].
    TooLong {
        /// Header plus declared content length, saturated at `usize::MAX`.
        declared: usize,
    },
}

impl fmt::Display for DerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerProblem::IndefiniteLength => f.write_str("indefinite length (BER, not DER)"),
            DerProblem::BadLength => f.write_str("undecodable length"),
            DerProblem::BadTag => f.write_str("undecodable tag"),
            DerProblem::TooLong { declared } => {
                write!(f, "declared length {declared} above {MAX_TSREQUEST_LEN}")
            }
        }
    }
}

/// Why bytes could not be read as the CredSSP message asked for.
///
/// Oddities inside a well-formed TSRequest (fields out of order, an errorCode before version 3, an
/// unknown field) are not errors: they are named in [`TsRequest::anomalies`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredsspError {
    /// The message is not complete yet: more bytes are needed (not an error for a caller that is
    /// still buffering; [`tsrequest_len`] says the same thing without parsing).
    #[error("{layer}: truncated, need {need} bytes, have {have}")]
    Truncated {
        /// `"tsrequest"` or `"early_user_authorization"`.
        layer: &'static str,
        /// Bytes needed (at least).
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The bytes are not DER.
    #[error("not DER at offset {offset}: {problem}")]
    NotDer {
        /// Offset of the offending header from the start of the message.
        offset: usize,
        /// What is wrong.
        problem: DerProblem,
    },
    /// An element inside the message declares more bytes than its enclosing element holds.
    #[error("{field}: element at offset {offset} runs past its enclosing element")]
    Overrun {
        /// The field being read (MS-CSSP 2.2.1 names).
        field: &'static str,
        /// Offset of the element from the start of the message.
        offset: usize,
    },
    /// An element with another identifier than the structure requires at this place.
    #[error("{field}: expected {expected}, found identifier 0x{found:02x} at offset {offset}")]
    UnexpectedTag {
        /// The field being read (MS-CSSP 2.2.1 names).
        field: &'static str,
        /// What MS-CSSP 2.2.1 requires, e.g. `"SEQUENCE"` or `"INTEGER"`.
        expected: &'static str,
        /// The first identifier byte found.
        found: u8,
        /// Offset of the element from the start of the message.
        offset: usize,
    },
    /// An INTEGER that is not minimal DER or does not fit the field (a negative or huge version).
    #[error("{field}: bad INTEGER")]
    BadInteger {
        /// `"version"` or `"errorCode"`.
        field: &'static str,
    },
    /// A TSRequest without its mandatory version field (MS-CSSP 2.2.1).
    #[error("TSRequest without version")]
    MissingVersion,
}

/// Framing of a stream of DER messages: how many bytes the TLV at the start of a buffer occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlvStatus {
    /// The bytes so far start a DER TLV, but it is not complete: the buffer must grow to at least
    /// `need` bytes (the whole TLV once the header is known, else the header so far plus one or
    /// more bytes) before asking again.
    NeedMore {
        /// Total bytes needed, always more than the buffer holds.
        need: usize,
    },
    /// A complete TLV of this many bytes (≥ 2, ≤ the buffer's length) starts the buffer.
    Complete(usize),
    /// The buffer does not start with a DER TLV a TSRequest could be.
    NotDer(DerProblem),
}

/// How many bytes the DER TLV at the start of `buf` occupies (X.690 §8.1, §10.1), so that a caller
/// can buffer a TSRequest cut over TLS records, or cut several out of one.
///
/// `Complete(n)` is returned only once all `n` bytes are in `buf`, so `&buf[..n]` is in range and
/// `n ≥ 2` guarantees progress. Only the header is looked at: whether the content is a TSRequest is
/// [`parse_tsrequest`]'s job. An empty buffer needs more.
///
/// ```
/// use shakedown::rdp::credssp::{tsrequest_len, DerProblem, TlvStatus};
/// assert_eq!(tsrequest_len(b""), TlvStatus::NeedMore { need: 1 });
/// assert_eq!(tsrequest_len(b"\x30\x82\x01"), TlvStatus::NeedMore { need: 4 });
/// assert_eq!(tsrequest_len(b"\x30\x82\x01\x00"), TlvStatus::NeedMore { need: 260 });
/// assert_eq!(tsrequest_len(b"\x30\x00\x30"), TlvStatus::Complete(2));
/// assert_eq!(tsrequest_len(b"\x30\x80"), TlvStatus::NotDer(DerProblem::IndefiniteLength));
/// ```
pub fn tsrequest_len(buf: &[u8]) -> TlvStatus {
    match read_header(buf) {
        Ok(h) => match h.header_len.checked_add(h.content_len) {
            Some(total) if total <= MAX_TSREQUEST_LEN => {
                if buf.len() < total {
                    TlvStatus::NeedMore { need: total }
                } else {
                    TlvStatus::Complete(total)
                }
            }
            total => TlvStatus::NotDer(DerProblem::TooLong {
                declared: total.unwrap_or(usize::MAX),
            }),
        },
        Err(HeaderError::Incomplete { need }) => TlvStatus::NeedMore { need },
        Err(HeaderError::Bad(p)) => TlvStatus::NotDer(p),
    }
}

/// A decoded identifier and length (X.690 §8.1.2, §8.1.3).
struct Tl {
    /// Class, constructed bit and tag number.
    header: Header<'static>,
    /// Identifier plus length bytes.
    header_len: usize,
    /// Declared content length.
    content_len: usize,
}

enum HeaderError {
    /// The header itself is cut: at least `need` bytes in all.
    Incomplete {
        need: usize,
    },
    Bad(DerProblem),
}

/// Reads the identifier and length at the start of `buf` with asn1-rs' DER header parser.
fn read_header(buf: &[u8]) -> Result<Tl, HeaderError> {
    match Header::from_der(buf) {
        Ok((rest, header)) => match header.length() {
            Length::Definite(content_len) => Ok(Tl {
                header: Header::new(
                    header.class(),
                    header.constructed(),
                    header.tag(),
                    header.length(),
                ),
                header_len: buf.len() - rest.len(),
                content_len,
            }),
            Length::Indefinite => Err(HeaderError::Bad(DerProblem::IndefiniteLength)),
        },
        Err(asn1_rs::Err::Incomplete(needed)) => {
            let more = match needed {
                Needed::Size(n) => n.get(),
                Needed::Unknown => 1,
            };
            Err(HeaderError::Incomplete {
                need: buf.len().saturating_add(more),
            })
        }
        Err(asn1_rs::Err::Error(e) | asn1_rs::Err::Failure(e)) => Err(match e {
            asn1_rs::Error::DerConstraintFailed(asn1_rs::DerConstraint::IndefiniteLength) => {
                HeaderError::Bad(DerProblem::IndefiniteLength)
            }
            asn1_rs::Error::InvalidTag if high_tag_cut(buf) => HeaderError::Incomplete {
                need: buf.len().saturating_add(1),
            },
            asn1_rs::Error::InvalidTag => HeaderError::Bad(DerProblem::BadTag),
            _ => HeaderError::Bad(DerProblem::BadLength),
        }),
    }
}

/// A high-tag-number identifier (low five bits all set) whose continuation bytes (bit 8 set) run to
/// the end of `buf` within the five bytes asn1-rs allows: asn1-rs calls that an invalid tag, but
/// more bytes could complete it (X.690 §8.1.2.4).
fn high_tag_cut(buf: &[u8]) -> bool {
    buf.first().is_some_and(|&b| b & 0x1f == 0x1f)
        && buf.len() <= 5
        && buf.iter().skip(1).all(|&b| b & 0x80 != 0)
}

/// One element inside an enclosing element's content.
struct Element<'a> {
    header: Header<'static>,
    /// Identifier byte, for error messages.
    first: u8,
    /// The whole TLV.
    tlv: &'a [u8],
    /// The content bytes.
    content: &'a [u8],
    /// What follows the element in the enclosing content.
    rest: &'a [u8],
    /// Offset of the element from the start of the message.
    offset: usize,
}

/// Reads one element from `buf` (the content of an enclosing element that starts `base` bytes into
/// the message). A header or content cut by the end of `buf` is an [`CredsspError::Overrun`], never
/// "need more": the enclosing length already said where everything ends.
fn element<'a>(
    buf: &'a [u8],
    base: usize,
    field: &'static str,
) -> Result<Element<'a>, CredsspError> {
    let h = match read_header(buf) {
        Ok(h) => h,
        Err(HeaderError::Incomplete { .. }) => {
            return Err(CredsspError::Overrun {
                field,
                offset: base,
            });
        }
        Err(HeaderError::Bad(problem)) => {
            return Err(CredsspError::NotDer {
                offset: base,
                problem,
            });
        }
    };
    let end = h
        .header_len
        .checked_add(h.content_len)
        .filter(|&end| end <= buf.len())
        .ok_or(CredsspError::Overrun {
            field,
            offset: base,
        })?;
    let (tlv, rest) = buf.split_at(end);
    Ok(Element {
        header: h.header,
        first: buf.first().copied().unwrap_or(0),
        tlv,
        content: tlv.get(h.header_len..).unwrap_or_default(),
        rest,
        offset: base,
    })
}

impl Element<'_> {
    fn is(&self, class: Class, constructed: bool, tag: u32) -> bool {
        self.header.class() == class
            && self.header.constructed() == constructed
            && self.header.tag() == Tag(tag)
    }

    fn expect(
        &self,
        class: Class,
        constructed: bool,
        tag: u32,
        field: &'static str,
        expected: &'static str,
    ) -> Result<(), CredsspError> {
        if self.is(class, constructed, tag) {
            Ok(())
        } else {
            Err(CredsspError::UnexpectedTag {
                field,
                expected,
                found: self.first,
                offset: self.offset,
            })
        }
    }

    /// Offset of the content from the start of the message.
    fn content_offset(&self) -> usize {
        self.offset + (self.tlv.len() - self.content.len())
    }
}

/// Universal tag numbers (X.680 §8.6).
const INTEGER: u32 = 2;
const OCTET_STRING: u32 = 4;
const OID: u32 = 6;
const ENUMERATED: u32 = 10;
const SEQUENCE: u32 = 16;

/// An NTSTATUS value (MS-ERREF 2.3) as carried in TSRequest.errorCode (MS-CSSP 2.2.1); unknown
/// values are kept and print in hex.
///
/// ```
/// use shakedown::rdp::credssp::NtStatus;
/// assert_eq!(NtStatus(0xC000_006D).name(), Some("STATUS_LOGON_FAILURE"));
/// assert_eq!(NtStatus::ACCOUNT_LOCKED_OUT.to_string(), "STATUS_ACCOUNT_LOCKED_OUT");
/// assert_eq!(NtStatus(0xC0DE_0001).to_string(), "0xC0DE0001");
/// assert_eq!(NtStatus::from_name("STATUS_PASSWORD_EXPIRED"), Some(NtStatus(0xC000_0071)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NtStatus(pub u32);

/// Declares the known NTSTATUS values once: constants, names and meanings stay in one table.
macro_rules! nt_status_table {
    ($($konst:ident = $value:literal, $name:literal, $meaning:literal;)*) => {
        impl NtStatus {
            $(
                #[doc = concat!("`", $name, "`: ", $meaning)]
                pub const $konst: NtStatus = NtStatus($value);
            )*

            /// Every value [`NtStatus::name`] knows, in table order.
            pub const KNOWN: &'static [NtStatus] = &[$(NtStatus::$konst),*];

            /// The MS-ERREF 2.3.1 name, `None` for a value not in this table.
            pub fn name(&self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($name),)*
                    _ => None,
                }
            }

            /// One plain sentence on what the value means for a logon, or a generic one for a value
            /// not in this table.
            pub fn meaning(&self) -> &'static str {
                match self.0 {
                    $($value => $meaning,)*
                    _ => "An NTSTATUS value this table does not know (see MS-ERREF 2.3.1).",
                }
            }

            /// The value of a name from the table (`"STATUS_LOGON_FAILURE"`), `None` if unknown.
            pub fn from_name(name: &str) -> Option<NtStatus> {
                match name {
                    $($name => Some(NtStatus::$konst),)*
                    _ => None,
                }
            }
        }
    };
}

// Values checked against the Windows SDK's ntstatus.h as carried by the winapi crate
// (src/shared/ntstatus.rs, 0.3.9) and, for the logon codes, the windows-sys constants and
// Microsoft's table of logon status codes for security event 4625; MS-ERREF 2.3.1 lists the same.
nt_status_table! {
    SUCCESS = 0x0000_0000, "STATUS_SUCCESS", "Success: the operation completed.";
    ACCESS_DENIED = 0xC000_0022, "STATUS_ACCESS_DENIED", "Access denied: the account may not do this.";
    NO_LOGON_SERVERS = 0xC000_005E, "STATUS_NO_LOGON_SERVERS", "No domain controller was available to check the logon.";
    NO_SUCH_LOGON_SESSION = 0xC000_005F, "STATUS_NO_SUCH_LOGON_SESSION", "The logon session does not exist (it may have ended).";
    NO_SUCH_USER = 0xC000_0064, "STATUS_NO_SUCH_USER", "The user name does not exist.";
    WRONG_PASSWORD = 0xC000_006A, "STATUS_WRONG_PASSWORD", "The password is wrong.";
    PASSWORD_RESTRICTION = 0xC000_006C, "STATUS_PASSWORD_RESTRICTION", "The new password does not meet the password policy.";
    LOGON_FAILURE = 0xC000_006D, "STATUS_LOGON_FAILURE", "Wrong user name or password.";
    ACCOUNT_RESTRICTION = 0xC000_006E, "STATUS_ACCOUNT_RESTRICTION", "The credentials are valid but an account restriction forbids this logon (for example a blank password).";
    INVALID_LOGON_HOURS = 0xC000_006F, "STATUS_INVALID_LOGON_HOURS", "The account may not log on at this time of day.";
    INVALID_WORKSTATION = 0xC000_0070, "STATUS_INVALID_WORKSTATION", "The account may not log on from this computer.";
    PASSWORD_EXPIRED = 0xC000_0071, "STATUS_PASSWORD_EXPIRED", "The password has expired.";
    ACCOUNT_DISABLED = 0xC000_0072, "STATUS_ACCOUNT_DISABLED", "The account is disabled.";
    NOT_SUPPORTED = 0xC000_00BB, "STATUS_NOT_SUPPORTED", "The request is not supported.";
    TIME_DIFFERENCE_AT_DC = 0xC000_0133, "STATUS_TIME_DIFFERENCE_AT_DC", "The clocks of this computer and the domain controller differ too much.";
    LOGON_TYPE_NOT_GRANTED = 0xC000_015B, "STATUS_LOGON_TYPE_NOT_GRANTED", "The user has not been granted this logon type (for example \"Allow log on through Remote Desktop Services\").";
    NO_TRUST_SAM_ACCOUNT = 0xC000_018B, "STATUS_NO_TRUST_SAM_ACCOUNT", "The domain has no computer account for this machine's trust.";
    TRUSTED_DOMAIN_FAILURE = 0xC000_018C, "STATUS_TRUSTED_DOMAIN_FAILURE", "The trust between the domains failed.";
    TRUSTED_RELATIONSHIP_FAILURE = 0xC000_018D, "STATUS_TRUSTED_RELATIONSHIP_FAILURE", "The trust between this computer and its domain failed.";
    NETLOGON_NOT_STARTED = 0xC000_0192, "STATUS_NETLOGON_NOT_STARTED", "The Netlogon service is not running.";
    ACCOUNT_EXPIRED = 0xC000_0193, "STATUS_ACCOUNT_EXPIRED", "The account has expired.";
    USER_SESSION_DELETED = 0xC000_0203, "STATUS_USER_SESSION_DELETED", "The remote user session was deleted.";
    PASSWORD_MUST_CHANGE = 0xC000_0224, "STATUS_PASSWORD_MUST_CHANGE", "The password must be changed before the first logon.";
    ACCOUNT_LOCKED_OUT = 0xC000_0234, "STATUS_ACCOUNT_LOCKED_OUT", "The account is locked out (too many wrong passwords).";
    ENCRYPTION_FAILED = 0xC000_028A, "STATUS_ENCRYPTION_FAILED", "Encryption failed.";
    PKINIT_NAME_MISMATCH = 0xC000_02F9, "STATUS_PKINIT_NAME_MISMATCH", "The name in the smart-card certificate does not match the account.";
    SMARTCARD_LOGON_REQUIRED = 0xC000_02FA, "STATUS_SMARTCARD_LOGON_REQUIRED", "The account must log on with a smart card.";
    PKINIT_FAILURE = 0xC000_0320, "STATUS_PKINIT_FAILURE", "Kerberos certificate (PKINIT) logon failed.";
    SMARTCARD_SUBSYSTEM_FAILURE = 0xC000_0321, "STATUS_SMARTCARD_SUBSYSTEM_FAILURE", "The smart-card subsystem failed.";
    SMARTCARD_WRONG_PIN = 0xC000_0380, "STATUS_SMARTCARD_WRONG_PIN", "The smart-card PIN is wrong.";
    SMARTCARD_CARD_BLOCKED = 0xC000_0381, "STATUS_SMARTCARD_CARD_BLOCKED", "The smart card is blocked.";
    SMARTCARD_CARD_NOT_AUTHENTICATED = 0xC000_0382, "STATUS_SMARTCARD_CARD_NOT_AUTHENTICATED", "No PIN was given for the smart card.";
    SMARTCARD_NO_CARD = 0xC000_0383, "STATUS_SMARTCARD_NO_CARD", "No smart card is in the reader.";
    SMARTCARD_NO_KEY_CONTAINER = 0xC000_0384, "STATUS_SMARTCARD_NO_KEY_CONTAINER", "The smart card has no key container.";
    SMARTCARD_NO_CERTIFICATE = 0xC000_0385, "STATUS_SMARTCARD_NO_CERTIFICATE", "The smart card has no certificate.";
    DOWNGRADE_DETECTED = 0xC000_0388, "STATUS_DOWNGRADE_DETECTED", "A security downgrade was detected (or no domain controller could be reached to rule it out).";
    SMARTCARD_CERT_REVOKED = 0xC000_0389, "STATUS_SMARTCARD_CERT_REVOKED", "The smart-card certificate is revoked.";
    ISSUING_CA_UNTRUSTED = 0xC000_038A, "STATUS_ISSUING_CA_UNTRUSTED", "The certificate's issuing authority is not trusted.";
    REVOCATION_OFFLINE_C = 0xC000_038B, "STATUS_REVOCATION_OFFLINE_C", "The revocation status of the smart-card certificate could not be checked.";
    SMARTCARD_CERT_EXPIRED = 0xC000_038D, "STATUS_SMARTCARD_CERT_EXPIRED", "The smart-card certificate has expired.";
    KDC_CERT_EXPIRED = 0xC000_040E, "STATUS_KDC_CERT_EXPIRED", "The domain controller's certificate has expired.";
    KDC_CERT_REVOKED = 0xC000_040F, "STATUS_KDC_CERT_REVOKED", "The domain controller's certificate is revoked.";
    AUTHENTICATION_FIREWALL_FAILED = 0xC000_0413, "STATUS_AUTHENTICATION_FIREWALL_FAILED", "The account may not authenticate to this computer across the trust (selective authentication).";
}

impl NtStatus {
    /// Whether the value says the account or its credentials were refused (wrong or expired
    /// password, locked, disabled, restricted, smart-card problems): a failure that explains itself,
    /// unlike a protocol-level refusal.
    pub fn is_credential_failure(&self) -> bool {
        matches!(
            *self,
            NtStatus::NO_SUCH_USER
                | NtStatus::WRONG_PASSWORD
                | NtStatus::PASSWORD_RESTRICTION
                | NtStatus::LOGON_FAILURE
                | NtStatus::ACCOUNT_RESTRICTION
                | NtStatus::INVALID_LOGON_HOURS
                | NtStatus::INVALID_WORKSTATION
                | NtStatus::PASSWORD_EXPIRED
                | NtStatus::ACCOUNT_DISABLED
                | NtStatus::LOGON_TYPE_NOT_GRANTED
                | NtStatus::ACCOUNT_EXPIRED
                | NtStatus::PASSWORD_MUST_CHANGE
                | NtStatus::ACCOUNT_LOCKED_OUT
                | NtStatus::PKINIT_NAME_MISMATCH
                | NtStatus::SMARTCARD_LOGON_REQUIRED
                | NtStatus::SMARTCARD_WRONG_PIN
                | NtStatus::SMARTCARD_CARD_BLOCKED
                | NtStatus::SMARTCARD_CARD_NOT_AUTHENTICATED
                | NtStatus::SMARTCARD_NO_CARD
                | NtStatus::SMARTCARD_NO_KEY_CONTAINER
                | NtStatus::SMARTCARD_NO_CERTIFICATE
                | NtStatus::SMARTCARD_CERT_REVOKED
                | NtStatus::SMARTCARD_CERT_EXPIRED
        )
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

/// The NTLM message type (MS-NLMP 2.2.1: MessageType after the "NTLMSSP\0" signature); unknown
/// values are kept.
///
/// ```
/// use shakedown::rdp::credssp::NtlmMessageType;
/// assert_eq!(NtlmMessageType::CHALLENGE.to_string(), "CHALLENGE");
/// assert_eq!(NtlmMessageType(7).to_string(), "0x00000007");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtlmMessageType(pub u32);

impl NtlmMessageType {
    /// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), client to server.
    pub const NEGOTIATE: NtlmMessageType = NtlmMessageType(1);
    /// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2), server to client.
    pub const CHALLENGE: NtlmMessageType = NtlmMessageType(2);
    /// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3), client to server.
    pub const AUTHENTICATE: NtlmMessageType = NtlmMessageType(3);

    /// The MS-NLMP name without `_MESSAGE`, `None` for an unknown type.
    pub fn name(&self) -> Option<&'static str> {
        match self.0 {
            1 => Some("NEGOTIATE"),
            2 => Some("CHALLENGE"),
            3 => Some("AUTHENTICATE"),
            _ => None,
        }
    }
}

impl fmt::Display for NtlmMessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08x}", self.0),
        }
    }
}

/// A Kerberos message by its APPLICATION tag number (RFC 4120 §5.10: 10 AS-REQ … 14 AP-REQ,
/// 15 AP-REP, 30 KRB-ERROR); unknown numbers are kept.
///
/// ```
/// use shakedown::rdp::credssp::KerberosMessage;
/// assert_eq!(KerberosMessage::AP_REQ.to_string(), "AP-REQ");
/// assert_eq!(KerberosMessage(99).to_string(), "0x63");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KerberosMessage(pub u32);

impl KerberosMessage {
    /// KRB_AP_REQ (RFC 4120 §5.5.1): the client presents its service ticket.
    pub const AP_REQ: KerberosMessage = KerberosMessage(14);
    /// KRB_AP_REP (RFC 4120 §5.5.2): mutual authentication by the server.
    pub const AP_REP: KerberosMessage = KerberosMessage(15);
    /// KRB_ERROR (RFC 4120 §5.9.1).
    pub const KRB_ERROR: KerberosMessage = KerberosMessage(30);

    /// The RFC 4120 name, `None` for an unknown tag.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.0 {
            10 => "AS-REQ",
            11 => "AS-REP",
            12 => "TGS-REQ",
            13 => "TGS-REP",
            14 => "AP-REQ",
            15 => "AP-REP",
            30 => "KRB-ERROR",
            _ => return None,
        })
    }
}

impl fmt::Display for KerberosMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:02x}", self.0),
        }
    }
}

/// Which SPNEGO message a token is (RFC 4178 §4.2, MS-SPNG 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpnegoKind {
    /// NegTokenInit (or MS-SPNG's NegTokenInit2), inside the GSS-API InitialContextToken framing
    /// (RFC 2743 §3.1) with the SPNEGO OID 1.3.6.1.5.5.2.
    Init,
    /// NegTokenResp, a bare `[1]` element.
    Response,
}

/// `negTokenInit` or `negTokenResp`, as RFC 4178 names them.
impl fmt::Display for SpnegoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpnegoKind::Init => "negTokenInit",
            SpnegoKind::Response => "negTokenResp",
        })
    }
}

/// SPNEGO negState (RFC 4178 §4.2.2); unknown values are kept.
///
/// ```
/// use shakedown::rdp::credssp::NegState;
/// assert_eq!(NegState::REJECT.to_string(), "reject");
/// assert_eq!(NegState(9).to_string(), "0x09");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NegState(pub u32);

impl NegState {
    /// accept-completed.
    pub const ACCEPT_COMPLETED: NegState = NegState(0);
    /// accept-incomplete.
    pub const ACCEPT_INCOMPLETE: NegState = NegState(1);
    /// reject: the acceptor refused the mechanism or the credentials.
    pub const REJECT: NegState = NegState(2);
    /// request-mic.
    pub const REQUEST_MIC: NegState = NegState(3);

    /// The RFC 4178 name, `None` for an unknown value.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "accept-completed",
            1 => "accept-incomplete",
            2 => "reject",
            3 => "request-mic",
            _ => return None,
        })
    }
}

impl fmt::Display for NegState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:02x}", self.0),
        }
    }
}

/// A SPNEGO token (RFC 4178 §4.2) and what could be read from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spnego {
    /// NegTokenInit or NegTokenResp.
    pub kind: SpnegoKind,
    /// negState of a NegTokenResp, when present.
    pub neg_state: Option<NegState>,
    /// The mechanism of the embedded mechToken (NegTokenInit) or responseToken (NegTokenResp),
    /// when present: NTLM, Kerberos or unknown, never SPNEGO again.
    pub inner: Option<Box<AuthMechanism>>,
}

/// The authentication mechanism a negoToken carries (MS-CSSP 2.2.1.1: SPNEGO tokens, or Kerberos
/// or NTLM messages directly).
///
/// ```
/// use shakedown::rdp::credssp::{AuthMechanism, NtlmMessageType};
/// let mut negotiate = b"NTLMSSP\0\x01\x00\x00\x00".to_vec();
/// negotiate.extend_from_slice(&[0; 20]);
/// assert_eq!(AuthMechanism::classify(&negotiate), AuthMechanism::Ntlm(NtlmMessageType::NEGOTIATE));
/// assert_eq!(AuthMechanism::classify(b"\x01\x02"), AuthMechanism::Unknown);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthMechanism {
    /// An NTLM message: "NTLMSSP\0" then its MessageType (MS-NLMP 2.2.1).
    Ntlm(NtlmMessageType),
    /// A SPNEGO token (RFC 4178, MS-SPNG).
    Spnego(Spnego),
    /// A Kerberos message (RFC 4120), bare or in the GSS-API framing with the Kerberos OID
    /// 1.2.840.113554.1.2.2 or Microsoft's 1.2.840.48018.1.2.2 (RFC 4121 §4.1); `None` when the
    /// framing is Kerberos but the message in it could not be read.
    Kerberos(Option<KerberosMessage>),
    /// Anything else.
    Unknown,
}

/// "NTLMSSP\0" (MS-NLMP 2.2.1).
const NTLM_SIGNATURE: &[u8] = b"NTLMSSP\0";
/// DER content of the SPNEGO OID 1.3.6.1.5.5.2 (RFC 4178 §3).
const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// DER content of the Kerberos V5 OID 1.2.840.113554.1.2.2 (RFC 4121 §1).
const OID_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// DER content of Microsoft's Kerberos OID 1.2.840.48018.1.2.2 (MS-KILE 3.1.5.11).
const OID_MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];

impl AuthMechanism {
    /// Tells the mechanism of one negoToken by its first bytes (nothing in it is decrypted or
    /// verified). Never fails: what is not recognised is [`AuthMechanism::Unknown`].
    pub fn classify(token: &[u8]) -> AuthMechanism {
        classify(token, true)
    }
}

fn classify(token: &[u8], spnego_allowed: bool) -> AuthMechanism {
    if let Some(rest) = token.strip_prefix(NTLM_SIGNATURE) {
        return match crate::bytes::le32(rest, 0) {
            Some(t) => AuthMechanism::Ntlm(NtlmMessageType(t)),
            None => AuthMechanism::Unknown,
        };
    }
    let Ok(el) = element(token, 0, "negoToken") else {
        return AuthMechanism::Unknown;
    };
    if el.is(Class::Application, true, 0) {
        // GSS-API InitialContextToken (RFC 2743 §3.1): [APPLICATION 0] { thisMech OID, token }.
        let Ok(oid) = element(el.content, 0, "thisMech") else {
            return AuthMechanism::Unknown;
        };
        if !oid.is(Class::Universal, false, OID) {
            return AuthMechanism::Unknown;
        }
        if oid.content == OID_SPNEGO && spnego_allowed {
            return AuthMechanism::Spnego(spnego_init(oid.rest));
        }
        if oid.content == OID_KRB5 || oid.content == OID_MS_KRB5 {
            // RFC 4121 §4.1: a two-byte TOK_ID, then the Kerberos message.
            return AuthMechanism::Kerberos(oid.rest.get(2..).and_then(kerberos_message));
        }
        return AuthMechanism::Unknown;
    }
    if spnego_allowed && el.is(Class::ContextSpecific, true, 1) {
        return AuthMechanism::Spnego(spnego_resp(el.content));
    }
    if spnego_allowed && el.is(Class::ContextSpecific, true, 0) {
        // A NegTokenInit without the GSS-API framing.
        return AuthMechanism::Spnego(spnego_init(token));
    }
    match kerberos_message(token) {
        Some(m) => AuthMechanism::Kerberos(Some(m)),
        None => AuthMechanism::Unknown,
    }
}

/// A bare Kerberos message: a constructed APPLICATION element with a tag RFC 4120 §5.10 defines.
fn kerberos_message(buf: &[u8]) -> Option<KerberosMessage> {
    let el = element(buf, 0, "kerberos").ok()?;
    let tag = el.header.tag().0;
    let m = KerberosMessage(tag);
    (el.header.class() == Class::Application && el.header.constructed() && m.name().is_some())
        .then_some(m)
}

/// Visits the explicitly tagged fields `[n] value` of a SEQUENCE's content, stopping quietly at the
/// first malformed one (SPNEGO tokens are opaque to CredSSP: what cannot be read is left out).
fn for_each_field<'a>(content: &'a [u8], mut f: impl FnMut(u32, &'a [u8])) {
    let mut rest = content;
    while !rest.is_empty() {
        let Ok(field) = element(rest, 0, "spnego") else {
            return;
        };
        if field.header.class() == Class::ContextSpecific && field.header.constructed() {
            f(field.header.tag().0, field.content);
        }
        rest = field.rest;
    }
}

/// The content of the only element in `buf`, if it is a SEQUENCE.
fn sequence_content(buf: &[u8]) -> Option<&[u8]> {
    let el = element(buf, 0, "spnego").ok()?;
    el.is(Class::Universal, true, SEQUENCE)
        .then_some(el.content)
}

/// The OCTET STRING that is the whole of `buf`.
fn octet_string(buf: &[u8]) -> Option<&[u8]> {
    let el = element(buf, 0, "spnego").ok()?;
    el.is(Class::Universal, false, OCTET_STRING)
        .then_some(el.content)
}

/// NegTokenInit after the SPNEGO OID: `[0] SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2]
/// OCTET STRING, … }` (RFC 4178 §4.2.1, MS-SPNG 2.2.1).
fn spnego_init(buf: &[u8]) -> Spnego {
    let mut inner = None;
    if let Ok(choice) = element(buf, 0, "negTokenInit")
        && choice.is(Class::ContextSpecific, true, 0)
        && let Some(seq) = sequence_content(choice.content)
    {
        for_each_field(seq, |tag, value| {
            if tag == 2
                && inner.is_none()
                && let Some(token) = octet_string(value)
            {
                inner = Some(Box::new(classify(token, false)));
            }
        });
    }
    Spnego {
        kind: SpnegoKind::Init,
        neg_state: None,
        inner,
    }
}

/// NegTokenResp content: `SEQUENCE { negState [0] ENUMERATED, supportedMech [1], responseToken [2]
/// OCTET STRING, mechListMIC [3] }` (RFC 4178 §4.2.2).
fn spnego_resp(content: &[u8]) -> Spnego {
    let mut neg_state = None;
    let mut inner = None;
    if let Some(seq) = sequence_content(content) {
        for_each_field(seq, |tag, value| match tag {
            0 => {
                if let Ok(e) = element(value, 0, "negState")
                    && e.is(Class::Universal, false, ENUMERATED)
                    && let Some(v) = small_unsigned(e.content)
                {
                    neg_state = Some(NegState(v));
                }
            }
            2 => {
                if let Some(token) = octet_string(value) {
                    inner = Some(Box::new(classify(token, false)));
                }
            }
            _ => {}
        });
    }
    Spnego {
        kind: SpnegoKind::Response,
        neg_state,
        inner,
    }
}

/// A non-negative INTEGER / ENUMERATED content that fits a u32.
fn small_unsigned(content: &[u8]) -> Option<u32> {
    let digits = match content {
        [] => return None,
        [b, ..] if b & 0x80 != 0 => return None,
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => content,
    };
    if digits.len() > 4 {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
    )
}

/// A TSRequest (MS-CSSP 2.2.1) summarised: what is present and how long, never the contents of the
/// credentials, signatures or nonce (so `Debug` output is safe to log).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TsRequest {
    /// version: the CredSSP version the sender supports (2 to 6 in MS-CSSP 2.2.1; others kept).
    pub version: u32,
    /// How many NegoData entries negoTokens carried (MS-CSSP 2.2.1.1), 0 when it was absent.
    pub nego_tokens: usize,
    /// The mechanism of the first negoToken, `None` when there was none.
    pub mechanism: Option<AuthMechanism>,
    /// authInfo (the encrypted TSCredentials, MS-CSSP 2.2.1.2): its length in bytes, if present.
    pub auth_info_len: Option<usize>,
    /// pubKeyAuth (the encrypted public key or its hash, MS-CSSP 3.1.5): its length, if present.
    pub pub_key_auth_len: Option<usize>,
    /// errorCode (version 3 and later): the server's NTSTATUS when SPNEGO failed.
    pub error_code: Option<NtStatus>,
    /// clientNonce (version 5 and later, 32 bytes): its length, if present.
    pub client_nonce_len: Option<usize>,
    /// Bytes the TSRequest occupied (bytes after them in the buffer were not read).
    pub encoded_len: usize,
    /// Oddities that did not stop the parse: `fields_out_of_order`, `duplicate_field` (the first
    /// is kept), `unknown_field`, `trailing_bytes_in_field`, `error_code_before_v3`,
    /// `client_nonce_before_v5`, `client_nonce_not_32_bytes`, `empty_nego_token_entry`.
    pub anomalies: Vec<&'static str>,
}

/// Reads the TSRequest at the start of `buf` (MS-CSSP 2.2.1):
///
/// ```text
/// TSRequest ::= SEQUENCE {
///     version    [0] INTEGER,
///     negoTokens [1] NegoData OPTIONAL,     -- SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
///     authInfo   [2] OCTET STRING OPTIONAL,
///     pubKeyAuth [3] OCTET STRING OPTIONAL,
///     errorCode  [4] INTEGER OPTIONAL,      -- version 3 and later
///     clientNonce [5] OCTET STRING OPTIONAL -- version 5 and later
/// }
/// ```
///
/// Bytes after the TSRequest are left alone ([`TsRequest::encoded_len`] says where it ended).
/// A message cut short is [`CredsspError::Truncated`] exactly when [`tsrequest_len`] says
/// `NeedMore`; inside a complete message, an element longer than its container is
/// [`CredsspError::Overrun`]. errorCode is accepted both as the signed INTEGER an NTSTATUS is
/// (`02 04 C0 00 00 6D`) and as an unsigned one (`02 05 00 C0 00 00 6D`).
pub fn parse_tsrequest(buf: &[u8]) -> Result<TsRequest, CredsspError> {
    let total = match tsrequest_len(buf) {
        TlvStatus::Complete(n) => n,
        TlvStatus::NeedMore { need } => {
            return Err(CredsspError::Truncated {
                layer: "tsrequest",
                need,
                have: buf.len(),
            });
        }
        TlvStatus::NotDer(problem) => return Err(CredsspError::NotDer { offset: 0, problem }),
    };
    let msg = buf.get(..total).unwrap_or_default();
    let outer = element(msg, 0, "TSRequest")?;
    outer.expect(Class::Universal, true, SEQUENCE, "TSRequest", "SEQUENCE")?;

    let mut req = TsRequest {
        version: 0,
        nego_tokens: 0,
        mechanism: None,
        auth_info_len: None,
        pub_key_auth_len: None,
        error_code: None,
        client_nonce_len: None,
        encoded_len: total,
        anomalies: Vec::new(),
    };
    let mut version = None;
    let mut seen = [false; 6];
    let mut last_tag = None;
    let mut rest = outer.content;
    let mut offset = outer.content_offset();
    while !rest.is_empty() {
        let field = element(rest, offset, "TSRequest")?;
        if field.header.class() != Class::ContextSpecific || !field.header.constructed() {
            return Err(CredsspError::UnexpectedTag {
                field: "TSRequest",
                expected: "a context-specific [0]..[5] field",
                found: field.first,
                offset: field.offset,
            });
        }
        let tag = field.header.tag().0;
        if last_tag.is_some_and(|last| tag <= last) {
            note(&mut req.anomalies, "fields_out_of_order");
        }
        last_tag = Some(tag);
        let index = usize::try_from(tag).ok().filter(|&i| i < seen.len());
        match index {
            None => note(&mut req.anomalies, "unknown_field"),
            Some(i) if seen[i] => note(&mut req.anomalies, "duplicate_field"),
            Some(i) => {
                seen[i] = true;
                let name = FIELD_NAMES[i];
                let value = element(field.content, field.content_offset(), name)?;
                if !value.rest.is_empty() {
                    note(&mut req.anomalies, "trailing_bytes_in_field");
                }
                match i {
                    0 => version = Some(integer_u32(&value, name)?),
                    1 => read_nego_data(&value, &mut req)?,
                    2 => req.auth_info_len = Some(octets(&value, name)?.len()),
                    3 => req.pub_key_auth_len = Some(octets(&value, name)?.len()),
                    4 => req.error_code = Some(NtStatus(integer_status(&value, name)?)),
                    _ => req.client_nonce_len = Some(octets(&value, name)?.len()),
                }
            }
        }
        offset += field.tlv.len();
        rest = field.rest;
    }
    req.version = version.ok_or(CredsspError::MissingVersion)?;
    if req.error_code.is_some() && req.version < 3 {
        note(&mut req.anomalies, "error_code_before_v3");
    }
    if let Some(n) = req.client_nonce_len {
        if req.version < 5 {
            note(&mut req.anomalies, "client_nonce_before_v5");
        }
        if n != 32 {
            note(&mut req.anomalies, "client_nonce_not_32_bytes");
        }
    }
    Ok(req)
}

/// MS-CSSP 2.2.1 field names by context tag.
const FIELD_NAMES: [&str; 6] = [
    "version",
    "negoTokens",
    "authInfo",
    "pubKeyAuth",
    "errorCode",
    "clientNonce",
];

fn note(anomalies: &mut Vec<&'static str>, what: &'static str) {
    if !anomalies.contains(&what) {
        anomalies.push(what);
    }
}

fn octets<'a>(value: &Element<'a>, field: &'static str) -> Result<&'a [u8], CredsspError> {
    value.expect(Class::Universal, false, OCTET_STRING, field, "OCTET STRING")?;
    Ok(value.content)
}

/// A DER INTEGER (asn1-rs checks minimal encoding) read by `read`.
fn integer<T>(
    value: &Element<'_>,
    field: &'static str,
    read: impl FnOnce(&Integer<'_>) -> Option<T>,
) -> Result<T, CredsspError> {
    value.expect(Class::Universal, false, INTEGER, field, "INTEGER")?;
    let (_, int) = Integer::from_der(value.tlv).map_err(|_| CredsspError::BadInteger { field })?;
    read(&int).ok_or(CredsspError::BadInteger { field })
}

fn integer_u32(value: &Element<'_>, field: &'static str) -> Result<u32, CredsspError> {
    integer(value, field, |i| i.as_u32().ok())
}

/// An NTSTATUS: a signed 32-bit INTEGER, or the same bits written as an unsigned one.
fn integer_status(value: &Element<'_>, field: &'static str) -> Result<u32, CredsspError> {
    integer(value, field, |i| {
        i.as_i32()
            .map(i32::cast_unsigned)
            .ok()
            .or_else(|| i.as_u32().ok())
    })
}

/// NegoData (MS-CSSP 2.2.1.1): SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }.
fn read_nego_data(value: &Element<'_>, req: &mut TsRequest) -> Result<(), CredsspError> {
    value.expect(
        Class::Universal,
        true,
        SEQUENCE,
        "negoTokens",
        "SEQUENCE OF",
    )?;
    let mut rest = value.content;
    let mut offset = value.content_offset();
    while !rest.is_empty() {
        let entry = element(rest, offset, "negoTokens")?;
        entry.expect(Class::Universal, true, SEQUENCE, "negoTokens", "SEQUENCE")?;
        req.nego_tokens += 1;
        if entry.content.is_empty() {
            note(&mut req.anomalies, "empty_nego_token_entry");
        } else {
            let tagged = element(entry.content, entry.content_offset(), "negoToken")?;
            tagged.expect(Class::ContextSpecific, true, 0, "negoToken", "[0]")?;
            let token = element(tagged.content, tagged.content_offset(), "negoToken")?;
            let bytes = octets(&token, "negoToken")?;
            if !tagged.rest.is_empty() || !token.rest.is_empty() {
                note(&mut req.anomalies, "trailing_bytes_in_field");
            }
            if req.mechanism.is_none() {
                req.mechanism = Some(AuthMechanism::classify(bytes));
            }
        }
        offset += entry.tlv.len();
        rest = entry.rest;
    }
    Ok(())
}

/// A mechanism's message inside a SPNEGO token, in a few words ([`NegoToken::Spnego`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InnerToken {
    /// An NTLM message.
    Ntlm(NtlmMessageType),
    /// A Kerberos message (`None`: its framing was Kerberos, the message could not be read).
    Kerberos(Option<KerberosMessage>),
    /// Anything else.
    Unknown,
}

/// A negoToken in a few words, without nesting or boxes: its mechanism and message, for the
/// timeline and the verdict ([`AuthMechanism`] is the full reading).
///
/// ```
/// use shakedown::rdp::credssp::{AuthMechanism, NegoToken, NtlmMessageType};
/// let token = NegoToken::of(&AuthMechanism::Ntlm(NtlmMessageType::AUTHENTICATE));
/// assert_eq!(token.to_string(), "NTLM AUTHENTICATE");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NegoToken {
    /// An NTLM message (MS-NLMP 2.2.1).
    Ntlm(NtlmMessageType),
    /// A Kerberos message (`None`: its framing was Kerberos, the message could not be read).
    Kerberos(Option<KerberosMessage>),
    /// A SPNEGO token (RFC 4178): NegTokenInit (`init`) or NegTokenResp, its negState and the
    /// message it carries, when present.
    Spnego {
        /// NegTokenInit rather than NegTokenResp.
        init: bool,
        /// negState of a NegTokenResp.
        neg_state: Option<NegState>,
        /// The mechanism's message inside.
        inner: Option<InnerToken>,
    },
    /// Anything else.
    Unknown,
}

impl InnerToken {
    fn of(m: &AuthMechanism) -> InnerToken {
        match m {
            AuthMechanism::Ntlm(t) => InnerToken::Ntlm(*t),
            AuthMechanism::Kerberos(k) => InnerToken::Kerberos(*k),
            AuthMechanism::Spnego(_) | AuthMechanism::Unknown => InnerToken::Unknown,
        }
    }
}

impl NegoToken {
    /// The summary of a mechanism as [`AuthMechanism::classify`] read it.
    pub fn of(m: &AuthMechanism) -> NegoToken {
        match m {
            AuthMechanism::Ntlm(t) => NegoToken::Ntlm(*t),
            AuthMechanism::Kerberos(k) => NegoToken::Kerberos(*k),
            AuthMechanism::Spnego(sp) => NegoToken::Spnego {
                init: sp.kind == SpnegoKind::Init,
                neg_state: sp.neg_state,
                inner: sp.inner.as_deref().map(InnerToken::of),
            },
            AuthMechanism::Unknown => NegoToken::Unknown,
        }
    }
}

impl fmt::Display for InnerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InnerToken::Ntlm(t) => write!(f, "NTLM {t}"),
            InnerToken::Kerberos(Some(k)) => write!(f, "Kerberos {k}"),
            InnerToken::Kerberos(None) => f.write_str("Kerberos"),
            InnerToken::Unknown => f.write_str("unknown token"),
        }
    }
}

/// e.g. `NTLM CHALLENGE`, `Kerberos AP-REQ`, `SPNEGO NTLM AUTHENTICATE`, `SPNEGO reject`.
impl fmt::Display for NegoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegoToken::Ntlm(t) => write!(f, "NTLM {t}"),
            NegoToken::Kerberos(k) => InnerToken::Kerberos(*k).fmt(f),
            NegoToken::Spnego {
                neg_state, inner, ..
            } => {
                f.write_str("SPNEGO")?;
                if let Some(inner) = inner {
                    write!(f, " {inner}")?;
                }
                match neg_state {
                    Some(s) if *s != NegState::ACCEPT_INCOMPLETE => write!(f, " {s}"),
                    _ => Ok(()),
                }
            }
            NegoToken::Unknown => f.write_str("unknown token"),
        }
    }
}

/// A TSRequest in a few words (MS-CSSP 2.2.1): its version, its first negoToken, and which of the
/// other fields it carried. Small and `Copy`, for the timeline ([`TsRequest`] is the full reading).
///
/// ```
/// use shakedown::rdp::credssp::{parse_tsrequest, TsRequestSummary};
/// let msg = b"\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d";
/// let summary = TsRequestSummary::of(&parse_tsrequest(msg)?);
/// assert_eq!(summary.to_string(), "TSRequest v6 errorCode STATUS_LOGON_FAILURE");
/// # Ok::<(), shakedown::rdp::credssp::CredsspError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsRequestSummary {
    /// version.
    pub version: u32,
    /// The first negoToken, when there was one.
    pub token: Option<NegoToken>,
    /// authInfo (the encrypted credentials) was present.
    pub auth_info: bool,
    /// pubKeyAuth (the binding to the TLS public key) was present.
    pub pub_key_auth: bool,
    /// errorCode.
    pub error_code: Option<NtStatus>,
    /// clientNonce was present.
    pub client_nonce: bool,
}

impl TsRequestSummary {
    /// The summary of a parsed TSRequest.
    pub fn of(req: &TsRequest) -> TsRequestSummary {
        TsRequestSummary {
            version: req.version,
            token: req.mechanism.as_ref().map(NegoToken::of),
            auth_info: req.auth_info_len.is_some(),
            pub_key_auth: req.pub_key_auth_len.is_some(),
            error_code: req.error_code,
            client_nonce: req.client_nonce_len.is_some(),
        }
    }
}

/// e.g. `TSRequest v6 NTLM AUTHENTICATE, pubKeyAuth` or `TSRequest v6 errorCode
/// STATUS_LOGON_FAILURE` (the clientNonce is left out: every version 5 and 6 message has one).
impl fmt::Display for TsRequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TSRequest v{}", self.version)?;
        let mut sep = " ";
        let mut part = |f: &mut fmt::Formatter<'_>, what: &dyn fmt::Display| {
            let r = write!(f, "{sep}{what}");
            sep = ", ";
            r
        };
        if let Some(token) = &self.token {
            part(f, token)?;
        }
        if self.pub_key_auth {
            part(f, &"pubKeyAuth")?;
        }
        if self.auth_info {
            part(f, &"authInfo")?;
        }
        if let Some(code) = self.error_code {
            part(f, &format_args!("errorCode {code}"))?;
        }
        Ok(())
    }
}

/// authorizationResult of the Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2); unknown
/// values are kept.
///
/// ```
/// use shakedown::rdp::credssp::{parse_early_user_authorization, AuthorizationResult};
/// assert_eq!(parse_early_user_authorization(b"\x05\x00\x00\x00")?, AuthorizationResult::ACCESS_DENIED);
/// assert_eq!(AuthorizationResult(0).to_string(), "AUTHZ_SUCCESS");
/// assert_eq!(AuthorizationResult(9).to_string(), "0x00000009");
/// # Ok::<(), shakedown::rdp::credssp::CredsspError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorizationResult(pub u32);

impl AuthorizationResult {
    /// AUTHZ_SUCCESS: the user has permission to access the server.
    pub const SUCCESS: AuthorizationResult = AuthorizationResult(0);
    /// AUTHZ_ACCESS_DENIED: the user does not have permission to access the server.
    pub const ACCESS_DENIED: AuthorizationResult = AuthorizationResult(5);

    /// The MS-RDPBCGR name, `None` for an unknown value.
    pub fn name(&self) -> Option<&'static str> {
        match self.0 {
            0 => Some("AUTHZ_SUCCESS"),
            5 => Some("AUTHZ_ACCESS_DENIED"),
            _ => None,
        }
    }

    /// One plain sentence on what the server meant (after MS-RDPBCGR 2.2.10.2).
    pub fn meaning(&self) -> &'static str {
        match self.0 {
            0 => "The user may access the server.",
            5 => {
                "The user authenticated but may not access the server (not in Remote Desktop \
                 Users, or denied the Remote Desktop logon right)."
            }
            _ => "The server sent an authorization result MS-RDPBCGR does not define.",
        }
    }
}

impl fmt::Display for AuthorizationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08x}", self.0),
        }
    }
}

/// Length of the Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2).
pub const EARLY_USER_AUTHORIZATION_LEN: usize = 4;

/// Reads the Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2): the 4-byte little-endian
/// authorizationResult a server sends right after the CredSSP handshake when PROTOCOL_HYBRID_EX was
/// selected. Only the first [`EARLY_USER_AUTHORIZATION_LEN`] bytes are read.
pub fn parse_early_user_authorization(buf: &[u8]) -> Result<AuthorizationResult, CredsspError> {
    match crate::bytes::le32(buf, 0) {
        Some(v) => Ok(AuthorizationResult(v)),
        _ => Err(CredsspError::Truncated {
            layer: "early_user_authorization",
            need: EARLY_USER_AUTHORIZATION_LEN,
            have: buf.len(),
        }),
    }
}

/// How a CredSSP exchange ended, as far as [`encryption_oracle_refusal`] needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredsspEnding {
    /// The server's last TSRequest carried this errorCode.
    ServerError(NtStatus),
    /// The client sent a TSRequest with pubKeyAuth and the connection ended with no TSRequest from
    /// the server after it.
    EndedAfterClientPubKeyAuth,
    /// The server sent a TSRequest and the connection ended before the client sent any pubKeyAuth.
    EndedBeforeClientPubKeyAuth,
    /// Anything else (the exchange went on, or ended elsewhere).
    Other,
}

/// How the ending reads: the errorCode's name (or hex), or a few words.
impl fmt::Display for CredsspEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredsspEnding::ServerError(status) => write!(f, "{status}"),
            CredsspEnding::EndedAfterClientPubKeyAuth => {
                f.write_str("ended after the client's pubKeyAuth")
            }
            CredsspEnding::EndedBeforeClientPubKeyAuth => {
                f.write_str("ended before the client's pubKeyAuth")
            }
            CredsspEnding::Other => f.write_str("other"),
        }
    }
}

/// Which side refused the other in a CVE-2018-0886 remediation mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OracleRefusal {
    /// An updated client (CredSSP version ≥ 6, policy "Mitigated" or "Force Updated Clients")
    /// refused a server that has not been updated (version ≤ 4).
    ClientRefusedServer,
    /// An updated server with "Force Updated Clients" refused a client that has not been updated.
    ServerRefusedClient,
}

/// `client_refused_server` or `server_refused_client`.
impl fmt::Display for OracleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OracleRefusal::ClientRefusedServer => "client_refused_server",
            OracleRefusal::ServerRefusedClient => "server_refused_client",
        })
    }
}

/// The CredSSP version the CVE-2018-0886 updates speak (treated as "updated").
const UPDATED_VERSION: u32 = 6;
/// The highest version treated as "not updated": version 5 already carries the clientNonce binding
/// some updated stacks accept, so it is left out of both sides of the rule.
const NOT_UPDATED_MAX: u32 = 4;

/// Whether a CredSSP exchange matches the encryption oracle remediation pattern of CVE-2018-0886:
/// a client and a server of which exactly one has the 2018 CredSSP update, refusing each other.
///
/// Source: Microsoft KB 4093492 ("CredSSP updates for CVE-2018-0886"): its interoperability table
/// blocks an updated client ("Force Updated Clients" or "Mitigated") with an unpatched server, and
/// an unpatched client with an updated server set to "Force Updated Clients". On the wire the update
/// shows as the TSRequest version: updated Windows sends 6, and MS-CSSP 2.2.1 ties the clientNonce
/// binding of pubKeyAuth to versions 5 and 6. The rule implemented, deliberately narrow:
///
/// 1. [`OracleRefusal::ClientRefusedServer`]: client version ≥ 6, the server's TSRequest version
///    ≤ 4, and the connection ended after the server's TSRequest before the client sent any
///    pubKeyAuth (the updated client stops rather than bind its credentials to an old server).
/// 2. [`OracleRefusal::ServerRefusedClient`]: client version ≤ 4, server version ≥ 6, and either
///    the connection ended right after the client's pubKeyAuth, or the server answered with an
///    errorCode that is not an account or credential failure ([`NtStatus::is_credential_failure`]:
///    a wrong password explains itself and is not this pattern).
///
/// Version 5 on either side, a server that echoes the client's version, or no server TSRequest at
/// all never match: `None` then means "not this pattern", not "no problem".
///
/// ```
/// use shakedown::rdp::credssp::{encryption_oracle_refusal, CredsspEnding, OracleRefusal, NtStatus};
/// assert_eq!(
///     encryption_oracle_refusal(6, Some(3), CredsspEnding::EndedBeforeClientPubKeyAuth),
///     Some(OracleRefusal::ClientRefusedServer)
/// );
/// assert_eq!(
///     encryption_oracle_refusal(2, Some(6), CredsspEnding::EndedAfterClientPubKeyAuth),
///     Some(OracleRefusal::ServerRefusedClient)
/// );
/// let wrong_password = CredsspEnding::ServerError(NtStatus::LOGON_FAILURE);
/// assert_eq!(encryption_oracle_refusal(3, Some(6), wrong_password), None);
/// assert_eq!(encryption_oracle_refusal(6, Some(6), CredsspEnding::EndedBeforeClientPubKeyAuth), None);
/// ```
pub fn encryption_oracle_refusal(
    client_version: u32,
    server_version: Option<u32>,
    ending: CredsspEnding,
) -> Option<OracleRefusal> {
    let server_version = server_version?;
    let client_updated = client_version >= UPDATED_VERSION;
    let client_old = client_version <= NOT_UPDATED_MAX;
    let server_updated = server_version >= UPDATED_VERSION;
    let server_old = server_version <= NOT_UPDATED_MAX;
    match ending {
        CredsspEnding::EndedBeforeClientPubKeyAuth if client_updated && server_old => {
            Some(OracleRefusal::ClientRefusedServer)
        }
        CredsspEnding::EndedAfterClientPubKeyAuth if client_old && server_updated => {
            Some(OracleRefusal::ServerRefusedClient)
        }
        CredsspEnding::ServerError(code)
            if client_old && server_updated && !code.is_credential_failure() =>
        {
            Some(OracleRefusal::ServerRefusedClient)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's first TSRequest (MS-CSSP 3.1.5 step 2): version 6 and a bare NTLM NEGOTIATE.
    const CLIENT_NEGOTIATE: &[u8] = &[
        0x30, 0x2f, // TSRequest SEQUENCE, 47 bytes
        0xa0, 0x03, 0x02, 0x01, 0x06, // [0] version INTEGER 6
        0xa1, 0x28, // [1] negoTokens, 40 bytes
        0x30, 0x26, // NegoData: SEQUENCE OF, 38 bytes
        0x30, 0x24, // SEQUENCE, 36 bytes
        0xa0, 0x22, // [0] negoToken, 34 bytes
        0x04, 0x20, // OCTET STRING, 32 bytes: NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1)
        b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0x00, // Signature
        0x01, 0x00, 0x00, 0x00, // MessageType 1
        0xb7, 0x82, 0x08, 0xe2, // NegotiateFlags
        0, 0, 0, 0, 0, 0, 0, 0, // DomainNameFields
        0, 0, 0, 0, 0, 0, 0, 0, // WorkstationFields
    ];

    /// The server's answer: version 6 and an NTLM CHALLENGE.
    const SERVER_CHALLENGE: &[u8] = &[
        0x30, 0x47, // TSRequest SEQUENCE, 71 bytes
        0xa0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
        0xa1, 0x40, // [1] negoTokens, 64 bytes
        0x30, 0x3e, // SEQUENCE OF
        0x30, 0x3c, // SEQUENCE
        0xa0, 0x3a, // [0] negoToken
        0x04, 0x38, // OCTET STRING, 56 bytes: CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2)
        b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0x00, // Signature
        0x02, 0x00, 0x00, 0x00, // MessageType 2
        0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, // TargetNameFields (empty)
        0x35, 0x82, 0x8a, 0xe2, // NegotiateFlags
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // ServerChallenge
        0, 0, 0, 0, 0, 0, 0, 0, // Reserved
        0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, // TargetInfoFields (empty)
        0x0a, 0x00, 0x63, 0x45, 0x00, 0x00, 0x00, 0x0f, // Version
    ];

    /// The server refusing the password: version 6, errorCode STATUS_LOGON_FAILURE as the signed
    /// INTEGER it is.
    const SERVER_LOGON_FAILURE: &[u8] = &[
        0x30, 0x0d, // TSRequest SEQUENCE, 13 bytes
        0xa0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
        0xa4, 0x06, 0x02, 0x04, 0xc0, 0x00, 0x00, 0x6d, // [4] errorCode INTEGER -1073741715
    ];

    /// The same errorCode written as an unsigned INTEGER (a leading zero byte).
    const SERVER_LOGON_FAILURE_UNSIGNED: &[u8] = &[
        0x30, 0x0e, // TSRequest SEQUENCE, 14 bytes
        0xa0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
        0xa4, 0x07, 0x02, 0x05, 0x00, 0xc0, 0x00, 0x00,
        0x6d, // [4] errorCode INTEGER 3221225581
    ];

    /// The client's AUTHENTICATE (MS-CSSP 3.1.5 step 3, version 6): NTLM AUTHENTICATE, pubKeyAuth
    /// (16-byte signature + 32-byte encrypted SHA-256 hash) and the 32-byte clientNonce. Its length
    /// (167) needs the long form 0x81.
    fn client_authenticate() -> Vec<u8> {
        let mut m = vec![
            0x30, 0x81, 0xa7, // TSRequest SEQUENCE, long form, 167 bytes
            0xa0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
            0xa1, 0x48, 0x30, 0x46, 0x30, 0x44, 0xa0,
            0x42, // [1] negoTokens > SEQUENCE OF > SEQUENCE > [0]
            0x04, 0x40, // OCTET STRING, 64 bytes: AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3)
            b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0x00, // Signature
            0x03, 0x00, 0x00, 0x00, // MessageType 3
        ];
        // Six empty payload fields (Lm, Nt, Domain, User, Workstation, SessionKey) at offset 64.
        for _ in 0..6 {
            m.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00]);
        }
        m.extend_from_slice(&[0x35, 0x82, 0x88, 0xe2]); // NegotiateFlags
        m.extend_from_slice(&[0xa3, 0x32, 0x04, 0x30]); // [3] pubKeyAuth OCTET STRING, 48 bytes
        m.extend_from_slice(&[0x5a; 48]);
        m.extend_from_slice(&[0xa5, 0x22, 0x04, 0x20]); // [5] clientNonce OCTET STRING, 32 bytes
        m.extend_from_slice(&[0xa5; 32]);
        assert_eq!(m.len(), 170);
        m
    }

    /// A minimal DER TLV, for variations of the hand-written messages.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let n = content.len();
        let mut v = vec![tag];
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend_from_slice(&[0x81, n as u8]);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    /// A TSRequest from `(context tag, inner TLV)` fields.
    fn ts(fields: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let content: Vec<u8> = fields
            .iter()
            .flat_map(|(tag, inner)| tlv(0xa0 | tag, inner))
            .collect();
        tlv(0x30, &content)
    }

    fn version(v: u8) -> (u8, Vec<u8>) {
        (0, vec![0x02, 0x01, v])
    }

    fn nego(token: &[u8]) -> (u8, Vec<u8>) {
        (1, tlv(0x30, &tlv(0x30, &tlv(0xa0, &tlv(0x04, token)))))
    }

    fn ntlm(kind: u8) -> Vec<u8> {
        let mut t = b"NTLMSSP\0".to_vec();
        t.extend_from_slice(&[kind, 0, 0, 0]);
        t.extend_from_slice(&[0; 20]);
        t
    }

    fn all_messages() -> Vec<Vec<u8>> {
        vec![
            CLIENT_NEGOTIATE.to_vec(),
            SERVER_CHALLENGE.to_vec(),
            client_authenticate(),
            SERVER_LOGON_FAILURE.to_vec(),
            SERVER_LOGON_FAILURE_UNSIGNED.to_vec(),
        ]
    }

    #[test]
    fn helper_encoder_matches_hand_written_bytes() {
        let token = CLIENT_NEGOTIATE.get(17..).expect("token");
        assert_eq!(ts(&[version(6), nego(token)]), CLIENT_NEGOTIATE);
    }

    #[test]
    fn client_negotiate() {
        let r = parse_tsrequest(CLIENT_NEGOTIATE).expect("parses");
        assert_eq!(r.version, 6);
        assert_eq!(r.nego_tokens, 1);
        assert_eq!(
            r.mechanism,
            Some(AuthMechanism::Ntlm(NtlmMessageType::NEGOTIATE))
        );
        assert_eq!(
            (r.auth_info_len, r.pub_key_auth_len, r.client_nonce_len),
            (None, None, None)
        );
        assert_eq!(r.error_code, None);
        assert_eq!(r.encoded_len, CLIENT_NEGOTIATE.len());
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
    }

    #[test]
    fn server_challenge() {
        let r = parse_tsrequest(SERVER_CHALLENGE).expect("parses");
        assert_eq!(r.version, 6);
        assert_eq!(
            r.mechanism,
            Some(AuthMechanism::Ntlm(NtlmMessageType::CHALLENGE))
        );
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn client_authenticate_with_pub_key_auth_and_nonce() {
        let m = client_authenticate();
        let r = parse_tsrequest(&m).expect("parses");
        assert_eq!(
            r.mechanism,
            Some(AuthMechanism::Ntlm(NtlmMessageType::AUTHENTICATE))
        );
        assert_eq!(r.pub_key_auth_len, Some(48));
        assert_eq!(r.client_nonce_len, Some(32));
        assert_eq!(r.auth_info_len, None);
        assert_eq!(r.encoded_len, 170);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        // Debug shows lengths, never the signature, the nonce or the NTLM message.
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("90") && !dbg.contains("165") && !dbg.contains("NTLMSSP"));
    }

    #[test]
    fn server_error_code_signed_and_unsigned() {
        for m in [SERVER_LOGON_FAILURE, SERVER_LOGON_FAILURE_UNSIGNED] {
            let r = parse_tsrequest(m).expect("parses");
            assert_eq!(r.error_code, Some(NtStatus::LOGON_FAILURE));
            assert_eq!(r.mechanism, None);
            assert_eq!(r.nego_tokens, 0);
            assert!(r.anomalies.is_empty());
            assert_eq!(
                r.error_code.map(|c| c.meaning()),
                Some("Wrong user name or password.")
            );
        }
    }

    #[test]
    fn version_differences() {
        let code = (4, vec![0x02, 0x04, 0xc0, 0x00, 0x02, 0x34]);
        let nonce = (5, tlv(0x04, &[7; 32]));
        // Version 2: no errorCode field yet.
        let r = parse_tsrequest(&ts(&[version(2), code.clone()])).expect("v2");
        assert_eq!(r.error_code, Some(NtStatus::ACCOUNT_LOCKED_OUT));
        assert_eq!(r.anomalies, ["error_code_before_v3"]);
        // Version 3: errorCode is defined.
        let r = parse_tsrequest(&ts(&[version(3), code.clone()])).expect("v3");
        assert!(r.anomalies.is_empty());
        // clientNonce needs version 5.
        let r = parse_tsrequest(&ts(&[version(3), nonce.clone()])).expect("v3 nonce");
        assert_eq!(r.anomalies, ["client_nonce_before_v5"]);
        let r = parse_tsrequest(&ts(&[version(6), code, nonce])).expect("v6");
        assert!(r.anomalies.is_empty());
        // A short nonce.
        let r = parse_tsrequest(&ts(&[version(6), (5, tlv(0x04, &[1; 16]))])).expect("v6");
        assert_eq!(r.anomalies, ["client_nonce_not_32_bytes"]);
        // Versions MS-CSSP does not list are kept.
        assert_eq!(
            parse_tsrequest(&ts(&[version(9)])).map(|r| r.version),
            Ok(9)
        );
        let big = ts(&[(0, vec![0x02, 0x04, 0x7f, 0xff, 0xff, 0xff])]);
        assert_eq!(parse_tsrequest(&big).map(|r| r.version), Ok(0x7fff_ffff));
    }

    #[test]
    fn every_truncation_needs_more() {
        for m in all_messages() {
            for len in 0..m.len() {
                let cut = &m[..len];
                match tsrequest_len(cut) {
                    TlvStatus::NeedMore { need } => {
                        assert!(need > len && need <= m.len(), "len {len}: need {need}")
                    }
                    other => panic!("len {len}: {other:?}"),
                }
                assert!(
                    matches!(
                        parse_tsrequest(cut),
                        Err(CredsspError::Truncated { have, .. }) if have == len
                    ),
                    "len {len}"
                );
            }
            assert_eq!(tsrequest_len(&m), TlvStatus::Complete(m.len()));
        }
        // Once the header is there, the need is exact.
        let m = client_authenticate();
        assert_eq!(tsrequest_len(&m[..3]), TlvStatus::NeedMore { need: 170 });
        assert_eq!(tsrequest_len(&m[..2]), TlvStatus::NeedMore { need: 3 });
    }

    #[test]
    fn several_in_one_buffer_and_trailing_bytes() {
        let mut stream = Vec::new();
        for m in all_messages() {
            stream.extend_from_slice(&m);
        }
        let mut rest = &stream[..];
        let mut seen = Vec::new();
        while let TlvStatus::Complete(n) = tsrequest_len(rest) {
            let alone = parse_tsrequest(&rest[..n]).expect("parses");
            // The parser reads only its TLV: the rest of the stream changes nothing.
            assert_eq!(parse_tsrequest(rest), Ok(alone.clone()));
            seen.push(alone.version);
            rest = &rest[n..];
        }
        assert!(rest.is_empty());
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn wrong_tags() {
        // A SET instead of the SEQUENCE.
        let mut m = CLIENT_NEGOTIATE.to_vec();
        m[0] = 0x31;
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag {
                field: "TSRequest",
                found: 0x31,
                offset: 0,
                ..
            })
        ));
        // version as an OCTET STRING.
        let m = ts(&[(0, vec![0x04, 0x01, 0x06])]);
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag {
                field: "version",
                found: 0x04,
                offset: 4,
                ..
            })
        ));
        // A primitive [0] (implicit tagging): MS-CSSP tags are explicit.
        let m = [0x30, 0x03, 0x80, 0x01, 0x06];
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag { found: 0x80, .. })
        ));
        // A universal element among the fields.
        let m = [0x30, 0x03, 0x02, 0x01, 0x06];
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag { found: 0x02, .. })
        ));
        // negoTokens that are not a SEQUENCE OF, and an entry without [0].
        let m = ts(&[version(6), (1, tlv(0x04, b"x"))]);
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag {
                field: "negoTokens",
                ..
            })
        ));
        let m = ts(&[
            version(6),
            (1, tlv(0x30, &tlv(0x30, &tlv(0xa1, &tlv(0x04, b"x"))))),
        ]);
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::UnexpectedTag {
                field: "negoToken",
                ..
            })
        ));
        // Missing version.
        assert_eq!(
            parse_tsrequest(&ts(&[(4, vec![0x02, 0x01, 0x00])])),
            Err(CredsspError::MissingVersion)
        );
        assert_eq!(
            parse_tsrequest(&[0x30, 0x00]),
            Err(CredsspError::MissingVersion)
        );
    }

    #[test]
    fn odd_but_readable_fields_are_anomalies() {
        let m = ts(&[
            (4, vec![0x02, 0x01, 0x00]),
            version(6),
            version(5),
            (7, vec![0x05, 0x00]),
        ]);
        let r = parse_tsrequest(&m).expect("parses");
        assert_eq!(r.version, 6);
        assert_eq!(r.error_code, Some(NtStatus::SUCCESS));
        assert_eq!(
            r.anomalies,
            ["fields_out_of_order", "duplicate_field", "unknown_field"]
        );
        let m = ts(&[(0, vec![0x02, 0x01, 0x06, 0x05, 0x00])]);
        assert_eq!(
            parse_tsrequest(&m).map(|r| r.anomalies),
            Ok(vec!["trailing_bytes_in_field"])
        );
        // Two negoTokens entries: both counted, the first classified.
        let two = tlv(
            0x30,
            &[
                tlv(0x30, &tlv(0xa0, &tlv(0x04, &ntlm(3)))),
                tlv(0x30, &tlv(0xa0, &tlv(0x04, &ntlm(1)))),
            ]
            .concat(),
        );
        let r = parse_tsrequest(&ts(&[version(6), (1, two)])).expect("parses");
        assert_eq!(r.nego_tokens, 2);
        assert_eq!(
            r.mechanism,
            Some(AuthMechanism::Ntlm(NtlmMessageType::AUTHENTICATE))
        );
    }

    #[test]
    fn bad_integers() {
        for bad in [
            vec![0x02, 0x01, 0xff],             // negative version
            vec![0x02, 0x02, 0x00, 0x06],       // leading zero: not minimal DER
            vec![0x02, 0x00],                   // empty
            vec![0x02, 0x05, 0x01, 0, 0, 0, 0], // above u32
        ] {
            assert_eq!(
                parse_tsrequest(&ts(&[(0, bad.clone())])),
                Err(CredsspError::BadInteger { field: "version" }),
                "{bad:02x?}"
            );
        }
        let code = vec![0x02, 0x05, 0x01, 0, 0, 0, 0];
        assert_eq!(
            parse_tsrequest(&ts(&[version(6), (4, code)])),
            Err(CredsspError::BadInteger { field: "errorCode" })
        );
    }

    #[test]
    fn long_form_lengths() {
        // authInfo of 300 bytes: lengths in the 0x82 form at three levels.
        let m = ts(&[version(6), (2, tlv(0x04, &[0x33; 300]))]);
        assert_eq!(&m[..4], &[0x30, 0x82, 0x01, 0x39]); // 5 + (4 + (4 + 300))
        let r = parse_tsrequest(&m).expect("parses");
        assert_eq!(r.auth_info_len, Some(300));
        // A long form where the short one would do (not minimal DER, but unambiguous) is read.
        let mut m = vec![0x30, 0x81, 0x0d];
        m.extend_from_slice(&SERVER_LOGON_FAILURE[2..]);
        assert_eq!(tsrequest_len(&m), TlvStatus::Complete(16));
        assert_eq!(
            parse_tsrequest(&m).map(|r| r.error_code),
            Ok(Some(NtStatus::LOGON_FAILURE))
        );
        // The reserved length byte 0xFF, and more length bytes than a usize holds.
        assert_eq!(
            tsrequest_len(&[0x30, 0xff, 0x00]),
            TlvStatus::NotDer(DerProblem::BadLength)
        );
        let nine = [0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            tsrequest_len(&nine),
            TlvStatus::NotDer(DerProblem::BadLength)
        );
    }

    #[test]
    fn indefinite_length_is_not_der() {
        let ber = [0x30, 0x80, 0xa0, 0x03, 0x02, 0x01, 0x06, 0x00, 0x00];
        assert_eq!(
            tsrequest_len(&ber),
            TlvStatus::NotDer(DerProblem::IndefiniteLength)
        );
        assert_eq!(
            tsrequest_len(&ber[..2]),
            TlvStatus::NotDer(DerProblem::IndefiniteLength)
        );
        assert_eq!(
            parse_tsrequest(&ber),
            Err(CredsspError::NotDer {
                offset: 0,
                problem: DerProblem::IndefiniteLength
            })
        );
        // Inside a definite outer length.
        let inner = [
            0x30, 0x09, 0xa0, 0x80, 0x02, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            parse_tsrequest(&inner),
            Err(CredsspError::NotDer {
                offset: 2,
                problem: DerProblem::IndefiniteLength
            })
        );
    }

    #[test]
    fn huge_declared_length_is_bounded() {
        // 4 GiB declared: refused from the header alone, nothing is allocated for it.
        let m = [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0xa0];
        assert_eq!(
            tsrequest_len(&m),
            TlvStatus::NotDer(DerProblem::TooLong {
                declared: 6 + 0xffff_ffff
            })
        );
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::NotDer {
                problem: DerProblem::TooLong { .. },
                ..
            })
        ));
        // A length that overflows usize when the header is added.
        let m = [0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            tsrequest_len(&m),
            TlvStatus::NotDer(DerProblem::TooLong {
                declared: usize::MAX
            })
        );
        // Just at the limit: the caller is told to buffer it.
        let at = MAX_TSREQUEST_LEN - 5;
        let m = [0x30, 0x83, (at >> 16) as u8, (at >> 8) as u8, at as u8];
        assert_eq!(
            tsrequest_len(&m),
            TlvStatus::NeedMore {
                need: MAX_TSREQUEST_LEN
            }
        );
        // An inner element longer than the message holds is an overrun, not a request for more.
        let m = [0x30, 0x05, 0xa0, 0x03, 0x02, 0x05, 0x06];
        assert_eq!(
            parse_tsrequest(&m),
            Err(CredsspError::Overrun {
                field: "version",
                offset: 4
            })
        );
        let m = [0x30, 0x03, 0xa0, 0x84, 0x7f];
        assert!(matches!(
            parse_tsrequest(&m),
            Err(CredsspError::Overrun { offset: 2, .. })
        ));
    }

    #[test]
    fn high_tag_number_identifiers() {
        // [APPLICATION 31]-style identifiers: cut ones need more, six bytes of them are bad.
        assert_eq!(tsrequest_len(&[0x7f]), TlvStatus::NeedMore { need: 2 });
        assert_eq!(
            tsrequest_len(&[0x7f, 0x81]),
            TlvStatus::NeedMore { need: 3 }
        );
        assert_eq!(
            tsrequest_len(&[0x7f, 0x81, 0x81, 0x81, 0x81, 0x81]),
            TlvStatus::NotDer(DerProblem::BadTag)
        );
        assert_eq!(tsrequest_len(&[0x7f, 0x21, 0x00]), TlvStatus::Complete(3));
    }

    #[test]
    fn spnego_and_kerberos_tokens() {
        const NTLM_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
        // GSS-API InitialContextToken { SPNEGO OID, [0] NegTokenInit { mechTypes, mechToken } }.
        let init_seq = [
            tlv(0xa0, &tlv(0x30, &tlv(0x06, NTLM_OID))),
            tlv(0xa2, &tlv(0x04, &ntlm(1))),
        ]
        .concat();
        let gss = tlv(
            0x60,
            &[tlv(0x06, OID_SPNEGO), tlv(0xa0, &tlv(0x30, &init_seq))].concat(),
        );
        let r = parse_tsrequest(&ts(&[version(6), nego(&gss)])).expect("parses");
        assert_eq!(
            r.mechanism,
            Some(AuthMechanism::Spnego(Spnego {
                kind: SpnegoKind::Init,
                neg_state: None,
                inner: Some(Box::new(AuthMechanism::Ntlm(NtlmMessageType::NEGOTIATE))),
            }))
        );
        // NegTokenResp { accept-incomplete, supportedMech NTLM, responseToken CHALLENGE }.
        let resp = tlv(
            0xa1,
            &tlv(
                0x30,
                &[
                    tlv(0xa0, &[0x0a, 0x01, 0x01]),
                    tlv(0xa1, &tlv(0x06, NTLM_OID)),
                    tlv(0xa2, &tlv(0x04, &ntlm(2))),
                ]
                .concat(),
            ),
        );
        assert_eq!(
            AuthMechanism::classify(&resp),
            AuthMechanism::Spnego(Spnego {
                kind: SpnegoKind::Response,
                neg_state: Some(NegState::ACCEPT_INCOMPLETE),
                inner: Some(Box::new(AuthMechanism::Ntlm(NtlmMessageType::CHALLENGE))),
            })
        );
        // NegTokenResp { reject } without a token.
        let reject = [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02];
        assert_eq!(
            AuthMechanism::classify(&reject),
            AuthMechanism::Spnego(Spnego {
                kind: SpnegoKind::Response,
                neg_state: Some(NegState::REJECT),
                inner: None,
            })
        );
        // Kerberos AP-REQ in the GSS-API framing (TOK_ID 01 00), in both OIDs, and bare.
        let ap_req = tlv(0x6e, &tlv(0x30, &[]));
        for oid in [OID_KRB5, OID_MS_KRB5] {
            let krb = tlv(
                0x60,
                &[tlv(0x06, oid), vec![0x01, 0x00], ap_req.clone()].concat(),
            );
            assert_eq!(
                AuthMechanism::classify(&krb),
                AuthMechanism::Kerberos(Some(KerberosMessage::AP_REQ))
            );
        }
        assert_eq!(
            AuthMechanism::classify(&ap_req),
            AuthMechanism::Kerberos(Some(KerberosMessage::AP_REQ))
        );
        let krb_error = tlv(0x7e, &tlv(0x30, &[]));
        assert_eq!(
            AuthMechanism::classify(&krb_error),
            AuthMechanism::Kerberos(Some(KerberosMessage::KRB_ERROR))
        );
        // Kerberos framing around something else, an unknown OID, short NTLM, garbage.
        let krb = tlv(
            0x60,
            &[tlv(0x06, OID_KRB5), vec![0x01, 0x00, 0x04, 0x00]].concat(),
        );
        assert_eq!(AuthMechanism::classify(&krb), AuthMechanism::Kerberos(None));
        let other = tlv(0x60, &tlv(0x06, &[0x2a, 0x03]));
        assert_eq!(AuthMechanism::classify(&other), AuthMechanism::Unknown);
        assert_eq!(
            AuthMechanism::classify(b"NTLMSSP\0\x01"),
            AuthMechanism::Unknown
        );
        assert_eq!(AuthMechanism::classify(b""), AuthMechanism::Unknown);
        // SPNEGO inside SPNEGO is not followed.
        let nested = tlv(
            0x60,
            &[
                tlv(0x06, OID_SPNEGO),
                tlv(0xa0, &tlv(0x30, &tlv(0xa2, &tlv(0x04, &gss)))),
            ]
            .concat(),
        );
        assert_eq!(
            AuthMechanism::classify(&nested),
            AuthMechanism::Spnego(Spnego {
                kind: SpnegoKind::Init,
                neg_state: None,
                inner: Some(Box::new(AuthMechanism::Unknown)),
            })
        );
    }

    #[test]
    fn classify_never_panics_on_cut_tokens() {
        let gss = tlv(
            0x60,
            &[
                tlv(0x06, OID_SPNEGO),
                tlv(0xa0, &tlv(0x30, &tlv(0xa2, &tlv(0x04, &ntlm(1))))),
            ]
            .concat(),
        );
        for len in 0..gss.len() {
            let _ = AuthMechanism::classify(&gss[..len]);
        }
    }

    #[test]
    fn nt_status_names_round_trip() {
        let mut values: Vec<u32> = NtStatus::KNOWN.iter().map(|s| s.0).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), NtStatus::KNOWN.len(), "duplicate value");
        for s in NtStatus::KNOWN {
            let name = s.name().expect("named");
            assert!(name.starts_with("STATUS_"));
            assert_eq!(NtStatus::from_name(name), Some(*s));
            assert_eq!(s.to_string(), name);
            assert!(s.meaning().ends_with('.'));
        }
        assert_eq!(NtStatus::LOGON_FAILURE, NtStatus(0xC000_006D));
        assert_eq!(NtStatus::ACCOUNT_LOCKED_OUT, NtStatus(0xC000_0234));
        assert_eq!(NtStatus::DOWNGRADE_DETECTED, NtStatus(0xC000_0388));
        assert_eq!(
            NtStatus::AUTHENTICATION_FIREWALL_FAILED,
            NtStatus(0xC000_0413)
        );
        assert_eq!(NtStatus(0xC000_0001).name(), None);
        assert_eq!(NtStatus(0xC000_0001).to_string(), "0xC0000001");
        assert_eq!(NtStatus(0xdead_beef).to_string(), "0xDEADBEEF");
        assert_eq!(NtStatus::from_name("STATUS_NOPE"), None);
        assert!(NtStatus::LOGON_FAILURE.is_credential_failure());
        assert!(!NtStatus::NOT_SUPPORTED.is_credential_failure());
    }

    #[test]
    fn early_user_authorization_result() {
        assert_eq!(
            parse_early_user_authorization(&[0, 0, 0, 0]),
            Ok(AuthorizationResult::SUCCESS)
        );
        assert_eq!(
            parse_early_user_authorization(&[5, 0, 0, 0, 0x30]),
            Ok(AuthorizationResult::ACCESS_DENIED)
        );
        assert_eq!(
            parse_early_user_authorization(&[0, 1, 0, 0]).map(|r| r.to_string()),
            Ok("0x00000100".to_string())
        );
        for len in 0..4 {
            assert_eq!(
                parse_early_user_authorization(&[5, 0, 0, 0][..len]),
                Err(CredsspError::Truncated {
                    layer: "early_user_authorization",
                    need: 4,
                    have: len
                })
            );
        }
        assert_eq!(
            AuthorizationResult::ACCESS_DENIED.to_string(),
            "AUTHZ_ACCESS_DENIED"
        );
        assert!(AuthorizationResult(7).meaning().contains("does not define"));
    }

    #[test]
    fn encryption_oracle_rule() {
        use CredsspEnding::*;
        use OracleRefusal::*;
        let f = encryption_oracle_refusal;
        // Updated client, old server: the client stops before pubKeyAuth.
        assert_eq!(
            f(6, Some(2), EndedBeforeClientPubKeyAuth),
            Some(ClientRefusedServer)
        );
        assert_eq!(
            f(6, Some(4), EndedBeforeClientPubKeyAuth),
            Some(ClientRefusedServer)
        );
        // Old client, updated server with Force Updated Clients.
        assert_eq!(
            f(3, Some(6), EndedAfterClientPubKeyAuth),
            Some(ServerRefusedClient)
        );
        assert_eq!(
            f(4, Some(6), ServerError(NtStatus::NOT_SUPPORTED)),
            Some(ServerRefusedClient)
        );
        // A credential failure explains itself.
        assert_eq!(f(3, Some(6), ServerError(NtStatus::WRONG_PASSWORD)), None);
        // Version 5 is on neither side; same generation never matches; no server reply never.
        for (c, s) in [(5, 2), (6, 5), (5, 6), (2, 5), (6, 6), (3, 3)] {
            for e in [
                EndedBeforeClientPubKeyAuth,
                EndedAfterClientPubKeyAuth,
                ServerError(NtStatus::NOT_SUPPORTED),
                Other,
            ] {
                assert_eq!(f(c, Some(s), e), None, "{c} {s} {e:?}");
            }
        }
        assert_eq!(f(6, None, EndedBeforeClientPubKeyAuth), None);
        // The wrong ending for the direction.
        assert_eq!(f(6, Some(3), EndedAfterClientPubKeyAuth), None);
        assert_eq!(f(3, Some(6), EndedBeforeClientPubKeyAuth), None);
        assert_eq!(f(6, Some(3), Other), None);
    }
}
