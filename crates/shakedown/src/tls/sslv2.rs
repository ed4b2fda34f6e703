//! The SSL 2.0 record format and its CLIENT-HELLO, which old clients still send to open a TLS
//! connection (RFC 5246 §E.2, RFC 6101 §E.1). The record deframer recognises the two-byte header here;
//! the hello becomes a [`ClientHello`] with `sslv2_format` set. tls-parser has no parser for it.

use super::codes::{CipherSuite, TlsVersion};
use super::cursor::Cursor;
use super::hello::ClientHello;

/// SSL 2.0 CLIENT-HELLO message type.
pub(crate) const MSG_CLIENT_HELLO: u8 = 1;
/// SSL 2.0 SERVER-HELLO message type.
pub(crate) const MSG_SERVER_HELLO: u8 = 4;

/// The body length of an SSL 2.0 record with a two-byte header (high bit of the first byte set), or
/// `None` for any other first byte. Three-byte headers (with padding) are never used for a hello and
/// collide with TLS content types, so they are not recognised.
pub(crate) fn two_byte_header_len(b0: u8, b1: u8) -> Option<u16> {
    (b0 & 0x80 != 0).then(|| (u16::from(b0 & 0x7f) << 8) | u16::from(b1))
}

/// Whether the first bytes of a stream could be an SSLv2-format CLIENT-HELLO: two-byte header, message
/// type 1, version major 0 (SSL 2.0) or 3 (SSL 3.0 / TLS). `None` while fewer than 4 bytes are known.
pub(crate) fn looks_like_client_hello(b: &[u8]) -> Option<bool> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let Some(len) = two_byte_header_len(b0, b1) else {
        return Some(false);
    };
    // msg type + version + three lengths + at least one cipher spec + a 16-byte challenge.
    if len < 9 {
        return Some(false);
    }
    let (&msg, &major) = (b.get(2)?, b.get(3)?);
    Some(msg == MSG_CLIENT_HELLO && matches!(major, 0x00 | 0x03))
}

/// Parses the body of an SSL 2.0 CLIENT-HELLO record (starting at its message type byte). Cipher specs
/// whose first byte is 0 are TLS cipher suites (RFC 5246 §E.2); the SSL 2.0-only specs are dropped.
pub(crate) fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut c = Cursor::new(body);
    if c.u8()? != MSG_CLIENT_HELLO {
        return None;
    }
    let version = TlsVersion(c.u16()?);
    let specs_len = c.u16()?;
    let session_len = c.u16()?;
    let challenge_len = c.u16()?;
    let mut specs = Cursor::new(c.take(usize::from(specs_len))?);
    c.take(usize::from(session_len))?;
    c.take(usize::from(challenge_len))?;
    let mut suites = Vec::with_capacity(specs.remaining() / 3);
    while let (Some(first), Some(rest)) = (specs.u8(), specs.u16()) {
        if first == 0 {
            suites.push(CipherSuite(rest));
        }
    }
    Some(ClientHello {
        sslv2_format: true,
        record_version: TlsVersion::SSL20,
        legacy_version: version,
        cipher_suites: suites,
        session_id_len: u8::try_from(session_len).unwrap_or(u8::MAX),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SSLv2-format hello offering TLS 1.0 with three specs, one of them SSL 2.0-only.
    pub(crate) fn sample() -> Vec<u8> {
        let mut body = vec![0x01, 0x03, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x10];
        body.extend_from_slice(&[0x00, 0x00, 0x2f, 0x07, 0x00, 0xc0, 0x00, 0x00, 0xff]);
        body.extend_from_slice(&[0xaa; 16]);
        let mut rec = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
        rec.extend_from_slice(&body);
        rec
    }

    #[test]
    fn parses_sample() {
        let rec = sample();
        assert_eq!(looks_like_client_hello(&rec), Some(true));
        let ch = parse_client_hello(rec.get(2..).unwrap_or_default());
        let ch = ch.unwrap_or_else(|| panic!("parse"));
        assert!(ch.sslv2_format);
        assert_eq!(ch.legacy_version, TlsVersion::TLS10);
        assert_eq!(
            ch.cipher_suites,
            vec![CipherSuite(0x002f), CipherSuite(0x00ff)]
        );
        assert_eq!(ch.highest_version(), TlsVersion::TLS10);
        for n in 0..rec.len() {
            let _ = parse_client_hello(rec.get(2..n).unwrap_or_default());
        }
        assert_eq!(looks_like_client_hello(&[0x80]), None);
        assert_eq!(looks_like_client_hello(&[0x16, 0x03]), Some(false));
    }
}
