//! The key log a capture carries itself: pcapng Decryption Secrets Blocks (pcapng §4.7) read by
//! [`crate::capture`] as it comes to them, and used by the analysis of the same capture, each
//! block's secrets for the frames after it.
//!
//! The capture reader and the analysis run side by side (with several threads, the reader may be
//! ahead of the connections' shards), so the secrets are shared behind a lock and every secret
//! keeps the frame it came before: a connection looking its keys up at frame `n` gets exactly what
//! the blocks before frame `n` gave, however far the reading has got. One lookup per connection
//! (at its ServerHello); nothing per packet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use super::keylog::{CLIENT_RANDOM_LEN, KeyLog, Secrets};

/// The TLS key log of a capture's Decryption Secrets Blocks, as far as they were read; clones share
/// it. [`crate::capture::CaptureReader::embedded_keys`] gives it for a pcapng capture, and
/// [`crate::Config::embedded_keys`] hands it to an analysis ([`crate::analyze`] and
/// [`crate::analyze_parallel`] do that themselves).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/keys/openssl-tls13-aes128gcm-ok.pcapng");
/// let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
/// let keys = reader.embedded_keys().expect("a pcapng capture may carry keys");
/// assert!(keys.key_log().is_empty()); // nothing read yet
/// reader.next_frame()?; // editcap put the block before the first packet
/// assert_eq!(keys.key_log().entries(), 4); // four TLS 1.3 traffic secrets
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct EmbeddedKeys {
    shared: Arc<Shared>,
}

struct Shared {
    /// The frame before which the first block with a TLS key log came (`u64::MAX`: none yet).
    first: AtomicU64,
    log: RwLock<KeyLog>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            first: AtomicU64::new(u64::MAX),
            log: RwLock::new(KeyLog::new()),
        }
    }
}

impl EmbeddedKeys {
    /// Reads one block's key log text, which came before frame `from` (1-based).
    pub(crate) fn add(&self, text: &[u8], from: u64) {
        let mut log = self
            .shared
            .log
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.add_from(text, from);
        self.shared.first.fetch_min(from, Ordering::Release);
    }

    /// Everything read so far, in one [`KeyLog`] (later blocks' secrets replacing earlier ones, as
    /// [`KeyLog::add`] says). Hold it briefly: the reader waits for it to add a block.
    pub fn key_log(&self) -> RwLockReadGuard<'_, KeyLog> {
        self.shared
            .log
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a block with a TLS key log came before frame `frame`.
    pub(crate) fn any_before(&self, frame: u64) -> bool {
        self.shared.first.load(Ordering::Acquire) <= frame
    }

    /// The secrets for `client_random` that the blocks before frame `frame` gave.
    pub(crate) fn secrets_at(
        &self,
        client_random: &[u8; CLIENT_RANDOM_LEN],
        frame: u64,
    ) -> Option<Secrets> {
        if !self.any_before(frame) {
            return None;
        }
        self.key_log().secrets_at(client_random, frame)
    }
}

/// Equal when they hold the same secrets for the same frames (whether shared or not).
impl PartialEq for EmbeddedKeys {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
            || (self.shared.first.load(Ordering::Acquire)
                == other.shared.first.load(Ordering::Acquire)
                && *self.key_log() == *other.key_log())
    }
}

impl Eq for EmbeddedKeys {}

/// Counts only, never secrets (as [`KeyLog`]'s `Debug`).
impl std::fmt::Debug for EmbeddedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedKeys")
            .field("log", &*self.key_log())
            .finish()
    }
}
