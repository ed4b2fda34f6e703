//! The Certificate handshake message (RFC 5246 §7.4.2 and RFC 8446 §4.4.2 layouts): the chain length
//! and what the leaf certificate says (names, validity, key), read with x509-parser. Produces
//! [`crate::tls::TlsEvent::Certificate`]; x509-parser types stay inside this module.

use std::fmt;

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::cursor::Cursor;
use crate::Timestamp;
use crate::recent::Recent;

/// A public key algorithm, as named by the certificate's SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// rsaEncryption or RSASSA-PSS.
    Rsa,
    /// id-ecPublicKey (ECDSA / ECDH).
    Ec,
    /// Ed25519 (RFC 8410).
    Ed25519,
    /// Ed448 (RFC 8410).
    Ed448,
    /// DSA.
    Dsa,
    /// Diffie-Hellman (X9.42).
    Dh,
    /// Anything else.
    Other,
}

/// A certificate's key: algorithm, size and curve.
///
/// ```
/// use shakedown::tls::{KeyAlgorithm, KeyType};
/// let k = KeyType { algorithm: KeyAlgorithm::Rsa, bits: Some(2048), curve: None };
/// assert_eq!(k.to_string(), "RSA 2048");
/// let k = KeyType { algorithm: KeyAlgorithm::Ec, bits: Some(256), curve: Some("P-256".into()) };
/// assert_eq!(k.to_string(), "EC P-256");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyType {
    /// The algorithm.
    pub algorithm: KeyAlgorithm,
    /// Key size in bits (RSA modulus, EC field, DSA/DH public value), when known.
    pub bits: Option<u32>,
    /// For EC keys: the curve's common name (`P-256`) or its OID.
    pub curve: Option<String>,
}

impl KeyAlgorithm {
    /// Its name as the JSON contract's `key_type` begins: `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA`,
    /// `DH`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "RSA",
            KeyAlgorithm::Ec => "EC",
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::Ed448 => "Ed448",
            KeyAlgorithm::Dsa => "DSA",
            KeyAlgorithm::Dh => "DH",
            KeyAlgorithm::Other => "other",
        }
    }
}

display_as_str!(KeyAlgorithm);

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.algorithm.as_str();
        if matches!(self.algorithm, KeyAlgorithm::Ed25519 | KeyAlgorithm::Ed448) {
            return f.write_str(name);
        }
        match (&self.curve, self.bits) {
            (Some(c), _) => write!(f, "{name} {c}"),
            (None, Some(b)) => write!(f, "{name} {b}"),
            (None, None) => f.write_str(name),
        }
    }
}

/// What a Certificate message carried: the chain length and the leaf's details. When the leaf does not
/// parse as X.509 (or the chain is empty), the text fields are empty and the options `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CertificateInfo {
    /// The leaf's subject distinguished name (RFC 4514-like, e.g. `CN=example.com, O=Example`).
    pub subject: String,
    /// The leaf's issuer distinguished name.
    pub issuer: String,
    /// Start of the leaf's validity.
    pub not_before: Option<Timestamp>,
    /// End of the leaf's validity.
    pub not_after: Option<Timestamp>,
    /// The leaf's public key.
    pub key_type: Option<KeyType>,
    /// Certificates in the message (0 for an empty client Certificate).
    pub chain_len: usize,
    /// Subject and issuer names of the leaf are byte-for-byte equal.
    pub self_signed: bool,
    /// DNS names of the leaf's subjectAltName extension.
    pub dns_names: Vec<String>,
}

/// Parses a Certificate message body. `tls13` selects the layout when the version is known (`None`:
/// whichever layout fits). `None` if neither layout fits.
pub(crate) fn parse_certificate(body: &[u8], tls13: Option<bool>) -> Option<CertificateInfo> {
    let certs = match tls13 {
        Some(true) => chain_13(body),
        Some(false) => chain_12(body),
        None => chain_12(body).or_else(|| chain_13(body)),
    }?;
    let mut info = certs
        .first()
        .map(|leaf| leaf_info(leaf))
        .unwrap_or_default();
    info.chain_len = certs.len();
    Some(info)
}

/// Most leaves a thread's [`LEAF_MEMO`] holds (emptied when full).
const LEAF_MEMO_ENTRIES: usize = 128;
/// Longest leaf (DER bytes) kept in [`LEAF_MEMO`]; longer ones are parsed every time.
const LEAF_MEMO_MAX_DER: usize = 8 * 1024;

thread_local! {
    /// What recent leaf certificates say, by their DER bytes. A server sends the same leaf on
    /// every connection, and parsing one (x509-parser, names formatted) costs ~17 000 instructions,
    /// a look-up a few hundred. Bounded: at most [`LEAF_MEMO_ENTRIES`] leaves of at most
    /// [`LEAF_MEMO_MAX_DER`] bytes, about 1 MiB a thread.
    static LEAF_MEMO: std::cell::RefCell<Recent<Vec<u8>, CertificateInfo>> =
        std::cell::RefCell::new(Recent::new(LEAF_MEMO_ENTRIES, LEAF_MEMO_MAX_DER));
}

/// What the leaf `der` says (`chain_len` left 0), from the thread's memo when it was seen lately.
fn leaf_info(der: &[u8]) -> CertificateInfo {
    LEAF_MEMO.with_borrow_mut(|memo| {
        memo.get_or_make(der, || {
            let mut info = CertificateInfo::default();
            leaf_details(der, &mut info);
            info
        })
    })
}

/// TLS <= 1.2: `opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1>`.
fn chain_12(body: &[u8]) -> Option<Vec<&[u8]>> {
    let mut c = Cursor::new(body);
    let mut list = c.vec24()?;
    if !c.is_empty() {
        return None;
    }
    let mut certs = Vec::new();
    while !list.is_empty() {
        certs.push(list.vec24()?.rest());
    }
    Some(certs)
}

/// TLS 1.3: a request context, then entries of certificate data plus per-certificate extensions.
fn chain_13(body: &[u8]) -> Option<Vec<&[u8]>> {
    let mut c = Cursor::new(body);
    c.vec8()?;
    let mut list = c.vec24()?;
    if !c.is_empty() {
        return None;
    }
    let mut certs = Vec::new();
    while !list.is_empty() {
        certs.push(list.vec24()?.rest());
        list.vec16()?;
    }
    Some(certs)
}

fn leaf_details(der: &[u8], info: &mut CertificateInfo) {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return;
    };
    info.subject = cert.subject().to_string();
    info.issuer = cert.issuer().to_string();
    info.self_signed = cert.subject().as_raw() == cert.issuer().as_raw();
    let validity = cert.validity();
    info.not_before = Some(Timestamp::from_secs_nanos(
        validity.not_before.timestamp(),
        0,
    ));
    info.not_after = Some(Timestamp::from_secs_nanos(
        validity.not_after.timestamp(),
        0,
    ));
    info.key_type = Some(key_type(&cert));
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(d) = name {
                info.dns_names.push((*d).to_string());
            }
        }
    }
}

fn key_type(cert: &X509Certificate<'_>) -> KeyType {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    let key = spki.subject_public_key.data.as_ref();
    let (algorithm, bits, curve) = match oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            (KeyAlgorithm::Rsa, rsa_bits(cert), None)
        }
        "1.2.840.10045.2.1" => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            let curve_oid = curve_oid.map(|o| o.to_id_string()).unwrap_or_default();
            let (name, bits) = curve_name(&curve_oid);
            // An uncompressed point is 0x04 || X || Y.
            let bits = bits.or_else(|| u32::try_from(key.len().saturating_sub(1) / 2 * 8).ok());
            let curve = name
                .map(str::to_string)
                .or((!curve_oid.is_empty()).then_some(curve_oid));
            (KeyAlgorithm::Ec, bits, curve)
        }
        "1.3.101.112" => (KeyAlgorithm::Ed25519, Some(256), None),
        "1.3.101.113" => (KeyAlgorithm::Ed448, Some(448), None),
        "1.2.840.10040.4.1" => (KeyAlgorithm::Dsa, integer_bits(key), None),
        "1.2.840.10046.2.1" => (KeyAlgorithm::Dh, integer_bits(key), None),
        _ => (KeyAlgorithm::Other, None, None),
    };
    KeyType {
        algorithm,
        bits,
        curve,
    }
}

fn curve_name(oid: &str) -> (Option<&'static str>, Option<u32>) {
    match oid {
        "1.2.840.10045.3.1.7" => (Some("P-256"), Some(256)),
        "1.3.132.0.34" => (Some("P-384"), Some(384)),
        "1.3.132.0.35" => (Some("P-521"), Some(521)),
        "1.2.840.10045.3.1.1" => (Some("P-192"), Some(192)),
        "1.3.132.0.33" => (Some("P-224"), Some(224)),
        "1.3.132.0.10" => (Some("secp256k1"), Some(256)),
        "1.3.36.3.3.2.8.1.1.7" => (Some("brainpoolP256r1"), Some(256)),
        "1.3.36.3.3.2.8.1.1.11" => (Some("brainpoolP384r1"), Some(384)),
        "1.3.36.3.3.2.8.1.1.13" => (Some("brainpoolP512r1"), Some(512)),
        "1.2.156.10197.1.301" => (Some("SM2"), Some(256)),
        _ => (None, None),
    }
}

/// The RSA modulus size, counted from its first non-zero bit (x509-parser's `key_size` only counts
/// moduli with a leading zero byte).
fn rsa_bits(cert: &X509Certificate<'_>) -> Option<u32> {
    match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => magnitude_bits(rsa.modulus),
        _ => None,
    }
}

/// Bits of a big-endian unsigned magnitude, ignoring leading zero bytes.
fn magnitude_bits(bytes: &[u8]) -> Option<u32> {
    let start = bytes.iter().position(|&b| b != 0)?;
    let rest = bytes.get(start..)?;
    let first = rest.first()?;
    let len = u32::try_from(rest.len()).ok()?;
    Some((len - 1) * 8 + (8 - first.leading_zeros()))
}

/// Bits of a DER INTEGER (the DSA / DH public value), rounded up to a byte.
fn integer_bits(der: &[u8]) -> Option<u32> {
    let (_, int) = x509_parser::der_parser::der::parse_der_integer(der).ok()?;
    let bytes = int.as_slice().ok()?;
    magnitude_bits(bytes).map(|b| b.div_ceil(8) * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude() {
        assert_eq!(magnitude_bits(&[0x00, 0x80, 0x00]), Some(16));
        assert_eq!(magnitude_bits(&[0x01, 0x00]), Some(9));
        assert_eq!(magnitude_bits(&[0x00]), None);
    }

    #[test]
    fn layouts() {
        // Two garbage "certificates" in the TLS 1.2 layout.
        let body = [0, 0, 10, 0, 0, 2, 0xde, 0xad, 0, 0, 2, 0xbe, 0xef];
        let info = parse_certificate(&body, None).unwrap_or_else(|| panic!("layout"));
        assert_eq!(info.chain_len, 2);
        assert!(info.subject.is_empty() && info.key_type.is_none());
        // TLS 1.3 layout: empty context, one entry with empty extensions.
        let body13 = [0, 0, 0, 7, 0, 0, 2, 0xde, 0xad, 0, 0];
        assert_eq!(
            parse_certificate(&body13, None).map(|i| i.chain_len),
            Some(1)
        );
        assert_eq!(
            parse_certificate(&body13, Some(true)).map(|i| i.chain_len),
            Some(1)
        );
        assert_eq!(parse_certificate(&body13, Some(false)), None);
        // Empty chain.
        assert_eq!(
            parse_certificate(&[0, 0, 0], Some(false)).map(|i| i.chain_len),
            Some(0)
        );
        for n in 0..body.len() {
            let _ = parse_certificate(body.get(..n).unwrap_or_default(), None);
        }
    }

    /// A TLS 1.2 Certificate body carrying `leaves` as its chain.
    fn chain(leaves: &[&[u8]]) -> Vec<u8> {
        let u24 = |n: usize| [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let mut list = Vec::new();
        for leaf in leaves {
            list.extend_from_slice(&u24(leaf.len()));
            list.extend_from_slice(leaf);
        }
        let mut body = u24(list.len()).to_vec();
        body.extend_from_slice(&list);
        body
    }

    #[test]
    fn a_remembered_leaf_says_what_a_fresh_parse_says() {
        let ec: &[u8] = include_bytes!("testdata/ec_cert.der");
        let ed: &[u8] = include_bytes!("testdata/ed_cert.der");
        let fresh = |der: &[u8]| {
            let mut info = CertificateInfo::default();
            leaf_details(der, &mut info);
            info
        };
        assert!(!fresh(ec).subject.is_empty() && fresh(ec).key_type.is_some());
        for round in 0..3 {
            for (leaf, other) in [(ec, ed), (ed, ec)] {
                for len in 1..=3 {
                    let mut leaves = vec![leaf];
                    leaves.resize(len, other);
                    let info = parse_certificate(&chain(&leaves), Some(false))
                        .unwrap_or_else(|| panic!("a chain"));
                    let expected = CertificateInfo {
                        chain_len: len,
                        ..fresh(leaf)
                    };
                    assert_eq!(info, expected, "round {round}, chain of {len}");
                }
            }
        }
        LEAF_MEMO.with_borrow(|m| assert!(m.contains_key(ec) && m.contains_key(ed)));
    }

    #[test]
    fn the_leaf_memo_stays_bounded() {
        let ec: &[u8] = include_bytes!("testdata/ec_cert.der");
        // Distinct leaves (the same certificate with four more bytes after it each time: distinct
        // keys), then one too long to be kept.
        for i in 0..LEAF_MEMO_ENTRIES * 3 {
            let mut leaf = ec.to_vec();
            leaf.extend_from_slice(&(i as u32).to_be_bytes());
            let _ = parse_certificate(&chain(&[&leaf]), Some(false));
            LEAF_MEMO.with_borrow(|m| assert!(m.len() <= LEAF_MEMO_ENTRIES));
        }
        let long = vec![0x30; LEAF_MEMO_MAX_DER + 1];
        let _ = parse_certificate(&chain(&[&long]), Some(false));
        LEAF_MEMO.with_borrow(|m| assert!(!m.contains_key(long.as_slice())));
    }
}
