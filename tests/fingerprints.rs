//! JA3 and JA3S against TShark: every ClientHello and ServerHello TShark 4.0 fingerprints in the
//! fixtures and the shared corpus (`tests/fixtures/ja3.tsv`, made once with TShark; its header says
//! how) must get the same `ja3_full`/`ja3` and `ja3s_full`/`ja3s` from shakedown. TShark is not run
//! here. JA4 is checked against its specification's examples in the library's unit tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

use shakedown::Verdict;
use shakedown_tests::{analyze_file, corpus, fixtures};

/// One hello of the expectations file.
struct Row {
    stream: usize,
    from: String,
    to: String,
    kind: String,
    full: String,
    hash: String,
}

fn expectations() -> BTreeMap<String, Vec<Row>> {
    let text = std::fs::read_to_string(fixtures().join("ja3.tsv")).unwrap_or_default();
    let mut by_capture: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let c: Vec<&str> = line.split('\t').collect();
        let [capture, stream, from, to, kind, full, hash] = c[..] else {
            panic!("bad line {line:?}");
        };
        by_capture
            .entry(capture.to_string())
            .or_default()
            .push(Row {
                stream: stream.parse().unwrap_or(usize::MAX),
                from: from.into(),
                to: to.into(),
                kind: kind.into(),
                full: full.into(),
                hash: hash.into(),
            });
    }
    by_capture
}

fn path_of(capture: &str) -> Option<PathBuf> {
    match capture.strip_prefix("corpus/") {
        Some(rest) => corpus().map(|c| c.join(rest)),
        None => Some(fixtures().join(capture.strip_prefix("fixtures/")?)),
    }
}

/// The verdict of TShark's stream `idx` between `a` and `b`: the one at that index if its endpoints
/// match, else the first with those endpoints.
fn find<'v>(verdicts: &'v [Verdict], idx: usize, a: &str, b: &str) -> Option<&'v Verdict> {
    let pair = |v: &&Verdict| {
        let (c, s) = (v.client.to_string(), v.server.to_string());
        (c == a && s == b) || (c == b && s == a)
    };
    verdicts
        .get(idx)
        .filter(pair)
        .or_else(|| verdicts.iter().find(pair))
}

/// shakedown's hellos of a connection in wire order, as (kind, full, hash).
fn hellos(v: &Verdict) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if let Some(t) = &v.tls {
        for ch in [&t.client_hello, &t.second_client_hello]
            .into_iter()
            .flatten()
        {
            let j = ch.ja3();
            out.push(("client_hello", j.full, j.hash));
        }
        for sh in [&t.hello_retry_request, &t.server_hello]
            .into_iter()
            .flatten()
        {
            let j = sh.ja3s();
            out.push(("server_hello", j.full, j.hash));
        }
    }
    out
}

/// Hellos TShark fingerprints that a verdict does not keep, with why: (capture, stream, kind, index).
const NOT_KEPT: &[(&str, usize, &str, usize)] = &[
    // A second, different ClientHello without a HelloRetryRequest before it (Suricata's
    // duplicate-hello test): a verdict keeps the first ClientHello and only a second one that answers
    // a HelloRetryRequest.
    (
        "corpus/tls/suricata-verify__tls-duplicate-hello.pcap",
        1,
        "client_hello",
        1,
    ),
];

#[test]
fn ja3_and_ja3s_match_tshark() {
    let expected = expectations();
    assert!(expected.len() > 20, "expectations file missing or short");
    let mut checked = 0;
    let mut bad = Vec::new();
    for (capture, rows) in &expected {
        let Some(path) = path_of(capture).filter(|p| p.exists()) else {
            assert!(capture.starts_with("corpus/"), "{capture} missing");
            continue;
        };
        let verdicts = match analyze_file(&path) {
            Ok((v, _)) => v,
            Err(e) => {
                bad.push(format!("{capture}: {e}"));
                continue;
            }
        };
        // TShark's hellos of each stream, by kind, in capture order.
        let mut per_stream: BTreeMap<(usize, &str), Vec<&Row>> = BTreeMap::new();
        for r in rows {
            per_stream
                .entry((r.stream, r.kind.as_str()))
                .or_default()
                .push(r);
        }
        for ((stream, kind), rows) in per_stream {
            let Some(first) = rows.first() else { continue };
            let Some(v) = find(&verdicts, stream, &first.from, &first.to) else {
                bad.push(format!(
                    "{capture} stream {stream}: no connection {} <-> {}",
                    first.from, first.to
                ));
                continue;
            };
            let ours: Vec<_> = hellos(v).into_iter().filter(|h| h.0 == kind).collect();
            for (i, r) in rows.iter().enumerate() {
                checked += 1;
                match ours.get(i) {
                    Some((_, full, hash)) if *full == r.full && *hash == r.hash => {}
                    Some((_, full, hash)) => bad.push(format!(
                        "{capture} stream {stream} {kind} #{i}:\n  tshark    {} {}\n  shakedown {full} {hash}",
                        r.full, r.hash
                    )),
                    None if NOT_KEPT.contains(&(capture.as_str(), stream, kind, i)) => {}
                    None => bad.push(format!(
                        "{capture} stream {stream} {kind} #{i}: shakedown has no such hello (tshark {})",
                        r.full
                    )),
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} hellos checked");
    assert!(
        bad.is_empty(),
        "{} of {checked} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// JA4 of a corpus capture that the JA4 reference implementation also publishes a result for
/// (`rust/ja4/src/snapshots/ja4__insta@badcurveball.pcap.snap` of FoxIO-LLC/ja4: the same capture
/// as Arkime's `tests/pcap/badcurveball.pcap`), through the JSON record.
#[test]
fn ja4_matches_the_reference_implementation_on_badcurveball() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("tls/arkime__badcurveball.pcap");
    let (verdicts, _) = analyze_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let [v] = &verdicts[..] else {
        panic!("{} connections", verdicts.len())
    };
    let rec = shakedown_tests::record(v, "badcurveball");
    let ch = &rec["tls"]["client_hello"];
    assert_eq!(ch["ja4"], "t13d1615h2_46e7e9700bed_45f260be83e2");
    assert_eq!(ch["ja3_hash"].as_str().map(str::len), Some(32));
    assert!(ch["ja3"].as_str().is_some_and(|s| s.starts_with("771,")));
    let sh = &rec["tls"]["server_hello"];
    assert!(
        sh["ja3s"]
            .as_str()
            .is_some_and(|s| s.starts_with("771,49195,"))
    );
    assert_eq!(sh["ja3s_hash"].as_str().map(str::len), Some(32));
}
