//! The dissector told the time without packets ([`Dissector::advance`]) and its verdict orders.

use super::*;
use crate::capture::LinkType;
use crate::{CauseCode, Outcome, Timestamp, VerdictOrder};

/// An owned frame (the fixture's, or one built here).
struct Owned {
    ts: Timestamp,
    link_type: LinkType,
    data: Vec<u8>,
}

/// The frames of a real failed handshake: OpenSSL's server finds no cipher it shares with the
/// client, sends a fatal `handshake_failure` and closes; both FINs and the last ACK follow.
fn no_shared_cipher() -> Vec<Owned> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/tls/no-shared-cipher.pcap");
    let mut reader = crate::capture::open(&path).expect("the fixture opens");
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().expect("the fixture reads") {
        frames.push(Owned {
            ts: f.ts,
            link_type: f.link_type,
            data: f.data.to_vec(),
        });
    }
    frames
}

/// A client's lone SYN (raw IPv4) from 10.9.9.9:1234 to 10.9.9.10:443: a connection that stays
/// open.
fn lone_syn(ts: Timestamp) -> Owned {
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&1234u16.to_be_bytes());
    tcp.extend_from_slice(&443u16.to_be_bytes());
    tcp.extend_from_slice(&7u32.to_be_bytes()); // seq
    tcp.extend_from_slice(&0u32.to_be_bytes()); // ack
    tcp.extend_from_slice(&[0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]); // 5 words, SYN, window
    let mut ip = vec![
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 9, 9, 9, 10, 9, 9, 10,
    ];
    ip.extend_from_slice(&tcp);
    Owned {
        ts,
        link_type: LinkType::RAW,
        data: ip,
    }
}

fn feed(d: &mut Dissector, frames: &[Owned]) {
    for (i, f) in frames.iter().enumerate() {
        d.handle_frame(&Frame {
            index: i as u64 + 1,
            ts: f.ts,
            link_type: f.link_type,
            interface: 0,
            data: &f.data,
            orig_len: f.data.len() as u32,
        });
    }
}

fn verdicts(d: &mut Dissector) -> Vec<Verdict> {
    std::iter::from_fn(|| d.poll_event())
        .filter_map(|e| match e {
            Event::Verdict(v) => Some(*v),
            Event::Protocol(_) => None,
        })
        .collect()
}

#[test]
fn a_failed_handshake_then_silence_is_judged_once_the_linger_time_has_passed() {
    let frames = no_shared_cipher();
    let last = frames.last().expect("frames").ts;
    let config = Config::default();
    let linger = config.closed_linger_ns;
    let mut d = Dissector::new(config);
    feed(&mut d, &frames);
    assert!(
        verdicts(&mut d).is_empty(),
        "closed, but not quiet long enough"
    );
    // Earlier than the last frame: nothing.
    d.advance(Timestamp(last.0 - 10 * linger));
    assert!(verdicts(&mut d).is_empty());
    // Quiet for exactly the linger time: not yet.
    d.advance(Timestamp(last.0 + linger));
    assert!(verdicts(&mut d).is_empty());
    d.advance(Timestamp(last.0 + linger + 1));
    let v = verdicts(&mut d);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].outcome, Outcome::Failed);
    assert_eq!(v[0].cause.code, CauseCode::NoSharedCipher);
    assert_eq!(v[0].end.ts, last);
    // Judged once: nothing more, even at the end.
    d.advance(Timestamp(last.0 + 100 * linger));
    d.finish();
    assert!(verdicts(&mut d).is_empty());
    assert_eq!((d.summary().connections, d.summary().expired), (1, 0));
}

#[test]
fn the_linger_time_is_the_configured_one() {
    let frames = no_shared_cipher();
    let last = frames.last().expect("frames").ts;
    let mut d = Dissector::new(Config {
        closed_linger_ns: 300_000_000,
        ..Config::default()
    });
    feed(&mut d, &frames);
    d.advance(Timestamp(last.0 + 300_000_000));
    assert!(verdicts(&mut d).is_empty());
    d.advance(Timestamp(last.0 + 300_000_001));
    assert_eq!(verdicts(&mut d).len(), 1);
}

#[test]
fn an_idle_connection_is_judged_by_advance_alone() {
    let t0 = Timestamp::from_secs_nanos(1_700_000_000, 0);
    let config = Config::default();
    let idle = config.idle_timeout_ns;
    let mut d = Dissector::new(config);
    feed(&mut d, &[lone_syn(t0)]);
    d.advance(Timestamp(t0.0 + idle));
    assert!(verdicts(&mut d).is_empty());
    d.advance(Timestamp(t0.0 + idle + 1));
    let v = verdicts(&mut d);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].client.port, 1234);
    assert_eq!(d.summary().expired, 1);
}

/// A lone SYN (an earlier connection that stays open), then the failed handshake.
fn open_then_failed() -> (Vec<Owned>, Timestamp) {
    let frames = no_shared_cipher();
    let first = frames.first().expect("frames").ts;
    let last = frames.last().expect("frames").ts;
    let mut all = vec![lone_syn(Timestamp(first.0 - 1_000))];
    all.extend(frames);
    (all, last)
}

#[test]
fn as_decided_a_later_connection_comes_before_an_earlier_one_still_open() {
    let (frames, last) = open_then_failed();
    let config = Config {
        verdict_order: VerdictOrder::AsDecided,
        ..Config::default()
    };
    let linger = config.closed_linger_ns;
    let mut d = Dissector::new(config);
    feed(&mut d, &frames);
    d.advance(Timestamp(last.0 + linger + 1));
    let v = verdicts(&mut d);
    assert_eq!(v.len(), 1, "the failure, without waiting for connection 0");
    assert_eq!((v[0].conn, v[0].cause.code), (1, CauseCode::NoSharedCipher));
    d.finish();
    let v = verdicts(&mut d);
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].conn, v[0].client.port), (0, 1234));
    assert_eq!(d.summary().out_of_order, 0);
}

#[test]
fn in_first_packet_order_the_failure_waits_for_the_earlier_connection() {
    let (frames, last) = open_then_failed();
    let config = Config::default();
    let linger = config.closed_linger_ns;
    let mut d = Dissector::new(config);
    feed(&mut d, &frames);
    d.advance(Timestamp(last.0 + linger + 1));
    assert!(verdicts(&mut d).is_empty(), "held for connection 0");
    assert_eq!(d.summary().pending_verdicts_peak, 1);
    d.finish();
    let conns: Vec<u64> = verdicts(&mut d).iter().map(|v| v.conn).collect();
    assert_eq!(conns, [0, 1]);
}
