//! Keys for reading encrypted handshakes. In the data flow this sits between the TLS deframer and
//! the handshake/alert reader: with the secrets of a connection, the records after ServerHello
//! (TLS 1.3's encrypted handshake, alerts sent after the handshake keys are in use, RDP's CredSSP)
//! can be read; without them that step costs nothing.
//!
//! Secrets come in as NSS key log text ([`KeyLog`]) from three places: a file (the CLI's
//! `--keylog`), pcapng Decryption Secrets Blocks inside the capture
//! ([`crate::capture::CaptureReader::embedded_key_log`]), or memory (a program's own key log
//! callback, [`KeyLog::add`]).
//!
//! ```
//! use shakedown::decrypt::{KeyLog, Label};
//! let text = format!("CLIENT_TRAFFIC_SECRET_0 {} {}\n", "01".repeat(32), "02".repeat(32));
//! let log = KeyLog::parse(&text);
//! assert!(log.secret(&[1; 32], Label::ClientTrafficSecret0).is_some());
//! ```

mod keylog;

pub use keylog::{
    CLIENT_RANDOM_LEN, KeyLog, KeyLogCounts, Label, MAX_ENTRIES, MAX_LISTED_MALFORMED, Malformed,
    MalformedLine, Secret, Secrets,
};
