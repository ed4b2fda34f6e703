//! TLS fingerprints computed from the parsed hellos: JA3 and JA4 of a [`ClientHello`], JA3S of a
//! [`ServerHello`]. They sit at the end of the TLS data flow (after `hello` parsed a message) and
//! feed the JSON record, the text report and the CLI's summary, where they group failures by client
//! software. Every hello gets one, whether or not the handshake completed.
//!
//! - **JA3** (Salesforce, 2017): `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`,
//!   every value in decimal, list items joined by `-`, GREASE values (RFC 8701) removed; the
//!   fingerprint is the MD5 of that string in lowercase hex.
//! - **JA3S**: `SSLVersion,Cipher,Extensions` of the ServerHello, same rules.
//! - **JA4** (FoxIO, `technical_details/JA4.md` of the FoxIO-LLC/ja4 repository): `t`, the version,
//!   `d`/`i` for SNI, cipher and extension counts, the first ALPN's first and last character, then
//!   truncated SHA-256 hashes of the sorted cipher list and of the sorted extension list followed by
//!   the signature algorithms.
//!
//! These match Wireshark's `tls.handshake.ja3_full`, `tls.handshake.ja3`, `tls.handshake.ja3s_full`
//! and `tls.handshake.ja3s` (the `tests/fingerprints.rs` check compares them on every fixture).
//!
//! SSLv2-format ClientHellos (RFC 5246 §E.2) have no extensions: their JA3 is
//! `version,ciphers,,,` where the ciphers are the TLS cipher specs (first byte 0) the hello lists, and
//! their JA4 uses the same suites, the legacy version, `i`, zero extensions, `00` for ALPN and
//! `000000000000` for the extension hash. Wireshark computes no JA3 for them.
//!
//! Three deliberate readings of the JA4 text: ALPN letters are lowercased (the reference
//! implementation prints `h2` for a client offering `H2`); the version is the numerically highest non-GREASE
//! supported_versions entry (so a TLS 1.3 *draft* client gets `00`, "unknown", exactly as the spec and
//! its reference implementation do), and the ALPN rule reads the first protocol's bytes as sent
//! ([`ClientHello::alpn_raw`]), never the display strings of [`ClientHello::alpn`]: a lossy UTF-8
//! decoding would turn a non-UTF-8 name into U+FFFD bytes (`ef bf bd`) and print `eb` where the spec
//! asks for the first and last hex digit of the real value (`0xBA 0xAD` gives `bd`).
//!
//! The ALPN rule follows the text of the spec (`technical_details/JA4.md`, "ALPN Extension Value"),
//! not every FoxIO tool: their Python tool still prints `9` for a non-ASCII character (FoxIO-LLC/ja4
//! issue #326), older releases of their Rust tool did too and printed `0` for the missing last
//! character of a one-byte value; s2n-tls follows the spec as here. So: no ALPN or an empty first
//! value gives `00`, a single alphanumeric byte is both first and last (`x` gives `xx`), and a single
//! other byte gives its two hex digits (`0xAB` gives `ab`).

use std::cell::RefCell;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::digits::decimal;
use crate::recent::Recent;

use super::codes::{CipherSuite, ext};
use super::hello::{ClientHello, ServerHello};

/// A JA3 or JA3S fingerprint: the comma-separated string and its MD5.
///
/// ```
/// use shakedown::tls::{CipherSuite, ServerHello, TlsVersion};
/// // The hello types are `#[non_exhaustive]`: start from a default and set what matters.
/// let mut sh = ServerHello::default();
/// sh.legacy_version = TlsVersion::TLS12;
/// sh.cipher_suite = CipherSuite(0xc02f);
/// sh.extensions = vec![65281, 0, 11];
/// let ja3s = sh.ja3s();
/// assert_eq!(ja3s.full, "771,49199,65281-0-11");
/// assert_eq!(ja3s.hash.len(), 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ja3 {
    /// The fingerprint string (Wireshark's `ja3_full` / `ja3s_full`).
    pub full: String,
    /// MD5 of `full`, 32 lowercase hex digits (Wireshark's `ja3` / `ja3s`).
    pub hash: String,
}

impl Ja3 {
    fn of(full: String) -> Ja3 {
        let hash = hex(&digest(&full, |m| &mut m.md5, |s| Md5::digest(s).into()));
        Ja3 { full, hash }
    }
}

/// Digests worked out lately, by the string digested ([`Recent`]): the same hellos come back on
/// many connections (one client software, one server), and a digest costs far more than a look-up.
struct Memo {
    md5: Recent<String, [u8; 16]>,
    sha256: Recent<String, [u8; 32]>,
}

/// Most digests a [`Memo`] table holds.
const MEMO_ENTRIES: usize = 1024;
/// Longest input kept in a [`Memo`] (a hostile hello's lists can be far longer).
const MEMO_MAX_INPUT: usize = 2048;

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        md5: Recent::new(MEMO_ENTRIES, MEMO_MAX_INPUT),
        sha256: Recent::new(MEMO_ENTRIES, MEMO_MAX_INPUT),
    });
}

/// The digest of `s` by `compute`, from the thread's memo when it was worked out lately.
fn digest<const N: usize>(
    s: &str,
    table: fn(&mut Memo) -> &mut Recent<String, [u8; N]>,
    compute: fn(&[u8]) -> [u8; N],
) -> [u8; N] {
    MEMO.with_borrow_mut(|memo| table(memo).get_or_make(s, || compute(s.as_bytes())))
}

impl std::fmt::Display for Ja3 {
    /// The MD5 (the usual way a JA3 is quoted).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hash)
    }
}

/// RFC 8701 GREASE: `0x?a?a` with both bytes equal.
fn grease(v: u16) -> bool {
    CipherSuite(v).is_grease()
}

// The fingerprints are computed for every hello the JSON record and the reports show, so the
// string building below appends digits by hand rather than through `fmt`.

/// Appends a byte as two lowercase hex digits.
fn push_hex_byte(s: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    s.push(char::from(DIGITS[usize::from(b >> 4)]));
    s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
}

/// Appends a value in decimal.
fn push_dec(s: &mut String, v: u16) {
    s.extend(decimal(v, &mut [0; 5]).iter().map(|&d| char::from(d)));
}

/// Appends a JA4 count: two decimal digits, at most `99`.
fn push_count(s: &mut String, n: usize) {
    let n = n.min(99);
    // Both are single digits.
    s.push(char::from(b'0' + (n / 10) as u8));
    s.push(char::from(b'0' + (n % 10) as u8));
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        push_hex_byte(&mut s, b);
    }
    s
}

/// Appends decimal values joined with `-` (a JA3 list).
fn push_dec_list(s: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push('-');
        }
        push_dec(s, v);
    }
}

/// Joins 4-digit lowercase hex values with `,` (a JA4 list).
fn hex_list(values: &[u16]) -> String {
    let mut s = String::with_capacity(values.len() * 5);
    push_hex_list(&mut s, values.iter().copied());
    s
}

/// Appends 4-digit lowercase hex values joined with `,`.
fn push_hex_list(s: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push(',');
        }
        let [hi, lo] = v.to_be_bytes();
        push_hex_byte(s, hi);
        push_hex_byte(s, lo);
    }
}

/// Appends the first 12 hex digits of SHA-256, or `000000000000` for an empty input (JA4 "no
/// values").
fn push_sha256_12(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push_str("000000000000");
        return;
    }
    let d = digest(s, |m| &mut m.sha256, |b| Sha256::digest(b).into());
    for &b in d.iter().take(6) {
        push_hex_byte(out, b);
    }
}

/// The first 12 hex digits of SHA-256, or `000000000000` for an empty input.
#[cfg(test)]
fn sha256_12(s: &str) -> String {
    let mut out = String::with_capacity(12);
    push_sha256_12(&mut out, s);
    out
}

/// JA4's two ALPN characters from the first ALPN protocol's bytes: `00` when absent or empty; the
/// first and last byte (lowercased) when both are ASCII alphanumeric; else the first and last hex
/// digit of the whole value.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(bytes) = first else {
        return "00".into();
    };
    let (Some(&a), Some(&z)) = (bytes.first(), bytes.last()) else {
        return "00".into();
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        // Lowercased: the reference implementation's published output for a client offering `H2`
        // (badcurveball.pcap) is `h2`, and the whole fingerprint is lowercase.
        return [char::from(a), char::from(z)]
            .iter()
            .map(char::to_ascii_lowercase)
            .collect();
    }
    let h = hex(bytes);
    let mut chars = h.chars();
    match (chars.next(), chars.next_back()) {
        (Some(a), Some(z)) => [a, z].iter().collect(),
        _ => "00".into(),
    }
}

/// JA4's two-character version: `13`, `12`, `11`, `10`, `s3`, `s2`, else `00`.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        _ => "00",
    }
}

/// The parts of a JA4: prefix (`t13d1516h2`), sorted cipher list, sorted extensions `_` sig algs.
struct Ja4Parts {
    prefix: String,
    ciphers: String,
    extensions: String,
}

impl ClientHello {
    /// The JA3 fingerprint of this ClientHello: `SSLVersion,Ciphers,Extensions,EllipticCurves,
    /// EllipticCurvePointFormats` in decimal without GREASE values, and its MD5. Equal to
    /// Wireshark's `tls.handshake.ja3_full` and `tls.handshake.ja3`.
    ///
    /// ```
    /// use shakedown::tls::{CipherSuite, ClientHello, NamedGroup, TlsVersion};
    /// let mut ch = ClientHello::default();
    /// ch.legacy_version = TlsVersion::TLS12;
    /// ch.cipher_suites = vec![CipherSuite(0x0a0a), CipherSuite(0xc02f), CipherSuite(0x009c)];
    /// ch.extensions = vec![0x1a1a, 0, 10, 11];
    /// ch.supported_groups = vec![NamedGroup(0x2a2a), NamedGroup(29), NamedGroup(23)];
    /// ch.ec_point_formats = vec![0];
    /// let ja3 = ch.ja3();
    /// assert_eq!(ja3.full, "771,49199-156,0-10-11,29-23,0");
    /// assert_eq!(ja3.hash.len(), 32); // MD5 of `full`, lowercase hex
    /// ```
    pub fn ja3(&self) -> Ja3 {
        // At most 6 characters a value, with its separator.
        let mut full = String::with_capacity(
            6 * (1
                + self.cipher_suites.len()
                + self.extensions.len()
                + self.supported_groups.len()
                + self.ec_point_formats.len()),
        );
        push_dec(&mut full, self.legacy_version.0);
        full.push(',');
        push_dec_list(
            &mut full,
            self.cipher_suites
                .iter()
                .map(|c| c.0)
                .filter(|&c| !grease(c)),
        );
        full.push(',');
        push_dec_list(
            &mut full,
            self.extensions.iter().copied().filter(|&e| !grease(e)),
        );
        full.push(',');
        push_dec_list(
            &mut full,
            self.supported_groups
                .iter()
                .map(|g| g.0)
                .filter(|&g| !grease(g)),
        );
        full.push(',');
        push_dec_list(
            &mut full,
            self.ec_point_formats.iter().map(|&f| u16::from(f)),
        );
        Ja3::of(full)
    }

    /// The bytes of the first ALPN protocol as sent. A hello built by hand may fill only
    /// [`ClientHello::alpn`]; its strings' bytes stand in then (they are exact for valid UTF-8).
    fn first_alpn(&self) -> Option<&[u8]> {
        match self.alpn_raw.first() {
            Some(raw) => Some(raw),
            None => self.alpn.first().map(String::as_bytes),
        }
    }

    fn ja4_parts(&self) -> Ja4Parts {
        let version = self
            .supported_versions
            .iter()
            .map(|v| v.0)
            .filter(|&v| !grease(v))
            .max()
            .unwrap_or(self.legacy_version.0);
        let mut ciphers = Vec::with_capacity(self.cipher_suites.len());
        ciphers.extend(
            self.cipher_suites
                .iter()
                .map(|c| c.0)
                .filter(|&c| !grease(c)),
        );
        let all_exts = || self.extensions.iter().copied().filter(|&e| !grease(e));
        let sni = if all_exts().any(|e| e == ext::SERVER_NAME) {
            'd'
        } else {
            'i'
        };
        let alpn = ja4_alpn(self.first_alpn());
        // `t13d1516h2`, with room for the two hashes `ja4` appends.
        let mut prefix = String::with_capacity(36);
        prefix.push('t');
        prefix.push_str(ja4_version(version));
        prefix.push(sni);
        push_count(&mut prefix, ciphers.len());
        push_count(&mut prefix, all_exts().count());
        prefix.push_str(&alpn);
        ciphers.sort_unstable();
        let mut exts = Vec::with_capacity(self.extensions.len());
        exts.extend(all_exts().filter(|&e| e != ext::SERVER_NAME && e != ext::ALPN));
        exts.sort_unstable();
        let sigs = || {
            self.signature_algorithms
                .iter()
                .map(|s| s.0)
                .filter(|&s| !grease(s))
        };
        let mut extensions =
            String::with_capacity(5 * (exts.len() + self.signature_algorithms.len()));
        push_hex_list(&mut extensions, exts.iter().copied());
        // The spec: "if there are no signature algorithms ... the string ends without an underscore".
        if sigs().next().is_some() && !exts.is_empty() {
            extensions.push('_');
            push_hex_list(&mut extensions, sigs());
        }
        Ja4Parts {
            prefix,
            ciphers: hex_list(&ciphers),
            extensions,
        }
    }

    /// The JA4 fingerprint of this ClientHello over TCP (FoxIO's JA4 specification), e.g.
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`. GREASE values are ignored everywhere; an empty cipher
    /// or extension list hashes to `000000000000`. The ALPN characters come from the first entry of
    /// [`ClientHello::alpn_raw`] (of [`ClientHello::alpn`] when `alpn_raw` is empty).
    ///
    /// ```
    /// use shakedown::tls::{CipherSuite, ClientHello, SignatureScheme, TlsVersion};
    /// // The example of the JA4 specification.
    /// let mut ch = ClientHello::default();
    /// ch.legacy_version = TlsVersion::TLS12;
    /// ch.supported_versions = vec![TlsVersion(0x4a4a), TlsVersion::TLS13, TlsVersion::TLS12];
    /// ch.cipher_suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    ///     0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035].map(CipherSuite).to_vec();
    /// ch.extensions = vec![0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
    ///     0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
    /// ch.alpn = vec!["h2".into(), "http/1.1".into()];
    /// ch.signature_algorithms = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    ///     .map(SignatureScheme).to_vec();
    /// assert_eq!(ch.ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    /// ```
    pub fn ja4(&self) -> String {
        let p = self.ja4_parts();
        let mut ja4 = p.prefix;
        ja4.push('_');
        push_sha256_12(&mut ja4, &p.ciphers);
        ja4.push('_');
        push_sha256_12(&mut ja4, &p.extensions);
        ja4
    }

    /// The unhashed JA4 (the spec's `JA4_r`): the prefix, the sorted cipher list, then the sorted
    /// extension list and the signature algorithms, e.g.
    /// `t13d1516h2_002f,0035,…_0005,000a,…,ff01_0403,0804,…`.
    pub fn ja4_raw(&self) -> String {
        let p = self.ja4_parts();
        format!("{}_{}_{}", p.prefix, p.ciphers, p.extensions)
    }
}

impl ServerHello {
    /// The JA3S fingerprint of this ServerHello (also of a HelloRetryRequest):
    /// `SSLVersion,Cipher,Extensions` in decimal without GREASE values, and its MD5. Equal to
    /// Wireshark's `tls.handshake.ja3s_full` and `tls.handshake.ja3s`. See [`Ja3`] for an example.
    pub fn ja3s(&self) -> Ja3 {
        let mut full = String::with_capacity(6 * (2 + self.extensions.len()));
        push_dec(&mut full, self.legacy_version.0);
        full.push(',');
        push_dec(&mut full, self.cipher_suite.0);
        full.push(',');
        push_dec_list(
            &mut full,
            self.extensions.iter().copied().filter(|&e| !grease(e)),
        );
        Ja3::of(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{NamedGroup, SignatureScheme, TlsVersion};

    #[test]
    fn digests_from_the_memo_are_those_worked_out_and_the_memo_stays_bounded() {
        let md5 = |s: &str| digest(s, |m| &mut m.md5, |b| Md5::digest(b).into());
        let plain = |s: &str| -> [u8; 16] { Md5::digest(s.as_bytes()).into() };
        // Worked out, then taken from the memo: the same either way.
        assert_eq!(
            md5("771,4865-4866,0-10,29,0"),
            plain("771,4865-4866,0-10,29,0")
        );
        assert_eq!(
            md5("771,4865-4866,0-10,29,0"),
            plain("771,4865-4866,0-10,29,0")
        );
        let long = "1-".repeat(MEMO_MAX_INPUT);
        assert_eq!(md5(&long), plain(&long));
        for i in 0..3 * MEMO_ENTRIES {
            let s = format!("771,{i}");
            assert_eq!(md5(&s), plain(&s));
        }
        MEMO.with_borrow(|m| {
            assert!(m.md5.len() <= MEMO_ENTRIES, "{}", m.md5.len());
            assert!(m.md5.keys().all(|k| k.len() <= MEMO_MAX_INPUT));
        });
        // The spec's answer, worked out once and then taken from the memo.
        let ch = spec_hello();
        for _ in 0..2 {
            assert_eq!(ch.ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
            let ja3 = ch.ja3();
            assert_eq!(
                ja3.hash,
                plain(&ja3.full)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            );
        }
    }

    /// The ClientHello of the JA4 specification's example (technical_details/JA4.md).
    fn spec_hello() -> ClientHello {
        ClientHello {
            legacy_version: TlsVersion::TLS12,
            supported_versions: vec![TlsVersion(0xfafa), TlsVersion::TLS13, TlsVersion::TLS12],
            cipher_suites: [
                0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ]
            .map(CipherSuite)
            .to_vec(),
            extensions: vec![
                0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
                0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xdada,
            ],
            sni: Some("example.com".into()),
            alpn: vec!["h2".into(), "http/1.1".into()],
            signature_algorithms: [
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ]
            .map(SignatureScheme)
            .to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn ja4_spec_example() {
        let ch = spec_hello();
        assert_eq!(ch.ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(
            ch.ja4_raw(),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_\
             0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
             0403,0804,0401,0503,0805,0501,0806,0601"
        );
    }

    #[test]
    fn ja4_spec_partial_hashes() {
        // The spec's worked values: the cipher hash, and the extension hash without sig algs.
        assert_eq!(
            sha256_12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
        let mut ch = spec_hello();
        ch.signature_algorithms.clear();
        assert!(ch.ja4().ends_with("_6d807ffa2a79"), "{}", ch.ja4());
        assert_eq!(
            hex(&Sha256::digest(
                b"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
                  0403,0804,0401,0503,0805,0501,0806,0601"
            )),
            "e5627efa2ab19723084c1033a96c694a45826ab5a460d2d3fd5ffcfe97161c95"
        );
    }

    #[test]
    fn ja4_alpn_rules_of_the_spec() {
        assert_eq!(ja4_alpn(None), "00");
        assert_eq!(ja4_alpn(Some(b"")), "00");
        assert_eq!(ja4_alpn(Some(b"h2")), "h2");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(Some(b"x")), "xx");
        assert_eq!(ja4_alpn(Some(b"H2")), "h2");
        assert_eq!(ja4_alpn(Some(&[0xab])), "ab");
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab])), "3b");
        assert_eq!(ja4_alpn(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
    }

    /// A ClientHello body (after the handshake header) as a client sends it: TLS 1.2, one suite,
    /// and an ALPN extension listing `alpn` when given, no extension at all otherwise.
    fn hello_body(alpn: Option<&[&[u8]]>) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x11; 32]); // random
        body.push(0); // no session id
        body.extend_from_slice(&[0x00, 0x02, 0xc0, 0x2f]); // one suite
        body.extend_from_slice(&[0x01, 0x00]); // null compression
        let mut exts = Vec::new();
        if let Some(protocols) = alpn {
            let mut list = Vec::new();
            for p in protocols {
                list.push(u8::try_from(p.len()).unwrap());
                list.extend_from_slice(p);
            }
            let list_len = u16::try_from(list.len()).unwrap();
            exts.extend_from_slice(&ext::ALPN.to_be_bytes());
            exts.extend_from_slice(&(list_len + 2).to_be_bytes());
            exts.extend_from_slice(&list_len.to_be_bytes());
            exts.extend_from_slice(&list);
        }
        body.extend_from_slice(&u16::try_from(exts.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&exts);
        body
    }

    /// The JA4 `a` part of the hello [`hello_body`] builds, through the ClientHello parser.
    fn ja4_a_of(alpn: Option<&[&[u8]]>) -> String {
        let ch = crate::tls::hello::parse_client_hello(&hello_body(alpn), TlsVersion::TLS12)
            .expect("a well-formed hello");
        let ja4 = ch.ja4();
        ja4.split('_').next().unwrap_or_default().to_string()
    }

    #[test]
    fn ja4_alpn_from_the_raw_bytes_of_a_parsed_hello() {
        // Not UTF-8: the hex digits of the value itself, not those of the U+FFFD replacements.
        assert_eq!(ja4_a_of(Some(&[&[0xba, 0xad]])), "t12i0101bd");
        // Only the first value counts.
        assert_eq!(ja4_a_of(Some(&[&[0xba, 0xad], b"h2"])), "t12i0101bd");
        // A non-alphanumeric first byte with an alphanumeric last one: hex of the whole value.
        assert_eq!(ja4_a_of(Some(&[b"_h3"])), "t12i010153"); // 5f 68 33
        assert_eq!(ja4_a_of(Some(&[&[0xff, b'a', b'z']])), "t12i0101fa");
        assert_eq!(ja4_a_of(Some(&[b"h2", b"http/1.1"])), "t12i0101h2");
        assert_eq!(ja4_a_of(Some(&[b"http/1.1"])), "t12i0101h1");
        // A single alphanumeric byte is both first and last; a single other byte gives its hex.
        assert_eq!(ja4_a_of(Some(&[b"x"])), "t12i0101xx");
        assert_eq!(ja4_a_of(Some(&[&[0xab]])), "t12i0101ab");
        // An empty first value, an empty list, no ALPN extension: `00`.
        assert_eq!(ja4_a_of(Some(&[b"", b"h2"])), "t12i010100");
        assert_eq!(ja4_a_of(Some(&[])), "t12i010100");
        assert_eq!(ja4_a_of(None), "t12i010000");
    }

    #[test]
    fn alpn_display_strings_stay_lossy_while_the_raw_bytes_are_kept() {
        let body = hello_body(Some(&[&[0xba, 0xad], b"h2"]));
        let ch = crate::tls::hello::parse_client_hello(&body, TlsVersion::TLS12).unwrap();
        assert_eq!(ch.alpn, ["\u{fffd}\u{fffd}", "h2"]);
        assert_eq!(ch.alpn_raw, [vec![0xba, 0xad], b"h2".to_vec()]);
    }

    #[test]
    fn ja4_alpn_of_a_hand_built_hello_without_raw_bytes() {
        // `alpn_raw` empty: the display strings stand in.
        let mut ch = spec_hello();
        assert!(ch.alpn_raw.is_empty());
        assert!(ch.ja4().starts_with("t13d1516h2_"), "{}", ch.ja4());
        // Both filled: the raw bytes win.
        ch.alpn_raw = vec![vec![0xba, 0xad]];
        assert!(ch.ja4().starts_with("t13d1516bd_"), "{}", ch.ja4());
    }

    #[test]
    fn ja4_edge_cases() {
        // No SNI, no ALPN, legacy version only, 100+ suites, nothing but SNI/ALPN extensions.
        let ch = ClientHello {
            legacy_version: TlsVersion::TLS10,
            cipher_suites: (1..=120).map(CipherSuite).collect(),
            extensions: vec![0x0010],
            ..Default::default()
        };
        let ja4 = ch.ja4();
        assert!(ja4.starts_with("t10i9901"), "{ja4}");
        assert!(ja4.ends_with("_000000000000"), "{ja4}");
        // Nothing at all.
        let empty = ClientHello::default();
        assert_eq!(empty.ja4(), "t00i000000_000000000000_000000000000");
        // SSL 3.0, SSL 2.0, drafts.
        for (v, s) in [
            (0x0300, "ts3"),
            (0x0002, "ts2"),
            (0x0302, "t11"),
            (0x7f1c, "t00"),
        ] {
            let ch = ClientHello {
                legacy_version: TlsVersion(v),
                ..Default::default()
            };
            assert!(ch.ja4().starts_with(s), "{v:#x}: {}", ch.ja4());
        }
    }

    #[test]
    fn digits_by_hand_match_fmt() {
        for v in 0..=u16::MAX {
            let mut s = String::new();
            push_dec(&mut s, v);
            assert_eq!(s, v.to_string());
            let [hi, lo] = v.to_be_bytes();
            assert_eq!(hex(&[hi, lo]), format!("{v:04x}"));
        }
        for n in [0, 7, 10, 99, 100, 1000] {
            let mut s = String::new();
            push_count(&mut s, n);
            assert_eq!(s, format!("{:02}", n.min(99)));
        }
        assert_eq!(hex_list(&[0x002f, 0xc02b]), "002f,c02b");
    }

    #[test]
    fn ja3_removes_grease_everywhere() {
        let ch = ClientHello {
            legacy_version: TlsVersion::TLS12,
            cipher_suites: [0x0a0a, 0x1301, 0xc02f].map(CipherSuite).to_vec(),
            extensions: vec![0x1a1a, 0, 23, 0xfafa, 65281],
            supported_groups: [0x2a2a, 29, 23].map(NamedGroup).to_vec(),
            ec_point_formats: vec![0, 1, 2],
            ..Default::default()
        };
        let ja3 = ch.ja3();
        assert_eq!(ja3.full, "771,4865-49199,0-23-65281,29-23,0-1-2");
        assert_eq!(ja3.hash, hex(&Md5::digest(ja3.full.as_bytes())));
        assert_eq!(ja3.to_string(), ja3.hash);
    }

    #[test]
    fn ja3_known_md5() {
        // MD5 test vector of RFC 1321 §A.5, through the same hex path.
        assert_eq!(
            hex(&Md5::digest(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        // An SSLv2-format hello: no extensions, no groups, no formats.
        let ch = ClientHello {
            sslv2_format: true,
            legacy_version: TlsVersion::TLS10,
            cipher_suites: [0x0039, 0x0038, 0x0035].map(CipherSuite).to_vec(),
            ..Default::default()
        };
        assert_eq!(ch.ja3().full, "769,57-56-53,,,");
        assert!(ch.ja4().starts_with("t10i030000_"), "{}", ch.ja4());
    }

    #[test]
    fn ja3s_of_server_hello() {
        let sh = ServerHello {
            legacy_version: TlsVersion::TLS12,
            version: TlsVersion::TLS13,
            selected_supported_version: Some(TlsVersion::TLS13),
            cipher_suite: CipherSuite(0x1301),
            hello_retry_request: false,
            key_share_group: None,
            extensions: vec![51, 43],
        };
        assert_eq!(sh.ja3s().full, "771,4865,51-43");
        let sh = ServerHello {
            extensions: vec![],
            ..sh
        };
        assert_eq!(sh.ja3s().full, "771,4865,");
    }
}
