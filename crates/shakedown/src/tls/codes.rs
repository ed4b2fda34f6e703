//! Open newtypes for the TLS wire codes the handshake analyser reports: protocol versions, cipher suites,
//! named groups, signature schemes and alert codes. Unknown values are kept and print in hex; nothing here
//! is ever an error. These are the vocabulary of [`crate::tls::TlsEvent`].

use std::fmt;

use tls_parser::{TlsCipherAu, TlsCipherKx, TlsCipherSuite};

/// True for the RFC 8701 GREASE values `0x?a?a` whose two bytes are equal.
fn is_grease16(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// A protocol version as carried on the wire (RFC 8446 §4.2.1, RFC 5246 §6.2.1), including SSL 2.0
/// (`0x0002`), TLS 1.3 drafts (`0x7fNN`), Google's experiments (`0x7eNN`) and Facebook's drafts
/// (`0xfbNN`).
///
/// ```
/// use shakedown::tls::TlsVersion;
/// assert_eq!(TlsVersion(0x0303).to_string(), "TLS 1.2");
/// assert_eq!(TlsVersion(0x7f1c).to_string(), "TLS 1.3 draft 28");
/// assert!(TlsVersion(0x7f1c).is_tls13_or_draft());
/// assert_eq!(TlsVersion(0x7f1c).rank(), TlsVersion::TLS13.rank());
/// assert!(TlsVersion(0x1a1a).is_grease());
/// assert_eq!(TlsVersion(0x1234).to_string(), "0x1234");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TlsVersion(pub u16);

impl TlsVersion {
    /// SSL 2.0 as written in an SSLv2 ClientHello.
    pub const SSL20: TlsVersion = TlsVersion(0x0002);
    /// SSL 3.0.
    pub const SSL30: TlsVersion = TlsVersion(0x0300);
    /// TLS 1.0.
    pub const TLS10: TlsVersion = TlsVersion(0x0301);
    /// TLS 1.1.
    pub const TLS11: TlsVersion = TlsVersion(0x0302);
    /// TLS 1.2.
    pub const TLS12: TlsVersion = TlsVersion(0x0303);
    /// TLS 1.3.
    pub const TLS13: TlsVersion = TlsVersion(0x0304);

    /// An RFC 8701 GREASE value (`0x0a0a`, `0x1a1a`, ... `0xfafa`).
    pub fn is_grease(self) -> bool {
        is_grease16(self.0)
    }

    /// TLS 1.3 or one of its drafts / experimental code points.
    pub fn is_tls13_or_draft(self) -> bool {
        self.0 == 0x0304 || matches!(self.0 >> 8, 0x7f | 0x7e | 0xfb)
    }

    /// An ordering key: SSL 2.0 < SSL 3.0 < TLS 1.0 < ... < TLS 1.3, drafts ranking as TLS 1.3, GREASE
    /// as 0. Other unknown values rank by their number, so they compare above TLS 1.3.
    pub fn rank(self) -> u16 {
        if self.is_grease() {
            0
        } else if self.0 == 0x0002 {
            0x0200
        } else if self.is_tls13_or_draft() {
            0x0304
        } else {
            self.0
        }
    }

    /// The name, e.g. `"TLS 1.2"`, or `None` for drafts and unknown values (which Display spells out).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0002 => "SSL 2.0",
            0x0300 => "SSL 3.0",
            0x0301 => "TLS 1.0",
            0x0302 => "TLS 1.1",
            0x0303 => "TLS 1.2",
            0x0304 => "TLS 1.3",
            _ => return None,
        })
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.name() {
            return f.write_str(n);
        }
        let low = self.0 & 0xff;
        match self.0 >> 8 {
            0x7f => write!(f, "TLS 1.3 draft {low}"),
            0x7e => write!(f, "TLS 1.3 experiment {low}"),
            0xfb => write!(f, "TLS 1.3 draft {low} (Facebook)"),
            _ => write!(f, "{:#06x}", self.0),
        }
    }
}

/// How a cipher suite authenticates the server (from tls-parser's IANA-derived table).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteAuth {
    /// RSA certificate.
    Rsa,
    /// ECDSA certificate.
    Ecdsa,
    /// DSA certificate.
    Dss,
    /// Pre-shared key.
    Psk,
    /// No authentication (`anon` and `NULL` suites).
    Anon,
    /// TLS 1.3 suites: authentication is negotiated separately.
    Any,
    /// Known suite with another method (SRP, Kerberos, ECCPWD).
    Other,
    /// Suite not in the table.
    Unknown,
}

impl SuiteAuth {
    /// Its name, lower case as IANA's suite names spell it: `rsa`, `ecdsa`, `dss`, `psk`, `anon`,
    /// `any` (TLS 1.3), `other`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteAuth::Rsa => "rsa",
            SuiteAuth::Ecdsa => "ecdsa",
            SuiteAuth::Dss => "dss",
            SuiteAuth::Psk => "psk",
            SuiteAuth::Anon => "anon",
            SuiteAuth::Any => "any",
            SuiteAuth::Other => "other",
            SuiteAuth::Unknown => "unknown",
        }
    }
}

display_as_str!(SuiteAuth);

/// How a cipher suite exchanges keys (from tls-parser's IANA-derived table).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteKx {
    /// RSA key transport.
    Rsa,
    /// Static Diffie-Hellman.
    Dh,
    /// Ephemeral Diffie-Hellman (including `DH_anon`).
    Dhe,
    /// Static elliptic-curve Diffie-Hellman.
    Ecdh,
    /// Ephemeral elliptic-curve Diffie-Hellman (including `ECDH_anon`).
    Ecdhe,
    /// Pre-shared key only.
    Psk,
    /// TLS 1.3 suites: key exchange is negotiated separately.
    Any,
    /// No key exchange (`TLS_NULL_WITH_NULL_NULL`).
    Null,
    /// Known suite with another method (SRP, Kerberos, ECCPWD).
    Other,
    /// Suite not in the table.
    Unknown,
}

impl SuiteKx {
    /// Its name, lower case as IANA's suite names spell it: `rsa`, `dh`, `dhe`, `ecdh`, `ecdhe`,
    /// `psk`, `any` (TLS 1.3), `null`, `other`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteKx::Rsa => "rsa",
            SuiteKx::Dh => "dh",
            SuiteKx::Dhe => "dhe",
            SuiteKx::Ecdh => "ecdh",
            SuiteKx::Ecdhe => "ecdhe",
            SuiteKx::Psk => "psk",
            SuiteKx::Any => "any",
            SuiteKx::Null => "null",
            SuiteKx::Other => "other",
            SuiteKx::Unknown => "unknown",
        }
    }
}

display_as_str!(SuiteKx);

/// A cipher suite code (RFC 8446 §B.4, RFC 5246 §A.5; IANA "TLS Cipher Suites").
///
/// ```
/// use shakedown::tls::{CipherSuite, SuiteAuth, SuiteKx};
/// let s = CipherSuite(0xc02f);
/// assert_eq!(s.name(), Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
/// assert_eq!((s.kx(), s.auth()), (SuiteKx::Ecdhe, SuiteAuth::Rsa));
/// assert_eq!(CipherSuite(0x1301).auth(), SuiteAuth::Any);
/// assert!(CipherSuite(0x00ff).is_signalling());
/// assert_eq!(CipherSuite(0xfefe).to_string(), "0xfefe");
/// ```
/// The default, 0x0000 (TLS_NULL_WITH_NULL_NULL), is the suite every connection starts in (RFC 5246 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    fn entry(self) -> Option<&'static TlsCipherSuite> {
        TlsCipherSuite::from_id(self.0)
    }

    /// The IANA name, e.g. `TLS_AES_128_GCM_SHA256`, for the two signalling values too.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0x00ff => Some("TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
            0x5600 => Some("TLS_FALLBACK_SCSV"),
            _ => self.entry().map(|e| e.name),
        }
    }

    /// An RFC 8701 GREASE value.
    pub fn is_grease(self) -> bool {
        is_grease16(self.0)
    }

    /// A signalling value rather than a suite: `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746) or
    /// `TLS_FALLBACK_SCSV` (RFC 7507).
    pub fn is_signalling(self) -> bool {
        matches!(self.0, 0x00ff | 0x5600)
    }

    /// A TLS 1.3 suite (`TLS_AES_128_GCM_SHA256` and friends).
    pub fn is_tls13(self) -> bool {
        self.entry().is_some_and(|e| e.kx == TlsCipherKx::Tls13)
    }

    /// The server authentication method.
    pub fn auth(self) -> SuiteAuth {
        let Some(e) = self.entry() else {
            return SuiteAuth::Unknown;
        };
        match e.au {
            TlsCipherAu::Rsa | TlsCipherAu::Srp_Rsa => SuiteAuth::Rsa,
            TlsCipherAu::Ecdsa => SuiteAuth::Ecdsa,
            TlsCipherAu::Dss | TlsCipherAu::Srp_Dss => SuiteAuth::Dss,
            // The table writes TLS_PSK_DHE_* as kx PSK / au DHE: the authentication is the PSK.
            TlsCipherAu::Psk | TlsCipherAu::Dhe => SuiteAuth::Psk,
            TlsCipherAu::Null => SuiteAuth::Anon,
            TlsCipherAu::Tls13 => SuiteAuth::Any,
            TlsCipherAu::Krb5 | TlsCipherAu::Srp | TlsCipherAu::Eccpwd => SuiteAuth::Other,
        }
    }

    /// The key exchange method.
    pub fn kx(self) -> SuiteKx {
        let Some(e) = self.entry() else {
            return SuiteKx::Unknown;
        };
        let anon = e.au == TlsCipherAu::Null;
        match e.kx {
            TlsCipherKx::Rsa => SuiteKx::Rsa,
            // DH_anon / ECDH_anon are ephemeral (they send a ServerKeyExchange), the table says DH / ECDH.
            TlsCipherKx::Dh if anon => SuiteKx::Dhe,
            TlsCipherKx::Dh => SuiteKx::Dh,
            TlsCipherKx::Dhe => SuiteKx::Dhe,
            TlsCipherKx::Ecdh if anon => SuiteKx::Ecdhe,
            TlsCipherKx::Ecdh => SuiteKx::Ecdh,
            TlsCipherKx::Ecdhe | TlsCipherKx::Aecdh => SuiteKx::Ecdhe,
            TlsCipherKx::Psk if e.au == TlsCipherAu::Dhe => SuiteKx::Dhe,
            TlsCipherKx::Psk => SuiteKx::Psk,
            TlsCipherKx::Tls13 => SuiteKx::Any,
            TlsCipherKx::Null => SuiteKx::Null,
            TlsCipherKx::Krb5 | TlsCipherKx::Srp | TlsCipherKx::Eccpwd => SuiteKx::Other,
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// A key exchange group (RFC 8446 §4.2.7, RFC 8422 §5.1.1, RFC 7919; IANA "TLS Supported Groups").
///
/// ```
/// use shakedown::tls::NamedGroup;
/// assert_eq!(NamedGroup(0x001d).to_string(), "x25519");
/// assert_eq!(NamedGroup(0x11ec).to_string(), "X25519MLKEM768");
/// assert_eq!(NamedGroup(0x4242).to_string(), "0x4242");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamedGroup(pub u16);

impl NamedGroup {
    /// An RFC 8701 GREASE value.
    pub fn is_grease(self) -> bool {
        is_grease16(self.0)
    }

    /// The IANA name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "sect163k1",
            2 => "sect163r1",
            3 => "sect163r2",
            4 => "sect193r1",
            5 => "sect193r2",
            6 => "sect233k1",
            7 => "sect233r1",
            8 => "sect239k1",
            9 => "sect283k1",
            10 => "sect283r1",
            11 => "sect409k1",
            12 => "sect409r1",
            13 => "sect571k1",
            14 => "sect571r1",
            15 => "secp160k1",
            16 => "secp160r1",
            17 => "secp160r2",
            18 => "secp192k1",
            19 => "secp192r1",
            20 => "secp224k1",
            21 => "secp224r1",
            22 => "secp256k1",
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            26 => "brainpoolP256r1",
            27 => "brainpoolP384r1",
            28 => "brainpoolP512r1",
            29 => "x25519",
            30 => "x448",
            31 => "brainpoolP256r1tls13",
            32 => "brainpoolP384r1tls13",
            33 => "brainpoolP512r1tls13",
            34 => "GC256A",
            35 => "GC256B",
            36 => "GC256C",
            37 => "GC256D",
            38 => "GC512A",
            39 => "GC512B",
            40 => "GC512C",
            41 => "curveSM2",
            0x0100 => "ffdhe2048",
            0x0101 => "ffdhe3072",
            0x0102 => "ffdhe4096",
            0x0103 => "ffdhe6144",
            0x0104 => "ffdhe8192",
            0x0200 => "MLKEM512",
            0x0201 => "MLKEM768",
            0x0202 => "MLKEM1024",
            0x11eb => "SecP256r1MLKEM768",
            0x11ec => "X25519MLKEM768",
            0x11ed => "SecP384r1MLKEM1024",
            0x6399 => "X25519Kyber768Draft00",
            0x639a => "SecP256r1Kyber768Draft00",
            0xff01 => "arbitrary_explicit_prime_curves",
            0xff02 => "arbitrary_explicit_char2_curves",
            _ => return None,
        })
    }
}

impl fmt::Display for NamedGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// A signature scheme (RFC 8446 §4.2.3) or, for TLS 1.2, a hash/signature pair (RFC 5246 §7.4.1.4.1).
///
/// ```
/// use shakedown::tls::SignatureScheme;
/// assert_eq!(SignatureScheme(0x0804).to_string(), "rsa_pss_rsae_sha256");
/// assert_eq!(SignatureScheme(0x0403).to_string(), "ecdsa_secp256r1_sha256");
/// assert_eq!(SignatureScheme(0xabcd).to_string(), "0xabcd");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// An RFC 8701 GREASE value.
    pub fn is_grease(self) -> bool {
        is_grease16(self.0)
    }

    /// The IANA name (TLS 1.2 pairs without a TLS 1.3 name are written `sig_hash`, e.g. `dsa_sha256`).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0101 => "rsa_md5",
            0x0201 => "rsa_pkcs1_sha1",
            0x0202 => "dsa_sha1",
            0x0203 => "ecdsa_sha1",
            0x0301 => "rsa_sha224",
            0x0302 => "dsa_sha224",
            0x0303 => "ecdsa_sha224",
            0x0401 => "rsa_pkcs1_sha256",
            0x0402 => "dsa_sha256",
            0x0403 => "ecdsa_secp256r1_sha256",
            0x0420 => "rsa_pkcs1_sha256_legacy",
            0x0501 => "rsa_pkcs1_sha384",
            0x0502 => "dsa_sha384",
            0x0503 => "ecdsa_secp384r1_sha384",
            0x0520 => "rsa_pkcs1_sha384_legacy",
            0x0601 => "rsa_pkcs1_sha512",
            0x0602 => "dsa_sha512",
            0x0603 => "ecdsa_secp521r1_sha512",
            0x0620 => "rsa_pkcs1_sha512_legacy",
            0x0704 => "eccsi_sha256",
            0x0708 => "sm2sig_sm3",
            0x0804 => "rsa_pss_rsae_sha256",
            0x0805 => "rsa_pss_rsae_sha384",
            0x0806 => "rsa_pss_rsae_sha512",
            0x0807 => "ed25519",
            0x0808 => "ed448",
            0x0809 => "rsa_pss_pss_sha256",
            0x080a => "rsa_pss_pss_sha384",
            0x080b => "rsa_pss_pss_sha512",
            0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
            0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
            0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
            0x0904 => "mldsa44",
            0x0905 => "mldsa65",
            0x0906 => "mldsa87",
            _ => return None,
        })
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// An alert's level (RFC 5246 §7.2; RFC 8446 §6 keeps it only for compatibility).
///
/// ```
/// use shakedown::tls::AlertLevel;
/// assert_eq!(AlertLevel(2).to_string(), "fatal");
/// assert_eq!(AlertLevel(9).to_string(), "0x09");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertLevel(pub u8);

impl AlertLevel {
    /// `warning` (1).
    pub const WARNING: AlertLevel = AlertLevel(1);
    /// `fatal` (2).
    pub const FATAL: AlertLevel = AlertLevel(2);

    /// `"warning"`, `"fatal"` or `None`.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("warning"),
            2 => Some("fatal"),
            _ => None,
        }
    }
}

impl fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// An alert's description (RFC 8446 §6, RFC 5246 §7.2, RFC 6066, RFC 7301, RFC 8446 ECH draft).
///
/// ```
/// use shakedown::tls::AlertDescription;
/// assert_eq!(AlertDescription(48).to_string(), "unknown_ca");
/// assert_eq!(AlertDescription(0xee).to_string(), "0xee");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// `close_notify` (0).
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    /// `handshake_failure` (40).
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    /// `bad_certificate` (42).
    pub const BAD_CERTIFICATE: AlertDescription = AlertDescription(42);
    /// `unsupported_certificate` (43).
    pub const UNSUPPORTED_CERTIFICATE: AlertDescription = AlertDescription(43);
    /// `certificate_revoked` (44).
    pub const CERTIFICATE_REVOKED: AlertDescription = AlertDescription(44);
    /// `certificate_expired` (45).
    pub const CERTIFICATE_EXPIRED: AlertDescription = AlertDescription(45);
    /// `certificate_unknown` (46).
    pub const CERTIFICATE_UNKNOWN: AlertDescription = AlertDescription(46);
    /// `unknown_ca` (48).
    pub const UNKNOWN_CA: AlertDescription = AlertDescription(48);
    /// `protocol_version` (70).
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    /// `insufficient_security` (71).
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);
    /// `user_canceled` (90).
    pub const USER_CANCELED: AlertDescription = AlertDescription(90);
    /// `unrecognized_name` (112, RFC 6066 §3).
    pub const UNRECOGNIZED_NAME: AlertDescription = AlertDescription(112);
    /// `certificate_required` (116, RFC 8446 §6.2).
    pub const CERTIFICATE_REQUIRED: AlertDescription = AlertDescription(116);

    /// Whether the alert is about a certificate: `bad_certificate`, `unsupported_certificate`,
    /// `certificate_revoked`, `certificate_expired`, `certificate_unknown`, `unknown_ca`.
    pub fn is_certificate_problem(self) -> bool {
        matches!(self.0, 42..=46 | 48)
    }

    /// The RFC's snake_case name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            21 => "decryption_failed",
            22 => "record_overflow",
            30 => "decompression_failure",
            40 => "handshake_failure",
            41 => "no_certificate",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            60 => "export_restriction",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            100 => "no_renegotiation",
            109 => "missing_extension",
            110 => "unsupported_extension",
            111 => "certificate_unobtainable",
            112 => "unrecognized_name",
            113 => "bad_certificate_status_response",
            114 => "bad_certificate_hash_value",
            115 => "unknown_psk_identity",
            116 => "certificate_required",
            120 => "no_application_protocol",
            121 => "ech_required",
            _ => return None,
        })
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// Record content types (RFC 8446 §5.1).
pub(crate) mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
pub(crate) mod hs {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const HELLO_RETRY_REQUEST_DRAFT: u8 = 6;
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
    pub const CERTIFICATE_STATUS: u8 = 22;
    pub const KEY_UPDATE: u8 = 24;

    /// The RFC's name of a handshake message type.
    pub fn name(msg_type: u8) -> Option<&'static str> {
        Some(match msg_type {
            0 => "HelloRequest",
            CLIENT_HELLO => "ClientHello",
            SERVER_HELLO => "ServerHello",
            NEW_SESSION_TICKET => "NewSessionTicket",
            ENCRYPTED_EXTENSIONS => "EncryptedExtensions",
            CERTIFICATE => "Certificate",
            SERVER_KEY_EXCHANGE => "ServerKeyExchange",
            CERTIFICATE_REQUEST => "CertificateRequest",
            SERVER_HELLO_DONE => "ServerHelloDone",
            CERTIFICATE_VERIFY => "CertificateVerify",
            CLIENT_KEY_EXCHANGE => "ClientKeyExchange",
            FINISHED => "Finished",
            CERTIFICATE_STATUS => "CertificateStatus",
            KEY_UPDATE => "KeyUpdate",
            _ => return None,
        })
    }
}

/// Extension types used by the hello parsers (IANA "TLS ExtensionType Values").
pub(crate) mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const KEY_SHARE: u16 = 51;
    /// The draft-22-and-earlier key_share code point.
    pub const KEY_SHARE_OLD: u16 = 40;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        for hi in 0..16u16 {
            let v = (hi << 12) | 0x0a00 | (hi << 4) | 0x0a;
            assert!(TlsVersion(v).is_grease(), "{v:#x}");
            assert!(CipherSuite(v).is_grease());
            assert!(NamedGroup(v).is_grease());
        }
        assert!(!CipherSuite(0x0a1a).is_grease());
        assert!(!TlsVersion(0x0303).is_grease());
    }

    #[test]
    fn version_names_and_rank() {
        assert_eq!(TlsVersion(0x0002).to_string(), "SSL 2.0");
        assert_eq!(TlsVersion(0x0300).to_string(), "SSL 3.0");
        assert_eq!(TlsVersion(0x7e01).to_string(), "TLS 1.3 experiment 1");
        assert_eq!(
            TlsVersion(0xfb1a).to_string(),
            "TLS 1.3 draft 26 (Facebook)"
        );
        assert!(TlsVersion(0x0002).rank() < TlsVersion(0x0300).rank());
        assert!(TlsVersion(0x0303).rank() < TlsVersion(0x7f10).rank());
        assert_eq!(TlsVersion(0x2a2a).rank(), 0);
        assert!(!TlsVersion(0x0303).is_tls13_or_draft());
    }

    #[test]
    fn suite_classes() {
        assert_eq!(CipherSuite(0x002f).kx(), SuiteKx::Rsa);
        assert_eq!(CipherSuite(0x002f).auth(), SuiteAuth::Rsa);
        assert_eq!(CipherSuite(0xc02b).auth(), SuiteAuth::Ecdsa);
        assert_eq!(CipherSuite(0x0034).kx(), SuiteKx::Dhe);
        assert_eq!(CipherSuite(0x0034).auth(), SuiteAuth::Anon);
        assert_eq!(CipherSuite(0x0032).auth(), SuiteAuth::Dss);
        assert_eq!(CipherSuite(0x1302).kx(), SuiteKx::Any);
        assert!(CipherSuite(0x1302).is_tls13());
        assert_eq!(CipherSuite(0x5600).name(), Some("TLS_FALLBACK_SCSV"));
        assert_eq!(CipherSuite(0xfefe).auth(), SuiteAuth::Unknown);
        assert_eq!(CipherSuite(0xfefe).kx(), SuiteKx::Unknown);
    }

    #[test]
    fn alert_names() {
        assert_eq!(AlertDescription(0).to_string(), "close_notify");
        assert_eq!(AlertDescription(120).to_string(), "no_application_protocol");
        assert_eq!(AlertLevel(1).to_string(), "warning");
    }
}
