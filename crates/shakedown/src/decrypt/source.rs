//! Where one connection looks its secrets up: the key log given to the analysis
//! ([`crate::Config::key_log`]) and the capture's own ([`crate::Config::embedded_keys`]), as of the
//! frame it asks at (its ServerHello's).

use std::sync::Arc;

use super::embedded::EmbeddedKeys;
use super::keylog::{CLIENT_RANDOM_LEN, KeyLog, Secrets};

/// The key logs a connection may use (16 bytes: every tracked connection holds one).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySource {
    given: Option<Arc<KeyLog>>,
    embedded: Option<EmbeddedKeys>,
}

/// What a lookup found.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// No key log applies: none was given and no Decryption Secrets Block came yet. Nothing is
    /// decrypted and nothing is said about it.
    NoKeyLog,
    /// Key logs apply; these are the connection's secrets (`None`: none for its client random).
    Found(Option<Box<Secrets>>),
}

impl KeySource {
    /// The key logs of an analysis.
    pub(crate) fn of(given: Option<&Arc<KeyLog>>, embedded: Option<&EmbeddedKeys>) -> KeySource {
        KeySource {
            given: given.cloned(),
            embedded: embedded.cloned(),
        }
    }

    /// Only `log` (for every frame).
    pub(crate) fn given(log: Arc<KeyLog>) -> KeySource {
        KeySource {
            given: Some(log),
            embedded: None,
        }
    }

    /// Whether there is no key log at all (then nothing is looked up and nothing costs anything).
    pub(crate) fn is_empty(&self) -> bool {
        self.given.is_none() && self.embedded.is_none()
    }

    /// Whether secrets can come from the capture itself (then the frame matters).
    pub(crate) fn has_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The secrets for `client_random` at frame `frame`: the given log's, then for the labels it
    /// lacks the capture's from the blocks before that frame.
    pub(crate) fn lookup(&self, client_random: &[u8; CLIENT_RANDOM_LEN], frame: u64) -> Lookup {
        let embedded = self.embedded.as_ref().filter(|e| e.any_before(frame));
        if self.given.is_none() && embedded.is_none() {
            return Lookup::NoKeyLog;
        }
        let mut found = self
            .given
            .as_ref()
            .and_then(|g| g.secrets(client_random))
            .unwrap_or_default();
        if let Some(more) = embedded.and_then(|e| e.secrets_at(client_random, frame)) {
            found.fill_from(more);
        }
        Lookup::Found((!found.is_empty()).then(|| Box::new(found)))
    }
}
