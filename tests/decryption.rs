//! Decrypting TLS 1.3 and 1.2 with key logs (tests/fixtures/keys, made by scripts/fixtures/keylogs.sh with
//! real OpenSSL and GnuTLS peers writing their key logs): the alerts read from decrypted records
//! are exactly TShark's (`*.decrypted.json`, `-o tls.keylog_file:`), completion and causes become
//! certain, and keys that do not fit change no verdict.

use std::path::Path;
use std::sync::Arc;

use shakedown::decrypt::KeyLog;
use shakedown::tls::Decryption;
use shakedown::verdict::Confidence;
use shakedown::{CauseCode, Config, Outcome, Verdict};
use shakedown_tests::fixtures;

fn analyze(capture: &Path, keys: Option<KeyLog>) -> Vec<Verdict> {
    let mut reader = shakedown::capture::open(capture).expect("capture");
    let config = Config {
        key_log: keys.map(Arc::new),
        ..Config::default()
    };
    let mut verdicts = Vec::new();
    shakedown::analyze(&mut reader, &config, &mut verdicts).expect("analysis");
    verdicts
}

fn key_log(name: &str) -> KeyLog {
    KeyLog::from_bytes(&std::fs::read(fixtures().join("keys").join(name)).expect("key log"))
}

/// The OpenSSL and GnuTLS captures with their key logs (TLS 1.3 and 1.2).
fn tls_captures() -> Vec<(String, serde_json::Value)> {
    let dir = fixtures().join("keys");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("keys/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let Some(stem) = name.strip_suffix(".decrypted.json") else {
            continue;
        };
        let facts: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("facts")).expect("json");
        if stem.starts_with("openssl") || stem.starts_with("gnutls") {
            out.push((stem.to_string(), facts));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn decrypted_alerts_are_tsharks() {
    let captures = tls_captures();
    let names: Vec<&String> = captures.iter().map(|(n, _)| n).collect();
    assert!(captures.len() >= 14, "{names:?}");
    for (stem, facts) in captures {
        let v = analyze(
            &fixtures().join("keys").join(format!("{stem}.pcap")),
            Some(key_log(&format!("{stem}.keys"))),
        );
        let v = &v[0];
        let tls = v.tls.as_ref().expect("TLS");
        assert_eq!(tls.decryption, Some(Decryption::Ok), "{stem}");
        let stream = &facts["streams"][0];
        let want: Vec<(u64, String, String, String)> = stream["frames"]
            .as_array()
            .expect("frames")
            .iter()
            .flat_map(|f| {
                let frame = f["frame"].as_u64().unwrap_or(0);
                let side = f["side"].as_str().unwrap_or("").to_string();
                f["alerts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|a| a["encrypted"] == true)
                    .map(move |a| {
                        (
                            frame,
                            side.clone(),
                            a["level"].as_str().unwrap_or("").to_string(),
                            a["description"].as_str().unwrap_or("").to_string(),
                        )
                    })
            })
            .collect();
        let got: Vec<(u64, String, String, String)> = v
            .alerts
            .iter()
            .filter(|a| a.decrypted)
            .map(|a| {
                (
                    a.at.frame,
                    a.from.to_string(),
                    a.alert.level.map(|l| l.to_string()).unwrap_or_default(),
                    a.alert
                        .description
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got, want, "{stem}: decrypted alerts");
        // The server's certificate (sent encrypted in TLS 1.3) is read.
        assert!(tls.certificate.is_some(), "{stem}: certificate");
        // Both Finished messages were read: completion is certain, unless an alert ended it.
        if stem.ends_with("-ok") {
            assert_eq!(
                (v.outcome, v.cause.confidence),
                (Outcome::Completed, Confidence::Certain),
                "{stem}"
            );
        }
    }
}

#[test]
fn verdicts_with_keys_are_certain() {
    let cases: [(&str, Outcome, CauseCode, &[u64]); 5] = [
        (
            "openssl-tls13-aes128gcm-ok",
            Outcome::Completed,
            CauseCode::None,
            &[],
        ),
        (
            "openssl-tls13-ccm8-ok",
            Outcome::Completed,
            CauseCode::None,
            &[],
        ),
        (
            "openssl-tls12-cbc-no-etm-ok",
            Outcome::Completed,
            CauseCode::None,
            &[],
        ),
        // The server's certificate_required, decrypted from frame 11, after the client's empty
        // Certificate and its Finished (frame 10).
        (
            "openssl-tls13-client-cert-required",
            Outcome::Failed,
            CauseCode::ClientCertificateRequired,
            &[10, 11, 12],
        ),
        // GnuTLS rejects the self-signed certificate with bad_certificate, encrypted (frame 11).
        (
            "gnutls-tls13-client-rejects-cert",
            Outcome::Failed,
            CauseCode::CertificateRejected,
            &[7, 11, 11],
        ),
    ];
    for (stem, outcome, code, frames) in cases {
        let path = fixtures().join("keys").join(format!("{stem}.pcap"));
        let with = analyze(&path, Some(key_log(&format!("{stem}.keys"))));
        let v = &with[0];
        let got: Vec<u64> = v.cause.evidence_frames().collect();
        assert_eq!(
            (v.outcome, v.cause.code, v.cause.confidence, got.as_slice()),
            (outcome, code, Confidence::Certain, frames),
            "{stem}: {}",
            v.cause.explanation
        );
    }
}

#[test]
fn keys_that_do_not_fit_change_no_verdict() {
    let stem = "gnutls-tls13-client-rejects-cert";
    let path = fixtures().join("keys").join(format!("{stem}.pcap"));
    let without = analyze(&path, None);
    assert_eq!(without[0].tls.as_ref().and_then(|t| t.decryption), None);
    // A key log for other connections.
    let other = analyze(&path, Some(key_log("openssl-tls13-aes128gcm-ok.keys")));
    // The right client random with wrong secrets, and garbage lines around it.
    let text = std::fs::read_to_string(fixtures().join("keys").join(format!("{stem}.keys")))
        .expect("key log");
    let wrong: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            if let Some(secret) = f.get_mut(2) {
                *secret = "ab".repeat(secret.len() / 2);
            }
            f.join(" ")
        })
        .chain([
            "not a key log line".to_string(),
            "CLIENT_RANDOM zz".to_string(),
        ])
        .collect::<Vec<_>>()
        .join("\n");
    let wrong = analyze(&path, Some(KeyLog::parse(&wrong)));
    for (name, v, status) in [
        ("other connections' keys", &other[0], Decryption::NoKey),
        ("wrong secrets", &wrong[0], Decryption::Failed),
    ] {
        assert_eq!(
            v.tls.as_ref().and_then(|t| t.decryption),
            Some(status),
            "{name}"
        );
        assert_eq!(
            (v.outcome, v.cause.code, v.cause.confidence, v.stage),
            (
                without[0].outcome,
                without[0].cause.code,
                without[0].cause.confidence,
                without[0].stage
            ),
            "{name}"
        );
        assert!(v.alerts.iter().all(|a| !a.decrypted), "{name}");
    }
}
