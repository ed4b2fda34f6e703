//! The JSON record's values that the committed captures never produce (unknown codes written as hex,
//! RDP correlation ids and unknown protocol bits, TLS 1.3 drafts), pinned on a real verdict whose
//! parts are altered; and the two ways of getting a record ([`shakedown::json::line`] and
//! [`shakedown::json::write_line`]) agreeing on every fixture.

use shakedown::json;
use shakedown::rdp::{FailureCode, Protocols};
use shakedown::tls::{
    AlertDescription, AlertLevel, CipherSuite, NamedGroup, SignatureScheme, TlsVersion,
};
use shakedown::verdict::AlertRecord;
use shakedown::{Side, Verdict};
use shakedown_tests::{analyze_file, files_with_suffix, fixtures};

fn nla_ok() -> Verdict {
    let (verdicts, _) = analyze_file(&fixtures().join("rdp/nla-ok.pcap")).expect("readable");
    verdicts.into_iter().next().expect("one connection")
}

#[test]
fn unknown_codes_and_rare_fields_keep_their_spelling() {
    let mut v = nla_ok();
    // A real server alert (the verdict types are `#[non_exhaustive]`: altered, not built).
    let (others, _) =
        analyze_file(&fixtures().join("tls/no-shared-cipher.pcap")).expect("readable");
    let mut alert: AlertRecord = others[0].alerts[0].clone();
    assert_eq!(alert.from, Side::Server);
    alert.alert.level = Some(AlertLevel(9));
    alert.alert.description = Some(AlertDescription(0xee));
    alert.at = v.start;
    v.alerts.push(alert);
    let rdp = v.rdp.as_mut().expect("an RDP connection");
    rdp.requested = Some(Protocols(0x10b));
    rdp.selected = Some(Protocols(3));
    rdp.failure = Some(FailureCode(9));
    rdp.routing_token = Some("Cookie: msts=3640205228.15629.0000".into());
    rdp.correlation_id = Some([
        0x00, 0x01, 0x0a, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xab, 0xcd,
        0xef,
    ]);
    let tls = v.tls.as_mut().expect("TLS after the negotiation");
    tls.version = Some(TlsVersion(0x7e01));
    let ch = tls.client_hello.as_mut().expect("a ClientHello");
    ch.supported_versions = vec![TlsVersion(0x7f1c), TlsVersion(0x0a0a), TlsVersion::TLS13];
    ch.cipher_suites.push(CipherSuite(0xfefe));
    ch.signature_algorithms.push(SignatureScheme(0xabcd));
    ch.supported_groups.push(NamedGroup(0x4242));
    ch.record_version = TlsVersion(0x0002);
    let sh = tls.server_hello.as_mut().expect("a ServerHello");
    sh.key_share_group = Some(NamedGroup(0x0aaa));
    sh.cipher_suite = CipherSuite(0x0a0a);

    let rec = shakedown_tests::record(&v, "x");
    let alert = &rec["alerts"][0];
    assert_eq!(alert["level"], "0x09");
    assert_eq!(alert["description"], "0xee");
    assert_eq!(alert["code"], 238);
    let r = &rec["rdp"];
    assert_eq!(
        r["requested_protocols"],
        serde_json::json!(["ssl", "hybrid", "hybrid_ex", "0x00000100"])
    );
    assert_eq!(r["selected_protocol"], "0x00000003");
    assert_eq!(r["failure"], "0x00000009");
    assert_eq!(r["failure_code"], 9);
    assert_eq!(r["routing_token"], "Cookie: msts=3640205228.15629.0000");
    assert_eq!(r["correlation_id"], "00010a7f80ff10203040506070abcdef");
    let t = &rec["tls"];
    assert_eq!(t["version"], "0x7e01");
    let ch = &t["client_hello"];
    assert_eq!(
        ch["supported_versions"],
        serde_json::json!(["TLS 1.3 draft 28", "0x0a0a", "TLS 1.3"])
    );
    assert_eq!(ch["highest_version"], "TLS 1.3");
    assert_eq!(ch["record_version"], "SSL 2.0");
    let last = |field: &str| ch[field].as_array().and_then(|a| a.last()).cloned();
    assert_eq!(last("cipher_suites"), Some("0xfefe".into()));
    assert_eq!(last("signature_algorithms"), Some("0xabcd".into()));
    assert_eq!(last("supported_groups"), Some("0x4242".into()));
    assert_eq!(t["server_hello"]["key_share_group"], "0x0aaa");
    assert_eq!(t["server_hello"]["cipher_suite"], "0x0a0a");

    // No protocol bit: `rdp` in both places.
    let rdp = v.rdp.as_mut().expect("an RDP connection");
    rdp.requested = Some(Protocols::RDP);
    rdp.selected = Some(Protocols::RDP);
    let rec = shakedown_tests::record(&v, "x");
    assert_eq!(
        rec["rdp"]["requested_protocols"],
        serde_json::json!(["rdp"])
    );
    assert_eq!(rec["rdp"]["selected_protocol"], "rdp");
}

/// Every fixture capture (pcap and pcapng), by name, with its verdicts.
fn fixture_verdicts() -> Vec<(String, Vec<shakedown::Verdict>)> {
    let mut captures = files_with_suffix(&fixtures(), ".pcap");
    captures.extend(files_with_suffix(&fixtures(), ".pcapng"));
    captures
        .iter()
        .map(|capture| {
            let (verdicts, _) = analyze_file(capture).expect("readable");
            (capture.display().to_string(), verdicts)
        })
        .collect()
}

#[test]
fn line_and_write_line_agree_on_every_fixture() {
    let mut seen = 0;
    for (name, verdicts) in fixture_verdicts() {
        for v in &verdicts {
            let line = json::line(v, &name);
            let mut written = Vec::new();
            json::write_line(&mut written, v, &name).expect("writing to memory");
            assert_eq!(written, format!("{line}\n").into_bytes(), "{name}");
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} connections");
}

/// Every public enum the record holds prints (`Display`) as the record spells it, on every fixture.
#[test]
fn enums_display_as_the_record_spells_them() {
    let mut seen = 0;
    for (name, verdicts) in fixture_verdicts() {
        for v in &verdicts {
            let rec = shakedown_tests::record(v, &name);
            let at = format!("{name} conn {}", v.conn);
            assert_eq!(rec["outcome"], v.outcome.to_string(), "{at}");
            assert_eq!(rec["stage"], v.stage.to_string(), "{at}");
            assert_eq!(rec["protocol"], v.protocol.to_string(), "{at}");
            assert_eq!(
                rec["client_inferred_from"],
                v.client_inferred_from.to_string(),
                "{at}"
            );
            assert_eq!(rec["cause"]["code"], v.cause.code.to_string(), "{at}");
            assert_eq!(
                rec["cause"]["confidence"],
                v.cause.confidence.to_string(),
                "{at}"
            );
            if let Some((side, kind)) = v.closed_by {
                assert_eq!(rec["close_kind"], kind.to_string(), "{at}");
                assert_eq!(rec["closed_by"], side.to_string(), "{at}");
            }
            if let Some(d) = v.tls.as_ref().and_then(|t| t.decryption) {
                assert_eq!(rec["tls"]["decryption"], d.to_string(), "{at}");
            }
            if let Some(k) = v
                .tls
                .as_ref()
                .and_then(|t| t.certificate.as_ref()?.key_type.clone())
            {
                let written = rec["tls"]["certificate"]["key_type"]
                    .as_str()
                    .unwrap_or_default();
                assert!(written.starts_with(k.algorithm.as_str()), "{at}: {written}");
                assert_eq!(written, k.to_string(), "{at}");
            }
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} connections");
}
