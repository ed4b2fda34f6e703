//! The per-connection verdict: what happened to a connection's handshake and why.
//!
//! The last step of the data flow. An observer per connection takes TCP, RDP and TLS
//! events in capture order; when the connection ends (close, idle expiry, eviction or the end of the
//! capture) it is turned into a [`Verdict`], whose fields follow SCHEMA.md (the JSON contract).

mod cause;
pub(crate) mod context;
mod explain;
mod filter;
pub(crate) mod observer;
mod rules;
mod step;

pub use cause::{Cause, CauseCode, Confidence, Evidence, EvidenceKind, SchannelEvent};
pub use filter::wireshark_filter;
pub use step::{BytesPreview, RdpAnswer, Step};

use std::fmt;

use crate::decode::IpFacts;
use crate::flow::{ClientInference, Endpoint};
use crate::rdp::credssp::{AuthorizationResult, NegoToken, NtStatus};
use crate::rdp::nla::NlaEvent;
use crate::rdp::{FailureCode, Protocols};
use crate::tls::{Alert, CertificateInfo, ClientHello, ServerHello, TlsVersion};
use crate::{PerSide, Side, Timestamp};

/// A point in a capture: its frame number (1-based) and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    /// Frame number, counting from 1 as Wireshark does.
    pub frame: u64,
    /// Capture time of that frame.
    pub ts: Timestamp,
}

/// How a connection's TLS handshake ended (SCHEMA.md `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The TLS handshake finished.
    Completed,
    /// It was ended by an alert, FIN or RST before finishing, or never started because TCP or RDP
    /// negotiation failed.
    Failed,
    /// The capture ends mid-handshake.
    Incomplete,
    /// A live connection that never carried TLS (RDP standard security, plain TCP).
    NotTls,
}

impl Outcome {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Incomplete => "incomplete",
            Outcome::NotTls => "not_tls",
        }
    }
}

/// The last step of the connection's setup that was seen (SCHEMA.md `stage`), in protocol order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Only a SYN (possibly answered by RST).
    TcpSyn,
    /// The TCP handshake finished (or the capture began after it).
    TcpEstablished,
    /// The client sent an X.224 Connection Request.
    RdpRequest,
    /// The server answered with an X.224 Connection Confirm.
    RdpConfirm,
    /// A ClientHello was sent.
    ClientHello,
    /// A ServerHello (or HelloRetryRequest) was sent.
    ServerHello,
    /// The server sent its Certificate (TLS 1.2 and earlier).
    ServerCertificate,
    /// The server sent ServerHelloDone.
    ServerHelloDone,
    /// The client sent ClientKeyExchange.
    ClientKeyExchange,
    /// A ChangeCipherSpec was sent.
    ChangeCipherSpec,
    /// A Finished message was sent.
    Finished,
    /// TLS 1.3: protected handshake records after the ServerHello.
    EncryptedHandshake,
    /// Application data flowed.
    ApplicationData,
}

impl Stage {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::TcpSyn => "tcp_syn",
            Stage::TcpEstablished => "tcp_established",
            Stage::RdpRequest => "rdp_request",
            Stage::RdpConfirm => "rdp_confirm",
            Stage::ClientHello => "client_hello",
            Stage::ServerHello => "server_hello",
            Stage::ServerCertificate => "server_certificate",
            Stage::ServerHelloDone => "server_hello_done",
            Stage::ClientKeyExchange => "client_key_exchange",
            Stage::ChangeCipherSpec => "change_cipher_spec",
            Stage::Finished => "finished",
            Stage::EncryptedHandshake => "encrypted_handshake",
            Stage::ApplicationData => "application_data",
        }
    }
}

/// What protocol the connection carried (SCHEMA.md `protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// TLS from the first byte.
    Tls,
    /// RDP negotiation was seen (TLS inside, if any, is in [`Verdict::tls`]).
    Rdp,
    /// Anything else, or nothing at all.
    Other,
}

impl Protocol {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tls => "tls",
            Protocol::Rdp => "rdp",
            Protocol::Other => "other",
        }
    }
}

/// How a side closed: with FIN or RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseKind {
    /// An orderly close.
    Fin,
    /// An abort.
    Rst,
}

impl CloseKind {
    /// `fin` or `rst`.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::Rst => "rst",
        }
    }
}

/// A TCP flag seen first from one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SideMark {
    /// Who sent it.
    pub side: Side,
    /// Where and when.
    pub at: Mark,
}

/// TCP-level facts of a connection.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TcpFacts {
    /// The client's first SYN.
    pub syn: Option<Mark>,
    /// The server's first SYN-ACK.
    pub syn_ack: Option<Mark>,
    /// The first FIN, from either side.
    pub first_fin: Option<SideMark>,
    /// The first RST, from either side.
    pub first_rst: Option<SideMark>,
    /// Bytes never captured in each direction (reassembly gaps).
    pub gap_bytes: PerSide<u64>,
    /// Number of gaps in each direction.
    pub gaps: PerSide<u64>,
    /// Retransmitted payload bytes in each direction.
    pub retransmitted_bytes: PerSide<u64>,
    /// Overlapping segments whose bytes disagreed with those already received.
    pub overlap_conflicts: PerSide<u64>,
    /// The IPv4 TTLs / IPv6 hop limits each side's packets arrived with, RSTs left out (what an
    /// RST's own hop limit is compared with).
    pub hop_limits: PerSide<Option<HopLimits>>,
    /// Segments of each side that the capture holds fewer bytes of than were on the wire (cut by
    /// its snap length).
    pub cut_segments: PerSide<u64>,
    /// How far each side's acknowledgment numbers moved from its first one: the peer's bytes (and
    /// SYN/FIN) it told it had received. Bytes acknowledged but never captured show a capture that
    /// holds only one direction; a ClientHello acknowledged but never answered, a silent server.
    pub acked_bytes: PerSide<u64>,
    /// The largest TCP payload each side sent in one segment (as the IP header says).
    pub largest_segment: PerSide<u32>,
    /// Frames of each side that were the same packet captured again, left out of everything else.
    pub duplicate_frames: PerSide<u64>,
}

/// The range of IPv4 TTLs / IPv6 hop limits of a side's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HopLimits {
    /// The lowest seen.
    pub min: u8,
    /// The highest seen.
    pub max: u8,
}

impl HopLimits {
    /// Widens the range to take in `hop_limit`.
    pub fn add(range: Option<HopLimits>, hop_limit: u8) -> HopLimits {
        match range {
            Some(r) => HopLimits {
                min: r.min.min(hop_limit),
                max: r.max.max(hop_limit),
            },
            None => HopLimits {
                min: hop_limit,
                max: hop_limit,
            },
        }
    }

    /// Whether `hop_limit` lies within the range.
    pub fn contains(&self, hop_limit: u8) -> bool {
        (self.min..=self.max).contains(&hop_limit)
    }
}

impl TcpFacts {
    /// Whoever sent the first FIN or RST, whichever came first, and which it was.
    pub fn closed_by(&self) -> Option<(Side, CloseKind)> {
        match (self.first_fin, self.first_rst) {
            (Some(f), Some(r)) if r.at.frame < f.at.frame => Some((r.side, CloseKind::Rst)),
            (Some(f), _) => Some((f.side, CloseKind::Fin)),
            (None, Some(r)) => Some((r.side, CloseKind::Rst)),
            (None, None) => None,
        }
    }
}

/// A TLS alert with its sender and place (SCHEMA.md `alerts[]`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AlertRecord {
    /// Who sent it.
    pub from: Side,
    /// The alert; level and description are `None` when it was encrypted.
    pub alert: Alert,
    /// `true` when no alert record was visible and the alert is deduced: a TLS 1.3 short
    /// application_data record sent just before its sender closed during the handshake.
    pub inferred: bool,
    /// `true` when its level and description were read from a record decrypted with a key log.
    pub decrypted: bool,
    /// The frame that completed the alert record.
    pub at: Mark,
}

impl AlertRecord {
    /// Fatal, or encrypted/inferred (whose level is unknown but which ends a handshake in practice).
    pub fn is_fatal_or_unknown(&self) -> bool {
        match self.alert.level {
            Some(level) => level.0 == 2,
            None => true,
        }
    }
}

/// RDP negotiation facts (SCHEMA.md `rdp`), from the X.224 Connection Request and Confirm.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RdpFacts {
    /// The `Cookie: mstshash=` value.
    pub cookie: Option<String>,
    /// A routing token, when the client sent one instead of a cookie.
    pub routing_token: Option<String>,
    /// requestedProtocols of the RDP_NEG_REQ (`None`: no RDP_NEG_REQ, a legacy client).
    pub requested: Option<Protocols>,
    /// RDP_NEG_REQ flags.
    pub request_flags: Option<u8>,
    /// RDP_NEG_CORRELATION_INFO correlationId.
    pub correlation_id: Option<[u8; 16]>,
    /// Whether a Connection Confirm was seen.
    pub confirmed: bool,
    /// selectedProtocol of the RDP_NEG_RSP (`Some(RDP)` also for a legacy confirm with no
    /// negotiation data, which means standard RDP security).
    pub selected: Option<Protocols>,
    /// RDP_NEG_RSP flags.
    pub response_flags: Option<u8>,
    /// The RDP_NEG_FAILURE code.
    pub failure: Option<FailureCode>,
    /// Parser complaints about the request or confirm.
    pub anomalies: Vec<&'static str>,
    /// What CredSSP (NLA) showed, when its TSRequests were read from decrypted records.
    pub credssp: Option<CredsspFacts>,
}

/// What an RDP connection's CredSSP exchange (MS-CSSP) showed, read from its decrypted TLS
/// application data (SCHEMA.md `rdp.credssp`): versions, mechanism, the server's errorCode, which
/// steps happened and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredsspFacts {
    /// The version of the client's first TSRequest (the highest it speaks).
    pub client_version: Option<u32>,
    /// The version of the server's first TSRequest.
    pub server_version: Option<u32>,
    /// The mechanism of the first negoToken.
    pub auth: Option<CredsspAuth>,
    /// The first errorCode (MS-CSSP 2.2.1, version 3 and later: the server's NTSTATUS when the
    /// authentication failed), and the TSRequest that carried it.
    pub error: Option<(NtStatus, Mark)>,
    /// TSRequests read per side.
    pub requests: PerSide<u32>,
    /// The client's first TSRequest with pubKeyAuth (it sent its authentication and bound it to
    /// the server's TLS key).
    pub client_pub_key_auth: Option<Mark>,
    /// The server's TSRequest with pubKeyAuth: it accepted the client's authentication.
    pub server_pub_key_auth: Option<Mark>,
    /// The client's TSRequest with authInfo: it sent its credentials (the last step of CredSSP).
    pub client_auth_info: Option<Mark>,
    /// The server's Early User Authorization Result (HYBRID_EX), and where.
    pub early_user_authorization: Option<(AuthorizationResult, Mark)>,
    /// Each side's last TSRequest.
    pub last: PerSide<Option<Mark>>,
}

impl CredsspFacts {
    /// Takes in what `from` sent at `at`; the timeline step it makes.
    pub(crate) fn record(&mut self, from: Side, event: &NlaEvent, at: Mark) -> Step {
        match *event {
            NlaEvent::TsRequest(t) => {
                self.requests[from] += 1;
                self.last[from] = Some(at);
                let version = match from {
                    Side::Client => &mut self.client_version,
                    Side::Server => &mut self.server_version,
                };
                version.get_or_insert(t.version);
                if self.auth.is_none() {
                    self.auth = t.token.as_ref().map(CredsspAuth::of);
                }
                if let (Some(code), None) = (t.error_code, self.error) {
                    self.error = Some((code, at));
                }
                let mark = match (from, t.pub_key_auth, t.auth_info) {
                    (Side::Client, _, true) => Some(&mut self.client_auth_info),
                    (Side::Client, true, false) => Some(&mut self.client_pub_key_auth),
                    (Side::Server, true, _) => Some(&mut self.server_pub_key_auth),
                    _ => None,
                };
                if let Some(mark) = mark {
                    mark.get_or_insert(at);
                }
                Step::TsRequest(t)
            }
            NlaEvent::EarlyUserAuthorization(result) => {
                self.early_user_authorization.get_or_insert((result, at));
                Step::EarlyUserAuthorization(result)
            }
        }
    }

    /// Whether CredSSP succeeded: the server proved its key (pubKeyAuth) after the client's
    /// authentication, and the client sent its credentials.
    pub fn succeeded(&self) -> bool {
        self.server_pub_key_auth.is_some() && self.client_auth_info.is_some()
    }
}

/// e.g. `v6, NTLM, authenticated (server pubKeyAuth, client credentials)` or `client v6, server v6,
/// NTLM, errorCode STATUS_LOGON_FAILURE (0xC000006D)`, for reports.
impl fmt::Display for CredsspFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.client_version, self.server_version) {
            (Some(c), Some(s)) if c == s => write!(f, "v{c}")?,
            (Some(c), Some(s)) => write!(f, "client v{c}, server v{s}")?,
            (Some(c), None) => write!(f, "client v{c}")?,
            (None, Some(s)) => write!(f, "server v{s}")?,
            (None, None) => f.write_str("no TSRequest")?,
        }
        match self.auth {
            Some(CredsspAuth::Other) => f.write_str(", another mechanism")?,
            Some(a) => write!(f, ", {}", a.as_str().to_uppercase())?,
            None => {}
        }
        if let Some((code, _)) = self.error {
            write!(f, ", errorCode {code} (0x{:08X})", code.0)?;
        } else if self.succeeded() {
            f.write_str(", authenticated (server pubKeyAuth, client credentials)")?;
        } else if self.client_pub_key_auth.is_some() && self.server_pub_key_auth.is_none() {
            f.write_str(", no server pubKeyAuth after the client's authentication")?;
        }
        if let Some((result, _)) = self.early_user_authorization {
            write!(f, ", Early User Authorization {result}")?;
        }
        Ok(())
    }
}

/// The authentication mechanism CredSSP ran (SCHEMA.md `rdp.credssp.auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredsspAuth {
    /// NTLM messages directly (MS-NLMP).
    Ntlm,
    /// Kerberos messages directly.
    Kerberos,
    /// SPNEGO (with NTLM or Kerberos inside).
    Spnego,
    /// A token none of these.
    Other,
}

impl CredsspAuth {
    /// The mechanism of a negoToken.
    pub fn of(token: &NegoToken) -> CredsspAuth {
        match token {
            NegoToken::Ntlm(_) => CredsspAuth::Ntlm,
            NegoToken::Kerberos(_) => CredsspAuth::Kerberos,
            NegoToken::Spnego { .. } => CredsspAuth::Spnego,
            _ => CredsspAuth::Other,
        }
    }

    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredsspAuth::Ntlm => "ntlm",
            CredsspAuth::Kerberos => "kerberos",
            CredsspAuth::Spnego => "spnego",
            CredsspAuth::Other => "other",
        }
    }
}

/// TLS facts (SCHEMA.md `tls`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TlsFacts {
    /// The negotiated version, from the (final) ServerHello.
    pub version: Option<TlsVersion>,
    /// The first ClientHello.
    pub client_hello: Option<ClientHello>,
    /// Where the first ClientHello was completed.
    pub client_hello_at: Option<Mark>,
    /// The TCP segments that carried the first ClientHello (more than one for a large hello, e.g.
    /// with post-quantum key shares), and their payload bytes.
    pub client_hello_segments: u32,
    /// See [`TlsFacts::client_hello_segments`].
    pub client_hello_bytes: u32,
    /// The ClientHello sent again after a HelloRetryRequest.
    pub second_client_hello: Option<ClientHello>,
    /// The first ServerHello that is not a HelloRetryRequest.
    pub server_hello: Option<ServerHello>,
    /// The HelloRetryRequest, if the server sent one.
    pub hello_retry_request: Option<ServerHello>,
    /// The server's leaf certificate (TLS 1.2 and earlier; TLS 1.3 sends it encrypted).
    pub certificate: Option<CertificateInfo>,
    /// Whether the server asked for a client certificate.
    pub certificate_requested: bool,
    /// Whether the client answered with a Certificate message (possibly empty).
    pub client_sent_certificate: bool,
    /// Records of application data (protected records, for TLS 1.3) per side.
    pub application_records: PerSide<u64>,
    /// Things the TLS parser did not understand, and messages where they make no sense.
    pub anomalies: Vec<TlsAnomaly>,
    /// How decrypting with the key log went (`None`: no key log was given).
    pub decryption: Option<crate::tls::Decryption>,
}

/// Something in a connection's TLS the parser could not read, or a message where it makes no sense
/// (SCHEMA.md `tls.anomalies[]`, written as its [`fmt::Display`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TlsAnomaly {
    /// Whose bytes.
    pub side: Side,
    /// What.
    pub kind: TlsAnomalyKind,
}

/// The kinds of [`TlsAnomaly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsAnomalyKind {
    /// Bytes that could not be parsed (`what` says which part).
    Malformed {
        /// What was wrong.
        what: &'static str,
    },
    /// The record layer found its footing again after a gap, discarding this many bytes.
    Resynced {
        /// Captured bytes discarded.
        skipped: u64,
    },
    /// A handshake message longer than the limit: counted, not reassembled.
    OversizedHandshake {
        /// Its HandshakeType.
        msg_type: u8,
        /// Its claimed length.
        len: u32,
    },
    /// A message from the side that never sends it (a ClientHello from the server, ...) or at a
    /// point where it makes no sense.
    Unexpected(Step),
}

display_as_str!(Outcome, Stage, Protocol, CloseKind, CredsspAuth);

/// What the anomaly was, without whose bytes (the part of the JSON string after `side: `).
impl fmt::Display for TlsAnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TlsAnomalyKind::Malformed { what } => f.write_str(what),
            TlsAnomalyKind::Resynced { skipped } => {
                write!(f, "resynchronised after {skipped} bytes")
            }
            TlsAnomalyKind::OversizedHandshake { msg_type, len } => write!(
                f,
                "handshake message type {msg_type} of {len} bytes not reassembled"
            ),
            TlsAnomalyKind::Unexpected(step) => write!(f, "unexpected {step}"),
        }
    }
}

/// `side: what` as in the JSON contract's `tls.anomalies`.
impl fmt::Display for TlsAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.side, self.kind)
    }
}

/// One step of a connection's timeline: what a packet showed, who sent it, where and when.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TimelineEntry {
    /// Where and when (for folded steps, the first of them).
    pub at: Mark,
    /// Who sent it.
    pub from: Side,
    /// What it was.
    pub step: Step,
    /// The IP facts (TTL / hop limit, IPv4 ID) of the packet that carried it (for folded steps,
    /// the first), when known.
    pub ip: Option<IpFacts>,
    /// How many consecutive times it happened (a side's application data records fold into one
    /// step).
    pub count: u64,
    /// Read from a record decrypted with a key log (renderers mark it so).
    pub decrypted: bool,
}

impl TimelineEntry {
    /// A step seen once.
    pub fn new(at: Mark, from: Side, step: Step) -> Self {
        TimelineEntry {
            at,
            from,
            step,
            ip: None,
            count: 1,
            decrypted: false,
        }
    }
}

/// Everything shakedown concludes about one TCP connection. Serialised, it is one SCHEMA.md record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// 0-based index of the connection within its capture, by first packet.
    pub conn: u64,
    /// The client end.
    pub client: Endpoint,
    /// The server end.
    pub server: Endpoint,
    /// How the client was decided.
    pub client_inferred_from: ClientInference,
    /// The first packet of the connection.
    pub start: Mark,
    /// The last packet of the connection.
    pub end: Mark,
    /// Packets per side.
    pub packets: PerSide<u64>,
    /// TCP payload bytes per side (as the IP headers say, so snaplen-cut bytes count).
    pub bytes: PerSide<u64>,
    /// What the connection carried.
    pub protocol: Protocol,
    /// How the handshake ended.
    pub outcome: Outcome,
    /// The last step seen.
    pub stage: Stage,
    /// TCP facts.
    pub tcp: TcpFacts,
    /// Whoever sent the first FIN or RST, whichever came first, and which it was.
    pub closed_by: Option<(Side, CloseKind)>,
    /// Every TLS alert, in order.
    pub alerts: Vec<AlertRecord>,
    /// RDP negotiation, when seen.
    pub rdp: Option<RdpFacts>,
    /// TLS facts, when TLS was seen.
    pub tls: Option<TlsFacts>,
    /// The probable cause.
    pub cause: Cause,
    /// A Wireshark display filter selecting exactly this connection.
    pub wireshark_filter: String,
    /// The first steps of the connection, in order (bounded by [`crate::Config::max_timeline`]).
    pub timeline: Vec<TimelineEntry>,
    /// Steps left out of `timeline` because of the bound.
    pub timeline_omitted: u64,
    /// `true` when the connection was still open at the end of the capture, or was evicted or
    /// expired before it closed.
    pub unfinished: bool,
}

impl Verdict {
    /// The endpoint of a side.
    pub fn endpoint(&self, side: Side) -> Endpoint {
        match side {
            Side::Client => self.client,
            Side::Server => self.server,
        }
    }

    /// Who sent the first FIN.
    pub fn first_fin(&self) -> Option<Side> {
        self.tcp.first_fin.map(|m| m.side)
    }

    /// Who sent the first RST.
    pub fn first_rst(&self) -> Option<Side> {
        self.tcp.first_rst.map(|m| m.side)
    }

    /// Whether this verdict is a failure (what the CLI lists first and counts for its exit status).
    pub fn is_failure(&self) -> bool {
        self.outcome == Outcome::Failed
    }
}
