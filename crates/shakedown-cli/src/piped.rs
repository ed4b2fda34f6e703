//! Captures that are still being written: standard input fed by a running capture
//! (`tcpdump -U -w - | shakedown -`) and named pipes. They stream by default (verdicts as decided),
//! and while no packet comes the engine is told the time by the wall clock, so a closed or idle
//! connection is judged without waiting for the next packet or the end of the input.
//!
//! A reader thread owns the [`CaptureReader`] (opened by the caller: that waits for the capture's
//! header) and sends each frame, copied, through a bounded channel as soon as it is read; the calling thread owns the
//! engine ([`Driver`]). When the input has been idle for a [`TICK`], the engine is told that the
//! capture time is the last frame's timestamp plus the wall time since that frame arrived, less a
//! [`MARGIN`] for frames still on their way: a capture replayed from an old file works the same as
//! one written now. Ctrl-C or SIGTERM ends the reading (the frames already in the pipe are still
//! taken, for up to a second): every open connection is judged (`incomplete` when its handshake was
//! under way) and the summary written, as at the end of the input.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use shakedown::Timestamp;
use shakedown::capture::{CaptureError, CaptureReader, Truncation};

use crate::owned_frame::OwnedFrame;
use crate::status::{Figures, StatusLine};
use crate::stream::{Driver, Printer};
use crate::watch::{MARGIN, TICK, interrupted_flag};
use crate::{End, write_failure};

/// Frames in flight from the reader thread to the analysis: with frames of at most 64 KiB (a
/// loopback capture's largest), 64 MiB at worst, and memory never grows with the input's length.
const CHANNEL_FRAMES: usize = 1024;

/// After Ctrl-C or SIGTERM, how long at most the frames already in the pipe are still taken.
const DRAIN: Duration = Duration::from_secs(1);

/// Whether `path` names input that is still being written rather than a file: standard input
/// (`-`) when it is a pipe, a socket or a terminal, or a path naming a FIFO, a socket or a
/// character device.
pub(crate) fn is_piped(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return stdin_metadata().is_some_and(|m| !m.is_file());
    }
    std::fs::metadata(path).is_ok_and(|m| special(&m))
}

/// A FIFO, a socket or a character device.
#[cfg(unix)]
fn special(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    t.is_fifo() || t.is_socket() || t.is_char_device()
}

#[cfg(not(unix))]
fn special(_: &std::fs::Metadata) -> bool {
    false
}

/// What standard input is (of a duplicate of its descriptor, so nothing is closed).
#[cfg(unix)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    std::fs::File::from(fd).metadata().ok()
}

#[cfg(windows)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::windows::io::AsHandle;
    let handle = std::io::stdin().as_handle().try_clone_to_owned().ok()?;
    std::fs::File::from(handle).metadata().ok()
}

#[cfg(not(any(unix, windows)))]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    None
}

/// How reading a piped capture ended.
#[derive(Default)]
pub(crate) struct Reading {
    /// The capture could not be opened or read on (after the frames before).
    pub failure: Option<CaptureError>,
    /// Where the capture was cut short, if it was.
    pub truncation: Option<Truncation>,
    /// The output could not be written.
    pub end: Option<End>,
    /// Ctrl-C or SIGTERM ended the reading.
    pub interrupted: bool,
}

/// The reader of a piped capture.
pub(crate) type PipeReader = CaptureReader<Box<dyn std::io::Read + Send>>;

/// What the reader thread sends.
enum Msg {
    /// The next frame, copied.
    Frame(OwnedFrame),
    /// The end of the input: clean (with where it was cut short, if it was) or an error; and the
    /// reader, handed back.
    End(Result<Option<Truncation>, CaptureError>, Box<PipeReader>),
}

/// Reads the frames of `reader` (a piped capture, opened) on a thread of its own and drives
/// `driver` with them as they arrive and with the time while none comes, writing `printer`'s
/// output to `out` as it is decided, with a status line on standard error when that is a terminal
/// (and not `quiet`). Returns when the input ends (with the reader, handed back), Ctrl-C or SIGTERM
/// comes, or the output is gone; the caller then finishes the driver.
pub(crate) fn read(
    reader: PipeReader,
    driver: &mut Driver<'_>,
    printer: &mut Printer<'_>,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (Reading, Option<PipeReader>) {
    let interrupted = interrupted_flag();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(CHANNEL_FRAMES);
    // Not joined: on Ctrl-C it may be waiting for input that never comes; it ends with the
    // process, or at its next frame when the channel is gone.
    let spawned = std::thread::Builder::new()
        .name("shakedown-reader".into())
        .spawn(move || read_frames(reader, &tx));
    if let Err(e) = spawned {
        let reading = Reading {
            failure: Some(CaptureError::Io { source: e }),
            ..Reading::default()
        };
        return (reading, None);
    }
    let stderr_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut session = Session {
        status: StatusLine::new(
            stderr_terminal && !quiet,
            terminal_size::terminal_size_of(std::io::stderr())
                .map_or(80, |(w, _)| usize::from(w.0)),
        ),
        started: Instant::now(),
        reading: Reading::default(),
        reader: None,
    };
    session.run(driver, printer, &rx, &interrupted, out, err);
    session.status.clear(err);
    (session.reading, session.reader.map(|r| *r))
}

/// The reader thread: sends the frames of `reader` until the end or until nobody listens, then
/// hands the reader back.
fn read_frames(mut reader: PipeReader, tx: &SyncSender<Msg>) {
    let end = loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                let msg = Msg::Frame(OwnedFrame::of(&f));
                if tx.send(msg).is_err() {
                    return;
                }
            }
            Ok(None) => break Ok(reader.truncation().cloned()),
            Err(e) => break Err(e),
        }
    };
    let _ = tx.send(Msg::End(end, Box::new(reader)));
}

/// The analysis thread's state while reading.
struct Session {
    status: StatusLine,
    started: Instant,
    reading: Reading,
    /// The reader, once the reader thread has handed it back.
    reader: Option<Box<PipeReader>>,
}

impl Session {
    fn run(
        &mut self,
        driver: &mut Driver<'_>,
        printer: &mut Printer<'_>,
        rx: &Receiver<Msg>,
        interrupted: &std::sync::atomic::AtomicBool,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) {
        // The last frame's capture time and when it arrived.
        let mut last: Option<(Timestamp, Instant)> = None;
        let mut last_tick = Instant::now();
        loop {
            let wait = TICK.saturating_sub(last_tick.elapsed());
            let ended = match rx.recv_timeout(wait) {
                Ok(msg) => self.take(driver, printer, msg, &mut last),
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                if let Some(now) = last.and_then(|(ts, at)| idle_now(ts, at.elapsed())) {
                    let _ = driver.advance(now, printer);
                }
                self.show(driver, printer, err);
            }
            self.write_out(driver, printer, out, err);
            if ended || self.reading.end.is_some() {
                return;
            }
            if interrupted.load(Ordering::SeqCst) {
                self.reading.interrupted = true;
                break;
            }
        }
        // Ctrl-C or SIGTERM: what was written into the pipe before still counts (the writer, a
        // capture, may have been stopped by the same Ctrl-C). Take frames while they come, within
        // a bound.
        let until = Instant::now() + DRAIN;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            let ended = match rx.recv_timeout(left.min(MARGIN)) {
                Ok(msg) => self.take(driver, printer, msg, &mut last),
                Err(_) => true,
            };
            self.write_out(driver, printer, out, err);
            if ended || self.reading.end.is_some() {
                return;
            }
        }
    }

    /// Handles one message of the reader thread; whether it was the last.
    fn take(
        &mut self,
        driver: &mut Driver<'_>,
        printer: &mut Printer<'_>,
        msg: Msg,
        last: &mut Option<(Timestamp, Instant)>,
    ) -> bool {
        match msg {
            Msg::Frame(copy) => {
                let frame = copy.frame();
                let _ = driver.frame(&frame, printer);
                *last = Some((copy.ts, Instant::now()));
                false
            }
            Msg::End(end, reader) => {
                match end {
                    Ok(truncation) => self.reading.truncation = truncation,
                    Err(e) => self.reading.failure = Some(e),
                }
                self.reader = Some(reader);
                true
            }
        }
    }

    /// Writes out the verdicts decided so far (clearing the status line first) and the save
    /// errors.
    fn write_out(
        &mut self,
        driver: &mut Driver<'_>,
        printer: &mut Printer<'_>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) {
        let errors = driver.take_errors();
        if !errors.is_empty() {
            self.status.clear(err);
            for e in errors {
                let _ = writeln!(err, "shakedown: warning: saving a failure: {e}");
            }
        }
        if printer.pending.is_empty() || self.reading.end.is_some() {
            return;
        }
        self.status.clear(err);
        if let Err(e) = printer.write_out(out) {
            self.reading.end = Some(write_failure(e));
        }
        self.show(driver, printer, err);
    }

    fn show(&mut self, driver: &Driver<'_>, printer: &Printer<'_>, err: &mut dyn Write) {
        let summary = driver.summary();
        let figures = Figures {
            elapsed: self.started.elapsed(),
            packets: summary.frames,
            connections: summary.connections,
            failed: printer.failed_causes.clone(),
            incomplete: printer.incomplete,
            dropped: 0,
        };
        self.status.update(err, &figures);
    }
}

/// The capture time to tell the engine when the last frame, of time `ts`, came `idle` ago: `ts`
/// plus the idle time less the [`MARGIN`]; none while the input is not idle for longer than that.
fn idle_now(ts: Timestamp, idle: Duration) -> Option<Timestamp> {
    let ahead = idle.checked_sub(MARGIN).filter(|d| !d.is_zero())?;
    let ahead = i64::try_from(ahead.as_nanos()).unwrap_or(i64::MAX);
    Some(Timestamp(ts.as_nanos().saturating_add(ahead)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_told_is_the_last_frame_plus_the_idle_time_less_the_margin() {
        let ts = Timestamp::from_secs_nanos(1_000, 0);
        assert_eq!(
            idle_now(ts, MARGIN),
            None,
            "not idle for longer than the margin"
        );
        assert_eq!(idle_now(ts, Duration::from_millis(10)), None);
        assert_eq!(
            idle_now(ts, MARGIN + Duration::from_secs(2)),
            Some(Timestamp::from_secs_nanos(1_002, 0))
        );
    }

    #[test]
    fn regular_files_and_missing_paths_are_not_piped() {
        assert!(!is_piped(Path::new("Cargo.toml")));
        assert!(!is_piped(Path::new("no/such/capture.pcap")));
    }

    #[cfg(unix)]
    #[test]
    fn character_devices_are_piped() {
        assert!(is_piped(Path::new("/dev/null")));
    }
}
