//! The observer: one per connection, fed TCP, RDP and TLS events in capture order, turned into a
//! [`Verdict`] when the connection ends.
//!
//! Every transition of the handshake's stage is in [`Observer::tls`], one `match` on the event and its
//! sender; events that make no sense where they arrive are kept as anomalies, never errors.

use crate::decode::IpFacts;
use crate::flow::{ClientInference, Endpoint};
use crate::rdp::nla::NlaEvent;
use crate::rdp::{ConnectionConfirm, ConnectionRequest, NegResponse, Protocols};
use crate::tls::{Alert, CipherSuite, TlsEvent, hs};
use crate::{PerSide, Side};

use super::rules::{self, AfterCompletion, Input};
use super::{
    AlertRecord, BytesPreview, CredsspFacts, Mark, Outcome, Protocol, RdpAnswer, RdpFacts,
    SideMark, Stage, Step, TcpFacts, TimelineEntry, TlsAnomaly, TlsAnomalyKind, TlsFacts, Verdict,
    explain, wireshark_filter,
};

/// The body of a TLS 1.3 protected record holding an alert with no padding (RFC 8446 §5.2): two
/// bytes of alert, the inner content type, and a 16-byte AEAD tag.
const PROTECTED_ALERT_LEN: u16 = 2 + 1 + 16;
/// The same with TLS_AES_128_CCM_8_SHA256's 8-byte tag (RFC 8446 §B.4).
const PROTECTED_ALERT_LEN_CCM_8: u16 = 2 + 1 + 8;
/// TLS_AES_128_CCM_8_SHA256 (RFC 8446 §B.4).
const TLS_AES_128_CCM_8_SHA256: CipherSuite = CipherSuite(0x1305);

/// A protected record of exactly an alert's size, not yet followed by another record of its side:
/// if its sender closes next, it was an alert.
#[derive(Debug, Clone, Copy)]
struct PendingAlert {
    at: Mark,
    len: u16,
    /// Where it was written in the timeline (as application data), if it was.
    entry: Option<usize>,
}

/// What the connection layer knows about a connection when it ends.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionFacts {
    pub conn: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub inferred: ClientInference,
    pub start: Mark,
    pub end: Mark,
    pub packets: PerSide<u64>,
    pub bytes: PerSide<u64>,
    pub unfinished: bool,
    /// Whether the server's port is one where TLS is customary ([`crate::Config::tls_ports`]).
    pub tls_port: bool,
}

/// Collects the facts of one connection as they happen.
#[derive(Debug, Clone)]
pub(crate) struct Observer {
    stage: Stage,
    tcp: TcpFacts,
    alerts: Vec<AlertRecord>,
    // Boxed: most connections of a busy capture never get this far, and a tracked connection
    // should stay small.
    rdp: Option<Box<RdpFacts>>,
    tls: Option<Box<TlsFacts>>,
    protocol: Protocol,
    timeline: Vec<TimelineEntry>,
    timeline_omitted: u64,
    max_timeline: usize,
    payload_seen: PerSide<bool>,
    ccs: PerSide<bool>,
    finished: PerSide<bool>,
    tls13: bool,
    client_protected: bool,
    /// TLS 1.3: protected records the client sent after the ServerHello, and where the second was.
    client_protected_records: u32,
    second_client_protected: Option<Mark>,
    completed_at: Option<Mark>,
    /// Whether the first TLS record seen was already protected (the capture joined after the handshake).
    first_tls_protected: Option<bool>,
    /// SSL 2.0: records per side after the client's CLIENT-MASTER-KEY (`None` before it).
    ssl2_after_master_key: Option<PerSide<u32>>,
    /// The last record from a side was alert-sized and protected, during a TLS 1.3 handshake.
    pending_alert: PerSide<Option<PendingAlert>>,
    /// The length of a protected alert with the negotiated suite.
    protected_alert_len: u16,
    /// The IP facts of each side's latest packet: the steps it shows are written with them.
    ip: PerSide<Option<IpFacts>>,
    /// Each side's first bytes that were neither TLS nor RDP negotiation, and where (boxed: rare,
    /// and a tracked connection should stay small).
    not_tls: PerSide<Option<Box<(Mark, BytesPreview)>>>,
    /// Payload sent after the RDP Connection Confirm, per side.
    payload_after_confirm: PerSide<bool>,
    /// The client's payload segments and bytes since its last step (what its next step took).
    client_since_step: (u32, u32),
    /// Application data records after the handshake completed, per side, and whether any was not
    /// of an alert's size (data, not a close).
    after_completion: PerSide<AfterCompletion>,
    /// The event being taken in was read from a decrypted record: its steps are marked so.
    decrypting: bool,
}

impl Observer {
    pub(crate) fn new(max_timeline: usize) -> Self {
        Observer {
            stage: Stage::TcpSyn,
            tcp: TcpFacts::default(),
            alerts: Vec::new(),
            rdp: None,
            tls: None,
            protocol: Protocol::Other,
            timeline: Vec::new(),
            timeline_omitted: 0,
            max_timeline,
            payload_seen: PerSide::default(),
            ccs: PerSide::default(),
            finished: PerSide::default(),
            tls13: false,
            client_protected: false,
            client_protected_records: 0,
            second_client_protected: None,
            completed_at: None,
            ssl2_after_master_key: None,
            first_tls_protected: None,
            pending_alert: PerSide::default(),
            protected_alert_len: PROTECTED_ALERT_LEN,
            ip: PerSide::default(),
            not_tls: PerSide::default(),
            payload_after_confirm: PerSide::default(),
            client_since_step: (0, 0),
            after_completion: PerSide::default(),
            decrypting: false,
        }
    }

    /// Exchanges the roles of the two ends (the client was decided late, before any protocol event).
    pub(crate) fn swap_roles(&mut self) {
        let flip = |m: &mut Option<SideMark>| {
            if let Some(m) = m {
                m.side = m.side.peer();
            }
        };
        flip(&mut self.tcp.first_fin);
        flip(&mut self.tcp.first_rst);
        self.tcp.gap_bytes.swap();
        self.tcp.gaps.swap();
        self.tcp.retransmitted_bytes.swap();
        self.tcp.overlap_conflicts.swap();
        self.payload_seen.swap();
        for e in &mut self.timeline {
            e.from = e.from.peer();
        }
        self.pending_alert.swap();
        self.ip.swap();
        self.not_tls.swap();
    }

    pub(crate) fn completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// Writes a step into the timeline; returns its index there, if it was kept.
    fn note(&mut self, at: Mark, from: Side, step: Step) -> Option<usize> {
        if from == Side::Client && !matches!(step, Step::Syn | Step::Gap { .. }) {
            self.client_since_step = (0, 0);
        }
        if let Some(last) = self.timeline.last_mut()
            && last.from == from
            && last.decrypted == self.decrypting
            && last.step.folds_with(&step)
        {
            // Runs of application data fold into one step.
            last.count += 1;
            if let (
                Step::ApplicationData { bytes: total, .. },
                Step::ApplicationData { bytes, .. },
            ) = (&mut last.step, step)
            {
                *total += bytes;
            }
            return Some(self.timeline.len() - 1);
        }
        if self.timeline.len() < self.max_timeline {
            let mut entry = TimelineEntry::new(at, from, step);
            entry.ip = self.ip[from];
            entry.decrypted = self.decrypting;
            self.timeline.push(entry);
            Some(self.timeline.len() - 1)
        } else {
            self.timeline_omitted += 1;
            None
        }
    }

    fn advance(&mut self, stage: Stage) {
        self.stage = self.stage.max(stage);
    }

    /// The IP facts of `side`'s latest packet: the steps it shows are written with them.
    pub(crate) fn ip(&mut self, side: Side, ip: IpFacts) {
        self.ip[side] = Some(ip);
    }

    /// The TCP facts, for the connection to fill in what it counted per packet before the verdict
    /// is made.
    pub(crate) fn tcp_mut(&mut self) -> &mut TcpFacts {
        &mut self.tcp
    }

    pub(crate) fn syn(&mut self, at: Mark) {
        if self.tcp.syn.is_none() {
            self.tcp.syn = Some(at);
            self.note(at, Side::Client, Step::Syn);
        }
    }

    pub(crate) fn syn_ack(&mut self, at: Mark) {
        self.advance(Stage::TcpEstablished);
        if self.tcp.syn_ack.is_none() {
            self.tcp.syn_ack = Some(at);
            self.note(at, Side::Server, Step::SynAck);
        }
    }

    pub(crate) fn fin(&mut self, from: Side, at: Mark) {
        self.infer_alert_on_close(from);
        if self.tcp.first_fin.is_none() {
            self.tcp.first_fin = Some(SideMark { side: from, at });
            self.note(at, from, Step::Fin);
        }
    }

    pub(crate) fn rst(&mut self, from: Side, at: Mark) {
        self.infer_alert_on_close(from);
        if self.tcp.first_rst.is_none() {
            self.tcp.first_rst = Some(SideMark { side: from, at });
            self.note(at, from, Step::Rst);
        }
    }

    pub(crate) fn payload(&mut self, from: Side, len: u32) {
        self.payload_seen[from] = true;
        if from == Side::Client {
            let (segments, bytes) = &mut self.client_since_step;
            *segments += 1;
            *bytes += len;
        }
        if self.rdp.as_ref().is_some_and(|r| r.confirmed) {
            self.payload_after_confirm[from] = true;
        }
        self.advance(Stage::TcpEstablished);
    }

    /// A segment without SYN: the connection exists beyond its first SYN (or the capture began later).
    pub(crate) fn established(&mut self) {
        if self.tcp.syn.is_none() || self.tcp.syn_ack.is_some() {
            self.advance(Stage::TcpEstablished);
        }
    }

    pub(crate) fn stream_stats(
        &mut self,
        from: Side,
        gaps: u64,
        gap_bytes: u64,
        retrans: u64,
        conflicts: u64,
    ) {
        self.tcp.gaps[from] = gaps;
        self.tcp.gap_bytes[from] = gap_bytes;
        self.tcp.retransmitted_bytes[from] = retrans;
        self.tcp.overlap_conflicts[from] = conflicts;
    }

    pub(crate) fn gap(&mut self, from: Side, missing: u64, at: Mark) {
        self.note(at, from, Step::Gap { bytes: missing });
    }

    pub(crate) fn rdp_request(&mut self, cr: &ConnectionRequest, at: Mark) {
        self.protocol = Protocol::Rdp;
        self.advance(Stage::RdpRequest);
        let rdp = self.rdp.get_or_insert_with(Box::default);
        rdp.cookie = cr.cookie.clone();
        rdp.routing_token = cr.routing_token.clone();
        rdp.requested = cr.neg_request.as_ref().map(|n| n.requested);
        rdp.request_flags = cr.neg_request.as_ref().map(|n| n.flags);
        rdp.correlation_id = cr.correlation_id;
        rdp.anomalies.extend(cr.anomalies.iter().copied());
        let requested = rdp.requested;
        self.note(at, Side::Client, Step::X224Request { requested });
    }

    pub(crate) fn rdp_confirm(&mut self, cc: &ConnectionConfirm, at: Mark) {
        self.protocol = Protocol::Rdp;
        self.advance(Stage::RdpConfirm);
        let rdp = self.rdp.get_or_insert_with(Box::default);
        rdp.confirmed = true;
        rdp.anomalies.extend(cc.anomalies.iter().copied());
        let answer = match &cc.response {
            Some(NegResponse::Selected { flags, protocol }) => {
                rdp.selected = Some(*protocol);
                rdp.response_flags = Some(*flags);
                RdpAnswer::Selected(*protocol)
            }
            Some(NegResponse::Failure(code)) => {
                rdp.failure = Some(*code);
                RdpAnswer::Failure(*code)
            }
            None => {
                rdp.selected = Some(Protocols::RDP);
                RdpAnswer::Legacy
            }
        };
        self.note(at, Side::Server, Step::X224Confirm(answer));
    }

    /// `from`'s first bytes are neither TLS nor RDP negotiation.
    pub(crate) fn not_tls(&mut self, from: Side, preview: BytesPreview, at: Mark) {
        if self.not_tls[from].is_none() {
            self.not_tls[from] = Some(Box::new((at, preview)));
            self.note(at, from, Step::NotTls { preview });
        }
    }

    /// The connection carries TLS from now on (from its first byte, or after RDP negotiation).
    pub(crate) fn tls_started(&mut self) {
        if self.protocol == Protocol::Other {
            self.protocol = Protocol::Tls;
        }
        self.tls.get_or_insert_with(Box::default);
    }

    /// A side closes: an alert-sized protected record it sent last, during a TLS 1.3 handshake, was
    /// its alert. It is then no longer counted or drawn as application data.
    fn infer_alert_on_close(&mut self, from: Side) {
        let Some(pending) = self.pending_alert[from].take() else {
            return;
        };
        if self.completed() {
            return;
        }
        let alert = Alert {
            level: None,
            description: None,
            encrypted: true,
        };
        self.alerts.push(AlertRecord {
            from,
            alert,
            inferred: true,
            decrypted: false,
            at: pending.at,
        });
        if let Some(tls) = self.tls.as_mut() {
            tls.application_records[from] = tls.application_records[from].saturating_sub(1);
        }
        let step = Step::Alert {
            alert,
            inferred: true,
        };
        match pending.entry.and_then(|i| self.timeline.get_mut(i)) {
            Some(e) if e.count <= 1 => e.step = step,
            Some(e) => {
                // It was folded into a run of its side's records: take it out of the run.
                e.count -= 1;
                if let Step::ApplicationData { bytes, .. } = &mut e.step {
                    *bytes = bytes.saturating_sub(u64::from(pending.len));
                }
                self.note(pending.at, from, step);
            }
            None => {}
        }
    }

    /// A side's Finished (once): the handshake completes with the second.
    fn finished(&mut self, from: Side, at: Mark, step: Step) {
        if !self.finished[from] {
            self.finished[from] = true;
            self.advance(Stage::Finished);
            self.note(at, from, step);
        }
        if self.finished.client && self.finished.server {
            self.complete(at);
        }
    }

    fn complete(&mut self, at: Mark) {
        if self.completed_at.is_none() {
            self.completed_at = Some(at);
        }
    }

    /// One TLS event from `from`, completed by frame `at`.
    pub(crate) fn tls(&mut self, from: Side, event: &TlsEvent, at: Mark) {
        // What was read from a decrypted record is taken in as its plaintext twin, its steps marked.
        let (event, decrypted) = match event {
            TlsEvent::Decrypted(inner) => (&**inner, true),
            TlsEvent::DecryptedAlert { .. } | TlsEvent::DecryptedApplicationData { .. } => {
                (event, true)
            }
            _ => (event, false),
        };
        self.decrypting = decrypted;
        self.tls_event(from, event, at);
        self.decrypting = false;
    }

    #[rustfmt::skip]
    fn tls_event(&mut self, from: Side, event: &TlsEvent, at: Mark) {
        self.tls_started();
        if self.first_tls_protected.is_none() {
            let protected = match event {
                TlsEvent::ApplicationData { .. } | TlsEvent::EncryptedHandshake { .. } | TlsEvent::Finished => Some(true),
                TlsEvent::Alert(a) => Some(a.encrypted),
                TlsEvent::Malformed { .. } | TlsEvent::Resync { .. } => None,
                _ => Some(false),
            };
            self.first_tls_protected = protected;
        }
        let is_record_level = !matches!(event, TlsEvent::Malformed { .. } | TlsEvent::Resync { .. } | TlsEvent::Decryption(_));
        if is_record_level {
            // Any later record of the side settles a pending alert-sized record as data.
            self.pending_alert[from] = None;
        }
        let Some(tls) = self.tls.as_mut() else { return };
        match (event, from) {
            (TlsEvent::ClientHello(ch), Side::Client) => {
                if tls.client_hello.is_none() {
                    tls.client_hello = Some((**ch).clone());
                    tls.client_hello_at = Some(at);
                    (tls.client_hello_segments, tls.client_hello_bytes) = self.client_since_step;
                } else if tls.hello_retry_request.is_some() && tls.second_client_hello.is_none() {
                    tls.second_client_hello = Some((**ch).clone());
                }
                self.advance(Stage::ClientHello);
                let suites = ch.cipher_suites.iter().filter(|c| !c.is_grease() && !c.is_signalling()).count();
                let suites = u16::try_from(suites).unwrap_or(u16::MAX);
                self.note(at, from, Step::ClientHello { version: ch.highest_version(), suites });
            }
            (TlsEvent::ServerHello(sh), Side::Server) if sh.hello_retry_request => {
                if tls.hello_retry_request.is_none() {
                    tls.hello_retry_request = Some((**sh).clone());
                }
                self.advance(Stage::ServerHello);
                self.note(at, from, Step::HelloRetryRequest { group: sh.key_share_group });
            }
            (TlsEvent::ServerHello(sh), Side::Server) => {
                if tls.server_hello.is_none() {
                    tls.server_hello = Some((**sh).clone());
                    tls.version = Some(sh.version);
                    self.tls13 = sh.version.is_tls13_or_draft();
                    if sh.cipher_suite == TLS_AES_128_CCM_8_SHA256 {
                        self.protected_alert_len = PROTECTED_ALERT_LEN_CCM_8;
                    }
                }
                self.advance(Stage::ServerHello);
                self.note(at, from, Step::ServerHello { version: sh.version, suite: sh.cipher_suite });
            }
            (TlsEvent::Certificate(cert), Side::Server) => {
                if tls.certificate.is_none() {
                    tls.certificate = Some((**cert).clone());
                }
                self.advance(Stage::ServerCertificate);
                self.note(at, from, Step::Certificate { chain_len: cert.chain_len });
            }
            (TlsEvent::Certificate(cert), Side::Client) => {
                tls.client_sent_certificate = true;
                self.note(at, from, Step::Certificate { chain_len: cert.chain_len });
            }
            (TlsEvent::CertificateRequest, Side::Server) => {
                tls.certificate_requested = true;
                self.note(at, from, Step::CertificateRequest);
            }
            (TlsEvent::ServerKeyExchange, Side::Server) => { self.note(at, from, Step::ServerKeyExchange); }
            (TlsEvent::ServerHelloDone, Side::Server) => {
                self.advance(Stage::ServerHelloDone);
                self.note(at, from, Step::ServerHelloDone);
            }
            (TlsEvent::ClientKeyExchange, Side::Client) => {
                self.advance(Stage::ClientKeyExchange);
                self.note(at, from, Step::ClientKeyExchange);
            }
            (TlsEvent::CertificateVerify, _) => { self.note(at, from, Step::CertificateVerify); }
            (TlsEvent::NewSessionTicket, _) => { self.note(at, from, Step::NewSessionTicket); }
            (TlsEvent::CertificateStatus, _) => { self.note(at, from, Step::CertificateStatus); }
            (TlsEvent::EncryptedExtensions, _) => { self.note(at, from, Step::EncryptedExtensions); }
            (TlsEvent::OtherHandshake(t), _) => { self.note(at, from, Step::OtherHandshake(*t)); }
            (TlsEvent::HandshakeCut { msg_type }, _) => {
                // The message is known by its type only: the stage moves on all the same.
                let stage = match (*msg_type, from) {
                    (hs::CLIENT_HELLO, Side::Client) => Some(Stage::ClientHello),
                    (hs::SERVER_HELLO, Side::Server) => Some(Stage::ServerHello),
                    (hs::CERTIFICATE, Side::Server) => Some(Stage::ServerCertificate),
                    (hs::SERVER_HELLO_DONE, Side::Server) => Some(Stage::ServerHelloDone),
                    (hs::CLIENT_KEY_EXCHANGE, Side::Client) => Some(Stage::ClientKeyExchange),
                    _ => None,
                };
                if let Some(stage) = stage {
                    self.advance(stage);
                }
                self.note(at, from, Step::HandshakeCut { msg_type: *msg_type });
            }
            (TlsEvent::Heartbeat, _) => { self.note(at, from, Step::Heartbeat); }
            (TlsEvent::ChangeCipherSpec { compat: true }, _) => { self.note(at, from, Step::ChangeCipherSpec { compat: true }); }
            (TlsEvent::ChangeCipherSpec { .. }, _) => {
                self.ccs[from] = true;
                self.advance(Stage::ChangeCipherSpec);
                self.note(at, from, Step::ChangeCipherSpec { compat: false });
            }
            // Read with a key log: the Finished itself.
            (TlsEvent::Finished, _) if self.decrypting => self.finished(from, at, Step::FinishedDecrypted),
            // TLS <= 1.2: the first encrypted handshake record after a side's ChangeCipherSpec.
            (TlsEvent::Finished | TlsEvent::EncryptedHandshake { .. }, _) if !self.tls13 => self.finished(from, at, Step::Finished),
            (TlsEvent::Finished, _) => self.finished(from, at, Step::FinishedDecrypted),
            (TlsEvent::EncryptedHandshake { .. }, _) => { self.note(at, from, Step::EncryptedHandshake); }
            (TlsEvent::DecryptedAlert { level, description }, _) => {
                let alert = Alert { level: Some(*level), description: Some(*description), encrypted: true };
                self.alerts.push(AlertRecord { from, alert, inferred: false, decrypted: true, at });
                self.note(at, from, Step::Alert { alert, inferred: false });
            }
            (TlsEvent::DecryptedApplicationData { len }, _) => {
                self.decrypted_application_record(from);
                self.note(at, from, Step::ApplicationData { protected_handshake: false, bytes: u64::from(*len) });
            }
            (TlsEvent::Decryption(status), _) => tls.decryption = Some(*status),
            (TlsEvent::ApplicationData { len }, _) => {
                tls.application_records[from] += 1;
                let bytes = u64::from(*len);
                if self.tls13 && self.completed_at.is_none() {
                    self.advance(Stage::EncryptedHandshake);
                    let alert_sized = *len == self.protected_alert_len;
                    match from {
                        Side::Client => {
                            self.client_protected = true;
                            self.client_protected_records += 1;
                            if self.client_protected_records == 2 {
                                self.second_client_protected = Some(at);
                            }
                        }
                        // A server record after the client's first protected record (its Finished,
                        // or its certificate flight) that cannot be an alert: a ticket or data, so
                        // the handshake is done.
                        Side::Server if self.client_protected && !alert_sized => self.complete(at),
                        Side::Server => {}
                    }
                    let entry = self.note(at, from, Step::ApplicationData { protected_handshake: true, bytes });
                    if alert_sized && !self.completed() {
                        self.pending_alert[from] = Some(PendingAlert { at, len: *len, entry });
                    }
                } else {
                    if self.completed_at.is_some_and(|c| c.frame < at.frame) {
                        let after = &mut self.after_completion[from];
                        after.records += 1;
                        after.data |= *len != self.protected_alert_len;
                    }
                    if tls.application_records.client > 0 && tls.application_records.server > 0 {
                        self.complete(at);
                    }
                    if self.completed() {
                        self.advance(Stage::ApplicationData);
                    }
                    self.note(at, from, Step::ApplicationData { protected_handshake: false, bytes });
                }
            }
            (TlsEvent::Alert(alert), _) => {
                self.alerts.push(AlertRecord { from, alert: *alert, inferred: false, decrypted: false, at });
                self.note(at, from, Step::Alert { alert: *alert, inferred: false });
            }
            (TlsEvent::SslV2 { msg_type: 4 }, Side::Server) if tls.version.is_none() => {
                // SERVER-HELLO of a real SSL 2.0 server: the version is decided.
                tls.version = Some(crate::tls::TlsVersion(0x0002));
                self.advance(Stage::ServerHello);
                self.note(at, from, Step::SslV2ServerHello);
            }
            (TlsEvent::SslV2 { msg_type: 2 }, Side::Client) if self.ssl2_after_master_key.is_none() => {
                self.ssl2_after_master_key = Some(PerSide::default());
                self.advance(Stage::ClientKeyExchange);
                self.note(at, from, Step::SslV2ClientMasterKey);
            }
            (TlsEvent::SslV2 { .. }, _) => {
                // After CLIENT-MASTER-KEY every SSL 2.0 record is encrypted: server-verify,
                // client-finished, server-finished, then data.
                if let Some(n) = self.ssl2_after_master_key.as_mut() {
                    n[from] += 1;
                    if n.server >= 2 && n.client >= 1 {
                        self.advance(Stage::Finished);
                        self.complete(at);
                    }
                }
                self.note(at, from, Step::SslV2Record);
            }
            (TlsEvent::Malformed { what }, _) => {
                tls.anomalies.push(TlsAnomaly { side: from, kind: TlsAnomalyKind::Malformed { what } });
                // Bytes already drawn as not TLS are not drawn again.
                if self.not_tls[from].is_none() {
                    self.note(at, from, Step::MalformedTls { what });
                }
            }
            (TlsEvent::Resync { skipped }, _) => {
                tls.anomalies.push(TlsAnomaly { side: from, kind: TlsAnomalyKind::Resynced { skipped: *skipped } });
            }
            (TlsEvent::OversizedHandshake { msg_type, len }, _) => {
                tls.anomalies.push(TlsAnomaly { side: from, kind: TlsAnomalyKind::OversizedHandshake { msg_type: *msg_type, len: *len } });
            }
            (other, _) => {
                // A message from the side that never sends it.
                let step = unexpected_step(other);
                tls.anomalies.push(TlsAnomaly { side: from, kind: TlsAnomalyKind::Unexpected(step) });
                self.note(at, from, step);
            }
        }
    }

    /// A decrypted application_data record of `from`: counted as data.
    fn decrypted_application_record(&mut self, from: Side) {
        if let Some(tls) = self.tls.as_mut() {
            tls.application_records[from] += 1;
        }
        if self.completed() {
            self.advance(Stage::ApplicationData);
            let after = &mut self.after_completion[from];
            after.records += 1;
            after.data = true;
        }
    }

    /// A decrypted application record of `from` that completed CredSSP messages (RDP with NLA):
    /// counted as application data, drawn as what it held (`what`, in order), each a decrypted step.
    pub(crate) fn credssp(&mut self, from: Side, what: &[NlaEvent], at: Mark) {
        self.decrypted_application_record(from);
        self.decrypting = true;
        for event in what {
            let step = self
                .rdp
                .get_or_insert_with(Box::default)
                .credssp
                .get_or_insert_with(CredsspFacts::default)
                .record(from, event, at);
            self.note(at, from, step);
        }
        self.decrypting = false;
    }

    /// Turns the collected facts into the verdict.
    pub(crate) fn finish(mut self, facts: ConnectionFacts) -> Verdict {
        // A short protected record right before the capture ended is left alone: nobody closed.
        self.alerts.sort_by_key(|a| a.at);
        let no_hello = self
            .tls
            .as_ref()
            .is_some_and(|t| t.client_hello.is_none() && t.server_hello.is_none());
        if !self.completed()
            && self.tcp.syn.is_none()
            && no_hello
            && self.first_tls_protected == Some(true)
        {
            // The capture began after the handshake: the first records seen were already protected.
            self.completed_at = Some(facts.start);
        }
        if let (Some(done), true) = (self.completed_at, self.tls13) {
            // TLS 1.3 read with a key log: both Finished messages, yet the server may still refuse
            // the client's certificate after the client's Finished (its alert, decrypted, says so).
            let refused = self.alerts.iter().any(|a| {
                a.decrypted && a.at >= done && a.alert.level == Some(crate::tls::AlertLevel::FATAL)
            });
            if refused {
                self.completed_at = None;
            }
        }
        if let (false, true, Some(second)) =
            (self.completed(), self.tls13, self.second_client_protected)
        {
            // TLS 1.3: the client sent its Finished and more (data, or its certificate flight) and the
            // server did not object afterwards: the handshake finished even if the server stayed quiet.
            let server_objected = self
                .alerts
                .iter()
                .any(|a| a.from == Side::Server && a.at >= second);
            if !server_objected {
                self.completed_at = Some(second);
                self.advance(Stage::ApplicationData);
                // That second record was beyond the client's Finished: data.
                self.after_completion.client.records += 1;
                self.after_completion.client.data = true;
            }
        }
        self.timeline.sort_by_key(|e| e.at.frame);
        let closed_by = self.tcp.closed_by();
        let input = Input {
            completed: self.completed(),
            stage: self.stage,
            protocol: self.protocol,
            tcp: &self.tcp,
            closed_by,
            alerts: &self.alerts,
            rdp: self.rdp.as_deref(),
            tls: self.tls.as_deref(),
            tls13: self.tls13,
            payload_seen: self.payload_seen,
            packets: facts.packets,
            bytes: facts.bytes,
            start: facts.start,
            end: facts.end,
            timeline: &self.timeline,
            not_tls: PerSide::new(
                self.not_tls.client.as_deref().copied(),
                self.not_tls.server.as_deref().copied(),
            ),
            payload_after_confirm: self.payload_after_confirm,
            after_completion: self.after_completion,
            tls_port: facts.tls_port,
            server_port: facts.server.port,
            ending: std::cell::OnceCell::new(),
        };
        let finding = rules::decide(&input);
        let outcome = finding.outcome;
        let cause = explain::explain(&input, finding);
        let stage = match (outcome, self.stage) {
            // Completed from a mid-stream capture: only application data was seen.
            (Outcome::Completed, s) if s < Stage::Finished => Stage::ApplicationData,
            // TLS 1.3 whose only protected records after the client's Finished were the server's
            // (tickets, or data we cannot tell from them): the last step is the Finished.
            (Outcome::Completed, Stage::EncryptedHandshake) => Stage::Finished,
            (_, s) => s,
        };
        Verdict {
            conn: facts.conn,
            client: facts.client,
            server: facts.server,
            client_inferred_from: facts.inferred,
            start: facts.start,
            end: facts.end,
            packets: facts.packets,
            bytes: facts.bytes,
            protocol: self.protocol,
            outcome,
            stage,
            closed_by,
            alerts: self.alerts,
            rdp: self.rdp.map(|r| *r),
            tls: self.tls.map(|t| *t),
            cause,
            wireshark_filter: wireshark_filter(
                facts.client,
                facts.server,
                facts.start.frame,
                facts.end.frame,
            ),
            timeline: self.timeline,
            timeline_omitted: self.timeline_omitted,
            unfinished: facts.unfinished,
            tcp: self.tcp,
        }
    }
}

/// The step of an event that reached the observer from the side that never sends it.
fn unexpected_step(event: &TlsEvent) -> Step {
    match event {
        TlsEvent::ClientHello(ch) => Step::ClientHello {
            version: ch.highest_version(),
            suites: u16::try_from(ch.cipher_suites.len()).unwrap_or(u16::MAX),
        },
        TlsEvent::ServerHello(sh) if sh.hello_retry_request => Step::HelloRetryRequest {
            group: sh.key_share_group,
        },
        TlsEvent::ServerHello(sh) => Step::ServerHello {
            version: sh.version,
            suite: sh.cipher_suite,
        },
        TlsEvent::Certificate(c) => Step::Certificate {
            chain_len: c.chain_len,
        },
        TlsEvent::ServerKeyExchange => Step::ServerKeyExchange,
        TlsEvent::CertificateRequest => Step::CertificateRequest,
        TlsEvent::ServerHelloDone => Step::ServerHelloDone,
        TlsEvent::ClientKeyExchange => Step::ClientKeyExchange,
        TlsEvent::SslV2 { msg_type: 4 } => Step::SslV2ServerHello,
        TlsEvent::SslV2 { msg_type: 2 } => Step::SslV2ClientMasterKey,
        _ => Step::MalformedTls {
            what: "unexpected message",
        },
    }
}
