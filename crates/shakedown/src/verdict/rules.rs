//! The decision: one ordered table of rules over a connection's evidence.
//!
//! [`RULES`] is read top to bottom; the first rule that applies decides the outcome, the cause
//! code, how sure it is and which packets show it (a [`Finding`]). The rules hold no prose: the
//! words come from [`super::explain`], keyed by the finding. TCP failures come first, then RDP
//! negotiation, then whichever ended the handshake first — an alert or a close. The first close,
//! not the last alert, is the cause when it came first (a peer answering an EOF with an alert is
//! an effect).

use crate::rdp::credssp::{
    AuthorizationResult, CredsspEnding, NtStatus, OracleRefusal, encryption_oracle_refusal,
};
use crate::rdp::{FailureCode, Protocols};
use crate::tls::{AlertDescription, AlertLevel, ClientHello};
use crate::{PerSide, Side};

use super::{
    AlertRecord, BytesPreview, CauseCode, CloseKind, Confidence, CredsspFacts, Evidence,
    EvidenceKind, HopLimits, Mark, Outcome, Protocol, RdpFacts, Stage, Step, TcpFacts,
    TimelineEntry, TlsAnomalyKind, TlsFacts,
};

/// CredSSP is a few round trips; a session that got past it carries far more records than this.
const MAX_CREDSSP_RECORDS: u64 = 16;

/// What a side sent once the handshake had completed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AfterCompletion {
    /// Application data records.
    pub records: u64,
    /// Whether one of them was larger or smaller than an alert: data.
    pub data: bool,
}

/// What the rules look at: the facts the observer collected about one connection.
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
    /// TCP payload bytes per side (as the IP headers say).
    pub bytes: PerSide<u64>,
    pub start: Mark,
    pub end: Mark,
    pub timeline: &'a [TimelineEntry],
    /// Each side's first bytes that were neither TLS nor RDP negotiation.
    pub not_tls: PerSide<Option<(Mark, BytesPreview)>>,
    /// Payload sent after the RDP Connection Confirm, per side.
    pub payload_after_confirm: PerSide<bool>,
    /// What each side sent once the handshake had completed.
    pub after_completion: PerSide<AfterCompletion>,
    /// Whether TLS is customary on the server's port.
    pub tls_port: bool,
    pub server_port: u16,
    /// [`Input::ending`], once asked.
    pub ending: std::cell::OnceCell<Option<Ending<'a>>>,
}

/// What ended the handshake first.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending<'a> {
    /// An alert that ends a handshake, sent no later than the first close.
    Alert(&'a AlertRecord),
    /// A FIN or RST before any such alert.
    Close {
        side: Side,
        kind: CloseKind,
        at: Mark,
    },
}

impl<'a> Input<'a> {
    pub(crate) fn close_mark(&self) -> Option<(Side, CloseKind, Mark)> {
        let (side, kind) = self.closed_by?;
        let m = match kind {
            CloseKind::Fin => self.tcp.first_fin?.at,
            CloseKind::Rst => self.tcp.first_rst?.at,
        };
        Some((side, kind, m))
    }

    /// The first alert that ends a handshake: fatal, encrypted or inferred, or a warning
    /// close_notify / user_canceled (which announces a close).
    fn ending_alert(&self) -> Option<&'a AlertRecord> {
        self.alerts
            .iter()
            .find(|a| match (a.alert.level, a.alert.description) {
                (Some(l), Some(d)) => {
                    l == AlertLevel::FATAL
                        || d == AlertDescription::CLOSE_NOTIFY
                        || d == AlertDescription::USER_CANCELED
                }
                _ => true,
            })
    }

    /// An ending alert or a close, whichever came first (worked out once: most rules ask).
    pub(crate) fn ending(&self) -> Option<Ending<'a>> {
        *self.ending.get_or_init(|| self.work_out_ending())
    }

    fn work_out_ending(&self) -> Option<Ending<'a>> {
        match (self.ending_alert(), self.close_mark()) {
            (Some(a), Some((_, _, m))) if a.at.frame <= m.frame => Some(Ending::Alert(a)),
            (Some(a), None) => Some(Ending::Alert(a)),
            (_, Some((side, kind, at))) => Some(Ending::Close { side, kind, at }),
            (None, None) => None,
        }
    }

    /// Whether the ClientHello was seen (the handshake happened in the capture, which did not begin
    /// after it).
    fn tls_completed_by_hellos(&self) -> bool {
        self.client_hello().is_some()
    }

    pub(crate) fn client_hello(&self) -> Option<&'a ClientHello> {
        self.tls.and_then(|t| t.client_hello.as_ref())
    }

    fn certificate_requested(&self) -> bool {
        self.tls.is_some_and(|t| t.certificate_requested)
    }

    /// The last timeline step `side` sent before frame `before`.
    fn last_step_of(&self, side: Side, before: u64) -> Option<Evidence> {
        self.timeline
            .iter()
            .rev()
            .find(|e| e.from == side && e.at.frame < before && !matches!(e.step, Step::Gap { .. }))
            .map(|e| step_evidence(e.at, e.from, e.step))
    }

    /// The first timeline step matching `want`.
    fn first_step(&self, want: impl Fn(&Step) -> bool) -> Option<Evidence> {
        self.timeline
            .iter()
            .find(|e| want(&e.step))
            .map(|e| step_evidence(e.at, e.from, e.step))
    }

    fn close_evidence(&self, side: Side) -> Option<Evidence> {
        let (fin, rst) = (self.tcp.first_fin, self.tcp.first_rst);
        [fin, rst]
            .into_iter()
            .flatten()
            .filter(|m| m.side == side)
            .min_by_key(|m| m.at.frame)
            .map(|m| {
                let step = if Some(m) == fin { Step::Fin } else { Step::Rst };
                step_evidence(m.at, side, step)
            })
    }

    /// The last packet of the connection, as the evidence of last resort.
    fn last_packet(&self) -> Evidence {
        match self.timeline.iter().max_by_key(|e| e.at.frame) {
            Some(e) if e.at.frame == self.end.frame => step_evidence(e.at, e.from, e.step),
            _ => Evidence {
                at: self.end,
                side: None,
                what: EvidenceKind::LastPacket,
            },
        }
    }
}

fn step_evidence(at: Mark, side: Side, step: Step) -> Evidence {
    Evidence {
        at,
        side: Some(side),
        what: EvidenceKind::Step(step),
    }
}

/// What a rule concluded. [`super::explain`] turns it into words.
#[derive(Debug, Clone)]
pub(crate) struct Finding<'a> {
    /// The name of the rule that fired.
    pub rule: &'static str,
    pub outcome: Outcome,
    pub code: CauseCode,
    pub confidence: Confidence,
    pub trigger: Trigger<'a>,
    /// The packets that show it, in frame order, each step once (a packet may show two: an alert
    /// and the FIN that came with it).
    pub evidence: Vec<Evidence>,
}

/// The fact a rule fired on, which the explanation is written around.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trigger<'a> {
    /// The handshake finished.
    Completed,
    /// RDP with CredSSP read from decrypted records: the client's and the server's versions are
    /// the encryption-oracle remediation mismatch (CVE-2018-0886), one of them refusing the other.
    CredSspOracle {
        refusal: OracleRefusal,
        client_version: u32,
        server_version: u32,
        /// The server's errorCode, when it sent one.
        code: Option<NtStatus>,
    },
    /// RDP with CredSSP: a TSRequest carried this errorCode.
    CredSspError(NtStatus),
    /// RDP with CredSSP (HYBRID_EX): the server's Early User Authorization Result was not success.
    CredSspNotAuthorized(AuthorizationResult),
    /// RDP with CredSSP: the server ended the connection after the client's authentication (its
    /// TSRequest with pubKeyAuth) without answering with its own pubKeyAuth or an errorCode.
    CredSspRefused {
        /// The client's TSRequest that carried its authentication.
        authentication: Mark,
        /// How the server ended it: its close_notify (or other alert) first, or its FIN/RST.
        alert: bool,
        kind: Option<CloseKind>,
    },
    /// RDP with CredSSP: TLS finished and CredSSP succeeded (the server's pubKeyAuth, the client's
    /// credentials).
    CredSspSucceeded,
    /// RDP with CredSSP: TLS finished, then a close after a few records.
    CredSspEnded {
        side: Side,
        kind: CloseKind,
        records: u64,
    },
    /// The SYN was answered by RST.
    SynRefused,
    /// The SYN was never answered.
    SynUnanswered,
    /// RDP_NEG_FAILURE.
    RdpFailure(FailureCode),
    /// The RDP client hung up on the protocol the server selected, before any TLS.
    RdpSelectionRefused {
        requested: Protocols,
        selected: Protocols,
        kind: CloseKind,
    },
    /// RDP: TLS completed, then the client closed without sending RDP data.
    RdpCertificateRefused { kind: CloseKind },
    /// RDP negotiated standard RDP security.
    RdpStandardSecurity,
    /// Payload that is neither TLS nor RDP negotiation.
    NotTlsPayload,
    /// Bytes that first looked like TLS but never gave a hello or a record that parsed.
    NotTlsAfterAll,
    /// The server answered the ClientHello with these bytes.
    ServerNotTls { preview: BytesPreview },
    /// The client sent these bytes to a TLS server.
    ClientNotTls { preview: BytesPreview },
    /// A connection that carried no byte, on a port where TLS is not customary, ended by a close.
    NoPayloadOffTlsPort,
    /// The client closed without either side sending a byte.
    NothingSent,
    /// An alert ended the handshake.
    Alert(&'a AlertRecord),
    /// A close (FIN or RST) ended the handshake.
    Close {
        side: Side,
        kind: CloseKind,
        at: Mark,
    },
    /// Nothing ended it within the capture.
    CaptureEnded,
    /// The capture holds only `captured`'s packets, yet the other side's show in their effects.
    OneSided { captured: Side },
    /// An RST that its claimed sender's other packets say it did not send.
    MiddleboxReset {
        /// Who it claims to come from.
        claimed: Side,
        /// Its TTL / hop limit.
        rst_hop_limit: u8,
        /// The claimed sender's other packets' range.
        usual: HopLimits,
        /// Its IPv4 ID and the sender's previous one, when they are far apart.
        ids: Option<(u16, u16)>,
        /// How soon after the packet it answers it came, and the round trip the handshake showed,
        /// when it came sooner than the claimed sender could have answered (milliseconds).
        too_soon: Option<(f64, f64)>,
    },
    /// Large segments of `sender` never reached the peer.
    PathMtuBlackhole {
        sender: Side,
        /// Whether the capture was taken on the sender's side (retransmissions seen) or the
        /// receiver's (holes in the sender's stream).
        near_sender: bool,
    },
    /// The client gave up on a server that never answered its ClientHello.
    ServerSilent {
        kind: CloseKind,
        /// From the ClientHello to the client's close.
        waited_ms: f64,
        /// Whether the server acknowledged the ClientHello at TCP level.
        acked: bool,
    },
}

impl<'a> Finding<'a> {
    fn new(
        outcome: Outcome,
        code: CauseCode,
        confidence: Confidence,
        trigger: Trigger<'a>,
        evidence: impl IntoIterator<Item = Option<Evidence>>,
    ) -> Self {
        let mut evidence: Vec<Evidence> = evidence.into_iter().flatten().collect();
        evidence.sort_by_key(|e| e.at.frame);
        evidence.dedup();
        Finding {
            rule: "",
            outcome,
            code,
            confidence,
            trigger,
            evidence,
        }
    }
}

/// A row of the table: a name that says when it applies, and the test that decides it.
pub(crate) struct Rule {
    pub name: &'static str,
    pub applies: for<'a> fn(&Input<'a>) -> Option<Finding<'a>>,
}

/// The rules, in order: the first that applies decides.
#[rustfmt::skip]
pub(crate) const RULES: &[Rule] = &[
    Rule { name: "RDP: TLS finished, then the client left without a byte of RDP", applies: rdp_certificate_refused },
    Rule { name: "RDP CredSSP versions the encryption-oracle remediation refuses", applies: credssp_encryption_oracle },
    Rule { name: "RDP CredSSP: a TSRequest carried an errorCode",           applies: credssp_error_code },
    Rule { name: "RDP CredSSP: Early User Authorization not granted",       applies: credssp_not_authorized },
    Rule { name: "RDP CredSSP: the server hung up on the client's authentication", applies: credssp_refused },
    Rule { name: "RDP CredSSP completed",                                   applies: credssp_succeeded },
    Rule { name: "TLS finished, then RDP's CredSSP ended in a close",       applies: credssp_ended },
    Rule { name: "TLS finished",                                            applies: completed },
    Rule { name: "only one side's packets, the other's effects plain",      applies: one_sided },
    Rule { name: "SYN answered by the server's RST",                        applies: syn_refused },
    Rule { name: "SYN never answered",                                      applies: syn_unanswered },
    Rule { name: "RDP server sent RDP_NEG_FAILURE",                         applies: rdp_failure },
    Rule { name: "RDP client hung up on the protocol the server selected",  applies: rdp_selection_refused },
    Rule { name: "RDP negotiated standard RDP security",                    applies: rdp_standard_security },
    Rule { name: "server answered a ClientHello with bytes that are not TLS", applies: server_not_tls },
    Rule { name: "client sent bytes that are not TLS to a TLS server",       applies: client_not_tls },
    Rule { name: "an RST whose TTL its claimed sender's packets never had", applies: middlebox_reset },
    Rule { name: "payload that is neither TLS nor RDP",                     applies: not_tls_payload },
    Rule { name: "bytes that looked like TLS but gave nothing TLS",          applies: not_tls_after_all },
    Rule { name: "client closed before anybody sent a byte",                applies: nothing_sent },
    Rule { name: "no byte on a port where TLS is not customary",            applies: no_payload_off_tls_port },
    Rule { name: "server handshake_failure/insufficient_security to a ClientHello", applies: no_shared_cipher },
    Rule { name: "server handshake_failure after asking for a client certificate",  applies: handshake_failure_after_certificate_request },
    Rule { name: "protocol_version alert",                                  applies: protocol_version },
    Rule { name: "certificate alert",                                       applies: certificate_alert },
    Rule { name: "certificate_required alert",                              applies: certificate_required },
    Rule { name: "unrecognized_name alert",                                 applies: unrecognized_name },
    Rule { name: "TLS 1.3 client alert hidden in its protected records",    applies: tls13_client_protected_alert },
    Rule { name: "TLS 1.3 server alert hidden in its protected records",    applies: tls13_server_protected_alert },
    Rule { name: "any other alert",                                         applies: other_alert },
    Rule { name: "full-size segments never got through while small ones did", applies: path_mtu_blackhole },
    Rule { name: "client gave up on a server that never answered its ClientHello", applies: server_silent },
    Rule { name: "a FIN or RST before the handshake finished",              applies: closed },
    Rule { name: "nothing ended it: the capture did",                       applies: capture_ended },
];

/// Runs the table. The last rule always applies.
pub(crate) fn decide<'a>(i: &Input<'a>) -> Finding<'a> {
    RULES
        .iter()
        .find_map(|r| {
            (r.applies)(i).map(|mut f| {
                f.rule = r.name;
                f
            })
        })
        .unwrap_or_else(|| capture_ended_finding(i))
}

/// CredSSP (NLA) in either form.
const NLA: Protocols = Protocols(Protocols::HYBRID.0 | Protocols::HYBRID_EX.0);

fn rdp_certificate_refused<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let rdp = i.rdp?;
    let selected = rdp.selected?;
    if !i.completed || !selected.is_external_security() {
        return None;
    }
    let (side, kind, at) = i.close_mark()?;
    // The client's next move after TLS is RDP data (MCS Connect Initial, or CredSSP's TSRequest):
    // none at all, or only an alert-sized record, means it left at the certificate.
    let client = i.after_completion.client;
    if client.data || client.records > 1 || !i.tls_completed_by_hellos() {
        return None;
    }
    let alert = i
        .timeline
        .iter()
        .find(|e| {
            e.from == Side::Client
                && (e.step.is_alert()
                    || matches!(
                        e.step,
                        Step::ApplicationData {
                            protected_handshake: false,
                            ..
                        }
                    ))
        })
        .filter(|e| e.at.frame <= at.frame)
        .map(|e| step_evidence(e.at, e.from, e.step));
    let server_cert = i
        .first_step(|s| matches!(s, Step::Certificate { .. }))
        .filter(|e| e.side == Some(Side::Server));
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::CertificateRejected,
        Confidence::Probable,
        Trigger::RdpCertificateRefused { kind },
        [server_cert, alert, i.close_evidence(side)],
    ))
}

fn rdp_selection_refused<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let rdp = i.rdp?;
    let (requested, selected) = (rdp.requested?, rdp.selected?);
    if rdp.failure.is_some() || i.payload_after_confirm.client || i.client_hello().is_some() {
        return None;
    }
    let (side, kind, _) = i.close_mark()?;
    // A client that asked for NLA and was offered less, or was offered standard security after
    // asking for more: it hangs up at once.
    let wanted_nla = requested.0 & NLA.0 != 0 && selected.0 & NLA.0 == 0;
    let wanted_tls = requested.is_external_security() && !selected.is_external_security();
    (side == Side::Client && (wanted_nla || wanted_tls)).then(|| {
        Finding::new(
            Outcome::Failed,
            CauseCode::RdpNegotiationFailure,
            Confidence::Probable,
            Trigger::RdpSelectionRefused {
                requested,
                selected,
                kind,
            },
            [
                i.first_step(|s| matches!(s, Step::X224Request { .. })),
                rdp_confirm_evidence(i),
                i.close_evidence(Side::Client),
            ],
        )
    })
}

/// What CredSSP showed, for an RDP connection with NLA selected whose TSRequests were read.
fn credssp<'a>(i: &Input<'a>) -> Option<&'a CredsspFacts> {
    let rdp = i.rdp?;
    (rdp.selected?.0 & NLA.0 != 0)
        .then_some(rdp.credssp.as_ref())
        .flatten()
}

/// The timeline's TSRequest steps of `side`, as evidence.
fn tsrequests<'a>(i: &Input<'a>, side: Side) -> impl Iterator<Item = Evidence> + 'a {
    i.timeline
        .iter()
        .filter(move |e| e.from == side && matches!(e.step, Step::TsRequest(_)))
        .map(|e| step_evidence(e.at, e.from, e.step))
}

/// The step written at `at` by `side` (a TSRequest or the Early User Authorization Result), as
/// evidence.
fn credssp_step(i: &Input<'_>, side: Side, at: Mark) -> Option<Evidence> {
    i.timeline
        .iter()
        .find(|e| {
            e.from == side
                && e.at == at
                && matches!(e.step, Step::TsRequest(_) | Step::EarlyUserAuthorization(_))
        })
        .map(|e| step_evidence(e.at, e.from, e.step))
}

/// How the CredSSP exchange ended, as [`encryption_oracle_refusal`] needs it.
fn credssp_ending(i: &Input<'_>, c: &CredsspFacts) -> CredsspEnding {
    if let Some((code, _)) = c.error {
        return CredsspEnding::ServerError(code);
    }
    if i.ending().is_none() {
        return CredsspEnding::Other;
    }
    match (c.client_pub_key_auth, c.last.server) {
        (Some(auth), last) if last.is_none_or(|s| s.frame < auth.frame) => {
            CredsspEnding::EndedAfterClientPubKeyAuth
        }
        (None, Some(_)) => CredsspEnding::EndedBeforeClientPubKeyAuth,
        _ => CredsspEnding::Other,
    }
}

fn credssp_encryption_oracle<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let c = credssp(i)?;
    let (client_version, server_version) = (c.client_version?, c.server_version?);
    let refusal =
        encryption_oracle_refusal(client_version, Some(server_version), credssp_ending(i, c))?;
    // The two sides' TSRequests that show the versions, the error if any, and the close.
    let close = i
        .close_mark()
        .and_then(|(side, _, _)| i.close_evidence(side));
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::NlaFailure,
        Confidence::Certain,
        Trigger::CredSspOracle {
            refusal,
            client_version,
            server_version,
            code: c.error.map(|(code, _)| code),
        },
        [
            tsrequests(i, Side::Client).last(),
            tsrequests(i, Side::Server).last(),
            close,
        ],
    ))
}

fn credssp_error_code<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let c = credssp(i)?;
    let (code, at) = c.error?;
    let sender = [Side::Server, Side::Client]
        .into_iter()
        .find(|&side| credssp_step(i, side, at).is_some())
        .unwrap_or(Side::Server);
    // The peer's TSRequest it answered, and the TSRequest with the errorCode.
    let answered = tsrequests(i, sender.peer())
        .filter(|e| e.at.frame <= at.frame)
        .last();
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::NlaFailure,
        Confidence::Certain,
        Trigger::CredSspError(code),
        [answered, credssp_step(i, sender, at)],
    ))
}

fn credssp_not_authorized<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let c = credssp(i)?;
    let (result, at) = c
        .early_user_authorization
        .filter(|(r, _)| *r != AuthorizationResult::SUCCESS)?;
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::NlaFailure,
        Confidence::Certain,
        Trigger::CredSspNotAuthorized(result),
        [
            c.client_auth_info
                .and_then(|m| credssp_step(i, Side::Client, m)),
            credssp_step(i, Side::Server, at),
        ],
    ))
}

fn credssp_refused<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let c = credssp(i)?;
    let authentication = c.client_pub_key_auth?;
    if c.server_pub_key_auth.is_some() || c.error.is_some() {
        return None;
    }
    // The server ended it, after the client's authentication, having sent nothing else since: no
    // TSRequest, and no record that could not be read (which might have been its answer).
    let answered = c
        .last
        .server
        .is_some_and(|s| s.frame > authentication.frame)
        || i.timeline.iter().any(|e| {
            e.from == Side::Server
                && e.at.frame > authentication.frame
                && matches!(
                    e.step,
                    Step::ApplicationData { .. } | Step::EncryptedHandshake | Step::Gap { .. }
                )
        });
    let (alert, kind, at) = match i.ending()? {
        Ending::Alert(a) if a.from == Side::Server => (Some(a), None, a.at),
        Ending::Close {
            side: Side::Server,
            kind,
            at,
        } => (None, Some(kind), at),
        _ => return None,
    };
    if answered || at.frame < authentication.frame {
        return None;
    }
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::NlaFailure,
        Confidence::Certain,
        Trigger::CredSspRefused {
            authentication,
            alert: alert.is_some(),
            kind: kind.or(i.closed_by.map(|(_, k)| k)),
        },
        [
            credssp_step(i, Side::Client, authentication),
            alert.map(|a| {
                step_evidence(
                    a.at,
                    a.from,
                    Step::Alert {
                        alert: a.alert,
                        inferred: a.inferred,
                    },
                )
            }),
            i.close_evidence(Side::Server),
        ],
    ))
}

fn credssp_succeeded<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let c = credssp(i)?;
    (i.completed && c.succeeded()).then(|| {
        Finding::new(
            Outcome::Completed,
            CauseCode::None,
            Confidence::Certain,
            Trigger::CredSspSucceeded,
            [],
        )
    })
}

fn credssp_ended<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    if !i.completed {
        return None;
    }
    let rdp = i.rdp?;
    let selected = rdp.selected?;
    if selected.0 & (Protocols::HYBRID.0 | Protocols::HYBRID_EX.0) == 0 {
        return None;
    }
    let (side, kind, at) = i.close_mark()?;
    let tls = i.tls?;
    if tls.application_records.client == 0 {
        // CredSSP never started: not an authentication failure.
        return None;
    }
    let records = tls.application_records.client + tls.application_records.server;
    if records > MAX_CREDSSP_RECORDS {
        return None;
    }
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::NlaFailure,
        Confidence::Probable,
        Trigger::CredSspEnded {
            side,
            kind,
            records,
        },
        [
            i.last_step_of(side.peer(), at.frame),
            i.close_evidence(side),
        ],
    ))
}

fn completed<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    i.completed.then(|| {
        Finding::new(
            Outcome::Completed,
            CauseCode::None,
            Confidence::Certain,
            Trigger::Completed,
            [],
        )
    })
}

fn one_sided<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let captured = match (i.packets.client, i.packets.server) {
        (0, 0) => return None,
        (_, 0) => Side::Client,
        (0, _) => Side::Server,
        _ => return None,
    };
    // The other side's effects: bytes of it acknowledged (beyond its SYN), a client going on past
    // its hello, a server answering a client never seen.
    let acked = i.tcp.acked_bytes[captured] > 1;
    let went_on = match captured {
        Side::Client => i.stage >= Stage::ClientKeyExchange,
        Side::Server => i.payload_seen.server,
    };
    (acked || went_on).then(|| {
        let first = i
            .timeline
            .iter()
            .find(|e| e.from == captured && !matches!(e.step, Step::Syn | Step::SynAck))
            .map(|e| step_evidence(e.at, e.from, e.step));
        Finding::new(
            Outcome::Incomplete,
            CauseCode::CaptureIncomplete,
            Confidence::Probable,
            Trigger::OneSided { captured },
            [first, Some(i.last_packet())],
        )
    })
}

/// IPv4 IDs this far apart (either way) are not one sender's sequence.
const IP_ID_JUMP: u16 = 1024;

fn middlebox_reset<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let Ending::Close {
        side: claimed,
        kind: CloseKind::Rst,
        at,
    } = i.ending()?
    else {
        return None;
    };
    let usual = i.tcp.hop_limits[claimed]?;
    let rst = i
        .timeline
        .iter()
        .find(|e| e.from == claimed && e.step == Step::Rst && e.at.frame == at.frame)?;
    let rst_ip = rst.ip?;
    if usual.contains(rst_ip.hop_limit) {
        return None;
    }
    // The claimed sender's last packet before the RST, to show its usual TTL (and IP ID).
    let before = i
        .timeline
        .iter()
        .rev()
        .find(|e| e.from == claimed && e.at.frame < at.frame && e.ip.is_some());
    let ids = match (before.and_then(|e| e.ip).and_then(|ip| ip.id), rst_ip.id) {
        (Some(prev), Some(id)) => {
            let d = id.wrapping_sub(prev).min(prev.wrapping_sub(id));
            (d >= IP_ID_JUMP).then_some((id, prev))
        }
        _ => None,
    };
    // Near the client, the server's answers take the round trip the SYN and SYN-ACK showed; an
    // RST "from the server" that comes in less than half of it was sent from closer by.
    let answered = i.last_step_of(claimed.peer(), at.frame);
    let too_soon = match (claimed, i.tcp.syn, i.tcp.syn_ack, answered) {
        (Side::Server, Some(syn), Some(syn_ack), Some(a)) => {
            let rtt = syn_ack.ts.millis_since(syn.ts);
            let delay = at.ts.millis_since(a.at.ts);
            (rtt > 0.0 && delay >= 0.0 && delay < rtt / 2.0).then_some((delay, rtt))
        }
        _ => None,
    };
    // Without TLS, RDP or a port where TLS is customary it was no TLS attempt: not_tls, with the
    // reset as its TCP cause.
    let attempt = i.tls.is_some() || i.rdp.is_some() || i.tls_port;
    Some(Finding::new(
        if attempt {
            Outcome::Failed
        } else {
            Outcome::NotTls
        },
        CauseCode::MiddleboxReset,
        Confidence::Probable,
        Trigger::MiddleboxReset {
            claimed,
            rst_hop_limit: rst_ip.hop_limit,
            usual,
            ids,
            too_soon,
        },
        [
            before.map(|e| step_evidence(e.at, e.from, e.step)),
            answered,
            Some(step_evidence(at, claimed, Step::Rst)),
        ],
    ))
}

/// A segment this large is a full-size one on common paths (Ethernet MSS 1460, less tunnel and
/// option overhead); smaller ones are what gets through a path that drops big packets.
const FULL_SIZE_SEGMENT: u32 = 1200;

fn path_mtu_blackhole<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    if i.completed {
        return None;
    }
    let (closer, _, _) = i.close_mark()?;
    for sender in [Side::Server, Side::Client] {
        let largest = i.tcp.largest_segment[sender];
        if largest < FULL_SIZE_SEGMENT {
            continue;
        }
        // Near the sender: its big segments were sent again and again and the peer never
        // acknowledged all it sent.
        let resent = i.tcp.retransmitted_bytes[sender] >= u64::from(largest);
        let sent = i.tcp.acked_bytes[sender.peer()];
        let unacked = i.bytes[sender].saturating_sub(i.tcp.retransmitted_bytes[sender]) > sent;
        // Near the receiver: the sender's stream has holes never filled, with bytes after them
        // (the small tails of its writes got through), and nothing came of the handshake.
        let holes = i.tcp.gap_bytes[sender] >= u64::from(FULL_SIZE_SEGMENT);
        let stuck = match sender {
            Side::Server => i.stage <= Stage::ClientHello,
            Side::Client => i.stage < Stage::ServerHello,
        };
        let near_sender = resent && unacked;
        let near_receiver = holes && stuck && !resent;
        if near_sender || (near_receiver && closer == sender.peer()) {
            // What the receiver sent (its hello), the sender's first big answer where the capture
            // holds it (near the sender; near the receiver its steps come only when the capture
            // ends), and the close.
            let first_payload = |side: Side| {
                i.timeline
                    .iter()
                    .find(|e| e.from == side && is_payload_step(&e.step))
                    .map(|e| step_evidence(e.at, e.from, e.step))
            };
            return Some(Finding::new(
                Outcome::Failed,
                CauseCode::PathMtuBlackhole,
                Confidence::Probable,
                Trigger::PathMtuBlackhole {
                    sender,
                    near_sender,
                },
                [
                    first_payload(sender.peer()),
                    if near_sender {
                        first_payload(sender)
                    } else {
                        None
                    },
                    i.close_evidence(closer),
                ],
            ));
        }
    }
    None
}

fn server_silent<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let Ending::Close {
        side: Side::Client,
        kind,
        at,
    } = i.ending()?
    else {
        return None;
    };
    let hello = i.first_step(|s| matches!(s, Step::ClientHello { .. }))?;
    let answered = i.payload_seen.server
        && i.timeline.iter().any(|e| {
            e.from == Side::Server && e.at.frame > hello.at.frame && is_payload_step(&e.step)
        });
    if answered || i.stage != Stage::ClientHello || i.not_tls.server.is_some() {
        return None;
    }
    let waited_ms = at.ts.millis_since(hello.at.ts).max(0.0);
    let acked = i.tcp.acked_bytes.server > 1;
    let code = match kind {
        CloseKind::Fin => CauseCode::ClientClosed,
        CloseKind::Rst => CauseCode::ClientReset,
    };
    Some(Finding::new(
        Outcome::Failed,
        code,
        Confidence::Probable,
        Trigger::ServerSilent {
            kind,
            waited_ms,
            acked,
        },
        [Some(hello), i.close_evidence(Side::Client)],
    ))
}

/// Whether a step carried payload (not a TCP control packet or a gap).
fn is_payload_step(s: &Step) -> bool {
    !matches!(
        s,
        Step::Syn | Step::SynAck | Step::Fin | Step::Rst | Step::Gap { .. }
    )
}

/// A connection that failed before any byte is a failed TLS handshake only where TLS was expected:
/// elsewhere it is a health check, a probe or a scan.
fn tls_expected(i: &Input<'_>) -> Outcome {
    if i.tls_port {
        Outcome::Failed
    } else {
        Outcome::NotTls
    }
}

/// A SYN and nothing else from either side but, perhaps, the server's RST.
fn only_syn(i: &Input<'_>) -> bool {
    i.tcp.syn.is_some()
        && i.tcp.syn_ack.is_none()
        && !i.payload_seen.server
        && !i.payload_seen.client
}

fn syn_evidence(i: &Input<'_>) -> Option<Evidence> {
    i.tcp
        .syn
        .map(|at| step_evidence(at, Side::Client, Step::Syn))
}

fn syn_refused<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let rst = i.tcp.first_rst.filter(|r| r.side == Side::Server)?;
    only_syn(i).then(|| {
        Finding::new(
            tls_expected(i),
            CauseCode::TcpRefused,
            Confidence::Certain,
            Trigger::SynRefused,
            [
                syn_evidence(i),
                Some(step_evidence(rst.at, Side::Server, Step::Rst)),
            ],
        )
    })
}

fn syn_unanswered<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    (only_syn(i) && i.packets.server == 0).then(|| {
        Finding::new(
            tls_expected(i),
            CauseCode::TcpUnanswered,
            Confidence::Probable,
            Trigger::SynUnanswered,
            [syn_evidence(i), Some(i.last_packet())],
        )
    })
}

fn rdp_confirm_evidence(i: &Input<'_>) -> Option<Evidence> {
    i.first_step(|s| matches!(s, Step::X224Confirm(_)))
}

fn rdp_failure<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let code = i.rdp?.failure?;
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::RdpNegotiationFailure,
        Confidence::Certain,
        Trigger::RdpFailure(code),
        [
            i.first_step(|s| matches!(s, Step::X224Request { .. })),
            rdp_confirm_evidence(i),
        ],
    ))
}

fn rdp_standard_security<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let rdp = i.rdp?;
    (rdp.confirmed && rdp.selected == Some(Protocols::RDP) && i.tls.is_none()).then(|| {
        Finding::new(
            Outcome::NotTls,
            CauseCode::None,
            Confidence::Certain,
            Trigger::RdpStandardSecurity,
            [rdp_confirm_evidence(i)],
        )
    })
}

fn not_tls_payload<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    (i.tls.is_none()
        && i.protocol == Protocol::Other
        && (i.payload_seen.client || i.payload_seen.server))
        .then(|| {
            Finding::new(
                Outcome::NotTls,
                CauseCode::None,
                Confidence::Certain,
                Trigger::NotTlsPayload,
                [],
            )
        })
}

fn server_not_tls<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let hello = i.tls?.client_hello_at?;
    let (at, preview) = i.not_tls.server?;
    // Its answer to the hello; or a banner before it that the client did not talk to first (a
    // STARTTLS exchange has the client speak in clear text before its hello).
    let answer = at.frame >= hello.frame;
    let banner = at.frame < hello.frame && i.not_tls.client.is_none();
    (answer || banner).then(|| {
        let close = i.close_mark().map(|(side, _, _)| side);
        Finding::new(
            Outcome::Failed,
            CauseCode::ServerNotTls,
            Confidence::Certain,
            Trigger::ServerNotTls { preview },
            [
                i.first_step(|s| matches!(s, Step::ClientHello { .. })),
                Some(step_evidence(at, Side::Server, Step::NotTls { preview })),
                close.and_then(|side| i.close_evidence(side)),
            ],
        )
    })
}

fn client_not_tls<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let (at, preview) = i.not_tls.client?;
    if i.not_tls.server.is_some() || i.client_hello().is_some() {
        return None;
    }
    // The server alerted (it speaks TLS), or closed on a port where TLS is customary.
    let alert = i.alerts.iter().find(|a| a.from == Side::Server);
    let close = i
        .close_mark()
        .filter(|(side, _, m)| *side == Side::Server && m.frame >= at.frame);
    let confidence = match (alert, close) {
        (Some(_), _) => Confidence::Certain,
        (None, Some(_)) if i.tls_port => Confidence::Probable,
        _ => return None,
    };
    Some(Finding::new(
        Outcome::Failed,
        CauseCode::ClientNotTls,
        confidence,
        Trigger::ClientNotTls { preview },
        [
            Some(step_evidence(at, Side::Client, Step::NotTls { preview })),
            alert.map(|a| {
                step_evidence(
                    a.at,
                    Side::Server,
                    Step::Alert {
                        alert: a.alert,
                        inferred: a.inferred,
                    },
                )
            }),
            close.and_then(|_| i.close_evidence(Side::Server)),
        ],
    ))
}

/// Whether a timeline step is TLS that parsed: a handshake message, a record of a known type.
fn is_tls_step(s: &Step) -> bool {
    is_payload_step(s)
        && !matches!(
            s,
            Step::X224Request { .. }
                | Step::X224Confirm(_)
                | Step::NotTls { .. }
                | Step::MalformedTls { .. }
        )
}

fn not_tls_after_all<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let tls = i.tls?;
    let nothing_tls = tls.client_hello.is_none()
        && tls.server_hello.is_none()
        && i.alerts.is_empty()
        && !tls.anomalies.is_empty()
        && tls
            .anomalies
            .iter()
            .all(|a| matches!(a.kind, TlsAnomalyKind::Malformed { .. }))
        && !i.timeline.iter().any(|e| is_tls_step(&e.step));
    (nothing_tls && i.rdp.is_none()).then(|| {
        Finding::new(
            Outcome::NotTls,
            CauseCode::None,
            Confidence::Certain,
            Trigger::NotTlsAfterAll,
            [],
        )
    })
}

fn no_payload_off_tls_port<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let nothing =
        !i.payload_seen.client && !i.payload_seen.server && i.rdp.is_none() && i.tls.is_none();
    let (side, _, _) = i.close_mark()?;
    (nothing && !i.tls_port).then(|| {
        Finding::new(
            Outcome::NotTls,
            CauseCode::None,
            Confidence::Certain,
            Trigger::NoPayloadOffTlsPort,
            [i.close_evidence(side)],
        )
    })
}

fn nothing_sent<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let nothing =
        !i.payload_seen.client && !i.payload_seen.server && i.rdp.is_none() && i.tls.is_none();
    (nothing && i.closed_by.is_some_and(|(side, _)| side == Side::Client)).then(|| {
        Finding::new(
            Outcome::NotTls,
            CauseCode::None,
            Confidence::Certain,
            Trigger::NothingSent,
            [i.close_evidence(Side::Client)],
        )
    })
}

/// The alert that ended the handshake, if an alert did.
fn ending_alert<'a>(i: &Input<'a>) -> Option<&'a AlertRecord> {
    match i.ending()? {
        Ending::Alert(a) => Some(a),
        Ending::Close { .. } => None,
    }
}

/// A finding for an alert: certain when the alert was read, probable when only its record was seen
/// or it was inferred. The evidence is what the alert answered (the peer's last step before it),
/// the alert itself and its sender's close.
fn alert_finding<'a>(i: &Input<'a>, a: &'a AlertRecord, code: CauseCode) -> Finding<'a> {
    let confidence = if a.alert.description.is_some() {
        Confidence::Certain
    } else {
        Confidence::Probable
    };
    Finding::new(
        Outcome::Failed,
        code,
        confidence,
        Trigger::Alert(a),
        [
            i.last_step_of(a.from.peer(), a.at.frame),
            Some(step_evidence(
                a.at,
                a.from,
                Step::Alert {
                    alert: a.alert,
                    inferred: a.inferred,
                },
            )),
            i.close_evidence(a.from)
                .filter(|c| c.at.frame >= a.at.frame),
        ],
    )
}

/// An ending alert with one of `descriptions`, sent by `from` (either side when `None`).
fn alert_with<'a>(
    i: &Input<'a>,
    from: Option<Side>,
    descriptions: &[AlertDescription],
) -> Option<&'a AlertRecord> {
    ending_alert(i).filter(|a| {
        from.is_none_or(|s| a.from == s)
            && a.alert
                .description
                .is_some_and(|d| descriptions.contains(&d))
    })
}

const NO_COMMON_GROUND: [AlertDescription; 2] = [
    AlertDescription::HANDSHAKE_FAILURE,
    AlertDescription::INSUFFICIENT_SECURITY,
];

fn no_shared_cipher<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = alert_with(i, Some(Side::Server), &NO_COMMON_GROUND)?;
    (i.stage <= Stage::ClientHello).then(|| alert_finding(i, a, CauseCode::NoSharedCipher))
}

fn handshake_failure_after_certificate_request<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = alert_with(i, Some(Side::Server), &NO_COMMON_GROUND)?;
    i.certificate_requested()
        .then(|| alert_finding(i, a, CauseCode::ClientCertificateRequired))
}

fn protocol_version<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = alert_with(i, None, &[AlertDescription::PROTOCOL_VERSION])?;
    Some(alert_finding(i, a, CauseCode::ProtocolVersion))
}

fn certificate_alert<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = ending_alert(i)?;
    a.alert
        .description
        .is_some_and(AlertDescription::is_certificate_problem)
        .then(|| alert_finding(i, a, CauseCode::CertificateRejected))
}

fn certificate_required<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = alert_with(i, None, &[AlertDescription::CERTIFICATE_REQUIRED])?;
    Some(alert_finding(i, a, CauseCode::ClientCertificateRequired))
}

fn unrecognized_name<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = alert_with(i, None, &[AlertDescription::UNRECOGNIZED_NAME])?;
    Some(alert_finding(i, a, CauseCode::UnrecognizedName))
}

/// An alert whose description could not be read, in a TLS 1.3 handshake, from `side`.
fn tls13_unread_alert<'a>(i: &Input<'a>, side: Side) -> Option<&'a AlertRecord> {
    ending_alert(i).filter(|a| i.tls13 && a.from == side && a.alert.description.is_none())
}

/// In TLS 1.3 a client that aborts right after the server's encrypted flight is almost always
/// rejecting the server's certificate.
fn tls13_client_protected_alert<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = tls13_unread_alert(i, Side::Client)?;
    Some(alert_finding(i, a, CauseCode::CertificateRejected))
}

/// In TLS 1.3 a server that aborts after the client's second flight is almost always refusing
/// the client's certificate or its absence.
fn tls13_server_protected_alert<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = tls13_unread_alert(i, Side::Server)?;
    Some(alert_finding(i, a, CauseCode::ClientCertificateRequired))
}

fn other_alert<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let a = ending_alert(i)?;
    Some(alert_finding(i, a, CauseCode::PeerAlert))
}

fn closed<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    let Ending::Close { side, kind, at } = i.ending()? else {
        return None;
    };
    let code = match (side, kind) {
        (Side::Server, CloseKind::Rst) => CauseCode::ServerReset,
        (Side::Server, CloseKind::Fin) => CauseCode::ServerClosed,
        (Side::Client, CloseKind::Rst) => CauseCode::ClientReset,
        (Side::Client, CloseKind::Fin) => CauseCode::ClientClosed,
    };
    Some(Finding::new(
        Outcome::Failed,
        code,
        Confidence::Probable,
        Trigger::Close { side, kind, at },
        [
            i.last_step_of(side.peer(), at.frame),
            i.close_evidence(side),
        ],
    ))
}

fn capture_ended<'a>(i: &Input<'a>) -> Option<Finding<'a>> {
    Some(capture_ended_finding(i))
}

fn capture_ended_finding<'a>(i: &Input<'a>) -> Finding<'a> {
    Finding::new(
        Outcome::Incomplete,
        CauseCode::CaptureIncomplete,
        Confidence::Certain,
        Trigger::CaptureEnded,
        [Some(i.last_packet())],
    )
}

#[cfg(test)]
mod tests;
