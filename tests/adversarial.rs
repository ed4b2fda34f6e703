//! Hostile captures generated in the test: each must finish within the configured caps, count what it
//! dropped, and still give the right verdict for the honest connection in the same capture.

use shakedown::verdict::TlsAnomalyKind;
use shakedown::{CauseCode, Config, Outcome, Side};
use shakedown_tests::flags::{ACK, FIN, PSH, RST, SYN};
use shakedown_tests::{PcapBuilder, analyze_bytes, hello_and_answer, tcp_frame};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// An honest failing handshake: SYN, SYN-ACK, ACK, ClientHello in `pieces`, the server's alert, the
/// client's FIN. Starts at client sequence number `isn`.
fn honest(p: &mut PcapBuilder, port: u16, isn: u32, pieces: usize) {
    let (hello, alert) = hello_and_answer("tls/no-shared-cipher.pcap");
    let c = (CLIENT, port);
    let s = (SERVER, 443);
    let sisn = 7_000u32;
    p.tcp(c, s, isn, 0, SYN, &[]);
    p.tcp(s, c, sisn, isn.wrapping_add(1), SYN | ACK, &[]);
    p.tcp(c, s, isn.wrapping_add(1), sisn + 1, ACK, &[]);
    let mut seq = isn.wrapping_add(1);
    let size = hello.len().div_ceil(pieces.max(1));
    for chunk in hello.chunks(size.max(1)) {
        p.tcp(c, s, seq, sisn + 1, ACK | PSH, chunk);
        seq = seq.wrapping_add(chunk.len() as u32);
    }
    p.tcp(s, c, sisn + 1, seq, ACK | PSH, &alert);
    p.tcp(c, s, seq, sisn + 1 + alert.len() as u32, ACK | FIN, &[]);
}

fn assert_honest(verdicts: &[shakedown::Verdict], port: u16) {
    let v = verdicts
        .iter()
        .find(|v| v.client.port == port && v.client.ip == std::net::IpAddr::from(CLIENT))
        .expect("the honest connection");
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(
        v.cause.code,
        CauseCode::NoSharedCipher,
        "{}",
        v.cause.explanation
    );
    assert_eq!(v.closed_by.map(|c| c.0), Some(Side::Client));
    assert_eq!(v.alerts.len(), 1);
}

#[test]
fn syn_flood_of_a_million_connections_stays_within_the_live_cap() {
    let mut p = PcapBuilder::new();
    let n: u32 = 1_000_000;
    for i in 0..n {
        let src = [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8];
        p.tcp(
            (src, 40_000 + (i % 20_000) as u16),
            (SERVER, 443),
            i,
            0,
            SYN,
            &[],
        );
    }
    honest(&mut p, 50_001, 1_000, 1);
    let config = Config {
        max_connections: 10_000,
        ..Config::default()
    };
    let (verdicts, summary) = analyze_bytes(p.bytes(), &config).expect("analysis");
    assert_eq!(summary.connections, u64::from(n) + 1);
    assert_eq!(
        verdicts.len() as u64,
        summary.connections,
        "every connection gets a verdict"
    );
    assert!(
        summary.peak_connections <= 10_000,
        "peak {}",
        summary.peak_connections
    );
    assert!(
        summary.evicted >= u64::from(n) - 10_000,
        "evicted {}",
        summary.evicted
    );
    assert!(
        verdicts
            .iter()
            .filter(|v| v.cause.code == CauseCode::TcpUnanswered)
            .count() as u32
            == n
    );
    assert!(
        summary.pending_verdicts_peak <= 10_001,
        "verdicts held back: {}",
        summary.pending_verdicts_peak
    );
    assert_honest(&verdicts, 50_001);
}

#[test]
fn tens_of_thousands_of_conflicting_overlaps_are_counted_and_bounded() {
    let mut p = PcapBuilder::new();
    let c = (CLIENT, 40_000);
    let s = (SERVER, 80);
    p.tcp(c, s, 0, 0, SYN, &[]);
    p.tcp(s, c, 100, 1, SYN | ACK, &[]);
    // A hole at byte 1, then 30 000 segments overlapping each other with different bytes.
    for i in 0..30_000u32 {
        let fill = [(i % 251) as u8; 100];
        p.tcp(c, s, 2 + (i % 50), 101, ACK, &fill);
    }
    p.tcp(c, s, 1, 101, ACK, b"X");
    honest(&mut p, 50_002, 5, 2);
    let config = Config {
        max_stream_buffer: 64 * 1024,
        ..Config::default()
    };
    let (verdicts, summary) = analyze_bytes(p.bytes(), &config).expect("analysis");
    let v = verdicts
        .iter()
        .find(|v| v.client.port == 40_000)
        .expect("the hostile connection");
    assert!(
        v.tcp.overlap_conflicts.client > 10_000,
        "conflicts {}",
        v.tcp.overlap_conflicts.client
    );
    assert!(
        summary.peak_buffered <= 64 * 1024,
        "buffered {}",
        summary.peak_buffered
    );
    assert_honest(&verdicts, 50_002);
}

#[test]
fn a_handshake_message_claiming_16_mib_is_not_buffered() {
    let mut p = PcapBuilder::new();
    let c = (CLIENT, 40_001);
    let s = (SERVER, 443);
    p.tcp(c, s, 0, 0, SYN, &[]);
    p.tcp(s, c, 100, 1, SYN | ACK, &[]);
    // A handshake record whose ClientHello claims 2^24-1 bytes, then 4 MB of records continuing it.
    let mut seq = 1u32;
    let mut first = vec![0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff];
    first.resize(5 + 0x4000, 0x41);
    for i in 0..256 {
        let rec = if i == 0 {
            first.clone()
        } else {
            let mut r = vec![0x16, 0x03, 0x01, 0x40, 0x00];
            r.resize(5 + 0x4000, 0x42);
            r
        };
        for chunk in rec.chunks(1448) {
            p.tcp(c, s, seq, 101, ACK, chunk);
            seq += chunk.len() as u32;
        }
    }
    p.tcp(c, s, seq, 101, ACK | RST, &[]);
    honest(&mut p, 50_003, 9, 1);
    let (verdicts, summary) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    let v = verdicts
        .iter()
        .find(|v| v.client.port == 40_001)
        .expect("hostile");
    let anomalies = v
        .tls
        .as_ref()
        .map(|t| t.anomalies.clone())
        .unwrap_or_default();
    assert!(
        anomalies
            .iter()
            .any(|a| matches!(a.kind, TlsAnomalyKind::OversizedHandshake { .. })),
        "{anomalies:?}"
    );
    assert!(
        summary.peak_buffered < 1 << 20,
        "buffered {}",
        summary.peak_buffered
    );
    assert_eq!(v.cause.code, CauseCode::ClientReset);
    assert_honest(&verdicts, 50_003);
}

#[test]
fn deeply_nested_vlan_tags_are_counted_not_followed() {
    let mut p = PcapBuilder::new();
    for depth in [1usize, 2, 3, 50, 500] {
        let f = tcp_frame(
            (CLIENT, 41_000 + depth as u16),
            (SERVER, 80),
            0,
            0,
            SYN,
            &[],
            depth,
        );
        let len = f.len() as u32;
        p.record(&f, len);
    }
    honest(&mut p, 50_004, 3, 1);
    let (verdicts, summary) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    assert!(
        summary.anomalies() >= 2,
        "the deep stacks are counted: {:?}",
        summary.skipped
    );
    assert!(
        verdicts.iter().any(|v| v.client.port == 41_003),
        "three tags are fine"
    );
    assert_honest(&verdicts, 50_004);
}

#[test]
fn odd_record_headers_and_backward_time() {
    // snaplen 0 in the file header, records whose caplen exceeds it, time running backwards.
    let mut p = PcapBuilder::with_snaplen(0);
    honest(&mut p, 50_005, 11, 1);
    p.advance(-5_000_000);
    honest(&mut p, 50_006, 12, 1);
    let (verdicts, summary) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    assert!(summary.backwards_timestamps >= 1);
    assert_honest(&verdicts, 50_005);
    assert_honest(&verdicts, 50_006);
}

#[test]
fn a_pcapng_block_claiming_4_gib_ends_reading_without_allocating_it() {
    let mut ng = Vec::new();
    // Section header block (little endian), an interface (Ethernet), then a block claiming 4 GiB.
    ng.extend_from_slice(&[
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
    ]);
    ng.extend_from_slice(&[0xff; 8]);
    ng.extend_from_slice(&[28, 0, 0, 0]);
    ng.extend_from_slice(&[1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]);
    ng.extend_from_slice(&[6, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff]);
    ng.extend_from_slice(&[0; 64]);
    let (verdicts, summary) =
        analyze_bytes(&ng, &Config::default()).expect("a damaged block is not an I/O error");
    assert!(verdicts.is_empty());
    assert!(summary.truncation.is_some(), "the damage is reported");
}

#[test]
fn sequence_numbers_wrapping_mid_handshake() {
    let mut p = PcapBuilder::new();
    honest(&mut p, 50_007, u32::MAX - 100, 3);
    let (verdicts, _) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    assert_honest(&verdicts, 50_007);
    let v = &verdicts[0];
    assert_eq!(v.tcp.gaps, shakedown::PerSide::new(0, 0));
}

#[test]
fn a_client_hello_dribbled_one_byte_per_segment() {
    let mut p = PcapBuilder::new();
    let (hello, _) = hello_and_answer("tls/no-shared-cipher.pcap");
    honest(&mut p, 50_008, 77, hello.len());
    let (verdicts, _) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    assert_honest(&verdicts, 50_008);
    let ch = verdicts[0]
        .tls
        .as_ref()
        .and_then(|t| t.client_hello.as_ref())
        .expect("ClientHello");
    assert!(!ch.cipher_suites.is_empty());
}

#[test]
fn a_stream_that_is_all_gaps() {
    let mut p = PcapBuilder::new();
    let c = (CLIENT, 40_002);
    let s = (SERVER, 443);
    p.tcp(c, s, 0, 0, SYN, &[]);
    p.tcp(s, c, 100, 1, SYN | ACK, &[]);
    // Every segment skips 1000 bytes past the previous one; the server acknowledges everything.
    for i in 0..5_000u32 {
        p.tcp(c, s, 1 + i * 1100, 101, ACK, &[0x17; 100]);
        p.tcp(s, c, 101, 1 + i * 1100 + 1100, ACK, &[]);
    }
    p.tcp(c, s, 1 + 5_000 * 1100, 101, ACK | FIN, &[]);
    honest(&mut p, 50_009, 5, 1);
    let (verdicts, summary) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    let v = verdicts
        .iter()
        .find(|v| v.client.port == 40_002)
        .expect("hostile");
    assert!(v.tcp.gaps.client >= 4_000, "gaps {}", v.tcp.gaps.client);
    assert!(summary.peak_buffered < 1 << 20);
    assert_honest(&verdicts, 50_009);
}
