//! Reproducers found by fuzzing (fuzz/), replayed through the same APIs as the fuzz targets.
//!
//! Every file in `tests/regressions/` is named `<target>-<finding>.bin` and replayed by
//! [`every_reproducer_replays_cleanly`] through its target's harness, `shakedown_harness::<target>`
//! (the very code `fuzz/fuzz_targets/<target>.rs` runs); the named tests below add what each finding
//! must now do.

use std::path::{Path, PathBuf};

use shakedown::capture::{Frame, LinkType};
use shakedown::rdp::parse_connection_request;
use shakedown::tls::{TlsConnection, TlsEvent};
use shakedown::{Config, Dissector, Event, Side, Timestamp};
use shakedown_harness as harness;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// The `dissector` target's raw-frame half: every frame as one link type, then `finish()`; returns the
/// verdicts. (Generated-TCP reproducers are stored as the capture they stand for instead.)
fn replay_dissector_frames(frames: &[(LinkType, &[u8])], config: Config) -> Vec<Event> {
    let mut d = Dissector::new(config);
    let mut events = Vec::new();
    for (i, (link_type, data)) in frames.iter().enumerate() {
        let frame = Frame {
            index: i as u64 + 1,
            ts: Timestamp(1_600_000_000_000_000_000 + i as i64 * 1_000_000),
            link_type: *link_type,
            interface: 0,
            data,
            orig_len: data.len() as u32,
        };
        d.handle_frame(&frame);
        events.extend(std::iter::from_fn(|| d.poll_event()));
    }
    d.finish();
    events.extend(std::iter::from_fn(|| d.poll_event()));
    events
}

#[test]
fn every_reproducer_replays_cleanly() {
    for entry in std::fs::read_dir(dir()).expect("tests/regressions") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".bin") {
            continue;
        }
        let data = std::fs::read(&path).expect("reproducer");
        match name.split('-').next().unwrap_or_default() {
            "capture_reader" => drop(harness::capture_reader::run(&data)),
            "decode_frame" => drop(harness::decode_frame::run(&data)),
            "tls_stream" => drop(harness::tls_stream::run(&data)),
            "rdp_negotiation" => drop(harness::rdp_negotiation::run(&data)),
            "dissector" => drop(harness::dissector::run(&data)),
            "parallel" => drop(harness::parallel::run(&data)),
            "tsrequest" => drop(harness::tsrequest::run(&data)),
            other => panic!("{name}: unknown target {other}"),
        }
    }
}

/// The harnesses themselves work on well-formed input (so a reproducer that stops exercising its path
/// would be noticed by the named tests, not hidden by a broken harness).
#[test]
fn harnesses_accept_well_formed_input() {
    let cr = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00";
    assert_eq!(harness::rdp_negotiation::run(cr), 1);
    assert!(parse_connection_request(cr).is_ok());
    let frames = [(LinkType::ETHERNET, &[0u8; 14][..])];
    assert!(replay_dissector_frames(&frames, Config::default()).is_empty());
    let hello =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls/tls12-ok.pcap"))
            .expect("fixture");
    // One op: 7 bytes to the client side, a TLS record header announcing a ClientHello.
    let op = [
        0u8, 0x00, 0x07, 0x00, 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00,
    ];
    assert!(harness::tls_stream::run(&op).len() <= 4 * op.len() + 64);
    // The parallel harness agrees with itself on a real capture (two workers).
    let mut parallel = vec![0u8];
    parallel.extend_from_slice(&hello);
    assert!(harness::parallel::run(&parallel) >= 1);
}

/// The `parallel` harness at every stretch size byte 0 can choose (bits 4–7), with every choice of
/// workers and caps (bits 0–3) along: the stretch path agrees with one thread on a real capture.
#[test]
fn the_parallel_harness_reads_in_stretches_of_every_size() {
    let pcap =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls/tls12-ok.pcap"))
            .expect("fixture");
    for size in 0..16u8 {
        let mut input = vec![(size << 4) | size];
        input.extend_from_slice(&pcap);
        assert_eq!(
            harness::parallel::run(&input),
            1,
            "byte 0: {:#04x}",
            input[0]
        );
    }
}

/// Every fixture capture reads through the `capture_reader` harness to the end (the seeds of that
/// target), so the harness is not silently rejecting real input.
#[test]
fn fixture_captures_read_through_the_capture_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = 0;
    for sub in ["tls", "rdp", "lower"] {
        for entry in std::fs::read_dir(root.join(sub)).expect("fixtures") {
            let path = entry.expect("entry").path();
            let name = path.to_string_lossy().into_owned();
            if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
                continue;
            }
            let data = std::fs::read(&path).expect("fixture");
            assert!(harness::capture_reader::run(&data) > 0, "{name}: no frames");
            files += 1;
        }
    }
    assert!(files >= 10, "only {files} fixture captures");
}

/// Gaps larger than any stream (the fuzz target reaches 2^48; this goes to u64::MAX) on both sides,
/// then more bytes: no overflow, and the stream stays usable or is declared not TLS.
#[test]
fn tls_stream_huge_gaps_do_not_overflow() {
    let mut conn = TlsConnection::new(1 << 20);
    let mut out = Vec::new();
    // A ClientHello record header promising 0x200 bytes, cut short by a gap of u64::MAX.
    conn.feed(
        Side::Client,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        &mut out,
    );
    conn.gap(Side::Client, u64::MAX, &mut out);
    conn.gap(Side::Client, u64::MAX, &mut out);
    conn.gap(Side::Server, u64::MAX, &mut out);
    conn.feed(Side::Client, b"\x15\x03\x03\x00\x02\x02\x28", &mut out);
    assert!(
        out.iter().any(|e| matches!(e, TlsEvent::Resync { .. })),
        "{out:?}"
    );
    assert_eq!(conn.bytes_fed(Side::Client), 11 + 7);
}

/// rdp_negotiation, finding 1: a Connection Request whose routing token (invalid UTF-8, so each bad
/// byte became a 3-byte U+FFFD) re-encodes to a 256-byte TPDU. `to_bytes` wrote length indicator
/// 255 — reserved, and refused by our own parser (`NotX224 { length_indicator: 255 }`). Now capped at
/// 254, and the re-encoding parses back to the same request.
#[test]
fn fuzz_rdp_negotiation_reencode_length_indicator_255() {
    let data =
        std::fs::read(dir().join("rdp_negotiation-reencode_li_255.bin")).expect("reproducer");
    harness::rdp_negotiation::run(&data);
    let req = parse_connection_request(&data).expect("the reproducer is a (lenient) request");
    let bytes = req.to_bytes();
    assert_eq!(bytes.len(), 4 + 256);
    assert_eq!(bytes[4], 0xfe, "length indicator capped at 254");
    let again = parse_connection_request(&bytes).expect("own encoding parses");
    assert_eq!(again.routing_token, req.routing_token);
    assert_eq!(again.cookie, req.cookie);

    // The same boundary with plain ASCII tokens and cookies of every length around it.
    for n in 230..270 {
        let token = "t".repeat(n);
        for (cookie, routing_token) in [(Some(token.clone()), None), (None, Some(token.clone()))] {
            let mut req = shakedown::rdp::ConnectionRequest::default();
            req.cookie = cookie;
            req.routing_token = routing_token;
            let bytes = req.to_bytes();
            assert_ne!(bytes[4], 0xff, "length {n}");
            let again = parse_connection_request(&bytes).expect("own encoding parses");
            assert_eq!(
                (again.cookie, again.routing_token),
                (req.cookie, req.routing_token)
            );
        }
    }
}

/// Since ISO-on-TCP Connection Requests are told from RDP ones: a non-text routing token (a first
/// byte >= 0x80) can re-encode, CRLF added and invalid UTF-8 bytes tripled, into an exact ISO 8073
/// parameter list that the parser refuses as `IsoTransport`. The harness accepts exactly that case.
#[test]
fn rdp_negotiation_non_text_token_reencoding_as_iso_parameters() {
    let cr = |variable: &[u8]| {
        let mut cr = vec![3, 0, 0, 0, 0, 0xe0, 0, 0, 0, 0, 0];
        cr.extend_from_slice(variable);
        let len = u16::try_from(cr.len()).unwrap();
        cr[2..4].copy_from_slice(&len.to_be_bytes());
        cr[4] = u8::try_from(cr.len() - 5).unwrap();
        cr
    };
    // Called TSAP of 128 bytes announced, 42 invalid UTF-8 bytes present: 3 * 42 + CRLF = 128.
    let mut lossy = vec![0xc2, 0x80];
    lossy.extend_from_slice(&[0xff; 42]);
    // Valid UTF-8 (U+0080 and text), 126 + CRLF bytes, then a byte the re-encoding drops.
    let mut dropped = vec![0xc2, 0x80];
    dropped.extend_from_slice(&[b'a'; 126]);
    dropped.extend_from_slice(b"\r\n\x05");
    for variable in [lossy, dropped] {
        let data = cr(&variable);
        let req = parse_connection_request(&data).expect("read as RDP with a routing token");
        assert!(req.anomalies.contains(&"routing_token_not_text"));
        assert_eq!(
            parse_connection_request(&req.to_bytes()),
            Err(shakedown::rdp::RdpError::IsoTransport)
        );
        assert_eq!(harness::rdp_negotiation::run(&data), 1);
    }
}
