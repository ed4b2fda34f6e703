//! The fuzz targets of shakedown as plain functions: each module holds one target's input layout
//! (documented there) and the checks it makes, and `run(data)` returns what the target produced.
//! `fuzz/fuzz_targets/<target>.rs` calls `run` from libFuzzer; `tests/regressions.rs` replays the
//! reproducers kept in `tests/regressions/` through the same `run`, so a finding replays exactly as
//! it was found.
//!
//! ```
//! // A pcap header and nothing else: a capture with no frames.
//! let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
//! pcap.extend_from_slice(&[0; 8]);
//! pcap.extend_from_slice(&[0xff, 0xff, 0, 0, 1, 0, 0, 0]);
//! assert_eq!(shakedown_harness::capture_reader::run(&pcap), 0);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture_reader;
pub mod decode_frame;
pub mod dissector;
pub mod keylog;
pub mod parallel;
pub mod rdp_negotiation;
pub mod tls_stream;
pub mod tsrequest;

use shakedown::capture::LinkType;

/// The link types an input byte chooses among (those shakedown supports, plus one unknown).
pub const LINK_TYPES: [LinkType; 16] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::PPP,
    LinkType::RAW_OLD,
    LinkType::RAW_OPENBSD,
    LinkType::RAW,
    LinkType::IEEE802_11,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IEEE802_11_RADIOTAP,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NFLOG,
    LinkType::WIRESHARK_UPPER_PDU,
    LinkType::LINUX_SLL2,
    LinkType(147),
];
