//! Helpers of the tests that watch a running capture (`shakedown live`, `tcpdump -U -w - |
//! shakedown -`): network namespaces this test creates, processes killed by PID when dropped,
//! temporary folders, bounded waits for a child's output, and real `openssl` peers.
//!
//! Each test binary uses some of them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_shakedown");

/// The longest any one step may take (a generous bound: nothing here is timed).
pub const WAIT: Duration = Duration::from_secs(20);

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

pub fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Why this machine cannot run the namespace test, if it cannot.
pub fn missing() -> Option<&'static str> {
    if !is_root() {
        return Some("not root (network namespaces and capture need it)");
    }
    if !have("ip", "-V") {
        return Some("`ip` (iproute2) is not installed");
    }
    if !have("openssl", "version") {
        return Some("`openssl` is not installed");
    }
    None
}

pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
}

/// A network namespace, deleted when dropped.
pub struct Namespace {
    pub name: String,
}

impl Namespace {
    pub fn create(tag: &str) -> Namespace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sd{tag}{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let made = run("ip", &["netns", "add", &name]);
        assert!(made.status.success(), "ip netns add: {made:?}");
        let ns = Namespace { name };
        let up = run("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        assert!(up.status.success(), "lo up: {up:?}");
        ns
    }

    /// `ip netns exec NAME program args...`, not yet started.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]).args(args);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// Processes started by the test, killed by PID when dropped (`ip netns exec` execs the program,
/// so the PID is the program's).
#[derive(Default)]
pub struct Started {
    pub children: Vec<Child>,
}

impl Started {
    pub fn spawn(&mut self, mut command: Command) -> usize {
        let child = command.spawn().expect("starts");
        self.children.push(child);
        self.children.len() - 1
    }

    pub fn signal(&self, i: usize, signal: &str) {
        let pid = self.children[i].id().to_string();
        let sent = run("kill", &[&format!("-{signal}"), &pid]);
        assert!(sent.status.success(), "kill -{signal} {pid}: {sent:?}");
    }

    /// Waits (bounded) for process `i` to end; its exit code.
    pub fn wait(&mut self, i: usize) -> Option<i32> {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if let Some(status) = self.children[i].try_wait().expect("waits") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "process {} did not end within {WAIT:?}",
            self.children[i].id()
        );
    }

    pub fn running(&mut self, i: usize) -> bool {
        self.children[i].try_wait().expect("waits").is_none()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("shakedown-live-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Lines of a child's output as they come, on a channel.
pub fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Everything a child writes to a stream, gathered as it comes.
pub fn gather(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = Arc::clone(&text);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut t = into.lock().unwrap();
            t.push_str(&line);
            t.push('\n');
        }
    });
    text
}

/// Waits (bounded) for a line that `wanted` accepts; every line read meanwhile is kept in `seen`.
pub fn next_line_where(
    rx: &Receiver<String>,
    seen: &mut Vec<serde_json::Value>,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let v: serde_json::Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
                seen.push(v.clone());
                if wanted(&v) {
                    return v;
                }
            }
            Err(RecvTimeoutError::Timeout) => panic!("no such line within {WAIT:?}: {seen:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("output ended first: {seen:?}"),
        }
    }
}

/// Waits (bounded) until `text` holds `needle`.
pub fn wait_for_text(text: &Mutex<String>, needle: &str) {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if text.lock().unwrap().contains(needle) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("`{needle}` did not come: {}", text.lock().unwrap());
}

/// Waits (bounded) until something in namespace `ns` listens on TCP `port`.
pub fn wait_listening(ns: &Namespace, port: u16) {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        let out = ns
            .command("ss", &["-Hltn", &format!("sport = :{port}")])
            .output()
            .expect("ss runs");
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {port}");
}

/// A self-signed certificate and key for `s_server`.
pub fn certificate(dir: &Path) -> (String, String) {
    let cert = dir.join("cert.pem").to_string_lossy().into_owned();
    let key = dir.join("key.pem").to_string_lossy().into_owned();
    let made = run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &cert,
            "-subj",
            "/CN=live.test",
            "-days",
            "2",
        ],
    );
    assert!(made.status.success(), "openssl req: {made:?}");
    (cert, key)
}

pub fn s_server(ns: &Namespace, port: u16, cert: &str, key: &str) -> Command {
    let mut c = ns.command(
        "openssl",
        &[
            "s_server",
            "-accept",
            &port.to_string(),
            "-cert",
            cert,
            "-key",
            key,
            "-tls1_2",
            "-cipher",
            "AES128-SHA",
            "-quiet",
        ],
    );
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// `openssl s_client` offering only `cipher`, run to its end (it quits after the handshake).
pub fn s_client(ns: &Namespace, port: u16, cipher: &str) -> Command {
    let mut c = ns.command(
        "timeout",
        &[
            "20",
            "openssl",
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_2",
            "-cipher",
            cipher,
        ],
    );
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

pub fn port_of(endpoint: &serde_json::Value) -> u16 {
    endpoint
        .as_str()
        .and_then(|s| s.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("ip:port")
}

/// The servers of both watching tests: one that answers on `port`, and one on `port + 1` that is
/// stopped once it listens (its kernel still accepts connections: a client's ClientHello then
/// waits forever).
pub fn answering_and_stopped_servers(
    ns: &Namespace,
    started: &mut Started,
    cert: &str,
    key: &str,
    port: u16,
) {
    started.spawn(s_server(ns, port, cert, key));
    let frozen = started.spawn(s_server(ns, port + 1, cert, key));
    wait_listening(ns, port);
    wait_listening(ns, port + 1);
    started.signal(frozen, "STOP");
}

/// A client that succeeds on `port`, then one that fails there (no cipher suite in common): their
/// records, `(completed, failed)`, read from the watcher's JSON lines as they come.
pub fn completed_then_failed(
    ns: &Namespace,
    port: u16,
    lines: &Receiver<String>,
    seen: &mut Vec<serde_json::Value>,
) -> (serde_json::Value, serde_json::Value) {
    let ok = s_client(ns, port, "AES128-SHA")
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "the good client: {ok:?}");
    let good = next_line_where(lines, seen, |v| v["outcome"] == "completed");
    let _ = s_client(ns, port, "AES256-SHA")
        .stdin(Stdio::null())
        .status()
        .unwrap();
    let failed = next_line_where(lines, seen, |v| v["outcome"] == "failed");
    (good, failed)
}

/// Waits (bounded) until a client's connection to `port` in `ns` is established (its packets have
/// gone through the kernel, so a capture has them).
pub fn wait_established(ns: &Namespace, port: u16) {
    let end = Instant::now() + WAIT;
    loop {
        let out = ns
            .command(
                "ss",
                &["-Htn", "state", "established", &format!("dport = :{port}")],
            )
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(Instant::now() < end, "no client ever connected to {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
