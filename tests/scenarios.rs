//! Scenario tests: each real-peer capture in tests/fixtures was driven to a chosen outcome (see
//! tests/fixtures/SCENARIOS.tsv and README.md there); the verdict must name exactly that outcome,
//! stage, cause, closer and alerts.

use shakedown::verdict::Verdict;
use shakedown_tests::{analyze_file, fixtures};

struct Row {
    file: String,
    outcome: String,
    stage: String,
    cause: String,
    closed: String,
    alerts: String,
    conn: Option<u64>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(fixtures().join("SCENARIOS.tsv")).expect("SCENARIOS.tsv");
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
