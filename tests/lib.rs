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
/// TShark, with the corpus's `derive_expected.py`). Returns one line per disagreement.
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
    if let Some(n) = frames {
        if summary.frames != n {
            bad.push(format!(
                "{label}: frames: expected {n}, got {}",
                summary.frames
            ));
        }
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
        let at = format!("{label} c{idx}");
        let inferred = c["client_inferred_from"].as_str().unwrap_or_default();
        if inferred != "port" && v.client.to_string() != client {
            bad.push(format!(
                "{at}: client: expected {client} ({inferred}), got {} ({})",
                v.client,
                v.client_inferred_from.as_str()
            ));
        }
        let side_of = |addr: &str| -> Option<shakedown::Side> {
            if v.client.to_string() == addr {
                Some(shakedown::Side::Client)
            } else if v.server.to_string() == addr {
                Some(shakedown::Side::Server)
            } else {
                None
            }
        };
        for (key, ours) in [("first_fin", v.first_fin()), ("first_rst", v.first_rst())] {
            let want = c[key]["from_addr"].as_str().and_then(side_of);
            if want != ours {
                bad.push(format!("{at}: {key}: expected {want:?}, got {ours:?}"));
            }
        }
        for (name, key) in [("packets", "packets"), ("bytes", "payload_bytes")] {
            let ours = if name == "packets" {
                v.packets
            } else {
                v.bytes
            };
            let (Some(ec), Some(es)) = (c[key]["client"].as_u64(), c[key]["server"].as_u64())
            else {
                continue;
            };
            // Expectations are per TShark's roles; map by address.
            let (oc, os) = if v.client.to_string() == client {
                (ours.client, ours.server)
            } else {
                (ours.server, ours.client)
            };
            if (ec, es) != (oc, os) {
                bad.push(format!("{at}: {name}: expected {ec}/{es}, got {oc}/{os}"));
            }
        }
        check_tls(&at, &c["tls"], v, &side_of, &mut bad);
        check_rdp(&at, &c["rdp"], v, &mut bad);
    }
    bad
}

fn hex(s: &serde_json::Value) -> Option<u16> {
    s.as_str()
        .and_then(|s| u16::from_str_radix(s.trim_start_matches("0x"), 16).ok())
}

fn check_tls(
    at: &str,
    e: &serde_json::Value,
    v: &Verdict,
    side_of: &dyn Fn(&str) -> Option<shakedown::Side>,
    bad: &mut Vec<String>,
) {
    if e.is_null() {
        return;
    }
    let Some(t) = &v.tls else {
        bad.push(format!(
            "{at}: tls: expected TLS, got none (protocol {})",
            v.protocol.as_str()
        ));
        return;
    };
    if let Some(want) = hex(&e["negotiated_version"]) {
        let got = t.version.map(|v| v.0);
        if got != Some(want) {
            bad.push(format!(
                "{at}: tls.version: expected {want:#06x}, got {got:x?}"
            ));
        }
    }
    let esh = &e["server_hello"];
    if let Some(want) = hex(&esh["cipher_suite"]) {
        let got = t.server_hello.as_ref().map(|s| s.cipher_suite.0);
        if got != Some(want) {
            bad.push(format!(
                "{at}: server_hello.cipher_suite: expected {want:#06x}, got {got:x?}"
            ));
        }
    }
    let ech = &e["client_hello"];
    if !ech.is_null() {
        match &t.client_hello {
            None => bad.push(format!("{at}: client_hello: expected one, got none")),
            Some(ch) => {
                if let Some(n) = ech["cipher_suite_count"].as_u64() {
                    if ch.cipher_suites.len() as u64 != n {
                        bad.push(format!(
                            "{at}: client_hello.cipher_suites: expected {n}, got {}",
                            ch.cipher_suites.len()
                        ));
                    }
                }
                let sni = ech["sni"].as_str();
                if sni != ch.sni.as_deref() {
                    bad.push(format!(
                        "{at}: client_hello.sni: expected {sni:?}, got {:?}",
                        ch.sni
                    ));
                }
                if let Some(want) = ech["sslv2_format"].as_bool() {
                    if want != ch.sslv2_format {
                        bad.push(format!(
                            "{at}: client_hello.sslv2_format: expected {want}, got {}",
                            ch.sslv2_format
                        ));
                    }
                }
            }
        }
    }
    let want: Vec<String> = e["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let from = x["from"].as_str().unwrap_or("?");
                    match x["code"].as_u64() {
                        Some(code) if !x["encrypted"].as_bool().unwrap_or(false) => {
                            format!("{from}:{}:{code}", x["level"].as_str().unwrap_or("?"))
                        }
                        _ => format!("{from}:encrypted"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let _ = side_of;
    let got: Vec<String> = v
        .alerts
        .iter()
        .filter(|a| !a.inferred)
        .map(|a| match (a.alert.level, a.alert.description) {
            (Some(l), Some(d)) if !a.alert.encrypted => {
                format!(
                    "{}:{}:{}",
                    a.from,
                    if l.0 == 2 { "fatal" } else { "warning" },
                    d.0
                )
            }
            _ => format!("{}:encrypted", a.from),
        })
        .collect();
    if want != got {
        bad.push(format!("{at}: alerts: expected {want:?}, got {got:?}"));
    }
}

fn check_rdp(at: &str, e: &serde_json::Value, v: &Verdict, bad: &mut Vec<String>) {
    if e.is_null() || e["x224_cr_frame"].is_null() && e["response_type"].is_null() {
        return;
    }
    let Some(r) = &v.rdp else {
        bad.push(format!("{at}: rdp: expected RDP negotiation, got none"));
        return;
    };
    let cookie = e["cookie"].as_str();
    if !e["x224_cr_frame"].is_null() && cookie != r.cookie.as_deref().map(str::trim_end) {
        bad.push(format!(
            "{at}: rdp.cookie: expected {cookie:?}, got {:?}",
            r.cookie
        ));
    }
    if let Some(want) = e["requested_protocols"].as_array() {
        let want: Vec<&str> = want.iter().filter_map(|x| x.as_str()).collect();
        let got = r.requested.map(|p| p.names()).unwrap_or_default();
        if want != got {
            bad.push(format!(
                "{at}: rdp.requested_protocols: expected {want:?}, got {got:?}"
            ));
        }
    }
    match e["response_type"].as_str() {
        Some("RDP_NEG_RSP") => {
            let want = e["selected_protocol"].as_str();
            let got = r.selected.map(|p| p.selected_name());
            if want != got.as_deref() {
                bad.push(format!(
                    "{at}: rdp.selected_protocol: expected {want:?}, got {got:?}"
                ));
            }
        }
        Some("RDP_NEG_FAILURE") => {
            let want = e["failure"].as_str();
            let got = r.failure.map(|f| f.to_string());
            if want != got.as_deref() {
                bad.push(format!("{at}: rdp.failure: expected {want:?}, got {got:?}"));
            }
        }
        _ => {}
    }
}
