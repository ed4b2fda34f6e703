//! Reproducers found by fuzzing (fuzz/), replayed through the same APIs as the fuzz targets.
//!
//! Every file in `tests/regressions/` is named `<target>-<finding>.bin` and replayed by
//! [`every_reproducer_replays_cleanly`] through the harness of its target (the same input layout as
//! `fuzz/fuzz_targets/<target>.rs`); the named tests below add what each finding must now do.

use std::path::{Path, PathBuf};

use shakedown::capture::{CaptureReader, Frame, LinkType};
use shakedown::decode::{Decoded, Decoder};
use shakedown::rdp::{
    TpktStatus, parse_connection_confirm, parse_connection_request, tpkt_frame_len, x224_kind,
};
use shakedown::tls::{TlsConnection, TlsEvent};
use shakedown::{Config, Dissector, Event, Side, Timestamp};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

const LINK_TYPES: [LinkType; 16] = [
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

/// The `capture_reader` target: returns the frames read.
fn replay_capture_reader(data: &[u8]) -> u64 {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return 0;
    };
    let mut frames = 0;
    while let Ok(Some(frame)) = reader.next_frame() {
        frames += 1;
        assert_eq!(frame.index, frames);
        assert!(frames < 1 << 20, "runaway frame count");
    }
    frames
}

/// The `decode_frame` target: returns the TCP segments decoded.
fn replay_decode_frame(data: &[u8]) -> usize {
    let Some((&pick, mut rest)) = data.split_first() else {
        return 0;
    };
    let link_type = LINK_TYPES[usize::from(pick) % LINK_TYPES.len()];
    let config = Config {
        max_fragment_sets: 4,
        max_fragment_bytes: 1 << 16,
        fragment_timeout_ns: 1_000_000_000,
        ..Config::default()
    };
    let mut decoder = Decoder::new(&config);
    let (mut ts, mut index, mut tcp) = (0i64, 0u64, 0usize);
    while !rest.is_empty() {
        let (step, len, body) = match rest {
            [step, a, b, body @ ..] => (*step, usize::from(u16::from_le_bytes([*a, *b])), body),
            _ => (0, rest.len(), rest),
        };
        let len = len.min(body.len());
        let (frame_bytes, tail) = body.split_at(len);
        rest = if len == 0 && body.len() == rest.len() {
            &[]
        } else {
            tail
        };
        ts += i64::from(step) * 100_000_000;
        index += 1;
        let frame = Frame {
            index,
            ts: Timestamp(ts),
            link_type,
            interface: 0,
            data: frame_bytes,
            orig_len: u32::try_from(frame_bytes.len()).unwrap_or(u32::MAX),
        };
        if let Decoded::Tcp(_) = decoder.decode(&frame) {
            tcp += 1;
        }
        assert!(decoder.fragments_pending() <= config.max_fragment_sets);
        assert!(decoder.fragment_bytes() <= config.max_fragment_bytes);
    }
    tcp
}

fn take_u16(b: &[u8]) -> (u16, &[u8]) {
    match b {
        [x, y, t @ ..] => (u16::from_le_bytes([*x, *y]), t),
        [x] => (u16::from(*x), &[]),
        [] => (0, &[]),
    }
}

fn take_u32(b: &[u8]) -> (u32, &[u8]) {
    match b {
        [a, b2, c, d, t @ ..] => (u32::from_le_bytes([*a, *b2, *c, *d]), t),
        _ => (0, &[]),
    }
}

/// The `tls_stream` target: returns the events produced.
fn replay_tls_stream(data: &[u8]) -> Vec<TlsEvent> {
    const CAPS: [usize; 4] = [1 << 20, 16 << 10, 1024, 64];
    let side = |c: u8| {
        if c & 1 == 0 {
            Side::Client
        } else {
            Side::Server
        }
    };
    let Some((&cap, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    let mut conn = TlsConnection::new(CAPS[usize::from(cap) % CAPS.len()]);
    let mut out = Vec::new();
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        if c >= 0xf0 {
            let missing = if c & 2 == 0 {
                let (n, t) = take_u16(rest);
                rest = t;
                u64::from(n)
            } else {
                let (n, t) = take_u32(rest);
                rest = t;
                u64::from(n) << 16
            };
            conn.gap(side(c), missing, &mut out);
        } else {
            let (n, t) = take_u16(rest);
            let n = usize::from(n).min(t.len());
            let (chunk, t) = t.split_at(n);
            rest = t;
            conn.feed(side(c), chunk, &mut out);
        }
        assert!(out.len() <= 4 * data.len() + 64, "runaway events");
    }
    out
}

/// The `rdp_negotiation` target: returns the TPKT frames found by the framing loop.
fn replay_rdp_negotiation(data: &[u8]) -> usize {
    let mut rest = data;
    let mut frames = 0;
    while let TpktStatus::Frame(n) = tpkt_frame_len(rest) {
        assert!(n >= 7 && n <= rest.len());
        let _ = x224_kind(&rest[..n]);
        rest = &rest[n..];
        frames += 1;
    }
    let _ = x224_kind(data);
    let _ = parse_connection_request(data);
    let _ = parse_connection_confirm(data);
    frames
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
            "capture_reader" => drop(replay_capture_reader(&data)),
            "decode_frame" => drop(replay_decode_frame(&data)),
            "tls_stream" => drop(replay_tls_stream(&data)),
            "rdp_negotiation" => drop(replay_rdp_negotiation(&data)),
            "dissector" => {}
            other => panic!("{name}: unknown target {other}"),
        }
    }
}

/// The harnesses themselves work on well-formed input (so a reproducer that stops exercising its path
/// would be noticed by the named tests, not hidden by a broken harness).
#[test]
fn harnesses_accept_well_formed_input() {
    let cr = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00";
    assert_eq!(replay_rdp_negotiation(cr), 1);
    assert!(parse_connection_request(cr).is_ok());
    let frames = [(LinkType::ETHERNET, &[0u8; 14][..])];
    assert!(replay_dissector_frames(&frames, Config::default()).is_empty());
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
            assert!(replay_capture_reader(&data) > 0, "{name}: no frames");
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
    replay_rdp_negotiation(&data);
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
            let req = shakedown::rdp::ConnectionRequest {
                cookie,
                routing_token,
                ..Default::default()
            };
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
