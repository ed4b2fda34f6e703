//! Reading an uncompressed pcap or pcapng file in stretches, several at once.
//!
//! A parallel analysis ([`crate::analyze_parallel`]) splits a plain capture file into stretches of
//! a fixed size; stretch `k` holds the records (pcapng: blocks) that *start* within its bytes. Each
//! reading thread reads its own stretches at their offsets ([`ReadAt`], or slices of bytes already
//! in memory), so the copy from the page cache lands in the cache of the core that parses it. Where
//! a stretch's first record starts is known only once the stretch before it has been walked
//! ([`Fetched::walk`]: record headers only, cheap, and pcapng's section headers and interface
//! descriptions, whose state [`Walking`] carries from one stretch to the next); the walk reads past
//! the stretch's end to finish its last record. Records are checked exactly as
//! [`CaptureReader::next_frame`] checks them (by the same code), so a cut or damaged file stops at
//! the same record with the same [`Truncation`].
//!
//! [`CaptureReader::next_frame`]: super::CaptureReader::next_frame

use std::io;
use std::sync::Arc;

use super::input::read_up_to;
use super::pcap::{PcapState, Record};
use super::pcapng::{Embedded, NgState};
use super::{CaptureDescription, CaptureError, Frame, FrameMeta, SharedBytes, Truncation};

/// A capture that can be read at any offset, by several threads at once: a file
/// ([`std::fs::File`] on Unix and Windows), or anything else that can.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::capture::ReadAt;
/// struct Mem(Vec<u8>);
/// impl ReadAt for Mem {
///     fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
///         let rest = usize::try_from(offset).ok().and_then(|o| self.0.get(o..)).unwrap_or(&[]);
///         let n = rest.len().min(buf.len());
///         buf[..n].copy_from_slice(&rest[..n]);
///         Ok(n)
///     }
/// }
/// let mut buf = [0u8; 2];
/// assert_eq!(Mem(vec![1, 2, 3]).read_at(&mut buf, 2)?, 1);
/// assert_eq!(buf[0], 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait ReadAt: Send + Sync {
    /// Reads bytes from `offset` into `buf`; how many were read (0: nothing at `offset`, the end).
    /// A short read is not the end; a later call goes on from where it stopped.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

#[cfg(any(unix, windows))]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        #[cfg(unix)]
        return std::os::unix::fs::FileExt::read_at(self, buf, offset);
        #[cfg(windows)]
        return std::os::windows::fs::FileExt::seek_read(self, buf, offset);
    }
}

/// Where stretches are read from.
#[derive(Clone)]
pub(crate) enum Positional {
    /// Read at offsets into buffers of the reading thread's own.
    At(Arc<dyn ReadAt>),
    /// Already in memory: a stretch is a slice of these bytes.
    Shared(SharedBytes),
}

/// A [`ReadAt`] read front to back from an offset.
struct OffsetReader<'a> {
    src: &'a dyn ReadAt,
    offset: u64,
}

impl io::Read for OffsetReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read_at(buf, self.offset)?.min(buf.len());
        self.offset = self.offset.saturating_add(n as u64);
        Ok(n)
    }
}

/// Reads from `offset` until `buf` is full or the input ends; how many bytes were read.
fn read_full(src: &dyn ReadAt, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    read_up_to(&mut OffsetReader { src, offset }, buf)
}

/// Where the records still to be read begin, and how many frames came before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resume {
    /// Offset of the next record in the file.
    pub(crate) offset: u64,
    /// Frames before it.
    pub(crate) frames: u64,
}

/// A plain capture file to be read in stretches of `size` bytes from `start`.
#[derive(Clone)]
pub(crate) struct Stretches {
    source: Positional,
    start: Resume,
    /// How the first stretch's records are read.
    first: Walking,
    size: u64,
}

/// How records are read, as the records walked so far left it: what a walk hands to the next.
#[derive(Debug, Clone)]
pub(crate) enum Walking {
    /// pcap records, all alike.
    Pcap(PcapState),
    /// pcapng blocks: the current section's byte order and interfaces, the capture's description
    /// (sections, interfaces) and the Decryption Secrets Blocks' secrets as far as walked.
    PcapNg(Box<(NgState, CaptureDescription, Embedded)>),
}

impl Walking {
    /// Reads the record at the start of `data` (see [`PcapState::record`], [`NgState::block`]).
    fn record(&mut self, data: &[u8], at_end: bool, record: u64) -> Record {
        match self {
            Walking::Pcap(pcap) => pcap.record(data, at_end, record),
            Walking::PcapNg(ng) => {
                let (state, description, secrets) = &mut **ng;
                state.block(data, at_end, description, secrets, record)
            }
        }
    }

    /// The capture's description and secrets as far as walked (pcapng), to replace the reader's.
    pub(crate) fn found(self) -> Option<(CaptureDescription, Embedded)> {
        match self {
            Walking::Pcap(_) => None,
            Walking::PcapNg(ng) => {
                let (_, description, secrets) = *ng;
                Some((description, secrets))
            }
        }
    }
}

/// How reading ended within a stretch.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The input ended after a whole record.
    Clean,
    /// The file is cut short or damaged.
    Damaged(Truncation),
    /// Reading failed.
    Failed(CaptureError),
}

/// What [`Fetched::walk`] found: where the next stretch's records begin, and whether reading ends
/// in this stretch.
#[derive(Debug)]
pub(crate) struct Walked {
    pub(crate) next: Resume,
    pub(crate) end: Option<Ending>,
}

impl Stretches {
    /// Stretches of `size` bytes (at least 1) of a capture file read from `source`, whose records
    /// start at `start` and are read as `first` says.
    pub(crate) fn new(source: Positional, start: Resume, first: Walking, size: usize) -> Self {
        Stretches {
            source,
            start,
            first,
            size: size.max(1) as u64,
        }
    }

    /// Bytes in a stretch.
    pub(crate) fn size(&self) -> usize {
        self.size as usize
    }

    /// Where reading starts.
    pub(crate) fn start(&self) -> Resume {
        self.start
    }

    /// How the first stretch's records are read (each walk hands its [`Walking`] on).
    pub(crate) fn first_walking(&self) -> Walking {
        self.first.clone()
    }

    /// Offset of stretch `k`'s first byte (saturating).
    fn base(&self, k: u64) -> u64 {
        k.saturating_mul(self.size)
            .saturating_add(self.start.offset)
    }

    /// Reads stretch `k`'s bytes, into a buffer of `spare` that nobody else holds any more (or a
    /// new one). An error is kept for [`Fetched::walk`] to report: the bytes may not be needed (a
    /// record of the stretch before may cover them).
    pub(crate) fn fetch(&self, k: u64, spare: &mut Vec<Arc<Vec<u8>>>) -> Fetched {
        let base = self.base(k);
        let size = self.size as usize;
        match &self.source {
            Positional::Shared(bytes) => {
                let all = (**bytes).as_ref().len();
                let from = usize::try_from(base).unwrap_or(usize::MAX).min(all);
                let len = size.min(all - from);
                Fetched {
                    block: Block::Shared(Arc::clone(bytes)),
                    from,
                    len,
                    base,
                    at_end: from + len == all,
                    error: None,
                }
            }
            Positional::At(src) => {
                let mut buf = spare
                    .iter()
                    .position(|b| Arc::strong_count(b) == 1)
                    .and_then(|i| Arc::try_unwrap(spare.swap_remove(i)).ok())
                    .unwrap_or_default();
                if buf.len() < size {
                    buf.resize(size, 0);
                }
                let (len, error) = match buf.get_mut(..size) {
                    Some(to) => match read_full(src.as_ref(), to, base) {
                        Ok(n) => (n, None),
                        Err(e) => (0, Some(e)),
                    },
                    None => (0, None),
                };
                Fetched {
                    block: Block::Own(Arc::new(buf)),
                    from: 0,
                    len,
                    base,
                    at_end: len < size,
                    error,
                }
            }
        }
    }
}

/// The bytes of a stretch.
enum Block {
    Own(Arc<Vec<u8>>),
    Shared(SharedBytes),
}

/// One stretch's bytes: `bytes[from..from + len]` is the file from offset `base`.
pub(crate) struct Fetched {
    block: Block,
    from: usize,
    len: usize,
    base: u64,
    /// Whether the input ends after these bytes.
    at_end: bool,
    /// Why the bytes could not be read.
    error: Option<io::Error>,
}

impl Fetched {
    /// A stretch whose records lie in `block` (cut from a stream: see [`super::StreamStretches`]),
    /// each at its [`FrameMeta::at`] in it.
    pub(crate) fn in_block(block: SharedBytes) -> Self {
        let len = (*block).as_ref().len();
        Fetched {
            block: Block::Shared(block),
            from: 0,
            len,
            base: 0,
            at_end: true,
            error: None,
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.block {
            Block::Own(b) => b,
            Block::Shared(b) => (**b).as_ref(),
        }
    }

    /// The stretch's bytes from `offset` of the file on (empty outside them).
    fn bytes_at(&self, offset: u64) -> &[u8] {
        let Some(rel) = offset
            .checked_sub(self.base)
            .and_then(|r| usize::try_from(r).ok())
            .filter(|&r| r <= self.len)
        else {
            return &[];
        };
        self.bytes()
            .get(self.from + rel..self.from + self.len)
            .unwrap_or(&[])
    }

    /// Makes at least `want` bytes from file offset `offset` available, reading on past the
    /// stretch (`want` is bounded by the largest record). Sets `at_end` when the input ends first.
    fn extend(&mut self, src: &Positional, offset: u64, want: usize) -> io::Result<()> {
        let Some(rel) = offset
            .checked_sub(self.base)
            .and_then(|r| usize::try_from(r).ok())
        else {
            return Ok(());
        };
        let target = rel.saturating_add(want);
        match (&mut self.block, src) {
            (Block::Shared(bytes), _) => {
                let all = (**bytes).as_ref().len();
                self.len = target.min(all - self.from);
                self.at_end = self.from + self.len == all;
            }
            (Block::Own(buf), Positional::At(src)) => {
                // Nobody else holds the buffer before the walk is over.
                let Some(buf) = Arc::get_mut(buf) else {
                    return Err(io::Error::other("stretch buffer shared while read"));
                };
                if buf.len() < target {
                    buf.resize(target, 0);
                }
                let at = self.base.saturating_add(self.len as u64);
                let got = match buf.get_mut(self.len..target) {
                    Some(to) => read_full(src.as_ref(), to, at)?,
                    None => 0,
                };
                self.len += got;
                self.at_end = self.len < target;
            }
            (Block::Own(_), Positional::Shared(_)) => {}
        }
        Ok(())
    }

    /// Walks the records of stretch `k` from `from` (where the stretch before left off, reading
    /// them as `walking` says and updating it), checking each record as the capture reader does
    /// and giving each packet's frame (`at` within this stretch's bytes, for [`Fetched::frame`])
    /// with its number to `each`.
    pub(crate) fn walk(
        &mut self,
        stretches: &Stretches,
        k: u64,
        from: Resume,
        walking: &mut Walking,
        mut each: impl FnMut(FrameMeta, u64),
    ) -> Walked {
        let end = stretches.base(k.saturating_add(1));
        let Resume {
            mut offset,
            mut frames,
        } = from;
        if offset < end
            && let Some(e) = self.error.take()
        {
            let next = Resume { offset, frames };
            return Walked {
                next,
                end: Some(Ending::Failed(CaptureError::Io { source: e })),
            };
        }
        while offset < end {
            let record = frames.saturating_add(1);
            let parsed = walking.record(self.bytes_at(offset), self.at_end, record);
            let ending = match parsed {
                Record::Frame(r) => {
                    let rel = (offset - self.base) as usize;
                    let meta = FrameMeta {
                        at: self.from + rel + r.header,
                        ..r.meta
                    };
                    each(meta, record);
                    frames = record;
                    offset = offset.saturating_add(r.len as u64);
                    continue;
                }
                Record::Skipped(len) => {
                    offset = offset.saturating_add(len as u64);
                    continue;
                }
                Record::Need(n) => match self.extend(&stretches.source, offset, n) {
                    Ok(()) => continue,
                    Err(source) => Ending::Failed(CaptureError::Io { source }),
                },
                Record::End => Ending::Clean,
                Record::Damaged(reason) => Ending::Damaged(Truncation {
                    frames_read: frames,
                    byte_offset: offset,
                    reason,
                }),
            };
            return Walked {
                next: Resume { offset, frames },
                end: Some(ending),
            };
        }
        Walked {
            next: Resume { offset, frames },
            end: None,
        }
    }

    /// The frame numbered `index` whose record [`Fetched::walk`] gave as `meta`.
    pub(crate) fn frame(&self, meta: &FrameMeta, index: u64) -> Frame<'_> {
        let data = meta
            .at
            .checked_add(meta.len)
            .and_then(|to| self.bytes().get(meta.at..to))
            .unwrap_or(&[]);
        Frame {
            index,
            ts: meta.ts,
            link_type: meta.link_type,
            interface: meta.interface,
            data,
            orig_len: meta.orig_len,
        }
    }

    /// Reads every cache line of the stretch's bytes once, front to back (the CPU prefetches such a
    /// read, where frames read one by one would each wait for their line).
    pub(crate) fn read_through(&self) {
        const CACHE_LINE: usize = 64;
        let lines = self.bytes().iter().step_by(CACHE_LINE);
        std::hint::black_box(lines.fold(0u8, |x, b| x ^ b));
    }

    /// The bytes frames borrow, to share with other threads (the buffer, once shared, is not
    /// written again), and where they are in memory (address, length).
    pub(crate) fn share(&self) -> (SharedBytes, (usize, usize)) {
        let span = (self.bytes().as_ptr() as usize, self.bytes().len());
        let shared = match &self.block {
            Block::Own(b) => Arc::clone(b) as SharedBytes,
            Block::Shared(b) => Arc::clone(b),
        };
        (shared, span)
    }

    /// Gives the buffer back to `spare` (at most `keep` buffers are kept) for a later stretch to
    /// reuse once nobody holds it, unless it was grown for a record far bigger than a stretch.
    pub(crate) fn give_back(self, spare: &mut Vec<Arc<Vec<u8>>>, size: usize, keep: usize) {
        if let Block::Own(b) = self.block
            && b.len() <= size.saturating_mul(4)
            && spare.len() < keep
        {
            spare.push(b);
        }
    }
}
