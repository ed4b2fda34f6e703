//! A capture read front to back — compressed, or from a pipe or standard input — cut into
//! stretches of whole records for a parallel analysis ([`crate::analyze_parallel`]), which reads a
//! plain file at offsets instead ([`super::Stretches`]).
//!
//! One thread cuts: it reads the records with the capture reader itself (the same code, and the
//! same reads of the same sizes, as [`CaptureReader::next_frame`], so a cut or damaged capture, a
//! failing input or a broken gzip or zstd stream ends at the same record, the same way), and copies
//! the packets' bytes into a buffer of the stretch's own until the stretch spans its size of the
//! stream. The reader's window stays the reader's own. Copying costs less than what was measured
//! against it: handing on the window's blocks themselves, which a decompressor fills some 35 KiB at
//! a time, made stretches so small that handing them over cost more CPU than the copy. A stretch's
//! buffer is reused once every thread let go of it.
//!
//! [`CaptureReader::next_frame`]: super::CaptureReader::next_frame

use std::io::Read;
use std::sync::Arc;

use super::{CaptureReader, Ending, Fetched, FrameMeta};

/// Stretch buffers kept for reuse, at most (more are in flight only while the threads fall
/// behind, which the analysis bounds).
const MAX_SPARE: usize = 32;

/// A capture reader's stream, cut into stretches one after the other.
pub(crate) struct StreamStretches<'r> {
    reader: &'r mut (dyn CutStream + Send + 'r),
    /// Bytes of the stream a stretch spans, at least (but for the last): a stretch ends after the
    /// record that reaches it.
    size: usize,
    /// Buffers of stretches handed out, to reuse once nobody else holds them.
    spare: Vec<Arc<Vec<u8>>>,
}

/// One stretch cut from the stream.
pub(crate) struct Cut {
    /// Frames before the stretch's first record.
    pub(crate) before: u64,
    /// The bytes its packets were copied into.
    pub(crate) fetched: Fetched,
    /// How reading ended, when it ended in this stretch (the reader itself keeps the truncation
    /// and the capture's description).
    pub(crate) end: Option<Ending>,
}

/// A capture reader whatever its input, to cut (one call per stretch).
trait CutStream {
    /// Reads records until they span `size` bytes of the stream or reading ends: each packet's
    /// bytes into `buf`, each record into `records` with where its bytes were put. Returns the
    /// frames read before the first of them, and how reading ended if it did.
    fn cut(
        &mut self,
        size: usize,
        buf: &mut Vec<u8>,
        records: &mut Vec<FrameMeta>,
    ) -> (u64, Option<Ending>);
}

impl<'r> StreamStretches<'r> {
    /// Stretches of what is left of `reader`'s capture, each spanning `size` bytes of it or a
    /// little more (the record that reaches it is whole), the last one what is left.
    pub(crate) fn new<R: Read + Send>(reader: &'r mut CaptureReader<R>, size: usize) -> Self {
        StreamStretches {
            reader,
            size: size.max(1),
            spare: Vec::new(),
        }
    }

    /// Reads the next stretch's records into `records` (each with where its bytes are in
    /// [`Cut::fetched`], for [`Fetched::frame`]).
    pub(crate) fn cut(&mut self, records: &mut Vec<FrameMeta>) -> Cut {
        let reused = self
            .spare
            .iter()
            .position(|b| Arc::strong_count(b) == 1)
            .and_then(|i| Arc::try_unwrap(self.spare.swap_remove(i)).ok());
        let mut buf = reused.unwrap_or_else(|| Vec::with_capacity(self.size));
        buf.clear();
        let (before, end) = self.reader.cut(self.size, &mut buf, records);
        let buf = Arc::new(buf);
        // A buffer grown for a record far bigger than a stretch is not kept.
        if self.spare.len() < MAX_SPARE && buf.capacity() <= self.size.saturating_mul(4) {
            self.spare.push(Arc::clone(&buf));
        }
        Cut {
            before,
            fetched: Fetched::in_block(buf),
            end,
        }
    }
}

impl<R: Read> CutStream for CaptureReader<R> {
    fn cut(
        &mut self,
        size: usize,
        buf: &mut Vec<u8>,
        records: &mut Vec<FrameMeta>,
    ) -> (u64, Option<Ending>) {
        let before = self.frames;
        // Counted in bytes of the stream (headers and skipped blocks too), so that a stretch of
        // tiny records stays as small.
        let from = self.window.offset();
        while self.window.offset().saturating_sub(from) < size as u64 {
            match self.next_record() {
                Ok(Some(meta)) => {
                    let at = buf.len();
                    buf.extend_from_slice(self.window.slice(meta.at, meta.len));
                    records.push(FrameMeta { at, ..meta });
                }
                Ok(None) => {
                    let end = match &self.truncation {
                        Some(t) => Ending::Damaged(t.clone()),
                        None => Ending::Clean,
                    };
                    return (before, Some(end));
                }
                Err(e) => return (before, Some(Ending::Failed(e))),
            }
        }
        (before, None)
    }
}
