//! shakedown reads packet captures and tells, for every TCP connection, why its TLS handshake died — who
//! hung up, with what, when, and the most likely reason — including TLS carried inside RDP after its
//! X.224 negotiation.
//!
//! The data flow, one module per step:
//!
//! ```text
//! bytes (file, gzip, zstd, stdin)
//!  └ capture   pcap / pcapng blocks -> Frame { index, ts, link_type, data }
//!    └ decode  link -> IP (+defrag, tunnels) -> TcpSegment view | Skip(reason)
//!      └ flow  FlowTable: canonical 5-tuple -> connection; roles; expiry; caps
//!        └ tcp Reassembler per side -> in-order chunks, gaps  (SYN/FIN/RST tracked per side)
//!          └ proto  classify first bytes (any port): rdp negotiation -> tls | tls | other
//!            └ tls   deframer -> handshake defragmenter -> messages -> TlsEvent
//!                    (decrypt: with key log secrets, records are read between deframer and defragmenter)
//!              └ verdict  one observer per connection -> Verdict { outcome, stage, closer, alerts, cause }
//!                └ Sink   (library consumers, the CLI's text and JSON renderers)
//! ```
//!
//! The engine is sans-IO and deterministic: [`Dissector`] takes frames and hands out [`Event`]s;
//! time comes only from capture timestamps (and from the caller, for a live capture:
//! [`Dissector::advance`]). [`analyze`] drives it over a [`capture::CaptureReader`]
//! and pushes verdicts to a [`Sink`]; [`analyze_parallel`] gives the same verdicts, in the same
//! order, from several threads, one scheme for every capture: each thread takes stretches of whole
//! records (of a plain file, read at its own offsets; of compressed input or a pipe, cut from the
//! stream by one more thread), decodes them and tracks the connections whose key hashes to it
//! (`flow` to `verdict` above), and the caller's thread, one of them, puts the verdicts back in
//! first-packet order (the Dissector's own three parts: intake, shard, order). It reads a stream a
//! stretch at a time; [`analyze()`] and the [`Dissector`] take each frame as it comes.
//!
//! # The API
//!
//! What a tool author needs, one entry point each; everything else is reached from these.
//!
//! | to | use |
//! | --- | --- |
//! | open a capture (pcap, pcapng, gzip, zstd; a path or any `Read`) | [`capture::open`], [`capture::CaptureReader::new`] |
//! | analyse it, on one thread or several | [`analyze`], [`analyze_parallel`] |
//! | receive verdicts as they come, stop early, fail with your own error | [`Sink`], [`AnalyzeError`] |
//! | feed frames yourself (live capture, your own reader) | [`Dissector`], [`Event`], [`capture::Frame`] |
//! | tell the time when no frame comes; verdicts as decided (live) | [`Dissector::advance`], [`VerdictOrder`] |
//! | set caps, TLS ports, protocol events, key logs | [`Config`], [`decrypt::KeyLog`] |
//! | read a verdict | [`Verdict`], [`Outcome`], [`Stage`], [`Cause`], [`CauseCode`], [`verdict`] |
//! | what was read, skipped and capped (and a live capture's drops) | [`Summary`], [`CaptureDrops`] |
//! | write the JSON Lines contract | [`json::write_line`], [`json::line`], [`json::summary_line`] |
//! | decode one frame to its TCP segment (as `shakedown extract` does) | [`decode::Decoder`] |
//!
//! The contract the JSON Lines follow is `docs/SCHEMA.md` in the repository; every public enum's
//! `Display` is its spelling there. The types a verdict is made of are `#[non_exhaustive]`: new
//! fields and variants come in minor versions, so match with a wildcard and build them from a
//! default. [`Config`] is built with `..Config::default()`.
//!
//! The engine's own parts (the TCP reassembler, the TLS stream dissector, the RDP PDU parsers, key
//! schedules, positional reading) are public only with the `unstable` feature, for benches, fuzz
//! targets and the in-tree tests: no stability promise.
//!
//! ## Analyse a capture
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut reader = shakedown::capture::open(std::path::Path::new("capture.pcapng"))?;
//! let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
//! shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut verdicts)?;
//! for v in verdicts.iter().filter(|v| v.is_failure()) {
//!     println!("{} -> {}: {} ({})", v.client, v.server, v.cause.code, v.cause.explanation);
//! }
//! # Ok(()) }
//! ```
//!
//! ## On several threads, from standard input
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut reader = shakedown::capture::CaptureReader::new(std::io::stdin())?;
//! let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
//! let summary =
//!     shakedown::analyze_parallel(&mut reader, &shakedown::Config::default(), 4, &mut verdicts)?;
//! println!("{} connections in {} frames", summary.connections, summary.frames);
//! # Ok(()) }
//! ```
//!
//! ## Your own sink, writing JSON Lines
//!
//! ```
//! use std::io::Write;
//! use std::ops::ControlFlow;
//! use shakedown::{AnalyzeError, Sink, Verdict};
//!
//! /// Writes the failures' JSON records; a write error ends the analysis, typed.
//! struct FailuresAsJson<W: Write>(W);
//!
//! impl<W: Write> Sink for FailuresAsJson<W> {
//!     type Error = std::io::Error;
//!     fn verdict(&mut self, v: Verdict) -> std::io::Result<ControlFlow<()>> {
//!         if v.is_failure() {
//!             shakedown::json::write_line(&mut self.0, &v, "capture.pcap")?;
//!         }
//!         Ok(ControlFlow::Continue(()))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
//! let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
//! let mut sink = FailuresAsJson(Vec::new());
//! match shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut sink) {
//!     Ok(summary) => assert_eq!(summary.connections, 1),
//!     Err(AnalyzeError::Sink(e)) => return Err(format!("writing: {e}").into()),
//!     Err(e) => return Err(e.into()),
//! }
//! assert_eq!(sink.0.iter().filter(|&&b| b == b'\n').count(), 1);
//! # Ok(()) }
//! ```
//!
//! ## Frames you read yourself (sans-IO)
//!
//! ```
//! use shakedown::{Config, Dissector, Event};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
//! let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
//! let mut dissector = Dissector::new(Config::default());
//! let mut failed = 0;
//! // Any source of frames will do: here the capture reader's, one at a time.
//! while let Some(frame) = reader.next_frame()? {
//!     dissector.handle_frame(&frame);
//!     while let Some(event) = dissector.poll_event() {
//!         if let Event::Verdict(v) = event {
//!             failed += usize::from(v.is_failure());
//!         }
//!     }
//! }
//! dissector.finish();
//! while let Some(event) = dissector.poll_event() {
//!     if let Event::Verdict(v) = event {
//!         failed += usize::from(v.is_failure());
//!     }
//! }
//! assert_eq!(failed, 1);
//! # Ok(()) }
//! ```
//!
//! ## With a key log
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let keys = shakedown::decrypt::KeyLog::from_bytes(&std::fs::read("sslkeys.log")?);
//! let config = shakedown::Config { key_log: Some(Arc::new(keys)), ..Default::default() };
//! let mut reader = shakedown::capture::open(std::path::Path::new("capture.pcapng"))?;
//! let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
//! shakedown::analyze(&mut reader, &config, &mut verdicts)?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// `pub use` with the `unstable` feature, `pub(crate) use` without: the engine's parts that
/// benches, fuzz targets and in-tree tests reach but tool authors should not build on.
macro_rules! unstable_use {
    ($($path:tt)*) => {
        #[cfg(feature = "unstable")]
        pub use $($path)*;
        #[cfg(not(feature = "unstable"))]
        #[allow(unused_imports)]
        pub(crate) use $($path)*;
    };
}

/// `Display` through the type's `as_str` (the JSON contract's spelling).
macro_rules! display_as_str {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

mod analyze;
mod bytes;
pub mod capture;
pub mod config;
pub mod decode;
pub mod decrypt;
mod digits;
mod dissector;
pub mod flow;
pub mod json;
mod parallel;
pub mod rdp;
mod recent;
pub mod side;
// The TCP reassembler: public only with the `unstable` feature (an engine part, no stability promise).
#[cfg(feature = "unstable")]
pub mod tcp;
#[cfg(not(feature = "unstable"))]
mod tcp;
pub mod time;
pub mod tls;
pub mod verdict;

pub use analyze::{AnalyzeError, Sink, analyze};
pub use config::{Config, VerdictOrder};
pub use dissector::{
    CaptureDrops, Dissector, Event, InterfaceDrops, ProtocolEvent, ProtocolEventKind, Summary,
};
pub use flow::{ClientInference, Endpoint};
unstable_use!(parallel::analyze_parallel_in_stretches);
pub use parallel::{MAX_WORKERS, analyze_parallel};
pub use side::{PerSide, Side};
pub use time::Timestamp;
pub use verdict::{Cause, CauseCode, Outcome, Stage, Verdict};
