//! shakedown reads packet captures and tells, for every TCP connection, why its TLS handshake died — who
//! hung up, with what, when, and the most likely reason — including TLS carried inside RDP after its
//! X.224 negotiation.
//!
//! The data flow, one module per step:
//!
//! ```text
//! bytes (file, gzip, stdin)
//!  └ capture   pcap / pcapng blocks -> Frame { index, ts, link_type, data }
//!    └ decode  link -> IP (+defrag) -> TcpSegment view | Skip(reason)
//!      └ flow  FlowTable: canonical 5-tuple -> connection; roles; expiry; caps
//!        └ tcp Tracker (SYN/FIN/RST per side) + Reassembler per side -> in-order chunks, gaps
//!          └ proto  classify first bytes (any port): rdp negotiation -> tls | tls | other
//!            └ tls   deframer -> handshake defragmenter -> messages -> TlsEvent
//!              └ verdict  one observer per connection -> Verdict { outcome, stage, closer, alerts, cause }
//!                └ Sink   (library consumers, the CLI's text and JSON renderers)
//! ```
//!
//! The engine is sans-IO and deterministic: time comes only from capture timestamps.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod capture;
pub mod config;
pub mod decode;
pub mod side;
pub mod time;

pub use config::Config;
pub use decode::{Decoded, Decoder, Skip, TcpFlags, TcpSegment};
pub use side::{PerSide, Side};
pub use time::Timestamp;
