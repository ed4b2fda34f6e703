//! Shared helpers of shakedown's scenario, corpus and CLI tests.

use std::path::{Path, PathBuf};

use shakedown::{Config, Summary, Verdict};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The small real captures committed with the project.
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// The shared public corpus (`SHAKEDOWN_CORPUS`, else `../shared/corpus` beside the project), if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHAKEDOWN_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => root().join("../shared/corpus"),
    };
    dir.is_dir().then_some(dir)
}

/// Analyses a capture file with the default configuration.
pub fn analyze_file(
    path: &Path,
) -> Result<(Vec<Verdict>, Summary), shakedown::capture::CaptureError> {
    let mut reader = shakedown::capture::open(path)?;
    let mut verdicts = Vec::new();
    let summary = shakedown::analyze(&mut reader, &Config::default(), &mut verdicts)?;
    Ok((verdicts, summary))
}

/// Runs the command line in-process with `args` (without the program name): exit code, standard
/// output, standard error.
pub fn run_cli(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["shakedown"];
    argv.extend_from_slice(args);
    let status = shakedown_cli::run(argv, &mut out, &mut err);
    (
        status.code(),
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// A verdict's JSON record (what `shakedown::json::line` writes) as a value, to look fields up.
pub fn record(v: &Verdict, capture: &str) -> serde_json::Value {
    serde_json::from_str(&shakedown::json::line(v, capture)).expect("json::line writes JSON")
}

/// The path of a committed fixture, as a string for command lines.
pub fn fixture(path: &str) -> String {
    fixtures().join(path).to_string_lossy().into_owned()
}

/// [`check_expected`] for every `*.expected.json` under `dir` and the capture beside it; returns the
/// number of captures checked and every disagreement.
pub fn check_all_expected(dir: &Path) -> (usize, Vec<String>) {
    let expected = files_with_suffix(dir, ".expected.json");
    let mut bad = Vec::new();
    for e in &expected {
        let name = e.to_string_lossy();
        let capture = PathBuf::from(name.trim_end_matches(".expected.json"));
        bad.extend(check_expected(&capture, e));
    }
    for b in &bad {
        eprintln!("{b}");
    }
    (expected.len(), bad)
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Checks a capture against the facts of its `.expected.json` (written by an independent tool,
/// TShark, with the corpus's `derive_expected.py`), field by field on shakedown's JSON Lines record.
/// Returns one line per disagreement.
pub fn check_expected(capture: &Path, expected_path: &Path) -> Vec<String> {
    use serde_json::Value;
    let label = capture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bad = Vec::new();
    let text = match std::fs::read_to_string(expected_path) {
        Ok(t) => t,
        Err(e) => return vec![format!("{label}: cannot read expectations: {e}")],
    };
    let exp: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return vec![format!("{label}: bad expectations: {e}")],
    };
    let (verdicts, summary) = match analyze_file(capture) {
        Ok(r) => r,
        Err(e) => return vec![format!("{label}: analysis failed: {e}")],
    };
    let cap = &exp["capture"];
    let frames = if cap["capinfos_error"].is_null() {
        cap["packets"].as_u64()
    } else {
        cap["packets_read_before_error"].as_u64()
    };
    if let Some(n) = frames
        && summary.frames != n
    {
        bad.push(format!(
            "{label}: frames: expected {n}, got {}",
            summary.frames
        ));
    }
    if cap["capinfos_error"].is_null() == summary.truncation.is_some() {
        bad.push(format!(
            "{label}: damaged: capinfos says {}, ours {:?}",
            cap["capinfos_error"], summary.truncation
        ));
    }
    let conns = exp["connections"].as_array().cloned().unwrap_or_default();
    if conns.len() != verdicts.len() {
        bad.push(format!(
            "{label}: connections: expected {}, got {}",
            conns.len(),
            verdicts.len()
        ));
    }
    for c in &conns {
        let idx = c["conn"].as_u64().unwrap_or(u64::MAX);
        let client = c["client"].as_str().unwrap_or_default();
        let server = c["server"].as_str().unwrap_or_default();
        let pair = |v: &&Verdict| {
            let (a, b) = (v.client.to_string(), v.server.to_string());
            (a == client && b == server) || (a == server && b == client)
        };
        let Some(v) = verdicts
            .get(idx as usize)
            .filter(|v| pair(v))
            .or_else(|| verdicts.iter().find(pair))
        else {
            bad.push(format!(
                "{label} c{idx}: no connection {client} <-> {server}"
            ));
            continue;
        };
        let rec = record(v, &label);
        let at = format!("{label} c{idx}");
        let inferred = c["client_inferred_from"].as_str().unwrap_or_default();
        if inferred != "port" && rec["client"] != client {
            bad.push(format!(
                "{at}: client: expected {client} ({inferred}), got {} ({})",
                rec["client"], rec["client_inferred_from"]
            ));
        }
        // TShark's sides are by its own roles: compare by address.
        let side_of = |addr: &str| -> Value {
            if rec["client"] == addr {
                Value::from("client")
            } else if rec["server"] == addr {
                Value::from("server")
            } else {
                Value::Null
            }
        };
        for key in ["first_fin", "first_rst"] {
            let want = c[key]["from_addr"].as_str().map_or(Value::Null, side_of);
            if want != rec[key] {
                bad.push(format!("{at}: {key}: expected {want}, got {}", rec[key]));
            }
        }
        if let Some(by) = c["closed_by"]["by"].as_str() {
            let addr = if by == "client" { client } else { server };
            let want = side_of(addr);
            let kind = c["closed_by"]["kind"].as_str().unwrap_or_default();
            if want != rec["closed_by"] || rec["close_kind"] != kind {
                bad.push(format!(
                    "{at}: closed_by: expected {want} {kind}, got {} {}",
                    rec["closed_by"], rec["close_kind"]
                ));
            }
        }
        for (name, key) in [("packets", "packets"), ("bytes", "payload_bytes")] {
            let (Some(ec), Some(es)) = (c[key]["client"].as_u64(), c[key]["server"].as_u64())
            else {
                continue;
            };
            let (oc, os) = (rec[name]["client"].as_u64(), rec[name]["server"].as_u64());
            let (oc, os) = if rec["client"] == client {
                (oc, os)
            } else {
                (os, oc)
            };
            if (Some(ec), Some(es)) != (oc, os) {
                bad.push(format!(
                    "{at}: {name}: expected {ec}/{es}, got {oc:?}/{os:?}"
                ));
            }
        }
        check_tls(&at, &c["tls"], &rec, &side_of, &mut bad);
        check_rdp(&at, &c["rdp"], &rec, &mut bad);
    }
    bad
}

fn check_tls(
    at: &str,
    e: &serde_json::Value,
    rec: &serde_json::Value,
    side_of: &dyn Fn(&str) -> serde_json::Value,
    bad: &mut Vec<String>,
) {
    if e.is_null() {
        return;
    }
    let t = &rec["tls"];
    if t.is_null() {
        bad.push(format!(
            "{at}: tls: expected TLS, got none (protocol {})",
            rec["protocol"]
        ));
        return;
    }
    if let Some(want) = e["negotiated_version_name"].as_str() {
        let code = e["negotiated_version"].as_str().unwrap_or_default();
        let got = t["version"].as_str().unwrap_or("null");
        // Names TShark invents for experiments ("TLS 1.3 Google experiment 0x7e01") are hex for us.
        if got != want && got != code {
            bad.push(format!(
                "{at}: tls.version: expected {want} ({code}), got {got}"
            ));
        }
    }
    let esh = &e["server_hello"];
    if let Some(want) = esh["cipher_suite_name"].as_str() {
        let got = t["server_hello"]["cipher_suite"].as_str().unwrap_or("null");
        let code = esh["cipher_suite"].as_str().unwrap_or_default();
        if got != want && got != code {
            bad.push(format!(
                "{at}: server_hello.cipher_suite: expected {want} ({code}), got {got}"
            ));
        }
    }
    let ech = &e["client_hello"];
    if !ech.is_null() {
        let ch = &t["client_hello"];
        if ch.is_null() {
            bad.push(format!("{at}: client_hello: expected one, got none"));
        } else {
            if let Some(n) = ech["cipher_suite_count"].as_u64() {
                let got = ch["cipher_suites"].as_array().map_or(0, |a| a.len() as u64);
                if got != n {
                    bad.push(format!(
                        "{at}: client_hello.cipher_suites: expected {n}, got {got}"
                    ));
                }
            }
            if ech["sni"] != ch["sni"] {
                bad.push(format!(
                    "{at}: client_hello.sni: expected {}, got {}",
                    ech["sni"], ch["sni"]
                ));
            }
            if ech["sslv2_format"] != ch["sslv2_format"] {
                bad.push(format!(
                    "{at}: client_hello.sslv2_format: expected {}, got {}",
                    ech["sslv2_format"], ch["sslv2_format"]
                ));
            }
        }
    }
    let alert = |from: serde_json::Value, x: &serde_json::Value, encrypted: bool| {
        if encrypted {
            format!("{from}:encrypted")
        } else {
            format!("{from}:{}:{}:{}", x["level"], x["code"], x["description"])
        }
    };
    let want: Vec<String> = e["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            // TShark's `from` is its own client/server: map through the address.
            let from = x["from_addr"]
                .as_str()
                .map(side_of)
                .unwrap_or_else(|| x["from"].clone());
            alert(from, x, x["encrypted"].as_bool().unwrap_or(false))
        })
        .collect();
    let got: Vec<String> = rec["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["inferred"] != true)
        // TShark calls an alert it decrypted (with the capture's own secrets) not encrypted: it read it.
        .map(|a| {
            let unread = a["encrypted"] == true && a["decrypted"] != true;
            alert(a["from"].clone(), a, unread)
        })
        .collect();
    if want != got {
        bad.push(format!("{at}: alerts: expected {want:?}, got {got:?}"));
    }
}

fn check_rdp(at: &str, e: &serde_json::Value, rec: &serde_json::Value, bad: &mut Vec<String>) {
    if e.is_null() || e["x224_cr_frame"].is_null() && e["response_type"].is_null() {
        return;
    }
    let r = &rec["rdp"];
    if r.is_null() {
        bad.push(format!("{at}: rdp: expected RDP negotiation, got none"));
        return;
    }
    if !e["x224_cr_frame"].is_null() {
        if e["cookie"] != r["cookie"] {
            bad.push(format!(
                "{at}: rdp.cookie: expected {}, got {}",
                e["cookie"], r["cookie"]
            ));
        }
        let want = if e["neg_request_present"] == true {
            e["requested_protocols"].clone()
        } else {
            serde_json::Value::Null
        };
        if want != r["requested_protocols"] {
            bad.push(format!(
                "{at}: rdp.requested_protocols: expected {want}, got {}",
                r["requested_protocols"]
            ));
        }
    }
    let (key, differs) = match e["response_type"].as_str() {
        Some("RDP_NEG_RSP") => (
            "selected_protocol",
            e["selected_protocol"] != r["selected_protocol"],
        ),
        Some("RDP_NEG_FAILURE") => ("failure", e["failure"] != r["failure"]),
        _ => ("", false),
    };
    if differs {
        bad.push(format!(
            "{at}: rdp.{key}: expected {}, got {}",
            e[key], r[key]
        ));
    }
}

/// Builds small pcap files by hand for odd cases no real peer produces (adversarial captures).
/// Frames are Ethernet / IPv4 / TCP with correct lengths; checksums are left zero (shakedown does not
/// check them, as offloaded loopback captures have none either).
pub struct PcapBuilder {
    bytes: Vec<u8>,
    ts_us: u64,
}

/// TCP flag bits for [`PcapBuilder::tcp`].
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

impl Default for PcapBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapBuilder {
    /// An empty little-endian microsecond pcap with Ethernet link type and snaplen 65535.
    pub fn new() -> Self {
        Self::with_snaplen(65_535)
    }

    /// Like [`PcapBuilder::new`] with another snap length in the file header.
    pub fn with_snaplen(snaplen: u32) -> Self {
        let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&snaplen.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        PcapBuilder {
            bytes,
            ts_us: 1_700_000_000_000_000,
        }
    }

    /// Moves the clock (microseconds; may be negative to make time run backwards).
    pub fn advance(&mut self, us: i64) -> &mut Self {
        self.ts_us = self.ts_us.saturating_add_signed(us);
        self
    }

    /// Appends a raw record: `data` captured, `orig_len` on the wire.
    pub fn record(&mut self, data: &[u8], orig_len: u32) -> &mut Self {
        let secs = (self.ts_us / 1_000_000) as u32;
        let usecs = (self.ts_us % 1_000_000) as u32;
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&usecs.to_le_bytes());
        self.bytes
            .extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&orig_len.to_le_bytes());
        self.bytes.extend_from_slice(data);
        self.ts_us += 10;
        self
    }

    /// Appends an Ethernet/IPv4/TCP frame from `src` to `dst` (`[a, b, c, d, port]` as `(ip, port)`).
    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        &mut self,
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> &mut Self {
        let frame = tcp_frame(src, dst, seq, ack, flags, payload, 0);
        let len = frame.len() as u32;
        self.record(&frame, len)
    }

    /// The pcap file so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A TCP header (20 bytes, no options) and its payload.
pub fn tcp_segment(ports: (u16, u16), seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&ports.0.to_be_bytes());
    t.extend_from_slice(&ports.1.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// An Ethernet/IPv4/TCP frame, optionally with `vlan_tags` 802.1Q tags before the IPv4 header.
pub fn tcp_frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    vlan_tags: usize,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(54 + 4 * vlan_tags + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]);
    for _ in 0..vlan_tags {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&dst.0);
    f.extend(tcp_segment((src.1, dst.1), seq, ack, flags, payload));
    f
}

/// The client's and the server's first payloads in a committed fixture made with real peers (a
/// ClientHello and what the server said to it); the client is the SYN's sender.
pub fn hello_and_answer(file: &str) -> (Vec<u8>, Vec<u8>) {
    let data = std::fs::read(fixtures().join(file)).expect(file);
    let mut reader = shakedown::capture::CaptureReader::new(&data[..]).expect("a capture");
    let mut decoder = shakedown::decode::Decoder::new(&Config::default());
    let (mut hello, mut answer) = (Vec::new(), Vec::new());
    let mut client_port = None;
    while let Some(frame) = reader.next_frame().expect("a frame") {
        if let shakedown::decode::Decoded::Tcp(seg) = decoder.decode(&frame) {
            if seg.flags.syn() && !seg.flags.ack() {
                client_port = Some(seg.src_port);
            }
            if seg.payload.is_empty() || !answer.is_empty() {
                continue;
            }
            if Some(seg.src_port) == client_port {
                hello.extend_from_slice(seg.payload);
            } else {
                answer.extend_from_slice(seg.payload);
            }
        }
    }
    (hello, answer)
}

/// Analyses capture bytes held in memory with `config`.
pub fn analyze_bytes(
    bytes: &[u8],
    config: &Config,
) -> Result<(Vec<Verdict>, Summary), shakedown::capture::CaptureError> {
    let mut reader = shakedown::capture::CaptureReader::new(bytes)?;
    let mut verdicts = Vec::new();
    let summary = shakedown::analyze(&mut reader, config, &mut verdicts)?;
    Ok((verdicts, summary))
}

/// The frames of `capture` as a little-endian pcapng file (one interface, nanosecond timestamps)
/// with `key_log` in a Decryption Secrets Block (pcapng §4.7) before frame `before_frame` (1-based;
/// past the last frame: after all of them), as `editcap --inject-secrets` makes them, but anywhere.
pub fn pcapng_with_secrets(capture: &Path, key_log: &[u8], before_frame: u64) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let mut body = body.to_vec();
        body.resize(body.len().div_ceil(4) * 4, 0);
        let len = (body.len() + 12) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut reader = shakedown::capture::open(capture).expect("capture");
    let mut out = Vec::new();
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0A0D_0D0A, &shb);
    let mut dsb = 0x544C_534Bu32.to_le_bytes().to_vec();
    dsb.extend_from_slice(&(key_log.len() as u32).to_le_bytes());
    dsb.extend_from_slice(key_log);
    let mut interface = false;
    let mut index = 0u64;
    while let Some(frame) = reader.next_frame().expect("frame") {
        index += 1;
        if !interface {
            // if_tsresol 9 (nanoseconds), then the end of options.
            let mut idb = (frame.link_type.0 as u16).to_le_bytes().to_vec();
            idb.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
            block(&mut out, 1, &idb);
            interface = true;
        }
        if index == before_frame {
            block(&mut out, 0x0A, &dsb);
        }
        let ts = frame.ts.as_nanos() as u64;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&frame.orig_len.to_le_bytes());
        epb.extend_from_slice(frame.data);
        block(&mut out, 6, &epb);
    }
    if before_frame > index {
        block(&mut out, 0x0A, &dsb);
    }
    out
}

/// The alerts of `v` read by decryption, as (frame, sender, level, description) spelled as the
/// record spells them: what the key-log tests compare with TShark's decrypted alerts.
pub fn decrypted_alerts(v: &Verdict) -> Vec<(u64, String, String, String)> {
    v.alerts
        .iter()
        .filter(|a| a.decrypted)
        .map(|a| {
            (
                a.at.frame,
                a.from.to_string(),
                a.alert.level.map(|l| l.to_string()).unwrap_or_default(),
                a.alert
                    .description
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The verdicts of a capture file analysed with `keys` (a key log, as `--keylog` gives one) or
/// without.
pub fn analyze_with_keys(capture: &Path, keys: Option<shakedown::decrypt::KeyLog>) -> Vec<Verdict> {
    let mut reader = shakedown::capture::open(capture).expect("capture");
    let config = Config {
        key_log: keys.map(std::sync::Arc::new),
        ..Config::default()
    };
    let mut verdicts = Vec::new();
    shakedown::analyze(&mut reader, &config, &mut verdicts).expect("analysis");
    verdicts
}
