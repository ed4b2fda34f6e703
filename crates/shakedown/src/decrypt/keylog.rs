//! NSS key log files (the `SSLKEYLOGFILE` format that browsers, curl, OpenSSL, rustls and Wireshark
//! read and write): one secret per line, `LABEL <client random hex> <secret hex>`, keyed by the
//! 32-byte random of the ClientHello that began the handshake (RFC 8446 §4.1.2).
//!
//! The same text arrives three ways: a file given by the user, a pcapng Decryption Secrets Block
//! (read by [`crate::capture`]), or bytes a program already holds. All three end in a [`KeyLog`].
//!
//! Bad lines are counted, never fatal (a key log is often several files concatenated, written by
//! different programs over months); memory is bounded by [`MAX_ENTRIES`]; secret bytes are never
//! printed and are overwritten with zeros when dropped.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroize;

/// A secret's key in a [`KeyLog`]: the client random and the label.
type Key = ([u8; CLIENT_RANDOM_LEN], Label);

/// Most secrets one [`KeyLog`] keeps (one per client random and label); secrets past it are
/// counted in [`KeyLogCounts::dropped`]. At about 90 bytes each plus the hash table's spare room,
/// a full log takes under 200 MiB. [`KeyLog::with_max_entries`] sets a smaller cap.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Most malformed lines listed with their line numbers ([`KeyLog::malformed_lines`]); all of
/// them are counted in [`KeyLogCounts::malformed`].
pub const MAX_LISTED_MALFORMED: usize = 10;

/// Bytes of a ClientHello random, the key of every key log line.
pub const CLIENT_RANDOM_LEN: usize = 32;

/// Longest secret any kept label has (a TLS 1.2 master secret, a SHA-384 TLS 1.3 secret).
const MAX_SECRET_LEN: usize = 48;

/// The key log labels whose secrets are kept. Lines with other labels (`EXPORTER_SECRET`,
/// `CLIENT_EARLY_TRAFFIC_SECRET`, `RSA`, `CLIENT_RANDOM`'s QUIC cousins...) are counted in
/// [`KeyLogCounts::ignored`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Label {
    /// `CLIENT_RANDOM`: the TLS 1.2 (and earlier) master secret, 48 bytes (RFC 5246 §8.1).
    ClientRandom,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`: RFC 8446 §7.1 `client_handshake_traffic_secret`, 32 or
    /// 48 bytes (the cipher suite's hash length).
    ClientHandshakeTrafficSecret,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`: RFC 8446 §7.1 `server_handshake_traffic_secret`.
    ServerHandshakeTrafficSecret,
    /// `CLIENT_TRAFFIC_SECRET_0`: RFC 8446 §7.1 `client_application_traffic_secret_0`.
    ClientTrafficSecret0,
    /// `SERVER_TRAFFIC_SECRET_0`: RFC 8446 §7.1 `server_application_traffic_secret_0`.
    ServerTrafficSecret0,
}

impl Label {
    /// Every kept label, in the order of [`Secrets`]' fields.
    pub const ALL: [Label; 5] = [
        Label::ClientRandom,
        Label::ClientHandshakeTrafficSecret,
        Label::ServerHandshakeTrafficSecret,
        Label::ClientTrafficSecret0,
        Label::ServerTrafficSecret0,
    ];

    /// The label as written in a key log, e.g. `CLIENT_TRAFFIC_SECRET_0`.
    pub fn name(self) -> &'static str {
        match self {
            Label::ClientRandom => "CLIENT_RANDOM",
            Label::ClientHandshakeTrafficSecret => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            Label::ServerHandshakeTrafficSecret => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            Label::ClientTrafficSecret0 => "CLIENT_TRAFFIC_SECRET_0",
            Label::ServerTrafficSecret0 => "SERVER_TRAFFIC_SECRET_0",
        }
    }

    /// The label written as `name` (exactly: labels are upper case).
    pub fn from_name(name: &str) -> Option<Label> {
        Label::from_bytes(name.as_bytes())
    }

    fn from_bytes(name: &[u8]) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.name().as_bytes() == name)
    }

    /// Whether a secret of `len` bytes fits the label: 48 for a master secret; 32 or 48 (SHA-256
    /// or SHA-384, the hashes of TLS 1.3's cipher suites) for a traffic secret.
    pub fn accepts_len(self, len: usize) -> bool {
        match self {
            Label::ClientRandom => len == 48,
            _ => len == 32 || len == 48,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One secret from a key log. Its `Debug` says only its length (`Secret(48 bytes)`), and it has no
/// `Display`, so logging a [`KeyLog`] or a [`Secrets`] never prints key material; its bytes are
/// overwritten with zeros when it is dropped.
///
/// ```
/// use shakedown::decrypt::{KeyLog, Label};
/// let random = [0x11; 32];
/// let log = KeyLog::parse(&format!("CLIENT_RANDOM {} {}\n", "11".repeat(32), "ab".repeat(48)));
/// let secret = log.secret(&random, Label::ClientRandom).expect("parsed");
/// assert_eq!(secret.as_bytes(), &[0xab; 48][..]);
/// assert_eq!(format!("{secret:?}"), "Secret(48 bytes)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    len: u8,
    bytes: [u8; MAX_SECRET_LEN],
}

impl Secret {
    /// The secret's bytes (32 or 48 of them).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// The secrets a key log holds for one client random, one field per [`Label`].
///
/// A TLS 1.2 connection needs `master_secret`; a TLS 1.3 one the four traffic secrets (the
/// handshake ones to read the server's certificate and the client's Finished, the application
/// ones for what follows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Secrets {
    /// `CLIENT_RANDOM`: the TLS 1.2 master secret.
    pub master_secret: Option<Secret>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake_traffic: Option<Secret>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake_traffic: Option<Secret>,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    pub client_traffic_0: Option<Secret>,
    /// `SERVER_TRAFFIC_SECRET_0`.
    pub server_traffic_0: Option<Secret>,
}

impl Secrets {
    /// The secret of `label`.
    pub fn by_label(&self, label: Label) -> Option<&Secret> {
        self.slot(label).as_ref()
    }

    /// Appends these secrets to `out` as NSS key log lines for `client_random`
    /// (`LABEL <random hex> <secret hex>\n`, lower-case hex, in the order of [`Label::ALL`]), e.g.
    /// to embed them in a pcapng Decryption Secrets Block
    /// ([`crate::capture::PcapNgWriter::write_tls_key_log`]). `out` then holds secrets: the caller
    /// decides where it goes, and should overwrite it when done.
    ///
    /// ```
    /// use shakedown::decrypt::KeyLog;
    /// let text = format!("CLIENT_RANDOM {} {}\n", "0a".repeat(32), "1b".repeat(48));
    /// let secrets = KeyLog::parse(&text).secrets(&[0x0a; 32]).expect("known random");
    /// let mut out = Vec::new();
    /// secrets.write_key_log(&[0x0a; 32], &mut out);
    /// assert_eq!(out, text.as_bytes());
    /// ```
    pub fn write_key_log(&self, client_random: &[u8; CLIENT_RANDOM_LEN], out: &mut Vec<u8>) {
        fn hex(bytes: &[u8], out: &mut Vec<u8>) {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            for b in bytes {
                out.push(DIGITS[usize::from(b >> 4)]);
                out.push(DIGITS[usize::from(b & 0x0f)]);
            }
        }
        for label in Label::ALL {
            if let Some(secret) = self.by_label(label) {
                out.extend_from_slice(label.name().as_bytes());
                out.push(b' ');
                hex(client_random, out);
                out.push(b' ');
                hex(secret.as_bytes(), out);
                out.push(b'\n');
            }
        }
    }

    /// Takes `other`'s secrets for the labels this one has none for.
    pub(crate) fn fill_from(&mut self, other: Secrets) {
        for label in Label::ALL {
            let slot = self.slot_mut(label);
            if slot.is_none() {
                *slot = other.slot(label).clone();
            }
        }
    }

    /// Whether no label has a secret.
    pub(crate) fn is_empty(&self) -> bool {
        Label::ALL.iter().all(|&l| self.slot(l).is_none())
    }

    fn slot(&self, label: Label) -> &Option<Secret> {
        match label {
            Label::ClientRandom => &self.master_secret,
            Label::ClientHandshakeTrafficSecret => &self.client_handshake_traffic,
            Label::ServerHandshakeTrafficSecret => &self.server_handshake_traffic,
            Label::ClientTrafficSecret0 => &self.client_traffic_0,
            Label::ServerTrafficSecret0 => &self.server_traffic_0,
        }
    }

    fn slot_mut(&mut self, label: Label) -> &mut Option<Secret> {
        match label {
            Label::ClientRandom => &mut self.master_secret,
            Label::ClientHandshakeTrafficSecret => &mut self.client_handshake_traffic,
            Label::ServerHandshakeTrafficSecret => &mut self.server_handshake_traffic,
            Label::ClientTrafficSecret0 => &mut self.client_traffic_0,
            Label::ServerTrafficSecret0 => &mut self.server_traffic_0,
        }
    }
}

/// Why a key log line was not read. Only lengths are given, never the line's text, which may
/// hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The first field is not a label: labels are upper-case ASCII letters, digits and `_`.
    #[error("the line does not start with a key log label")]
    NotALabel,
    /// A kept label with other than three whitespace-separated fields.
    #[error("a {label} line has {found} fields, not 3 (label, client random, secret)")]
    FieldCount {
        /// The line's label.
        label: Label,
        /// Fields found.
        found: usize,
    },
    /// The client random is not hex digits (or an odd number of them).
    #[error("the client random is not hex")]
    RandomNotHex,
    /// The client random is not 32 bytes.
    #[error("the client random has {found} bytes, not 32")]
    RandomLength {
        /// Bytes found (half the hex digits).
        found: usize,
    },
    /// The secret is not hex digits (or an odd number of them).
    #[error("the {label} secret is not hex")]
    SecretNotHex {
        /// The line's label.
        label: Label,
    },
    /// The secret's length does not fit the label ([`Label::accepts_len`]).
    #[error("a {label} secret has {found} bytes, which that label never has")]
    SecretLength {
        /// The line's label.
        label: Label,
        /// Bytes found (half the hex digits).
        found: usize,
    },
}

/// A line that was not read, and where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedLine {
    /// Which text added to the log it was in, 0 for the first (the order of
    /// [`KeyLog::parse`] / [`KeyLog::add`] calls; for a capture, of its Decryption Secrets Blocks).
    pub source: u32,
    /// 1-based line number within that text.
    pub line: u64,
    /// What was wrong.
    pub reason: Malformed,
}

impl fmt::Display for MalformedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What the lines added to a [`KeyLog`] were. Every line is exactly one of `skipped`, `secrets`,
/// `ignored` or `malformed`; every secret line was kept as a new entry, `replaced` an earlier one or
/// was `dropped`, so [`KeyLog::entries`] is `secrets - replaced - dropped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyLogCounts {
    /// Lines read (a last line without a newline counts; the empty "line" after a final newline
    /// does not).
    pub lines: u64,
    /// Blank lines and comments (first non-blank character `#`).
    pub skipped: u64,
    /// Well-formed lines with a kept [`Label`].
    pub secrets: u64,
    /// Of `secrets`: lines that replaced the secret an earlier line gave the same client random
    /// and label (the later line wins).
    pub replaced: u64,
    /// Of `secrets`: lines not kept because the log already held its maximum of entries.
    pub dropped: u64,
    /// Lines with another label (`EXPORTER_SECRET`, `CLIENT_EARLY_TRAFFIC_SECRET`, ...), whatever
    /// follows it.
    pub ignored: u64,
    /// Lines that could not be read ([`KeyLog::malformed_lines`] lists the first few).
    pub malformed: u64,
}

/// Secrets from NSS key log text, by client random.
///
/// Text is read line by line: `\n` or `\r\n` line ends, blank lines and `#` comments skipped, hex
/// in either case, any run of spaces or tabs between fields, a UTF-8 byte-order mark at the start
/// of a text ignored. A bad line is counted ([`KeyLog::counts`], [`KeyLog::malformed_lines`]) and
/// never stops the reading. When two lines give a secret for the same client random and label,
/// **the later one wins**, also across texts added later (a key log concatenated from several
/// files, or several Decryption Secrets Blocks). At most [`MAX_ENTRIES`] secrets are kept.
///
/// `Debug` shows counts, never secrets. Secrets are overwritten with zeros when dropped or replaced;
/// that is best effort: copies the hash table leaves behind when it grows, and the text the caller
/// passed in, are not.
///
/// ```
/// use shakedown::decrypt::{KeyLog, Label};
/// let random = "5e".repeat(32);
/// let text = format!(
///     "# written by curl\r\n\
///      CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}\r\n\
///      SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {}\r\n\
///      EXPORTER_SECRET {random} {}\r\n\
///      CLIENT_RANDOM not-hex 00\r\n",
///     "AA".repeat(32), "bb".repeat(32), "cc".repeat(32),
/// );
/// let mut log = KeyLog::parse(&text);
/// // More text, e.g. a second file: a later line for the same random and label wins.
/// log.add(format!("CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}\n", "dd".repeat(48)));
///
/// let secrets = log.secrets(&[0x5e; 32]).expect("known random");
/// assert_eq!(secrets.client_handshake_traffic.unwrap().as_bytes(), &[0xdd; 48][..]);
/// assert_eq!(secrets.server_handshake_traffic.unwrap().as_bytes(), &[0xbb; 32][..]);
/// assert!(secrets.master_secret.is_none());
/// assert!(log.secrets(&[0; 32]).is_none());
///
/// let counts = log.counts();
/// assert_eq!((counts.lines, counts.skipped, counts.secrets, counts.replaced), (6, 1, 3, 1));
/// assert_eq!((counts.ignored, counts.malformed, log.entries()), (1, 1, 2));
/// assert_eq!(log.malformed_lines()[0].to_string(), "line 5: the client random is not hex");
/// assert!(!format!("{log:?}").contains("bbbb"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyLog {
    /// Client random to its secrets. Keyed by random and label rather than random alone so that a
    /// TLS 1.2 log (one secret per random) takes ~90 bytes per entry, not the ~280 of a full
    /// [`Secrets`].
    secrets: HashMap<Key, Secret, foldhash::fast::RandomState>,
    /// For secrets read from a capture ([`KeyLog::add_from`]): the first frame each is for. A
    /// secret not listed is for every frame (a key log file's).
    known_from: HashMap<Key, u64, foldhash::fast::RandomState>,
    /// Secrets a text of a later frame replaced with another one, each with its first frame,
    /// oldest first: frames before the replacement still get them.
    earlier: HashMap<Key, Vec<(u64, Secret)>, foldhash::fast::RandomState>,
    max_entries: usize,
    counts: KeyLogCounts,
    malformed: Vec<MalformedLine>,
    /// Texts added so far (the next one's [`MalformedLine::source`]).
    texts: u32,
}

impl Default for KeyLog {
    fn default() -> Self {
        KeyLog::new()
    }
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("entries", &self.secrets.len())
            .field("max_entries", &self.max_entries)
            .field("counts", &self.counts)
            .field("malformed_lines", &self.malformed)
            .finish_non_exhaustive()
    }
}

impl KeyLog {
    /// An empty log keeping up to [`MAX_ENTRIES`] secrets.
    pub fn new() -> Self {
        KeyLog::with_max_entries(MAX_ENTRIES)
    }

    /// An empty log keeping up to `max_entries` secrets (one per client random and label).
    ///
    /// ```
    /// let mut log = shakedown::decrypt::KeyLog::with_max_entries(1);
    /// log.add(format!("CLIENT_RANDOM {} {}\n", "01".repeat(32), "00".repeat(48)));
    /// log.add(format!("CLIENT_RANDOM {} {}\n", "02".repeat(32), "00".repeat(48)));
    /// assert_eq!((log.entries(), log.counts().dropped), (1, 1));
    /// ```
    pub fn with_max_entries(max_entries: usize) -> Self {
        KeyLog {
            secrets: HashMap::default(),
            known_from: HashMap::default(),
            earlier: HashMap::default(),
            max_entries,
            counts: KeyLogCounts::default(),
            malformed: Vec::new(),
            texts: 0,
        }
    }

    /// Reads key log text (see [`KeyLog`] for the rules).
    pub fn parse(text: &str) -> Self {
        KeyLog::from_bytes(text.as_bytes())
    }

    /// Reads key log bytes: as [`KeyLog::parse`], without asking for UTF-8 (a line that is not
    /// ASCII is malformed, not the whole text).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut log = KeyLog::new();
        log.add(bytes);
        log
    }

    /// Reads more key log text into this log (another file, another Decryption Secrets Block):
    /// its lines are numbered from 1 again, as [`MalformedLine::source`] `n` for the `n`th text;
    /// its secrets replace earlier ones for the same client random and label.
    pub fn add(&mut self, text: impl AsRef<[u8]>) {
        self.add_from(text.as_ref(), 0);
    }

    /// [`KeyLog::add`] for a text that came before frame `from` of a capture (a Decryption Secrets
    /// Block): its secrets are for that frame and later ones ([`KeyLog::secret_at`]). A secret that
    /// replaces another one given for an earlier frame leaves that one to the frames before.
    pub(crate) fn add_from(&mut self, text: &[u8], from: u64) {
        let source = self.texts;
        self.texts = self.texts.saturating_add(1);
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        let mut lines = text.split(|&b| b == b'\n').peekable();
        let mut number = 0u64;
        while let Some(line) = lines.next() {
            // `split` gives an empty piece after a final newline: not a line.
            if line.is_empty() && lines.peek().is_none() {
                break;
            }
            number += 1;
            self.line(line, source, number, from);
        }
    }

    fn line(&mut self, line: &[u8], source: u32, number: u64, from: u64) {
        self.counts.lines += 1;
        match read_line(line) {
            Line::Skipped => self.counts.skipped += 1,
            Line::Ignored => self.counts.ignored += 1,
            Line::Malformed(reason) => {
                self.counts.malformed += 1;
                if self.malformed.len() < MAX_LISTED_MALFORMED {
                    self.malformed.push(MalformedLine {
                        source,
                        line: number,
                        reason,
                    });
                }
            }
            Line::Secret(label, random, secret) => {
                self.counts.secrets += 1;
                let key = (random, label);
                if let Some(old) = self.secrets.get_mut(&key) {
                    self.counts.replaced += 1;
                    let old_from = self.known_from.get(&key).copied().unwrap_or(0);
                    if *old == secret || old_from == from {
                        // The same secret again keeps its first frame; a different one for the same
                        // frames wins (the old one is zeroized as it is dropped).
                        *old = secret;
                        return;
                    }
                    let older = std::mem::replace(old, secret);
                    self.earlier.entry(key).or_default().push((old_from, older));
                    self.known_from.insert(key, from);
                } else if self.secrets.len() >= self.max_entries {
                    self.counts.dropped += 1;
                } else {
                    self.secrets.insert(key, secret);
                    if from > 0 {
                        self.known_from.insert(key, from);
                    }
                }
            }
        }
    }

    /// The secret for `label` of the handshake whose ClientHello random is `client_random`.
    pub fn secret(&self, client_random: &[u8; CLIENT_RANDOM_LEN], label: Label) -> Option<&Secret> {
        self.secrets.get(&(*client_random, label))
    }

    /// Every kept secret for `client_random`; `None` if there is none.
    pub fn secrets(&self, client_random: &[u8; CLIENT_RANDOM_LEN]) -> Option<Secrets> {
        self.secrets_at(client_random, u64::MAX)
    }

    /// The secret for `label` of `client_random` that a connection at frame `frame` of the capture
    /// gets: as [`KeyLog::secret`], leaving out what texts added for later frames gave
    /// ([`KeyLog::add_from`]; a key log file's secrets are for every frame).
    pub(crate) fn secret_at(
        &self,
        client_random: &[u8; CLIENT_RANDOM_LEN],
        label: Label,
        frame: u64,
    ) -> Option<&Secret> {
        let key = (*client_random, label);
        let latest = self.secrets.get(&key)?;
        if self.known_from.get(&key).is_none_or(|&from| from <= frame) {
            return Some(latest);
        }
        self.earlier
            .get(&key)?
            .iter()
            .rev()
            .find(|(from, _)| *from <= frame)
            .map(|(_, s)| s)
    }

    /// Every secret for `client_random` at frame `frame` ([`KeyLog::secret_at`]); `None` if there
    /// is none.
    pub(crate) fn secrets_at(
        &self,
        client_random: &[u8; CLIENT_RANDOM_LEN],
        frame: u64,
    ) -> Option<Secrets> {
        let mut found = Secrets::default();
        let mut any = false;
        for label in Label::ALL {
            if let Some(s) = self.secret_at(client_random, label, frame) {
                *found.slot_mut(label) = Some(s.clone());
                any = true;
            }
        }
        any.then_some(found)
    }

    /// Secrets kept (one per client random and label).
    pub fn entries(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no secret is kept.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The cap on [`KeyLog::entries`].
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// What the lines read so far were.
    pub fn counts(&self) -> KeyLogCounts {
        self.counts
    }

    /// The first [`MAX_LISTED_MALFORMED`] malformed lines, in the order read.
    pub fn malformed_lines(&self) -> &[MalformedLine] {
        &self.malformed
    }

    /// Texts read so far ([`KeyLog::parse`], [`KeyLog::from_bytes`] and each [`KeyLog::add`]).
    pub fn texts(&self) -> u32 {
        self.texts
    }
}

/// What one line is.
enum Line {
    Skipped,
    Ignored,
    Malformed(Malformed),
    Secret(Label, [u8; CLIENT_RANDOM_LEN], Secret),
}

fn read_line(line: &[u8]) -> Line {
    // ASCII whitespace includes the `\r` of a CRLF line end.
    let mut fields = line
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    let Some(first) = fields.next() else {
        return Line::Skipped;
    };
    if first.starts_with(b"#") {
        return Line::Skipped;
    }
    let Some(label) = Label::from_bytes(first) else {
        let label_like = first
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
        return if label_like {
            Line::Ignored
        } else {
            Line::Malformed(Malformed::NotALabel)
        };
    };
    let (Some(random), Some(secret), None) = (fields.next(), fields.next(), fields.next()) else {
        let found = line
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty())
            .count();
        return Line::Malformed(Malformed::FieldCount { label, found });
    };
    let Some(random_len) = hex_len(random) else {
        return Line::Malformed(Malformed::RandomNotHex);
    };
    let mut random_bytes = [0u8; CLIENT_RANDOM_LEN];
    if random_len != CLIENT_RANDOM_LEN || !unhex(random, &mut random_bytes) {
        return Line::Malformed(Malformed::RandomLength { found: random_len });
    }
    let Some(secret_len) = hex_len(secret) else {
        return Line::Malformed(Malformed::SecretNotHex { label });
    };
    let mut kept = Secret {
        len: 0,
        bytes: [0; MAX_SECRET_LEN],
    };
    let fits = kept
        .bytes
        .get_mut(..secret_len)
        .is_some_and(|to| unhex(secret, to));
    match u8::try_from(secret_len) {
        Ok(len) if fits && label.accepts_len(secret_len) => {
            kept.len = len;
            Line::Secret(label, random_bytes, kept)
        }
        _ => Line::Malformed(Malformed::SecretLength {
            label,
            found: secret_len,
        }),
    }
}

/// Bytes that `hex` spells, if it is an even number of hex digits.
fn hex_len(hex: &[u8]) -> Option<usize> {
    (hex.len().is_multiple_of(2) && hex.iter().all(u8::is_ascii_hexdigit)).then_some(hex.len() / 2)
}

/// Decodes `hex` (checked by [`hex_len`]) into `to`, which must be exactly its length.
fn unhex(hex: &[u8], to: &mut [u8]) -> bool {
    if hex.len() != to.len() * 2 {
        return false;
    }
    for (byte, pair) in to.iter_mut().zip(hex.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().and_then(|&c| nibble(c)),
            pair.get(1).and_then(|&c| nibble(c)),
        ) else {
            return false;
        };
        *byte = (hi << 4) | lo;
    }
    true
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[path = "keylog_tests.rs"]
mod tests;
