//! The command line, run in-process: report, JSON Lines, exit status, errors naming the file.

use shakedown_tests::{fixture, run_cli as run};

#[test]
fn json_lines_follow_the_schema() {
    let f = fixture("tls/no-shared-cipher.pcap");
    let (code, out, err) = run(&["--json", &f]);
    assert_eq!(code, 1, "a failure was found: {err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(!lines.is_empty());
    for key in [
        "capture",
        "conn",
        "client",
        "server",
        "client_inferred_from",
        "start",
        "end",
        "packets",
        "bytes",
        "protocol",
        "outcome",
        "stage",
        "first_fin",
        "first_rst",
        "closed_by",
        "close_kind",
        "alerts",
        "rdp",
        "tls",
        "cause",
        "wireshark_filter",
    ] {
        assert!(lines[0].get(key).is_some(), "field {key} missing");
    }
    assert_eq!(lines[0]["capture"], f.as_str());
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(lines[0]["cause"]["code"], "no_shared_cipher");
    assert!(
        lines[0]["start"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z') && s.len() == 27)
    );
}

#[test]
fn text_report_puts_failures_first_with_cause_and_timeline() {
    let f = fixture("tls/no-shared-cipher.pcap");
    let (code, out, _) = run(&[&f]);
    assert_eq!(code, 1);
    assert!(out.contains("FAILED  no_shared_cipher"), "{out}");
    assert!(out.contains("ClientHello"), "{out}");
    assert!(out.contains("handshake_failure"), "{out}");
    assert!(out.contains("Wireshark: "), "{out}");
}

#[test]
fn no_failure_exits_zero_and_all_shows_completed() {
    let f = fixture("tls/tls13-ok.pcap");
    let (code, out, _) = run(&["--all", &f]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("COMPLETED"), "{out}");
}

#[test]
fn a_bad_input_names_the_file_and_the_others_are_still_analysed() {
    let good = fixture("tls/no-shared-cipher.pcap");
    let missing = fixture("does-not-exist.pcap");
    let readme = shakedown_tests::root()
        .join("tests/Cargo.toml")
        .to_string_lossy()
        .into_owned();
    let (code, out, err) = run(&["--json", &missing, &readme, &good]);
    assert_eq!(code, 2, "errors win the exit status");
    assert!(err.contains(&missing), "{err}");
    assert!(
        err.contains(&readme) && err.contains("not a pcap or pcapng capture"),
        "{err}"
    );
    assert_eq!(
        out.lines().count(),
        1,
        "the good capture is still analysed: {out}"
    );
}

#[test]
fn the_output_is_the_same_for_every_number_of_threads() {
    let mut files: Vec<String> =
        shakedown_tests::files_with_suffix(&shakedown_tests::fixtures(), ".pcap")
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
    files.push(fixture("lower/many-connections.pcapng"));
    files.push("/nonexistent/capture.pcap".into());
    assert!(files.len() > 20);
    for mode in [&["--json"][..], &["--all"][..], &["--summary-json"][..]] {
        let run_with = |jobs: &str| {
            let mut argv: Vec<&str> = vec!["-j", jobs, "--color", "never"];
            argv.extend_from_slice(mode);
            argv.extend(files.iter().map(String::as_str));
            run(&argv)
        };
        let one = run_with("1");
        assert_eq!(one.0, 2, "the missing file is an error: {}", one.2);
        assert!(one.2.contains("/nonexistent/capture.pcap"));
        for jobs in ["2", "4"] {
            assert!(
                run_with(jobs) == one,
                "{mode:?}: -j {jobs} differs from -j 1"
            );
        }
    }
}

#[test]
fn the_caps_are_flags_and_hitting_one_is_reported() {
    let f = fixture("lower/many-connections.pcapng");
    let (_, out, _) = run(&["--summary-json", &f]);
    let summary = |out: &str| -> serde_json::Value {
        serde_json::from_str(out.lines().last().expect("a summary line")).expect("JSON")
    };
    assert_eq!(summary(&out)["evicted"], 0);
    let (_, out, _) = run(&["--summary-json", "--max-connections", "1", &f]);
    assert_eq!(summary(&out)["evicted"], 4);
    let (_, text, _) = run(&["--max-connections", "1", "--color", "never", &f]);
    assert!(text.contains("4 connections evicted"), "{text}");
    let (code, _, err) = run(&["--max-total-buffer", "1.5M", &f]);
    assert_eq!(code, 2);
    assert!(err.contains("not a byte count"), "{err}");
}

/// A big generated capture, whose first connection outlives thousands of others: on several threads
/// their verdicts are held for order, then written at once by several threads.
#[test]
fn held_verdicts_written_together_are_the_lines_of_one_thread() {
    use shakedown_benches::synth::{Format, GenConfig, generate_vec};
    let bytes = generate_vec(&GenConfig {
        seed: 5,
        size: 12 << 20,
        format: Format::Pcap,
    });
    let path = std::env::temp_dir().join(format!("shakedown-held-{}.pcap", std::process::id()));
    std::fs::write(&path, bytes).expect("a scratch file");
    let f = path.to_string_lossy().into_owned();
    for filter in [&[][..], &["--failed"][..], &["--port", "443"][..]] {
        let run_with = |jobs: &str| {
            let mut argv = vec!["--json", "-j", jobs];
            argv.extend_from_slice(filter);
            argv.push(&f);
            run(&argv)
        };
        let one = run_with("1");
        let lines = one.1.lines().count();
        let least = if filter.is_empty() { 300 } else { 1 };
        assert!(lines >= least, "{filter:?}: {lines} lines");
        for jobs in ["2", "3"] {
            assert!(
                run_with(jobs) == one,
                "{filter:?}: -j {jobs} differs from -j 1"
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// A capture cut short in the middle of a handshake: the connection is `incomplete`
/// (`capture_incomplete`), which is not a failed handshake, so the status is 0 (1 only if another
/// connection failed); a warning says where the file ends. Documented in the README.
#[test]
fn a_capture_cut_in_a_handshake_is_status_0_with_a_warning() {
    let bytes = std::fs::read(fixture("rdp/seed-handshake-failure.pcap")).unwrap();
    let path = std::env::temp_dir().join(format!("shakedown-cut-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes[..900]).unwrap();
    let p = path.to_string_lossy().into_owned();
    let (code, out, err) = run(&["--json", &p]);
    assert_eq!(code, 0, "{out}");
    assert!(err.contains("warning: the capture is cut short"), "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (v["outcome"].as_str(), v["cause"]["code"].as_str()),
        (Some("incomplete"), Some("capture_incomplete"))
    );
    for sub in [&["summary"][..], &["report", "--html", "-"][..]] {
        let mut args = sub.to_vec();
        args.push(&p);
        assert_eq!(run(&args).0, 0, "{sub:?}");
    }
    let _ = std::fs::remove_file(&path);
}

/// A writer with room for `room` bytes that then fails as a full disk does (ENOSPC).
struct FullDisk {
    room: usize,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from_raw_os_error(28));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A write error while JSON lines stream out is reported with its cause and status 2, on one
/// thread and on several (the sink's error comes back typed, never as a bare "stopped").
#[test]
fn a_write_error_in_the_json_stream_is_reported_with_its_cause() {
    let capture = fixture("tls/no-shared-cipher.pcap");
    for jobs in ["1", "2"] {
        let mut out = FullDisk { room: 100 };
        let mut err = Vec::new();
        let status = shakedown_cli::run(
            ["shakedown", "--json", "-j", jobs, capture.as_str()],
            &mut out,
            &mut err,
        );
        let err = String::from_utf8_lossy(&err);
        assert_eq!(status.code(), 2, "-j {jobs}: {err}");
        assert!(
            err.contains("writing the output") && err.contains("No space left"),
            "-j {jobs}: {err}"
        );
    }
}
