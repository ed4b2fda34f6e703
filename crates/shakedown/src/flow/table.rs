//! The connection table: canonical key -> live connection, with idle expiry and a cap on live entries.
//!
//! Expiry and eviction use a lazily refreshed min-heap of last activity, so a packet costs one hash
//! lookup and no reordering: an entry is only moved when it reaches the top of the heap and turns
//! out to have been active since it was queued. Expiry is exact: every entry idle since before the
//! cutoff goes, whatever else the table holds (so tables that share out the connections of one
//! capture expire the same connections as one table holding them all).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::FlowKey;

/// Index of a live entry in the table; valid until that entry is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(usize);

struct Entry<C> {
    key: FlowKey,
    generation: u64,
    last: i64,
    value: C,
}

/// Live connections by key. `C` is the per-connection state.
pub(crate) struct FlowTable<C> {
    map: HashMap<FlowKey, usize, foldhash::fast::RandomState>,
    entries: Vec<Option<Entry<C>>>,
    free: Vec<usize>,
    /// (last activity when queued, generation, slot), the least recent on top.
    queue: BinaryHeap<Reverse<(i64, u64, usize)>>,
    next_generation: u64,
}

impl<C> FlowTable<C> {
    pub(crate) fn new() -> Self {
        FlowTable {
            map: HashMap::default(),
            entries: Vec::new(),
            free: Vec::new(),
            queue: BinaryHeap::new(),
            next_generation: 0,
        }
    }

    /// Live entries.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn find(&self, key: &FlowKey) -> Option<Slot> {
        self.map.get(key).map(|&i| Slot(i))
    }

    pub(crate) fn get_mut(&mut self, slot: Slot) -> Option<&mut C> {
        self.entries.get_mut(slot.0)?.as_mut().map(|e| &mut e.value)
    }

    /// Records activity at capture time `now` (nanoseconds).
    pub(crate) fn touch(&mut self, slot: Slot, now: i64) {
        if let Some(Some(e)) = self.entries.get_mut(slot.0) {
            e.last = e.last.max(now);
        }
    }

    /// Inserts a new entry for `key` (which must not be live) and returns its slot.
    pub(crate) fn insert(&mut self, key: FlowKey, value: C, now: i64) -> Slot {
        let generation = self.next_generation;
        self.next_generation += 1;
        let entry = Entry {
            key,
            generation,
            last: now,
            value,
        };
        let index = match self.free.pop() {
            Some(i) => {
                if let Some(place) = self.entries.get_mut(i) {
                    *place = Some(entry);
                }
                i
            }
            None => {
                self.entries.push(Some(entry));
                self.entries.len() - 1
            }
        };
        self.map.insert(key, index);
        self.queue.push(Reverse((now, generation, index)));
        Slot(index)
    }

    /// Removes a live entry and returns its state.
    pub(crate) fn remove(&mut self, slot: Slot) -> Option<C> {
        let entry = self.entries.get_mut(slot.0)?.take()?;
        self.map.remove(&entry.key);
        self.free.push(slot.0);
        if self.map.is_empty() {
            // Nothing live: the queue holds only stale entries.
            self.queue.clear();
        } else if self.queue.len() > self.map.len().saturating_mul(2).saturating_add(1024) {
            // Mostly stale entries: rebuild from the live ones, so the queue stays proportional to
            // the live connections (amortised O(1) per removal).
            self.queue = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.as_ref().map(|e| Reverse((e.last, e.generation, i))))
                .collect();
        }
        Some(entry.value)
    }

    /// Removes and returns the least recently active entry if its last activity is before `cutoff`
    /// (or the least recently active entry when `cutoff` is `None`; the oldest of equals).
    pub(crate) fn pop_idle(&mut self, cutoff: Option<i64>) -> Option<C> {
        // Each queued item is looked at at most twice per call (once stale, once refreshed), so the
        // loop is bounded by twice the queue's length.
        let mut budget = self.queue.len().saturating_mul(2).saturating_add(1);
        while budget > 0 {
            budget -= 1;
            let &Reverse((queued, generation, index)) = self.queue.peek()?;
            let live = match self.entries.get(index) {
                Some(Some(e)) if e.generation == generation => Some(e.last),
                _ => None,
            };
            let Some(last) = live else {
                self.queue.pop();
                continue;
            };
            if last > queued {
                self.queue.pop();
                self.queue.push(Reverse((last, generation, index)));
                continue;
            }
            if cutoff.is_some_and(|c| last >= c) {
                return None;
            }
            self.queue.pop();
            return self.remove(Slot(index));
        }
        None
    }

    /// Removes every live entry, in order of first insertion, and returns their states.
    pub(crate) fn drain(&mut self) -> Vec<C> {
        self.map.clear();
        self.queue.clear();
        self.free.clear();
        let mut out: Vec<(u64, C)> = self
            .entries
            .drain(..)
            .flatten()
            .map(|e| (e.generation, e.value))
            .collect();
        out.sort_by_key(|(g, _)| *g);
        out.into_iter().map(|(_, c)| c).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Endpoint;

    fn key(port: u16) -> FlowKey {
        let a = Endpoint::new("10.0.0.1".parse().unwrap(), port);
        let b = Endpoint::new("10.0.0.2".parse().unwrap(), 443);
        FlowKey::new(a, b)
    }

    #[test]
    fn expiry_follows_last_activity() {
        let mut t = FlowTable::new();
        let s1 = t.insert(key(1), "one", 0);
        let _s2 = t.insert(key(2), "two", 10);
        t.touch(s1, 20);
        assert_eq!(t.pop_idle(Some(15)), Some("two"));
        assert_eq!(t.pop_idle(Some(15)), None);
        assert_eq!(t.pop_idle(None), Some("one"));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn expiry_is_exact_when_a_refreshed_entry_falls_behind_a_newer_one() {
        let mut t = FlowTable::new();
        let a = t.insert(key(1), "a", 0);
        t.insert(key(2), "b", 5);
        t.touch(a, 10);
        t.insert(key(3), "c", 12);
        let mut gone = Vec::new();
        while let Some(c) = t.pop_idle(Some(11)) {
            gone.push(c);
        }
        gone.sort_unstable();
        assert_eq!(gone, ["a", "b"]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn slots_are_reused_without_confusion() {
        let mut t = FlowTable::new();
        let s1 = t.insert(key(1), 1, 0);
        assert_eq!(t.remove(s1), Some(1));
        let s2 = t.insert(key(2), 2, 5);
        assert_eq!(t.find(&key(2)), Some(s2));
        assert_eq!(t.find(&key(1)), None);
        assert_eq!(t.pop_idle(None), Some(2));
    }
}
