//! Key schedules: from the secrets a key log gives to the keys and IVs that protect records.
//!
//! - TLS 1.3 (RFC 8446 §7.1, §7.2, §7.3): a traffic secret (`CLIENT_HANDSHAKE_TRAFFIC_SECRET`,
//!   `SERVER_TRAFFIC_SECRET_0`, ...) gives `key` and `iv` by HKDF-Expand-Label; a KeyUpdate moves
//!   to the next secret by `"traffic upd"`.
//! - TLS 1.2 and older (RFC 5246 §5 and §6.3, RFC 2246/4346 §5): the `CLIENT_RANDOM` master secret
//!   and both hello randoms give the key block, cut into MAC keys, cipher keys and IVs per the suite
//!   table [`TLS12_SUITES`].
//!
//! Everything here is pure computation over caller-given bytes; wrong lengths and suites we cannot
//! decrypt are [`KeyError`]s, never panics.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use crate::side::Side;
use crate::tls::codes::{CipherSuite, TlsVersion};

/// Why keys could not be derived, or a decryptor not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The cipher suite is not one we can decrypt (not in the suite tables, or a cipher such as
    /// RC4, 3DES, Camellia, ARIA or NULL that this crate does not carry).
    #[error("cipher suite {suite} is not supported for decryption")]
    UnsupportedSuite {
        /// The negotiated suite.
        suite: CipherSuite,
    },
    /// The protocol version has no key schedule here (SSL 3.0, DTLS, unknown values), or TLS 1.3
    /// was given to the TLS 1.2 schedule.
    #[error("protocol version {version} is not supported for decryption")]
    UnsupportedVersion {
        /// The negotiated version.
        version: TlsVersion,
    },
    /// The suite cannot be used with the version (AEAD suites need TLS 1.2, RFC 5246 §6.2.3.3).
    #[error("cipher suite {suite} cannot be used with {version}")]
    SuiteNotInVersion {
        /// The negotiated suite.
        suite: CipherSuite,
        /// The negotiated version.
        version: TlsVersion,
    },
    /// A secret, key or IV has the wrong length (a traffic secret is as long as the suite's hash,
    /// a master secret 48 bytes).
    #[error("{what} is {have} bytes, need {need}")]
    Length {
        /// Which input.
        what: &'static str,
        /// The length required.
        need: usize,
        /// The length given.
        have: usize,
    },
    /// An HKDF or PRF output longer than the function can give (RFC 5869 §2.3: 255 hash lengths;
    /// HkdfLabel's 16-bit length), or a label/context over 255 bytes.
    #[error("key derivation asked for {len} bytes, more than the function allows")]
    OutputTooLong {
        /// The length asked for.
        len: usize,
    },
}

/// A hash used by a TLS 1.3 suite's HKDF or by the TLS 1.2 PRF (RFC 8446 Appendix B.4, RFC 5246 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// An AEAD record cipher (RFC 5116; TLS 1.3 RFC 8446 §5.2, TLS 1.2 RFC 5288, RFC 6655, RFC 7905).
/// All take a 12-byte nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadAlg {
    /// AES-128-GCM, 16-byte tag.
    Aes128Gcm,
    /// AES-256-GCM, 16-byte tag.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439), 16-byte tag.
    ChaCha20Poly1305,
    /// AES-128-CCM, 16-byte tag.
    Aes128Ccm,
    /// AES-128-CCM with an 8-byte tag (`_CCM_8`).
    Aes128Ccm8,
    /// AES-256-CCM, 16-byte tag.
    Aes256Ccm,
    /// AES-256-CCM with an 8-byte tag (`_CCM_8`).
    Aes256Ccm8,
}

impl AeadAlg {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            AeadAlg::Aes128Gcm | AeadAlg::Aes128Ccm | AeadAlg::Aes128Ccm8 => 16,
            AeadAlg::Aes256Gcm
            | AeadAlg::ChaCha20Poly1305
            | AeadAlg::Aes256Ccm
            | AeadAlg::Aes256Ccm8 => 32,
        }
    }

    /// Authentication tag length in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            AeadAlg::Aes128Ccm8 | AeadAlg::Aes256Ccm8 => 8,
            _ => 16,
        }
    }
}

/// Nonce length of every AEAD used by TLS (RFC 8446 §5.3: `iv_length` is max(8, N_MIN) = 12).
pub const AEAD_NONCE_LEN: usize = 12;

// ---------------------------------------------------------------------------------------------
// TLS 1.3
// ---------------------------------------------------------------------------------------------

/// A TLS 1.3 cipher suite: its AEAD and its HKDF hash (RFC 8446 Appendix B.4).
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::decrypt::schedule::{AeadAlg, HashAlg, Tls13Suite};
/// use shakedown::tls::CipherSuite;
/// let s = Tls13Suite::from_id(CipherSuite(0x1302)).unwrap();
/// assert_eq!((s.aead, s.hash), (AeadAlg::Aes256Gcm, HashAlg::Sha384));
/// assert!(Tls13Suite::from_id(CipherSuite(0xc02f)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tls13Suite {
    /// The IANA value.
    pub suite: CipherSuite,
    /// The record protection.
    pub aead: AeadAlg,
    /// The hash of the key schedule; traffic secrets are this long.
    pub hash: HashAlg,
}

impl Tls13Suite {
    /// The suite for an IANA value: `TLS_AES_128_GCM_SHA256` (0x1301), `TLS_AES_256_GCM_SHA384`
    /// (0x1302), `TLS_CHACHA20_POLY1305_SHA256` (0x1303), `TLS_AES_128_CCM_SHA256` (0x1304),
    /// `TLS_AES_128_CCM_8_SHA256` (0x1305).
    pub fn from_id(suite: CipherSuite) -> Result<Tls13Suite, KeyError> {
        let (aead, hash) = match suite.0 {
            0x1301 => (AeadAlg::Aes128Gcm, HashAlg::Sha256),
            0x1302 => (AeadAlg::Aes256Gcm, HashAlg::Sha384),
            0x1303 => (AeadAlg::ChaCha20Poly1305, HashAlg::Sha256),
            0x1304 => (AeadAlg::Aes128Ccm, HashAlg::Sha256),
            0x1305 => (AeadAlg::Aes128Ccm8, HashAlg::Sha256),
            _ => return Err(KeyError::UnsupportedSuite { suite }),
        };
        Ok(Tls13Suite { suite, aead, hash })
    }
}

/// A record key and IV (RFC 8446 §7.3 `[sender]_write_key`, `[sender]_write_iv`).
#[derive(Clone, PartialEq, Eq)]
pub struct TrafficKeys {
    /// The AEAD key, [`AeadAlg::key_len`] bytes.
    pub key: Vec<u8>,
    /// The per-record nonce base.
    pub iv: [u8; AEAD_NONCE_LEN],
}

impl fmt::Debug for TrafficKeys {
    // Keys stay out of logs and panic messages; their lengths are what a reader needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrafficKeys")
            .field("key_len", &self.key.len())
            .finish_non_exhaustive()
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1): HKDF-Expand(secret, HkdfLabel, out.len()) with
/// `HkdfLabel = uint16 length || opaque label<7..255> = "tls13 " + label || opaque context<0..255>`.
///
/// `secret` must be exactly one hash long: every TLS 1.3 secret is, and a different length means a
/// key log line for another suite.
pub fn hkdf_expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), KeyError> {
    const PREFIX: &[u8] = b"tls13 ";
    if secret.len() != hash.output_len() {
        return Err(KeyError::Length {
            what: "traffic secret",
            need: hash.output_len(),
            have: secret.len(),
        });
    }
    let too_long = KeyError::OutputTooLong { len: out.len() };
    let out_len = u16::try_from(out.len()).map_err(|_| too_long.clone())?;
    let label_len = u8::try_from(PREFIX.len() + label.len()).map_err(|_| too_long.clone())?;
    let context_len = u8::try_from(context.len()).map_err(|_| too_long.clone())?;
    let mut info = Vec::with_capacity(4 + PREFIX.len() + label.len() + context.len());
    info.extend_from_slice(&out_len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(PREFIX);
    info.extend_from_slice(label);
    info.push(context_len);
    info.extend_from_slice(context);
    // The secret is already a pseudorandom key (the output of Derive-Secret), so HKDF starts at
    // Expand; from_prk only refuses keys shorter than the hash, which the check above rules out.
    let expanded = match hash {
        HashAlg::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .map_err(|_| too_long.clone())?
            .expand(&info, out),
        HashAlg::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .map_err(|_| too_long.clone())?
            .expand(&info, out),
    };
    expanded.map_err(|_| too_long)
}

/// The record key and IV for a traffic secret (RFC 8446 §7.3): `HKDF-Expand-Label(secret, "key",
/// "", key_length)` and `HKDF-Expand-Label(secret, "iv", "", 12)`.
pub fn tls13_traffic_keys(suite: &Tls13Suite, secret: &[u8]) -> Result<TrafficKeys, KeyError> {
    let mut key = vec![0; suite.aead.key_len()];
    hkdf_expand_label(suite.hash, secret, b"key", b"", &mut key)?;
    let mut iv = [0; AEAD_NONCE_LEN];
    hkdf_expand_label(suite.hash, secret, b"iv", b"", &mut iv)?;
    Ok(TrafficKeys { key, iv })
}

/// The traffic secret after a KeyUpdate (RFC 8446 §7.2):
/// `HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)`.
pub fn tls13_next_secret(suite: &Tls13Suite, secret: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut next = vec![0; suite.hash.output_len()];
    hkdf_expand_label(suite.hash, secret, b"traffic upd", b"", &mut next)?;
    Ok(next)
}

// ---------------------------------------------------------------------------------------------
// TLS 1.2 and older
// ---------------------------------------------------------------------------------------------

/// A pseudorandom function of TLS 1.2 and older.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prf {
    /// TLS 1.0 and 1.1 (RFC 2246 §5, RFC 4346 §5): `P_MD5(S1, ...) XOR P_SHA-1(S2, ...)` over the
    /// two halves of the secret.
    Tls10,
    /// TLS 1.2 `P_SHA256` (RFC 5246 §5), the default.
    Sha256,
    /// TLS 1.2 `P_SHA384`, for suites that name SHA-384 (RFC 5288 §3, RFC 5289 §3.2).
    Sha384,
}

/// `P_hash(secret, seed)` (RFC 5246 §5), XORed into `out` so that the TLS 1.0 PRF can fold its two
/// halves into one buffer: `A(0) = seed`, `A(i) = HMAC(secret, A(i-1))`, output
/// `HMAC(secret, A(1) + seed) || HMAC(secret, A(2) + seed) || ...`.
fn p_hash_xor<M>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) -> Result<(), KeyError>
where
    M: Mac + hmac::digest::KeyInit + Clone,
{
    // HMAC takes keys of any length, so this never fails; the error keeps the path panic-free.
    let keyed =
        <M as hmac::digest::KeyInit>::new_from_slice(secret).map_err(|_| KeyError::Length {
            what: "PRF secret",
            need: 0,
            have: secret.len(),
        })?;
    let mut a = {
        let mut m = keyed.clone();
        for part in seed {
            m.update(part);
        }
        m.finalize().into_bytes()
    };
    let mut filled = 0;
    while filled < out.len() {
        let mut m = keyed.clone();
        m.update(&a);
        for part in seed {
            m.update(part);
        }
        let block = m.finalize().into_bytes();
        for (o, b) in out[filled..].iter_mut().zip(block.iter()) {
            *o ^= b;
        }
        filled += block.len();
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
    Ok(())
}

/// `PRF(secret, label, seed)` filling `out` (RFC 5246 §5; RFC 2246 §5 for [`Prf::Tls10`]).
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::decrypt::schedule::{prf, Prf};
/// let mut out = [0u8; 12];
/// prf(Prf::Sha256, b"secret", b"label", b"seed", &mut out).unwrap();
/// ```
pub fn prf(
    prf: Prf,
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    out: &mut [u8],
) -> Result<(), KeyError> {
    out.fill(0);
    let parts: [&[u8]; 2] = [label, seed];
    match prf {
        Prf::Sha256 => p_hash_xor::<Hmac<Sha256>>(secret, &parts, out),
        Prf::Sha384 => p_hash_xor::<Hmac<Sha384>>(secret, &parts, out),
        Prf::Tls10 => {
            // S1 is the first half, S2 the second; with an odd length they share the middle byte.
            let half = secret.len().div_ceil(2);
            let s1 = &secret[..half];
            let s2 = &secret[secret.len() - half..];
            p_hash_xor::<Hmac<Md5>>(s1, &parts, out)?;
            p_hash_xor::<Hmac<Sha1>>(s2, &parts, out)
        }
    }
}

/// The HMAC of a CBC suite (RFC 5246 §6.2.3.1, RFC 5289 for SHA-384).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlg {
    /// HMAC-SHA1 (suites ending `_SHA`).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA384.
    Sha384,
}

impl MacAlg {
    /// MAC length, which is also the MAC key length.
    pub fn output_len(self) -> usize {
        match self {
            MacAlg::Sha1 => 20,
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
        }
    }
}

/// The block cipher of a CBC suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CbcCipher {
    /// AES-128 in CBC mode.
    Aes128,
    /// AES-256 in CBC mode.
    Aes256,
}

impl CbcCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            CbcCipher::Aes128 => 16,
            CbcCipher::Aes256 => 32,
        }
    }

    /// Block length, which is also the IV length.
    pub fn block_len(self) -> usize {
        16
    }
}

/// How a TLS 1.2-or-older suite protects records (RFC 5246 §6.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protection {
    /// An AEAD (RFC 5246 §6.2.3.3).
    Aead(AeadAlg),
    /// A block cipher in CBC mode with an HMAC (RFC 5246 §6.2.3.2; RFC 7366 encrypt-then-MAC).
    Cbc {
        /// The block cipher.
        cipher: CbcCipher,
        /// The MAC.
        mac: MacAlg,
    },
}

/// A TLS 1.2-or-older cipher suite we can decrypt: its record protection and its TLS 1.2 PRF hash.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::decrypt::schedule::{AeadAlg, Protection, Tls12Suite};
/// use shakedown::tls::CipherSuite;
/// let s = Tls12Suite::from_id(CipherSuite(0xc02f)).unwrap();
/// assert_eq!(s.protection, Protection::Aead(AeadAlg::Aes128Gcm));
/// assert_eq!((s.key_len(), s.fixed_iv_len(), s.mac_len()), (16, 4, 0));
/// assert!(Tls12Suite::from_id(CipherSuite(0x0005)).is_err()); // RC4
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tls12Suite {
    /// The IANA value.
    pub suite: CipherSuite,
    /// The IANA name.
    pub name: &'static str,
    /// The record protection.
    pub protection: Protection,
    /// The PRF hash in TLS 1.2 (TLS 1.0 and 1.1 always use MD5 and SHA-1).
    pub prf_hash: HashAlg,
}

impl Tls12Suite {
    /// The table entry for an IANA value, or [`KeyError::UnsupportedSuite`].
    pub fn from_id(suite: CipherSuite) -> Result<&'static Tls12Suite, KeyError> {
        TLS12_SUITES
            .iter()
            .find(|s| s.suite == suite)
            .ok_or(KeyError::UnsupportedSuite { suite })
    }

    /// `SecurityParameters.enc_key_length`.
    pub fn key_len(&self) -> usize {
        match self.protection {
            Protection::Aead(a) => a.key_len(),
            Protection::Cbc { cipher, .. } => cipher.key_len(),
        }
    }

    /// `SecurityParameters.mac_key_length` (0 for AEAD suites).
    pub fn mac_len(&self) -> usize {
        match self.protection {
            Protection::Aead(_) => 0,
            Protection::Cbc { mac, .. } => mac.output_len(),
        }
    }

    /// `SecurityParameters.fixed_iv_length`: the IV taken from the key block. 4 for GCM and CCM
    /// (the implicit salt, RFC 5288 §3, RFC 6655 §3), 12 for ChaCha20-Poly1305 (RFC 7905 §2), the
    /// block length for CBC (used only by TLS 1.0, whose first record IV it is).
    pub fn fixed_iv_len(&self) -> usize {
        match self.protection {
            Protection::Aead(AeadAlg::ChaCha20Poly1305) => AEAD_NONCE_LEN,
            Protection::Aead(_) => 4,
            Protection::Cbc { cipher, .. } => cipher.block_len(),
        }
    }

    /// The PRF this suite uses under `version`: MD5 with SHA-1 before TLS 1.2, the suite's hash in
    /// TLS 1.2. AEAD suites exist only in TLS 1.2.
    pub fn prf_for(&self, version: TlsVersion) -> Result<Prf, KeyError> {
        match version.0 {
            0x0301 | 0x0302 => match self.protection {
                Protection::Cbc { .. } => Ok(Prf::Tls10),
                Protection::Aead(_) => Err(KeyError::SuiteNotInVersion {
                    suite: self.suite,
                    version,
                }),
            },
            0x0303 => Ok(match self.prf_hash {
                HashAlg::Sha256 => Prf::Sha256,
                HashAlg::Sha384 => Prf::Sha384,
            }),
            _ => Err(KeyError::UnsupportedVersion { version }),
        }
    }
}

const fn aead(id: u16, name: &'static str, alg: AeadAlg, prf_hash: HashAlg) -> Tls12Suite {
    Tls12Suite {
        suite: CipherSuite(id),
        name,
        protection: Protection::Aead(alg),
        prf_hash,
    }
}

const fn cbc(id: u16, name: &'static str, cipher: CbcCipher, mac: MacAlg) -> Tls12Suite {
    // Suites with HMAC-SHA384 use P_SHA384 (RFC 5289 §3.1); all others the TLS 1.2 default.
    let prf_hash = match mac {
        MacAlg::Sha384 => HashAlg::Sha384,
        MacAlg::Sha1 | MacAlg::Sha256 => HashAlg::Sha256,
    };
    Tls12Suite {
        suite: CipherSuite(id),
        name,
        protection: Protection::Cbc { cipher, mac },
        prf_hash,
    }
}

use AeadAlg::{
    Aes128Ccm, Aes128Ccm8, Aes128Gcm, Aes256Ccm, Aes256Ccm8, Aes256Gcm, ChaCha20Poly1305,
};
use CbcCipher::{Aes128, Aes256};
use HashAlg::{Sha256 as H256, Sha384 as H384};
use MacAlg::{Sha1 as M1, Sha256 as M256, Sha384 as M384};

/// The TLS 1.2-and-older suites we decrypt (IANA "TLS Cipher Suites"): AES-GCM (RFC 5288, 5289,
/// 5487, 8442), ChaCha20-Poly1305 (RFC 7905), AES-CCM and CCM_8 (RFC 6655, 7251), AES-CBC with
/// HMAC-SHA1/SHA256/SHA384 (RFC 5246, 4279, 5289, 5487, 5489). Other suites (RC4, 3DES, Camellia,
/// ARIA, SEED, NULL, export) are [`KeyError::UnsupportedSuite`].
#[rustfmt::skip]
pub static TLS12_SUITES: &[Tls12Suite] = &[
    // AES-GCM
    aead(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    aead(0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", Aes128Gcm, H256),
    aead(0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", Aes256Gcm, H384),
    // ChaCha20-Poly1305
    aead(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    aead(0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305, H256),
    // AES-CCM and AES-CCM_8
    aead(0xc09c, "TLS_RSA_WITH_AES_128_CCM", Aes128Ccm, H256),
    aead(0xc09d, "TLS_RSA_WITH_AES_256_CCM", Aes256Ccm, H256),
    aead(0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM", Aes128Ccm, H256),
    aead(0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM", Aes256Ccm, H256),
    aead(0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8", Aes128Ccm8, H256),
    aead(0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8", Aes256Ccm8, H256),
    aead(0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", Aes128Ccm8, H256),
    aead(0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", Aes256Ccm8, H256),
    aead(0xc0a4, "TLS_PSK_WITH_AES_128_CCM", Aes128Ccm, H256),
    aead(0xc0a5, "TLS_PSK_WITH_AES_256_CCM", Aes256Ccm, H256),
    aead(0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM", Aes128Ccm, H256),
    aead(0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM", Aes256Ccm, H256),
    aead(0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8", Aes128Ccm8, H256),
    aead(0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8", Aes256Ccm8, H256),
    aead(0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", Aes128Ccm8, H256),
    aead(0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8", Aes256Ccm8, H256),
    aead(0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", Aes128Ccm, H256),
    aead(0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", Aes256Ccm, H256),
    aead(0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", Aes128Ccm8, H256),
    aead(0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", Aes256Ccm8, H256),
    // AES-CBC with HMAC-SHA1
    cbc(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", Aes256, M1),
    cbc(0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", Aes128, M1),
    cbc(0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", Aes256, M1),
    // AES-CBC with HMAC-SHA256 / HMAC-SHA384 (TLS 1.2 only in practice; the MAC says which PRF)
    cbc(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", Aes256, M256),
    cbc(0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", Aes256, M384),
    cbc(0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", Aes128, M256),
    cbc(0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", Aes256, M384),
];

/// Length of a TLS 1.2-and-older master secret (RFC 5246 §8.1).
pub const MASTER_SECRET_LEN: usize = 48;

/// One sender's share of the key block (RFC 5246 §6.3): `[sender]_write_MAC_key`,
/// `[sender]_write_key`, `[sender]_write_IV`.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectionKeys {
    /// The HMAC key (empty for AEAD suites).
    pub mac_key: Vec<u8>,
    /// The cipher key.
    pub key: Vec<u8>,
    /// The fixed IV: GCM/CCM salt, ChaCha20 nonce base, or the TLS 1.0 first-record CBC IV.
    pub iv: Vec<u8>,
}

impl fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectionKeys")
            .field("mac_key_len", &self.mac_key.len())
            .field("key_len", &self.key.len())
            .field("iv_len", &self.iv.len())
            .finish_non_exhaustive()
    }
}

/// Both directions' keys of a TLS 1.0–1.2 connection, from its master secret (RFC 5246 §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls12Keys {
    /// The negotiated version (0x0301..=0x0303).
    pub version: TlsVersion,
    /// The negotiated suite.
    pub suite: &'static Tls12Suite,
    /// What the client writes with.
    pub client: DirectionKeys,
    /// What the server writes with.
    pub server: DirectionKeys,
}

impl Tls12Keys {
    /// `key_block = PRF(master_secret, "key expansion", server_random + client_random)`, cut into
    /// client MAC key, server MAC key, client key, server key, client IV, server IV (RFC 5246 §6.3;
    /// RFC 2246 §6.3 for TLS 1.0). TLS 1.1 and 1.2 CBC records carry their own IVs, so the block's IVs
    /// go unused there; taking them anyway changes none of the keys before them.
    pub fn derive(
        version: TlsVersion,
        suite: CipherSuite,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Tls12Keys, KeyError> {
        let entry = Tls12Suite::from_id(suite)?;
        let prf_alg = entry.prf_for(version)?;
        if master_secret.len() != MASTER_SECRET_LEN {
            return Err(KeyError::Length {
                what: "master secret",
                need: MASTER_SECRET_LEN,
                have: master_secret.len(),
            });
        }
        let (mac_len, key_len, iv_len) = (entry.mac_len(), entry.key_len(), entry.fixed_iv_len());
        let mut block = vec![0; 2 * (mac_len + key_len + iv_len)];
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(server_random);
        seed[32..].copy_from_slice(client_random);
        prf(prf_alg, master_secret, b"key expansion", &seed, &mut block)?;
        let mut rest = block.as_slice();
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head.to_vec()
        };
        let (client_mac, server_mac) = (take(mac_len), take(mac_len));
        let (client_key, server_key) = (take(key_len), take(key_len));
        let (client_iv, server_iv) = (take(iv_len), take(iv_len));
        Ok(Tls12Keys {
            version,
            suite: entry,
            client: DirectionKeys {
                mac_key: client_mac,
                key: client_key,
                iv: client_iv,
            },
            server: DirectionKeys {
                mac_key: server_mac,
                key: server_key,
                iv: server_iv,
            },
        })
    }

    /// The keys that `sender` writes with.
    pub fn sender(&self, sender: Side) -> &DirectionKeys {
        match sender {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Hex digits to bytes, ignoring everything else (spaces, newlines).
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c - b'A' + 10,
            })
            .collect();
        assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    /// A value from testdata/rfc8448.txt (RFC 8448 §3).
    pub(crate) fn rfc8448(name: &str) -> Vec<u8> {
        let text = include_str!("testdata/rfc8448.txt");
        let mut lines = text.lines().skip_while(|l| l.trim() != format!("{name}:"));
        assert!(lines.next().is_some(), "{name} not in rfc8448.txt");
        let body: String = lines
            .take_while(|l| l.starts_with(' '))
            .collect::<Vec<_>>()
            .join(" ");
        hex(&body)
    }

    const AES128GCM: CipherSuite = CipherSuite(0x1301);

    #[test]
    fn rfc8448_traffic_keys_from_each_secret() {
        let suite = Tls13Suite::from_id(AES128GCM).unwrap();
        for who in ["s_hs", "c_hs", "s_ap", "c_ap"] {
            let keys = tls13_traffic_keys(&suite, &rfc8448(&format!("{who}_traffic"))).unwrap();
            assert_eq!(keys.key, rfc8448(&format!("{who}_key")), "{who} key");
            assert_eq!(keys.iv.to_vec(), rfc8448(&format!("{who}_iv")), "{who} iv");
        }
    }

    #[test]
    fn next_secret_is_expand_label_traffic_upd() {
        // HkdfLabel written out by hand (RFC 8446 §7.1): length 32, label "tls13 traffic upd"
        // (17 bytes), empty context; then plain RFC 5869 HKDF-Expand.
        let secret = rfc8448("c_ap_traffic");
        let mut info = vec![0x00, 0x20, 17];
        info.extend_from_slice(b"tls13 traffic upd");
        info.push(0);
        let mut want = [0u8; 32];
        Hkdf::<Sha256>::from_prk(&secret)
            .unwrap()
            .expand(&info, &mut want)
            .unwrap();
        let suite = Tls13Suite::from_id(AES128GCM).unwrap();
        assert_eq!(tls13_next_secret(&suite, &secret).unwrap(), want);
        let sha384 = Tls13Suite::from_id(CipherSuite(0x1302)).unwrap();
        assert_eq!(tls13_next_secret(&sha384, &[7; 48]).unwrap().len(), 48);
    }

    #[test]
    fn tls13_suites_and_their_errors() {
        let lens: Vec<_> = (0x1301..=0x1305)
            .map(|id| {
                let s = Tls13Suite::from_id(CipherSuite(id)).unwrap();
                (s.aead.key_len(), s.aead.tag_len(), s.hash.output_len())
            })
            .collect();
        assert_eq!(
            lens,
            [
                (16, 16, 32),
                (32, 16, 48),
                (32, 16, 32),
                (16, 16, 32),
                (16, 8, 32)
            ]
        );
        for id in [0x1300, 0x1306, 0xc02f, 0x00ff] {
            assert_eq!(
                Tls13Suite::from_id(CipherSuite(id)),
                Err(KeyError::UnsupportedSuite {
                    suite: CipherSuite(id)
                })
            );
        }
        let suite = Tls13Suite::from_id(AES128GCM).unwrap();
        assert_eq!(
            tls13_traffic_keys(&suite, &[0; 48]),
            Err(KeyError::Length {
                what: "traffic secret",
                need: 32,
                have: 48
            })
        );
        let mut huge = vec![0; 255 * 32 + 1];
        assert_eq!(
            hkdf_expand_label(HashAlg::Sha256, &[0; 32], b"key", b"", &mut huge),
            Err(KeyError::OutputTooLong { len: 255 * 32 + 1 })
        );
        assert_eq!(
            hkdf_expand_label(HashAlg::Sha256, &[0; 32], &[b'x'; 250], b"", &mut [0; 16]),
            Err(KeyError::OutputTooLong { len: 16 })
        );
    }

    /// "PRF Testvector for the TLS V1.2 PRF with SHA-256", posted to the IETF TLS list (tls
    /// mail archive msg03416); also in BearSSL's and GnuTLS's test suites.
    #[test]
    fn tls12_prf_sha256_vector() {
        let mut out = [0u8; 100];
        prf(
            Prf::Sha256,
            &hex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
            b"test label",
            &hex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"),
            &mut out,
        )
        .unwrap();
        let want = hex(
            "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4
             e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17
             ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1
             22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66",
        );
        assert_eq!(out.to_vec(), want);
    }

    /// The SHA-384 vector from the same IETF TLS list post (msg03416).
    #[test]
    fn tls12_prf_sha384_vector() {
        let mut out = [0u8; 148];
        prf(
            Prf::Sha384,
            &hex("b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df"),
            b"test label",
            &hex("cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65"),
            &mut out,
        )
        .unwrap();
        let want = hex(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd
             e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd
             8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425
             9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6
             91c8f3a26854308d5eaa3be85e0990703d73e56f",
        );
        assert_eq!(out.to_vec(), want);
    }

    /// The TLS 1.0 PRF vector from the IETF TLS list (ietf-tls mail archive msg01589: 48 bytes of
    /// 0xab, "PRF Testvector", 64 bytes of 0xcd); also in BearSSL's and forge's test suites.
    #[test]
    fn tls10_prf_vector() {
        let mut out = [0u8; 104];
        prf(
            Prf::Tls10,
            &[0xab; 48],
            b"PRF Testvector",
            &[0xcd; 64],
            &mut out,
        )
        .unwrap();
        let want = hex(
            "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754
             443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff6
             9255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f
             1afbc655a8c9a013",
        );
        assert_eq!(out.to_vec(), want);
        // An odd-length secret: both halves take the middle byte, and nothing panics.
        prf(Prf::Tls10, &[1, 2, 3], b"l", b"s", &mut out).unwrap();
        prf(Prf::Tls10, &[], b"l", b"s", &mut out).unwrap();
    }

    #[test]
    fn suite_table_matches_the_iana_names() {
        let mut seen = std::collections::HashSet::new();
        for s in TLS12_SUITES {
            assert!(seen.insert(s.suite), "{} twice", s.name);
            assert_eq!(s.suite.name(), Some(s.name), "{:#06x}", s.suite.0);
            assert!(!s.suite.is_tls13());
            // The name says the MAC / PRF hash and the key size.
            let (key, hash) = (s.key_len(), s.prf_hash);
            let wide = s.name.contains("_256_") || s.name.contains("CHACHA20");
            assert_eq!(wide, key == 32, "{}", s.name);
            assert_eq!(
                s.name.ends_with("SHA384"),
                hash == HashAlg::Sha384,
                "{}",
                s.name
            );
            match s.protection {
                Protection::Aead(a) => {
                    assert_eq!(s.mac_len(), 0);
                    assert_eq!(s.name.ends_with("_8"), a.tag_len() == 8, "{}", s.name);
                }
                Protection::Cbc { mac, .. } => {
                    assert!(s.name.contains("_CBC_"), "{}", s.name);
                    let want = if s.name.ends_with("_SHA") {
                        20
                    } else {
                        hash.output_len()
                    };
                    assert_eq!(mac.output_len(), want, "{}", s.name);
                }
            }
        }
        for id in [0x0005, 0x000a, 0x0041, 0x0000, 0x1301, 0xc0b0] {
            assert_eq!(
                Tls12Suite::from_id(CipherSuite(id)),
                Err(KeyError::UnsupportedSuite {
                    suite: CipherSuite(id)
                })
            );
        }
    }

    #[test]
    fn key_block_is_cut_in_rfc_order() {
        let (ms, cr, sr) = ([0x11; 48], [0x22; 32], [0x33; 32]);
        let keys =
            Tls12Keys::derive(TlsVersion(0x0303), CipherSuite(0xc028), &ms, &cr, &sr).unwrap();
        // SHA-384 suite: P_SHA384, 48-byte MAC keys, 32-byte AES keys, 16-byte IVs.
        let mut block = vec![0; 2 * (48 + 32 + 16)];
        let mut seed = sr.to_vec();
        seed.extend_from_slice(&cr);
        prf(Prf::Sha384, &ms, b"key expansion", &seed, &mut block).unwrap();
        let cut: Vec<&[u8]> = vec![
            &keys.client.mac_key,
            &keys.server.mac_key,
            &keys.client.key,
            &keys.server.key,
            &keys.client.iv,
            &keys.server.iv,
        ];
        assert_eq!(cut.concat(), block);
        assert_eq!(keys.sender(Side::Server), &keys.server);

        let gcm =
            Tls12Keys::derive(TlsVersion(0x0303), CipherSuite(0xc02f), &ms, &cr, &sr).unwrap();
        assert_eq!(
            (
                gcm.client.mac_key.len(),
                gcm.client.key.len(),
                gcm.client.iv.len()
            ),
            (0, 16, 4)
        );
        // TLS 1.0 uses the MD5/SHA-1 PRF: different keys for the same inputs.
        let old =
            Tls12Keys::derive(TlsVersion(0x0301), CipherSuite(0xc014), &ms, &cr, &sr).unwrap();
        let new =
            Tls12Keys::derive(TlsVersion(0x0303), CipherSuite(0xc014), &ms, &cr, &sr).unwrap();
        assert_ne!(old.client.key, new.client.key);
        // Keys stay out of Debug output.
        assert_eq!(
            format!("{:?}", keys.client),
            "DirectionKeys { mac_key_len: 48, key_len: 32, iv_len: 16, .. }"
        );
    }

    #[test]
    fn key_block_errors() {
        let (ms, r) = ([0; 48], [0; 32]);
        let derive = |v: u16, s: u16, ms: &[u8]| {
            Tls12Keys::derive(TlsVersion(v), CipherSuite(s), ms, &r, &r)
        };
        for v in [0x0300, 0x0304, 0xfefd, 0x0000] {
            assert_eq!(
                derive(v, 0xc013, &ms),
                Err(KeyError::UnsupportedVersion {
                    version: TlsVersion(v)
                })
            );
        }
        assert_eq!(
            derive(0x0302, 0xc02f, &ms),
            Err(KeyError::SuiteNotInVersion {
                suite: CipherSuite(0xc02f),
                version: TlsVersion(0x0302)
            })
        );
        assert_eq!(
            derive(0x0303, 0x0004, &ms),
            Err(KeyError::UnsupportedSuite {
                suite: CipherSuite(0x0004)
            })
        );
        assert_eq!(
            derive(0x0303, 0xc02f, &ms[..47]),
            Err(KeyError::Length {
                what: "master secret",
                need: 48,
                have: 47
            })
        );
    }
}
