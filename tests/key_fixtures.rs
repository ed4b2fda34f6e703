//! Every capture of tests/fixtures/keys (real OpenSSL, GnuTLS and FreeRDP peers writing key logs,
//! scripts/fixtures/keylogs.sh) read with its key log: the verdict its row of SCENARIOS-KEYS.tsv
//! names (outcome, stage, cause, who closed first, alerts), every alert and CredSSP message TShark
//! decrypted (`*.decrypted.json`, `tshark -o tls.keylog_file:`), and key logs that do not fit
//! changing nothing but `tls.decryption`.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use shakedown::decrypt::KeyLog;
use shakedown::rdp::credssp::{NegoToken, NtlmMessageType};
use shakedown::tls::Decryption;
use shakedown::verdict::{CredsspAuth, Step};
use shakedown::{Config, Side, Verdict};
use shakedown_tests::{analyze_with_keys, decrypted_alerts, fixtures};

/// The one verdict of a key fixture, with `keys` or without.
fn analyze(capture: &Path, keys: Option<KeyLog>) -> Verdict {
    let mut verdicts = analyze_with_keys(capture, keys);
    assert_eq!(verdicts.len(), 1, "{}", capture.display());
    verdicts.remove(0)
}

fn dir() -> std::path::PathBuf {
    fixtures().join("keys")
}

/// The key log of a capture `NAME.pcap` or `NAME.pcapng`: `NAME.keys`.
fn keys_of(capture: &str) -> KeyLog {
    let stem = capture
        .trim_start_matches("keys/")
        .trim_end_matches(".pcapng")
        .trim_end_matches(".pcap");
    KeyLog::from_bytes(&std::fs::read(dir().join(format!("{stem}.keys"))).expect("key log"))
}

/// TShark's decrypted facts of a capture's connection.
fn decrypted_facts(capture: &str) -> Value {
    let stem = capture
        .trim_start_matches("keys/")
        .trim_end_matches(".pcapng")
        .trim_end_matches(".pcap");
    let text =
        std::fs::read_to_string(dir().join(format!("{stem}.decrypted.json"))).expect("facts");
    let facts: Value = serde_json::from_str(&text).expect("json");
    facts["streams"][0].clone()
}

/// The rows of SCENARIOS-KEYS.tsv, as (file, [outcome, stage, cause, closed_first, alerts]).
fn rows() -> Vec<(String, [String; 5])> {
    let text = std::fs::read_to_string(dir().join("SCENARIOS-KEYS.tsv")).expect("table");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let cols = [
        col("outcome"),
        col("stage"),
        col("cause"),
        col("closed_first"),
        col("alerts"),
    ];
    let file = col("file");
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or("").trim().to_string();
            (cell(file), cols.map(cell))
        })
        .collect()
}

fn closed_first(v: &Verdict) -> String {
    v.closed_by
        .map(|(side, kind)| format!("{side}:{}", kind.as_str()))
        .unwrap_or_else(|| "-".into())
}

/// The alerts as the table gives them: what TShark saw of the capture by itself (it reads a pcapng's
/// own secrets, not a key log file), each `side:level:description`, or `side:encrypted` for a record
/// it could not read; a TLS 1.3 alert inside an application_data record is invisible to it.
fn table_alerts(v: &Verdict, tshark_decrypts: bool) -> String {
    let tls13 = v
        .tls
        .as_ref()
        .and_then(|t| t.version)
        .is_some_and(|ver| ver.is_tls13_or_draft());
    let list: Vec<String> = v
        .alerts
        .iter()
        .filter(|a| !a.inferred && (tshark_decrypts || !(a.decrypted && tls13)))
        .map(|a| match (a.alert.level, a.alert.description) {
            (Some(l), Some(d)) if tshark_decrypts || !a.alert.encrypted => {
                format!("{}:{l}:{d}", a.from)
            }
            _ => format!("{}:encrypted", a.from),
        })
        .collect();
    if list.is_empty() {
        "-".into()
    } else {
        list.join(",")
    }
}

/// Every row of the table, read with its key log (a pcapng with the secrets it carries).
#[test]
fn every_key_scenario_gets_its_verdict() {
    let rows = rows();
    assert!(rows.len() >= 17, "{} rows", rows.len());
    let mut bad = Vec::new();
    for (file, want) in &rows {
        let path = fixtures().join(file);
        let pcapng = file.ends_with(".pcapng");
        let v = analyze(&path, (!pcapng).then(|| keys_of(file)));
        assert_eq!(
            v.tls.as_ref().and_then(|t| t.decryption),
            Some(Decryption::Ok),
            "{file}"
        );
        let got = [
            v.outcome.as_str().to_string(),
            v.stage.as_str().to_string(),
            v.cause.code.to_string(),
            closed_first(&v),
            table_alerts(&v, pcapng),
        ];
        for (i, name) in ["outcome", "stage", "cause", "closed_first", "alerts"]
            .iter()
            .enumerate()
        {
            if got[i] != want[i] {
                bad.push(format!(
                    "{file}: {name}: expected {:?}, got {:?}",
                    want[i], got[i]
                ));
            }
        }
        // Every decrypted alert is TShark's, with its frame, sender, level and description.
        let facts = decrypted_facts(file);
        let tshark: Vec<(u64, String, String, String)> = facts["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["encrypted"] == true)
            .map(|a| {
                (
                    a["frame"].as_u64().unwrap_or(0),
                    a["side"].as_str().unwrap_or("").to_string(),
                    a["level"].as_str().unwrap_or("").to_string(),
                    a["description"].as_str().unwrap_or("").to_string(),
                )
            })
            // The FreeRDP client's close_notify comes some fifty records into the RDP session,
            // past the few records read per side (never the bulk).
            .filter(|(frame, ..)| !(file.contains("rdp-nla-ok") && *frame > 60))
            .collect();
        let ours = decrypted_alerts(&v);
        if ours != tshark {
            bad.push(format!(
                "{file}: decrypted alerts: TShark {tshark:?}, ours {ours:?}"
            ));
        }
        // A decrypted alert is still an encrypted one, read.
        assert!(
            v.alerts
                .iter()
                .filter(|a| a.decrypted)
                .all(|a| a.alert.encrypted),
            "{file}"
        );
    }
    for b in &bad {
        eprintln!("{b}");
    }
    assert!(bad.is_empty(), "{} disagreements (listed above)", bad.len());
}

/// A TSRequest as both readings give it: frame, sender, version, NTLM message, and whether
/// pubKeyAuth, authInfo and clientNonce were there.
type Message = (u64, String, u32, Option<String>, bool, bool, bool);

/// The TSRequests of the two FreeRDP captures are TShark's, message by message, and `rdp.credssp`
/// sums them up.
#[test]
fn credssp_is_tsharks() {
    for (stem, succeeded) in [("rdp-nla-ok", true), ("rdp-nla-wrong-password", false)] {
        let file = format!("keys/{stem}.pcap");
        let v = analyze(&fixtures().join(&file), Some(keys_of(&file)));
        let facts = decrypted_facts(&file);
        let tshark: Vec<Message> = facts["credssp"]
            .as_array()
            .expect("TShark's CredSSP")
            .iter()
            .map(|m| {
                (
                    m["frame"].as_u64().unwrap_or(0),
                    m["side"].as_str().unwrap_or("").to_string(),
                    m["tsrequest_versions"][0].as_u64().unwrap_or(0) as u32,
                    m["ntlm"][0].as_str().map(str::to_string),
                    m["pub_key_auth"] == true,
                    m["auth_info"] == true,
                    m["client_nonce"] == true,
                )
            })
            .collect();
        assert!(tshark.len() >= 3, "{stem}");
        let ours: Vec<Message> = v
            .timeline
            .iter()
            .filter_map(|e| match e.step {
                Step::TsRequest(t) => {
                    assert!(e.decrypted, "{stem}: frame {} marked decrypted", e.at.frame);
                    let ntlm = match t.token {
                        Some(NegoToken::Ntlm(m)) => Some(m.to_string()),
                        _ => None,
                    };
                    Some((
                        e.at.frame,
                        e.from.to_string(),
                        t.version,
                        ntlm,
                        t.pub_key_auth,
                        t.auth_info,
                        t.client_nonce,
                    ))
                }
                _ => None,
            })
            .collect();
        assert_eq!(ours, tshark, "{stem}");
        let c = v
            .rdp
            .as_ref()
            .and_then(|r| r.credssp.as_ref())
            .expect("rdp.credssp");
        let count = |side: &str| tshark.iter().filter(|m| m.1 == side).count() as u32;
        assert_eq!(
            (c.requests.client, c.requests.server),
            (count("client"), count("server")),
            "{stem}"
        );
        assert_eq!(
            (c.client_version, c.server_version, c.auth, c.error),
            (Some(6), Some(6), Some(CredsspAuth::Ntlm), None),
            "{stem}"
        );
        assert_eq!(c.succeeded(), succeeded, "{stem}");
        let authenticate = tshark
            .iter()
            .find(|m| m.3.as_deref() == Some("AUTHENTICATE"))
            .map(|m| m.0);
        assert_eq!(
            c.client_pub_key_auth.map(|m| m.frame),
            authenticate,
            "{stem}"
        );
        // The NTLM AUTHENTICATE is the client's (it carries the user; TShark names alice).
        let auth_step = v
            .timeline
            .iter()
            .find(|e| Some(e.at.frame) == authenticate)
            .expect("AUTHENTICATE step");
        assert_eq!(auth_step.from, Side::Client);
        assert!(matches!(
            auth_step.step,
            Step::TsRequest(t) if t.token == Some(NegoToken::Ntlm(NtlmMessageType::AUTHENTICATE))
        ));
    }
}

/// A key log that does not fit — for other connections, or the right client randoms with wrong
/// secrets — changes nothing of any verdict but `tls.decryption`.
#[test]
fn key_logs_that_do_not_fit_change_nothing_but_the_decryption_status() {
    let captures: Vec<String> = rows()
        .into_iter()
        .map(|(file, _)| file)
        .filter(|f| f.ends_with(".pcap"))
        .collect();
    assert!(captures.len() >= 16);
    for (i, file) in captures.iter().enumerate() {
        let path = fixtures().join(file);
        let without = analyze(&path, None);
        assert_eq!(
            without.tls.as_ref().and_then(|t| t.decryption),
            None,
            "{file}"
        );
        // Another capture's key log.
        let other = &captures[(i + 1) % captures.len()];
        let text = std::fs::read_to_string(
            dir().join(other.trim_start_matches("keys/").replace(".pcap", ".keys")),
        )
        .expect("keys");
        let own = std::fs::read_to_string(
            dir().join(file.trim_start_matches("keys/").replace(".pcap", ".keys")),
        )
        .expect("keys");
        // The capture's own client randoms with every secret wrong, and lines that are no entry.
        let wrong: String = own
            .lines()
            .map(|l| {
                let mut f: Vec<String> = l.split_whitespace().map(str::to_string).collect();
                if let (Some(secret), false) = (f.get_mut(2), l.starts_with('#')) {
                    *secret = "ab".repeat(secret.len() / 2);
                }
                f.join(" ") + "\n"
            })
            .chain(["CLIENT_RANDOM zz\n".to_string(), "garbage\n".to_string()])
            .collect();
        for (name, log, status) in [
            (
                "another capture's keys",
                KeyLog::parse(&text),
                Decryption::NoKey,
            ),
            ("wrong secrets", KeyLog::parse(&wrong), Decryption::Failed),
        ] {
            let mut v = analyze(&path, Some(log));
            let tls = v.tls.as_mut().expect("TLS");
            assert_eq!(tls.decryption, Some(status), "{file}: {name}");
            tls.decryption = None;
            assert_eq!(v, without, "{file}: {name}");
        }
    }
}

/// `capture` (a little-endian pcap) with every packet cut to `snap_len` bytes, as a capture with
/// that snap length holds it.
fn cut_to(capture: &[u8], snap_len: u32) -> Vec<u8> {
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    assert_eq!(
        le32(capture, 0),
        0xa1b2_c3d4,
        "a little-endian microsecond pcap"
    );
    let mut out = capture[..24].to_vec();
    out[16..20].copy_from_slice(&snap_len.to_le_bytes());
    let mut at = 24;
    while at + 16 <= capture.len() {
        let incl = le32(capture, at + 8) as usize;
        let keep = incl.min(snap_len as usize);
        out.extend_from_slice(&capture[at..at + 8]);
        out.extend_from_slice(&(keep as u32).to_le_bytes());
        out.extend_from_slice(&capture[at + 12..at + 16]);
        out.extend_from_slice(&capture[at + 16..at + 16 + keep]);
        at += 16 + incl;
    }
    out
}

/// A capture cut short anywhere, or cut by a snap length, reads with its keys without a panic, and
/// a record it holds only part of is never taken for a wrong key.
#[test]
fn captures_cut_anywhere_never_call_the_keys_wrong() {
    for stem in [
        "openssl-tls13-client-cert-required",
        "openssl-tls12-gcm-ok",
        "rdp-nla-wrong-password",
    ] {
        let file = format!("keys/{stem}.pcap");
        let bytes = std::fs::read(fixtures().join(&file)).expect("capture");
        let config = Config {
            key_log: Some(Arc::new(keys_of(&file))),
            ..Config::default()
        };
        let read = |capture: &[u8]| -> Vec<Verdict> {
            let mut verdicts = Vec::new();
            if let Ok(mut reader) = shakedown::capture::CaptureReader::new(capture) {
                shakedown::analyze(&mut reader, &config, &mut verdicts).expect("analysis");
            }
            verdicts
        };
        let whole = read(&bytes);
        for len in (0..bytes.len()).step_by(41) {
            for v in read(&bytes[..len]) {
                assert_ne!(
                    v.tls.as_ref().and_then(|t| t.decryption),
                    Some(Decryption::Failed),
                    "{stem} cut at {len}"
                );
            }
        }
        for snap_len in [60, 100, 200, 400, 1000] {
            for v in read(&cut_to(&bytes, snap_len)) {
                assert_ne!(
                    v.tls.as_ref().and_then(|t| t.decryption),
                    Some(Decryption::Failed),
                    "{stem} with snap length {snap_len}"
                );
            }
        }
        // A snap length longer than every packet changes nothing.
        assert_eq!(read(&cut_to(&bytes, 65_535)), whole, "{stem}");
    }
}

/// The steps read from decrypted records carry the flag the reports mark them by, and only those:
/// each falls in a frame where TShark decrypted records; without keys no step has it.
#[test]
fn decrypted_steps_are_flagged() {
    for (file, _) in rows().into_iter().filter(|(f, _)| f.ends_with(".pcap")) {
        let path = fixtures().join(&file);
        let without = analyze(&path, None);
        assert!(without.timeline.iter().all(|e| !e.decrypted), "{file}");
        let v = analyze(&path, Some(keys_of(&file)));
        let facts = decrypted_facts(&file);
        let encrypted_frames: Vec<u64> = facts["frames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["encrypted"].as_u64().unwrap_or(0) > 0)
            .filter_map(|f| f["frame"].as_u64())
            .collect();
        let flagged: Vec<&shakedown::verdict::TimelineEntry> =
            v.timeline.iter().filter(|e| e.decrypted).collect();
        assert!(!flagged.is_empty(), "{file}");
        for e in &flagged {
            assert!(
                encrypted_frames.contains(&e.at.frame),
                "{file}: {} at frame {} is not in a frame TShark decrypted",
                e.step,
                e.at.frame
            );
            assert!(
                !matches!(
                    e.step,
                    Step::Syn | Step::SynAck | Step::Fin | Step::Rst | Step::Gap { .. }
                ),
                "{file}: {}",
                e.step
            );
        }
        // Every Finished read, and every alert read from a protected record, is flagged.
        for e in &v.timeline {
            let read = matches!(e.step, Step::FinishedDecrypted)
                || matches!(e.step, Step::Alert { alert, .. } if alert.encrypted && alert.description.is_some());
            assert!(!read || e.decrypted, "{file}: {} at {}", e.step, e.at.frame);
        }
    }
}

/// TLS 1.3 KeyUpdate (OpenSSL's `K`: the client updates and asks the server to, RFC 8446 §4.6.3):
/// each side's records after its KeyUpdate open with its next traffic secret (§7.2). Both
/// KeyUpdates show as decrypted steps, every application record TShark decrypted after them is
/// read, the close_notify alerts at the end are TShark's, and nothing else of the verdict changes.
#[test]
fn key_update_moves_each_side_to_its_next_secret() {
    let file = "keys/openssl-tls13-key-update.pcap";
    let path = fixtures().join(file);
    let facts = decrypted_facts(file);
    let v = analyze(&path, Some(keys_of(file)));
    let tls = v.tls.as_ref().expect("TLS");
    assert_eq!(tls.decryption, Some(Decryption::Ok));

    // TShark's KeyUpdates, by frame and sender, are decrypted steps named KeyUpdate.
    let updates: Vec<(u64, String)> = facts["handshake"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["type"] == "key_update")
        .map(|h| {
            (
                h["frame"].as_u64().unwrap_or(0),
                h["side"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(updates.len(), 2, "{updates:?}");
    let ours: Vec<(u64, String)> = v
        .timeline
        .iter()
        .filter(|e| e.step.to_string() == "KeyUpdate")
        .inspect(|e| assert!(e.decrypted, "KeyUpdate at {}", e.at.frame))
        .map(|e| (e.at.frame, e.from.to_string()))
        .collect();
    assert_eq!(ours, updates);

    // The application records each side sent after its KeyUpdate are read, as TShark read them
    // (consecutive records of a side fold into one step: its first frame, and their count).
    let after_update = |side: Side| {
        let update = updates
            .iter()
            .find(|(_, s)| *s == side.to_string())
            .map(|(f, _)| *f)
            .unwrap_or(u64::MAX);
        let records: Vec<u64> = facts["frames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["side"] == side.to_string() && f["frame"].as_u64() > Some(update))
            .flat_map(|f| {
                let frame = f["frame"].as_u64().unwrap_or(0);
                f["app_data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |_| frame)
            })
            .collect();
        (update, records)
    };
    for side in [Side::Client, Side::Server] {
        let (update, want) = after_update(side);
        assert!(
            !want.is_empty(),
            "{side}: no application data after its KeyUpdate"
        );
        let read: Vec<(u64, u64)> = v
            .timeline
            .iter()
            .filter(|e| e.decrypted && e.from == side && e.at.frame > update)
            .filter(|e| matches!(e.step, Step::ApplicationData { .. }))
            .map(|e| (e.at.frame, e.count))
            .collect();
        assert_eq!(read.first().map(|r| r.0), want.first().copied(), "{side}");
        assert_eq!(
            read.iter().map(|r| r.1).sum::<u64>(),
            want.len() as u64,
            "{side}: {read:?}, TShark {want:?}"
        );
    }

    // Both close_notify alerts, sent under the updated keys, are read.
    let alerts: Vec<(u64, String, String)> = decrypted_alerts(&v)
        .into_iter()
        .map(|(frame, side, _, description)| (frame, side, description))
        .collect();
    let tshark: Vec<(u64, String, String)> = facts["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["frame"].as_u64().unwrap_or(0),
                a["side"].as_str().unwrap_or("").to_string(),
                a["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(alerts, tshark);
    assert_eq!(alerts.len(), 2);

    // The verdict is the one without keys.
    let without = analyze(&path, None);
    assert_eq!(
        (v.outcome, v.stage, v.cause.code, v.closed_by),
        (
            without.outcome,
            without.stage,
            without.cause.code,
            without.closed_by
        )
    );
    assert_eq!(tls.version, without.tls.as_ref().and_then(|t| t.version));
}
