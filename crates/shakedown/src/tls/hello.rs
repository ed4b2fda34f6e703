//! ClientHello and ServerHello (including the RFC 8446 HelloRetryRequest) parsed from a reassembled
//! handshake message body. The handshake defragmenter hands complete bodies here; the results become
//! [`crate::tls::TlsEvent::ClientHello`] and [`crate::tls::TlsEvent::ServerHello`].
//!
//! These parsers are our own rather than tls-parser's: its ServerHello parser rejects TLS 1.3 draft
//! versions, and we want every extension id in order plus whatever parsed before a malformed extension.

use super::codes::{CipherSuite, NamedGroup, SignatureScheme, TlsVersion, ext};
use super::cursor::Cursor;

/// The fixed ServerHello.random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest")
/// (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What a ClientHello offered (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2), or an SSLv2-compatible one
/// (RFC 5246 §E.2). GREASE values (RFC 8701) are kept in the lists; their types' `is_grease()` flags
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ClientHello {
    /// Sent in the SSL 2.0 record format (then there are no extensions).
    pub sslv2_format: bool,
    /// The version in the record header carrying the hello (`SSL 2.0` for the SSLv2 format).
    pub record_version: TlsVersion,
    /// `ClientHello.legacy_version` (the highest version for TLS <= 1.2 clients).
    pub legacy_version: TlsVersion,
    /// The supported_versions extension (43), in order, GREASE included.
    pub supported_versions: Vec<TlsVersion>,
    /// Offered cipher suites in order (for the SSLv2 format: the specs whose first byte is 0).
    pub cipher_suites: Vec<CipherSuite>,
    /// The host_name of the server_name extension (0).
    pub sni: Option<String>,
    /// Protocols of the ALPN extension (16), lossily decoded as UTF-8 for display (the JSON record's
    /// `alpn` list and the reports).
    pub alpn: Vec<String>,
    /// The same protocols byte for byte as sent: RFC 7301 §3.1 makes a protocol name an opaque byte
    /// string, and JA4 works on those bytes, not on the U+FFFD replacements in [`Self::alpn`].
    pub alpn_raw: Vec<Vec<u8>>,
    /// The supported_groups extension (10).
    pub supported_groups: Vec<NamedGroup>,
    /// The signature_algorithms extension (13).
    pub signature_algorithms: Vec<SignatureScheme>,
    /// Groups of the key_share extension (51, or 40 in early TLS 1.3 drafts).
    pub key_share_groups: Vec<NamedGroup>,
    /// The ec_point_formats extension (11).
    pub ec_point_formats: Vec<u8>,
    /// Every extension type in the order sent.
    pub extensions: Vec<u16>,
    /// Length of `legacy_session_id` (for SSLv2: of the session id field).
    pub session_id_len: u8,
    /// `ClientHello.random`, the 32 bytes NSS key logs are keyed by (`None` for the SSLv2 format,
    /// which sends a challenge instead). Not secret (it travels in clear), and not written to the
    /// JSON record.
    pub random: Option<[u8; 32]>,
}

impl ClientHello {
    /// The highest version offered: the maximum of supported_versions without GREASE (drafts rank as
    /// TLS 1.3, the final one winning ties), else the legacy version.
    ///
    /// ```
    /// use shakedown::tls::{ClientHello, TlsVersion};
    /// let mut ch = ClientHello::default();
    /// ch.legacy_version = TlsVersion::TLS12;
    /// assert_eq!(ch.highest_version(), TlsVersion::TLS12);
    /// ch.supported_versions = vec![TlsVersion(0x3a3a), TlsVersion::TLS13, TlsVersion::TLS12];
    /// assert_eq!(ch.highest_version(), TlsVersion::TLS13);
    /// ```
    pub fn highest_version(&self) -> TlsVersion {
        self.supported_versions
            .iter()
            .copied()
            .filter(|v| !v.is_grease())
            .max_by_key(|v| (v.rank(), *v == TlsVersion::TLS13))
            .unwrap_or(self.legacy_version)
    }
}

/// What a ServerHello chose (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3), also when it is a HelloRetryRequest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerHello {
    /// `ServerHello.legacy_version` (or the version field of a pre-draft-22 TLS 1.3 ServerHello).
    pub legacy_version: TlsVersion,
    /// The negotiated version: the supported_versions selection if present, else `legacy_version`.
    pub version: TlsVersion,
    /// The supported_versions extension (43), if present.
    pub selected_supported_version: Option<TlsVersion>,
    /// The chosen cipher suite.
    pub cipher_suite: CipherSuite,
    /// The random is the HelloRetryRequest value (or it was a draft HelloRetryRequest message, type 6).
    pub hello_retry_request: bool,
    /// The group of the key_share extension (the requested group in a HelloRetryRequest).
    pub key_share_group: Option<NamedGroup>,
    /// Every extension type in the order sent.
    pub extensions: Vec<u16>,
}

/// Parses a ClientHello body (after the 4-byte handshake header). `None` if even the fixed part
/// (version, random, session id, suites, compression) is short; a bad extension only ends the
/// extension walk.
pub(crate) fn parse_client_hello(body: &[u8], record_version: TlsVersion) -> Option<ClientHello> {
    let mut c = Cursor::new(body);
    let legacy_version = TlsVersion(c.u16()?);
    let random = c.take(32)?.try_into().ok();
    let session = c.vec8()?;
    let suites = c.vec16()?;
    c.vec8()?; // compression methods
    let mut ch = ClientHello {
        sslv2_format: false,
        record_version,
        legacy_version,
        session_id_len: u8::try_from(session.remaining()).unwrap_or(u8::MAX),
        cipher_suites: suites.u16_list().into_iter().map(CipherSuite).collect(),
        random,
        ..Default::default()
    };
    if let Some(mut exts) = c.vec16() {
        while let Some(typ) = exts.u16() {
            ch.extensions.push(typ);
            let Some(data) = exts.vec16() else { break };
            client_extension(&mut ch, typ, data);
        }
    }
    Some(ch)
}

fn client_extension(ch: &mut ClientHello, typ: u16, mut data: Cursor<'_>) {
    match typ {
        ext::SERVER_NAME => {
            let Some(mut list) = data.vec16() else { return };
            while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
                if kind == 0 && ch.sni.is_none() {
                    let bytes = name.rest();
                    ch.sni = Some(String::from_utf8_lossy(bytes).into_owned());
                }
            }
        }
        ext::ALPN => {
            let Some(mut list) = data.vec16() else { return };
            while let Some(p) = list.vec8() {
                let bytes = p.rest();
                ch.alpn.push(String::from_utf8_lossy(bytes).into_owned());
                ch.alpn_raw.push(bytes.to_vec());
            }
        }
        ext::SUPPORTED_GROUPS => {
            if let Some(l) = data.vec16() {
                ch.supported_groups = l.u16_list().into_iter().map(NamedGroup).collect();
            }
        }
        ext::SIGNATURE_ALGORITHMS => {
            if let Some(l) = data.vec16() {
                ch.signature_algorithms = l.u16_list().into_iter().map(SignatureScheme).collect();
            }
        }
        ext::KEY_SHARE | ext::KEY_SHARE_OLD => {
            let Some(mut list) = data.vec16() else { return };
            while let Some(group) = list.u16() {
                ch.key_share_groups.push(NamedGroup(group));
                if list.vec16().is_none() {
                    break;
                }
            }
        }
        ext::EC_POINT_FORMATS => {
            if let Some(l) = data.vec8() {
                ch.ec_point_formats = l.rest().to_vec();
            }
        }
        ext::SUPPORTED_VERSIONS => {
            if let Some(l) = data.vec8() {
                ch.supported_versions = l.u16_list().into_iter().map(TlsVersion).collect();
            }
        }
        _ => {}
    }
}

/// Parses a ServerHello body. Tries the RFC 8446 / 5246 layout and the pre-draft-22 TLS 1.3 layout
/// (no session id, no compression), preferring the one the version suggests, and accepts the first
/// whose extension block ends exactly at the end of the message.
pub(crate) fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let version = Cursor::new(body).u16().map(TlsVersion)?;
    let old_draft = version.0 >> 8 == 0x7f && (version.0 & 0xff) < 22;
    if old_draft {
        server_hello_layout(body, false).or_else(|| server_hello_layout(body, true))
    } else {
        server_hello_layout(body, true).or_else(|| server_hello_layout(body, false))
    }
}

fn server_hello_layout(body: &[u8], with_session: bool) -> Option<ServerHello> {
    let mut c = Cursor::new(body);
    let legacy_version = TlsVersion(c.u16()?);
    let random = c.take(32)?;
    if with_session {
        c.vec8()?;
    }
    let cipher_suite = CipherSuite(c.u16()?);
    if with_session {
        c.u8()?; // compression method
    }
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        selected_supported_version: None,
        cipher_suite,
        hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        key_share_group: None,
        extensions: Vec::new(),
    };
    if !c.is_empty() {
        let exts = c.vec16()?;
        if !c.is_empty() {
            return None;
        }
        server_extensions(&mut sh, exts)?;
    }
    sh.version = sh.selected_supported_version.unwrap_or(legacy_version);
    Some(sh)
}

/// Walks ServerHello / HelloRetryRequest extensions; `None` if the block is not well formed.
fn server_extensions(sh: &mut ServerHello, mut exts: Cursor<'_>) -> Option<()> {
    while !exts.is_empty() {
        let typ = exts.u16()?;
        let mut data = exts.vec16()?;
        sh.extensions.push(typ);
        match typ {
            ext::SUPPORTED_VERSIONS => sh.selected_supported_version = data.u16().map(TlsVersion),
            // ServerHello: group + key; HelloRetryRequest: the group alone. Both start with the group.
            ext::KEY_SHARE | ext::KEY_SHARE_OLD => sh.key_share_group = data.u16().map(NamedGroup),
            _ => {}
        }
    }
    Some(())
}

/// Parses the draft TLS 1.3 HelloRetryRequest message (handshake type 6, drafts up to 21): a version,
/// then (from draft 19) a cipher suite, then extensions.
pub(crate) fn parse_draft_hello_retry_request(body: &[u8]) -> Option<ServerHello> {
    let mut c = Cursor::new(body);
    let version = TlsVersion(c.u16()?);
    let mut sh = ServerHello {
        legacy_version: version,
        version,
        selected_supported_version: None,
        cipher_suite: CipherSuite(0),
        hello_retry_request: true,
        key_share_group: None,
        extensions: Vec::new(),
    };
    let mut with_suite = c;
    let suite = with_suite.u16();
    let exts = match (suite, with_suite.vec16()) {
        (Some(s), Some(e)) if with_suite.is_empty() => {
            sh.cipher_suite = CipherSuite(s);
            e
        }
        _ => {
            let e = c.vec16()?;
            if !c.is_empty() {
                return None;
            }
            e
        }
    };
    server_extensions(&mut sh, exts)?;
    sh.version = sh.selected_supported_version.unwrap_or(version);
    Some(sh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh_bytes(version: u16, random: [u8; 32], exts: &[u8]) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&random);
        b.push(0); // session id
        b.extend_from_slice(&[0x13, 0x01, 0x00]);
        b.extend_from_slice(&u16::try_from(exts.len()).unwrap_or(0).to_be_bytes());
        b.extend_from_slice(exts);
        b
    }

    #[test]
    fn server_hello_supported_versions_and_hrr() {
        let exts = [
            0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17,
        ];
        let sh = parse_server_hello(&sh_bytes(0x0303, HELLO_RETRY_REQUEST_RANDOM, &exts));
        let sh = sh.unwrap_or_else(|| panic!("parse"));
        assert!(sh.hello_retry_request);
        assert_eq!(sh.version, TlsVersion::TLS13);
        assert_eq!(sh.legacy_version, TlsVersion::TLS12);
        assert_eq!(sh.key_share_group, Some(NamedGroup(23)));
        assert_eq!(sh.extensions, vec![43, 51]);
    }

    #[test]
    fn server_hello_draft_versions() {
        for v in [0x7f1c_u16, 0x7e01, 0x7f10] {
            let exts = [0x00, 0x2b, 0x00, 0x02, (v >> 8) as u8, v as u8];
            let sh = parse_server_hello(&sh_bytes(0x0303, [7; 32], &exts));
            assert_eq!(sh.map(|s| s.version), Some(TlsVersion(v)));
        }
        // Draft 16 layout: version, random, suite, extensions.
        let mut b = vec![0x7f, 0x10];
        b.extend_from_slice(&[1; 32]);
        b.extend_from_slice(&[0x13, 0x01, 0x00, 0x06, 0x00, 0x28, 0x00, 0x02, 0x00, 0x1d]);
        let sh = parse_server_hello(&b).unwrap_or_else(|| panic!("draft layout"));
        assert_eq!(sh.version, TlsVersion(0x7f10));
        assert_eq!(sh.cipher_suite, CipherSuite(0x1301));
        assert_eq!(sh.key_share_group, Some(NamedGroup(29)));
        assert!(!sh.hello_retry_request);
    }

    #[test]
    fn server_hello_without_extensions() {
        let mut b = vec![0x03, 0x01];
        b.extend_from_slice(&[1; 32]);
        b.extend_from_slice(&[0x00, 0x00, 0x2f, 0x00]);
        let sh = parse_server_hello(&b).unwrap_or_else(|| panic!("parse"));
        assert_eq!(sh.version, TlsVersion::TLS10);
        assert!(sh.extensions.is_empty());
    }

    #[test]
    fn truncated_hellos_never_panic() {
        let body = sh_bytes(0x0303, [3; 32], &[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        for n in 0..body.len() {
            let _ = parse_server_hello(body.get(..n).unwrap_or_default());
            let _ = parse_client_hello(body.get(..n).unwrap_or_default(), TlsVersion::TLS10);
            let _ = parse_draft_hello_retry_request(body.get(..n).unwrap_or_default());
        }
    }
}
