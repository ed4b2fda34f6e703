//! The generator is deterministic, and shakedown's analysis of its output agrees with its ground
//! truth, connection by connection.

use std::collections::BTreeMap;

use shakedown::capture::CaptureReader;
use shakedown::{Config, Verdict, analyze, analyze_parallel};
use shakedown_benches::synth::{Format, GenConfig, Truth, generate};

fn make(seed: u64, size: u64, format: Format) -> (Vec<u8>, Vec<Truth>) {
    let mut out = Vec::new();
    let mut truth: Vec<Truth> = Vec::new();
    generate(
        &GenConfig { seed, size, format },
        &mut out,
        Some(&mut truth),
    )
    .expect("generate");
    (out, truth)
}

#[test]
fn same_seed_same_bytes() {
    for format in [Format::Pcap, Format::Pcapng] {
        let (a, ta) = make(1, 2 << 20, format);
        let (b, tb) = make(1, 2 << 20, format);
        assert!(a.len() >= 2 << 20, "{} bytes", a.len());
        assert!(a == b, "{format:?}: two runs differ");
        assert_eq!(ta, tb);
        let (c, _) = make(2, 2 << 20, format);
        assert_ne!(a, c, "another seed gives the same capture");
    }
}

fn analyze_bytes(bytes: &[u8]) -> Vec<Verdict> {
    let mut reader = CaptureReader::new(bytes).expect("a capture");
    let mut verdicts: Vec<Verdict> = Vec::new();
    analyze(&mut reader, &Config::default(), &mut verdicts).expect("analyze");
    verdicts
}

/// Every connection is found with the intended client and server, outcome, cause and closer.
fn check_against_truth(seed: u64, size: u64, format: Format) {
    let (bytes, truth) = make(seed, size, format);
    let mut verdicts = analyze_bytes(&bytes);
    // On two threads the verdicts are the same, in the same order.
    let mut reader = CaptureReader::new(&bytes[..]).expect("a capture");
    let mut parallel: Vec<Verdict> = Vec::new();
    analyze_parallel(&mut reader, &Config::default(), 2, &mut parallel).expect("analyze");
    assert!(
        parallel == verdicts,
        "analyze_parallel differs from analyze"
    );
    // Also when every thread reads stretches of the capture (uncompressed, read at offsets).
    let mut reader =
        CaptureReader::from_shared(std::sync::Arc::new(bytes.clone())).expect("a capture");
    let mut parallel: Vec<Verdict> = Vec::new();
    analyze_parallel(&mut reader, &Config::default(), 2, &mut parallel).expect("analyze");
    assert!(
        parallel == verdicts,
        "analyze_parallel over stretches differs from analyze"
    );
    // Verdicts come in first-packet order, except those put out of order by the cap on verdicts
    // held back (`Config::max_pending_verdicts`): compare by connection number.
    verdicts.sort_by_key(|v| v.conn);
    assert!(
        truth.len() >= 80,
        "only {} connections generated",
        truth.len()
    );
    assert_eq!(
        verdicts.len(),
        truth.len(),
        "connections found vs generated"
    );

    let mut mix: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (v, t) in verdicts.iter().zip(&truth) {
        *mix.entry((t.outcome, t.cause)).or_default() += 1;
        let got = (
            v.client.to_string(),
            v.server.to_string(),
            v.protocol.as_str(),
            v.outcome.as_str(),
            // A completed connection's last stage depends on how much data followed (the end of
            // the file cuts bulk short, and a TLS 1.3 stream needs a record after the one that
            // completed it); failures must stop exactly where intended.
            if t.outcome == "completed" {
                "-"
            } else {
                v.stage.as_str()
            },
            v.cause.code.as_str(),
            v.closed_by.map(|(s, k)| (s.as_str(), k.as_str())),
        );
        let want = (
            t.client.clone(),
            t.server.clone(),
            t.protocol,
            t.outcome,
            if t.outcome == "completed" {
                "-"
            } else {
                t.stage
            },
            t.cause,
            t.closed_by.zip(t.close_kind),
        );
        if got != want {
            wrong.push(format!(
                "conn {} ({}): got {got:?}, want {want:?}",
                t.conn, t.kind
            ));
        }
    }
    eprintln!("{} connections, {mix:?}", truth.len());
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        truth.len(),
        wrong.join("\n")
    );
    // The intended mix is there: completions dominate, and every failure scenario occurs.
    let count = |o, c| mix.get(&(o, c)).copied().unwrap_or(0);
    assert!(count("completed", "none") * 2 > truth.len(), "{mix:?}");
    for cause in [
        "no_shared_cipher",
        "protocol_version",
        "server_reset",
        "client_closed",
        "tcp_refused",
        "tcp_unanswered",
    ] {
        assert!(count("failed", cause) > 0, "no {cause} in {mix:?}");
    }
    assert!(count("not_tls", "none") > 0, "{mix:?}");
}

#[test]
fn analysis_matches_ground_truth_pcap() {
    check_against_truth(1, 2 << 20, Format::Pcap);
}

#[test]
fn analysis_matches_ground_truth_pcapng() {
    check_against_truth(1, 2 << 20, Format::Pcapng);
}

/// The same at scale (hundreds of interleaved connections): `SHAKEDOWN_TRUTH_MB` (default 256),
/// best run with `cargo test --release -p shakedown-benches -- --ignored`.
#[test]
#[ignore = "large; run in release"]
fn analysis_matches_ground_truth_large() {
    let mb = std::env::var("SHAKEDOWN_TRUTH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    check_against_truth(5, mb << 20, Format::Pcapng);
    check_against_truth(6, mb << 20, Format::Pcap);
}
