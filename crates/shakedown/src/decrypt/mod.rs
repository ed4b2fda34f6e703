//! Keys for reading encrypted handshakes. In the data flow this sits between the TLS deframer and
//! the handshake/alert reader: with the secrets of a connection, the records after ServerHello
//! (TLS 1.3's encrypted handshake, alerts sent after the handshake keys are in use, RDP's CredSSP)
//! can be read; without them that step costs nothing.
//!
//! `schedule` turns logged secrets into record keys (RFC 8446 §7 for TLS 1.3, RFC 5246 §5 and
//! §6.3 for TLS 1.2 and older), `record` opens protected records one direction at a time. Nothing
//! here runs unless a caller has keys and asks.
//!
//! Secrets come in as NSS key log text ([`KeyLog`]) from three places: a file (the CLI's
//! `--keylog`), pcapng Decryption Secrets Blocks inside the capture ([`EmbeddedKeys`], which an
//! analysis of that capture uses by itself, each block for the frames after it), or memory (a
//! program's own key log callback, [`KeyLog::add`]). A connection's secrets are looked up once, at
//! its ServerHello, in the given log first and then in the capture's own.
//!
//! ```
//! use shakedown::decrypt::{KeyLog, Label};
//! let text = format!("CLIENT_TRAFFIC_SECRET_0 {} {}\n", "01".repeat(32), "02".repeat(32));
//! let log = KeyLog::parse(&text);
//! assert!(log.secret(&[1; 32], Label::ClientTrafficSecret0).is_some());
//! ```

mod embedded;
mod keylog;
// Record protection: public only with the `unstable` feature (an engine part, no stability promise).
#[cfg(feature = "unstable")]
pub mod record;
#[cfg(not(feature = "unstable"))]
pub(crate) mod record;
// Key schedules: public only with the `unstable` feature (an engine part, no stability promise).
#[cfg(feature = "unstable")]
pub mod schedule;
#[cfg(not(feature = "unstable"))]
pub(crate) mod schedule;
pub(crate) mod source;

pub use embedded::EmbeddedKeys;
pub use keylog::{
    CLIENT_RANDOM_LEN, KeyLog, KeyLogCounts, Label, MAX_ENTRIES, MAX_LISTED_MALFORMED, Malformed,
    MalformedLine, Secret, Secrets,
};
pub(crate) use source::KeySource;
