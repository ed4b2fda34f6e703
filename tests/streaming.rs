//! Verdicts as decided (`--stream`) and `--save-failures` on files, in-process: a later failure
//! comes before an earlier connection still open, the text gives each failure's block then the
//! summary line, and saving failures changes nothing in the output.

use shakedown_tests::{PcapBuilder, fixture, run_cli as run};

/// A capture where connection 0 (a lone SYN) stays open while connection 1, OpenSSL's real
/// no-shared-cipher handshake, fails and closes; 3 s later connection 0's SYN is sent again, so
/// the capture's clock passes connection 1's linger time while connection 0 is still open.
fn open_then_failed(tag: &str) -> std::path::PathBuf {
    let mut b = PcapBuilder::new();
    b.tcp(
        ([10, 9, 9, 9], 1234),
        ([10, 9, 9, 10], 443),
        7,
        0,
        0x02,
        b"",
    );
    let path = std::path::PathBuf::from(fixture("tls/no-shared-cipher.pcap"));
    let mut reader = shakedown::capture::open(&path).expect("fixture");
    while let Some(f) = reader.next_frame().expect("reads") {
        b.record(f.data, f.orig_len);
    }
    b.advance(3_000_000);
    b.tcp(
        ([10, 9, 9, 9], 1234),
        ([10, 9, 9, 10], 443),
        7,
        0,
        0x02,
        b"",
    );
    let out = std::env::temp_dir().join(format!(
        "shakedown-streaming-{tag}-{}.pcap",
        std::process::id()
    ));
    std::fs::write(&out, b.bytes()).expect("writes");
    out
}

fn conns(json: &str) -> Vec<(u64, String)> {
    json.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            (
                v["conn"].as_u64().expect("conn"),
                v["outcome"].as_str().expect("outcome").to_string(),
            )
        })
        .collect()
}

#[test]
fn as_decided_a_later_failure_comes_before_an_earlier_open_connection() {
    let path = open_then_failed("order");
    let f = path.to_str().unwrap();
    let (code, ordered, _) = run(&["--json", f]);
    assert_eq!(code, 1);
    assert_eq!(
        conns(&ordered),
        [(0, "failed".to_string()), (1, "failed".to_string())]
    );
    let (code, streamed, _) = run(&["--stream", "--json", f]);
    assert_eq!(code, 1);
    // The unanswered SYN on 443 is a failed TLS attempt too, judged only at the end.
    assert_eq!(
        conns(&streamed),
        [(1, "failed".to_string()), (0, "failed".to_string())]
    );
    // The same records otherwise.
    let mut a: Vec<&str> = ordered.lines().collect();
    let mut b: Vec<&str> = streamed.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn streamed_text_gives_each_failure_then_the_summary_line_and_no_table() {
    let path = open_then_failed("text");
    let f = path.to_str().unwrap();
    let (code, out, _) = run(&["--stream", f]);
    assert_eq!(code, 1);
    let first = out.find("[conn 1] FAILED  no_shared_cipher").expect(&out);
    let second = out.find("[conn 0] FAILED").expect(&out);
    let head = out
        .find(": 2 connections: 2 failed, 0 incomplete")
        .expect(&out);
    assert!(first < second && second < head, "{out}");
    assert!(!out.contains("pkts c/s"), "no table: {out}");
    assert!(out.contains("frames, "), "the notes: {out}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn saving_failures_changes_nothing_in_the_output_and_saves_each_failure() {
    let dir = std::env::temp_dir().join(format!("shakedown-saved-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = [
        fixture("tls/no-shared-cipher.pcap"),
        fixture("tls/gnutls-tls13-ok.pcap"),
        fixture("tls/capture-ends-mid-handshake.pcap"),
        fixture("lower/many-connections.pcapng"),
    ];
    let mut args = vec!["--json"];
    args.extend(files.iter().map(String::as_str));
    let (code, plain, _) = run(&args);
    let d = dir.to_str().unwrap();
    let mut saving = vec!["--save-failures", d];
    saving.extend_from_slice(&args);
    let (code_saving, saved_out, err) = run(&saving);
    assert_eq!((code, &plain), (code_saving, &saved_out));
    let kept = plain
        .lines()
        .filter(|l| {
            l.contains("\"outcome\":\"failed\"") || l.contains("\"outcome\":\"incomplete\"")
        })
        .count();
    assert!(kept >= 2, "{plain}");
    let written = std::fs::read_dir(&dir).expect("made").count();
    assert_eq!(written, kept);
    assert!(
        err.contains(&format!(
            "saved: {kept} failed or incomplete connections to {d}"
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
