//! Verdicts as they are decided: the frame-by-frame driver of the engine that `live`, `--stream`
//! and `--save-failures` share, and the printer that writes each verdict the moment it comes out.
//!
//! The [`Driver`] hands every frame to the [`Saver`] (when failures are saved) and to the
//! [`Dissector`], tells the dissector the time when the caller says it passed (live capture, piped
//! input), and
//! gives each verdict to the saver and then to a [`Sink`]. The [`Printer`] is that sink when the
//! output streams: a JSON line per verdict, or in text the block of each failed or incomplete
//! connection, held in a buffer the caller writes out (and flushes) after each frame, so a status
//! line on standard error can be cleared first.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::Path;

use shakedown::capture::{CaptureReader, Frame};
use shakedown::verdict::Outcome;
use shakedown::{
    AnalyzeError, CauseCode, Config, Dissector, Event, Sink, Summary, Timestamp, Verdict,
    VerdictOrder,
};

use crate::color::Palette;
use crate::filter::Selection;
use crate::report::Counts;
use crate::save::{SaveError, Saver};
use crate::{Args, Done, text};

/// Whether to go on, or the sink's error.
pub(crate) type Flow<S> = Result<ControlFlow<()>, <S as Sink>::Error>;

/// The engine driven one frame at a time, with the saver of failures beside it.
pub(crate) struct Driver<'a> {
    dissector: Dissector,
    saver: Option<&'a mut Saver>,
    select: &'a Selection,
    /// Files that could not be written since [`Driver::take_errors`].
    errors: Vec<SaveError>,
}

impl<'a> Driver<'a> {
    /// A driver of a new dissector with `config`, saving failures with `saver` when given (which
    /// takes `config`'s key logs, to embed each saved connection's secrets).
    pub(crate) fn new(
        config: &Config,
        mut saver: Option<&'a mut Saver>,
        select: &'a Selection,
    ) -> Self {
        if let Some(s) = saver.as_deref_mut() {
            s.use_keys_of(config);
        }
        Driver {
            dissector: Dissector::new(config.clone()),
            saver,
            select,
            errors: Vec::new(),
        }
    }

    /// Handles one frame and hands out what it decided.
    pub(crate) fn frame<S: Sink>(&mut self, frame: &Frame<'_>, sink: &mut S) -> Flow<S> {
        if let Some(s) = self.saver.as_deref_mut() {
            s.frame(frame);
        }
        self.dissector.handle_frame(frame);
        self.drain(sink)
    }

    /// Tells the engine it is `now` (no frame came) and hands out what that decided.
    pub(crate) fn advance<S: Sink>(&mut self, now: Timestamp, sink: &mut S) -> Flow<S> {
        self.dissector.advance(now);
        self.drain(sink)
    }

    /// Ends every open connection and hands out the rest.
    pub(crate) fn finish<S: Sink>(&mut self, sink: &mut S) -> Flow<S> {
        self.dissector.finish();
        let flow = self.drain(sink);
        if let Some(s) = self.saver.as_deref_mut() {
            s.clear();
        }
        flow
    }

    /// What the engine counted so far.
    pub(crate) fn summary(&self) -> &Summary {
        self.dissector.summary()
    }

    /// The saver of failures, if any.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    pub(crate) fn saver(&self) -> Option<&Saver> {
        self.saver.as_deref()
    }

    /// The files that could not be written since the last call.
    pub(crate) fn take_errors(&mut self) -> Vec<SaveError> {
        std::mem::take(&mut self.errors)
    }

    fn drain<S: Sink>(&mut self, sink: &mut S) -> Flow<S> {
        while let Some(event) = self.dissector.poll_event() {
            let flow = match event {
                Event::Verdict(v) => {
                    if let Some(s) = self.saver.as_deref_mut()
                        && let Err(e) = s.judged(&v, self.select)
                    {
                        self.errors.push(e);
                    }
                    sink.verdict(*v)?
                }
                Event::Protocol(p) => sink.protocol_event(p)?,
                _ => ControlFlow::Continue(()),
            };
            if flow.is_break() {
                return Ok(flow);
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Reads every frame of `reader` through a [`Driver`] (one thread: the saver sees the frames in
/// order), pushing the verdicts to `sink`; the file-reading counterpart of
/// [`shakedown::analyze`] when failures are saved. Save errors are written to `err`.
pub(crate) fn analyze_saving<R: Read, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    saver: &mut Saver,
    select: &Selection,
    sink: &mut S,
    err: &mut dyn Write,
) -> Result<Summary, AnalyzeError<S::Error>> {
    let mut driver = Driver::new(&config.with_embedded_keys(reader), Some(saver), select);
    let mut failure = None;
    loop {
        let flow = match reader.next_frame() {
            Ok(Some(frame)) => driver.frame(&frame, sink),
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        warn_save_errors(&mut driver, err);
        match flow {
            Ok(ControlFlow::Continue(())) => {}
            // Stopped early: no more verdicts are wanted.
            Ok(ControlFlow::Break(())) => return Ok(summary_of(&driver, reader)),
            Err(e) => return Err(AnalyzeError::Sink(e)),
        }
    }
    let flow = driver.finish(sink);
    warn_save_errors(&mut driver, err);
    if let Err(e) = flow {
        return Err(AnalyzeError::Sink(e));
    }
    match failure {
        Some(e) => Err(AnalyzeError::Capture(e)),
        None => Ok(summary_of(&driver, reader)),
    }
}

/// The driver's summary, with where the capture was cut short.
fn summary_of<R: Read>(driver: &Driver<'_>, reader: &CaptureReader<R>) -> Summary {
    let mut summary = driver.summary().clone();
    summary.truncation = reader.truncation().cloned();
    summary
}

/// Writes the driver's save errors to `err`.
pub(crate) fn warn_save_errors(driver: &mut Driver<'_>, err: &mut dyn Write) {
    for e in driver.take_errors() {
        let _ = writeln!(err, "shakedown: warning: saving a failure: {e}");
    }
}

/// Writes verdicts as they come out: JSON lines, or the text block of each failed or incomplete
/// connection (each connection's with `--all`). Output waits in [`Printer::pending`] for the caller.
pub(crate) struct Printer<'a> {
    json: bool,
    all: bool,
    capture: String,
    select: &'a Selection,
    paint: Palette,
    layout: text::Layout,
    /// Output not yet written out.
    pub(crate) pending: Vec<u8>,
    /// The selected connections, by outcome and cause (and the others, counted).
    pub(crate) counts: Counts,
    /// Whether a selected connection failed (the exit status).
    pub(crate) failures: bool,
    /// The selected failed connections by cause (for a status line).
    pub(crate) failed_causes: BTreeMap<CauseCode, u64>,
    /// The selected incomplete connections.
    pub(crate) incomplete: u64,
}

impl<'a> Printer<'a> {
    /// A printer of JSON lines (`json`) or text blocks for the capture named `capture`.
    pub(crate) fn new(
        json: bool,
        all: bool,
        capture: &str,
        select: &'a Selection,
        paint: Palette,
        layout: text::Layout,
    ) -> Self {
        Printer {
            json,
            all,
            capture: capture.to_string(),
            select,
            paint,
            layout,
            pending: Vec::new(),
            counts: Counts::default(),
            failures: false,
            failed_causes: BTreeMap::new(),
            incomplete: 0,
        }
    }

    /// Writes what is pending to `out` and flushes it.
    pub(crate) fn write_out(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = out.write_all(&self.pending).and_then(|()| out.flush());
        self.pending.clear();
        written
    }
}

impl Sink for Printer<'_> {
    /// Writing to memory cannot fail.
    type Error = std::convert::Infallible;

    fn verdict(&mut self, v: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        if self.select.is_active() && !self.select.matches(&v) {
            self.counts.unselected += 1;
            return Ok(ControlFlow::Continue(()));
        }
        self.counts.add(&v);
        self.failures |= v.is_failure();
        match v.outcome {
            Outcome::Failed => *self.failed_causes.entry(v.cause.code).or_insert(0) += 1,
            Outcome::Incomplete => self.incomplete += 1,
            _ => {}
        }
        // Writing to memory cannot fail.
        if self.json {
            let _ = shakedown::json::write_line(&mut self.pending, &v, &self.capture);
        } else if self.all || matches!(v.outcome, Outcome::Failed | Outcome::Incomplete) {
            let _ = text::detail(&mut self.pending, &v, self.paint, self.layout);
            self.pending.push(b'\n');
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// `shakedown --stream CAPTURE` (and piped input by default): one capture read frame by frame,
/// each verdict written when it is decided (flushed at once), then the report's first line and
/// notes (text) or the summary record (`--summary-json`). A regular file is read here, on this
/// thread; piped input (see [`crate::piped`]) on a thread of its own, with the wall clock telling
/// the time while it is idle.
#[allow(clippy::too_many_arguments)]
pub(crate) fn one_capture(
    path: &Path,
    args: &Args,
    config: &Config,
    paint: Palette,
    layout: text::Layout,
    saver: Option<&mut Saver>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Done {
    let name = path.display().to_string();
    let mut done = Done::default();
    // Opening waits for the capture's header (its own key log may come with it).
    let mut reader = match shakedown::capture::open(path) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "shakedown: {name}: {e}");
            done.error = true;
            return done;
        }
    };
    let piped = crate::piped::is_piped(path);
    let mut config = Config {
        verdict_order: VerdictOrder::AsDecided,
        ..config.with_embedded_keys(&reader)
    };
    if piped && args.linger.is_none() {
        // Watched as it is captured: linger as `shakedown live` does.
        config.closed_linger_ns = (crate::watch::WATCH_LINGER_SECS * 1e9) as i64;
    }
    let mut printer = Printer::new(
        args.json || args.summary_json,
        args.all,
        &name,
        &args.select,
        paint,
        layout,
    );
    let mut driver = Driver::new(&config, saver, &args.select);
    let (reading, reader) = if piped {
        crate::piped::read(
            reader,
            &mut driver,
            &mut printer,
            args.output.quiet,
            out,
            err,
        )
    } else {
        let reading = read_file(&mut reader, &mut driver, &mut printer, out, err);
        (reading, Some(reader))
    };
    done.interrupted = reading.interrupted;
    done.failures = printer.failures;
    if let Some(end) = reading.end {
        done.end = Some(end);
        return done;
    }
    let _ = driver.finish(&mut printer);
    warn_save_errors(&mut driver, err);
    if let Some(reader) = &reader {
        crate::limits::warn_embedded_keys("shakedown", &name, reader, err);
    }
    done.failures = printer.failures;
    if let Err(e) = printer.write_out(out) {
        done.end = Some(crate::write_failure(e));
        return done;
    }
    if let Some(e) = reading.failure {
        let _ = writeln!(err, "shakedown: {name}: {e}");
        done.error = true;
        return done;
    }
    let mut summary = driver.summary().clone();
    summary.truncation = reading.truncation;
    let written = if args.summary_json {
        let line = shakedown::json::summary_line(&summary, &name);
        writeln!(out, "{line}")
    } else if args.json {
        Ok(())
    } else {
        let mut text = Vec::new();
        let _ = text::head(
            &mut text,
            &name,
            &printer.counts,
            args.select.is_active(),
            paint,
            layout,
        );
        if !args.output.quiet {
            let _ = text::footer(&mut text, &summary, paint, layout);
        }
        text.push(b'\n');
        out.write_all(&text)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        done.end = Some(crate::write_failure(e));
    }
    done
}

/// Reads a capture file frame by frame through `driver`, writing `printer`'s output after each.
fn read_file<R: Read>(
    reader: &mut CaptureReader<R>,
    driver: &mut Driver<'_>,
    printer: &mut Printer<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> crate::piped::Reading {
    let mut reading = crate::piped::Reading::default();
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                let _ = driver.frame(&frame, printer);
            }
            Ok(None) => break,
            Err(e) => {
                reading.failure = Some(e);
                break;
            }
        }
        warn_save_errors(driver, err);
        if let Err(e) = printer.write_out(out) {
            reading.end = Some(crate::write_failure(e));
            return reading;
        }
    }
    reading.truncation = reader.truncation().cloned();
    reading
}
