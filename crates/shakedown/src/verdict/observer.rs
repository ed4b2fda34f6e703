//! The observer: one per connection, fed TCP, RDP and TLS events in capture order, turned into a
//! [`Verdict`] when the connection ends.
//!
//! Every transition of the handshake's stage is in [`Observer::tls`], one `match` on the event and its
//! sender; events that make no sense where they arrive are kept as anomalies, never errors.

use std::borrow::Cow;

use crate::flow::{ClientInference, Endpoint};
use crate::rdp::{ConnectionConfirm, ConnectionRequest, NegResponse, Protocols};
use crate::tls::{Alert, TlsEvent};
use crate::verdict::cause;
use crate::{PerSide, Side};

use super::{
    AlertRecord, Mark, Outcome, Protocol, RdpFacts, SideMark, Stage, TcpFacts, TimelineEntry,
    TlsFacts, Verdict, wireshark_filter,
};

/// A TLS 1.3 protected record this short (ciphertext length) can hold an alert (2 bytes + inner
/// content type + a 16-byte AEAD tag = 19) but not a Finished (at least 53).
const SHORT_PROTECTED_RECORD: u16 = 32;

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
    /// The last record from a side was a short protected record during a TLS 1.3 handshake.
    pending_short: PerSide<Option<Mark>>,
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
            pending_short: PerSide::default(),
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
    }

    pub(crate) fn completed(&self) -> bool {
        self.completed_at.is_some()
    }

    fn note(&mut self, at: Mark, from: Side, what: impl Into<Cow<'static, str>>) {
        let what = what.into();
        if let Some(last) = self.timeline.last_mut() {
            // Runs of application data fold into one line (and cost no allocation).
            if last.from == from && last.what == what && what.starts_with("ApplicationData") {
                last.count += 1;
                return;
            }
        }
        if self.timeline.len() < self.max_timeline {
            self.timeline.push(TimelineEntry {
                at,
                from,
                what,
                count: 1,
            });
        } else {
            self.timeline_omitted += 1;
        }
    }

    fn advance(&mut self, stage: Stage) {
        self.stage = self.stage.max(stage);
    }

    pub(crate) fn syn(&mut self, at: Mark) {
        if self.tcp.syn.is_none() {
            self.tcp.syn = Some(at);
            self.note(at, Side::Client, "SYN");
        }
    }

    pub(crate) fn syn_ack(&mut self, at: Mark) {
        self.advance(Stage::TcpEstablished);
        if self.tcp.syn_ack.is_none() {
            self.tcp.syn_ack = Some(at);
            self.note(at, Side::Server, "SYN-ACK");
        }
    }

    pub(crate) fn fin(&mut self, from: Side, at: Mark) {
        self.infer_alert_on_close(from);
        if self.tcp.first_fin.is_none() {
            self.tcp.first_fin = Some(SideMark { side: from, at });
            self.note(at, from, "FIN");
        }
    }

    pub(crate) fn rst(&mut self, from: Side, at: Mark) {
        self.infer_alert_on_close(from);
        if self.tcp.first_rst.is_none() {
            self.tcp.first_rst = Some(SideMark { side: from, at });
            self.note(at, from, "RST");
        }
    }

    pub(crate) fn payload(&mut self, from: Side) {
        self.payload_seen[from] = true;
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
        self.note(at, from, format!("[{missing} bytes not captured]"));
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
        let what = match &cr.neg_request {
            Some(n) => format!(
                "X.224 Connection Request [{}]",
                n.requested.names().join(",")
            ),
            None => "X.224 Connection Request (no RDP_NEG_REQ)".to_string(),
        };
        self.note(at, Side::Client, what);
    }

    pub(crate) fn rdp_confirm(&mut self, cc: &ConnectionConfirm, at: Mark) {
        self.protocol = Protocol::Rdp;
        self.advance(Stage::RdpConfirm);
        let rdp = self.rdp.get_or_insert_with(Box::default);
        rdp.confirmed = true;
        rdp.anomalies.extend(cc.anomalies.iter().copied());
        let what = match &cc.response {
            Some(NegResponse::Selected { flags, protocol }) => {
                rdp.selected = Some(*protocol);
                rdp.response_flags = Some(*flags);
                format!(
                    "X.224 Connection Confirm [selected {}]",
                    protocol.selected_name()
                )
            }
            Some(NegResponse::Failure(code)) => {
                rdp.failure = Some(*code);
                format!("X.224 Connection Confirm [RDP_NEG_FAILURE {code}]")
            }
            None => {
                rdp.selected = Some(Protocols::RDP);
                "X.224 Connection Confirm (no negotiation: standard RDP security)".to_string()
            }
        };
        self.note(at, Side::Server, what);
    }

    /// The connection carries TLS from now on (from its first byte, or after RDP negotiation).
    pub(crate) fn tls_started(&mut self) {
        if self.protocol == Protocol::Other {
            self.protocol = Protocol::Tls;
        }
        self.tls.get_or_insert_with(Box::default);
    }

    fn infer_alert_on_close(&mut self, from: Side) {
        if let Some(at) = self.pending_short[from].take()
            && !self.completed()
        {
            self.alerts.push(AlertRecord {
                from,
                alert: Alert {
                    level: None,
                    description: None,
                    encrypted: true,
                },
                inferred: true,
                at,
            });
            self.note(at, from, "probable encrypted Alert (inferred)");
        }
    }

    fn complete(&mut self, at: Mark) {
        if self.completed_at.is_none() {
            self.completed_at = Some(at);
        }
    }

    /// One TLS event from `from`, completed by frame `at`.
    #[rustfmt::skip]
    pub(crate) fn tls(&mut self, from: Side, event: &TlsEvent, at: Mark) {
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
        let is_record_level = !matches!(event, TlsEvent::Malformed { .. } | TlsEvent::Resync { .. });
        if is_record_level {
            // Any record other than a short protected one clears a pending inference.
            let short = matches!(event, TlsEvent::ApplicationData { len } if *len <= SHORT_PROTECTED_RECORD);
            self.pending_short[from] = if short && self.tls13 && !self.completed() { Some(at) } else { None };
        }
        let Some(tls) = self.tls.as_mut() else { return };
        match (event, from) {
            (TlsEvent::ClientHello(ch), Side::Client) => {
                if tls.client_hello.is_none() {
                    tls.client_hello = Some((**ch).clone());
                    tls.client_hello_at = Some(at);
                } else if tls.hello_retry_request.is_some() && tls.second_client_hello.is_none() {
                    tls.second_client_hello = Some((**ch).clone());
                }
                self.advance(Stage::ClientHello);
                let suites = ch.cipher_suites.iter().filter(|c| !c.is_grease() && !c.is_signalling()).count();
                let what = format!("ClientHello {} ({suites} suites)", ch.highest_version());
                self.note(at, from, what);
            }
            (TlsEvent::ServerHello(sh), Side::Server) if sh.hello_retry_request => {
                if tls.hello_retry_request.is_none() {
                    tls.hello_retry_request = Some((**sh).clone());
                }
                self.advance(Stage::ServerHello);
                let group = sh.key_share_group.map(|g| format!(" (wants {g})")).unwrap_or_default();
                self.note(at, from, format!("HelloRetryRequest{group}"));
            }
            (TlsEvent::ServerHello(sh), Side::Server) => {
                if tls.server_hello.is_none() {
                    tls.server_hello = Some((**sh).clone());
                    tls.version = Some(sh.version);
                    self.tls13 = sh.version.is_tls13_or_draft();
                }
                self.advance(Stage::ServerHello);
                self.note(at, from, format!("ServerHello {} {}", sh.version, sh.cipher_suite));
            }
            (TlsEvent::Certificate(cert), Side::Server) => {
                if tls.certificate.is_none() {
                    tls.certificate = Some((**cert).clone());
                }
                self.advance(Stage::ServerCertificate);
                self.note(at, from, format!("Certificate ({} in chain)", cert.chain_len));
            }
            (TlsEvent::Certificate(cert), Side::Client) => {
                tls.client_sent_certificate = true;
                self.note(at, from, if cert.chain_len == 0 { "Certificate (empty)".to_string() } else { "Certificate".to_string() });
            }
            (TlsEvent::CertificateRequest, Side::Server) => {
                tls.certificate_requested = true;
                self.note(at, from, "CertificateRequest");
            }
            (TlsEvent::ServerKeyExchange, Side::Server) => self.note(at, from, "ServerKeyExchange"),
            (TlsEvent::ServerHelloDone, Side::Server) => {
                self.advance(Stage::ServerHelloDone);
                self.note(at, from, "ServerHelloDone");
            }
            (TlsEvent::ClientKeyExchange, Side::Client) => {
                self.advance(Stage::ClientKeyExchange);
                self.note(at, from, "ClientKeyExchange");
            }
            (TlsEvent::CertificateVerify, _) => self.note(at, from, "CertificateVerify"),
            (TlsEvent::NewSessionTicket, _) => self.note(at, from, "NewSessionTicket"),
            (TlsEvent::CertificateStatus, _) => self.note(at, from, "CertificateStatus"),
            (TlsEvent::EncryptedExtensions, _) => self.note(at, from, "EncryptedExtensions"),
            (TlsEvent::ChangeCipherSpec { compat: true }, _) => self.note(at, from, "ChangeCipherSpec (compatibility)"),
            (TlsEvent::ChangeCipherSpec { .. }, _) => {
                self.ccs[from] = true;
                self.advance(Stage::ChangeCipherSpec);
                self.note(at, from, "ChangeCipherSpec");
            }
            (TlsEvent::Finished | TlsEvent::EncryptedHandshake { .. }, _) if !self.tls13 => {
                if !self.finished[from] {
                    self.finished[from] = true;
                    self.advance(Stage::Finished);
                    self.note(at, from, "Finished (encrypted)");
                }
                if self.finished.client && self.finished.server {
                    self.complete(at);
                }
            }
            (TlsEvent::Finished | TlsEvent::EncryptedHandshake { .. }, _) => self.note(at, from, "encrypted handshake"),
            (TlsEvent::ApplicationData { len }, _) => {
                tls.application_records[from] += 1;
                if self.tls13 && self.completed_at.is_none() {
                    self.advance(Stage::EncryptedHandshake);
                    match from {
                        Side::Client => {
                            self.client_protected = true;
                            self.client_protected_records += 1;
                            if self.client_protected_records == 2 {
                                self.second_client_protected = Some(at);
                            }
                        }
                        // A server record after the client's first protected record (its Finished)
                        // that is too long to be an alert: a ticket or data, so the handshake is done.
                        Side::Server if self.client_protected && *len > SHORT_PROTECTED_RECORD => self.complete(at),
                        Side::Server => {}
                    }
                    self.note(at, from, "ApplicationData (protected)");
                } else {
                    if tls.application_records.client > 0 && tls.application_records.server > 0 {
                        self.complete(at);
                    }
                    if self.completed() {
                        self.advance(Stage::ApplicationData);
                    }
                    self.note(at, from, "ApplicationData");
                }
            }
            (TlsEvent::Alert(alert), _) => {
                self.alerts.push(AlertRecord { from, alert: *alert, inferred: false, at });
                let what = match (alert.level, alert.description) {
                    (Some(l), Some(d)) => format!("Alert {l} {d}"),
                    _ => "Alert (encrypted)".to_string(),
                };
                self.note(at, from, what);
            }
            (TlsEvent::SslV2 { msg_type: 4 }, Side::Server) if tls.version.is_none() => {
                // SERVER-HELLO of a real SSL 2.0 server: the version is decided.
                tls.version = Some(crate::tls::TlsVersion(0x0002));
                self.advance(Stage::ServerHello);
                self.note(at, from, "SSLv2 SERVER-HELLO");
            }
            (TlsEvent::SslV2 { msg_type: 2 }, Side::Client) if self.ssl2_after_master_key.is_none() => {
                self.ssl2_after_master_key = Some(PerSide::default());
                self.advance(Stage::ClientKeyExchange);
                self.note(at, from, "SSLv2 CLIENT-MASTER-KEY");
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
                self.note(at, from, "SSLv2 record (encrypted)");
            }
            (TlsEvent::Malformed { what }, _) => {
                tls.anomalies.push(format!("{from}: {what}"));
                self.note(at, from, format!("malformed TLS: {what}"));
            }
            (TlsEvent::Resync { skipped }, _) => tls.anomalies.push(format!("{from}: resynchronised after {skipped} bytes")),
            (TlsEvent::OversizedHandshake { msg_type, len }, _) => {
                tls.anomalies.push(format!("{from}: handshake message type {msg_type} of {len} bytes not reassembled"));
            }
            (other, _) => {
                // A message from the unexpected side, or one the observer has no use for.
                let name = format!("{other:?}");
                let short: String = name.chars().take(40).collect();
                self.note(at, from, short);
            }
        }
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
            }
        }
        self.timeline.sort_by_key(|e| e.at.frame);
        let closed_by = self.tcp.closed_by();
        let input = cause::Input {
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
            start: facts.start,
        };
        let (outcome, cause) = cause::decide(&input);
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
