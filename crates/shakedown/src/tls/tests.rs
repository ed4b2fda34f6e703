//! Scenario tests of the TLS layer over real handshakes (fixtures recorded between `openssl s_server`
//! and `openssl s_client` by `testdata/gen.py`) and hand-built records.

use super::*;
use crate::Side;

const TLS12_RSA: &str = include_str!("testdata/tls12_rsa.txt");
const TLS12_UNKNOWN_CA: &str = include_str!("testdata/tls12_unknown_ca.txt");
const TLS13_HRR_EC: &str = include_str!("testdata/tls13_hrr_ec.txt");
const TLS13_ED25519: &str = include_str!("testdata/tls13_ed25519.txt");
const EC_CERT: &[u8] = include_bytes!("testdata/ec_cert.der");
const ED_CERT: &[u8] = include_bytes!("testdata/ed_cert.der");
const ALL: [&str; 4] = [TLS12_RSA, TLS12_UNKNOWN_CA, TLS13_HRR_EC, TLS13_ED25519];

type Chunks = Vec<(Side, Vec<u8>)>;

/// Chunks of a fixture: (sender, bytes) in capture order.
fn fixture(text: &str) -> Chunks {
    text.lines()
        .filter_map(|l| {
            let (d, hex) = l.split_once(' ')?;
            let side = if d == "C" { Side::Client } else { Side::Server };
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            Some((side, bytes))
        })
        .collect()
}

fn run_with(conn: &mut TlsConnection, chunks: &[(Side, Vec<u8>)]) -> Vec<(Side, TlsEvent)> {
    let mut all = Vec::new();
    for (side, bytes) in chunks {
        let mut out = Vec::new();
        conn.feed(*side, bytes, &mut out);
        all.extend(out.into_iter().map(|e| (*side, e)));
    }
    all
}

fn run(chunks: &[(Side, Vec<u8>)]) -> (Vec<(Side, TlsEvent)>, TlsConnection) {
    let mut conn = TlsConnection::new(1 << 16);
    let ev = run_with(&mut conn, chunks);
    (ev, conn)
}

/// A short name per event, to compare sequences.
fn short(ev: &TlsEvent) -> String {
    match ev {
        TlsEvent::ClientHello(_) => "CH".into(),
        TlsEvent::ServerHello(sh) if sh.hello_retry_request => "HRR".into(),
        TlsEvent::ServerHello(_) => "SH".into(),
        TlsEvent::Certificate(_) => "Cert".into(),
        TlsEvent::ServerKeyExchange => "SKE".into(),
        TlsEvent::ServerHelloDone => "SHD".into(),
        TlsEvent::ClientKeyExchange => "CKE".into(),
        TlsEvent::NewSessionTicket => "NST".into(),
        TlsEvent::Finished => "Fin".into(),
        TlsEvent::ChangeCipherSpec { compat: false } => "CCS".into(),
        TlsEvent::ChangeCipherSpec { compat: true } => "CCS(compat)".into(),
        TlsEvent::ApplicationData { .. } => "AD".into(),
        TlsEvent::Alert(a) if a.encrypted => "Alert(enc)".into(),
        TlsEvent::Alert(a) => format!("Alert({:?})", a.description.map(|d| d.to_string())),
        other => format!("{other:?}"),
    }
}

fn seq(ev: &[(Side, TlsEvent)]) -> Vec<String> {
    ev.iter()
        .map(|(s, e)| {
            format!(
                "{}:{}",
                if *s == Side::Client { "C" } else { "S" },
                short(e)
            )
        })
        .collect()
}

/// Splits a stream of TLS records into (type, version, body).
fn records(mut b: &[u8]) -> Vec<(u8, [u8; 2], Vec<u8>)> {
    let mut v = Vec::new();
    while b.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([b[3], b[4]]));
        v.push((b[0], [b[1], b[2]], b[5..5 + len].to_vec()));
        b = &b[5 + len..];
    }
    v
}

/// Frames `body` as records of `content_type`, at most `frag` body bytes each.
fn frame(content_type: u8, version: [u8; 2], body: &[u8], frag: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(frag.max(1)) {
        out.extend_from_slice(&[content_type, version[0], version[1]]);
        out.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn hs_msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut m = vec![msg_type, len[1], len[2], len[3]];
    m.extend_from_slice(body);
    m
}

fn client_hello(ev: &[(Side, TlsEvent)]) -> &ClientHello {
    ev.iter()
        .find_map(|(_, e)| match e {
            TlsEvent::ClientHello(ch) => Some(&**ch),
            _ => None,
        })
        .expect("a ClientHello")
}

#[test]
fn tls12_full_handshake_sequence() {
    let chunks = fixture(TLS12_RSA);
    let (ev, conn) = run(&chunks);
    assert_eq!(
        seq(&ev),
        [
            "C:CH", "S:SH", "S:Cert", "S:SKE", "S:SHD", "C:CKE", "C:CCS", "C:Fin", "S:NST",
            "S:CCS", "S:Fin", "C:AD"
        ]
    );
    assert_eq!(conn.version(), Some(TlsVersion::TLS12));
    assert!(conn.is_protected(Side::Client) && conn.is_protected(Side::Server));
    let ch = client_hello(&ev);
    assert_eq!(ch.sni.as_deref(), Some("rsa.example.test"));
    assert_eq!(ch.record_version, TlsVersion::TLS10);
    assert_eq!(ch.highest_version(), TlsVersion::TLS12);
    assert_eq!(ch.ec_point_formats, vec![0, 1, 2]);
    assert_eq!(ch.extensions.first(), Some(&0));
    assert!(ch.cipher_suites.iter().any(|c| c.is_signalling()));
    let TlsEvent::ServerHello(sh) = &ev[1].1 else {
        panic!()
    };
    assert_eq!(
        sh.cipher_suite.name(),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(sh.selected_supported_version, None);
    let TlsEvent::Certificate(cert) = &ev[2].1 else {
        panic!()
    };
    assert_eq!(cert.subject, "CN=rsa.example.test, O=shakedown");
    assert!(cert.self_signed);
    assert_eq!(cert.chain_len, 1);
    assert_eq!(
        cert.key_type.as_ref().map(ToString::to_string).as_deref(),
        Some("RSA 2048")
    );
    assert_eq!(cert.dns_names, ["rsa.example.test", "www.rsa.example.test"]);
    let (nb, na) = (cert.not_before.unwrap(), cert.not_after.unwrap());
    assert!(na.secs() - nb.secs() == 3650 * 86400, "{nb} {na}");

    // After CCS: an encrypted close_notify (AEAD: 26 bytes), a 2-byte alert record (still counted as
    // encrypted after the side's CCS) and a renegotiation record.
    let mut conn = conn;
    let mut out = Vec::new();
    conn.feed(Side::Client, &frame(21, [3, 3], &[0x5a; 26], 100), &mut out);
    conn.feed(Side::Server, &[21, 3, 3, 0, 2, 1, 0], &mut out);
    conn.feed(Side::Client, &frame(22, [3, 3], &[0x11; 40], 100), &mut out);
    let enc = TlsEvent::Alert(Alert {
        level: None,
        description: None,
        encrypted: true,
    });
    assert_eq!(
        out,
        vec![enc.clone(), enc, TlsEvent::EncryptedHandshake { len: 40 }]
    );
}

#[test]
fn tls12_plaintext_alert_from_client() {
    let (ev, conn) = run(&fixture(TLS12_UNKNOWN_CA));
    assert_eq!(
        seq(&ev).last().map(String::as_str),
        Some("C:Alert(Some(\"unknown_ca\"))")
    );
    let Some((_, TlsEvent::Alert(a))) = ev.last() else {
        panic!()
    };
    assert_eq!(a.level, Some(AlertLevel::FATAL));
    assert!(!conn.is_protected(Side::Client));
}

#[test]
fn tls13_hello_retry_request_sequence() {
    let (ev, conn) = run(&fixture(TLS13_HRR_EC));
    let s = seq(&ev);
    assert_eq!(
        s[..6],
        [
            "C:CH",
            "S:HRR",
            "S:CCS(compat)",
            "C:CCS(compat)",
            "C:CH",
            "S:SH"
        ],
        "{s:?}"
    );
    assert!(s[6..].iter().all(|x| x.ends_with(":AD")), "{s:?}");
    assert_eq!(conn.version(), Some(TlsVersion::TLS13));
    assert!(conn.is_protected(Side::Server) && conn.is_protected(Side::Client));
    let TlsEvent::ServerHello(hrr) = &ev[1].1 else {
        panic!()
    };
    assert_eq!(hrr.key_share_group, Some(NamedGroup(23)));
    assert_eq!(hrr.version, TlsVersion::TLS13);
    let (TlsEvent::ClientHello(ch1), TlsEvent::ClientHello(ch2)) = (&ev[0].1, &ev[4].1) else {
        panic!()
    };
    assert_eq!(ch1.key_share_groups, vec![NamedGroup(29)]);
    assert_eq!(ch2.key_share_groups, vec![NamedGroup(23)]);
    assert_eq!(ch2.alpn, ["h2", "http/1.1"]);
    assert_eq!(ch1.highest_version(), TlsVersion::TLS13);
    assert_eq!(ch2.record_version, TlsVersion::TLS12);
}

#[test]
fn tls13_sequence_and_late_plaintext_alert() {
    let (ev, mut conn) = run(&fixture(TLS13_ED25519));
    let s = seq(&ev);
    assert_eq!(s[..4], ["C:CH", "S:SH", "S:CCS(compat)", "S:AD"], "{s:?}");
    assert!(s.contains(&"C:CCS(compat)".to_string()));
    let TlsEvent::ServerHello(sh) = &ev[1].1 else {
        panic!()
    };
    assert_eq!(sh.cipher_suite.auth(), SuiteAuth::Any);
    assert_eq!(sh.key_share_group, Some(NamedGroup(29)));
    // A TLS 1.3 type-21 record of length 2 is a plaintext alert even after protection began.
    let mut out = Vec::new();
    conn.feed(Side::Client, &[21, 3, 3, 0, 2, 2, 80], &mut out);
    assert_eq!(out.len(), 1);
    assert!(
        matches!(&out[0], TlsEvent::Alert(a) if !a.encrypted && a.description == Some(AlertDescription(80)))
    );
}

#[test]
fn byte_by_byte_equals_chunked() {
    for f in ALL {
        let chunks = fixture(f);
        let (whole, _) = run(&chunks);
        let bytewise: Chunks = chunks
            .iter()
            .flat_map(|(s, b)| b.iter().map(move |x| (*s, vec![*x])))
            .collect();
        assert_eq!(run(&bytewise).0, whole);
    }
}

#[test]
fn every_split_of_the_client_hello_feed() {
    let chunks = fixture(TLS13_HRR_EC);
    let (whole, _) = run(&chunks);
    let first = &chunks[0].1;
    for cut in 0..=first.len() {
        let mut split = vec![
            (Side::Client, first[..cut].to_vec()),
            (Side::Client, first[cut..].to_vec()),
        ];
        split.extend_from_slice(&chunks[1..]);
        assert_eq!(run(&split).0, whole, "cut at {cut}");
    }
}

#[test]
fn client_hello_split_across_records() {
    let chunks = fixture(TLS13_ED25519);
    let (whole, _) = run(&chunks[..1]);
    let recs = records(&chunks[0].1);
    assert_eq!(recs.len(), 1);
    let (t, v, body) = &recs[0];
    for frag in [1, 2, 3, 4, 5, 7, 100, 255] {
        let (ev, _) = run(&[(Side::Client, frame(*t, *v, body, frag))]);
        assert_eq!(ev, whole, "fragment size {frag}");
    }
}

#[test]
fn several_messages_in_one_record() {
    let chunks = fixture(TLS12_RSA);
    let server = &chunks[1].1;
    let recs = records(server);
    let joined: Vec<u8> = recs.iter().flat_map(|r| r.2.clone()).collect();
    let (one, _) = run(&[
        chunks[0].clone(),
        (Side::Server, frame(22, [3, 3], &joined, 20000)),
    ]);
    let (orig, _) = run(&chunks[..2]);
    assert!(recs.len() >= 4, "{}", recs.len());
    assert_eq!(one, orig);
    assert_eq!(seq(&one), ["C:CH", "S:SH", "S:Cert", "S:SKE", "S:SHD"]);
}

#[test]
fn sslv2_client_hello_then_tls_server() {
    let mut body = vec![0x01, 0x03, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x10];
    body.extend_from_slice(&[
        0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f, 0x00, 0xc0, 0x2f, 0x00, 0x00, 0xff,
    ]);
    body.extend_from_slice(&[0xaa; 16]);
    let mut rec = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    rec.extend_from_slice(&body);
    assert_eq!(looks_like_tls(&rec), Some(true));
    let tls12 = fixture(TLS12_RSA);
    let mut chunks = vec![(Side::Client, rec.clone())];
    chunks.extend_from_slice(&tls12[1..3]);
    let (ev, conn) = run(&chunks);
    let ch = client_hello(&ev);
    assert!(ch.sslv2_format);
    assert_eq!(ch.record_version, TlsVersion::SSL20);
    assert_eq!(ch.legacy_version, TlsVersion::TLS10);
    assert_eq!(
        ch.cipher_suites,
        [
            CipherSuite(0x002f),
            CipherSuite(0xc02f),
            CipherSuite(0x00ff)
        ]
    );
    assert_eq!(
        seq(&ev),
        [
            "C:CH", "S:SH", "S:Cert", "S:SKE", "S:SHD", "C:CKE", "C:CCS", "C:Fin"
        ]
    );
    assert_eq!(conn.version(), Some(TlsVersion::TLS12));

    // A real SSL 2.0 server answers in SSL 2.0 records.
    let server_hello = [
        0x80, 0x0c, 0x04, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(looks_like_tls(&server_hello), Some(true));
    let (ev, _) = run(&[(Side::Client, rec), (Side::Server, server_hello.to_vec())]);
    assert_eq!(ev[1], (Side::Server, TlsEvent::SslV2 { msg_type: 4 }));
}

#[test]
fn unknown_alert_codes_are_kept() {
    let (ev, _) = run(&[(Side::Server, vec![21, 3, 3, 0, 2, 7, 0xee])]);
    let [(_, TlsEvent::Alert(a))] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(a.level, Some(AlertLevel(7)));
    assert_eq!(
        a.description.map(|d| d.to_string()).as_deref(),
        Some("0xee")
    );
    assert_eq!(a.level.map(|l| l.to_string()).as_deref(), Some("0x07"));
    // An alert record of another length is encrypted (or not an alert we can read).
    let (ev, _) = run(&[(Side::Server, vec![21, 3, 3, 0, 3, 2, 40, 0])]);
    assert!(matches!(&ev[..], [(_, TlsEvent::Alert(a))] if a.encrypted));
}

#[test]
fn oversized_handshake_claim_is_not_buffered() {
    let mut conn = TlsConnection::new(1 << 16);
    let mut out = Vec::new();
    conn.feed(
        Side::Server,
        &[22, 3, 3, 0, 4, 11, 0xff, 0xff, 0xff],
        &mut out,
    );
    assert_eq!(
        out,
        vec![TlsEvent::OversizedHandshake {
            msg_type: 11,
            len: 0x00ff_ffff
        }]
    );
    let filler = frame(22, [3, 3], &vec![0u8; 1 << 20], 16384);
    conn.feed(Side::Server, &filler, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(conn.buffered_bytes(), 0);
    // A large message under the limit is kept and parsed once complete.
    let mut conn = TlsConnection::new(1 << 20);
    let cert = hs_msg(
        11,
        &[
            vec![0x01, 0x86, 0xa3, 0x01, 0x86, 0xa0],
            vec![0x30; 100_000],
        ]
        .concat(),
    );
    let out = run_with(
        &mut conn,
        &[(Side::Server, frame(22, [3, 3], &cert, 16384))],
    );
    assert!(
        matches!(&out[..], [(_, TlsEvent::Certificate(c))] if c.chain_len == 1 && c.subject.is_empty())
    );
}

#[test]
fn huge_record_and_garbage_are_malformed() {
    let mut conn = TlsConnection::new(1 << 20);
    let mut out = Vec::new();
    conn.feed(Side::Client, &[22, 3, 1, 0xff, 0xff, 1, 2, 3], &mut out);
    assert_eq!(
        out,
        vec![TlsEvent::Malformed {
            what: "record longer than 2^14+2048"
        }]
    );
    assert!(conn.is_stopped(Side::Client));
    conn.feed(Side::Client, &[22, 3, 1, 0, 1, 0], &mut out);
    conn.gap(Side::Client, 10, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(conn.buffered_bytes(), 0);

    let (ev, conn) = run(&[(Side::Server, b"SSH-2.0-OpenSSH_9.6\r\n".to_vec())]);
    assert_eq!(
        ev,
        vec![(
            Side::Server,
            TlsEvent::Malformed {
                what: "unknown record content type"
            }
        )]
    );
    assert!(conn.is_stopped(Side::Server) && !conn.is_stopped(Side::Client));
    assert_eq!(conn.bytes_fed(Side::Server), 21);
    let (ev, _) = run(&[(Side::Server, vec![22, 4, 0, 0, 1])]);
    assert_eq!(
        ev[0].1,
        TlsEvent::Malformed {
            what: "bad record version"
        }
    );
}

#[test]
fn gap_inside_server_flight_resyncs() {
    let chunks = fixture(TLS12_RSA);
    let server = &chunks[1].1;
    let recs = records(server);
    // Lose 100 bytes starting 20 bytes into the first record (the ServerHello): the scan must land on
    // a later record header and the ServerHelloDone must still be seen.
    let mut conn = TlsConnection::new(1 << 16);
    let mut ev = run_with(&mut conn, &chunks[..1]);
    let mut out = Vec::new();
    conn.feed(Side::Server, &server[..20], &mut out);
    conn.gap(Side::Server, 100, &mut out);
    conn.feed(Side::Server, &server[120..], &mut out);
    ev.extend(out.into_iter().map(|e| (Side::Server, e)));
    ev.extend(run_with(&mut conn, &chunks[2..]));
    let s = seq(&ev);
    let resync = s
        .iter()
        .position(|x| x.starts_with("S:Resync"))
        .expect("resync");
    let shd = s.iter().position(|x| x == "S:SHD").expect("SHD");
    assert!(resync < shd, "{s:?}");
    assert!(!s.iter().any(|x| x.contains("Malformed")), "{s:?}");
    assert!(
        s.ends_with(&["S:CCS".into(), "S:Fin".into(), "C:AD".into()]),
        "{s:?}"
    );
    // The skipped count is exactly the rest of the bytes before the next header.
    let mut boundary = 0;
    for r in &recs {
        if boundary >= 120 {
            break;
        }
        boundary += 5 + r.2.len();
    }
    let Some(TlsEvent::Resync { skipped }) = ev
        .iter()
        .map(|(_, e)| e)
        .find(|e| matches!(e, TlsEvent::Resync { .. }))
    else {
        panic!()
    };
    assert_eq!(*skipped, (boundary - 120) as u64);
}

#[test]
fn gap_inside_application_data_keeps_sync() {
    let mut conn = TlsConnection::new(1 << 16);
    let mut out = Vec::new();
    conn.feed(Side::Client, &[23, 3, 3, 0x01, 0x00, 1, 2, 3], &mut out);
    conn.gap(Side::Client, 200, &mut out);
    conn.feed(Side::Client, &[0; 53], &mut out);
    conn.feed(Side::Client, &[21, 3, 3, 0, 2, 1, 0], &mut out);
    assert_eq!(
        out,
        vec![
            TlsEvent::ApplicationData { len: 256 },
            TlsEvent::Resync { skipped: 0 },
            TlsEvent::Alert(Alert {
                level: Some(AlertLevel::WARNING),
                description: Some(AlertDescription::CLOSE_NOTIFY),
                encrypted: false
            }),
        ]
    );
}

#[test]
fn gap_then_nothing_plausible_is_malformed() {
    let mut conn = TlsConnection::new(1 << 16);
    let mut out = Vec::new();
    conn.gap(Side::Server, 5, &mut out);
    assert!(out.is_empty());
    conn.feed(Side::Server, &vec![0x42; 100_000], &mut out);
    assert_eq!(
        out,
        vec![TlsEvent::Malformed {
            what: "no record header found after a gap"
        }]
    );
}

#[test]
fn truncation_sweep_gives_prefixes_of_the_full_events() {
    for f in ALL {
        let chunks = fixture(f);
        let (whole, _) = run(&chunks);
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        for cut in (0..=total).step_by(3) {
            let mut left = cut;
            let mut prefix = Vec::new();
            for (s, b) in &chunks {
                let n = left.min(b.len());
                prefix.push((*s, b[..n].to_vec()));
                left -= n;
            }
            let (ev, _) = run(&prefix);
            assert_eq!(ev[..], whole[..ev.len()], "cut {cut}");
        }
    }
}

#[test]
fn application_data_bodies_are_not_copied() {
    let chunks = fixture(TLS13_ED25519);
    let (_, mut conn) = run(&chunks);
    let one = frame(23, [3, 3], &[0x77; 16384 + 17], 16384 + 17);
    let stream: Vec<u8> = one.iter().copied().cycle().take(one.len() * 640).collect();
    let mut out = Vec::new();
    for piece in stream.chunks(1000) {
        conn.feed(Side::Server, piece, &mut out);
    }
    assert!(stream.len() > 10 << 20);
    assert_eq!(out.len(), 640);
    assert!(
        out.iter()
            .all(|e| *e == TlsEvent::ApplicationData { len: 16384 + 17 })
    );
    assert_eq!(conn.buffered_bytes(), 0);
}

#[test]
fn certificate_key_types_both_layouts() {
    let list12 = |der: &[u8]| {
        let n = der.len();
        let mut b = vec![
            0,
            ((n + 3) >> 8) as u8,
            (n + 3) as u8,
            0,
            (n >> 8) as u8,
            n as u8,
        ];
        b.extend_from_slice(der);
        b
    };
    // TLS 1.2 layout with the EC certificate.
    let (ev, _) = run(&[(
        Side::Server,
        frame(22, [3, 3], &hs_msg(11, &list12(EC_CERT)), 100),
    )]);
    let [(_, TlsEvent::Certificate(c))] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        c.key_type.as_ref().map(ToString::to_string).as_deref(),
        Some("EC P-256")
    );
    assert_eq!(c.key_type.as_ref().and_then(|k| k.bits), Some(256));
    assert_eq!(c.subject, "CN=ec.example.test, O=shakedown");
    // TLS 1.3 layout (empty context, empty extensions) with the Ed25519 certificate, the layout
    // recognised without a ServerHello.
    let n = ED_CERT.len();
    let mut b13 = vec![
        0,
        0,
        ((n + 5) >> 8) as u8,
        (n + 5) as u8,
        0,
        (n >> 8) as u8,
        n as u8,
    ];
    b13.extend_from_slice(ED_CERT);
    b13.extend_from_slice(&[0, 0]);
    let (ev, _) = run(&[(Side::Server, frame(22, [3, 3], &hs_msg(11, &b13), 100))]);
    let [(_, TlsEvent::Certificate(c))] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        c.key_type.as_ref().map(|k| k.algorithm),
        Some(KeyAlgorithm::Ed25519)
    );
    assert_eq!(
        c.key_type.as_ref().map(ToString::to_string).as_deref(),
        Some("Ed25519")
    );
    assert_eq!(c.dns_names, ["ed.example.test", "www.ed.example.test"]);
    // A broken leaf: the chain length is still told.
    let broken = list12(&EC_CERT[..EC_CERT.len() - 40]);
    let (ev, _) = run(&[(Side::Server, frame(22, [3, 3], &hs_msg(11, &broken), 1000))]);
    let [(_, TlsEvent::Certificate(c))] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (c.chain_len, c.subject.as_str(), c.not_after),
        (1, "", None)
    );
}

#[test]
fn draft_server_hello_sets_tls13() {
    let mut sh = vec![0x03, 0x03];
    sh.extend_from_slice(&[9; 32]);
    sh.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 0x7f, 0x1c]);
    let (ev, conn) = run(&[(Side::Server, frame(22, [3, 3], &hs_msg(2, &sh), 100))]);
    assert_eq!(conn.version(), Some(TlsVersion(0x7f1c)));
    assert!(conn.is_protected(Side::Server));
    let TlsEvent::ServerHello(s) = &ev[0].1 else {
        panic!()
    };
    assert_eq!(s.version.to_string(), "TLS 1.3 draft 28");
    // The client's CCS is then a compatibility record and protects it.
    let mut conn = conn;
    let mut out = Vec::new();
    conn.feed(Side::Client, &[20, 3, 3, 0, 1, 1], &mut out);
    assert_eq!(out, vec![TlsEvent::ChangeCipherSpec { compat: true }]);
    assert!(conn.is_protected(Side::Client));
}

#[test]
fn classify_first_bytes() {
    for f in ALL {
        let chunks = fixture(f);
        for (side, b) in chunks.iter().take(2) {
            for n in 0..5 {
                assert_eq!(looks_like_tls(&b[..n]), None, "{side:?} {n}");
            }
            assert_eq!(looks_like_tls(&b[..5]), Some(true));
        }
    }
    assert_eq!(looks_like_tls(&[0x03, 0x00, 0x00, 0x13]), Some(false)); // TPKT
    assert_eq!(looks_like_tls(&[0x16, 0x03, 0x07]), Some(false));
    assert_eq!(looks_like_tls(&[0x17, 0x03, 0x03, 0xff, 0xff]), Some(false));
    assert_eq!(looks_like_tls(&[0x80, 0x02, 0x01, 0x03]), Some(false));
}

#[test]
fn handshake_events_after_malformed_hello_continue() {
    // A ClientHello too short to parse is reported and the direction goes on.
    let mut rec = frame(22, [3, 1], &hs_msg(1, &[3, 3, 0]), 100);
    rec.extend_from_slice(&[21, 3, 3, 0, 2, 2, 10]);
    let (ev, _) = run(&[(Side::Client, rec)]);
    assert_eq!(
        seq(&ev),
        [
            "C:Malformed { what: \"ClientHello\" }",
            "C:Alert(Some(\"unexpected_message\"))"
        ]
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any chunking of a real handshake gives the same events.
        #[test]
        fn any_chunking_same_events(fixture_idx in 0usize..4, cuts in proptest::collection::vec(1usize..300, 1..20)) {
            let chunks = fixture(ALL[fixture_idx]);
            let (whole, _) = run(&chunks);
            let mut rechunked = Vec::new();
            let mut i = 0;
            for (s, b) in &chunks {
                let mut rest = &b[..];
                while !rest.is_empty() {
                    let n = cuts[i % cuts.len()].min(rest.len());
                    i += 1;
                    rechunked.push((*s, rest[..n].to_vec()));
                    rest = &rest[n..];
                }
            }
            prop_assert_eq!(run(&rechunked).0, whole);
        }

        /// Arbitrary bytes and gaps never panic and never hold more than the handshake limit.
        #[test]
        fn arbitrary_input_is_bounded(
            ops in proptest::collection::vec((any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200), 0u64..50), 0..40),
        ) {
            let mut conn = TlsConnection::new(256);
            let mut out = Vec::new();
            for (client, gap, bytes, missing) in ops {
                let side = if client { Side::Client } else { Side::Server };
                if gap {
                    conn.gap(side, missing, &mut out);
                }
                // Bias towards plausible records so deeper states are reached.
                let mut rec = vec![22, 3, 3, 0, u8::try_from(bytes.len()).unwrap_or(0)];
                rec.extend_from_slice(&bytes);
                conn.feed(side, if missing % 2 == 0 { &rec } else { &bytes }, &mut out);
                prop_assert!(conn.buffered_bytes() <= 2 * 256 + 64);
            }
        }
    }
}
