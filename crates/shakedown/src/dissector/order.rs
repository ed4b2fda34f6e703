//! Puts verdicts out in the order of their connections' first packets (SCHEMA.md), or as they are
//! decided ([`VerdictOrder::AsDecided`]).
//!
//! Connections are numbered by first packet; a verdict waits until every connection numbered
//! before it has been put out. The decisions are taken once per frame, from what happened during
//! that frame, so the same capture gives the same order whether one shard saw every connection or
//! several shards each saw some ([`crate::analyze_parallel`]).
//!
//! Waiting is bounded: when more than [`crate::Config::max_pending_verdicts`] verdicts wait, the
//! connection holding them back is passed over, and its verdict goes out as soon as it ends, after
//! verdicts of connections that started later (counted in [`super::Summary::out_of_order`]).
//!
//! As decided, nothing waits: at the end of each frame (or [`crate::Dissector::advance`]) every
//! verdict that arrived goes out, those of one frame in the order of their first packets.

use std::collections::{BTreeMap, VecDeque};

use super::Event;
use crate::VerdictOrder;
use crate::verdict::Verdict;
use crate::verdict::context::CaptureContext;

/// The ordering state of one analysis.
#[derive(Default)]
pub(crate) struct Order {
    /// First-packet order, or as decided.
    mode: VerdictOrder,
    /// The number of the next verdict to put out.
    next: u64,
    /// Verdicts that ended and wait, by connection number.
    ready: BTreeMap<u64, Box<Verdict>>,
    /// Whether a verdict arrived since the last [`Order::end_of_frame`].
    arrived: bool,
    /// Connections begun and not yet ended.
    live: u64,
    pub(crate) peak_live: u64,
    pub(crate) peak_waiting: u64,
    pub(crate) out_of_order: u64,
    /// What the verdicts put out so far showed of their servers.
    context: CaptureContext,
}

impl Order {
    /// Ordering state that puts verdicts out in `mode`.
    pub(crate) fn new(mode: VerdictOrder) -> Self {
        Order {
            mode,
            ..Order::default()
        }
    }

    /// A connection began (its number is the count of connections begun before it).
    pub(crate) fn created(&mut self) {
        self.live += 1;
        self.peak_live = self.peak_live.max(self.live);
    }

    /// A connection ended with this verdict.
    pub(crate) fn concluded(&mut self, verdict: Box<Verdict>) {
        self.live = self.live.saturating_sub(1);
        self.ready.insert(verdict.conn, verdict);
        self.arrived = true;
    }

    /// Puts out what the frame's events allow, passing over connections that hold back more than
    /// `max_waiting` verdicts.
    pub(crate) fn end_of_frame(&mut self, max_waiting: usize, out: &mut VecDeque<Event>) {
        if !std::mem::take(&mut self.arrived) {
            return;
        }
        if self.mode == VerdictOrder::AsDecided {
            while let Some((_, v)) = self.ready.pop_first() {
                self.put_out(v, out);
            }
            return;
        }
        // Connections passed over earlier go out as soon as they end.
        while let Some(entry) = self.ready.first_entry() {
            if *entry.key() >= self.next {
                break;
            }
            let v = entry.remove();
            self.put_out(v, out);
        }
        self.advance(out);
        self.peak_waiting = self.peak_waiting.max(self.ready.len() as u64);
        let max_waiting = max_waiting.max(1);
        while self.ready.len() > max_waiting {
            // `next` is not in `ready`, so it is a live connection: pass over it.
            self.out_of_order += 1;
            self.next += 1;
            self.advance(out);
        }
    }

    /// The capture is over and every connection has ended: puts out everything left, in order.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<Event>) {
        self.peak_waiting = self.peak_waiting.max(self.ready.len() as u64);
        for (conn, verdict) in std::mem::take(&mut self.ready) {
            self.next = self.next.max(conn + 1);
            self.put_out(verdict, out);
        }
        self.arrived = false;
    }

    fn advance(&mut self, out: &mut VecDeque<Event>) {
        while let Some(v) = self.ready.remove(&self.next) {
            self.put_out(v, out);
            self.next += 1;
        }
    }

    /// Puts a verdict out, with what the connections put out before it showed of its server.
    fn put_out(&mut self, mut v: Box<Verdict>, out: &mut VecDeque<Event>) {
        self.context.judge(&mut v);
        out.push_back(Event::Verdict(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(conn: u64) -> Box<Verdict> {
        use crate::flow::{ClientInference, Endpoint};
        use crate::verdict::Mark;
        use crate::verdict::observer::{ConnectionFacts, Observer};
        let at = Mark {
            frame: conn + 1,
            ts: crate::Timestamp::from_secs_nanos(1, 0),
        };
        let end = |port| Endpoint::new("10.0.0.1".parse().unwrap(), port);
        Box::new(Observer::new(4).finish(ConnectionFacts {
            conn,
            client: end(40_000),
            server: end(443),
            inferred: ClientInference::Syn,
            start: at,
            end: at,
            packets: crate::PerSide::default(),
            bytes: crate::PerSide::default(),
            unfinished: false,
            tls_port: true,
        }))
    }

    fn conns(out: &mut VecDeque<Event>) -> Vec<u64> {
        out.drain(..)
            .map(|e| match e {
                Event::Verdict(v) => v.conn,
                Event::Protocol(p) => p.conn,
            })
            .collect()
    }

    #[test]
    fn verdicts_wait_for_earlier_connections() {
        let mut o = Order::default();
        let mut out = VecDeque::new();
        for _ in 0..3 {
            o.created();
        }
        o.concluded(verdict(1));
        o.end_of_frame(10, &mut out);
        assert!(conns(&mut out).is_empty());
        o.concluded(verdict(0));
        o.end_of_frame(10, &mut out);
        assert_eq!(conns(&mut out), [0, 1]);
        o.concluded(verdict(2));
        o.end_of_frame(10, &mut out);
        assert_eq!(conns(&mut out), [2]);
        assert_eq!((o.peak_live, o.peak_waiting, o.out_of_order), (3, 1, 0));
    }

    #[test]
    fn a_connection_holding_back_too_many_is_passed_over_and_follows_when_it_ends() {
        let mut o = Order::default();
        let mut out = VecDeque::new();
        for _ in 0..5 {
            o.created();
        }
        for conn in 1..4 {
            o.concluded(verdict(conn));
        }
        o.end_of_frame(2, &mut out);
        assert_eq!(conns(&mut out), [1, 2, 3]);
        assert_eq!(o.out_of_order, 1);
        o.concluded(verdict(4));
        o.end_of_frame(2, &mut out);
        assert_eq!(conns(&mut out), [4]);
        o.concluded(verdict(0));
        o.end_of_frame(2, &mut out);
        assert_eq!(conns(&mut out), [0]);
    }

    #[test]
    fn as_decided_nothing_waits_for_earlier_connections() {
        let mut o = Order::new(VerdictOrder::AsDecided);
        let mut out = VecDeque::new();
        for _ in 0..4 {
            o.created();
        }
        o.concluded(verdict(2));
        o.end_of_frame(10, &mut out);
        assert_eq!(conns(&mut out), [2]);
        o.concluded(verdict(3));
        o.concluded(verdict(1));
        o.end_of_frame(10, &mut out);
        assert_eq!(conns(&mut out), [1, 3]);
        o.concluded(verdict(0));
        o.end_of_frame(10, &mut out);
        o.finish(&mut out);
        assert_eq!(conns(&mut out), [0]);
        assert_eq!((o.peak_waiting, o.out_of_order), (0, 0));
    }

    #[test]
    fn the_order_within_a_frame_does_not_matter() {
        let run = |first: u64, second: u64| {
            let mut o = Order::default();
            let mut out = VecDeque::new();
            for _ in 0..4 {
                o.created();
            }
            o.concluded(verdict(1));
            o.end_of_frame(1, &mut out);
            o.concluded(verdict(2));
            o.end_of_frame(1, &mut out);
            o.concluded(verdict(first));
            o.concluded(verdict(second));
            o.end_of_frame(1, &mut out);
            o.finish(&mut out);
            conns(&mut out)
        };
        assert_eq!(run(0, 3), run(3, 0));
    }
}
