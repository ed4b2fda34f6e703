//! First step of the data flow: bytes (a file, standard input, gzip- or zstd-compressed) in, one
//! [`Frame`] per captured packet out, with its timestamp, link type and interface.
//!
//! [`CaptureReader`] streams pcap (both byte orders, microsecond and nanosecond magics, and the
//! "modified" Kuznetzov variant) and pcapng (several sections, each with its own byte order and its
//! own interface table; EPB, SPB and the obsolete Packet Block; `if_tsresol` as a power of 10 or 2 and
//! `if_tsoffset`; Decryption Secrets Blocks holding TLS key logs, whose secrets
//! [`CaptureReader::embedded_key_log`] gives; every other block skipped). The format is recognised by its magic bytes, never by
//! the file name. Memory is bounded: one window of [`INITIAL_WINDOW_BYTES`], grown only for a larger
//! record and never beyond [`MAX_BLOCK_BYTES`] plus a header, so a 20 GB capture reads in a few MiB.
//!
//! A parallel analysis reads a capture in stretches of whole records: an uncompressed pcap or pcapng
//! file several threads at once, each at its own offsets (a `ReadAt`: the file [`open`] opened,
//! or bytes in memory), anything else (compressed, standard input) by one thread through the
//! reader itself, front to back. Either way every record is checked exactly as
//! [`CaptureReader::next_frame`] checks it (by the same code), so a parallel analysis stops where
//! one reader stops.
//!
//! Damage inside a capture is not an error: reading stops, every frame before the damage has been
//! delivered, and [`CaptureReader::truncation`] says where and why (as `capinfos` says "appears to be
//! damaged or corrupt" after N packets). Only an unreadable input, something that is not a capture, or
//! a broken file header is a [`CaptureError`].
//!
//! Limitation: a zstd input is read as a single frame (what `zstd` writes); data after the first
//! frame is ignored.
//!
//! ```
//! use shakedown::capture::{CaptureReader, LinkType};
//! // A little-endian microsecond pcap with one 4-byte Ethernet frame.
//! let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
//!                      0xff, 0xff, 0, 0, 1, 0, 0, 0];
//! bytes.extend_from_slice(&[10, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 60, 0, 0, 0, 1, 2, 3, 4]);
//! let mut reader = CaptureReader::new(&bytes[..])?;
//! let frame = reader.next_frame()?.expect("one frame");
//! assert_eq!((frame.index, frame.link_type, frame.data, frame.orig_len), (1, LinkType::ETHERNET, &[1u8, 2, 3, 4][..], 60));
//! assert_eq!(frame.ts.as_nanos(), 10_000_007_000);
//! assert!(reader.next_frame()?.is_none());
//! assert!(reader.truncation().is_none());
//! # Ok::<(), shakedown::capture::CaptureError>(())
//! ```

mod input;
mod link_type;
mod pcap;
mod pcapng;
mod stream;
mod stretch;
#[cfg(test)]
mod tests;
mod writer;

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::Timestamp;
unstable_use!(input::SharedBytes);
use input::{Counted, Source, Window, read_up_to};
pub use link_type::LinkType;
pub(crate) use stream::StreamStretches;
unstable_use!(stretch::ReadAt);
pub(crate) use stretch::{Ending, Fetched, Positional, Resume, Stretches, Walking};
pub use writer::{PcapNgWriter, WriteError};

/// Size of the read window at the start: big reads, few syscalls.
pub const INITIAL_WINDOW_BYTES: usize = input::INITIAL_WINDOW;

/// Largest pcap record or pcapng block accepted (64 MiB); anything claiming more is damage.
pub const MAX_BLOCK_BYTES: usize = 64 << 20;

/// Most interfaces one pcapng section may describe; more is treated as damage (bounds memory).
pub const MAX_INTERFACES_PER_SECTION: usize = 1 << 16;

/// Most bytes of TLS key log read from a capture's pcapng Decryption Secrets Blocks (16 MiB, some
/// 90,000 secrets); blocks past it are skipped and counted in [`SecretsBlockCounts::over_limit`].
pub const MAX_EMBEDDED_KEY_LOG_BYTES: usize = 16 << 20;

/// Most interfaces listed in [`CaptureDescription::interfaces`] (the count goes on).
pub const MAX_LISTED_INTERFACES: usize = 4096;

/// One captured packet, borrowing the reader's buffer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based number of the packet record, as Wireshark numbers frames (non-packet blocks such as
    /// pcapng Custom Blocks are not counted).
    pub index: u64,
    /// Capture time. A pcapng Simple Packet Block has none: it gets the previous frame's time (the
    /// epoch if it is the first), so time never jumps backwards because of it.
    pub ts: Timestamp,
    /// How to read `data`'s first header.
    pub link_type: LinkType,
    /// Interface number across the whole file, counting Interface Description Blocks in file order
    /// over all sections (as Wireshark's `frame.interface_id`); 0 for pcap.
    pub interface: u32,
    /// The captured bytes (possibly fewer than `orig_len` when the capture cut them).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

/// Where and why reading stopped before a clean end of the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Truncation {
    /// Frames delivered before the damage.
    pub frames_read: u64,
    /// Offset in the (decompressed) capture where the damaged or incomplete record starts.
    pub byte_offset: u64,
    /// What was wrong, for people.
    pub reason: String,
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "capture cut short or damaged after {} frames (at byte {}): {}",
            self.frames_read, self.byte_offset, self.reason
        )
    }
}

/// The container format, as recognised from its magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaptureFormat {
    /// libpcap format (magic `a1b2c3d4` µs or `a1b2 3c4d` ns, either byte order).
    Pcap,
    /// Alexey Kuznetzov's "modified" pcap (magic `a1b2cd34`): 24-byte record headers.
    ModifiedPcap,
    /// pcapng (Section Header Block type `0a0d0d0a`).
    PcapNg,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::ModifiedPcap => "modified pcap",
            CaptureFormat::PcapNg => "pcapng",
        })
    }
}

/// Compression wrapped around the capture, recognised from its magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Plain capture.
    None,
    /// gzip (RFC 1952), magic `1f 8b`; concatenated members are read in turn.
    Gzip,
    /// Zstandard (RFC 8878), magic `28 b5 2f fd`.
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

/// Byte order of a pcap file or a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    pub(crate) fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }
    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }
    /// Reads a `u32` at `off`, or `None` past the end.
    pub(crate) fn u32_at(self, b: &[u8], off: usize) -> Option<u32> {
        crate::bytes::array(b, off).map(|a| self.u32(a))
    }
    /// Reads a `u16` at `off`, or `None` past the end.
    pub(crate) fn u16_at(self, b: &[u8], off: usize) -> Option<u16> {
        crate::bytes::array(b, off).map(|a| self.u16(a))
    }
}

impl fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ByteOrder::Little => "little-endian",
            ByteOrder::Big => "big-endian",
        })
    }
}

/// One capture interface: the pcap file's single link, or a pcapng Interface Description Block.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InterfaceInfo {
    /// Its [`Frame::interface`] number.
    pub id: u32,
    /// 0-based pcapng section it belongs to (0 for pcap).
    pub section: u32,
    /// Link type of its frames.
    pub link_type: LinkType,
    /// Snapshot length (0: no limit).
    pub snaplen: u32,
    /// Timestamp units per second (pcap: 10^6 or 10^9; pcapng: from `if_tsresol`, default 10^6).
    pub ts_units_per_sec: u64,
    /// Seconds added to every timestamp (pcapng `if_tsoffset`; 0 for pcap).
    pub ts_offset_secs: i64,
}

/// What the reader learnt about the capture: format, compression, byte order(s), interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureDescription {
    /// Container format.
    pub format: CaptureFormat,
    /// Compression around it.
    pub compression: Compression,
    /// Byte order of the file header (pcap) or of the first section (pcapng).
    pub byte_order: ByteOrder,
    /// Whether a later pcapng section has the other byte order.
    pub mixed_byte_order: bool,
    /// Version in the file header (pcap 2.4; pcapng 1.0).
    pub version: (u16, u16),
    /// pcapng sections seen so far (1 for pcap).
    pub sections: u32,
    /// Interfaces seen so far, the first [`MAX_LISTED_INTERFACES`].
    pub interfaces: Vec<InterfaceInfo>,
    /// Interfaces seen so far, all of them.
    pub interface_count: u32,
}

impl CaptureDescription {
    /// Timestamp resolution in units per second if every interface has the same one.
    pub fn uniform_ts_units(&self) -> Option<u64> {
        let first = self.interfaces.first()?.ts_units_per_sec;
        self.interfaces
            .iter()
            .all(|i| i.ts_units_per_sec == first)
            .then_some(first)
    }

    fn push_interface(&mut self, mut info: InterfaceInfo) -> u32 {
        let id = self.interface_count;
        info.id = id;
        if self.interfaces.len() < MAX_LISTED_INTERFACES {
            self.interfaces.push(info);
        }
        self.interface_count = self.interface_count.saturating_add(1);
        id
    }
}

/// e.g. `pcapng (gzip), little-endian, 1 section, 2 interfaces (ETHERNET, LINUX_SLL2), microseconds`.
impl fmt::Display for CaptureDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.format)?;
        if self.compression != Compression::None {
            write!(f, " ({})", self.compression)?;
        }
        if self.mixed_byte_order {
            write!(f, ", mixed byte order")?;
        } else {
            write!(f, ", {}", self.byte_order)?;
        }
        if self.format == CaptureFormat::PcapNg {
            let s = if self.sections == 1 { "" } else { "s" };
            write!(f, ", {} section{s}", self.sections)?;
        }
        let s = if self.interface_count == 1 { "" } else { "s" };
        write!(f, ", {} interface{s}", self.interface_count)?;
        let mut links: Vec<LinkType> = self.interfaces.iter().map(|i| i.link_type).collect();
        links.sort();
        links.dedup();
        if !links.is_empty() {
            let names: Vec<String> = links.iter().map(ToString::to_string).collect();
            write!(f, " ({})", names.join(", "))?;
        }
        match self.uniform_ts_units() {
            Some(1_000_000) => write!(f, ", microseconds"),
            Some(1_000_000_000) => write!(f, ", nanoseconds"),
            Some(u) => write!(f, ", {u} timestamp units per second"),
            None if self.interfaces.is_empty() => Ok(()),
            None => write!(f, ", per-interface timestamp resolution"),
        }
    }
}

/// What the pcapng Decryption Secrets Blocks (DSB, pcapng §4.7) read so far held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecretsBlockCounts {
    /// DSBs holding a TLS key log (secrets type `TLSK`, `0x544c534b`) that were read into
    /// [`CaptureReader::embedded_key_log`].
    pub tls_key_logs: u64,
    /// Bytes of key log text in them.
    pub tls_key_log_bytes: u64,
    /// DSBs with other secrets (WireGuard, ZigBee, SSH, OPC UA...), skipped.
    pub other: u64,
    /// TLS key log DSBs skipped because [`MAX_EMBEDDED_KEY_LOG_BYTES`] had been reached.
    pub over_limit: u64,
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The input could not be opened (missing, permission denied, ...).
    #[error("cannot open: {source}")]
    Open {
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Reading the input failed.
    #[error("read error: {source}")]
    Io {
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The input has no bytes at all (after decompression, if compressed).
    #[error("empty file")]
    Empty,
    /// The first bytes are no known magic number.
    #[error(
        "not a pcap or pcapng capture (starts with 0x{:02x}{:02x}{:02x}{:02x}; expected a pcap, pcapng, gzip or zstd magic)",
        magic[0], magic[1], magic[2], magic[3]
    )]
    NotACapture {
        /// The first four bytes (zero-padded if the input is shorter).
        magic: [u8; 4],
    },
    /// The input ends inside the file header (pcap) or first Section Header Block (pcapng).
    #[error("{format} file header is incomplete: the input ends after {have} of {need} bytes")]
    TruncatedHeader {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// Bytes the header needs.
        need: u64,
        /// Bytes there are.
        have: u64,
    },
    /// The file header carries a version this reader does not know.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
    },
    /// The file header is present but inconsistent.
    #[error("damaged {format} file header: {reason}")]
    BadHeader {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A directory was given where a capture file was expected.
    #[error("is a directory, not a capture file")]
    IsADirectory,
    /// The compressed stream could not be decoded before any capture data came out of it.
    #[error("{compression} data cannot be decompressed: {source}")]
    Decompress {
        /// Which decompressor failed.
        compression: Compression,
        /// Its error.
        #[source]
        source: io::Error,
    },
    /// The first pcapng block claims more than [`MAX_BLOCK_BYTES`].
    #[error("the first pcapng block claims {size} bytes, more than the {limit}-byte limit")]
    BlockTooLarge {
        /// Claimed size.
        size: u64,
        /// The limit.
        limit: usize,
    },
}

/// What one parsing step produced.
pub(crate) enum Step {
    /// A packet whose bytes lie at `at..at + len` of the window's buffer.
    Frame(FrameMeta),
    /// A non-packet record was consumed.
    Skipped,
    /// Clean end, or truncation recorded.
    End,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameMeta {
    pub(crate) at: usize,
    pub(crate) len: usize,
    pub(crate) ts: Timestamp,
    pub(crate) link_type: LinkType,
    pub(crate) interface: u32,
    pub(crate) orig_len: u32,
}

/// Per-format reading state.
enum State {
    /// pcap or modified pcap after the file header.
    Pcap(pcap::PcapState),
    /// pcapng: the current section's interface table.
    PcapNg(pcapng::NgState),
    /// Nothing more will be read.
    Done,
}

/// Streaming reader of pcap and pcapng captures, plain or compressed. See the [module docs](self).
pub struct CaptureReader<R: Read> {
    source: Source<R>,
    window: Window,
    description: CaptureDescription,
    state: State,
    frames: u64,
    truncation: Option<Truncation>,
    /// The same capture, readable at any offset (see [`CaptureReader::with_read_at`]).
    positional: Option<Positional>,
    /// Secrets from pcapng Decryption Secrets Blocks.
    embedded: pcapng::Embedded,
}

impl<R: Read> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("description", &self.description)
            .field("frames", &self.frames)
            .field("bytes_read", &self.bytes_read())
            .field("truncation", &self.truncation)
            .finish_non_exhaustive()
    }
}

const MAGIC_GZIP: [u8; 2] = [0x1f, 0x8b];
const MAGIC_ZSTD: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The magics a capture may start with, for telling "short capture" from "not a capture".
const CAPTURE_MAGICS: [[u8; 4]; 7] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

impl<R: Read> CaptureReader<R> {
    /// Recognises the input by its first bytes (gzip `1f 8b` or zstd `28 b5 2f fd`, then the pcap or
    /// pcapng magic inside) and reads the file header.
    pub fn new(input: R) -> Result<Self, CaptureError> {
        let mut counted = Counted::new(input);
        let mut magic = [0u8; 4];
        let n =
            read_up_to(&mut counted, &mut magic).map_err(|source| CaptureError::Io { source })?;
        let head = magic.get(..n).unwrap_or(&[]);
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        let compression = if head.starts_with(&MAGIC_GZIP) {
            Compression::Gzip
        } else if head == MAGIC_ZSTD {
            Compression::Zstd
        } else {
            Compression::None
        };
        let prefix = head.to_vec();
        let (source, window) = if compression == Compression::None {
            (Source::Plain(counted), Window::new(&prefix))
        } else {
            let source = Source::new(compression, prefix, counted).map_err(|source| {
                CaptureError::Decompress {
                    compression,
                    source,
                }
            })?;
            (source, Window::new(&[]))
        };
        Self::from_parts(source, window, compression)
    }

    fn from_parts(
        source: Source<R>,
        window: Window,
        compression: Compression,
    ) -> Result<Self, CaptureError> {
        let mut reader = CaptureReader {
            source,
            window,
            description: CaptureDescription {
                format: CaptureFormat::Pcap,
                compression,
                byte_order: ByteOrder::Little,
                mixed_byte_order: false,
                version: (0, 0),
                sections: 0,
                interfaces: Vec::new(),
                interface_count: 0,
            },
            state: State::Done,
            frames: 0,
            truncation: None,
            positional: None,
            embedded: pcapng::Embedded::default(),
        };
        reader.read_file_header()?;
        Ok(reader)
    }

    fn read_file_header(&mut self) -> Result<(), CaptureError> {
        let have4 = self
            .window
            .fill(&mut self.source, 4)
            .map_err(|e| self.header_io_error(e))?;
        let data = self.window.data();
        if data.is_empty() {
            return Err(CaptureError::Empty);
        }
        let mut magic = [0u8; 4];
        for (m, b) in magic.iter_mut().zip(data) {
            *m = *b;
        }
        if !have4 {
            let short = data.len();
            let prefix_of_capture = CAPTURE_MAGICS
                .iter()
                .any(|m| m.get(..short).is_some_and(|p| p == data));
            return Err(if prefix_of_capture {
                CaptureError::TruncatedHeader {
                    format: if magic[0] == 0x0a { "pcapng" } else { "pcap" },
                    need: if magic[0] == 0x0a { 28 } else { 24 },
                    have: short as u64,
                }
            } else {
                CaptureError::NotACapture { magic }
            });
        }
        match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => self.read_pcapng_header(),
            m if CAPTURE_MAGICS.contains(&m) => self.read_pcap_header(m),
            _ => Err(CaptureError::NotACapture { magic }),
        }
    }

    /// Classifies a read error met while reading the file header.
    fn header_io_error(&self, source: io::Error) -> CaptureError {
        if self.description.compression == Compression::None || self.source.counted().failed {
            CaptureError::Io { source }
        } else {
            CaptureError::Decompress {
                compression: self.description.compression,
                source,
            }
        }
    }

    /// Makes `n` bytes available. `Ok(false)`: the input ended first, or the decompressor found the
    /// stream damaged (then the truncation is already recorded with that reason).
    #[inline]
    fn need(&mut self, n: usize) -> Result<bool, CaptureError> {
        // The common case, a record already in the window, without a call.
        if self.window.has(n) {
            return Ok(true);
        }
        self.fill(n)
    }

    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        match self.window.fill(&mut self.source, n) {
            Ok(b) => Ok(b),
            Err(source)
                if self.description.compression == Compression::None
                    || self.source.counted().failed =>
            {
                Err(CaptureError::Io { source })
            }
            Err(e) => {
                self.truncate(format!(
                    "{} stream is damaged: {e}",
                    self.description.compression
                ));
                Ok(false)
            }
        }
    }

    /// Records a truncation (the first reason wins) and stops reading.
    fn truncate(&mut self, reason: String) -> Step {
        if self.truncation.is_none() {
            self.truncation = Some(Truncation {
                frames_read: self.frames,
                byte_offset: self.window.offset(),
                reason,
            });
        }
        self.state = State::Done;
        Step::End
    }

    /// The next packet, or `Ok(None)` at the end of the capture (clean, or cut short: see
    /// [`truncation`](Self::truncation)). Errors only for a failing input; after `None` or an
    /// error, every later call returns `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        let Some(meta) = self.next_record()? else {
            return Ok(None);
        };
        Ok(Some(Frame {
            index: self.frames,
            ts: meta.ts,
            link_type: meta.link_type,
            interface: meta.interface,
            data: self.window.slice(meta.at, meta.len),
            orig_len: meta.orig_len,
        }))
    }

    /// [`CaptureReader::next_frame`]'s packet record, counted, its bytes in the window's current
    /// block.
    #[inline]
    fn next_record(&mut self) -> Result<Option<FrameMeta>, CaptureError> {
        let meta = loop {
            let before = self.window.offset();
            let step = match self.state {
                State::Done => Ok(Step::End),
                State::Pcap(_) => self.pcap_step(),
                State::PcapNg(_) => self.pcapng_step(),
            };
            match step {
                Ok(Step::Frame(meta)) => break meta,
                Ok(Step::Skipped) => {
                    // Progress guard: a skipped record must have consumed bytes.
                    if self.window.offset() == before {
                        self.truncate(
                            "internal error: a record was skipped without progress".into(),
                        );
                        return Ok(None);
                    }
                }
                Ok(Step::End) => {
                    self.state = State::Done;
                    return Ok(None);
                }
                Err(e) => {
                    self.state = State::Done;
                    return Err(e);
                }
            }
        };
        self.frames += 1;
        Ok(Some(meta))
    }

    /// Set once reading stopped inside a record or at a damaged one.
    pub fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }

    /// Format, compression, byte order(s) and the sections and interfaces seen so far.
    pub fn description(&self) -> &CaptureDescription {
        &self.description
    }

    /// The TLS key log read from the capture's pcapng Decryption Secrets Blocks so far (all of
    /// them, in file order, later secrets replacing earlier ones as [`KeyLog::add`] says); `None`
    /// when no such block was read (a pcap file, or a pcapng file without one). Those blocks
    /// usually come before the packets they unlock (`editcap --inject-secrets` puts them first),
    /// but may come anywhere: all of them are read once [`CaptureReader::next_frame`] gave `None`.
    /// Hold it briefly (see [`EmbeddedKeys::key_log`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/tls12-ok.pcap");
    /// let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
    /// while reader.next_frame()?.is_some() {}
    /// assert!(reader.embedded_key_log().is_none()); // pcap has no room for secrets
    /// assert_eq!(reader.secrets_blocks().tls_key_logs, 0);
    /// # Ok(()) }
    /// ```
    ///
    /// [`KeyLog::add`]: crate::decrypt::KeyLog::add
    /// [`EmbeddedKeys::key_log`]: crate::decrypt::EmbeddedKeys::key_log
    pub fn embedded_key_log(
        &self,
    ) -> Option<impl std::ops::Deref<Target = crate::decrypt::KeyLog> + '_> {
        (self.embedded.counts.tls_key_logs > 0).then(|| self.embedded.keys.key_log())
    }

    /// The capture's own key log as it is read, to hand to an analysis of its frames
    /// ([`crate::Config::embedded_keys`]; [`crate::analyze`] does it itself): for a pcapng capture,
    /// whose Decryption Secrets Blocks may come anywhere, also before any was read; `None` for a pcap
    /// one, which has none.
    pub fn embedded_keys(&self) -> Option<crate::decrypt::EmbeddedKeys> {
        (self.description.format == CaptureFormat::PcapNg).then(|| self.embedded.keys.clone())
    }

    /// What the pcapng Decryption Secrets Blocks read so far held.
    pub fn secrets_blocks(&self) -> SecretsBlockCounts {
        self.embedded.counts
    }

    /// Bytes taken from the underlying input so far (compressed bytes if compressed), for progress.
    pub fn bytes_read(&self) -> u64 {
        self.source.counted().count
    }

    /// Frames delivered so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// The bytes this reader reads in place, when it was made by [`CaptureReader::from_shared`]
    /// over an uncompressed capture: every [`Frame::data`] is a slice of them.
    pub fn shared_bytes(&self) -> Option<&SharedBytes> {
        self.window.shared_bytes()
    }

    /// Lets a parallel analysis ([`crate::analyze_parallel`]) read the rest of the capture with
    /// several threads at once, each at its own offsets of `source`, which must hold the same bytes
    /// as this reader's input. It does so for an uncompressed pcap or pcapng file (the speed-up is
    /// in reading and decoding); otherwise `source` is not used. [`open`] does this for files.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/tls12-ok.pcap");
    /// let file = std::fs::File::open(path)?;
    /// let reader = shakedown::capture::CaptureReader::new(file.try_clone()?)?.with_read_at(Arc::new(file));
    /// let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
    /// let mut reader = reader;
    /// shakedown::analyze_parallel(&mut reader, &shakedown::Config::default(), 2, &mut verdicts)?;
    /// assert_eq!(verdicts.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn with_read_at(mut self, source: std::sync::Arc<dyn ReadAt>) -> Self {
        self.positional = Some(Positional::At(source));
        self
    }

    /// Stretches of `size` bytes to read the rest of the capture from, when it is an uncompressed
    /// pcap or pcapng file that can be read at any offset and nothing went wrong yet.
    pub(crate) fn stretches(&self, size: usize) -> Option<Stretches> {
        let first = match &self.state {
            State::Pcap(pcap) => Walking::Pcap(*pcap),
            State::PcapNg(ng) => Walking::PcapNg(Box::new((
                ng.clone(),
                self.description.clone(),
                self.embedded.clone(),
            ))),
            State::Done => return None,
        };
        if self.description.compression != Compression::None || self.truncation.is_some() {
            return None;
        }
        let start = Resume {
            offset: self.window.offset(),
            frames: self.frames,
        };
        Some(Stretches::new(self.positional.clone()?, start, first, size))
    }

    /// Records that the capture was read elsewhere (in stretches) up to `next`, ending as
    /// `truncation` says, with `walking` as the last walk left it (pcapng: the description of the
    /// sections and interfaces met, the secrets found): later calls to
    /// [`CaptureReader::next_frame`] give nothing.
    pub(crate) fn read_elsewhere(
        &mut self,
        next: Resume,
        truncation: Option<Truncation>,
        walking: Walking,
    ) {
        if let Some((description, embedded)) = walking.found() {
            self.description = description;
            self.embedded = embedded;
        }
        self.state = State::Done;
        self.frames = next.frames;
        if self.truncation.is_none() {
            self.truncation = truncation;
        }
    }

    /// Gives no more frames: what is left of the capture is not read (an analysis stopped).
    pub(crate) fn stop_reading(&mut self) {
        self.state = State::Done;
    }
}

impl CaptureReader<Box<dyn Read + Send>> {
    /// A reader over a capture already in memory (a memory-mapped file, a buffer), shared rather
    /// than copied: frames are slices of `bytes`, and a parallel analysis hands them to its threads
    /// without copying ([`crate::analyze_parallel`]). A compressed capture is decompressed as it is
    /// read, as [`CaptureReader::new`] does.
    ///
    #[cfg_attr(feature = "unstable", doc = " ```")]
    #[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/tls12-ok.pcap");
    /// let bytes: shakedown::capture::SharedBytes = Arc::new(std::fs::read(path)?);
    /// let mut reader = shakedown::capture::CaptureReader::from_shared(bytes)?;
    /// assert!(reader.shared_bytes().is_some());
    /// assert!(reader.next_frame()?.is_some());
    /// # Ok(()) }
    /// ```
    pub fn from_shared(bytes: SharedBytes) -> Result<Self, CaptureError> {
        let data = (*bytes).as_ref();
        let compressed = data.starts_with(&MAGIC_GZIP) || data.starts_with(&MAGIC_ZSTD);
        if compressed || data.is_empty() {
            return CaptureReader::new(
                Box::new(SharedCursor { bytes, at: 0 }) as Box<dyn Read + Send>
            );
        }
        let len = data.len();
        let mut counted = Counted::new(Box::new(io::empty()) as Box<dyn Read + Send>);
        counted.count = len as u64;
        let mut reader = Self::from_parts(
            Source::Plain(counted),
            Window::shared(Arc::clone(&bytes)),
            Compression::None,
        )?;
        reader.positional = Some(Positional::Shared(bytes));
        Ok(reader)
    }
}

/// Reads [`SharedBytes`] front to back (for compressed captures given to
/// [`CaptureReader::from_shared`]).
struct SharedCursor {
    bytes: SharedBytes,
    at: usize,
}

impl Read for SharedCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = (*self.bytes).as_ref().get(self.at..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        self.at += n;
        Ok(n)
    }
}

/// Opens a capture file, or standard input for `-`. A file can also be read at any offset (see
/// [`CaptureReader::with_read_at`]), which a parallel analysis of an uncompressed file does.
///
/// ```no_run
/// let mut reader = shakedown::capture::open(std::path::Path::new("trace.pcapng.gz"))?;
/// while let Some(frame) = reader.next_frame()? {
///     println!("{} {} {} bytes", frame.index, frame.ts, frame.data.len());
/// }
/// # Ok::<(), shakedown::capture::CaptureError>(())
/// ```
pub fn open(path: &Path) -> Result<CaptureReader<Box<dyn Read + Send>>, CaptureError> {
    if path.as_os_str() == "-" {
        return CaptureReader::new(Box::new(io::stdin()) as Box<dyn Read + Send>);
    }
    let meta = std::fs::metadata(path).map_err(|source| CaptureError::Open { source })?;
    if meta.is_dir() {
        return Err(CaptureError::IsADirectory);
    }
    let file = std::fs::File::open(path).map_err(|source| CaptureError::Open { source })?;
    let at = file.try_clone().ok();
    let reader = CaptureReader::new(Box::new(file) as Box<dyn Read + Send>)?;
    Ok(match at {
        Some(at) if meta.is_file() => reader.with_read_at(std::sync::Arc::new(at)),
        _ => reader,
    })
}
