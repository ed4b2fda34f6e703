//! The push convenience on top of the sans-IO [`Dissector`]: read a whole capture, push every verdict
//! to a [`Sink`].

use std::io::Read;
use std::ops::ControlFlow;

use crate::Config;
use crate::capture::{CaptureError, CaptureReader};
use crate::dissector::{Dissector, Event, ProtocolEvent, Summary};
use crate::verdict::Verdict;

/// Receives what an analysis finds, on the thread that called [`analyze`] (or
/// [`analyze_parallel`](crate::analyze_parallel)).
///
/// Each method returns `Ok(ControlFlow::Continue(()))` to go on, `Ok(ControlFlow::Break(()))` to
/// stop early with no error (e.g. enough verdicts were seen), or the sink's own [`Sink::Error`]
/// (e.g. writing failed), which stops the analysis and comes back typed as
/// [`AnalyzeError::Sink`]. As with ripgrep's `Sink`, an error is never reduced to a flag.
///
/// ```
/// use std::ops::ControlFlow;
/// use shakedown::{Sink, Verdict};
///
/// /// Writes one line per failed connection; stops at the first write error.
/// struct Failures<W: std::io::Write>(W);
///
/// impl<W: std::io::Write> Sink for Failures<W> {
///     type Error = std::io::Error;
///     fn verdict(&mut self, v: Verdict) -> Result<ControlFlow<()>, std::io::Error> {
///         if v.is_failure() {
///             writeln!(self.0, "{} -> {}: {}", v.client, v.server, v.cause.code)?;
///         }
///         Ok(ControlFlow::Continue(()))
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
/// let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
/// let mut out = Failures(Vec::new());
/// shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut out)?;
/// assert!(String::from_utf8(out.0)?.ends_with(": no_shared_cipher\n"));
/// # Ok(()) }
/// ```
pub trait Sink {
    /// What the sink's methods fail with: [`std::io::Error`] for a writer,
    /// [`std::convert::Infallible`] for a sink that cannot fail.
    type Error;

    /// One connection's verdict, in order of the connections' first packets (or as decided, with
    /// [`crate::VerdictOrder::AsDecided`]).
    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error>;

    /// Several verdicts that are ready at once, in order: [`analyze_parallel`](crate::analyze_parallel)
    /// gives verdicts held back for first-packet order this way when the connection they waited
    /// for ends (at the end of a capture, often thousands). By default each goes to
    /// [`Sink::verdict`]; a sink can override this to do its work on them in parallel, e.g. format
    /// them on several threads.
    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> Result<ControlFlow<()>, Self::Error> {
        for verdict in verdicts {
            if self.verdict(verdict)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// One protocol step, as it happens (only with [`Config::protocol_events`]).
    fn protocol_event(&mut self, _event: ProtocolEvent) -> Result<ControlFlow<()>, Self::Error> {
        Ok(ControlFlow::Continue(()))
    }
}

/// A sink that collects verdicts in a `Vec`.
impl Sink for Vec<Verdict> {
    type Error = std::convert::Infallible;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        self.push(verdict);
        Ok(ControlFlow::Continue(()))
    }
}

/// Why an analysis ended before the end of its capture: the capture could not be read on, or the
/// sink failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError<E> {
    /// Reading the capture failed (the connections seen so far were judged and given to the sink
    /// first).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The sink returned this error; the analysis stopped there.
    #[error("{0}")]
    Sink(E),
}

/// With a sink that cannot fail, the only error is the capture's.
impl From<AnalyzeError<std::convert::Infallible>> for CaptureError {
    fn from(e: AnalyzeError<std::convert::Infallible>) -> Self {
        match e {
            AnalyzeError::Capture(e) => e,
            AnalyzeError::Sink(never) => match never {},
        }
    }
}

/// The engine's side of a [`Sink`]: the same calls, answering only whether to go on, with the
/// sink's error kept aside until the analysis returns (the engine's loops, on one thread or
/// many, need no error type of their own).
pub(crate) trait Deliver {
    /// [`Sink::verdict`].
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()>;
    /// [`Sink::verdicts`].
    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> ControlFlow<()>;
    /// [`Sink::protocol_event`].
    fn protocol_event(&mut self, event: ProtocolEvent) -> ControlFlow<()>;
}

/// A [`Sink`] and the error it stopped with, if any.
pub(crate) struct Feed<'s, S: Sink> {
    sink: &'s mut S,
    error: Option<S::Error>,
}

impl<'s, S: Sink> Feed<'s, S> {
    pub(crate) fn new(sink: &'s mut S) -> Self {
        Feed { sink, error: None }
    }

    fn keep(&mut self, r: Result<ControlFlow<()>, S::Error>) -> ControlFlow<()> {
        r.unwrap_or_else(|e| {
            self.error = Some(e);
            ControlFlow::Break(())
        })
    }

    /// The analysis's result: the sink's error first (it is what stopped the analysis), then the
    /// capture's.
    pub(crate) fn finish(
        self,
        result: Result<Summary, CaptureError>,
    ) -> Result<Summary, AnalyzeError<S::Error>> {
        match self.error {
            Some(e) => Err(AnalyzeError::Sink(e)),
            None => result.map_err(AnalyzeError::Capture),
        }
    }
}

impl<S: Sink> Deliver for Feed<'_, S> {
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()> {
        let r = self.sink.verdict(verdict);
        self.keep(r)
    }
    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> ControlFlow<()> {
        let r = self.sink.verdicts(verdicts);
        self.keep(r)
    }
    fn protocol_event(&mut self, event: ProtocolEvent) -> ControlFlow<()> {
        let r = self.sink.protocol_event(event);
        self.keep(r)
    }
}

/// Reads every frame of `reader`, dissects it and pushes the results to `sink`.
///
/// Keys the capture carries itself (pcapng Decryption Secrets Blocks) are used as the reader comes
/// to them ([`Config::embedded_keys`]), with [`Config::key_log`]'s.
///
/// A truncated capture is not an error: its connections still get verdicts and
/// [`Summary::truncation`] says where it ended. An I/O error while reading ends the analysis after
/// the connections seen so far were judged and pushed, then is returned.
///
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A pcap header with no packets: a valid, empty capture.
/// let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
/// bytes.extend_from_slice(&[0; 8]);
/// bytes.extend_from_slice(&[0xff, 0xff, 0, 0, 1, 0, 0, 0]);
/// let mut reader = shakedown::capture::CaptureReader::new(&bytes[..])?;
/// let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
/// let summary = shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut verdicts)?;
/// assert_eq!((summary.frames, verdicts.len()), (0, 0));
/// # Ok(()) }
/// ```
/// # Errors
///
/// [`AnalyzeError::Capture`] when reading failed part way (after the verdicts so far were given),
/// [`AnalyzeError::Sink`] when the sink failed (the analysis stopped there).
pub fn analyze<R: Read, S: Sink>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    sink: &mut S,
) -> Result<Summary, AnalyzeError<S::Error>> {
    let mut feed = Feed::new(sink);
    let result = analyze_into(reader, config, &mut feed);
    feed.finish(result)
}

/// [`analyze`] giving what it finds to the engine's side of a sink.
pub(crate) fn analyze_into<R: Read>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    sink: &mut impl Deliver,
) -> Result<Summary, CaptureError> {
    let mut dissector = Dissector::new(config.with_embedded_keys(reader));
    let mut stopped = false;
    let mut failure = None;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => dissector.handle_frame(&frame),
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        if drain(&mut dissector, sink).is_break() {
            stopped = true;
            break;
        }
    }
    if !stopped {
        dissector.finish();
        let _ = drain(&mut dissector, sink);
    }
    let mut summary = dissector.summary().clone();
    summary.truncation = reader.truncation().cloned();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

fn drain(d: &mut Dissector, sink: &mut impl Deliver) -> ControlFlow<()> {
    while let Some(event) = d.poll_event() {
        deliver(event, sink)?;
    }
    ControlFlow::Continue(())
}

/// Hands one event to the sink.
pub(crate) fn deliver(event: Event, sink: &mut impl Deliver) -> ControlFlow<()> {
    match event {
        Event::Verdict(v) => sink.verdict(*v),
        Event::Protocol(p) => sink.protocol_event(p),
    }
}
