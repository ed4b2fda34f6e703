//! Decrypting TLS 1.3 and 1.2 with key logs (tests/fixtures/keys, made by scripts/fixtures/keylogs.sh with
//! real OpenSSL and GnuTLS peers writing their key logs): the alerts read from decrypted records
//! are exactly TShark's (`*.decrypted.json`, `-o tls.keylog_file:`), completion and causes become
//! certain, and keys that do not fit change no verdict.

use std::path::Path;
use std::sync::Arc;

use shakedown::decrypt::{KeyLog, Label};
use shakedown::tls::Decryption;
use shakedown::verdict::Confidence;
use shakedown::{CauseCode, Config, Outcome, Verdict};
use shakedown_tests::{analyze_with_keys, decrypted_alerts, fixtures};

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
        let v = analyze_with_keys(
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
        let got = decrypted_alerts(v);
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
        let with = analyze_with_keys(&path, Some(key_log(&format!("{stem}.keys"))));
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
    let without = analyze_with_keys(&path, None);
    assert_eq!(without[0].tls.as_ref().and_then(|t| t.decryption), None);
    // A key log for other connections.
    let other = analyze_with_keys(&path, Some(key_log("openssl-tls13-aes128gcm-ok.keys")));
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
    let wrong = analyze_with_keys(&path, Some(KeyLog::parse(&wrong)));
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

/// The verdicts of a capture in memory, every way an analysis reads it: one thread; two threads
/// reading it in stretches (the usual size, and 64 bytes so that blocks straddle them); two
/// threads with one reader thread (a capture that cannot be read at offsets).
fn every_way(bytes: &[u8], config: &Config) -> Vec<(&'static str, Vec<Verdict>)> {
    let shared = || {
        shakedown::capture::CaptureReader::from_shared(Arc::new(bytes.to_vec())).expect("capture")
    };
    let mut out = Vec::new();
    let mut v = Vec::new();
    shakedown::analyze(&mut shared(), config, &mut v).expect("-j1");
    out.push(("-j1", v));
    let mut v = Vec::new();
    shakedown::analyze_parallel(&mut shared(), config, 2, &mut v).expect("-j2");
    out.push(("-j2 in stretches", v));
    let mut v = Vec::new();
    shakedown::analyze_parallel_in_stretches(&mut shared(), config, 2, 64, &mut v)
        .expect("-j2 small stretches");
    out.push(("-j2 in 64-byte stretches", v));
    let mut reader = shakedown::capture::CaptureReader::new(bytes).expect("capture");
    let mut v = Vec::new();
    shakedown::analyze_parallel(&mut reader, config, 2, &mut v).expect("-j2 reader thread");
    out.push(("-j2 with a reader thread", v));
    out
}

/// Issue 16: the key log a pcapng carries (`editcap --inject-secrets`) decrypts as the same key
/// log given as a file does, on one thread and on several, without `Config::key_log`.
#[test]
fn issue_16_secrets_in_the_capture_decrypt_as_a_key_file_does() {
    let stem = "openssl-tls13-aes128gcm-ok";
    let dir = fixtures().join("keys");
    let with_file = analyze_with_keys(
        &dir.join(format!("{stem}.pcap")),
        Some(key_log(&format!("{stem}.keys"))),
    );
    assert_eq!(
        with_file[0].tls.as_ref().and_then(|t| t.decryption),
        Some(Decryption::Ok)
    );
    let pcapng = std::fs::read(dir.join(format!("{stem}.pcapng"))).expect("pcapng");
    for (how, v) in every_way(&pcapng, &Config::default()) {
        assert_eq!(v, with_file, "{how}");
    }
    // Merged with a key log file: the file's secrets first, the capture's for the labels it lacks.
    let text = std::fs::read_to_string(dir.join(format!("{stem}.keys"))).expect("keys");
    let client_only: String = text
        .lines()
        .filter(|l| l.starts_with("CLIENT_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let server_only: String = text
        .lines()
        .filter(|l| l.starts_with("SERVER_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let pcap = dir.join(format!("{stem}.pcap"));
    let split = fixtures_pcapng(&pcap, server_only.as_bytes(), 1);
    let given = Config {
        key_log: Some(Arc::new(KeyLog::parse(&client_only))),
        ..Config::default()
    };
    for (how, v) in every_way(&split, &given) {
        assert_eq!(
            v, with_file,
            "given client secrets, embedded server ones, {how}"
        );
    }
}

fn fixtures_pcapng(capture: &Path, key_log: &[u8], before_frame: u64) -> Vec<u8> {
    shakedown_tests::pcapng_with_secrets(capture, key_log, before_frame)
}

/// A Decryption Secrets Block serves the connections whose ServerHello comes after it, wherever it
/// is; one that comes later changes nothing (the same on every thread count, however far the
/// reading got ahead of the connections).
#[test]
fn secrets_serve_the_connections_after_them() {
    let stem = "openssl-tls13-client-cert-required";
    let pcap = fixtures().join("keys").join(format!("{stem}.pcap"));
    let keys = std::fs::read(fixtures().join("keys").join(format!("{stem}.keys"))).expect("keys");
    let with_file = analyze_with_keys(&pcap, Some(KeyLog::from_bytes(&keys)));
    let without = analyze_with_keys(&pcap, None);
    let hello = with_file[0]
        .timeline
        .iter()
        .find(|e| matches!(e.step, shakedown::verdict::Step::ServerHello { .. }))
        .expect("ServerHello")
        .at
        .frame;
    assert!(hello > 1);
    let last = with_file[0].end.frame;
    for (before, decrypted) in [
        (1, true),
        (hello, true),
        (hello + 1, false),
        (last, false),
        (last + 1, false),
    ] {
        let bytes = fixtures_pcapng(&pcap, &keys, before);
        for (how, v) in every_way(&bytes, &Config::default()) {
            let want = if decrypted { &with_file } else { &without };
            assert_eq!(&v, want, "block before frame {before}, {how}");
        }
        let mut reader = shakedown::capture::CaptureReader::new(&bytes[..]).expect("capture");
        while reader.next_frame().expect("frame").is_some() {}
        assert_eq!(reader.secrets_blocks().tls_key_logs, 1, "before {before}");
        assert_eq!(
            reader.embedded_key_log().expect("read").entries(),
            KeyLog::from_bytes(&keys).entries(),
            "before {before}"
        );
    }
}

/// The command line uses the capture's own keys in every subcommand that judges connections.
#[test]
fn every_command_uses_the_secrets_in_the_capture() {
    use shakedown_tests::run_cli;
    let stem = "gnutls-tls13-client-rejects-cert";
    let dir = fixtures().join("keys");
    let pcap = dir.join(format!("{stem}.pcap"));
    let keys = std::fs::read(dir.join(format!("{stem}.keys"))).expect("keys");
    let tmp = std::env::temp_dir().join(format!("shakedown-dsb-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let pcapng = tmp.join("with-secrets.pcapng");
    std::fs::write(&pcapng, fixtures_pcapng(&pcap, &keys, 1)).expect("write");
    let (pcapng_s, pcap_s) = (
        pcapng.to_string_lossy().into_owned(),
        pcap.to_string_lossy().into_owned(),
    );
    let keys_s = dir
        .join(format!("{stem}.keys"))
        .to_string_lossy()
        .into_owned();
    let record = |out: &str| -> serde_json::Value {
        let mut r: serde_json::Value =
            serde_json::from_str(out.lines().next().expect("a record")).expect("json");
        r["capture"] = serde_json::Value::Null;
        r
    };
    let (code, given, _) = run_cli(&["--json", "--keylog", &keys_s, &pcap_s]);
    assert_eq!(code, 1);
    let given = record(&given);
    assert_eq!(given["tls"]["decryption"], "ok");
    assert_eq!(given["cause"]["confidence"], "certain");
    for jobs in ["1", "2"] {
        let (code, out, err) = run_cli(&["--json", "-j", jobs, &pcapng_s]);
        assert_eq!((code, err.as_str()), (1, ""), "-j {jobs}");
        assert_eq!(record(&out), given, "-j {jobs}");
    }
    // The report shows the decrypted alert, which without keys is only an encrypted record.
    let html = tmp.join("report.html");
    let html_s = html.to_string_lossy().into_owned();
    for (capture, decrypted) in [(&pcapng_s, true), (&pcap_s, false)] {
        let (code, _, err) = run_cli(&["report", "--html", &html_s, capture]);
        assert_eq!(code, 1, "{err}");
        let page = std::fs::read_to_string(&html).expect("report");
        assert_eq!(page.contains("bad_certificate"), decrypted, "{capture}");
    }
    let (code, summary, _) = run_cli(&["summary", "--json", &pcapng_s]);
    assert_eq!(code, 1);
    let (_, summary_given, _) = run_cli(&["summary", "--json", "--keylog", &keys_s, &pcap_s]);
    assert_eq!(summary, summary_given);
    let extracted = tmp.join("extracted.pcapng");
    let extracted_s = extracted.to_string_lossy().into_owned();
    let (code, _, err) = run_cli(&[
        "extract",
        "--cause",
        "certificate_rejected",
        "-q",
        "-o",
        &extracted_s,
        &pcapng_s,
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (v, _) = shakedown_tests::analyze_file(&extracted).expect("extracted");
    assert_eq!(v.len(), 1);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Issue 16: a malformed line in the key log a capture carries is counted and warned about by
/// every command that reads the capture (the same warning, from one function), never fatal (the
/// good lines still decrypt), and no secret is printed.
#[test]
fn every_command_warns_about_malformed_lines_in_the_capture_key_log() {
    use shakedown_tests::run_cli;
    let stem = "gnutls-tls13-client-rejects-cert";
    let dir = fixtures().join("keys");
    let pcap = dir.join(format!("{stem}.pcap"));
    let keys = std::fs::read_to_string(dir.join(format!("{stem}.keys"))).expect("keys");
    let good_lines = keys.lines().filter(|l| !l.trim().is_empty()).count();
    // A line after the good ones whose client random is not hex: line good_lines + 1.
    let bad = format!("{keys}CLIENT_RANDOM not-hex {}\n", "ab".repeat(48));
    let tmp = std::env::temp_dir().join(format!("shakedown-dsb-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let pcapng = tmp.join("bad-line.pcapng");
    std::fs::write(&pcapng, fixtures_pcapng(&pcap, bad.as_bytes(), 1)).expect("write");
    let capture = pcapng.to_string_lossy().into_owned();
    let tmp_s = |name: &str| tmp.join(name).to_string_lossy().into_owned();
    let warning = |command: &str| {
        format!(
            "{command}: {capture}: embedded: warning: 1 key log line not understood (first: line {}: the client random is not hex)\n",
            good_lines + 1
        )
    };
    // Every secret of the log, in either case, and the bad line's.
    let secrets: Vec<String> = keys
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .chain(["ab".repeat(48)])
        .collect();
    let (html, saved, extracted) = (
        tmp_s("report.html"),
        tmp_s("saved"),
        tmp_s("extracted.pcapng"),
    );
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("shakedown", vec!["--json", "-j", "1", &capture]),
        ("shakedown", vec!["--json", "-j", "2", &capture]),
        ("shakedown", vec!["--json", "--stream", &capture]),
        (
            "shakedown",
            vec!["--json", "-q", "--save-failures", &saved, &capture],
        ),
        ("shakedown", vec![&capture]),
        ("shakedown", vec!["report", "--html", &html, &capture]),
        ("shakedown", vec!["summary", "--json", &capture]),
        ("shakedown", vec!["summary", &capture]),
        (
            "shakedown extract",
            vec!["extract", "--failed", "-q", "-o", &extracted, &capture],
        ),
    ];
    for (command, args) in &runs {
        let (code, out, err) = run_cli(args);
        assert_eq!(err, warning(command), "{args:?}");
        // Not fatal: the good lines decrypted the alert (a certain failure, or a file written).
        let expected = if args[0] == "extract" { 0 } else { 1 };
        assert_eq!(code, expected, "{args:?}: {err}");
        if args[0] == "--json" {
            let record: serde_json::Value =
                serde_json::from_str(out.lines().next().expect("a record")).expect("json");
            assert_eq!(record["tls"]["decryption"], "ok", "{args:?}");
        }
        for secret in &secrets {
            for text in [&out, &err] {
                assert!(
                    !text.to_lowercase().contains(&secret.to_lowercase()),
                    "{args:?} printed a secret"
                );
            }
        }
    }
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.contains("bad_certificate"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Issue 17 item 4 with issue 16's keys: `--save-failures` with key logs (given with `--keylog`,
/// or carried by the capture) embeds exactly the saved connection's secrets in its file, so the
/// file alone gives the same decrypted verdict to shakedown and decrypts in TShark. Another
/// connection's secrets in the same key log stay out; no secret is printed.
#[test]
fn saved_failures_carry_their_own_secrets() {
    use shakedown_tests::run_cli;
    let other_random = "5a".repeat(32);
    let other_secret = "c3".repeat(48);
    let tmp = std::env::temp_dir().join(format!("shakedown-save-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let tshark = std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !tshark {
        eprintln!("tshark is missing: the saved files are not checked with TShark");
    }
    let record = |out: &str| -> serde_json::Value {
        let mut r: serde_json::Value =
            serde_json::from_str(out.lines().next().expect("a record")).expect("json");
        r["capture"] = serde_json::Value::Null;
        r
    };
    for stem in [
        "gnutls-tls13-client-rejects-cert",
        "openssl-tls13-client-cert-required",
        "rdp-nla-wrong-password",
    ] {
        let dir = fixtures().join("keys");
        let pcap = dir.join(format!("{stem}.pcap"));
        let keys = std::fs::read_to_string(dir.join(format!("{stem}.keys"))).expect("keys");
        let random_hex = keys
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.split_whitespace().nth(1))
            .expect("a client random")
            .to_lowercase();
        let random: [u8; 32] = (0..32)
            .map(|i| u8::from_str_radix(&random_hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect::<Vec<u8>>()
            .try_into()
            .expect("32 bytes");
        let fixture_log = KeyLog::parse(&keys);
        let wanted = fixture_log.secrets(&random).expect("the fixture's secrets");
        // The fixture's lines and another connection's, in one key log.
        let mixed = format!("CLIENT_RANDOM {other_random} {other_secret}\n{keys}");
        let keylog = tmp.join(format!("{stem}.keys"));
        std::fs::write(&keylog, &mixed).expect("key log");
        let with_secrets = tmp.join(format!("{stem}.pcapng"));
        std::fs::write(&with_secrets, fixtures_pcapng(&pcap, mixed.as_bytes(), 1)).expect("pcapng");
        let (pcap_s, keylog_s, with_secrets_s) = (
            pcap.to_string_lossy().into_owned(),
            keylog.to_string_lossy().into_owned(),
            with_secrets.to_string_lossy().into_owned(),
        );
        for (how, args) in [
            (
                "--keylog",
                vec!["--keylog", keylog_s.as_str(), pcap_s.as_str()],
            ),
            ("the capture's own keys", vec![with_secrets_s.as_str()]),
        ] {
            let saved_dir = tmp.join(format!("{stem}-{}", how.len()));
            let saved_dir_s = saved_dir.to_string_lossy().into_owned();
            let mut argv = vec!["--json", "-q", "--save-failures", saved_dir_s.as_str()];
            argv.extend(args);
            let (code, out, err) = run_cli(&argv);
            assert_eq!((code, err.as_str()), (1, ""), "{stem}, {how}");
            let judged = record(&out);
            assert_eq!(judged["tls"]["decryption"], "ok", "{stem}, {how}");
            let files: Vec<_> = std::fs::read_dir(&saved_dir)
                .expect("saved")
                .map(|e| e.expect("entry").path())
                .collect();
            assert_eq!(files.len(), 1, "{stem}, {how}");
            let saved = &files[0];
            let saved_s = saved.to_string_lossy().into_owned();
            // Alone, the saved file gives the same decrypted verdict.
            let (code, again, err) = run_cli(&["--json", &saved_s]);
            assert_eq!((code, err.as_str()), (1, ""), "{stem}, {how}");
            assert_eq!(record(&again), judged, "{stem}, {how}");
            // It carries exactly this connection's secrets, in one block before its packets.
            let mut reader = shakedown::capture::open(saved).expect("saved file");
            let keys_first = reader.embedded_keys().expect("pcapng");
            reader.next_frame().expect("a frame").expect("a frame");
            assert_eq!(
                keys_first.key_log().entries(),
                Label::ALL
                    .iter()
                    .filter(|l| wanted.by_label(**l).is_some())
                    .count(),
                "{stem}, {how}: secrets before the first packet"
            );
            while reader.next_frame().expect("frame").is_some() {}
            assert_eq!(reader.secrets_blocks().tls_key_logs, 1, "{stem}, {how}");
            let embedded = reader.embedded_key_log().expect("a key log");
            assert_eq!(
                embedded.secrets(&random).as_ref(),
                Some(&wanted),
                "{stem}, {how}"
            );
            assert!(embedded.secrets(&[0x5a; 32]).is_none(), "{stem}, {how}");
            assert_eq!(embedded.counts().malformed, 0);
            drop(embedded);
            let bytes = std::fs::read(saved).expect("saved");
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(&other_secret), "{stem}, {how}");
            assert!(
                text.contains("key log lines of its client random (a Decryption Secrets Block)"),
                "{stem}, {how}"
            );
            let secrets = keys.lines().filter(|l| !l.starts_with('#'));
            for secret in secrets.filter_map(|l| l.split_whitespace().nth(2)) {
                for printed in [&out, &err] {
                    assert!(!printed.to_lowercase().contains(&secret.to_lowercase()));
                }
            }
            if tshark {
                // TShark reads the Finished only with the keys: none without them (the original
                // capture), some from the saved file alone.
                let finished = |capture: &str| {
                    let out = std::process::Command::new("tshark")
                        .args(["-n", "-d", "tcp.port==3389,tls", "-r", capture])
                        .args(["-Y", "tls.handshake.type == 20"])
                        .output()
                        .expect("tshark runs");
                    assert!(out.status.success(), "tshark -r {capture}");
                    String::from_utf8_lossy(&out.stdout).lines().count()
                };
                assert_eq!(finished(&pcap_s), 0, "{stem}: no keys, no Finished");
                assert!(
                    finished(&saved_s) > 0,
                    "{stem}, {how}: TShark decrypts the saved file"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The errorCode a Windows server sends (no open peer here does) through the whole engine: the
/// server's pubKeyAuth record of the FreeRDP capture, re-encrypted with its own traffic key as
/// `TSRequest { version 6, errorCode STATUS_LOGON_FAILURE }` (MS-CSSP 2.2.1) padded to the same
/// length, is read from the capture and makes the failure certain, with the NTSTATUS.
#[test]
fn a_credssp_error_code_read_from_the_capture_is_certain() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use shakedown::decrypt::record::Tls13Decryptor;
    use shakedown::decrypt::schedule::{Tls13Suite, tls13_traffic_keys};
    use shakedown::tls::{CipherSuite, TlsVersion};

    let stem = "rdp-nla-ok";
    let dir = fixtures().join("keys");
    let path = dir.join(format!("{stem}.pcap"));
    let keys_text = std::fs::read_to_string(dir.join(format!("{stem}.keys"))).expect("keys");
    let secret: Vec<u8> = keys_text
        .lines()
        .find_map(|l| l.strip_prefix("SERVER_TRAFFIC_SECRET_0 "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .map(|hex| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .expect("server application secret");
    let suite = CipherSuite(0x1302); // TLS_AES_256_GCM_SHA384, as the notes say
    // The server's pubKeyAuth TSRequest, as the verdict with keys places it.
    let with_keys = analyze_with_keys(&path, Some(key_log(&format!("{stem}.keys"))));
    let pub_key_auth = with_keys[0]
        .rdp
        .as_ref()
        .and_then(|r| r.credssp.as_ref())
        .and_then(|c| c.server_pub_key_auth)
        .expect("server pubKeyAuth")
        .frame;
    let mut reader = shakedown::capture::open(&path).expect("capture");
    let data = loop {
        let f = reader.next_frame().expect("frame").expect("the frame");
        if f.index == pub_key_auth {
            break f.data.to_vec();
        }
    };
    // The record is the frame's last bytes: 17 03 03 and its length.
    let at = (0..data.len().saturating_sub(5))
        .find(|&p| {
            data[p..p + 3] == [0x17, 0x03, 0x03]
                && p + 5 + usize::from(u16::from_be_bytes([data[p + 3], data[p + 4]])) == data.len()
        })
        .expect("an application_data record");
    let (header, body) = (data[at..at + 5].to_vec(), data[at + 5..].to_vec());
    // Its sequence number: the one it opens with.
    let seq = (0..16u64)
        .find(|&seq| {
            let mut d = Tls13Decryptor::new(suite, &secret).expect("decryptor");
            d.set_sequence(seq);
            d.decrypt(0x17, TlsVersion(0x0303), &body)
                .is_ok_and(|p| p.data.first() == Some(&0x30))
        })
        .expect("the record opens");
    let error_code: &[u8] = b"\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d";
    let mut inner = error_code.to_vec();
    inner.push(0x17); // TLSInnerPlaintext.type, then zero padding (RFC 8446 §5.4)
    inner.resize(body.len() - 16, 0);
    let keys =
        tls13_traffic_keys(&Tls13Suite::from_id(suite).expect("suite"), &secret).expect("keys");
    let mut nonce = keys.iv;
    for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&keys.key).expect("key");
    let sealed = cipher
        .encrypt(
            aes_gcm::Nonce::from_slice(&nonce),
            Payload {
                msg: &inner,
                aad: &header,
            },
        )
        .expect("encrypt");
    assert_eq!(sealed.len(), body.len());
    let mut capture = std::fs::read(&path).expect("pcap");
    let place = capture
        .windows(body.len())
        .position(|w| w == body.as_slice())
        .expect("the record in the file");
    capture[place..place + body.len()].copy_from_slice(&sealed);

    let config = Config {
        key_log: Some(Arc::new(key_log(&format!("{stem}.keys")))),
        ..Config::default()
    };
    let runs = every_way(&capture, &config);
    for (how, v) in &runs {
        assert_eq!(v, &runs[0].1, "{how}");
    }
    let v = &runs[0].1[0];
    let credssp = v
        .rdp
        .as_ref()
        .and_then(|r| r.credssp.as_ref())
        .expect("CredSSP");
    assert_eq!(
        credssp.error,
        Some((
            shakedown::rdp::credssp::NtStatus::LOGON_FAILURE,
            v.timeline
                .iter()
                .find(|e| e.at.frame == pub_key_auth)
                .expect("step")
                .at
        ))
    );
    let frames: Vec<u64> = v.cause.evidence_frames().collect();
    assert_eq!(
        (v.outcome, v.cause.code, v.cause.confidence, frames.last()),
        (
            Outcome::Failed,
            CauseCode::NlaFailure,
            Confidence::Certain,
            Some(&pub_key_auth)
        ),
        "{}",
        v.cause.explanation
    );
    assert!(
        v.cause
            .explanation
            .contains("STATUS_LOGON_FAILURE (0xC000006D)")
    );
    // Without keys nothing of it is seen: the connection got far past CredSSP's few records.
    let without = every_way(&capture, &Config::default());
    assert_eq!(without[0].1[0].cause.code, CauseCode::None);
}
