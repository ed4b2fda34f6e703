//! One test per row of the rule table, each built from typed evidence (a timeline of steps, TCP
//! marks, alerts) and asserting the rule that fired, the code, the confidence and the evidence
//! frames; then the words for a few of them, and a check that every row is covered.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::*;
use crate::Timestamp;
use crate::rdp::FailureCode;
use crate::rdp::nla::NlaReader;
use crate::tls::ClientHello;
use crate::tls::{Alert, AlertLevel, CipherSuite, TlsVersion};
use crate::verdict::{Cause, SideMark, explain};

thread_local! {
    /// The rules that fired in this thread's tests (each test runs on its own thread; the
    /// coverage test runs them all itself).
    static FIRED: RefCell<BTreeSet<&'static str>> = const { RefCell::new(BTreeSet::new()) };
}

/// Frame `frame`, `frame` milliseconds into the capture.
fn mark(frame: u64) -> Mark {
    Mark {
        frame,
        ts: Timestamp(1_000_000_000_000 + frame as i64 * 1_000_000),
    }
}

fn plain_alert(level: AlertLevel, description: AlertDescription) -> Alert {
    Alert {
        level: Some(level),
        description: Some(description),
        encrypted: false,
    }
}

const HIDDEN: Alert = Alert {
    level: None,
    description: None,
    encrypted: true,
};

/// A connection's evidence, built step by step.
struct Case {
    completed: bool,
    stage: Stage,
    protocol: Protocol,
    tcp: TcpFacts,
    alerts: Vec<AlertRecord>,
    rdp: Option<RdpFacts>,
    tls: Option<TlsFacts>,
    tls13: bool,
    payload: PerSide<bool>,
    packets: PerSide<u64>,
    bytes: PerSide<u64>,
    timeline: Vec<TimelineEntry>,
    end: u64,
    not_tls: PerSide<Option<(Mark, BytesPreview)>>,
    payload_after_confirm: PerSide<bool>,
    after_completion: PerSide<AfterCompletion>,
    tls_port: bool,
}

impl Case {
    /// SYN, SYN-ACK and nothing else yet.
    fn tcp() -> Self {
        let mut c = Case {
            completed: false,
            stage: Stage::TcpEstablished,
            protocol: Protocol::Other,
            tcp: TcpFacts {
                syn: Some(mark(1)),
                syn_ack: Some(mark(2)),
                ..TcpFacts::default()
            },
            alerts: Vec::new(),
            rdp: None,
            tls: None,
            tls13: false,
            payload: PerSide::default(),
            packets: PerSide::new(2, 1),
            bytes: PerSide::default(),
            timeline: Vec::new(),
            end: 2,
            not_tls: PerSide::default(),
            payload_after_confirm: PerSide::default(),
            after_completion: PerSide::default(),
            tls_port: true,
        };
        c.step(1, Side::Client, Step::Syn);
        c.step(2, Side::Server, Step::SynAck);
        c
    }

    /// A TLS 1.2 ClientHello in frame 4.
    fn hello() -> Self {
        let mut c = Case::tcp();
        c.protocol = Protocol::Tls;
        c.stage = Stage::ClientHello;
        c.payload.client = true;
        c.tls = Some(TlsFacts {
            client_hello_at: Some(mark(4)),
            ..TlsFacts::default()
        });
        c.step(
            4,
            Side::Client,
            Step::ClientHello {
                version: TlsVersion(0x0303),
                suites: 20,
            },
        );
        c
    }

    /// A TLS 1.2 server flight (ServerHello 5, Certificate 6, ServerHelloDone 7).
    fn server_flight() -> Self {
        let mut c = Case::hello();
        c.stage = Stage::ServerHelloDone;
        c.payload.server = true;
        c.step(
            5,
            Side::Server,
            Step::ServerHello {
                version: TlsVersion(0x0303),
                suite: CipherSuite(0xc02f),
            },
        );
        c.step(6, Side::Server, Step::Certificate { chain_len: 2 });
        c.step(7, Side::Server, Step::ServerHelloDone);
        c
    }

    /// A TLS 1.3 ClientHello answered: the server's records are protected from here on.
    fn tls13() -> Self {
        let mut c = Case::hello();
        c.tls13 = true;
        c.stage = Stage::EncryptedHandshake;
        c.payload.server = true;
        c
    }

    /// A TLS 1.3 handshake up to the client's second flight (frames 5 and 8).
    fn tls13_client_flight() -> Self {
        let mut c = Case::tls13();
        c.step(
            5,
            Side::Server,
            Step::ServerHello {
                version: TlsVersion(0x0304),
                suite: CipherSuite(0x1301),
            },
        );
        c.step(
            6,
            Side::Server,
            Step::ApplicationData {
                protected_handshake: true,
                bytes: 2000,
            },
        );
        c.step(
            8,
            Side::Client,
            Step::ApplicationData {
                protected_handshake: true,
                bytes: 94,
            },
        );
        c
    }

    fn step(&mut self, frame: u64, from: Side, step: Step) -> &mut Self {
        self.timeline
            .push(TimelineEntry::new(mark(frame), from, step));
        self.end = self.end.max(frame);
        self.packets[from] += 1;
        self
    }

    fn alert(&mut self, frame: u64, from: Side, alert: Alert, inferred: bool) -> &mut Self {
        self.alerts.push(AlertRecord {
            from,
            alert,
            inferred,
            decrypted: false,
            at: mark(frame),
        });
        self.step(frame, from, Step::Alert { alert, inferred })
    }

    fn fatal(&mut self, frame: u64, from: Side, description: AlertDescription) -> &mut Self {
        self.alert(
            frame,
            from,
            plain_alert(AlertLevel::FATAL, description),
            false,
        )
    }

    fn fin(&mut self, frame: u64, from: Side) -> &mut Self {
        if self.tcp.first_fin.is_none() {
            self.tcp.first_fin = Some(SideMark {
                side: from,
                at: mark(frame),
            });
        }
        self.step(frame, from, Step::Fin)
    }

    fn rst(&mut self, frame: u64, from: Side) -> &mut Self {
        if self.tcp.first_rst.is_none() {
            self.tcp.first_rst = Some(SideMark {
                side: from,
                at: mark(frame),
            });
        }
        self.step(frame, from, Step::Rst)
    }

    fn input(&self) -> Input<'_> {
        Input {
            completed: self.completed,
            stage: self.stage,
            protocol: self.protocol,
            tcp: &self.tcp,
            closed_by: self.tcp.closed_by(),
            alerts: &self.alerts,
            rdp: self.rdp.as_ref(),
            tls: self.tls.as_ref(),
            tls13: self.tls13,
            payload_seen: self.payload,
            packets: self.packets,
            bytes: self.bytes,
            start: mark(1),
            end: mark(self.end),
            timeline: &self.timeline,
            not_tls: self.not_tls,
            payload_after_confirm: self.payload_after_confirm,
            after_completion: self.after_completion,
            tls_port: self.tls_port,
            server_port: 443,
            ending: std::cell::OnceCell::new(),
        }
    }

    /// The rule that fired, the outcome, code, confidence and evidence frames.
    fn decide(&self) -> (&'static str, Outcome, CauseCode, Confidence, Vec<u64>) {
        let f = decide(&self.input());
        FIRED.with(|s| s.borrow_mut().insert(f.rule));
        let frames = f.evidence.iter().map(|e| e.at.frame).collect();
        (f.rule, f.outcome, f.code, f.confidence, frames)
    }

    /// The cause in words.
    fn cause(&self) -> Cause {
        let i = self.input();
        explain::explain(&i, decide(&i))
    }
}

/// The row whose name is `name`, or the only one that starts with it.
fn rule(name: &str) -> &'static str {
    if let Some(r) = RULES.iter().find(|r| r.name == name) {
        return r.name;
    }
    let starting: Vec<&'static str> = RULES
        .iter()
        .map(|r| r.name)
        .filter(|n| n.starts_with(name))
        .collect();
    match starting[..] {
        [one] => one,
        _ => panic!("no single rule named {name}…: {starting:?}"),
    }
}

use CauseCode as C;
use Confidence::{Certain, Probable};

fn rdp_case(selected: Option<Protocols>, failure: Option<FailureCode>) -> Case {
    let mut c = Case::tcp();
    c.protocol = Protocol::Rdp;
    c.stage = Stage::RdpConfirm;
    c.payload = PerSide::new(true, true);
    c.rdp = Some(RdpFacts {
        requested: Some(Protocols::SSL),
        confirmed: true,
        selected,
        failure,
        ..RdpFacts::default()
    });
    c.step(
        4,
        Side::Client,
        Step::X224Request {
            requested: Some(Protocols::SSL),
        },
    );
    let answer = match (selected, failure) {
        (_, Some(f)) => crate::verdict::RdpAnswer::Failure(f),
        (Some(p), None) => crate::verdict::RdpAnswer::Selected(p),
        (None, None) => crate::verdict::RdpAnswer::Legacy,
    };
    c.step(5, Side::Server, Step::X224Confirm(answer));
    c
}

#[test]
fn row_credssp_ended() {
    let mut c = rdp_case(Some(Protocols::HYBRID), None);
    c.completed = true;
    c.tls = Some(TlsFacts {
        application_records: PerSide::new(3, 2),
        ..TlsFacts::default()
    });
    c.step(
        20,
        Side::Client,
        Step::ApplicationData {
            protected_handshake: false,
            bytes: 300,
        },
    );
    c.fin(22, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("TLS finished, then RDP's CredSSP"),
            Outcome::Failed,
            C::NlaFailure,
            Probable,
            vec![20, 22]
        )
    );
    // A session that got far past CredSSP is not an authentication failure.
    c.tls = Some(TlsFacts {
        application_records: PerSide::new(30, 200),
        ..TlsFacts::default()
    });
    assert_eq!(c.decide().2, C::None);
}

/// A minimal DER TLV (X.690), for CredSSP messages built from the MS-CSSP 2.2.1 structure.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut v = vec![tag];
    if n < 0x80 {
        v.push(n as u8);
    } else {
        v.extend_from_slice(&[0x81, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

/// A TSRequest of `version` (MS-CSSP 2.2.1): an NTLM message of type `ntlm` (0: no negoTokens),
/// then pubKeyAuth and authInfo when asked, then errorCode.
fn tsrequest(
    version: u8,
    ntlm: u8,
    pub_key_auth: bool,
    auth_info: bool,
    error: Option<u32>,
) -> Vec<u8> {
    let mut content = tlv(0xa0, &[0x02, 0x01, version]);
    if ntlm != 0 {
        let mut token = b"NTLMSSP\0".to_vec();
        token.extend_from_slice(&[ntlm, 0, 0, 0]);
        token.extend_from_slice(&[0; 24]);
        content.extend(tlv(
            0xa1,
            &tlv(0x30, &tlv(0x30, &tlv(0xa0, &tlv(0x04, &token)))),
        ));
    }
    if auth_info {
        content.extend(tlv(0xa2, &tlv(0x04, &[0x5a; 90])));
    }
    if pub_key_auth {
        content.extend(tlv(0xa3, &tlv(0x04, &[0x5a; 48])));
    }
    if let Some(code) = error {
        // An NTSTATUS as the signed INTEGER Windows writes (02 04 C0 00 00 6D).
        let mut int = vec![0x02, 0x04];
        int.extend_from_slice(&code.to_be_bytes());
        content.extend(tlv(0xa4, &int));
    }
    tlv(0x30, &content)
}

/// RDP with `selected` (HYBRID or HYBRID_EX) whose TLS 1.3 handshake completed (frames 6-12), then
/// CredSSP: each `(frame, side, bytes)` of decrypted application data read by the NLA reader and
/// taken in as the observer does.
fn nla_case(selected: Protocols, data: &[(u64, Side, Vec<u8>)]) -> Case {
    let mut c = rdp_case(Some(selected), None);
    c.completed = true;
    c.tls13 = true;
    c.stage = Stage::ApplicationData;
    c.tls = Some(TlsFacts::default());
    let mut reader = NlaReader::new(selected.0 & Protocols::HYBRID_EX.0 != 0);
    let mut facts = crate::verdict::CredsspFacts::default();
    for (frame, side, bytes) in data {
        let mut events = Vec::new();
        reader.feed(*side, bytes, &mut events);
        if let Some(t) = c.tls.as_mut() {
            t.application_records[*side] += 1;
        }
        for e in &events {
            let step = facts.record(*side, e, mark(*frame));
            c.step(*frame, *side, step);
        }
    }
    if let Some(r) = c.rdp.as_mut() {
        r.credssp = Some(facts);
    }
    c
}

/// NTLM CredSSP up to the client's AUTHENTICATE with pubKeyAuth (frames 20-22), both at `versions`.
fn nla_authenticate(versions: (u8, u8)) -> Vec<(u64, Side, Vec<u8>)> {
    let (client, server) = versions;
    vec![
        (20, Side::Client, tsrequest(client, 1, false, false, None)),
        (21, Side::Server, tsrequest(server, 2, false, false, None)),
        (22, Side::Client, tsrequest(client, 3, true, false, None)),
    ]
}

/// A decrypted alert record from `from`.
fn decrypted_alert(
    c: &mut Case,
    frame: u64,
    from: Side,
    level: AlertLevel,
    description: AlertDescription,
) {
    let alert = Alert {
        level: Some(level),
        description: Some(description),
        encrypted: true,
    };
    c.alerts.push(AlertRecord {
        from,
        alert,
        inferred: false,
        decrypted: true,
        at: mark(frame),
    });
    c.step(
        frame,
        from,
        Step::Alert {
            alert,
            inferred: false,
        },
    );
}

#[test]
fn row_credssp_error_code() {
    // A Windows server refusing the password: its TSRequest carries errorCode STATUS_LOGON_FAILURE.
    let mut data = nla_authenticate((6, 6));
    data.push((
        23,
        Side::Server,
        tsrequest(6, 0, false, false, Some(0xC000_006D)),
    ));
    let mut c = nla_case(Protocols::HYBRID, &data);
    c.fin(24, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("RDP CredSSP: a TSRequest carried an errorCode"),
            Outcome::Failed,
            C::NlaFailure,
            Certain,
            vec![22, 23]
        )
    );
    let cause = c.cause();
    assert!(
        cause
            .explanation
            .contains("STATUS_LOGON_FAILURE (0xC000006D)")
            && cause.explanation.contains("Wrong user name or password"),
        "{}",
        cause.explanation
    );
    // Each common code gets its name, its meaning and its own hint.
    for (code, name, hint) in [
        (
            0xC000_0234,
            "STATUS_ACCOUNT_LOCKED_OUT",
            "Unlock the account",
        ),
        (
            0xC000_0071,
            "STATUS_PASSWORD_EXPIRED",
            "Change the password",
        ),
        (
            0xC000_015B,
            "STATUS_LOGON_TYPE_NOT_GRANTED",
            "Remote Desktop Services",
        ),
        (0xC000_0133, "STATUS_TIME_DIFFERENCE_AT_DC", "clocks"),
    ] {
        let mut data = nla_authenticate((6, 6));
        data.push((23, Side::Server, tsrequest(6, 0, false, false, Some(code))));
        let cause = nla_case(Protocols::HYBRID, &data).cause();
        assert!(cause.explanation.contains(name), "{}", cause.explanation);
        assert!(
            cause.hints.iter().any(|h| h.contains(hint)),
            "{name}: {:?}",
            cause.hints
        );
    }
    // An unknown code is named in hex.
    let mut data = nla_authenticate((6, 6));
    data.push((
        23,
        Side::Server,
        tsrequest(6, 0, false, false, Some(0xC0DE_0001)),
    ));
    let cause = nla_case(Protocols::HYBRID, &data).cause();
    assert!(
        cause.explanation.contains("0xC0DE0001"),
        "{}",
        cause.explanation
    );
}

#[test]
fn row_credssp_refused() {
    // FreeRDP's server refusing the password: close_notify and FIN after the client's
    // AUTHENTICATE, no pubKeyAuth, no errorCode.
    let mut c = nla_case(Protocols::HYBRID, &nla_authenticate((6, 6)));
    decrypted_alert(
        &mut c,
        23,
        Side::Server,
        AlertLevel::WARNING,
        AlertDescription::CLOSE_NOTIFY,
    );
    c.fin(24, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("RDP CredSSP: the server hung up"),
            Outcome::Failed,
            C::NlaFailure,
            Certain,
            vec![22, 23, 24]
        )
    );
    let cause = c.cause();
    assert!(
        cause.explanation.contains("NTLM AUTHENTICATE")
            && cause.explanation.contains("authentication was refused")
            && cause.explanation.contains("no NTSTATUS"),
        "{}",
        cause.explanation
    );
    // Near misses: the server sent a record that could not be read (its answer, maybe) before it
    // closed; the client is the one that hangs up; the server answered with pubKeyAuth.
    let mut c = nla_case(Protocols::HYBRID, &nla_authenticate((6, 6)));
    c.step(
        23,
        Side::Server,
        Step::ApplicationData {
            protected_handshake: false,
            bytes: 120,
        },
    );
    c.fin(24, Side::Server);
    assert_eq!(c.decide().0, rule("TLS finished, then RDP's CredSSP"));
    let mut c = nla_case(Protocols::HYBRID, &nla_authenticate((6, 6)));
    c.fin(23, Side::Client);
    assert_eq!(c.decide().0, rule("TLS finished, then RDP's CredSSP"));
    let mut data = nla_authenticate((6, 6));
    data.push((23, Side::Server, tsrequest(6, 0, true, false, None)));
    let mut c = nla_case(Protocols::HYBRID, &data);
    c.fin(24, Side::Server);
    assert_eq!(c.decide().0, rule("TLS finished, then RDP's CredSSP"));
}

#[test]
fn row_credssp_not_authorized() {
    let mut data = nla_authenticate((6, 6));
    data.push((23, Side::Server, tsrequest(6, 0, true, false, None)));
    data.push((24, Side::Client, tsrequest(6, 0, false, true, None)));
    data.push((25, Side::Server, vec![5, 0, 0, 0]));
    let mut c = nla_case(Protocols::HYBRID_EX, &data);
    c.fin(26, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("RDP CredSSP: Early User Authorization"),
            Outcome::Failed,
            C::NlaFailure,
            Certain,
            vec![24, 25]
        )
    );
    assert!(c.cause().explanation.contains("AUTHZ_ACCESS_DENIED"));
    assert!(
        c.cause()
            .hints
            .iter()
            .any(|h| h.contains("Remote Desktop Users"))
    );
    // Near miss: access granted.
    data.pop();
    data.push((25, Side::Server, vec![0, 0, 0, 0]));
    let c = nla_case(Protocols::HYBRID_EX, &data);
    assert_eq!(c.decide().0, rule("RDP CredSSP completed"));
}

#[test]
fn row_credssp_encryption_oracle() {
    // An updated client (version 6) stops after the CHALLENGE of an old server (version 3).
    let data = vec![
        (20, Side::Client, tsrequest(6, 1, false, false, None)),
        (21, Side::Server, tsrequest(3, 2, false, false, None)),
    ];
    let mut c = nla_case(Protocols::HYBRID, &data);
    c.fin(22, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("RDP CredSSP versions"),
            Outcome::Failed,
            C::NlaFailure,
            Certain,
            vec![20, 21, 22]
        )
    );
    let cause = c.cause();
    assert!(
        cause.explanation.contains("CVE-2018-0886"),
        "{}",
        cause.explanation
    );
    assert!(cause.hints.iter().any(|h| h.contains("on the server")));
    // An updated server refuses an old client (version 2) after its authentication.
    let mut c = nla_case(Protocols::HYBRID, &nla_authenticate((2, 6)));
    c.fin(23, Side::Server);
    assert_eq!(c.decide().0, rule("RDP CredSSP versions"));
    assert!(c.cause().hints.iter().any(|h| h.contains("on the client")));
    // Near miss: the same versions on both sides are no remediation mismatch.
    let mut c = nla_case(Protocols::HYBRID, &nla_authenticate((6, 6)));
    c.fin(23, Side::Server);
    assert_eq!(c.decide().0, rule("RDP CredSSP: the server hung up"));
}

#[test]
fn row_credssp_succeeded() {
    let mut data = nla_authenticate((6, 6));
    data.push((23, Side::Server, tsrequest(6, 0, true, false, None)));
    data.push((24, Side::Client, tsrequest(6, 0, false, true, None)));
    let mut c = nla_case(Protocols::HYBRID, &data);
    // An +auth-only client closes right after CredSSP: within the records the heuristic counts.
    c.fin(26, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("RDP CredSSP completed"),
            Outcome::Completed,
            C::None,
            Certain,
            vec![]
        )
    );
    assert!(c.cause().explanation.contains("CredSSP (NLA) completed"));
    // Without the client's credentials it is not past NLA.
    data.pop();
    let mut c = nla_case(Protocols::HYBRID, &data);
    c.fin(26, Side::Client);
    assert_eq!(c.decide().2, C::NlaFailure);
}

#[test]
fn row_completed() {
    let mut c = Case::server_flight();
    c.completed = true;
    assert_eq!(
        c.decide(),
        (
            rule("TLS finished"),
            Outcome::Completed,
            C::None,
            Certain,
            vec![]
        )
    );
}

#[test]
fn row_syn_refused() {
    let mut c = Case::tcp();
    c.tcp.syn_ack = None;
    c.timeline.retain(|e| e.step != Step::SynAck);
    c.rst(2, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("SYN answered by the server's RST"),
            Outcome::Failed,
            C::TcpRefused,
            Certain,
            vec![1, 2]
        )
    );
}

#[test]
fn row_syn_unanswered() {
    let mut c = Case::tcp();
    c.tcp.syn_ack = None;
    c.timeline.retain(|e| e.step != Step::SynAck);
    c.packets = PerSide::new(3, 0);
    c.end = 3; // the SYN's retransmissions
    assert_eq!(
        c.decide(),
        (
            rule("SYN never answered"),
            Outcome::Failed,
            C::TcpUnanswered,
            Probable,
            vec![1, 3]
        )
    );
}

#[test]
fn row_rdp_failure() {
    let mut c = rdp_case(None, Some(FailureCode::HYBRID_REQUIRED_BY_SERVER));
    c.fin(6, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("RDP server sent RDP_NEG_FAILURE"),
            Outcome::Failed,
            C::RdpNegotiationFailure,
            Certain,
            vec![4, 5]
        )
    );
    let cause = c.cause();
    assert!(
        cause.hints.iter().any(|h| h.contains("NLA/CredSSP")),
        "{:?}",
        cause.hints
    );
}

#[test]
fn row_rdp_standard_security() {
    let c = rdp_case(Some(Protocols::RDP), None);
    assert_eq!(
        c.decide(),
        (
            rule("RDP negotiated standard RDP security"),
            Outcome::NotTls,
            C::None,
            Certain,
            vec![5]
        )
    );
}

#[test]
fn row_not_tls_payload() {
    let mut c = Case::tcp();
    c.payload = PerSide::new(true, true);
    c.fin(9, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("payload that is neither TLS nor RDP"),
            Outcome::NotTls,
            C::None,
            Certain,
            vec![]
        )
    );
}

#[test]
fn row_nothing_sent() {
    let mut c = Case::tcp();
    c.fin(3, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("client closed before anybody sent a byte"),
            Outcome::NotTls,
            C::None,
            Certain,
            vec![3]
        )
    );
}

#[test]
fn row_no_shared_cipher() {
    let mut c = Case::hello();
    c.fatal(5, Side::Server, AlertDescription::HANDSHAKE_FAILURE)
        .fin(6, Side::Server)
        .fin(7, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("server handshake_failure/insufficient_security to a ClientHello"),
            Outcome::Failed,
            C::NoSharedCipher,
            Certain,
            vec![4, 5, 6]
        )
    );
    let cause = c.cause();
    let events: Vec<(u32, Side, Option<u8>)> = cause
        .schannel_event
        .iter()
        .chain(&cause.related_events)
        .map(|e| (e.id, e.logged_by, e.alert_code))
        .collect();
    assert_eq!(
        events,
        [
            (36874, Side::Server, None),
            (36888, Side::Server, Some(40)),
            (36887, Side::Client, Some(40))
        ]
    );
    // The same alert later in the handshake is not about the offer.
    let mut later = Case::server_flight();
    later.fatal(8, Side::Server, AlertDescription::HANDSHAKE_FAILURE);
    assert_eq!(later.decide().2, C::PeerAlert);
}

#[test]
fn row_handshake_failure_after_certificate_request() {
    let mut c = Case::server_flight();
    if let Some(t) = c.tls.as_mut() {
        t.certificate_requested = true;
    }
    c.step(8, Side::Client, Step::Certificate { chain_len: 0 })
        .step(9, Side::Client, Step::Finished)
        .fatal(10, Side::Server, AlertDescription::HANDSHAKE_FAILURE)
        .fin(11, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("server handshake_failure after asking"),
            Outcome::Failed,
            C::ClientCertificateRequired,
            Certain,
            vec![9, 10, 11]
        )
    );
}

#[test]
fn row_protocol_version() {
    let mut c = Case::hello();
    c.fatal(5, Side::Server, AlertDescription::PROTOCOL_VERSION);
    assert_eq!(
        c.decide(),
        (
            rule("protocol_version alert"),
            Outcome::Failed,
            C::ProtocolVersion,
            Certain,
            vec![4, 5]
        )
    );
}

#[test]
fn row_certificate_alert() {
    for (description, id) in [
        (AlertDescription::CERTIFICATE_EXPIRED, 36881),
        (AlertDescription::UNKNOWN_CA, 36882),
        (AlertDescription::CERTIFICATE_REVOKED, 36883),
        (AlertDescription::BAD_CERTIFICATE, 36876),
    ] {
        let mut c = Case::server_flight();
        c.fatal(8, Side::Client, description).fin(9, Side::Client);
        assert_eq!(
            c.decide(),
            (
                rule("certificate alert"),
                Outcome::Failed,
                C::CertificateRejected,
                Certain,
                vec![7, 8, 9]
            ),
            "{description}"
        );
        assert_eq!(
            c.cause().schannel_event.map(|e| (e.id, e.logged_by)),
            Some((id, Side::Client)),
            "{description}"
        );
    }
}

#[test]
fn row_certificate_required() {
    let mut c = Case::tls13_client_flight();
    c.fatal(9, Side::Server, AlertDescription::CERTIFICATE_REQUIRED);
    assert_eq!(
        c.decide(),
        (
            rule("certificate_required alert"),
            Outcome::Failed,
            C::ClientCertificateRequired,
            Certain,
            vec![8, 9]
        )
    );
}

#[test]
fn row_unrecognized_name() {
    let mut c = Case::hello();
    c.fatal(5, Side::Server, AlertDescription::UNRECOGNIZED_NAME);
    assert_eq!(
        c.decide(),
        (
            rule("unrecognized_name alert"),
            Outcome::Failed,
            C::UnrecognizedName,
            Certain,
            vec![4, 5]
        )
    );
    // As a warning it ends nothing: the client closing later is the cause.
    let mut warning = Case::hello();
    warning
        .alert(
            5,
            Side::Server,
            plain_alert(AlertLevel::WARNING, AlertDescription::UNRECOGNIZED_NAME),
            false,
        )
        .fin(9, Side::Client);
    assert_eq!(warning.decide().2, C::ClientClosed);
}

#[test]
fn row_tls13_client_protected_alert() {
    // The client answers the server's encrypted flight with an alert-sized record and closes.
    let mut c = Case::tls13();
    c.step(
        5,
        Side::Server,
        Step::ApplicationData {
            protected_handshake: true,
            bytes: 2000,
        },
    );
    c.alert(7, Side::Client, HIDDEN, true).fin(7, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("TLS 1.3 client alert hidden"),
            Outcome::Failed,
            C::CertificateRejected,
            Probable,
            vec![5, 7, 7]
        )
    );
}

#[test]
fn row_tls13_server_protected_alert() {
    // The server wanted a client certificate: the client's whole second flight, then an
    // alert-sized server record and the server's close.
    let mut c = Case::tls13_client_flight();
    c.alert(9, Side::Server, HIDDEN, true).fin(10, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("TLS 1.3 server alert hidden"),
            Outcome::Failed,
            C::ClientCertificateRequired,
            Probable,
            vec![8, 9, 10]
        )
    );
}

#[test]
fn row_other_alert() {
    let mut c = Case::server_flight();
    c.fatal(8, Side::Client, AlertDescription(47)); // illegal_parameter
    assert_eq!(
        c.decide(),
        (
            rule("any other alert"),
            Outcome::Failed,
            C::PeerAlert,
            Certain,
            vec![7, 8]
        )
    );
    // TLS 1.2: an encrypted alert after the keys changed is seen but not read.
    let mut hidden = Case::server_flight();
    hidden.alert(9, Side::Client, HIDDEN, false);
    let (name, _, code, confidence, _) = hidden.decide();
    assert_eq!(
        (name, code, confidence),
        (rule("any other alert"), C::PeerAlert, Probable)
    );
}

#[test]
fn row_closed() {
    for (side, rst, code) in [
        (Side::Server, false, C::ServerClosed),
        (Side::Server, true, C::ServerReset),
        (Side::Client, false, C::ClientClosed),
        (Side::Client, true, C::ClientReset),
    ] {
        let mut c = Case::server_flight();
        if rst {
            c.rst(8, side);
        } else {
            c.fin(8, side);
        }
        // The peer answers the close with an alert: an effect, not the cause.
        c.fatal(9, side.peer(), AlertDescription(50));
        let peer_last = if side == Side::Server { 4 } else { 7 };
        assert_eq!(
            c.decide(),
            (
                rule("a FIN or RST before the handshake finished"),
                Outcome::Failed,
                code,
                Probable,
                vec![peer_last, 8]
            ),
            "{side} rst={rst}"
        );
    }
}

#[test]
fn row_capture_ended() {
    let c = Case::server_flight();
    assert_eq!(
        c.decide(),
        (
            rule("nothing ended it"),
            Outcome::Incomplete,
            C::CaptureIncomplete,
            Certain,
            vec![7]
        )
    );
}

fn preview(text: &str) -> BytesPreview {
    BytesPreview::of(text.as_bytes())
}

impl Case {
    fn not_tls(&mut self, frame: u64, from: Side, text: &str) -> &mut Self {
        let p = preview(text);
        self.not_tls[from] = Some((mark(frame), p));
        self.payload[from] = true;
        self.step(frame, from, Step::NotTls { preview: p })
    }
}

#[test]
fn row_server_not_tls() {
    let mut c = Case::hello();
    c.not_tls(5, Side::Server, "HTTP/1.1 400 Bad Request\r\n")
        .fin(6, Side::Server)
        .fatal(7, Side::Client, AlertDescription(50));
    assert_eq!(
        c.decide(),
        (
            rule("server answered a ClientHello with bytes that are not TLS"),
            Outcome::Failed,
            C::ServerNotTls,
            Certain,
            vec![4, 5, 6]
        )
    );
    let cause = c.cause();
    assert!(
        cause
            .explanation
            .contains("\"HTTP/1.1 400 Bad Request\\r\\n\"")
            && cause.explanation.contains("HTTP server"),
        "{}",
        cause.explanation
    );
    // A banner before the ClientHello, which the client did not talk to: a wrong service too.
    let mut banner = Case::hello();
    banner
        .not_tls(3, Side::Server, "SSH-2.0-OpenSSH_9.2p1\r\n")
        .fin(6, Side::Client);
    assert_eq!(
        (banner.decide().2, banner.decide().4),
        (C::ServerNotTls, vec![3, 4, 6])
    );
    // Near miss: a banner, the client's STARTTLS in clear text, then its ClientHello.
    let mut starttls = Case::tcp();
    starttls.protocol = Protocol::Tls;
    starttls.not_tls(3, Side::Server, "220 mail.example ESMTP\r\n");
    starttls.not_tls(4, Side::Client, "STARTTLS\r\n");
    starttls.tls = Some(TlsFacts {
        client_hello_at: Some(mark(6)),
        ..TlsFacts::default()
    });
    starttls.stage = Stage::ClientHello;
    starttls.fin(8, Side::Server);
    assert_eq!(starttls.decide().2, C::ServerClosed);
}

#[test]
fn row_client_not_tls() {
    let mut c = Case::tcp();
    c.protocol = Protocol::Tls;
    c.tls = Some(TlsFacts::default());
    c.not_tls(4, Side::Client, "GET / HTTP/1.1\r\nHost: x\r\n")
        .fatal(5, Side::Server, AlertDescription::PROTOCOL_VERSION)
        .fin(6, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("client sent bytes that are not TLS to a TLS server"),
            Outcome::Failed,
            C::ClientNotTls,
            Certain,
            vec![4, 5, 6]
        )
    );
    // Without an alert, only a close on a port where TLS is customary says it was a TLS server.
    let mut closed = Case::tcp();
    closed.not_tls(4, Side::Client, "GET / HTTP/1.1\r\n");
    closed.fin(5, Side::Server);
    assert_eq!(
        (closed.decide().2, closed.decide().3),
        (C::ClientNotTls, Probable)
    );
    closed.tls_port = false;
    assert_eq!(
        closed.decide().1,
        Outcome::NotTls,
        "a plain service elsewhere"
    );
    // Near miss: the server answered in clear text too: a plain service on a TLS port.
    let mut plain = Case::tcp();
    plain
        .not_tls(4, Side::Client, "GET / HTTP/1.1\r\n")
        .not_tls(5, Side::Server, "HTTP/1.1 200 OK\r\n")
        .fin(6, Side::Server);
    assert_eq!(plain.decide().1, Outcome::NotTls);
}

#[test]
fn row_not_tls_after_all() {
    let mut c = Case::tcp();
    c.payload = PerSide::new(true, true);
    c.protocol = Protocol::Tls;
    c.tls = Some(TlsFacts {
        anomalies: vec![crate::verdict::TlsAnomaly {
            side: Side::Client,
            kind: crate::verdict::TlsAnomalyKind::Malformed {
                what: "unknown record content type",
            },
        }],
        ..TlsFacts::default()
    });
    c.step(
        4,
        Side::Client,
        Step::MalformedTls {
            what: "unknown record content type",
        },
    )
    .fin(6, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("bytes that looked like TLS but gave nothing TLS"),
            Outcome::NotTls,
            C::None,
            Certain,
            vec![]
        )
    );
}

#[test]
fn row_no_payload_off_tls_port() {
    let mut c = Case::tcp();
    c.tls_port = false;
    c.rst(3, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("no byte on a port where TLS is not customary"),
            Outcome::NotTls,
            C::None,
            Certain,
            vec![3]
        )
    );
    // Near miss: the same on a TLS port is a server that reset a TLS attempt.
    c.tls_port = true;
    assert_eq!(
        (c.decide().1, c.decide().2),
        (Outcome::Failed, C::ServerReset)
    );
}

#[test]
fn tcp_failures_off_tls_ports_are_not_tls() {
    let mut c = Case::tcp();
    c.tcp.syn_ack = None;
    c.timeline.retain(|e| e.step != Step::SynAck);
    c.rst(2, Side::Server);
    c.tls_port = false;
    assert_eq!(
        (c.decide().1, c.decide().2, c.decide().3),
        (Outcome::NotTls, C::TcpRefused, Certain)
    );
    c.tcp.first_rst = None;
    c.timeline.retain(|e| e.step != Step::Rst);
    c.packets = PerSide::new(3, 0);
    assert_eq!(
        (c.decide().1, c.decide().2),
        (Outcome::NotTls, C::TcpUnanswered)
    );
}

#[test]
fn row_one_sided() {
    // Only the client's packets: its ACKs acknowledge server bytes the capture never holds.
    let mut c = Case::hello();
    c.packets.server = 0;
    c.timeline.retain(|e| e.from == Side::Client);
    c.tcp.syn_ack = None;
    c.tcp.acked_bytes.client = 2_900;
    c.fin(9, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("only one side's packets, the other's effects plain"),
            Outcome::Incomplete,
            C::CaptureIncomplete,
            Probable,
            vec![4, 9]
        )
    );
    // Near miss: a lone SYN acknowledges nothing: a SYN never answered.
    let mut lone = Case::tcp();
    lone.tcp.syn_ack = None;
    lone.timeline.retain(|e| e.step != Step::SynAck);
    lone.packets = PerSide::new(3, 0);
    assert_eq!(lone.decide().2, C::TcpUnanswered);
}

#[test]
fn row_server_silent() {
    let mut c = Case::hello();
    c.tcp.acked_bytes.server = 518;
    c.fin(5_000, Side::Client);
    let (name, outcome, code, confidence, frames) = c.decide();
    assert_eq!(
        (name, outcome, code, confidence, frames),
        (
            rule("client gave up on a server that never answered its ClientHello"),
            Outcome::Failed,
            C::ClientClosed,
            Probable,
            vec![4, 5_000]
        )
    );
    let cause = c.cause();
    assert!(
        cause.explanation.contains("never answered")
            && cause.explanation.contains("waited 5.0 s")
            && cause.explanation.contains("acknowledged the ClientHello"),
        "{}",
        cause.explanation
    );
    // Near miss: a server that answers at last is not silent.
    let mut late = Case::hello();
    late.payload.server = true;
    late.step(
        4_000,
        Side::Server,
        Step::ServerHello {
            version: TlsVersion(0x0303),
            suite: CipherSuite(0xc02f),
        },
    );
    late.stage = Stage::ServerHello;
    late.fin(5_000, Side::Client);
    assert_eq!(
        late.decide().0,
        rule("a FIN or RST before the handshake finished")
    );
}

#[test]
fn row_rdp_selection_refused() {
    let mut c = rdp_case(Some(Protocols::SSL), None);
    if let Some(r) = c.rdp.as_mut() {
        r.requested = Some(Protocols(0x03)); // ssl|hybrid
    }
    c.fin(7, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("RDP client hung up on the protocol the server selected"),
            Outcome::Failed,
            C::RdpNegotiationFailure,
            Probable,
            vec![4, 5, 7]
        )
    );
    assert!(
        c.cause()
            .hints
            .iter()
            .any(|h| h.contains("Network Level Authentication"))
    );
    // Near miss: the client went on (TLS bytes after the Confirm).
    c.payload_after_confirm.client = true;
    assert_ne!(c.decide().2, C::RdpNegotiationFailure);
}

#[test]
fn row_rdp_certificate_refused() {
    let mut c = rdp_case(Some(Protocols::SSL), None);
    c.completed = true;
    c.tls = Some(TlsFacts {
        client_hello: Some(ClientHello::default()),
        ..TlsFacts::default()
    });
    c.step(9, Side::Server, Step::Certificate { chain_len: 1 });
    c.after_completion.client = AfterCompletion {
        records: 1,
        data: false,
    };
    c.step(
        16,
        Side::Client,
        Step::ApplicationData {
            protected_handshake: false,
            bytes: 19,
        },
    )
    .fin(19, Side::Server);
    assert_eq!(
        c.decide(),
        (
            rule("RDP: TLS finished, then the client left without a byte of RDP"),
            Outcome::Failed,
            C::CertificateRejected,
            Probable,
            vec![9, 16, 19]
        )
    );
    // Near miss: the client sent RDP data after TLS.
    c.after_completion.client.data = true;
    assert_eq!(c.decide().1, Outcome::Completed);
}

/// Writes `hop_limit` (and IPv4 ID `id`) as the IP facts of `side`'s steps and range.
fn with_ip(c: &mut Case, side: Side, hop_limit: u8, first_id: u16) {
    let mut id = first_id;
    for e in c.timeline.iter_mut().filter(|e| e.from == side) {
        e.ip = Some(crate::decode::IpFacts {
            hop_limit,
            id: Some(id),
        });
        id = id.wrapping_add(1);
    }
    c.tcp.hop_limits[side] = Some(crate::verdict::HopLimits {
        min: hop_limit,
        max: hop_limit,
    });
}

fn forged_rst(c: &mut Case, frame: u64, from: Side, hop_limit: u8, id: u16) {
    c.rst(frame, from);
    if let Some(e) = c.timeline.last_mut() {
        e.ip = Some(crate::decode::IpFacts {
            hop_limit,
            id: Some(id),
        });
    }
}

#[test]
fn row_middlebox_reset() {
    // Captured near the client: the RST "from the server" left a device one hop closer.
    let mut c = Case::hello();
    with_ip(&mut c, Side::Client, 64, 0x9468);
    with_ip(&mut c, Side::Server, 63, 0);
    forged_rst(&mut c, 5, Side::Server, 64, 0);
    assert_eq!(
        c.decide(),
        (
            rule("an RST whose TTL its claimed sender's packets never had"),
            Outcome::Failed,
            C::MiddleboxReset,
            Probable,
            vec![2, 4, 5]
        )
    );
    let cause = c.cause();
    assert!(
        cause.explanation.contains("TTL/hop limit 64")
            && cause.explanation.contains("arrived with 63"),
        "{}",
        cause.explanation
    );
    // The SYN-ACK took 39 ms to come back, the RST 1 ms after the ClientHello: sooner than the
    // server could answer.
    c.tcp.syn_ack = Some(mark(40));
    let cause = c.cause();
    assert!(
        cause
            .explanation
            .contains("came 1.00 ms after the packet it answers")
            && cause.explanation.contains("round trip was 39.00 ms"),
        "{}",
        cause.explanation
    );
    // Captured near the server: the RST "from the client", with an IP ID out of its sequence.
    let mut at_server = Case::hello();
    with_ip(&mut at_server, Side::Client, 63, 0xb1f2);
    with_ip(&mut at_server, Side::Server, 64, 0);
    forged_rst(&mut at_server, 6, Side::Client, 64, 1);
    assert_eq!(at_server.decide().2, C::MiddleboxReset);
    assert!(
        at_server
            .cause()
            .explanation
            .contains("IP ID 1 is out of the client's sequence")
    );
    // Before any byte on a port where TLS is not customary: no TLS attempt, the reset its TCP cause.
    let mut probe = Case::tcp();
    probe.tls_port = false;
    with_ip(&mut probe, Side::Client, 63, 0xb1f2);
    with_ip(&mut probe, Side::Server, 64, 0);
    forged_rst(&mut probe, 4, Side::Client, 64, 1);
    assert_eq!(
        (probe.decide().1, probe.decide().2),
        (Outcome::NotTls, C::MiddleboxReset)
    );
    // Near miss: an RST with the sender's own TTL is its own.
    let mut own = Case::hello();
    with_ip(&mut own, Side::Client, 64, 100);
    with_ip(&mut own, Side::Server, 63, 7);
    forged_rst(&mut own, 5, Side::Server, 63, 8);
    assert_eq!(own.decide().2, C::ServerReset);
}

#[test]
fn row_path_mtu_blackhole() {
    // Near the server: its full-size segments resent again and again, never acknowledged.
    let mut c = Case::tls13();
    c.step(
        6,
        Side::Server,
        Step::ServerHello {
            version: TlsVersion(0x0304),
            suite: CipherSuite(0x1301),
        },
    );
    c.tcp.largest_segment.server = 1448;
    c.tcp.retransmitted_bytes.server = 11_584;
    c.bytes.server = 11_584 + 4_400;
    c.tcp.acked_bytes.client = 1;
    c.fin(22, Side::Client);
    assert_eq!(
        c.decide(),
        (
            rule("full-size segments never got through while small ones did"),
            Outcome::Failed,
            C::PathMtuBlackhole,
            Probable,
            vec![4, 6, 22]
        )
    );
    // Near the client: the server acknowledged the hello, only its small tails arrived, after
    // holes never filled.
    let mut near_client = Case::hello();
    near_client.payload.server = true;
    near_client.tcp.largest_segment.server = 1200;
    near_client.tcp.gap_bytes.server = 5_792;
    near_client.tcp.acked_bytes.server = 518;
    near_client.fin(10, Side::Client);
    assert_eq!(
        (near_client.decide().2, near_client.decide().4),
        (C::PathMtuBlackhole, vec![4, 10])
    );
    // Near miss: a retransmission that was then acknowledged is an ordinary loss.
    let mut healed = Case::hello();
    healed.payload.server = true;
    healed.stage = Stage::ServerHelloDone;
    healed.tcp.largest_segment.server = 1448;
    healed.tcp.retransmitted_bytes.server = 1448;
    healed.bytes.server = 4_000 + 1448;
    healed.tcp.acked_bytes.client = 4_001;
    healed.fin(30, Side::Client);
    assert_eq!(healed.decide().2, C::ClientClosed);
}

#[test]
fn every_failed_or_incomplete_case_has_evidence() {
    // A connection seen only as pure ACKs in the middle: no step at all.
    let mut c = Case::tcp();
    c.timeline.clear();
    c.tcp.syn = None;
    c.tcp.syn_ack = None;
    c.end = 40;
    let (_, outcome, _, _, frames) = c.decide();
    assert_eq!((outcome, frames), (Outcome::Incomplete, vec![40]));
}

#[test]
fn every_row_is_tested() {
    // Run every row test on this thread and collect the rules they fired.
    for t in [
        row_credssp_encryption_oracle,
        row_credssp_error_code,
        row_credssp_not_authorized,
        row_credssp_refused,
        row_credssp_succeeded,
        row_credssp_ended,
        row_completed,
        row_syn_refused,
        row_syn_unanswered,
        row_rdp_failure,
        row_rdp_standard_security,
        row_not_tls_payload,
        row_nothing_sent,
        row_middlebox_reset,
        row_path_mtu_blackhole,
        row_one_sided,
        row_server_silent,
        row_rdp_selection_refused,
        row_rdp_certificate_refused,
        row_server_not_tls,
        row_client_not_tls,
        row_not_tls_after_all,
        row_no_payload_off_tls_port,
        row_no_shared_cipher,
        row_handshake_failure_after_certificate_request,
        row_protocol_version,
        row_certificate_alert,
        row_certificate_required,
        row_unrecognized_name,
        row_tls13_client_protected_alert,
        row_tls13_server_protected_alert,
        row_other_alert,
        row_closed,
        row_capture_ended,
    ] {
        t();
    }
    let fired = FIRED.with(|s| s.borrow().clone());
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.name)
        .filter(|n| !fired.contains(n))
        .collect();
    assert!(missing.is_empty(), "rules no test fires: {missing:?}");
}

#[test]
fn hints_name_weak_offers_and_large_hellos() {
    let hello_with = |suites: &[u16]| {
        let mut c = Case::hello();
        let ch = ClientHello {
            cipher_suites: suites.iter().map(|&s| CipherSuite(s)).collect(),
            ..ClientHello::default()
        };
        if let Some(t) = c.tls.as_mut() {
            t.client_hello = Some(ch);
        }
        c.fatal(5, Side::Server, AlertDescription::HANDSHAKE_FAILURE);
        c.cause().hints
    };
    // Only NULL suites.
    let hints = hello_with(&[0x003b]);
    assert!(
        hints
            .iter()
            .any(|h| h.contains("only NULL, export or anonymous")),
        "{hints:?}"
    );
    // Only ChaCha20: nothing a FIPS-mode server accepts.
    let hints = hello_with(&[0xcca8, 0xcca9]);
    assert!(hints.iter().any(|h| h.contains("FIPS mode")), "{hints:?}");
    // Near miss: an ordinary offer gets neither.
    let hints = hello_with(&[0xc02f, 0xc030]);
    assert!(
        !hints
            .iter()
            .any(|h| h.contains("FIPS") || h.contains("NULL")),
        "{hints:?}"
    );

    // A ClientHello in two segments with a post-quantum key share, reset by the server.
    let mut big = Case::hello();
    if let Some(t) = big.tls.as_mut() {
        t.client_hello = Some(ClientHello {
            key_share_groups: vec![
                crate::tls::NamedGroup(0x11ec),
                crate::tls::NamedGroup(0x001d),
            ],
            ..ClientHello::default()
        });
        t.client_hello_segments = 2;
        t.client_hello_bytes = 1_800;
    }
    big.rst(5, Side::Server);
    let hints = big.cause().hints;
    assert!(
        hints
            .iter()
            .any(|h| h.contains("1800 bytes in 2 segments") && h.contains("post-quantum")),
        "{hints:?}"
    );
    // Near miss: a hello in one segment.
    if let Some(t) = big.tls.as_mut() {
        t.client_hello_segments = 1;
    }
    assert!(!big.cause().hints.iter().any(|h| h.contains("segments")));
}
