//! Every bad input gets a message naming the file and the problem, a documented exit status (2), and
//! the other inputs are still analysed; a cut-off capture still gives its verdicts with a warning.

use std::io::Write;

use shakedown_tests::fixtures;

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["shakedown", "--json"];
    argv.extend_from_slice(args);
    let status = shakedown_cli::run(argv, &mut out, &mut err);
    (
        status.code(),
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn temp(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("shakedown-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path.to_string_lossy().into_owned()
}

fn good() -> String {
    fixtures()
        .join("tls/tls13-ok.pcap")
        .to_string_lossy()
        .into_owned()
}

/// Each bad input alone, then beside a good capture: the message names the file and says what is
/// wrong; the good capture is still analysed; the status is 2.
#[test]
fn each_bad_input_is_named_and_the_others_still_analysed() {
    let pcap = std::fs::read(good()).expect("fixture");
    let mut gz = flate2_gzip(&pcap);
    gz.truncate(gz.len() / 2);
    let mut version = pcap.clone();
    version[4] = 9; // pcap major version 9
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    let cases: Vec<(String, &str)> = vec![
        (
            temp(
                "not-a-capture.txt",
                b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
            ),
            "not a pcap or pcapng capture",
        ),
        (temp("empty.pcap", b""), "empty"),
        (temp("version.pcap", &version), "version"),
        (dir, "directory"),
        (
            "/nonexistent/shakedown/missing.pcap".to_string(),
            "cannot open",
        ),
    ];
    for (path, want) in &cases {
        let (code, out, err) = run(&[path, &good()]);
        assert_eq!(code, 2, "{path}: {err}");
        assert!(
            err.contains(path.as_str()) && err.to_lowercase().contains(want),
            "{path}: wanted {want:?} in {err:?}"
        );
        assert_eq!(
            out.lines().count(),
            1,
            "{path}: the good capture is still analysed"
        );
    }
    // A broken gzip stream: what was decompressed is analysed, the cut is reported as a warning.
    let path = temp("broken.pcap.gz", &gz);
    let (_, _, err) = run(&[&path]);
    assert!(err.contains(&path) && err.contains("cut short"), "{err}");
}

#[test]
fn a_truncated_capture_keeps_its_verdicts_and_says_where_it_ends() {
    let pcap = std::fs::read(fixtures().join("tls/no-shared-cipher.pcap")).expect("fixture");
    let cut = temp("cut.pcap", &pcap[..pcap.len() - 7]);
    let (code, out, err) = run(&[&cut]);
    assert_eq!(code, 1, "the failure inside is still found: {err}");
    assert!(
        err.contains("warning") && err.contains("cut short") && err.contains("byte"),
        "{err}"
    );
    let record: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a record")).expect("json");
    assert_eq!(record["cause"]["code"], "no_shared_cipher");
}

#[test]
fn permission_denied_is_reported() {
    let path = temp("secret.pcap", &std::fs::read(good()).expect("fixture"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::File::open(&path).is_ok() {
        eprintln!("SKIPPED: running as root, permissions do not apply");
        return;
    }
    let (code, _, err) = run(&[&path]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&path) && err.contains("ermission denied"),
        "{err}"
    );
}

/// Output that cannot be written (a full disk) is an error (2); a closed pipe is not (see the CLI's
/// binary tests).
#[test]
fn a_full_disk_on_output_is_an_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(28))
        }
    }
    let mut err = Vec::new();
    let status = shakedown_cli::run(["shakedown", "--json", &good()], &mut Full, &mut err);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(status.code(), 2, "{err}");
    assert!(err.contains("No space left"), "{err}");
}

fn flate2_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}
