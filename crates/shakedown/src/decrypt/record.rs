//! Opening protected records, one direction at a time: [`Tls13Decryptor`] (RFC 8446 §5.2) and
//! [`Tls12Decryptor`] (RFC 5246 §6.2.3 for TLS 1.0–1.2: AEAD, CBC with MAC-then-encrypt, RFC 7366
//! encrypt-then-MAC). Each keeps its direction's record sequence number and counts only the
//! records it opened.
//!
//! The caller hands over records as the TLS deframer cut them (type, version, fragment) and gets the
//! plaintext and its content type back. A record that does not open is a [`RecordError`] and leaves
//! the decryptor as it was, so a caller may try the same record with other keys (the TLS 1.3 server
//! does exactly that with rejected early data, RFC 8446 §4.2.10).
//!
//! This is an observer: MAC and padding checks are not constant-time, because nothing here answers a
//! peer and so there is no oracle to protect.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use std::fmt;

use aes_gcm::aead::consts::{U8, U12, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, Payload};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::schedule::{
    AEAD_NONCE_LEN, AeadAlg, CbcCipher, KeyError, MacAlg, Protection, Tls12Keys, Tls12Suite,
    Tls13Suite, tls13_next_secret, tls13_traffic_keys,
};
use crate::side::Side;
use crate::tls::codes::{CipherSuite, TlsVersion};

/// Length of a TLS record header: type, version, length (RFC 8446 §5.1, RFC 5246 §6.2.1).
pub const RECORD_HEADER_LEN: usize = 5;

/// The content type of records whose true type is inside the encryption (RFC 8446 §5.2).
const APPLICATION_DATA: u8 = 23;

/// Why a record did not decrypt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record is shorter than its protection needs (explicit nonce or IV, tag or MAC, one
    /// block, or the 5-byte header).
    #[error("record too short to decrypt: need {need} bytes, have {have}")]
    TooShort {
        /// The least length that could decrypt.
        need: usize,
        /// The length given.
        have: usize,
    },
    /// The header's length field does not match the bytes after it.
    #[error("record header says {header} bytes, {have} follow")]
    LengthMismatch {
        /// The header's length field.
        header: usize,
        /// The bytes after the header.
        have: usize,
    },
    /// The fragment is longer than a record length field can say (65535).
    #[error("record fragment of {have} bytes is longer than {max}")]
    TooLong {
        /// The greatest length.
        max: usize,
        /// The length given.
        have: usize,
    },
    /// A CBC ciphertext is not a whole number of blocks.
    #[error("CBC ciphertext of {len} bytes is not a multiple of the {block}-byte block")]
    NotBlockAligned {
        /// The ciphertext length.
        len: usize,
        /// The block length.
        block: usize,
    },
    /// A TLS 1.3 protected record must say `application_data` (23) outside; this one says another
    /// type, so it was sent in the clear (a ChangeCipherSpec, a plaintext alert).
    #[error("record of content type {content_type} is not a TLS 1.3 protected record")]
    NotProtected {
        /// The outer content type.
        content_type: u8,
    },
    /// The AEAD tag did not verify: wrong key, wrong sequence number, or a damaged record.
    #[error("AEAD authentication failed (wrong key, wrong sequence number, or damaged record)")]
    Authentication,
    /// The CBC suite's HMAC did not match: wrong key, wrong sequence number, or a damaged record.
    #[error("record MAC did not match (wrong key, wrong sequence number, or damaged record)")]
    BadMac,
    /// The CBC padding is not `padding_length + 1` bytes all equal to `padding_length`
    /// (RFC 5246 §6.2.3.2), or is longer than the record.
    #[error("CBC padding is malformed")]
    BadPadding,
    /// A TLS 1.3 inner plaintext is all zeros: no content type (RFC 8446 §5.4).
    #[error("TLS 1.3 inner plaintext has no content type (all padding)")]
    NoContentType,
    /// The 64-bit sequence number would wrap (RFC 8446 §5.3, RFC 5246 §6.1 forbid it).
    #[error("record sequence number exhausted")]
    SequenceExhausted,
}

/// A decrypted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plaintext {
    /// The content type: TLS 1.3's inner type (RFC 8446 §5.2 `TLSInnerPlaintext.type`), or the
    /// record's own type before TLS 1.3.
    pub content_type: u8,
    /// The plaintext fragment, padding and MAC removed.
    pub data: Vec<u8>,
}

/// Splits a whole record (header and fragment) into type, version and fragment, checking the
/// header's length field against the bytes that follow.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::decrypt::record::split_record;
/// let (t, v, f) = split_record(&[23, 3, 3, 0, 2, 0xaa, 0xbb]).unwrap();
/// assert_eq!((t, v.0, f), (23, 0x0303, &[0xaa, 0xbb][..]));
/// assert!(split_record(&[23, 3, 3, 0, 3, 0xaa]).is_err());
/// ```
pub fn split_record(record: &[u8]) -> Result<(u8, TlsVersion, &[u8]), RecordError> {
    let Some((header, fragment)) = record.split_first_chunk::<RECORD_HEADER_LEN>() else {
        return Err(RecordError::TooShort {
            need: RECORD_HEADER_LEN,
            have: record.len(),
        });
    };
    let [content_type, v0, v1, l0, l1] = *header;
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if len != fragment.len() {
        return Err(RecordError::LengthMismatch {
            header: len,
            have: fragment.len(),
        });
    }
    Ok((
        content_type,
        TlsVersion(u16::from_be_bytes([v0, v1])),
        fragment,
    ))
}

/// A fragment length as the 16-bit field of a header or AAD.
fn len16(len: usize) -> Result<[u8; 2], RecordError> {
    u16::try_from(len)
        .map(u16::to_be_bytes)
        .map_err(|_| RecordError::TooLong {
            max: usize::from(u16::MAX),
            have: len,
        })
}

/// The per-record nonce of TLS 1.3 and of ChaCha20-Poly1305 in TLS 1.2 (RFC 8446 §5.3, RFC 7905
/// §2): the 64-bit sequence number, big-endian and left-padded to 12 bytes, XORed with the IV.
fn xor_nonce(iv: &[u8; AEAD_NONCE_LEN], seq: u64) -> [u8; AEAD_NONCE_LEN] {
    let mut nonce = *iv;
    for (n, s) in nonce[AEAD_NONCE_LEN - 8..]
        .iter_mut()
        .zip(seq.to_be_bytes())
    {
        *n ^= s;
    }
    nonce
}

// ---------------------------------------------------------------------------------------------
// AEAD ciphers
// ---------------------------------------------------------------------------------------------

type Aes128Ccm = ccm::Ccm<aes::Aes128, U16, U12>;
type Aes128Ccm8 = ccm::Ccm<aes::Aes128, U8, U12>;
type Aes256Ccm = ccm::Ccm<aes::Aes256, U16, U12>;
type Aes256Ccm8 = ccm::Ccm<aes::Aes256, U8, U12>;

/// A keyed AEAD. Boxed because the AES key schedules are large and the variants differ in size.
#[derive(Clone)]
enum AeadCipher {
    Aes128Gcm(Box<aes_gcm::Aes128Gcm>),
    Aes256Gcm(Box<aes_gcm::Aes256Gcm>),
    ChaCha20Poly1305(Box<chacha20poly1305::ChaCha20Poly1305>),
    Aes128Ccm(Box<Aes128Ccm>),
    Aes128Ccm8(Box<Aes128Ccm8>),
    Aes256Ccm(Box<Aes256Ccm>),
    Aes256Ccm8(Box<Aes256Ccm8>),
}

fn keyed<A: KeyInit>(alg: AeadAlg, key: &[u8]) -> Result<Box<A>, KeyError> {
    A::new_from_slice(key)
        .map(Box::new)
        .map_err(|_| KeyError::Length {
            what: "AEAD key",
            need: alg.key_len(),
            have: key.len(),
        })
}

fn open_with<A: Aead + AeadCore<NonceSize = U12>>(
    cipher: &A,
    nonce: [u8; AEAD_NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, RecordError> {
    let nonce: GenericArray<u8, U12> = nonce.into();
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| RecordError::Authentication)
}

impl AeadCipher {
    fn new(alg: AeadAlg, key: &[u8]) -> Result<AeadCipher, KeyError> {
        Ok(match alg {
            AeadAlg::Aes128Gcm => AeadCipher::Aes128Gcm(keyed(alg, key)?),
            AeadAlg::Aes256Gcm => AeadCipher::Aes256Gcm(keyed(alg, key)?),
            AeadAlg::ChaCha20Poly1305 => AeadCipher::ChaCha20Poly1305(keyed(alg, key)?),
            AeadAlg::Aes128Ccm => AeadCipher::Aes128Ccm(keyed(alg, key)?),
            AeadAlg::Aes128Ccm8 => AeadCipher::Aes128Ccm8(keyed(alg, key)?),
            AeadAlg::Aes256Ccm => AeadCipher::Aes256Ccm(keyed(alg, key)?),
            AeadAlg::Aes256Ccm8 => AeadCipher::Aes256Ccm8(keyed(alg, key)?),
        })
    }

    /// Opens `ciphertext` (tag included).
    fn open(
        &self,
        nonce: [u8; AEAD_NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, RecordError> {
        match self {
            AeadCipher::Aes128Gcm(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::Aes256Gcm(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::ChaCha20Poly1305(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::Aes128Ccm(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::Aes128Ccm8(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::Aes256Ccm(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
            AeadCipher::Aes256Ccm8(c) => open_with(c.as_ref(), nonce, aad, ciphertext),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TLS 1.3
// ---------------------------------------------------------------------------------------------

/// Opens one direction's TLS 1.3 records under one traffic secret (RFC 8446 §5.2, §5.3).
///
/// Make one per secret the key log gives: the handshake traffic secret for the encrypted handshake,
/// `*_TRAFFIC_SECRET_0` from the first record after Finished; [`Tls13Decryptor::key_update`] after
/// the sender's KeyUpdate. ChangeCipherSpec records in compatibility mode (RFC 8446 Appendix D.4)
/// are not protected and are not for this type.
#[derive(Clone)]
pub struct Tls13Decryptor {
    suite: Tls13Suite,
    secret: Vec<u8>,
    cipher: AeadCipher,
    iv: [u8; AEAD_NONCE_LEN],
    seq: u64,
}

impl fmt::Debug for Tls13Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls13Decryptor")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Tls13Decryptor {
    /// A decryptor at sequence number 0 for `suite` and a traffic secret (one hash long).
    pub fn new(suite: CipherSuite, traffic_secret: &[u8]) -> Result<Tls13Decryptor, KeyError> {
        let suite = Tls13Suite::from_id(suite)?;
        let keys = tls13_traffic_keys(&suite, traffic_secret)?;
        Ok(Tls13Decryptor {
            suite,
            secret: traffic_secret.to_vec(),
            cipher: AeadCipher::new(suite.aead, &keys.key)?,
            iv: keys.iv,
            seq: 0,
        })
    }

    /// The suite.
    pub fn suite(&self) -> Tls13Suite {
        self.suite
    }

    /// The sequence number the next record is opened with.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// Sets the sequence number, for a caller that knows records were missed (a capture gap).
    pub fn set_sequence(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Opens one record given as the deframer cut it. `outer_type` must be `application_data`;
    /// the AAD is the record header as sent (RFC 8446 §5.2). On success the sequence number
    /// advances and the zero padding is gone from the returned plaintext.
    pub fn decrypt(
        &mut self,
        outer_type: u8,
        version: TlsVersion,
        fragment: &[u8],
    ) -> Result<Plaintext, RecordError> {
        if outer_type != APPLICATION_DATA {
            return Err(RecordError::NotProtected {
                content_type: outer_type,
            });
        }
        // At least the tag and the one byte of inner content type.
        let need = self.suite.aead.tag_len() + 1;
        if fragment.len() < need {
            return Err(RecordError::TooShort {
                need,
                have: fragment.len(),
            });
        }
        let next = self
            .seq
            .checked_add(1)
            .ok_or(RecordError::SequenceExhausted)?;
        let [v0, v1] = version.0.to_be_bytes();
        let [l0, l1] = len16(fragment.len())?;
        let aad = [outer_type, v0, v1, l0, l1];
        let mut inner = self
            .cipher
            .open(xor_nonce(&self.iv, self.seq), &aad, fragment)?;
        // TLSInnerPlaintext = content || type || zeros: the type is the last non-zero byte.
        let Some(type_at) = inner.iter().rposition(|&b| b != 0) else {
            return Err(RecordError::NoContentType);
        };
        let content_type = inner[type_at];
        inner.truncate(type_at);
        self.seq = next;
        Ok(Plaintext {
            content_type,
            data: inner,
        })
    }

    /// [`Tls13Decryptor::decrypt`] on a whole record, 5-byte header first.
    pub fn decrypt_record(&mut self, record: &[u8]) -> Result<Plaintext, RecordError> {
        let (outer_type, version, fragment) = split_record(record)?;
        self.decrypt(outer_type, version, fragment)
    }

    /// Moves to the next traffic secret after the sender's KeyUpdate (RFC 8446 §7.2) and restarts
    /// the sequence number at 0 (§5.3).
    pub fn key_update(&mut self) -> Result<(), KeyError> {
        let next = tls13_next_secret(&self.suite, &self.secret)?;
        let keys = tls13_traffic_keys(&self.suite, &next)?;
        self.cipher = AeadCipher::new(self.suite.aead, &keys.key)?;
        self.iv = keys.iv;
        self.secret = next;
        self.seq = 0;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// TLS 1.0 – 1.2
// ---------------------------------------------------------------------------------------------

/// The explicit nonce GCM and CCM records carry before the ciphertext (RFC 5288 §3, RFC 6655 §3).
const EXPLICIT_NONCE_LEN: usize = 8;

#[derive(Clone)]
enum Tls12Cipher {
    Aead {
        alg: AeadAlg,
        cipher: AeadCipher,
        /// 4-byte salt (GCM, CCM) or 12-byte IV (ChaCha20-Poly1305).
        iv: Vec<u8>,
    },
    Cbc {
        cipher: CbcCipher,
        mac: MacAlg,
        key: Vec<u8>,
        /// TLS 1.0 only: the IV of the next record, the last ciphertext block of the one before
        /// (RFC 2246 §6.2.3.2), the key block's IV at first.
        chained_iv: [u8; 16],
    },
}

/// Opens one direction's records of a TLS 1.0, 1.1 or 1.2 connection after its ChangeCipherSpec
/// (RFC 5246 §6.2.3), sequence number 0 first.
#[derive(Clone)]
pub struct Tls12Decryptor {
    version: TlsVersion,
    suite: &'static Tls12Suite,
    cipher: Tls12Cipher,
    mac_key: Vec<u8>,
    encrypt_then_mac: bool,
    seq: u64,
}

impl fmt::Debug for Tls12Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls12Decryptor")
            .field("version", &self.version)
            .field("suite", &self.suite.name)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

fn hmac(alg: MacAlg, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, KeyError> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, KeyError> {
        // HMAC accepts keys of any length; the error only keeps this free of unwrap.
        let mut m = <M as KeyInit>::new_from_slice(key).map_err(|_| KeyError::Length {
            what: "MAC key",
            need: 0,
            have: key.len(),
        })?;
        for p in parts {
            m.update(p);
        }
        Ok(m.finalize().into_bytes().to_vec())
    }
    match alg {
        MacAlg::Sha1 => run::<Hmac<Sha1>>(key, parts),
        MacAlg::Sha256 => run::<Hmac<Sha256>>(key, parts),
        MacAlg::Sha384 => run::<Hmac<Sha384>>(key, parts),
    }
}

/// CBC-decrypts whole blocks with AES in place.
fn cbc_decrypt(
    cipher: CbcCipher,
    key: &[u8],
    iv: &[u8],
    buf: &mut [u8],
) -> Result<(), RecordError> {
    let block = cipher.block_len();
    let misaligned = RecordError::NotBlockAligned {
        len: buf.len(),
        block,
    };
    // The key was checked when the decryptor was built and the IV is cut at the block length, so
    // new_from_slices cannot refuse them; were it to, the IV is what is short.
    let short_iv = || RecordError::TooShort {
        need: block,
        have: iv.len(),
    };
    let done = match cipher {
        CbcCipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| short_iv())?
            .decrypt_padded_mut::<NoPadding>(buf)
            .map(|_| ()),
        CbcCipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| short_iv())?
            .decrypt_padded_mut::<NoPadding>(buf)
            .map(|_| ()),
    };
    done.map_err(|_| misaligned)
}

/// Checks TLS CBC padding (RFC 5246 §6.2.3.2: `padding_length + 1` bytes, each `padding_length`)
/// and returns the length before it.
fn strip_padding(plain: &[u8]) -> Result<usize, RecordError> {
    let Some((&pad, _)) = plain.split_last() else {
        return Err(RecordError::BadPadding);
    };
    let pad_total = usize::from(pad) + 1;
    let Some(body_len) = plain.len().checked_sub(pad_total) else {
        return Err(RecordError::BadPadding);
    };
    if plain[body_len..].iter().any(|&b| b != pad) {
        return Err(RecordError::BadPadding);
    }
    Ok(body_len)
}

impl Tls12Decryptor {
    /// A decryptor for the records `sender` writes, from the connection's keys.
    /// `encrypt_then_mac` says whether both hellos carried the RFC 7366 extension; it matters only
    /// for CBC suites.
    pub fn new(
        keys: &Tls12Keys,
        sender: Side,
        encrypt_then_mac: bool,
    ) -> Result<Tls12Decryptor, KeyError> {
        let own = keys.sender(sender);
        let cipher = match keys.suite.protection {
            Protection::Aead(alg) => Tls12Cipher::Aead {
                alg,
                cipher: AeadCipher::new(alg, &own.key)?,
                iv: own.iv.clone(),
            },
            Protection::Cbc { cipher, mac } => {
                let need = cipher.block_len();
                let chained_iv =
                    <[u8; 16]>::try_from(own.iv.as_slice()).map_err(|_| KeyError::Length {
                        what: "CBC IV",
                        need,
                        have: own.iv.len(),
                    })?;
                if own.key.len() != cipher.key_len() {
                    return Err(KeyError::Length {
                        what: "CBC key",
                        need: cipher.key_len(),
                        have: own.key.len(),
                    });
                }
                Tls12Cipher::Cbc {
                    cipher,
                    mac,
                    key: own.key.clone(),
                    chained_iv,
                }
            }
        };
        if let Tls12Cipher::Aead { iv, .. } = &cipher {
            let need = keys.suite.fixed_iv_len();
            if iv.len() != need {
                return Err(KeyError::Length {
                    what: "AEAD fixed IV",
                    need,
                    have: iv.len(),
                });
            }
        }
        Ok(Tls12Decryptor {
            version: keys.version,
            suite: keys.suite,
            cipher,
            mac_key: own.mac_key.clone(),
            encrypt_then_mac,
            seq: 0,
        })
    }

    /// The suite.
    pub fn suite(&self) -> &'static Tls12Suite {
        self.suite
    }

    /// The sequence number the next record is opened with.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// Sets the sequence number, for a caller that knows records were missed. (TLS 1.0 CBC chains
    /// IVs across records, so there a gap cannot be bridged this way.)
    pub fn set_sequence(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Opens one record given as the deframer cut it: its type and version (both covered by the MAC
    /// or AAD) and its fragment. On success the sequence number advances.
    pub fn decrypt(
        &mut self,
        content_type: u8,
        version: TlsVersion,
        fragment: &[u8],
    ) -> Result<Plaintext, RecordError> {
        let next = self
            .seq
            .checked_add(1)
            .ok_or(RecordError::SequenceExhausted)?;
        let seq = self.seq.to_be_bytes();
        let [v0, v1] = version.0.to_be_bytes();
        let explicit_iv = self.version.0 >= 0x0302;
        let data = match &mut self.cipher {
            Tls12Cipher::Aead { alg, cipher, iv } => {
                // GCM and CCM carry 8 bytes of nonce; ChaCha20-Poly1305 carries none (RFC 7905 §2).
                let (explicit, nonce) = match alg {
                    AeadAlg::ChaCha20Poly1305 => {
                        let base = <[u8; AEAD_NONCE_LEN]>::try_from(iv.as_slice())
                            .map_err(|_| RecordError::Authentication)?;
                        (0, xor_nonce(&base, self.seq))
                    }
                    _ => {
                        let mut nonce = [0u8; AEAD_NONCE_LEN];
                        let salt_len = AEAD_NONCE_LEN - EXPLICIT_NONCE_LEN;
                        match (iv.get(..salt_len), fragment.get(..EXPLICIT_NONCE_LEN)) {
                            (Some(salt), Some(explicit)) => {
                                nonce[..salt_len].copy_from_slice(salt);
                                nonce[salt_len..].copy_from_slice(explicit);
                            }
                            _ => {
                                return Err(RecordError::TooShort {
                                    need: EXPLICIT_NONCE_LEN + alg.tag_len(),
                                    have: fragment.len(),
                                });
                            }
                        }
                        (EXPLICIT_NONCE_LEN, nonce)
                    }
                };
                let need = explicit + alg.tag_len();
                let Some(plain_len) = fragment.len().checked_sub(need) else {
                    return Err(RecordError::TooShort {
                        need,
                        have: fragment.len(),
                    });
                };
                // additional_data = seq_num + type + version + length of the plaintext (RFC 5246
                // §6.2.3.3).
                let [l0, l1] = len16(plain_len)?;
                let mut aad = [0u8; 13];
                aad[..8].copy_from_slice(&seq);
                aad[8..].copy_from_slice(&[content_type, v0, v1, l0, l1]);
                cipher.open(nonce, &aad, &fragment[explicit..])?
            }
            Tls12Cipher::Cbc {
                cipher,
                mac,
                key,
                chained_iv,
            } => {
                let block = cipher.block_len();
                let mac_len = mac.output_len();
                let iv_len = if explicit_iv { block } else { 0 };
                if self.encrypt_then_mac {
                    // RFC 7366 §3: IV || ciphertext || MAC, the MAC over the header with the
                    // length of IV and ciphertext, then over IV and ciphertext.
                    let need = iv_len + block + mac_len;
                    if fragment.len() < need {
                        return Err(RecordError::TooShort {
                            need,
                            have: fragment.len(),
                        });
                    }
                    let (sealed, tag) = fragment.split_at(fragment.len() - mac_len);
                    let [l0, l1] = len16(sealed.len())?;
                    let header = [content_type, v0, v1, l0, l1];
                    let expected = hmac(*mac, &self.mac_key, &[&seq, &header, sealed])
                        .map_err(|_| RecordError::BadMac)?;
                    if expected != tag {
                        return Err(RecordError::BadMac);
                    }
                    let (iv, ciphertext) = sealed.split_at(iv_len);
                    let iv = if explicit_iv {
                        iv
                    } else {
                        chained_iv.as_slice()
                    };
                    let mut plain = ciphertext.to_vec();
                    cbc_decrypt(*cipher, key, iv, &mut plain)?;
                    let body_len = strip_padding(&plain)?;
                    if !explicit_iv {
                        chain(chained_iv, ciphertext);
                    }
                    plain.truncate(body_len);
                    plain
                } else {
                    // MAC-then-encrypt (RFC 5246 §6.2.3.2): IV || E(content || MAC || padding).
                    // The ciphertext holds at least the MAC and one padding byte, in whole blocks.
                    let least = (mac_len + 1).div_ceil(block) * block;
                    let need = iv_len + least;
                    if fragment.len() < need {
                        return Err(RecordError::TooShort {
                            need,
                            have: fragment.len(),
                        });
                    }
                    let (iv, ciphertext) = fragment.split_at(iv_len);
                    let iv = if explicit_iv {
                        iv
                    } else {
                        chained_iv.as_slice()
                    };
                    let mut plain = ciphertext.to_vec();
                    cbc_decrypt(*cipher, key, iv, &mut plain)?;
                    let unpadded = strip_padding(&plain)?;
                    let Some(body_len) = unpadded.checked_sub(mac_len) else {
                        return Err(RecordError::BadPadding);
                    };
                    let (body, tag) = plain[..unpadded].split_at(body_len);
                    let [l0, l1] = len16(body_len)?;
                    let header = [content_type, v0, v1, l0, l1];
                    let expected = hmac(*mac, &self.mac_key, &[&seq, &header, body])
                        .map_err(|_| RecordError::BadMac)?;
                    if expected != tag {
                        return Err(RecordError::BadMac);
                    }
                    if !explicit_iv {
                        chain(chained_iv, ciphertext);
                    }
                    plain.truncate(body_len);
                    plain
                }
            }
        };
        self.seq = next;
        Ok(Plaintext { content_type, data })
    }

    /// [`Tls12Decryptor::decrypt`] on a whole record, 5-byte header first.
    pub fn decrypt_record(&mut self, record: &[u8]) -> Result<Plaintext, RecordError> {
        let (content_type, version, fragment) = split_record(record)?;
        self.decrypt(content_type, version, fragment)
    }
}

/// TLS 1.0: the next record's IV is this record's last ciphertext block.
fn chain(chained_iv: &mut [u8; 16], ciphertext: &[u8]) {
    if let Some(last) = ciphertext.last_chunk::<16>() {
        *chained_iv = *last;
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::Aead;
    use cbc::cipher::BlockEncryptMut;

    use super::*;
    use crate::decrypt::schedule::tests::{hex, rfc8448};
    use crate::decrypt::schedule::{MASTER_SECRET_LEN, TLS12_SUITES, TrafficKeys};

    const TLS12: TlsVersion = TlsVersion(0x0303);
    const HANDSHAKE: u8 = 22;
    const ALERT: u8 = 21;

    fn decryptor(secret: &str) -> Tls13Decryptor {
        Tls13Decryptor::new(CipherSuite(0x1301), &rfc8448(secret)).unwrap()
    }

    /// The handshake message types in a run of messages (type, 3-byte length, body).
    fn message_types(mut data: &[u8]) -> Vec<u8> {
        let mut types = Vec::new();
        while let [t, a, b, c, rest @ ..] = data {
            let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
            types.push(*t);
            data = &rest[len.min(rest.len())..];
        }
        types
    }

    #[test]
    fn rfc8448_server_handshake_flight() {
        let mut d = decryptor("s_hs_traffic");
        let p = d.decrypt_record(&rfc8448("s_hs_record")).unwrap();
        assert_eq!(p.content_type, HANDSHAKE);
        // 674 bytes of ciphertext less the tag and the inner type byte.
        assert_eq!(p.data.len(), 657);
        // EncryptedExtensions, Certificate, CertificateVerify, Finished.
        assert_eq!(message_types(&p.data), [8, 11, 15, 20]);
        assert_eq!(d.sequence(), 1);
    }

    #[test]
    fn rfc8448_client_finished() {
        let mut d = decryptor("c_hs_traffic");
        let p = d.decrypt_record(&rfc8448("c_finished_record")).unwrap();
        assert_eq!(p.content_type, HANDSHAKE);
        assert_eq!(p.data.len(), 36);
        assert_eq!(p.data[..4], [20, 0, 0, 32]);
    }

    #[test]
    fn rfc8448_application_data_and_close_notify() {
        let payload: Vec<u8> = (0..50).collect();
        let mut server = decryptor("s_ap_traffic");
        let ticket = server.decrypt_record(&rfc8448("s_nst_record")).unwrap();
        assert_eq!((ticket.content_type, ticket.data[0]), (HANDSHAKE, 4));
        let app = server.decrypt_record(&rfc8448("s_app_record")).unwrap();
        assert_eq!((app.content_type, &app.data), (23, &payload));
        let alert = server.decrypt_record(&rfc8448("s_alert_record")).unwrap();
        assert_eq!((alert.content_type, alert.data), (ALERT, vec![1, 0]));

        let mut client = decryptor("c_ap_traffic");
        let app = client.decrypt_record(&rfc8448("c_app_record")).unwrap();
        assert_eq!((app.content_type, &app.data), (23, &payload));
        let alert = client.decrypt_record(&rfc8448("c_alert_record")).unwrap();
        assert_eq!((alert.content_type, alert.data), (ALERT, vec![1, 0]));
        assert_eq!(client.sequence(), 2);
    }

    #[test]
    fn rfc8448_records_do_not_open_wrongly() {
        let record = rfc8448("s_app_record");
        // Wrong sequence number: fails, and leaves the decryptor where it was.
        let mut d = decryptor("s_ap_traffic");
        assert_eq!(d.decrypt_record(&record), Err(RecordError::Authentication));
        assert_eq!(d.sequence(), 0);
        d.set_sequence(1);
        assert!(d.decrypt_record(&record).is_ok());
        // Wrong key.
        let mut d = decryptor("c_ap_traffic");
        d.set_sequence(1);
        assert_eq!(d.decrypt_record(&record), Err(RecordError::Authentication));
        // One flipped bit anywhere, header included (it is the AAD).
        for at in [0, 2, 4, 5, 40, record.len() - 1] {
            let mut bad = record.clone();
            bad[at] ^= 0x01;
            let mut d = decryptor("s_ap_traffic");
            d.set_sequence(1);
            assert!(d.decrypt_record(&bad).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn tls13_malformed_records_are_typed_errors() {
        let record = rfc8448("c_alert_record");
        let mut d = decryptor("c_ap_traffic");
        for len in 0..RECORD_HEADER_LEN {
            assert_eq!(
                d.decrypt_record(&record[..len]),
                Err(RecordError::TooShort { need: 5, have: len })
            );
        }
        assert_eq!(
            d.decrypt_record(&record[..10]),
            Err(RecordError::LengthMismatch {
                header: 19,
                have: 5
            })
        );
        for len in 0..17 {
            assert_eq!(
                d.decrypt(23, TLS12, &record[5..5 + len]),
                Err(RecordError::TooShort {
                    need: 17,
                    have: len
                })
            );
        }
        assert_eq!(
            d.decrypt(21, TLS12, &record[5..]),
            Err(RecordError::NotProtected { content_type: 21 })
        );
        assert_eq!(
            d.decrypt(23, TLS12, &vec![0; 70_000]),
            Err(RecordError::TooLong {
                max: 65535,
                have: 70_000
            })
        );
        d.set_sequence(u64::MAX);
        assert_eq!(
            d.decrypt_record(&record),
            Err(RecordError::SequenceExhausted)
        );
        assert_eq!(
            Tls13Decryptor::new(CipherSuite(0x1306), &[0; 32]).err(),
            Some(KeyError::UnsupportedSuite {
                suite: CipherSuite(0x1306)
            })
        );
        assert!(matches!(
            Tls13Decryptor::new(CipherSuite(0x1302), &[0; 32]),
            Err(KeyError::Length {
                need: 48,
                have: 32,
                ..
            })
        ));
    }

    /// Seals with the RustCrypto primitive directly, the way a TLS stack would.
    fn seal(alg: AeadAlg, key: &[u8], nonce: [u8; 12], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let n = GenericArray::from(nonce);
        let p = Payload { msg: plain, aad };
        match alg {
            AeadAlg::Aes128Gcm => aes_gcm::Aes128Gcm::new_from_slice(key)
                .unwrap()
                .encrypt(&n, p),
            AeadAlg::Aes256Gcm => aes_gcm::Aes256Gcm::new_from_slice(key)
                .unwrap()
                .encrypt(&n, p),
            AeadAlg::ChaCha20Poly1305 => chacha20poly1305::ChaCha20Poly1305::new_from_slice(key)
                .unwrap()
                .encrypt(&n, p),
            AeadAlg::Aes128Ccm => Aes128Ccm::new_from_slice(key).unwrap().encrypt(&n, p),
            AeadAlg::Aes128Ccm8 => Aes128Ccm8::new_from_slice(key).unwrap().encrypt(&n, p),
            AeadAlg::Aes256Ccm => Aes256Ccm::new_from_slice(key).unwrap().encrypt(&n, p),
            AeadAlg::Aes256Ccm8 => Aes256Ccm8::new_from_slice(key).unwrap().encrypt(&n, p),
        }
        .unwrap()
    }

    /// A TLS 1.3 record: inner plaintext `content || type || zeros`, nonce `iv XOR seq`.
    fn seal13(
        alg: AeadAlg,
        keys: &TrafficKeys,
        seq: u64,
        ty: u8,
        content: &[u8],
        pad: usize,
    ) -> Vec<u8> {
        let mut inner = content.to_vec();
        inner.push(ty);
        inner.extend(std::iter::repeat_n(0, pad));
        let len = (inner.len() + alg.tag_len()) as u16;
        let mut record = vec![23, 3, 3];
        record.extend_from_slice(&len.to_be_bytes());
        let mut nonce = keys.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        let sealed = seal(alg, &keys.key, nonce, &record.clone(), &inner);
        record.extend_from_slice(&sealed);
        record
    }

    #[test]
    fn tls13_round_trip_every_suite_with_padding_and_key_update() {
        for id in 0x1301..=0x1305 {
            let suite = Tls13Suite::from_id(CipherSuite(id)).unwrap();
            let secret: Vec<u8> = (0..suite.hash.output_len() as u8).collect();
            let keys = tls13_traffic_keys(&suite, &secret).unwrap();
            let mut d = Tls13Decryptor::new(CipherSuite(id), &secret).unwrap();
            let r0 = seal13(suite.aead, &keys, 0, ALERT, &[2, 40], 0);
            let r1 = seal13(suite.aead, &keys, 1, HANDSHAKE, b"finished", 100);
            assert_eq!(
                d.decrypt_record(&r0),
                Ok(Plaintext {
                    content_type: ALERT,
                    data: vec![2, 40]
                }),
                "{id:#x}"
            );
            assert_eq!(d.decrypt_record(&r1).unwrap().data, b"finished");
            // A record with no content type at all.
            let empty = seal13(suite.aead, &keys, 2, 0, &[], 3);
            assert_eq!(d.decrypt_record(&empty), Err(RecordError::NoContentType));
            assert_eq!(d.sequence(), 2);

            let next = tls13_next_secret(&suite, &secret).unwrap();
            let keys = tls13_traffic_keys(&suite, &next).unwrap();
            d.key_update().unwrap();
            assert_eq!(d.sequence(), 0);
            let r = seal13(suite.aead, &keys, 0, 23, b"after update", 0);
            assert_eq!(d.decrypt_record(&r).unwrap().data, b"after update");
            // And the tag of a truncated tag fails cleanly.
            let cut = &r[5..r.len() - 1];
            assert_eq!(d.decrypt(23, TLS12, cut), Err(RecordError::Authentication));
        }
    }

    // ------------------------------------------------------------------------------------------
    // TLS 1.0 - 1.2: an independent sealer built from the RFC text and the RustCrypto primitives.
    // ------------------------------------------------------------------------------------------

    fn mac(alg: MacAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        match alg {
            MacAlg::Sha1 => {
                let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            MacAlg::Sha256 => {
                let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            MacAlg::Sha384 => {
                let mut m = <Hmac<Sha384> as KeyInit>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn cbc_encrypt(cipher: CbcCipher, key: &[u8], iv: &[u8], buf: &mut [u8]) {
        let len = buf.len();
        match cipher {
            CbcCipher::Aes128 => {
                cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                    .unwrap()
                    .encrypt_padded_mut::<NoPadding>(buf, len)
                    .unwrap();
            }
            CbcCipher::Aes256 => {
                cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                    .unwrap()
                    .encrypt_padded_mut::<NoPadding>(buf, len)
                    .unwrap();
            }
        }
    }

    /// What can go wrong on purpose.
    #[derive(Clone, Copy, PartialEq)]
    enum Fault {
        None,
        Padding,
    }

    /// One sender's side of a TLS 1.0-1.2 connection, sealing records as RFC 5246 §6.2.3 says.
    struct Sealer {
        keys: Tls12Keys,
        etm: bool,
        seq: u64,
        chained_iv: Vec<u8>,
    }

    impl Sealer {
        fn new(keys: &Tls12Keys, etm: bool) -> Sealer {
            Sealer {
                keys: keys.clone(),
                etm,
                seq: 0,
                chained_iv: keys.client.iv.clone(),
            }
        }

        fn seal(
            &mut self,
            ty: u8,
            content: &[u8],
            extra_pad_blocks: usize,
            fault: Fault,
        ) -> Vec<u8> {
            let own = &self.keys.client;
            let v = self.keys.version.0.to_be_bytes();
            let mut pseudo = self.seq.to_be_bytes().to_vec();
            pseudo.extend_from_slice(&[ty, v[0], v[1]]);
            let fragment = match self.keys.suite.protection {
                Protection::Aead(alg) => {
                    pseudo.extend_from_slice(&(content.len() as u16).to_be_bytes());
                    if alg == AeadAlg::ChaCha20Poly1305 {
                        let mut nonce: [u8; 12] = own.iv.as_slice().try_into().unwrap();
                        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                            *n ^= s;
                        }
                        seal(alg, &own.key, nonce, &pseudo, content)
                    } else {
                        // Any unique explicit nonce will do; senders often use the sequence.
                        let explicit = (self.seq ^ 0x5a5a).to_be_bytes();
                        let mut nonce = [0u8; 12];
                        nonce[..4].copy_from_slice(&own.iv);
                        nonce[4..].copy_from_slice(&explicit);
                        let mut f = explicit.to_vec();
                        f.extend(seal(alg, &own.key, nonce, &pseudo, content));
                        f
                    }
                }
                Protection::Cbc { cipher, mac: m } => {
                    let explicit = self.keys.version.0 >= 0x0302;
                    let iv: Vec<u8> = if explicit {
                        (0..16).map(|i| i as u8 ^ self.seq as u8).collect()
                    } else {
                        self.chained_iv.clone()
                    };
                    let mut plain = content.to_vec();
                    if !self.etm {
                        let mut input = pseudo.clone();
                        input.extend_from_slice(&(content.len() as u16).to_be_bytes());
                        input.extend_from_slice(content);
                        plain.extend(mac(m, &own.mac_key, &input));
                    }
                    let pad = 15 - plain.len() % 16 + 16 * extra_pad_blocks;
                    plain.extend(std::iter::repeat_n(pad as u8, pad + 1));
                    if fault == Fault::Padding {
                        let at = plain.len() - 2;
                        plain[at] ^= 0x80;
                    }
                    cbc_encrypt(cipher, &own.key, &iv, &mut plain);
                    if !explicit {
                        self.chained_iv = plain[plain.len() - 16..].to_vec();
                    }
                    let mut f = if explicit { iv } else { Vec::new() };
                    f.extend_from_slice(&plain);
                    if self.etm {
                        let mut input = pseudo.clone();
                        input.extend_from_slice(&(f.len() as u16).to_be_bytes());
                        input.extend_from_slice(&f);
                        f.extend(mac(m, &own.mac_key, &input));
                    }
                    f
                }
            };
            self.seq += 1;
            fragment
        }
    }

    fn keys(version: u16, suite: &Tls12Suite) -> Tls12Keys {
        let ms: Vec<u8> = (0..MASTER_SECRET_LEN as u8).collect();
        Tls12Keys::derive(TlsVersion(version), suite.suite, &ms, &[1; 32], &[2; 32]).unwrap()
    }

    /// Every (version, suite, encrypt-then-MAC) this crate claims, sealed and opened.
    fn every_combination() -> Vec<(u16, &'static Tls12Suite, bool)> {
        let mut all = Vec::new();
        for s in TLS12_SUITES {
            match s.protection {
                Protection::Aead(_) => all.push((0x0303, s, false)),
                Protection::Cbc { .. } => {
                    for v in [0x0301, 0x0302, 0x0303] {
                        all.push((v, s, false));
                        all.push((v, s, true));
                    }
                }
            }
        }
        all
    }

    #[test]
    fn tls12_round_trip_every_suite() {
        let long: Vec<u8> = (0..=255).cycle().take(1000).collect();
        for (v, s, etm) in every_combination() {
            let k = keys(v, s);
            let mut sealer = Sealer::new(&k, etm);
            let mut d = Tls12Decryptor::new(&k, Side::Client, etm).unwrap();
            let version = TlsVersion(v);
            for (i, (ty, content, extra)) in [
                (HANDSHAKE, &b"\x14\x00\x00\x0cverify data!"[..], 0),
                (23, &long[..], 2),
                (23, &[][..], 0),
                (ALERT, &[2, 20][..], 1),
            ]
            .into_iter()
            .enumerate()
            {
                let f = sealer.seal(ty, content, extra, Fault::None);
                assert_eq!(
                    d.decrypt(ty, version, &f),
                    Ok(Plaintext {
                        content_type: ty,
                        data: content.to_vec()
                    }),
                    "{} {v:#x} etm={etm} record {i}",
                    s.name
                );
            }
            assert_eq!(d.sequence(), 4);
        }
    }

    #[test]
    fn tls12_tampering_is_a_typed_error() {
        for (v, s, etm) in every_combination() {
            let k = keys(v, s);
            let ctx = format!("{} {v:#x} etm={etm}", s.name);
            let version = TlsVersion(v);
            let good = Sealer::new(&k, etm).seal(23, b"some application data", 0, Fault::None);
            let (bad_tag, too_short_need) = match s.protection {
                Protection::Aead(a) => {
                    let explicit = if a == AeadAlg::ChaCha20Poly1305 { 0 } else { 8 };
                    (RecordError::Authentication, explicit + a.tag_len())
                }
                Protection::Cbc { mac, .. } => {
                    let iv = if v >= 0x0302 { 16 } else { 0 };
                    let body = if etm {
                        16 + mac.output_len()
                    } else {
                        (mac.output_len() + 1).div_ceil(16) * 16
                    };
                    (RecordError::BadMac, iv + body)
                }
            };
            // The last byte is tag or MAC (EtM), or padding (MtE): either way the record fails.
            let mut flipped = good.clone();
            *flipped.last_mut().unwrap() ^= 1;
            let mut d = Tls12Decryptor::new(&k, Side::Client, etm).unwrap();
            assert!(d.decrypt(23, version, &flipped).is_err(), "{ctx}");
            // Type, version and sequence number are authenticated too.
            assert_eq!(d.decrypt(22, version, &good), Err(bad_tag.clone()), "{ctx}");
            assert_eq!(
                d.decrypt(23, TlsVersion(0x0300), &good),
                Err(bad_tag.clone()),
                "{ctx}"
            );
            d.set_sequence(1);
            assert_eq!(d.decrypt(23, version, &good), Err(bad_tag.clone()), "{ctx}");
            d.set_sequence(0);
            // The other direction's keys.
            let mut other = Tls12Decryptor::new(&k, Side::Server, etm).unwrap();
            assert!(other.decrypt(23, version, &good).is_err(), "{ctx}");
            // Too short, at every length below the least.
            for len in 0..too_short_need {
                assert_eq!(
                    d.decrypt(23, version, &good[..len]),
                    Err(RecordError::TooShort {
                        need: too_short_need,
                        have: len
                    }),
                    "{ctx} len {len}"
                );
            }
            // Failures left the decryptor as it was.
            assert_eq!(d.sequence(), 0);
            assert!(d.decrypt(23, version, &good).is_ok(), "{ctx}");
        }
    }

    #[test]
    fn tls12_cbc_padding_mac_and_alignment() {
        for (v, s, etm) in every_combination() {
            let Protection::Cbc { .. } = s.protection else {
                continue;
            };
            let k = keys(v, s);
            let ctx = format!("{} {v:#x} etm={etm}", s.name);
            let version = TlsVersion(v);
            // Wrong padding bytes, under a valid MAC when the MAC comes last (EtM).
            let bad = Sealer::new(&k, etm).seal(23, b"payload", 1, Fault::Padding);
            let mut d = Tls12Decryptor::new(&k, Side::Client, etm).unwrap();
            assert_eq!(
                d.decrypt(23, version, &bad),
                Err(RecordError::BadPadding),
                "{ctx}"
            );
            // A wrong MAC key and nothing else wrong.
            let mut wrong = k.clone();
            wrong.client.mac_key[0] ^= 1;
            let good = Sealer::new(&k, etm).seal(23, b"payload", 0, Fault::None);
            let mut d = Tls12Decryptor::new(&wrong, Side::Client, etm).unwrap();
            assert_eq!(
                d.decrypt(23, version, &good),
                Err(RecordError::BadMac),
                "{ctx}"
            );
            // One byte more than whole blocks.
            let mut d = Tls12Decryptor::new(&k, Side::Client, etm).unwrap();
            let mut odd = good.clone();
            if etm {
                // Keep the MAC valid so that alignment is what fails.
                let sealer = Sealer::new(&k, etm);
                let Protection::Cbc { mac: m, .. } = s.protection else {
                    unreachable!()
                };
                let body_len = good.len() - m.output_len() + 1;
                let mut body = good[..body_len - 1].to_vec();
                body.push(0);
                let mut input = 0u64.to_be_bytes().to_vec();
                input.extend_from_slice(&[23, (v >> 8) as u8, v as u8]);
                input.extend_from_slice(&(body.len() as u16).to_be_bytes());
                input.extend_from_slice(&body);
                body.extend(mac(m, &sealer.keys.client.mac_key, &input));
                odd = body;
            } else {
                odd.push(0);
            }
            assert!(
                matches!(
                    d.decrypt(23, version, &odd),
                    Err(RecordError::NotBlockAligned { block: 16, .. })
                ),
                "{ctx}"
            );
        }
    }

    #[test]
    fn tls10_cbc_chains_ivs_across_records() {
        let s = Tls12Suite::from_id(CipherSuite(0x002f)).unwrap();
        let k = keys(0x0301, s);
        let mut sealer = Sealer::new(&k, false);
        let r0 = sealer.seal(23, b"first", 0, Fault::None);
        let r1 = sealer.seal(23, b"second", 0, Fault::None);
        // Skipping the first record leaves the wrong IV for the second: its first block garbles.
        let mut d = Tls12Decryptor::new(&k, Side::Client, false).unwrap();
        d.set_sequence(1);
        assert!(d.decrypt(23, TlsVersion(0x0301), &r1).is_err());
        let mut d = Tls12Decryptor::new(&k, Side::Client, false).unwrap();
        assert_eq!(
            d.decrypt(23, TlsVersion(0x0301), &r0).unwrap().data,
            b"first"
        );
        assert_eq!(
            d.decrypt(23, TlsVersion(0x0301), &r1).unwrap().data,
            b"second"
        );
    }

    #[test]
    fn split_record_truncation_sweep() {
        let record = hex("16 03 01 00 02 01 00");
        assert_eq!(split_record(&record).unwrap().2, &[1, 0]);
        for len in 0..RECORD_HEADER_LEN {
            assert_eq!(
                split_record(&record[..len]),
                Err(RecordError::TooShort { need: 5, have: len })
            );
        }
        assert_eq!(
            split_record(&record[..6]),
            Err(RecordError::LengthMismatch { header: 2, have: 1 })
        );
    }
}
