//! A capture read front to back — compressed, or from a pipe or standard input — cut into
//! stretches of whole records for a parallel analysis ([`crate::analyze_parallel`]), which reads a
//! plain file at offsets instead ([`super::Stretches`]).
//!
//! One thread cuts: it reads the records with the capture reader itself (the same code, and the
//! same reads of the same sizes, as [`CaptureReader::next_frame`], so a cut or damaged capture, a
//! failing input or a broken gzip or zstd stream ends at the same record, the same way). The
//! packets stay where the reader read them: its window gives up each block whole where one reader
//! would move the bytes left over to the block's front (see `input::Window`), and the records read
//! from a block are handed out once it is given up. A stretch holds the records of one or more
//! blocks (or, for stretches smaller than a block, some of one block's), so that it spans about
//! its size whatever the reads were: a decompressor fills the window some 35 KiB at a time, a pipe
//! 64 KiB. A block is reused once every thread let go of it.
//!
//! [`CaptureReader::next_frame`]: super::CaptureReader::next_frame

use std::collections::VecDeque;
use std::io::Read;

use super::{CaptureReader, Ending, Fetched, FrameMeta, SharedBytes};

/// Bytes a record's header is counted as, for a stretch's size (a pcap record's; pcapng's are
/// longer, and skipped blocks are not counted: the size bounds the work a stretch is).
const RECORD_HEADER: usize = 16;

/// A capture reader's stream, cut into stretches one after the other.
pub(crate) struct StreamStretches<'r> {
    reader: &'r mut (dyn CutStream + Send + 'r),
    cutting: Cutting,
}

/// What was read and not handed out yet.
struct Cutting {
    /// Bytes of records (packets and headers) in a stretch, at least (but for the last one), and
    /// at most but for its last record.
    size: usize,
    /// Records of the window's current block, read but not handed out.
    current: Vec<FrameMeta>,
    /// The stretch being put together: its blocks and its records, and their bytes.
    next: Cut,
    bytes: usize,
    /// Stretches ready to hand out, in order.
    ready: VecDeque<Cut>,
    /// Whether reading ended (the last stretch, in `ready` until taken, says how).
    ended: bool,
}

/// One stretch cut from the stream.
pub(crate) struct Cut {
    /// Frames before the stretch's first record.
    pub(crate) before: u64,
    /// The blocks its records lie in, in order, each with how many of the records lie in it.
    pub(crate) blocks: Vec<(Fetched, usize)>,
    /// Its records, each with where its bytes are in its block.
    pub(crate) records: Vec<FrameMeta>,
    /// How reading ended, when it ended in this stretch (the reader itself keeps the truncation
    /// and the capture's description).
    pub(crate) end: Option<Ending>,
}

impl Cut {
    fn empty(before: u64) -> Self {
        Cut {
            before,
            blocks: Vec::new(),
            records: Vec::new(),
            end: None,
        }
    }
}

/// A capture reader whatever its input, to cut.
trait CutStream {
    /// Reads on until a stretch is ready or reading ends.
    fn read_on(&mut self, cutting: &mut Cutting);
}

impl<'r> StreamStretches<'r> {
    /// Stretches of what is left of `reader`'s capture, each holding `size` bytes of records (a
    /// little more or less: the records are whole), the last one what is left.
    pub(crate) fn new<R: Read + Send>(reader: &'r mut CaptureReader<R>, size: usize) -> Self {
        reader.window.retire_blocks();
        let before = reader.frames;
        StreamStretches {
            reader,
            cutting: Cutting {
                size: size.max(1),
                current: Vec::new(),
                next: Cut::empty(before),
                bytes: 0,
                ready: VecDeque::new(),
                ended: false,
            },
        }
    }

    /// The next stretch; once the one reading ended in was taken, empty ones.
    pub(crate) fn cut(&mut self) -> Cut {
        while self.cutting.ready.is_empty() && !self.cutting.ended {
            self.reader.read_on(&mut self.cutting);
        }
        let after = self.cutting.next.before;
        self.cutting.ready.pop_front().unwrap_or_else(|| Cut {
            end: Some(Ending::Clean),
            ..Cut::empty(after)
        })
    }
}

impl Cutting {
    /// The records read from `block` (`self.current`) go into stretches: the one being put
    /// together, and new ones whenever it holds `size` bytes.
    fn block_done(&mut self, block: &SharedBytes) {
        let mut in_block = 0;
        for meta in std::mem::take(&mut self.current) {
            if self.bytes >= self.size {
                self.add_block(block, &mut in_block);
                self.stretch_done();
            }
            self.bytes += meta.len + RECORD_HEADER;
            self.next.records.push(meta);
            in_block += 1;
        }
        self.add_block(block, &mut in_block);
        if self.bytes >= self.size {
            self.stretch_done();
        }
    }

    /// Notes that `n` more records of the stretch lie in `block` (and none from now).
    fn add_block(&mut self, block: &SharedBytes, n: &mut usize) {
        if *n > 0 {
            let fetched = Fetched::in_block(SharedBytes::clone(block));
            self.next.blocks.push((fetched, std::mem::take(n)));
        }
    }

    /// The stretch being put together is ready.
    fn stretch_done(&mut self) {
        let before = self.next.before + self.next.records.len() as u64;
        let done = std::mem::replace(&mut self.next, Cut::empty(before));
        self.ready.push_back(done);
        self.bytes = 0;
    }

    /// Reading ended as `end` says, in `block`.
    fn end(&mut self, block: &SharedBytes, end: Ending) {
        self.block_done(block);
        self.next.end = Some(end);
        self.stretch_done();
        self.ended = true;
    }
}

impl<R: Read> CutStream for CaptureReader<R> {
    fn read_on(&mut self, cutting: &mut Cutting) {
        loop {
            let next = self.next_record();
            // A block given up while reading that record holds the records read before it (and
            // one given up after it, none).
            while let Some(block) = self.window.take_retired() {
                cutting.block_done(&block);
            }
            match next {
                Ok(Some(meta)) => {
                    cutting.current.push(meta);
                    if !cutting.ready.is_empty() {
                        return;
                    }
                }
                Ok(None) => {
                    let end = match &self.truncation {
                        Some(t) => Ending::Damaged(t.clone()),
                        None => Ending::Clean,
                    };
                    return cutting.end(&self.window.share_block(), end);
                }
                Err(e) => return cutting.end(&self.window.share_block(), Ending::Failed(e)),
            }
        }
    }
}
