//! The cause of a connection's outcome as the verdict carries it: a code, how sure it is, the
//! packets that show it, a plain explanation, the Schannel events a Windows peer would log, and
//! hints that help someone act.
//!
//! The types live here; the decision is the rule table in [`super::rules`], the words are written
//! in [`super::explain`].

use std::fmt;

use crate::Side;

use super::{Mark, Step};

/// Why a connection ended the way it did (SCHEMA.md `cause.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CauseCode {
    /// Completed, or not TLS.
    None,
    /// The server shares no cipher suite with the client (handshake_failure/insufficient_security
    /// answering the ClientHello).
    NoSharedCipher,
    /// The peers share no protocol version (protocol_version alert).
    ProtocolVersion,
    /// A peer rejected the other's certificate (unknown_ca, certificate_expired, bad_certificate...).
    CertificateRejected,
    /// The server requires a client certificate that was not sent (or not accepted).
    ClientCertificateRequired,
    /// The server does not know the name the client asked for (SNI).
    UnrecognizedName,
    /// Another fatal alert; see the alerts.
    PeerAlert,
    /// The server reset the connection before the handshake finished.
    ServerReset,
    /// The client reset the connection before the handshake finished.
    ClientReset,
    /// The server closed (FIN) before the handshake finished, without an alert.
    ServerClosed,
    /// The client closed (FIN) before the handshake finished, without an alert.
    ClientClosed,
    /// The RDP server answered the X.224 Connection Request with RDP_NEG_FAILURE.
    RdpNegotiationFailure,
    /// RDP with CredSSP (NLA): TLS completed, then the connection ended during the CredSSP exchange.
    NlaFailure,
    /// The SYN was answered by RST.
    TcpRefused,
    /// The SYN was never answered.
    TcpUnanswered,
    /// The capture ends before the handshake did, or holds only one direction of the connection.
    CaptureIncomplete,
    /// The server answered the ClientHello with bytes that are not TLS (an HTTP response, an SSH
    /// or SMTP banner): the port serves something else.
    ServerNotTls,
    /// The client sent bytes that are not TLS (a plain HTTP request) to a TLS server, which then
    /// alerted or closed.
    ClientNotTls,
    /// An RST that its claimed sender did not send: its IP TTL / hop limit does not fit that side's
    /// other packets; a firewall, IPS or proxy cut the connection.
    MiddleboxReset,
    /// One side's large segments never reach the other (retransmitted, never acknowledged, while
    /// small packets pass), or a handshake reply acknowledged at TCP level never arrives.
    PathMtuBlackhole,
}

impl CauseCode {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseCode::None => "none",
            CauseCode::NoSharedCipher => "no_shared_cipher",
            CauseCode::ProtocolVersion => "protocol_version",
            CauseCode::CertificateRejected => "certificate_rejected",
            CauseCode::ClientCertificateRequired => "client_certificate_required",
            CauseCode::UnrecognizedName => "unrecognized_name",
            CauseCode::PeerAlert => "peer_alert",
            CauseCode::ServerReset => "server_reset",
            CauseCode::ClientReset => "client_reset",
            CauseCode::ServerClosed => "server_closed",
            CauseCode::ClientClosed => "client_closed",
            CauseCode::RdpNegotiationFailure => "rdp_negotiation_failure",
            CauseCode::NlaFailure => "nla_failure",
            CauseCode::TcpRefused => "tcp_refused",
            CauseCode::TcpUnanswered => "tcp_unanswered",
            CauseCode::CaptureIncomplete => "capture_incomplete",
            CauseCode::ServerNotTls => "server_not_tls",
            CauseCode::ClientNotTls => "client_not_tls",
            CauseCode::MiddleboxReset => "middlebox_reset",
            CauseCode::PathMtuBlackhole => "path_mtu_blackhole",
        }
    }

    /// Every code, in documentation order.
    pub const ALL: [CauseCode; 20] = [
        CauseCode::None,
        CauseCode::NoSharedCipher,
        CauseCode::ProtocolVersion,
        CauseCode::CertificateRejected,
        CauseCode::ClientCertificateRequired,
        CauseCode::UnrecognizedName,
        CauseCode::PeerAlert,
        CauseCode::ServerReset,
        CauseCode::ClientReset,
        CauseCode::ServerClosed,
        CauseCode::ClientClosed,
        CauseCode::RdpNegotiationFailure,
        CauseCode::NlaFailure,
        CauseCode::TcpRefused,
        CauseCode::TcpUnanswered,
        CauseCode::CaptureIncomplete,
        CauseCode::ServerNotTls,
        CauseCode::ClientNotTls,
        CauseCode::MiddleboxReset,
        CauseCode::PathMtuBlackhole,
    ];
}

impl fmt::Display for CauseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event a Windows peer's Schannel would write to its System log for this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SchannelEvent {
    /// The event ID (36870–36888).
    pub id: u32,
    /// Which end would log it, if it runs Windows.
    pub logged_by: Side,
    /// The TLS alert code the event quotes (36887, 36888).
    pub alert_code: Option<u8>,
    /// The gist of the event's message.
    pub message: &'static str,
}

impl SchannelEvent {
    pub(crate) fn new(id: u32, logged_by: Side, alert_code: Option<u8>) -> Self {
        let message = match id {
            36870 => {
                "A fatal error occurred when attempting to access the TLS server credential private key"
            }
            36871 => "A fatal error occurred while creating a TLS credential",
            36874 => {
                "A TLS connection request was received from a remote client application, but none of the cipher suites supported by the client application are supported by the server"
            }
            36876 => "The certificate received from the remote server has not validated correctly",
            36881 => {
                "The certificate received from the remote server has either expired or is not yet valid"
            }
            36882 => {
                "The certificate received from the remote server was issued by an untrusted certificate authority"
            }
            36883 => "The certificate received from the remote server has been revoked",
            36884 => {
                "The certificate received from the remote server does not contain the expected name"
            }
            36886 => "No suitable default server credential exists on this system",
            36887 => "A fatal alert was received from the remote endpoint",
            36888 => "A fatal alert was generated and sent to the remote endpoint",
            _ => "",
        };
        SchannelEvent {
            id,
            logged_by,
            alert_code,
            message,
        }
    }
}

/// How sure a cause is (SCHEMA.md `cause.confidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Confidence {
    /// The wire (or a decrypted record) states it: a plaintext alert, an RDP_NEG_FAILURE, a SYN
    /// answered by RST; also every completed handshake and every `none`.
    Certain,
    /// Deduced from the connection's shape: record sizes, who closed when, silence.
    Probable,
}

impl Confidence {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Probable => "probable",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One packet that shows the cause (SCHEMA.md `cause.evidence[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Evidence {
    /// Its frame and time.
    pub at: Mark,
    /// Who sent it (`None` for a fact of the capture rather than of a peer).
    pub side: Option<Side>,
    /// What it showed.
    pub what: EvidenceKind,
}

/// What a piece of evidence showed: a timeline step, or a fact of the capture itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// A step of the connection's timeline.
    Step(Step),
    /// The last packet the capture holds of the connection (nothing ended it before).
    LastPacket,
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceKind::Step(s) => s.fmt(f),
            EvidenceKind::LastPacket => f.write_str("last packet captured"),
        }
    }
}

/// The cause of a verdict (SCHEMA.md `cause`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Cause {
    /// The cause code.
    pub code: CauseCode,
    /// How sure the code is.
    pub confidence: Confidence,
    /// The packets that show it, in frame order; at least one for every failed or incomplete
    /// connection.
    pub evidence: Vec<Evidence>,
    /// One or two plain sentences.
    pub explanation: String,
    /// The Schannel event most worth looking for on a Windows peer.
    pub schannel_event: Option<SchannelEvent>,
    /// Other Schannel events the peers would log for the same failure.
    pub related_events: Vec<SchannelEvent>,
    /// What to check or change.
    pub hints: Vec<String>,
}

impl Cause {
    pub(crate) fn new(code: CauseCode, explanation: impl Into<String>) -> Self {
        Cause {
            code,
            confidence: Confidence::Certain,
            evidence: Vec::new(),
            explanation: explanation.into(),
            schannel_event: None,
            related_events: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub(crate) fn event(mut self, id: u32, logged_by: Side, alert: Option<u8>) -> Self {
        let e = SchannelEvent::new(id, logged_by, alert);
        if self.schannel_event.is_none() {
            self.schannel_event = Some(e);
        } else {
            self.related_events.push(e);
        }
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The frames of the evidence, in order.
    pub fn evidence_frames(&self) -> impl Iterator<Item = u64> + '_ {
        self.evidence.iter().map(|e| e.at.frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_schema_names() {
        let names: Vec<&str> = CauseCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), CauseCode::ALL.len());
        assert!(names.contains(&"no_shared_cipher") && names.contains(&"capture_incomplete"));
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "names are unique");
    }

    #[test]
    fn confidence_names() {
        assert_eq!(Confidence::Certain.to_string(), "certain");
        assert_eq!(Confidence::Probable.to_string(), "probable");
    }
}
