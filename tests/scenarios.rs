//! Scenario tests: each real-peer capture in tests/fixtures was driven to a chosen outcome (see
//! tests/fixtures/SCENARIOS.tsv and README.md there); the verdict must name exactly that outcome,
//! stage, cause, closer and alerts.

use shakedown::verdict::{Protocol, Verdict};
use shakedown::{CauseCode, Config, Outcome};
use shakedown_tests::flags::{ACK, FIN, PSH, SYN};
use shakedown_tests::{PcapBuilder, analyze_bytes, analyze_file, fixtures};

struct Row {
    file: String,
    outcome: String,
    stage: String,
    cause: String,
    closed: String,
    alerts: String,
    conn: Option<u64>,
}

/// Every row of the scenario tables: SCENARIOS.tsv (scripts/fixtures/scenarios.sh), SCENARIOS-PLAIN.tsv
/// (wrong services, silent servers, snap lengths) and SCENARIOS-NET.tsv (scripts/fixtures/routed.sh:
/// middleboxes, MTU black holes, one-sided and duplicated captures).
fn rows() -> Vec<Row> {
    ["SCENARIOS.tsv", "SCENARIOS-PLAIN.tsv", "SCENARIOS-NET.tsv"]
        .iter()
        .flat_map(|name| table(name))
        .collect()
}

fn table(name: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(fixtures().join(name)).expect(name);
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let head: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| head.iter().position(|h| h.contains(name));
    let (f, o, s, c, cl, a) = (
        col("file").expect("file column"),
        col("outcome").expect("outcome column"),
        col("stage").expect("stage column"),
        col("cause").expect("cause column"),
        col("close").expect("closed column"),
        col("alert").expect("alerts column"),
    );
    let conn = head.iter().position(|h| h == "conn");
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').map(str::trim).collect();
            let get = |i: usize| cells.get(i).copied().unwrap_or("").to_string();
            Row {
                file: get(f),
                outcome: get(o),
                stage: get(s),
                cause: get(c),
                closed: get(cl),
                alerts: get(a),
                conn: conn.and_then(|i| cells.get(i)).and_then(|x| x.parse().ok()),
            }
        })
        .collect()
}

fn closed(v: &Verdict) -> String {
    match v.closed_by {
        Some((side, kind)) => format!("{side}:{}", kind.as_str()),
        None => "-".into(),
    }
}

/// The alerts visible on the wire (the table's alerts are TShark's reading, which cannot see an
/// alert inside a TLS 1.3 protected record; inferred ones are checked on their own below).
fn alerts(v: &Verdict) -> String {
    let list: Vec<String> = v
        .alerts
        .iter()
        .filter(|a| !a.inferred)
        .map(|a| match (a.alert.level, a.alert.description) {
            (Some(l), Some(d)) => format!(
                "{}:{}:{d}",
                a.from,
                if l.0 == 2 { "fatal" } else { "warning" }
            ),
            _ if a.inferred => format!("{}:inferred", a.from),
            _ => format!("{}:encrypted", a.from),
        })
        .collect();
    if list.is_empty() {
        "-".into()
    } else {
        list.join(";")
    }
}

fn norm(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() || s == "none" || s == "-" {
        "-".into()
    } else {
        s.replace(", ", ";").replace(',', ";")
    }
}

#[test]
fn every_scenario_gets_its_exact_verdict() {
    let rows = rows();
    assert!(
        rows.len() >= 10,
        "expected the scenario table, found {} rows",
        rows.len()
    );
    let mut bad = Vec::new();
    for r in &rows {
        let path = fixtures().join(&r.file);
        let verdicts = match analyze_file(&path) {
            Ok((v, _)) => v,
            Err(e) => {
                bad.push(format!("{}: {e}", r.file));
                continue;
            }
        };
        let v = match r.conn {
            Some(i) => verdicts.iter().find(|v| v.conn == i),
            None => verdicts.first(),
        };
        let Some(v) = v else {
            bad.push(format!("{}: no connection", r.file));
            continue;
        };
        let got = [
            v.outcome.as_str().to_string(),
            v.stage.as_str().to_string(),
            v.cause.code.to_string(),
            closed(v),
            alerts(v),
        ];
        let want = [
            r.outcome.clone(),
            r.stage.clone(),
            r.cause.clone(),
            r.closed.clone(),
            r.alerts.clone(),
        ];
        for (i, name) in ["outcome", "stage", "cause", "closed", "alerts"]
            .iter()
            .enumerate()
        {
            if norm(&want[i]) != norm(&got[i]) {
                bad.push(format!(
                    "{} c{}: {name}: expected {:?}, got {:?}",
                    r.file, v.conn, want[i], got[i]
                ));
            }
        }
    }
    for b in &bad {
        eprintln!("{b}");
    }
    assert!(
        bad.is_empty(),
        "{} scenario disagreements (listed above)",
        bad.len()
    );
}

#[test]
fn tls13_alerts_inside_protected_records_are_inferred_with_their_sender() {
    for (file, from, cause) in [
        (
            "tls/unknown-ca-tls13-gnutls.pcap",
            shakedown::Side::Client,
            shakedown::CauseCode::CertificateRejected,
        ),
        (
            "tls/client-cert-required-tls13.pcap",
            shakedown::Side::Server,
            shakedown::CauseCode::ClientCertificateRequired,
        ),
    ] {
        let (verdicts, _) = analyze_file(&fixtures().join(file)).expect(file);
        let v = &verdicts[0];
        let inferred: Vec<_> = v.alerts.iter().filter(|a| a.inferred).collect();
        assert_eq!(inferred.len(), 1, "{file}: one inferred alert");
        assert_eq!(inferred[0].from, from, "{file}");
        assert!(
            inferred[0].alert.encrypted && inferred[0].alert.description.is_none(),
            "{file}"
        );
        assert_eq!(v.cause.code, cause, "{file}");
    }
}

/// One TCP connection from `client` to `server`: the handshake, each `(from_client, payload)` in turn,
/// then the client's FIN.
fn conversation(
    p: &mut PcapBuilder,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    payloads: &[(bool, &[u8])],
) {
    let (mut cseq, mut sseq) = (1_000u32, 9_000u32);
    p.tcp(client, server, cseq, 0, SYN, &[]);
    p.tcp(server, client, sseq, cseq + 1, SYN | ACK, &[]);
    cseq += 1;
    sseq += 1;
    p.tcp(client, server, cseq, sseq, ACK, &[]);
    for (from_client, payload) in payloads {
        let len = payload.len() as u32;
        if *from_client {
            p.tcp(client, server, cseq, sseq, ACK | PSH, payload);
            cseq += len;
        } else {
            p.tcp(server, client, sseq, cseq, ACK | PSH, payload);
            sseq += len;
        }
    }
    p.tcp(client, server, cseq, sseq, ACK | FIN, &[]);
}

/// A TPKT + X.224 Connection Request carrying ISO 8073 transport selectors (ISO-on-TCP, here a
/// Siemens S7comm client on port 102) is not RDP: no RDP facts, `not_tls` with cause `none`, and no
/// advice to enable NLA. A legacy RDP request with a cookie in the same capture stays RDP.
#[test]
fn iso_on_tcp_connection_request_is_other_not_rdp_standard_security() {
    const S7_CR: &[u8] = b"\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\
        \xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a";
    const S7_CC: &[u8] = b"\x03\x00\x00\x16\x11\xd0\x00\x01\x00\x02\x00\
        \xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02";
    // COTP Data carrying an S7comm Setup Communication job, and the PLC's answer.
    const S7_SETUP: &[u8] = b"\x03\x00\x00\x19\x02\xf0\x80\x32\x01\x00\x00\x00\x00\x00\x08\
        \x00\x00\xf0\x00\x00\x01\x00\x01\x01\xe0";
    const S7_SETUP_ACK: &[u8] = b"\x03\x00\x00\x1b\x02\xf0\x80\x32\x03\x00\x00\x00\x00\x00\x08\
        \x00\x00\x00\x00\xf0\x00\x00\x01\x00\x01\x00\xf0";
    // nDPI rdp3.pcap: a legacy RDP client (cookie, no RDP_NEG_REQ) and its server's bare confirm.
    const RDP_LEGACY_CR: &[u8] =
        b"\x03\x00\x00\x27\x22\xe0\x00\x00\x00\x00\x00Cookie: mstshash=Administr\r\n";
    const RDP_LEGACY_CC: &[u8] = b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00";

    let mut p = PcapBuilder::new();
    let plc = ([10, 0, 0, 2], 102);
    let rdp_server = ([10, 0, 0, 3], 3389);
    conversation(
        &mut p,
        ([10, 0, 0, 1], 50_000),
        plc,
        &[
            (true, S7_CR),
            (false, S7_CC),
            (true, S7_SETUP),
            (false, S7_SETUP_ACK),
        ],
    );
    conversation(
        &mut p,
        ([10, 0, 0, 1], 50_001),
        rdp_server,
        &[(true, RDP_LEGACY_CR), (false, RDP_LEGACY_CC)],
    );
    let (verdicts, _) = analyze_bytes(p.bytes(), &Config::default()).expect("analysis");
    assert_eq!(verdicts.len(), 2);
    let by_port = |port: u16| {
        verdicts
            .iter()
            .find(|v| v.server.port == port)
            .expect("a verdict per connection")
    };

    let s7 = by_port(102);
    assert_eq!(s7.protocol, Protocol::Other);
    assert!(s7.rdp.is_none(), "{:?}", s7.rdp);
    assert!(s7.tls.is_none());
    assert_eq!(s7.outcome, Outcome::NotTls);
    assert_eq!(s7.cause.code, CauseCode::None, "{}", s7.cause.explanation);
    assert!(s7.cause.hints.is_empty(), "{:?}", s7.cause.hints);
    assert!(
        !s7.cause.explanation.contains("RDP negotiated"),
        "{}",
        s7.cause.explanation
    );

    let rdp = by_port(3389);
    assert_eq!(rdp.protocol, Protocol::Rdp);
    let facts = rdp.rdp.as_ref().expect("RDP facts");
    assert_eq!(facts.cookie.as_deref(), Some("Administr"));
    assert_eq!(facts.requested, None);
    assert_eq!(rdp.outcome, Outcome::NotTls);
    assert_eq!(rdp.cause.code, CauseCode::None);
    assert!(
        rdp.cause.explanation.contains("standard RDP security"),
        "{}",
        rdp.cause.explanation
    );
    assert!(!rdp.cause.hints.is_empty());
}

/// The cause's confidence and evidence frames for real-peer captures, checked against what TShark
/// shows of each (frame numbers as in Wireshark). `certain` only where the wire states the cause.
#[test]
fn confidence_and_evidence_frames_of_real_captures() {
    use shakedown::verdict::Confidence::{self, Certain, Probable};
    #[rustfmt::skip]
    let table: [(&str, u64, &str, Confidence, &[u64]); 30] = [
        // TLS 1.3, openssl s_server -Verify 1, client without a certificate: the client's whole
        // second flight (CCS, empty Certificate 25 B, Finished 69 B in frame 10), then one 19-byte
        // protected server record (frame 11, the certificate_required alert) and the server's FIN.
        ("tls/client-cert-required-tls13.pcap", 0, "client_certificate_required", Probable, &[10, 11, 12]),
        // gnutls-cli rejects the certificate: a 19-byte client record and its FIN in frame 11.
        ("tls/unknown-ca-tls13-gnutls.pcap", 0, "certificate_rejected", Probable, &[6, 11, 11]),
        ("tls/unknown-ca-tls13.pcap", 0, "certificate_rejected", Certain, &[6, 8]),
        ("tls/no-shared-cipher.pcap", 0, "no_shared_cipher", Certain, &[4, 6, 8]),
        ("rdp/seed-handshake-failure.pcap", 0, "no_shared_cipher", Certain, &[8, 9]),
        ("tls/client-abort-after-server-hello.pcap", 0, "client_closed", Probable, &[6, 8]),
        ("tls/capture-ends-mid-handshake.pcap", 0, "capture_incomplete", Certain, &[5]),
        // Not TLS attempts (ports 4441 and 4444), but the TCP cause and its packets all the same.
        ("lower/many-connections.pcapng", 1, "tcp_refused", Certain, &[24, 25]),
        ("lower/many-connections.pcapng", 5, "tcp_unanswered", Probable, &[55, 58]),
        ("rdp/tls-requested-server-nla-only.pcap", 0, "rdp_negotiation_failure", Certain, &[4, 6]),
        // Failures the wire leaves unsaid (routed topologies, scripts/fixtures/routed.sh): the
        // server's SYN-ACK shows its usual TTL, the ClientHello what the RST answered.
        ("net/sni-reject-at-client.pcap", 0, "middlebox_reset", Probable, &[2, 4, 5]),
        ("net/ips-reset-both-at-client.pcap", 0, "middlebox_reset", Probable, &[2, 4, 6]),
        ("net/ips-reset-both-at-server.pcap", 0, "middlebox_reset", Probable, &[2, 4, 6]),
        ("net/ips-drop-reset-at-client.pcap", 0, "middlebox_reset", Probable, &[2, 4, 5]),
        ("net/ips-drop-reset-at-server.pcap", 0, "middlebox_reset", Probable, &[1, 2, 4]),
        // The ClientHello, the server's first full-size segment (near it), the client's FIN.
        ("net/mtu-blackhole-at-server.pcap", 0, "path_mtu_blackhole", Probable, &[4, 6, 22]),
        ("net/mtu-blackhole-at-client.pcap", 0, "path_mtu_blackhole", Probable, &[4, 10]),
        ("net/one-sided.pcap", 0, "capture_incomplete", Probable, &[3, 14]),
        ("net/one-sided-server.pcap", 0, "capture_incomplete", Probable, &[3, 9]),
        // Every packet twice: the verdict of the clean capture, on the first copies.
        ("net/bridge-duplicates.pcap", 0, "certificate_rejected", Certain, &[11, 15]),
        ("tls/server-speaks-http.pcap", 0, "server_not_tls", Certain, &[4, 6, 8]),
        // The SSH banner (frame 4) came before the ClientHello (frame 6).
        ("tls/server-speaks-ssh.pcap", 0, "server_not_tls", Certain, &[4, 6, 8]),
        ("tls/client-speaks-http.pcap", 0, "client_not_tls", Probable, &[4, 6]),
        ("tls/silent-server.pcap", 0, "client_closed", Probable, &[4, 6]),
        // The ClientHello cut at 128 bytes still counts as the step the alert answered.
        ("tls/snaplen-128.pcap", 0, "no_shared_cipher", Certain, &[4, 6, 8]),
        ("tls/snaplen-128-unknown-ca.pcap", 0, "certificate_rejected", Certain, &[6, 8, 9]),
        ("tls/client-offers-null-only.pcap", 0, "no_shared_cipher", Certain, &[4, 6]),
        ("tls/ecdsa-cert-rsa-client.pcap", 0, "no_shared_cipher", Certain, &[4, 6, 8]),
        ("rdp/nla-requested-server-tls-only.pcap", 0, "rdp_negotiation_failure", Probable, &[4, 6, 8]),
        // TLS 1.3 completed; the client's one 19-byte record (frame 16), the server's FIN.
        ("rdp/client-rejects-certificate.pcap", 0, "certificate_rejected", Probable, &[16, 19]),
    ];
    for (file, conn, code, confidence, frames) in table {
        let (verdicts, _) =
            analyze_file(&fixtures().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let v = verdicts
            .iter()
            .find(|v| v.conn == conn)
            .unwrap_or_else(|| panic!("{file}: conn {conn}"));
        let got: Vec<u64> = v.cause.evidence_frames().collect();
        assert_eq!(
            (v.cause.code.as_str(), v.cause.confidence, got.as_slice()),
            (code, confidence, frames),
            "{file} conn {conn}: {:?}",
            v.cause.evidence
        );
    }
}

/// Every failed or incomplete connection of every fixture has evidence, and every completed one
/// and every `none` is `certain`.
#[test]
fn every_failure_has_evidence() {
    for row in rows() {
        let (verdicts, _) = analyze_file(&fixtures().join(&row.file)).expect("fixture");
        for v in &verdicts {
            match v.outcome {
                shakedown::Outcome::Failed | shakedown::Outcome::Incomplete => assert!(
                    !v.cause.evidence.is_empty(),
                    "{} conn {} has no evidence",
                    row.file,
                    v.conn
                ),
                _ if v.outcome == shakedown::Outcome::Completed
                    || v.cause.code == CauseCode::None =>
                {
                    assert_eq!(
                        v.cause.confidence,
                        shakedown::verdict::Confidence::Certain,
                        "{} conn {}",
                        row.file,
                        v.conn
                    )
                }
                _ => {}
            }
        }
    }
}

/// A mirror port or a merge of two interfaces can put a data segment after the ACK that covers it.
/// The capture still holds the bytes, so reassembly must use them: before the fix the ACK made the
/// reassembler give the hole up at once (a 1448-byte server gap, the Certificate lost, the late copy
/// counted as a retransmission).
#[test]
fn segment_after_the_ack_that_covers_it_fills_its_hole() {
    use shakedown::{CauseCode, Outcome, Side, Stage};
    let file = "tls/reordered-server-flight.pcap";
    let (verdicts, _) = analyze_file(&fixtures().join(file)).expect(file);
    assert_eq!(verdicts.len(), 1);
    let v = &verdicts[0];
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.stage, Stage::ServerHelloDone);
    assert_eq!(v.cause.code, CauseCode::CertificateRejected);
    for side in [Side::Client, Side::Server] {
        assert_eq!(v.tcp.gap_bytes[side], 0, "{side}: gap bytes");
        assert_eq!(v.tcp.gaps[side], 0, "{side}: gaps");
        assert_eq!(
            v.tcp.retransmitted_bytes[side], 0,
            "{side}: the late copy is new data"
        );
    }
    let tls = v.tls.as_ref().expect("TLS facts");
    assert!(tls.certificate.is_some(), "the Certificate was read");
    assert!(tls.anomalies.is_empty(), "{:?}", tls.anomalies);
    let alert = v.alerts.first().expect("the client's alert");
    assert_eq!(alert.from, Side::Client);
    assert_eq!(alert.alert.description.map(|d| d.0), Some(48), "unknown_ca");
}

/// The explanations of failures the wire leaves unsaid name what shows them: the TTLs of a forged
/// RST, the bytes a wrong service answered, how long a client waited, the segment sizes of a black
/// hole, the missing direction, the cut messages.
#[test]
fn silent_failures_are_explained_with_their_facts() {
    let cases: [(&str, &[&str]); 8] = [
        (
            "net/sni-reject-at-client.pcap",
            &[
                "claims to come from the server",
                "TTL/hop limit 64",
                "arrived with 63",
                "blocked.example",
            ],
        ),
        (
            "net/ips-reset-both-at-server.pcap",
            &[
                "claims to come from the client",
                "TTL/hop limit 64",
                "arrived with 63",
            ],
        ),
        (
            "net/mtu-blackhole-at-server.pcap",
            &[
                "The server sent segments of up to 1448 bytes",
                "retransmitted",
                "fragmentation needed",
            ],
        ),
        (
            "net/one-sided.pcap",
            &["only the client's packets", "the server answered"],
        ),
        (
            "tls/server-speaks-http.pcap",
            &["\"HTTP/1.1 400 Bad Request\\r\\n", "HTTP server"],
        ),
        (
            "tls/silent-server.pcap",
            &[
                "never answered",
                "waited 5.0 s",
                "acknowledged the ClientHello",
            ],
        ),
        (
            "tls/snaplen-128.pcap",
            &[
                "cut 1 packet",
                "the client ClientHello (not captured whole)",
            ],
        ),
        (
            "rdp/nla-requested-server-tls-only.pcap",
            &["asked for ssl, hybrid", "selected ssl"],
        ),
    ];
    for (file, phrases) in cases {
        let (verdicts, _) = analyze_file(&fixtures().join(file)).expect("fixture");
        let text = &verdicts[0].cause.explanation;
        for p in phrases {
            assert!(text.contains(p), "{file}: {p:?} not in {text}");
        }
    }
}
