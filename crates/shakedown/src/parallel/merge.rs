//! The calling thread's part: the shards' events put back in capture order, the connections
//! numbered by first packet, the verdicts put out in that order ([`Order`], as one
//! [`crate::Dissector`] does).

use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;

use crate::analyze::Deliver;
use crate::dissector::order::Order;
use crate::dissector::shard::{ShardEvent, Stamped, Tracking};
use crate::{Config, Event};

/// Verdicts given to [`Sink::verdicts`] in one call at most.
const MAX_RUN: usize = 1024;

/// What a shard did with some batches: its events, and how far it got.
pub(super) struct ShardOutput {
    pub(super) events: Vec<Stamped>,
    /// Every frame up to this one has been handed to the shard (`u64::MAX`: the capture is over).
    pub(super) through: u64,
    /// Set on the last output, after the end of the capture.
    pub(super) tracking: Option<Tracking>,
}

/// What the merge found, besides the verdicts it gave the sink.
pub(super) struct Merged {
    pub(super) order: Order,
    /// The shards' figures, added up.
    pub(super) tracking: Tracking,
}

/// Puts the shards' events together, one output at a time: takes them in frame order, numbers
/// the connections by first packet and puts the verdicts out in order.
pub(super) struct Merger {
    queues: Vec<VecDeque<Stamped>>,
    through: Vec<u64>,
    /// Each shard's connection numbers -> the capture's.
    numbers: Vec<HashMap<u64, u64, foldhash::fast::RandomState>>,
    next_number: u64,
    merged: Merged,
    out: VecDeque<Event>,
    frame_events: Vec<(usize, Stamped)>,
    max_pending_verdicts: usize,
}

impl Merger {
    /// A merge of `shards` shards' events.
    pub(super) fn new(shards: usize, config: &Config) -> Self {
        Merger {
            queues: (0..shards).map(|_| VecDeque::new()).collect(),
            through: vec![0u64; shards],
            numbers: (0..shards).map(|_| HashMap::default()).collect(),
            next_number: 0,
            merged: Merged {
                order: Order::new(config.verdict_order),
                tracking: Tracking::default(),
            },
            out: VecDeque::new(),
            frame_events: Vec::new(),
            max_pending_verdicts: config.max_pending_verdicts,
        }
    }

    /// Takes shard `w`'s output and hands the sink every verdict that is ready;
    /// [`ControlFlow::Break`] when the sink stopped.
    pub(super) fn take(
        &mut self,
        w: usize,
        output: ShardOutput,
        sink: &mut impl Deliver,
    ) -> ControlFlow<()> {
        if let Some(queue) = self.queues.get_mut(w) {
            queue.extend(output.events);
        }
        if let Some(t) = self.through.get_mut(w) {
            *t = output.through;
        }
        if let Some(tracking) = output.tracking {
            self.merged.tracking.add(tracking);
        }
        let complete = self.through.iter().copied().min().unwrap_or(0);
        // Every event of a frame up to `complete` has arrived: take them frame by frame.
        while let Some(frame) = self
            .queues
            .iter()
            .filter_map(|q| q.front().map(|s| s.frame))
            .min()
            .filter(|&f| f <= complete)
        {
            for (w, queue) in self.queues.iter_mut().enumerate() {
                while queue.front().is_some_and(|s| s.frame == frame) {
                    if let Some(s) = queue.pop_front() {
                        self.frame_events.push((w, s));
                    }
                }
            }
            // The frame's own events first, then those of the expiry after it, as one shard
            // would have them.
            self.frame_events.sort_by_key(|(_, s)| s.after_frame);
            for (w, stamped) in self.frame_events.drain(..) {
                let Some(numbers) = self.numbers.get_mut(w) else {
                    continue;
                };
                match stamped.event {
                    ShardEvent::Created(local) => {
                        numbers.insert(local, self.next_number);
                        self.next_number += 1;
                        self.merged.order.created();
                    }
                    ShardEvent::Concluded(mut verdict) => {
                        if let Some(number) = numbers.remove(&verdict.conn) {
                            verdict.conn = number;
                        }
                        self.merged.order.concluded(verdict);
                    }
                }
            }
            self.merged
                .order
                .end_of_frame(self.max_pending_verdicts, &mut self.out);
            deliver(&mut self.out, sink)?;
        }
        ControlFlow::Continue(())
    }

    /// What was merged when the sink stopped.
    pub(super) fn stopped(self) -> Merged {
        self.merged
    }

    /// Every shard is done: puts out everything left.
    pub(super) fn finish(mut self, sink: &mut impl Deliver) -> Merged {
        self.merged.order.finish(&mut self.out);
        let _ = deliver(&mut self.out, sink);
        self.merged
    }
}

/// Hands the sink what is ready: a run of two or more verdicts in one call to [`Sink::verdicts`]
/// (at most [`MAX_RUN`] a call, so a long run is not copied out all at once).
fn deliver(out: &mut VecDeque<Event>, sink: &mut impl Deliver) -> ControlFlow<()> {
    while let Some(event) = out.pop_front() {
        let Event::Verdict(first) = event else {
            crate::analyze::deliver(event, sink)?;
            continue;
        };
        if !matches!(out.front(), Some(Event::Verdict(_))) {
            sink.verdict(*first)?;
            continue;
        }
        let mut run = Vec::with_capacity(out.len().min(MAX_RUN));
        run.push(*first);
        while run.len() < MAX_RUN
            && let Some(Event::Verdict(_)) = out.front()
        {
            if let Some(Event::Verdict(v)) = out.pop_front() {
                run.push(*v);
            }
        }
        sink.verdicts(run)?;
    }
    ControlFlow::Continue(())
}
