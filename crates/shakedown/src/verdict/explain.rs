//! The words of a verdict: the explanation, the hints and the Schannel events, written from a
//! [`Finding`] of the rule table and the connection's facts. Nothing here decides anything: every
//! branch is keyed by the finding's code and trigger, and by facts the finding already rests on.

use crate::Side;
use crate::rdp::credssp::{NtStatus, OracleRefusal};
use crate::rdp::{FailureCode, Protocols};
use crate::tls::{AlertDescription, ClientHello, KeyAlgorithm, SuiteAuth};

use super::rules::{Finding, Input, Trigger};
use super::{AlertRecord, Cause, CauseCode, CloseKind, Mark, RdpFacts, Stage, Step};

/// The cause of a finding, in words.
pub(crate) fn explain(i: &Input<'_>, f: Finding<'_>) -> Cause {
    let mut c = match f.trigger {
        Trigger::Completed => Cause::new(CauseCode::None, "The TLS handshake completed."),
        Trigger::CredSspOracle { refusal, client_version, server_version, code } => {
            credssp_oracle(refusal, client_version, server_version, code)
        }
        Trigger::CredSspError(code) => credssp_error(i, code),
        Trigger::CredSspNotAuthorized(result) => Cause::new(
            CauseCode::NlaFailure,
            format!(
                "CredSSP (NLA) completed, but the server's Early User Authorization Result is {result}: {}",
                result.meaning()
            ),
        )
        .hint("Add the user (or a group of theirs) to the server's Remote Desktop Users group, and check the 'Allow log on through Remote Desktop Services' and 'Deny log on through Remote Desktop Services' user rights (secpol.msc or GPO)."),
        Trigger::CredSspRefused { authentication, alert, kind } => {
            let token = i
                .timeline
                .iter()
                .find(|e| e.at == authentication && e.from == Side::Client)
                .and_then(|e| match e.step {
                    Step::TsRequest(t) => t.token,
                    _ => None,
                });
            let sent = match token {
                Some(t) => format!("its authentication ({t} with pubKeyAuth)"),
                None => "its authentication (pubKeyAuth)".to_string(),
            };
            let how = match (alert, kind) {
                (true, Some(k)) => format!("with a close_notify and {}", k.as_str().to_uppercase()),
                (true, None) => "with a close_notify".to_string(),
                (false, Some(k)) => format!("with {}", k.as_str().to_uppercase()),
                (false, None) => "the connection".to_string(),
            };
            Cause::new(
                CauseCode::NlaFailure,
                format!(
                    "CredSSP (NLA) failed: the client sent {sent} and the server ended the connection {how} instead of answering with its own pubKeyAuth: authentication was refused. The server sent no errorCode, so no NTSTATUS says why (FreeRDP's server and older Windows send none)."
                ),
            )
            .hint("Check the user name, password and domain, and that the account is not locked out, disabled or expired and may log on remotely.")
            .hint("The server's own log says why: on Windows the Security log's event 4625 with its status and sub-status; on FreeRDP its log at a debug level (its SAM file).")
        }
        Trigger::CredSspSucceeded => Cause::new(
            CauseCode::None,
            match i.rdp.and_then(|r| r.credssp.as_ref()).and_then(|c| c.early_user_authorization) {
                Some(_) => "The TLS handshake and CredSSP (NLA) completed: the server accepted the client's authentication and authorized the user (Early User Authorization Result), and the client sent its credentials.",
                None => "The TLS handshake and CredSSP (NLA) completed: the server accepted the client's authentication (pubKeyAuth) and the client sent its credentials.",
            },
        ),
        Trigger::CredSspEnded { side, kind, records } => {
            let c = Cause::new(
                CauseCode::NlaFailure,
                format!(
                    "TLS completed and CredSSP (NLA) started, then the {side} closed with {} after {records} encrypted records: a probable authentication failure.",
                    kind.as_str().to_uppercase()
                ),
            );
            match side {
                // The server ends CredSSP when it refuses the credentials.
                Side::Server => c
                    .hint("Check the user name, password and domain, that the account is not locked out, disabled or expired, that it may log on remotely (Remote Desktop Users, 'Allow log on through Remote Desktop Services'), and the server's Security log (event 4625 with its status code).")
                    .hint("Decrypt with a key log to read CredSSP's errorCode (e.g. 0xC000006D logon failure, 0xC0000071 password expired, 0xC0000234 account locked)."),
                // The client ends it when it refuses the server's CredSSP version or answer.
                Side::Client => c
                    .hint("A client that ends CredSSP itself often refuses the server's CredSSP version: the CredSSP encryption-oracle remediation (CVE-2018-0886). Update both ends, or align the client's 'Encryption Oracle Remediation' policy (registry AllowEncryptionOracle under CredSSP\\Parameters: 0 Force Updated Clients, 1 Mitigated, 2 Vulnerable) with the server's patch level.")
                    .hint("Check also the credentials the client holds for this server (saved credentials, smart card, Kerberos tickets)."),
            }
        }
        Trigger::RdpSelectionRefused { requested, selected, kind } => {
            let c = Cause::new(
                CauseCode::RdpNegotiationFailure,
                format!(
                    "The client asked for {} and the server selected {}; the client then hung up ({}) before any TLS byte: it will not use what the server offers.",
                    requested.names().join(", "),
                    selected.selected_name(),
                    kind.as_str().to_uppercase()
                ),
            );
            if requested.0 & 0x0a != 0 && selected.0 & 0x0a == 0 {
                c.hint("The client requires Network Level Authentication (CredSSP) and the server does not offer it: on the server enable 'Require user authentication for remote connections by using Network Level Authentication' (System Properties > Remote, or the GPO of that name; registry UserAuthentication=1 under the RDP-Tcp WinStation), and check that SecurityLayer is 1 (Negotiate) or 2 (TLS) — or, less safely, allow the client to connect without NLA (mstsc: enablecredsspsupport:i:0).")
            } else {
                c.hint("The client requires TLS and the server selected standard RDP security: set the server's Security Layer to Negotiate or SSL (TLS) and check its certificate.")
            }
        }
        Trigger::RdpCertificateRefused { kind } => {
            let c = Cause::new(
                CauseCode::CertificateRejected,
                format!(
                    "TLS completed, then the client closed ({}) without sending any RDP data (the MCS Connect Initial or CredSSP that follows TLS){}: the client refused the server's certificate, or the user cancelled at the certificate prompt.",
                    kind.as_str().to_uppercase(),
                    if i.after_completion.client.records > 0 { ", only an alert-sized record" } else { "" }
                ),
            );
            let c = cert_time_hint(c, i);
            let c = match i.tls.and_then(|t| t.certificate.as_ref()) {
                Some(cert) => c.hint(format!(
                    "The server's certificate: {} issued by {}{}. The client must trust its issuer and the name it connects to must be in it.",
                    cert.subject,
                    cert.issuer,
                    if cert.dns_names.is_empty() { String::new() } else { format!(", names {}", cert.dns_names.join(", ")) }
                )),
                None => c.hint("The certificate was sent encrypted (TLS 1.3): decrypt with a key log, or check it with the client's certificate warning."),
            };
            c.hint("On Windows the RDP listener's certificate is set in the WinStation (SSLCertificateSHA1Hash) or by GPO; mstsc shows why it distrusts it when run interactively. FreeRDP: /cert:tofu or /cert:ignore to test.")
        }
        Trigger::SynRefused if i.tls_port => Cause::new(
            CauseCode::TcpRefused,
            "The server answered the SYN with RST: nothing listens on that port, or a firewall rejects the connection.",
        )
        .hint("Check that the service runs and listens on this port, and the host firewall allows it."),
        Trigger::SynRefused => Cause::new(
            CauseCode::TcpRefused,
            format!("The server answered the SYN with RST: nothing listens on port {}. TLS is not customary there, so this is counted as a port probe or scan, not a failed TLS handshake.", i.server_port),
        ),
        Trigger::SynUnanswered if i.tls_port => Cause::new(
            CauseCode::TcpUnanswered,
            "The SYN was never answered: the server is down or unreachable, or a firewall drops the connection silently.",
        )
        .hint("Check routing and firewalls (network security groups, host firewall) between the client and the server."),
        Trigger::SynUnanswered => Cause::new(
            CauseCode::TcpUnanswered,
            format!("The SYN was never answered. TLS is not customary on port {}, so this is counted as a probe or scan, not a failed TLS handshake.", i.server_port),
        ),
        Trigger::RdpFailure(code) => match i.rdp {
            Some(rdp) => rdp_failure(rdp, code),
            None => Cause::new(CauseCode::RdpNegotiationFailure, format!("The RDP server refused the negotiation with {code}.")),
        },
        Trigger::RdpStandardSecurity => Cause::new(
            CauseCode::None,
            "RDP negotiated standard RDP security: no TLS is used on this connection.",
        )
        .hint("Standard RDP security is weak; require TLS or NLA on the server (Security Layer = SSL/Negotiate)."),
        Trigger::NotTlsPayload => Cause::new(
            CauseCode::None,
            "The connection carried data that is not TLS (nor RDP negotiation).",
        ),
        Trigger::ServerNotTls { preview } => server_not_tls(i, preview),
        Trigger::ClientNotTls { preview } => Cause::new(
            CauseCode::ClientNotTls,
            format!(
                "The client sent bytes that are not TLS (\"{preview}\"{}) to a server that {}: the client speaks the plain protocol to a TLS port.",
                if preview.is_text() { "" } else { ", not text" },
                if i.alerts.iter().any(|a| a.from == Side::Server) {
                    "answered with a TLS alert"
                } else {
                    "then closed"
                }
            ),
        )
        .hint("Point the client at the port that serves the plain protocol, or make it use TLS (https://, ldaps://, the client's TLS or SSL option) for this port."),
        Trigger::NotTlsAfterAll => Cause::new(
            CauseCode::None,
            "The first bytes looked like a TLS record header, but nothing that followed was TLS: the connection carried another protocol.",
        ),
        Trigger::NoPayloadOffTlsPort => Cause::new(
            CauseCode::None,
            format!(
                "The connection was opened and closed without a byte of payload, on port {} where TLS is not customary: a health check, a probe or a scan rather than a TLS attempt.",
                i.server_port
            ),
        ),
        Trigger::NothingSent => Cause::new(
            CauseCode::None,
            "The client closed the connection without sending anything: no handshake was attempted (a port check or an unused preconnection).",
        ),
        Trigger::Alert(a) => from_alert(i, a, f.code),
        Trigger::Close { side, kind, at } => from_close(i, f.code, side, kind, at),
        Trigger::OneSided { captured } => Cause::new(
            CauseCode::CaptureIncomplete,
            format!(
                "The capture holds only the {captured}'s packets, yet the {missing} answered: the {captured} acknowledged bytes of it{went}. The {missing}'s direction was not captured (asymmetric routing, a capture filter on one direction, a mirror port that sees one way): nothing can be said of how the handshake went.",
                missing = captured.peer(),
                went = if captured == Side::Client && i.stage >= Stage::ClientKeyExchange {
                    " and went on past its hello"
                } else {
                    ""
                }
            ),
        )
        .hint("Capture where both directions pass (on one of the two hosts, or on a port that mirrors both directions), or drop the direction filter."),
        Trigger::ServerSilent { kind, waited_ms, acked } => {
            let how = match kind {
                CloseKind::Fin => "closed the connection (FIN)",
                CloseKind::Rst => "reset the connection (RST)",
            };
            let waited = if waited_ms >= 1000.0 {
                format!("{:.1} s", waited_ms / 1000.0)
            } else {
                format!("{waited_ms:.0} ms")
            };
            let reached = if acked {
                "The server acknowledged the ClientHello at TCP level, so it arrived, but never answered it"
            } else {
                "The server never acknowledged the ClientHello, so it may not have arrived at all"
            };
            let mut c = Cause::new(
                f.code,
                format!(
                    "The server never answered: the client sent {}, waited {waited} and {how}. {reached}.",
                    i.client_hello().map(hello_summary).unwrap_or_else(|| "its ClientHello".into())
                ),
            );
            c = if acked {
                c.hint("A server that takes the connection but stays silent: its TLS stack is stuck (no certificate loaded, a hung worker), or it is a service that waits for the client to speak its own protocol first; a proxy or IPS holding the ClientHello (SNI filtering) looks the same from the client.")
            } else {
                c.hint("Nothing acknowledged the ClientHello: a firewall dropping it (an SNI filter), or a path that loses large packets (a big ClientHello, e.g. with post-quantum key shares, needs more than one full-size segment).")
            };
            c.hint("Capture on the server as well to see whether the ClientHello arrives and what the server does with it.")
        }
        Trigger::MiddleboxReset { claimed, rst_hop_limit, usual, ids, too_soon } => {
            let range = if usual.min == usual.max {
                format!("{}", usual.min)
            } else {
                format!("{} to {}", usual.min, usual.max)
            };
            let mut id = ids
                .map(|(id, prev)| format!(", and its IP ID {id} is out of the {claimed}'s sequence (its packet before had {prev})"))
                .unwrap_or_default();
            if let Some((delay, rtt)) = too_soon {
                id.push_str(&format!(
                    "; it came {delay:.2} ms after the packet it answers, sooner than the {claimed} can answer (the handshake's round trip was {rtt:.2} ms)"
                ));
            }
            let when = match (claimed, i.stage) {
                (Side::Server, Stage::ClientHello) => " right after the ClientHello (typical of a firewall or IPS that blocks by SNI)",
                _ => "",
            };
            let sni = i
                .client_hello()
                .and_then(|ch| ch.sni.as_deref())
                .map(|s| format!(" The ClientHello asked for {s}."))
                .unwrap_or_default();
            Cause::new(
                CauseCode::MiddleboxReset,
                format!(
                    "The connection was reset{when} by an RST that claims to come from the {claimed}, but it arrived with TTL/hop limit {rst_hop_limit} where every other packet of the {claimed} arrived with {range}{id}: the {claimed} did not send it. A firewall, IPS or proxy between the peers cut the connection.{sni}"
                ),
            )
            .hint("Look in the logs of the firewalls, IPS/IDS and proxies on the path for this connection (policies that block by SNI or certificate name, TLS inspection, geo-blocking).")
            .hint(format!("A capture at the {claimed} would show no RST sent by it; the TTL difference tells how many hops from the capture point the device is."))
        }
        Trigger::PathMtuBlackhole { sender, near_sender } => {
            let largest = i.tcp.largest_segment[sender];
            let seen = if near_sender {
                format!(
                    "The {sender} sent segments of up to {largest} bytes and retransmitted {} bytes of them, and the {peer} never acknowledged them, while its small packets got through",
                    i.tcp.retransmitted_bytes[sender],
                    peer = sender.peer()
                )
            } else {
                format!(
                    "The {peer} acknowledged what it sent, yet of the {sender}'s answer only small pieces arrived (segments of up to {largest} bytes, {} bytes missing that were never captured)",
                    i.tcp.gap_bytes[sender],
                    peer = sender.peer()
                )
            };
            Cause::new(
                CauseCode::PathMtuBlackhole,
                format!(
                    "{seen}: full-size packets from the {sender} do not reach the {peer}, and the handshake stalls until the {peer} gives up. This is a path MTU black hole: a link with a smaller MTU drops them and the ICMP \"fragmentation needed\" (IPv6 \"packet too big\") that should tell the {sender} to send smaller ones is filtered.",
                    peer = sender.peer()
                ),
            )
            .hint("Let ICMP type 3 code 4 (IPv6: type 2) through the firewalls on the path, or clamp the TCP MSS on the VPN/tunnel device (iptables --clamp-mss-to-pmtu, 'ip tcp adjust-mss').")
            .hint("As a quick test, lower the MTU of the sender's interface (e.g. 1400; Windows: netsh interface ipv4 set subinterface \"NAME\" mtu=1400 store=persistent) or enable TCP MTU probing (Linux net.ipv4.tcp_mtu_probing=1).")
        }
        Trigger::CaptureEnded => Cause::new(
            CauseCode::CaptureIncomplete,
            format!(
                "The capture ends before the handshake did (last step seen: {}).",
                i.stage.as_str()
            ),
        )
        .hint("Capture for longer, or start the capture before the client connects."),
    };
    c = cut_by_snap_length(i, c);
    if matches!(
        f.code,
        CauseCode::ServerReset
            | CauseCode::ServerClosed
            | CauseCode::MiddleboxReset
            | CauseCode::ClientClosed
            | CauseCode::ClientReset
    ) && i.stage <= Stage::ClientHello
    {
        c = large_hello_hint(c, i);
    }
    // The finding decides; the words only follow it.
    c.code = f.code;
    c.confidence = f.confidence;
    c.evidence = f.evidence;
    c
}

/// The CredSSP encryption-oracle remediation mismatch (CVE-2018-0886, KB 4093492).
fn credssp_oracle(
    refusal: OracleRefusal,
    client_version: u32,
    server_version: u32,
    code: Option<NtStatus>,
) -> Cause {
    let with_code = code
        .map(|c| format!(" (its errorCode: {c}, 0x{:08X})", c.0))
        .unwrap_or_default();
    match refusal {
        OracleRefusal::ClientRefusedServer => Cause::new(
            CauseCode::NlaFailure,
            format!(
                "CredSSP (NLA) failed: the client speaks CredSSP version {client_version} and the server version {server_version}, and the client stopped after the server's TSRequest without sending its authentication. An updated client refuses a server without the CVE-2018-0886 update (the CredSSP encryption-oracle remediation) under its 'Force Updated Clients' or 'Mitigated' policy."
            ),
        )
        .hint("Install the CredSSP update (March 2018 or later) on the server: it then speaks version 6.")
        .hint("As a temporary, less safe measure, set the client's 'Encryption Oracle Remediation' policy to Vulnerable (registry AllowEncryptionOracle=2 under HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters)."),
        OracleRefusal::ServerRefusedClient => Cause::new(
            CauseCode::NlaFailure,
            format!(
                "CredSSP (NLA) failed: the client speaks CredSSP version {client_version} and the server version {server_version}, and the server refused the client{with_code}. An updated server with the 'Force Updated Clients' policy refuses a client without the CVE-2018-0886 update (the CredSSP encryption-oracle remediation)."
            ),
        )
        .hint("Install the CredSSP update (March 2018 or later) on the client, or use a current RDP client.")
        .hint("As a temporary, less safe measure, set the server's 'Encryption Oracle Remediation' policy to Mitigated (registry AllowEncryptionOracle=1 under HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters)."),
    }
}

/// A TSRequest's errorCode, with its meaning and what to do about it.
fn credssp_error(i: &Input<'_>, code: NtStatus) -> Cause {
    let from = i
        .rdp
        .and_then(|r| r.credssp.as_ref())
        .and_then(|c| c.error)
        .and_then(|(_, at)| {
            i.timeline
                .iter()
                .find(|e| e.at == at && matches!(e.step, Step::TsRequest(_)))
        })
        .map_or(Side::Server, |e| e.from);
    let c = Cause::new(
        CauseCode::NlaFailure,
        format!(
            "CredSSP (NLA) failed: the {from}'s TSRequest carried errorCode {code} (0x{:08X}): {}",
            code.0,
            code.meaning()
        ),
    );
    let c = match code {
        NtStatus::LOGON_FAILURE | NtStatus::WRONG_PASSWORD | NtStatus::NO_SUCH_USER => c
            .hint("Check the user name, the password and the domain (DOMAIN\\user or user@domain) the client sends; saved credentials may be stale."),
        NtStatus::ACCOUNT_LOCKED_OUT => c
            .hint("Unlock the account (Active Directory Users and Computers, or wait for the lockout duration), then find what keeps sending a wrong password (saved credentials, a mapped drive, a service)."),
        NtStatus::PASSWORD_EXPIRED | NtStatus::PASSWORD_MUST_CHANGE => c
            .hint("Change the password before connecting: NLA cannot change it during the logon (change it elsewhere, or let the user log on once without NLA to change it)."),
        NtStatus::ACCOUNT_DISABLED | NtStatus::ACCOUNT_EXPIRED => c
            .hint("Enable the account, or extend its expiry date."),
        NtStatus::LOGON_TYPE_NOT_GRANTED => c
            .hint("Grant the user the 'Allow log on through Remote Desktop Services' right (add them to Remote Desktop Users), and check they are not in 'Deny log on through Remote Desktop Services'."),
        NtStatus::ACCOUNT_RESTRICTION | NtStatus::INVALID_LOGON_HOURS | NtStatus::INVALID_WORKSTATION => c
            .hint("An account restriction forbids this logon: blank passwords are refused over the network by default, and logon hours or allowed workstations may exclude it."),
        NtStatus::TIME_DIFFERENCE_AT_DC => c
            .hint("Synchronise the clocks of the client, the server and the domain controllers (w32tm /resync); Kerberos allows 5 minutes of skew."),
        NtStatus::NO_LOGON_SERVERS | NtStatus::TRUSTED_RELATIONSHIP_FAILURE | NtStatus::NETLOGON_NOT_STARTED => c
            .hint("The server could not reach a domain controller to check the logon: check its DNS, network and secure channel (Test-ComputerSecureChannel), and the Netlogon service."),
        _ => c,
    };
    c.hint("On a Windows server the Security log's event 4625 shows the failure with this status and a sub-status.")
}

/// Packets cut by the capture's snap length before a handshake message could be read whole: say
/// so, and how to capture them whole.
fn cut_by_snap_length(i: &Input<'_>, mut c: Cause) -> Cause {
    let cut = i.tcp.cut_segments.client + i.tcp.cut_segments.server;
    let lost: Vec<String> = i
        .timeline
        .iter()
        .filter(|e| matches!(e.step, Step::HandshakeCut { .. }))
        .map(|e| format!("the {} {}", e.from, e.step))
        .collect();
    if cut == 0 || lost.is_empty() {
        return c;
    }
    c.explanation.push_str(&format!(
        " The capture cut {cut} packet{} of this connection short (its snap length), so {} could not be read: the verdict rests on what survived (record headers, alerts, who closed).",
        if cut == 1 { "" } else { "s" },
        lost.join(" and ")
    ));
    c.hint("Capture whole packets: tcpdump -s 0 (the default in current tcpdump), Wireshark/dumpcap without a snapshot length, or on Windows pktmon start --capture --pkt-size 0 (pktmon keeps 128 bytes by default).")
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
        _ if ecdsa == 0 && rsa > 0 && tls13 == 0 => {
            c = c.hint(format!(
                "The client offers {rsa} cipher suites for an RSA certificate and none for an ECDSA one: a server whose certificate has an ECDSA key (P-256, P-384) can serve none of them. Give the server an RSA certificate as well, or enable ECDHE_ECDSA suites on the client."
            ));
        }
        _ if rsa == 0 && ecdsa > 0 && tls13 == 0 => {
            c = c.hint(format!(
                "The client offers {ecdsa} cipher suites for an ECDSA certificate and none for an RSA one: a server with an RSA certificate (most Windows and RDP servers) can serve none of them. Enable ECDHE_RSA suites on the client, or give the server an ECDSA certificate."
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

/// What the client's suites are made of, for hints: only NULL/export/anonymous ones, or none a
/// FIPS-mode server accepts.
fn weak_offer_hints(mut c: Cause, ch: &ClientHello) -> Cause {
    let names: Vec<&str> = ch
        .cipher_suites
        .iter()
        .filter(|s| !s.is_grease() && !s.is_signalling())
        .map(|s| s.name().unwrap_or(""))
        .collect();
    if names.is_empty() {
        return c;
    }
    let weak = |n: &str| n.contains("_NULL_") || n.contains("EXPORT") || n.contains("_anon_");
    if names.iter().all(|n| weak(n)) {
        c = c.hint(format!(
            "The client offers only NULL, export or anonymous cipher suites ({}): no current server enables them. Fix the client's cipher configuration (a test or legacy setting such as OpenSSL's -cipher NULL or @SECLEVEL=0).",
            names.join(", ")
        ));
        return c;
    }
    // Schannel's FIPS policy leaves AES with SHA-1/SHA-2 (and, on old versions, 3DES).
    let fips_ok = |n: &str| n.contains("_AES_");
    if !names.iter().any(|n| fips_ok(n)) {
        c = c.hint(format!(
            "None of the client's suites is AES-based ({}): a server in FIPS mode (Windows policy 'System cryptography: Use FIPS compliant algorithms', or an OpenSSL FIPS provider) accepts only AES suites, so it shares none with this client.",
            names.join(", ")
        ));
    }
    c
}

/// A ClientHello that took several segments, answered by a reset, a close or silence: name its
/// size (servers and middleboxes that fail on large hellos, as with post-quantum key shares).
fn large_hello_hint(c: Cause, i: &Input<'_>) -> Cause {
    let Some(tls) = i.tls else { return c };
    let Some(ch) = tls.client_hello.as_ref() else {
        return c;
    };
    if tls.client_hello_segments < 2 {
        return c;
    }
    let pq: Vec<String> = ch
        .key_share_groups
        .iter()
        .filter(|g| matches!(g.0, 0x11eb..=0x11ee | 0x6399 | 0x639a | 0x0200..=0x0202))
        .map(|g| g.to_string())
        .collect();
    let pq = if pq.is_empty() {
        String::new()
    } else {
        format!(
            " It carries post-quantum key shares ({}), which make a ClientHello about 1.2 KB larger.",
            pq.join(", ")
        )
    };
    c.hint(format!(
        "The ClientHello took {} bytes in {} segments.{pq} Some servers, load balancers and firewalls fail on a ClientHello that does not fit one packet: test with a client that offers only classic groups (OpenSSL -groups X25519:P-256, or turn off the post-quantum option in the browser) and, if that works, update the device that resets it.",
        tls.client_hello_bytes, tls.client_hello_segments
    ))
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

fn from_alert(i: &Input<'_>, a: &AlertRecord, decided: CauseCode) -> Cause {
    let sender = a.from;
    let receiver = sender.peer();
    let description = a.alert.description;
    let code = description.map(|d| d.0);
    let name = match (a.alert.level, a.alert.description) {
        (Some(l), Some(d)) => format!("{l} alert {d}"),
        _ if a.inferred => {
            "an encrypted alert (inferred: a protected record of exactly an alert's size just before it closed)"
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
    match (decided, description) {
        (CauseCode::NoSharedCipher, _) => {
            let mut c = Cause::new(
                CauseCode::NoSharedCipher,
                format!("{what} The server found nothing it could accept in the client's offer: no common cipher suite (in TLS 1.3 also no common key-exchange group or signature algorithm), or no certificate usable with them."),
            )
            .event(36874, Side::Server, None);
            c = alert_events(c);
            c = c.hint("On a Windows server the enabled suites come from the cipher suite order policy (Get-TlsCipherSuite, GPO 'SSL Cipher Suite Order'); the SCHANNEL\\Protocols registry keys only switch protocol versions, not suites.");
            c = key_type_hint(c, i);
            if let Some(ch) = i.client_hello() {
                c = weak_offer_hints(c, ch);
                if ch.highest_version().is_tls13_or_draft() && !ch.supported_groups.is_empty() {
                    let groups: Vec<String> = ch.supported_groups.iter().filter(|g| !g.is_grease()).map(|g| g.to_string()).collect();
                    c = c.hint(format!("The client offered the key-exchange groups {}; a TLS 1.3 server needs one of them enabled too.", groups.join(", ")));
                }
                c = old_client_hints(c, ch);
            }
            c
        }
        (CauseCode::ClientCertificateRequired, Some(d)) if d != AlertDescription::CERTIFICATE_REQUIRED => {
            let c = Cause::new(
                CauseCode::ClientCertificateRequired,
                format!("{what} The server asked for a client certificate and the client sent none (or one the server would not accept)."),
            );
            alert_events(c).hint("Install a client certificate the server trusts, or stop requiring client certificates on the server.")
        }
        (CauseCode::ProtocolVersion, _) => {
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
        (CauseCode::CertificateRejected, Some(_)) => {
            let mut c = if sender == Side::Client {
                Cause::new(CauseCode::CertificateRejected, format!("{what} The client rejected the server's certificate."))
            } else {
                Cause::new(CauseCode::CertificateRejected, format!("{what} The server rejected the client's certificate."))
            };
            if sender == Side::Client {
                let id = match description {
                    Some(AlertDescription::CERTIFICATE_EXPIRED) => 36881,
                    Some(AlertDescription::UNKNOWN_CA) => 36882,
                    Some(AlertDescription::CERTIFICATE_REVOKED) => 36883,
                    _ => 36876,
                };
                c = c.event(id, Side::Client, None);
            }
            c = alert_events(c);
            if description == Some(AlertDescription::UNKNOWN_CA) {
                c = c.hint("unknown_ca: the certificate's issuer is not trusted by the peer: install the issuing CA (and any intermediate) in the peer's trust store, or have the server send its full chain.");
            }
            cert_time_hint(c, i)
        }
        (CauseCode::ClientCertificateRequired, Some(_)) => alert_events(Cause::new(
            CauseCode::ClientCertificateRequired,
            format!("{what} The server requires a client certificate and the client did not send one."),
        ))
        .hint("Install a client certificate the server trusts, or stop requiring client certificates on the server."),
        (CauseCode::UnrecognizedName, _) => {
            let sni = i.client_hello().and_then(|c| c.sni.clone());
            let c = Cause::new(
                CauseCode::UnrecognizedName,
                format!("{what} The server does not serve the name the client asked for (SNI {}).", sni.as_deref().unwrap_or("absent")),
            );
            alert_events(c).hint("Connect with a name the server has a certificate and binding for, or configure it on the server.")
        }
        (CauseCode::CertificateRejected, None) => {
            let c = Cause::new(
                CauseCode::CertificateRejected,
                format!("{what} In TLS 1.3 a client aborting right after the server's encrypted flight is almost always rejecting the server's certificate (untrusted issuer, wrong name, expired)."),
            )
            .event(36876, Side::Client, None);
            cert_time_hint(c, i).hint("Decrypt with a key log (SSLKEYLOGFILE) to see the exact alert, or check the client's certificate validation log.")
        }
        (CauseCode::ClientCertificateRequired, None) => Cause::new(
            CauseCode::ClientCertificateRequired,
            format!("{what} In TLS 1.3 a server aborting after the client's second flight is almost always refusing the client's certificate or its absence."),
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

fn from_close(i: &Input<'_>, code: CauseCode, side: Side, kind: CloseKind, m: Mark) -> Cause {
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

fn server_not_tls(i: &Input<'_>, preview: crate::verdict::BytesPreview) -> Cause {
    let what = if preview.is_text() {
        format!("\"{preview}\"")
    } else {
        format!("bytes that are not text (\"{preview}\")")
    };
    let service = match preview.bytes() {
        [b'H', b'T', b'T', b'P', b'/', ..] => {
            " It is an HTTP server speaking plain HTTP on this port."
        }
        [b'S', b'S', b'H', b'-', ..] => " It is an SSH server.",
        [b'2', b'2', b'0', ..] => {
            " It looks like an SMTP or FTP banner: the port may need a STARTTLS-style upgrade (the client must send STARTTLS or AUTH TLS first), or serves the plain protocol."
        }
        [b'*', b' ', b'O', b'K', ..] | [b'+', b'O', b'K', ..] => {
            " It looks like an IMAP or POP3 greeting: the port needs STARTTLS first, or serves the plain protocol."
        }
        _ => "",
    };
    Cause::new(
        CauseCode::ServerNotTls,
        format!(
            "The client sent a ClientHello{}, and the server sent {what}, not TLS: this port serves something else.{service}",
            i.client_hello().map(|ch| format!(" ({})", ch.highest_version())).unwrap_or_default()
        ),
    )
    .hint(format!(
        "Check the port: the TLS service may listen on another one (443/8443 for HTTPS, 636 for LDAPS, 993 for IMAPS), or this service needs a STARTTLS-style upgrade before the ClientHello. Port {} answered in clear text.",
        i.server_port
    ))
}

fn rdp_failure(rdp: &RdpFacts, code: FailureCode) -> Cause {
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
    match code {
        FailureCode::SSL_REQUIRED_BY_SERVER
        | FailureCode::HYBRID_REQUIRED_BY_SERVER
        | FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => {
            if rdp.requested.is_none_or(|p| p == Protocols::RDP) {
                c = c.hint("The client asked only for standard RDP security while the server requires TLS or NLA: enable TLS/NLA on the client (or, less safely, allow standard security on the server).");
            } else {
                c = c.hint("Enable on the client the security protocol the server requires (NLA/CredSSP for HYBRID_REQUIRED_BY_SERVER).");
            }
        }
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => c = c.hint("The server allows only standard RDP security: enable TLS on the server (Security Layer = SSL or Negotiate)."),
        FailureCode::SSL_CERT_NOT_ON_SERVER => c = c.hint("The server has no certificate for TLS: check the certificate configured for the RDP listener and Schannel 36870/36886 on the server."),
        _ => {}
    }
    c
}
