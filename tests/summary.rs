//! `shakedown summary` over a temporary folder holding copies of a few fixtures (one in a
//! subfolder) and a file that is not a capture: counts, top servers, offered and chosen
//! parameters, fingerprints, exit status, and output that does not depend on `-j`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use shakedown_tests::fixtures;

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["shakedown", "summary"];
    argv.extend_from_slice(args);
    let status = shakedown_cli::run(argv, &mut out, &mut err);
    (
        status.code(),
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// A fresh folder under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("shakedown-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap_or_else(|e| panic!("{e}"));
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn copy(&self, fixture: &str, to: &str) {
        std::fs::copy(fixtures().join(fixture), self.0.join(to))
            .unwrap_or_else(|e| panic!("{fixture}: {e}"));
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Five captures (names that say nothing: recognised by content), one text file.
fn sample(name: &str) -> TempDir {
    let d = TempDir::new(name);
    d.copy("tls/no-shared-cipher.pcap", "a.dat");
    d.copy("tls/version-mismatch.pcap", "b");
    d.copy("rdp/seed-handshake-failure.pcap", "sub/c.pcap");
    d.copy("rdp/nla-auth-fail.pcap", "sub/deeper/d.bin");
    d.copy("rdp/tls-ok.pcap", "sub/e.pcap");
    std::fs::write(d.path().join("sub/README.txt"), "not a capture\n")
        .unwrap_or_else(|e| panic!("{e}"));
    d
}

#[test]
fn summary_counts_servers_and_fingerprints() {
    let d = sample("counts");
    let dir = d.path().to_string_lossy().into_owned();
    let (code, out, err) = run(&["--json", &dir]);
    assert_eq!(code, 1, "failures were found: {err}");
    assert!(err.is_empty(), "nothing to complain about: {err}");
    let s: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(s["files"]["captures"], 5);
    assert_eq!(s["files"]["skipped_not_captures"], 1);
    assert_eq!(s["files"]["unreadable"], 0);
    assert_eq!(s["connections"], 5);
    assert_eq!(s["failures"], 4);
    assert_eq!(s["outcomes"]["failed"], 4);
    assert_eq!(s["outcomes"]["completed"], 1);
    assert_eq!(s["causes"]["no_shared_cipher"], 2, "{}", s["causes"]);
    assert_eq!(s["causes"]["protocol_version"], 1);
    assert_eq!(s["causes"]["nla_failure"], 1);
    // The RDP server failed twice (of three connections) and completed once: first.
    let top = &s["servers"][0];
    assert_eq!(top["server"], "127.0.0.1:3389");
    assert_eq!(top["failures"], 2);
    assert_eq!(top["connections"], 3);
    assert_eq!(top["offered"]["client_hellos"], 2);
    assert_eq!(
        top["chosen_when_completed"][0]["version"], "TLS 1.3",
        "{top}"
    );
    assert_eq!(s["servers"].as_array().map(Vec::len), Some(3));
    assert_eq!(s["clients"][0]["client"], "127.0.0.1");
    assert_eq!(s["clients"][0]["failures"], 4);
    // Fingerprints of the four failed ClientHellos.
    let ja3: u64 = s["fingerprints"]["ja3"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["count"].as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(ja3, 4);
    // Each fingerprint's causes add up to its count.
    for f in s["fingerprints"]["ja4"].as_array().into_iter().flatten() {
        let by_cause: u64 = f["causes"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["count"].as_u64()).sum())
            .unwrap_or(0);
        assert_eq!(Some(by_cause), f["count"].as_u64(), "{f}");
    }
    let ja4 = &s["fingerprints"]["ja4"][0]["ja4"];
    assert!(
        ja4.as_str()
            .is_some_and(|j| j.starts_with('t') && j.len() == 36),
        "{ja4}"
    );
}

#[test]
fn output_does_not_depend_on_the_number_of_workers() {
    let d = sample("jobs");
    let dir = d.path().to_string_lossy().into_owned();
    for json in [false, true] {
        let mut args = vec![dir.as_str()];
        if json {
            args.push("--json");
        }
        let one = run(&[&args[..], &["-j", "1"]].concat());
        let four = run(&[&args[..], &["-j", "4"]].concat());
        let default = run(&args);
        assert_eq!(one, four, "json={json}");
        assert_eq!(one, default, "json={json}");
        assert_eq!(one.0, 1);
    }
}

#[test]
fn text_report_has_aligned_sections() {
    let d = sample("text");
    let dir = d.path().to_string_lossy().into_owned();
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("5 captures, 5 connections, 4 failed"),
        "{out}"
    );
    for section in [
        "Outcomes",
        "Causes",
        "Servers with the most failures",
        "Clients with the most failures",
        "What failing servers were offered",
        "Fingerprints among failures",
    ] {
        assert!(out.contains(section), "{section}: {out}");
    }
    // The server table: the FAILED column is right-aligned under its header.
    let lines: Vec<&str> = out.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("SERVER"))
        .unwrap_or_else(|| panic!("{out}"));
    let end = lines[header].find("FAILED").map(|i| i + "FAILED".len());
    let row = lines[header + 1];
    assert!(row.trim_start().starts_with("127.0.0.1:3389"), "{row}");
    assert_eq!(
        row.get(..end.unwrap_or(0)).map(|s| s.ends_with('2')),
        Some(true),
        "{row}"
    );
    assert!(out.contains("chose:            TLS 1.3"), "{out}");
}

#[test]
fn missing_path_and_empty_folder() {
    let d = TempDir::new("missing");
    let missing = d.path().join("nope").to_string_lossy().into_owned();
    let (code, _, err) = run(&[&missing]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
    // Only non-captures: no failure.
    std::fs::write(d.path().join("x.txt"), "hello").unwrap_or_else(|e| panic!("{e}"));
    let (code, out, _) = run(&["--json", &d.path().to_string_lossy()]);
    assert_eq!(code, 0);
    let s: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s["files"]["skipped_not_captures"], 1);
    assert_eq!(s["connections"], 0);
    assert_eq!(s["servers"], Value::Array(vec![]));
}

/// `summary` takes the main command's filters and limits, and its JSON says its layout version.
#[test]
fn filters_limits_and_schema() {
    let d = sample("filters");
    let p = d.path().to_string_lossy().into_owned();
    let (_, all, _) = run(&["--json", &p]);
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all["schema"], shakedown::json::SCHEMA_VERSION);
    assert_eq!(all["unselected"], 0);
    // Only port 3389: the three RDP captures (seed, nla-auth-fail, tls-ok).
    let (code, rdp, _) = run(&["--json", "--port", "3389", &p]);
    let rdp: Value = serde_json::from_str(&rdp).unwrap();
    assert_eq!(code, 1);
    assert_eq!(rdp["connections"], 3, "{rdp}");
    assert_eq!(rdp["unselected"], 2, "{rdp}");
    assert_eq!(rdp["outcomes"]["completed"], 1, "{rdp}");
    // Completed ones only: no failure, status 0.
    let (code, text, _) = run(&["--cause", "none", &p]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with("5 captures, 1 connection selected (of 5), 0 failed"),
        "{text}"
    );
    let (code, _, _) = run(&["--failed", "--host", "192.0.2.99", &p]);
    assert_eq!(code, 0, "nothing selected, nothing failed");
    // The limits are the main command's flags.
    let (code, _, err) = run(&["--max-connections", "1", "--tls-ports", "+4485", &p]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run(&["--max-connections", "lots", &p]);
    assert_eq!(code, 2);
    assert!(err.contains("--max-connections"), "{err}");
    // Signalling values are not counted as offered suites.
    let servers = all["servers"].as_array().unwrap();
    for s in servers {
        for suite in s["offered"]["suites"].as_array().unwrap() {
            assert!(!suite["suite"].as_str().unwrap().ends_with("_SCSV"), "{s}");
        }
    }
}
