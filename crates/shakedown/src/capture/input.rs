//! The byte side of the capture reader: counts what is taken from the caller's input, undoes gzip or
//! zstd compression (recognised by magic bytes), and keeps one large sliding window of the
//! decompressed stream from which whole records and blocks are parsed in place.
//!
//! Why not pcap-parser's streaming readers (`LegacyPcapReader`, `PcapNGReader`): their `refill`
//! turns every `io::Error` into a bare `ReadError` (no cause to show the user), their constructors
//! take a single `read()` and fail when a pipe, stdin or a decompressor returns fewer bytes than a
//! file header, and a damaged record only shows up as `Incomplete`/`BufferTooSmall`. Owning the
//! window keeps the cause of every error, gives exact byte offsets for the truncation report, and
//! makes the progress guarantee simple: every `fill` either grows the window, sees end of input, or
//! fails.

use std::io::{self, Chain, Cursor, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

use super::Compression;

/// Initial window size: large enough that a capture is read in few syscalls (4 096 per GiB), small
/// enough to stay in a core's L2 cache, where the kernel's copy leaves it for the parser to read
/// (measured: 1 MiB was slower on one thread).
pub(crate) const INITIAL_WINDOW: usize = 1 << 18;

/// Retired blocks kept for reuse, at most (see [`Window::retire_blocks`]): as many as a parallel
/// analysis has in flight.
const MAX_SPARE_BLOCKS: usize = 48;

/// Wraps the caller's input, counting the bytes it gives and remembering whether it (rather than a
/// decompressor above it) failed, so errors can be classified as I/O or as a damaged stream.
#[derive(Debug)]
pub(crate) struct Counted<R> {
    inner: R,
    pub(crate) count: u64,
    pub(crate) failed: bool,
}

impl<R: Read> Counted<R> {
    pub(crate) fn new(inner: R) -> Self {
        Counted {
            inner,
            count: 0,
            failed: false,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }
}

/// The sniffed first bytes put back in front of the rest of the input, for a decompressor.
type Prefixed<R> = Chain<Cursor<Vec<u8>>, Counted<R>>;

/// Where decompressed capture bytes come from.
pub(crate) enum Source<R: Read> {
    /// Uncompressed: the sniffed prefix was already placed in the window.
    Plain(Counted<R>),
    /// gzip, possibly several concatenated members (as `gzip -d` accepts).
    Gzip(Box<MultiGzDecoder<Prefixed<R>>>),
    /// zstd (a single frame; see the module docs of `capture`).
    Zstd(Box<StreamingDecoder<Prefixed<R>, FrameDecoder>>),
}

impl<R: Read> Source<R> {
    /// Builds the source for `compression`; `prefix` holds the bytes already taken from `input`.
    pub(crate) fn new(
        compression: Compression,
        prefix: Vec<u8>,
        input: Counted<R>,
    ) -> io::Result<Self> {
        let chained = Cursor::new(prefix).chain(input);
        Ok(match compression {
            Compression::None => {
                let (_, input) = chained.into_inner();
                Source::Plain(input)
            }
            Compression::Gzip => Source::Gzip(Box::new(MultiGzDecoder::new(chained))),
            Compression::Zstd => Source::Zstd(Box::new(
                StreamingDecoder::new(chained).map_err(io::Error::other)?,
            )),
        })
    }

    /// The counting wrapper around the caller's input.
    pub(crate) fn counted(&self) -> &Counted<R> {
        match self {
            Source::Plain(c) => c,
            Source::Gzip(d) => d.get_ref().get_ref().1,
            Source::Zstd(d) => d.get_ref().get_ref().1,
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(c) => c.read(buf),
            Source::Gzip(d) => d.read(buf),
            Source::Zstd(d) => d.read(buf),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_up_to<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        match input.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Bytes shared between threads without copying: a memory-mapped file, or a buffer already in
/// memory. See [`super::CaptureReader::from_shared`].
pub type SharedBytes = std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A sliding window over the decompressed stream: `buf[start..end]` holds bytes not yet consumed.
///
/// Bytes before `start` stay valid until the next [`Window::fill`], which is what lets a returned
/// frame borrow its record after the record was consumed. Over [`SharedBytes`] the window is the
/// whole capture from the start and never moves.
///
/// For a parallel analysis cutting the stream into stretches ([`Window::retire_blocks`]), the
/// consumed bytes stay where they are for as long as anybody holds them: where the window would
/// move the unconsumed bytes to the front of its block, it moves them to the front of another
/// block of the same size instead (so the reads that follow are the same) and gives up the old
/// block whole.
pub(crate) struct Window {
    /// Held by nobody else until it is retired.
    buf: Arc<Vec<u8>>,
    shared: Option<SharedBytes>,
    /// Whether blocks are retired rather than compacted in place.
    retiring: bool,
    /// Blocks retired and not yet taken ([`Window::take_retired`]), oldest first.
    retired: Vec<Arc<Vec<u8>>>,
    /// Retired blocks, to reuse once nobody else holds them.
    spare: Vec<Arc<Vec<u8>>>,
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[start]`.
    offset: u64,
}

impl Window {
    pub(crate) fn new(prefix: &[u8]) -> Self {
        let mut buf = vec![0u8; INITIAL_WINDOW.max(prefix.len())];
        if let Some(head) = buf.get_mut(..prefix.len()) {
            head.copy_from_slice(prefix);
        }
        Window {
            buf: Arc::new(buf),
            shared: None,
            retiring: false,
            retired: Vec::new(),
            spare: Vec::new(),
            start: 0,
            end: prefix.len(),
            eof: false,
            offset: 0,
        }
    }

    /// A window over the whole of `bytes`.
    pub(crate) fn shared(bytes: SharedBytes) -> Self {
        let end = (*bytes).as_ref().len();
        Window {
            buf: Arc::new(Vec::new()),
            shared: Some(bytes),
            retiring: false,
            retired: Vec::new(),
            spare: Vec::new(),
            start: 0,
            end,
            eof: true,
            offset: 0,
        }
    }

    /// The shared bytes this window is over, if it is.
    pub(crate) fn shared_bytes(&self) -> Option<&SharedBytes> {
        self.shared.as_ref()
    }

    fn bytes(&self) -> &[u8] {
        match &self.shared {
            Some(b) => (**b).as_ref(),
            None => &self.buf,
        }
    }

    /// From now on, gives up blocks whole instead of compacting them (see the type's docs).
    pub(crate) fn retire_blocks(&mut self) {
        self.retiring = true;
    }

    /// The oldest block given up and not yet taken: it is not written again.
    pub(crate) fn take_retired(&mut self) -> Option<SharedBytes> {
        (!self.retired.is_empty()).then(|| self.retired.remove(0) as SharedBytes)
    }

    /// The current block, shared: a later [`Window::fill`] would write to a copy of it.
    pub(crate) fn share_block(&self) -> SharedBytes {
        match &self.shared {
            Some(bytes) => Arc::clone(bytes),
            None => Arc::clone(&self.buf) as SharedBytes,
        }
    }

    /// Moves the unconsumed bytes to the front of another block of the same size (a retired one
    /// nobody holds any more, when there is one) and retires the current block.
    fn retire(&mut self) {
        let len = self.buf.len();
        let fresh = match self.spare.iter().rposition(|b| Arc::strong_count(b) == 1) {
            Some(i) => self.spare.swap_remove(i),
            None => Arc::new(Vec::new()),
        };
        let old = std::mem::replace(&mut self.buf, fresh);
        let buf = Arc::make_mut(&mut self.buf);
        buf.resize(len, 0);
        let live = old.get(self.start..self.end).unwrap_or(&[]);
        if let Some(to) = buf.get_mut(..live.len()) {
            to.copy_from_slice(live);
        }
        // A block grown for a record far bigger than usual is not kept.
        if self.spare.len() < MAX_SPARE_BLOCKS && old.capacity() <= 4 * INITIAL_WINDOW {
            self.spare.push(Arc::clone(&old));
        }
        self.retired.push(old);
    }

    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        self.bytes().get(self.start..self.end).unwrap_or(&[])
    }

    /// Stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Index in the backing buffer of the first unconsumed byte (for [`Window::slice`]).
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Bytes of the backing buffer, valid until the next `fill`.
    pub(crate) fn slice(&self, from: usize, len: usize) -> &[u8] {
        from.checked_add(len)
            .and_then(|to| self.bytes().get(from..to))
            .unwrap_or(&[])
    }

    /// Size of the backing buffer (for the memory-bound tests).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Marks `n` unconsumed bytes as consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Whether at least `n` unconsumed bytes are there already.
    #[inline]
    pub(crate) fn has(&self, n: usize) -> bool {
        self.end - self.start >= n
    }

    /// Makes at least `n` unconsumed bytes available, reading big chunks from `src`.
    ///
    /// Returns `Ok(false)` when the input ends first (what is there stays available). The caller
    /// bounds `n` (block size limit); the window grows to fit it, in step with the data read. Every loop turn reads at least one
    /// byte, sees end of input, or returns the error, so this cannot spin.
    pub(crate) fn fill<S: Read>(&mut self, src: &mut S, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        if self.shared.is_some() {
            // Everything is there already.
            return Ok(false);
        }
        let (start, end) = (self.start, self.end);
        // Compact when the record would not fit behind `start`, or the free tail is so small that
        // reads would be tiny (many syscalls).
        let len = self.buf.len();
        if start + n > len || len - end < len / 4 {
            if self.retiring && start > 0 {
                self.retire();
            } else {
                Arc::make_mut(&mut self.buf).copy_within(start..end, 0);
            }
            self.end -= start;
            self.start = 0;
        }
        // Nobody else holds the current block: this does not copy it.
        let buf = Arc::make_mut(&mut self.buf);
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.end == buf.len() {
                // Full (so compacted, as `start + n` exceeded the length): grow by doubling
                // towards `n` as bytes arrive, so a damaged length in a short file costs at most
                // twice the bytes that really came, never the claimed size up front.
                let target = n.checked_next_power_of_two().unwrap_or(n);
                let new_len = buf.len().saturating_mul(2).min(target).max(self.end + 1);
                buf.resize(new_len, 0);
            }
            let Some(space) = buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match src.read(space) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k.min(space.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
