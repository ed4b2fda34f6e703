//! The JSON lines of many verdicts at once, formatted on several threads and written in order.
//!
//! In a run on several threads, verdicts are held back until every connection that began before
//! theirs has ended; when a long first connection ends (often only at the end of the capture),
//! thousands are ready at once. Formatting them is most of what is left to do then, and the
//! analysis threads are idle, so the lines are formatted in chunks by several threads while the
//! calling thread writes them out in order. Memory stays bounded: each thread has at most a few
//! chunks formatted ahead of the writer.

use std::io::{self, Write};
use std::sync::mpsc;

use shakedown::Verdict;

/// Fewer verdicts than this are written on the calling thread alone (starting threads would cost
/// more than it saves).
pub(crate) const MIN_VERDICTS: usize = 256;
/// Verdicts formatted as one piece of work.
const CHUNK: usize = 64;
/// Chunks a helper may have formatted before the writer takes them.
const AHEAD: usize = 2;

/// Writes the JSON line of every verdict (as [`shakedown::json::write_line`] does, in the same
/// order, with the same bytes) using up to `jobs` threads, the calling thread among them. Each
/// thread also drops the verdicts it formatted (freeing thousands of verdicts made on other threads
/// costs about half as much as formatting them).
pub(crate) fn write_lines<W: Write + ?Sized>(
    out: &mut W,
    verdicts: Vec<Verdict>,
    capture: &str,
    jobs: usize,
) -> io::Result<()> {
    let chunks = verdicts.len().div_ceil(CHUNK);
    let threads = jobs.clamp(1, chunks.max(1));
    // Thread t takes chunks t, t + threads, t + 2 threads, …
    let mut shares: Vec<Vec<Vec<Verdict>>> = (0..threads).map(|_| Vec::new()).collect();
    let mut verdicts = verdicts.into_iter();
    for k in 0..chunks {
        if let Some(share) = shares.get_mut(k % threads) {
            share.push(verdicts.by_ref().take(CHUNK).collect());
        }
    }
    let mut shares = shares.into_iter();
    let own = shares.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let helpers: Vec<mpsc::Receiver<Vec<u8>>> = shares
            .map(|share| {
                let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(AHEAD);
                scope.spawn(move || {
                    for chunk in share {
                        let mut lines = Vec::new();
                        if format(&mut lines, &chunk, capture).is_err() || tx.send(lines).is_err() {
                            // The writer stopped (a write failed): nothing more is wanted.
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        let mut own = own.into_iter();
        let mut lines = Vec::new();
        for k in 0..chunks {
            match k % threads {
                0 => {
                    lines.clear();
                    format(&mut lines, &own.next().unwrap_or_default(), capture)?;
                    out.write_all(&lines)?;
                }
                t => {
                    let theirs = helpers
                        .get(t - 1)
                        .and_then(|rx| rx.recv().ok())
                        .ok_or_else(|| io::Error::other("a thread writing JSON lines stopped"))?;
                    out.write_all(&theirs)?;
                }
            }
        }
        Ok(())
    })
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
        for n in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            5 * CHUNK + 3,
            MIN_VERDICTS * 3,
        ] {
            let all = verdicts(n);
            let expected = one_by_one(&all);
            assert_eq!(expected.iter().filter(|&&b| b == b'\n').count(), n);
            for jobs in [1, 2, 3, 8] {
                let mut out = Vec::new();
                write_lines(&mut out, all.clone(), "c.pcap", jobs).expect("into memory");
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
    fn a_failed_write_stops_every_thread_and_is_returned() {
        let all = verdicts(40 * CHUNK);
        for room in [0, 10, 200_000] {
            let mut out = Closing { room, took: 0 };
            let e = write_lines(&mut out, all.clone(), "c.pcap", 3).expect_err("the pipe closed");
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
            assert_eq!(out.took, room);
        }
    }
}
