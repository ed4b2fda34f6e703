//! Reading protected records with a key log: between the record deframer and the handshake/alert
//! reader of [`super::TlsConnection`]. With the connection's secrets ([`crate::decrypt::KeyLog`], by
//! client random) each side's protected records are opened: TLS 1.3 with its traffic secrets
//! ([`crate::decrypt::record::Tls13Decryptor`]), TLS 1.0-1.2 from the master secret after each
//! side's ChangeCipherSpec ([`crate::decrypt::record::Tls12Decryptor`]). Handshake messages go to the
//! same parsers as plaintext ones (EncryptedExtensions, CertificateRequest, Certificate, Finished, ...),
//! alerts come out with their real level and description. After a side's Finished a few more records
//! are read (TLS 1.3: with its application keys, moved on by each KeyUpdate it sends), never the
//! bulk. Without keys nothing here runs.

use super::TlsEvent;
use super::codes::{AlertDescription, AlertLevel, CipherSuite, TlsVersion, content, hs};
use super::handshake::{Defragmenter, Message};
use super::message::{Negotiation, handshake_event};
use crate::decrypt::KeySource;
use crate::decrypt::record::{Plaintext, RecordError, Tls12Decryptor, Tls13Decryptor};
use crate::decrypt::schedule::Tls12Keys;
use crate::decrypt::source::Lookup;
use crate::{PerSide, Side};

/// Application records decrypted per side after its Finished (to read alerts and tickets that end a
/// handshake); the rest is only counted.
pub(crate) const APPLICATION_RECORDS_READ: u8 = 4;
/// The largest protected record body (RFC 8446 §5.2: 2^14 + 256).
const MAX_PROTECTED: usize = (1 << 14) + 256;

/// What decrypting with the key log came to, for the verdict (SCHEMA.md `tls.decryption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Decryption {
    /// Records of the connection were decrypted.
    Ok,
    /// No secret in the key log matches the connection's client random.
    NoKey,
    /// A secret matched, but a record did not authenticate with it (a wrong key log).
    Failed,
}

display_as_str!(Decryption);

impl Decryption {
    /// The SCHEMA.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decryption::Ok => "ok",
            Decryption::NoKey => "no_key",
            Decryption::Failed => "failed",
        }
    }
}

/// How one side's records are opened.
#[derive(Clone)]
enum Opener {
    /// TLS 1.3: handshake keys, then (after Finished) the application keys of `next_secret`.
    Tls13 {
        decryptor: Tls13Decryptor,
        next_secret: Option<Vec<u8>>,
    },
    /// TLS 1.0-1.2: from this side's ChangeCipherSpec on (`active`).
    Tls12 {
        decryptor: Tls12Decryptor,
        active: bool,
    },
}

impl Opener {
    fn open(
        &mut self,
        content_type: u8,
        version: TlsVersion,
        body: &[u8],
    ) -> Result<Plaintext, RecordError> {
        match self {
            Opener::Tls13 { decryptor, .. } => decryptor.decrypt(content_type, version, body),
            Opener::Tls12 { decryptor, .. } => decryptor.decrypt(content_type, version, body),
        }
    }
}

/// One side's reading state.
#[derive(Clone)]
struct Reader {
    opener: Opener,
    /// Whether this side's Finished was read (application records from here on).
    application: bool,
    /// Application records still to read.
    left: u8,
    /// Handshake messages of the decrypted stream.
    defrag: Defragmenter,
    /// The protected record being read: its content type, its header's version and its body.
    record: Option<(u8, TlsVersion, Vec<u8>)>,
}

impl Reader {
    fn new(opener: Opener, max_hs: usize) -> Box<Reader> {
        Box::new(Reader {
            opener,
            application: false,
            left: APPLICATION_RECORDS_READ,
            defrag: Defragmenter::new(max_hs),
            record: None,
        })
    }
}

/// The reading state of one connection.
#[derive(Clone)]
pub(crate) struct Reading {
    sides: PerSide<Option<Box<Reader>>>,
    suite: CipherSuite,
    pub(crate) status: Decryption,
    reported: bool,
    /// Whether decrypted application data is handed out ([`Reading::take_plaintext`]) rather than
    /// only counted.
    keep_plaintext: bool,
    /// Each side's decrypted application records not taken yet, oldest first.
    plaintext: PerSide<std::collections::VecDeque<Vec<u8>>>,
}

impl std::fmt::Debug for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reading")
            .field("suite", &self.suite)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Reading {
    /// Sets up reading after the ServerHello, from the secrets the key logs hold for the
    /// connection's client random as of frame `frame`. `None` when there is nothing to do: no
    /// random seen, no key log applies, or a suite or version this reader does not open (SSL 3.0,
    /// RC4, 3DES, ...).
    pub(crate) fn start(
        keys: &KeySource,
        frame: u64,
        neg: &Negotiation,
        max_hs: usize,
    ) -> Option<Reading> {
        let random = neg.client_random?;
        let suite = neg.suite?;
        let version = neg.version?;
        let secrets = match keys.lookup(&random, frame) {
            Lookup::NoKeyLog => return None,
            Lookup::Found(secrets) => secrets,
        };
        let mut reading = Reading {
            sides: PerSide::default(),
            suite,
            status: Decryption::NoKey,
            reported: false,
            keep_plaintext: false,
            plaintext: PerSide::default(),
        };
        let Some(secrets) = secrets else {
            return Some(reading);
        };
        if neg.is_tls13() {
            let reader = |hs: Option<&crate::decrypt::Secret>,
                          app: Option<&crate::decrypt::Secret>|
             -> Option<Box<Reader>> {
                let decryptor = Tls13Decryptor::new(suite, hs?.as_bytes()).ok()?;
                let next_secret = app.map(|s| s.as_bytes().to_vec());
                Some(Reader::new(
                    Opener::Tls13 {
                        decryptor,
                        next_secret,
                    },
                    max_hs,
                ))
            };
            reading.sides = PerSide::new(
                reader(
                    secrets.client_handshake_traffic.as_ref(),
                    secrets.client_traffic_0.as_ref(),
                ),
                reader(
                    secrets.server_handshake_traffic.as_ref(),
                    secrets.server_traffic_0.as_ref(),
                ),
            );
        } else {
            let server_random = neg.server_random?;
            let Some(master) = secrets.master_secret.as_ref() else {
                return Some(reading);
            };
            let keys =
                Tls12Keys::derive(version, suite, master.as_bytes(), &random, &server_random)
                    .ok()?;
            let reader = |side| {
                Tls12Decryptor::new(&keys, side, neg.encrypt_then_mac)
                    .ok()
                    .map(|decryptor| {
                        Reader::new(
                            Opener::Tls12 {
                                decryptor,
                                active: false,
                            },
                            max_hs,
                        )
                    })
            };
            reading.sides = PerSide::new(reader(Side::Client), reader(Side::Server));
        }
        if reading.sides.client.is_some() || reading.sides.server.is_some() {
            reading.status = Decryption::Ok;
        }
        Some(reading)
    }

    /// Hands out the decrypted application data of the first `records` application records of
    /// each side (after its Finished) in [`Reading::take_plaintext`], for a protocol read inside
    /// TLS (RDP's CredSSP).
    pub(crate) fn keep_plaintext(&mut self, records: u8) {
        self.keep_plaintext = true;
        for reader in [&mut self.sides.client, &mut self.sides.server]
            .into_iter()
            .flatten()
        {
            reader.left = records;
        }
    }

    /// The oldest decrypted application record of `side` not taken yet (each
    /// [`TlsEvent::DecryptedApplicationData`] has one, when plaintext is kept).
    pub(crate) fn take_plaintext(&mut self, side: Side) -> Option<Vec<u8>> {
        self.plaintext[side].pop_front()
    }

    /// Bytes of `side` were never captured: the records they held are lost, and with them the
    /// sequence numbers (and, for TLS 1.0's CBC, the IV chain) of what follows. Nothing more of
    /// the side is read; a record that no longer opens is not a wrong key.
    pub(crate) fn lost(&mut self, side: Side) {
        self.sides[side] = None;
    }

    /// TLS <= 1.2: `side` sent its ChangeCipherSpec; its records are protected from now on.
    pub(crate) fn change_cipher_spec(&mut self, side: Side) {
        if let Some(Opener::Tls12 { active, .. }) = self.sides[side].as_mut().map(|r| &mut r.opener)
        {
            *active = true;
        }
    }

    /// Whether `side`'s next protected record is to be read.
    pub(crate) fn reads(&self, side: Side) -> bool {
        self.sides[side].as_ref().is_some_and(|r| match r.opener {
            Opener::Tls13 { .. } => true,
            Opener::Tls12 { active, .. } => active,
        })
    }

    /// A protected record of `side` begins.
    pub(crate) fn begin(&mut self, side: Side, content_type: u8, version: TlsVersion) {
        if let Some(r) = self.sides[side].as_mut() {
            r.record = Some((content_type, version, Vec::new()));
        }
    }

    /// More of its body.
    pub(crate) fn body(&mut self, side: Side, bytes: &[u8]) {
        if let Some((_, _, buf)) = self.sides[side].as_mut().and_then(|r| r.record.as_mut()) {
            let room = MAX_PROTECTED.saturating_sub(buf.len());
            buf.extend_from_slice(bytes.get(..bytes.len().min(room)).unwrap_or_default());
        }
    }

    /// The record is complete: opens it and appends what it held to `out`. Returns `false` when it
    /// could not be read (then the caller reports it as it would without keys).
    pub(crate) fn end(
        &mut self,
        side: Side,
        neg: &mut Negotiation,
        out: &mut Vec<TlsEvent>,
    ) -> bool {
        let suite = self.suite;
        let Some(reader) = self.sides[side].as_mut() else {
            return false;
        };
        let Some((content_type, version, body)) = reader.record.take() else {
            return false;
        };
        let plain = match reader.opener.open(content_type, version, &body) {
            Ok(p) => p,
            Err(_) => {
                // A wrong key never changes a verdict: say it failed and read nothing more.
                self.status = Decryption::Failed;
                self.sides = PerSide::default();
                self.report(out);
                return false;
            }
        };
        self.report(out);
        let Some(reader) = self.sides[side].as_mut() else {
            return true;
        };
        let mut finished = false;
        let mut key_update = false;
        match plain.content_type {
            content::HANDSHAKE => {
                let record_version = version;
                reader.defrag.push(&plain.data, |m| match m {
                    Message::Complete { msg_type, body } => {
                        finished |= msg_type == hs::FINISHED;
                        key_update |= msg_type == hs::KEY_UPDATE;
                        let event = handshake_event(side, msg_type, body, record_version, neg);
                        out.push(TlsEvent::Decrypted(Box::new(event)));
                    }
                    Message::Oversized { msg_type, len } => {
                        out.push(TlsEvent::OversizedHandshake { msg_type, len });
                    }
                });
            }
            content::ALERT => match plain.data[..] {
                [level, description] => out.push(TlsEvent::DecryptedAlert {
                    level: AlertLevel(level),
                    description: AlertDescription(description),
                }),
                _ => out.push(TlsEvent::Malformed {
                    what: "decrypted alert",
                }),
            },
            _ => {
                out.push(TlsEvent::DecryptedApplicationData {
                    len: u16::try_from(plain.data.len()).unwrap_or(u16::MAX),
                });
                if self.keep_plaintext {
                    self.plaintext[side].push_back(plain.data);
                }
                reader.left = reader.left.saturating_sub(1);
                if reader.left == 0 {
                    self.sides[side] = None;
                    return true;
                }
            }
        }
        if finished {
            reader.application = true;
            if let Opener::Tls13 {
                decryptor,
                next_secret,
            } = &mut reader.opener
            {
                // TLS 1.3: this side's application keys from the next record on (RFC 8446 §7.1).
                match next_secret
                    .take()
                    .and_then(|secret| Tls13Decryptor::new(suite, &secret).ok())
                {
                    Some(next) => {
                        *decryptor = next;
                        reader.defrag.reset();
                    }
                    None => self.sides[side] = None,
                }
            }
        } else if key_update && reader.application {
            // TLS 1.3: the sender's next traffic secret from its next record on (RFC 8446 §7.2; a
            // KeyUpdate ends its record, §5.1). Should it not derive, the side is no longer read,
            // as after a loss: the keys were right up to here.
            if let Opener::Tls13 { decryptor, .. } = &mut reader.opener {
                match decryptor.key_update() {
                    Ok(()) => reader.defrag.reset(),
                    Err(_) => self.sides[side] = None,
                }
            }
        }
        true
    }

    /// Says once how decryption went.
    fn report(&mut self, out: &mut Vec<TlsEvent>) {
        if !self.reported || self.status == Decryption::Failed {
            self.reported = true;
            out.push(TlsEvent::Decryption(self.status));
        }
    }

    /// Says it when no key matched (called once the connection has its keys or not).
    pub(crate) fn report_no_key(&mut self, out: &mut Vec<TlsEvent>) {
        if self.status == Decryption::NoKey {
            self.report(out);
        }
    }
}
