//! Small bounded caches of work done lately (fingerprint digests, certificate details), kept per
//! thread on the per-record hot paths.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Values worked out lately, by their input: the same hellos and certificates come back on many
/// connections, and working one out costs far more than a look-up. At most `entries` are kept
/// (all are forgotten when full) and inputs longer than `max_input` bytes are not kept, so the
/// memory stays bounded whatever the capture. Meant to sit in a `thread_local!` (parallel workers
/// share nothing).
pub(crate) struct Recent<K, V> {
    map: HashMap<K, V, foldhash::fast::RandomState>,
    entries: usize,
    max_input: usize,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    pub(crate) fn new(entries: usize, max_input: usize) -> Self {
        Recent {
            map: HashMap::default(),
            entries,
            max_input,
        }
    }

    /// The value for `input`: kept from an earlier call, else made by `make` (and kept).
    pub(crate) fn get_or_make<Q>(&mut self, input: &Q, make: impl FnOnce() -> V) -> V
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq + AsRef<[u8]> + ToOwned<Owned = K>,
    {
        if input.as_ref().len() > self.max_input {
            return make();
        }
        if let Some(v) = self.map.get(input) {
            return v.clone();
        }
        let v = make();
        if self.map.len() >= self.entries {
            self.map.clear();
        }
        self.map.insert(input.to_owned(), v.clone());
        v
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    #[cfg(test)]
    pub(crate) fn contains_key<Q>(&self, input: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.map.contains_key(input)
    }
}
