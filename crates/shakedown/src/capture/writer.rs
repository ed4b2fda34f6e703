//! The way back out of the data flow: frames (typically those of a few selected connections)
//! written to a new pcapng file, with their original timestamps, link types and lengths, so
//! Wireshark opens exactly the packets worth looking at.
//!
//! See [`PcapNgWriter`].

use std::io::{self, Write};

use super::{Frame, LinkType, MAX_BLOCK_BYTES};
use crate::Timestamp;

/// Section Header Block type (§4.1).
const SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block type (§4.2).
const IDB: u32 = 0x0000_0001;
/// Enhanced Packet Block type (§4.3).
const EPB: u32 = 0x0000_0006;
/// Decryption Secrets Block type (§4.7).
const DSB: u32 = 0x0000_000A;
/// Secrets type of a DSB holding an NSS TLS key log (`TLSK`).
const SECRETS_TLS_KEY_LOG: u32 = 0x544C_534B;
/// Byte-order magic of the Section Header Block: readers find our byte order from it.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// `shb_userappl` option code (§4.1): the application that wrote the section.
const OPT_SHB_USERAPPL: u16 = 4;
/// `opt_comment` option code (§3.5): a UTF-8 comment on any block.
const OPT_COMMENT: u16 = 1;
/// `if_tsresol` option code (§4.2): timestamp resolution.
const OPT_IF_TSRESOL: u16 = 9;
/// `if_tsresol` value 9: units of 10^-9 s, the resolution of [`Timestamp`].
const TSRESOL_NANOS: u8 = 9;
/// Fixed part of an Enhanced Packet Block: type, length, interface, timestamp (2), captured and
/// original length, trailing length.
const EPB_FIXED: usize = 32;

/// Why a packet or interface could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The underlying output failed (disk full, closed pipe, ...).
    #[error("write error: {source}")]
    Io {
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A packet names an interface that [`PcapNgWriter::add_interface`] did not return.
    #[error("no interface {interface} was added (there are {count})")]
    UnknownInterface {
        /// The interface asked for.
        interface: u32,
        /// Interfaces added so far.
        count: u32,
    },
    /// pcapng stores link types in 16 bits (§4.2).
    #[error("link type {0} does not fit the 16-bit pcapng field")]
    LinkTypeTooLarge(LinkType),
    /// The packet is larger than [`MAX_BLOCK_BYTES`], which no reader here would accept back.
    #[error("packet of {len} bytes is larger than the {limit}-byte block limit")]
    PacketTooLarge {
        /// Captured bytes of the packet.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Enhanced Packet Block timestamps are unsigned: a time before 1970 cannot be written.
    #[error("timestamp {0:?} is before 1970, which a pcapng packet block cannot hold")]
    TimestampBeforeEpoch(Timestamp),
}

impl From<io::Error> for WriteError {
    fn from(source: io::Error) -> Self {
        WriteError::Io { source }
    }
}

/// Streaming writer of a single-section, little-endian, nanosecond pcapng file.
///
/// Writes one little-endian section (pcapng, draft-ietf-opsawg-pcapng §4.1): a Section Header
/// Block, then an Interface Description Block (§4.2) per [`add_interface`](Self::add_interface)
/// call, each with `if_tsresol` = 9 (nanoseconds, the resolution of [`Timestamp`]), then one
/// Enhanced Packet Block (§4.3) per packet. Nothing is buffered beyond what the given [`Write`]
/// buffers: wrap a file in a [`std::io::BufWriter`].
///
/// ```
/// use shakedown::capture::{CaptureReader, LinkType, PcapNgWriter};
/// use shakedown::Timestamp;
///
/// let mut writer = PcapNgWriter::new(Vec::new())?;
/// let eth = writer.add_interface(LinkType::ETHERNET, 0)?;
/// writer.write_packet(eth, Timestamp(1_700_000_000_123_456_789), &[1, 2, 3, 4, 5], 60)?;
/// let bytes = writer.finish()?;
///
/// // Read back: same bytes, same nanosecond timestamp, same link type and wire length.
/// let mut reader = CaptureReader::new(&bytes[..]).expect("a pcapng file");
/// let frame = reader.next_frame().expect("readable").expect("one frame");
/// assert_eq!(frame.data, &[1, 2, 3, 4, 5]);
/// assert_eq!(frame.ts, Timestamp(1_700_000_000_123_456_789));
/// assert_eq!((frame.link_type, frame.orig_len), (LinkType::ETHERNET, 60));
/// # Ok::<(), shakedown::capture::WriteError>(())
/// ```
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
    interfaces: u32,
    packets: u64,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the Section Header Block (naming shakedown as the writing application) and returns the
    /// writer, ready for [`add_interface`](Self::add_interface).
    pub fn new(out: W) -> Result<Self, WriteError> {
        Self::with_section_comment(out, None)
    }

    /// [`new`](Self::new) with `comment` as the section's `opt_comment` (§4.1; Wireshark shows it
    /// under Statistics › Capture File Properties): what the file holds and why. A comment longer
    /// than an option holds (65 535 bytes) is cut at a character boundary.
    pub fn with_section_comment(mut out: W, comment: Option<&str>) -> Result<Self, WriteError> {
        let appl = concat!("shakedown ", env!("CARGO_PKG_VERSION")).as_bytes();
        let mut options = Vec::with_capacity(appl.len() + 12);
        if let Some(c) = comment {
            push_option(&mut options, OPT_COMMENT, cut_at_char(c).as_bytes());
        }
        push_option(&mut options, OPT_SHB_USERAPPL, appl);
        push_end_of_options(&mut options);
        let mut body = Vec::with_capacity(16 + options.len());
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major version
        body.extend_from_slice(&0u16.to_le_bytes()); // minor version
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        body.extend_from_slice(&options);
        write_block(&mut out, SHB, &body)?;
        Ok(PcapNgWriter {
            out,
            interfaces: 0,
            packets: 0,
        })
    }

    /// Writes an Interface Description Block for `link_type` with nanosecond timestamps and returns
    /// its interface number (0, 1, ... in the order of the calls). `snaplen` 0 means no limit.
    pub fn add_interface(&mut self, link_type: LinkType, snaplen: u32) -> Result<u32, WriteError> {
        let lt = u16::try_from(link_type.0).map_err(|_| WriteError::LinkTypeTooLarge(link_type))?;
        let mut body = Vec::with_capacity(20);
        body.extend_from_slice(&lt.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&snaplen.to_le_bytes());
        push_option(&mut body, OPT_IF_TSRESOL, &[TSRESOL_NANOS]);
        push_end_of_options(&mut body);
        write_block(&mut self.out, IDB, &body)?;
        let id = self.interfaces;
        self.interfaces = self.interfaces.saturating_add(1);
        Ok(id)
    }

    /// Writes a Decryption Secrets Block (§4.7) holding `key_log`, NSS key log text (secrets type
    /// `TLSK`, `0x544c534b`), so the file decrypts by itself: Wireshark, TShark and
    /// [`crate::analyze`] use it for the packets written after it. Text longer than a block holds
    /// ([`MAX_BLOCK_BYTES`]) is refused.
    ///
    /// ```
    /// use shakedown::capture::{CaptureReader, LinkType, PcapNgWriter};
    /// let line = format!("CLIENT_RANDOM {} {}\n", "01".repeat(32), "02".repeat(48));
    /// let mut writer = PcapNgWriter::new(Vec::new())?;
    /// writer.write_tls_key_log(line.as_bytes())?;
    /// let eth = writer.add_interface(LinkType::ETHERNET, 0)?;
    /// writer.write_packet(eth, shakedown::Timestamp(1), &[0; 14], 14)?;
    /// let bytes = writer.finish()?;
    /// let mut reader = CaptureReader::new(&bytes[..]).expect("a pcapng file");
    /// while reader.next_frame().expect("readable").is_some() {}
    /// assert_eq!(reader.embedded_key_log().expect("a key log").entries(), 1);
    /// # Ok::<(), shakedown::capture::WriteError>(())
    /// ```
    pub fn write_tls_key_log(&mut self, key_log: &[u8]) -> Result<(), WriteError> {
        let too_large = WriteError::PacketTooLarge {
            len: key_log.len(),
            limit: MAX_BLOCK_BYTES,
        };
        if key_log.len() > MAX_BLOCK_BYTES - 24 {
            return Err(too_large);
        }
        let len = u32::try_from(key_log.len()).map_err(|_| too_large)?;
        let mut body = Vec::with_capacity(8 + key_log.len().next_multiple_of(4));
        body.extend_from_slice(&SECRETS_TLS_KEY_LOG.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(key_log);
        body.resize(body.len().next_multiple_of(4), 0);
        let written = write_block(&mut self.out, DSB, &body);
        // The copy held secrets.
        zeroize::Zeroize::zeroize(&mut body);
        written
    }

    /// Writes one Enhanced Packet Block: `data` as captured, `orig_len` as on the wire (raised to
    /// `data.len()` if smaller, as the format requires), `ts` in nanoseconds.
    pub fn write_packet(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> Result<(), WriteError> {
        self.write_enhanced(interface, ts, data, orig_len, None)
    }

    /// Writes an Enhanced Packet Block like [`write_packet`](Self::write_packet), with `comment` as
    /// its `opt_comment` option (§3.5; Wireshark's `frame.comment`). A comment longer than an
    /// option holds (65 535 bytes) is cut at a character boundary.
    pub fn write_packet_with_comment(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
        comment: &str,
    ) -> Result<(), WriteError> {
        self.write_enhanced(interface, ts, data, orig_len, Some(comment))
    }

    fn write_enhanced(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
        comment: Option<&str>,
    ) -> Result<(), WriteError> {
        if interface >= self.interfaces {
            return Err(WriteError::UnknownInterface {
                interface,
                count: self.interfaces,
            });
        }
        let too_large = WriteError::PacketTooLarge {
            len: data.len(),
            limit: MAX_BLOCK_BYTES,
        };
        let mut options = Vec::new();
        if let Some(c) = comment {
            push_option(&mut options, OPT_COMMENT, cut_at_char(c).as_bytes());
            push_end_of_options(&mut options);
        }
        if data.len() > MAX_BLOCK_BYTES - EPB_FIXED - 3 - options.len() {
            return Err(too_large);
        }
        let cap_len = u32::try_from(data.len()).map_err(|_| too_large)?;
        let ns = u64::try_from(ts.as_nanos()).map_err(|_| WriteError::TimestampBeforeEpoch(ts))?;
        let padded = data.len().next_multiple_of(4);
        let total = u32::try_from(EPB_FIXED + padded + options.len()).map_err(|_| {
            WriteError::PacketTooLarge {
                len: data.len(),
                limit: MAX_BLOCK_BYTES,
            }
        })?;
        let mut head = [0u8; 28];
        for (i, word) in [
            EPB,
            total,
            interface,
            (ns >> 32) as u32, // high 32 bits of the timestamp (§4.3)
            ns as u32,         // low 32 bits
            cap_len,
            orig_len.max(cap_len),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(slot) = head.get_mut(i * 4..i * 4 + 4) {
                slot.copy_from_slice(&word.to_le_bytes());
            }
        }
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..padded - data.len()])?;
        self.out.write_all(&options)?;
        self.out.write_all(&total.to_le_bytes())?;
        self.packets += 1;
        Ok(())
    }

    /// Writes a frame read from a capture, keeping its timestamp, bytes and wire length, on the
    /// `interface` this writer returned for the frame's link type.
    pub fn write_frame(&mut self, interface: u32, frame: &Frame<'_>) -> Result<(), WriteError> {
        self.write_packet(interface, frame.ts, frame.data, frame.orig_len)
    }

    /// [`write_frame`](Self::write_frame) with a comment on the packet (see
    /// [`write_packet_with_comment`](Self::write_packet_with_comment)).
    pub fn write_frame_with_comment(
        &mut self,
        interface: u32,
        frame: &Frame<'_>,
        comment: &str,
    ) -> Result<(), WriteError> {
        self.write_packet_with_comment(interface, frame.ts, frame.data, frame.orig_len, comment)
    }

    /// Interfaces added so far.
    pub fn interfaces(&self) -> u32 {
        self.interfaces
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes the output and gives it back.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// `c`, cut at a character boundary to what one option holds (65 535 bytes).
fn cut_at_char(c: &str) -> &str {
    let mut end = c.len().min(usize::from(u16::MAX));
    while !c.is_char_boundary(end) {
        end -= 1;
    }
    &c[..end]
}

/// Appends one option (code, length, value padded to 32 bits; §3.5).
fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(value.get(..usize::from(len)).unwrap_or(value));
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// Appends `opt_endofopt` (§3.5).
fn push_end_of_options(buf: &mut Vec<u8>) {
    buf.extend_from_slice(&[0, 0, 0, 0]);
}

/// Writes a whole block: type, total length, `body` (already a multiple of 4), total length again.
fn write_block<W: Write>(out: &mut W, block_type: u32, body: &[u8]) -> Result<(), WriteError> {
    let total = u32::try_from(body.len() + 12).map_err(|_| WriteError::PacketTooLarge {
        len: body.len(),
        limit: MAX_BLOCK_BYTES,
    })?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureFormat, CaptureReader};

    #[test]
    fn a_packet_comment_is_an_opt_comment_after_the_padded_data() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let eth = w.add_interface(LinkType::ETHERNET, 0).unwrap();
        let before = w.finish().unwrap().len();
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        w.add_interface(LinkType::ETHERNET, 0).unwrap();
        w.write_packet_with_comment(eth, Timestamp(1), &[1, 2, 3, 4, 5], 5, "frame 7")
            .unwrap();
        let bytes = w.finish().unwrap();
        let epb = &bytes[before..];
        // 32 fixed + 8 data (5 padded) + option header 4 + "frame 7" padded to 8 + end 4.
        assert_eq!(epb.len(), 56);
        assert_eq!(&epb[4..8], &56u32.to_le_bytes());
        assert_eq!(&epb[36..40], &[1, 0, 7, 0]);
        assert_eq!(&epb[40..47], b"frame 7");
        assert_eq!(&epb[48..52], &[0, 0, 0, 0]);
        let mut reader = CaptureReader::new(&bytes[..]).unwrap();
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!(frame.data, &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_section_comment_goes_before_the_application_name_and_the_file_still_reads() {
        let mut w = PcapNgWriter::with_section_comment(Vec::new(), Some("why: ü")).unwrap();
        let eth = w.add_interface(LinkType::ETHERNET, 0).unwrap();
        w.write_packet(eth, Timestamp(5), &[9; 6], 6).unwrap();
        let bytes = w.finish().unwrap();
        // Block header 8, magic 4, versions 4, section length 8, then the comment option.
        assert_eq!(&bytes[24..28], &[1, 0, 7, 0]);
        assert_eq!(&bytes[28..35], "why: ü".as_bytes());
        let plain = PcapNgWriter::new(Vec::new()).unwrap().finish().unwrap();
        assert_eq!(&bytes[4..8], &(plain.len() as u32 + 12).to_le_bytes());
        let mut reader = CaptureReader::new(&bytes[..]).unwrap();
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!((frame.data, frame.ts), (&[9u8; 6][..], Timestamp(5)));
    }

    #[test]
    fn round_trip_keeps_bytes_times_link_types_and_lengths() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let eth = w.add_interface(LinkType::ETHERNET, 262_144).unwrap();
        let sll2 = w.add_interface(LinkType::LINUX_SLL2, 0).unwrap();
        assert_eq!((eth, sll2), (0, 1));
        // Every padding length (0..=3 bytes), both interfaces, a cut packet (orig_len > data).
        let packets: Vec<(u32, i64, Vec<u8>, u32)> = (0..8u8)
            .map(|i| {
                let data: Vec<u8> = (0..i).collect();
                let orig = if i == 5 { 1500 } else { u32::from(i) };
                (
                    u32::from(i % 2),
                    1_000_000_007 * i64::from(i) + 1,
                    data,
                    orig,
                )
            })
            .collect();
        for (ifc, ts, data, orig) in &packets {
            w.write_packet(*ifc, Timestamp(*ts), data, *orig).unwrap();
        }
        assert_eq!(w.packets(), 8);
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        assert_eq!(r.description().format, CaptureFormat::PcapNg);
        for (n, (ifc, ts, data, orig)) in packets.iter().enumerate() {
            let f = r.next_frame().unwrap().unwrap();
            assert_eq!(f.index, n as u64 + 1);
            assert_eq!(f.interface, *ifc);
            let lt = if *ifc == 0 {
                LinkType::ETHERNET
            } else {
                LinkType::LINUX_SLL2
            };
            assert_eq!(f.link_type, lt);
            assert_eq!(f.ts, Timestamp(*ts));
            assert_eq!(f.data, &data[..]);
            assert_eq!(f.orig_len, *orig);
        }
        assert!(r.next_frame().unwrap().is_none());
        assert!(r.truncation().is_none());
        let d = r.description();
        assert_eq!(d.interfaces.len(), 2);
        assert!(
            d.interfaces
                .iter()
                .all(|i| i.ts_units_per_sec == 1_000_000_000)
        );
        assert_eq!(d.interfaces[0].snaplen, 262_144);
    }

    #[test]
    fn rejects_what_pcapng_cannot_hold() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        assert!(matches!(
            w.write_packet(0, Timestamp::ZERO, &[], 0),
            Err(WriteError::UnknownInterface {
                interface: 0,
                count: 0
            })
        ));
        assert!(matches!(
            w.add_interface(LinkType(0x1_0000), 0),
            Err(WriteError::LinkTypeTooLarge(LinkType(0x1_0000)))
        ));
        let i = w.add_interface(LinkType::RAW, 0).unwrap();
        assert!(matches!(
            w.write_packet(i, Timestamp(-1), &[0], 1),
            Err(WriteError::TimestampBeforeEpoch(Timestamp(-1)))
        ));
        let big = vec![0u8; MAX_BLOCK_BYTES];
        assert!(matches!(
            w.write_packet(i, Timestamp::ZERO, &big, 0),
            Err(WriteError::PacketTooLarge { .. })
        ));
        // Nothing was written for the refused packets: the file still reads back empty.
        let bytes = w.finish().unwrap();
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        assert!(r.next_frame().unwrap().is_none());
        assert!(r.truncation().is_none());
    }

    #[test]
    fn every_prefix_of_a_written_file_reads_without_panic() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let i = w.add_interface(LinkType::ETHERNET, 0).unwrap();
        w.write_packet(i, Timestamp(5), &[9; 13], 13).unwrap();
        let first_end = w.out.len();
        w.write_packet(i, Timestamp(6), &[8; 4], 4).unwrap();
        let bytes = w.finish().unwrap();
        for len in 0..bytes.len() {
            if let Ok(mut r) = CaptureReader::new(&bytes[..len]) {
                let mut n = 0;
                while let Ok(Some(_)) = r.next_frame() {
                    n += 1;
                }
                // A prefix never shows the second packet, and shows the first only once whole.
                assert!(n <= 1, "prefix {len}");
                assert_eq!(n == 1, len >= first_end, "prefix {len}");
            }
        }
    }
}
