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
//! time comes only from capture timestamps. [`analyze()`] drives it over a [`capture::CaptureReader`]
//! and pushes verdicts to a [`Sink`]. [`analyze_parallel`] gives the same verdicts, in the same order,
//! from several threads, one scheme for every capture: each thread takes stretches of whole records
//! (of a plain file, read at its own offsets; of compressed input or a pipe, cut from the stream by
//! one more thread), decodes them and tracks the connections whose key hashes to it (`flow` to
//! `verdict` above), and the caller's thread, one of them, puts the verdicts back in first-packet
//! order (the Dissector's own three parts: intake, shard, order). It reads a stream a stretch at a
//! time; [`analyze()`] and the [`Dissector`] take each frame as it comes.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

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
pub mod tcp;
pub mod time;
pub mod tls;
pub mod verdict;

pub use analyze::{Sink, analyze};
pub use config::Config;
pub use dissector::{Dissector, Event, ProtocolEvent, ProtocolEventKind, Summary};
pub use flow::{ClientInference, Endpoint};
#[doc(hidden)]
pub use parallel::analyze_parallel_in_stretches;
pub use parallel::{MAX_WORKERS, analyze_parallel};
pub use side::{PerSide, Side};
pub use time::Timestamp;
pub use verdict::{Cause, CauseCode, Outcome, Stage, Verdict};
