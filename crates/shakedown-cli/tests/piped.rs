//! Captures still being written, read through a pipe: standard input and named pipes stream by
//! default (verdicts as decided), and while the input is idle the wall clock tells the engine the
//! time, so a closed connection is judged without more packets and before the input ends.
//!
//! - A committed fixture written slowly into `shakedown --json -` (and into a named pipe): the
//!   failure's line comes while the pipe is still open (the closed connection lingers 2 s of
//!   capture time, which only the wall clock can make pass), and the whole set of lines is the
//!   file's.
//! - `tcpdump -U -w - | shakedown -` in a network namespace the test creates, with real `openssl`
//!   peers (skipped when not root or tools are missing): the failure's line while tcpdump runs,
//!   SIGINT then ends it with the open connection judged, the summary and exit status 1.
//! - SIGTERM while a pipe is open: the connection under way is judged `incomplete`, the summary
//!   line written, exit status 1 (without root: the signal goes to shakedown alone).
//! - `--no-stream` (and `--parquet`) read a pipe like a file.
//! - A long synthetic feed (10^6 connections over hours of capture time) in bounded memory.
//!
//! No timing is asserted: every wait is bounded, and pauses only pace the writer.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use common::*;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(p)
}

/// A capture whose failing connection ends with the server's FIN.
const FAILING: &str = "tls/no-shared-cipher.pcap";

/// The pcap file header and its records, as written (little-endian pcap only).
fn records(bytes: &[u8]) -> (&[u8], Vec<&[u8]>) {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian pcap"
    );
    let (head, mut rest) = bytes.split_at(24);
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
        let (record, tail) = rest.split_at(16 + len);
        out.push(record);
        rest = tail;
    }
    (head, out)
}

/// Writes `capture` into `into` a record at a time, pausing between records (pacing only).
fn write_slowly(into: &mut impl Write, capture: &[u8]) {
    let (head, records) = records(capture);
    into.write_all(head).unwrap();
    into.flush().unwrap();
    for r in records {
        std::thread::sleep(Duration::from_millis(20));
        into.write_all(r).unwrap();
        into.flush().unwrap();
    }
}

/// A JSON line without its `capture` field (the file's path, or `-`).
fn without_capture(line: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v.as_object_mut().unwrap().remove("capture");
    v.to_string()
}

/// `shakedown --json FILE`'s lines (without `capture`).
fn lines_of_file(path: &Path) -> BTreeSet<String> {
    let out = run(BIN, &["--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(without_capture)
        .collect()
}

/// Waits (bounded) for a line naming a failed connection; every line read is kept in `seen`.
fn failed_line(rx: &Receiver<String>, seen: &mut Vec<String>) -> serde_json::Value {
    let end = Instant::now() + WAIT;
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                seen.push(line.clone());
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                if v["outcome"] == "failed" {
                    return v;
                }
            }
            Err(RecvTimeoutError::Timeout) => panic!("no failure within {WAIT:?}: {seen:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the output ended first: {seen:?}"),
        }
    }
}

/// Every line until the output ends (bounded).
fn rest_of(rx: &Receiver<String>, seen: &mut Vec<String>) {
    let end = Instant::now() + WAIT;
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(line) => seen.push(line),
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => panic!("the output did not end: {seen:?}"),
        }
    }
}

/// Waits (bounded) for `child` to end; its exit code.
fn wait_for(child: &mut Child) -> Option<i32> {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("shakedown did not end within {WAIT:?}");
}

/// Writes the failing fixture slowly into `input`, which `child` reads, and keeps it open: the
/// failure's line must come first. Then closes it and checks the rest.
fn verdict_before_the_input_ends(mut child: Child, mut input: impl Write) {
    let stdout = lines_of(child.stdout.take().unwrap());
    let capture = std::fs::read(fixture(FAILING)).unwrap();
    write_slowly(&mut input, &capture);
    let mut seen = Vec::new();
    // The input is still open (held here): only the wall clock can have judged the connection.
    let failed = failed_line(&stdout, &mut seen);
    assert_eq!(failed["cause"]["code"], "no_shared_cipher", "{failed}");
    assert!(child.try_wait().unwrap().is_none(), "shakedown still reads");
    drop(input);
    rest_of(&stdout, &mut seen);
    assert_eq!(wait_for(&mut child), Some(1), "a failure was found");
    let streamed: BTreeSet<String> = seen.iter().map(|l| without_capture(l)).collect();
    assert_eq!(streamed.len(), seen.len(), "no line twice: {seen:?}");
    assert_eq!(streamed, lines_of_file(&fixture(FAILING)));
}

#[test]
fn standard_input_written_slowly_gets_its_verdict_before_it_ends() {
    let mut child = Command::new(BIN)
        .args(["--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin: ChildStdin = child.stdin.take().unwrap();
    verdict_before_the_input_ends(child, stdin);
}

#[test]
fn a_named_pipe_written_slowly_gets_its_verdict_before_it_ends() {
    if !have("mkfifo", "--version") {
        eprintln!("skipping: `mkfifo` is not installed");
        return;
    }
    let dir = TempDir::new("fifo");
    let fifo = dir.0.join("capture.pipe");
    let made = run("mkfifo", &[fifo.to_str().unwrap()]);
    assert!(made.status.success(), "mkfifo: {made:?}");
    let child = Command::new(BIN)
        .args(["--json", fifo.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Opening a FIFO for writing waits for its reader: bounded here by waiting on another thread.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::OpenOptions::new().write(true).open(path));
    });
    let input = rx
        .recv_timeout(WAIT)
        .expect("shakedown opens the named pipe")
        .expect("the named pipe opens for writing");
    verdict_before_the_input_ends(child, input);
}

#[test]
fn sigterm_while_reading_a_pipe_judges_the_open_connection_and_writes_the_summary() {
    let mut child = Command::new(BIN)
        .args(["--color", "never", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = gather(child.stderr.take().unwrap());
    // A failure, whose block shows that the reading (and the signal handler) has started.
    let failing = std::fs::read(fixture(FAILING)).unwrap();
    write_slowly(&mut stdin, &failing);
    let mut seen = Vec::new();
    wait_for_line(&stdout, &mut seen, |l| {
        l.contains("FAILED  no_shared_cipher")
    });
    // Then the first four packets of another connection (up to its ClientHello), and SIGTERM
    // while the pipe stays open.
    let ok = std::fs::read(fixture("tls/tls13-ok.pcap")).unwrap();
    let (_, records) = records(&ok);
    for r in &records[..4] {
        stdin.write_all(r).unwrap();
    }
    stdin.flush().unwrap();
    let sent = run("kill", &["-TERM", &child.id().to_string()]);
    assert!(sent.status.success(), "kill: {sent:?}");
    wait_for_line(&stdout, &mut seen, |l| l.starts_with("== -: "));
    rest_of(&stdout, &mut seen);
    assert_eq!(wait_for(&mut child), Some(1), "{}", stderr.lock().unwrap());
    let text = seen.join("\n");
    assert!(text.contains("INCOMPLETE"), "the open connection: {text}");
    assert!(
        text.contains("== -: 2 connections: 1 failed, 1 incomplete, 0 completed, 0 not TLS"),
        "{text}"
    );
    drop(stdin);
}

/// Waits (bounded) for a line that `wanted` accepts; every line read is kept in `seen`.
fn wait_for_line(rx: &Receiver<String>, seen: &mut Vec<String>, wanted: impl Fn(&str) -> bool) {
    let end = Instant::now() + WAIT;
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let found = wanted(&line);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => panic!("no such line within {WAIT:?}: {seen:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the output ended first: {seen:?}"),
        }
    }
}

#[test]
fn no_stream_reads_a_pipe_like_a_file() {
    let capture = std::fs::read(fixture("lower/many-connections.pcapng")).unwrap();
    let piped = |args: &[&str]| {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let bytes = capture.clone();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        out
    };
    let file = run(
        BIN,
        &[fixture("lower/many-connections.pcapng").to_str().unwrap()],
    );
    let like_a_file = piped(&["--no-stream", "-"]);
    assert_eq!(like_a_file.status.code(), file.status.code());
    let text = String::from_utf8(like_a_file.stdout).unwrap();
    let file_text = String::from_utf8(file.stdout).unwrap();
    let path = fixture("lower/many-connections.pcapng");
    assert_eq!(text, file_text.replace(path.to_str().unwrap(), "-"));
    assert!(text.contains("\nconn  client"), "the table: {text}");
    // Streamed by default: the failures' blocks and the summary line, no table.
    let streamed = piped(&["-"]);
    assert_eq!(streamed.status.code(), file.status.code());
    let streamed = String::from_utf8(streamed.stdout).unwrap();
    assert!(!streamed.contains("\nconn  client"), "{streamed}");
    let head = text.lines().next().unwrap();
    assert!(streamed.contains(head), "{head} in {streamed}");
    // --parquet needs whole captures: piped input is read like a file, without an error.
    let dir = TempDir::new("parquet");
    let parquet = dir.0.join("conns.parquet");
    let out = piped(&["--parquet", parquet.to_str().unwrap(), "-"]);
    assert_eq!(
        out.status.code(),
        file.status.code(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&parquet).unwrap().len() > 0);
}

/// `missing()`, and tcpdump.
fn missing_for_tcpdump() -> Option<&'static str> {
    missing().or_else(|| (!have("tcpdump", "--version")).then_some("`tcpdump` is not installed"))
}

#[test]
fn tcpdump_into_standard_input_reports_a_failure_while_capturing_and_sigint_ends_it() {
    if let Some(why) = missing_for_tcpdump() {
        eprintln!("skipping the tcpdump pipe test: {why}");
        return;
    }
    let ns = Namespace::create("pipe");
    let dir = TempDir::new("tcpdump");
    let (cert, key) = certificate(&dir.0);
    let mut started = Started::default();
    let mut tcpdump = ns.command(
        "tcpdump",
        // Immediate mode: without it libpcap hands packets over in blocks, up to a second late.
        &[
            "-U",
            "--immediate-mode",
            "-i",
            "lo",
            "-w",
            "-",
            "tcp portrange 4435-4436",
        ],
    );
    tcpdump
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let tcpdump = started.spawn(tcpdump);
    let tcpdump_err = gather(started.children[tcpdump].stderr.take().unwrap());
    let pipe = started.children[tcpdump].stdout.take().unwrap();
    let mut shakedown = Command::new(BIN);
    shakedown
        .args(["--summary-json", "-"])
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shakedown = started.spawn(shakedown);
    let stdout = lines_of(started.children[shakedown].stdout.take().unwrap());
    let stderr = gather(started.children[shakedown].stderr.take().unwrap());
    wait_for_text(&tcpdump_err, "listening on lo");

    answering_and_stopped_servers(&ns, &mut started, &cert, &key, 4435);
    let mut seen = Vec::new();
    let (good, failed) = completed_then_failed(&ns, 4435, &stdout, &mut seen);
    assert_eq!(port_of(&good["server"]), 4435);
    assert_eq!(failed["cause"]["code"], "no_shared_cipher", "{failed}");
    assert!(started.running(tcpdump), "tcpdump still captures");
    assert!(started.running(shakedown), "shakedown still reads");

    // A client left hanging on the stopped server, its connection established.
    let mut hanging = s_client(&ns, 4436, "AES128-SHA");
    hanging.stdin(Stdio::piped());
    let hanging = started.spawn(hanging);
    wait_established(&ns, 4436);
    assert!(started.running(hanging));

    // SIGINT to shakedown alone (tcpdump goes on writing): the open connection is judged, the
    // summary written, the exit status 1.
    started.signal(shakedown, "INT");
    let open = next_line_where(&stdout, &mut seen, |v| {
        v["server"].is_string() && port_of(&v["server"]) == 4436
    });
    assert_eq!(open["outcome"], "incomplete", "{open}");
    let summary = next_line_where(&stdout, &mut seen, |v| v["record"] == "summary");
    assert_eq!(summary["connections"], 3, "{summary}");
    assert_eq!(summary["capture"], "-");
    let code = started.wait(shakedown);
    assert_eq!(code, Some(1), "{}", stderr.lock().unwrap());
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        stderr.lock().unwrap().is_empty(),
        "{}",
        stderr.lock().unwrap()
    );
}

/// Connections in the long feed.
const CONNECTIONS: u64 = 1_000_000;
/// Capture time between two connections' starts: 10^6 of them span 2.8 hours.
const SPACING_US: u64 = 10_000;

/// The frames of a fixture, its client's port, and the (client, server) addresses to replace.
struct Template {
    frames: Vec<Vec<u8>>,
    client_port: u16,
}

impl Template {
    fn of(path: &str) -> Template {
        let mut reader = shakedown::capture::open(&fixture(path)).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            assert_eq!(f.link_type.0, 1, "Ethernet");
            frames.push(f.data.to_vec());
        }
        let client_port = u16::from_be_bytes([frames[0][34], frames[0][35]]);
        Template {
            frames,
            client_port,
        }
    }
}

/// Rewrites an Ethernet/IPv4/TCP frame (20-byte IP header) of the client (`to_server`) or the
/// server to run between `client` and `server`.
fn readdress(frame: &mut [u8], to_server: bool, client: ([u8; 4], u16), server: ([u8; 4], u16)) {
    let (src, dst) = if to_server {
        (client, server)
    } else {
        (server, client)
    };
    frame[26..30].copy_from_slice(&src.0);
    frame[30..34].copy_from_slice(&dst.0);
    frame[34..36].copy_from_slice(&src.1.to_be_bytes());
    frame[36..38].copy_from_slice(&dst.1.to_be_bytes());
}

/// One pcap record of `frame` at `ts_us`.
fn record(out: &mut Vec<u8>, ts_us: u64, frame: &[u8]) {
    out.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(frame);
}

/// Writes the long feed into `into`: mostly SYN answered by RST and SYN never answered, one in
/// 100 a complete TLS 1.3 handshake and one in 100 a failed one (no shared cipher), replayed from
/// fixtures with new addresses; each connection's frames 10 µs apart.
fn write_feed(into: &mut impl Write) -> std::io::Result<()> {
    let ok = Template::of("tls/tls13-ok.pcap");
    let failing = Template::of(FAILING);
    let syn = ok.frames[0].clone();
    let mut head = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    head.extend_from_slice(&[0; 8]);
    head.extend_from_slice(&65_535u32.to_le_bytes());
    head.extend_from_slice(&1u32.to_le_bytes());
    into.write_all(&head)?;
    let mut buf = Vec::with_capacity(1 << 20);
    let start_us = 1_700_000_000_000_000u64;
    for i in 0..CONNECTIONS {
        let ts = start_us + i * SPACING_US;
        // Every connection its own client address: none is taken for another's.
        let client = ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000);
        let server = ([192, 0, 2, 1], 443);
        match i % 100 {
            0 | 1 => {
                let t = if i % 100 == 0 { &ok } else { &failing };
                for (k, f) in t.frames.iter().enumerate() {
                    let mut f = f.clone();
                    let to_server = u16::from_be_bytes([f[34], f[35]]) == t.client_port;
                    readdress(&mut f, to_server, client, server);
                    record(&mut buf, ts + 10 * k as u64, &f);
                }
            }
            n => {
                let mut f = syn.clone();
                readdress(&mut f, true, client, server);
                record(&mut buf, ts, &f);
                if n % 4 != 0 {
                    // Refused: RST+ACK from the server.
                    readdress(&mut f, false, client, server);
                    f[47] = 0x14;
                    record(&mut buf, ts + 10, &f);
                }
            }
        }
        if buf.len() >= 1 << 20 {
            into.write_all(&buf)?;
            buf.clear();
        }
    }
    into.write_all(&buf)?;
    into.flush()
}

/// The peak resident memory of process `pid` so far (VmHWM, KiB).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn a_long_feed_through_a_pipe_stays_in_bounded_memory() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipping: no /proc to read the peak memory from");
        return;
    }
    // Text, only the failures without a shared cipher shown: writing 10^6 JSON lines takes
    // minutes in a debug build. Every verdict still goes through the printer, which counts those
    // not shown in its summary line ("N connections selected (of M)").
    let mut child = Command::new(BIN)
        .args(["-q", "--color", "never", "--cause", "no_shared_cipher", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = gather(child.stderr.take().unwrap());
    // The failures' blocks counted as they come, and the summary line kept.
    let reader = std::thread::spawn(move || {
        let mut blocks = 0u64;
        let mut summary = Vec::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let line = line.unwrap();
            if line.starts_with("[conn ") {
                assert!(line.contains("FAILED  no_shared_cipher"), "{line}");
                blocks += 1;
            } else if line.starts_with("== ") {
                summary.push(line);
            }
        }
        (blocks, summary)
    });
    write_feed(&mut stdin).expect("shakedown reads the whole feed");
    // Read from /proc just before the input ends: the high-water mark of the whole run so far
    // (what is left then, the connections opened in the last 10 minutes of capture time and never
    // answered, is judged at the end without more).
    let peak_kib = peak_rss_kib(pid);
    drop(stdin);
    let code = wait_for(&mut child);
    let (blocks, summary) = reader.join().unwrap();
    eprintln!("long feed: {CONNECTIONS} connections, peak RSS (VmHWM) {peak_kib} KiB");
    assert_eq!(code, Some(1), "{}", stderr.lock().unwrap());
    let failing = CONNECTIONS / 100;
    assert_eq!(blocks, failing, "each failure's block");
    assert_eq!(
        summary,
        [format!(
            "== -: {failing} connections selected (of {CONNECTIONS}): {failing} failed, 0 incomplete, 0 completed, 0 not TLS"
        )],
        "one verdict per connection"
    );
    assert!(peak_kib < 200 * 1024, "peak RSS {peak_kib} KiB");
}
