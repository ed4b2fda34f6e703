//! The steps of a connection's timeline as data: what one packet (or one TLS record) showed.
//!
//! The observer writes [`Step`]s as it sees them; the cause rules point at them as evidence; the
//! text, HTML and JSON renderers draw them. Nothing downstream reads their display text: styling and
//! decisions match on the variants. [`fmt::Display`] gives the short English label a report shows.

use std::fmt;

use crate::rdp::credssp::{AuthorizationResult, TsRequestSummary};
use crate::rdp::{FailureCode, Protocols};
use crate::tls::{Alert, AlertLevel, CipherSuite, NamedGroup, TlsVersion};

/// The first bytes of a stream that is not what was expected (a plain HTTP answer to a
/// ClientHello, an SSH banner), kept to show them: at most [`BytesPreview::MAX`] bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BytesPreview {
    bytes: [u8; BytesPreview::MAX],
    len: u8,
}

impl BytesPreview {
    /// How many bytes are kept.
    pub const MAX: usize = 40;

    /// The first [`BytesPreview::MAX`] bytes of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut p = BytesPreview {
            bytes: [0; BytesPreview::MAX],
            len: 0,
        };
        let n = bytes.len().min(BytesPreview::MAX);
        if let (Some(dst), Some(src)) = (p.bytes.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
            p.len = n as u8;
        }
        p
    }

    /// The bytes kept.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Whether they read as text: printable ASCII, tabs and line ends.
    pub fn is_text(&self) -> bool {
        let b = self.bytes();
        !b.is_empty()
            && b.iter()
                .all(|&c| c.is_ascii_graphic() || matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    }
}

impl fmt::Debug for BytesPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BytesPreview(\"{self}\")")
    }
}

impl fmt::Display for BytesPreview {
    /// Printable ASCII as it is, `\r`, `\n`, `\t`, `\\` and `\"` escaped, anything else as `\xHH`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.bytes() {
            match c {
                b'\r' => f.write_str("\\r")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                0x20..=0x7e => write!(f, "{}", c as char)?,
                _ => write!(f, "\\x{c:02x}")?,
            }
        }
        Ok(())
    }
}

/// What the server answered in its X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RdpAnswer {
    /// RDP_NEG_RSP with the selected protocol.
    Selected(Protocols),
    /// RDP_NEG_FAILURE with its code.
    Failure(FailureCode),
    /// A Connection Confirm without negotiation data: standard RDP security.
    Legacy,
}

/// One step of a connection's timeline: a TCP control packet, an RDP negotiation PDU, a TLS
/// message or record, or bytes that are none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// The client's first SYN.
    Syn,
    /// The server's first SYN-ACK.
    SynAck,
    /// A side's first FIN.
    Fin,
    /// A side's first RST.
    Rst,
    /// Bytes of the stream the capture never held.
    Gap {
        /// How many.
        bytes: u64,
    },
    /// X.224 Connection Request (MS-RDPBCGR 2.2.1.1).
    X224Request {
        /// requestedProtocols of its RDP_NEG_REQ (`None`: no RDP_NEG_REQ, a legacy client).
        requested: Option<Protocols>,
    },
    /// X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
    X224Confirm(RdpAnswer),
    /// A ClientHello (RFC 8446 §4.1.2).
    ClientHello {
        /// The highest version it offers.
        version: TlsVersion,
        /// Cipher suites offered, without GREASE and signalling values.
        suites: u16,
    },
    /// A HelloRetryRequest (RFC 8446 §4.1.4).
    HelloRetryRequest {
        /// The key-exchange group it asks for.
        group: Option<NamedGroup>,
    },
    /// A ServerHello (RFC 8446 §4.1.3).
    ServerHello {
        /// The negotiated version.
        version: TlsVersion,
        /// The chosen cipher suite.
        suite: CipherSuite,
    },
    /// A plaintext Certificate message (0 certificates: an empty one, the client's "no certificate").
    Certificate {
        /// Certificates in the chain.
        chain_len: usize,
    },
    /// CertificateRequest.
    CertificateRequest,
    /// ServerKeyExchange.
    ServerKeyExchange,
    /// ServerHelloDone.
    ServerHelloDone,
    /// ClientKeyExchange.
    ClientKeyExchange,
    /// A plaintext CertificateVerify.
    CertificateVerify,
    /// A plaintext NewSessionTicket.
    NewSessionTicket,
    /// CertificateStatus.
    CertificateStatus,
    /// A plaintext EncryptedExtensions.
    EncryptedExtensions,
    /// Another handshake message (HelloRequest, or a KeyUpdate read with a key log, ...), by type;
    /// shown by its RFC name when it has one.
    OtherHandshake(u8),
    /// A handshake message of which the capture lacks bytes (cut by the snap length, or lost):
    /// its type is known, its content is not.
    HandshakeCut {
        /// `HandshakeType`.
        msg_type: u8,
    },
    /// A ChangeCipherSpec record; `compat` for TLS 1.3's middlebox-compatibility record.
    ChangeCipherSpec {
        /// TLS 1.3 compatibility record (RFC 8446 §D.4).
        compat: bool,
    },
    /// TLS 1.2 and earlier: the first (encrypted) handshake record after a ChangeCipherSpec.
    Finished,
    /// A Finished message read from a record decrypted with a key log (a TLS 1.3 Finished is only
    /// ever seen so).
    FinishedDecrypted,
    /// Encrypted handshake records that are not a TLS 1.2 Finished.
    EncryptedHandshake,
    /// application_data records (TLS 1.3: every protected record); consecutive records of a side
    /// fold into one step ([`TimelineEntry::count`](super::TimelineEntry::count)).
    ApplicationData {
        /// Sent while the TLS 1.3 handshake was still going on (protected handshake records).
        protected_handshake: bool,
        /// Record body bytes, summed over the folded records.
        bytes: u64,
    },
    /// An alert record (its level and description `None` when encrypted), or an inferred one: a
    /// TLS 1.3 protected record of exactly an alert's size sent just before its sender closed.
    Alert {
        /// The alert.
        alert: Alert,
        /// Deduced from a protected record's size, not read.
        inferred: bool,
    },
    /// A heartbeat record.
    Heartbeat,
    /// A CredSSP TSRequest (MS-CSSP 2.2.1), read from an RDP connection's decrypted application
    /// data.
    TsRequest(TsRequestSummary),
    /// The server's Early User Authorization Result (MS-RDPBCGR 2.2.10.2, HYBRID_EX), read from
    /// decrypted application data.
    EarlyUserAuthorization(AuthorizationResult),
    /// SSL 2.0 SERVER-HELLO.
    SslV2ServerHello,
    /// SSL 2.0 CLIENT-MASTER-KEY.
    SslV2ClientMasterKey,
    /// An encrypted SSL 2.0 record.
    SslV2Record,
    /// The first bytes of a side that are neither TLS nor RDP negotiation, where TLS was expected or
    /// where they answer TLS: a plain HTTP response, a banner, a request in clear text.
    NotTls {
        /// How they began.
        preview: BytesPreview,
    },
    /// Bytes that could not be read as TLS.
    MalformedTls {
        /// What was wrong.
        what: &'static str,
    },
}

impl Step {
    /// Whether the step is an alert (read or inferred).
    pub fn is_alert(&self) -> bool {
        matches!(self, Step::Alert { .. })
    }

    /// The alert's level when it was read (`None` for encrypted and inferred alerts and for
    /// anything that is not an alert).
    pub fn alert_level(&self) -> Option<AlertLevel> {
        match self {
            Step::Alert { alert, .. } => alert.level,
            _ => None,
        }
    }

    /// Whether a later step of the same side and kind folds into this one.
    pub(crate) fn folds_with(&self, next: &Step) -> bool {
        matches!(
            (self, next),
            (
                Step::ApplicationData { protected_handshake: a, .. },
                Step::ApplicationData { protected_handshake: b, .. },
            ) if a == b
        )
    }
}

impl fmt::Display for RdpAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdpAnswer::Selected(p) => write!(f, "selected {}", p.selected()),
            RdpAnswer::Failure(code) => write!(f, "RDP_NEG_FAILURE {code}"),
            RdpAnswer::Legacy => f.write_str("no negotiation: standard RDP security"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Syn => f.write_str("SYN"),
            Step::SynAck => f.write_str("SYN-ACK"),
            Step::Fin => f.write_str("FIN"),
            Step::Rst => f.write_str("RST"),
            Step::Gap { bytes } => write!(f, "[{bytes} bytes not captured]"),
            Step::X224Request { requested: Some(p) } => {
                f.write_str("X.224 Connection Request [")?;
                for (i, name) in p.name_iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}")?;
                }
                f.write_str("]")
            }
            Step::X224Request { requested: None } => {
                f.write_str("X.224 Connection Request (no RDP_NEG_REQ)")
            }
            Step::X224Confirm(RdpAnswer::Legacy) => {
                f.write_str("X.224 Connection Confirm (no negotiation: standard RDP security)")
            }
            Step::X224Confirm(answer) => write!(f, "X.224 Connection Confirm [{answer}]"),
            Step::ClientHello { version, suites: 1 } => {
                write!(f, "ClientHello {version} (1 suite)")
            }
            Step::ClientHello { version, suites } => {
                write!(f, "ClientHello {version} ({suites} suites)")
            }
            Step::HelloRetryRequest { group: Some(g) } => {
                write!(f, "HelloRetryRequest (wants {g})")
            }
            Step::HelloRetryRequest { group: None } => f.write_str("HelloRetryRequest"),
            Step::ServerHello { version, suite } => write!(f, "ServerHello {version} {suite}"),
            Step::Certificate { chain_len: 0 } => f.write_str("Certificate (empty)"),
            Step::Certificate { chain_len } => write!(f, "Certificate ({chain_len} in chain)"),
            Step::CertificateRequest => f.write_str("CertificateRequest"),
            Step::ServerKeyExchange => f.write_str("ServerKeyExchange"),
            Step::ServerHelloDone => f.write_str("ServerHelloDone"),
            Step::ClientKeyExchange => f.write_str("ClientKeyExchange"),
            Step::CertificateVerify => f.write_str("CertificateVerify"),
            Step::NewSessionTicket => f.write_str("NewSessionTicket"),
            Step::CertificateStatus => f.write_str("CertificateStatus"),
            Step::EncryptedExtensions => f.write_str("EncryptedExtensions"),
            Step::OtherHandshake(t) => match crate::tls::hs::name(*t) {
                Some(name) => f.write_str(name),
                None => write!(f, "handshake message type {t}"),
            },
            Step::HandshakeCut { msg_type } => match crate::tls::hs::name(*msg_type) {
                Some(name) => write!(f, "{name} (not captured whole)"),
                None => write!(f, "handshake message type {msg_type} (not captured whole)"),
            },
            Step::ChangeCipherSpec { compat: true } => {
                f.write_str("ChangeCipherSpec (compatibility)")
            }
            Step::ChangeCipherSpec { compat: false } => f.write_str("ChangeCipherSpec"),
            Step::Finished => f.write_str("Finished (encrypted)"),
            // Read from a decrypted record: the entry says so (`TimelineEntry::decrypted`), and
            // the reports mark it.
            Step::FinishedDecrypted => f.write_str("Finished"),
            Step::EncryptedHandshake => f.write_str("encrypted handshake"),
            Step::ApplicationData {
                protected_handshake: true,
                bytes,
            } => write!(f, "ApplicationData (protected, {bytes} B)"),
            Step::ApplicationData { bytes, .. } => write!(f, "ApplicationData ({bytes} B)"),
            Step::Alert {
                alert:
                    Alert {
                        level: Some(l),
                        description: Some(d),
                        ..
                    },
                ..
            } => write!(f, "Alert {l} {d}"),
            Step::Alert { inferred: true, .. } => {
                f.write_str("probable encrypted Alert (inferred)")
            }
            Step::Alert { .. } => f.write_str("Alert (encrypted)"),
            Step::Heartbeat => f.write_str("Heartbeat"),
            Step::TsRequest(t) => t.fmt(f),
            Step::EarlyUserAuthorization(r) => write!(f, "Early User Authorization Result {r}"),
            Step::SslV2ServerHello => f.write_str("SSLv2 SERVER-HELLO"),
            Step::SslV2ClientMasterKey => f.write_str("SSLv2 CLIENT-MASTER-KEY"),
            Step::SslV2Record => f.write_str("SSLv2 record (encrypted)"),
            Step::MalformedTls { what } => write!(f, "malformed TLS: {what}"),
            Step::NotTls { preview } => write!(f, "not TLS: \"{preview}\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::AlertDescription;

    #[test]
    fn labels() {
        let fatal = Step::Alert {
            alert: Alert {
                level: Some(AlertLevel(2)),
                description: Some(AlertDescription(40)),
                encrypted: false,
            },
            inferred: false,
        };
        assert_eq!(fatal.to_string(), "Alert fatal handshake_failure");
        assert_eq!(fatal.alert_level(), Some(AlertLevel(2)));
        assert_eq!(
            Step::X224Request {
                requested: Some(Protocols(0x03))
            }
            .to_string(),
            "X.224 Connection Request [ssl,hybrid]"
        );
        assert_eq!(
            Step::X224Confirm(RdpAnswer::Selected(Protocols::HYBRID)).to_string(),
            "X.224 Connection Confirm [selected hybrid]"
        );
        assert_eq!(
            Step::Gap { bytes: 1200 }.to_string(),
            "[1200 bytes not captured]"
        );
        assert_eq!(
            Step::ApplicationData {
                protected_handshake: true,
                bytes: 19
            }
            .to_string(),
            "ApplicationData (protected, 19 B)"
        );
    }

    #[test]
    fn previews_escape_what_is_not_printable() {
        let p = BytesPreview::of(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html>");
        assert_eq!(p.bytes().len(), BytesPreview::MAX);
        assert!(p.is_text());
        assert_eq!(
            Step::NotTls { preview: p }.to_string(),
            "not TLS: \"HTTP/1.1 400 Bad Request\\r\\nServer: nginx\\r\""
        );
        let bin = BytesPreview::of(&[0xc1, 0x01, b'"', b'\\', 0x00]);
        assert!(!bin.is_text());
        assert_eq!(bin.to_string(), "\\xc1\\x01\\\"\\\\\\x00");
        assert_eq!(BytesPreview::of(&[]).bytes(), &[] as &[u8]);
    }

    #[test]
    fn only_application_data_of_one_kind_folds() {
        let data = |p| Step::ApplicationData {
            protected_handshake: p,
            bytes: 10,
        };
        assert!(data(true).folds_with(&data(true)));
        assert!(!data(true).folds_with(&data(false)));
        assert!(!Step::Fin.folds_with(&Step::Fin));
    }
}
