//! Connection tracking for one share of the capture's connections: the flow table, the live
//! connections, idle expiry, port reuse and the live-connection cap.
//!
//! A single-threaded [`Dissector`](super::Dissector) owns one shard that sees every connection; a
//! parallel analysis gives each of its threads a shard and sends it the connections whose key
//! hashes to it.
//! A shard reports what happened as [`Stamped`] events: the frame they happened at, so that the
//! events of every shard can be put back in capture order ([`super::order::Order`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::decode::TcpSegment;
use crate::flow::{FlowKey, FlowTable};
use crate::tcp::Budget;
use crate::verdict::{Mark, Verdict};
use crate::{Config, ProtocolEvent};

use super::connection::Connection;

/// What a shard tells: a connection began, or ended with its verdict.
#[derive(Debug)]
pub(crate) enum ShardEvent {
    /// A connection with this shard-local id began.
    Created(u64),
    /// A connection ended; its verdict's `conn` is the shard-local id.
    Concluded(Box<Verdict>),
}

/// A [`ShardEvent`] with the frame during which it happened (`u64::MAX` at the end of the capture).
#[derive(Debug)]
pub(crate) struct Stamped {
    /// The frame being handled (or the frame after which expiry ran).
    pub(crate) frame: u64,
    /// Whether the event came from the expiry that runs after the frame rather than from the frame.
    pub(crate) after_frame: bool,
    /// What happened.
    pub(crate) event: ShardEvent,
}

/// Counters a shard keeps (merged into [`super::Summary`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ShardCounts {
    pub(crate) connections: u64,
    pub(crate) evicted: u64,
    pub(crate) expired: u64,
    pub(crate) port_reuse: u64,
    /// Frames that were the same packet captured again (see [`crate::Summary::duplicate_frames`]).
    pub(crate) duplicates: u64,
}

/// What one shard, or several added up, tracked: its counters and its reassembly budget's figures.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tracking {
    pub(crate) counts: ShardCounts,
    /// The most bytes buffered at once (summed over shards: each shard's own peak).
    pub(crate) peak_buffered: u64,
    pub(crate) budget_hits: u64,
}

impl Tracking {
    /// Adds another shard's figures.
    pub(crate) fn add(&mut self, other: Tracking) {
        let (c, o) = (&mut self.counts, other.counts);
        c.connections += o.connections;
        c.evicted += o.evicted;
        c.expired += o.expired;
        c.port_reuse += o.port_reuse;
        c.duplicates += o.duplicates;
        self.peak_buffered += other.peak_buffered;
        self.budget_hits += other.budget_hits;
    }
}

/// The connections of one shard.
pub(crate) struct Shard {
    config: Config,
    /// Boxed: the table's slots stay small, so its growth (by doubling) costs little memory.
    table: FlowTable<Box<Connection>>,
    budget: Budget,
    next_conn: u64,
    /// Connections that closed, by the time they did (or last spoke after), earliest first, to
    /// report once they have been quiet. Ordered by time, not by arrival, so that when a connection
    /// is reported does not depend on which others share the shard (a capture's clock can step
    /// back, and a connection still talking after its close is looked at again later).
    closing: BinaryHeap<Reverse<(i64, u64, FlowKey)>>,
    /// Events not yet taken by [`Shard::take_events`].
    events: Vec<Stamped>,
    /// Protocol events (only with [`Config::protocol_events`]).
    pub(crate) protocol: Vec<ProtocolEvent>,
    counts: ShardCounts,
}

impl Shard {
    /// A shard with these limits (`config.max_connections` and `config.max_total_buffer` are this
    /// shard's own).
    pub(crate) fn new(config: Config) -> Self {
        Shard {
            budget: Budget::new(config.max_total_buffer),
            config,
            table: FlowTable::new(),
            next_conn: 0,
            closing: BinaryHeap::new(),
            events: Vec::new(),
            protocol: Vec::new(),
            counts: ShardCounts::default(),
        }
    }

    /// What this shard tracked so far.
    pub(crate) fn tracking(&self) -> Tracking {
        Tracking {
            counts: self.counts,
            peak_buffered: self.budget.peak() as u64,
            budget_hits: self.budget.hits(),
        }
    }

    /// Whether events wait to be taken.
    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Moves the events so far to `into`.
    pub(crate) fn take_events(&mut self, into: &mut Vec<Stamped>) {
        into.append(&mut self.events);
    }

    /// Handles one TCP segment of frame `at`.
    pub(crate) fn segment(&mut self, seg: &TcpSegment<'_>, at: Mark) {
        self.segment_of(FlowKey::of(seg), seg, at);
    }

    /// [`Shard::segment`] when the segment's key is already known.
    pub(crate) fn segment_of(&mut self, key: FlowKey, seg: &TcpSegment<'_>, at: Mark) {
        let ts = at.ts.as_nanos();
        let frame = at.frame;
        let mut slot = self.table.find(&key);
        if let Some(s) = slot {
            let reuse = seg.flags.syn()
                && !seg.flags.ack()
                && self.table.get_mut(s).is_some_and(|c| c.reused_by(seg.seq));
            if reuse {
                if let Some(old) = self.table.remove(s) {
                    self.counts.port_reuse += 1;
                    self.conclude(old, false, frame, false);
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
                    self.counts.evicted += 1;
                    self.conclude(old, true, frame, false);
                }
                let id = self.next_conn;
                self.next_conn += 1;
                self.counts.connections += 1;
                let conn = Box::new(Connection::new(
                    id,
                    seg,
                    at,
                    &self.config,
                    self.config.protocol_events,
                ));
                self.events.push(Stamped {
                    frame,
                    after_frame: false,
                    event: ShardEvent::Created(id),
                });
                self.table.insert(key, conn, ts)
            }
        };
        self.table.touch(slot, ts);
        if let Some(conn) = self.table.get_mut(slot) {
            let was_closed = conn.closed();
            conn.segment(seg, at, &mut self.budget, &mut self.protocol);
            if !was_closed && conn.closed() {
                self.closing.push(Reverse((ts, conn.id, key)));
            }
        }
    }

    /// Reports connections that closed and have been quiet since ([`Config::closed_linger_ns`]),
    /// and connections idle too long, as of capture time `now`, after frame `frame`.
    pub(crate) fn expire(&mut self, now: i64, frame: u64) {
        let cutoff = now.saturating_sub(self.config.closed_linger_ns.max(0));
        while let Some(&Reverse((closed_at, id, key))) = self.closing.peek() {
            if closed_at >= cutoff {
                break;
            }
            self.closing.pop();
            let Some(slot) = self.table.find(&key) else {
                continue;
            };
            let Some(last) = self
                .table
                .get_mut(slot)
                .filter(|c| c.id == id)
                .map(|c| c.last_ts())
            else {
                continue;
            };
            if last < cutoff {
                if let Some(conn) = self.table.remove(slot) {
                    self.conclude(conn, false, frame, true);
                }
            } else {
                // Still talking after its close: look again later.
                self.closing.push(Reverse((last, id, key)));
            }
        }
        let idle_cutoff = now.saturating_sub(self.config.idle_timeout_ns);
        while let Some(conn) = self.table.pop_idle(Some(idle_cutoff)) {
            self.counts.expired += 1;
            self.conclude(conn, true, frame, true);
        }
    }

    /// Ends every connection still open (the capture is over), oldest first.
    pub(crate) fn finish(&mut self) {
        for conn in self.table.drain() {
            self.conclude(conn, true, u64::MAX, false);
        }
        self.closing.clear();
    }

    fn conclude(&mut self, conn: Box<Connection>, unfinished: bool, frame: u64, after_frame: bool) {
        let verdict = conn.finish(unfinished, &mut self.budget, &mut self.protocol);
        let dups = verdict.tcp.duplicate_frames;
        self.counts.duplicates += dups.client + dups.server;
        self.events.push(Stamped {
            frame,
            after_frame,
            event: ShardEvent::Concluded(Box::new(verdict)),
        });
    }
}
