//! The record deframer: first step of [`crate::tls`]. It cuts one direction's in-order byte stream,
//! delivered in chunks of any size, into record headers and body slices (RFC 8446 §5.1, RFC 5246 §6.2;
//! SSL 2.0 two-byte headers, RFC 6101 §E.1).
//!
//! Bodies are never copied here: the deframer hands out slices of the caller's chunk, so the caller
//! decides what to keep (handshake bytes) and what to skip by counting (application data). Only the
//! five header bytes are buffered. After a gap it scans, within a bound, for the next plausible header.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

use super::codes::TlsVersion;
use super::sslv2;

/// The largest record body accepted: 2^14 plus the 2048 bytes of expansion TLS 1.2 allows
/// (RFC 5246 §6.2.3).
pub(crate) const MAX_RECORD_LEN: u16 = (1 << 14) + 2048;

/// How many captured bytes a resynchronising scan may discard before giving up. Twice a maximal
/// record: after any gap a real stream shows a header within one record.
pub(crate) const RESYNC_SCAN_LIMIT: u64 = 2 * (MAX_RECORD_LEN as u64 + 5);

/// A record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// A TLS / SSL 3.0 record: `ContentType type; ProtocolVersion version; uint16 length`.
    Tls {
        /// Content type (20..=24).
        content_type: u8,
        /// Record-layer version.
        version: TlsVersion,
        /// Body length.
        len: u16,
    },
    /// An SSL 2.0 record with a two-byte header.
    Sslv2 {
        /// Body length.
        len: u16,
    },
}

/// One step of deframing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// A record header was read; its body follows as `Body` items, then `End`.
    Header(Header),
    /// The next piece of the current record's body, borrowed from the input.
    Body(&'a [u8]),
    /// The current record's body is complete.
    End,
    /// A resynchronising scan found a plausible header after discarding `skipped` bytes; the header
    /// item follows.
    Resynced {
        /// Captured bytes discarded while scanning.
        skipped: u64,
    },
    /// The stream is not TLS (or no header was found after a gap); the direction is dead from now on.
    Malformed(&'static str),
}

/// What a gap did to the deframer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GapEffect {
    /// Nothing: the direction is dead, or nothing was missing.
    None,
    /// The gap ended inside the current record: the rest of its body follows, still in sync.
    WithinRecord,
    /// The gap ended exactly at the end of the current record: the next header follows, in sync.
    AtRecordEnd,
    /// The position is lost; a scan for the next header has begun.
    Scanning,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Reading a header; `have` bytes of `buf` are filled.
    Header { buf: [u8; 5], have: u8 },
    /// Inside a body with `remaining` bytes to go.
    Body { remaining: u16 },
    /// Looking for a plausible TLS header after a gap.
    Scan {
        buf: [u8; 5],
        have: u8,
        skipped: u64,
    },
    /// A scan found this header; it is handed out next.
    Found(Header),
    /// Not TLS: everything is skipped.
    Dead,
}

/// Cuts one direction's stream into records.
#[derive(Debug, Clone)]
pub(crate) struct Deframer {
    state: State,
    records: u64,
    last_was_sslv2: bool,
}

impl Default for Deframer {
    fn default() -> Self {
        Deframer {
            state: State::Header {
                buf: [0; 5],
                have: 0,
            },
            records: 0,
            last_was_sslv2: false,
        }
    }
}

/// Checks the first `have` bytes of a TLS header. `Err` names what is wrong.
fn check_tls_prefix(buf: &[u8], strict: bool) -> Result<(), &'static str> {
    if let Some(&t) = buf.first()
        && !(20..=24).contains(&t)
    {
        return Err("unknown record content type");
    }
    if let Some(&major) = buf.get(1)
        && major != 3
    {
        return Err("bad record version");
    }
    // Scanning after a gap wants more evidence than the normal path, which accepts any minor.
    if let (true, Some(&minor)) = (strict, buf.get(2))
        && minor > 4
    {
        return Err("bad record version");
    }
    if let (Some(&hi), Some(&lo)) = (buf.get(3), buf.get(4))
        && u16::from_be_bytes([hi, lo]) > MAX_RECORD_LEN
    {
        return Err("record longer than 2^14+2048");
    }
    Ok(())
}

fn tls_header(buf: [u8; 5]) -> Header {
    let [t, v0, v1, l0, l1] = buf;
    Header::Tls {
        content_type: t,
        version: TlsVersion(u16::from_be_bytes([v0, v1])),
        len: u16::from_be_bytes([l0, l1]),
    }
}

impl Deframer {
    /// Whether the direction was declared not TLS.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// Records whose header was read so far.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    fn sslv2_allowed(&self) -> bool {
        self.records == 0 || self.last_was_sslv2
    }

    fn kill(&mut self, what: &'static str) -> Item<'static> {
        self.state = State::Dead;
        Item::Malformed(what)
    }

    fn start_body(&mut self, h: Header) -> Item<'static> {
        self.records += 1;
        self.last_was_sslv2 = matches!(h, Header::Sslv2 { .. });
        let remaining = match h {
            Header::Tls { len, .. } | Header::Sslv2 { len } => len,
        };
        self.state = State::Body { remaining };
        Item::Header(h)
    }

    /// The next item from `input`, consuming what it used. `None` when `input` is used up without a
    /// complete item ("need more bytes"). Every call either consumes input or changes state, so a loop
    /// `while let Some(item) = d.next(&mut input)` ends.
    pub(crate) fn next<'a>(&mut self, input: &mut &'a [u8]) -> Option<Item<'a>> {
        loop {
            match self.state {
                State::Dead => {
                    *input = &[];
                    return None;
                }
                State::Found(h) => return Some(self.start_body(h)),
                State::Body { remaining: 0 } => {
                    self.state = State::Header {
                        buf: [0; 5],
                        have: 0,
                    };
                    return Some(Item::End);
                }
                State::Body { remaining } => {
                    if input.is_empty() {
                        return None;
                    }
                    let n = usize::from(remaining).min(input.len());
                    let (body, rest) = input.split_at(n);
                    *input = rest;
                    // n <= remaining, so it fits in u16.
                    let n16 = u16::try_from(n).unwrap_or(remaining);
                    self.state = State::Body {
                        remaining: remaining - n16,
                    };
                    return Some(Item::Body(body));
                }
                State::Header { mut buf, mut have } => {
                    let (&b, rest) = input.split_first()?;
                    *input = rest;
                    if let Some(slot) = buf.get_mut(usize::from(have)) {
                        *slot = b;
                    }
                    have += 1;
                    self.state = State::Header { buf, have };
                    let filled = buf.get(..usize::from(have)).unwrap_or_default();
                    let b0 = buf[0];
                    if b0 & 0x80 != 0 && self.sslv2_allowed() {
                        if have == 2 {
                            let len = sslv2::two_byte_header_len(b0, buf[1]).unwrap_or(0);
                            return Some(self.start_body(Header::Sslv2 { len }));
                        }
                        continue;
                    }
                    if self.last_was_sslv2 && !(20..=24).contains(&b0) {
                        // SSL 2.0's three-byte header (a record with padding: its block-cipher
                        // records after CLIENT-MASTER-KEY); the third byte is the padding length,
                        // counted inside the record. A TLS record type here means the peer moved
                        // on to TLS (an SSLv2-format hello answered by a TLS server).
                        if have == 3 {
                            let len = (u16::from(b0 & 0x3f) << 8) | u16::from(buf[1]);
                            return Some(self.start_body(Header::Sslv2 { len }));
                        }
                        continue;
                    }
                    if let Err(what) = check_tls_prefix(filled, false) {
                        *input = &[];
                        return Some(self.kill(what));
                    }
                    if have == 5 {
                        return Some(self.start_body(tls_header(buf)));
                    }
                }
                State::Scan {
                    mut buf,
                    mut have,
                    mut skipped,
                } => {
                    let (&b, rest) = input.split_first()?;
                    *input = rest;
                    if let Some(slot) = buf.get_mut(usize::from(have)) {
                        *slot = b;
                    }
                    have += 1;
                    // Drop leading bytes until the window is a plausible header prefix.
                    while have > 0
                        && check_tls_prefix(buf.get(..usize::from(have)).unwrap_or_default(), true)
                            .is_err()
                    {
                        buf.rotate_left(1);
                        have -= 1;
                        skipped += 1;
                    }
                    if skipped > RESYNC_SCAN_LIMIT {
                        *input = &[];
                        return Some(self.kill("no record header found after a gap"));
                    }
                    if have == 5 {
                        self.state = State::Found(tls_header(buf));
                        return Some(Item::Resynced { skipped });
                    }
                    self.state = State::Scan { buf, have, skipped };
                }
            }
        }
    }

    /// `missing` bytes of this direction were never captured.
    pub(crate) fn gap(&mut self, missing: u64) -> GapEffect {
        match self.state {
            State::Dead => GapEffect::None,
            _ if missing == 0 => GapEffect::None,
            State::Body { remaining } if missing < u64::from(remaining) => {
                let missing16 = u16::try_from(missing).unwrap_or(remaining);
                self.state = State::Body {
                    remaining: remaining - missing16,
                };
                GapEffect::WithinRecord
            }
            State::Body { remaining } if missing == u64::from(remaining) => {
                self.state = State::Header {
                    buf: [0; 5],
                    have: 0,
                };
                GapEffect::AtRecordEnd
            }
            State::Scan { skipped, .. } => {
                // Still scanning: the window restarts after the hole.
                self.state = State::Scan {
                    buf: [0; 5],
                    have: 0,
                    skipped,
                };
                GapEffect::Scanning
            }
            _ => {
                self.state = State::Scan {
                    buf: [0; 5],
                    have: 0,
                    skipped: 0,
                };
                GapEffect::Scanning
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An [`Item`] that owns its body bytes, to compare whole sequences.
    #[derive(Debug, PartialEq, Eq)]
    enum Got {
        Header(Header),
        Body(Vec<u8>),
        End,
        Resynced(u64),
        Malformed(&'static str),
    }

    fn collect(d: &mut Deframer, mut input: &[u8]) -> Vec<Got> {
        let mut v = Vec::new();
        while let Some(item) = d.next(&mut input) {
            v.push(match item {
                Item::Header(h) => Got::Header(h),
                Item::Body(b) => Got::Body(b.to_vec()),
                Item::End => Got::End,
                Item::Resynced { skipped } => Got::Resynced(skipped),
                Item::Malformed(what) => Got::Malformed(what),
            });
        }
        v
    }

    fn tls(content_type: u8, version: u16, len: u16) -> Got {
        Got::Header(Header::Tls {
            content_type,
            version: TlsVersion(version),
            len,
        })
    }

    #[test]
    fn header_body_end() {
        let mut d = Deframer::default();
        let items = collect(&mut d, &[22, 3, 1, 0, 2, 0xaa, 0xbb, 23, 3, 3, 0, 0]);
        assert_eq!(
            items,
            [
                tls(22, 0x0301, 2),
                Got::Body(vec![0xaa, 0xbb]),
                Got::End,
                tls(23, 0x0303, 0),
                Got::End
            ]
        );
        assert_eq!(d.records(), 2);
    }

    #[test]
    fn rejects_garbage_and_huge() {
        let mut d = Deframer::default();
        assert_eq!(
            collect(&mut d, b"GET / HTTP/1.1"),
            [Got::Malformed("unknown record content type")]
        );
        assert!(d.is_dead());
        assert!(collect(&mut d, &[22, 3, 1, 0, 1, 0]).is_empty());
        let mut d = Deframer::default();
        let items = collect(&mut d, &[22, 3, 1, 0xff, 0xff]);
        assert_eq!(items, [Got::Malformed("record longer than 2^14+2048")]);
    }

    #[test]
    fn scan_finds_header_after_gap() {
        let mut d = Deframer::default();
        assert_eq!(d.gap(10), GapEffect::Scanning);
        let items = collect(&mut d, &[0x17, 0x03, 0x17, 0x03, 0x03, 0x00, 0x01, 0x99]);
        assert_eq!(
            items,
            [
                Got::Resynced(2),
                tls(23, 0x0303, 1),
                Got::Body(vec![0x99]),
                Got::End
            ]
        );
    }

    #[test]
    fn scan_gives_up() {
        let mut d = Deframer::default();
        d.gap(1);
        let junk = vec![0u8; usize::try_from(RESYNC_SCAN_LIMIT).unwrap_or(0) + 10];
        let items = collect(&mut d, &junk);
        assert_eq!(
            items,
            [Got::Malformed("no record header found after a gap")]
        );
    }

    #[test]
    fn gap_inside_record_keeps_sync() {
        let mut d = Deframer::default();
        let _ = collect(&mut d, &[23, 3, 3, 0, 10, 1, 2]);
        assert_eq!(d.gap(3), GapEffect::WithinRecord);
        let items = collect(&mut d, &[0, 0, 0, 0, 0, 23, 3, 3, 0, 0]);
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(d.gap(0), GapEffect::None);
        assert_eq!(d.gap(1), GapEffect::Scanning);
    }
}
