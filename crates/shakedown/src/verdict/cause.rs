//! The probable cause of a connection's outcome: a code, a plain explanation, the Schannel event a
//! Windows peer would log, and hints that help someone act.
//!
//! The decision is one ordered list of rules in [`decide`]: TCP failures first, then RDP negotiation,
//! then whichever ended the handshake first — a fatal alert or a close (FIN/RST). The first close, not
//! the last alert, is the cause when it came first (a peer answering an EOF with an alert is an
//! effect).

use std::fmt;

use crate::rdp::Protocols;
use crate::tls::{ClientHello, KeyAlgorithm, SuiteAuth};
use crate::{PerSide, Side};

use super::{AlertRecord, CloseKind, Mark, Outcome, Protocol, RdpFacts, Stage, TcpFacts, TlsFacts};

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
    /// The capture ends before the handshake did.
    CaptureIncomplete,
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
        }
    }

    /// Every code, in documentation order.
    pub const ALL: [CauseCode; 16] = [
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
    ];
}

impl fmt::Display for CauseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event a Windows peer's Schannel would write to its System log for this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    fn new(id: u32, logged_by: Side, alert_code: Option<u8>) -> Self {
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

/// The probable cause of a verdict (SCHEMA.md `cause`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// The cause code.
    pub code: CauseCode,
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
    fn new(code: CauseCode, explanation: impl Into<String>) -> Self {
        Cause {
            code,
            explanation: explanation.into(),
            schannel_event: None,
            related_events: Vec::new(),
            hints: Vec::new(),
        }
    }

    fn event(mut self, id: u32, logged_by: Side, alert: Option<u8>) -> Self {
        let e = SchannelEvent::new(id, logged_by, alert);
        if self.schannel_event.is_none() {
            self.schannel_event = Some(e);
        } else {
            self.related_events.push(e);
        }
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

/// What [`decide`] looks at.
pub(crate) struct Input<'a> {
    pub completed: bool,
    pub stage: Stage,
    pub protocol: Protocol,
    pub tcp: &'a TcpFacts,
    pub closed_by: Option<(Side, CloseKind)>,
    pub alerts: &'a [AlertRecord],
    pub rdp: Option<&'a RdpFacts>,
    pub tls: Option<&'a TlsFacts>,
    pub tls13: bool,
    pub payload_seen: PerSide<bool>,
    pub packets: PerSide<u64>,
    pub start: Mark,
}

impl Input<'_> {
    fn close_mark(&self) -> Option<(Side, CloseKind, Mark)> {
        let (side, kind) = self.closed_by?;
        let m = match kind {
            CloseKind::Fin => self.tcp.first_fin?.at,
            CloseKind::Rst => self.tcp.first_rst?.at,
        };
        Some((side, kind, m))
    }

    /// The first alert that ends a handshake: fatal, encrypted or inferred, or a warning close_notify /
    /// user_canceled (which announces a close).
    fn ending_alert(&self) -> Option<&AlertRecord> {
        self.alerts
            .iter()
            .find(|a| match (a.alert.level, a.alert.description) {
                (Some(l), Some(d)) => l.0 == 2 || d.0 == 0 || d.0 == 90,
                _ => true,
            })
    }

    fn client_hello(&self) -> Option<&ClientHello> {
        self.tls.and_then(|t| t.client_hello.as_ref())
    }
}

/// Decides outcome and cause from a connection's facts.
pub(crate) fn decide(i: &Input<'_>) -> (Outcome, Cause) {
    if i.completed {
        if let Some(c) = nla_failure(i) {
            return (Outcome::Failed, c);
        }
        return (
            Outcome::Completed,
            Cause::new(CauseCode::None, "The TLS handshake completed."),
        );
    }
    if i.tcp.syn.is_some()
        && i.tcp.syn_ack.is_none()
        && !i.payload_seen.server
        && !i.payload_seen.client
    {
        if i.tcp.first_rst.is_some_and(|r| r.side == Side::Server) {
            return (
                Outcome::Failed,
                Cause::new(
                    CauseCode::TcpRefused,
                    "The server answered the SYN with RST: nothing listens on that port, or a firewall rejects the connection.",
                )
                .hint("Check that the service runs and listens on this port, and the host firewall allows it."),
            );
        }
        if i.packets.server == 0 {
            return (
                Outcome::Failed,
                Cause::new(
                    CauseCode::TcpUnanswered,
                    "The SYN was never answered: the server is down or unreachable, or a firewall drops the connection silently.",
                )
                .hint("Check routing and firewalls (network security groups, host firewall) between the client and the server."),
            );
        }
    }
    if let Some(rdp) = i.rdp {
        if let Some(code) = rdp.failure {
            return (Outcome::Failed, rdp_failure(rdp, code));
        }
        if rdp.confirmed && rdp.selected == Some(Protocols::RDP) && i.tls.is_none() {
            return (
                Outcome::NotTls,
                Cause::new(
                    CauseCode::None,
                    "RDP negotiated standard RDP security: no TLS is used on this connection.",
                )
                .hint("Standard RDP security is weak; require TLS or NLA on the server (Security Layer = SSL/Negotiate)."),
            );
        }
    }
    if i.tls.is_none()
        && i.protocol == Protocol::Other
        && (i.payload_seen.client || i.payload_seen.server)
    {
        return (
            Outcome::NotTls,
            Cause::new(
                CauseCode::None,
                "The connection carried data that is not TLS (nor RDP negotiation).",
            ),
        );
    }
    let nothing_sent =
        !i.payload_seen.client && !i.payload_seen.server && i.rdp.is_none() && i.tls.is_none();
    if nothing_sent && i.closed_by.is_some_and(|(side, _)| side == Side::Client) {
        return (
            Outcome::NotTls,
            Cause::new(
                CauseCode::None,
                "The client closed the connection without sending anything: no handshake was attempted (a port check or an unused preconnection).",
            ),
        );
    }
    let alert = i.ending_alert();
    let close = i.close_mark();
    match (alert, close) {
        (Some(a), Some((_, _, m))) if a.at.frame <= m.frame => (Outcome::Failed, from_alert(i, a)),
        (Some(a), None) => (Outcome::Failed, from_alert(i, a)),
        (_, Some((side, kind, m))) => (Outcome::Failed, from_close(i, side, kind, m)),
        (None, None) => (
            Outcome::Incomplete,
            Cause::new(
                CauseCode::CaptureIncomplete,
                format!(
                    "The capture ends before the handshake did (last step seen: {}).",
                    i.stage.as_str()
                ),
            )
            .hint("Capture for longer, or start the capture before the client connects."),
        ),
    }
}

fn ms(from: Option<Mark>, to: Mark) -> String {
    match from {
        Some(f) => format!(" {:.0} ms", to.ts.millis_since(f.ts).max(0.0)),
        None => String::new(),
    }
}

fn hello_summary(ch: &ClientHello) -> String {
    let suites = ch
        .cipher_suites
        .iter()
        .filter(|s| !s.is_grease() && !s.is_signalling())
        .count();
    format!(
        "a {} ClientHello offering {suites} cipher suites",
        ch.highest_version()
    )
}

/// How many of the client's suites a certificate of each key type could serve (TLS 1.2 and earlier).
fn suite_auth_counts(ch: &ClientHello) -> (usize, usize, usize) {
    let (mut rsa, mut ecdsa, mut tls13) = (0, 0, 0);
    for s in &ch.cipher_suites {
        match s.auth() {
            SuiteAuth::Rsa => rsa += 1,
            SuiteAuth::Ecdsa => ecdsa += 1,
            SuiteAuth::Any => tls13 += 1,
            _ => {}
        }
    }
    (rsa, ecdsa, tls13)
}

fn old_client_hints(mut c: Cause, ch: &ClientHello) -> Cause {
    let top = ch.highest_version();
    if !top.is_tls13_or_draft() && top.0 <= 0x0301 {
        c = c.hint(format!(
            "The client offers at most {top}. On a Windows 7 / Server 2008 R2 client enable TLS 1.1 and 1.2 under \
             HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client \
             (Enabled=1, DisabledByDefault=0); the Remote Desktop client also needs the update that lets RDP use \
             TLS 1.1/1.2 (KB3080079)."
        ));
    }
    c
}

fn key_type_hint(mut c: Cause, i: &Input<'_>) -> Cause {
    let Some(ch) = i.client_hello() else { return c };
    let (rsa, ecdsa, tls13) = suite_auth_counts(ch);
    let cert = i
        .tls
        .and_then(|t| t.certificate.as_ref())
        .and_then(|c| c.key_type.as_ref());
    match cert {
        Some(k) if k.algorithm == KeyAlgorithm::Ec && ecdsa == 0 && tls13 == 0 => {
            c = c.hint(format!(
                "The server certificate has an {k} key, but the client offers no ECDSA cipher suite: use an RSA certificate or enable ECDHE_ECDSA suites on the client."
            ));
        }
        Some(k) if k.algorithm == KeyAlgorithm::Rsa && rsa == 0 && tls13 == 0 => {
            c = c.hint(format!(
                "The server certificate has an {k} key, but the client offers only ECDSA cipher suites: use an ECDSA certificate or enable RSA suites on the client."
            ));
        }
        _ if rsa + ecdsa == 0 && tls13 > 0 => {
            let algs: Vec<String> = ch
                .signature_algorithms
                .iter()
                .filter(|a| !a.is_grease())
                .map(|a| a.to_string())
                .collect();
            c = c.hint(format!(
                "The client offers only TLS 1.3 suites: the server certificate's key must suit one of its signature algorithms ({}).",
                algs.join(", ")
            ));
        }
        _ => {
            c = c.hint(format!(
                "Check the server certificate's key type against the client's suites: it offers {rsa} suites for an RSA certificate, {ecdsa} for an ECDSA certificate{}.",
                if tls13 > 0 { format!(" and {tls13} TLS 1.3 suites") } else { String::new() }
            ));
        }
    }
    c
}

fn cert_time_hint(mut c: Cause, i: &Input<'_>) -> Cause {
    let Some(cert) = i.tls.and_then(|t| t.certificate.as_ref()) else {
        return c;
    };
    if let Some(na) = cert.not_after
        && na < i.start.ts
    {
        c = c.hint(format!(
                "The server certificate ({}) had already expired at the capture's time: not after {na}.",
                cert.subject
            ));
    }
    if let Some(nb) = cert.not_before
        && nb > i.start.ts
    {
        c = c.hint(format!(
            "The server certificate ({}) was not yet valid at the capture's time: not before {nb}.",
            cert.subject
        ));
    }
    if cert.self_signed {
        c = c.hint(format!(
            "The server certificate ({}) is self-signed: clients trust it only if it is installed in their trusted root store.",
            cert.subject
        ));
    }
    c
}

fn from_alert(i: &Input<'_>, a: &AlertRecord) -> Cause {
    let sender = a.from;
    let receiver = sender.peer();
    let code = a.alert.description.map(|d| d.0);
    let name = match (a.alert.level, a.alert.description) {
        (Some(l), Some(d)) => format!("{l} alert {d}"),
        _ if a.inferred => {
            "an encrypted alert (inferred from a short protected record just before it closed)"
                .to_string()
        }
        _ => "an encrypted alert".to_string(),
    };
    let ch_at = i.tls.and_then(|t| t.client_hello_at);
    let after = match (i.client_hello(), i.stage) {
        (Some(ch), Stage::ClientHello) => {
            format!("{} after {}", ms(ch_at, a.at), hello_summary(ch))
        }
        _ => format!(" at stage {}", i.stage.as_str()),
    };
    let then = match i.closed_by {
        Some((side, kind)) => format!(
            "; the {side} then closed with {}",
            kind.as_str().to_uppercase()
        ),
        None => String::new(),
    };
    let what = format!("The {sender} sent {name}{after}{then}.");
    let alert_events = |c: Cause| match code {
        Some(n) => c
            .event(36888, sender, Some(n))
            .event(36887, receiver, Some(n)),
        None => c,
    };
    match code {
        Some(40) | Some(71) if sender == Side::Server && i.stage <= Stage::ClientHello => {
            let mut c = Cause::new(
                CauseCode::NoSharedCipher,
                format!("{what} The server found nothing it could accept in the client's offer: no common cipher suite (in TLS 1.3 also no common key-exchange group or signature algorithm), or no certificate usable with them."),
            )
            .event(36874, Side::Server, None);
            c = alert_events(c);
            c = c.hint("On a Windows server the enabled suites come from the cipher suite order policy (Get-TlsCipherSuite, GPO 'SSL Cipher Suite Order'); the SCHANNEL\\Protocols registry keys only switch protocol versions, not suites.");
            c = key_type_hint(c, i);
            if let Some(ch) = i.client_hello() {
                if ch.highest_version().is_tls13_or_draft() && !ch.supported_groups.is_empty() {
                    let groups: Vec<String> = ch.supported_groups.iter().filter(|g| !g.is_grease()).map(|g| g.to_string()).collect();
                    c = c.hint(format!("The client offered the key-exchange groups {}; a TLS 1.3 server needs one of them enabled too.", groups.join(", ")));
                }
                c = old_client_hints(c, ch);
            }
            c
        }
        Some(40) | Some(71) if sender == Side::Server && i.tls.is_some_and(|t| t.certificate_requested) => {
            let c = Cause::new(
                CauseCode::ClientCertificateRequired,
                format!("{what} The server asked for a client certificate and the client sent none (or one the server would not accept)."),
            );
            alert_events(c).hint("Install a client certificate the server trusts, or stop requiring client certificates on the server.")
        }
        Some(70) => {
            let mut c = Cause::new(
                CauseCode::ProtocolVersion,
                format!("{what} The peers have no TLS version in common."),
            );
            c = alert_events(c);
            if let Some(ch) = i.client_hello() {
                let offered: Vec<String> = if ch.supported_versions.is_empty() {
                    vec![ch.legacy_version.to_string()]
                } else {
                    ch.supported_versions.iter().filter(|v| !v.is_grease()).map(|v| v.to_string()).collect()
                };
                c = c.hint(format!("The client offered: {}. Enable a common version on both ends.", offered.join(", ")));
                c = old_client_hints(c, ch);
            }
            c
        }
        Some(42..=46) | Some(48) => {
            let mut c = if sender == Side::Client {
                Cause::new(CauseCode::CertificateRejected, format!("{what} The client rejected the server's certificate."))
            } else {
                Cause::new(CauseCode::CertificateRejected, format!("{what} The server rejected the client's certificate."))
            };
            if sender == Side::Client {
                let id = match code {
                    Some(45) => 36881,
                    Some(48) => 36882,
                    Some(44) => 36883,
                    _ => 36876,
                };
                c = c.event(id, Side::Client, None);
            }
            c = alert_events(c);
            if code == Some(48) {
                c = c.hint("unknown_ca: the certificate's issuer is not trusted by the peer: install the issuing CA (and any intermediate) in the peer's trust store, or have the server send its full chain.");
            }
            cert_time_hint(c, i)
        }
        Some(116) => alert_events(Cause::new(
            CauseCode::ClientCertificateRequired,
            format!("{what} The server requires a client certificate and the client did not send one."),
        ))
        .hint("Install a client certificate the server trusts, or stop requiring client certificates on the server."),
        Some(112) => {
            let sni = i.client_hello().and_then(|c| c.sni.clone());
            let c = Cause::new(
                CauseCode::UnrecognizedName,
                format!("{what} The server does not serve the name the client asked for (SNI {}).", sni.as_deref().unwrap_or("absent")),
            );
            alert_events(c).hint("Connect with a name the server has a certificate and binding for, or configure it on the server.")
        }
        None if i.tls13 && sender == Side::Client => {
            let c = Cause::new(
                CauseCode::CertificateRejected,
                format!("{what} In TLS 1.3 a client aborting right after the server's encrypted flight is almost always rejecting the server's certificate (untrusted issuer, wrong name, expired)."),
            )
            .event(36876, Side::Client, None);
            cert_time_hint(c, i).hint("Decrypt with a key log (SSLKEYLOGFILE) to see the exact alert, or check the client's certificate validation log.")
        }
        None if i.tls13 && sender == Side::Server => Cause::new(
            CauseCode::ClientCertificateRequired,
            format!("{what} In TLS 1.3 a server aborting after the client's Finished is almost always refusing the client's certificate or its absence."),
        )
        .hint("Check whether the server requires client certificates and whether the client has one it trusts."),
        _ => {
            let c = Cause::new(CauseCode::PeerAlert, format!("{what} See the alerts for details."));
            let c = alert_events(c);
            if code.is_none() {
                c.hint("The alert is encrypted; decrypt with a key log (SSLKEYLOGFILE) to see it. After a key change it is often bad_record_mac or decrypt_error (mismatched keys, a middlebox altering records).")
            } else {
                c
            }
        }
    }
}

fn from_close(i: &Input<'_>, side: Side, kind: CloseKind, m: Mark) -> Cause {
    let code = match (side, kind) {
        (Side::Server, CloseKind::Rst) => CauseCode::ServerReset,
        (Side::Server, CloseKind::Fin) => CauseCode::ServerClosed,
        (Side::Client, CloseKind::Rst) => CauseCode::ClientReset,
        (Side::Client, CloseKind::Fin) => CauseCode::ClientClosed,
    };
    let how = match kind {
        CloseKind::Rst => "reset the connection (RST)",
        CloseKind::Fin => "closed the connection (FIN)",
    };
    let ch_at = i.tls.and_then(|t| t.client_hello_at);
    let when = match (i.stage, i.client_hello()) {
        (Stage::ClientHello, Some(ch)) => format!(
            "{} after {}, without an alert",
            ms(ch_at, m),
            hello_summary(ch)
        ),
        (s, _) => format!(" at stage {} without an alert", s.as_str()),
    };
    let mut c = Cause::new(code, format!("The {side} {how}{when}."));
    match (side, i.stage) {
        (Side::Server, Stage::ClientHello) => {
            c.explanation.push_str(" Servers do this when they cannot use their certificate or support none of the client's versions.");
            c = c
                .event(36870, Side::Server, None)
                .event(36871, Side::Server, None)
                .event(36886, Side::Server, None)
                .hint("On a Windows server look for Schannel 36870/36871 (the certificate's private key cannot be used, e.g. permissions on MachineKeys) or 36886 (no server credential); for RDP check the certificate bound to the listener.");
            if let Some(ch) = i.client_hello() {
                c = old_client_hints(c, ch);
            }
        }
        (
            Side::Client,
            Stage::ServerHello
            | Stage::ServerCertificate
            | Stage::ServerHelloDone
            | Stage::EncryptedHandshake,
        ) => {
            c.explanation.push_str(" Clients that hang up right after the server's hello usually reject the certificate or the negotiated parameters without saying so.");
            c = cert_time_hint(c, i);
        }
        (_, Stage::TcpEstablished | Stage::TcpSyn) => {
            c.explanation.push_str(" No handshake had started.");
        }
        (Side::Server, Stage::RdpRequest) => {
            c.explanation
                .push_str(" The RDP server hung up on the X.224 Connection Request.");
        }
        _ => {}
    }
    c
}

fn rdp_failure(rdp: &RdpFacts, code: crate::rdp::FailureCode) -> Cause {
    let requested = rdp
        .requested
        .map(|p| p.names().join(", "))
        .unwrap_or_else(|| "nothing (no RDP_NEG_REQ)".into());
    let mut c = Cause::new(
        CauseCode::RdpNegotiationFailure,
        format!(
            "The RDP server refused the negotiation with {code}: {} The client requested: {requested}.",
            code.meaning()
        ),
    );
    match code.0 {
        1 | 5 | 6 => {
            if rdp.requested.is_none_or(|p| p == Protocols::RDP) {
                c = c.hint("The client asked only for standard RDP security while the server requires TLS or NLA: enable TLS/NLA on the client (or, less safely, allow standard security on the server).");
            } else {
                c = c.hint("Enable on the client the security protocol the server requires (NLA/CredSSP for HYBRID_REQUIRED_BY_SERVER).");
            }
        }
        2 => c = c.hint("The server allows only standard RDP security: enable TLS on the server (Security Layer = SSL or Negotiate)."),
        3 => c = c.hint("The server has no certificate for TLS: check the certificate configured for the RDP listener and Schannel 36870/36886 on the server."),
        _ => {}
    }
    c
}

fn nla_failure(i: &Input<'_>) -> Option<Cause> {
    let rdp = i.rdp?;
    let selected = rdp.selected?;
    if selected.0 & (Protocols::HYBRID.0 | Protocols::HYBRID_EX.0) == 0 {
        return None;
    }
    let (side, kind) = i.closed_by?;
    let tls = i.tls?;
    if tls.application_records.client == 0 {
        // CredSSP never started: not an authentication failure.
        return None;
    }
    // CredSSP is a few round trips; a session that got past it carries far more records.
    let records = tls.application_records.client + tls.application_records.server;
    if records > 16 {
        return None;
    }
    Some(
        Cause::new(
            CauseCode::NlaFailure,
            format!(
                "TLS completed and CredSSP (NLA) started, then the {side} closed with {} after {records} encrypted records: a probable authentication failure.",
                kind.as_str().to_uppercase()
            ),
        )
        .hint("Check the user name, password and domain, that the account may log on remotely, and the server's Security log (event 4625)."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::tls::{Alert, AlertDescription, AlertLevel};
    use crate::verdict::SideMark;

    fn mark(frame: u64) -> Mark {
        Mark {
            frame,
            ts: Timestamp::from_secs_nanos(1_000, frame as u32 * 1_000_000),
        }
    }

    fn alert(from: Side, frame: u64, level: u8, code: u8) -> AlertRecord {
        AlertRecord {
            from,
            alert: Alert {
                level: Some(AlertLevel(level)),
                description: Some(AlertDescription(code)),
                encrypted: false,
            },
            inferred: false,
            at: mark(frame),
        }
    }

    struct Case {
        tcp: TcpFacts,
        alerts: Vec<AlertRecord>,
        stage: Stage,
        tls: Option<TlsFacts>,
        rdp: Option<RdpFacts>,
        tls13: bool,
        payload: PerSide<bool>,
        packets: PerSide<u64>,
    }

    impl Case {
        fn tls(stage: Stage) -> Self {
            Case {
                tcp: TcpFacts {
                    syn: Some(mark(1)),
                    syn_ack: Some(mark(2)),
                    ..TcpFacts::default()
                },
                alerts: Vec::new(),
                stage,
                tls: Some(TlsFacts::default()),
                rdp: None,
                tls13: false,
                payload: PerSide::new(true, true),
                packets: PerSide::new(5, 5),
            }
        }

        fn fin(mut self, side: Side, frame: u64) -> Self {
            self.tcp.first_fin = Some(SideMark {
                side,
                at: mark(frame),
            });
            self
        }

        fn rst(mut self, side: Side, frame: u64) -> Self {
            self.tcp.first_rst = Some(SideMark {
                side,
                at: mark(frame),
            });
            self
        }

        fn decide(&self) -> (Outcome, Cause) {
            let closed_by = self.tcp.closed_by();
            decide(&Input {
                completed: false,
                stage: self.stage,
                protocol: if self.rdp.is_some() {
                    Protocol::Rdp
                } else {
                    Protocol::Tls
                },
                tcp: &self.tcp,
                closed_by,
                alerts: &self.alerts,
                rdp: self.rdp.as_ref(),
                tls: self.tls.as_ref(),
                tls13: self.tls13,
                payload_seen: self.payload,
                packets: self.packets,
                start: mark(1),
            })
        }
    }

    #[test]
    fn codes_have_schema_names() {
        let names: Vec<&str> = CauseCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), 16);
        assert!(names.contains(&"no_shared_cipher") && names.contains(&"capture_incomplete"));
    }

    #[test]
    fn server_handshake_failure_after_client_hello_is_no_shared_cipher_with_36874() {
        let mut c = Case::tls(Stage::ClientHello).fin(Side::Client, 6);
        c.alerts.push(alert(Side::Server, 5, 2, 40));
        let (outcome, cause) = c.decide();
        assert_eq!(
            (outcome, cause.code),
            (Outcome::Failed, CauseCode::NoSharedCipher)
        );
        assert_eq!(
            cause.schannel_event.map(|e| (e.id, e.logged_by)),
            Some((36874, Side::Server))
        );
        let related: Vec<(u32, Side, Option<u8>)> = cause
            .related_events
            .iter()
            .map(|e| (e.id, e.logged_by, e.alert_code))
            .collect();
        assert_eq!(
            related,
            [
                (36888, Side::Server, Some(40)),
                (36887, Side::Client, Some(40))
            ]
        );
        assert!(
            cause.explanation.contains("client then closed with FIN"),
            "{}",
            cause.explanation
        );
    }

    #[test]
    fn the_first_close_wins_over_a_later_alert() {
        // OpenSSL answers a peer's EOF with decode_error: an effect, not the cause.
        let mut c = Case::tls(Stage::ServerHelloDone).fin(Side::Client, 8);
        c.alerts.push(alert(Side::Server, 9, 2, 50));
        assert_eq!(c.decide().1.code, CauseCode::ClientClosed);
        let mut c = Case::tls(Stage::ServerHelloDone).rst(Side::Server, 8);
        c.alerts.push(alert(Side::Client, 9, 2, 48));
        assert_eq!(c.decide().1.code, CauseCode::ServerReset);
    }

    #[test]
    fn a_warning_alert_does_not_end_the_handshake_but_close_notify_does() {
        let mut c = Case::tls(Stage::ServerHelloDone).fin(Side::Client, 9);
        c.alerts.push(alert(Side::Server, 5, 1, 112));
        assert_eq!(c.decide().1.code, CauseCode::ClientClosed);
        let mut c = Case::tls(Stage::ServerHelloDone).fin(Side::Client, 9);
        c.alerts.push(alert(Side::Client, 8, 1, 0));
        assert_eq!(c.decide().1.code, CauseCode::PeerAlert);
    }

    #[test]
    fn certificate_alerts_map_to_their_schannel_events() {
        for (code, id) in [(45u8, 36881u32), (48, 36882), (44, 36883), (42, 36876)] {
            let mut c = Case::tls(Stage::ServerHelloDone).fin(Side::Client, 9);
            c.alerts.push(alert(Side::Client, 8, 2, code));
            let (_, cause) = c.decide();
            assert_eq!(cause.code, CauseCode::CertificateRejected, "alert {code}");
            assert_eq!(
                cause.schannel_event.map(|e| (e.id, e.logged_by)),
                Some((id, Side::Client)),
                "alert {code}"
            );
        }
    }

    #[test]
    fn tls13_inferred_alerts_point_at_certificates() {
        let inferred = |from| AlertRecord {
            from,
            alert: Alert {
                level: None,
                description: None,
                encrypted: true,
            },
            inferred: true,
            at: mark(7),
        };
        let mut c = Case::tls(Stage::EncryptedHandshake).fin(Side::Client, 8);
        c.tls13 = true;
        c.alerts.push(inferred(Side::Client));
        assert_eq!(c.decide().1.code, CauseCode::CertificateRejected);
        let mut c = Case::tls(Stage::EncryptedHandshake).fin(Side::Server, 8);
        c.tls13 = true;
        c.alerts.push(inferred(Side::Server));
        assert_eq!(c.decide().1.code, CauseCode::ClientCertificateRequired);
    }

    #[test]
    fn tcp_level_failures() {
        let mut c = Case::tls(Stage::TcpSyn).rst(Side::Server, 2);
        c.tcp.syn_ack = None;
        c.tls = None;
        c.payload = PerSide::default();
        c.packets = PerSide::new(1, 1);
        assert_eq!(c.decide().1.code, CauseCode::TcpRefused);
        c.tcp.first_rst = None;
        c.packets = PerSide::new(3, 0);
        assert_eq!(c.decide().1.code, CauseCode::TcpUnanswered);
    }

    #[test]
    fn rdp_failure_and_standard_security() {
        let mut c = Case::tls(Stage::RdpConfirm).fin(Side::Client, 9);
        c.tls = None;
        c.rdp = Some(RdpFacts {
            requested: Some(Protocols::RDP),
            confirmed: true,
            failure: Some(crate::rdp::FailureCode(1)),
            ..RdpFacts::default()
        });
        let (outcome, cause) = c.decide();
        assert_eq!(
            (outcome, cause.code),
            (Outcome::Failed, CauseCode::RdpNegotiationFailure)
        );
        assert!(
            cause
                .hints
                .iter()
                .any(|h| h.contains("standard RDP security")),
            "{:?}",
            cause.hints
        );
        c.rdp = Some(RdpFacts {
            requested: Some(Protocols::RDP),
            confirmed: true,
            selected: Some(Protocols::RDP),
            ..RdpFacts::default()
        });
        assert_eq!(c.decide().0, Outcome::NotTls);
    }

    #[test]
    fn nothing_ended_it_means_the_capture_did() {
        let c = Case::tls(Stage::ServerHello);
        assert_eq!(c.decide(), (Outcome::Incomplete, c.decide().1));
        assert_eq!(c.decide().1.code, CauseCode::CaptureIncomplete);
    }
}
