//! Handshake message dispatch: third step of [`crate::tls`]. A complete handshake message from the
//! defragmenter becomes a [`TlsEvent`], and the hellos update what the connection knows (negotiated
//! version, HelloRetryRequest, whether the client offered TLS 1.3).

use super::TlsEvent;
use super::cert::parse_certificate;
use super::codes::{TlsVersion, hs};
use super::hello::{parse_client_hello, parse_draft_hello_retry_request, parse_server_hello};
use crate::Side;

/// The encrypt_then_mac extension (RFC 7366 §2).
const ENCRYPT_THEN_MAC: u16 = 22;

/// What the two directions share: learnt from the hellos, read by both sides' record handling.
#[derive(Debug, Clone, Default)]
pub(crate) struct Negotiation {
    /// The version of the ServerHello (not a HelloRetryRequest).
    pub(crate) version: Option<TlsVersion>,
    /// A HelloRetryRequest was seen.
    pub(crate) hello_retry_request: bool,
    /// The client's ClientHello listed TLS 1.3 (or a draft) in supported_versions.
    pub(crate) client_offered_tls13: bool,
    /// The first ClientHello's random (what key logs are keyed by).
    pub(crate) client_random: Option<[u8; 32]>,
    /// The cipher suite of the ServerHello.
    pub(crate) suite: Option<super::codes::CipherSuite>,
    /// The ServerHello's random (TLS <= 1.2 keys are derived from both randoms).
    pub(crate) server_random: Option<[u8; 32]>,
    /// The ServerHello accepted encrypt-then-MAC (RFC 7366, extension 22).
    pub(crate) encrypt_then_mac: bool,
}

impl Negotiation {
    /// The ServerHello selected TLS 1.3 or a draft of it.
    pub(crate) fn is_tls13(&self) -> bool {
        self.version.is_some_and(TlsVersion::is_tls13_or_draft)
    }
}

/// Turns one complete handshake message into an event. `record_version` is the version of the record
/// header that started the message.
pub(crate) fn handshake_event(
    side: Side,
    msg_type: u8,
    body: &[u8],
    record_version: TlsVersion,
    neg: &mut Negotiation,
) -> TlsEvent {
    match msg_type {
        hs::CLIENT_HELLO => match parse_client_hello(body, record_version) {
            Some(ch) => {
                // legacy_version (2 bytes), then the 32-byte random (RFC 8446 §4.1.2).
                if side == Side::Client && neg.client_random.is_none() {
                    neg.client_random = body.get(2..34).and_then(|r| r.try_into().ok());
                }
                if side == Side::Client
                    && ch.supported_versions.iter().any(|v| v.is_tls13_or_draft())
                {
                    neg.client_offered_tls13 = true;
                }
                TlsEvent::ClientHello(Box::new(ch))
            }
            None => TlsEvent::Malformed {
                what: "ClientHello",
            },
        },
        hs::SERVER_HELLO => match parse_server_hello(body) {
            Some(sh) => {
                if sh.hello_retry_request {
                    neg.hello_retry_request = true;
                } else {
                    neg.version = Some(sh.version);
                    neg.suite = Some(sh.cipher_suite);
                    neg.server_random = body.get(2..34).and_then(|r| r.try_into().ok());
                    neg.encrypt_then_mac = sh.extensions.contains(&ENCRYPT_THEN_MAC);
                }
                TlsEvent::ServerHello(Box::new(sh))
            }
            None => TlsEvent::Malformed {
                what: "ServerHello",
            },
        },
        hs::HELLO_RETRY_REQUEST_DRAFT => match parse_draft_hello_retry_request(body) {
            Some(sh) => {
                neg.hello_retry_request = true;
                TlsEvent::ServerHello(Box::new(sh))
            }
            None => TlsEvent::Malformed {
                what: "HelloRetryRequest",
            },
        },
        hs::CERTIFICATE => {
            let layout = neg.version.map(TlsVersion::is_tls13_or_draft);
            match parse_certificate(body, layout) {
                Some(info) => TlsEvent::Certificate(Box::new(info)),
                None => TlsEvent::Malformed {
                    what: "Certificate",
                },
            }
        }
        hs::NEW_SESSION_TICKET => TlsEvent::NewSessionTicket,
        hs::ENCRYPTED_EXTENSIONS => TlsEvent::EncryptedExtensions,
        hs::SERVER_KEY_EXCHANGE => TlsEvent::ServerKeyExchange,
        hs::CERTIFICATE_REQUEST => TlsEvent::CertificateRequest,
        hs::SERVER_HELLO_DONE => TlsEvent::ServerHelloDone,
        hs::CERTIFICATE_VERIFY => TlsEvent::CertificateVerify,
        hs::CLIENT_KEY_EXCHANGE => TlsEvent::ClientKeyExchange,
        hs::FINISHED => TlsEvent::Finished,
        hs::CERTIFICATE_STATUS => TlsEvent::CertificateStatus,
        other => TlsEvent::OtherHandshake(other),
    }
}
