//! The sans-IO dissector: frames in, events out.
//!
//! [`Dissector::handle_frame`] takes one captured frame at a time, [`Dissector::poll_event`] hands out
//! what became known, [`Dissector::advance`] tells the time when no frame comes (live capture), and
//! [`Dissector::finish`] ends every connection still open at the end of the capture. Verdicts come
//! out in the order of each connection's first packet (SCHEMA.md), so a verdict waits until every
//! connection that started before it has ended, or as they are decided
//! ([`crate::VerdictOrder::AsDecided`]). Time comes only from the frames and from the caller.
//!
//! Inside, three parts that a parallel analysis ([`crate::analyze_parallel`]) runs on different
//! threads: the [`intake`] counts and decodes frames and says when idle connections are looked for
//! (in parallel: its clock runs where the records are walked, in capture order, and every thread
//! decodes); a [`shard`] tracks connections and judges them (one per thread); [`order`] puts the
//! verdicts out in order (on the calling thread).

mod connection;
pub(crate) mod intake;
pub(crate) mod order;
mod proto;
pub(crate) mod shard;
mod summary;
#[cfg(test)]
mod tests;

pub use summary::{CaptureDrops, InterfaceDrops, Summary};

use std::collections::VecDeque;

use crate::Config;
use crate::Side;
use crate::Timestamp;
use crate::capture::Frame;
use crate::decode::Decoded;
use crate::rdp::{ConnectionConfirm, ConnectionRequest};
use crate::tls::TlsEvent;
use crate::verdict::{Mark, Verdict};

use intake::Intake;
use order::Order;
use shard::{Shard, ShardEvent, Stamped};

/// What the dissector tells its consumer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A connection ended and was judged.
    Verdict(Box<Verdict>),
    /// A protocol step of a connection, as it happened (only when [`Config::protocol_events`] is on).
    Protocol(ProtocolEvent),
}

/// One protocol step of one connection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProtocolEvent {
    /// The connection's index within the capture (its [`Verdict::conn`]).
    pub conn: u64,
    /// The frame that completed it.
    pub at: Mark,
    /// Who sent it.
    pub from: Side,
    /// What it was.
    pub kind: ProtocolEventKind,
}

/// The kinds of [`ProtocolEvent`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProtocolEventKind {
    /// A TLS message, record or alert.
    Tls(TlsEvent),
    /// An X.224 Connection Request.
    RdpRequest(ConnectionRequest),
    /// An X.224 Connection Confirm.
    RdpConfirm(ConnectionConfirm),
    /// Bytes never captured in this direction.
    Gap(u64),
}

/// Turns frames into verdicts. Deterministic: the same frames (and the same [`advance`] calls
/// between them) give the same events.
///
/// # When a verdict comes out
///
/// Time is the capture's: the latest frame timestamp, or the latest time given to [`advance`] if
/// that is later. The engine never reads a clock. A connection is judged:
/// - when it has closed (both FINs, or an RST) and then stayed quiet for
///   [`Config::closed_linger_ns`] (2 s by default), so late retransmissions and ACKs still count;
/// - when it has been idle for [`Config::idle_timeout_ns`] (counted in [`Summary::expired`]);
/// - at once when a new SYN reuses its closed 5-tuple, or when [`Config::max_connections`] is
///   reached and it is the longest idle (counted in [`Summary::evicted`]);
/// - at [`finish`], for every connection still open (`unfinished`).
///
/// The first two are looked for after a frame once per second of frame time, and at every
/// [`advance`] call. A judged verdict is then handed out by the same call
/// ([`crate::VerdictOrder::AsDecided`]) or once every connection that started before it has been
/// handed out ([`crate::VerdictOrder::FirstPacket`], the default; bounded by
/// [`Config::max_pending_verdicts`]). So with as-decided order and [`advance`] called with the wall
/// clock, a closed connection's verdict is ready for [`poll_event`] within the linger time plus the
/// interval between `advance` calls after its last packet.
///
/// [`advance`]: Dissector::advance
/// [`finish`]: Dissector::finish
/// [`poll_event`]: Dissector::poll_event
///
/// ```
/// use shakedown::{Config, Dissector, Event};
/// let mut d = Dissector::new(Config::default());
/// // for frame in capture { d.handle_frame(&frame); while let Some(e) = d.poll_event() { ... } }
/// d.finish();
/// assert!(d.poll_event().is_none());
/// assert_eq!(d.summary().connections, 0);
/// ```
pub struct Dissector {
    config: Config,
    intake: Intake,
    shard: Shard,
    order: Order,
    events: Vec<Stamped>,
    out: VecDeque<Event>,
    summary: Summary,
    /// The number of the last frame handled (events of an [`Dissector::advance`] come after it).
    last_frame: u64,
}

impl Dissector {
    /// A dissector with the given limits.
    pub fn new(config: Config) -> Self {
        Dissector {
            intake: Intake::new(&config),
            shard: Shard::new(config.clone()),
            order: Order::new(config.verdict_order),
            config,
            events: Vec::new(),
            out: VecDeque::new(),
            summary: Summary::default(),
            last_frame: 0,
        }
    }

    /// What has been counted so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.pop_front()
    }

    /// Handles one captured frame.
    pub fn handle_frame(&mut self, frame: &Frame<'_>) {
        let at = self.intake.count(frame, &mut self.summary);
        self.last_frame = at.frame;
        let skipped = match self.intake.decoder.decode(frame) {
            Decoded::Tcp(seg) => {
                self.shard.segment(&seg, at);
                None
            }
            Decoded::Skipped(skip) => Some(skip.kind()),
        };
        Intake::decoded(&mut self.summary, skipped);
        if let Some(now) = self.intake.expiry_due() {
            self.shard.expire(now, at.frame);
        }
        for e in self.shard.protocol.drain(..) {
            self.out.push_back(Event::Protocol(e));
        }
        if self.shard.has_events() {
            self.apply_events();
        }
    }

    /// Tells the dissector that it is now `now` (capture time, e.g. the wall clock of a live capture)
    /// though no frame came: connections that closed and have been quiet for
    /// [`Config::closed_linger_ns`], and those idle for [`Config::idle_timeout_ns`], are judged, and
    /// their verdicts are ready for [`Dissector::poll_event`] as the verdict order allows (see
    /// [`Dissector`]). A `now` earlier than the latest frame changes nothing; frames that come
    /// later are handled as ever (a frame older than `now` is not counted as time going back, but
    /// a connection judged in between does not get it: a live caller tells a time a little behind
    /// its clock when frames may still be on their way).
    ///
    /// ```
    /// use shakedown::{Config, Dissector, Timestamp};
    /// let mut d = Dissector::new(Config::default());
    /// d.advance(Timestamp::from_secs_nanos(1_700_000_000, 0));
    /// assert!(d.poll_event().is_none());
    /// ```
    pub fn advance(&mut self, now: Timestamp) {
        let now = now.as_nanos().max(self.intake.now());
        self.shard.expire(now, self.last_frame);
        for e in self.shard.protocol.drain(..) {
            self.out.push_back(Event::Protocol(e));
        }
        if self.shard.has_events() {
            self.apply_events();
        }
    }

    /// Ends every connection still open (the capture is over) and releases all pending verdicts.
    pub fn finish(&mut self) {
        self.shard.finish();
        for e in self.shard.protocol.drain(..) {
            self.out.push_back(Event::Protocol(e));
        }
        self.apply_events();
        self.order.finish(&mut self.out);
        self.update_summary();
    }

    fn apply_events(&mut self) {
        self.shard.take_events(&mut self.events);
        // A shard's events are in the order they happened: those of the frame itself, then those of
        // the expiry after it.
        for stamped in self.events.drain(..) {
            match stamped.event {
                ShardEvent::Created(_) => self.order.created(),
                ShardEvent::Concluded(v) => self.order.concluded(v),
            }
        }
        self.order
            .end_of_frame(self.config.max_pending_verdicts, &mut self.out);
        self.update_summary();
    }

    fn update_summary(&mut self) {
        self.summary
            .set_tracking(self.shard.tracking(), &self.order);
    }
}
