//! [`TlsConnection`]: both directions of one connection, tying the record deframer, the handshake
//! defragmenter and the message parsers together, and keeping each direction's encryption state.
//! Its input is the `tcp` reassembler's in-order chunks and gaps; its output goes to `verdict`.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use std::sync::Arc;

use super::codes::{AlertDescription, AlertLevel, TlsVersion, content};
use super::handshake::{Defragmenter, Message};
use super::message::{Negotiation, handshake_event};
use super::reading::Reading;
use super::record::{Deframer, GapEffect, Header, Item};
use super::{Alert, TlsEvent, sslv2};
use crate::decrypt::{KeyLog, KeySource};
use crate::{PerSide, Side};

/// What happens to the body of the record being read.
#[derive(Debug, Clone)]
enum Body {
    /// Skipped by counting (application data, encrypted records, CCS, heartbeat).
    Skip,
    /// Fed to the handshake defragmenter.
    Handshake,
    /// A plaintext alert: its two bytes.
    Alert { bytes: [u8; 2], have: u8 },
    /// The first SSL 2.0 record: a CLIENT-HELLO's body is kept (up to `cap` bytes) to be parsed.
    Sslv2First { bytes: Vec<u8>, cap: usize },
    /// A later SSL 2.0 record: only its first byte is looked at.
    Sslv2Peek,
    /// A protected record being read with a key log ([`Reading`]): its content type and body length.
    Protected { content_type: u8, len: u16 },
}

/// One direction's state.
#[derive(Debug, Clone)]
struct Direction {
    deframer: Deframer,
    defrag: Defragmenter,
    body: Body,
    /// Version of the record header where the pending handshake message began.
    hs_record_version: TlsVersion,
    /// TLS <= 1.2: this side sent ChangeCipherSpec, its handshake and alert records are encrypted.
    ccs: bool,
    /// TLS <= 1.2: the next encrypted handshake record is this side's Finished.
    finished_pending: bool,
    /// This side's records are protected (either version family).
    protected: bool,
    /// The handshake message size limit, also applied to an SSLv2 hello.
    max_hs: usize,
    /// Bytes fed (captured), including those after the direction stopped.
    fed: u64,
}

impl Direction {
    fn new(max_handshake_message: usize) -> Self {
        Direction {
            deframer: Deframer::default(),
            defrag: Defragmenter::new(max_handshake_message),
            body: Body::Skip,
            hs_record_version: TlsVersion(0),
            ccs: false,
            finished_pending: false,
            protected: false,
            max_hs: max_handshake_message,
            fed: 0,
        }
    }
}

/// Both directions of one TLS connection: feed each side's in-order bytes (any chunking) and gaps;
/// typed [`TlsEvent`]s come out in stream order.
///
/// Memory stays small whatever the traffic: only record headers, plaintext alerts, an SSLv2 hello and
/// handshake messages split across feeds (up to `max_handshake_message` bytes) are ever copied.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::Side;
/// use shakedown::tls::{TlsConnection, TlsEvent};
///
/// let mut conn = TlsConnection::new(1 << 16);
/// let mut out = Vec::new();
/// // A ServerHelloDone split over two feeds, then 3 bytes of application data.
/// conn.feed(Side::Server, &[22, 3, 3, 0, 4, 14], &mut out);
/// conn.feed(Side::Server, &[0, 0, 0, 23, 3, 3, 0, 3, 1, 2, 3], &mut out);
/// assert_eq!(out, vec![TlsEvent::ServerHelloDone, TlsEvent::ApplicationData { len: 3 }]);
/// ```
#[derive(Debug, Clone)]
pub struct TlsConnection {
    dirs: PerSide<Direction>,
    neg: Negotiation,
    /// Where to look the secrets up, until they were looked up (at the ServerHello).
    keys: Option<KeySource>,
    /// The frame the bytes being fed came with (the capture's own key log applies as of it).
    frame: u64,
    /// Decrypted application data is handed out, of this many records per side.
    plaintext_records: Option<u8>,
    /// Reading TLS 1.3 with them, once the ServerHello said which suite (boxed: rare).
    reading: Option<Box<Reading>>,
}

impl TlsConnection {
    /// A connection whose handshake messages are reassembled up to `max_handshake_message` body bytes
    /// (see [`crate::Config::max_handshake_message`]); larger ones are reported and skipped.
    pub fn new(max_handshake_message: usize) -> Self {
        TlsConnection {
            dirs: PerSide::new(
                Direction::new(max_handshake_message),
                Direction::new(max_handshake_message),
            ),
            neg: Negotiation::default(),
            keys: None,
            frame: 0,
            plaintext_records: None,
            reading: None,
        }
    }

    /// Reads TLS 1.3's protected records with the secrets of `keys` (matched by client random):
    /// encrypted handshake messages and alerts then come out as plaintext ones do, and a
    /// [`TlsEvent::Decryption`] says how it went. Without it nothing is decrypted.
    pub fn with_key_log(self, keys: Arc<KeyLog>) -> Self {
        self.with_keys(KeySource::given(keys))
    }

    /// Reads protected records with the secrets `keys` gives at the ServerHello.
    pub(crate) fn with_keys(mut self, keys: KeySource) -> Self {
        self.keys = (!keys.is_empty()).then_some(keys);
        self
    }

    /// Hands out the decrypted application data of each side's first `records` application
    /// records ([`TlsConnection::take_plaintext`]), for a protocol read inside TLS (RDP's CredSSP).
    pub(crate) fn keep_plaintext(mut self, records: u8) -> Self {
        self.plaintext_records = Some(records);
        self
    }

    /// The oldest decrypted application record of `side` not taken yet: one for each
    /// [`TlsEvent::DecryptedApplicationData`] once [`TlsConnection::keep_plaintext`] was asked.
    pub(crate) fn take_plaintext(&mut self, side: Side) -> Option<Vec<u8>> {
        self.reading.as_mut()?.take_plaintext(side)
    }

    /// The bytes fed from now on came with frame `frame` (the capture's own key log applies as of
    /// the ServerHello's frame).
    pub(crate) fn at_frame(&mut self, frame: u64) {
        self.frame = frame;
    }

    /// The negotiated version, once a ServerHello (not a HelloRetryRequest) was seen.
    pub fn version(&self) -> Option<TlsVersion> {
        self.neg.version
    }

    /// Whether `side`'s records are protected now: with TLS <= 1.2 after its ChangeCipherSpec; with
    /// TLS 1.3 for the server after its ServerHello, for the client after its ChangeCipherSpec or first
    /// application_data record following the ServerHello.
    pub fn is_protected(&self, side: Side) -> bool {
        self.dirs[side].protected
    }

    /// Whether `side`'s byte stream was declared not TLS (after a record-layer `Malformed` event).
    pub fn is_stopped(&self, side: Side) -> bool {
        self.dirs[side].deframer.is_dead()
    }

    /// Captured bytes fed for `side` so far (gaps not included), also after its stream stopped.
    pub fn bytes_fed(&self, side: Side) -> u64 {
        self.dirs[side].fed
    }

    /// Bytes allocated for partial messages over both directions (tests check it stays small).
    #[cfg(test)]
    pub(crate) fn buffered_bytes(&self) -> usize {
        [&self.dirs.client, &self.dirs.server]
            .iter()
            .map(|d| {
                d.defrag.buffered_capacity()
                    + match &d.body {
                        Body::Sslv2First { bytes, .. } => bytes.capacity(),
                        _ => 0,
                    }
            })
            .sum()
    }

    /// Feeds the next in-order bytes sent by `from`, appending the events they complete to `out`.
    pub fn feed(&mut self, from: Side, bytes: &[u8], out: &mut Vec<TlsEvent>) {
        let mut input = bytes;
        let dir = &mut self.dirs[from];
        dir.fed = dir
            .fed
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        while let Some(item) = dir.deframer.next(&mut input) {
            match item {
                Item::Header(h) => on_header(from, h, dir, &mut self.neg, &mut self.reading, out),
                Item::Body(b) => on_body(from, b, dir, &mut self.neg, &mut self.reading, out),
                Item::End => on_end(from, dir, &mut self.neg, &mut self.reading, out),
                Item::Resynced { skipped } => out.push(TlsEvent::Resync { skipped }),
                Item::Malformed(what) => {
                    dir.defrag.reset();
                    out.push(TlsEvent::Malformed { what });
                }
            }
            // With keys, reading starts right after the ServerHello, before the next record. The
            // keys are looked up once.
            if self.keys.is_some()
                && self.neg.version.is_some()
                && self.neg.suite.is_some()
                && let Some(keys) = self.keys.take()
                && let Some(mut reading) = Reading::start(&keys, self.frame, &self.neg, dir.max_hs)
            {
                if let Some(records) = self.plaintext_records {
                    reading.keep_plaintext(records);
                }
                reading.report_no_key(out);
                self.reading = Some(Box::new(reading));
            }
        }
    }

    /// Tells that `missing` bytes sent by `from` were never captured. A partial record or handshake
    /// message is dropped; the record layer continues in step when the gap ends inside the current
    /// record, else it scans for the next plausible header. A [`TlsEvent::Resync`] follows once in
    /// step again (or [`TlsEvent::Malformed`] if no header turns up).
    pub fn gap(&mut self, from: Side, missing: u64, out: &mut Vec<TlsEvent>) {
        if let Some(reading) = self.reading.as_mut() {
            // The records lost with the bytes leave the side's record numbers unknown.
            reading.lost(from);
        }
        let dir = &mut self.dirs[from];
        let lost_handshake = !matches!(dir.body, Body::Skip);
        if let Some(msg_type) = dir.defrag.partial_type() {
            out.push(TlsEvent::HandshakeCut { msg_type });
        }
        match dir.deframer.gap(missing) {
            GapEffect::None => {}
            GapEffect::WithinRecord | GapEffect::AtRecordEnd => {
                if lost_handshake {
                    dir.defrag.reset();
                }
                dir.body = Body::Skip;
                out.push(TlsEvent::Resync { skipped: 0 });
            }
            GapEffect::Scanning => {
                dir.defrag.reset();
                dir.body = Body::Skip;
            }
        }
    }
}

fn on_header(
    side: Side,
    h: Header,
    dir: &mut Direction,
    neg: &mut Negotiation,
    reading: &mut Option<Box<Reading>>,
    out: &mut Vec<TlsEvent>,
) {
    dir.body = Body::Skip;
    let (content_type, version, len) = match h {
        Header::Tls {
            content_type,
            version,
            len,
        } => (content_type, version, len),
        Header::Sslv2 { len } => {
            dir.body = if dir.deframer.records() == 1 {
                Body::Sslv2First {
                    bytes: Vec::new(),
                    cap: usize::from(len).min(dir.max_hs),
                }
            } else {
                Body::Sslv2Peek
            };
            return;
        }
    };
    let tls13 = neg.is_tls13();
    // TLS <= 1.2 after this side's ChangeCipherSpec, read with a key log.
    if dir.ccs
        && !tls13
        && matches!(
            content_type,
            content::ALERT | content::HANDSHAKE | content::APPLICATION_DATA
        )
        && let Some(r) = reading.as_mut().filter(|r| r.reads(side))
    {
        r.begin(side, content_type, version);
        dir.body = Body::Protected { content_type, len };
        return;
    }
    match content_type {
        content::CHANGE_CIPHER_SPEC => {
            let compat = if tls13 {
                // Client: its flight after the ServerHello is protected from here on.
                dir.protected = true;
                true
            } else if neg.hello_retry_request
                || (neg.version.is_none() && side == Side::Client && neg.client_offered_tls13)
            {
                // Sent around a HelloRetryRequest or before the ServerHello by a TLS 1.3 client.
                true
            } else {
                dir.ccs = true;
                dir.finished_pending = true;
                dir.protected = true;
                dir.defrag.reset();
                if let Some(r) = reading.as_mut() {
                    r.change_cipher_spec(side);
                }
                false
            };
            out.push(TlsEvent::ChangeCipherSpec { compat });
        }
        content::ALERT => {
            // TLS 1.3 protects alerts inside application_data records, so a type-21 record there is
            // plaintext; with TLS <= 1.2 it is encrypted after this side's ChangeCipherSpec.
            if len != 2 || (dir.ccs && !tls13) {
                out.push(unread(dir, content_type, len));
            } else {
                dir.body = Body::Alert {
                    bytes: [0; 2],
                    have: 0,
                };
            }
        }
        content::HANDSHAKE => {
            if dir.ccs && !tls13 {
                out.push(unread(dir, content_type, len));
            } else {
                if dir.defrag.is_idle() {
                    dir.hs_record_version = version;
                }
                dir.body = Body::Handshake;
            }
        }
        content::APPLICATION_DATA => {
            if tls13 {
                dir.protected = true;
                if let Some(r) = reading.as_mut().filter(|r| r.reads(side)) {
                    r.begin(side, content_type, version);
                    dir.body = Body::Protected { content_type, len };
                    return;
                }
            }
            out.push(unread(dir, content_type, len));
        }
        content::HEARTBEAT => out.push(TlsEvent::Heartbeat),
        // The deframer only lets content types 20..=24 through.
        _ => {}
    }
}

/// What a protected record says when it is not read: an encrypted alert, TLS <= 1.2's Finished (the
/// first protected handshake record of a side) or later encrypted handshake, or application data.
fn unread(dir: &mut Direction, content_type: u8, len: u16) -> TlsEvent {
    match content_type {
        content::ALERT => TlsEvent::Alert(Alert {
            level: None,
            description: None,
            encrypted: true,
        }),
        content::HANDSHAKE if std::mem::take(&mut dir.finished_pending) => TlsEvent::Finished,
        content::HANDSHAKE => TlsEvent::EncryptedHandshake { len },
        _ => TlsEvent::ApplicationData { len },
    }
}

fn on_body(
    side: Side,
    b: &[u8],
    dir: &mut Direction,
    neg: &mut Negotiation,
    reading: &mut Option<Box<Reading>>,
    out: &mut Vec<TlsEvent>,
) {
    match &mut dir.body {
        Body::Skip => {}
        Body::Protected { .. } => {
            if let Some(r) = reading.as_mut() {
                r.body(side, b);
            }
        }
        Body::Handshake => {
            let record_version = dir.hs_record_version;
            let mut server_now_protected = false;
            dir.defrag.push(b, |m| match m {
                Message::Complete { msg_type, body } => {
                    let ev = handshake_event(side, msg_type, body, record_version, neg);
                    if let TlsEvent::ServerHello(sh) = &ev
                        && side == Side::Server
                        && !sh.hello_retry_request
                        && sh.version.is_tls13_or_draft()
                    {
                        server_now_protected = true;
                    }
                    out.push(ev);
                }
                Message::Oversized { msg_type, len } => {
                    out.push(TlsEvent::OversizedHandshake { msg_type, len });
                }
            });
            if server_now_protected {
                dir.protected = true;
            }
        }
        Body::Alert { bytes, have } => {
            for &x in b {
                if let Some(slot) = bytes.get_mut(usize::from(*have)) {
                    *slot = x;
                    *have += 1;
                }
            }
        }
        Body::Sslv2First { bytes, cap } => {
            if let (true, Some(&msg_type)) = (bytes.is_empty(), b.first())
                && msg_type != sslv2::MSG_CLIENT_HELLO
            {
                out.push(TlsEvent::SslV2 { msg_type });
                dir.body = Body::Skip;
                return;
            }
            let room = cap.saturating_sub(bytes.len());
            bytes.extend_from_slice(b.get(..room.min(b.len())).unwrap_or_default());
        }
        Body::Sslv2Peek => {
            if let Some(&msg_type) = b.first() {
                out.push(TlsEvent::SslV2 { msg_type });
                dir.body = Body::Skip;
            }
        }
    }
}

fn on_end(
    side: Side,
    dir: &mut Direction,
    neg: &mut Negotiation,
    reading: &mut Option<Box<Reading>>,
    out: &mut Vec<TlsEvent>,
) {
    match std::mem::replace(&mut dir.body, Body::Skip) {
        Body::Protected { content_type, len } => {
            if reading.as_mut().is_some_and(|r| r.end(side, neg, out)) {
                // A TLS <= 1.2 side's first protected handshake record is its Finished.
                if content_type == content::HANDSHAKE {
                    dir.finished_pending = false;
                }
            } else {
                // Not readable with the keys given: as without keys.
                out.push(unread(dir, content_type, len));
            }
        }
        Body::Alert {
            bytes: [level, desc],
            have: 2,
        } => out.push(TlsEvent::Alert(Alert {
            level: Some(AlertLevel(level)),
            description: Some(AlertDescription(desc)),
            encrypted: false,
        })),
        Body::Sslv2First { bytes, .. } => match bytes.first() {
            Some(&sslv2::MSG_CLIENT_HELLO) => match sslv2::parse_client_hello(&bytes) {
                Some(ch) => out.push(TlsEvent::ClientHello(Box::new(ch))),
                None => out.push(TlsEvent::Malformed {
                    what: "SSLv2 ClientHello",
                }),
            },
            Some(&msg_type) => out.push(TlsEvent::SslV2 { msg_type }),
            None => out.push(TlsEvent::Malformed {
                what: "empty SSLv2 record",
            }),
        },
        _ => {}
    }
}
