//! The project's own real-peer captures (tests/fixtures, made by scripts/make-fixtures.sh) against
//! the facts TShark derived from them when they were made: frames, connections, sides, packets and
//! bytes per side, first FIN / first RST senders, TLS and RDP facts, alerts and their senders.

use shakedown_tests::{check_all_expected, fixtures};

#[test]
fn fixtures_match_tshark_facts() {
    let (checked, bad) = check_all_expected(&fixtures());
    assert!(
        checked >= 10,
        "expected the committed fixtures, found {checked}"
    );
    assert!(
        bad.is_empty(),
        "{} disagreements with TShark's facts (listed above)",
        bad.len()
    );
}

#[test]
fn the_same_capture_in_every_format_gives_the_same_verdicts() {
    use shakedown_tests::analyze_file;
    let dir = fixtures().join("lower");
    let base = analyze_file(&dir.join("tls13-loopback.pcap"))
        .expect("legacy pcap")
        .0;
    assert!(!base.is_empty());
    for other in ["tls13-loopback.pcapng", "tls13-loopback-nsec.pcap"] {
        let v = analyze_file(&dir.join(other)).expect(other).0;
        assert_eq!(v.len(), base.len(), "{other}");
        for (a, b) in base.iter().zip(&v) {
            assert_eq!(
                (a.client, a.server, a.packets, a.bytes),
                (b.client, b.server, b.packets, b.bytes),
                "{other}"
            );
            assert_eq!(
                (a.outcome, a.stage, a.cause.code),
                (b.outcome, b.stage, b.cause.code),
                "{other}"
            );
            assert_eq!(
                (a.first_fin(), a.first_rst()),
                (b.first_fin(), b.first_rst()),
                "{other}"
            );
        }
    }
}
