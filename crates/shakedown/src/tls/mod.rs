//! The TLS layer: it reads the in-order reassembled bytes of both directions of one TCP connection
//! (after `proto` classified them as TLS, possibly after an RDP X.224 prefix) and emits typed
//! [`TlsEvent`]s for the `verdict` observer.
//!
//! ```text
//! bytes of one side ─ record (deframer, 5-byte headers, SSLv2 2-byte headers, gap resync)
//!                      ├ handshake records ─ handshake (defragmenter) ─ message / hello / cert ─┐
//!                      ├ alert, CCS, heartbeat ───────────────────────────────────────────────┼─ TlsEvent
//!                      └ application data, encrypted records: counted, never copied ───────────┘
//! ```
//!
//! Encryption is tracked per direction: with TLS <= 1.2 a side's records are encrypted after its
//! ChangeCipherSpec; with TLS 1.3 the server's are protected after its ServerHello and the client's
//! after its next ChangeCipherSpec or first application_data record.
//!
//! With the `unstable` feature (engine parts, no stability promise), a `TlsConnection` can be fed
//! one side's bytes directly:
//!
#![cfg_attr(feature = "unstable", doc = " ```")]
#![cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
//! use shakedown::Side;
//! use shakedown::tls::{TlsConnection, TlsEvent, looks_like_tls};
//!
//! let alert = [21, 3, 3, 0, 2, 2, 40]; // fatal handshake_failure
//! assert_eq!(looks_like_tls(&alert), Some(true));
//! let mut conn = TlsConnection::new(1 << 16);
//! let mut out = Vec::new();
//! conn.feed(Side::Server, &alert, &mut out);
//! match &out[..] {
//!     [TlsEvent::Alert(a)] => assert_eq!(a.description.map(|d| d.to_string()).as_deref(), Some("handshake_failure")),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod cert;
pub(crate) mod codes;
mod conn;
mod cursor;
mod fingerprint;
mod handshake;
mod hello;
mod message;
mod reading;
mod record;
mod sslv2;

#[cfg(test)]
mod tests;

pub use cert::{CertificateInfo, KeyAlgorithm, KeyType};
pub(crate) use codes::hs;
pub use codes::{
    AlertDescription, AlertLevel, CipherSuite, NamedGroup, SignatureScheme, SuiteAuth, SuiteKx,
    TlsVersion,
};
unstable_use!(conn::TlsConnection);
pub use fingerprint::Ja3;
pub use hello::{ClientHello, HELLO_RETRY_REQUEST_RANDOM, ServerHello};
pub use reading::Decryption;

/// One thing seen in a direction of a TLS connection, in stream order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum TlsEvent {
    /// A ClientHello (RFC 8446 §4.1.2), also in the SSLv2 format, also the second one after a
    /// HelloRetryRequest.
    ClientHello(Box<ClientHello>),
    /// A ServerHello (RFC 8446 §4.1.3), or a HelloRetryRequest (`hello_retry_request` set).
    ServerHello(Box<ServerHello>),
    /// A plaintext Certificate message (RFC 8446 §4.4.2, RFC 5246 §7.4.2).
    Certificate(Box<CertificateInfo>),
    /// ServerKeyExchange (RFC 5246 §7.4.3).
    ServerKeyExchange,
    /// CertificateRequest (RFC 5246 §7.4.4, RFC 8446 §4.3.2).
    CertificateRequest,
    /// ServerHelloDone (RFC 5246 §7.4.5).
    ServerHelloDone,
    /// ClientKeyExchange (RFC 5246 §7.4.7).
    ClientKeyExchange,
    /// A plaintext CertificateVerify (RFC 5246 §7.4.8).
    CertificateVerify,
    /// A plaintext NewSessionTicket (RFC 5077 §3.3).
    NewSessionTicket,
    /// CertificateStatus (RFC 6066 §8).
    CertificateStatus,
    /// A plaintext EncryptedExtensions (only seen with some TLS 1.3 drafts / broken peers).
    EncryptedExtensions,
    /// Finished (RFC 5246 §7.4.9). With TLS <= 1.2 it is encrypted: the first handshake record after a
    /// side's ChangeCipherSpec is reported as `Finished` (its content cannot be read).
    Finished,
    /// Any other plaintext handshake message type (HelloRequest 0, KeyUpdate 24, ...).
    OtherHandshake(u8),
    /// A ChangeCipherSpec record (RFC 5246 §7.1). `compat` marks TLS 1.3's middlebox-compatibility
    /// record (RFC 8446 §D.4), which changes nothing.
    ChangeCipherSpec {
        /// TLS 1.3 compatibility record rather than a real change of keys.
        compat: bool,
    },
    /// An alert record (RFC 8446 §6, RFC 5246 §7.2).
    Alert(Alert),
    /// A TLS <= 1.2 handshake record after that side's ChangeCipherSpec, other than the first (which is
    /// reported as [`TlsEvent::Finished`]): renegotiation or other encrypted handshake traffic.
    EncryptedHandshake {
        /// The record's body length.
        len: u16,
    },
    /// An application_data record (with TLS 1.3: every protected record) and its body length.
    ApplicationData {
        /// The record's body length.
        len: u16,
    },
    /// A heartbeat record (RFC 6520).
    Heartbeat,
    /// An SSL 2.0 record other than an SSLv2-format ClientHello (a real SSL 2.0 server's
    /// SERVER-HELLO is type 4); after SSL 2.0 keys are set the type byte is ciphertext.
    SslV2 {
        /// The first body byte: the SSL 2.0 message type.
        msg_type: u8,
    },
    /// A handshake message whose claimed length exceeds the limit: skipped by counting, not buffered.
    OversizedHandshake {
        /// `HandshakeType`.
        msg_type: u8,
        /// The claimed body length.
        len: u32,
    },
    /// A handshake message lost part of its bytes to a gap (bytes the capture never held, e.g. cut by
    /// its snap length): its type is known, its content is not.
    HandshakeCut {
        /// `HandshakeType`.
        msg_type: u8,
    },
    /// A handshake message read from a record decrypted with a key log, as the event it would be
    /// in plaintext: TLS 1.3's EncryptedExtensions, CertificateRequest, Certificate,
    /// CertificateVerify, Finished and NewSessionTicket; TLS 1.2's Finished, or a renegotiation's
    /// ClientHello.
    Decrypted(Box<TlsEvent>),
    /// An alert read from a decrypted TLS 1.3 record (with a key log).
    DecryptedAlert {
        /// Its level.
        level: AlertLevel,
        /// Its description.
        description: AlertDescription,
    },
    /// An application_data record read from a decrypted TLS 1.3 record, and its plaintext length.
    DecryptedApplicationData {
        /// Plaintext bytes.
        len: u16,
    },
    /// How decrypting this connection with the key log went (once, or again when it failed).
    Decryption(Decryption),
    /// Something could not be parsed. For the record layer (not TLS, unknown content type, a record
    /// over 2^14+2048 bytes, no header found after a gap) the direction stops: its bytes are only
    /// counted from then on. For a handshake message (`what` is its name) parsing goes on.
    Malformed {
        /// What was wrong.
        what: &'static str,
    },
    /// The record layer is in sync again after a gap: `skipped` captured bytes were discarded while
    /// looking for a header (0 when the gap ended inside or at the end of a known record).
    Resync {
        /// Captured bytes discarded.
        skipped: u64,
    },
}

/// An alert (RFC 8446 §6, RFC 5246 §7.2). An encrypted alert has neither level nor description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Alert {
    /// The level, for a plaintext alert.
    pub level: Option<AlertLevel>,
    /// The description, for a plaintext alert.
    pub description: Option<AlertDescription>,
    /// Sent encrypted: an alert record after that side's TLS <= 1.2 ChangeCipherSpec, or any alert
    /// record whose length is not 2.
    pub encrypted: bool,
}

/// Classifies the first bytes a side sent: `Some(true)` for a TLS record header or an SSL 2.0
/// CLIENT-HELLO / SERVER-HELLO, `Some(false)` for anything else, `None` while more bytes are needed
/// (never more than five).
///
/// ```
/// use shakedown::tls::looks_like_tls;
/// assert_eq!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]), Some(true));
/// assert_eq!(looks_like_tls(&[0x16, 0x03]), None);
/// assert_eq!(looks_like_tls(b"SSH-2.0-OpenSSH"), Some(false));
/// assert_eq!(looks_like_tls(&[0x80, 0x2e, 0x01, 0x03, 0x01]), Some(true)); // SSLv2-format hello
/// ```
pub fn looks_like_tls(first_bytes: &[u8]) -> Option<bool> {
    let &b0 = first_bytes.first()?;
    if b0 & 0x80 != 0 {
        if sslv2::looks_like_client_hello(first_bytes)? {
            return Some(true);
        }
        // SSL 2.0 SERVER-HELLO: type 4, session-id-hit 0/1, certificate type 1 (X.509).
        let len = sslv2::two_byte_header_len(b0, *first_bytes.get(1)?).unwrap_or(0);
        let &msg = first_bytes.get(2)?;
        if msg != sslv2::MSG_SERVER_HELLO || len < 11 {
            return Some(false);
        }
        let (&hit, &cert_type) = (first_bytes.get(3)?, first_bytes.get(4)?);
        return Some(hit <= 1 && cert_type == 1);
    }
    if !(20..=24).contains(&b0) {
        return Some(false);
    }
    if *first_bytes.get(1)? != 3 || *first_bytes.get(2)? > 4 {
        return Some(false);
    }
    let len = crate::bytes::be16(first_bytes, 3)?;
    Some(len <= record::MAX_RECORD_LEN)
}
