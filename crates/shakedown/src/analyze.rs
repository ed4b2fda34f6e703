//! The push convenience on top of the sans-IO [`Dissector`]: read a whole capture, push every verdict
//! to a [`Sink`].

use std::io::Read;
use std::ops::ControlFlow;

use crate::Config;
use crate::capture::{CaptureError, CaptureReader};
use crate::dissector::{Dissector, Event, ProtocolEvent, Summary};
use crate::verdict::Verdict;

/// Receives what an analysis finds. Return [`ControlFlow::Break`] to stop early (e.g. the output
/// pipe closed).
pub trait Sink {
    /// One connection's verdict, in order of the connections' first packets.
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()>;

    /// Several verdicts that are ready at once, in order: [`analyze_parallel`](crate::analyze_parallel)
    /// gives verdicts held back for first-packet order this way when the connection they waited
    /// for ends (at the end of a capture, often thousands). By default each goes to
    /// [`Sink::verdict`]; a sink can override this to do its work on them in parallel, e.g. format
    /// them on several threads.
    fn verdicts(&mut self, verdicts: Vec<Verdict>) -> ControlFlow<()> {
        for verdict in verdicts {
            self.verdict(verdict)?;
        }
        ControlFlow::Continue(())
    }

    /// One protocol step, as it happens (only with [`Config::protocol_events`]).
    fn protocol_event(&mut self, _event: ProtocolEvent) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A sink that collects verdicts in a `Vec`.
impl Sink for Vec<Verdict> {
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()> {
        self.push(verdict);
        ControlFlow::Continue(())
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
pub fn analyze<R: Read>(
    reader: &mut CaptureReader<R>,
    config: &Config,
    sink: &mut impl Sink,
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

fn drain(d: &mut Dissector, sink: &mut impl Sink) -> ControlFlow<()> {
    while let Some(event) = d.poll_event() {
        deliver(event, sink)?;
    }
    ControlFlow::Continue(())
}

/// Hands one event to the sink.
pub(crate) fn deliver(event: Event, sink: &mut impl Sink) -> ControlFlow<()> {
    match event {
        Event::Verdict(v) => sink.verdict(*v),
        Event::Protocol(p) => sink.protocol_event(p),
    }
}
