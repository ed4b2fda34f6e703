//! The real `shakedown` binary: a closed pipe (`shakedown CAPTURE | head -1`) is not an error, and
//! `--color auto` colours a terminal unless NO_COLOR is set (a pseudo-terminal from util-linux
//! `script`, when present).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_shakedown");

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(p)
}

/// Runs the binary with stdout piped, reads one line, closes the pipe, and returns (exit code,
/// stderr). The output is made far larger than a pipe's buffer so the binary is still writing.
fn read_one_line_then_close(args: &[&str]) -> (Option<i32>, String) {
    let f = fixture("lower/many-connections.pcapng");
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for _ in 0..300 {
        cmd.arg(&f);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(!line.is_empty());
    // The reader (and the pipe) are dropped here.
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), err)
}

#[test]
fn broken_pipe_is_not_an_error() {
    for args in [
        &["--all"][..],
        &["--json"][..],
        &["--color", "always", "--all"][..],
    ] {
        let (code, err) = read_one_line_then_close(args);
        assert!(err.is_empty(), "{args:?}: stderr: {err}");
        // The fixture has failures: 1 if the run saw them before the pipe closed, else 0.
        assert!(matches!(code, Some(0 | 1)), "{args:?}: status {code:?}");
    }
}

#[test]
fn broken_pipe_in_extract_and_generated_text() {
    let f = fixture("lower/many-connections.pcapng");
    let f = f.to_string_lossy();
    let mut many = vec!["extract", "--all", "-q", "-o", "-"];
    for _ in 0..300 {
        many.push(&f);
    }
    for args in [&many[..], &["completions", "bash"][..], &["manpage"][..]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.is_empty(), "{:?}: {err}", &args[..2]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}", &args[..2]);
    }
}

/// `script -qec CMD /dev/null` runs CMD on a pseudo-terminal; None when `script` is missing.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> Option<String> {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .stdin(Stdio::null())
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let f = fixture("lower/many-connections.pcapng");
    let f = f.to_string_lossy();
    let Some(tty) = on_a_terminal(&f, None) else {
        eprintln!("`script` (util-linux) not found: skipping the terminal test");
        return;
    };
    assert!(
        tty.contains("\x1b[1;31mFAILED"),
        "auto on a terminal: {tty}"
    );
    let no = on_a_terminal(&f, Some("1")).unwrap();
    assert!(
        no.contains("FAILED") && !no.contains('\x1b'),
        "NO_COLOR: {no}"
    );
    let empty = on_a_terminal(&f, Some("")).unwrap();
    assert!(empty.contains('\x1b'), "an empty NO_COLOR does not count");
    let forced = on_a_terminal(&format!("--color always {f}"), Some("1")).unwrap();
    assert!(forced.contains('\x1b'), "--color always wins over NO_COLOR");
    let never = on_a_terminal(&format!("--color never {f}"), None).unwrap();
    assert!(!never.contains('\x1b'));
    // Into a pipe: no colour.
    let piped = Command::new(BIN).arg(&*f).output().unwrap();
    assert!(!piped.stdout.contains(&0x1b));
}

/// On a terminal the report fits its width (here from COLUMNS, as a pseudo-terminal made by
/// `script` has no size); `--wide` gives whole lines, as a pipe does.
#[test]
fn fitted_to_the_terminal_unless_wide() {
    // A short relative name: a path longer than the width is one word, not wrapped.
    let root = fixture("");
    let f = "rdp/seed-handshake-failure.pcap";
    let run = |args: &str| {
        let out = Command::new("script")
            .args(["-qec", &format!("{BIN} --color never {args}"), "/dev/null"])
            .current_dir(&root)
            .stdin(Stdio::null())
            .env("COLUMNS", "80")
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
    };
    let Some(tty) = run(f) else {
        eprintln!("`script` (util-linux) not found: skipping the terminal test");
        return;
    };
    let detail = tty.split("\nconn  client").next().unwrap();
    for l in detail.lines().filter(|l| !l.starts_with("  Wireshark: ")) {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    assert!(tty.contains("(+26 more)"), "{tty}");
    let wide = run(&format!("--wide {f}")).unwrap();
    assert!(wide.lines().any(|l| l.chars().count() > 200), "{wide}");
    let piped = Command::new(BIN)
        .args(["--color", "never", f])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&piped.stdout), wide);
}
