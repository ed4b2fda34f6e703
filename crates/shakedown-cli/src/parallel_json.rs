//! The JSON lines of many verdicts at once, formatted on several threads and written in order.
//!
//! In a run on several threads, verdicts are held back until every connection that began before
//! theirs has ended; when a long first connection ends (often only at the end of the capture),
//! thousands are ready at once ([`shakedown::Sink::verdicts`]). Formatting them is most of what is
//! left to do then, and the analysis threads are idle, so the lines are formatted in chunks on
//! the CLI's pool ([`crate::pool`]), the writing thread among its threads, and written in order.
//! Measured on the 10 700 verdicts held at the end of a 1 GB generated capture (32 MB of JSON):
//! 85–130 ms on two threads against 110–160 ms on one. Each formatting thread also drops the
//! verdicts it formatted (freeing thousands of verdicts made on other threads costs about half as
//! much as formatting them). Memory stays bounded: a call formats at most the verdicts it was
//! given.

use std::io::{self, Write};
use std::ops::ControlFlow;

use shakedown::Verdict;

/// Fewer verdicts than this are written on the calling thread alone (handing out work would cost
/// more than it saves).
pub(crate) const MIN_VERDICTS: usize = 256;
/// Verdicts formatted as one piece of work.
const CHUNK: usize = 64;

/// Writes the JSON line of every verdict, in order, formatted on `jobs` threads (the calling one
/// among them): the same bytes as [`shakedown::json::write_line`] one verdict after the other.
/// Stops at the first write error and returns it.
pub(crate) fn write_lines<W: Write + ?Sized>(
    out: &mut W,
    verdicts: Vec<Verdict>,
    capture: &str,
    jobs: usize,
) -> io::Result<()> {
    let mut rest = verdicts.into_iter();
    let chunks = std::iter::from_fn(move || {
        let chunk: Vec<Verdict> = rest.by_ref().take(CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    });
    let mut written = Ok(());
    crate::pool::in_order(
        chunks,
        jobs,
        |chunk| formatted(chunk, capture),
        |lines| match lines.and_then(|lines| out.write_all(&lines)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                written = Err(e);
                ControlFlow::Break(())
            }
        },
    );
    written
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
                write_lines(&mut out, all, "c.pcap", jobs).expect("into memory");
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
    fn a_failed_write_is_returned_and_nothing_is_written_after_it() {
        let all = verdicts(40 * CHUNK);
        for room in [0, 10, 200_000] {
            for jobs in [1, 3] {
                let mut out = Closing { room, took: 0 };
                let e = write_lines(&mut out, all.clone(), "c.pcap", jobs)
                    .expect_err("the pipe closed");
                assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
                assert_eq!(out.took, room);
            }
        }
    }
}
