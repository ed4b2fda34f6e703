//! Every capture of the shared public corpus (`../shared/corpus`, or `SHAKEDOWN_CORPUS`) against the
//! facts an independent tool (TShark 4.0) derived from it: frame count, connections and their ends,
//! first FIN / first RST senders, packets and bytes per side, TLS version, suite, ClientHello facts,
//! every alert and its sender, RDP negotiation fields.

use shakedown_tests::{check_all_expected, corpus, files_with_suffix};

#[test]
fn corpus_matches_independent_facts() {
    let Some(dir) = corpus() else {
        assert!(
            std::env::var_os("SHAKEDOWN_REQUIRE_CORPUS").is_none(),
            "SHAKEDOWN_REQUIRE_CORPUS is set but the corpus folder is missing"
        );
        eprintln!(
            "SKIPPED: no corpus at ../shared/corpus (set SHAKEDOWN_CORPUS to run this check)"
        );
        return;
    };
    let (checked, bad) = check_all_expected(&dir);
    assert!(
        checked > 100,
        "the corpus should hold over 100 captures, found {checked}"
    );
    assert!(
        bad.is_empty(),
        "{} disagreements with the corpus (listed above)",
        bad.len()
    );
}

/// Zeek's own test baselines for the Zeek traces: ssl.log `established` (the TLS handshake finished)
/// and rdp.log `result` (the negotiation outcome), matched by 4-tuple.
#[test]
fn corpus_agrees_with_zeek_baselines() {
    use serde_json::Value;
    let Some(dir) = corpus() else {
        eprintln!("SKIPPED: no corpus at ../shared/corpus");
        return;
    };
    let zeek = files_with_suffix(&dir, ".zeek.json");
    assert!(
        zeek.len() >= 30,
        "expected the Zeek baselines, found {}",
        zeek.len()
    );
    let mut bad = Vec::new();
    let mut checked = 0;
    for z in &zeek {
        let name = z.to_string_lossy();
        let capture = std::path::PathBuf::from(name.trim_end_matches(".zeek.json"));
        let label = capture
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let facts: Value =
            serde_json::from_str(&std::fs::read_to_string(z).expect("zeek facts")).expect("json");
        let Ok((verdicts, _)) = shakedown_tests::analyze_file(&capture) else {
            bad.push(format!("{label}: analysis failed"));
            continue;
        };
        for log in facts["logs"].as_array().into_iter().flatten() {
            let kind = log["log"].as_str().unwrap_or_default();
            for row in log["rows"].as_array().into_iter().flatten() {
                let ep = |h: &str, p: &str| {
                    if h.contains(':') {
                        format!("[{h}]:{p}")
                    } else {
                        format!("{h}:{p}")
                    }
                };
                let (Some(oh), Some(op), Some(rh), Some(rp)) = (
                    row["id.orig_h"].as_str(),
                    row["id.orig_p"].as_str(),
                    row["id.resp_h"].as_str(),
                    row["id.resp_p"].as_str(),
                ) else {
                    continue;
                };
                let (a, b) = (ep(oh, op), ep(rh, rp));
                let Some(v) = verdicts.iter().find(|v| {
                    let (c, s) = (v.client.to_string(), v.server.to_string());
                    (c == a && s == b) || (c == b && s == a)
                }) else {
                    continue;
                };
                if kind.starts_with("ssl")
                    && let Some(est) = row["established"].as_str()
                {
                    checked += 1;
                    // Zeek's `established` is about TLS alone; an NLA failure is a completed TLS
                    // handshake followed by a failed CredSSP exchange, and an RDP client that
                    // leaves right after TLS without a byte of RDP refused the certificate after
                    // a completed handshake.
                    let after_tls = matches!(
                        v.stage,
                        shakedown::Stage::Finished | shakedown::Stage::ApplicationData
                    );
                    let ours = v.outcome == shakedown::Outcome::Completed
                        || v.cause.code == shakedown::CauseCode::NlaFailure
                        || (v.protocol == shakedown::verdict::Protocol::Rdp
                            && v.cause.code == shakedown::CauseCode::CertificateRejected
                            && after_tls);
                    if (est == "T") != ours {
                        bad.push(format!(
                            "{label} c{}: Zeek established={est}, ours {} / {}",
                            v.conn,
                            v.outcome.as_str(),
                            v.cause.code
                        ));
                    }
                }
                if kind.starts_with("rdp") {
                    let result = row["result"].as_str().unwrap_or("-");
                    checked += 1;
                    let ok = match result {
                        "encrypted" => v.tls.is_some(),
                        "Success" => v.outcome == shakedown::Outcome::NotTls,
                        "-" => true,
                        failure => {
                            v.rdp
                                .as_ref()
                                .and_then(|r| r.failure)
                                .map(|f| f.to_string())
                                .as_deref()
                                == Some(failure)
                        }
                    };
                    if !ok {
                        bad.push(format!(
                            "{label} c{}: Zeek rdp result {result}, ours {} / {}",
                            v.conn,
                            v.outcome.as_str(),
                            v.cause.code
                        ));
                    }
                }
            }
        }
    }
    for b in &bad {
        eprintln!("{b}");
    }
    assert!(
        checked >= 30,
        "only {checked} Zeek facts matched a connection"
    );
    assert!(
        bad.is_empty(),
        "{} disagreements with Zeek (listed above)",
        bad.len()
    );
}
