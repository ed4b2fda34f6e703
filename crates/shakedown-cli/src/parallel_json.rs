//! The JSON lines of many verdicts at once, formatted on several threads and written in order.
//!
//! In a run on several threads, verdicts are held back until every connection that began before
//! theirs has ended; when a long first connection ends (often only at the end of the capture),
//! thousands are ready at once. Formatting them is most of what is left to do then, and the
//! analysis threads are idle, so the lines are formatted in chunks by helper threads and by the
//! writing thread itself, which writes them out in order.
//!
//! The helpers are started the first time they are needed and kept until the capture is done (a
//! run of a big capture has a dozen such moments; starting and ending a thread each time cost
//! more than the thread's stack: every ending unmaps memory, which interrupts every core running
//! the analysis). Chunks are taken from one queue by whoever is free, the writer included, so no
//! thread waits for another's share while there is work left. Memory stays bounded: a call
//! formats at most the verdicts it was given.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use shakedown::Verdict;

/// Fewer verdicts than this are written on the calling thread alone (handing out work would cost
/// more than it saves).
pub(crate) const MIN_VERDICTS: usize = 256;
/// Verdicts formatted as one piece of work.
const CHUNK: usize = 64;

/// Chunk `.1` of call `.0`'s verdicts.
type Work = (u64, usize, Vec<Verdict>);
/// Chunk `.1` of call `.0`, formatted.
type Formatted = (u64, usize, io::Result<Vec<u8>>);

/// Writes JSON lines with the help of up to `jobs - 1` threads, the same bytes in the same order as
/// [`shakedown::json::write_line`] one verdict after the other.
pub(crate) struct LineWriter {
    capture: Arc<str>,
    jobs: usize,
    helpers: Option<Helpers>,
}

/// Threads formatting chunks from a shared queue.
struct Helpers {
    work: Sender<Work>,
    queue: Arc<Mutex<Receiver<Work>>>,
    done: Receiver<Formatted>,
    /// The call whose chunks are wanted (chunks of an earlier call, one that failed, are dropped
    /// unformatted).
    call: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl LineWriter {
    /// A writer for `capture`'s lines; `jobs` counts the calling thread.
    pub(crate) fn new(capture: &str, jobs: usize) -> Self {
        LineWriter {
            capture: Arc::from(capture),
            jobs: jobs.max(1),
            helpers: None,
        }
    }

    /// Writes the JSON line of every verdict, in order. Each formatting thread also drops the
    /// verdicts it formatted (freeing thousands of verdicts made on other threads costs about half
    /// as much as formatting them).
    pub(crate) fn write_lines<W: Write + ?Sized>(
        &mut self,
        out: &mut W,
        verdicts: Vec<Verdict>,
    ) -> io::Result<()> {
        if self.jobs <= 1 || verdicts.len() < MIN_VERDICTS {
            let mut lines = Vec::new();
            format(&mut lines, &verdicts, &self.capture)?;
            return out.write_all(&lines);
        }
        let (capture, helpers) = (&self.capture, self.jobs - 1);
        self.helpers
            .get_or_insert_with(|| Helpers::start(helpers, capture))
            .write_lines(out, verdicts, capture)
    }
}

impl Helpers {
    fn start(n: usize, capture: &Arc<str>) -> Self {
        let (work, queue) = mpsc::channel::<Work>();
        let queue = Arc::new(Mutex::new(queue));
        let (finished, done) = mpsc::channel();
        let call = Arc::new(AtomicU64::new(0));
        let threads = (0..n)
            .filter_map(|i| {
                let (queue, finished) = (Arc::clone(&queue), finished.clone());
                let (call, capture) = (Arc::clone(&call), Arc::clone(capture));
                std::thread::Builder::new()
                    .name(format!("json-{i}"))
                    .spawn(move || help(&queue, &finished, &call, &capture))
                    .ok()
            })
            .collect();
        Helpers {
            work,
            queue,
            done,
            call,
            threads,
        }
    }

    fn write_lines<W: Write + ?Sized>(
        &mut self,
        out: &mut W,
        verdicts: Vec<Verdict>,
        capture: &str,
    ) -> io::Result<()> {
        let call = self.call.load(Ordering::Relaxed) + 1;
        self.call.store(call, Ordering::Relaxed);
        let result = self.write_call(call, out, verdicts, capture);
        if result.is_err() {
            // Helpers drop what is left of this call.
            self.call.store(call + 1, Ordering::Relaxed);
        }
        result
    }

    fn write_call<W: Write + ?Sized>(
        &mut self,
        call: u64,
        out: &mut W,
        verdicts: Vec<Verdict>,
        capture: &str,
    ) -> io::Result<()> {
        let mut ready: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
        let mut verdicts = verdicts.into_iter();
        let mut chunks = 0;
        loop {
            let chunk: Vec<Verdict> = verdicts.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            // The queue's receiving end is this struct's too, so sending cannot fail.
            if let Err(mpsc::SendError((_, i, chunk))) = self.work.send((call, chunks, chunk)) {
                ready.insert(i, formatted(chunk, capture)?);
            }
            chunks += 1;
        }
        let mut next = 0;
        while next < chunks {
            if let Some(lines) = ready.remove(&next) {
                out.write_all(&lines)?;
                next += 1;
                continue;
            }
            let arrived = match self.done.try_recv() {
                Ok(formatted) => Some(formatted),
                // Nothing formatted yet: format a chunk still queued, or wait for one.
                Err(_) => match self.queue.try_lock().ok().and_then(|q| q.try_recv().ok()) {
                    Some((c, i, chunk)) if c == call => Some((c, i, formatted(chunk, capture))),
                    Some(stale) => Some((stale.0, stale.1, Ok(Vec::new()))),
                    None => self.done.recv().ok(),
                },
            };
            match arrived {
                Some((c, i, lines)) if c == call => {
                    ready.insert(i, lines?);
                }
                Some(_) => {} // Left from a call that failed.
                None => return Err(io::Error::other("the threads writing JSON lines stopped")),
            }
        }
        Ok(())
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        self.call.store(u64::MAX, Ordering::Relaxed);
        // Closing the queue ends every helper once it is idle.
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.work, closed));
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A helper thread: formats chunks from `queue` until it is closed.
fn help(
    queue: &Mutex<Receiver<Work>>,
    finished: &Sender<Formatted>,
    call: &AtomicU64,
    capture: &str,
) {
    loop {
        let work = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        let Ok((c, i, chunk)) = work else { return };
        if c != call.load(Ordering::Relaxed) {
            continue;
        }
        let lines =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| formatted(chunk, capture)))
                .unwrap_or_else(|_| Err(io::Error::other("formatting a JSON line failed")));
        if finished.send((c, i, lines)).is_err() {
            return;
        }
    }
}

/// The JSON lines of `verdicts`; the verdicts are dropped here, on the formatting thread.
fn formatted(verdicts: Vec<Verdict>, capture: &str) -> io::Result<Vec<u8>> {
    let mut lines = Vec::new();
    format(&mut lines, &verdicts, capture)?;
    Ok(lines)
}

fn format(lines: &mut Vec<u8>, verdicts: &[Verdict], capture: &str) -> io::Result<()> {
    for v in verdicts {
        shakedown::json::write_line(lines, v, capture)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verdicts of a few committed captures, repeated (with fresh numbers) to `n`.
    fn verdicts(n: usize) -> Vec<Verdict> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls");
        let mut some = Vec::new();
        for name in [
            "no-shared-cipher.pcap",
            "tls12-ok.pcap",
            "expired-cert.pcap",
        ] {
            let path = std::path::Path::new(dir).join(name);
            let mut reader = shakedown::capture::open(&path).expect("a committed fixture");
            shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut some)
                .expect("analysis");
        }
        assert!(!some.is_empty());
        (0..n)
            .map(|i| {
                let mut v = some[i % some.len()].clone();
                v.conn = i as u64;
                v
            })
            .collect()
    }

    fn one_by_one(verdicts: &[Verdict]) -> Vec<u8> {
        let mut out = Vec::new();
        format(&mut out, verdicts, "c.pcap").expect("into memory");
        out
    }

    #[test]
    fn the_lines_are_those_of_one_thread_in_the_same_order() {
        for jobs in [1, 2, 3, 8] {
            // One writer for every call, as for one capture.
            let mut writer = LineWriter::new("c.pcap", jobs);
            for n in [
                0,
                1,
                CHUNK - 1,
                MIN_VERDICTS,
                MIN_VERDICTS + 1,
                5 * CHUNK + 3,
                MIN_VERDICTS * 3,
            ] {
                let all = verdicts(n);
                let expected = one_by_one(&all);
                assert_eq!(expected.iter().filter(|&&b| b == b'\n').count(), n);
                let mut out = Vec::new();
                writer.write_lines(&mut out, all).expect("into memory");
                assert!(out == expected, "{n} verdicts on {jobs} threads differ");
            }
        }
    }

    /// Takes `room` bytes, then fails as a closed pipe does.
    struct Closing {
        room: usize,
        took: usize,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.took >= self.room {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let n = buf.len().min(self.room - self.took);
            self.took += n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_returned_and_the_next_call_starts_afresh() {
        let all = verdicts(40 * CHUNK);
        let expected = one_by_one(&all);
        for room in [0, 10, 200_000] {
            let mut writer = LineWriter::new("c.pcap", 3);
            let mut out = Closing { room, took: 0 };
            let e = writer
                .write_lines(&mut out, all.clone())
                .expect_err("the pipe closed");
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
            assert_eq!(out.took, room);
            // Whatever was left of the failed call is not written by the next one.
            let mut again = Vec::new();
            writer
                .write_lines(&mut again, all.clone())
                .expect("into memory");
            assert!(again == expected, "after a failure at {room} bytes");
        }
    }

    #[test]
    fn helpers_end_with_the_writer() {
        let mut writer = LineWriter::new("c.pcap", 4);
        writer
            .write_lines(&mut io::sink(), verdicts(MIN_VERDICTS))
            .expect("into nothing");
        let helpers = writer.helpers.as_ref().expect("started");
        assert_eq!(helpers.threads.len(), 3);
        let queue = Arc::downgrade(&helpers.queue);
        drop(writer);
        // Every helper has ended (each held the queue).
        assert!(queue.upgrade().is_none());
    }
}
