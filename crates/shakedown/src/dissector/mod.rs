//! The sans-IO dissector: frames in, events out.
//!
//! [`Dissector::handle_frame`] takes one captured frame at a time, [`Dissector::poll_event`] hands out
//! what became known, and [`Dissector::finish`] ends every connection still open at the end of the
//! capture. Verdicts come out in the order of each connection's first packet (SCHEMA.md), so a verdict
//! waits until every connection that started before it has ended. Time comes only from the frames.

mod connection;
mod proto;
mod summary;

pub use summary::Summary;

use std::collections::{BTreeMap, VecDeque};

use crate::capture::Frame;
use crate::decode::{Decoded, Decoder};
use crate::flow::{Endpoint, FlowKey, FlowTable};
use crate::rdp::{ConnectionConfirm, ConnectionRequest};
use crate::tcp::Budget;
use crate::tls::TlsEvent;
use crate::verdict::{Mark, Verdict};
use crate::{Config, Side};

use connection::Connection;

/// Connections that closed (both FINs, or an RST) are reported after this much capture time without
/// further packets, so late retransmissions and ACKs still count towards them.
const CLOSED_LINGER_NS: i64 = 2_000_000_000;
/// How often (capture time) idle connections are looked for.
const EXPIRY_INTERVAL_NS: i64 = 1_000_000_000;

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

/// Turns frames into verdicts. Deterministic: the same frames give the same events.
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
    decoder: Decoder,
    table: FlowTable<Connection>,
    budget: Budget,
    next_conn: u64,
    emit: Emitter,
    summary: Summary,
    now: i64,
    last_expiry: i64,
    closing: VecDeque<(FlowKey, u64, i64)>,
}

impl Dissector {
    /// A dissector with the given limits.
    pub fn new(config: Config) -> Self {
        Dissector {
            decoder: Decoder::new(&config),
            budget: Budget::new(config.max_total_buffer),
            config,
            table: FlowTable::new(),
            next_conn: 0,
            emit: Emitter::default(),
            summary: Summary::default(),
            now: i64::MIN,
            last_expiry: i64::MIN,
            closing: VecDeque::new(),
        }
    }

    /// What has been counted so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.emit.out.pop_front()
    }

    /// Handles one captured frame.
    pub fn handle_frame(&mut self, frame: &Frame<'_>) {
        self.summary.frames += 1;
        self.summary.captured_bytes += frame.data.len() as u64;
        let ts = frame.ts.as_nanos();
        if self.summary.first_ts.is_none() {
            self.summary.first_ts = Some(frame.ts);
        }
        if ts < self.now {
            self.summary.backwards_timestamps += 1;
        } else {
            self.now = ts;
            self.summary.last_ts = Some(frame.ts);
        }
        let at = Mark {
            frame: frame.index,
            ts: frame.ts,
        };
        match self.decoder.decode(frame) {
            Decoded::Tcp(seg) => {
                self.summary.tcp_segments += 1;
                let src = Endpoint::new(seg.src, seg.src_port);
                let dst = Endpoint::new(seg.dst, seg.dst_port);
                let key = FlowKey::new(src, dst);
                let mut slot = self.table.find(&key);
                if let Some(s) = slot {
                    let reuse = seg.flags.syn()
                        && !seg.flags.ack()
                        && self.table.get_mut(s).is_some_and(|c| c.reused_by(seg.seq));
                    if reuse {
                        if let Some(old) = self.table.remove(s) {
                            self.summary.port_reuse += 1;
                            self.emit.conclude(old, false, &mut self.budget);
                        }
                        slot = None;
                    }
                }
                let slot = match slot {
                    Some(s) => s,
                    None => {
                        if self.table.len() >= self.config.max_connections.max(1)
                            && let Some(old) = self.table.pop_idle(None)
                        {
                            self.summary.evicted += 1;
                            self.emit.conclude(old, true, &mut self.budget);
                        }
                        let id = self.next_conn;
                        self.next_conn += 1;
                        self.summary.connections += 1;
                        let conn = Connection::new(
                            id,
                            &seg,
                            at,
                            &self.config,
                            self.config.protocol_events,
                        );
                        let s = self.table.insert(key, conn, ts);
                        self.emit.live.insert(id, key);
                        self.summary.peak_connections =
                            self.summary.peak_connections.max(self.table.len() as u64);
                        s
                    }
                };
                self.table.touch(slot, ts);
                if let Some(conn) = self.table.get_mut(slot) {
                    let was_closed = conn.closed();
                    conn.segment(&seg, at, &mut self.budget, &mut self.emit.scratch);
                    if !was_closed && conn.closed() {
                        self.closing.push_back((key, conn.id, ts));
                    }
                }
                self.emit.flush_protocol_events();
            }
            Decoded::Skipped(skip) => {
                *self.summary.skipped.entry(skip.kind()).or_insert(0) += 1;
            }
        }
        self.summary.peak_buffered = self.summary.peak_buffered.max(self.budget.used() as u64);
        if self.now.saturating_sub(self.last_expiry) >= EXPIRY_INTERVAL_NS {
            self.last_expiry = self.now;
            self.expire();
        }
        self.release_held_verdicts();
    }

    /// Verdicts wait for every connection that started before them. When too many wait, the oldest
    /// live connection — the one holding them back — is judged now, as it stands (`unfinished`),
    /// so memory does not grow with the capture. Later packets of it start a new connection.
    fn release_held_verdicts(&mut self) {
        let cap = self.config.max_pending_verdicts.max(1);
        while self.emit.ready.len() > cap {
            let Some((&id, &key)) = self.emit.live.first_key_value() else {
                break;
            };
            let conn = self
                .table
                .find(&key)
                .filter(|&slot| self.table.get_mut(slot).is_some_and(|c| c.id == id))
                .and_then(|slot| self.table.remove(slot));
            match conn {
                Some(conn) => {
                    self.summary.released_early += 1;
                    self.emit.conclude(conn, true, &mut self.budget);
                }
                None => {
                    // Not in the table any more (cannot happen; stay bounded anyway).
                    self.emit.live.remove(&id);
                }
            }
        }
    }

    /// Ends every connection still open (the capture is over) and releases all pending verdicts.
    pub fn finish(&mut self) {
        for conn in self.table.drain() {
            self.emit.conclude(conn, true, &mut self.budget);
        }
        self.emit.live.clear();
        self.closing.clear();
        self.summary.budget_hits = self.budget.hits();
        self.summary.peak_buffered = self.summary.peak_buffered.max(self.budget.peak() as u64);
        // Every connection has concluded, so everything left is in order.
        let rest = std::mem::take(&mut self.emit.ready);
        for (_, v) in rest {
            self.emit.out.push_back(Event::Verdict(Box::new(v)));
        }
        self.emit.next_emit = self.next_conn;
        self.summary.pending_verdicts_peak = self.emit.pending_peak;
    }

    fn expire(&mut self) {
        let cutoff = self.now.saturating_sub(CLOSED_LINGER_NS);
        while let Some(&(key, id, closed_at)) = self.closing.front() {
            if closed_at >= cutoff {
                break;
            }
            self.closing.pop_front();
            let Some(slot) = self.table.find(&key) else {
                continue;
            };
            let quiet = self
                .table
                .get_mut(slot)
                .is_some_and(|c| c.id == id && c.last_ts() < cutoff);
            if quiet {
                if let Some(conn) = self.table.remove(slot) {
                    self.emit.conclude(conn, false, &mut self.budget);
                }
            } else if self.table.get_mut(slot).is_some_and(|c| c.id == id) {
                // Still talking after its close: look again later.
                let last = self.table.get_mut(slot).map_or(self.now, |c| c.last_ts());
                self.closing.push_back((key, id, last));
            }
        }
        let idle_cutoff = self.now.saturating_sub(self.config.idle_timeout_ns);
        while let Some(conn) = self.table.pop_idle(Some(idle_cutoff)) {
            self.summary.expired += 1;
            self.emit.conclude(conn, true, &mut self.budget);
        }
    }
}

/// Puts verdicts out in the order of their connections' first packets.
#[derive(Default)]
struct Emitter {
    /// Live connections by id (the oldest first), to find the one holding back the others.
    live: BTreeMap<u64, FlowKey>,
    next_emit: u64,
    ready: BTreeMap<u64, Verdict>,
    out: VecDeque<Event>,
    scratch: Vec<ProtocolEvent>,
    pending_peak: u64,
}

impl Emitter {
    fn conclude(&mut self, conn: Connection, unfinished: bool, budget: &mut Budget) {
        self.live.remove(&conn.id);
        let verdict = conn.finish(unfinished, budget, &mut self.scratch);
        self.flush_protocol_events();
        self.ready.insert(verdict.conn, verdict);
        while let Some(v) = self.ready.remove(&self.next_emit) {
            self.out.push_back(Event::Verdict(Box::new(v)));
            self.next_emit += 1;
        }
        self.pending_peak = self.pending_peak.max(self.ready.len() as u64);
    }

    fn flush_protocol_events(&mut self) {
        for e in self.scratch.drain(..) {
            self.out.push_back(Event::Protocol(e));
        }
    }
}
